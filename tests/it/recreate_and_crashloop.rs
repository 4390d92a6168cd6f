//! What a user expects to see in a trace: recreate's downtime gap, and a crash-looping
//! release backing off exponentially.

use crate::parse;
use deploysim::world::UserTable;

/// The default scenario with constant pull/startup so the gap can be derived by hand.
fn constant_timing(bad: f64, faults: &str) -> String {
    let d = crate::default_toml();
    let mut out = String::new();
    for line in d.lines() {
        let l = line.trim_start();
        let repl = if l.starts_with("image_pull =") {
            "image_pull = \"5s\"".to_string()
        } else if l.starts_with("startup =") {
            "startup = \"18s\"".to_string()
        } else if l.starts_with("bad_probability =") {
            format!("bad_probability = {bad}")
        } else {
            line.to_string()
        };
        out.push_str(&repl);
        out.push('\n');
    }
    if !faults.is_empty() {
        let start = out
            .find("faults = [")
            .expect("default.toml has a faults list");
        let end = start
            + out[start..]
                .find("\n]")
                .expect("faults list ends with a line ']'")
            + 2;
        out.replace_range(start..end, faults);
    }
    out
}

#[test]
fn recreate_gap_is_termination_pull_startup_probe_and_lag() {
    let sc = parse(&constant_timing(0.0, ""));
    let recreate = sc
        .strategies
        .iter()
        .find(|s| s.name == "recreate")
        .expect("default has recreate")
        .clone();
    let users = UserTable::new(&sc.traffic);
    let out = deploysim::runner::run(&sc, &users, &recreate, 5, true);
    // Derivation (default.toml: pre_stop 3s, endpoint_lag 1s, probe period 5s,
    // initial_delay 0s, success_threshold 1): at t0 = 60 s every old pod starts
    // terminating; the balancer drops them at 61 s (until then they still accept, so
    // second 60 is served), they stop accepting at 63 s (pre_stop) and exit once their
    // in-flight requests finish (well under a second). The new pods are created then,
    // pull for 5 s (container starts ≈ 68.0 s), probe at 68.0 + 5k s and are up at
    // 68.0 + 18 = 86.0 s, so the first passing probe is at 88.0 s (2 s of probe
    // alignment) and the balancer sees them 1 s later, at ≈ 89.0 s. Every second from
    // 61 to 88 has (almost) no successful request: pre_stop + pull + startup + probe
    // alignment + lag − the lag at the start = 3 + 5 + 18 + 2 + 1 − 1 = 28 s down.
    let gap_s = 3.0 + 5.0 + 18.0 + 2.0 + 1.0 - 1.0;
    assert_eq!(
        out.row.downtime_s, gap_s,
        "downtime {} s, expected {gap_s} s",
        out.row.downtime_s
    );
    let tl = &out.trace.expect("trace").timeline;
    let at = |t: u64| {
        tl.iter()
            .find(|r| r.sample.t_s == t)
            .expect("second in timeline")
    };
    assert_eq!(at(70).sample.old.active, 0, "old pods gone during the gap");
    assert_eq!(
        at(70).sample.new.active,
        20,
        "new pods starting during the gap"
    );
    assert_eq!(at(70).sample.new.ready, 0);
    assert!(
        at(70).failed == at(70).requests && at(70).requests > 0,
        "requests fail in the gap"
    );
    assert_eq!(at(90).sample.new.ready, 20);
    assert!(at(90).success_ratio.unwrap_or(0.0) > 0.95);
}

#[test]
fn crash_on_start_crash_loops_with_doubling_backoff() {
    let sc = parse(&constant_timing(
        1.0,
        "faults = [ { kind = \"crash_on_start\", weight = 1 } ]",
    ));
    let rolling = sc
        .strategies
        .iter()
        .find(|s| s.name == "rolling")
        .expect("default has rolling")
        .clone();
    let users = UserTable::new(&sc.traffic);
    let out = deploysim::runner::run(&sc, &users, &rolling, 1, true);
    let ev = out.trace.expect("trace").events;
    let first_new = ev
        .iter()
        .find(|e| e.kind == "crash")
        .and_then(|e| e.pod)
        .expect("a crash");
    let crashes: Vec<f64> = ev
        .iter()
        .filter(|e| e.kind == "crash" && e.pod == Some(first_new))
        .map(|e| e.t.secs_f64())
        .collect();
    assert!(crashes.len() >= 5, "only {} crashes", crashes.len());
    // Between crashes: the back-off (10 s doubling, capped at 5 m: restart_backoff in
    // default.toml) then the 18 s startup before the app crashes again.
    for (k, w) in crashes.windows(2).enumerate() {
        let backoff = (10.0 * 2f64.powi(k as i32)).min(300.0);
        let gap = w[1] - w[0];
        assert!(
            (gap - (backoff + 18.0)).abs() < 1e-3,
            "crash {k}: gap {gap} s, expected {}",
            backoff + 18.0
        );
    }
    // No new pod ever becomes ready, the update stalls, and the old pods keep serving.
    assert_eq!(out.row.downtime_s, 0.0);
    assert_eq!(out.row.outcome, deploysim::metrics::Outcome::Stalled);
}
