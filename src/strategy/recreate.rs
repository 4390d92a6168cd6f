//! Kubernetes Deployment `Recreate`: every old pod is gone before a new one is
//! created. A rollback recreates the old version the same way.

use super::update::Update;
use crate::metrics::DeployPhase;
use crate::sim::SimTime;
use crate::world::{Ctl, Scope};

/// Kubernetes' default `progressDeadlineSeconds` applies to Recreate too.
const PROGRESS_DEADLINE: SimTime = SimTime::from_secs(600);
const DEADLINE_TIMER: u32 = 1;

#[derive(Clone, Debug)]
pub struct Recreate {
    replicas: u32,
    auto: bool,
    update: Update,
}

impl Recreate {
    pub fn new(replicas: u32, auto: bool) -> Self {
        Recreate {
            replicas,
            auto,
            update: Update::forward(),
        }
    }

    pub fn start(&mut self, core: &mut Ctl) {
        core.set_phase(DeployPhase::Rolling);
        core.timer(core.now() + PROGRESS_DEADLINE, DEADLINE_TIMER);
        self.sync(core);
    }

    pub fn sync(&mut self, core: &mut Ctl) {
        let Update { from, to, .. } = self.update;
        if self.update.finished {
            return;
        }
        core.set_desired(from, 0);
        let old = core.counts(from);
        if old.active + old.terminating == 0 && core.desired(to) < self.replicas {
            core.set_desired(to, self.replicas);
        }
        if old.active + old.terminating == 0 && core.counts(to).available >= self.replicas {
            self.update.finish(core);
        }
    }

    pub fn timer(&mut self, _tag: u32, core: &mut Ctl) {
        if self.update.deploying() && core.progress_deadline_exceeded(false) && self.auto {
            core.fail_and_roll_back();
        }
    }

    pub fn analysis_scope(&self) -> Option<Scope> {
        self.update.analysis_scope()
    }

    pub fn rollback(&mut self, core: &mut Ctl) {
        self.update.reverse(core);
        self.sync(core);
    }
}
