//! Issue 13, item 3: a readiness probe waits in the pod's queue like any request, so an
//! overloaded pod fails its probes and goes unready; a lightly loaded one stays ready.
//! Both fidelities (the request level knows the wait exactly, fluid mode from its
//! carried queue).

use deploysim::metrics::TraceEvent;
use deploysim::sim::SimTime;
use deploysim::world::UserTable;

/// Two replicas of 4 workers whose new version takes 10 ms + a 490 ms latency fault =
/// 500 ms per request (constant), replaced by `recreate`; pulls and startups are
/// constant, probes every 5 s with a 1 s timeout and a failure threshold of 3.
fn scenario(rate: f64, fidelity: &str) -> deploysim::scenario::Scenario {
    crate::parse(&format!(
        r#"
name = "probes"
duration = "6m"
deploy_at = "1m"
fidelity = "{fidelity}"
[service]
replicas = 2
workers = 4
service_time = "10ms"
queue_limit = 20
image_pull = "2s"
startup = "3s"
readiness = {{ period = "5s", timeout = "1s", initial_delay = "0s", failure_threshold = 3, success_threshold = 1 }}
[traffic]
rate = {rate}
[release]
bad_probability = 1.0
baseline_error_rate = 0.0
faults = [ {{ kind = "latency", weight = 1, extra = "490ms" }} ]
[[strategy]]
name = "recreate"
kind = "recreate"
rollback = "none"
"#
    ))
}

/// The times of the new pods' first `ready` and first later `unready` events.
fn ready_then_unready(events: &[TraceEvent]) -> Vec<(u32, SimTime, Option<SimTime>)> {
    let mut out: Vec<(u32, SimTime, Option<SimTime>)> = Vec::new();
    for e in events.iter().filter(|e| e.version == Some(1)) {
        let Some(pod) = e.pod else { continue };
        match (e.kind, out.iter_mut().find(|(p, ..)| *p == pod)) {
            ("ready", None) => out.push((pod, e.t, None)),
            ("unready", Some((_, _, u @ None))) => *u = Some(e.t),
            _ => {}
        }
    }
    out
}

/// Saturated: 40 req/s onto 2 pods that serve 4 / 0.5 s = 8 req/s each. A pod's queue
/// grows by at least 20 − 8 = 12 a second once it is in the balancer (1 s after it is
/// ready), so within a second it holds more than 8 requests, whose wait exceeds the
/// 1 s probe timeout (8 × 0.5 s / 4 workers = 1 s, plus the rest of the requests in
/// service), and it fills to the limit of 20 (a 2.5 s wait). The probes at t_ready +
/// 5, 10 and 15 s therefore all fail; each failure is recorded when its 1 s timeout
/// ends, and the third makes the pod unready: t_unready = t_ready + 3 × 5 s + 1 s.
/// (The old model valued the queue at the healthy 10 ms: 20 × 10 ms / 4 = 50 ms, and
/// the pods stayed ready.)
#[test]
fn a_saturated_pod_fails_its_probes_and_goes_unready() {
    for fidelity in ["request", "fluid"] {
        let sc = scenario(40.0, fidelity);
        let users = UserTable::new(&sc.traffic);
        for seed in 0..3 {
            let out = deploysim::runner::run(&sc, &users, &sc.strategies[0], seed, true);
            let events = out.trace.expect("traced").events;
            let pods = ready_then_unready(&events);
            assert_eq!(pods.len(), 2, "{fidelity} seed {seed}: {pods:?}");
            for (pod, ready, unready) in pods {
                assert_eq!(
                    unready,
                    Some(ready + SimTime::from_secs(16)),
                    "{fidelity} seed {seed}: pod {pod} ready at {ready}"
                );
            }
        }
    }
}

/// Lightly loaded: 2 req/s onto the same pods (1 req/s each, 0.5 erlang on 4
/// workers). A probe waits more than its 1 s timeout only behind 4 requests in service
/// and at least 8 queued ones (8 × 0.5 s / 4 = 1 s): 12 requests arriving within about
/// a second, P ≈ e^−1/12! ≈ 1e-9 at one probe, so no pod ever goes unready.
#[test]
fn a_lightly_loaded_pod_stays_ready() {
    for fidelity in ["request", "fluid"] {
        let sc = scenario(2.0, fidelity);
        let users = UserTable::new(&sc.traffic);
        for seed in 0..3 {
            let out = deploysim::runner::run(&sc, &users, &sc.strategies[0], seed, true);
            let pods = ready_then_unready(&out.trace.expect("traced").events);
            assert_eq!(pods.len(), 2, "{fidelity} seed {seed}: {pods:?}");
            for (pod, _, unready) in pods {
                assert_eq!(unready, None, "{fidelity} seed {seed}: pod {pod}");
            }
        }
    }
}
