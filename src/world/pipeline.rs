//! The 4-tier delivery pipeline (dev → test → staging → prod): which stage, if any,
//! catches a faulty release before production, and the lead time to production.
//!
//! Draws come from the `Pipeline` stream keyed by stage, so they are identical for
//! every strategy of a seed (common random numbers) and independent of the rest.

use crate::scenario::{Dist, FaultKind, PipelineStage};
use crate::sim::SimTime;
use crate::sim::rng::{Keyed, Purpose};

/// What happened to a release on its way to production.
#[derive(Clone, Debug, PartialEq)]
pub struct PipelineResult {
    /// Index of the stage that caught the (faulty) release, if one did.
    pub caught_at: Option<usize>,
    /// Time from commit to the production deploy (or to the catch), all stages.
    pub lead_time: SimTime,
}

/// Runs a release through `stages`. `fault` is the release's fault kind (`None`:
/// healthy, never caught). Manual promotions wait for a person (`human_promote`).
pub fn run_pipeline(
    stages: &[PipelineStage],
    seed: u64,
    fault: Option<FaultKind>,
    human_promote: &Dist,
) -> PipelineResult {
    let keys = Keyed::new(seed, Purpose::Pipeline, 0);
    let mut lead = SimTime::ZERO;
    for (i, st) in stages.iter().enumerate() {
        lead += st.duration;
        if let Some(kind) = fault {
            let p = st
                .catch
                .iter()
                .find(|(k, _)| *k == kind)
                .map_or(0.0, |(_, p)| *p);
            if keys.child(i as u64).uniform(0) < p {
                return PipelineResult {
                    caught_at: Some(i),
                    lead_time: lead,
                };
            }
        }
        if st.manual_promotion {
            lead += human_promote.sample(keys.child(i as u64).uniform(1));
        }
    }
    PipelineResult {
        caught_at: None,
        lead_time: lead,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(name: &str, p: f64, manual: bool) -> PipelineStage {
        PipelineStage {
            name: name.into(),
            duration: SimTime::from_secs(600),
            catch: vec![(FaultKind::Errors, p)],
            manual_promotion: manual,
        }
    }

    #[test]
    fn escape_rate_is_the_product_of_the_misses() {
        let stages = [
            stage("dev", 0.5, false),
            stage("test", 0.4, false),
            stage("staging", 0.2, false),
        ];
        let n = 20_000;
        let escaped = (0..n)
            .filter(|&s| {
                run_pipeline(
                    &stages,
                    s,
                    Some(FaultKind::Errors),
                    &Dist::Constant(SimTime::ZERO),
                )
                .caught_at
                .is_none()
            })
            .count();
        // P(escape) = 0.5 · 0.6 · 0.8 = 0.24; binomial sd = sqrt(0.24·0.76/n) ≈ 0.0030; 4.5 sd.
        let p = escaped as f64 / n as f64;
        assert!((p - 0.24).abs() < 4.5 * 0.003, "{p}");
    }

    #[test]
    fn healthy_releases_pass_and_lead_time_adds_up() {
        let stages = [stage("dev", 1.0, false), stage("staging", 1.0, true)];
        let r = run_pipeline(&stages, 1, None, &Dist::Constant(SimTime::from_secs(900)));
        assert_eq!(r.caught_at, None);
        assert_eq!(r.lead_time, SimTime::from_secs(600 + 600 + 900));
        let r = run_pipeline(
            &stages,
            1,
            Some(FaultKind::Latency),
            &Dist::Constant(SimTime::ZERO),
        );
        assert_eq!(
            r.caught_at, None,
            "a stage that does not test for a fault kind never catches it"
        );
    }
}
