//! What a run produces, as the layers above `world` read it: the `runs.csv` row with
//! the latency histogram (`RunOutput`) and, in trace mode, the timeline and the event
//! log (`Trace`). Plain data: `report`, `cli` and `sweep` use these types without
//! importing `world`.

use super::RunRow;
use crate::sim::SimTime;

/// The phase of the deploy as the timeline shows it (DESIGN.md §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeployPhase {
    Steady,
    Rolling,
    Paused,
    Analysis,
    Promoting,
    RollingBack,
    Stalled,
    Done,
}

impl DeployPhase {
    pub fn name(self) -> &'static str {
        match self {
            DeployPhase::Steady => "steady",
            DeployPhase::Rolling => "rolling",
            DeployPhase::Paused => "paused",
            DeployPhase::Analysis => "analysis",
            DeployPhase::Promoting => "promoting",
            DeployPhase::RollingBack => "rolling_back",
            DeployPhase::Stalled => "stalled",
            DeployPhase::Done => "done",
        }
    }
}

/// Pod counts of one version, as a controller sees them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Not terminating, not gone (pending, starting, running, crash-looping).
    pub active: u32,
    /// Active and ready.
    pub ready: u32,
    /// Active and ready for at least `min_ready`.
    pub available: u32,
    pub terminating: u32,
}

/// One row of `events.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceEvent {
    pub t: SimTime,
    pub kind: &'static str,
    pub pod: Option<u32>,
    pub version: Option<u8>,
    pub node: Option<u32>,
    pub detail: String,
}

/// The state sampled at the start of every second (trace mode).
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub t_s: u64,
    pub phase: DeployPhase,
    pub old: Counts,
    pub new: Counts,
    pub new_weight: f64,
    pub lb_old: u32,
    pub lb_new: u32,
}

/// One row of `timeline.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineRow {
    pub sample: Sample,
    pub requests: u64,
    /// Requests routed to the new version (in memory only; for the weight checker).
    pub requests_new: u64,
    pub failed: u64,
    pub impacted: u64,
    pub success_ratio: Option<f64>,
    pub latency_p99_ms: Option<f64>,
}

/// What trace mode records of a run.
pub struct Trace {
    pub timeline: Vec<TimelineRow>,
    pub events: Vec<TraceEvent>,
}

/// The result of one run.
pub struct RunOutput {
    pub row: RunRow,
    pub latency: hdrhistogram::Histogram<u64>,
    pub trace: Option<Trace>,
    /// Events the run scheduled: its cost, independent of the machine.
    pub events: u64,
}
