//! Argo Rollouts `canary`: the steps `setWeight`, `pause` (with and without a
//! duration), inline `analysis` and `setCanaryScale`, background analysis, promotion
//! and abort.
//!
//! Follows the rollout controller:
//! - with traffic routing the stable ReplicaSet stays at `replicas`, the canary runs
//!   `ceil(weight · replicas / 100)` pods (or the `setCanaryScale` count, which holds
//!   for the later steps, as in Argo), and the router weight is only moved once the
//!   canary pods are available;
//! - without traffic routing the weight is approximated by pod counts exactly as
//!   `CalculateReplicaCountsForBasicCanary` does (closest ratio, allowing one surge
//!   pod; scale-ups within `maxSurge`, scale-downs within `maxUnavailable`, the side
//!   being drained is not counted for availability); `setCanaryScale` is ignored there
//!   as in Argo;
//! - a step completes when the canary has all its desired pods available and the
//!   stable set all its desired pods created;
//! - after the last step the canary is promoted to 100%; with a router the old stable
//!   pods go after `scale_down_delay`, without one promotion is the same surge-bounded
//!   scale up/down (Argo ignores `scaleDownDelaySeconds` for a basic canary);
//! - abort: router weight 0 at once and the canary scaled to zero after
//!   `abort_scale_down_delay`; `"0s"` leaves it running for good, as Argo's
//!   `abortScaleDownDelaySeconds: 0` does, and the rollback is complete once the
//!   stable set serves all traffic. Argo does not apply that delay to a basic canary,
//!   so without a router the canary is scaled down as the stable set comes back,
//!   within surge and unavailability. A rollback after full promotion is a new
//!   rollout in Argo: the version it replaces goes after `scale_down_delay`.
//!
//! Simplifications: `progressDeadlineSeconds` uses Argo's default (600 s) and only
//! marks the rollout stalled (`progressDeadlineAbort` is false by default); an inline
//! analysis step is one evaluation of the `[monitoring]` rule after one `window` on the
//! canary's traffic (no verdict counts as inconclusive and lets the rollout go on;
//! a failure aborts with `rollback = "auto"`, otherwise the rollout waits at a gate); a
//! rollback after full promotion re-deploys the stable version with the abort
//! mechanics (switch back at once while the old pods still run, otherwise scale them
//! up, then switch), not through the steps again; router weight changes take effect
//! at once (no proxy propagation delay).

use crate::analysis::Phase as RunPhase;
use crate::metrics::DeployPhase;
use crate::scenario::analysis::StrategyAnalysis;
use crate::scenario::{CanaryParams, CanaryStep, Rollback};
use crate::sim::SimTime;
use crate::world::analysis::{AnalysisId, Owner};
use crate::world::balancer::Mode;
use crate::world::{Ctl, RuleVerdict, Scope};

use super::argo_replicas::{Limits, RsView, approximate_counts, basic_canary_counts};
use super::rolling::resolve_bounds;

/// Argo's default `progressDeadlineSeconds`.
const PROGRESS_DEADLINE: SimTime = SimTime::from_secs(600);

/// Timer kinds (low 3 bits of the tag; the rest is the step epoch).
const T_STEP: u32 = 1;
const T_OLD_SCALE_DOWN: u32 = 2;
const T_ABORT_SCALE_DOWN: u32 = 3;
const T_DEADLINE: u32 = 4;
/// A person resumes a rollout an inconclusive analysis paused.
const T_RESUME: u32 = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Running step `step`.
    Steps,
    /// After the last step: towards 100%.
    Promoting,
    /// Fully promoted (old stable pods may still wait for `scale_down_delay`).
    Done,
    /// Rolling back to the stable version.
    Aborting,
    /// Rolled back.
    Aborted,
}

#[derive(Clone, Debug)]
pub struct Canary {
    p: CanaryParams,
    limits: Limits,
    rollback: Rollback,
    state: State,
    step: usize,
    /// The current step was entered (its timer armed) / released (timer fired).
    entered: bool,
    released: bool,
    /// Bumped on every step change: stale step timers are ignored.
    epoch: u32,
    /// The weight of the last `setWeight` (the router weight once pods are available).
    weight: u32,
    canary_scale: Option<u32>,
    /// Aborting with a router: traffic already switched back to stable.
    switched_back: bool,
    /// Aborting: how long the canary stays up once traffic is back (`None`: never).
    abort_delay: Option<SimTime>,
    last_progress: (u32, u32, u32, u32, usize),
    last_progress_at: SimTime,
    /// The analysis templates this rollout runs (DESIGN.md §9).
    analysis: StrategyAnalysis,
    /// The background runs, once started at `start_step`.
    background: Vec<AnalysisId>,
    background_started: bool,
    /// The run of the current inline analysis step.
    inline: Option<AnalysisId>,
    /// An inconclusive analysis paused the rollout: a person resumes it.
    held: bool,
}

impl Canary {
    pub fn new(
        p: &CanaryParams,
        replicas: u32,
        rollback: Rollback,
        analysis: StrategyAnalysis,
    ) -> Self {
        let (surge, unavail) = resolve_bounds(replicas, p.max_surge, p.max_unavailable);
        Canary {
            p: p.clone(),
            limits: Limits {
                replicas,
                surge,
                unavail,
            },
            rollback,
            state: State::Steps,
            step: 0,
            entered: false,
            released: false,
            epoch: 0,
            weight: 0,
            canary_scale: None,
            switched_back: false,
            abort_delay: None,
            last_progress: (0, 0, 0, 0, 0),
            last_progress_at: SimTime::ZERO,
            analysis,
            background: Vec::new(),
            background_started: false,
            inline: None,
            held: false,
        }
    }

    fn tag(&self, kind: u32) -> u32 {
        (self.epoch << 3) | kind
    }

    fn set_weight_mode(&self, core: &mut Ctl, w: u32) {
        if self.p.traffic_routing {
            core.set_mode(Mode::Weighted {
                new_weight: w,
                sticky: self.p.sticky,
            });
        }
    }

    pub fn start(&mut self, core: &mut Ctl) {
        core.set_phase(DeployPhase::Rolling);
        core.set_mode(if self.p.traffic_routing {
            Mode::Weighted {
                new_weight: 0,
                sticky: self.p.sticky,
            }
        } else {
            Mode::Pooled
        });
        self.last_progress_at = core.now();
        core.timer(core.now() + PROGRESS_DEADLINE, T_DEADLINE);
        self.sync(core);
    }

    /// Scales both ReplicaSets towards the current target; true once the canary has
    /// all its desired pods available and the stable set all its desired pods. With
    /// a router, the weight follows once the canary is available.
    fn scale(&mut self, core: &mut Ctl) -> bool {
        let r = self.limits.replicas;
        if self.p.traffic_routing {
            let canary = self
                .canary_scale
                .unwrap_or_else(|| (r * self.weight).div_ceil(100));
            if core.desired(0) != r {
                core.set_desired(0, r);
            }
            if core.desired(1) != canary {
                core.set_desired(1, canary);
            }
            let c = core.counts(1);
            let ready = c.available == canary && c.active == canary;
            if ready {
                self.set_weight_mode(core, self.weight);
            }
            ready && core.counts(0).active == r
        } else {
            let view = |core: &Ctl, v: u8| RsView {
                spec: core.desired(v),
                available: core.counts(v).available,
            };
            let (n, s) =
                basic_canary_counts(self.limits, self.weight, view(core, 1), view(core, 0));
            // Scale down before up so pod slots free up first.
            if s < core.desired(0) {
                core.set_desired(0, s);
            }
            if n != core.desired(1) {
                core.set_desired(1, n);
            }
            if s > core.desired(0) {
                core.set_desired(0, s);
            }
            let (want_n, want_s) = approximate_counts(r, self.weight, self.limits.surge);
            let (c1, c0) = (core.counts(1), core.counts(0));
            core.desired(1) == want_n
                && c1.available == want_n
                && c1.active == want_n
                && core.desired(0) == want_s
                && c0.active == want_s
        }
    }

    pub fn sync(&mut self, core: &mut Ctl) {
        loop {
            match self.state {
                State::Steps => {
                    if !self.run_step(core) {
                        break;
                    }
                }
                State::Promoting => {
                    if self.scale(core) {
                        self.state = State::Done;
                        self.stop_background(core);
                        core.deploy_complete(String::new);
                        if self.p.traffic_routing {
                            core.timer(core.now() + self.p.scale_down_delay, T_OLD_SCALE_DOWN);
                        }
                    }
                    break;
                }
                State::Done | State::Aborted => break,
                State::Aborting => {
                    self.sync_abort(core);
                    break;
                }
            }
        }
        self.note_progress(core);
    }

    /// Works on the current step; true when it completed (go on to the next).
    fn run_step(&mut self, core: &mut Ctl) -> bool {
        if !self.background_started && self.step >= self.analysis.start_step as usize {
            self.background_started = true;
            for i in 0..self.analysis.background.len() {
                let t = self.analysis.background[i];
                let id = core.start_analysis(t, Owner::Background);
                self.background.push(id);
            }
        }
        if self.held {
            // Paused by an inconclusive analysis until a person resumes.
            self.scale(core);
            return false;
        }
        let Some(step) = self.p.steps.get(self.step).cloned() else {
            self.state = State::Promoting;
            self.weight = 100;
            self.canary_scale = None;
            core.set_phase(DeployPhase::Promoting);
            core.log("promote", None, || "promoting to 100%".into());
            return true;
        };
        let done = match step {
            CanaryStep::SetWeight(w) => {
                self.weight = w;
                core.set_phase(DeployPhase::Rolling);
                self.scale(core)
            }
            CanaryStep::SetCanaryScale(n) => {
                if self.p.traffic_routing {
                    self.canary_scale = Some(n);
                }
                core.set_phase(DeployPhase::Rolling);
                self.scale(core)
            }
            CanaryStep::Pause(d) => {
                // Keep reconciling (replacements) while paused.
                self.scale(core);
                if !self.entered {
                    self.entered = true;
                    core.set_phase(DeployPhase::Paused);
                    let wait = match d {
                        Some(d) => d,
                        None => {
                            core.set_gated(true);
                            core.people_draw(&core.scenario().monitoring.human_promote)
                        }
                    };
                    core.log("pause", None, || match d {
                        Some(_) => format!("pause {}", wait.human()),
                        None => format!("indefinite pause; a person resumes in {}", wait.human()),
                    });
                    core.timer(core.now() + wait, self.tag(T_STEP));
                }
                if self.released {
                    core.set_gated(false);
                }
                self.released
            }
            CanaryStep::Analysis => {
                self.scale(core);
                if !self.entered {
                    self.entered = true;
                    core.set_phase(DeployPhase::Analysis);
                    core.log("analysis", None, || "analysis step started".into());
                    match self.analysis.step_template(self.step) {
                        Some(t) => self.inline = Some(core.start_analysis(t, Owner::Step)),
                        None => core.timer(
                            core.now() + core.scenario().monitoring.window,
                            self.tag(T_STEP),
                        ),
                    }
                }
                self.released
            }
        };
        if done {
            self.step += 1;
            self.entered = false;
            self.released = false;
            self.epoch += 1;
            let s = self.step;
            core.log("step", None, || format!("step {s} completed"));
        }
        done
    }

    fn sync_abort(&mut self, core: &mut Ctl) {
        let r = self.limits.replicas;
        if self.p.traffic_routing {
            if core.desired(0) != r {
                core.set_desired(0, r);
            }
            if !self.switched_back && core.counts(0).available >= r {
                self.switch_back(core);
            }
        } else {
            self.scale(core);
        }
        let (c0, c1) = (core.counts(0), core.counts(1));
        let back = if self.p.traffic_routing {
            self.switched_back
        } else {
            core.desired(0) == r
        };
        // A canary that is never scaled down is where the abort leaves it: the
        // rollback is complete once the stable set serves everything.
        let canary_settled = (self.p.traffic_routing && self.abort_delay.is_none())
            || (core.desired(1) == 0 && c1.active == 0);
        if back && c0.available >= r && canary_settled {
            self.state = State::Aborted;
            core.rollback_complete();
        }
    }

    /// Router weight 0; the canary goes after the abort delay, if ever.
    fn switch_back(&mut self, core: &mut Ctl) {
        self.switched_back = true;
        self.set_weight_mode(core, 0);
        match self.abort_delay {
            Some(d) => core.timer(core.now() + d, T_ABORT_SCALE_DOWN),
            None => core.log("keep_canary", None, || {
                "abort_scale_down_delay = 0s: the canary is never scaled down".into()
            }),
        }
    }

    fn note_progress(&mut self, core: &mut Ctl) {
        let p = (
            core.desired(1),
            core.counts(1).available,
            core.desired(0),
            core.counts(0).available,
            self.step,
        );
        if p != self.last_progress {
            self.last_progress = p;
            self.last_progress_at = core.now();
            if core.stalled() && self.state == State::Steps {
                core.set_stalled(false);
                core.set_phase(DeployPhase::Rolling);
            }
            core.timer(core.now() + PROGRESS_DEADLINE, T_DEADLINE);
        }
    }

    /// Waiting at a pause or analysis step: not subject to the progress deadline.
    fn waiting_at_step(&self) -> bool {
        self.state == State::Steps
            && matches!(
                self.p.steps.get(self.step),
                Some(CanaryStep::Pause(_) | CanaryStep::Analysis)
            )
    }

    pub fn timer(&mut self, tag: u32, core: &mut Ctl) {
        match tag & 7 {
            T_RESUME if tag >> 3 == self.epoch && self.state == State::Steps && self.held => {
                self.held = false;
                core.set_gated(false);
                core.log("resume", None, || {
                    "a person resumed the rollout after an inconclusive analysis".into()
                });
                if self.inline.take().is_some() {
                    self.released = true;
                }
                self.sync(core);
            }
            T_STEP if tag >> 3 == self.epoch && self.state == State::Steps => {
                if matches!(self.p.steps.get(self.step), Some(CanaryStep::Analysis))
                    && self.analysis.step_template(self.step).is_none()
                {
                    self.analysis_step(core);
                } else {
                    self.released = true;
                    if core.gated() {
                        core.log("resume", None, || "a person resumed the rollout".into());
                    }
                    self.sync(core);
                }
            }
            T_OLD_SCALE_DOWN if self.state == State::Done => {
                core.log("scale_down", None, || "old stable pods scaled down".into());
                core.set_desired(0, 0);
            }
            T_ABORT_SCALE_DOWN if self.state == State::Aborting => {
                core.log("scale_down", None, || "canary scaled down".into());
                core.set_desired(1, 0);
                self.sync(core);
            }
            T_DEADLINE => {
                let active = matches!(self.state, State::Steps | State::Promoting);
                if active
                    && !self.waiting_at_step()
                    && core.now() >= self.last_progress_at + PROGRESS_DEADLINE
                {
                    core.progress_deadline_exceeded(false);
                }
            }
            _ => {}
        }
    }

    /// An analysis this rollout started has completed (`phase`).
    pub fn analysis_done(&mut self, id: AnalysisId, owner: Owner, phase: RunPhase, core: &mut Ctl) {
        let active = matches!(self.state, State::Steps | State::Promoting);
        let is_inline = owner == Owner::Step && self.inline == Some(id);
        if !active || !(is_inline || self.background.contains(&id)) {
            return;
        }
        match phase {
            RunPhase::Successful | RunPhase::Running => {
                if is_inline {
                    self.inline = None;
                    self.released = true;
                    self.sync(core);
                }
            }
            RunPhase::Failed | RunPhase::Error => {
                core.log("analysis_failed", None, || {
                    format!("{owner:?} analysis {}", phase.name())
                });
                core.detected();
                if self.rollback == Rollback::Auto {
                    core.request_rollback();
                } else {
                    core.set_gated(true);
                    core.set_phase(DeployPhase::Paused);
                }
            }
            RunPhase::Inconclusive => {
                // Argo pauses the rollout; a person looks and resumes it.
                self.held = true;
                core.set_gated(true);
                core.set_phase(DeployPhase::Paused);
                let wait = core.people_draw(&core.scenario().monitoring.human_promote);
                core.log("analysis_inconclusive", None, || {
                    format!(
                        "{owner:?} analysis inconclusive; a person resumes in {}",
                        wait.human()
                    )
                });
                core.timer(core.now() + wait, self.tag(T_RESUME));
            }
        }
    }

    /// Stops the background runs (the rollout completed or aborts).
    fn stop_background(&mut self, core: &mut Ctl) {
        for &id in &self.background {
            core.stop_analysis(id);
        }
        if let Some(id) = self.inline.take() {
            core.stop_analysis(id);
        }
    }

    fn analysis_step(&mut self, core: &mut Ctl) {
        match core.evaluate(Scope::NewVersion) {
            RuleVerdict::Pass => {
                core.log("analysis_passed", None, String::new);
                self.released = true;
                self.sync(core);
            }
            RuleVerdict::NoVerdict => {
                core.log("analysis_inconclusive", None, || {
                    "too few canary requests; treated as passed".into()
                });
                self.released = true;
                self.sync(core);
            }
            RuleVerdict::Fail => {
                core.log("analysis_failed", None, || "analysis step failed".into());
                core.detected();
                if self.rollback == Rollback::Auto {
                    core.request_rollback();
                } else {
                    core.set_gated(true);
                    core.set_phase(DeployPhase::Paused);
                }
            }
        }
    }

    pub fn analysis_scope(&self) -> Option<Scope> {
        matches!(self.state, State::Steps | State::Promoting).then_some(Scope::NewVersion)
    }

    pub fn rollback(&mut self, core: &mut Ctl) {
        let after_done = self.state == State::Done;
        // After full promotion Argo has nothing to abort: going back is a new rollout,
        // and the version it replaces goes after `scaleDownDelaySeconds`.
        self.abort_delay = if after_done {
            Some(self.p.scale_down_delay)
        } else {
            self.p.abort_scale_down_delay
        };
        self.state = State::Aborting;
        self.stop_background(core);
        self.held = false;
        self.weight = 0;
        self.canary_scale = None;
        self.epoch += 1;
        core.set_gated(false);
        core.set_stalled(false);
        core.log("abort", None, || "rollout aborted".into());
        // Before full promotion the stable set is still at full size (with a
        // router): traffic goes back at once, whatever its readiness.
        if self.p.traffic_routing && !after_done {
            self.switch_back(core);
        }
        self.sync(core);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Outcome;
    use crate::scenario::{Fault, IntOrPercent, StrategyKind};
    use crate::strategy::testkit::{first_event, run, s, scenario, strategy};

    fn params(traffic_routing: bool, steps: Vec<CanaryStep>) -> CanaryParams {
        CanaryParams {
            traffic_routing,
            sticky: false,
            steps,
            max_surge: IntOrPercent::Percent(25.0),
            max_unavailable: IntOrPercent::Percent(25.0),
            scale_down_delay: s(30),
            abort_scale_down_delay: Some(s(30)),
        }
    }

    /// The default scenario's steps: 5%, 25%, 50%, two minutes each.
    fn default_steps() -> Vec<CanaryStep> {
        use CanaryStep::*;
        vec![
            SetWeight(5),
            Pause(Some(s(120))),
            SetWeight(25),
            Pause(Some(s(120))),
            SetWeight(50),
            Pause(Some(s(120))),
        ]
    }

    #[test]
    fn basic_canary_at_weight_41_runs_4_canary_and_6_stable_pods() {
        let sc = scenario(10, None);
        let p = params(
            false,
            vec![CanaryStep::SetWeight(41), CanaryStep::Pause(Some(s(300)))],
        );
        let out = run(&sc, &strategy(StrategyKind::Canary(p), Rollback::None), 1);
        let paused = first_event(&out, "pause").expect("the weight step completes") as u64;
        let tl = &out.trace.as_ref().unwrap().timeline;
        // Throughout the pause (the step has settled) the counts stay put.
        for r in tl
            .iter()
            .filter(|r| r.sample.t_s > paused && r.sample.t_s < paused + 290)
        {
            assert_eq!(
                (r.sample.new.active, r.sample.old.active),
                (4, 6),
                "t={}",
                r.sample.t_s
            );
            assert_eq!(
                (r.sample.new.ready, r.sample.old.ready),
                (4, 6),
                "t={}",
                r.sample.t_s
            );
        }
        // Never more than replicas + surge (10 + 3) pods, never fewer than
        // replicas - unavailable (10 - 2) ready.
        for r in tl.iter().filter(|r| r.sample.t_s >= 60) {
            assert!(r.sample.new.active + r.sample.old.active <= 13);
            assert!(
                r.sample.new.ready + r.sample.old.ready >= 8,
                "t={}",
                r.sample.t_s
            );
        }
        // (Failures are not asserted: without a router, scaled-down pods refuse
        // requests for the endpoint lag, as in any pooled rollout.)
        assert_eq!(out.row.outcome, Outcome::Completed);
    }

    #[test]
    fn routed_canary_at_weight_5_of_20_sends_5_percent_to_one_pod() {
        let mut sc = scenario(20, None);
        sc.duration = s(900);
        let p = params(
            true,
            vec![CanaryStep::SetWeight(5), CanaryStep::Pause(None)],
        );
        // The person resumes after a day: the weight holds until the horizon.
        sc.monitoring.human_promote = crate::scenario::Dist::Constant(s(86_400));
        let out = run(&sc, &strategy(StrategyKind::Canary(p), Rollback::None), 3);
        let tr = out.trace.as_ref().unwrap();
        let t_w = first_event(&out, "weight").unwrap();
        let weighted = tr
            .events
            .iter()
            .filter(|e| e.kind == "weight")
            .map(|e| e.detail.clone())
            .collect::<Vec<_>>();
        assert_eq!(weighted, ["new version weight 0%", "new version weight 5%"]);
        let t_w = tr
            .events
            .iter()
            .filter(|e| e.kind == "weight")
            .nth(1)
            .map_or(t_w, |e| e.t.secs_f64());
        // The balancer sees the canary endpoint one endpoint lag after readiness.
        for r in tr
            .timeline
            .iter()
            .filter(|r| r.sample.t_s as f64 > t_w + 1.0)
        {
            assert_eq!((r.sample.new.active, r.sample.old.active), (1, 20));
            assert_eq!(r.sample.new_weight, 5.0);
        }
        // Every request after the weight change goes to the canary independently
        // with p = 0.05: exposed ~ Binomial(n, 0.05). n counts whole seconds after the
        // change; the partial second adds at most ~rate requests of slack.
        let n: u64 = tr
            .timeline
            .iter()
            .filter(|r| r.sample.t_s as f64 >= t_w.ceil())
            .map(|r| r.requests)
            .sum();
        let mean = 0.05 * n as f64;
        let sd = (n as f64 * 0.05 * 0.95).sqrt();
        let exposed = out.row.exposed_requests as f64;
        assert!(
            (exposed - mean).abs() <= 4.0 * sd + 0.05 * 200.0 * 2.0,
            "exposed {exposed}, expected {mean} ± {sd}"
        );
        assert!(out.row.deploy_duration_s.is_none());
        assert_eq!(out.row.outcome, Outcome::Stalled, "waiting at the gate");
    }

    #[test]
    fn healthy_routed_canary_promotes_then_drops_the_old_pods() {
        let sc = scenario(20, None);
        let p = params(true, default_steps());
        let out = run(&sc, &strategy(StrategyKind::Canary(p), Rollback::Auto), 2);
        assert_eq!(out.row.outcome, Outcome::Completed);
        assert_eq!(out.row.failed_requests, 0);
        let done = first_event(&out, "deploy_complete").unwrap();
        let scaled = first_event(&out, "scale_down").unwrap();
        assert!((scaled - done - 30.0).abs() < 1e-6);
        // Full stable set plus a full canary at the promotion.
        assert_eq!(out.row.peak_pods, 40);
        let last = out.trace.as_ref().unwrap().timeline.last().unwrap();
        assert_eq!((last.sample.new.ready, last.sample.old.active), (20, 0));
        assert_eq!(last.sample.new_weight, 100.0);
    }

    #[test]
    fn healthy_basic_canary_promotes_within_surge() {
        let sc = scenario(20, None);
        let p = params(false, default_steps());
        let out = run(&sc, &strategy(StrategyKind::Canary(p), Rollback::Auto), 4);
        assert_eq!(out.row.outcome, Outcome::Completed);
        // 20 replicas + 25% surge, not counting terminating pods.
        let tl = &out.trace.as_ref().unwrap().timeline;
        assert!(
            tl.iter()
                .all(|r| r.sample.new.active + r.sample.old.active <= 25)
        );
        let last = out.trace.as_ref().unwrap().timeline.last().unwrap();
        assert_eq!((last.sample.new.ready, last.sample.old.active), (20, 0));
    }

    /// A faulty release (half the canary's requests fail) is caught at the first
    /// step. Traffic reaches the canary only from the weight change `t_w` (5%, the
    /// canary pod being available; its endpoint one `endpoint_lag` = 1 s later) until
    /// the abort sets the weight back to 0 at the decision `t_d`. The background
    /// analysis runs every `interval` (10 s) over the last 30 s of *scraped* data and
    /// needs `min_requests` (50) canary requests, about 5 s of 5% of 200/s (10 s
    /// allowing for Poisson luck); a request is in the counters the second after it
    /// arrived and in the store at the pod's next scrape (every 15 s). So
    /// `t_d − t_w ≤ 1 (endpoint) + 10 + 1 + 15 (scrape) + 10 (interval) = 37 s`. Exposed ≈
    /// Poisson(0.05 · 200 · (t_d − t_w)) ≤ 370, i.e. a share of all requests since t0
    /// of about 5% · (time to detection / run length).
    #[test]
    fn faulty_canary_aborts_at_the_first_step() {
        let sc = scenario(20, Some(Fault::Errors { error_rate: 0.5 }));
        let p = params(true, default_steps());
        for seed in 0..3 {
            let out = run(
                &sc,
                &strategy(StrategyKind::Canary(p.clone()), Rollback::Auto),
                seed,
            );
            let tr = out.trace.as_ref().unwrap();
            let t_w = tr
                .events
                .iter()
                .find(|e| e.kind == "weight" && e.detail.contains(" 5%"))
                .unwrap()
                .t
                .secs_f64();
            let t0 = sc.deploy_at.secs_f64();
            let t_d = t0 + out.row.decide_s.expect("aborted");
            assert!(
                t_d - t_w <= 37.0,
                "seed {seed}: decided {} s after the weight",
                t_d - t_w
            );
            assert!(first_event(&out, "step").is_some_and(|t| t <= t_w + 1e-9));
            // The abort came before the second setWeight.
            assert!(tr.events.iter().filter(|e| e.kind == "step").count() <= 2);
            let exposed = out.row.exposed_requests as f64;
            let expected = 0.05 * 200.0 * (t_d - t_w);
            assert!(
                exposed <= expected + 4.0 * expected.sqrt() + 1.0,
                "seed {seed}: exposed {exposed}, expected about {expected}"
            );
            let share = exposed / out.row.requests as f64;
            let run_s = (sc.duration - sc.deploy_at).secs_f64();
            assert!(
                share <= 0.05 * (t_d - t0) / run_s * 1.5,
                "seed {seed}: share {share}"
            );
            // Weight 0 at the decision: traffic is back on stable at once.
            assert_eq!(out.row.rollback_s, Some(0.0));
            assert_eq!(out.row.outcome, Outcome::RolledBack);
            let done = first_event(&out, "rollback_complete").unwrap();
            assert!(
                done >= t_d + 30.0,
                "the canary waits abort_scale_down_delay"
            );
        }
    }

    #[test]
    fn basic_canary_abort_scales_the_stable_set_back() {
        let sc = scenario(10, Some(Fault::Errors { error_rate: 0.5 }));
        let p = params(false, default_steps());
        let out = run(&sc, &strategy(StrategyKind::Canary(p), Rollback::Auto), 5);
        assert_eq!(out.row.outcome, Outcome::RolledBack);
        let last = out.trace.as_ref().unwrap().timeline.last().unwrap();
        assert_eq!((last.sample.new.active, last.sample.old.ready), (0, 10));
        for r in out.trace.as_ref().unwrap().timeline.iter() {
            assert!(r.sample.new.active + r.sample.old.active <= 13);
        }
    }

    #[test]
    fn analysis_step_failure_without_auto_rollback_waits_at_a_gate() {
        let sc = scenario(20, Some(Fault::Errors { error_rate: 0.5 }));
        let p = params(
            true,
            vec![
                CanaryStep::SetWeight(25),
                CanaryStep::Analysis,
                CanaryStep::SetWeight(50),
            ],
        );
        let out = run(&sc, &strategy(StrategyKind::Canary(p), Rollback::None), 1);
        assert!(first_event(&out, "analysis_failed").is_some());
        assert!(out.row.detect_s.is_some());
        assert_eq!(out.row.outcome, Outcome::Stalled);
        assert!(out.row.decide_s.is_none());
    }
}
