//! Tests of the scenario format: the default file, every rejection rule, the warnings
//! and the value parsers (data-driven `check` tables).

use super::*;
use crate::sim::SimTime;

#[test]
fn default_parses() {
    let p = parse(DEFAULT_TOML, "default.toml").unwrap();
    assert_eq!(p.scenario.name, "default");
}
