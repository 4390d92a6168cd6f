//! The Monte Carlo sweep: every (seed, strategy) pair run in parallel with rayon,
//! results handed back strictly in (seed, strategy) order.
//!
//! Seeds are processed in chunks so memory stays flat as `--seeds` grows: at most
//! three chunks of finished runs are held at a time (one being summarised, two
//! queued). Ordering never depends on `--jobs`, so everything computed from the
//! stream of results is byte-identical for any `--jobs`.

use crate::metrics::RunOutput;
use crate::scenario::{Scenario, Strategy};
use crate::world::UserTable;
use rayon::prelude::*;

/// The seeds of a sweep: `base + i` for `i` in `0..count` with `i mod of == index`
/// (DESIGN §11; `index` is 0-based here, 1-based on the command line). A whole run is
/// shard 0 of 1. The caller checks that `base + count - 1` does not overflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedSet {
    pub base: u64,
    pub count: u64,
    pub index: u64,
    pub of: u64,
}

impl SeedSet {
    pub fn whole(base: u64, count: u64) -> SeedSet {
        SeedSet {
            base,
            count,
            index: 0,
            of: 1,
        }
    }

    /// How many seeds this set holds.
    pub fn len(&self) -> u64 {
        self.count
            .saturating_sub(self.index)
            .div_ceil(self.of.max(1))
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `k`-th seed of the set, `k < len()`.
    pub fn nth(&self, k: u64) -> u64 {
        self.base + self.index + k * self.of
    }

    /// Whether `seed` belongs to this set.
    pub fn contains(&self, seed: u64) -> bool {
        seed.checked_sub(self.base)
            .is_some_and(|i| i < self.count && i % self.of == self.index)
    }
}

/// Runs `strategies` × the seeds of `seeds` on `jobs` threads and calls `sink` with
/// every result in seed order, then strategy order.
pub fn sweep(
    sc: &Scenario,
    strategies: &[Strategy],
    seeds: SeedSet,
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
    // The pool computes chunk after chunk on a thread of its own while this thread
    // hands the finished ones to `sink` (writing CSV, summarising), so the workers
    // never wait for the sink. The channel holds at most two chunks: memory stays flat.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<RunOutput>>(2);
    std::thread::scope(|scope| {
        let users = &users;
        scope.spawn(move || {
            let n = seeds.len();
            let mut start = 0u64;
            while start < n {
                let end = (start + per_chunk).min(n);
                let outs: Vec<RunOutput> = pool.install(|| {
                    (start * n_strat..end * n_strat)
                        .into_par_iter()
                        .map(|i| {
                            let seed = seeds.nth(i / n_strat);
                            let s = &strategies[(i % n_strat) as usize];
                            let out = crate::runner::run(sc, users, s, seed, false);
                            progress(1);
                            out
                        })
                        .collect()
                });
                if tx.send(outs).is_err() {
                    return;
                }
                start = end;
            }
        });
        for outs in rx {
            for (i, out) in outs.into_iter().enumerate() {
                sink(&strategies[i % strategies.len()], out);
            }
        }
    });
    Ok(())
}
