//! Judges: how a query result becomes a measurement outcome.
//!
//! `threshold` is Argo's condition evaluation (`utils/evaluate`): the failure
//! condition wins; with only `success`, missing it is Failed; with only `failure`,
//! not meeting it is Successful; with both and neither holding, Inconclusive;
//! with neither, Successful. An empty vector is an Error (Argo evaluates `result[0]`
//! of an empty list as an error); NaN follows `on_nan`. `mann_whitney` is Kayenta's
//! `MannWhitneyClassifier`: Hodges–Lehmann shift of canary − baseline with its
//! confidence interval; High when the interval's lower bound exceeds `tolerance` ×
//! |estimate| (Kayenta's bounds are a share of the shift estimate) and the canary's
//! mean is not below the baseline's, Low symmetrically; Failed when the class is
//! one `direction` forbids. Pure functions.

use crate::scenario::analysis::{Condition, Direction, MannWhitney, OnNan, Op};
use crate::stats::rank::{Shift, shift_interval};

use super::store::QueryResult;

/// A measurement's outcome (Argo's measurement phases).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Successful,
    Failed,
    Inconclusive,
    Error,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Successful => "Successful",
            Outcome::Failed => "Failed",
            Outcome::Inconclusive => "Inconclusive",
            Outcome::Error => "Error",
        }
    }
}

/// Whether `x OP value` holds (false for NaN, as Go's comparisons).
pub fn holds(c: Condition, x: f64) -> bool {
    match c.op {
        Op::Ge => x >= c.value,
        Op::Gt => x > c.value,
        Op::Le => x <= c.value,
        Op::Lt => x < c.value,
    }
}

/// Argo's threshold judge of one query result.
pub fn threshold(
    result: QueryResult,
    success: Option<Condition>,
    failure: Option<Condition>,
    on_nan: OnNan,
) -> Outcome {
    let x = match result {
        QueryResult::Error | QueryResult::Empty => return Outcome::Error,
        QueryResult::Value(x) if x.is_nan() => {
            return match on_nan {
                OnNan::Failed => Outcome::Failed,
                OnNan::Successful => Outcome::Successful,
                OnNan::Inconclusive => Outcome::Inconclusive,
                OnNan::Error => Outcome::Error,
            };
        }
        QueryResult::Value(x) => x,
    };
    let (ok, bad) = match (success, failure) {
        (None, None) => return Outcome::Successful,
        (Some(s), None) => {
            let ok = holds(s, x);
            (ok, !ok)
        }
        (None, Some(f)) => {
            let bad = holds(f, x);
            (!bad, bad)
        }
        (Some(s), Some(f)) => (holds(s, x), holds(f, x)),
    };
    if bad {
        Outcome::Failed
    } else if ok {
        Outcome::Successful
    } else {
        Outcome::Inconclusive
    }
}

/// Kayenta's classification of a canary against its baseline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Comparison {
    pub outcome: Outcome,
    /// The shift canary − baseline and its interval; `None` when not computed
    /// (too few points, identical data).
    pub shift: Option<Shift>,
}

/// Kayenta's Mann–Whitney judge of the canary's per-scrape points against the
/// baseline's. Fewer than `min_points` on either side: Inconclusive. Identical data
/// or a single value overall: Successful (Kayenta's Pass). Both sides constant but
/// different: the shift is exact (Kayenta adds a 1e-5 relative jitter to compute it;
/// the limit of that is the point interval at the difference).
pub fn mann_whitney(canary: &[f64], baseline: &[f64], mw: &MannWhitney) -> Comparison {
    let min = mw.min_points as usize;
    if canary.len() < min || baseline.len() < min || canary.is_empty() || baseline.is_empty() {
        return Comparison {
            outcome: Outcome::Inconclusive,
            shift: None,
        };
    }
    let pass = Comparison {
        outcome: Outcome::Successful,
        shift: None,
    };
    let mut a = canary.to_vec();
    let mut b = baseline.to_vec();
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    if a == b || (a[0] == a[a.len() - 1] && b[0] == b[b.len() - 1] && a[0] == b[0]) {
        return pass;
    }
    let shift = if a[0] == a[a.len() - 1] && b[0] == b[b.len() - 1] {
        let d = a[0] - b[0];
        Shift {
            estimate: d,
            low: d,
            high: d,
        }
    } else {
        match shift_interval(canary, baseline, mw.confidence) {
            Some(s) => s,
            None => return pass,
        }
    };
    let bound = mw.tolerance * shift.estimate.abs();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    // Kayenta's effect size (mean ratio canary / baseline) must agree with the class;
    // it cannot be computed with a zero baseline mean, and is then ignored.
    let (mc, mb) = (mean(canary), mean(baseline));
    let ratio = if mb != 0.0 { Some(mc / mb) } else { None };
    let high = shift.low > bound && ratio.is_none_or(|r| r >= 1.0);
    let low = shift.high < -bound && ratio.is_none_or(|r| r <= 1.0);
    let fails = match mw.direction {
        Direction::Increase => high,
        Direction::Decrease => low,
        Direction::Either => high || low,
    };
    Comparison {
        outcome: if fails {
            Outcome::Failed
        } else {
            Outcome::Successful
        },
        shift: Some(shift),
    }
}

/// Flagger's check of one metric value against its threshold range: it passes when the
/// value is a number within [min, max] (a missing bound is open); an empty vector,
/// NaN or a query error is "no values found" and fails.
pub fn flagger(result: QueryResult, min: Option<f64>, max: Option<f64>) -> bool {
    match result {
        QueryResult::Value(x) if !x.is_nan() => {
            min.is_none_or(|lo| x >= lo) && max.is_none_or(|hi| x <= hi)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::analysis::Baseline;

    fn c(op: Op, value: f64) -> Option<Condition> {
        Some(Condition { op, value })
    }

    /// Argo's `EvaluateResult` table (utils/evaluate/evaluate.go), and §9's empty and
    /// NaN rules.
    #[test]
    fn threshold_follows_argo() {
        use Outcome::*;
        use QueryResult::{Empty, Error as QErr, Value};
        let ge99 = c(Op::Ge, 0.99);
        let lt95 = c(Op::Lt, 0.95);
        let nan = f64::NAN;
        let cases = [
            (Value(0.995), ge99, None, OnNan::Failed, Successful),
            (Value(0.98), ge99, None, OnNan::Failed, Failed),
            (Value(0.98), None, lt95, OnNan::Failed, Successful),
            (Value(0.90), None, lt95, OnNan::Failed, Failed),
            // Both given, neither holds: Inconclusive.
            (Value(0.97), ge99, lt95, OnNan::Failed, Inconclusive),
            (Value(0.90), ge99, lt95, OnNan::Failed, Failed),
            // Failure wins when both hold.
            (Value(0.999), ge99, c(Op::Gt, 0.5), OnNan::Failed, Failed),
            (Value(0.0), None, None, OnNan::Failed, Successful),
            (Value(0.0), c(Op::Le, 0.0), None, OnNan::Failed, Successful),
            (Value(0.0), c(Op::Lt, 0.0), None, OnNan::Failed, Failed),
            (Empty, ge99, None, OnNan::Successful, Error),
            (QErr, ge99, None, OnNan::Successful, Error),
            (Value(nan), ge99, None, OnNan::Failed, Failed),
            (Value(nan), ge99, None, OnNan::Successful, Successful),
            (Value(nan), ge99, None, OnNan::Inconclusive, Inconclusive),
            (Value(nan), ge99, None, OnNan::Error, Error),
        ];
        for (i, (r, s, f, n, want)) in cases.into_iter().enumerate() {
            assert_eq!(threshold(r, s, f, n), want, "case {i}");
        }
    }

    fn mw(direction: Direction, min_points: u32) -> MannWhitney {
        MannWhitney {
            baseline: Baseline::Stable,
            confidence: 0.95,
            tolerance: 0.25,
            direction,
            min_points,
        }
    }

    #[test]
    fn mann_whitney_classifies_like_kayenta() {
        let base: Vec<f64> = (0..60).map(|i| 100.0 + (i * 37 % 61) as f64).collect();
        let up: Vec<f64> = base.iter().map(|v| v + 80.0).collect();
        let same: Vec<f64> = base.iter().rev().copied().collect();
        // A clear increase fails an increase (or either) judge, not a decrease one.
        assert_eq!(
            mann_whitney(&up, &base, &mw(Direction::Increase, 50)).outcome,
            Outcome::Failed
        );
        assert_eq!(
            mann_whitney(&up, &base, &mw(Direction::Either, 50)).outcome,
            Outcome::Failed
        );
        assert_eq!(
            mann_whitney(&up, &base, &mw(Direction::Decrease, 50)).outcome,
            Outcome::Successful
        );
        assert_eq!(
            mann_whitney(&base, &up, &mw(Direction::Decrease, 50)).outcome,
            Outcome::Failed
        );
        // Identical data passes without a test.
        let r = mann_whitney(&same, &base, &mw(Direction::Either, 50));
        assert_eq!((r.outcome, r.shift), (Outcome::Successful, None));
        // Too few points: Inconclusive.
        assert_eq!(
            mann_whitney(&up[..10], &base, &mw(Direction::Increase, 50)).outcome,
            Outcome::Inconclusive
        );
        // Constant but different sides: the exact shift.
        let r = mann_whitney(&[2.0; 5], &[1.0; 5], &mw(Direction::Increase, 5));
        assert_eq!(r.outcome, Outcome::Failed);
        assert_eq!(r.shift.map(|s| s.estimate), Some(1.0));
        // A small shift (1 on a spread of 60) has an interval straddling 0: passes.
        let nudged: Vec<f64> = base.iter().map(|v| v + 1.0).collect();
        assert_eq!(
            mann_whitney(&nudged, &base, &mw(Direction::Increase, 50)).outcome,
            Outcome::Successful
        );
    }

    #[test]
    fn flagger_range() {
        use QueryResult::*;
        assert!(flagger(Value(99.5), Some(99.0), None));
        assert!(!flagger(Value(98.0), Some(99.0), None));
        assert!(flagger(Value(400.0), None, Some(500.0)));
        assert!(!flagger(Value(501.0), None, Some(500.0)));
        assert!(!flagger(Value(f64::NAN), Some(99.0), None));
        assert!(!flagger(Empty, None, Some(500.0)));
        assert!(!flagger(Error, None, Some(500.0)));
    }
}
