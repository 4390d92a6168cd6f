//! How the cost of one run grows with request rate, replicas and horizon, in both
//! fidelity modes (docs/performance.md). Single-threaded; prints a Markdown table.
//! Run: `cargo run --release --example scaling` (one to three minutes on an idle core).

use deploysim::scenario::{self, Fidelity, Scenario};
use deploysim::sim::SimTime;
use deploysim::world::UserTable;
use std::time::Instant;

fn base() -> Scenario {
    scenario::parse(scenario::DEFAULT_TOML, "default.toml")
        .expect("default parses")
        .scenario
}

/// Mean wall time per run (ms) and simulated requests per second of wall time, over
/// `seeds` runs of the `rolling` strategy.
fn measure(sc: &Scenario, seeds: u64) -> (f64, f64) {
    let users = UserTable::new(&sc.traffic);
    let st = sc
        .strategies
        .iter()
        .find(|s| s.name == "rolling")
        .expect("rolling");
    // Warm up caches and the allocator.
    deploysim::runner::run(sc, &users, st, 999, false);
    let t = Instant::now();
    let mut requests = 0u64;
    for seed in 0..seeds {
        requests += deploysim::runner::run(sc, &users, st, seed, false)
            .row
            .requests;
    }
    let wall = t.elapsed().as_secs_f64();
    (wall * 1e3 / seeds as f64, requests as f64 / wall)
}

fn row(what: &str, sc: &Scenario) {
    let mut req = sc.clone();
    req.fidelity = Fidelity::Request;
    let mut flu = sc.clone();
    flu.fidelity = Fidelity::Fluid;
    let (ms_r, rps) = measure(&req, 20);
    let (ms_f, _) = measure(&flu, 100);
    println!(
        "| {what} | {ms_r:.1} | {:.2} | {ms_f:.2} | {:.0}× |",
        rps / 1e6,
        ms_r / ms_f
    );
}

fn main() {
    println!(
        "| scenario (default, strategy rolling) | request-level ms/run | M req/s | fluid ms/run | fluid speed-up |"
    );
    println!("|---|---:|---:|---:|---:|");
    for rate in [50.0, 200.0, 800.0] {
        let mut sc = base();
        sc.traffic.rate = rate;
        // Keep the load per pod constant in the replica rows, not here: at 800 req/s
        // 20 pods of 4 workers at 40 ms run at ρ = 0.4.
        row(&format!("rate {rate} req/s"), &sc);
    }
    for replicas in [10u32, 20, 40] {
        let mut sc = base();
        sc.service.replicas = replicas;
        sc.cluster.nodes = replicas.div_ceil(2).max(6);
        sc.traffic.rate = 10.0 * replicas as f64;
        row(
            &format!("{replicas} replicas at {} req/s", 10 * replicas),
            &sc,
        );
    }
    for minutes in [15u64, 30, 60] {
        let mut sc = base();
        sc.duration = SimTime::from_secs(minutes * 60);
        row(&format!("horizon {minutes} min"), &sc);
    }
}
