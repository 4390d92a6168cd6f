//! The long fuzz run of issue 19 (outside the test suite): `N` generated inputs (half
//! mutated scenarios, half mutated or generated manifests, from `tests/it/fuzz_gen.rs`)
//! through the scenario parser and the importer, on two threads. Prints the inputs
//! tried and every failure with the seed that replays it; exits 1 if any failed.
//! Run: `cargo run --release --example fuzz -- N [FIRST_SEED] [runs]` (default
//! 1,000,000 from seed 0); with `runs`, each input is a mutated scenario that is run
//! (every strategy, one seed, a horizon of at most 5 minutes) when it validates.

#[path = "../tests/it/fuzz_gen.rs"]
#[allow(dead_code)]
mod fuzz_gen;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use fuzz_gen::{Gen, check_manifest, check_run, check_scenario, manifest_input, scenario_input};

/// One input of seed `seed`: even seeds are scenarios, odd ones manifests; with
/// `runs`, every input is a scenario that is also run when it validates.
fn one(seed: u64, runs: bool) -> Result<bool, String> {
    let mut g = Gen::new(seed);
    if runs {
        check_run(&scenario_input(&mut g), seed)
    } else if seed.is_multiple_of(2) {
        check_scenario(&scenario_input(&mut g))
    } else {
        check_manifest(&manifest_input(&mut g))
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: u64| match args.get(i) {
        Some(a) => a.parse::<u64>().unwrap_or_else(|_| {
            eprintln!("usage: fuzz [N] [FIRST_SEED] (whole numbers), got {a:?}");
            std::process::exit(2)
        }),
        None => default,
    };
    let n = number(0, 1_000_000);
    let first = number(1, 0);
    let runs = args.get(2).is_some_and(|a| a == "runs");
    // Panics are caught and counted; their default report would flood the terminal.
    std::panic::set_hook(Box::new(|_| {}));
    let next = AtomicU64::new(0);
    let accepted = [AtomicU64::new(0), AtomicU64::new(0)];
    let failures = std::sync::Mutex::new(Vec::new());
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let seed = first.wrapping_add(i);
                    match one(seed, runs) {
                        Ok(true) => {
                            let kind = usize::from(runs || seed % 2 == 1);
                            accepted[kind].fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(false) => {}
                        Err(e) => {
                            let mut f = failures.lock().unwrap_or_else(|p| p.into_inner());
                            f.push((seed, e));
                        }
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap_or_else(|p| p.into_inner());
    failures.sort();
    for (seed, e) in &failures {
        println!("seed {seed}: {}", e.lines().next().unwrap_or(""));
    }
    if runs {
        println!(
            "scenarios tried: {n}, {} run, from seed {first} in {:.0} s; failures: {}",
            accepted[1].load(Ordering::Relaxed),
            start.elapsed().as_secs_f64(),
            failures.len()
        );
    } else {
        println!(
            "inputs tried: {n} (scenarios {}, {} valid; manifests {}, {} imported) from seed \
         {first} in {:.0} s; failures: {}",
            n.div_ceil(2),
            accepted[0].load(Ordering::Relaxed),
            n / 2,
            accepted[1].load(Ordering::Relaxed),
            start.elapsed().as_secs_f64(),
            failures.len()
        );
    }
    if !failures.is_empty() {
        std::process::exit(1);
    }
}
