//! Summary statistics for the sweep (DESIGN.md §6): t-intervals for means, Wilson
//! intervals for rates, distribution-free order-statistic intervals for quantiles of
//! right-censored metrics, restricted means, and paired per-seed comparisons; and the
//! two-sample rank statistics Kayenta's canary judge uses (`rank`: Mann–Whitney U,
//! Hodges–Lehmann shift and its Moses interval).
//!
//! Pure functions of the values they are given: no I/O, no clock, no threads, no
//! randomness. Callers pass values in seed order and every sum runs in that order, so
//! results are byte-identical however the sweep was scheduled. An interval bound that
//! cannot be computed is `None`, never NaN. Pooled latency percentiles come from merged
//! histograms elsewhere, not from here.

pub mod column;
pub mod dist;
pub mod interval;
pub mod paired;
pub mod quantile;
pub mod rank;

pub use column::{Censoring, ColumnStat, MetricColumn, Note};
pub use dist::t_quantile;
pub use interval::{mean_ci, restricted_mean, wilson};
pub use paired::{Paired, paired};
pub use quantile::{Quantile, estimate_rank, order_stat_ranks, quantile};

/// The confidence level of every interval in the summary (DESIGN.md §6).
pub const LEVEL: f64 = 0.95;

/// A point estimate with a two-sided confidence interval. Any part may be absent
/// (too few values, or a value beyond the horizon); absent parts are `None`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Interval {
    pub estimate: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

impl Interval {
    /// No estimate and no bounds.
    pub const EMPTY: Interval = Interval {
        estimate: None,
        low: None,
        high: None,
    };

    /// An estimate without bounds.
    pub fn point(estimate: f64) -> Interval {
        Interval {
            estimate: Some(estimate),
            ..Interval::EMPTY
        }
    }
}

/// The upper probability `(1 + level) / 2` of a two-sided interval at `level`, or
/// `None` when `level` is not strictly between 0 and 1.
fn upper_prob(level: f64) -> Option<f64> {
    (level > 0.0 && level < 1.0).then_some(0.5 * (1.0 + level))
}
