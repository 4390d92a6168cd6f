//! The raw layer: the scenario file exactly as written, as serde structs.
//!
//! Owns the shape of the format (`deny_unknown_fields` everywhere, so a typo is an
//! error) and the parsing of single values: durations with units, distributions and
//! integer-or-percentage counts. Values keep their source spans (`toml::Spanned`) so
//! `validate` can point at them. It must not apply defaults or check relations between
//! values: that is `validate`'s job, and `defaults` holds every default.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use toml::Spanned;

use crate::scenario::model::{Dist, IntOrPercent};
use crate::sim::SimTime;

pub type S<T> = Option<Spanned<T>>;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: S<String>,
    pub description: S<String>,
    pub duration: S<Dur>,
    pub deploy_at: S<Dur>,
    pub fidelity: S<String>,
    #[serde(default)]
    pub cluster: RawCluster,
    #[serde(default)]
    pub service: RawService,
    #[serde(default)]
    pub traffic: RawTraffic,
    #[serde(default)]
    pub load_balancer: RawLoadBalancer,
    #[serde(default)]
    pub release: RawRelease,
    #[serde(default)]
    pub slo: RawSlo,
    #[serde(default)]
    pub monitoring: RawMonitoring,
    pub strategy: Option<Vec<Spanned<RawStrategy>>>,
    #[serde(default)]
    pub pipeline: RawPipeline,
    #[serde(default)]
    pub expect: Vec<Spanned<RawExpect>>,
    #[serde(default)]
    pub metrics: RawMetrics,
    #[serde(default)]
    pub analysis: Vec<Spanned<RawTemplate>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCluster {
    pub nodes: S<i64>,
    pub pods_per_node: S<i64>,
    pub full_disk_fraction: S<f64>,
    pub node_mtbf: S<Dur>,
    pub node_mttr: S<Dur>,
    pub node_grace: S<Dur>,
    pub pod_eviction: S<Dur>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    pub replicas: S<i64>,
    pub workers: S<i64>,
    pub service_time: S<RawDist>,
    pub queue_limit: S<i64>,
    pub timeout: S<Dur>,
    pub image_pull: S<RawDist>,
    pub startup: S<RawDist>,
    pub termination_grace: S<Dur>,
    pub pre_stop: S<Dur>,
    #[serde(default)]
    pub readiness: RawProbe,
    #[serde(default)]
    pub restart_backoff: RawBackoff,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProbe {
    pub period: S<Dur>,
    pub timeout: S<Dur>,
    pub initial_delay: S<Dur>,
    pub failure_threshold: S<i64>,
    pub success_threshold: S<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBackoff {
    pub initial: S<Dur>,
    pub max: S<Dur>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTraffic {
    pub rate: S<f64>,
    pub users: S<i64>,
    pub user_skew: S<f64>,
    pub retries: S<i64>,
    pub retry_backoff: S<Dur>,
    #[serde(default)]
    pub steps: Vec<Spanned<RawRateStep>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRateStep {
    pub at: Spanned<Dur>,
    pub rate: Spanned<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLoadBalancer {
    pub routing: S<String>,
    pub endpoint_lag: S<Dur>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRelease {
    pub bad_probability: S<f64>,
    pub baseline_error_rate: S<f64>,
    pub faults: S<Vec<Spanned<RawFault>>>,
}

/// One `faults` entry. Flat on purpose: which keys belong to which `kind` is checked in
/// `validate`, so the message can name the stray key and the kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    pub kind: S<String>,
    pub weight: S<f64>,
    pub error_rate: S<f64>,
    pub extra: S<Dur>,
    pub after: S<RawDist>,
    pub factor: S<f64>,
    pub users: S<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSlo {
    pub success: S<f64>,
    pub down_below: S<f64>,
    pub min_requests: S<i64>,
    pub latency: S<Dur>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMonitoring {
    pub window: S<Dur>,
    pub interval: S<Dur>,
    pub failures: S<i64>,
    pub error_rate_max: S<f64>,
    pub latency_p99_max: S<Dur>,
    pub min_requests: S<i64>,
    pub human_response: S<RawDist>,
    pub human_promote: S<RawDist>,
}

/// One `[[strategy]]`. Flat on purpose, like `RawFault`: `validate` rejects keys that
/// do not belong to the strategy's `kind`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStrategy {
    pub name: S<String>,
    pub kind: S<String>,
    pub rollback: S<String>,
    // rolling, canary
    pub max_surge: S<RawIntOrPercent>,
    pub max_unavailable: S<RawIntOrPercent>,
    // rolling
    pub min_ready: S<Dur>,
    pub progress_deadline: S<Dur>,
    // swarm
    pub parallelism: S<i64>,
    pub delay: S<Dur>,
    pub order: S<String>,
    pub monitor: S<Dur>,
    pub failure_action: S<String>,
    pub max_failure_ratio: S<f64>,
    // blue_green
    pub auto_promote: S<bool>,
    pub preview_duration: S<Dur>,
    pub preview_rate: S<f64>,
    // blue_green, canary
    pub scale_down_delay: S<Dur>,
    pub abort_scale_down_delay: S<Dur>,
    // canary
    pub traffic_routing: S<bool>,
    pub sticky: S<bool>,
    pub steps: S<Vec<Spanned<RawStep>>>,
    // flagger
    pub interval: S<Dur>,
    pub step_weight: S<i64>,
    pub step_weights: S<Vec<Spanned<i64>>>,
    pub max_weight: S<i64>,
    pub threshold: S<i64>,
    pub iterations: S<i64>,
    pub metrics: S<Vec<Spanned<RawFlaggerMetric>>>,
    // canary (background), rolling, recreate, swarm (pipeline)
    pub analysis: S<RawAnalysisRef>,
    // blue_green
    pub pre_promotion_analysis: S<String>,
    pub post_promotion_analysis: S<String>,
}

impl RawStrategy {
    /// The kind-specific keys that are present, with their spans.
    pub fn present_keys(&self) -> Vec<(&'static str, std::ops::Range<usize>)> {
        fn p<T>(name: &'static str, v: &S<T>) -> Option<(&'static str, std::ops::Range<usize>)> {
            v.as_ref().map(|s| (name, s.span()))
        }
        [
            p("max_surge", &self.max_surge),
            p("max_unavailable", &self.max_unavailable),
            p("min_ready", &self.min_ready),
            p("progress_deadline", &self.progress_deadline),
            p("parallelism", &self.parallelism),
            p("delay", &self.delay),
            p("order", &self.order),
            p("monitor", &self.monitor),
            p("failure_action", &self.failure_action),
            p("max_failure_ratio", &self.max_failure_ratio),
            p("auto_promote", &self.auto_promote),
            p("preview_duration", &self.preview_duration),
            p("preview_rate", &self.preview_rate),
            p("scale_down_delay", &self.scale_down_delay),
            p("traffic_routing", &self.traffic_routing),
            p("sticky", &self.sticky),
            p("steps", &self.steps),
            p("abort_scale_down_delay", &self.abort_scale_down_delay),
            p("interval", &self.interval),
            p("step_weight", &self.step_weight),
            p("step_weights", &self.step_weights),
            p("max_weight", &self.max_weight),
            p("threshold", &self.threshold),
            p("iterations", &self.iterations),
            p("metrics", &self.metrics),
            p("analysis", &self.analysis),
            p("pre_promotion_analysis", &self.pre_promotion_analysis),
            p("post_promotion_analysis", &self.post_promotion_analysis),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// One canary step: exactly one of the keys is set (checked in `validate`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    pub set_weight: S<i64>,
    pub pause: S<RawPause>,
    pub analysis: S<RawStepAnalysis>,
    pub set_canary_scale: S<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPipeline {
    #[serde(default)]
    pub stage: Vec<Spanned<RawStage>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    pub name: S<String>,
    pub duration: S<Dur>,
    #[serde(default)]
    pub catch: RawCatch,
    pub manual_promotion: S<bool>,
}

/// Chance a stage catches each fault kind; the keys are the fault kind names.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCatch {
    pub errors: S<f64>,
    pub latency: S<f64>,
    pub crash_on_start: S<f64>,
    pub crash_later: S<f64>,
    pub capacity: S<f64>,
    pub mixed_version: S<f64>,
    pub cohort: S<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpect {
    pub strategy: S<String>,
    pub metric: S<String>,
    pub stat: S<String>,
    pub max: S<f64>,
    pub min: S<f64>,
    pub when: S<String>,
}

// ---------------------------------------------------------------------------------
// Analysis (DESIGN.md §9)

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetrics {
    pub scrape_interval: S<Dur>,
    pub buckets: S<Vec<Spanned<Dur>>>,
    pub query_failure_probability: S<f64>,
}

/// One `[[analysis]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTemplate {
    pub name: S<String>,
    #[serde(default)]
    pub metric: Vec<Spanned<RawMetric>>,
}

/// One `[[analysis.metric]]`. Flat: the judge-specific keys are checked in `validate`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetric {
    pub name: S<String>,
    pub measure: S<String>,
    pub scope: S<String>,
    pub window: S<Dur>,
    pub interval: S<Dur>,
    pub count: S<i64>,
    pub initial_delay: S<Dur>,
    pub success: S<String>,
    pub failure: S<String>,
    pub failure_limit: S<i64>,
    pub inconclusive_limit: S<i64>,
    pub consecutive_error_limit: S<i64>,
    pub on_nan: S<String>,
    pub judge: S<String>,
    pub dry_run: S<bool>,
    // mann_whitney
    pub baseline: S<String>,
    pub confidence: S<f64>,
    pub tolerance: S<f64>,
    pub direction: S<String>,
    pub min_points: S<i64>,
}

/// One flagger `metrics` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFlaggerMetric {
    pub name: S<String>,
    pub min: S<f64>,
    pub max: S<f64>,
    pub interval: S<Dur>,
}

/// A strategy's `analysis`: a template name (rolling, recreate, swarm) or the canary's
/// background table `{ templates = [...], start_step = 0 }`.
#[derive(Clone, Debug, PartialEq)]
pub enum RawAnalysisRef {
    Name(String),
    Background {
        templates: Vec<String>,
        start_step: Option<i64>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BackgroundTable {
    templates: Vec<String>,
    start_step: Option<i64>,
}

struct AnalysisRefVisitor;

impl<'de> Visitor<'de> for AnalysisRefVisitor {
    type Value = RawAnalysisRef;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "a template name, or (canary) a table like {{ templates = [\"success-rate\"], start_step = 0 }}"
        )
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawAnalysisRef, E> {
        Ok(RawAnalysisRef::Name(v.to_string()))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawAnalysisRef, A::Error> {
        let t = BackgroundTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(RawAnalysisRef::Background {
            templates: t.templates,
            start_step: t.start_step,
        })
    }
}

impl<'de> Deserialize<'de> for RawAnalysisRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RawAnalysisRef, D::Error> {
        d.deserialize_any(AnalysisRefVisitor)
    }
}

/// A canary step's `analysis`: `true` (one evaluation of `[monitoring]`) or a template
/// name (an inline analysis run).
#[derive(Clone, Debug, PartialEq)]
pub enum RawStepAnalysis {
    Monitoring(bool),
    Template(String),
}

struct StepAnalysisVisitor;

impl<'de> Visitor<'de> for StepAnalysisVisitor {
    type Value = RawStepAnalysis;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "true or the name of an [[analysis]] template")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawStepAnalysis, E> {
        Ok(RawStepAnalysis::Monitoring(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawStepAnalysis, E> {
        Ok(RawStepAnalysis::Template(v.to_string()))
    }
}

impl<'de> Deserialize<'de> for RawStepAnalysis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RawStepAnalysis, D::Error> {
        d.deserialize_any(StepAnalysisVisitor)
    }
}

// ---------------------------------------------------------------------------------
// Single values

const UNITS: &str = "us, ms, s, m, h";

/// A duration written as a string with units (`"250ms"`, `"1m30s"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dur(pub SimTime);

/// Parses `"1h"`, `"1m30s"`, `"250ms"`, `"1.5s"`: numbers each followed by a unit, units
/// from largest to smallest, each at most once.
pub fn parse_duration(text: &str) -> Result<SimTime, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err(format!(
            "empty duration: write e.g. \"30s\" (units: {UNITS})"
        ));
    }
    if s.starts_with('-') {
        return Err(format!(
            "negative duration \"{text}\": durations must be >= 0"
        ));
    }
    // Micros per unit, largest first; the index enforces the order.
    const TABLE: [(&str, f64); 5] = [
        ("h", 3_600e6),
        ("m", 60e6),
        ("s", 1e6),
        ("ms", 1e3),
        ("us", 1.0),
    ];
    let mut rest = s;
    let mut total_us = 0.0f64;
    let mut next_unit = 0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, after) = rest.split_at(num_len);
        if num.is_empty() {
            return Err(format!(
                "invalid duration \"{text}\": expected a number before \"{after}\""
            ));
        }
        let value: f64 = num
            .parse()
            .map_err(|_| format!("invalid duration \"{text}\": \"{num}\" is not a number"))?;
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, tail) = after.split_at(unit_len);
        if unit.is_empty() {
            return Err(format!(
                "duration \"{text}\" needs a unit after {num} (units: {UNITS})"
            ));
        }
        let Some(idx) = TABLE.iter().position(|(u, _)| *u == unit) else {
            return Err(format!(
                "unknown unit \"{unit}\" in duration \"{text}\" (units: {UNITS})"
            ));
        };
        if idx < next_unit {
            return Err(format!(
                "invalid duration \"{text}\": write units from largest to smallest, each once (e.g. \"1m30s\")"
            ));
        }
        next_unit = idx + 1;
        total_us += value * TABLE[idx].1;
        rest = tail;
    }
    // Keep far below u64::MAX so sums of durations cannot saturate in practice.
    if !total_us.is_finite() || total_us > 1e17 {
        return Err(format!("duration \"{text}\" is too long"));
    }
    Ok(SimTime::from_micros(total_us.round() as u64))
}

fn unit_required<E: de::Error>(v: impl fmt::Display) -> E {
    E::custom(format!(
        "a duration needs a unit: write \"{v}s\" or \"{v}ms\" (units: {UNITS})"
    ))
}

struct DurVisitor;

impl<'de> Visitor<'de> for DurVisitor {
    type Value = Dur;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a duration string with a unit, like \"30s\"")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Dur, E> {
        parse_duration(v).map(Dur).map_err(E::custom)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dur, E> {
        Err(unit_required(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dur, E> {
        Err(unit_required(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dur, E> {
        Err(unit_required(v))
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Dur, D::Error> {
        d.deserialize_any(DurVisitor)
    }
}

/// A distribution: a duration string (constant) or `{ dist = "...", ... }`.
#[derive(Clone, Debug, PartialEq)]
pub struct RawDist(pub Dist);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DistTable {
    dist: String,
    mean: Option<Dur>,
    median: Option<Dur>,
    sigma: Option<f64>,
    min: Option<Dur>,
    max: Option<Dur>,
    value: Option<Dur>,
}

impl DistTable {
    fn into_dist(self) -> Result<Dist, String> {
        let given = [
            ("mean", self.mean.is_some()),
            ("median", self.median.is_some()),
            ("sigma", self.sigma.is_some()),
            ("min", self.min.is_some()),
            ("max", self.max.is_some()),
            ("value", self.value.is_some()),
        ];
        let takes: &[&str] = match self.dist.as_str() {
            "exponential" => &["mean"],
            "lognormal" => &["median", "sigma"],
            "uniform" => &["min", "max"],
            "constant" => &["value"],
            other => {
                return Err(format!(
                    "unknown dist \"{other}\" (expected exponential, lognormal, uniform or constant)"
                ));
            }
        };
        let list = takes.join(", ");
        // Stray keys first: `median` under "exponential" is more telling than "needs mean".
        for (key, present) in given {
            if present && !takes.contains(&key) {
                return Err(format!(
                    "key `{key}` does not belong to dist \"{}\" (it takes: {list})",
                    self.dist
                ));
            }
        }
        for (key, present) in given {
            if !present && takes.contains(&key) {
                return Err(format!(
                    "dist \"{}\" needs `{key}` (it takes: {list})",
                    self.dist
                ));
            }
        }
        let d = |v: Option<Dur>| v.map_or(SimTime::ZERO, |d| d.0);
        Ok(match self.dist.as_str() {
            "exponential" => Dist::Exponential { mean: d(self.mean) },
            "lognormal" => {
                let sigma = self.sigma.unwrap_or(0.0);
                if !(sigma.is_finite() && sigma >= 0.0) {
                    return Err(format!("lognormal sigma must be >= 0, got {sigma}"));
                }
                Dist::LogNormal {
                    median: d(self.median),
                    sigma,
                }
            }
            "uniform" => {
                let (min, max) = (d(self.min), d(self.max));
                if min > max {
                    return Err(format!("uniform min ({min}) is larger than max ({max})"));
                }
                Dist::Uniform { min, max }
            }
            _ => Dist::Constant(d(self.value)),
        })
    }
}

struct DistVisitor;

impl<'de> Visitor<'de> for DistVisitor {
    type Value = RawDist;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "a duration string or a table like {{ dist = \"exponential\", mean = \"40ms\" }}"
        )
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawDist, E> {
        parse_duration(v)
            .map(|t| RawDist(Dist::Constant(t)))
            .map_err(E::custom)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawDist, E> {
        Err(unit_required(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawDist, E> {
        Err(unit_required(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawDist, E> {
        Err(unit_required(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawDist, A::Error> {
        let table = DistTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
        table
            .into_dist()
            .map(RawDist)
            .map_err(<A::Error as de::Error>::custom)
    }
}

impl<'de> Deserialize<'de> for RawDist {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RawDist, D::Error> {
        d.deserialize_any(DistVisitor)
    }
}

/// A surge/unavailability count: a non-negative integer or a percentage string.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RawIntOrPercent(pub IntOrPercent);

/// Parses `"25%"` (a non-negative percentage) into `IntOrPercent::Percent`.
pub fn parse_percent(text: &str) -> Result<IntOrPercent, String> {
    let bad = || format!("expected a whole number or a percentage like \"25%\", got \"{text}\"");
    // As Kubernetes' IntOrString: the digits then `%`, nothing around them ("25 %"
    // would be refused by the API server).
    let num = text.strip_suffix('%').ok_or_else(bad)?;
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(bad());
    }
    let p: f64 = num.parse().map_err(|_| bad())?;
    if !p.is_finite() || p < 0.0 {
        return Err(format!("percentage must be >= 0%, got \"{text}\""));
    }
    Ok(IntOrPercent::Percent(p))
}

struct IopVisitor;

impl<'de> Visitor<'de> for IopVisitor {
    type Value = RawIntOrPercent;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a whole number or a percentage like \"25%\"")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawIntOrPercent, E> {
        u32::try_from(v)
            .map(|n| RawIntOrPercent(IntOrPercent::Count(n)))
            .map_err(|_| E::custom(format!("must be a whole number >= 0 (or \"25%\"), got {v}")))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawIntOrPercent, E> {
        u32::try_from(v)
            .map(|n| RawIntOrPercent(IntOrPercent::Count(n)))
            .map_err(|_| E::custom(format!("{v} is too large")))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawIntOrPercent, E> {
        parse_percent(v).map(RawIntOrPercent).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for RawIntOrPercent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RawIntOrPercent, D::Error> {
        d.deserialize_any(IopVisitor)
    }
}

/// A canary pause: a duration, or `{}` for an indefinite pause (`None`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RawPause(pub Option<SimTime>);

struct PauseVisitor;

impl<'de> Visitor<'de> for PauseVisitor {
    type Value = RawPause;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a duration like \"2m\" or {{}} (wait for a person)")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawPause, E> {
        parse_duration(v)
            .map(|t| RawPause(Some(t)))
            .map_err(E::custom)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawPause, E> {
        Err(unit_required(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawPause, E> {
        Err(unit_required(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawPause, E> {
        Err(unit_required(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawPause, A::Error> {
        match map.next_key::<String>()? {
            None => Ok(RawPause(None)),
            Some(k) => Err(de::Error::custom(format!(
                "unexpected key `{k}`: an indefinite pause is written `pause = {{}}`"
            ))),
        }
    }
}

impl<'de> Deserialize<'de> for RawPause {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RawPause, D::Error> {
        d.deserialize_any(PauseVisitor)
    }
}
