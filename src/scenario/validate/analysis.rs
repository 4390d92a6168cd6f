//! Validation of DESIGN.md §9's keys: `[metrics]`, `[[analysis]]` templates and the
//! strategy keys that run them → `scenario::analysis::AnalysisSpec`.
//!
//! Owns every rule on those keys (conditions as an operator and a number, fractions in
//! [0, 1], limits ≥ 0, intervals ≥ 1s, judge-specific keys, template names that must
//! exist, which strategy kind takes which form). Kept apart from `validate` so the two
//! change independently; it reuses `validate`'s `Ctx` helpers for the messages (file,
//! key path, line). It must not read files or print.

use std::collections::HashMap;

use toml::Spanned;

use super::{Ctx, R, span};
use crate::scenario::analysis::*;
use crate::scenario::defaults as d;
use crate::scenario::limits as lim;
use crate::scenario::model::{CanaryStep, Rollback, Strategy, StrategyKind};
use crate::scenario::raw::*;
use crate::sim::SimTime;

/// The analysis part of a scenario: `raw`'s §9 keys checked against the strategies
/// already built (same order as `raw.strategy`) and the run's `duration`.
pub(super) fn spec(
    c: &Ctx,
    raw: &RawScenario,
    strategies: &[Strategy],
    duration: SimTime,
) -> R<AnalysisSpec> {
    let metrics = metrics(c, &raw.metrics)?;
    let templates = raw
        .analysis
        .iter()
        .enumerate()
        .map(|(i, t)| template(c, i, t, &metrics))
        .collect::<R<Vec<_>>>()?;
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, t) in templates.iter().enumerate() {
        if let Some(first) = seen.insert(t.name.as_str(), i) {
            return Err(c.err(
                &format!("analysis[{i}].name"),
                span(&raw.analysis[i].get_ref().name),
                format!(
                    "template name \"{}\" is already used by analysis[{first}]",
                    t.name
                ),
            ));
        }
    }
    let mut spec = AnalysisSpec {
        metrics,
        templates,
        strategies: Vec::with_capacity(strategies.len()),
    };
    if let Some(list) = &raw.strategy {
        for (i, (rs, st)) in list.iter().zip(strategies).enumerate() {
            let sa = strategy(c, i, rs.get_ref(), st, &spec)?;
            spec.strategies.push(sa);
        }
    }
    if spec.needs_latency() && duration > lim::MAX_DURATION_LATENCY_RULE {
        return Err(c.err(
            "duration",
            span(&raw.duration),
            format!(
                "{duration} is above the limit of {} for a scenario whose analysis measures \
                 latency: its per-second latency histograms take 1.6 KB per simulated second",
                lim::MAX_DURATION_LATENCY_RULE
            ),
        ));
    }
    Ok(spec)
}

fn metrics(c: &Ctx, r: &RawMetrics) -> R<MetricsConfig> {
    let scrape_interval = c.dur_min(
        &r.scrape_interval,
        d::SCRAPE_INTERVAL,
        "metrics.scrape_interval",
        lim::MIN_SCRAPE_INTERVAL,
        "the store scrapes every pod once per interval",
    )?;
    let buckets_ms = match &r.buckets {
        None => d::BUCKETS_MS.to_vec(),
        Some(list) => {
            let items = list.get_ref();
            if items.is_empty() {
                return Err(c.err(
                    "metrics.buckets",
                    Some(list.span()),
                    "needs at least one bucket bound, e.g. [\"100ms\", \"1s\"]",
                ));
            }
            if items.len() > lim::MAX_BUCKETS {
                return Err(c.err(
                    "metrics.buckets",
                    Some(list.span()),
                    format!(
                        "{} buckets are above the limit of {} (see docs/ARCHITECTURE.md, Limits)",
                        items.len(),
                        lim::MAX_BUCKETS
                    ),
                ));
            }
            let mut out = Vec::with_capacity(items.len());
            for (j, b) in items.iter().enumerate() {
                let ms = b.get_ref().0.secs_f64() * 1e3;
                let path = format!("metrics.buckets[{j}]");
                if ms <= 0.0 {
                    return Err(c.err(&path, Some(b.span()), "a bucket bound must be above 0s"));
                }
                if let Some(&prev) = out.last()
                    && ms <= prev
                {
                    return Err(c.err(
                        &path,
                        Some(b.span()),
                        "bucket bounds must be strictly increasing",
                    ));
                }
                out.push(ms);
            }
            out
        }
    };
    Ok(MetricsConfig {
        scrape_interval,
        buckets_ms,
        query_failure_probability: c.frac(
            &r.query_failure_probability,
            d::QUERY_FAILURE_PROBABILITY,
            "metrics.query_failure_probability",
        )?,
    })
}

fn template(c: &Ctx, i: usize, st: &Spanned<RawTemplate>, metrics: &MetricsConfig) -> R<Template> {
    let t = st.get_ref();
    let path = format!("analysis[{i}]");
    let name = c.name(&t.name, &format!("{path}.name"), Some(st.span()))?;
    if t.metric.is_empty() {
        return Err(c.err(
            &format!("{path}.metric"),
            Some(st.span()),
            format!("template \"{name}\" needs at least one [[analysis.metric]]"),
        ));
    }
    let list = t
        .metric
        .iter()
        .enumerate()
        .map(|(j, m)| metric(c, &format!("{path}.metric[{j}]"), m, metrics))
        .collect::<R<Vec<_>>>()?;
    for (j, m) in list.iter().enumerate() {
        if let Some(first) = list[..j].iter().position(|x| x.name == m.name) {
            return Err(c.err(
                &format!("{path}.metric[{j}].name"),
                span(&t.metric[j].get_ref().name),
                format!(
                    "metric name \"{}\" is already used by {path}.metric[{first}]",
                    m.name
                ),
            ));
        }
    }
    Ok(Template {
        name,
        metrics: list,
    })
}

const MEASURES: [(&str, Measure); 8] = [
    ("success_rate", Measure::SuccessRate),
    ("error_rate", Measure::ErrorRate),
    ("latency_p50", Measure::LatencyQuantile(Quantile::P50)),
    ("latency_p90", Measure::LatencyQuantile(Quantile::P90)),
    ("latency_p95", Measure::LatencyQuantile(Quantile::P95)),
    ("latency_p99", Measure::LatencyQuantile(Quantile::P99)),
    ("latency_mean", Measure::LatencyMean),
    ("request_rate", Measure::RequestRate),
];

fn metric(c: &Ctx, path: &str, sm: &Spanned<RawMetric>, metrics: &MetricsConfig) -> R<MetricSpec> {
    let m = sm.get_ref();
    let key = |k: &str| format!("{path}.{k}");
    let name = c.name(&m.name, &key("name"), Some(sm.span()))?;
    let measure = c.choice(&m.measure, d::METRIC_MEASURE, &key("measure"), &MEASURES)?;
    let scope = c.choice(
        &m.scope,
        d::METRIC_SCOPE,
        &key("scope"),
        &[
            ("canary", Scope::Canary),
            ("stable", Scope::Stable),
            ("service", Scope::Service),
            ("preview", Scope::Preview),
        ],
    )?;
    let window = c.dur_min(
        &m.window,
        d::METRIC_WINDOW,
        &key("window"),
        lim::MIN_ANALYSIS_INTERVAL,
        "a query's range",
    )?;
    let interval = c.dur_min(
        &m.interval,
        d::METRIC_INTERVAL,
        &key("interval"),
        lim::MIN_ANALYSIS_INTERVAL,
        "one measurement per interval",
    )?;
    let max = lim::MAX_ANALYSIS_COUNT;
    let count = c.int_max(&m.count, d::METRIC_COUNT, &key("count"), 0, max)?;
    let failure_limit = c.int_max(
        &m.failure_limit,
        d::METRIC_FAILURE_LIMIT,
        &key("failure_limit"),
        0,
        max,
    )?;
    let inconclusive_limit = c.int_max(
        &m.inconclusive_limit,
        d::METRIC_INCONCLUSIVE_LIMIT,
        &key("inconclusive_limit"),
        0,
        max,
    )?;
    let consecutive_error_limit = c.int_max(
        &m.consecutive_error_limit,
        d::METRIC_CONSECUTIVE_ERROR_LIMIT,
        &key("consecutive_error_limit"),
        0,
        max,
    )?;
    let on_nan = c.choice(
        &m.on_nan,
        d::METRIC_ON_NAN,
        &key("on_nan"),
        &[
            ("failed", OnNan::Failed),
            ("successful", OnNan::Successful),
            ("inconclusive", OnNan::Inconclusive),
            ("error", OnNan::Error),
        ],
    )?;
    let judge_name = c.choice(
        &m.judge,
        false,
        &key("judge"),
        &[("threshold", false), ("mann_whitney", true)],
    )?;
    let judge = if judge_name {
        mann_whitney(c, path, m, scope, measure, window, metrics)?
    } else {
        threshold(c, path, m, measure)?
    };
    Ok(MetricSpec {
        name,
        measure,
        scope,
        window,
        interval,
        count,
        initial_delay: c.dur(&m.initial_delay, d::METRIC_INITIAL_DELAY),
        failure_limit,
        inconclusive_limit,
        consecutive_error_limit,
        on_nan,
        judge,
        dry_run: m
            .dry_run
            .as_ref()
            .map_or(d::METRIC_DRY_RUN, |v| *v.get_ref()),
    })
}

/// The `judge = "threshold"` conditions; the Kayenta keys do not belong here.
fn threshold(c: &Ctx, path: &str, m: &RawMetric, measure: Measure) -> R<Judge> {
    let stray = [
        ("baseline", span(&m.baseline)),
        ("confidence", span(&m.confidence)),
        ("tolerance", span(&m.tolerance)),
        ("direction", span(&m.direction)),
        ("min_points", span(&m.min_points)),
    ];
    if let Some((k, sp)) = stray.into_iter().find(|(_, sp)| sp.is_some()) {
        return Err(c.err(
            &format!("{path}.{k}"),
            sp,
            format!("key `{k}` belongs to judge = \"mann_whitney\" only"),
        ));
    }
    let success = condition(c, &format!("{path}.success"), &m.success, measure)?;
    let failure = condition(c, &format!("{path}.failure"), &m.failure, measure)?;
    let success = match (&m.success, &m.failure) {
        // Only the default measure has a default condition: `>= 0.99` on a latency or a
        // request rate would silently always hold.
        (None, None) if measure == Measure::SuccessRate => Some(d::METRIC_SUCCESS),
        (None, None) => {
            let name = MEASURES
                .iter()
                .find(|(_, x)| *x == measure)
                .map_or("", |(n, _)| n);
            return Err(c.err(
                &format!("{path}.success"),
                span(&m.measure),
                format!(
                    "a {name} metric needs `success` or `failure` (e.g. success = \"<= 500\" \
                     for a latency in ms)"
                ),
            ));
        }
        _ => success,
    };
    Ok(Judge::Threshold { success, failure })
}

/// Parses `">= 0.99"`: an operator (`>=`, `>`, `<=`, `<`) and a finite number; `""`
/// is no condition. A condition on a fraction measure takes a number in [0, 1].
fn condition(c: &Ctx, path: &str, v: &S<String>, measure: Measure) -> R<Option<Condition>> {
    let Some(s) = v else { return Ok(None) };
    let text = s.get_ref().trim();
    if text.is_empty() {
        return Ok(None);
    }
    let bad = |why: String| c.err(path, Some(s.span()), why);
    let (op, rest) = [(">=", Op::Ge), ("<=", Op::Le), (">", Op::Gt), ("<", Op::Lt)]
        .into_iter()
        .find_map(|(sym, op)| text.strip_prefix(sym).map(|r| (op, r)))
        .ok_or_else(|| {
            bad(format!(
                "a condition is an operator (>=, >, <=, <) and a number, like \">= 0.99\"; got \"{text}\""
            ))
        })?;
    let num = rest.trim();
    let value: f64 = num
        .parse()
        .ok()
        .filter(|x: &f64| x.is_finite())
        .ok_or_else(|| bad(format!("\"{num}\" after `{}` is not a number", op.symbol())))?;
    if measure.is_fraction() && !(0.0..=1.0).contains(&value) {
        return Err(bad(format!(
            "success_rate and error_rate are fractions in [0, 1], got {value} (write 0.99, not 99)"
        )));
    }
    if !measure.is_fraction() && value < 0.0 {
        return Err(bad(format!("the measure is never negative, got {value}")));
    }
    Ok(Some(Condition { op, value }))
}

fn mann_whitney(
    c: &Ctx,
    path: &str,
    m: &RawMetric,
    scope: Scope,
    measure: Measure,
    window: SimTime,
    metrics: &MetricsConfig,
) -> R<Judge> {
    let key = |k: &str| format!("{path}.{k}");
    for (k, v) in [("success", &m.success), ("failure", &m.failure)] {
        if let Some(s) = v {
            return Err(c.err(
                &key(k),
                Some(s.span()),
                format!(
                    "key `{k}` belongs to judge = \"threshold\": the mann_whitney judge \
                     compares the canary with its baseline (confidence, tolerance, direction)"
                ),
            ));
        }
    }
    if scope != Scope::Canary {
        return Err(c.err(
            &key("scope"),
            span(&m.scope).or(span(&m.judge)),
            "judge = \"mann_whitney\" compares the canary with a baseline: scope must be \"canary\"",
        ));
    }
    if measure == Measure::RequestRate {
        return Err(c.err(
            &key("measure"),
            span(&m.measure),
            "judge = \"mann_whitney\" compares a health measure; request_rate follows the weights",
        ));
    }
    let points = window.micros() / metrics.scrape_interval.micros().max(1);
    if points > lim::MAX_MW_POINTS {
        return Err(c.err(
            &key("window"),
            span(&m.window),
            format!(
                "{window} holds {points} scrapes of {}: above the limit of {} points per side \
                 for judge = \"mann_whitney\" (see docs/ARCHITECTURE.md, Limits)",
                metrics.scrape_interval,
                lim::MAX_MW_POINTS
            ),
        ));
    }
    let confidence = c.frac(&m.confidence, d::MW_CONFIDENCE, &key("confidence"))?;
    if confidence <= 0.0 || confidence >= 1.0 {
        return Err(c.err(
            &key("confidence"),
            span(&m.confidence),
            format!("must be strictly between 0 and 1, got {confidence}"),
        ));
    }
    Ok(Judge::MannWhitney(MannWhitney {
        baseline: c.choice(
            &m.baseline,
            d::MW_BASELINE,
            &key("baseline"),
            &[
                ("stable", Baseline::Stable),
                ("dedicated", Baseline::Dedicated),
            ],
        )?,
        confidence,
        tolerance: c.non_neg(&m.tolerance, d::MW_TOLERANCE, &key("tolerance"))?,
        direction: c.choice(
            &m.direction,
            d::MW_DIRECTION,
            &key("direction"),
            &[
                ("increase", Direction::Increase),
                ("decrease", Direction::Decrease),
                ("either", Direction::Either),
            ],
        )?,
        min_points: c.int_max(
            &m.min_points,
            d::MW_MIN_POINTS,
            &key("min_points"),
            1,
            lim::MAX_ANALYSIS_COUNT,
        )?,
    }))
}

/// A template name that must exist.
fn lookup(
    c: &Ctx,
    path: &str,
    sp: Option<std::ops::Range<usize>>,
    name: &str,
    spec: &AnalysisSpec,
) -> R<TemplateId> {
    spec.template(name).ok_or_else(|| {
        let known: Vec<String> = spec
            .templates
            .iter()
            .map(|t| format!("\"{}\"", t.name))
            .collect();
        let known = if known.is_empty() {
            "there is no [[analysis]] template".to_string()
        } else {
            format!("templates: {}", known.join(", "))
        };
        c.err(
            path,
            sp,
            format!("unknown analysis template \"{name}\" ({known})"),
        )
    })
}

/// The analyses strategy `i` runs. Which keys a kind takes was checked with the
/// others (`validate::keys_of`); here: the form of each and the names.
fn strategy(
    c: &Ctx,
    i: usize,
    rs: &RawStrategy,
    st: &Strategy,
    spec: &AnalysisSpec,
) -> R<StrategyAnalysis> {
    let key = |k: &str| format!("strategy[{i}].{k}");
    let mut out = StrategyAnalysis::default();
    if let Some(a) = &rs.analysis {
        match (a.get_ref(), &st.kind) {
            (
                RawAnalysisRef::Background {
                    templates,
                    start_step,
                },
                StrategyKind::Canary(p),
            ) => {
                for t in templates {
                    out.background.push(lookup(
                        c,
                        &key("analysis.templates"),
                        Some(a.span()),
                        t,
                        spec,
                    )?);
                }
                if templates.is_empty() {
                    return Err(c.err(
                        &key("analysis.templates"),
                        Some(a.span()),
                        "names at least one [[analysis]] template",
                    ));
                }
                let n = start_step.unwrap_or(i64::from(d::CANARY_ANALYSIS_START_STEP));
                let steps = p.steps.len() as i64;
                if n < 0 || (n > 0 && n >= steps) {
                    return Err(c.err(
                        &key("analysis.start_step"),
                        Some(a.span()),
                        format!(
                            "start_step is a step index in 0..{steps} (the canary has {steps} steps), got {n}"
                        ),
                    ));
                }
                out.start_step = n as u32;
            }
            (RawAnalysisRef::Name(_), StrategyKind::Canary(_)) => {
                return Err(c.err(
                    &key("analysis"),
                    Some(a.span()),
                    "a canary's background analysis is written \
                     analysis = { templates = [\"name\"], start_step = 0 }; an inline one is a step { analysis = \"name\" }",
                ));
            }
            (RawAnalysisRef::Name(name), _) => {
                if st.rollback != Rollback::Auto {
                    return Err(c.err(
                        &key("analysis"),
                        Some(a.span()),
                        format!(
                            "a pipeline analysis acts only with rollback = \"auto\" (this strategy has \"{}\")",
                            st.rollback.name()
                        ),
                    ));
                }
                out.pipeline = Some(lookup(c, &key("analysis"), Some(a.span()), name, spec)?);
            }
            (RawAnalysisRef::Background { .. }, _) => {
                return Err(c.err(
                    &key("analysis"),
                    Some(a.span()),
                    format!(
                        "strategy kind \"{}\" takes analysis = \"template\" (the table form is the canary's)",
                        st.kind.name()
                    ),
                ));
            }
        }
    }
    if let (StrategyKind::Canary(p), Some(raw_steps)) = (&st.kind, &rs.steps) {
        for (j, step) in raw_steps.get_ref().iter().enumerate() {
            if let Some(a) = &step.get_ref().analysis
                && let RawStepAnalysis::Template(name) = a.get_ref()
            {
                debug_assert_eq!(p.steps[j], CanaryStep::Analysis);
                let id = lookup(
                    c,
                    &key(&format!("steps[{j}].analysis")),
                    Some(a.span()),
                    name,
                    spec,
                )?;
                out.steps.resize(p.steps.len(), None);
                out.steps[j] = Some(id);
            }
        }
    }
    for (k, v, slot) in [
        (
            "pre_promotion_analysis",
            &rs.pre_promotion_analysis,
            &mut out.pre_promotion,
        ),
        (
            "post_promotion_analysis",
            &rs.post_promotion_analysis,
            &mut out.post_promotion,
        ),
    ] {
        if let Some(s) = v {
            *slot = Some(lookup(c, &key(k), Some(s.span()), s.get_ref(), spec)?);
        }
    }
    if let Some(list) = &rs.metrics {
        out.flagger_metrics = list
            .get_ref()
            .iter()
            .enumerate()
            .map(|(j, m)| flagger_metric(c, &key(&format!("metrics[{j}]")), m, spec))
            .collect::<R<Vec<_>>>()?;
    }
    Ok(out)
}

/// One flagger `metrics` entry: a built-in with its range, or a template by name.
fn flagger_metric(
    c: &Ctx,
    path: &str,
    sm: &Spanned<RawFlaggerMetric>,
    spec: &AnalysisSpec,
) -> R<FlaggerMetric> {
    let m = sm.get_ref();
    let key = |k: &str| format!("{path}.{k}");
    let name = c.name(&m.name, &key("name"), Some(sm.span()))?;
    let bound = |v: &S<f64>, k: &str| -> R<Option<f64>> {
        v.as_ref().map(|_| c.non_neg(v, 0.0, &key(k))).transpose()
    };
    let (min, max) = (bound(&m.min, "min")?, bound(&m.max, "max")?);
    let check = match name.as_str() {
        "request-success-rate" => FlaggerCheck::SuccessRate,
        "request-duration" => FlaggerCheck::Duration,
        other => match spec.template(other) {
            Some(t) => FlaggerCheck::Template(t),
            None => {
                return Err(c.err(
                    &key("name"),
                    span(&m.name),
                    format!(
                        "unknown flagger metric \"{other}\": the built-ins are \
                         \"request-success-rate\" and \"request-duration\"; another name must be an [[analysis]] template"
                    ),
                ));
            }
        },
    };
    match check {
        FlaggerCheck::Template(_) => {
            if let Some(sp) = span(&m.min).or(span(&m.max)) {
                return Err(c.err(
                    &key(if m.min.is_some() { "min" } else { "max" }),
                    Some(sp),
                    "a template's own success/failure conditions judge it: min and max belong to the built-ins",
                ));
            }
        }
        _ if min.is_none() && max.is_none() => {
            return Err(c.err(
                path,
                Some(sm.span()),
                format!("flagger metric \"{name}\" needs min or max (its threshold range)"),
            ));
        }
        _ => {}
    }
    if check == FlaggerCheck::SuccessRate
        && let Some((k, v)) = [("min", min), ("max", max)]
            .into_iter()
            .find(|(_, v)| v.is_some_and(|x| x > 100.0))
    {
        return Err(c.err(
            &key(k),
            span(if k == "min" { &m.min } else { &m.max }),
            format!(
                "request-success-rate is a percentage in 0..=100, got {}",
                v.unwrap_or(0.0)
            ),
        ));
    }
    if let (Some(lo), Some(hi)) = (min, max)
        && lo > hi
    {
        return Err(c.err(
            &key("min"),
            span(&m.min),
            format!("min ({lo}) is above max ({hi})"),
        ));
    }
    Ok(FlaggerMetric {
        name,
        check,
        min,
        max,
        window: c.dur_min(
            &m.interval,
            d::FLAGGER_METRIC_INTERVAL,
            &key("interval"),
            lim::MIN_ANALYSIS_INTERVAL,
            "the query's range",
        )?,
    })
}
