//! The bookkeeping the update-style controllers (Recreate, RollingUpdate, Swarm) share:
//! which way the update goes, whether it is the rollback, whether it is over, and
//! what completing or reversing it does to the deploy's state.

use crate::world::{Ctl, Scope};

#[derive(Clone, Copy, Debug)]
pub struct Update {
    /// The version being replaced and the one replacing it.
    pub from: u8,
    pub to: u8,
    pub rolling_back: bool,
    pub finished: bool,
}

impl Update {
    /// The deploy: from the old version (0) to the new one (1).
    pub fn forward() -> Self {
        Update {
            from: 0,
            to: 1,
            rolling_back: false,
            finished: false,
        }
    }

    /// Turns into the rollback (`rollout undo`): from the new version back to the old
    /// one, not finished, and the deploy no longer stalled or waiting at a gate.
    pub fn reverse(&mut self, core: &mut Ctl) {
        *self = Update {
            from: 1,
            to: 0,
            rolling_back: true,
            finished: false,
        };
        core.set_gated(false);
        core.set_stalled(false);
    }

    /// The update reached its goal: finished, and the deploy (or the rollback)
    /// complete.
    pub fn finish(&mut self, core: &mut Ctl) {
        self.finished = true;
        core.complete(self.rolling_back);
    }

    /// The forward update is still running: neither finished nor reversed.
    pub fn deploying(&self) -> bool {
        !self.finished && !self.rolling_back
    }

    /// The run loop's analysis watches the service while the deploy runs.
    pub fn analysis_scope(&self) -> Option<Scope> {
        self.deploying().then_some(Scope::Service)
    }
}
