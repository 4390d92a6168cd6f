//! The one integration-test binary: runs the real command and the library's public
//! API. Modules are named after what they pin.

mod alloc;
mod architecture;
mod bad_input;
mod behaviour;
mod deploy_manifests;
mod determinism;
mod extremes;
mod fidelity;
mod fluid;
mod fuzz;
mod fuzz_gen;
mod gates;
mod hardening;
mod invariants;
mod output_safety;
mod player;
mod probes;
mod queueing;
mod recreate_and_crashloop;
mod report_files;
mod scenarios;
mod shards;
mod sweep;

use std::path::{Path, PathBuf};

#[global_allocator]
static COUNTING: alloc::Counting = alloc::Counting;
use std::process::Command;

/// The built `deploysim` binary.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_deploysim"))
}

/// A fresh, empty scratch directory under the target dir (removed first if present).
pub fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create scratch dir");
    d
}

/// The embedded default scenario text.
pub fn default_toml() -> &'static str {
    deploysim::scenario::DEFAULT_TOML
}

/// Parses scenario text, panicking with the message on error (test helper).
pub fn parse(text: &str) -> deploysim::scenario::Scenario {
    match deploysim::scenario::parse(text, "test.toml") {
        Ok(p) => p.scenario,
        Err(e) => panic!("test scenario does not parse:\n{e}"),
    }
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write test file");
    p
}
