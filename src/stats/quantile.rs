//! Quantile estimates and distribution-free order-statistic confidence intervals for
//! right-censored samples.
//!
//! A sample is `n_observed` sorted values plus `n_censored` values known only to be
//! larger than every observed one (the event had not happened by the horizon). Ranks
//! are 1-based over all `n = n_observed + n_censored` values; ranks above
//! `n_observed` fall among the censored values and have no known value.

use super::dist::binomial_cdf;
use super::{Interval, upper_prob};

/// Relative distance within which `q · n` counts as an integer, so that rounding in
/// the product (`0.07 · 100 = 7.000000000000001`) cannot move a rank up by one.
const RANK_SLACK: f64 = 1e-9;

/// The rank of the `q`-quantile estimate among `n` sorted values: `⌈q · n⌉`, at least
/// 1 (the type-1 inverse of the empirical CDF, Hyndman & Fan 1996, *The American
/// Statistician* 50:361). It is always an observed order statistic, never an
/// interpolation, so it stays meaningful next to censored values. For even `n` the
/// median is the lower of the two middle values.
///
/// `None` for `n = 0` or `q` outside (0, 1].
pub fn estimate_rank(n: u64, q: f64) -> Option<u64> {
    if n == 0 || q.is_nan() || q <= 0.0 || q > 1.0 {
        return None;
    }
    let x = q * n as f64;
    let nearest = x.round();
    let rank = if (x - nearest).abs() <= RANK_SLACK * x.max(1.0) {
        nearest
    } else {
        x.ceil()
    };
    Some((rank as u64).clamp(1, n))
}

/// The ranks `(l, u)` of a distribution-free confidence interval
/// `[x_(l), x_(u)]` for the `q`-quantile ξ_q at `level` (Conover, *Practical
/// Nonparametric Statistics*, §3.2; David & Nagaraja, *Order Statistics*, §7.1).
///
/// The number `K` of values at or below ξ_q is binomial(n, q), and
/// `P(x_(l) ≤ ξ_q < x_(u)) = P(l ≤ K < u) = B(u − 1) − B(l − 1)` with `B` the
/// binomial CDF ([`binomial_cdf`], exact, log space). With `α = 1 − level`, `l` is the
/// largest rank with `B(l − 1) ≤ α/2` and `u` the smallest with `B(u − 1) ≥ 1 − α/2`,
/// so each tail misses with probability at most α/2 and the coverage is at least
/// `level` (conservative for ties). A bound is `None` when no rank in `1..=n` meets
/// its condition, i.e. when `n` is too small: `(1 − q)^n > α/2` for `l`, `q^n > α/2`
/// for `u`. Both are `None` for `q` outside (0, 1) or `level` outside (0, 1).
///
/// Check: `n = 100, q = ½, level = 0.95` gives `(40, 61)`, the tabulated interval.
pub fn order_stat_ranks(n: u64, q: f64, level: f64) -> (Option<u64>, Option<u64>) {
    let valid_q = q > 0.0 && q < 1.0;
    let Some(upper) = upper_prob(level).filter(|_| valid_q && n > 0) else {
        return (None, None);
    };
    let lower = 1.0 - upper;
    let cdf = binomial_cdf(n, q);
    // cdf[k] = B(k) = P(K ≤ k); rank r uses B(r − 1) = cdf[r − 1].
    let below = cdf[..n as usize].partition_point(|&b| b <= lower);
    let l = (below > 0).then_some(below as u64);
    let u = cdf[..n as usize]
        .iter()
        .position(|&b| b >= upper)
        .map(|i| i as u64 + 1);
    (l, u)
}

/// A quantile estimate with its order-statistic interval, and whether parts of it
/// fall among the censored values.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Quantile {
    pub interval: Interval,
    /// The estimate's rank is above `n_observed`: the quantile lies beyond the
    /// horizon, so estimate and upper bound are `None`.
    pub estimate_censored: bool,
    /// The upper bound's rank is above `n_observed`: it lies beyond the horizon.
    pub high_censored: bool,
}

/// The `q`-quantile of `sorted_observed` (ascending) together with `n_censored`
/// values larger than all of them: the estimate at [`estimate_rank`] and the bounds
/// at [`order_stat_ranks`], each the observed value of that rank, or `None` when the
/// rank is absent or falls among the censored values.
pub fn quantile(sorted_observed: &[f64], n_censored: u64, q: f64, level: f64) -> Quantile {
    debug_assert!(
        sorted_observed.is_sorted_by(|a, b| a <= b),
        "input not sorted"
    );
    let n_observed = sorted_observed.len() as u64;
    let n = n_observed + n_censored;
    let at = |rank: Option<u64>| {
        rank.filter(|&r| r <= n_observed)
            .map(|r| sorted_observed[(r - 1) as usize])
    };
    let censored = |rank: Option<u64>| rank.is_some_and(|r| r > n_observed);
    let rank = estimate_rank(n, q);
    let (l, u) = order_stat_ranks(n, q, level);
    Quantile {
        interval: Interval {
            estimate: at(rank),
            low: at(l),
            high: at(u),
        },
        estimate_censored: censored(rank),
        high_censored: censored(u),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn estimate_rank_is_type_1() {
        let table = [
            (100, 0.5, Some(50)),
            (101, 0.5, Some(51)),
            (100, 0.07, Some(7)), // 0.07 · 100 rounds to 7.000000000000001
            (20, 0.95, Some(19)),
            (1, 0.99, Some(1)),
            (10, 1.0, Some(10)),
            (1000, 0.001, Some(1)),
            (0, 0.5, None),
            (10, 0.0, None),
            (10, f64::NAN, None),
        ];
        for (n, q, want) in table {
            assert_eq!(estimate_rank(n, q), want, "n {n}, q {q}");
        }
    }

    #[test]
    fn order_stat_ranks_match_binomial_tables() {
        // (40, 61) for n = 100, q = ½ is the tabulated 95% interval for the median
        // (Conover, Table A3; coverage 0.9648). The rest: l = max{r : B(r−1) ≤ 0.025},
        // u = min{r : B(r−1) ≥ 0.975} from scipy.stats.binom.cdf(arange(n + 1), n, q).
        let table = [
            (100, 0.5, (Some(40), Some(61))),
            (10_000, 0.5, (Some(4902), Some(5099))),
            (1000, 0.99, (Some(983), Some(997))),
            (20, 0.95, (Some(17), None)),
            (59, 0.95, (Some(52), None)),
            // n = 6: (½)⁶ = 0.0156 ≤ 0.025, so min and max bound the median.
            (6, 0.5, (Some(1), Some(6))),
            // n = 5: (½)⁵ = 0.03125 > 0.025, too few for either bound.
            (5, 0.5, (None, None)),
            (0, 0.5, (None, None)),
            (100, 1.0, (None, None)),
        ];
        for (n, q, want) in table {
            assert_eq!(order_stat_ranks(n, q, 0.95), want, "n {n}, q {q}");
        }
        assert_eq!(order_stat_ranks(100, 0.5, 1.0), (None, None));
    }

    fn ints(range: std::ops::RangeInclusive<u32>) -> Vec<f64> {
        range.map(f64::from).collect()
    }

    #[test]
    fn quantile_with_censoring() {
        // Values 1..=k with rank = value, plus censored ones: the median of n = 100
        // has rank 50 and bounds at ranks (40, 61).
        let q = quantile(&ints(1..=90), 10, 0.5, 0.95);
        assert_eq!(
            q.interval,
            Interval {
                estimate: Some(50.0),
                low: Some(40.0),
                high: Some(61.0)
            }
        );
        assert!(!q.estimate_censored && !q.high_censored);

        let q = quantile(&ints(1..=55), 45, 0.5, 0.95);
        assert_eq!(
            q.interval,
            Interval {
                estimate: Some(50.0),
                low: Some(40.0),
                high: None
            }
        );
        assert!(!q.estimate_censored && q.high_censored);

        let q = quantile(&ints(1..=45), 55, 0.5, 0.95);
        assert_eq!(
            q.interval,
            Interval {
                estimate: None,
                low: Some(40.0),
                high: None
            }
        );
        assert!(q.estimate_censored && q.high_censored);

        let q = quantile(&ints(1..=90), 10, 0.95, 0.95);
        assert_eq!(q.interval.estimate, None);
        assert!(q.estimate_censored);
    }

    #[test]
    fn quantile_edges() {
        assert_eq!(quantile(&[], 0, 0.5, 0.95), Quantile::default());
        let all_censored = quantile(&[], 10, 0.5, 0.95);
        assert_eq!(all_censored.interval, Interval::EMPTY);
        assert!(all_censored.estimate_censored);
        assert_eq!(
            quantile(&[5.0], 0, 0.5, 0.95).interval,
            Interval::point(5.0)
        );
        let flat = quantile(&[3.0; 100], 0, 0.5, 0.95).interval;
        assert_eq!(
            flat,
            Interval {
                estimate: Some(3.0),
                low: Some(3.0),
                high: Some(3.0)
            }
        );
        // 0.99¹⁰⁰ = 0.366 > 0.025: no rank of 100 is high enough for an upper bound.
        let p99 = quantile(&[3.0; 100], 0, 0.99, 0.95);
        assert_eq!(
            p99.interval,
            Interval {
                estimate: Some(3.0),
                low: Some(3.0),
                high: None
            }
        );
        assert!(!p99.high_censored);
    }

    proptest! {
        #[test]
        fn interval_brackets_estimate(
            mut values in prop::collection::vec(-1e6f64..1e6, 0..400),
            n_censored in 0u64..60,
            q in 0.001f64..0.999,
        ) {
            values.sort_by(f64::total_cmp);
            let qt = quantile(&values, n_censored, q, 0.95);
            let Interval { estimate, low, high } = qt.interval;
            if let (Some(l), Some(e)) = (low, estimate) {
                prop_assert!(l <= e);
            }
            if let (Some(e), Some(h)) = (estimate, high) {
                prop_assert!(e <= h);
            }
            let n = values.len() as u64 + n_censored;
            let r = estimate_rank(n, q);
            let (l, u) = order_stat_ranks(n, q, 0.95);
            prop_assert!(l.is_none_or(|l| Some(l) <= r));
            prop_assert!(u.is_none_or(|u| r.is_some_and(|r| r <= u)));
            prop_assert_eq!(qt.estimate_censored, estimate.is_none() && n > 0);
        }
    }
}
