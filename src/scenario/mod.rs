//! Scenario format: raw TOML -> validated typed model (`model`).
pub mod model;
pub use model::*;
