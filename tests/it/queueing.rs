//! Model validity against queueing theory (DESIGN.md §8): with random routing, N pods
//! of c workers and exponential service form N independent M/M/c queues, so the mean
//! response time and the probability of waiting must match Erlang C.

use crate::parse;
use deploysim::scenario::Strategy;
use deploysim::world::{self, UserTable};

/// Erlang C: probability that an arrival waits, for `c` servers at offered load `a`
/// (= λ/μ, in erlangs), from the textbook formula
/// C = (a^c/c! · 1/(1-ρ)) / (Σ_{k<c} a^k/k! + a^c/c! · 1/(1-ρ)), ρ = a/c.
fn erlang_c(c: u32, a: f64) -> f64 {
    let rho = a / c as f64;
    let mut term = 1.0; // a^k / k!
    let mut sum = 0.0;
    for k in 0..c {
        sum += term;
        term *= a / (k + 1) as f64;
    }
    let top = term / (1.0 - rho);
    top / (sum + top)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}
fn sd(v: &[f64]) -> f64 {
    let m = mean(v);
    (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

#[test]
fn erlang_c_reference_values() {
    // Hand-checked: c = 1 is M/M/1, where P(wait) = ρ.
    assert!((erlang_c(1, 0.7) - 0.7).abs() < 1e-12);
    // c = 2, a = 1: C = (1/2 · 2) / (1 + 1 + 1) = 1/3.
    assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
}

#[test]
fn random_routing_pods_are_mm_c_queues() {
    let (pods, c, mean_s) = (4u32, 2u32, 0.1f64);
    for rho in [0.3, 0.7, 0.9] {
        let rate = rho * (pods * c) as f64 / mean_s;
        let text = format!(
            r#"
name = "mmc"
duration = "20m"
deploy_at = "2m"
[cluster]
nodes = 4
pods_per_node = 2
[service]
replicas = {pods}
workers = {c}
service_time = {{ dist = "exponential", mean = "100ms" }}
queue_limit = 1000000
timeout = "10h"
readiness = {{ period = "5s", timeout = "10h", initial_delay = "0s", failure_threshold = 3, success_threshold = 1 }}
[traffic]
rate = {rate}
[load_balancer]
routing = "random"
[release]
bad_probability = 0.0
baseline_error_rate = 0.0
[slo]
latency = "10h"
[[strategy]]
name = "none"
kind = "none"
"#
        );
        let sc = parse(&text);
        let users = UserTable::new(&sc.traffic);
        let seeds = 24u64;
        let (mut w, mut pw) = (Vec::new(), Vec::new());
        for seed in 0..seeds {
            let r = world::run(&sc, &users, &Strategy::none(), seed, false).row;
            assert_eq!(r.failed_requests, 0, "no request may fail in this set-up");
            w.push(r.latency_mean_ms.expect("requests were served") / 1e3);
            pw.push(r.waited_requests as f64 / r.requests as f64);
        }
        // Per pod: λ_pod = rate / pods, a = λ_pod · mean, W = C/(cμ − λ_pod) + 1/μ.
        let a = rate / pods as f64 * mean_s;
        let pwait = erlang_c(c, a);
        let w_ref = pwait / (c as f64 / mean_s - rate / pods as f64) + mean_s;
        // Requests within a run are correlated, so the tolerance comes from the spread
        // of the per-seed means: 4.5 standard errors (t with 23 df: two-sided p ≈ 2e-4),
        // plus 0.5% for the start-up transient (the queues start empty at t = 0; the
        // two-minute warm-up is dozens of relaxation times even at ρ = 0.9).
        let tol_w = 4.5 * sd(&w) / (seeds as f64).sqrt() + 0.005 * w_ref;
        let tol_p = 4.5 * sd(&pw) / (seeds as f64).sqrt() + 0.005;
        assert!(
            (mean(&w) - w_ref).abs() < tol_w,
            "ρ={rho}: mean response {:.5}s vs Erlang C {w_ref:.5}s (tolerance {tol_w:.5})",
            mean(&w)
        );
        assert!(
            (mean(&pw) - pwait).abs() < tol_p,
            "ρ={rho}: P(wait) {:.4} vs Erlang C {pwait:.4} (tolerance {tol_p:.4})",
            mean(&pw)
        );
    }
}
