//! Hand-built scenarios for the controller tests (no TOML parser involved): the
//! default scenario's service, cluster and traffic, with knobs the tests turn.

use crate::metrics::RunOutput;
use crate::scenario::*;
use crate::sim::SimTime;
use crate::world;

pub fn s(x: u64) -> SimTime {
    SimTime::from_secs(x)
}

/// `replicas` pods at 200 req/s, a release that is healthy or has `fault`, no
/// baseline errors (so every failure is the deploy's doing).
pub fn scenario(replicas: u32, fault: Option<Fault>) -> Scenario {
    Scenario {
        name: "test".into(),
        description: String::new(),
        duration: s(1200),
        deploy_at: s(60),
        fidelity: Fidelity::Request,
        cluster: Cluster {
            nodes: 12,
            pods_per_node: 4,
            full_disk_fraction: 0.0,
            node_mtbf: SimTime::ZERO,
            node_mttr: s(300),
            node_grace: s(40),
            pod_eviction: s(300),
        },
        service: Service {
            replicas,
            workers: 4,
            service_time: Dist::Exponential {
                mean: SimTime::from_millis(40),
            },
            queue_limit: 100,
            timeout: s(2),
            image_pull: Dist::LogNormal {
                median: s(5),
                sigma: 0.5,
            },
            startup: Dist::LogNormal {
                median: s(20),
                sigma: 0.5,
            },
            termination_grace: s(30),
            pre_stop: SimTime::ZERO,
            readiness: Probe {
                period: s(5),
                timeout: s(1),
                initial_delay: SimTime::ZERO,
                failure_threshold: 3,
                success_threshold: 1,
            },
            restart_backoff: Backoff {
                initial: s(10),
                max: s(300),
            },
        },
        traffic: Traffic {
            rate: 200.0,
            users: 10000,
            user_skew: 1.0,
            retries: 0,
            retry_backoff: SimTime::from_millis(100),
            steps: vec![],
        },
        load_balancer: LoadBalancer {
            routing: Routing::RoundRobin,
            endpoint_lag: s(1),
        },
        release: Release {
            bad_probability: if fault.is_some() { 1.0 } else { 0.0 },
            baseline_error_rate: 0.0,
            faults: vec![WeightedFault {
                weight: 1.0,
                fault: fault.unwrap_or(Fault::Errors { error_rate: 0.05 }),
            }],
        },
        slo: Slo {
            success: 0.99,
            down_below: 0.5,
            min_requests: 10,
            latency: s(1),
        },
        monitoring: Monitoring {
            window: s(30),
            interval: s(10),
            failures: 1,
            error_rate_max: 0.02,
            latency_p99_max: SimTime::ZERO,
            min_requests: 50,
            human_response: Dist::LogNormal {
                median: s(300),
                sigma: 0.5,
            },
            human_promote: Dist::LogNormal {
                median: s(900),
                sigma: 0.5,
            },
        },
        strategies: vec![],
        pipeline: vec![],
        expects: vec![],
        analysis: analysis::AnalysisSpec::default_for(0),
        source_text: String::new(),
    }
}

pub fn strategy(kind: StrategyKind, rollback: Rollback) -> Strategy {
    Strategy {
        name: kind.name().into(),
        rollback,
        kind,
    }
}

/// One traced run.
pub fn run(sc: &Scenario, st: &Strategy, seed: u64) -> RunOutput {
    let users = world::UserTable::new(&sc.traffic);
    crate::runner::run(sc, &users, st, seed, true)
}

/// Time (s) of the first event of `kind`.
pub fn first_event(out: &RunOutput, kind: &str) -> Option<f64> {
    let tr = out.trace.as_ref()?;
    tr.events
        .iter()
        .find(|e| e.kind == kind)
        .map(|e| e.t.secs_f64())
}
