//! Flagger `Canary` with a traffic-splitting provider (service mesh or ingress), after
//! Flagger's scheduler (`pkg/controller/scheduler.go`, `advanceCanary`).
//!
//! Follows Flagger, one step per `interval` tick (the first tick is the deploy start):
//! - tick 0, "new revision detected": the canary deployment scales up to `replicas`
//!   beside the full-size primary; the canary weight is 0.
//! - each later tick: wait while the canary is not ready (past a 10 min progress
//!   deadline this fails the canary); when the failed checks have reached `threshold`,
//!   roll back; otherwise check the metrics (skipped on the first tick at weight 0,
//!   "Starting canary analysis"). A failed check is counted (never reset by a later
//!   pass) and halts advancement for this tick; the first one is the detection. A
//!   passing one advances the weight by `step_weight` up to `max_weight`, or to the
//!   next of `step_weights` (whose last entry is then the maximum; a non-zero
//!   `step_weight` takes precedence, as in Flagger); at the maximum a passing check
//!   promotes: the primary's template is replaced (a Kubernetes rolling update of the
//!   primary, 25% / 25%, the Deployment defaults), the canary keeps its weight
//!   meanwhile. The next tick with the primary rolled out
//!   routes all traffic to it; the one after scales the canary to zero: succeeded.
//! - `iterations > 0`: blue/green. The canary gets no traffic during `iterations`
//!   checks, then (mesh provider) all traffic for one more interval, and a passing
//!   check on that traffic promotes.
//! - Rollback: weight 0 and the canary scaled to zero; it completes when the canary
//!   pods are gone.
//!
//! Metric checks use the `[monitoring]` rule on the new version's traffic:
//! - no canary request in the window while the canary should get traffic is Flagger's
//!   "no values found": a failed check;
//! - some requests but fewer than `min_requests`: no verdict, advancement halts for
//!   the tick without a failed check;
//! - at weight 0 (blue/green iterations) the canary gets no user traffic and this model
//!   has no load tester: the check has no verdict and the iteration counts, so only
//!   readiness gates the iterations; the interval at 100% is the real check.
//!
//! `rollback = "auto"` is Flagger's own rollback. With `"manual"` or `"none"` the
//! threshold halts the canary where it is (stalled, weight unchanged) and only the
//! alert → person path can roll back. The analysis is the controller's own:
//! `analysis_scope` is `None` so the run loop does not analyse twice.
//!
//! Simplifies: primary and canary pods of the new version are one ReplicaSet in
//! `Core`; during promotion the new-version weight is `max_weight` plus the primary's
//! share of the rest in proportion to its ready new pods (what the real split gives,
//! averaged over the new pods). A rollback once promotion has started (only a person
//! can ask for it) trims the new pods to `replicas` and rolls the primary back with a
//! rolling update over the pooled service.

use super::rolling::{RollingEngine, resolve_bounds};
use crate::metrics::DeployPhase;
use crate::scenario::analysis::FlaggerMetric;
use crate::scenario::{FlaggerParams, IntOrPercent, Rollback};
use crate::sim::SimTime;
use crate::world::balancer::Mode;
use crate::world::{Ctl, RuleVerdict, Scope};

/// Kubernetes' default `progressDeadlineSeconds`, which Flagger applies to the canary.
const PROGRESS_DEADLINE: SimTime = SimTime::from_secs(600);
const TICK: u32 = 1;

#[derive(Clone, Debug)]
enum State {
    Progressing,
    Promoting,
    Finalising,
    /// Failed checks reached the threshold without automatic rollback.
    Halted,
    Aborting,
    RollingBackPrimary(RollingEngine),
    Done,
}

/// Outcome of one metric check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    Pass,
    Fail,
    /// Too few requests to judge: halt advancement without a failed check.
    Halt,
}

#[derive(Clone, Debug)]
pub struct Flagger {
    p: FlaggerParams,
    replicas: u32,
    rollback: Rollback,
    surge: u32,
    unavail: u32,
    state: State,
    weight: u32,
    failed_checks: u32,
    iterations: u32,
    /// Weight advances made so far (the index into `step_weights`).
    advances: u32,
    /// Last time the canary was fully ready (or scaled up): the progress deadline.
    canary_progress_at: SimTime,
    primary_ready: bool,
    /// Flagger's `analysis.metrics` (empty: the `[monitoring]` rule is the check).
    metrics: Vec<FlaggerMetric>,
}

impl Flagger {
    pub fn new(
        p: &FlaggerParams,
        replicas: u32,
        rollback: Rollback,
        metrics: Vec<FlaggerMetric>,
    ) -> Self {
        let quarter = IntOrPercent::Percent(25.0);
        let (surge, unavail) = resolve_bounds(replicas, quarter, quarter);
        Flagger {
            p: p.clone(),
            replicas,
            rollback,
            surge,
            unavail,
            state: State::Progressing,
            weight: 0,
            failed_checks: 0,
            iterations: 0,
            advances: 0,
            canary_progress_at: SimTime::ZERO,
            primary_ready: true,
            metrics,
        }
    }

    fn max_weight(&self) -> u32 {
        match self.p.step_weights.last() {
            Some(&last) => last.min(100),
            None if self.p.max_weight > 0 => self.p.max_weight.min(100),
            None => 100,
        }
    }

    /// The weight of the next advance, or `None` when the ramp is over and a passing
    /// check promotes. As Flagger's `nextStepWeight` and `runCanary`: a non-zero
    /// `step_weight` takes precedence (increments up to `max_weight`); otherwise the
    /// weights follow `step_weights`, one entry per advance. For a rising list that is
    /// Flagger's lookup of the current weight; a repeated entry holds its weight for
    /// one more interval (Flagger would stop advancing there; the importer's A/B
    /// share relies on the hold).
    fn next_weight(&self) -> Option<u32> {
        if self.p.step_weight > 0 || self.p.step_weights.is_empty() {
            return (self.weight < self.max_weight())
                .then(|| (self.weight + self.p.step_weight).min(100));
        }
        self.p
            .step_weights
            .get(self.advances as usize)
            .map(|&w| w.min(100))
    }

    fn set_weight(&mut self, w: u32, core: &mut Ctl) {
        self.weight = w;
        core.set_mode(Mode::Weighted {
            new_weight: w,
            sticky: false,
        });
    }

    pub fn start(&mut self, core: &mut Ctl) {
        core.set_phase(DeployPhase::Analysis);
        self.set_weight(0, core);
        core.log("flagger", None, || {
            "new revision detected, scaling up canary".into()
        });
        core.set_desired(1, self.replicas);
        self.canary_progress_at = core.now();
        core.timer(core.now() + self.p.interval, TICK);
    }

    pub fn sync(&mut self, core: &mut Ctl) {
        match &self.state {
            State::Progressing => {
                if core.counts(1).available >= self.replicas {
                    self.canary_progress_at = core.now();
                }
            }
            State::Promoting | State::Finalising => {
                self.primary_ready = self.primary_step(core);
                if matches!(self.state, State::Promoting) {
                    self.promotion_weight(core);
                }
            }
            State::Aborting => {
                let c = core.counts(1);
                if c.active + c.terminating == 0 {
                    self.rollback_done(core);
                }
            }
            State::RollingBackPrimary(engine) => {
                if engine.clone().step(core) {
                    self.rollback_done(core);
                }
            }
            State::Halted | State::Done => {}
        }
    }

    pub fn timer(&mut self, _tag: u32, core: &mut Ctl) {
        let again = match self.state {
            State::Progressing => {
                self.progress(core);
                true
            }
            State::Promoting => {
                if self.primary_ready {
                    // All traffic to the primary, which now runs the new version.
                    self.set_weight(100, core);
                    core.log("flagger", None, || "routing all traffic to primary".into());
                    self.state = State::Finalising;
                }
                true
            }
            State::Finalising => {
                self.scale_canary_to_zero(core);
                self.state = State::Done;
                core.deploy_complete(|| "promotion completed".into());
                false
            }
            _ => false,
        };
        if again
            && matches!(
                self.state,
                State::Progressing | State::Promoting | State::Finalising
            )
        {
            core.timer(core.now() + self.p.interval, TICK);
        }
    }

    /// The canary's pods are the oldest new-version ones (created at tick 0); all
    /// traffic went to the primary one interval ago, so they leave unrouted.
    fn scale_canary_to_zero(&mut self, core: &mut Ctl) {
        let mut new_pods: Vec<u32> = core.active_pods(1).collect();
        new_pods.sort_by_key(|&i| (core.pod(i).created, i));
        let surplus = new_pods.len().saturating_sub(self.replicas as usize);
        for &p in &new_pods[..surplus] {
            core.terminate_unrouted(p);
        }
        core.set_desired(1, self.replicas);
    }

    /// One analysis tick while progressing.
    fn progress(&mut self, core: &mut Ctl) {
        if core.counts(1).available < self.replicas {
            if core.now().saturating_sub(self.canary_progress_at) >= PROGRESS_DEADLINE {
                core.log("flagger", None, || {
                    "canary progress deadline exceeded".into()
                });
                core.detected();
                self.fail(core);
            }
            return;
        }
        if self.failed_checks >= self.p.threshold.max(1) {
            self.fail(core);
            return;
        }
        if !(self.weight == 0 && self.iterations == 0) {
            match self.check(core) {
                Check::Pass => {}
                Check::Halt => {
                    core.log("flagger", None, || {
                        "halt advancement: too few requests".into()
                    });
                    return;
                }
                Check::Fail => {
                    self.failed_checks += 1;
                    let n = self.failed_checks;
                    core.log("check_failed", None, || format!("failed checks {n}"));
                    // DESIGN §6: detection is the first failed check, not the one that
                    // reaches the threshold (that one only decides).
                    core.detected();
                    return;
                }
            }
        }
        if self.p.iterations > 0 {
            if self.iterations < self.p.iterations {
                self.iterations += 1;
            } else if self.iterations == self.p.iterations {
                self.set_weight(100, core);
                self.iterations += 1;
            } else {
                self.promote(core);
            }
            return;
        }
        match self.next_weight() {
            Some(w) => {
                self.advances += 1;
                self.set_weight(w, core);
            }
            None => self.promote(core),
        }
    }

    fn check(&self, core: &mut Ctl) -> Check {
        if !self.metrics.is_empty() {
            // Every metric within its range; "no values found" fails it, as in Flagger.
            return if core.flagger_checks(&self.metrics) {
                Check::Pass
            } else {
                Check::Fail
            };
        }
        match core.evaluate(Scope::NewVersion) {
            RuleVerdict::Pass => Check::Pass,
            RuleVerdict::Fail => Check::Fail,
            RuleVerdict::NoVerdict if self.weight == 0 => Check::Pass,
            RuleVerdict::NoVerdict => {
                if core.window_requests(Scope::NewVersion) <= 0.0 {
                    Check::Fail
                } else {
                    Check::Halt
                }
            }
        }
    }

    fn fail(&mut self, core: &mut Ctl) {
        if self.rollback == Rollback::Auto {
            core.log("analysis_failed", None, || {
                format!("canary failed after {} failed checks", self.failed_checks)
            });
            core.request_rollback();
        } else {
            self.state = State::Halted;
            core.set_stalled(true);
            core.set_phase(DeployPhase::Stalled);
            core.log("analysis_failed", None, || "canary halted".into());
        }
    }

    fn promote(&mut self, core: &mut Ctl) {
        core.log("promote", None, || "copying canary spec to primary".into());
        self.state = State::Promoting;
        core.set_phase(DeployPhase::Promoting);
        self.primary_ready = false;
        self.sync(core);
    }

    /// One reconcile of the primary's rolling update towards the new version; the
    /// canary's `replicas` new pods are not the primary's. Returns true when the
    /// primary has rolled out.
    fn primary_step(&self, core: &mut Ctl) -> bool {
        let r = self.replicas;
        let canary = r;
        let primary_new = |core: &Ctl| core.desired(1).saturating_sub(canary);
        let total = core.desired(0) + primary_new(core);
        let max_total = r + self.surge;
        if primary_new(core) < r && total < max_total {
            let up = (max_total - total).min(r - primary_new(core));
            core.set_desired(1, core.desired(1) + up);
        }
        let min_available = r.saturating_sub(self.unavail);
        let new_available = core.counts(1).available.saturating_sub(canary);
        let new_unavailable = primary_new(core).saturating_sub(new_available);
        let old = core.counts(0);
        let all = core.desired(0) + primary_new(core);
        let old_unhealthy = core.desired(0).saturating_sub(old.available);
        let cleanup = old_unhealthy.min(
            all.saturating_sub(min_available)
                .saturating_sub(new_unavailable),
        );
        if cleanup > 0 {
            core.set_desired(0, core.desired(0) - cleanup);
        }
        let available = core.counts(0).available + new_available;
        let down = available.saturating_sub(min_available).min(core.desired(0));
        if down > 0 {
            core.set_desired(0, core.desired(0) - down);
        }
        core.desired(0) == 0 && core.counts(0).active == 0 && new_available >= r
    }

    /// During promotion the canary keeps `max_weight`; the primary's share goes to its
    /// old and new pods in proportion to the ready ones.
    fn promotion_weight(&mut self, core: &mut Ctl) {
        let max = self.max_weight();
        let ready_old = core.counts(0).ready;
        let ready_new = core.counts(1).ready.saturating_sub(self.replicas);
        if ready_old + ready_new == 0 {
            return;
        }
        let share = (100 - max) as f64 * ready_new as f64 / (ready_old + ready_new) as f64;
        let w = max + share.round() as u32;
        if w != self.weight {
            self.set_weight(w.min(100), core);
        }
    }

    pub fn analysis_scope(&self) -> Option<Scope> {
        None
    }

    pub fn rollback(&mut self, core: &mut Ctl) {
        match self.state {
            State::Progressing | State::Halted => {
                self.set_weight(0, core);
                core.set_desired(1, 0);
                core.log("flagger", None, || "canary failed, scaling down".into());
                self.state = State::Aborting;
            }
            _ => {
                core.set_desired(1, core.desired(1).min(self.replicas));
                core.set_mode(Mode::Pooled);
                self.state = State::RollingBackPrimary(RollingEngine {
                    from: 1,
                    to: 0,
                    replicas: self.replicas,
                    surge: self.surge,
                    unavail: self.unavail,
                });
            }
        }
        core.set_stalled(false);
        self.sync(core);
    }

    fn rollback_done(&mut self, core: &mut Ctl) {
        self.state = State::Done;
        core.rollback_complete();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Outcome;
    use crate::metrics::RunOutput;
    use crate::scenario::{Fault, StrategyKind};
    use crate::strategy::swarm::tests::{run, scenario};

    fn flagger(step_weight: u32, max_weight: u32, threshold: u32, iterations: u32) -> StrategyKind {
        StrategyKind::Flagger(FlaggerParams {
            interval: SimTime::from_secs(60),
            step_weights: vec![],
            step_weight,
            max_weight,
            threshold,
            iterations,
        })
    }

    fn event_time(out: &RunOutput, kind: &str) -> Option<f64> {
        let events = &out.trace.as_ref().unwrap().events;
        events
            .iter()
            .find(|e| e.kind == kind)
            .map(|e| e.t.secs_f64())
    }

    #[test]
    fn healthy_weights_follow_interval_steps_then_promote() {
        let sc = scenario(6, None);
        let out = run(&sc, flagger(10, 50, 2, 0), Rollback::Auto);
        assert_eq!(out.row.outcome, Outcome::Completed);
        // Tick 0 (t0 = 60 s) scales the canary up (ready after 2 s pull + 10 s
        // startup + a probe); tick k = 1..5 sets the weight to 10·k; tick 6 passes its
        // check at 50% and promotes.
        let tl = &out.trace.as_ref().unwrap().timeline;
        for k in 1..=5u64 {
            let t = 60 + 60 * k + 30;
            let row = tl.iter().find(|r| r.sample.t_s == t).unwrap();
            assert_eq!(row.sample.new_weight, 10.0 * k as f64, "t={t}");
        }
        assert_eq!(event_time(&out, "promote"), Some(60.0 + 6.0 * 60.0));
        // The primary rolls out after tick 6, so routing all traffic to it is at tick
        // 7 at the earliest and the canary scale-down (success) at tick 8.
        let d = out.row.deploy_duration_s.unwrap();
        assert!(d >= 8.0 * 60.0, "{d}");
        // Six pods, 25%/25% (2 surge, 1 unavailable), 12–14 s per wave: done by tick 7.
        assert_eq!(d, 8.0 * 60.0);
        assert_eq!(out.row.downtime_s, 0.0);
        assert!(out.row.decide_s.is_none());
    }

    #[test]
    fn faulty_errors_roll_back_after_threshold_checks() {
        let sc = scenario(6, Some(Fault::Errors { error_rate: 0.5 }));
        let out = run(&sc, flagger(10, 50, 2, 0), Rollback::Auto);
        // Tick 1 sets 10%; ticks 2 and 3 fail their checks (half of the canary's
        // requests fail); tick 4 finds the threshold reached and rolls back.
        assert_eq!(out.row.decide_s, Some(4.0 * 60.0));
        assert_eq!(out.row.outcome, Outcome::RolledBack);
        // Weight 0 takes effect at once: the canary's last request is just before.
        let exposure = out.row.exposure_end_s.unwrap();
        assert!((239.0..=240.0).contains(&exposure), "{exposure}");
        // Only a tenth of the traffic saw the canary.
        assert!(out.row.blast_radius < 0.05, "{}", out.row.blast_radius);
    }

    #[test]
    fn manual_rollback_halts_at_threshold() {
        let mut sc = scenario(6, Some(Fault::Errors { error_rate: 0.5 }));
        // Service error rate at 10% canary weight: 5%, above the 2% alert rule.
        sc.monitoring.human_response = crate::scenario::Dist::Constant(SimTime::from_secs(400));
        let out = run(&sc, flagger(10, 50, 2, 0), Rollback::Manual);
        let halted = event_time(&out, "analysis_failed").unwrap();
        assert_eq!(halted, 60.0 + 4.0 * 60.0);
        // The decision is the person's, 400 s after the alert. At 10% weight the
        // service error rate is 5%: the 30 s window passes 2% once more than 12 s of it
        // are at 10%, i.e. at the evaluation 20 s after tick 1 (t0 + 80 s).
        assert_eq!(out.row.detect_s, Some(80.0));
        assert_eq!(out.row.decide_s, Some(480.0));
        assert_eq!(out.row.outcome, Outcome::RolledBack);
    }

    #[test]
    fn blue_green_iterations_promote_after_full_traffic_check() {
        let sc = scenario(6, None);
        let out = run(&sc, flagger(0, 0, 2, 3), Rollback::Auto);
        // Ticks 1–3: iterations without traffic; tick 4: all traffic to the canary;
        // tick 5: the check at 100% passes and promotes.
        assert_eq!(event_time(&out, "promote"), Some(60.0 + 5.0 * 60.0));
        assert_eq!(out.row.outcome, Outcome::Completed);
        assert!(out.row.deploy_duration_s.unwrap() >= 7.0 * 60.0);
    }

    #[test]
    fn crash_on_start_fails_at_progress_deadline() {
        let sc = scenario(6, Some(Fault::CrashOnStart));
        let out = run(&sc, flagger(10, 50, 2, 0), Rollback::Auto);
        // The canary never becomes ready: no traffic shifts, and the first tick at
        // least 600 s after the scale-up fails it.
        assert_eq!(out.row.decide_s, Some(600.0));
        assert_eq!(out.row.exposed_requests, 0);
        assert_eq!(out.row.outcome, Outcome::RolledBack);
    }
}
