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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_hand_example() {
        // Seeds 3 and 6 miss a value. Differences b − a on the other six:
        // −2 −1 0 −3 +1 −2, mean −7/6; Σd² − n·d̄² = 19 − 49/6 = 65/6, s² = 13/6,
        // se = √(13/36) = 0.6009252125773316, t(0.975, 5) = 2.5705818356363146.
        // scipy.stats.t.interval(0.95, 5, loc=−7/6, scale=se) = (−2.7113941026938466,
        // 0.37806076936051314). Lower is better: 4 better, 1 equal, 1 worse;
        // binomtest(4, 6).proportion_ci(method='wilson') = (0.299993315138392,
        // 0.9032285888942195).
        let a = [
            Some(10.0),
            Some(12.0),
            Some(7.0),
            None,
            Some(9.0),
            Some(5.0),
            Some(8.0),
            Some(4.0),
        ];
        let b = [
            Some(8.0),
            Some(11.0),
            Some(7.0),
            Some(3.0),
            Some(6.0),
            Some(6.0),
            None,
            Some(2.0),
        ];
        let got = paired(&a, &b, true, 0.95);
        assert_eq!(
            (got.n, got.n_unpaired, got.better, got.equal, got.worse),
            (6, 2, 4, 1, 1)
        );
        let near = |x: Option<f64>, want: f64| x.is_some_and(|x| (x - want).abs() < 1e-12);
        assert!(near(got.diff.estimate, -7.0 / 6.0), "{:?}", got.diff);
        assert!(
            near(got.diff.low, -2.711_394_102_693_846_6),
            "{:?}",
            got.diff
        );
        assert!(
            near(got.diff.high, 0.378_060_769_360_513_14),
            "{:?}",
            got.diff
        );
        assert!(near(got.better_share.estimate, 4.0 / 6.0));
        assert!(near(got.better_share.low, 0.299_993_315_138_392));
        assert!(near(got.better_share.high, 0.903_228_588_894_219_5));

        // Higher is better swaps better and worse; the differences stay b − a.
        let up = paired(&a, &b, false, 0.95);
        assert_eq!((up.better, up.equal, up.worse), (1, 1, 4));
        assert_eq!(up.diff, got.diff);
    }

    #[test]
    fn paired_edges() {
        let none = paired(&[None, Some(1.0)], &[Some(2.0), None], true, 0.95);
        assert_eq!(
            none,
            Paired {
                n_unpaired: 2,
                ..Paired::default()
            }
        );
        let one = paired(&[Some(1.0)], &[Some(3.0)], true, 0.95);
        assert_eq!(one.diff, Interval::point(2.0));
        assert_eq!((one.better, one.worse), (0, 1));
        let same = paired(&[Some(4.0); 3], &[Some(4.0); 3], true, 0.95);
        assert_eq!(same.equal, 3);
        assert_eq!(same.diff.low, Some(0.0));
        assert_eq!(same.better_share.low, Some(0.0));
    }
}
