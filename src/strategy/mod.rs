//! Deployment controllers, one file per kind: each reconciles the world the way the
//! real controller does (DESIGN.md §4), through `Core`'s controller API only.
//!
//! `Controller` dispatches statically over the kinds (no dynamic dispatch). A
//! controller never reads the event queue or request state directly.

pub mod argo_replicas;
pub mod blue_green;
pub mod canary;
pub mod flagger;
pub mod recreate;
pub mod rolling;
pub mod swarm;
#[cfg(test)]
pub(crate) mod testkit;
pub mod update;

use crate::analysis::Phase;
use crate::scenario::{Rollback, Scenario, Strategy, StrategyKind};
use crate::world::analysis::{AnalysisId, Owner};
use crate::world::{Ctl, Scope};

pub enum Controller {
    None,
    Recreate(recreate::Recreate),
    Rolling(rolling::Rolling),
    Canary(canary::Canary),
    BlueGreen(blue_green::BlueGreen),
    Swarm(swarm::Swarm),
    Flagger(flagger::Flagger),
}

impl Controller {
    pub fn new(s: &Strategy, sc: &Scenario) -> Controller {
        let replicas = sc.service.replicas;
        let analysis = sc.strategy_analysis(&s.name);
        match &s.kind {
            StrategyKind::None => Controller::None,
            StrategyKind::Recreate => Controller::Recreate(recreate::Recreate::new(
                replicas,
                s.rollback == Rollback::Auto,
            )),
            StrategyKind::Rolling(p) => {
                Controller::Rolling(rolling::Rolling::new(p, replicas, s.rollback))
            }
            StrategyKind::Canary(p) => {
                Controller::Canary(canary::Canary::new(p, replicas, s.rollback, analysis))
            }
            StrategyKind::BlueGreen(p) => {
                Controller::BlueGreen(blue_green::BlueGreen::new(p, replicas, analysis))
            }
            StrategyKind::Swarm(p) => Controller::Swarm(swarm::Swarm::new(p, replicas)),
            StrategyKind::Flagger(p) => Controller::Flagger(flagger::Flagger::new(
                p,
                replicas,
                s.rollback,
                analysis.flagger_metrics,
            )),
        }
    }

    /// The deploy starts (at `deploy_at`).
    pub fn start(&mut self, core: &mut Ctl) {
        match self {
            Controller::None => {}
            Controller::Recreate(c) => c.start(core),
            Controller::Rolling(c) => c.start(core),
            Controller::Canary(c) => c.start(core),
            Controller::BlueGreen(c) => c.start(core),
            Controller::Swarm(c) => c.start(core),
            Controller::Flagger(c) => c.start(core),
        }
    }

    /// Something changed (pod ready, gone, crashed...): reconcile.
    pub fn sync(&mut self, core: &mut Ctl) {
        match self {
            Controller::None => {}
            Controller::Recreate(c) => c.sync(core),
            Controller::Rolling(c) => c.sync(core),
            Controller::Canary(c) => c.sync(core),
            Controller::BlueGreen(c) => c.sync(core),
            Controller::Swarm(c) => c.sync(core),
            Controller::Flagger(c) => c.sync(core),
        }
    }

    pub fn timer(&mut self, tag: u32, core: &mut Ctl) {
        match self {
            Controller::None => {}
            Controller::Recreate(c) => c.timer(tag, core),
            Controller::Rolling(c) => c.timer(tag, core),
            Controller::Canary(c) => c.timer(tag, core),
            Controller::BlueGreen(c) => c.timer(tag, core),
            Controller::Swarm(c) => c.timer(tag, core),
            Controller::Flagger(c) => c.timer(tag, core),
        }
    }

    /// The traffic the strategy's own analysis watches while the deploy runs.
    pub fn analysis_scope(&self) -> Option<Scope> {
        match self {
            Controller::None => None,
            Controller::Recreate(c) => c.analysis_scope(),
            Controller::Rolling(c) => c.analysis_scope(),
            Controller::Canary(c) => c.analysis_scope(),
            Controller::BlueGreen(c) => c.analysis_scope(),
            Controller::Swarm(c) => c.analysis_scope(),
            Controller::Flagger(c) => c.analysis_scope(),
        }
    }

    /// An analysis the controller started has completed with `phase`.
    pub fn analysis_done(&mut self, id: AnalysisId, owner: Owner, phase: Phase, core: &mut Ctl) {
        match self {
            Controller::Canary(c) => c.analysis_done(id, owner, phase, core),
            Controller::BlueGreen(c) => c.analysis_done(id, owner, phase, core),
            // Flagger measures its metrics itself; the update-style controllers' pipeline
            // analysis is the run loop's (`runner`).
            Controller::None
            | Controller::Recreate(_)
            | Controller::Rolling(_)
            | Controller::Swarm(_)
            | Controller::Flagger(_) => {}
        }
    }

    /// Start rolling back to the previous version.
    pub fn rollback(&mut self, core: &mut Ctl) {
        match self {
            Controller::None => {}
            Controller::Recreate(c) => c.rollback(core),
            Controller::Rolling(c) => c.rollback(core),
            Controller::Canary(c) => c.rollback(core),
            Controller::BlueGreen(c) => c.rollback(core),
            Controller::Swarm(c) => c.rollback(core),
            Controller::Flagger(c) => c.rollback(core),
        }
    }
}
