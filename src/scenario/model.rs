//! The validated, typed scenario: what the simulator consumes.
//!
//! Built only by `scenario::parse` (raw TOML -> checks -> this). Every value here has
//! already been validated, so the simulation never re-checks input. No I/O, no TOML.

use crate::sim::SimTime;

/// A probability distribution of a duration (or, for `Dist::scale`, any positive value).
#[derive(Clone, Debug, PartialEq)]
pub enum Dist {
    Constant(SimTime),
    Exponential { mean: SimTime },
    LogNormal { median: SimTime, sigma: f64 },
    Uniform { min: SimTime, max: SimTime },
}

impl Dist {
    /// Mean of the distribution in seconds.
    pub fn mean_secs(&self) -> f64 {
        match *self {
            Dist::Constant(v) => v.secs_f64(),
            Dist::Exponential { mean } => mean.secs_f64(),
            Dist::LogNormal { median, sigma } => median.secs_f64() * (sigma * sigma / 2.0).exp(),
            Dist::Uniform { min, max } => (min.secs_f64() + max.secs_f64()) / 2.0,
        }
    }

    /// Quantile `p` in seconds (used for warnings and rough estimates, not for sampling).
    pub fn quantile_secs(&self, p: f64) -> f64 {
        match *self {
            Dist::Constant(v) => v.secs_f64(),
            Dist::Exponential { mean } => -mean.secs_f64() * (1.0 - p).ln(),
            Dist::LogNormal { median, sigma } => {
                median.secs_f64() * (sigma * crate::sim::rng::normal_quantile(p)).exp()
            }
            Dist::Uniform { min, max } => min.secs_f64() + p * (max.secs_f64() - min.secs_f64()),
        }
    }

    /// Draws from the distribution by inversion of one uniform `u` in (0, 1).
    /// Inversion keeps common random numbers aligned: one uniform, one value.
    pub fn sample(&self, u: f64) -> SimTime {
        match *self {
            Dist::Constant(v) => v,
            Dist::Exponential { mean } => SimTime::from_secs_f64(-mean.secs_f64() * (1.0 - u).ln()),
            Dist::LogNormal { median, sigma } => SimTime::from_secs_f64(
                median.secs_f64() * (sigma * crate::sim::rng::normal_quantile(u)).exp(),
            ),
            Dist::Uniform { min, max } => {
                SimTime::from_secs_f64(min.secs_f64() + u * (max.secs_f64() - min.secs_f64()))
            }
        }
    }
}

/// A replica count for surge/unavailability: absolute or a percentage of `replicas`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum IntOrPercent {
    Count(u32),
    Percent(f64),
}

impl IntOrPercent {
    /// Resolves against `total` the way Kubernetes does: round up (surge) or down,
    /// capped at `total` (more surge or unavailability than pods changes nothing, and
    /// `total + surge` must not overflow).
    pub fn resolve(self, total: u32, round_up: bool) -> u32 {
        match self {
            IntOrPercent::Count(n) => n.min(total),
            IntOrPercent::Percent(p) => {
                let exact = p * f64::from(total) / 100.0;
                // Guard against 25% of 20 being 4.999999 in floating point.
                let snapped = (exact * 1e9).round() / 1e9;
                let whole = if round_up {
                    snapped.ceil()
                } else {
                    snapped.floor()
                };
                // In 0..=total after the clamp, so the conversion is exact.
                whole.clamp(0.0, f64::from(total)) as u32
            }
        }
    }
    pub fn is_zero(self) -> bool {
        match self {
            IntOrPercent::Count(n) => n == 0,
            IntOrPercent::Percent(p) => p == 0.0,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub duration: SimTime,
    pub deploy_at: SimTime,
    pub fidelity: Fidelity,
    pub cluster: Cluster,
    pub service: Service,
    pub traffic: Traffic,
    pub load_balancer: LoadBalancer,
    pub release: Release,
    pub slo: Slo,
    pub monitoring: Monitoring,
    pub strategies: Vec<Strategy>,
    pub pipeline: Vec<PipelineStage>,
    pub expects: Vec<Expect>,
    /// `[metrics]`, `[[analysis]]` and which strategy runs which template (DESIGN.md
    /// §9); `AnalysisSpec::default_for` when the file has none of these keys.
    pub analysis: crate::scenario::analysis::AnalysisSpec,
    /// The scenario text as given (written into `summary.json`).
    pub source_text: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Fidelity {
    #[default]
    Request,
    Fluid,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    pub nodes: u32,
    pub pods_per_node: u32,
    pub full_disk_fraction: f64,
    /// Zero means nodes never fail.
    pub node_mtbf: SimTime,
    pub node_mttr: SimTime,
    pub node_grace: SimTime,
    pub pod_eviction: SimTime,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    pub period: SimTime,
    pub timeout: SimTime,
    pub initial_delay: SimTime,
    pub failure_threshold: u32,
    pub success_threshold: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Backoff {
    pub initial: SimTime,
    pub max: SimTime,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Service {
    pub replicas: u32,
    pub workers: u32,
    pub service_time: Dist,
    pub queue_limit: u32,
    pub timeout: SimTime,
    pub image_pull: Dist,
    pub startup: Dist,
    pub termination_grace: SimTime,
    pub pre_stop: SimTime,
    pub readiness: Probe,
    pub restart_backoff: Backoff,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RateStep {
    pub at: SimTime,
    pub rate: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Traffic {
    /// Mean requests per second before the first step.
    pub rate: f64,
    pub users: u32,
    pub user_skew: f64,
    pub retries: u32,
    pub retry_backoff: SimTime,
    /// Sorted by `at`.
    pub steps: Vec<RateStep>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Routing {
    RoundRobin,
    Random,
    LeastOutstanding,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LoadBalancer {
    pub routing: Routing,
    pub endpoint_lag: SimTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    Errors,
    Latency,
    CrashOnStart,
    CrashLater,
    Capacity,
    MixedVersion,
    Cohort,
}

impl FaultKind {
    pub const ALL: [FaultKind; 7] = [
        FaultKind::Errors,
        FaultKind::Latency,
        FaultKind::CrashOnStart,
        FaultKind::CrashLater,
        FaultKind::Capacity,
        FaultKind::MixedVersion,
        FaultKind::Cohort,
    ];
    /// The name used in scenarios and output files.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Errors => "errors",
            FaultKind::Latency => "latency",
            FaultKind::CrashOnStart => "crash_on_start",
            FaultKind::CrashLater => "crash_later",
            FaultKind::Capacity => "capacity",
            FaultKind::MixedVersion => "mixed_version",
            FaultKind::Cohort => "cohort",
        }
    }
    pub fn from_name(s: &str) -> Option<FaultKind> {
        FaultKind::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// One fault a faulty release may have, with its parameters.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    Errors { error_rate: f64 },
    Latency { extra: SimTime },
    CrashOnStart,
    CrashLater { after: Dist },
    Capacity { factor: f64 },
    MixedVersion { error_rate: f64 },
    Cohort { users: f64, error_rate: f64 },
}

impl Fault {
    pub fn kind(&self) -> FaultKind {
        match self {
            Fault::Errors { .. } => FaultKind::Errors,
            Fault::Latency { .. } => FaultKind::Latency,
            Fault::CrashOnStart => FaultKind::CrashOnStart,
            Fault::CrashLater { .. } => FaultKind::CrashLater,
            Fault::Capacity { .. } => FaultKind::Capacity,
            Fault::MixedVersion { .. } => FaultKind::MixedVersion,
            Fault::Cohort { .. } => FaultKind::Cohort,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct WeightedFault {
    pub weight: f64,
    pub fault: Fault,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Release {
    pub bad_probability: f64,
    pub baseline_error_rate: f64,
    /// At least one entry with a positive weight.
    pub faults: Vec<WeightedFault>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Slo {
    pub success: f64,
    pub down_below: f64,
    pub min_requests: u32,
    pub latency: SimTime,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Monitoring {
    pub window: SimTime,
    pub interval: SimTime,
    pub failures: u32,
    pub error_rate_max: f64,
    /// Zero means no latency rule.
    pub latency_p99_max: SimTime,
    pub min_requests: u32,
    pub human_response: Dist,
    pub human_promote: Dist,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rollback {
    Auto,
    Manual,
    None,
}

impl Rollback {
    pub fn name(self) -> &'static str {
        match self {
            Rollback::Auto => "auto",
            Rollback::Manual => "manual",
            Rollback::None => "none",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Strategy {
    pub name: String,
    pub rollback: Rollback,
    pub kind: StrategyKind,
}

impl Scenario {
    /// The analyses strategy `name` runs (DESIGN.md §9; nothing for an unknown name,
    /// e.g. the implicit `none`).
    pub fn strategy_analysis(&self, name: &str) -> crate::scenario::analysis::StrategyAnalysis {
        self.strategies
            .iter()
            .position(|s| s.name == name)
            .and_then(|i| self.analysis.strategies.get(i))
            .cloned()
            .unwrap_or_default()
    }
}

impl Strategy {
    /// The implicit baseline strategy (`kind = "none"`).
    pub fn none() -> Strategy {
        Strategy {
            name: "none".into(),
            rollback: Rollback::None,
            kind: StrategyKind::None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum StrategyKind {
    None,
    Recreate,
    Rolling(RollingParams),
    Swarm(SwarmParams),
    BlueGreen(BlueGreenParams),
    Canary(CanaryParams),
    Flagger(FlaggerParams),
}

impl StrategyKind {
    /// The `kind` string of the scenario format.
    pub fn name(&self) -> &'static str {
        match self {
            StrategyKind::None => "none",
            StrategyKind::Recreate => "recreate",
            StrategyKind::Rolling(_) => "rolling",
            StrategyKind::Swarm(_) => "swarm",
            StrategyKind::BlueGreen(_) => "blue_green",
            StrategyKind::Canary(_) => "canary",
            StrategyKind::Flagger(_) => "flagger",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RollingParams {
    pub max_surge: IntOrPercent,
    pub max_unavailable: IntOrPercent,
    pub min_ready: SimTime,
    pub progress_deadline: SimTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwarmOrder {
    StopFirst,
    StartFirst,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureAction {
    Pause,
    Continue,
    Rollback,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SwarmParams {
    /// 0 means all tasks at once (as in Swarm).
    pub parallelism: u32,
    pub delay: SimTime,
    pub order: SwarmOrder,
    pub monitor: SimTime,
    pub failure_action: FailureAction,
    pub max_failure_ratio: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BlueGreenParams {
    pub auto_promote: bool,
    pub preview_duration: SimTime,
    /// Synthetic requests per second sent to the preview stack during the
    /// pre-promotion phase (never user traffic).
    pub preview_rate: f64,
    pub scale_down_delay: SimTime,
    /// How long an aborted preview stack stays up; `None` = never scaled down
    /// (`"0s"`, Argo's `abortScaleDownDelaySeconds: 0`).
    pub abort_scale_down_delay: Option<SimTime>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CanaryStep {
    SetWeight(u32),
    /// `None` = indefinite: a person resumes after `human_promote`.
    Pause(Option<SimTime>),
    Analysis,
    SetCanaryScale(u32),
}

#[derive(Clone, Debug, PartialEq)]
pub struct CanaryParams {
    pub traffic_routing: bool,
    pub sticky: bool,
    pub steps: Vec<CanaryStep>,
    pub max_surge: IntOrPercent,
    pub max_unavailable: IntOrPercent,
    pub scale_down_delay: SimTime,
    /// How long an aborted canary stays up (with a router); `None` = never scaled
    /// down (`"0s"`, Argo's `abortScaleDownDelaySeconds: 0`).
    pub abort_scale_down_delay: Option<SimTime>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FlaggerParams {
    pub interval: SimTime,
    /// Explicit weights; when empty, `step_weight` increments up to `max_weight`.
    pub step_weights: Vec<u32>,
    pub step_weight: u32,
    pub max_weight: u32,
    pub threshold: u32,
    /// Non-zero: blue/green style (no traffic shift) for this many intervals.
    pub iterations: u32,
}

/// One stage of the 4-tier pipeline (dev -> test -> staging -> prod).
#[derive(Clone, Debug, PartialEq)]
pub struct PipelineStage {
    pub name: String,
    pub duration: SimTime,
    /// Chance of catching each fault kind; kinds absent are never caught.
    pub catch: Vec<(FaultKind, f64)>,
    /// A person promotes to the next stage (after `human_promote`) instead of automation.
    pub manual_promotion: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectWhen {
    All,
    Faulty,
    Healthy,
}

/// A CI gate on a summary statistic.
#[derive(Clone, Debug, PartialEq)]
pub struct Expect {
    pub strategy: String,
    pub metric: String,
    pub stat: String,
    pub max: Option<f64>,
    pub min: Option<f64>,
    pub when: ExpectWhen,
}
