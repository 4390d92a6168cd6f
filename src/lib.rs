//! deploysim: a deterministic discrete-event simulator of service deployments and a
//! Monte Carlo benchmark of deployment strategies. See `docs/ARCHITECTURE.md`.

pub mod import;
pub mod scenario;
pub mod sim;
