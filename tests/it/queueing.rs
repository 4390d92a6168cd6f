//! Model validity against queueing theory (DESIGN.md §8): with random routing, N pods
//! of c workers and exponential service form N independent M/M/c queues, so the mean
//! response time and the probability of waiting must match Erlang C.

use crate::parse;
use deploysim::scenario::Strategy;
use deploysim::world::UserTable;

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
            let r = deploysim::runner::run(&sc, &users, &Strategy::none(), seed, false).row;
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

/// M/M/c with `c` workers of rate `mu` fed at `lam` (per pod): P(response > x), from
/// the decomposition R = W + S with S ~ Exp(μ) and W = 0 w.p. 1 − C, else Exp(θ),
/// θ = cμ − λ: P(R > x) = e^−μx + C·μ(e^−μx − e^−θx)/(θ − μ).
fn mmc_response_above(c: u32, mu: f64, lam: f64, x: f64) -> f64 {
    let pw = erlang_c(c, lam / mu);
    let theta = c as f64 * mu - lam;
    (-mu * x).exp() + pw * mu * ((-mu * x).exp() - (-theta * x).exp()) / (theta - mu)
}

/// The `p`-quantile of the M/M/c response time, by bisection of its tail.
fn mmc_response_quantile(c: u32, mu: f64, lam: f64, p: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 100.0);
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if mmc_response_above(c, mu, lam, mid) > 1.0 - p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

/// Issue 13, item 2: fluid mode's latencies and slow share come from the stationary
/// queue (Erlang C, the waiting-time distribution and the service-time distribution),
/// so with random routing they match M/M/c and the request level at ρ = 0.3, 0.7, 0.9
/// (4 pods of 4 workers, exponential 40 ms service, `slo.latency` = 100 ms).
///
/// Margins, fixed before running: mean within 3% (fluid evaluates the service time and
/// the wait at 12 bin midpoints, which puts an exponential's mean about 1% low);
/// p50 and p99 within 6% (they are read from a histogram with 2 significant digits,
/// up to 1% high, and fluid's histogram holds a table of 156 weighted points whose
/// neighbours near the 99th percentile are a few per cent apart); the share of
/// responses above 100 ms (blast radius: nothing fails here) within 0.01, since fluid
/// computes it exactly and only the binomial draws of ~10^5 requests per run vary.
/// The request level also gets 4.5 standard errors of its per-seed values (16 seeds,
/// t with 15 df: two-sided p ≈ 4e-4 per comparison, 12 comparisons).
#[test]
fn fluid_latency_matches_erlang_c_and_the_request_level() {
    let (pods, c, mean_s, slo_s) = (4u32, 4u32, 0.04f64, 0.1f64);
    let mu = 1.0 / mean_s;
    for rho in [0.3, 0.7, 0.9] {
        let lam = rho * c as f64 * mu;
        let rate = lam * pods as f64;
        let reference = [
            erlang_c(c, lam / mu) / (c as f64 * mu - lam) + mean_s,
            mmc_response_quantile(c, mu, lam, 0.5),
            mmc_response_quantile(c, mu, lam, 0.99),
            mmc_response_above(c, mu, lam, slo_s),
        ];
        for fidelity in ["fluid", "request"] {
            let sc = parse(&format!(
                r#"
name = "mmc-latency"
duration = "15m"
deploy_at = "2m"
fidelity = "{fidelity}"
[cluster]
nodes = 4
pods_per_node = 2
[service]
replicas = {pods}
workers = {c}
service_time = {{ dist = "exponential", mean = "40ms" }}
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
latency = "100ms"
[[strategy]]
name = "none"
kind = "none"
"#
            ));
            let users = UserTable::new(&sc.traffic);
            let seeds = 16u64;
            let mut per_metric: [Vec<f64>; 4] = Default::default();
            for seed in 0..seeds {
                let r = deploysim::runner::run(&sc, &users, &Strategy::none(), seed, false).row;
                assert_eq!(r.failed_requests, 0, "no request may fail in this set-up");
                let got = [
                    r.latency_mean_ms.expect("served") / 1e3,
                    r.latency_p50_ms.expect("served") / 1e3,
                    r.latency_p99_ms.expect("served") / 1e3,
                    r.blast_radius,
                ];
                for (v, g) in per_metric.iter_mut().zip(got) {
                    v.push(g);
                }
            }
            let names = ["mean", "p50", "p99", "share above 100 ms"];
            for (i, name) in names.iter().enumerate() {
                let v = &per_metric[i];
                let margin = if i == 3 {
                    0.01
                } else {
                    [0.03, 0.06, 0.06][i] * reference[i]
                };
                let noise = if fidelity == "request" {
                    4.5 * sd(v) / (seeds as f64).sqrt()
                } else {
                    0.0
                };
                assert!(
                    (mean(v) - reference[i]).abs() <= margin + noise,
                    "ρ={rho} {fidelity}: {name} {:.5} vs M/M/c {:.5} (margin {margin:.5} + {noise:.5})",
                    mean(v),
                    reference[i]
                );
            }
        }
    }
}
