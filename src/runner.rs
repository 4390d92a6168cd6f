//! The run loop: one scenario, one strategy, one seed. It owns the event loop, the
//! `[monitoring]` rule and the person it pages, and turns the finished world into a
//! `RunOutput` (`finish`).
//!
//! Layering: the runner sits above `world` and `strategy`; it drives the world and
//! calls the controller, so neither of them needs the other's loop. A run is a pure
//! function of (scenario, strategy, seed): no I/O, no clock, no threads.

use crate::analysis::Phase;
use crate::metrics::{Decisions, Outcome, RunOutput, Sample, TimelineRow, Trace};
use crate::scenario::{Fidelity, Rollback, Scenario, Strategy, StrategyKind};
use crate::sim::SimTime;
use crate::strategy::Controller;
use crate::world::analysis::{AnalysisId, Owner};
use crate::world::{Core, Ctl, Ev, RuleVerdict, Scope, fluid, pipeline};

/// The per-scenario user table a run draws its users from (built once per sweep).
pub use crate::world::UserTable;

/// The loop: one scenario, one strategy, one seed.
pub fn run(
    sc: &Scenario,
    users: &UserTable,
    strategy: &Strategy,
    seed: u64,
    trace: bool,
) -> RunOutput {
    run_with(sc, users, strategy, seed, trace, true)
}

/// `run`, with fluid mode's shortcuts (`Core::shortcuts`) on or off: the test that
/// they change no result turns them off.
fn run_with(
    sc: &Scenario,
    users: &UserTable,
    strategy: &Strategy,
    seed: u64,
    trace: bool,
    shortcuts: bool,
) -> RunOutput {
    let mut core = Core::new(sc, users, seed, trace);
    core.limit_shortcuts(shortcuts);
    let mut ctrl = Controller::new(strategy, sc);
    let analysis = sc.strategy_analysis(&strategy.name);
    // The wave-1 analysis (the `[monitoring]` rule on the strategy's scope) runs only
    // for a strategy without templates.
    let rule_analysis = !analysis.uses_templates();
    // Rolling, recreate, swarm: the pipeline analysis, from the deploy start.
    let mut pipeline_run: Option<AnalysisId> = None;
    core.boot();
    // A faulty release caught before production never reaches it.
    let pipeline = (!sc.pipeline.is_empty()).then(|| {
        pipeline::run_pipeline(
            &sc.pipeline,
            seed,
            core.fault_kind(),
            &sc.monitoring.human_promote,
        )
    });
    let caught = pipeline.as_ref().and_then(|p| p.caught_at);
    if !matches!(strategy.kind, StrategyKind::None) && caught.is_none() {
        core.schedule(sc.deploy_at, Ev::DeployStart);
    }
    core.schedule(sc.deploy_at + sc.monitoring.interval, Ev::Monitor);
    let mut samples: Vec<Sample> = Vec::new();
    let mut alert_streak = 0u32;
    let mut analysis_streak = 0u32;
    let mut paged = false;
    let horizon = sc.duration;
    let mut fluid = (sc.fidelity == Fidelity::Fluid).then(|| fluid::Fluid::new(&core));
    // Fluid mode: the next second boundary whose bookkeeping is due.
    let mut next_second = SimTime::ZERO;
    while let Some((t, ev)) = core.next_event(horizon) {
        if let Some(f) = &mut fluid {
            let through_t = t + SimTime(1);
            seconds_before(
                f,
                &mut core,
                &mut next_second,
                through_t,
                trace.then_some(&mut samples),
            );
            if fluid::flush_before(&ev) {
                f.advance(&mut core, t, matches!(ev, Ev::Monitor));
            }
        }
        core.set_now(t);
        if let Some(ev) = core.handle(ev) {
            match ev {
                Ev::DeployStart => {
                    core.log("deploy_start", None, || strategy.name.clone());
                    if let Some(t) = analysis.pipeline {
                        pipeline_run = Some(core.start_analysis(t, Owner::Pipeline));
                    }
                    ctrl.start(&mut Ctl::new(&mut core));
                }
                Ev::Analysis => {
                    core.measure_analyses();
                    while let Some((id, owner, phase)) = core.take_finished_analysis() {
                        if owner != Owner::Pipeline {
                            ctrl.analysis_done(id, owner, phase, &mut Ctl::new(&mut core));
                            continue;
                        }
                        pipeline_run = None;
                        match phase {
                            Phase::Failed | Phase::Error => {
                                core.log("analysis_failed", None, || {
                                    format!("pipeline analysis {}", phase.name())
                                });
                                core.request_rollback();
                            }
                            Phase::Inconclusive if !paged && core.deploy().decide_at.is_none() => {
                                // Nobody decides automatically: a person is paged.
                                paged = true;
                                let d = core.people_draw(&sc.monitoring.human_response);
                                core.log("paged", None, || {
                                    format!(
                                        "pipeline analysis inconclusive; a person responds in {}",
                                        d.human()
                                    )
                                });
                                core.schedule(t + d, Ev::HumanRollback);
                            }
                            _ => {}
                        }
                    }
                }
                Ev::Sync => {
                    core.reconcile_all();
                    ctrl.sync(&mut Ctl::new(&mut core));
                }
                Ev::Timer { tag } => ctrl.timer(tag, &mut Ctl::new(&mut core)),
                Ev::Monitor => {
                    core.schedule(t + sc.monitoring.interval, Ev::Monitor);
                    if core.evaluate(Scope::Service) == RuleVerdict::Fail {
                        alert_streak += 1;
                    } else {
                        alert_streak = 0;
                    }
                    let fired = alert_streak >= sc.monitoring.failures.max(1);
                    if fired && alert_streak == sc.monitoring.failures.max(1) {
                        core.log("alert", None, || "alert rule fired".into());
                    }
                    if fired {
                        core.detected_at(t);
                    }
                    // The strategy's own analysis, while the deploy runs.
                    let mut analysis_failed = false;
                    if rule_analysis
                        && strategy.rollback == Rollback::Auto
                        && core.deploy().done_at.is_none()
                        && core.deploy().decide_at.is_none()
                        && let Some(scope) = ctrl.analysis_scope()
                    {
                        match core.evaluate(scope) {
                            RuleVerdict::Fail => analysis_streak += 1,
                            RuleVerdict::Pass => analysis_streak = 0,
                            RuleVerdict::NoVerdict => {}
                        }
                        if analysis_streak >= sc.monitoring.failures.max(1) {
                            analysis_failed = true;
                            core.log("analysis_failed", None, || {
                                format!("{scope:?} analysis failed")
                            });
                        }
                    }
                    if analysis_failed {
                        core.detected_at(t);
                        core.request_rollback();
                    } else if fired
                        && !paged
                        && strategy.rollback != Rollback::None
                        && core.deploy().decide_at.is_none()
                    {
                        paged = true;
                        let d = core.people_draw(&sc.monitoring.human_response);
                        core.log("paged", None, || {
                            format!("a person responds in {}", d.human())
                        });
                        core.schedule(t + d, Ev::HumanRollback);
                    }
                }
                Ev::HumanRollback => {
                    // The person checks the dashboards first: a release whose alert has
                    // cleared (e.g. a brief dip during the rollout) is left in place.
                    if core.evaluate(Scope::Service) == RuleVerdict::Fail || alert_streak > 0 {
                        core.request_rollback();
                    } else {
                        paged = false;
                        core.log("stand_down", None, || "alert cleared; no rollback".into());
                    }
                }
                Ev::Tick => {
                    core.second_starts(trace.then_some(&mut samples));
                    core.schedule(t + SimTime::from_secs(1), Ev::Tick);
                }
                // `Core::handle` has taken every world event.
                _ => {}
            }
        }
        // The pipeline analysis ends with the deploy.
        if let Some(id) = pipeline_run
            && (core.deploy().done_at.is_some() || core.deploy().decide_at.is_some())
        {
            core.stop_analysis(id);
            pipeline_run = None;
        }
        // The request is taken (cleared) first, whether or not it is acted on.
        if core.take_rollback_request()
            && core.deploy().decide_at.is_none()
            && !matches!(strategy.kind, StrategyKind::None)
        {
            core.decide_rollback();
            if let Some(f) = &mut fluid {
                f.materialize(&mut core);
            }
            ctrl.rollback(&mut Ctl::new(&mut core));
            core.check_rollback_traffic();
        }
    }
    if let Some(f) = &mut fluid {
        seconds_before(
            f,
            &mut core,
            &mut next_second,
            horizon,
            trace.then_some(&mut samples),
        );
        f.advance(&mut core, horizon, false);
        f.finish(&mut core);
    }
    core.set_now(horizon);
    let mut out = finish(core, strategy, seed, samples, caught.is_some());
    if let Some(p) = pipeline {
        out.row.caught_stage = p.caught_at.map(|i| sc.pipeline[i].name.clone());
        // Lead time to production: only a release that reached it has one.
        out.row.lead_time_s = p.caught_at.is_none().then(|| p.lead_time.secs_f64());
    }
    out
}

/// Fluid mode: every second boundary from `next` up to (not including) `end`: traffic
/// up to it, then what a `Tick` does in the request-level mode. Nothing happens
/// between events, so these flushes are quiet.
fn seconds_before(
    f: &mut fluid::Fluid,
    core: &mut Core<'_>,
    next: &mut SimTime,
    end: SimTime,
    mut samples: Option<&mut Vec<Sample>>,
) {
    while *next < end {
        f.advance(core, *next, true);
        core.set_now(*next);
        core.second_starts(samples.as_deref_mut());
        *next += SimTime::from_secs(1);
    }
}

fn finish(
    core: Core<'_>,
    strategy: &Strategy,
    seed: u64,
    samples: Vec<Sample>,
    caught: bool,
) -> RunOutput {
    let mut end = core.into_parts();
    let d = &end.deploy;
    let outcome = if matches!(strategy.kind, StrategyKind::None) || caught {
        Outcome::None
    } else if d.rollback_complete {
        Outcome::RolledBack
    } else if d.decide_at.is_some() {
        Outcome::Incomplete
    } else if d.done_at.is_some() {
        Outcome::Completed
    } else if d.stalled || d.gated {
        Outcome::Stalled
    } else {
        Outcome::Incomplete
    };
    let decisions = Decisions {
        deploy_done: d.done_at,
        detect: d.detect_at,
        decide: d.decide_at,
        rollback_done: d.rollback_traffic_at,
    };
    let false_rollback = !end.faulty && d.decide_at.is_some();
    let fault = end.fault.as_ref().map(|f| f.kind().name());
    let row = end.metrics.finish(
        &strategy.name,
        seed,
        end.faulty,
        fault,
        outcome,
        &decisions,
        false_rollback,
        &end.sc.slo,
    );
    let mut row = row;
    let a = end.analysis;
    row.analysis_measurements = a.measurements as u64;
    row.analysis_failed = a.failed as u64;
    row.analysis_inconclusive = a.inconclusive as u64;
    row.analysis_errors = a.errors as u64;
    let m = &end.metrics;
    let trace = end.log.take().map(|events| {
        let timeline = samples
            .into_iter()
            .map(|sample| {
                let s = sample.t_s as usize;
                let requests = (m.req[s][0] + m.req[s][1]) as u64;
                let failed = (m.fail[s][0] + m.fail[s][1]) as u64;
                TimelineRow {
                    requests,
                    requests_new: m.req[s][1] as u64,
                    failed,
                    impacted: m.impacted[s] as u64,
                    success_ratio: (requests > 0).then(|| 1.0 - failed as f64 / requests as f64),
                    latency_p99_ms: m.window_p99_ms(s, s + 1, None),
                    sample,
                }
            })
            .collect();
        Trace { timeline, events }
    });
    RunOutput {
        row,
        latency: end.metrics.hist,
        trace,
        events: end.events,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario;

    /// Fluid mode's shortcuts (parked probe chains, one step for a uniform version,
    /// quiet whole seconds) are optimisations: every row of every bundled scenario is identical with and
    /// without them, to the last bit, for every strategy and seed tried.
    #[test]
    fn fluid_shortcuts_change_no_result() {
        let mut compared = 0;
        for (name, text) in scenario::bundled() {
            let mut sc = scenario::parse(text, name)
                .expect("bundled parses")
                .scenario;
            sc.fidelity = Fidelity::Fluid;
            let users = UserTable::new(&sc.traffic);
            for st in &sc.strategies {
                for seed in 0..12 {
                    let fast = run_with(&sc, &users, st, seed, false, true);
                    let slow = run_with(&sc, &users, st, seed, false, false);
                    assert_eq!(
                        fast.row, slow.row,
                        "{name} {} seed {seed}: deploysim trace scenarios/{name}.toml \
                         --strategy {} --seed {seed}",
                        st.name, st.name
                    );
                    assert!(fast.events <= slow.events);
                    compared += 1;
                }
            }
        }
        assert!(compared > 400, "{compared} runs compared");
    }
}
