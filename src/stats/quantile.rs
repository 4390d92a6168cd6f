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
