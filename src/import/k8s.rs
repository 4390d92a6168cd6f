//! Kubernetes-style objects: `apps/v1` Deployment, Argo Rollouts `Rollout`, Flagger
//! `Canary`, and the pod template they share.
//!
//! Follows the controllers' documented defaults where the model's default differs
//! (a readiness probe's `periodSeconds` is 10 in Kubernetes, an Argo blue/green
//! promotes as soon as the preview stack is ready). Reads only the generic tree.

use serde_json::Value;

use super::fields::{Ctx, Node, Obj, checked_time};
use super::{ImportError, Setting, StrategyOut, Unit};
use crate::scenario::limits;
use crate::sim::SimTime;

/// Share of requests a Flagger A/B test is modeled with: header or cookie matching
/// selects a segment of users whose size no manifest states.
const AB_SHARE_PERCENT: i64 = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Deployment,
    Rollout,
    FlaggerCanary,
}

impl Kind {
    pub fn from(api_version: &str, kind: &str) -> Option<Kind> {
        let group = api_version.split('/').next().unwrap_or("");
        match (group, kind) {
            ("apps" | "extensions", "Deployment") => Some(Kind::Deployment),
            ("argoproj.io", "Rollout") => Some(Kind::Rollout),
            ("flagger.app", "Canary") => Some(Kind::FlaggerCanary),
            _ => None,
        }
    }
}

/// Cross-document references: Deployments that another controller rolls out.
pub(crate) struct Refs {
    /// (Deployment name, the controller object that refers to it).
    targeted: Vec<(String, String)>,
}

impl Refs {
    pub fn collect(parsed: &[(String, Vec<Value>)]) -> Refs {
        let mut targeted = Vec::new();
        for doc in parsed.iter().flat_map(|(_, docs)| docs) {
            let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
            let api = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
            let reference = match Kind::from(api, kind) {
                Some(Kind::FlaggerCanary) => doc.pointer("/spec/targetRef"),
                Some(Kind::Rollout) => doc.pointer("/spec/workloadRef"),
                _ => None,
            };
            let Some(reference) = reference else { continue };
            if reference.get("kind").and_then(Value::as_str) == Some("Deployment")
                && let Some(name) = reference.get("name").and_then(Value::as_str)
            {
                let owner = doc
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                targeted.push((name.to_string(), format!("{kind} {owner}")));
            }
        }
        Refs { targeted }
    }
    fn owner_of(&self, deployment: &str) -> Option<&str> {
        self.targeted
            .iter()
            .find(|(name, _)| name == deployment)
            .map(|(_, owner)| owner.as_str())
    }
}

/// The Deployment named `name` in any of the files, with its file name.
fn find_deployment<'a>(
    parsed: &'a [(String, Vec<Value>)],
    name: &str,
) -> Option<(&'a str, &'a Value)> {
    parsed.iter().find_map(|(file, docs)| {
        docs.iter()
            .find(|d| {
                d.get("kind").and_then(Value::as_str) == Some("Deployment")
                    && d.pointer("/metadata/name").and_then(Value::as_str) == Some(name)
            })
            .map(|d| (file.as_str(), d))
    })
}

/// Imports one object; `None` when it contributes nothing of its own (a Deployment
/// that a Flagger Canary or a Rollout's `workloadRef` rolls out).
pub(crate) fn import(
    doc: &Value,
    kind: Kind,
    refs: &Refs,
    parsed: &[(String, Vec<Value>)],
    ctx: &mut Ctx,
) -> Result<Option<Unit>, ImportError> {
    let mut root = Node::new(doc, "").obj(ctx)?;
    root.ignore(&["apiVersion", "kind", "status"]);
    let name = match root.get("metadata") {
        Some((meta, path)) => {
            let mut meta = Node::new(meta, &path).obj(ctx)?;
            let name = meta.read(ctx, "name", Node::name)?;
            name.map(|(n, p)| (n.to_string(), p))
        }
        None => None,
    };
    let (name, name_path) = name.unwrap_or_else(|| ("service".to_string(), String::new()));
    let name_comment = if name_path.is_empty() {
        format!("{} has no metadata.name", ctx.file)
    } else {
        ctx.src(&name_path)
    };
    let Some((spec, spec_path)) = root.get("spec") else {
        return Err(ctx.err("spec", "missing: nothing to import from this object"));
    };
    let mut spec = Node::new(spec, &spec_path).obj(ctx)?;
    let mut unit = Unit {
        service: name.clone(),
        file: ctx.file.clone(),
        name_comment,
        aliases: Vec::new(),
        settings: Vec::new(),
        strategies: Vec::new(),
    };
    match kind {
        Kind::Deployment => {
            if let Some(owner) = refs.owner_of(&name) {
                ctx.warn(
                    "spec.strategy",
                    &format!(
                        "Deployment {name} is rolled out by {owner}; its service settings are \
                         imported there and its own strategy is not imported"
                    ),
                );
                return Ok(None);
            }
            workload(&mut spec, ctx, &mut unit.settings)?;
            unit.strategies.push(deployment_strategy(&mut spec, ctx)?);
        }
        Kind::Rollout => {
            if let Some((reference, path)) = spec.get("workloadRef") {
                referenced_workload(Node::new(reference, &path), parsed, ctx, &mut unit.settings)?;
                if let Some((n, p)) = spec.read(ctx, "replicas", Node::replicas)? {
                    unit.settings.push(Setting::new(
                        "service",
                        "replicas",
                        i64::from(n),
                        ctx.src(&p),
                    ));
                }
            } else {
                workload(&mut spec, ctx, &mut unit.settings)?;
            }
            unit.strategies.push(rollout_strategy(&mut spec, ctx)?);
        }
        Kind::FlaggerCanary => {
            spec.ignore(&[
                "service",
                "provider",
                "ingressRef",
                "upstreamRef",
                "revertOnDeletion",
            ]);
            if let Some((target, path)) = spec.get("targetRef") {
                let target_name =
                    Node::new(target, &path)
                        .obj(ctx)?
                        .read(ctx, "name", Node::name)?;
                if let Some((target_name, target_path)) = target_name {
                    unit.aliases.push(name.clone());
                    unit.service = target_name.to_string();
                    unit.name_comment = ctx.src(&target_path);
                    referenced_workload(Node::new(target, &path), parsed, ctx, &mut unit.settings)?;
                }
            }
            unit.strategies
                .push(flagger_strategy(&mut spec, ctx, &mut unit.settings)?);
        }
    }
    spec.finish(ctx);
    root.finish(ctx);
    Ok(Some(unit))
}

/// Service settings of a Deployment a Rollout or Canary points to, if it is among the files.
fn referenced_workload(
    reference: Node,
    parsed: &[(String, Vec<Value>)],
    ctx: &mut Ctx,
    out: &mut Vec<Setting>,
) -> Result<(), ImportError> {
    let mut obj = reference.obj(ctx)?;
    obj.ignore(&["apiVersion", "scaleDown"]);
    let kind = obj
        .read(ctx, "kind", Node::str)?
        .map(|(k, _)| k)
        .unwrap_or("");
    let name = obj
        .read(ctx, "name", Node::str)?
        .map(|(n, _)| n)
        .unwrap_or("");
    obj.finish(ctx);
    let found = if kind == "Deployment" {
        find_deployment(parsed, name)
    } else {
        None
    };
    let Some((file, deployment)) = found else {
        ctx.warn(
            reference.path(),
            &format!(
                "{kind} {name} is not among the imported files: replicas, probes and \
                 termination keep the scenario's values"
            ),
        );
        return Ok(());
    };
    let mut dctx = Ctx {
        file: file.to_string(),
        label: format!("{file} (Deployment {name})"),
        warnings: &mut *ctx.warnings,
    };
    if let Some((spec, path)) = deployment.get("spec").map(|s| (s, "spec".to_string())) {
        let mut spec = Node::new(spec, &path).obj(&dctx)?;
        workload(&mut spec, &mut dctx, out)?;
        // The Deployment's own rollout settings are superseded by the controller.
        spec.ignore(&[
            "strategy",
            "minReadySeconds",
            "progressDeadlineSeconds",
            "selector",
            "revisionHistoryLimit",
        ]);
        spec.finish(&mut dctx);
    }
    Ok(())
}

/// `spec.replicas` and `spec.template` of a Deployment or Rollout.
fn workload(spec: &mut Obj, ctx: &mut Ctx, out: &mut Vec<Setting>) -> Result<(), ImportError> {
    spec.ignore(&["selector", "revisionHistoryLimit", "restartAt", "analysis"]);
    match spec.read(ctx, "replicas", Node::replicas)? {
        Some((n, path)) => out.push(Setting::new(
            "service",
            "replicas",
            i64::from(n),
            ctx.src(&path),
        )),
        None => ctx.warn(
            &spec.key_path("replicas"),
            "absent (an autoscaler may own it): the scenario's replicas are kept",
        ),
    }
    if let Some((template, path)) = spec.get("template") {
        let mut template = Node::new(template, &path).obj(ctx)?;
        template.ignore(&["metadata"]);
        if let Some((pod, path)) = template.get("spec") {
            let mut pod = Node::new(pod, &path).obj(ctx)?;
            pod_spec(&mut pod, ctx, out)?;
            pod.finish(ctx);
        }
        template.finish(ctx);
    }
    Ok(())
}

/// Pod-level keys that describe what runs and where, not how it is rolled out.
const POD_IGNORED: &[&str] = &[
    "volumes",
    "nodeSelector",
    "nodeName",
    "affinity",
    "tolerations",
    "serviceAccountName",
    "serviceAccount",
    "automountServiceAccountToken",
    "securityContext",
    "imagePullSecrets",
    "hostname",
    "subdomain",
    "dnsPolicy",
    "dnsConfig",
    "hostAliases",
    "priorityClassName",
    "priority",
    "restartPolicy",
    "schedulerName",
    "enableServiceLinks",
    "runtimeClassName",
    "topologySpreadConstraints",
    "shareProcessNamespace",
    "hostNetwork",
    "hostPID",
    "hostIPC",
];

const CONTAINER_IGNORED: &[&str] = &[
    "name",
    "image",
    "imagePullPolicy",
    "ports",
    "env",
    "envFrom",
    "resources",
    "volumeMounts",
    "volumeDevices",
    "command",
    "args",
    "workingDir",
    "securityContext",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "stdin",
    "stdinOnce",
    "tty",
    "resizePolicy",
];

fn pod_spec(pod: &mut Obj, ctx: &mut Ctx, out: &mut Vec<Setting>) -> Result<(), ImportError> {
    pod.ignore(POD_IGNORED);
    if let Some((grace, path)) = pod.read(ctx, "terminationGracePeriodSeconds", Node::seconds)? {
        out.push(Setting::new(
            "service",
            "termination_grace",
            grace.to_string(),
            ctx.src(&path),
        ));
    }
    if let Some((_, path)) = pod.get("initContainers") {
        ctx.warn(
            &path,
            "init containers are not modeled (their time is not added to startup)",
        );
    }
    let Some((containers, path)) = pod.get("containers") else {
        return Ok(());
    };
    let containers = Node::new(containers, &path).arr(ctx)?;
    let chosen = containers
        .iter()
        .position(|c| c.get("readinessProbe").is_some())
        .unwrap_or(0);
    if containers.len() > 1 {
        ctx.warn(
            &path,
            &format!(
                "{} containers: the model has one container per pod; probes and preStop are \
                 taken from containers[{chosen}], the others' are ignored",
                containers.len()
            ),
        );
    }
    let Some(container) = containers.get(chosen) else {
        return Ok(());
    };
    let cpath = format!("{path}[{chosen}]");
    let mut c = Node::new(container, &cpath).obj(ctx)?;
    c.ignore(CONTAINER_IGNORED);
    match c.get("readinessProbe") {
        Some((probe, ppath)) => readiness(Node::new(probe, &ppath), ctx, out)?,
        None => ctx.warn(
            &c.key_path("readinessProbe"),
            "absent: Kubernetes marks a pod ready when it starts; the scenario's readiness probe is kept",
        ),
    }
    for unmodeled in ["livenessProbe", "startupProbe"] {
        if let Some((_, p)) = c.get(unmodeled) {
            ctx.warn(&p, "not modeled (only the readiness probe is)");
        }
    }
    let mut has_pre_stop = false;
    if let Some((lifecycle, lpath)) = c.get("lifecycle") {
        let mut lifecycle = Node::new(lifecycle, &lpath).obj(ctx)?;
        if let Some((pre_stop, ppath)) = lifecycle.get("preStop") {
            has_pre_stop = true;
            pre_stop_sleep(Node::new(pre_stop, &ppath), ctx, out)?;
        }
        lifecycle.finish(ctx);
    }
    if !has_pre_stop {
        // Without a preStop hook the container is signalled as soon as the pod starts
        // terminating, so the embedded default's preStop sleep must not carry over.
        out.push(Setting::new(
            "service",
            "pre_stop",
            SimTime::ZERO.to_string(),
            format!(
                "Kubernetes default (no {}.lifecycle.preStop in {})",
                cpath, ctx.file
            ),
        ));
    }
    c.finish(ctx);
    Ok(())
}

/// `readinessProbe` -> `[service] readiness`, with Kubernetes defaults for absent fields.
fn readiness(probe: Node, ctx: &mut Ctx, out: &mut Vec<Setting>) -> Result<(), ImportError> {
    let mut p = probe.obj(ctx)?;
    p.ignore(&["httpGet", "tcpSocket", "exec", "grpc"]);
    let fields: [(&str, &'static str, u32); 5] = [
        ("periodSeconds", "period", 10),
        ("timeoutSeconds", "timeout", 1),
        ("initialDelaySeconds", "initial_delay", 0),
        ("failureThreshold", "failure_threshold", 3),
        ("successThreshold", "success_threshold", 1),
    ];
    for (field, sub, default) in fields {
        let (n, comment) = match p.read(ctx, field, Node::u32)? {
            Some((n, path)) => (n, ctx.src(&path)),
            None => (
                default,
                format!(
                    "Kubernetes default ({}.{field} absent in {})",
                    probe.path(),
                    ctx.file
                ),
            ),
        };
        let value: toml_edit::Value = if sub.ends_with("threshold") {
            if n == 0 {
                return Err(ctx.err(&p.key_path(field), "must be at least 1"));
            }
            i64::from(n).into()
        } else {
            SimTime::from_secs(u64::from(n)).to_string().into()
        };
        out.push(Setting::sub("service", "readiness", sub, value, comment));
    }
    p.finish(ctx);
    Ok(())
}

/// `maxSurge` and `maxUnavailable` into `out`; both 0 is refused, as Kubernetes and
/// Argo refuse it (the rollout could never make progress).
fn surge_pair(obj: &mut Obj, ctx: &Ctx, out: &mut StrategyOut) -> Result<(), ImportError> {
    let zero = |v: &toml_edit::Value| v.as_integer() == Some(0) || v.as_str() == Some("0%");
    let surge = obj.read(ctx, "maxSurge", Node::int_or_percent)?;
    let unavailable = obj.read(ctx, "maxUnavailable", Node::int_or_percent)?;
    if let (Some((s, sp)), Some((u, _))) = (&surge, &unavailable)
        && zero(s)
        && zero(u)
    {
        return Err(ctx.err(
            sp,
            "maxSurge and maxUnavailable are both 0: the rollout could never make progress",
        ));
    }
    for (key, read) in [("max_surge", surge), ("max_unavailable", unavailable)] {
        if let Some((v, p)) = read {
            out.set(key, v, ctx.src(&p));
        }
    }
    Ok(())
}

/// `lifecycle.preStop`: `sleep: {seconds: N}` or an exec command running `sleep N`.
fn pre_stop_sleep(handler: Node, ctx: &mut Ctx, out: &mut Vec<Setting>) -> Result<(), ImportError> {
    let mut h = handler.obj(ctx)?;
    if let Some((sleep, path)) = h.get("sleep") {
        let mut sleep = Node::new(sleep, &path).obj(ctx)?;
        if let Some((secs, p)) = sleep.read(ctx, "seconds", Node::seconds)? {
            out.push(Setting::new(
                "service",
                "pre_stop",
                secs.to_string(),
                ctx.src(&p),
            ));
        }
        sleep.finish(ctx);
    }
    if let Some((exec, path)) = h.get("exec") {
        let mut exec = Node::new(exec, &path).obj(ctx)?;
        if let Some((command, cpath)) = exec.get("command") {
            let words: Vec<&str> = Node::new(command, &cpath)
                .arr(ctx)?
                .iter()
                .filter_map(Value::as_str)
                .flat_map(|s| s.split(|c: char| c.is_whitespace() || c == ';' || c == '&'))
                .filter(|w| !w.is_empty())
                .collect();
            let secs = words
                .windows(2)
                .find(|w| w[0] == "sleep" || w[0].ends_with("/sleep"))
                .and_then(|w| parse_sleep_arg(w[1]));
            match secs {
                Some(t) => out.push(Setting::new("service", "pre_stop", t.to_string(), ctx.src(&cpath))),
                None => ctx.warn(
                    &cpath,
                    "a preStop command without a recognisable `sleep N`: its duration is unknown, pre_stop unchanged",
                ),
            }
        }
        exec.finish(ctx);
    }
    if let Some((_, path)) = h.get("httpGet") {
        ctx.warn(
            &path,
            "a preStop HTTP call takes an unknown time: pre_stop unchanged",
        );
    }
    h.finish(ctx);
    Ok(())
}

/// `sleep` arguments: `5`, `5s`, `1.5`, `2m`.
fn parse_sleep_arg(arg: &str) -> Option<SimTime> {
    let (num, mult) = match arg.char_indices().last()? {
        (i, 's') => (&arg[..i], 1.0),
        (i, 'm') => (&arg[..i], 60.0),
        (i, 'h') => (&arg[..i], 3600.0),
        _ => (arg, 1.0),
    };
    let x: f64 = num.parse().ok()?;
    checked_time(x, mult * 1e6)
}

fn deployment_strategy(spec: &mut Obj, ctx: &mut Ctx) -> Result<StrategyOut, ImportError> {
    let mut rolling = StrategyOut::new("rolling", "rolling");
    let mut kind = "RollingUpdate";
    if let Some((strategy, path)) = spec.get("strategy") {
        let mut strategy = Node::new(strategy, &path).obj(ctx)?;
        if let Some((t, tpath)) = strategy.read(ctx, "type", Node::str)? {
            match t {
                "RollingUpdate" | "Recreate" => kind = t,
                other => {
                    return Err(ctx.err(
                        &tpath,
                        format!("unknown strategy type {other:?} (RollingUpdate or Recreate)"),
                    ));
                }
            }
        }
        if let Some((ru, rpath)) = strategy.get("rollingUpdate") {
            let mut ru = Node::new(ru, &rpath).obj(ctx)?;
            surge_pair(&mut ru, ctx, &mut rolling)?;
            ru.finish(ctx);
            if kind == "Recreate" {
                ctx.warn(&rpath, "ignored: the strategy type is Recreate");
            }
        }
        strategy.finish(ctx);
    }
    let min_ready = spec.read(ctx, "minReadySeconds", Node::seconds)?;
    let deadline = spec.read(ctx, "progressDeadlineSeconds", Node::seconds)?;
    if kind == "Recreate" {
        let mut recreate = StrategyOut::new("recreate", "recreate");
        for (_, p) in [min_ready, deadline].into_iter().flatten() {
            ctx.warn(&p, "not modeled for a Recreate strategy");
        }
        recreate.set(
            "rollback",
            "manual",
            "a Deployment never rolls back by itself".into(),
        );
        return Ok(recreate);
    }
    if let Some((t, p)) = min_ready {
        rolling.set("min_ready", t.to_string(), ctx.src(&p));
    }
    if let Some((t, p)) = deadline {
        rolling.set("progress_deadline", t.to_string(), ctx.src(&p));
    }
    rolling.set(
        "rollback",
        "manual",
        "a Deployment never rolls back by itself".into(),
    );
    Ok(rolling)
}

fn rollout_strategy(spec: &mut Obj, ctx: &mut Ctx) -> Result<StrategyOut, ImportError> {
    let Some((strategy, path)) = spec.get("strategy") else {
        return Err(ctx.err(
            &spec.key_path("strategy"),
            "missing: a Rollout needs canary or blueGreen",
        ));
    };
    let mut strategy = Node::new(strategy, &path).obj(ctx)?;
    let out = if let Some((canary, cpath)) = strategy.get("canary") {
        argo_canary(Node::new(canary, &cpath), ctx)?
    } else if let Some((bg, bpath)) = strategy.get("blueGreen") {
        argo_blue_green(Node::new(bg, &bpath), ctx)?
    } else {
        return Err(ctx.err(&path, "expected `canary` or `blueGreen`"));
    };
    strategy.finish(ctx);
    Ok(out)
}

fn argo_canary(canary: Node, ctx: &mut Ctx) -> Result<StrategyOut, ImportError> {
    let mut c = canary.obj(ctx)?;
    c.ignore(&[
        "canaryService",
        "stableService",
        "canaryMetadata",
        "stableMetadata",
    ]);
    let mut out = StrategyOut::new("canary", "canary");
    let routing_path = c.key_path("trafficRouting");
    match c.get("trafficRouting") {
        Some(_) => out.set("traffic_routing", true, ctx.src(&routing_path)),
        None => out.set(
            "traffic_routing",
            false,
            format!(
                "{} absent in {}: weights follow pod counts",
                routing_path, ctx.file
            ),
        ),
    }
    let mut analysed = false;
    let mut steps = Vec::new();
    if let Some((list, spath)) = c.get("steps") {
        for (i, step) in Node::new(list, &spath).arr(ctx)?.iter().enumerate() {
            let step_path = format!("{spath}[{i}]");
            if let Some(s) = argo_step(Node::new(step, &step_path), ctx)? {
                analysed |= s.0.get("analysis").is_some();
                steps.push(s);
            }
        }
    }
    if steps.is_empty() {
        let mut t = toml_edit::InlineTable::new();
        t.insert("set_weight", 100.into());
        steps.push((
            t,
            format!("{} has no steps: Argo goes straight to 100%", ctx.file),
        ));
    }
    out.steps = Some(steps.into_iter().map(|(t, c)| (t.into(), c)).collect());
    surge_pair(&mut c, ctx, &mut out)?;
    if let Some((t, p)) = c.read(ctx, "scaleDownDelaySeconds", Node::seconds)? {
        out.set("scale_down_delay", t.to_string(), ctx.src(&p));
    }
    abort_delay(&mut c, ctx, &mut out)?;
    if let Some((_, p)) = c.get("analysis") {
        analysed = true;
        ctx.warn(
            &p,
            "background analysis: its AnalysisTemplates are not read; the model judges the \
             canary with the [monitoring] thresholds",
        );
    }
    if analysed {
        out.set(
            "rollback",
            "auto",
            format!("{} has analysis: a failed analysis aborts", ctx.file),
        );
    } else {
        out.set(
            "rollback",
            "manual",
            format!("{} has no analysis: a person aborts the rollout", ctx.file),
        );
    }
    c.finish(ctx);
    Ok(out)
}

/// One Argo canary step -> a scenario step (inline table) and its comment.
fn argo_step(
    step: Node,
    ctx: &mut Ctx,
) -> Result<Option<(toml_edit::InlineTable, String)>, ImportError> {
    let mut s = step.obj(ctx)?;
    let mut t = toml_edit::InlineTable::new();
    let mut comment = None;
    if let Some((w, p)) = s.read(ctx, "setWeight", Node::u32)? {
        if w > 100 {
            return Err(ctx.err(&p, format!("weight {w} is above 100")));
        }
        t.insert("set_weight", i64::from(w).into());
        comment = Some(ctx.src(&p));
    } else if let Some((pause, p)) = s.get("pause") {
        let mut pause = Node::new(pause, &p).obj(ctx)?;
        match pause.read(ctx, "duration", |n, c| n.duration(c, true))? {
            Some((d, dp)) => {
                t.insert("pause", d.to_string().into());
                comment = Some(ctx.src(&dp));
            }
            None => {
                t.insert("pause", toml_edit::InlineTable::new().into());
                comment = Some(format!("{} (no duration: a person promotes)", ctx.src(&p)));
            }
        }
        pause.finish(ctx);
    } else if let Some((_, p)) = s.get("analysis") {
        ctx.warn(
            &p,
            "analysis step: its templates are not read; the model checks the [monitoring] thresholds",
        );
        t.insert("analysis", true.into());
        comment = Some(ctx.src(&p));
    } else if let Some((scale, p)) = s.get("setCanaryScale") {
        let mut scale = Node::new(scale, &p).obj(ctx)?;
        if let Some((n, rp)) = scale.read(ctx, "replicas", Node::u32)? {
            t.insert("set_canary_scale", i64::from(n).into());
            comment = Some(ctx.src(&rp));
        } else {
            ctx.warn(&p, "only setCanaryScale.replicas is modeled; step skipped");
            scale.ignore(&["weight", "matchTrafficWeight"]);
        }
        scale.finish(ctx);
    } else {
        for (key, _) in step.v.as_object().into_iter().flatten() {
            ctx.warn(
                &s.key_path(key),
                "canary step kind not modeled; step skipped",
            );
        }
        return Ok(None);
    }
    s.finish(ctx);
    Ok(comment.map(|c| (t, c)))
}

fn argo_blue_green(bg: Node, ctx: &mut Ctx) -> Result<StrategyOut, ImportError> {
    let mut b = bg.obj(ctx)?;
    b.ignore(&[
        "activeService",
        "previewService",
        "activeMetadata",
        "previewMetadata",
    ]);
    let mut out = StrategyOut::new("blue-green", "blue_green");
    let auto = b.read(ctx, "autoPromotionEnabled", Node::bool)?;
    let seconds = b.read(ctx, "autoPromotionSeconds", Node::seconds)?;
    match &auto {
        Some((a, p)) => out.set("auto_promote", *a, ctx.src(p)),
        None => out.set(
            "auto_promote",
            true,
            format!(
                "Argo Rollouts default ({}.autoPromotionEnabled absent in {})",
                bg.path(),
                ctx.file
            ),
        ),
    }
    let auto_promote = auto.as_ref().is_none_or(|(a, _)| *a);
    match (&seconds, auto_promote) {
        (Some((t, p)), true) => out.set("preview_duration", t.to_string(), ctx.src(p)),
        (Some((_, p)), false) => ctx.warn(p, "ignored by Argo Rollouts when autoPromotionEnabled is false"),
        (None, true) => out.set(
            "preview_duration",
            "0s",
            format!(
                "Argo Rollouts default ({}.autoPromotionSeconds absent in {}): promote once the preview stack is ready",
                bg.path(),
                ctx.file
            ),
        ),
        (None, false) => {}
    }
    if let Some((_, p)) = b.read(ctx, "previewReplicaCount", Node::u32)? {
        ctx.warn(&p, "the preview stack is full size in the model");
    }
    if let Some((t, p)) = b.read(ctx, "scaleDownDelaySeconds", Node::seconds)? {
        out.set("scale_down_delay", t.to_string(), ctx.src(&p));
    }
    abort_delay(&mut b, ctx, &mut out)?;
    let mut analysed = false;
    if let Some((_, p)) = b.get("prePromotionAnalysis") {
        analysed = true;
        ctx.warn(
            &p,
            "its templates are not read: the model checks the preview stack with the [monitoring] \
             thresholds, which needs preview_rate > 0 to see any requests",
        );
    }
    if let Some((_, p)) = b.get("postPromotionAnalysis") {
        analysed = true;
        ctx.warn(
            &p,
            "its templates are not read: the model checks live traffic during scale_down_delay \
             with the [monitoring] thresholds",
        );
    }
    if analysed {
        out.set(
            "rollback",
            "auto",
            format!("{} has promotion analysis", ctx.file),
        );
    } else {
        out.set(
            "rollback",
            "manual",
            format!("{} has no analysis: a person aborts the rollout", ctx.file),
        );
    }
    b.finish(ctx);
    Ok(out)
}

/// `abortScaleDownDelaySeconds` keeps Argo's meaning: 0 is "never scale down", which
/// `abort_scale_down_delay = "0s"` means too.
fn abort_delay(o: &mut Obj, ctx: &mut Ctx, out: &mut StrategyOut) -> Result<(), ImportError> {
    if let Some((t, p)) = o.read(ctx, "abortScaleDownDelaySeconds", Node::seconds)? {
        let mut comment = ctx.src(&p);
        if t.is_zero() {
            comment.push_str(" (0: the aborted ReplicaSet is never scaled down)");
        }
        out.set("abort_scale_down_delay", t.to_string(), comment);
    }
    Ok(())
}

fn flagger_strategy(
    spec: &mut Obj,
    ctx: &mut Ctx,
    settings: &mut Vec<Setting>,
) -> Result<StrategyOut, ImportError> {
    let Some((analysis, apath)) = spec.get("analysis").or_else(|| spec.get("canaryAnalysis"))
    else {
        return Err(ctx.err(
            &spec.key_path("analysis"),
            "missing: a Flagger Canary needs an analysis",
        ));
    };
    let mut a = Node::new(analysis, &apath).obj(ctx)?;
    let mut out = StrategyOut::new("flagger", "flagger");
    if let Some((t, p)) = a.read(ctx, "interval", |n, c| n.duration(c, false))? {
        out.set("interval", t.to_string(), ctx.src(&p));
    }
    if let Some((n, p)) = a.read(ctx, "threshold", Node::u32)? {
        out.set("threshold", i64::from(n), ctx.src(&p));
    }
    let matched = a.get("match").map(|(_, p)| p);
    let iterations = a.read(ctx, "iterations", Node::u32)?;
    if let Some((n, p)) = &iterations
        && *n > limits::MAX_FLAGGER_ITERATIONS
    {
        return Err(ctx.err(
            p,
            format!(
                "{n} iterations is above the limit of {}",
                limits::MAX_FLAGGER_ITERATIONS
            ),
        ));
    }
    let step_weights = match a.get("stepWeights") {
        Some((list, p)) => {
            let mut weights = toml_edit::Array::new();
            for (i, w) in Node::new(list, &p).arr(ctx)?.iter().enumerate() {
                let wp = format!("{p}[{i}]");
                let w = Node::new(w, &wp).u32(ctx)?;
                if w > 100 {
                    return Err(ctx.err(&wp, format!("weight {w} is above 100")));
                }
                weights.push(i64::from(w));
            }
            Some((weights, p))
        }
        None => None,
    };
    let max_weight = a.read(ctx, "maxWeight", Node::u32)?;
    let step_weight = a.read(ctx, "stepWeight", Node::u32)?;
    match (&iterations, &matched) {
        (Some((n, p)), Some(mp)) => {
            // A/B: the matching segment gets the canary for `n` intervals.
            out.name = "flagger-ab".into();
            let mut weights = toml_edit::Array::new();
            for _ in 0..(*n).max(1) {
                weights.push(AB_SHARE_PERCENT);
            }
            out.set(
                "step_weights",
                weights,
                format!(
                    "{} x {AB_SHARE_PERCENT}%: A/B modeled as a share",
                    ctx.src(p)
                ),
            );
            out.set(
                "max_weight",
                AB_SHARE_PERCENT,
                format!(
                    "{} (A/B modeled as a {AB_SHARE_PERCENT}% share)",
                    ctx.src(mp)
                ),
            );
            ctx.warn(
                mp,
                &format!(
                    "header/cookie matching is modeled as a fixed {AB_SHARE_PERCENT}% share of \
                     requests for the {n} iterations; set step_weights to your share of matching traffic"
                ),
            );
        }
        (Some((n, p)), None) => {
            out.name = "flagger-blue-green".into();
            out.set("iterations", i64::from(*n), ctx.src(p));
        }
        (None, Some(mp)) => ctx.warn(
            mp,
            "match without iterations: Flagger ignores it; not imported",
        ),
        (None, None) => {}
    }
    if iterations.is_some() {
        for (_, p) in [&max_weight, &step_weight].into_iter().flatten() {
            ctx.warn(p, "ignored: iterations decide this analysis");
        }
        if let Some((_, p)) = &step_weights {
            ctx.warn(p, "ignored: iterations decide this analysis");
        }
    } else {
        if let Some((w, p)) = step_weights {
            out.set("step_weights", w, ctx.src(&p));
        }
        if let Some((n, p)) = step_weight {
            out.set("step_weight", i64::from(n), ctx.src(&p));
        }
        if let Some((n, p)) = max_weight {
            if n > 100 {
                return Err(ctx.err(&p, format!("weight {n} is above 100")));
            }
            out.set("max_weight", i64::from(n), ctx.src(&p));
        }
    }
    if let Some((metrics, p)) = a.get("metrics") {
        flagger_metrics(Node::new(metrics, &p), ctx, settings)?;
    }
    out.set(
        "rollback",
        "auto",
        "Flagger rolls back when the analysis fails".into(),
    );
    a.finish(ctx);
    Ok(out)
}

/// Built-in Flagger metrics -> the `[monitoring]` rule.
fn flagger_metrics(
    metrics: Node,
    ctx: &mut Ctx,
    settings: &mut Vec<Setting>,
) -> Result<(), ImportError> {
    let mut window: Option<(SimTime, String)> = None;
    for (i, metric) in metrics.arr(ctx)?.iter().enumerate() {
        let mpath = format!("{}[{i}]", metrics.path());
        let mut m = Node::new(metric, &mpath).obj(ctx)?;
        let name = m
            .read(ctx, "name", Node::str)?
            .map(|(n, _)| n)
            .unwrap_or("");
        if m.get("templateRef").is_some() || m.get("query").is_some() {
            ctx.warn(
                &mpath,
                &format!("custom metric {name:?} is not modeled; ignored"),
            );
            m.ignore(&["thresholdRange", "interval", "templateVariables"]);
            m.finish(ctx);
            continue;
        }
        let range = match m.get("thresholdRange") {
            Some((r, rp)) => Some((Node::new(r, &rp).obj(ctx)?, rp)),
            None => None,
        };
        let mut known = true;
        if let Some((mut range, _)) = range {
            match name {
                "request-success-rate" => {
                    if let Some((min, p)) = range.read(ctx, "min", Node::f64)? {
                        if !(0.0..=100.0).contains(&min) {
                            return Err(ctx.err(&p, "a success rate in percent, 0 to 100"));
                        }
                        let max_error = ((100.0 - min) / 100.0 * 1e9).round() / 1e9;
                        settings.push(Setting::new(
                            "monitoring",
                            "error_rate_max",
                            max_error,
                            ctx.src(&p),
                        ));
                    }
                }
                "request-duration" => {
                    if let Some((max, p)) = range.read(ctx, "max", Node::f64)? {
                        let Some(t) = checked_time(max, 1e3) else {
                            return Err(ctx.err(
                                &p,
                                format!("{max} is not a latency in milliseconds (0 to 1e12)"),
                            ));
                        };
                        settings.push(Setting::new(
                            "monitoring",
                            "latency_p99_max",
                            t.to_string(),
                            ctx.src(&p),
                        ));
                    }
                }
                _ => known = false,
            }
            range.finish(ctx);
        }
        if !known {
            ctx.warn(&mpath, &format!("metric {name:?} is not modeled; ignored"));
            m.ignore(&["interval"]);
            m.finish(ctx);
            continue;
        }
        if let Some((t, p)) = m.read(ctx, "interval", |n, c| n.duration(c, false))? {
            match &window {
                Some((w, wp)) if *w != t => ctx.warn(
                    &p,
                    &format!("differs from {wp}; the model has one window, the first is kept"),
                ),
                Some(_) => {}
                None => {
                    settings.push(Setting::new(
                        "monitoring",
                        "window",
                        t.to_string(),
                        ctx.src(&p),
                    ));
                    window = Some((t, p));
                }
            }
        }
        m.finish(ctx);
    }
    Ok(())
}
