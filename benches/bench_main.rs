//! Criterion benches (issue 8): the event queue alone (hold model), one request-level
//! run of the default scenario per strategy, a 200-seed sweep at 1 and 2 jobs in the
//! request-level and the fluid mode, and the fluid 10,000-seed sweep on 2 jobs.
//! Run: `cargo bench --bench bench_main`; numbers are recorded in docs/performance.md.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use deploysim::scenario::{self, Strategy};
use deploysim::sim::rng::{Purpose, Stream};
use deploysim::sim::{EventQueue, SimTime};
use deploysim::world::UserTable;
use std::hint::black_box;

/// Hold model: ~10^5 pending events; each operation pops the earliest and pushes one
/// at a random later time (exponential increment, mean 1 s). The increments are drawn
/// before timing (a table of 2^16, cycled) so the bench measures the queue, not the
/// random number generator.
fn queue_hold(c: &mut Criterion) {
    let mut g = c.benchmark_group("event_queue");
    let pending = 100_000;
    let ops = 1_000_000u64;
    g.throughput(Throughput::Elements(ops));
    g.bench_function("hold_1e5_pending", |b| {
        let mut s = Stream::new(1, Purpose::Arrivals, 0);
        let incr: Vec<SimTime> = (0..1 << 16)
            .map(|_| SimTime::from_secs_f64(s.exp1()))
            .collect();
        let mut q: EventQueue<u32> = EventQueue::with_capacity(pending + 1);
        for i in 0..pending {
            q.push(SimTime::from_secs_f64(s.exp1()), i as u32);
        }
        let mut k = 0usize;
        b.iter(|| {
            for _ in 0..ops {
                let (t, e) = q.pop().expect("queue never empties");
                q.push(t + incr[k & 0xffff], e);
                k += 1;
            }
            black_box(q.len())
        })
    });
    g.finish();
}

fn default_scenario() -> scenario::Scenario {
    scenario::parse(scenario::DEFAULT_TOML, "default.toml")
        .expect("default scenario parses")
        .scenario
}

/// One run per strategy; throughput in simulated requests (the whole horizon).
fn one_run(c: &mut Criterion) {
    let sc = default_scenario();
    let users = UserTable::new(&sc.traffic);
    let mut g = c.benchmark_group("request_level_run");
    g.sample_size(20);
    let mut strategies = sc.strategies.clone();
    if !strategies.iter().any(|s| s.name == "none") {
        strategies.push(Strategy::none());
    }
    for s in &strategies {
        let r = deploysim::runner::run(&sc, &users, s, 1, false).row;
        // Requests since deploy_at scaled to the whole horizon.
        let per_run =
            r.requests as f64 * sc.duration.secs_f64() / (sc.duration - sc.deploy_at).secs_f64();
        g.throughput(Throughput::Elements(per_run as u64));
        g.bench_with_input(BenchmarkId::from_parameter(&s.name), s, |b, s| {
            b.iter(|| {
                black_box(
                    deploysim::runner::run(&sc, &users, s, 1, false)
                        .row
                        .requests,
                )
            })
        });
    }
    g.finish();
}

/// The sweep engine over `seeds` seeds of every strategy of `sc`, at each of `jobs`.
fn sweep_group(c: &mut Criterion, name: &str, sc: &scenario::Scenario, seeds: u64, jobs: &[usize]) {
    let mut g = c.benchmark_group(name);
    g.sample_size(10);
    g.throughput(Throughput::Elements(seeds * sc.strategies.len() as u64));
    for &jobs in jobs {
        g.bench_with_input(BenchmarkId::new("jobs", jobs), &jobs, |b, &jobs| {
            b.iter(|| {
                let mut n = 0u64;
                deploysim::sweep::sweep(
                    sc,
                    &sc.strategies,
                    deploysim::sweep::SeedSet::whole(0, seeds),
                    jobs,
                    &|_| {},
                    &mut |_, o| n += o.row.requests,
                )
                .expect("thread pool");
                black_box(n)
            })
        });
    }
    g.finish();
}

/// Request-level mode: every request simulated.
fn sweep(c: &mut Criterion) {
    sweep_group(c, "sweep_200_seeds", &default_scenario(), 200, &[1, 2]);
}

/// Fluid mode: traffic as counts per slice; 200 seeds at 1 and 2 jobs, and the
/// target itself: 10,000 seeds of every strategy on 2 jobs.
fn fluid_sweep(c: &mut Criterion) {
    let mut sc = default_scenario();
    sc.fidelity = scenario::Fidelity::Fluid;
    sweep_group(c, "fluid_sweep_200_seeds", &sc, 200, &[1, 2]);
    sweep_group(c, "fluid_sweep_10000_seeds", &sc, 10_000, &[2]);
}

/// No HTML plots: criterion's plotters backend needs system fonts a bare CI machine
/// lacks; the numbers are printed and kept in `target/criterion/*/new/estimates.json`.
fn config() -> Criterion {
    Criterion::default().without_plots()
}

criterion_group! {
    name = benches;
    config = config();
    targets = queue_hold, one_run, sweep, fluid_sweep
}
criterion_main!(benches);
