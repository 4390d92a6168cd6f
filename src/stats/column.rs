//! One metric's values over the seeds of a subset, and the summary rows
//! (`mean`, `p50`, `p95`, `p99`, `max`) that DESIGN.md §6 asks of it.
//!
//! Keeps the values in seed order so that means are summed in that order and so that
//! paired comparisons can line two strategies up by seed. Does not format or write.

use super::Interval;
use super::interval::{mean_ci, restricted_mean};
use super::quantile::quantile;

/// What an empty cell (`None`) means for a metric.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Censoring {
    /// The value does not apply to that run (e.g. `exposure_end_s` of a healthy
    /// release); the run is left out of every statistic.
    NotApplicable,
    /// A time that had not happened by the horizon (right-censored). The run still
    /// counts: larger than any observed value for quantiles, `cap_s` for the mean.
    AtHorizon {
        /// `duration − deploy_at` in seconds.
        cap_s: f64,
    },
}

/// Why a row is shaped as it is; written next to the numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Note {
    /// The mean counts censored values as the horizon (a restricted mean).
    RestrictedMean,
    /// The estimate's rank falls among the censored values: it lies beyond the
    /// horizon and is left empty, as is the upper bound.
    BeyondHorizon,
    /// The upper bound's rank falls among the censored values and is left empty.
    HighBeyondHorizon,
}

impl Note {
    pub fn as_str(self) -> &'static str {
        match self {
            Note::RestrictedMean => "restricted mean: censored values count as the horizon",
            Note::BeyondHorizon => "beyond the horizon: falls among censored values",
            Note::HighBeyondHorizon => "upper bound beyond the horizon",
        }
    }
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of `summary.csv` for one metric, minus the identity columns.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StatRow {
    /// `mean`, `p50`, `p95`, `p99` or `max`.
    pub stat: &'static str,
    /// Runs counted, censored ones included.
    pub n: u64,
    /// Runs whose time had not happened by the horizon.
    pub n_censored: u64,
    pub estimate: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub note: Option<Note>,
}

impl StatRow {
    fn new(stat: &'static str, n: u64, n_censored: u64, interval: Interval) -> StatRow {
        StatRow {
            stat,
            n,
            n_censored,
            estimate: interval.estimate,
            ci_low: interval.low,
            ci_high: interval.high,
            note: None,
        }
    }
}

/// The quantile statistics, in row order.
const QUANTILES: [(&str, f64); 3] = [("p50", 0.5), ("p95", 0.95), ("p99", 0.99)];

/// A metric's values over the seeds of one (strategy, subset), pushed in seed order.
#[derive(Clone, Debug)]
pub struct MetricColumn {
    values: Vec<Option<f64>>,
    censoring: Censoring,
}

impl MetricColumn {
    pub fn new(censoring: Censoring) -> MetricColumn {
        MetricColumn {
            values: Vec::new(),
            censoring,
        }
    }

    /// Appends the next seed's value. A NaN is a bug upstream; it is kept out of the
    /// statistics as an empty cell rather than poisoning them.
    pub fn push(&mut self, value: Option<f64>) {
        debug_assert!(value.is_none_or(|v| !v.is_nan()), "NaN metric value");
        self.values.push(value.filter(|v| !v.is_nan()));
    }

    /// The values in seed order, e.g. for [`super::paired`].
    pub fn values(&self) -> &[Option<f64>] {
        &self.values
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The rows `mean`, `p50`, `p95`, `p99`, `max` at confidence `level`.
    ///
    /// `n` counts the runs a statistic is about: present values, plus censored ones
    /// under [`Censoring::AtHorizon`]. Means are t-intervals, restricted means when
    /// anything is censored; quantiles are type-1 estimates with order-statistic
    /// intervals (see [`super::quantile()`]); `max` has no interval and is empty when
    /// anything is censored.
    pub fn rows(&self, level: f64) -> [StatRow; 5] {
        let observed: Vec<f64> = self.values.iter().flatten().copied().collect();
        let n_censored = match self.censoring {
            Censoring::NotApplicable => 0,
            Censoring::AtHorizon { .. } => (self.values.len() - observed.len()) as u64,
        };
        let n = observed.len() as u64 + n_censored;

        let mean = match self.censoring {
            Censoring::AtHorizon { cap_s } if n_censored > 0 => StatRow {
                note: Some(Note::RestrictedMean),
                ..StatRow::new(
                    "mean",
                    n,
                    n_censored,
                    restricted_mean(&self.values, cap_s, level),
                )
            },
            _ => StatRow::new("mean", n, n_censored, mean_ci(&observed, level)),
        };

        let mut sorted = observed;
        sorted.sort_by(f64::total_cmp);
        let [p50, p95, p99] = QUANTILES.map(|(stat, q)| {
            let qt = quantile(&sorted, n_censored, q, level);
            let mut row = StatRow::new(stat, n, n_censored, qt.interval);
            row.note = if qt.estimate_censored {
                Some(Note::BeyondHorizon)
            } else if qt.high_censored {
                Some(Note::HighBeyondHorizon)
            } else {
                None
            };
            row
        });

        let mut max = StatRow::new("max", n, n_censored, Interval::EMPTY);
        if n_censored > 0 {
            max.note = Some(Note::BeyondHorizon);
        } else {
            max.estimate = sorted.last().copied();
        }

        [mean, p50, p95, p99, max]
    }
}
