//! Paired per-seed comparison of one strategy against a baseline (DESIGN.md §6,
//! `compare.csv`): common random numbers make the per-seed difference far less noisy
//! than the difference of two independent means, so only differences are averaged.

use super::Interval;
use super::interval::{mean_ci, wilson};

/// The comparison of `b` against the baseline `a` over the seeds where both have a
/// value.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Paired {
    /// Seeds where both values are present.
    pub n: u64,
    /// Seeds where exactly one or neither value is present; not compared.
    pub n_unpaired: u64,
    /// Mean of the per-seed differences `b − a`, with its t-interval.
    pub diff: Interval,
    /// Seeds where `b` is strictly better than `a`.
    pub better: u64,
    /// Seeds where `b` equals `a` exactly.
    pub equal: u64,
    /// Seeds where `b` is strictly worse than `a`.
    pub worse: u64,
    /// `better / n` with its Wilson interval.
    pub better_share: Interval,
}

/// Pairs `a[i]` with `b[i]` (both in seed order) and compares them: the mean of
/// `dᵢ = bᵢ − aᵢ` with the paired t-interval (Rice, *Mathematical Statistics and Data
/// Analysis*, §11.3), the counts of seeds where `b` is strictly better, equal or
/// worse (better means `dᵢ < 0` when `lower_is_better`, else `dᵢ > 0`), and the Wilson
/// interval of the better share (the sign-test view of the same pairs).
///
/// A seed missing either value is skipped and counted in `n_unpaired`; a censored
/// time that should count as the horizon must be capped by the caller first. Slices
/// of different lengths are a caller bug; only the common prefix is compared.
pub fn paired(a: &[Option<f64>], b: &[Option<f64>], lower_is_better: bool, level: f64) -> Paired {
    debug_assert_eq!(a.len(), b.len(), "paired columns differ in length");
    let diffs: Vec<f64> = a
        .iter()
        .zip(b)
        .filter_map(|(x, y)| Some((*y)? - (*x)?))
        .collect();
    let n = diffs.len() as u64;
    let improving = |d: f64| if lower_is_better { d < 0.0 } else { d > 0.0 };
    let better = diffs.iter().filter(|&&d| improving(d)).count() as u64;
    let equal = diffs.iter().filter(|&&d| d == 0.0).count() as u64;
    Paired {
        n,
        n_unpaired: a.len().min(b.len()) as u64 - n,
        diff: mean_ci(&diffs, level),
        better,
        equal,
        worse: n - better - equal,
        better_share: wilson(better, n, level),
    }
}
