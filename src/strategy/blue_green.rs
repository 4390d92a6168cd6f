//! Argo Rollouts `blueGreen`: a full preview stack beside the active one, promotion
//! by switching the active service, the old stack kept for `scale_down_delay`.
//!
//! Follows the rollout controller's sequence: the new ReplicaSet is scaled to
//! `replicas` behind the preview service while the active service keeps the old one;
//! once every preview pod is available the pre-promotion phase runs for
//! `preview_duration`; then the rollout promotes (`auto_promote = true`) or pauses
//! until a person promotes it (after a `human_promote` draw). Either way the switch
//! waits until the new ReplicaSet is fully available again (Argo's
//! `reconcileActiveService` skips the switch while the new ReplicaSet is not
//! saturated: a preview pod that crashed or turned unready holds it). Promotion
//! switches the active service's selector; the old stack is scaled to zero after
//! `scale_down_delay`, during which the post-promotion analysis watches the new
//! version's live traffic. The deploy counts as done at that scale-down (Argo marks
//! the rollout fully promoted when post-promotion analysis ends, which it cuts off at
//! `scaleDownDelaySeconds`).
//!
//! Pre-promotion check: from the start of the pre-promotion phase (once the preview
//! endpoints have reached the balancer, one `endpoint_lag` later) until the switch,
//! a load test sends `preview_rate` synthetic requests per second to the preview
//! service (`Core::preview_traffic`); they are served by the preview pods like any
//! request but are not user traffic. With `rollback = "auto"` the `[monitoring]` rule
//! is evaluated on them every `interval` (`Scope::Preview`, the stand-in for a
//! `prePromotionAnalysis`), and a failure aborts before any user reaches the new
//! version. With `preview_rate = 0` nothing checks the preview stack but readiness.
//!
//! A selector switch is not instant: it reaches the balancer after `endpoint_lag`,
//! like any endpoint change, so a switch back during `scale_down_delay` restores the
//! old version within that lag.
//!
//! Abort: the active service goes back to the old stack (scaled back up first if it
//! is gone); once it serves everything and is fully available, the preview stack is
//! scaled down after `abort_scale_down_delay` (Argo's `abortScaleDownDelaySeconds`,
//! 30 s by default; `"0s"` leaves it running for good, and the rollback is then
//! complete without it). A rollback after the old stack is gone is a new rollout in
//! Argo: the version it replaces goes after `scale_down_delay`.
//!
//! Simplifications: the pre-promotion check is the `[monitoring]` rule, not an
//! AnalysisTemplate; no `previewReplicaCount`; `progressDeadlineSeconds` takes Argo's
//! default (600 s) while the preview stack comes up (or a promotion waits for it) and
//! only marks the rollout stalled. In fluid mode the synthetic requests stay
//! request-level (the preview stack has no user traffic, so they meet no fluid
//! load); a parked probe chain of a preview pod does not see them queue.

use crate::analysis::Phase as RunPhase;
use crate::metrics::DeployPhase;
use crate::scenario::BlueGreenParams;
use crate::scenario::analysis::StrategyAnalysis;
use crate::sim::SimTime;
use crate::world::analysis::{AnalysisId, Owner};
use crate::world::balancer::Mode;
use crate::world::{Ctl, Scope};

/// Argo's default `progressDeadlineSeconds`.
const PROGRESS_DEADLINE: SimTime = SimTime::from_secs(600);

const T_PREVIEW_DONE: u32 = 1;
const T_PERSON: u32 = 2;
const T_SCALE_DOWN: u32 = 3;
const T_SWITCH: u32 = 4;
const T_DEADLINE: u32 = 5;
const T_ABORT_SCALE_DOWN: u32 = 6;
const T_PREVIEW_LOAD: u32 = 7;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// The preview stack is coming up.
    Preview,
    /// Pre-promotion phase (`preview_duration`).
    Checking,
    /// Waiting for a person to promote.
    Gated,
    /// Promotion decided; the switch waits for a fully available new ReplicaSet.
    Promotable,
    /// Active service switched; the old stack waits for `scale_down_delay`.
    Switched,
    Done,
    Aborting,
    Aborted,
}

#[derive(Clone, Debug)]
pub struct BlueGreen {
    p: BlueGreenParams,
    replicas: u32,
    state: State,
    /// The version the active service selects (the balancer follows after the lag).
    active: u8,
    /// The balancer has caught up with `active`.
    switch_applied: bool,
    last_progress: (u32, u32),
    last_progress_at: SimTime,
    /// Aborting: how long the preview stack stays once the old one serves everything
    /// (`None`: never), and whether that wait has started.
    abort_delay: Option<SimTime>,
    abort_wait_started: bool,
    /// The templates this rollout runs (`pre_promotion_analysis`,
    /// `post_promotion_analysis`).
    analysis: StrategyAnalysis,
    /// The running pre-promotion analysis (promotion waits for its success).
    pre: Option<AnalysisId>,
    pre_passed: bool,
    /// `preview_duration` has elapsed (promotion waits for it too).
    preview_elapsed: bool,
    post: Option<AnalysisId>,
}

impl BlueGreen {
    pub fn new(p: &BlueGreenParams, replicas: u32, analysis: StrategyAnalysis) -> Self {
        BlueGreen {
            p: p.clone(),
            replicas,
            state: State::Preview,
            active: 0,
            switch_applied: true,
            last_progress: (0, 0),
            last_progress_at: SimTime::ZERO,
            abort_delay: None,
            abort_wait_started: false,
            pre_passed: analysis.pre_promotion.is_none(),
            analysis,
            pre: None,
            preview_elapsed: false,
            post: None,
        }
    }

    pub fn start(&mut self, core: &mut Ctl) {
        core.set_phase(DeployPhase::Rolling);
        core.set_mode(Mode::Weighted {
            new_weight: 0,
            sticky: false,
        });
        core.set_desired(1, self.replicas);
        self.last_progress_at = core.now();
        core.timer(core.now() + PROGRESS_DEADLINE, T_DEADLINE);
        self.sync(core);
    }

    /// Points the active service at `version`; the balancer follows after the lag.
    fn switch_to(&mut self, core: &mut Ctl, version: u8) {
        self.active = version;
        self.switch_applied = false;
        core.log("switch", None, || {
            format!("active service -> version {version}")
        });
        core.timer(
            core.now() + core.scenario().load_balancer.endpoint_lag,
            T_SWITCH,
        );
    }

    /// The progress deadline while the new ReplicaSet is not fully available: any
    /// change of its pod counts re-arms it (and clears a stall).
    fn note_progress(&mut self, core: &mut Ctl, phase: DeployPhase) {
        let c = core.counts(1);
        let p = (c.active, c.available);
        if p != self.last_progress {
            self.last_progress = p;
            self.last_progress_at = core.now();
            if core.stalled() {
                core.set_stalled(false);
                core.set_phase(phase);
            }
            core.timer(core.now() + PROGRESS_DEADLINE, T_DEADLINE);
        }
    }

    pub fn sync(&mut self, core: &mut Ctl) {
        let r = self.replicas;
        match self.state {
            State::Preview => {
                self.note_progress(core, DeployPhase::Rolling);
                if core.counts(1).available >= r {
                    self.state = State::Checking;
                    core.set_phase(DeployPhase::Paused);
                    core.set_stalled(false);
                    let d = self.p.preview_duration;
                    core.log("preview_ready", None, || {
                        format!(
                            "preview stack available; promotion checks for {}",
                            d.human()
                        )
                    });
                    if self.p.preview_rate > 0.0 {
                        let lag = core.scenario().load_balancer.endpoint_lag;
                        core.timer(core.now() + lag, T_PREVIEW_LOAD);
                    }
                    if let Some(t) = self.analysis.pre_promotion {
                        self.pre = Some(core.start_analysis(t, Owner::PrePromotion));
                    }
                    core.timer(core.now() + d, T_PREVIEW_DONE);
                }
            }
            State::Promotable => {
                self.note_progress(core, DeployPhase::Promoting);
                if core.counts(1).available >= r {
                    self.promote(core);
                }
            }
            State::Aborting => {
                if self.active == 1 && core.counts(0).available >= r {
                    self.switch_to(core, 0);
                }
                let back = self.active == 0 && self.switch_applied;
                let old_ready = core.counts(0).available >= r;
                // Argo sets the scale-down deadline of the aborted ReplicaSet once the
                // stable one can serve everything.
                if back && old_ready && !self.abort_wait_started {
                    self.abort_wait_started = true;
                    match self.abort_delay {
                        Some(d) => core.timer(core.now() + d, T_ABORT_SCALE_DOWN),
                        None => core.log("keep_preview", None, || {
                            "abort_scale_down_delay = 0s: the preview stack is never scaled down"
                                .into()
                        }),
                    }
                }
                let settled = self.abort_delay.is_none() || core.counts(1).active == 0;
                if back && old_ready && self.abort_wait_started && settled {
                    self.state = State::Aborted;
                    core.rollback_complete();
                }
            }
            _ => {}
        }
    }

    /// Promotion is decided (automatically or by a person): switch now if the new
    /// ReplicaSet is fully available, otherwise as soon as it is.
    fn promotion_decided(&mut self, core: &mut Ctl) {
        core.set_gated(false);
        let c = core.counts(1);
        if c.available >= self.replicas {
            self.promote(core);
            return;
        }
        self.state = State::Promotable;
        core.set_phase(DeployPhase::Promoting);
        let (a, r) = (c.available, self.replicas);
        core.log("promotion_waits", None, || {
            format!("new ReplicaSet not fully available ({a} of {r}): switch deferred")
        });
        self.last_progress = (c.active, c.available);
        self.last_progress_at = core.now();
        core.timer(core.now() + PROGRESS_DEADLINE, T_DEADLINE);
    }

    fn promote(&mut self, core: &mut Ctl) {
        self.state = State::Switched;
        core.set_phase(DeployPhase::Promoting);
        core.set_gated(false);
        core.set_stalled(false);
        core.preview_traffic(0.0);
        core.log("promote", None, String::new);
        self.switch_to(core, 1);
        if let Some(t) = self.analysis.post_promotion {
            self.post = Some(core.start_analysis(t, Owner::PostPromotion));
        }
        core.timer(core.now() + self.p.scale_down_delay, T_SCALE_DOWN);
    }

    /// The preview checks are over (`preview_duration` elapsed and, with a
    /// pre-promotion analysis, that analysis succeeded): promote automatically or wait
    /// for a person.
    fn checks_over(&mut self, core: &mut Ctl) {
        if !(self.preview_elapsed && self.pre_passed) || self.state != State::Checking {
            return;
        }
        if self.p.auto_promote {
            self.promotion_decided(core);
        } else {
            self.state = State::Gated;
            core.set_gated(true);
            let d = core.people_draw(&core.scenario().monitoring.human_promote);
            core.log("pause", None, || {
                format!("a person promotes in {}", d.human())
            });
            core.timer(core.now() + d, T_PERSON);
        }
    }

    /// An analysis this rollout started has completed (`phase`).
    pub fn analysis_done(&mut self, id: AnalysisId, owner: Owner, phase: RunPhase, core: &mut Ctl) {
        let ours = match owner {
            Owner::PrePromotion => self.pre == Some(id) && self.pre_promotion(),
            Owner::PostPromotion => self.post == Some(id) && self.state == State::Switched,
            _ => false,
        };
        if !ours {
            return;
        }
        match phase {
            RunPhase::Successful | RunPhase::Running => {
                if owner == Owner::PrePromotion {
                    self.pre_passed = true;
                    self.checks_over(core);
                }
            }
            RunPhase::Failed | RunPhase::Error => {
                core.log("analysis_failed", None, || {
                    format!("{owner:?} analysis {}", phase.name())
                });
                // Argo aborts the rollout on a failed pre- or post-promotion analysis.
                core.detected();
                core.request_rollback();
            }
            RunPhase::Inconclusive => {
                // Argo pauses the rollout: a person decides (promotes).
                core.log("analysis_inconclusive", None, || {
                    format!("{owner:?} analysis inconclusive: the rollout waits for a person")
                });
                if owner == Owner::PrePromotion && self.state == State::Checking {
                    self.pre_passed = true;
                    self.state = State::Gated;
                    core.set_gated(true);
                    let d = core.people_draw(&core.scenario().monitoring.human_promote);
                    core.timer(core.now() + d, T_PERSON);
                }
            }
        }
    }

    pub fn timer(&mut self, tag: u32, core: &mut Ctl) {
        match tag {
            T_PREVIEW_DONE if self.state == State::Checking => {
                self.preview_elapsed = true;
                if !self.pre_passed {
                    core.log("promotion_waits", None, || {
                        "the pre-promotion analysis has not succeeded yet".into()
                    });
                }
                self.checks_over(core);
            }
            T_PERSON if self.state == State::Gated => self.promotion_decided(core),
            T_PREVIEW_LOAD if self.pre_promotion() => {
                core.preview_traffic(self.p.preview_rate);
            }
            T_SCALE_DOWN if self.state == State::Switched => {
                // The post-promotion analysis is cut off at the scale-down.
                if let Some(id) = self.post.take() {
                    core.stop_analysis(id);
                }
                core.log("scale_down", None, || "old stack scaled down".into());
                core.set_desired(0, 0);
                self.state = State::Done;
                core.deploy_complete(String::new);
            }
            T_SWITCH if !self.switch_applied => {
                self.switch_applied = true;
                core.set_mode(Mode::Weighted {
                    new_weight: if self.active == 1 { 100 } else { 0 },
                    sticky: false,
                });
                self.sync(core);
            }
            T_ABORT_SCALE_DOWN if self.state == State::Aborting => {
                core.log("scale_down", None, || {
                    "aborted preview stack scaled down".into()
                });
                core.set_desired(1, 0);
                self.sync(core);
            }
            T_DEADLINE
                if matches!(self.state, State::Preview | State::Promotable)
                    && core.now() >= self.last_progress_at + PROGRESS_DEADLINE =>
            {
                core.progress_deadline_exceeded(false);
            }
            _ => {}
        }
    }

    /// From the preview stack's availability until the switch.
    fn pre_promotion(&self) -> bool {
        matches!(
            self.state,
            State::Checking | State::Gated | State::Promotable
        )
    }

    /// The strategy's own analysis: the synthetic preview requests before the switch
    /// (when there are any), live traffic from the switch until the old stack goes.
    pub fn analysis_scope(&self) -> Option<Scope> {
        match self.state {
            _ if self.pre_promotion() && self.p.preview_rate > 0.0 => Some(Scope::Preview),
            State::Switched => Some(Scope::NewVersion),
            _ => None,
        }
    }

    pub fn rollback(&mut self, core: &mut Ctl) {
        // After the old stack is gone Argo has nothing to abort: going back is a new
        // rollout, and the version it replaces goes after `scaleDownDelaySeconds`.
        self.abort_delay = if self.state == State::Done {
            Some(self.p.scale_down_delay)
        } else {
            self.p.abort_scale_down_delay
        };
        self.state = State::Aborting;
        for id in [self.pre.take(), self.post.take()].into_iter().flatten() {
            core.stop_analysis(id);
        }
        core.set_gated(false);
        core.set_stalled(false);
        core.preview_traffic(0.0);
        core.log("abort", None, || "rollout aborted".into());
        if core.desired(0) != self.replicas {
            core.set_desired(0, self.replicas);
        }
        self.sync(core);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Outcome;
    use crate::scenario::{Fault, Rollback, StrategyKind};
    use crate::strategy::testkit::{first_event, run, s, scenario, strategy};

    fn params(auto_promote: bool) -> BlueGreenParams {
        BlueGreenParams {
            auto_promote,
            preview_duration: s(60),
            preview_rate: 0.0,
            scale_down_delay: s(30),
            abort_scale_down_delay: Some(s(30)),
        }
    }

    /// A healthy switch: two full stacks at the peak, and no failed request. The
    /// new stack is all ready and in the balancer before the switch; the switch only
    /// changes which version new requests pick; the old stack is deleted 30 s later,
    /// when it receives no new request and drains its in-flight ones within the
    /// grace period. With no baseline errors and a service time (exp, mean 40 ms) far
    /// below the 2 s timeout at 20% utilisation, no failure is expected at all; the
    /// bound of one per 10,000 requests only leaves room for a queueing-tail timeout.
    #[test]
    fn healthy_switch_peaks_at_two_stacks_and_drops_nothing() {
        let sc = scenario(10, None);
        for seed in 0..3 {
            let out = run(
                &sc,
                &strategy(StrategyKind::BlueGreen(params(true)), Rollback::Auto),
                seed,
            );
            let r = &out.row;
            assert_eq!(r.outcome, Outcome::Completed, "seed {seed}");
            assert_eq!(r.peak_pods, 20, "seed {seed}");
            assert!(
                r.failed_requests * 10_000 <= r.requests,
                "seed {seed}: {} failed",
                r.failed_requests
            );
            let ready = first_event(&out, "preview_ready").unwrap();
            let promote = first_event(&out, "promote").unwrap();
            let done = first_event(&out, "deploy_complete").unwrap();
            assert!((promote - ready - 60.0).abs() < 1e-6);
            assert!((done - promote - 30.0).abs() < 1e-6);
            assert!((r.deploy_duration_s.unwrap() - (done - 60.0)).abs() < 1e-6);
            // Before the switch reaches the balancer, the new version gets nothing.
            let tl = &out.trace.as_ref().unwrap().timeline;
            for row in tl.iter().filter(|x| (x.sample.t_s as f64) < promote + 1.0) {
                assert_eq!(row.sample.new_weight, 0.0);
            }
            let last = tl.last().unwrap();
            assert_eq!((last.sample.new.ready, last.sample.old.active), (10, 0));
            assert_eq!(last.sample.new_weight, 100.0);
        }
    }

    /// A faulty release (no preview traffic, so nothing sees it before the switch) is
    /// caught by the post-promotion analysis within one `interval` of live traffic
    /// and, the old stack still running (`scale_down_delay` 30 s), switched straight
    /// back: the selector change reaches the balancer one `endpoint_lag` (1 s) after
    /// the decision.
    #[test]
    fn abort_during_scale_down_delay_switches_back_within_endpoint_lag() {
        let sc = scenario(10, Some(Fault::Errors { error_rate: 0.5 }));
        for seed in 0..3 {
            let out = run(
                &sc,
                &strategy(StrategyKind::BlueGreen(params(true)), Rollback::Auto),
                seed,
            );
            let r = &out.row;
            let promote = first_event(&out, "promote").unwrap();
            let decide = 60.0 + r.decide_s.expect("aborted");
            assert!(decide > promote && decide < promote + 30.0, "seed {seed}");
            let lag = sc.load_balancer.endpoint_lag.secs_f64();
            let back = r.rollback_s.expect("traffic back on the old version");
            assert!(back <= lag + 1e-6, "seed {seed}: rollback took {back} s");
            assert_eq!(r.outcome, Outcome::RolledBack);
            let events = &out.trace.as_ref().unwrap().events;
            let scale_downs: Vec<_> = events.iter().filter(|e| e.kind == "scale_down").collect();
            // The old stack is kept; the aborted preview stack goes
            // `abort_scale_down_delay` (30 s) after the switch back reached the balancer.
            assert_eq!(scale_downs.len(), 1, "seed {seed}");
            assert!(scale_downs[0].detail.contains("preview"));
            let gone = scale_downs[0].t.secs_f64();
            assert!(
                (gone - (decide + back + 30.0)).abs() < 1e-6,
                "seed {seed}: {gone}"
            );
            assert!(r.deploy_duration_s.is_none());
            let last = out.trace.as_ref().unwrap().timeline.last().unwrap();
            assert_eq!((last.sample.new.active, last.sample.old.ready), (0, 10));
        }
    }

    /// A faulty release found by a person after the old stack is gone: the old
    /// version is scaled back up, and traffic switches once it is all available.
    #[test]
    fn rollback_after_scale_down_brings_the_old_stack_back_first() {
        let sc = scenario(10, Some(Fault::Errors { error_rate: 0.05 }));
        let mut p = params(true);
        p.scale_down_delay = s(1);
        let out = run(
            &sc,
            &strategy(StrategyKind::BlueGreen(p), Rollback::Manual),
            1,
        );
        let r = &out.row;
        assert!(r.deploy_duration_s.is_some());
        assert_eq!(r.outcome, Outcome::RolledBack);
        let decide = 60.0 + r.decide_s.unwrap();
        let back = decide + r.rollback_s.unwrap();
        // At least pull + startup + a probe of a fresh old stack.
        assert!(back - decide > 5.0);
        let tl = &out.trace.as_ref().unwrap().timeline;
        let at = tl
            .iter()
            .find(|x| x.sample.t_s as f64 >= back.ceil() + 1.0)
            .unwrap();
        assert_eq!(at.sample.new_weight, 0.0);
    }

    #[test]
    fn manual_promotion_waits_for_a_person() {
        let sc = scenario(10, None);
        let out = run(
            &sc,
            &strategy(StrategyKind::BlueGreen(params(false)), Rollback::Auto),
            2,
        );
        let ready = first_event(&out, "preview_ready").unwrap();
        let promote = first_event(&out, "promote").unwrap();
        // human_promote: lognormal, median 15 min, sigma 0.5; beyond 60 s of checks.
        assert!(promote - ready > 60.0 + 100.0, "{promote} {ready}");
        assert_eq!(out.row.outcome, Outcome::Completed);
    }
}
