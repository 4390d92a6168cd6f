//! Per-run measurement: per-second counters, user sets, latency histograms, pod-count
//! integrals, and the `runs.csv` row computed from them at the horizon (DESIGN.md §6).
//!
//! Filled by the world while it runs; allocates once per run, never per event.
//! Does no I/O: writers in `report` serialise what it produces.

mod loghist;
mod results;
mod run;

pub use loghist::{BUCKETS as LATENCY_BUCKETS, LogHist};
pub use results::{Counts, DeployPhase, RunOutput, Sample, TimelineRow, Trace, TraceEvent};
pub use run::{
    Collector, Decisions, LATENCY_MAX_US, Outcome, RunRow, latency_histogram, record_latency,
};
