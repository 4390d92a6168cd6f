//! Scenario format: raw TOML -> validated typed model (`model`).
//! TEMPORARY API STUB until the parser branch lands.
pub mod model;
pub use model::*;

pub const DEFAULT_TOML: &str = "";
pub struct Parsed {
    pub scenario: Scenario,
    pub warnings: Vec<String>,
}
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ScenarioError(String);
pub fn parse(_text: &str, file: &str) -> Result<Parsed, ScenarioError> {
    Err(ScenarioError(file.into()))
}
pub fn load(path: &std::path::Path) -> Result<Parsed, ScenarioError> {
    Err(ScenarioError(path.display().to_string()))
}
pub fn bundled() -> &'static [(&'static str, &'static str)] {
    &[]
}
