//! deploysim: a deterministic discrete-event simulator of service deployments and a
//! Monte Carlo benchmark of deployment strategies. See `docs/ARCHITECTURE.md`.

pub mod analysis;
pub mod catalogue;
pub mod cli;
pub mod import;
pub mod metrics;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod sim;
pub mod stats;
pub mod strategy;
pub mod sweep;
pub mod world;
