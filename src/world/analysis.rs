//! The run's analyses (DESIGN.md §9) inside the world: the scrape store every query
//! reads (each pod a scrape target from its creation to its exit), the AnalysisRuns a
//! controller started, their measurements on schedule, and the run's tally for
//! `runs.csv`.
//!
//! A controller starts a template (`Core::start_analysis`, through `Ctl`) and learns
//! its end from the runner (`Controller::analysis_done`); the runner wakes the world
//! with `Ev::Analysis` at the earliest due measurement (`Core::measure_analyses`).
//! The `[monitoring]` rule queries the same store (`Core::evaluate`). A Failed
//! measurement of a metric that is not `dry_run` is a detection (`detect_s`).
//!
//! Nothing here runs per request: a measurement reads the collector's per-second
//! counters at the sample times the store computes, into reused buffers.

use crate::analysis::{self, AnalysisRun, Outcome, Phase, QueryResult, Series, Store, Tally};
use crate::scenario::analysis::{FlaggerMetric, TemplateId};
use crate::sim::SimTime;
use crate::sim::rng::{Keyed, Purpose};

use super::Ev;
use super::core::Core;

/// A started AnalysisRun of this run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AnalysisId(u32);

/// Who started an analysis (what its end means to the controller).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// Canary background analysis.
    Background,
    /// An inline canary step `{ analysis = "template" }`.
    Step,
    /// Blue/green `pre_promotion_analysis`.
    PrePromotion,
    /// Blue/green `post_promotion_analysis`.
    PostPromotion,
    /// The pipeline analysis of rolling, recreate and swarm.
    Pipeline,
}

#[derive(Clone, Debug)]
struct Active {
    run: AnalysisRun,
    template: TemplateId,
    owner: Owner,
    /// Completed (or stopped): no more measurements, its end reported once.
    over: bool,
}

/// The store and the runs of one run (owned by `Core`).
#[derive(Clone, Debug)]
pub struct Analyses {
    pub(super) store: Store,
    runs: Vec<Active>,
    tally: Tally,
    /// When the scheduled `Ev::Analysis` fires (`SimTime::MAX`: none).
    wake: SimTime,
    /// Runs completed by the last `measure_analyses`, for the runner to report.
    finished: Vec<(AnalysisId, Owner, Phase)>,
    /// Per-pod scrape phases: `Purpose::Probe`, keyed by (version, ordinal).
    phases: Keyed,
    /// New-version pods are also preview targets (a blue/green strategy runs).
    pub(super) preview_targets: bool,
}

impl Analyses {
    pub fn new(sc: &crate::scenario::Scenario, seed: u64) -> Analyses {
        Analyses {
            store: Store::new(&sc.analysis.metrics, Keyed::new(seed, Purpose::Analysis, 0)),
            runs: Vec::new(),
            tally: Tally::default(),
            wake: SimTime::MAX,
            finished: Vec::new(),
            phases: Keyed::new(seed, Purpose::Probe, 0x5c7a_9e00),
            preview_targets: sc
                .strategies
                .iter()
                .any(|s| matches!(s.kind, crate::scenario::StrategyKind::BlueGreen(_))),
        }
    }

    /// The scrape offset of pod (version, ordinal), in `[0, scrape_interval)`.
    pub(super) fn phase_of(&self, version: u8, ordinal: u32) -> SimTime {
        let u = self
            .phases
            .child(((version as u64) << 32) | ordinal as u64)
            .uniform(0);
        SimTime::from_micros((u * self.store.scrape_interval().micros() as f64) as u64)
    }

    /// Measurement counts over the run (every analysis, dry-run metrics included).
    pub fn tally(&self) -> Tally {
        self.tally
    }
}

/// What a measurement's trace line says.
fn describe(m: &analysis::Measurement) -> String {
    match (m.value, m.shift, m.points) {
        (Some(v), _, _) => format!("{} = {v:.6}", m.outcome.name()),
        (None, Some(sh), Some((c, b))) => format!(
            "{}: shift {:.3} [{:.3}, {:.3}] over {c}/{b} points",
            m.outcome.name(),
            sh.estimate,
            sh.low,
            sh.high
        ),
        (None, None, Some((c, b))) => format!("{} over {c}/{b} points", m.outcome.name()),
        _ => format!("{} (no data or query failed)", m.outcome.name()),
    }
}

impl Core<'_> {
    /// Starts `template` now for `owner`; its measurements follow its schedule.
    pub fn start_analysis(&mut self, template: TemplateId, owner: Owner) -> AnalysisId {
        let sc = self.sc;
        let t = &sc.analysis.templates[template];
        let run = AnalysisRun::new(t, self.now);
        let id = AnalysisId(self.analyses.runs.len() as u32);
        self.analyses.runs.push(Active {
            run,
            template,
            owner,
            over: false,
        });
        self.log("analysis_start", None, || format!("{} ({owner:?})", t.name));
        self.schedule_analysis_wake();
        id
    }

    /// Stops a running analysis (a background run when the rollout completes or
    /// aborts): its running metrics end Successful, as Argo's termination does.
    pub fn stop_analysis(&mut self, id: AnalysisId) {
        let a = &mut self.analyses.runs[id.0 as usize];
        if a.over {
            return;
        }
        a.over = true;
        let phase = a.run.terminate();
        let name = &self.sc.analysis.templates[a.template].name;
        self.log("analysis_stop", None, || {
            format!("{name}: {}", phase.name())
        });
    }

    /// The phase of a started analysis.
    pub fn analysis_phase(&self, id: AnalysisId) -> Phase {
        self.analyses.runs[id.0 as usize].run.phase()
    }

    fn schedule_analysis_wake(&mut self) {
        let next = self
            .analyses
            .runs
            .iter()
            .filter(|a| !a.over)
            .filter_map(|a| a.run.next_due())
            .min();
        if let Some(at) = next {
            let at = at.max(self.now);
            if at < self.analyses.wake || self.analyses.wake <= self.now {
                self.analyses.wake = at;
                self.q.push(at, Ev::Analysis);
            }
        }
    }

    /// `Ev::Analysis`: every due measurement of every running analysis, now. The runs
    /// that completed are then taken with `take_finished_analysis`.
    pub fn measure_analyses(&mut self) {
        if self.analyses.wake == self.now {
            self.analyses.wake = SimTime::MAX;
        }
        let sc = self.sc;
        for i in 0..self.analyses.runs.len() {
            if self.analyses.runs[i].over {
                continue;
            }
            let template = &sc.analysis.templates[self.analyses.runs[i].template];
            loop {
                let Some(m) = self.analyses.runs[i].run.due(self.now).next() else {
                    break;
                };
                let spec = &template.metrics[m];
                let meas =
                    analysis::measure(&mut self.analyses.store, &self.metrics, spec, self.now);
                let a = &mut self.analyses.runs[i];
                let phase = a.run.record(m, meas.outcome, self.now);
                let t = &mut self.analyses.tally;
                t.measurements += 1;
                match meas.outcome {
                    Outcome::Successful => t.successful += 1,
                    Outcome::Failed => t.failed += 1,
                    Outcome::Inconclusive => t.inconclusive += 1,
                    Outcome::Error => t.errors += 1,
                }
                if meas.outcome == Outcome::Failed && !spec.dry_run {
                    self.deploy.detect_at.get_or_insert(self.now);
                }
                let dry = if spec.dry_run { " (dry run)" } else { "" };
                self.log("measurement", None, || {
                    format!(
                        "{}/{}: {}{dry}; analysis {}",
                        template.name,
                        spec.name,
                        describe(&meas),
                        phase.name()
                    )
                });
                if phase.completed() {
                    let a = &mut self.analyses.runs[i];
                    a.over = true;
                    let (owner, id) = (a.owner, AnalysisId(i as u32));
                    self.analyses.finished.push((id, owner, phase));
                    self.log("analysis_end", None, || {
                        format!("{}: {}", template.name, phase.name())
                    });
                    break;
                }
            }
        }
        self.schedule_analysis_wake();
    }

    /// A run completed by the last `measure_analyses`, oldest first.
    pub fn take_finished_analysis(&mut self) -> Option<(AnalysisId, Owner, Phase)> {
        if self.analyses.finished.is_empty() {
            None
        } else {
            Some(self.analyses.finished.remove(0))
        }
    }

    /// Flagger's checks of one analysis tick: every metric of `metrics` measured now
    /// (each a measurement in the tally and the trace); true when all are within
    /// their ranges.
    pub fn flagger_checks(&mut self, metrics: &[FlaggerMetric]) -> bool {
        let sc = self.sc;
        let mut all = true;
        for m in metrics {
            let ok = analysis::flagger_check(
                &mut self.analyses.store,
                &self.metrics,
                m,
                &sc.analysis,
                self.now,
            );
            let t = &mut self.analyses.tally;
            t.measurements += 1;
            if ok {
                t.successful += 1;
            } else {
                t.failed += 1;
                self.deploy.detect_at.get_or_insert(self.now);
            }
            all &= ok;
            self.log("measurement", None, || {
                format!(
                    "flagger/{}: {}",
                    m.name,
                    if ok {
                        "within range"
                    } else {
                        "out of range or no values"
                    }
                )
            });
        }
        all
    }

    /// A new pod becomes a scrape target (Prometheus discovers pods as they are
    /// created).
    pub(super) fn add_scrape_targets(&mut self, p: u32) {
        let (v, ord) = {
            let pod = &self.pods[p as usize];
            (pod.version, pod.ordinal)
        };
        let phase = self.analyses.phase_of(v, ord);
        let now = self.now;
        let store = &mut self.analyses.store;
        let main = store.add_target(Series::Version(v), phase, now);
        let preview = (v == 1 && self.analyses.preview_targets)
            .then(|| store.add_target(Series::Preview, phase, now));
        let pod = &mut self.pods[p as usize];
        pod.targets = Some((main, preview));
    }

    /// The pod's container is gone: it is scraped no more.
    pub(super) fn remove_scrape_targets(&mut self, p: u32) {
        if let Some((main, preview)) = self.pods[p as usize].targets.take() {
            self.analyses.store.remove_target(main, self.now);
            if let Some(t) = preview {
                self.analyses.store.remove_target(t, self.now);
            }
        }
    }

    /// The `[monitoring]` rule's p99 query on `scope` (ms), or `None` when empty.
    pub(super) fn rule_p99_ms(&mut self, scope: crate::scenario::analysis::Scope) -> Option<f64> {
        use crate::scenario::analysis::{Measure, Quantile};
        let r = self.analyses.store.query(
            &self.metrics,
            Measure::LatencyQuantile(Quantile::P99),
            scope,
            self.sc.monitoring.window,
            self.now,
        );
        match r {
            QueryResult::Value(v) if !v.is_nan() => Some(v),
            _ => None,
        }
    }
}
