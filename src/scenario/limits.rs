//! The limits on user-controlled sizes, and the rough work estimate behind the
//! "this run is huge" warning and refusal.
//!
//! Owns every cap and floor `validate` applies to a value that sizes memory or the
//! number of events of a run: a count that allocates (replicas, users, per-second
//! arrays), a period that schedules events (probes, monitoring, retries, restarts) and
//! the total work of one run. Each limit is documented with why it sits where it does;
//! docs/ARCHITECTURE.md lists them. It must not simulate: the estimate is closed-form.

use crate::scenario::model::*;
use crate::sim::SimTime;

const DAY_S: u64 = 24 * 3600;

/// Longest horizon: the collector keeps about 21 bytes per simulated second (counters
/// per second and version), 54 MB per run at 30 days.
pub const MAX_DURATION: SimTime = SimTime::from_secs(30 * DAY_S);
/// Longest horizon with a latency rule (`monitoring.latency_p99_max`): the per-second
/// latency histograms take `2 × 208 × 4` = 1,664 bytes per simulated second, 431 MB
/// per run at 72 h.
pub const MAX_DURATION_LATENCY_RULE: SimTime = SimTime::from_secs(3 * DAY_S);
/// Pods of one version; the simulator keeps up to four times this many pod records.
/// Also the most Swarm `parallelism` (one update worker each; more than the replicas
/// changes nothing) and canary `set_canary_scale` (pods).
pub const MAX_REPLICAS: u32 = 10_000;
pub const MAX_NODES: u32 = 10_000;
/// Kubernetes' default is 110 pods per node.
pub const MAX_PODS_PER_NODE: u32 = 1_000;
pub const MAX_WORKERS: u32 = 10_000;
/// A queue this long is unbounded in practice (queueing tests use it for M/M/c).
pub const MAX_QUEUE_LIMIT: u32 = 1_000_000;
/// `replicas × (workers + queue_limit)`: requests the pods of one version can hold at
/// once, about 32 bytes each (3.2 GB if every queue is full, which takes sustained
/// overload; the arrivals themselves are bounded by `MAX_EVENTS`).
pub const MAX_HELD_REQUESTS: u64 = 100_000_000;
/// The Zipf alias table takes 16 bytes per user (36 while it is built), the user sets
/// two bits: 10 million users are 160 MB.
pub const MAX_USERS: u32 = 10_000_000;
/// Client retries of one request (each retry is a new request; real clients retry a
/// handful of times).
pub const MAX_RETRIES: u32 = 10;
/// Smallest backoff between retries when `retries > 0`: without one, a request that
/// fails at once is retried in the same microsecond, again and again.
pub const MIN_RETRY_BACKOFF: SimTime = SimTime::from_millis(1);
/// Smallest readiness probe period: Kubernetes' `periodSeconds` minimum is 1.
pub const MIN_PROBE_PERIOD: SimTime = SimTime::from_secs(1);
/// Smallest monitoring interval: metrics are counted per second.
pub const MIN_MONITOR_INTERVAL: SimTime = SimTime::from_secs(1);
/// Smallest Flagger analysis interval (Flagger's own examples use 1m; 1s is a floor).
pub const MIN_FLAGGER_INTERVAL: SimTime = SimTime::from_secs(1);
/// Most Flagger analysis iterations (and `step_weights` entries): Flagger's examples
/// use 10; 10,000 one-minute intervals are a week.
pub const MAX_FLAGGER_ITERATIONS: u32 = 10_000;
/// Smallest restart backoff (`restart_backoff.initial`): Kubernetes starts at 10 s.
pub const MIN_RESTART_BACKOFF: SimTime = SimTime::from_secs(1);
/// Smallest mean time between node failures, when failures are on (not `"0s"`).
pub const MIN_NODE_MTBF: SimTime = SimTime::from_secs(1);
/// Highest request rate (requests per second) of `traffic.rate`, a rate step or a
/// preview: above it even fluid mode's counts lose precision.
pub const MAX_RATE: f64 = 1e9;

/// `[metrics].scrape_interval` and an analysis metric's `interval` (events per period).
pub const MIN_SCRAPE_INTERVAL: SimTime = SimTime::from_secs(1);
pub const MIN_ANALYSIS_INTERVAL: SimTime = SimTime::from_secs(1);
/// Finite latency buckets of `[metrics].buckets` (a query reads each one).
pub const MAX_BUCKETS: usize = 64;
/// An analysis metric's `count`, limits and `min_points`.
pub const MAX_ANALYSIS_COUNT: u32 = 10_000;
/// Points per side a `mann_whitney` window may hold (`window / scrape_interval`): the
/// judge sorts the m·n pairwise differences at every measurement.
pub const MAX_MW_POINTS: u64 = 500;
/// `replicas × nodes` above which validation warns: placing a pod scans every node, and
/// pending pods are retried on every pod exit, so such runs are slow in either mode.
pub const WARN_PODS_X_NODES: u64 = 1_000_000;
/// Estimated events per run above which validation warns (tens of seconds per run).
pub const WARN_EVENTS: f64 = 1e8;
/// Estimated events per run above which validation refuses (hours per run).
pub const MAX_EVENTS: f64 = 1e10;

/// The rough size of one run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Work {
    /// Requests simulated one by one (0 in fluid mode, except blue/green previews).
    pub requests: f64,
    /// Everything else: probes, node failures, and in fluid mode one step per pod and
    /// second.
    pub other: f64,
}

impl Work {
    pub fn events(&self) -> f64 {
        self.requests + self.other
    }
}

/// Requests that arrive over the horizon: the integral of the stepped rate.
fn arrivals(sc: &Scenario) -> f64 {
    let end = sc.duration.secs_f64();
    let mut total = 0.0;
    let (mut at, mut rate) = (0.0, sc.traffic.rate);
    for step in &sc.traffic.steps {
        let t = step.at.secs_f64().min(end);
        total += rate * (t - at).max(0.0);
        at = t;
        rate = step.rate;
    }
    total + rate * (end - at).max(0.0)
}

/// The work of the scenario's most expensive strategy at its fidelity.
pub fn estimate(sc: &Scenario) -> Work {
    let secs = sc.duration.secs_f64();
    let replicas = f64::from(sc.service.replicas);
    let preview: f64 = sc
        .strategies
        .iter()
        .map(|s| match &s.kind {
            StrategyKind::BlueGreen(p) => p.preview_rate * secs,
            _ => 0.0,
        })
        .fold(0.0, f64::max);
    // Two versions' pods probe during a deployment; count both for the whole run.
    let probes = 2.0 * replicas * secs / sc.service.readiness.period.secs_f64();
    let nodes = if sc.cluster.node_mtbf.is_zero() {
        0.0
    } else {
        let cycle = sc.cluster.node_mtbf.secs_f64() + sc.cluster.node_mttr.secs_f64();
        2.0 * f64::from(sc.cluster.nodes) * secs / cycle
    };
    let (requests, per_second) = match sc.fidelity {
        Fidelity::Request => (arrivals(sc), 0.0),
        Fidelity::Fluid => (0.0, 2.0 * replicas * secs),
    };
    Work {
        requests: requests + preview,
        other: probes + nodes + per_second,
    }
}

/// `12345678` -> `"1.2e7"`: a rough count for a message.
pub fn rough(x: f64) -> String {
    if x < 1e4 {
        format!("{x:.0}")
    } else {
        format!("{x:.1e}")
    }
}

/// The warnings (`Ok`) or the refusal (`Err`) for the work of one run.
pub fn work_messages(sc: &Scenario) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let grid = u64::from(sc.service.replicas) * u64::from(sc.cluster.nodes);
    if grid > WARN_PODS_X_NODES {
        out.push(format!(
            "{} replicas on {} nodes: scheduling cost grows with pods x nodes (above {} a run \
             can take many seconds, in fluid mode too)",
            sc.service.replicas,
            sc.cluster.nodes,
            rough(WARN_PODS_X_NODES as f64)
        ));
    }
    out.extend(events_message(sc)?);
    Ok(out)
}

fn events_message(sc: &Scenario) -> Result<Option<String>, String> {
    let w = estimate(sc);
    let events = w.events();
    if events <= WARN_EVENTS {
        return Ok(None);
    }
    let what = format!(
        "one run is about {} events ({} requests simulated one by one, {} other events) \
         per strategy and seed",
        rough(events),
        rough(w.requests),
        rough(w.other)
    );
    let fluid = sc.fidelity == Fidelity::Fluid;
    let shorter = "; shorten `duration` or lower `service.replicas`";
    if events > MAX_EVENTS {
        // The refusal comes before `--fidelity` is applied: only the file can change it.
        let hint = if fluid {
            shorter
        } else {
            "; fluid mode counts traffic per second instead (set fidelity = \"fluid\")"
        };
        Err(format!(
            "{what}, above the limit of {}{hint}",
            rough(MAX_EVENTS)
        ))
    } else {
        let hint = if fluid {
            shorter
        } else {
            "; fluid mode counts traffic per second instead (fidelity = \"fluid\", or \
             --fidelity fluid)"
        };
        Ok(Some(format!("{what}: expect a long run{hint}")))
    }
}
