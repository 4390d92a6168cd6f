//! Every default of the scenario format, in one place.
//!
//! These are the values of the DESIGN.md §3 example (and of `scenarios/default.toml`):
//! a key left out of a scenario takes the value below. Only `validate` reads them; the
//! simulator never sees a missing value. Changing one changes the format: update
//! DESIGN.md and the docs with it.
//!
//! | key | default |
//! |---|---|
//! | `description` | `""` |
//! | `duration` / `deploy_at` / `fidelity` | `"30m"` / `"1m"` / `"request"` |
//! | `cluster.nodes` / `pods_per_node` | 12 / 4 |
//! | `cluster.full_disk_fraction` | 0.0 |
//! | `cluster.node_mtbf` / `node_mttr` / `node_grace` / `pod_eviction` | `"0s"` (never) / `"5m"` / `"40s"` / `"5m"` |
//! | `service.replicas` / `workers` / `queue_limit` | 20 / 4 / 100 |
//! | `service.service_time` | `{ dist = "exponential", mean = "40ms" }` |
//! | `service.timeout` | `"2s"` |
//! | `service.image_pull` | `{ dist = "lognormal", median = "5s", sigma = 0.5 }` |
//! | `service.startup` | `{ dist = "lognormal", median = "20s", sigma = 0.5 }` |
//! | `service.termination_grace` / `pre_stop` | `"30s"` / `"0s"` |
//! | `service.readiness` | period `"5s"`, timeout `"1s"`, initial_delay `"0s"`, failure_threshold 3, success_threshold 1 |
//! | `service.restart_backoff` | initial `"10s"`, max `"5m"` |
//! | `traffic.rate` / `users` / `user_skew` | 200 / 10000 / 1.0 |
//! | `traffic.retries` / `retry_backoff` / `steps` | 0 / `"100ms"` / `[]` |
//! | `load_balancer.routing` / `endpoint_lag` | `"round_robin"` / `"1s"` |
//! | `release.bad_probability` / `baseline_error_rate` | 0.15 / 0.001 |
//! | `release.faults` | the seven weighted faults of the example (see [`faults`]) |
//! | fault `weight` | 1 |
//! | fault params | errors error_rate 0.05; latency extra `"300ms"`; crash_later after `{ dist = "exponential", mean = "3m" }`; capacity factor 2.0; mixed_version error_rate 0.3; cohort users 0.1, error_rate 1.0 |
//! | `slo.success` / `down_below` / `min_requests` / `latency` | 0.99 / 0.5 / 10 / `"1s"` |
//! | `monitoring.window` / `interval` / `failures` | `"30s"` / `"10s"` / 1 |
//! | `monitoring.error_rate_max` / `latency_p99_max` / `min_requests` | 0.02 / `"0s"` (off) / 50 |
//! | `monitoring.human_response` | `{ dist = "lognormal", median = "5m", sigma = 0.5 }` |
//! | `monitoring.human_promote` | `{ dist = "lognormal", median = "15m", sigma = 0.5 }` |
//! | `strategy.rollback` | rolling, swarm, recreate: `"manual"`; blue_green, canary, flagger: `"auto"`; none: `"none"` |
//! | rolling `max_surge` / `max_unavailable` / `min_ready` / `progress_deadline` | `"25%"` / `"25%"` / `"0s"` / `"10m"` |
//! | swarm `parallelism` / `delay` / `order` / `monitor` | 1 / `"0s"` / `"stop-first"` / `"5s"` |
//! | swarm `failure_action` / `max_failure_ratio` | `"pause"` / 0.0 |
//! | blue_green `auto_promote` / `preview_duration` / `preview_rate` / `scale_down_delay` | true / `"1m"` / 0 / `"30s"` |
//! | blue_green `abort_scale_down_delay` | `"30s"` (`"0s"`: never) |
//! | canary `traffic_routing` / `sticky` | true / false |
//! | canary `steps` | set_weight 5, pause 2m, set_weight 25, pause 2m, set_weight 50, pause 2m |
//! | canary `max_surge` / `max_unavailable` | `"25%"` / `"25%"` |
//! | canary `scale_down_delay` / `abort_scale_down_delay` | `"30s"` / `"30s"` (`"0s"`: never) |
//! | flagger `interval` / `step_weight` / `step_weights` | `"1m"` / 10 / `[]` |
//! | flagger `max_weight` / `threshold` / `iterations` | 50 / 5 / 0 |
//! | `pipeline.stage[].manual_promotion` / `catch` | false / `{}` (catches nothing) |
//! | `expect[].when` | `"all"` |
//! | `metrics.scrape_interval` / `buckets` / `query_failure_probability` | `"15s"` / 5ms 10ms 25ms 50ms 100ms 250ms 500ms 1s 2.5s 5s 10s / 0.0 |
//! | `analysis.metric[].measure` / `scope` / `window` / `interval` | `"success_rate"` / `"canary"` / `"1m"` / `"1m"` |
//! | `analysis.metric[].count` / `initial_delay` | 0 (until stopped) / `"0s"` |
//! | `analysis.metric[].success` / `failure` | `">= 0.99"` (only for `success_rate`: another measure needs `success` or `failure` written) / `""` (none) |
//! | `analysis.metric[].failure_limit` / `inconclusive_limit` / `consecutive_error_limit` | 0 / 0 / 4 |
//! | `analysis.metric[].on_nan` / `judge` / `dry_run` | `"failed"` / `"threshold"` / false |
//! | mann_whitney `baseline` / `confidence` / `tolerance` / `direction` / `min_points` | `"stable"` / 0.98 / 0.25 / `"increase"` / 50 |
//! | canary `analysis.start_step` | 0 |
//! | flagger `metrics[].interval` | `"1m"` |

use crate::scenario::analysis::*;
use crate::scenario::model::*;
use crate::sim::SimTime;

const fn secs(s: u64) -> SimTime {
    SimTime::from_secs(s)
}

pub const DESCRIPTION: &str = "";
pub const DURATION: SimTime = secs(30 * 60);
pub const DEPLOY_AT: SimTime = secs(60);

pub const NODES: u32 = 12;
pub const PODS_PER_NODE: u32 = 4;
pub const FULL_DISK_FRACTION: f64 = 0.0;
pub const NODE_MTBF: SimTime = SimTime::ZERO;
pub const NODE_MTTR: SimTime = secs(5 * 60);
pub const NODE_GRACE: SimTime = secs(40);
pub const POD_EVICTION: SimTime = secs(5 * 60);

pub const REPLICAS: u32 = 20;
pub const WORKERS: u32 = 4;
pub const SERVICE_TIME: Dist = Dist::Exponential {
    mean: SimTime::from_millis(40),
};
pub const QUEUE_LIMIT: u32 = 100;
pub const TIMEOUT: SimTime = secs(2);
pub const IMAGE_PULL: Dist = Dist::LogNormal {
    median: secs(5),
    sigma: 0.5,
};
pub const STARTUP: Dist = Dist::LogNormal {
    median: secs(20),
    sigma: 0.5,
};
pub const TERMINATION_GRACE: SimTime = secs(30);
pub const PRE_STOP: SimTime = SimTime::ZERO;
pub const PROBE_PERIOD: SimTime = secs(5);
pub const PROBE_TIMEOUT: SimTime = secs(1);
pub const PROBE_INITIAL_DELAY: SimTime = SimTime::ZERO;
pub const PROBE_FAILURE_THRESHOLD: u32 = 3;
pub const PROBE_SUCCESS_THRESHOLD: u32 = 1;
pub const BACKOFF_INITIAL: SimTime = secs(10);
pub const BACKOFF_MAX: SimTime = secs(5 * 60);

pub const RATE: f64 = 200.0;
pub const USERS: u32 = 10_000;
pub const USER_SKEW: f64 = 1.0;
pub const RETRIES: u32 = 0;
pub const RETRY_BACKOFF: SimTime = SimTime::from_millis(100);

pub const ROUTING: Routing = Routing::RoundRobin;
pub const ENDPOINT_LAG: SimTime = secs(1);

pub const BAD_PROBABILITY: f64 = 0.15;
pub const BASELINE_ERROR_RATE: f64 = 0.001;

/// Per-fault defaults: a `faults` entry may leave out its `weight` and parameters.
pub const FAULT_WEIGHT: f64 = 1.0;
pub const ERRORS_ERROR_RATE: f64 = 0.05;
pub const LATENCY_EXTRA: SimTime = SimTime::from_millis(300);
pub const CRASH_LATER_AFTER: Dist = Dist::Exponential { mean: secs(3 * 60) };
pub const CAPACITY_FACTOR: f64 = 2.0;
pub const MIXED_VERSION_ERROR_RATE: f64 = 0.3;
pub const COHORT_USERS: f64 = 0.1;
pub const COHORT_ERROR_RATE: f64 = 1.0;

/// The fault mix of the example: weights 4, 2, 1, 1, 1, 1, 1.
pub fn faults() -> Vec<WeightedFault> {
    let w = |weight: f64, fault: Fault| WeightedFault { weight, fault };
    vec![
        w(
            4.0,
            Fault::Errors {
                error_rate: ERRORS_ERROR_RATE,
            },
        ),
        w(
            2.0,
            Fault::Latency {
                extra: LATENCY_EXTRA,
            },
        ),
        w(1.0, Fault::CrashOnStart),
        w(
            1.0,
            Fault::CrashLater {
                after: CRASH_LATER_AFTER,
            },
        ),
        w(
            1.0,
            Fault::Capacity {
                factor: CAPACITY_FACTOR,
            },
        ),
        w(
            1.0,
            Fault::MixedVersion {
                error_rate: MIXED_VERSION_ERROR_RATE,
            },
        ),
        w(
            1.0,
            Fault::Cohort {
                users: COHORT_USERS,
                error_rate: COHORT_ERROR_RATE,
            },
        ),
    ]
}

pub const SLO_SUCCESS: f64 = 0.99;
pub const SLO_DOWN_BELOW: f64 = 0.5;
pub const SLO_MIN_REQUESTS: u32 = 10;
pub const SLO_LATENCY: SimTime = secs(1);

pub const MON_WINDOW: SimTime = secs(30);
pub const MON_INTERVAL: SimTime = secs(10);
pub const MON_FAILURES: u32 = 1;
pub const MON_ERROR_RATE_MAX: f64 = 0.02;
pub const MON_LATENCY_P99_MAX: SimTime = SimTime::ZERO;
pub const MON_MIN_REQUESTS: u32 = 50;
pub const HUMAN_RESPONSE: Dist = Dist::LogNormal {
    median: secs(5 * 60),
    sigma: 0.5,
};
pub const HUMAN_PROMOTE: Dist = Dist::LogNormal {
    median: secs(15 * 60),
    sigma: 0.5,
};

/// The rollback policy a strategy kind gets when `rollback` is left out.
pub fn rollback_for(kind: &str) -> Rollback {
    match kind {
        "blue_green" | "canary" | "flagger" => Rollback::Auto,
        "none" => Rollback::None,
        _ => Rollback::Manual,
    }
}

pub const MAX_SURGE: IntOrPercent = IntOrPercent::Percent(25.0);
pub const MAX_UNAVAILABLE: IntOrPercent = IntOrPercent::Percent(25.0);
pub const MIN_READY: SimTime = SimTime::ZERO;
pub const PROGRESS_DEADLINE: SimTime = secs(10 * 60);

pub const SWARM_PARALLELISM: u32 = 1;
pub const SWARM_DELAY: SimTime = SimTime::ZERO;
pub const SWARM_ORDER: SwarmOrder = SwarmOrder::StopFirst;
pub const SWARM_MONITOR: SimTime = secs(5);
pub const SWARM_FAILURE_ACTION: FailureAction = FailureAction::Pause;
pub const SWARM_MAX_FAILURE_RATIO: f64 = 0.0;

pub const BG_AUTO_PROMOTE: bool = true;
pub const BG_PREVIEW_DURATION: SimTime = secs(60);
pub const BG_PREVIEW_RATE: f64 = 0.0;
pub const SCALE_DOWN_DELAY: SimTime = secs(30);
pub const ABORT_SCALE_DOWN_DELAY: SimTime = secs(30);

pub const CANARY_TRAFFIC_ROUTING: bool = true;
pub const CANARY_STICKY: bool = false;

/// 5% for 2m, 25% for 2m, 50% for 2m, then promotion.
pub fn canary_steps() -> Vec<CanaryStep> {
    let pause = CanaryStep::Pause(Some(secs(120)));
    vec![
        CanaryStep::SetWeight(5),
        pause.clone(),
        CanaryStep::SetWeight(25),
        pause.clone(),
        CanaryStep::SetWeight(50),
        pause,
    ]
}

pub const FLAGGER_INTERVAL: SimTime = secs(60);
pub const FLAGGER_STEP_WEIGHT: u32 = 10;
pub const FLAGGER_MAX_WEIGHT: u32 = 50;
pub const FLAGGER_THRESHOLD: u32 = 5;
pub const FLAGGER_ITERATIONS: u32 = 0;

pub const FIDELITY: Fidelity = Fidelity::Request;
pub const MANUAL_PROMOTION: bool = false;
pub const EXPECT_WHEN: ExpectWhen = ExpectWhen::All;

pub const SCRAPE_INTERVAL: SimTime = secs(15);
/// Prometheus client libraries' default buckets scaled to ms (5 ms .. 10 s).
pub const BUCKETS_MS: [f64; 11] = [
    5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0,
];
pub const QUERY_FAILURE_PROBABILITY: f64 = 0.0;

/// `[metrics]` when it is left out.
pub fn metrics() -> MetricsConfig {
    MetricsConfig {
        scrape_interval: SCRAPE_INTERVAL,
        buckets_ms: BUCKETS_MS.to_vec(),
        query_failure_probability: QUERY_FAILURE_PROBABILITY,
    }
}

pub const METRIC_MEASURE: Measure = Measure::SuccessRate;
pub const METRIC_SCOPE: Scope = Scope::Canary;
pub const METRIC_WINDOW: SimTime = secs(60);
pub const METRIC_INTERVAL: SimTime = secs(60);
pub const METRIC_COUNT: u32 = 0;
pub const METRIC_INITIAL_DELAY: SimTime = SimTime::ZERO;
/// The default `success` of a `success_rate` metric.
pub const METRIC_SUCCESS: Condition = Condition {
    op: Op::Ge,
    value: 0.99,
};
pub const METRIC_FAILURE_LIMIT: u32 = 0;
pub const METRIC_INCONCLUSIVE_LIMIT: u32 = 0;
/// Argo's default `consecutiveErrorLimit`.
pub const METRIC_CONSECUTIVE_ERROR_LIMIT: u32 = 4;
pub const METRIC_ON_NAN: OnNan = OnNan::Failed;
pub const METRIC_DRY_RUN: bool = false;

pub const MW_BASELINE: Baseline = Baseline::Stable;
pub const MW_CONFIDENCE: f64 = 0.98;
pub const MW_TOLERANCE: f64 = 0.25;
pub const MW_DIRECTION: Direction = Direction::Increase;
/// Kayenta's minimum of 50 points per side.
pub const MW_MIN_POINTS: u32 = 50;

pub const CANARY_ANALYSIS_START_STEP: u32 = 0;
pub const FLAGGER_METRIC_INTERVAL: SimTime = secs(60);
