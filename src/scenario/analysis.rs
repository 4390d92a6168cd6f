//! The validated model of DESIGN.md §9's analysis keys: `[metrics]` (the scrape
//! pipeline), `[[analysis]]` templates with their `[[analysis.metric]]` checks, and
//! which strategy runs which template (canary background and inline steps, blue/green
//! pre- and post-promotion, Flagger's metrics, the pipeline analysis of rolling,
//! recreate and swarm).
//!
//! Built only by `scenario::parse` (`validate::analysis`); every value is checked.
//! Pure data: evaluating a condition or running a template is `crate::analysis`'s
//! job. A scenario without these keys gets `AnalysisSpec::default_for` — the default
//! `[metrics]`, no template, nothing run — so it behaves as before.

use crate::sim::SimTime;

/// `[metrics]`: how the Prometheus-like store scrapes the pods.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricsConfig {
    pub scrape_interval: SimTime,
    /// Upper bounds (`le`) of the latency histogram's finite buckets, in ms, strictly
    /// increasing; the `+Inf` bucket is implicit.
    pub buckets_ms: Vec<f64>,
    /// Chance that a query errors (provider down, timeout).
    pub query_failure_probability: f64,
}

/// What a metric measures (DESIGN.md §9 `measure`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    /// Successful requests / requests over the window (a fraction).
    SuccessRate,
    /// Failed requests / requests over the window (a fraction).
    ErrorRate,
    /// `histogram_quantile(q, …)` of successful requests' latency, in ms.
    LatencyQuantile(Quantile),
    /// Mean latency of successful requests over the window, in ms.
    LatencyMean,
    /// Requests per second over the window (`rate()`).
    RequestRate,
}

/// The latency quantiles a metric can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantile {
    P50,
    P90,
    P95,
    P99,
}

impl Quantile {
    pub fn fraction(self) -> f64 {
        match self {
            Quantile::P50 => 0.5,
            Quantile::P90 => 0.9,
            Quantile::P95 => 0.95,
            Quantile::P99 => 0.99,
        }
    }
}

impl Measure {
    /// Whether the result is a fraction in [0, 1] (conditions on it are checked so).
    pub fn is_fraction(self) -> bool {
        matches!(self, Measure::SuccessRate | Measure::ErrorRate)
    }
    /// Whether it reads the per-second latency histograms.
    pub fn is_latency(self) -> bool {
        matches!(self, Measure::LatencyQuantile(_) | Measure::LatencyMean)
    }
}

/// Whose series a query reads (DESIGN.md §9 `scope`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The new version's pods (user traffic).
    Canary,
    /// The old version's pods.
    Stable,
    /// Every pod of the service.
    Service,
    /// The blue/green preview stack's synthetic requests.
    Preview,
}

/// A comparison operator of a condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Ge,
    Gt,
    Le,
    Lt,
}

impl Op {
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Ge => ">=",
            Op::Gt => ">",
            Op::Le => "<=",
            Op::Lt => "<",
        }
    }
}

/// `success` / `failure`: `result OP value` (latency in ms, rates as fractions).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Condition {
    pub op: Op,
    pub value: f64,
}

/// What a NaN result (series exist, the denominator did not grow) counts as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnNan {
    /// An unguarded Argo condition: `NaN >= x` is false.
    Failed,
    /// `isNaN(result[0]) || …`.
    Successful,
    Inconclusive,
    Error,
}

/// The baseline Kayenta's judge compares the canary with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Baseline {
    /// The stable (old) version's pods.
    Stable,
    /// An extra old-version ReplicaSet of the canary's size and weight.
    Dedicated,
}

/// Which way a canary must move to fail Kayenta's judge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Increase,
    Decrease,
    Either,
}

/// `judge = "mann_whitney"` settings.
#[derive(Clone, Debug, PartialEq)]
pub struct MannWhitney {
    pub baseline: Baseline,
    /// Level of the shift's confidence interval, in (0, 1).
    pub confidence: f64,
    /// The interval must clear this share of the shift estimate (Kayenta's tolerance).
    pub tolerance: f64,
    pub direction: Direction,
    /// Fewer points on either side: Inconclusive.
    pub min_points: u32,
}

/// How a measurement's value becomes an outcome.
#[derive(Clone, Debug, PartialEq)]
pub enum Judge {
    /// Argo's conditions; neither given: always Successful.
    Threshold {
        success: Option<Condition>,
        failure: Option<Condition>,
    },
    MannWhitney(MannWhitney),
}

/// One `[[analysis.metric]]`.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricSpec {
    pub name: String,
    pub measure: Measure,
    pub scope: Scope,
    pub window: SimTime,
    pub interval: SimTime,
    /// Measurements before the metric succeeds; 0 = until the analysis is stopped.
    pub count: u32,
    pub initial_delay: SimTime,
    pub failure_limit: u32,
    pub inconclusive_limit: u32,
    pub consecutive_error_limit: u32,
    pub on_nan: OnNan,
    pub judge: Judge,
    /// Measured, never acted on.
    pub dry_run: bool,
}

/// One `[[analysis]]`: a named set of metrics (an Argo AnalysisTemplate).
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    pub name: String,
    /// At least one.
    pub metrics: Vec<MetricSpec>,
}

/// An index into `AnalysisSpec::templates`.
pub type TemplateId = usize;

/// What one Flagger metric checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlaggerCheck {
    /// Built-in `request-success-rate`: percentage of successful requests.
    SuccessRate,
    /// Built-in `request-duration`: p99 latency in ms.
    Duration,
    /// A `[[analysis]]` template named like the metric (an imported MetricTemplate).
    Template(TemplateId),
}

/// One entry of a flagger strategy's `metrics`: a check passes when its value is
/// within [min, max] (a missing bound is open); "no values found" (an empty vector or
/// NaN) fails it, as in Flagger.
#[derive(Clone, Debug, PartialEq)]
pub struct FlaggerMetric {
    pub name: String,
    pub check: FlaggerCheck,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// The query's range (Flagger's metric `interval`).
    pub window: SimTime,
}

/// Which analyses one strategy runs (all empty: the `[monitoring]` rule, as before).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StrategyAnalysis {
    /// canary: background templates (`analysis = { templates = [...] }`).
    pub background: Vec<TemplateId>,
    /// canary: the step index at which the background analysis starts.
    pub start_step: u32,
    /// canary: per step, the template of an inline `{ analysis = "name" }` step (`None`
    /// for every other step, and for `{ analysis = true }`, which is one evaluation of
    /// `[monitoring]`). Empty when no step names a template; read it with
    /// `step_template`.
    pub steps: Vec<Option<TemplateId>>,
    /// blue_green `pre_promotion_analysis` / `post_promotion_analysis`.
    pub pre_promotion: Option<TemplateId>,
    pub post_promotion: Option<TemplateId>,
    /// flagger `metrics` (empty: `[monitoring]` decides each check, as before).
    pub flagger_metrics: Vec<FlaggerMetric>,
    /// rolling, recreate, swarm (`rollback = "auto"`): `analysis = "name"`, run from the
    /// deploy start.
    pub pipeline: Option<TemplateId>,
}

impl StrategyAnalysis {
    /// Whether the strategy runs any template or Flagger metric (then the wave-1
    /// `[monitoring]`-rule analysis of the run loop is off for it).
    pub fn uses_templates(&self) -> bool {
        !self.background.is_empty()
            || self.steps.iter().any(Option::is_some)
            || self.pre_promotion.is_some()
            || self.post_promotion.is_some()
            || !self.flagger_metrics.is_empty()
            || self.pipeline.is_some()
    }

    /// The template canary step `step` runs, if it is `{ analysis = "name" }`.
    pub fn step_template(&self, step: usize) -> Option<TemplateId> {
        self.steps.get(step).copied().flatten()
    }
}

/// Everything §9 adds to a scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct AnalysisSpec {
    pub metrics: MetricsConfig,
    pub templates: Vec<Template>,
    /// One entry per `Scenario::strategies`, in the same order.
    pub strategies: Vec<StrategyAnalysis>,
}

impl AnalysisSpec {
    /// No analysis keys: the default `[metrics]`, nothing run, for `strategies` strategies.
    pub fn default_for(strategies: usize) -> AnalysisSpec {
        AnalysisSpec {
            metrics: crate::scenario::defaults::metrics(),
            templates: Vec::new(),
            strategies: vec![StrategyAnalysis::default(); strategies],
        }
    }

    /// The template named `name`.
    pub fn template(&self, name: &str) -> Option<TemplateId> {
        self.templates.iter().position(|t| t.name == name)
    }

    /// Whether any template measures latency (the per-second latency histograms must
    /// then be kept, as for a latency rule).
    pub fn needs_latency(&self) -> bool {
        self.templates
            .iter()
            .flat_map(|t| &t.metrics)
            .any(|m| m.measure.is_latency())
            || self
                .strategies
                .iter()
                .flat_map(|s| &s.flagger_metrics)
                .any(|m| m.check == FlaggerCheck::Duration)
    }
}
