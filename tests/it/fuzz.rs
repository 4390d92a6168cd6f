//! Issue 19, acceptance 2: the proptest harness over the input paths users control.
//! Seeded and bounded (a few seconds): mutated bundled scenarios and mutated or
//! generated manifests (`fuzz_gen`), plus proptest's own strings and bytes. The
//! properties: never a panic; an import that succeeds validates. The long run is
//! `cargo run --release --example fuzz -- N` over the same generators.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

use crate::fuzz_gen::{
    Gen, check_manifest, check_run, check_scenario, manifest_input, scenario_input,
};

fn config(cases: u32, seed: u64) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config(3000, 19))]
    #[test]
    fn mutated_scenarios_never_panic(seed in any::<u64>()) {
        let text = scenario_input(&mut Gen::new(seed));
        let verdict = check_scenario(&text);
        prop_assert!(verdict.is_ok(), "seed {seed}: {verdict:?}\n{text}");
    }
}

proptest! {
    #![proptest_config(config(60, 191))]
    #[test]
    fn mutated_valid_scenarios_run_without_a_panic(seed in any::<u64>()) {
        let text = scenario_input(&mut Gen::new(seed));
        let verdict = check_run(&text, seed);
        prop_assert!(verdict.is_ok(), "seed {seed}: {verdict:?}\n{text}");
    }
}

proptest! {
    #![proptest_config(config(1500, 1919))]
    #[test]
    fn mutated_manifests_never_panic_and_imports_validate(seed in any::<u64>()) {
        let bytes = manifest_input(&mut Gen::new(seed));
        let verdict = check_manifest(&bytes);
        prop_assert!(verdict.is_ok(), "seed {seed}: {verdict:?}\n{}", String::from_utf8_lossy(&bytes));
    }
}

proptest! {
    #![proptest_config(config(2000, 191919))]
    #[test]
    fn any_duration_text_never_panics(s in "[0-9.]{0,25}(us|ms|s|m|h|x)?([0-9.]{0,6}(us|ms|s|m|h))?") {
        let text = deploysim::scenario::DEFAULT_TOML.replacen("duration = \"30m\"", &format!("duration = \"{s}\""), 1);
        prop_assert!(check_scenario(&text).is_ok());
    }

    #[test]
    fn any_bytes_as_a_manifest_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        prop_assert!(check_manifest(&bytes).is_ok());
    }

    #[test]
    fn any_replicas_and_surge_never_panic(replicas in any::<i64>(), surge in any::<i64>(), rate in any::<f64>()) {
        let text = deploysim::scenario::DEFAULT_TOML
            .replacen("replicas = 20", &format!("replicas = {replicas}"), 1)
            .replacen("max_surge = \"25%\"", &format!("max_surge = {surge}"), 1)
            .replacen("rate = 200 ", &format!("rate = {rate:?} "), 1);
        prop_assert!(check_scenario(&text).is_ok());
    }
}
