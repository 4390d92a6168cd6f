//! Rough, closed-form estimates behind the scenario warnings: is the horizon long
//! enough to see each strategy's deploy and a human rollback, and does the cluster have
//! room for a second stack?
//!
//! Owns only these back-of-the-envelope numbers (means of the distributions, whole
//! waves of pods). It must not simulate, and nothing but warnings may depend on it:
//! the simulator's results are the truth, these are only a sanity check.

use crate::scenario::model::*;

/// Seconds from creating a pod to its first passing readiness probe, on average.
fn pod_ready_s(s: &Service) -> f64 {
    let p = &s.readiness;
    // Probes run at a random phase relative to startup: on average half a period late.
    let probes = p.period.secs_f64() * (f64::from(p.success_threshold) - 0.5);
    s.image_pull.mean_secs() + s.startup.mean_secs() + p.initial_delay.secs_f64() + probes
}

fn waves(replicas: u32, per_wave: u32) -> f64 {
    f64::from(replicas.div_ceil(per_wave.max(1)))
}

/// (deploy, rollback) in seconds for one strategy; `None` for kind `none`.
pub fn rough_deploy_and_rollback_s(sc: &Scenario, st: &Strategy) -> Option<(f64, f64)> {
    let svc = &sc.service;
    let r = svc.replicas;
    let ready = pod_ready_s(svc);
    let switch = sc.load_balancer.endpoint_lag.secs_f64();
    Some(match &st.kind {
        StrategyKind::None => return None,
        StrategyKind::Recreate => {
            let t = svc.pre_stop.secs_f64() + switch + ready;
            (t, t)
        }
        StrategyKind::Rolling(p) => {
            let surge = p.max_surge.resolve(r, true);
            let mut unavailable = p.max_unavailable.resolve(r, false);
            if surge == 0 && unavailable == 0 {
                unavailable = 1;
            }
            let t = waves(r, surge.saturating_add(unavailable)) * (ready + p.min_ready.secs_f64());
            (t, t)
        }
        StrategyKind::Swarm(p) => {
            let per_wave = if p.parallelism == 0 { r } else { p.parallelism };
            let t = waves(r, per_wave) * (ready + p.delay.secs_f64());
            (t, t)
        }
        StrategyKind::BlueGreen(p) => {
            let gate = if p.auto_promote {
                p.preview_duration.secs_f64()
            } else {
                sc.monitoring.human_promote.quantile_secs(0.5)
            };
            (ready + gate + p.scale_down_delay.secs_f64(), switch)
        }
        StrategyKind::Canary(p) => {
            let steps: f64 = p
                .steps
                .iter()
                .map(|step| match step {
                    CanaryStep::SetWeight(_) | CanaryStep::SetCanaryScale(_) => ready,
                    CanaryStep::Pause(Some(t)) => t.secs_f64(),
                    CanaryStep::Pause(None) => sc.monitoring.human_promote.quantile_secs(0.5),
                    CanaryStep::Analysis => sc.monitoring.window.secs_f64(),
                })
                .sum();
            // Promotion brings the rest of the pods up, then the old ones are kept a while.
            (steps + ready + p.scale_down_delay.secs_f64(), switch)
        }
        StrategyKind::Flagger(p) => {
            // As Flagger: a non-zero step_weight wins over step_weights, whose last
            // entry is then the maximum weight.
            let intervals = match p.step_weights.last() {
                _ if p.iterations > 0 => p.iterations,
                Some(&last) if p.step_weight > 0 => last.div_ceil(p.step_weight),
                Some(_) => p.step_weights.len() as u32,
                None => p.max_weight.div_ceil(p.step_weight.max(1)),
            };
            let t = ready + f64::from(intervals) * p.interval.secs_f64() + ready;
            (t, switch)
        }
    })
}

/// Whether a strategy runs a full second stack beside the old one.
fn needs_second_stack(kind: &StrategyKind) -> bool {
    matches!(kind, StrategyKind::BlueGreen(_) | StrategyKind::Flagger(_))
}

/// The warnings for a valid scenario, one line each.
pub fn warnings(sc: &Scenario) -> Vec<String> {
    let mut out = Vec::new();
    let human_p95 = sc.monitoring.human_response.quantile_secs(0.95);
    let horizon = sc.duration.secs_f64();
    let slots = u64::from(sc.cluster.nodes) * u64::from(sc.cluster.pods_per_node);
    for st in &sc.strategies {
        if let Some((deploy, rollback)) = rough_deploy_and_rollback_s(sc, st) {
            let end = sc.deploy_at.secs_f64() + deploy + human_p95 + rollback;
            if end > horizon {
                out.push(format!(
                    "strategy \"{}\": duration = {} is likely too short: deploy_at {} + deploy ~{:.0}s \
                     + p95 of human_response ~{:.0}s + rollback ~{:.0}s = ~{:.0}s; \
                     outcomes may be cut off at the horizon",
                    st.name, sc.duration, sc.deploy_at, deploy, human_p95, rollback, end
                ));
            }
        }
        if needs_second_stack(&st.kind) && 2 * u64::from(sc.service.replicas) > slots {
            out.push(format!(
                "strategy \"{}\": a second stack needs {} pods but the cluster has {} slots \
                 ({} nodes x {} pods_per_node): the second stack will stay Pending",
                st.name,
                2 * sc.service.replicas,
                slots,
                sc.cluster.nodes,
                sc.cluster.pods_per_node
            ));
        }
    }
    out
}
