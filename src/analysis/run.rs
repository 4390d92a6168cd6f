//! One AnalysisRun: a template's metrics measured on their schedule, their
//! outcomes tallied, and the run's phase, with Argo Rollouts' semantics
//! (`analysis/analysis.go`: `generateMetricTasks`, `runMeasurements`,
//! `assessMetricStatus`, `assessMetricFailureInconclusiveOrError`, `assessRunStatus`).
//!
//! - A metric's first measurement is due `initial_delay` after the run starts; the
//!   next one `interval` after the last, or 10 s after an Error (Argo's
//!   `DefaultErrorRetryInterval`).
//! - Successful, Failed and Inconclusive measurements count towards `count`; an Error
//!   does not, it only grows the run of consecutive errors (any other outcome resets
//!   it).
//! - A metric is Failed when its failed measurements (in total, not in a row) exceed
//!   `failure_limit`, Inconclusive when its inconclusive ones exceed
//!   `inconclusive_limit`, Error when its consecutive errors exceed
//!   `consecutive_error_limit` (checked in that order, a later one overriding);
//!   otherwise Successful once it has `count` measurements (failures within the limit
//!   do not fail it), and running for ever when `count` is 0.
//! - The run stops measuring as soon as a metric that is not `dry_run` is Failed,
//!   Error or Inconclusive, and its phase is the worst such (Failed > Error >
//!   Inconclusive). A `dry_run` metric is measured but its phase never decides the
//!   run (it must still complete for the run to). The run is Successful when every
//!   metric has completed; `terminate` (a background run stopped by the rollout)
//!   makes the running metrics Successful.
//!
//! A caller asks `next_due` for the next time to wake, measures each metric `due` then
//! (`analysis::measure`) and `record`s the outcome. Pure state: no clock, no I/O.

use crate::scenario::analysis::{MetricSpec, Template};
use crate::sim::SimTime;

use super::judge::Outcome;

/// Argo's `DefaultErrorRetryInterval`: the next measurement after an Error.
pub const ERROR_RETRY: SimTime = SimTime::from_secs(10);

/// A metric's or a run's phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    // Declared best to worst: the order is Argo's `analysisStatusOrder`.
    Successful,
    Running,
    Inconclusive,
    Error,
    Failed,
}

impl Phase {
    pub fn completed(self) -> bool {
        self != Phase::Running
    }
    pub fn name(self) -> &'static str {
        match self {
            Phase::Successful => "Successful",
            Phase::Running => "Running",
            Phase::Inconclusive => "Inconclusive",
            Phase::Error => "Error",
            Phase::Failed => "Failed",
        }
    }
}

/// Measurement counts (Argo's `MetricResult` counters, and a run's tally).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub measurements: u32,
    pub successful: u32,
    pub failed: u32,
    pub inconclusive: u32,
    pub errors: u32,
}

#[derive(Clone, Debug)]
struct MetricState {
    count: u32,
    limit_failed: u32,
    limit_inconclusive: u32,
    limit_errors: u32,
    interval: SimTime,
    dry_run: bool,
    tally: Tally,
    consecutive_errors: u32,
    phase: Phase,
    next: SimTime,
}

impl MetricState {
    fn new(m: &MetricSpec, start: SimTime) -> MetricState {
        MetricState {
            count: m.count,
            limit_failed: m.failure_limit,
            limit_inconclusive: m.inconclusive_limit,
            limit_errors: m.consecutive_error_limit,
            interval: m.interval,
            dry_run: m.dry_run,
            tally: Tally::default(),
            consecutive_errors: 0,
            phase: Phase::Running,
            next: start + m.initial_delay,
        }
    }

    /// Argo's `assessMetricStatus` after a measurement.
    fn assess(&self) -> Phase {
        let t = &self.tally;
        let mut phase = None;
        if t.failed > self.limit_failed {
            phase = Some(Phase::Failed);
        }
        if t.inconclusive > self.limit_inconclusive {
            phase = Some(Phase::Inconclusive);
        }
        if self.consecutive_errors > self.limit_errors {
            phase = Some(Phase::Error);
        }
        let counted = t.successful + t.failed + t.inconclusive;
        phase.unwrap_or(if self.count > 0 && counted >= self.count {
            Phase::Successful
        } else {
            Phase::Running
        })
    }
}

/// The state of one run of a template.
#[derive(Clone, Debug)]
pub struct AnalysisRun {
    metrics: Vec<MetricState>,
    terminated: bool,
}

impl AnalysisRun {
    /// A run of `template` started at `start`.
    pub fn new(template: &Template, start: SimTime) -> AnalysisRun {
        AnalysisRun {
            metrics: template
                .metrics
                .iter()
                .map(|m| MetricState::new(m, start))
                .collect(),
            terminated: false,
        }
    }

    /// Whether the run takes no more measurements (completed, failed or stopped).
    pub fn is_over(&self) -> bool {
        self.terminated || self.phase().completed()
    }

    fn stopping(&self) -> bool {
        self.terminated
            || self.metrics.iter().any(|m| {
                !m.dry_run && matches!(m.phase, Phase::Failed | Phase::Error | Phase::Inconclusive)
            })
    }

    /// When the next measurement is due, if the run still measures.
    pub fn next_due(&self) -> Option<SimTime> {
        if self.stopping() {
            return None;
        }
        self.metrics
            .iter()
            .filter(|m| m.phase == Phase::Running)
            .map(|m| m.next)
            .min()
    }

    /// The metrics (indices into the template's) whose measurement is due at `now`.
    pub fn due(&self, now: SimTime) -> impl Iterator<Item = usize> + '_ {
        let stopping = self.stopping();
        self.metrics
            .iter()
            .enumerate()
            .filter(move |(_, m)| !stopping && m.phase == Phase::Running && m.next <= now)
            .map(|(i, _)| i)
    }

    /// Records metric `i`'s measurement taken at `now`; returns the run's phase after it.
    pub fn record(&mut self, i: usize, outcome: Outcome, now: SimTime) -> Phase {
        let m = &mut self.metrics[i];
        m.tally.measurements += 1;
        match outcome {
            Outcome::Successful => m.tally.successful += 1,
            Outcome::Failed => m.tally.failed += 1,
            Outcome::Inconclusive => m.tally.inconclusive += 1,
            Outcome::Error => m.tally.errors += 1,
        }
        if outcome == Outcome::Error {
            m.consecutive_errors += 1;
            m.next = now + ERROR_RETRY;
        } else {
            m.consecutive_errors = 0;
            m.next = now + m.interval;
        }
        m.phase = m.assess();
        self.phase()
    }

    /// Stops the run (a background analysis when the rollout completes or aborts):
    /// metrics still running are Successful. Returns the final phase.
    pub fn terminate(&mut self) -> Phase {
        self.terminated = true;
        for m in &mut self.metrics {
            if m.phase == Phase::Running {
                m.phase = Phase::Successful;
            }
        }
        self.phase()
    }

    /// Argo's `assessRunStatus`: the worst phase of the completed metrics that are not
    /// dry-run once one has failed (or the run was stopped, or every metric completed);
    /// Running otherwise.
    pub fn phase(&self) -> Phase {
        let worst = self
            .metrics
            .iter()
            .filter(|m| !m.dry_run && m.phase.completed())
            .map(|m| m.phase)
            .max();
        let all_done = self.metrics.iter().all(|m| m.phase.completed());
        if self.stopping() || all_done {
            // A run of dry-run metrics only, or stopped before any completed: Successful.
            worst.unwrap_or(Phase::Successful)
        } else {
            Phase::Running
        }
    }

    /// Metric `i`'s phase and counts.
    pub fn metric(&self, i: usize) -> (Phase, Tally) {
        (self.metrics[i].phase, self.metrics[i].tally)
    }

    /// Counts over every metric of the run (dry-run ones included: they were measured).
    pub fn tally(&self) -> Tally {
        self.metrics.iter().fold(Tally::default(), |a, m| Tally {
            measurements: a.measurements + m.tally.measurements,
            successful: a.successful + m.tally.successful,
            failed: a.failed + m.tally.failed,
            inconclusive: a.inconclusive + m.tally.inconclusive,
            errors: a.errors + m.tally.errors,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::analysis::*;
    use Outcome::{Error as E, Failed as F, Inconclusive as I, Successful as S};

    fn s(x: u64) -> SimTime {
        SimTime::from_secs(x)
    }

    fn metric(count: u32, failure_limit: u32, inconclusive_limit: u32, errors: u32) -> MetricSpec {
        MetricSpec {
            name: "m".into(),
            measure: Measure::SuccessRate,
            scope: Scope::Canary,
            window: s(60),
            interval: s(60),
            count,
            initial_delay: s(30),
            failure_limit,
            inconclusive_limit,
            consecutive_error_limit: errors,
            on_nan: OnNan::Failed,
            judge: Judge::Threshold {
                success: None,
                failure: None,
            },
            dry_run: false,
        }
    }

    fn one(m: MetricSpec) -> Template {
        Template {
            name: "t".into(),
            metrics: vec![m],
        }
    }

    /// Feeds outcomes to a one-metric run, each when due; returns the phase after each.
    fn feed(m: MetricSpec, outcomes: &[Outcome]) -> Vec<Phase> {
        let mut run = AnalysisRun::new(&one(m), s(0));
        outcomes
            .iter()
            .map(|&o| {
                let at = run.next_due().expect("the run still measures");
                assert_eq!(run.due(at).collect::<Vec<_>>(), [0]);
                run.record(0, o, at)
            })
            .collect()
    }

    /// Argo's metric semantics, case by case (count, failure_limit, inconclusive_limit,
    /// consecutive_error_limit; outcomes; the run's phase after each).
    #[test]
    fn argo_metric_semantics() {
        use Phase::{
            Error as PE, Failed as PF, Inconclusive as PI, Running as PR, Successful as PS,
        };
        type Case = ((u32, u32, u32, u32), Vec<Outcome>, Vec<Phase>);
        let cases: Vec<Case> = vec![
            // count 3, no failure allowed: three successes succeed.
            ((3, 0, 0, 4), vec![S, S, S], vec![PR, PR, PS]),
            // failure_limit counts in total, not in a row: the 2nd failure (> 1) fails.
            ((5, 1, 0, 4), vec![F, S, F], vec![PR, PR, PF]),
            // Failures within the limit at count: Successful.
            ((3, 1, 0, 4), vec![S, F, S], vec![PR, PR, PS]),
            // inconclusive > inconclusive_limit (0): the run is Inconclusive at once.
            ((3, 0, 0, 4), vec![I], vec![PI]),
            ((3, 0, 1, 4), vec![I, S, S], vec![PR, PR, PS]),
            // Errors do not count towards count; 5 in a row (> 4) is Error.
            ((2, 0, 0, 4), vec![E, E, E, E, E], vec![PR, PR, PR, PR, PE]),
            // A success resets the error run.
            ((3, 0, 0, 1), vec![E, S, E, S, S], vec![PR, PR, PR, PR, PS]),
            // count 0: runs for ever.
            ((0, 0, 0, 4), vec![S, S, S, S], vec![PR, PR, PR, PR]),
        ];
        for (i, ((count, fl, il, el), outcomes, want)) in cases.into_iter().enumerate() {
            assert_eq!(feed(metric(count, fl, il, el), &outcomes), want, "case {i}");
        }
    }

    #[test]
    fn schedule_initial_delay_interval_and_error_retry() {
        let mut run = AnalysisRun::new(&one(metric(0, 9, 9, 9)), s(100));
        assert_eq!(run.next_due(), Some(s(130)));
        assert_eq!(run.due(s(129)).count(), 0);
        run.record(0, S, s(130));
        assert_eq!(run.next_due(), Some(s(190)));
        run.record(0, E, s(190));
        assert_eq!(run.next_due(), Some(s(200)));
        assert_eq!(run.terminate(), Phase::Successful);
        assert_eq!(run.next_due(), None);
        let t = run.tally();
        assert_eq!((t.measurements, t.successful, t.errors), (2, 1, 1));
    }

    /// A dry-run metric is measured but never decides the run; a failing real metric
    /// stops the whole run (no more measurements of any metric).
    #[test]
    fn dry_run_and_stopping() {
        let mut dry = metric(2, 0, 0, 4);
        dry.dry_run = true;
        let real = metric(2, 0, 0, 4);
        let t = Template {
            name: "t".into(),
            metrics: vec![dry, real],
        };
        let mut run = AnalysisRun::new(&t, s(0));
        assert_eq!(run.due(s(30)).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(run.record(0, F, s(30)), Phase::Running);
        assert_eq!(run.metric(0).0, Phase::Failed);
        assert_eq!(run.record(1, S, s(30)), Phase::Running);
        assert_eq!(run.record(1, S, s(90)), Phase::Successful);
        // And a real failure stops the run even with the dry-run metric still to go.
        let mut dry = metric(5, 0, 0, 4);
        dry.dry_run = true;
        let t = Template {
            name: "t".into(),
            metrics: vec![dry, metric(5, 0, 0, 4)],
        };
        let mut run = AnalysisRun::new(&t, s(0));
        run.record(0, S, s(30));
        assert_eq!(run.record(1, F, s(30)), Phase::Failed);
        assert_eq!(run.next_due(), None);
        assert!(run.is_over());
    }
}
