//! Compose / Swarm stack files: `services.<name>.deploy`, `healthcheck`,
//! `stop_grace_period` -> a `swarm` strategy and service settings.
//!
//! Any Compose version (2, 3 or the versionless Compose Specification): only the keys
//! that Swarm reads for updates, health and shutdown matter here, and they kept their
//! shape across versions. Absent keys take Docker's defaults where the model's differ.

use serde_json::Value;

use super::fields::{Ctx, Node, Obj};
use super::{ImportError, Setting, StrategyOut, Unit};
use crate::sim::SimTime;

/// One parsed `update_config` / `rollback_config`, for comparing the two.
#[derive(Clone, Debug, PartialEq)]
struct UpdateConfig {
    parallelism: u32,
    delay: SimTime,
    failure_action: String,
    monitor: SimTime,
    max_failure_ratio: f64,
    order: String,
}

impl Default for UpdateConfig {
    /// Docker's defaults.
    fn default() -> Self {
        UpdateConfig {
            parallelism: 1,
            delay: SimTime::ZERO,
            failure_action: "pause".into(),
            monitor: SimTime::from_secs(5),
            max_failure_ratio: 0.0,
            order: "stop-first".into(),
        }
    }
}

pub(crate) fn import(doc: &Value, ctx: &mut Ctx) -> Result<Vec<Unit>, ImportError> {
    let Some(Value::Object(services)) = doc.get("services") else {
        return Ok(Vec::new());
    };
    let has_deploy = |s: &Value| s.get("deploy").is_some_and(|d| !d.is_null());
    let with_deploy = services.values().any(has_deploy);
    let mut units = Vec::new();
    for (name, service) in services {
        let path = format!("services.{name}");
        if name.trim().is_empty() {
            return Err(ctx.err(&path, "an empty service name: the service needs a name"));
        }
        if with_deploy && !has_deploy(service) {
            ctx.warn(
                &path,
                "no deploy section (other services have one); not imported",
            );
            continue;
        }
        units.push(service_unit(name, Node::new(service, &path), ctx)?);
    }
    Ok(units)
}

fn service_unit(name: &str, service: Node, ctx: &mut Ctx) -> Result<Unit, ImportError> {
    let mut svc = service.obj(ctx)?;
    let mut settings = Vec::new();
    let mut swarm = StrategyOut::new("swarm", "swarm");
    let scale = svc.read(ctx, "scale", Node::replicas)?;
    if let Some((deploy, dpath)) = svc.get("deploy") {
        let mut deploy = Node::new(deploy, &dpath).obj(ctx)?;
        deploy.ignore(&["resources", "labels", "endpoint_mode"]);
        deploy_section(&mut deploy, ctx, &mut settings, &mut swarm, &scale)?;
        deploy.finish(ctx);
    } else if let Some((n, p)) = &scale {
        settings.push(Setting::new(
            "service",
            "replicas",
            i64::from(*n),
            ctx.src(p),
        ));
    }
    match svc.get("healthcheck") {
        Some((hc, p)) => healthcheck(Node::new(hc, &p), ctx, &mut settings)?,
        None => ctx.warn(
            &svc.key_path("healthcheck"),
            "absent: a task counts as ready when it starts (unless its image defines a \
             HEALTHCHECK); the scenario's readiness probe is kept",
        ),
    }
    let grace_path = svc.key_path("stop_grace_period");
    match svc.read(ctx, "stop_grace_period", |n, c| n.duration(c, false))? {
        Some((t, p)) => settings.push(Setting::new(
            "service",
            "termination_grace",
            t.to_string(),
            ctx.src(&p),
        )),
        None => settings.push(Setting::new(
            "service",
            "termination_grace",
            "10s",
            format!("Docker default ({grace_path} absent in {})", ctx.file),
        )),
    }
    swarm.set(
        "rollback",
        "manual",
        "Swarm reacts only through failure_action; an alert pages a person".into(),
    );
    // Keys such as image, ports, environment or networks say what runs, not how it is
    // rolled out: no warning for them.
    Ok(Unit {
        service: name.to_string(),
        file: ctx.file.clone(),
        name_comment: ctx.src(service.path()),
        aliases: Vec::new(),
        settings,
        strategies: vec![swarm],
    })
}

fn deploy_section(
    deploy: &mut Obj,
    ctx: &mut Ctx,
    settings: &mut Vec<Setting>,
    swarm: &mut StrategyOut,
    scale: &Option<(u32, String)>,
) -> Result<(), ImportError> {
    if let Some((mode, p)) = deploy.read(ctx, "mode", Node::str)?
        && mode != "replicated"
    {
        ctx.warn(
            &p,
            &format!("mode {mode:?}: the model runs a fixed replica count (one task per node is not modeled)"),
        );
    }
    match deploy.read(ctx, "replicas", Node::replicas)? {
        Some((n, p)) => {
            settings.push(Setting::new(
                "service",
                "replicas",
                i64::from(n),
                ctx.src(&p),
            ));
            if let Some((_, sp)) = scale {
                ctx.warn(sp, "superseded by deploy.replicas");
            }
        }
        None => match scale {
            Some((n, p)) => settings.push(Setting::new(
                "service",
                "replicas",
                i64::from(*n),
                ctx.src(p),
            )),
            None => settings.push(Setting::new(
                "service",
                "replicas",
                1,
                format!(
                    "Docker default ({} absent in {})",
                    deploy.key_path("replicas"),
                    ctx.file
                ),
            )),
        },
    }
    let update = match deploy.get("update_config") {
        Some((u, p)) => {
            let (config, sources) = update_config(Node::new(u, &p), ctx, false)?;
            let c = config.clone();
            let values: [(&'static str, toml_edit::Value); 6] = [
                ("parallelism", i64::from(c.parallelism).into()),
                ("delay", c.delay.to_string().into()),
                ("order", c.order.into()),
                ("monitor", c.monitor.to_string().into()),
                ("failure_action", c.failure_action.into()),
                ("max_failure_ratio", c.max_failure_ratio.into()),
            ];
            for (key, value) in values {
                if let Some(src) = sources.iter().find(|(k, _)| *k == key) {
                    swarm.set(key, value, ctx.src(&src.1));
                }
            }
            config
        }
        None => UpdateConfig::default(),
    };
    if let Some((r, p)) = deploy.get("rollback_config") {
        let (rollback, sources) = update_config(Node::new(r, &p), ctx, true)?;
        let differs: [(&str, bool); 6] = [
            ("parallelism", rollback.parallelism != update.parallelism),
            ("delay", rollback.delay != update.delay),
            ("order", rollback.order != update.order),
            ("monitor", rollback.monitor != update.monitor),
            (
                "failure_action",
                rollback.failure_action != update.failure_action,
            ),
            (
                "max_failure_ratio",
                rollback.max_failure_ratio != update.max_failure_ratio,
            ),
        ];
        for (key, path) in &sources {
            if differs.iter().any(|(k, d)| k == key && *d) {
                ctx.warn(
                    path,
                    "differs from update_config: the model rolls back with the update settings",
                );
            }
        }
    }
    if let Some((policy, p)) = deploy.get("restart_policy") {
        let mut policy = Node::new(policy, &p).obj(ctx)?;
        if let Some((condition, cp)) = policy.read(ctx, "condition", Node::str)? {
            match condition {
                "any" | "on-failure" => {}
                "none" => ctx.warn(&cp, "the model always restarts a crashed task"),
                other => {
                    return Err(ctx.err(
                        &cp,
                        format!("unknown condition {other:?} (none, on-failure, any)"),
                    ));
                }
            }
        }
        if let Some((t, dp)) = policy.read(ctx, "delay", |n, c| n.duration(c, false))? {
            let src = ctx.src(&dp);
            let text = t.to_string();
            settings.push(Setting::sub(
                "service",
                "restart_backoff",
                "initial",
                text.clone(),
                src.clone(),
            ));
            settings.push(Setting::sub(
                "service",
                "restart_backoff",
                "max",
                text,
                format!("{src} (Swarm waits the same delay every time)"),
            ));
        }
        policy.finish(ctx);
    }
    Ok(())
}

/// (scenario key, manifest path) of each field a config actually gives.
type Sources = Vec<(&'static str, String)>;

/// Reads an `update_config`-shaped mapping; returns it with Docker defaults filled in,
/// and the (scenario key, manifest path) of every field actually given.
fn update_config(
    node: Node,
    ctx: &mut Ctx,
    rollback: bool,
) -> Result<(UpdateConfig, Sources), ImportError> {
    let mut o = node.obj(ctx)?;
    let mut c = UpdateConfig::default();
    let mut sources = Vec::new();
    if let Some((n, p)) = o.read(ctx, "parallelism", Node::u32)? {
        c.parallelism = n;
        sources.push(("parallelism", p));
    }
    if let Some((t, p)) = o.read(ctx, "delay", |n, c| n.duration(c, false))? {
        c.delay = t;
        sources.push(("delay", p));
    }
    if let Some((t, p)) = o.read(ctx, "monitor", |n, c| n.duration(c, false))? {
        c.monitor = t;
        sources.push(("monitor", p));
    }
    if let Some((a, p)) = o.read(ctx, "failure_action", Node::str)? {
        let allowed: &[&str] = if rollback {
            &["pause", "continue"]
        } else {
            &["pause", "continue", "rollback"]
        };
        if !allowed.contains(&a) {
            return Err(ctx.err(
                &p,
                format!("unknown failure_action {a:?} ({})", allowed.join(", ")),
            ));
        }
        c.failure_action = a.to_string();
        sources.push(("failure_action", p));
    }
    if let Some((r, p)) = o.read(ctx, "max_failure_ratio", Node::f64)? {
        if !(0.0..=1.0).contains(&r) {
            return Err(ctx.err(&p, format!("{r} is not a fraction in [0, 1]")));
        }
        c.max_failure_ratio = r;
        sources.push(("max_failure_ratio", p));
    }
    if let Some((order, p)) = o.read(ctx, "order", Node::str)? {
        if order != "stop-first" && order != "start-first" {
            return Err(ctx.err(
                &p,
                format!("unknown order {order:?} (stop-first, start-first)"),
            ));
        }
        c.order = order.to_string();
        sources.push(("order", p));
    }
    o.finish(ctx);
    Ok((c, sources))
}

/// `healthcheck` -> `[service] readiness`: interval -> period, retries ->
/// failure_threshold, start_period -> initial_delay; Docker's defaults for the rest.
fn healthcheck(hc: Node, ctx: &mut Ctx, settings: &mut Vec<Setting>) -> Result<(), ImportError> {
    let mut h = hc.obj(ctx)?;
    let disabled = h.read(ctx, "disable", Node::bool)?.is_some_and(|(d, _)| d)
        || h.get("test")
            .is_some_and(|(t, _)| t.get(0).and_then(Value::as_str) == Some("NONE"));
    if disabled {
        ctx.warn(
            hc.path(),
            "disabled: the scenario's readiness probe is kept",
        );
        h.ignore(&[
            "interval",
            "timeout",
            "retries",
            "start_period",
            "start_interval",
        ]);
        h.finish(ctx);
        return Ok(());
    }
    let default_note = |field: &str, ctx: &Ctx| {
        format!(
            "Docker default ({}.{field} absent in {})",
            hc.path(),
            ctx.file
        )
    };
    for (field, sub, default_s) in [
        ("interval", "period", 30),
        ("timeout", "timeout", 30),
        ("start_period", "initial_delay", 0),
    ] {
        let (t, comment) = match h.read(ctx, field, |n, c| n.duration(c, false))? {
            Some((t, p)) => (t, ctx.src(&p)),
            None => (SimTime::from_secs(default_s), default_note(field, ctx)),
        };
        settings.push(Setting::sub(
            "service",
            "readiness",
            sub,
            t.to_string(),
            comment,
        ));
    }
    let (retries, comment) = match h.read(ctx, "retries", Node::u32)? {
        Some((0, p)) => return Err(ctx.err(&p, "must be at least 1")),
        Some((n, p)) => (n, ctx.src(&p)),
        None => (3, default_note("retries", ctx)),
    };
    settings.push(Setting::sub(
        "service",
        "readiness",
        "failure_threshold",
        i64::from(retries),
        comment,
    ));
    settings.push(Setting::sub(
        "service",
        "readiness",
        "success_threshold",
        1,
        format!(
            "Docker: one passing check makes a task healthy ({})",
            hc.path()
        ),
    ));
    h.ignore(&["test"]);
    h.finish(ctx);
    Ok(())
}
