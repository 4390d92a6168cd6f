//! Rank statistics for two independent samples: the Mann–Whitney U (Wilcoxon
//! rank-sum) test, the Hodges–Lehmann estimate of the shift between them and its
//! distribution-free (Moses) confidence interval. Kayenta's canary judge reads these
//! (`analysis::judge`).
//!
//! Conventions follow R's `wilcox.test(x, y, conf.int = TRUE)`: `U` counts the pairs
//! with `x_i > y_j` (ties count ½), the shift is `x − y` (canary minus baseline). The
//! test is exact when both samples are smaller than 50 and nothing is tied (the null
//! distribution of U counted as the coefficients of the Gaussian binomial
//! `[m+n choose m]_q`, in integers); otherwise the normal approximation with the tie
//! correction of the variance and a continuity correction of ½. Pure functions of
//! their inputs: no I/O, no randomness; each call allocates its pairwise differences
//! (m·n values), so callers invoke it per measurement, never per request.

use super::dist::normal_upper_tail;
use crate::sim::rng::normal_quantile;

/// Samples smaller than this on both sides (and without ties) get the exact test.
pub const EXACT_BELOW: usize = 50;

/// The outcome of a two-sided rank-sum test of `x` against `y`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RankSum {
    /// Pairs with `x_i > y_j`, ties counting ½ (R's `W`).
    pub u: f64,
    /// Two-sided p-value.
    pub p_two_sided: f64,
    /// Whether `p_two_sided` comes from the exact null distribution.
    pub exact: bool,
}

/// Midranks (1-based, ties share their average rank) of `values`, and the sizes of
/// the tie groups larger than one.
fn midranks(values: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut ties = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && values[order[j]] == values[order[i]] {
            j += 1;
        }
        // Positions i..j (0-based) hold ranks i+1..=j: their mean.
        let rank = (i + 1 + j) as f64 / 2.0;
        for &k in &order[i..j] {
            ranks[k] = rank;
        }
        if j - i > 1 {
            ties.push(j - i);
        }
        i = j;
    }
    (ranks, ties)
}

/// The frequencies of U under the null for sample sizes `m` and `n`: entry `u` counts
/// the arrangements with U = u (0 ≤ u ≤ m·n); they sum to C(m+n, m). These are the
/// coefficients of `[m+n choose m]_q = Π_{i=1..m} (1 − q^{n+i}) / (1 − q^i)`, built
/// one factor at a time (each partial product is `[n+i choose i]_q`, a polynomial).
pub fn u_frequencies(m: usize, n: usize) -> Vec<u128> {
    let size = m * n + 1;
    let mut c = vec![0i128; size];
    c[0] = 1;
    for i in 1..=m {
        let up = n + i;
        // Multiply by (1 − q^(n+i)), high degrees first so each term reads the old value.
        for j in (up..size).rev() {
            c[j] -= c[j - up];
        }
        // Divide by (1 − q^i): a running sum with stride i.
        for j in i..size {
            c[j] += c[j - i];
        }
    }
    c.into_iter().map(|v| v.max(0) as u128).collect()
}

/// P(U ≤ u) under the null for sizes `m`, `n` (exact).
pub fn u_cdf(m: usize, n: usize, u: f64) -> f64 {
    if u < 0.0 {
        return 0.0;
    }
    let f = u_frequencies(m, n);
    let total: u128 = f.iter().sum();
    let upto = (u.floor() as usize).min(f.len() - 1);
    let below: u128 = f[..=upto].iter().sum();
    below as f64 / total as f64
}

/// Two-sided Mann–Whitney U test of `x` against `y`; `None` when a sample is empty
/// or every value is tied (the normal approximation has no variance then).
pub fn rank_sum(x: &[f64], y: &[f64]) -> Option<RankSum> {
    let (m, n) = (x.len(), y.len());
    if m == 0 || n == 0 {
        return None;
    }
    let all: Vec<f64> = x.iter().chain(y).copied().collect();
    let (ranks, ties) = midranks(&all);
    let r_x: f64 = ranks[..m].iter().sum();
    let (mf, nf) = (m as f64, n as f64);
    let u = r_x - mf * (mf + 1.0) / 2.0;
    let mean = mf * nf / 2.0;
    if m < EXACT_BELOW && n < EXACT_BELOW && ties.is_empty() {
        // As R: the tail on the side of the observed U, doubled.
        let tail = if u > mean {
            1.0 - u_cdf(m, n, u - 1.0)
        } else {
            u_cdf(m, n, u)
        };
        return Some(RankSum {
            u,
            p_two_sided: (2.0 * tail).min(1.0),
            exact: true,
        });
    }
    let sigma = tie_sigma(m, n, &ties)?;
    let d = u - mean;
    let z = (d - 0.5 * d.signum()) / sigma;
    Some(RankSum {
        u,
        p_two_sided: (2.0 * normal_upper_tail(z.abs())).min(1.0),
        exact: false,
    })
}

/// The standard deviation of U under the null with the tie correction:
/// `σ² = m·n/12 · ((N + 1) − Σ(t³ − t) / (N (N − 1)))`, N = m + n; `None` when zero.
fn tie_sigma(m: usize, n: usize, ties: &[usize]) -> Option<f64> {
    let (mf, nf) = (m as f64, n as f64);
    let big_n = mf + nf;
    let t: f64 = ties.iter().map(|&t| (t as f64).powi(3) - t as f64).sum();
    let var = mf * nf / 12.0 * ((big_n + 1.0) - t / (big_n * (big_n - 1.0)));
    (var > 0.0).then(|| var.sqrt())
}

/// The m·n pairwise differences `x_i − y_j`, sorted.
fn sorted_differences(x: &[f64], y: &[f64]) -> Vec<f64> {
    let mut d: Vec<f64> = x
        .iter()
        .flat_map(|a| y.iter().map(move |b| a - b))
        .collect();
    d.sort_by(f64::total_cmp);
    d
}

fn median_sorted(d: &[f64]) -> f64 {
    let k = d.len();
    if k % 2 == 1 {
        d[k / 2]
    } else {
        0.5 * (d[k / 2 - 1] + d[k / 2])
    }
}

/// The Hodges–Lehmann estimate of the shift `x − y`: the median of the m·n pairwise
/// differences; `None` when a sample is empty.
pub fn hodges_lehmann(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.is_empty() || y.is_empty() {
        return None;
    }
    Some(median_sorted(&sorted_differences(x, y)))
}

/// The shift estimate and its two-sided confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shift {
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
}

/// Hodges–Lehmann shift of `x − y` with Moses' distribution-free interval at
/// `confidence` (in (0, 1)): the k-th smallest and k-th largest pairwise differences.
/// Exact (no ties, both samples below `EXACT_BELOW`): k = the α/2 quantile of U
/// (R's `qwilcox(α/2, m, n)`, at least 1), coverage ≥ `confidence`. Otherwise k is the
/// smallest rank whose shift the continuity-corrected two-sided normal test (tie
/// corrected) does not reject: k = ⌈m·n/2 − ½ − z·σ⌉, at least 1. `None` when a sample
/// is empty or `confidence` is outside (0, 1).
pub fn shift_interval(x: &[f64], y: &[f64], confidence: f64) -> Option<Shift> {
    let (m, n) = (x.len(), y.len());
    if m == 0 || n == 0 || !(confidence > 0.0 && confidence < 1.0) {
        return None;
    }
    let d = sorted_differences(x, y);
    let mn = d.len();
    let alpha = 1.0 - confidence;
    let all: Vec<f64> = x.iter().chain(y).copied().collect();
    let (_, ties) = midranks(&all);
    let k = if m < EXACT_BELOW && n < EXACT_BELOW && ties.is_empty() {
        let f = u_frequencies(m, n);
        let total: u128 = f.iter().sum();
        // Smallest u with P(U ≤ u) ≥ α/2.
        let mut acc = 0u128;
        let mut q = f.len() - 1;
        for (u, c) in f.iter().enumerate() {
            acc += c;
            if acc as f64 / total as f64 >= alpha / 2.0 {
                q = u;
                break;
            }
        }
        q.max(1)
    } else {
        match tie_sigma(m, n, &ties) {
            Some(sigma) => {
                let z = normal_quantile(1.0 - alpha / 2.0);
                let k = (mn as f64 / 2.0 - 0.5 - z * sigma).ceil();
                (k.max(1.0) as usize).min(mn.div_ceil(2))
            }
            // Every value tied: all differences are equal, the interval is that point.
            None => 1,
        }
    };
    Some(Shift {
        estimate: median_sorted(&d),
        low: d[k - 1],
        high: d[mn - k],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The null frequencies of U against the tables every textbook prints (also by
    /// hand: for m = n = 2 the six arrangements of xxyy give U = 0,1,2,2,3,4).
    #[test]
    fn u_frequencies_match_hand_counts() {
        let table: [(usize, usize, &[u128]); 4] = [
            (1, 1, &[1, 1]),
            (2, 2, &[1, 1, 2, 1, 1]),
            (3, 3, &[1, 1, 2, 3, 3, 3, 3, 2, 1, 1]),
            (4, 4, &[1, 1, 2, 3, 5, 5, 7, 7, 8, 7, 7, 5, 5, 3, 2, 1, 1]),
        ];
        for (m, n, want) in table {
            assert_eq!(u_frequencies(m, n), want, "m = {m}, n = {n}");
        }
        // Sizes 2 and 3: C(5, 2) = 10 arrangements, U in 0..=6.
        assert_eq!(u_frequencies(2, 3), [1, 1, 2, 2, 2, 1, 1]);
        assert_eq!(u_frequencies(3, 2), [1, 1, 2, 2, 2, 1, 1]);
        // The total is C(m + n, m) even where it passes 2^64: C(98, 49) ≈ 2.5e28.
        let total: u128 = u_frequencies(49, 49).iter().sum();
        let binom = (1..=49u128).fold(1u128, |acc, i| acc * (49 + i) / i);
        assert_eq!(total, binom);
    }

    /// Two-sided 5% critical values of U from the standard Mann–Whitney table (e.g.
    /// Siegel & Castellan, Table J; the largest u with 2·P(U ≤ u) ≤ 0.05): n = 8 → 13,
    /// n = 10 → 23, n = 20 → 127.
    #[test]
    fn critical_values_match_the_published_table() {
        for (n, crit) in [(8usize, 13.0), (10, 23.0), (20, 127.0)] {
            assert!(2.0 * u_cdf(n, n, crit) <= 0.05, "n = {n}");
            assert!(2.0 * u_cdf(n, n, crit + 1.0) > 0.05, "n = {n}");
        }
    }

    #[test]
    fn exact_test_of_separated_samples() {
        // All of x above all of y: U = m·n, one arrangement in C(6, 3) = 20 on each
        // side, so p = 2/20.
        let r = rank_sum(&[4.0, 5.0, 6.0], &[1.0, 2.0, 3.0]).unwrap();
        assert!(r.exact);
        assert_eq!(r.u, 9.0);
        assert!((r.p_two_sided - 0.1).abs() < 1e-12);
        // x = [1, 4, 6], y = [2, 3, 5]: pairs 4>2, 4>3, 6>2, 6>3, 6>5, U = 5 of 9;
        // P(U ≥ 5) = (3+3+2+1+1)/20 = 0.5, p = 1.0.
        let r = rank_sum(&[1.0, 4.0, 6.0], &[2.0, 3.0, 5.0]).unwrap();
        assert_eq!(r.u, 5.0);
        assert!((r.p_two_sided - 1.0).abs() < 1e-12);
    }

    /// The normal approximation with ties, by hand: x = [1, 2, 2, 3], y = [2, 3, 4, 4].
    /// Midranks of 1,2,2,2,3,3,4,4: 1, 3, 3, 3, 5.5, 5.5, 7.5, 7.5; R_x = 1+3+3+5.5 =
    /// 12.5, U = 12.5 − 10 = 2.5. Ties 3, 2, 2: Σ(t³ − t) = 24 + 6 + 6 = 36; σ² =
    /// 16/12 · (9 − 36/56) = 11.142857; z = (2.5 − 8 + 0.5)/3.338092 = −1.497862,
    /// p = 2·Φ(−1.497862) = 0.134169 (scipy 1.17.1
    /// `mannwhitneyu(x, y, method="asymptotic")` gives the same).
    #[test]
    fn normal_approximation_with_ties_by_hand() {
        let r = rank_sum(&[1.0, 2.0, 2.0, 3.0], &[2.0, 3.0, 4.0, 4.0]).unwrap();
        assert!(!r.exact);
        assert_eq!(r.u, 2.5);
        // Tolerance: the normal tail's fit is good to 1.2e-7 relative.
        assert!(
            (r.p_two_sided - 0.134_169).abs() < 1e-5,
            "{}",
            r.p_two_sided
        );
    }

    /// Reference p-values computed with scipy 1.17.1 (`scipy.stats.mannwhitneyu`,
    /// two-sided) and hard-coded. Hollander & Wolfe's 9 + 9 depression scores have two
    /// tied pairs in y, so the asymptotic test applies (U = 58, p = 0.132919); with the
    /// ties broken (1.06 → 1.07, 1.29 → 1.28) the exact test applies (U = 58,
    /// p = 0.135911). The 60 + 70 values of `grid_samples`: U = 1824, p = 0.198225.
    #[test]
    #[allow(clippy::approx_constant)] // 3.14 is a depression score, not π
    fn p_values_match_scipy() {
        let x = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30];
        let y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29];
        let r = rank_sum(&x, &y).unwrap();
        assert!(!r.exact);
        assert_eq!(r.u, 58.0);
        // Tolerance: the normal tail's fit (1.2e-7 relative).
        assert!((r.p_two_sided - 0.132_919_458_185_318_92).abs() < 1e-6);
        let y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.07, 3.14, 1.28];
        let r = rank_sum(&x, &y).unwrap();
        assert!(r.exact);
        assert_eq!(r.u, 58.0);
        assert!((r.p_two_sided - 0.135_911_147_675_853_55).abs() < 1e-12);
        let (x, y) = grid_samples();
        let r = rank_sum(&x, &y).unwrap();
        assert!(!r.exact);
        assert_eq!(r.u, 1824.0);
        // Tolerance: the normal tail's fit (1.2e-7 relative).
        assert!((r.p_two_sided - 0.198_225_079_976_132_37).abs() < 1e-6);
    }

    /// 60 and 70 distinct values (the normal branch is taken by size alone); x ends in
    /// .3 and y is whole, so a shift between grid points ties nothing.
    fn grid_samples() -> (Vec<f64>, Vec<f64>) {
        let x = (0..60).map(|i| (i * 37 % 61) as f64 + 0.3).collect();
        let y = (0..70).map(|i| (i * 53 % 71) as f64).collect();
        (x, y)
    }

    #[test]
    fn hodges_lehmann_is_the_median_of_differences() {
        // x − y differences of [3, 5] and [1, 2]: 2, 1, 4, 3 → median 2.5.
        assert_eq!(hodges_lehmann(&[3.0, 5.0], &[1.0, 2.0]), Some(2.5));
        // A pure shift by 10 is recovered exactly.
        let y = [1.0, 4.0, 2.5, 8.0, 3.0];
        let x: Vec<f64> = y.iter().map(|v| v + 10.0).collect();
        assert_eq!(hodges_lehmann(&x, &y), Some(10.0));
        assert_eq!(hodges_lehmann(&[], &y), None);
    }

    /// Exact Moses interval by hand: m = n = 4, 90% → α/2 = 0.05; P(U ≤ 1) = 2/70 =
    /// 0.029, P(U ≤ 2) = 4/70 = 0.057 ≥ 0.05, so k = 2: the 2nd smallest and 2nd
    /// largest of the 16 differences.
    #[test]
    fn exact_interval_by_hand() {
        let x = [10.0, 12.0, 15.0, 19.0];
        let y = [1.0, 3.0, 4.0, 9.0];
        // Differences sorted: 1, 3, 6, 6, 7, 8, 9, 9, 10, 11, 11, 12, 14, 15, 16, 18;
        // the median is (9 + 10)/2.
        let s = shift_interval(&x, &y, 0.90).unwrap();
        assert_eq!((s.low, s.high), (3.0, 16.0));
        assert_eq!(s.estimate, 9.5);
    }

    /// The normal-approximation interval is the set of shifts the test does not
    /// reject: the rank-sum test of `x − μ` against `y` (ranks recomputed, a separate
    /// path) keeps p ≥ α just inside each bound and p < α just outside.
    #[test]
    fn approximate_interval_inverts_the_test() {
        let (x, y) = grid_samples();
        let conf = 0.95;
        let s = shift_interval(&x, &y, conf).unwrap();
        let p_at = |mu: f64| {
            let shifted: Vec<f64> = x.iter().map(|v| v - mu).collect();
            rank_sum(&shifted, &y).unwrap().p_two_sided
        };
        let eps = 1e-6;
        assert!(s.low < s.estimate && s.estimate < s.high);
        // Tolerance: the normal tail is fitted to 1.2e-7 relative.
        assert!(
            p_at(s.low + eps) >= 0.05 - 1e-6,
            "inside low: {}",
            p_at(s.low + eps)
        );
        assert!(
            p_at(s.high - eps) >= 0.05 - 1e-6,
            "inside high: {}",
            p_at(s.high - eps)
        );
        assert!(
            p_at(s.low - 0.25) < 0.05,
            "outside low: {}",
            p_at(s.low - 0.25)
        );
        assert!(
            p_at(s.high + 0.25) < 0.05,
            "outside high: {}",
            p_at(s.high + 0.25)
        );
    }

    #[test]
    fn degenerate_inputs() {
        assert_eq!(rank_sum(&[], &[1.0]), None);
        // Everything tied: no variance, no test.
        assert_eq!(rank_sum(&[2.0; 60], &[2.0; 60]), None);
        assert_eq!(shift_interval(&[1.0], &[], 0.9), None);
        assert_eq!(shift_interval(&[1.0], &[0.0], 1.0), None);
    }
}
