//! Kubernetes Deployment `Recreate`: every old pod is gone before a new one is
//! created. A rollback recreates the old version the same way.

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
    from: u8,
    to: u8,
    rolling_back: bool,
    finished: bool,
}

impl Recreate {
    pub fn new(replicas: u32, auto: bool) -> Self {
        Recreate {
            replicas,
            auto,
            from: 0,
            to: 1,
            rolling_back: false,
            finished: false,
        }
    }

    pub fn start(&mut self, core: &mut Ctl) {
        core.set_phase(DeployPhase::Rolling);
        core.timer(core.now() + PROGRESS_DEADLINE, DEADLINE_TIMER);
        self.sync(core);
    }

    pub fn sync(&mut self, core: &mut Ctl) {
        if self.finished {
            return;
        }
        core.set_desired(self.from, 0);
        let old = core.counts(self.from);
        if old.active + old.terminating == 0 && core.desired(self.to) < self.replicas {
            core.set_desired(self.to, self.replicas);
        }
        if old.active + old.terminating == 0 && core.counts(self.to).available >= self.replicas {
            self.finished = true;
            core.complete(self.rolling_back);
        }
    }

    pub fn timer(&mut self, _tag: u32, core: &mut Ctl) {
        if !self.finished
            && !self.rolling_back
            && core.progress_deadline_exceeded(false)
            && self.auto
        {
            core.fail_and_roll_back();
        }
    }

    pub fn analysis_scope(&self) -> Option<Scope> {
        (!self.finished && !self.rolling_back).then_some(Scope::Service)
    }

    pub fn rollback(&mut self, core: &mut Ctl) {
        self.rolling_back = true;
        self.finished = false;
        self.from = 1;
        self.to = 0;
        core.set_stalled(false);
        self.sync(core);
    }
}
