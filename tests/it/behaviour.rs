//! Issue 4, acceptance 2 and 3: behaviour of the strategies against expectations
//! worked out from the scenario (not from the code): recreate's gap vs rolling's none,
//! a canary's exposure bounded by its first weight, a manual rollback waiting for the
//! person, crash loops, full disks; and `trace` for every kind.

use crate::{bin, default_toml, scratch, write};
use deploysim::metrics::RunOutput;
use deploysim::scenario::Scenario;
use deploysim::sim::SimTime;
use deploysim::world::UserTable;
use std::collections::BTreeSet;

fn scenario(extra_release: &str, strategy: &str) -> Scenario {
    crate::parse(&format!(
        r#"
name = "b"
duration = "20m"
deploy_at = "1m"
[service]
replicas = 10
pre_stop = "3s"
[traffic]
rate = 100
[release]
baseline_error_rate = 0.0
{extra_release}
{strategy}
"#
    ))
}

fn run(sc: &Scenario, seed: u64) -> RunOutput {
    let users = UserTable::new(&sc.traffic);
    deploysim::runner::run(sc, &users, &sc.strategies[0], seed, true)
}

/// Healthy release: a rolling update has no downtime and loses no request (preStop
/// sleep beyond the endpoint lag, no baseline errors); recreate has downtime of at
/// least the startup median minus spread, and less than pull + startup + probe tails.
#[test]
fn recreate_has_a_gap_and_rolling_has_none() {
    let healthy = "bad_probability = 0.0";
    let rolling = scenario(
        healthy,
        "[[strategy]]\nname = \"r\"\nkind = \"rolling\"\nrollback = \"none\"",
    );
    let recreate = scenario(
        healthy,
        "[[strategy]]\nname = \"c\"\nkind = \"recreate\"\nrollback = \"none\"",
    );
    for seed in 0..5 {
        let r = run(&rolling, seed).row;
        assert_eq!(
            (r.downtime_s, r.failed_requests),
            (0.0, 0),
            "rolling, seed {seed}"
        );
        let c = run(&recreate, seed).row;
        // Old pods stop accepting after the 3 s preStop; the new ones need a pull
        // (median 5 s) and a startup (median 20 s, lognormal σ 0.5, so the fastest of
        // 10 pods is rarely under 8 s) and a probe period (5 s) before traffic flows.
        assert!(
            (8.0..=120.0).contains(&c.downtime_s),
            "recreate, seed {seed}: downtime {} s",
            c.downtime_s
        );
    }
}

/// A faulty `errors` release (every request to the new version fails) under a canary
/// at 5% with automatic rollback: until the abort only the first step's weight of the
/// traffic reaches the new version. Expected exposure ≤ 5% of the requests from the
/// moment the canary gets traffic until the abort, plus binomial noise (4.5 σ).
#[test]
fn canary_exposure_is_bounded_by_the_first_step() {
    let sc = scenario(
        "bad_probability = 1.0\nfaults = [ { kind = \"errors\", weight = 1, error_rate = 1.0 } ]",
        "[[strategy]]\nname = \"c\"\nkind = \"canary\"\nsteps = [ { set_weight = 5 }, { pause = \"5m\" }, { set_weight = 50 }, { pause = \"5m\" } ]\nrollback = \"auto\"",
    );
    for seed in 0..5 {
        let out = run(&sc, seed);
        let r = &out.row;
        assert_eq!(r.outcome.name(), "rolled_back", "seed {seed}");
        let trace = out.trace.as_ref().unwrap();
        let weights: Vec<f64> = trace.timeline.iter().map(|x| x.sample.new_weight).collect();
        assert!(
            weights.iter().all(|&w| w <= 5.0),
            "seed {seed}: never past step 1"
        );
        // Requests in the seconds the weight was above zero.
        let n: u64 = trace
            .timeline
            .iter()
            .filter(|x| x.sample.new_weight > 0.0)
            .map(|x| x.requests)
            .sum::<u64>()
            + 200; // the seconds in which the weight changed
        let bound = 0.05 * n as f64 + 4.5 * (0.05 * 0.95 * n as f64).sqrt();
        assert!(
            (r.exposed_requests as f64) <= bound,
            "seed {seed}: {} exposed of ~{n} (bound {bound:.0})",
            r.exposed_requests
        );
        assert!(r.exposed_requests > 0);
    }
}

/// Rolling with a manual rollback: the alert fires soon, but the new version keeps
/// serving until the person has responded (decide − detect is the human delay) and the
/// rollback has moved traffic back.
#[test]
fn manual_rollback_exposure_lasts_until_the_person_acts() {
    let sc = scenario(
        "bad_probability = 1.0\nfaults = [ { kind = \"errors\", weight = 1, error_rate = 0.3 } ]",
        "[[strategy]]\nname = \"r\"\nkind = \"rolling\"\nrollback = \"manual\"",
    );
    for seed in 0..5 {
        let r = run(&sc, seed).row;
        let (Some(detect), Some(decide), Some(end)) = (r.detect_s, r.decide_s, r.exposure_end_s)
        else {
            panic!("seed {seed}: {r:?}");
        };
        assert!(detect < 120.0, "seed {seed}: detected after {detect} s");
        // human_response: lognormal, median 5 min, σ 0.5 → almost surely 1–20 min.
        assert!(
            decide - detect > 60.0,
            "seed {seed}: the person took {} s",
            decide - detect
        );
        assert!(
            end >= decide,
            "seed {seed}: exposure ended at {end} before the decision {decide}"
        );
    }
}

/// `crash_on_start`: a rolling update stalls at its progress deadline with the old
/// pods serving (no downtime); recreate has removed them and goes down.
#[test]
fn crash_on_start_stalls_rolling_and_downs_recreate() {
    let crash = "bad_probability = 1.0\nfaults = [ { kind = \"crash_on_start\", weight = 1 } ]";
    let rolling = scenario(
        crash,
        "[[strategy]]\nname = \"r\"\nkind = \"rolling\"\nprogress_deadline = \"5m\"\nrollback = \"none\"",
    );
    let recreate = scenario(
        crash,
        "[[strategy]]\nname = \"c\"\nkind = \"recreate\"\nrollback = \"none\"",
    );
    for seed in 0..3 {
        let r = run(&rolling, seed);
        assert_eq!(r.row.outcome.name(), "stalled", "seed {seed}");
        assert_eq!(r.row.downtime_s, 0.0, "seed {seed}");
        let stalled = r
            .trace
            .as_ref()
            .unwrap()
            .events
            .iter()
            .find(|e| e.kind == "stalled")
            .expect("stalled event")
            .t;
        // The deadline counts from the last progress; the deploy starts at 60 s.
        assert!(
            stalled >= SimTime::from_secs(60 + 300),
            "seed {seed}: {stalled}"
        );
        let c = run(&recreate, seed).row;
        assert!(
            c.downtime_s > 600.0,
            "recreate, seed {seed}: {} s",
            c.downtime_s
        );
    }
}

/// `full_disk_fraction = 0.25` of 12 nodes: exactly 3 nodes cannot pull the new image.
/// Pulls fail only there, and every new pod that became ready runs elsewhere.
#[test]
fn full_disks_fail_pulls_only_on_their_nodes() {
    let sc = crate::parse(
        &default_toml()
            .replace("full_disk_fraction = 0.0", "full_disk_fraction = 0.25")
            .replace("bad_probability = 0.15", "bad_probability = 0.0"),
    );
    let users = UserTable::new(&sc.traffic);
    let rolling = sc.strategies.iter().find(|s| s.name == "rolling").unwrap();
    for seed in 0..3 {
        let trace = deploysim::runner::run(&sc, &users, rolling, seed, true)
            .trace
            .unwrap();
        let failed: BTreeSet<u32> = trace
            .events
            .iter()
            .filter(|e| e.kind == "pull_failed")
            .filter_map(|e| e.node)
            .collect();
        assert!(
            !failed.is_empty() && failed.len() <= 3,
            "seed {seed}: pulls failed on {failed:?}"
        );
        let ready_new: Vec<u32> = trace
            .events
            .iter()
            .filter(|e| e.kind == "ready" && e.version == Some(1))
            .filter_map(|e| e.node)
            .collect();
        assert!(!ready_new.is_empty(), "seed {seed}: no new pod ever ready");
        assert!(
            ready_new.iter().all(|n| !failed.contains(n)),
            "seed {seed}: a new pod became ready on a full node"
        );
        // No pull of the old image ever fails (those nodes still run old pods).
        assert!(
            trace
                .events
                .iter()
                .filter(|e| e.kind == "pull_failed")
                .all(|e| e.version == Some(1))
        );
    }
}

/// Every strategy kind is in the default scenario, and `trace` works for each.
#[test]
fn trace_works_for_every_kind_of_the_default() {
    let sc = crate::parse(default_toml());
    let kinds: BTreeSet<&str> = sc.strategies.iter().map(|s| s.kind.name()).collect();
    for k in [
        "none",
        "recreate",
        "rolling",
        "swarm",
        "blue_green",
        "canary",
        "flagger",
    ] {
        assert!(kinds.contains(k), "default.toml lacks a {k} strategy");
    }
    let dir = scratch("behaviour_trace_all");
    let file = write(&dir, "default.toml", default_toml());
    for s in &sc.strategies {
        let out = dir.join(&s.name);
        let o = bin()
            .arg("trace")
            .arg(&file)
            .args(["--strategy", &s.name, "--seed", "2", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{}: {}",
            s.name,
            String::from_utf8_lossy(&o.stderr)
        );
        for f in ["timeline.csv", "events.csv", "timeline.svg"] {
            assert!(out.join(f).is_file(), "{}: {f}", s.name);
        }
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("steady"), "{}: phase column", s.name);
    }
}
