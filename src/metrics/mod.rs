//! Per-run measurement: per-second counters, user sets, latency histograms, pod-count
//! integrals, and the `runs.csv` row computed from them at the horizon (DESIGN.md §6).
//!
//! Filled by the world while it runs; allocates once per run, never per event.
//! Does no I/O: writers in `report` serialise what it produces.

mod loghist;
mod run;

pub use loghist::{BUCKETS as LATENCY_BUCKETS, LogHist};
pub use run::{Collector, Decisions, Outcome, RunRow};
