//! Issue 8: the request-level hot loop allocates nothing per event.
//!
//! A counting allocator (this binary's global allocator, counting per thread so that
//! tests running in parallel do not disturb each other) counts the allocations of one
//! run of the default scenario at two horizons. Doubling the horizon adds hundreds of
//! thousands of events; buffers that grow with a run's size (per-second counters,
//! queues of a pod, vectors of pods) add a few allocations at most, so the extra
//! allocations per extra event must be close to zero. The bound, 1 per 10,000 events,
//! is far below the 1 per event (or more) that any per-event allocation would give.

use deploysim::scenario::{self, Strategy};
use deploysim::sim::SimTime;
use deploysim::world::UserTable;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

pub struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is a
// const-initialised thread-local `Cell`, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn allocations_of(f: impl FnOnce() -> u64) -> (u64, u64) {
    let before = ALLOCS.with(Cell::get);
    let events = f();
    (ALLOCS.with(Cell::get) - before, events)
}

#[test]
fn a_run_allocates_nothing_per_event() {
    let mut sc = scenario::parse(scenario::DEFAULT_TOML, "default.toml")
        .expect("default scenario parses")
        .scenario;
    let users = UserTable::new(&sc.traffic);
    let mut strategies = sc.strategies.clone();
    if !strategies.iter().any(|s| s.name == "none") {
        strategies.push(Strategy::none());
    }
    for s in &strategies {
        // A first run warms this thread's reusable state (the event queue).
        let _ = deploysim::runner::run(&sc, &users, s, 3, false);
        sc.duration = SimTime::from_secs(900);
        let short = allocations_of(|| deploysim::runner::run(&sc, &users, s, 3, false).events);
        sc.duration = SimTime::from_secs(1800);
        let long = allocations_of(|| deploysim::runner::run(&sc, &users, s, 3, false).events);
        let extra_events = long.1 - short.1;
        let extra_allocs = long.0.saturating_sub(short.0);
        assert!(
            extra_events > 100_000,
            "{}: the longer run must add many events ({extra_events})",
            s.name
        );
        assert!(
            extra_allocs * 10_000 < extra_events,
            "{}: {extra_allocs} more allocations for {extra_events} more events \
             ({} vs {} allocations in all)",
            s.name,
            long.0,
            short.0
        );
    }
}

/// Fluid mode: a run's allocations do not grow with its horizon either (it has few
/// events, so the test compares totals: doubling 30 simulated minutes may add a
/// handful of buffer doublings, not one allocation per slice).
#[test]
fn a_fluid_run_allocates_nothing_per_slice() {
    let mut sc = scenario::parse(scenario::DEFAULT_TOML, "default.toml")
        .expect("default scenario parses")
        .scenario;
    sc.fidelity = scenario::Fidelity::Fluid;
    let users = UserTable::new(&sc.traffic);
    for s in &sc.strategies.clone() {
        let _ = deploysim::runner::run(&sc, &users, s, 3, false);
        sc.duration = SimTime::from_secs(1800);
        let short = allocations_of(|| deploysim::runner::run(&sc, &users, s, 3, false).events);
        sc.duration = SimTime::from_secs(3600);
        let long = allocations_of(|| deploysim::runner::run(&sc, &users, s, 3, false).events);
        assert!(
            long.0 <= short.0 + 8,
            "{}: {} allocations over 3,600 slices, {} over 1,800",
            s.name,
            long.0,
            short.0
        );
    }
}
