//! Intervals for a mean (Student t), a restricted mean of a censored time, and a
//! proportion (Wilson score).
//!
//! Sums run in the order of the input slice (seed order), never in parallel.

use super::dist::t_quantile;
use super::{Interval, upper_prob};
use crate::sim::rng::normal_quantile;

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
    let half = t_quantile(upper, nf - 1.0) * std_err;
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
