//! Issue 4, acceptance 1: controller invariants checked on real traces with the
//! checkers of `world::invariants` (pod counts replayed from the event log, so
//! sub-second breaches are caught too). Expected bounds are computed here from the
//! documented Kubernetes and Argo Rollouts rules, not taken from the code under test.

use deploysim::scenario::Scenario;
use deploysim::sim::SimTime;
use deploysim::world::{UserTable, invariants};

/// A healthy 10-replica service at 100 req/s with no baseline errors, no node
/// failures and a preStop sleep beyond the endpoint lag; `strategy` is TOML.
fn scenario(strategy: &str) -> Scenario {
    let text = format!(
        r#"
name = "inv"
duration = "15m"
deploy_at = "1m"
[cluster]
nodes = 12
pods_per_node = 4
[service]
replicas = 10
pre_stop = "3s"
[traffic]
rate = 100
[release]
bad_probability = 0.0
baseline_error_rate = 0.0
{strategy}
"#
    );
    crate::parse(&text)
}

fn run(sc: &Scenario, seed: u64) -> deploysim::metrics::RunOutput {
    let users = UserTable::new(&sc.traffic);
    deploysim::runner::run(sc, &users, &sc.strategies[0], seed, true)
}

/// Kubernetes: maxSurge resolves rounding up, maxUnavailable rounding down; both zero
/// after rounding makes unavailable 1 (the API rejects literal 0/0).
fn bounds(surge: &str, unavail: &str, replicas: u32) -> (u32, u32) {
    let resolve = |v: &str, up: bool| -> u32 {
        match v.strip_suffix('%') {
            Some(p) => {
                let x = p.parse::<f64>().unwrap() * replicas as f64 / 100.0;
                (if up { x.ceil() } else { x.floor() }) as u32
            }
            None => v.parse().unwrap(),
        }
    };
    let (s, u) = (resolve(surge, true), resolve(unavail, false));
    if s == 0 && u == 0 { (0, 1) } else { (s, u) }
}

#[test]
fn rolling_updates_keep_surge_and_availability_bounds() {
    let replicas = 10;
    let pairs = [
        ("0", "1"),
        ("1", "0"),
        ("2", "3"),
        ("25%", "25%"),
        ("30%", "0"),
        ("0", "35%"),
        ("5%", "5%"),
        ("100%", "0"),
    ];
    for (surge, unavail) in pairs {
        let q = |v: &str| {
            if v.ends_with('%') {
                format!("\"{v}\"")
            } else {
                v.to_string()
            }
        };
        let sc = scenario(&format!(
            "[[strategy]]\nname = \"r\"\nkind = \"rolling\"\nmax_surge = {}\nmax_unavailable = {}\nrollback = \"none\"",
            q(surge),
            q(unavail)
        ));
        let (s, u) = bounds(surge, unavail, replicas);
        for seed in 0..4 {
            let out = run(&sc, seed);
            let trace = out.trace.as_ref().unwrap();
            let states = invariants::replay(&trace.events);
            let over = invariants::max_active(&states, replicas + s);
            let under = invariants::min_ready(&states, replicas - u, SimTime::ZERO);
            assert!(
                over.is_empty(),
                "surge {surge} / unavailable {unavail} (bounds +{s} / -{u}), seed {seed}: {over:?}"
            );
            assert!(
                under.is_empty(),
                "surge {surge} / unavailable {unavail} (bounds +{s} / -{u}), seed {seed}: {under:?}"
            );
            assert!(invariants::two_versions(trace).is_empty());
            assert_eq!(out.row.outcome.name(), "completed", "{surge}/{unavail}");
            // The bound is reached: the controller uses the room it is given.
            let peak = states.iter().map(|x| x.active_total()).max().unwrap();
            assert_eq!(peak, replicas + s, "{surge}/{unavail}: peak");
            let end = states.last().unwrap();
            assert_eq!((end.active, end.ready), ([0, 10], [0, 10]));
        }
    }
}

/// Argo Rollouts without traffic routing approximates the weight by pod counts,
/// allowing one surge pod: 10 replicas at weight 41 run 4 canary and 6 stable pods
/// (the example in Argo's documentation of the basic canary).
#[test]
fn basic_canary_at_41_percent_runs_4_canary_and_6_stable_pods() {
    let sc = scenario(
        "[[strategy]]\nname = \"c\"\nkind = \"canary\"\ntraffic_routing = false\n\
         steps = [ { set_weight = 41 }, { pause = \"5m\" } ]\nrollback = \"none\"",
    );
    for seed in 0..3 {
        let out = run(&sc, seed);
        let trace = out.trace.unwrap();
        let pause = trace
            .events
            .iter()
            .find(|e| e.kind == "pause")
            .expect("the pause step starts")
            .t;
        let states = invariants::replay(&trace.events);
        // The state in force one minute into the pause.
        let at = pause + SimTime::from_secs(60);
        let s = states.iter().rev().find(|s| s.t <= at).unwrap();
        assert_eq!((s.active[1], s.active[0]), (4, 6), "seed {seed}: {s:?}");
        assert_eq!((s.ready[1], s.ready[0]), (4, 6), "seed {seed}: {s:?}");
    }
}

/// With a traffic router the canary's share of requests follows each step's weight
/// (binomial sampling noise, |z| < 4.5: with four segments per run and three runs, a
/// false alarm has probability below 1e-4).
#[test]
fn routed_canary_share_follows_the_weight() {
    let sc = scenario(
        "[[strategy]]\nname = \"c\"\nkind = \"canary\"\ntraffic_routing = true\n\
         steps = [ { set_weight = 5 }, { pause = \"2m\" }, { set_weight = 20 }, { pause = \"2m\" },\n\
         { set_weight = 50 }, { pause = \"2m\" } ]\nrollback = \"none\"",
    );
    for seed in 0..3 {
        let out = run(&sc, seed);
        let trace = out.trace.unwrap();
        let weights: Vec<f64> = trace.timeline.iter().map(|r| r.sample.new_weight).collect();
        for w in [5.0, 20.0, 50.0] {
            assert!(
                weights.iter().filter(|&&x| x == w).count() >= 100,
                "seed {seed}: weight {w} held for the pause"
            );
        }
        let v = invariants::canary_share(&trace, 4.5, 500);
        assert!(v.is_empty(), "seed {seed}: {v:?}");
    }
    // The checker is not vacuous: a trace whose new-version counts are doctored to
    // twice the weight is flagged.
    let mut trace = run(&sc, 0).trace.unwrap();
    for r in &mut trace.timeline {
        if r.sample.new_weight == 20.0 {
            r.requests_new = (r.requests * 2 / 5).min(r.requests);
        }
    }
    assert!(!invariants::canary_share(&trace, 4.5, 500).is_empty());
}

/// Argo blue/green: a full preview stack beside the active one (2 × replicas pods at
/// the peak) and a switch that drops no request: with no baseline errors, a preStop
/// sleep beyond the endpoint lag and a healthy release, not one request fails in the
/// minute around the switch.
#[test]
fn blue_green_peaks_at_two_stacks_and_switches_without_loss() {
    let sc = scenario("[[strategy]]\nname = \"bg\"\nkind = \"blue_green\"\nrollback = \"none\"");
    for seed in 0..3 {
        let out = run(&sc, seed);
        let trace = out.trace.unwrap();
        let states = invariants::replay(&trace.events);
        let peak = states.iter().map(|s| s.active_total()).max().unwrap();
        assert_eq!(peak, 20, "seed {seed}");
        assert!(invariants::max_active(&states, 20).is_empty());
        let switch = trace
            .events
            .iter()
            .find(|e| e.kind == "switch")
            .expect("a switch")
            .t
            .secs_f64() as u64;
        let around: Vec<_> = trace
            .timeline
            .iter()
            .filter(|r| r.sample.t_s + 30 >= switch && r.sample.t_s <= switch + 30)
            .collect();
        let requests: u64 = around.iter().map(|r| r.requests).sum();
        let failed: u64 = around.iter().map(|r| r.failed).sum();
        assert!(
            requests > 4000,
            "seed {seed}: {requests} requests around the switch"
        );
        assert_eq!(failed, 0, "seed {seed}: requests dropped at the switch");
        assert_eq!(out.row.failed_requests, 0, "seed {seed}");
    }
}
