//! Analysis as the real tools do it (DESIGN.md §9): the metrics pipeline a controller
//! queries (`store`), the judges that turn a query into a measurement (`judge`:
//! Argo's thresholds, Kayenta's Mann–Whitney, Flagger's ranges) and the AnalysisRun
//! that schedules and tallies measurements (`run`).
//!
//! Below `strategy` and the run loop, above `metrics` (whose per-second counters it
//! reads through `store::Counters`), `stats` and `scenario` (the validated
//! `scenario::analysis` model). Pure and I/O-free: no clock, no file, no thread; its
//! only randomness is the store's query-failure stream, passed in. It never touches
//! requests: a query reads per-second counters the collector already keeps, so
//! analysis adds no work to the request hot loop.
//!
//! Use: one `Store` per run, fed `add_target` / `remove_target` as pods come and go;
//! one `AnalysisRun` per started template; at each `next_due`, `measure` every `due`
//! metric and `record` its outcome.

pub mod judge;
pub mod run;
pub mod store;

pub use judge::{Comparison, Outcome};
pub use run::{AnalysisRun, Phase, Tally};
pub use store::{Counters, QueryResult, Series, Store, TargetId};

use crate::scenario::analysis::{
    AnalysisSpec, Baseline, FlaggerCheck, FlaggerMetric, Judge, Measure, MetricSpec, Quantile,
    Scope,
};
use crate::sim::SimTime;
use crate::stats::rank::Shift;

/// One measurement of a metric.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measurement {
    pub outcome: Outcome,
    /// The query's value (threshold judge; NaN possible); `None` for an error or an
    /// empty vector, and for the Mann–Whitney judge (see `shift`).
    pub value: Option<f64>,
    /// Mann–Whitney: the shift canary − baseline and its interval, when computed.
    pub shift: Option<Shift>,
    /// Mann–Whitney: the points on the canary and baseline sides.
    pub points: Option<(usize, usize)>,
}

/// Measures `metric` at `now`: one query (threshold) or one pair of range queries
/// (Mann–Whitney: the canary's per-scrape points against the baseline's, `Stable`
/// reading the old version, `Dedicated` the `Series::Baseline` counters). A failed
/// query is an Error measurement.
pub fn measure(
    store: &mut Store,
    counters: &impl Counters,
    metric: &MetricSpec,
    now: SimTime,
) -> Measurement {
    match &metric.judge {
        Judge::Threshold { success, failure } => {
            let result = store.query(counters, metric.measure, metric.scope, metric.window, now);
            Measurement {
                outcome: judge::threshold(result, *success, *failure, metric.on_nan),
                value: match result {
                    QueryResult::Value(v) => Some(v),
                    _ => None,
                },
                shift: None,
                points: None,
            }
        }
        Judge::MannWhitney(mw) => {
            let baseline = match mw.baseline {
                Baseline::Stable => Series::Version(0),
                Baseline::Dedicated => Series::Baseline,
            };
            let canary = store.points(
                counters,
                metric.measure,
                Series::Version(1),
                metric.window,
                now,
            );
            let base = store.points(counters, metric.measure, baseline, metric.window, now);
            let (Some(canary), Some(base)) = (canary, base) else {
                return Measurement {
                    outcome: Outcome::Error,
                    value: None,
                    shift: None,
                    points: None,
                };
            };
            let c = judge::mann_whitney(&canary, &base, mw);
            Measurement {
                outcome: c.outcome,
                value: None,
                shift: c.shift,
                points: Some((canary.len(), base.len())),
            }
        }
    }
}

/// One Flagger check of `metric` at `now` (scope canary, as Flagger queries the canary
/// workload): built-ins as Flagger defines them (success rate in percent, p99 duration
/// in ms) against the range; a template passes when each of its metrics measures
/// Successful now. `spec` resolves template references.
pub fn flagger_check(
    store: &mut Store,
    counters: &impl Counters,
    metric: &FlaggerMetric,
    spec: &AnalysisSpec,
    now: SimTime,
) -> bool {
    let builtin = |store: &mut Store, measure: Measure, scale: f64| {
        let r = store.query(counters, measure, Scope::Canary, metric.window, now);
        let r = match r {
            QueryResult::Value(v) => QueryResult::Value(v * scale),
            other => other,
        };
        judge::flagger(r, metric.min, metric.max)
    };
    match metric.check {
        FlaggerCheck::SuccessRate => builtin(store, Measure::SuccessRate, 100.0),
        FlaggerCheck::Duration => builtin(store, Measure::LatencyQuantile(Quantile::P99), 1.0),
        FlaggerCheck::Template(t) => spec.templates[t]
            .metrics
            .iter()
            .all(|m| measure(store, counters, m, now).outcome == Outcome::Successful),
    }
}
