//! Kubernetes Deployment `RollingUpdate`.
//!
//! Follows the deployment controller: maxSurge resolves rounding up and
//! maxUnavailable rounding down (both 0 after rounding → unavailable 1); the new
//! ReplicaSet scales up to `replicas + surge − total`; old ReplicaSets first lose
//! unhealthy pods within the budget `total − minAvailable − newUnavailable`, then
//! scale down by `available − minAvailable`. Passing the progress deadline only marks
//! the Deployment stalled; reconciling goes on. A rollback (`rollout undo`) is the
//! same rolling update towards the previous template.

use super::update::Update;
use crate::metrics::DeployPhase;
use crate::scenario::{IntOrPercent, Rollback, RollingParams};
use crate::sim::SimTime;
use crate::world::{Ctl, Scope};

/// Resolved surge and unavailability for `replicas`.
pub fn resolve_bounds(replicas: u32, surge: IntOrPercent, unavail: IntOrPercent) -> (u32, u32) {
    let s = surge.resolve(replicas, true);
    let mut u = unavail.resolve(replicas, false);
    if s == 0 && u == 0 {
        u = 1;
    }
    (s, u)
}

/// One rolling update from version `from` to version `to`, reusable by other
/// controllers (canary without a router, Flagger's primary promotion).
#[derive(Clone, Debug)]
pub struct RollingEngine {
    pub from: u8,
    pub to: u8,
    pub replicas: u32,
    pub surge: u32,
    pub unavail: u32,
}

impl RollingEngine {
    /// One reconcile pass; returns true when the update is complete.
    pub fn step(&self, core: &mut Ctl) -> bool {
        let (from, to, replicas) = (self.from, self.to, self.replicas);
        // Scale up the new ReplicaSet within the surge.
        let total = core.desired(from) + core.desired(to);
        let max_total = replicas + self.surge;
        if core.desired(to) < replicas && total < max_total {
            let up = (max_total - total).min(replicas - core.desired(to));
            core.set_desired(to, core.desired(to) + up);
        }
        if core.desired(to) > replicas {
            core.set_desired(to, replicas);
        }
        // Scale down old pods while availability allows: unhealthy ones first.
        let min_available = replicas.saturating_sub(self.unavail);
        let new_c = core.counts(to);
        let old_c = core.counts(from);
        let all = core.desired(from) + core.desired(to);
        let new_unavailable = core.desired(to).saturating_sub(new_c.available);
        let old_unhealthy = core.desired(from).saturating_sub(old_c.available);
        let max_cleanup = all
            .saturating_sub(min_available)
            .saturating_sub(new_unavailable);
        let cleanup = old_unhealthy.min(max_cleanup);
        if cleanup > 0 {
            core.set_desired(from, core.desired(from) - cleanup);
        }
        let available = core.counts(from).available + new_c.available;
        let down = available
            .saturating_sub(min_available)
            .min(core.desired(from));
        if down > 0 {
            core.set_desired(from, core.desired(from) - down);
        }
        let old_c = core.counts(from);
        core.desired(from) == 0 && old_c.active == 0 && core.counts(to).available >= replicas
    }

    /// A fingerprint of progress (what the deployment controller counts as progress).
    pub fn progress(&self, core: &Ctl) -> (u32, u32, u32) {
        (
            core.desired(self.to),
            core.counts(self.to).available,
            core.desired(self.from),
        )
    }
}

#[derive(Clone, Debug)]
pub struct Rolling {
    engine: RollingEngine,
    deadline: SimTime,
    /// minReadySeconds, applied to the world when the deploy starts.
    min_ready: SimTime,
    rollback: Rollback,
    update: Update,
    last_progress: (u32, u32, u32),
    last_progress_at: SimTime,
}

const DEADLINE_TIMER: u32 = 1;

impl Rolling {
    pub fn new(p: &RollingParams, replicas: u32, rollback: Rollback) -> Self {
        let (surge, unavail) = resolve_bounds(replicas, p.max_surge, p.max_unavailable);
        Rolling {
            engine: RollingEngine {
                from: 0,
                to: 1,
                replicas,
                surge,
                unavail,
            },
            deadline: p.progress_deadline,
            min_ready: p.min_ready,
            rollback,
            update: Update::forward(),
            last_progress: (0, 0, 0),
            last_progress_at: SimTime::ZERO,
        }
    }

    pub fn start(&mut self, core: &mut Ctl) {
        // minReadySeconds: a ready pod counts as available only after this long.
        core.set_min_ready(self.min_ready);
        core.set_phase(DeployPhase::Rolling);
        self.last_progress = self.engine.progress(core);
        self.last_progress_at = core.now();
        core.timer(core.now() + self.deadline, DEADLINE_TIMER);
        self.sync(core);
    }

    pub fn sync(&mut self, core: &mut Ctl) {
        if self.update.finished {
            return;
        }
        let done = self.engine.step(core);
        let p = self.engine.progress(core);
        if p != self.last_progress {
            self.last_progress = p;
            self.last_progress_at = core.now();
            if core.stalled() && !self.update.rolling_back {
                core.set_phase(DeployPhase::Rolling);
            }
            core.timer(core.now() + self.deadline, DEADLINE_TIMER);
        }
        if done {
            self.update.finish(core);
        }
    }

    pub fn timer(&mut self, _tag: u32, core: &mut Ctl) {
        if self.update.finished || core.now() < self.last_progress_at + self.deadline {
            return;
        }
        if core.progress_deadline_exceeded(self.update.rolling_back)
            && self.rollback == Rollback::Auto
            && !self.update.rolling_back
        {
            core.fail_and_roll_back();
        }
    }

    pub fn analysis_scope(&self) -> Option<Scope> {
        self.update.analysis_scope()
    }

    pub fn rollback(&mut self, core: &mut Ctl) {
        self.update.reverse(core);
        self.engine.from = self.update.from;
        self.engine.to = self.update.to;
        self.last_progress = self.engine.progress(core);
        self.last_progress_at = core.now();
        self.sync(core);
    }
}
