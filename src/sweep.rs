//! The Monte Carlo sweep: every (seed, strategy) pair run in parallel with rayon,
//! results handed back strictly in (seed, strategy) order.
//!
//! Seeds are processed in chunks so memory stays flat as `--seeds` grows: only one
//! chunk of finished runs is held at a time. Ordering never depends on `--jobs`, so
//! everything computed from the stream of results is byte-identical for any `--jobs`.

use crate::scenario::{Scenario, Strategy};
use crate::world::{self, RunOutput, UserTable};
use rayon::prelude::*;

/// Runs `strategies` × seeds `seed_base..seed_base + seeds` on `jobs` threads and
/// calls `sink` with every result in seed order, then strategy order.
pub fn sweep(
    sc: &Scenario,
    strategies: &[Strategy],
    seed_base: u64,
    seeds: u64,
    jobs: usize,
    progress: &(dyn Fn(u64) + Sync),
    sink: &mut dyn FnMut(&Strategy, RunOutput),
) -> Result<(), rayon::ThreadPoolBuildError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()?;
    let users = UserTable::new(&sc.traffic);
    let per_chunk = (jobs.max(1) as u64 * 16).max(32);
    let n_strat = strategies.len() as u64;
    let mut start = 0u64;
    while start < seeds {
        let end = (start + per_chunk).min(seeds);
        let outs: Vec<RunOutput> = pool.install(|| {
            (start * n_strat..end * n_strat)
                .into_par_iter()
                .map(|i| {
                    let seed = seed_base + i / n_strat;
                    let s = &strategies[(i % n_strat) as usize];
                    let out = world::run(sc, &users, s, seed, false);
                    progress(1);
                    out
                })
                .collect()
        });
        for (i, out) in outs.into_iter().enumerate() {
            sink(&strategies[i % strategies.len()], out);
        }
        start = end;
    }
    Ok(())
}
