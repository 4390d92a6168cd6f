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

/// One statistic of one metric column: a line of `summary.csv` without its identity
/// columns (`report::summary::StatRow` adds them).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ColumnStat {
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

impl ColumnStat {
    fn new(stat: &'static str, n: u64, n_censored: u64, interval: Interval) -> ColumnStat {
        ColumnStat {
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
    pub fn rows(&self, level: f64) -> [ColumnStat; 5] {
        let observed: Vec<f64> = self.values.iter().flatten().copied().collect();
        let n_censored = match self.censoring {
            Censoring::NotApplicable => 0,
            Censoring::AtHorizon { .. } => (self.values.len() - observed.len()) as u64,
        };
        let n = observed.len() as u64 + n_censored;

        let mean = match self.censoring {
            Censoring::NotApplicable => {
                ColumnStat::new("mean", n, n_censored, mean_ci(&observed, level))
            }
            Censoring::AtHorizon { cap_s } => ColumnStat {
                note: (n_censored > 0).then_some(Note::RestrictedMean),
                ..ColumnStat::new(
                    "mean",
                    n,
                    n_censored,
                    restricted_mean(&self.values, cap_s, level),
                )
            },
        };

        let mut sorted = observed;
        sorted.sort_by(f64::total_cmp);
        let [p50, p95, p99] = QUANTILES.map(|(stat, q)| {
            let qt = quantile(&sorted, n_censored, q, level);
            let mut row = ColumnStat::new(stat, n, n_censored, qt.interval);
            row.note = if qt.estimate_censored {
                Some(Note::BeyondHorizon)
            } else if qt.high_censored {
                Some(Note::HighBeyondHorizon)
            } else {
                None
            };
            row
        });

        let mut max = ColumnStat::new("max", n, n_censored, Interval::EMPTY);
        if n_censored > 0 {
            max.note = Some(Note::BeyondHorizon);
        } else {
            max.estimate = sorted.last().copied();
        }

        [mean, p50, p95, p99, max]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Row = (
        &'static str,
        u64,
        u64,
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<Note>,
    );

    fn shape(row: &ColumnStat) -> Row {
        let round = |x: Option<f64>| x.map(|x| (x * 1e9).round() / 1e9);
        (
            row.stat,
            row.n,
            row.n_censored,
            round(row.estimate),
            round(row.ci_low),
            round(row.ci_high),
            row.note,
        )
    }

    fn check(column: &MetricColumn, want: [Row; 5]) {
        let rows = column.rows(0.95);
        for row in &rows {
            let parts = [row.estimate, row.ci_low, row.ci_high];
            assert!(parts.iter().flatten().all(|x| x.is_finite()), "{row:?}");
        }
        assert_eq!(rows.map(|r| shape(&r)), want);
    }

    /// Values 1..=k pushed in a scrambled seed order, so sorting is exercised.
    fn scrambled(k: u32) -> impl Iterator<Item = f64> {
        (0..k).map(move |i| f64::from((i * 37) % k + 1))
    }

    #[test]
    fn plain_column() {
        // 1..=100 plus two runs where the metric does not apply. Mean 50.5 with
        // scipy.stats.t.interval(0.95, 99, loc=50.5, scale=std(ddof=1)/10) =
        // (44.74349058306416, 56.25650941693584). Quantile ranks from the binomial
        // (see quantile.rs): p50 (40, 61), p95 (90, 100), p99 (97, none).
        let mut column = MetricColumn::new(Censoring::NotApplicable);
        column.push(None);
        scrambled(100).for_each(|x| column.push(Some(x)));
        column.push(None);
        assert_eq!(column.len(), 102);
        check(
            &column,
            [
                (
                    "mean",
                    100,
                    0,
                    Some(50.5),
                    Some(44.743490583),
                    Some(56.256509417),
                    None,
                ),
                ("p50", 100, 0, Some(50.0), Some(40.0), Some(61.0), None),
                ("p95", 100, 0, Some(95.0), Some(90.0), Some(100.0), None),
                ("p99", 100, 0, Some(99.0), Some(97.0), None, None),
                ("max", 100, 0, Some(100.0), None, None, None),
            ],
        );
    }

    #[test]
    fn censored_column() {
        // 1..=90 observed, 10 censored at a 120 s horizon. Restricted mean
        // (4095 + 1200) / 100 = 52.95, scipy.stats.t.interval as above =
        // (46.31508948109169, 59.584910518908316). p95 has rank 95 > 90: censored; the p99 lower
        // bound's rank 97 is censored too.
        let mut column = MetricColumn::new(Censoring::AtHorizon { cap_s: 120.0 });
        scrambled(90).for_each(|x| column.push(Some(x)));
        (0..10).for_each(|_| column.push(None));
        let beyond = Some(Note::BeyondHorizon);
        check(
            &column,
            [
                (
                    "mean",
                    100,
                    10,
                    Some(52.95),
                    Some(46.315089481),
                    Some(59.584910519),
                    Some(Note::RestrictedMean),
                ),
                ("p50", 100, 10, Some(50.0), Some(40.0), Some(61.0), None),
                ("p95", 100, 10, None, Some(90.0), None, beyond),
                ("p99", 100, 10, None, None, None, beyond),
                ("max", 100, 10, None, None, None, beyond),
            ],
        );
    }

    #[test]
    fn upper_bound_among_censored_is_noted() {
        let mut column = MetricColumn::new(Censoring::AtHorizon { cap_s: 600.0 });
        scrambled(55).for_each(|x| column.push(Some(x)));
        (0..45).for_each(|_| column.push(None));
        let p50 = column.rows(0.95)[1];
        assert_eq!(
            shape(&p50),
            (
                "p50",
                100,
                45,
                Some(50.0),
                Some(40.0),
                None,
                Some(Note::HighBeyondHorizon)
            )
        );
    }

    #[test]
    fn uncensored_time_column_has_plain_mean() {
        let mut column = MetricColumn::new(Censoring::AtHorizon { cap_s: 120.0 });
        column.push(Some(4.0));
        let rows = column.rows(0.95);
        assert_eq!(shape(&rows[0]), ("mean", 1, 0, Some(4.0), None, None, None));
        assert_eq!(shape(&rows[4]), ("max", 1, 0, Some(4.0), None, None, None));
    }

    #[test]
    fn empty_and_all_censored() {
        let empty = MetricColumn::new(Censoring::NotApplicable);
        assert!(empty.is_empty());
        let rows = empty.rows(0.95).map(|r| shape(&r));
        for (row, stat) in rows.iter().zip(["mean", "p50", "p95", "p99", "max"]) {
            assert_eq!(*row, (stat, 0, 0, None, None, None, None));
        }

        let mut only_na = MetricColumn::new(Censoring::NotApplicable);
        only_na.push(None);
        assert_eq!(only_na.rows(0.95)[0].n, 0);

        let mut censored = MetricColumn::new(Censoring::AtHorizon { cap_s: 300.0 });
        (0..8).for_each(|_| censored.push(None));
        let beyond = Some(Note::BeyondHorizon);
        check(
            &censored,
            [
                (
                    "mean",
                    8,
                    8,
                    Some(300.0),
                    Some(300.0),
                    Some(300.0),
                    Some(Note::RestrictedMean),
                ),
                ("p50", 8, 8, None, None, None, beyond),
                ("p95", 8, 8, None, None, None, beyond),
                ("p99", 8, 8, None, None, None, beyond),
                ("max", 8, 8, None, None, None, beyond),
            ],
        );
    }

    #[test]
    fn equal_values() {
        let mut column = MetricColumn::new(Censoring::NotApplicable);
        (0..10).for_each(|_| column.push(Some(2.5)));
        let rows = column.rows(0.95).map(|r| shape(&r));
        assert_eq!(
            rows[0],
            ("mean", 10, 0, Some(2.5), Some(2.5), Some(2.5), None)
        );
        // n = 10: median ranks (2, 9), as B(1) = 11/1024 ≤ 0.025 < B(2) = 56/1024 and
        // B(7) = 968/1024 < 0.975 ≤ B(8) = 1013/1024.
        assert_eq!(
            rows[1],
            ("p50", 10, 0, Some(2.5), Some(2.5), Some(2.5), None)
        );
        assert_eq!(rows[4], ("max", 10, 0, Some(2.5), None, None, None));
    }
}
