//! `Ctl`: the handle a deployment controller gets, and all it gets. It wraps the run's
//! `Core` and exposes the controller API (DESIGN.md §4): the two ReplicaSets
//! (`set_desired`, `counts`), the balancer's mode, timers, the `[monitoring]` rule
//! (`evaluate`), the deploy's phase and milestones, a rollback request, and a few
//! named read-only queries for what Swarm (its tasks) and Flagger (its canary pods and
//! window) look at. A controller never sees the event queue, a pod's requests or
//! `Core`'s fields: it acts through its context, as in NeXosim's context-not-scheduler
//! model, so the world's invariants hold whatever a controller does.
//!
//! Architecture invariant: `Core`'s fields are private to `world` (`pub(super)`), so
//! `strategy/*` can only use this API; `cargo check` holds it.

use super::balancer::Mode;
use super::core::Core;
use super::pod::Phase;
use super::{RuleVerdict, Scope};
use crate::metrics::{Counts, DeployPhase};
use crate::scenario::{Dist, Scenario};
use crate::sim::SimTime;

/// A controller's view of the world during one call (`start`, `sync`, `timer`,
/// `rollback`).
pub struct Ctl<'c, 'a> {
    core: &'c mut Core<'a>,
}

/// What a controller may know of one pod (Swarm's tasks are pods).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodView {
    pub version: u8,
    /// Not terminating and not gone (`Counts::active`).
    pub active: bool,
    pub ready: bool,
    pub terminating: bool,
    /// Exited: holds no slot any more.
    pub gone: bool,
    /// Its image pull failed and the kubelet is backing off.
    pub pull_backoff: bool,
    pub restarts: u32,
    pub created: SimTime,
}

impl<'c, 'a> Ctl<'c, 'a> {
    pub fn new(core: &'c mut Core<'a>) -> Self {
        Ctl { core }
    }

    // ------------------------------------------------------------ time, scenario, log

    pub fn now(&self) -> SimTime {
        self.core.now
    }

    /// The scenario being run (read-only configuration).
    pub fn scenario(&self) -> &'a Scenario {
        self.core.sc
    }

    /// A trace line (formatted only in trace mode).
    pub fn log(&mut self, kind: &'static str, pod: Option<u32>, detail: impl FnOnce() -> String) {
        self.core.log(kind, pod, detail);
    }

    /// Schedules a controller timer; it comes back as `timer(tag)`.
    pub fn timer(&mut self, at: SimTime, tag: u32) {
        self.core.timer(at, tag);
    }

    /// A draw for a person (response, promotion), in order of need.
    pub fn people_draw(&mut self, d: &Dist) -> SimTime {
        self.core.people_draw(d)
    }

    // ------------------------------------------------------------ replica sets, routing

    pub fn desired(&self, version: u8) -> u32 {
        self.core.desired(version)
    }

    /// Scales the ReplicaSet of `version` to `n` pods: creates or deletes pods now.
    pub fn set_desired(&mut self, version: u8, n: u32) {
        self.core.set_desired(version, n);
    }

    pub fn counts(&self, version: u8) -> Counts {
        self.core.counts(version)
    }

    /// `minReadySeconds`: a ready pod counts as available only after this long.
    pub fn set_min_ready(&mut self, min_ready: SimTime) {
        self.core.min_ready = min_ready;
    }

    pub fn set_mode(&mut self, mode: Mode) {
        self.core.set_mode(mode);
    }

    /// Deletes a pod whose traffic a router has already moved elsewhere
    /// (`Core::terminate_unrouted`).
    pub fn terminate_unrouted(&mut self, p: u32) {
        self.core.terminate_unrouted(p);
    }

    /// Starts or stops the synthetic requests to the preview stack
    /// (`Core::preview_traffic`).
    pub fn preview_traffic(&mut self, rate: f64) {
        self.core.preview_traffic(rate);
    }

    // ------------------------------------------------------------ pods (named queries)

    /// Pods created so far; pod ids are `0..pod_count()` in creation order.
    pub fn pod_count(&self) -> u32 {
        self.core.pods.len() as u32
    }

    pub fn pod(&self, p: u32) -> PodView {
        let pod = &self.core.pods[p as usize];
        PodView {
            version: pod.version,
            active: pod.active(),
            ready: pod.ready,
            terminating: pod.terminating,
            gone: pod.phase == Phase::Gone,
            pull_backoff: pod.phase == Phase::PullBackOff,
            restarts: pod.restarts,
            created: pod.created,
        }
    }

    /// The active pods of `version` (`PodView::active`), in creation order.
    pub fn active_pods(&self, version: u8) -> impl Iterator<Item = u32> + '_ {
        let pods = &self.core.pods;
        (0..pods.len() as u32).filter(move |&i| {
            let p = &pods[i as usize];
            p.version == version && p.active()
        })
    }

    // ------------------------------------------------------------ monitoring

    /// The `[monitoring]` rule now, over the last `window`, on `scope`.
    pub fn evaluate(&mut self, scope: Scope) -> RuleVerdict {
        self.core.evaluate(scope)
    }

    /// Requests on `scope` in the rule's current window as the store sees them (what
    /// `evaluate` judges; 0 for an empty vector).
    pub fn window_requests(&mut self, scope: Scope) -> f64 {
        self.core.window_counts(scope).map_or(0.0, |c| c.0)
    }

    // ------------------------------------------------------------ analysis (§9)

    /// Starts analysis `template` now; its end comes back as
    /// `Controller::analysis_done(id, owner, phase)`.
    pub fn start_analysis(
        &mut self,
        template: crate::scenario::analysis::TemplateId,
        owner: super::analysis::Owner,
    ) -> super::analysis::AnalysisId {
        self.core.start_analysis(template, owner)
    }

    /// Stops a running analysis (its running metrics end Successful).
    pub fn stop_analysis(&mut self, id: super::analysis::AnalysisId) {
        self.core.stop_analysis(id);
    }

    /// Flagger's checks of `metrics` now: true when every one is within its range.
    pub fn flagger_checks(&mut self, metrics: &[crate::scenario::analysis::FlaggerMetric]) -> bool {
        self.core.flagger_checks(metrics)
    }

    // ------------------------------------------------------------ the deploy's state

    pub fn phase(&self) -> DeployPhase {
        self.core.phase
    }

    pub fn set_phase(&mut self, phase: DeployPhase) {
        self.core.phase = phase;
    }

    /// The deploy is marked stalled (progress deadline, halted analysis).
    pub fn stalled(&self) -> bool {
        self.core.deploy.stalled
    }

    pub fn set_stalled(&mut self, stalled: bool) {
        self.core.deploy.stalled = stalled;
    }

    /// The controller waits at a gate (manual promotion, paused update).
    pub fn gated(&self) -> bool {
        self.core.deploy.gated
    }

    pub fn set_gated(&mut self, gated: bool) {
        self.core.deploy.gated = gated;
    }

    /// The controller detected a problem now (kept if one was detected before).
    pub fn detected(&mut self) {
        let now = self.core.now;
        self.core.deploy.detect_at.get_or_insert(now);
    }

    /// Asks the run loop to roll back (analysis failed, deadline passed).
    pub fn request_rollback(&mut self) {
        self.core.request_rollback();
    }

    /// The controller's own check failed: detection now, and a rollback request.
    pub fn fail_and_roll_back(&mut self) {
        self.detected();
        self.request_rollback();
    }

    /// The deploy is complete now: phase `done`, its time for the row, no longer
    /// stalled, and a `deploy_complete` trace line with `detail`.
    pub fn deploy_complete(&mut self, detail: impl FnOnce() -> String) {
        let now = self.core.now;
        self.core.phase = DeployPhase::Done;
        self.core.deploy.done_at = Some(now);
        self.core.deploy.stalled = false;
        self.core.log("deploy_complete", None, detail);
    }

    /// The rollback is complete now: phase `done`, the row's outcome `rolled_back`.
    pub fn rollback_complete(&mut self) {
        self.core.phase = DeployPhase::Done;
        self.core.deploy.rollback_complete = true;
        self.core.log("rollback_complete", None, String::new);
    }

    /// The update a controller was running is complete: the rollback if
    /// `rolling_back`, else the deploy.
    pub fn complete(&mut self, rolling_back: bool) {
        if rolling_back {
            self.rollback_complete();
        } else {
            self.deploy_complete(String::new);
        }
    }

    /// The progress deadline passed (`ProgressDeadlineExceeded`): the deploy is
    /// marked stalled, and the timeline shows it unless the update is a rollback.
    /// Returns false (and does nothing) when it was stalled already.
    pub fn progress_deadline_exceeded(&mut self, rolling_back: bool) -> bool {
        if self.core.deploy.stalled {
            return false;
        }
        self.core.deploy.stalled = true;
        if !rolling_back {
            self.core.phase = DeployPhase::Stalled;
        }
        self.core
            .log("stalled", None, || "ProgressDeadlineExceeded".into());
        true
    }
}
