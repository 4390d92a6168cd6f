//! Intervals for a mean (Student t), a restricted mean of a censored time, and a
//! proportion (Wilson score).
//!
//! Sums run in the order of the input slice (seed order), never in parallel.

use super::dist::t_quantile;
use super::{Interval, upper_prob};
use crate::sim::rng::normal_quantile;

/// `t_quantile`, remembering the last answer of this thread: a summary asks for the
/// same (p, df) for every metric of a subset, and each answer is a Newton iteration.
fn t_quantile_memo(p: f64, df: f64) -> f64 {
    use std::cell::Cell;
    thread_local!(static LAST: Cell<(u64, u64, f64)> = const { Cell::new((0, 0, f64::NAN)) });
    LAST.with(|last| {
        let (lp, ldf, t) = last.get();
        if lp == p.to_bits() && ldf == df.to_bits() && !t.is_nan() {
            return t;
        }
        let t = t_quantile(p, df);
        last.set((p.to_bits(), df.to_bits(), t));
        t
    })
}

/// The sample mean with its Student t confidence interval at `level`:
/// `x̄ ± t_{(1+level)/2, n−1} · s / √n`, with `s² = Σ (xᵢ − x̄)² / (n − 1)`
/// (two passes, so the spread is not lost to cancellation). Source: any
/// introductory text, e.g. Rice, *Mathematical Statistics and Data Analysis*, §7.3.3.
///
/// `n = 0` gives no estimate; `n = 1` an estimate without bounds. Equal values give
/// a zero-width interval.
pub fn mean_ci(values: &[f64], level: f64) -> Interval {
    let n = values.len();
    if n == 0 {
        return Interval::EMPTY;
    }
    let nf = n as f64;
    let mean = values.iter().sum::<f64>() / nf;
    let Some(upper) = upper_prob(level).filter(|_| n >= 2) else {
        return Interval::point(mean);
    };
    let ss: f64 = values.iter().map(|x| (x - mean) * (x - mean)).sum();
    let std_err = (ss / (nf - 1.0)).sqrt() / nf.sqrt();
    let half = t_quantile_memo(upper, nf - 1.0) * std_err;
    Interval {
        estimate: Some(mean),
        low: Some(mean - half),
        high: Some(mean + half),
    }
}

/// The restricted mean of a right-censored time with its t-interval:
/// `μ_τ = E[min(T, τ)]` estimated by the mean of `min(tᵢ, τ)`, where a censored value
/// (`None`, "had not happened by the horizon") counts as `cap = τ`. Because every run
/// is censored at the same horizon τ, the Kaplan–Meier area up to τ (the usual
/// restricted mean survival time, Klein & Moeschberger, *Survival Analysis*, §4.5)
/// equals exactly this sample mean, so the plain t-interval of [`mean_ci`] applies.
pub fn restricted_mean(values: &[Option<f64>], cap: f64, level: f64) -> Interval {
    let capped: Vec<f64> = values
        .iter()
        .map(|v| v.map_or(cap, |x| x.min(cap)))
        .collect();
    mean_ci(&capped, level)
}

/// The sample proportion `p̂ = successes / n` with its Wilson score interval at
/// `level`: the `p` solving `(p̂ − p)² = z² p (1 − p) / n`, i.e.
/// `(p̂ + z²/2n ± z √(p̂(1 − p̂)/n + z²/4n²)) / (1 + z²/n)` with
/// `z = Φ⁻¹((1 + level)/2)`. Source: Wilson (1927), JASA 22:209; recommended by
/// Brown, Cai & DasGupta (2001), *Statistical Science* 16:101.
///
/// `n = 0` gives nothing. The bounds stay inside [0, 1] and are exactly 0 for no
/// successes and exactly 1 for all successes. `successes` above `n` is a caller bug.
pub fn wilson(successes: u64, n: u64, level: f64) -> Interval {
    debug_assert!(successes <= n, "{successes} successes out of {n}");
    if n == 0 {
        return Interval::EMPTY;
    }
    let successes = successes.min(n);
    let nf = n as f64;
    let p = successes as f64 / nf;
    let Some(upper) = upper_prob(level) else {
        return Interval::point(p);
    };
    let z = normal_quantile(upper);
    let z2 = z * z;
    let denom = 1.0 + z2 / nf;
    let centre = (p + z2 / (2.0 * nf)) / denom;
    let half = z * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt() / denom;
    let low = if successes == 0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let high = if successes == n {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    Interval {
        estimate: Some(p),
        low: Some(low),
        high: Some(high),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: Option<f64>, want: f64, tol: f64) -> bool {
        got.is_some_and(|g| (g - want).abs() <= tol * want.abs().max(1.0))
    }

    fn check(got: Interval, want: (f64, f64, f64), tol: f64) {
        let (e, l, h) = want;
        assert!(
            close(got.estimate, e, tol) && close(got.low, l, tol) && close(got.high, h, tol),
            "got {got:?}, want ({e}, {l}, {h})"
        );
    }

    #[test]
    fn mean_ci_small_sample_by_hand() {
        // x = 2 4 6 9 11 13 15 20: x̄ = 80/8 = 10; deviations −8 −6 −4 −1 1 3 5 10,
        // Σd² = 252, s² = 252/7 = 36, s = 6, se = 6/√8 = 2.121320343559642;
        // t(0.975, 7) = 2.3646242510102993 (scipy.stats.t.ppf), half = 5.016125529778267.
        // scipy.stats.t.interval(0.95, 7, loc=10, scale=se) = (4.983874470221733,
        // 15.016125529778268).
        let x = [2.0, 4.0, 6.0, 9.0, 11.0, 13.0, 15.0, 20.0];
        check(
            mean_ci(&x, 0.95),
            (10.0, 4.983_874_470_221_733, 15.016_125_529_778_268),
            1e-12,
        );
    }

    #[test]
    fn mean_ci_edges() {
        assert_eq!(mean_ci(&[], 0.95), Interval::EMPTY);
        assert_eq!(mean_ci(&[3.5], 0.95), Interval::point(3.5));
        let flat = mean_ci(&[7.0; 5], 0.95);
        assert_eq!(
            (flat.estimate, flat.low, flat.high),
            (Some(7.0), Some(7.0), Some(7.0))
        );
        assert_eq!(mean_ci(&[1.0, 2.0], 1.0), Interval::point(1.5));
        assert_eq!(mean_ci(&[1.0, 2.0], f64::NAN), Interval::point(1.5));
    }

    #[test]
    fn restricted_mean_counts_censored_as_cap() {
        // Capped values 10 100 30 100 (one observed value above the cap is capped too):
        // mean 60, Σd² = 6600, s² = 2200, se = √2200 / 2; t(0.975, 3) = 3.1824463052837078.
        // scipy.stats.t.interval(0.95, 3, loc=60, scale=se) = (−14.634981525472753,
        // 134.63498152547277).
        let values = [Some(10.0), None, Some(30.0), Some(140.0)];
        check(
            restricted_mean(&values, 100.0, 0.95),
            (60.0, -14.634_981_525_472_753, 134.634_981_525_472_77),
            1e-12,
        );
        let all_censored = restricted_mean(&[None, None, None], 100.0, 0.95);
        assert_eq!(
            (all_censored.estimate, all_censored.low, all_censored.high),
            (Some(100.0), Some(100.0), Some(100.0))
        );
        assert_eq!(restricted_mean(&[], 100.0, 0.95), Interval::EMPTY);
    }

    /// The Wilson bounds as the roots of `(1 + z²/n) p² − (2p̂ + z²/n) p + p̂² = 0`,
    /// solved independently of the closed form in `wilson`.
    fn wilson_roots(x: u64, n: u64, z: f64) -> (f64, f64) {
        let (p, n) = (x as f64 / n as f64, n as f64);
        let (a, b, c) = (1.0 + z * z / n, -(2.0 * p + z * z / n), p * p);
        let disc = (b * b - 4.0 * a * c).max(0.0).sqrt();
        ((-b - disc) / (2.0 * a), (-b + disc) / (2.0 * a))
    }

    #[test]
    fn wilson_hand_cases() {
        let z = normal_quantile(0.975);
        let z2 = z * z;
        // 0/10: the roots are 0 and z²/(n + z²).
        check(wilson(0, 10, 0.95), (0.0, 0.0, z2 / (10.0 + z2)), 1e-14);
        // 10/10: the roots are n/(n + z²) and 1.
        check(wilson(10, 10, 0.95), (1.0, 10.0 / (10.0 + z2), 1.0), 1e-14);
        // 5/10: symmetric about ½.
        let (l, h) = wilson_roots(5, 10, z);
        check(wilson(5, 10, 0.95), (0.5, l, h), 1e-14);
        assert!((l + h - 1.0).abs() < 1e-15);
        let w = wilson(0, 10, 0.95);
        assert_eq!((w.low, w.high.map(|h| h <= 1.0)), (Some(0.0), Some(true)));
        assert_eq!(wilson(10, 10, 0.95).high, Some(1.0));
    }

    #[test]
    fn wilson_matches_scipy() {
        // scipy.stats.binomtest(k, n).proportion_ci(confidence_level, method='wilson')
        let table = [
            (
                3,
                17,
                0.95,
                0.061_911_266_376_209_945,
                0.410_294_585_688_341_2,
            ),
            (
                3,
                17,
                0.90,
                0.072_814_466_547_064_44,
                0.368_966_978_069_025_8,
            ),
            (5, 10, 0.95, 0.236_593_090_512_564, 0.763_406_909_487_436_1),
        ];
        for (x, n, level, low, high) in table {
            check(wilson(x, n, level), (x as f64 / n as f64, low, high), 1e-12);
        }
    }

    #[test]
    fn wilson_edges() {
        assert_eq!(wilson(0, 0, 0.95), Interval::EMPTY);
        assert_eq!(wilson(1, 4, 0.0), Interval::point(0.25));
    }
}
