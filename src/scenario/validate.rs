//! Validation: the raw scenario -> the typed model, with defaults applied.
//!
//! Owns every rule that rejects an impossible scenario (each error names the key path
//! and, when the key was written, its position) and the warnings about scenarios that
//! are possible but probably not what the author meant. It must not read files or
//! print: it returns the model and the warnings to `scenario::parse`.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use toml::Spanned;

mod analysis;

use crate::catalogue::{Column, METRICS, Rate};
use crate::scenario::defaults as d;
use crate::scenario::error::ScenarioError;
use crate::scenario::horizon;
use crate::scenario::limits as lim;
use crate::scenario::model::*;
use crate::scenario::raw::*;
use crate::sim::SimTime;

type R<T> = Result<T, ScenarioError>;

/// The statistics an `[[expect]]` may gate on.
pub const EXPECT_STATS: [&str; 7] = ["mean", "p50", "p95", "p99", "max", "rate", "pooled"];

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
}

impl Ctx<'_> {
    fn err(&self, path: &str, span: Option<Range<usize>>, msg: impl Into<String>) -> ScenarioError {
        ScenarioError::new(self.file, path, msg).at(self.text, span)
    }

    fn dur(&self, v: &S<Dur>, default: SimTime) -> SimTime {
        v.as_ref().map_or(default, |s| s.get_ref().0)
    }

    /// A duration that must be strictly positive.
    fn pos_dur(&self, v: &S<Dur>, default: SimTime, path: &str) -> R<SimTime> {
        let t = self.dur(v, default);
        if t.is_zero() {
            return Err(self.err(path, span(v), "must be longer than 0s"));
        }
        Ok(t)
    }

    fn dist(&self, v: &S<RawDist>, default: Dist) -> Dist {
        v.as_ref().map_or(default, |s| s.get_ref().0.clone())
    }

    /// A whole number >= `min` that fits a `u32`.
    fn int(&self, v: &S<i64>, default: u32, path: &str, min: u32) -> R<u32> {
        let Some(s) = v else { return Ok(default) };
        let n = *s.get_ref();
        if n < i64::from(min) {
            let what = if min == 0 {
                "must not be negative".to_string()
            } else {
                format!("must be at least {min}")
            };
            return Err(self.err(path, Some(s.span()), format!("{what}, got {n}")));
        }
        u32::try_from(n).map_err(|_| self.err(path, Some(s.span()), format!("{n} is too large")))
    }

    /// Like `int`, and at most `max`; `why` says what the limit protects.
    fn int_max(&self, v: &S<i64>, default: u32, path: &str, min: u32, max: u32) -> R<u32> {
        let n = self.int(v, default, path, min)?;
        if n > max {
            return Err(self.err(
                path,
                span(v),
                format!("{n} is above the limit of {max} (see docs/ARCHITECTURE.md, Limits)"),
            ));
        }
        Ok(n)
    }

    /// A duration of at least `floor` (`what` names the thing it schedules).
    fn dur_min(
        &self,
        v: &S<Dur>,
        default: SimTime,
        path: &str,
        floor: SimTime,
        what: &str,
    ) -> R<SimTime> {
        let t = self.dur(v, default);
        if t < floor {
            return Err(self.err(
                path,
                span(v),
                format!("{t} is below the floor of {floor}: {what}"),
            ));
        }
        Ok(t)
    }

    /// A rate in requests per second: finite, >= 0 and at most `limits::MAX_RATE`.
    fn rate(&self, v: &S<f64>, default: f64, path: &str) -> R<f64> {
        let x = self.non_neg(v, default, path)?;
        if x > lim::MAX_RATE {
            return Err(self.err(
                path,
                span(v),
                format!("{x} requests/s is above the limit of {:e}", lim::MAX_RATE),
            ));
        }
        Ok(x)
    }

    /// A fraction in [0, 1].
    fn frac(&self, v: &S<f64>, default: f64, path: &str) -> R<f64> {
        let Some(s) = v else { return Ok(default) };
        let x = *s.get_ref();
        if !(0.0..=1.0).contains(&x) {
            return Err(self.err(
                path,
                Some(s.span()),
                format!("must be a fraction in [0, 1], got {x}"),
            ));
        }
        Ok(x)
    }

    /// A finite number >= 0.
    fn non_neg(&self, v: &S<f64>, default: f64, path: &str) -> R<f64> {
        let Some(s) = v else { return Ok(default) };
        let x = *s.get_ref();
        if !(x.is_finite() && x >= 0.0) {
            return Err(self.err(path, Some(s.span()), format!("must be >= 0, got {x}")));
        }
        Ok(x)
    }

    /// One of a fixed set of strings.
    fn choice<T: Copy>(
        &self,
        v: &S<String>,
        default: T,
        path: &str,
        options: &[(&str, T)],
    ) -> R<T> {
        let Some(s) = v else { return Ok(default) };
        options
            .iter()
            .find(|(name, _)| *name == s.get_ref().as_str())
            .map(|(_, t)| *t)
            .ok_or_else(|| {
                let names: Vec<String> = options.iter().map(|(n, _)| format!("\"{n}\"")).collect();
                self.err(
                    path,
                    Some(s.span()),
                    format!(
                        "unknown value \"{}\" (expected one of {})",
                        s.get_ref(),
                        names.join(", ")
                    ),
                )
            })
    }

    /// A required, non-empty string.
    fn name(&self, v: &S<String>, path: &str, whole: Option<Range<usize>>) -> R<String> {
        match v {
            None => Err(self.err(path, whole, "required key is missing")),
            Some(s) if s.get_ref().trim().is_empty() => {
                Err(self.err(path, Some(s.span()), "must not be empty"))
            }
            Some(s) => Ok(s.get_ref().clone()),
        }
    }
}

fn span<T>(v: &S<T>) -> Option<Range<usize>> {
    v.as_ref().map(Spanned::span)
}

/// Checks `raw` and builds the model and its analysis keys (DESIGN.md §9); returns
/// them with the warnings. `fidelity`, when given, replaces the file's `fidelity` (the
/// `--fidelity` flag) before the work of a run is estimated.
pub fn validate(
    raw: RawScenario,
    text: &str,
    file: &str,
    fidelity: Option<Fidelity>,
) -> R<(Scenario, Vec<String>)> {
    let c = Ctx { file, text };
    let name = c.name(&raw.name, "name", None)?;
    let description = raw
        .description
        .as_ref()
        .map_or(d::DESCRIPTION.to_string(), |s| s.get_ref().clone());
    let duration = c.pos_dur(&raw.duration, d::DURATION, "duration")?;
    if duration > lim::MAX_DURATION {
        return Err(c.err(
            "duration",
            span(&raw.duration),
            format!(
                "{duration} is above the limit of {} (30 days): the per-second counters of one run would not fit in memory",
                lim::MAX_DURATION
            ),
        ));
    }
    let deploy_at = c.dur(&raw.deploy_at, d::DEPLOY_AT);
    if deploy_at >= duration {
        let at = span(&raw.deploy_at).or(span(&raw.duration));
        return Err(c.err(
            "deploy_at",
            at,
            format!(
                "deploy_at ({deploy_at}) must be before the end of the run (duration = {duration})"
            ),
        ));
    }
    let written = c.choice(
        &raw.fidelity,
        d::FIDELITY,
        "fidelity",
        &[("request", Fidelity::Request), ("fluid", Fidelity::Fluid)],
    )?;
    let fidelity = fidelity.unwrap_or(written);

    let cluster = cluster(&c, &raw.cluster)?;
    let service = service(&c, &raw.service)?;
    let capacity = u64::from(cluster.nodes) * u64::from(cluster.pods_per_node);
    if u64::from(service.replicas) > capacity {
        return Err(c.err(
            "service.replicas",
            span(&raw.service.replicas),
            format!(
                "{} replicas can never fit the cluster: {} nodes x {} pods_per_node = {capacity} slots",
                service.replicas, cluster.nodes, cluster.pods_per_node
            ),
        ));
    }
    let traffic = traffic(&c, &raw.traffic)?;
    let load_balancer = LoadBalancer {
        routing: c.choice(
            &raw.load_balancer.routing,
            d::ROUTING,
            "load_balancer.routing",
            &[
                ("round_robin", Routing::RoundRobin),
                ("random", Routing::Random),
                ("least_outstanding", Routing::LeastOutstanding),
            ],
        )?,
        endpoint_lag: c.dur(&raw.load_balancer.endpoint_lag, d::ENDPOINT_LAG),
    };
    let release = release(&c, &raw.release)?;
    let slo = Slo {
        success: c.frac(&raw.slo.success, d::SLO_SUCCESS, "slo.success")?,
        down_below: c.frac(&raw.slo.down_below, d::SLO_DOWN_BELOW, "slo.down_below")?,
        min_requests: c.int(
            &raw.slo.min_requests,
            d::SLO_MIN_REQUESTS,
            "slo.min_requests",
            0,
        )?,
        latency: c.dur(&raw.slo.latency, d::SLO_LATENCY),
    };
    let monitoring = monitoring(&c, &raw.monitoring)?;
    if !monitoring.latency_p99_max.is_zero() && duration > lim::MAX_DURATION_LATENCY_RULE {
        return Err(c.err(
            "duration",
            span(&raw.duration).or(span(&raw.monitoring.latency_p99_max)),
            format!(
                "{duration} is above the limit of {} for a scenario with a latency rule \
                 (monitoring.latency_p99_max): its per-second latency histograms take 1.6 KB \
                 per simulated second",
                lim::MAX_DURATION_LATENCY_RULE
            ),
        ));
    }

    let strategies = match &raw.strategy {
        Some(list) if !list.is_empty() => list
            .iter()
            .enumerate()
            .map(|(i, s)| strategy(&c, i, s))
            .collect::<R<Vec<_>>>()?,
        _ => {
            return Err(c.err(
                "strategy",
                None,
                "at least one [[strategy]] is required (e.g. name = \"rolling\", kind = \"rolling\")",
            ));
        }
    };
    if let Some(list) = &raw.strategy {
        let mut seen = HashMap::with_capacity(strategies.len());
        for (i, s) in strategies.iter().enumerate() {
            if let Some(first) = seen.insert(s.name.as_str(), i) {
                return Err(c.err(
                    &format!("strategy[{i}].name"),
                    span(&list[i].get_ref().name),
                    format!(
                        "strategy name \"{}\" is already used by strategy[{first}]",
                        s.name
                    ),
                ));
            }
        }
    }

    let pipeline = pipeline(&c, &raw.pipeline)?;
    let names: HashSet<&str> = strategies.iter().map(|s| s.name.as_str()).collect();
    let stages: HashSet<&str> = pipeline.iter().map(|s| s.name.as_str()).collect();
    let expects = raw
        .expect
        .iter()
        .enumerate()
        .map(|(i, e)| expect(&c, i, e, &strategies, &names, &pipeline, &stages))
        .collect::<R<Vec<_>>>()?;
    let analysis = analysis::spec(&c, &raw, &strategies, duration)?;

    let scenario = Scenario {
        name,
        description,
        duration,
        deploy_at,
        fidelity,
        cluster,
        service,
        traffic,
        load_balancer,
        release,
        slo,
        monitoring,
        strategies,
        pipeline,
        expects,
        analysis,
        source_text: text.to_string(),
    };
    let mut warnings = horizon::warnings(&scenario);
    warnings.extend(strategy_warnings(&scenario));
    match lim::work_messages(&scenario) {
        Ok(w) => warnings.extend(w),
        Err(msg) => {
            let at = span(&raw.duration).or(span(&raw.traffic.rate));
            return Err(c.err("duration", at, msg));
        }
    }
    Ok((scenario, warnings))
}

fn cluster(c: &Ctx, r: &RawCluster) -> R<Cluster> {
    Ok(Cluster {
        nodes: c.int_max(&r.nodes, d::NODES, "cluster.nodes", 1, lim::MAX_NODES)?,
        pods_per_node: c.int_max(
            &r.pods_per_node,
            d::PODS_PER_NODE,
            "cluster.pods_per_node",
            1,
            lim::MAX_PODS_PER_NODE,
        )?,
        full_disk_fraction: c.frac(
            &r.full_disk_fraction,
            d::FULL_DISK_FRACTION,
            "cluster.full_disk_fraction",
        )?,
        node_mtbf: {
            let t = c.dur(&r.node_mtbf, d::NODE_MTBF);
            if !t.is_zero() && t < lim::MIN_NODE_MTBF {
                return Err(c.err(
                    "cluster.node_mtbf",
                    span(&r.node_mtbf),
                    format!(
                        "{t} is below the floor of {} (write \"0s\" for no node failures)",
                        lim::MIN_NODE_MTBF
                    ),
                ));
            }
            t
        },
        node_mttr: c.dur(&r.node_mttr, d::NODE_MTTR),
        node_grace: c.dur(&r.node_grace, d::NODE_GRACE),
        pod_eviction: c.dur(&r.pod_eviction, d::POD_EVICTION),
    })
}

fn service(c: &Ctx, r: &RawService) -> R<Service> {
    let p = &r.readiness;
    let readiness = Probe {
        period: c.dur_min(
            &p.period,
            d::PROBE_PERIOD,
            "service.readiness.period",
            lim::MIN_PROBE_PERIOD,
            "every pod is probed once per period (Kubernetes' periodSeconds is at least 1)",
        )?,
        timeout: c.pos_dur(&p.timeout, d::PROBE_TIMEOUT, "service.readiness.timeout")?,
        initial_delay: c.dur(&p.initial_delay, d::PROBE_INITIAL_DELAY),
        failure_threshold: c.int(
            &p.failure_threshold,
            d::PROBE_FAILURE_THRESHOLD,
            "service.readiness.failure_threshold",
            1,
        )?,
        success_threshold: c.int(
            &p.success_threshold,
            d::PROBE_SUCCESS_THRESHOLD,
            "service.readiness.success_threshold",
            1,
        )?,
    };
    let b = &r.restart_backoff;
    let restart_backoff = Backoff {
        initial: c.dur_min(
            &b.initial,
            d::BACKOFF_INITIAL,
            "service.restart_backoff.initial",
            lim::MIN_RESTART_BACKOFF,
            "a crashing pod restarts after it (Kubernetes starts at 10s)",
        )?,
        max: c.dur(&b.max, d::BACKOFF_MAX),
    };
    if restart_backoff.max < restart_backoff.initial {
        return Err(c.err(
            "service.restart_backoff.max",
            span(&b.max).or(span(&b.initial)),
            format!(
                "max ({}) is smaller than initial ({})",
                restart_backoff.max, restart_backoff.initial
            ),
        ));
    }
    let replicas = c.int_max(
        &r.replicas,
        d::REPLICAS,
        "service.replicas",
        1,
        lim::MAX_REPLICAS,
    )?;
    let workers = c.int_max(
        &r.workers,
        d::WORKERS,
        "service.workers",
        1,
        lim::MAX_WORKERS,
    )?;
    let queue_limit = c.int_max(
        &r.queue_limit,
        d::QUEUE_LIMIT,
        "service.queue_limit",
        0,
        lim::MAX_QUEUE_LIMIT,
    )?;
    let held = u64::from(replicas) * (u64::from(workers) + u64::from(queue_limit));
    if held > lim::MAX_HELD_REQUESTS {
        return Err(c.err(
            "service.queue_limit",
            span(&r.queue_limit).or(span(&r.workers)).or(span(&r.replicas)),
            format!(
                "replicas x (workers + queue_limit) = {replicas} x ({workers} + {queue_limit}) = {held} \
                 requests held at once is above the limit of {}",
                lim::MAX_HELD_REQUESTS
            ),
        ));
    }
    Ok(Service {
        replicas,
        workers,
        service_time: c.dist(&r.service_time, d::SERVICE_TIME),
        queue_limit,
        timeout: c.pos_dur(&r.timeout, d::TIMEOUT, "service.timeout")?,
        image_pull: c.dist(&r.image_pull, d::IMAGE_PULL),
        startup: c.dist(&r.startup, d::STARTUP),
        termination_grace: c.dur(&r.termination_grace, d::TERMINATION_GRACE),
        pre_stop: c.dur(&r.pre_stop, d::PRE_STOP),
        readiness,
        restart_backoff,
    })
}

fn traffic(c: &Ctx, r: &RawTraffic) -> R<Traffic> {
    let mut steps = Vec::with_capacity(r.steps.len());
    for (i, s) in r.steps.iter().enumerate() {
        let step = s.get_ref();
        let path = format!("traffic.steps[{i}]");
        let rate = c.rate(&Some(step.rate.clone()), 0.0, &format!("{path}.rate"))?;
        let at = step.at.get_ref().0;
        if let Some(prev) = steps.last().map(|p: &RateStep| p.at)
            && at <= prev
        {
            return Err(c.err(
                &format!("{path}.at"),
                Some(step.at.span()),
                format!(
                    "steps must be sorted by time: {at} is not after the previous step's {prev}"
                ),
            ));
        }
        steps.push(RateStep { at, rate });
    }
    let retries = c.int_max(
        &r.retries,
        d::RETRIES,
        "traffic.retries",
        0,
        lim::MAX_RETRIES,
    )?;
    let retry_backoff = if retries > 0 {
        c.dur_min(
            &r.retry_backoff,
            d::RETRY_BACKOFF,
            "traffic.retry_backoff",
            lim::MIN_RETRY_BACKOFF,
            "with retries, a request that fails at once would be retried in the same instant",
        )?
    } else {
        c.dur(&r.retry_backoff, d::RETRY_BACKOFF)
    };
    Ok(Traffic {
        rate: c.rate(&r.rate, d::RATE, "traffic.rate")?,
        users: c.int_max(&r.users, d::USERS, "traffic.users", 1, lim::MAX_USERS)?,
        user_skew: c.non_neg(&r.user_skew, d::USER_SKEW, "traffic.user_skew")?,
        retries,
        retry_backoff,
        steps,
    })
}

const FAULT_KEYS: [&str; 5] = ["error_rate", "extra", "after", "factor", "users"];

fn release(c: &Ctx, r: &RawRelease) -> R<Release> {
    let faults = match &r.faults {
        None => d::faults(),
        Some(list) => {
            let faults = list
                .get_ref()
                .iter()
                .enumerate()
                .map(|(i, f)| fault(c, i, f))
                .collect::<R<Vec<_>>>()?;
            if !faults.iter().any(|f| f.weight > 0.0) {
                return Err(c.err(
                    "release.faults",
                    Some(list.span()),
                    "at least one fault needs a weight > 0 (a faulty release must have some fault)",
                ));
            }
            faults
        }
    };
    Ok(Release {
        bad_probability: c.frac(
            &r.bad_probability,
            d::BAD_PROBABILITY,
            "release.bad_probability",
        )?,
        baseline_error_rate: c.frac(
            &r.baseline_error_rate,
            d::BASELINE_ERROR_RATE,
            "release.baseline_error_rate",
        )?,
        faults,
    })
}

fn fault(c: &Ctx, i: usize, sf: &Spanned<RawFault>) -> R<WeightedFault> {
    let f = sf.get_ref();
    let path = format!("release.faults[{i}]");
    let key = |k: &str| format!("{path}.{k}");
    let kind_name = c.name(&f.kind, &key("kind"), Some(sf.span()))?;
    let Some(kind) = FaultKind::from_name(&kind_name) else {
        let names: Vec<&str> = FaultKind::ALL.iter().map(|k| k.name()).collect();
        return Err(c.err(
            &key("kind"),
            span(&f.kind),
            format!(
                "unknown fault kind \"{kind_name}\" (expected one of {})",
                names.join(", ")
            ),
        ));
    };
    let takes: &[&str] = match kind {
        FaultKind::Errors | FaultKind::MixedVersion => &["error_rate"],
        FaultKind::Latency => &["extra"],
        FaultKind::CrashOnStart => &[],
        FaultKind::CrashLater => &["after"],
        FaultKind::Capacity => &["factor"],
        FaultKind::Cohort => &["users", "error_rate"],
    };
    let present = [
        span(&f.error_rate),
        span(&f.extra),
        span(&f.after),
        span(&f.factor),
        span(&f.users),
    ];
    for (k, sp) in FAULT_KEYS.iter().zip(present) {
        if sp.is_some() && !takes.contains(k) {
            let allowed = if takes.is_empty() {
                "no parameters".to_string()
            } else {
                takes.join(", ")
            };
            return Err(c.err(
                &key(k),
                sp,
                format!(
                    "key `{k}` does not belong to fault kind \"{kind_name}\" (it takes: {allowed})"
                ),
            ));
        }
    }
    let weight = c.non_neg(&f.weight, d::FAULT_WEIGHT, &key("weight"))?;
    let fault = match kind {
        FaultKind::Errors => Fault::Errors {
            error_rate: c.frac(&f.error_rate, d::ERRORS_ERROR_RATE, &key("error_rate"))?,
        },
        FaultKind::Latency => Fault::Latency {
            extra: c.dur(&f.extra, d::LATENCY_EXTRA),
        },
        FaultKind::CrashOnStart => Fault::CrashOnStart,
        FaultKind::CrashLater => Fault::CrashLater {
            after: c.dist(&f.after, d::CRASH_LATER_AFTER),
        },
        FaultKind::Capacity => Fault::Capacity {
            factor: {
                let x = c.non_neg(&f.factor, d::CAPACITY_FACTOR, &key("factor"))?;
                if x == 0.0 {
                    return Err(c.err(&key("factor"), span(&f.factor), "must be > 0"));
                }
                x
            },
        },
        FaultKind::MixedVersion => Fault::MixedVersion {
            error_rate: c.frac(
                &f.error_rate,
                d::MIXED_VERSION_ERROR_RATE,
                &key("error_rate"),
            )?,
        },
        FaultKind::Cohort => Fault::Cohort {
            users: c.frac(&f.users, d::COHORT_USERS, &key("users"))?,
            error_rate: c.frac(&f.error_rate, d::COHORT_ERROR_RATE, &key("error_rate"))?,
        },
    };
    Ok(WeightedFault { weight, fault })
}

fn monitoring(c: &Ctx, r: &RawMonitoring) -> R<Monitoring> {
    Ok(Monitoring {
        window: c.pos_dur(&r.window, d::MON_WINDOW, "monitoring.window")?,
        interval: c.dur_min(
            &r.interval,
            d::MON_INTERVAL,
            "monitoring.interval",
            lim::MIN_MONITOR_INTERVAL,
            "the rule is evaluated once per interval over per-second counts",
        )?,
        failures: c.int(&r.failures, d::MON_FAILURES, "monitoring.failures", 1)?,
        error_rate_max: c.frac(
            &r.error_rate_max,
            d::MON_ERROR_RATE_MAX,
            "monitoring.error_rate_max",
        )?,
        latency_p99_max: c.dur(&r.latency_p99_max, d::MON_LATENCY_P99_MAX),
        min_requests: c.int(
            &r.min_requests,
            d::MON_MIN_REQUESTS,
            "monitoring.min_requests",
            0,
        )?,
        human_response: c.dist(&r.human_response, d::HUMAN_RESPONSE),
        human_promote: c.dist(&r.human_promote, d::HUMAN_PROMOTE),
    })
}

const KINDS: [&str; 7] = [
    "rolling",
    "swarm",
    "blue_green",
    "canary",
    "flagger",
    "recreate",
    "none",
];

/// The kind-specific keys each strategy kind accepts (besides name, kind, rollback).
fn keys_of(kind: &str) -> &'static [&'static str] {
    match kind {
        "rolling" => &[
            "max_surge",
            "max_unavailable",
            "min_ready",
            "progress_deadline",
            "analysis",
        ],
        "swarm" => &[
            "parallelism",
            "delay",
            "order",
            "monitor",
            "failure_action",
            "max_failure_ratio",
            "analysis",
        ],
        "blue_green" => &[
            "auto_promote",
            "preview_duration",
            "preview_rate",
            "scale_down_delay",
            "abort_scale_down_delay",
            "pre_promotion_analysis",
            "post_promotion_analysis",
        ],
        "canary" => &[
            "traffic_routing",
            "sticky",
            "steps",
            "max_surge",
            "max_unavailable",
            "scale_down_delay",
            "abort_scale_down_delay",
            "analysis",
        ],
        "flagger" => &[
            "interval",
            "step_weight",
            "step_weights",
            "max_weight",
            "threshold",
            "iterations",
            "metrics",
        ],
        "recreate" => &["analysis"],
        _ => &[],
    }
}

fn surge_pair(c: &Ctx, s: &RawStrategy, path: &str) -> R<(IntOrPercent, IntOrPercent)> {
    let surge = s.max_surge.as_ref().map_or(d::MAX_SURGE, |v| v.get_ref().0);
    let unavail = s
        .max_unavailable
        .as_ref()
        .map_or(d::MAX_UNAVAILABLE, |v| v.get_ref().0);
    if surge.is_zero() && unavail.is_zero() {
        return Err(c.err(
            &format!("{path}.max_surge"),
            span(&s.max_surge).or(span(&s.max_unavailable)),
            "max_surge and max_unavailable are both 0: the rollout could never make progress",
        ));
    }
    if let Some(v) = &s.max_unavailable
        && let IntOrPercent::Percent(p) = v.get_ref().0
        && p > 100.0
    {
        return Err(c.err(
            &format!("{path}.max_unavailable"),
            Some(v.span()),
            format!("must be at most 100%, got {p}%"),
        ));
    }
    Ok((surge, unavail))
}

fn strategy(c: &Ctx, i: usize, ss: &Spanned<RawStrategy>) -> R<Strategy> {
    let s = ss.get_ref();
    let path = format!("strategy[{i}]");
    let key = |k: &str| format!("{path}.{k}");
    let name = c.name(&s.name, &key("name"), Some(ss.span()))?;
    let kind = c.name(&s.kind, &key("kind"), Some(ss.span()))?;
    if !KINDS.contains(&kind.as_str()) {
        return Err(c.err(
            &key("kind"),
            span(&s.kind),
            format!(
                "unknown strategy kind \"{kind}\" (expected one of {})",
                KINDS.join(", ")
            ),
        ));
    }
    let allowed = keys_of(&kind);
    for (k, sp) in s.present_keys() {
        if !allowed.contains(&k) {
            let takes = if allowed.is_empty() {
                "only name, kind and rollback".to_string()
            } else {
                format!("name, kind, rollback, {}", allowed.join(", "))
            };
            return Err(c.err(
                &key(k),
                Some(sp),
                format!(
                    "key `{k}` does not belong to strategy kind \"{kind}\" (it takes: {takes})"
                ),
            ));
        }
    }
    let rollback = c.choice(
        &s.rollback,
        d::rollback_for(&kind),
        &key("rollback"),
        &[
            ("auto", Rollback::Auto),
            ("manual", Rollback::Manual),
            ("none", Rollback::None),
        ],
    )?;
    let kind = match kind.as_str() {
        "rolling" => {
            let (max_surge, max_unavailable) = surge_pair(c, s, &path)?;
            StrategyKind::Rolling(RollingParams {
                max_surge,
                max_unavailable,
                min_ready: c.dur(&s.min_ready, d::MIN_READY),
                progress_deadline: c.pos_dur(
                    &s.progress_deadline,
                    d::PROGRESS_DEADLINE,
                    &key("progress_deadline"),
                )?,
            })
        }
        "swarm" => StrategyKind::Swarm(SwarmParams {
            parallelism: c.int_max(
                &s.parallelism,
                d::SWARM_PARALLELISM,
                &key("parallelism"),
                0,
                lim::MAX_REPLICAS,
            )?,
            delay: c.dur(&s.delay, d::SWARM_DELAY),
            order: c.choice(
                &s.order,
                d::SWARM_ORDER,
                &key("order"),
                &[
                    ("stop-first", SwarmOrder::StopFirst),
                    ("start-first", SwarmOrder::StartFirst),
                ],
            )?,
            monitor: c.dur(&s.monitor, d::SWARM_MONITOR),
            failure_action: c.choice(
                &s.failure_action,
                d::SWARM_FAILURE_ACTION,
                &key("failure_action"),
                &[
                    ("pause", FailureAction::Pause),
                    ("continue", FailureAction::Continue),
                    ("rollback", FailureAction::Rollback),
                ],
            )?,
            max_failure_ratio: c.frac(
                &s.max_failure_ratio,
                d::SWARM_MAX_FAILURE_RATIO,
                &key("max_failure_ratio"),
            )?,
        }),
        "blue_green" => StrategyKind::BlueGreen(BlueGreenParams {
            auto_promote: s
                .auto_promote
                .as_ref()
                .map_or(d::BG_AUTO_PROMOTE, |v| *v.get_ref()),
            preview_duration: c.dur(&s.preview_duration, d::BG_PREVIEW_DURATION),
            preview_rate: c.rate(&s.preview_rate, d::BG_PREVIEW_RATE, &key("preview_rate"))?,
            scale_down_delay: c.dur(&s.scale_down_delay, d::SCALE_DOWN_DELAY),
            abort_scale_down_delay: abort_delay(c, s),
        }),
        "canary" => {
            let (max_surge, max_unavailable) = surge_pair(c, s, &path)?;
            let steps = match &s.steps {
                None => d::canary_steps(),
                Some(list) => list
                    .get_ref()
                    .iter()
                    .enumerate()
                    .map(|(j, st)| canary_step(c, &key(&format!("steps[{j}]")), st))
                    .collect::<R<Vec<_>>>()?,
            };
            StrategyKind::Canary(CanaryParams {
                traffic_routing: s
                    .traffic_routing
                    .as_ref()
                    .map_or(d::CANARY_TRAFFIC_ROUTING, |v| *v.get_ref()),
                sticky: s.sticky.as_ref().map_or(d::CANARY_STICKY, |v| *v.get_ref()),
                steps,
                max_surge,
                max_unavailable,
                scale_down_delay: c.dur(&s.scale_down_delay, d::SCALE_DOWN_DELAY),
                abort_scale_down_delay: abort_delay(c, s),
            })
        }
        "flagger" => StrategyKind::Flagger(flagger(c, s, &path)?),
        "recreate" => StrategyKind::Recreate,
        _ => StrategyKind::None,
    };
    Ok(Strategy {
        name,
        rollback,
        kind,
    })
}

/// `abort_scale_down_delay`: as Argo's `abortScaleDownDelaySeconds`, 0 means the
/// aborted ReplicaSet is never scaled down.
fn abort_delay(c: &Ctx, s: &RawStrategy) -> Option<SimTime> {
    let t = c.dur(&s.abort_scale_down_delay, d::ABORT_SCALE_DOWN_DELAY);
    (!t.is_zero()).then_some(t)
}

/// A traffic weight in 0..=100.
fn weight(c: &Ctx, v: &Spanned<i64>, path: &str) -> R<u32> {
    let w = *v.get_ref();
    if !(0..=100).contains(&w) {
        return Err(c.err(
            path,
            Some(v.span()),
            format!("a weight is a percentage of traffic in 0..=100, got {w}"),
        ));
    }
    Ok(w as u32)
}

fn canary_step(c: &Ctx, path: &str, st: &Spanned<RawStep>) -> R<CanaryStep> {
    let s = st.get_ref();
    let set = [
        s.set_weight.is_some(),
        s.pause.is_some(),
        s.analysis.is_some(),
        s.set_canary_scale.is_some(),
    ];
    if set.iter().filter(|b| **b).count() != 1 {
        return Err(c.err(
            path,
            Some(st.span()),
            "a step has exactly one of set_weight, pause, analysis, set_canary_scale",
        ));
    }
    if let Some(w) = &s.set_weight {
        return Ok(CanaryStep::SetWeight(weight(
            c,
            w,
            &format!("{path}.set_weight"),
        )?));
    }
    if let Some(p) = &s.pause {
        return Ok(CanaryStep::Pause(p.get_ref().0));
    }
    if let Some(a) = &s.analysis {
        // A template name is resolved with the templates (`analysis::strategy`).
        if *a.get_ref() == RawStepAnalysis::Monitoring(false) {
            return Err(c.err(
                &format!("{path}.analysis"),
                Some(a.span()),
                "an analysis step is written `{ analysis = true }` or `{ analysis = \"template\" }`; \
                 remove the step to skip it",
            ));
        }
        return Ok(CanaryStep::Analysis);
    }
    let n = c.int_max(
        &s.set_canary_scale,
        0,
        &format!("{path}.set_canary_scale"),
        0,
        lim::MAX_REPLICAS,
    )?;
    Ok(CanaryStep::SetCanaryScale(n))
}

fn flagger(c: &Ctx, s: &RawStrategy, path: &str) -> R<FlaggerParams> {
    let key = |k: &str| format!("{path}.{k}");
    let max_weight = match &s.max_weight {
        Some(v) => weight(c, v, &key("max_weight"))?,
        None => d::FLAGGER_MAX_WEIGHT,
    };
    let mut step_weights = Vec::new();
    if let Some(list) = &s.step_weights
        && list.get_ref().len() > lim::MAX_FLAGGER_ITERATIONS as usize
    {
        return Err(c.err(
            &key("step_weights"),
            Some(list.span()),
            format!(
                "{} weights is above the limit of {}",
                list.get_ref().len(),
                lim::MAX_FLAGGER_ITERATIONS
            ),
        ));
    }
    if let Some(list) = &s.step_weights {
        for (j, v) in list.get_ref().iter().enumerate() {
            let p = key(&format!("step_weights[{j}]"));
            let w = weight(c, v, &p)?;
            if let Some(&prev) = step_weights.last()
                && w < prev
            {
                return Err(c.err(
                    &p,
                    Some(v.span()),
                    format!(
                        "step_weights must not decrease (each holds for one interval): {w} follows {prev}"
                    ),
                ));
            }
            step_weights.push(w);
        }
    }
    // Flagger's `stepWeight` is unset (0) by default; this model's default of 10 only
    // stands in for it when no `step_weights` are given, so that the list drives the
    // ramp (Flagger's `nextStepWeight` follows the list only when stepWeight is 0).
    let default_step = if step_weights.is_empty() {
        d::FLAGGER_STEP_WEIGHT
    } else {
        0
    };
    let step_weight = c.int(&s.step_weight, default_step, &key("step_weight"), 0)?;
    if step_weight > 100 {
        return Err(c.err(
            &key("step_weight"),
            span(&s.step_weight),
            format!("must be at most 100, got {step_weight}"),
        ));
    }
    let iterations = c.int_max(
        &s.iterations,
        d::FLAGGER_ITERATIONS,
        &key("iterations"),
        0,
        lim::MAX_FLAGGER_ITERATIONS,
    )?;
    if step_weight == 0 && step_weights.is_empty() && iterations == 0 {
        return Err(c.err(
            &key("step_weight"),
            span(&s.step_weight),
            "step_weight = 0 needs step_weights or iterations: the canary weight would never grow",
        ));
    }
    Ok(FlaggerParams {
        interval: c.dur_min(
            &s.interval,
            d::FLAGGER_INTERVAL,
            &key("interval"),
            lim::MIN_FLAGGER_INTERVAL,
            "Flagger analyses the canary once per interval",
        )?,
        step_weights,
        step_weight,
        max_weight,
        threshold: c.int(&s.threshold, d::FLAGGER_THRESHOLD, &key("threshold"), 1)?,
        iterations,
    })
}

/// Settings that are valid but easy to misread, one line each.
fn strategy_warnings(sc: &Scenario) -> Vec<String> {
    let mut out = Vec::new();
    for (i, s) in sc.strategies.iter().enumerate() {
        if let StrategyKind::Flagger(p) = &s.kind
            && p.step_weight > 0
            && p.iterations == 0
            && let Some(&last) = p.step_weights.last()
        {
            out.push(format!(
                "strategy[{i}] \"{}\": step_weight = {} takes precedence over step_weights, as in \
                 Flagger: the weight grows by {} up to {last} (the last of step_weights); remove \
                 step_weight to follow step_weights",
                s.name, p.step_weight, p.step_weight
            ));
        }
    }
    out
}

fn pipeline(c: &Ctx, r: &RawPipeline) -> R<Vec<PipelineStage>> {
    let mut out: Vec<PipelineStage> = Vec::with_capacity(r.stage.len());
    let mut seen = HashSet::with_capacity(r.stage.len());
    for (i, ss) in r.stage.iter().enumerate() {
        let s = ss.get_ref();
        let path = format!("pipeline.stage[{i}]");
        let name = c.name(&s.name, &format!("{path}.name"), Some(ss.span()))?;
        if !seen.insert(name.clone()) {
            return Err(c.err(
                &format!("{path}.name"),
                span(&s.name),
                format!("stage name \"{name}\" is used twice"),
            ));
        }
        let Some(duration) = &s.duration else {
            return Err(c.err(
                &format!("{path}.duration"),
                Some(ss.span()),
                "required key is missing",
            ));
        };
        let k = &s.catch;
        let given = [
            &k.errors,
            &k.latency,
            &k.crash_on_start,
            &k.crash_later,
            &k.capacity,
            &k.mixed_version,
            &k.cohort,
        ];
        let mut catch = Vec::new();
        for (kind, v) in FaultKind::ALL.into_iter().zip(given) {
            if v.is_some() {
                let p = c.frac(v, 0.0, &format!("{path}.catch.{}", kind.name()))?;
                catch.push((kind, p));
            }
        }
        out.push(PipelineStage {
            name,
            duration: duration.get_ref().0,
            catch,
            manual_promotion: s
                .manual_promotion
                .as_ref()
                .map_or(d::MANUAL_PROMOTION, |v| *v.get_ref()),
        });
    }
    Ok(out)
}

fn expect(
    c: &Ctx,
    i: usize,
    se: &Spanned<RawExpect>,
    strategies: &[Strategy],
    names: &HashSet<&str>,
    pipeline: &[PipelineStage],
    stages: &HashSet<&str>,
) -> R<Expect> {
    let e = se.get_ref();
    let path = format!("expect[{i}]");
    let key = |k: &str| format!("{path}.{k}");
    let strategy = c.name(&e.strategy, &key("strategy"), Some(se.span()))?;
    if strategy != "none" && !names.contains(strategy.as_str()) {
        let names: Vec<&str> = strategies.iter().map(|s| s.name.as_str()).collect();
        return Err(c.err(
            &key("strategy"),
            span(&e.strategy),
            format!(
                "no strategy named \"{strategy}\" (listed: {}; \"none\" is always available)",
                names.join(", ")
            ),
        ));
    }
    let metric = c.name(&e.metric, &key("metric"), Some(se.span()))?;
    let stat = c.name(&e.stat, &key("stat"), Some(se.span()))?;
    if !EXPECT_STATS.contains(&stat.as_str()) {
        return Err(c.err(
            &key("stat"),
            span(&e.stat),
            format!(
                "unknown stat \"{stat}\" (expected one of {})",
                EXPECT_STATS.join(", ")
            ),
        ));
    }
    let is_rate = Rate::named(&metric).is_some()
        || (!pipeline.is_empty()
            && (metric == "p_escaped"
                || metric
                    .strip_prefix("p_caught:")
                    .is_some_and(|st| stages.contains(st))));
    let is_metric = Column::named(&metric).is_some_and(|c| c.metric().is_some());
    if !is_rate && !is_metric {
        let mut rates: Vec<String> = Rate::ALL.iter().map(|r| r.name().to_string()).collect();
        if !pipeline.is_empty() {
            rates.push("p_escaped".into());
            rates.extend(pipeline.iter().map(|p| format!("p_caught:{}", p.name)));
        }
        return Err(c.err(
            &key("metric"),
            span(&e.metric),
            format!(
                "unknown metric \"{metric}\" (expected a runs.csv metric: {}; or a rate: {})",
                METRICS.map(|c| c.name()).join(", "),
                rates.join(", ")
            ),
        ));
    }
    let stat_fits = if is_rate {
        stat == "rate"
    } else if stat == "pooled" {
        metric == "latency_p99_ms"
    } else {
        stat != "rate"
    };
    if !stat_fits {
        let hint = if is_rate {
            "a rate takes stat = \"rate\"".to_string()
        } else if stat == "pooled" {
            "only latency_p99_ms has a pooled statistic".to_string()
        } else {
            format!("\"{metric}\" takes mean, p50, p95, p99 or max")
        };
        return Err(c.err(
            &key("stat"),
            span(&e.stat),
            format!("stat \"{stat}\" does not apply to metric \"{metric}\": {hint}"),
        ));
    }
    let bound = |v: &S<f64>, k: &str| -> R<Option<f64>> {
        match v {
            Some(s) if !s.get_ref().is_finite() => {
                Err(c.err(&key(k), Some(s.span()), "must be a finite number"))
            }
            Some(s) => Ok(Some(*s.get_ref())),
            None => Ok(None),
        }
    };
    let max = bound(&e.max, "max")?;
    let min = bound(&e.min, "min")?;
    // A rate or a share is a fraction: `max = 5` meant 5% and would pass every run.
    let fraction = is_rate
        || Column::named(&metric).is_some_and(|c| c.metric().is_some_and(|d| d.unit == "share"));
    if fraction {
        for (k, v, raw) in [("max", max, &e.max), ("min", min, &e.min)] {
            if let Some(x) = v
                && !(0.0..=1.0).contains(&x)
            {
                return Err(c.err(
                    &key(k),
                    span(raw),
                    format!(
                        "{metric} is a fraction in [0, 1], but {k} = {x}; for {x}% write {}",
                        x / 100.0
                    ),
                ));
            }
        }
    }
    if max.is_none() && min.is_none() {
        return Err(c.err(
            &path,
            Some(se.span()),
            "an expectation needs `max`, `min` or both",
        ));
    }
    if let (Some(lo), Some(hi)) = (min, max)
        && lo > hi
    {
        return Err(c.err(
            &key("min"),
            span(&e.min),
            format!("min ({lo}) is above max ({hi})"),
        ));
    }
    let when = c.choice(
        &e.when,
        d::EXPECT_WHEN,
        &key("when"),
        &[
            ("all", ExpectWhen::All),
            ("faulty", ExpectWhen::Faulty),
            ("healthy", ExpectWhen::Healthy),
        ],
    )?;
    Ok(Expect {
        strategy,
        metric,
        stat,
        max,
        min,
        when,
    })
}
