//! The event queue: a radix heap with byte-wide digits, ordered by (time, insertion
//! order).
//!
//! Ties are FIFO, so a run is a pure function of its inputs. A discrete-event
//! simulation never schedules into the past, so times are monotone: every time pushed
//! is at least the last time popped. A radix heap exploits that. Here an entry sits at
//! *level* L, the highest byte in which its time differs from the last popped time,
//! in the bucket of its digit d in that byte (256 buckets per level). Settling the
//! lowest non-empty bucket moves its entries to levels below L, so an entry moves at
//! most L times (two or three for times seconds ahead in µs), and a bucket of level 0
//! holds one exact time, which is taken as it is (see docs/performance.md for the
//! hold-model numbers).
//!
//! Invariant: every entry is in the bucket of its time relative to `last`. Settling
//! keeps it: the new `last` is the smallest time of the lowest non-empty bucket, so it
//! agrees with the old one above level L, and every other entry still differs from it
//! first in the same byte, with the same digit.
//!
//! FIFO without sequence numbers: every bucket is in insertion order. Pushes append
//! (later than everything queued), and a bucket is only redistributed into lower
//! levels that are all empty at that moment, preserving its order. Entries at time
//! `last` are in `now`, consumed from `head`.
//!
//! The lane: one event of a stream that schedules its own successor when handled
//! (arrivals, half of a request-level run's events) waits outside the buckets and is
//! never re-bucketed; `push_lane` explains why the order is still exactly `push`'s.
//!
//! Layout for small queues (a run has tens of pending events, the hold bench 10^5):
//! a bucket keeps its first entry and its minimum inline, and only further entries in
//! a vector of its own, so a push into an empty bucket touches one bucket and no heap
//! buffer. Payloads are plain `Copy` values; vectors keep their capacity, so pushing
//! and popping allocate nothing once they have grown, and `clear` keeps them for
//! reuse (the world keeps one queue per thread across runs).

use super::SimTime;

#[derive(Clone, Copy, Debug)]
struct Entry<E> {
    time: u64,
    event: E,
}

/// One bucket: its first entry inline, the rest (rarely any) in order after it.
#[derive(Clone, Debug)]
struct Bucket<E> {
    first: Entry<E>,
    /// The smallest time in the bucket (valid while it is non-empty).
    min: u64,
    rest: Vec<Entry<E>>,
}

/// Bits per digit, buckets per level, words of a level's map of non-empty buckets.
const DIGIT: u32 = 8;
const WIDTH: usize = 1 << DIGIT;
const WORDS: usize = WIDTH.div_ceil(64);
/// Levels a 64-bit time needs (the top one may be narrower), rounded up to a power of
/// two so that a level index is masked rather than bounds-checked.
const LEVELS: usize = 64usize.div_ceil(DIGIT as usize).next_power_of_two();

/// Monotone min-queue of events by (time, insertion order).
#[derive(Clone, Debug)]
pub struct EventQueue<E: Copy> {
    /// Bucket `L·256 + d` holds the entries first differing from `last` in byte L,
    /// with digit d. Grown a level at a time, when a push first needs it (a run's
    /// times in µs reach four levels).
    buckets: Vec<Bucket<E>>,
    /// Per level, which buckets are non-empty.
    bits: [[u64; WORDS]; LEVELS],
    /// Bit L set when level L has a non-empty bucket.
    levels: u32,
    /// Entries at time `last`; those before `head` have been popped.
    now: Vec<Entry<E>>,
    head: usize,
    /// The current time: the last popped (or settled) minimum.
    last: u64,
    /// The lane (see `push_lane`).
    lane: Option<Entry<E>>,
    len: usize,
    pushes: u64,
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

impl<E: Copy> EventQueue<E> {
    /// A queue; `n` (the expected number pending) is a hint: buckets grow as used.
    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            buckets: Vec::new(),
            bits: [[0; WORDS]; LEVELS],
            levels: 0,
            now: Vec::with_capacity(n.min(1024)),
            head: 0,
            last: 0,
            lane: None,
            len: 0,
            pushes: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Events pushed since creation (or the last `clear`): a cost measure for tests.
    pub fn pushes(&self) -> u64 {
        self.pushes
    }
    pub fn clear(&mut self) {
        for b in &mut self.buckets {
            b.rest.clear();
        }
        self.bits = [[0; WORDS]; LEVELS];
        self.levels = 0;
        self.now.clear();
        self.head = 0;
        self.last = 0;
        self.lane = None;
        self.len = 0;
        self.pushes = 0;
    }

    /// Where the earliest event is: `Some(false)` at `now[head]`, `Some(true)` in the
    /// lane, `None` when the queue is empty.
    #[inline(always)]
    fn ready(&mut self) -> Option<bool> {
        // Entries at `last` go before the lane: its time is at least `last`, and one
        // pushed at its time after it would have moved it into the buckets first.
        if self.head < self.now.len() {
            Some(false)
        } else {
            self.ready_slow()
        }
    }

    /// `ready`'s slow path, once per distinct time: the lane if it is strictly
    /// earlier than every bucket (ties go to the buckets, pushed before it); else the
    /// lowest non-empty bucket, re-bucketed around its smallest time if it is above
    /// level 0. `last` never passes the lane's time.
    #[inline(never)]
    fn ready_slow(&mut self) -> Option<bool> {
        self.now.clear();
        self.head = 0;
        if self.levels == 0 {
            return self.lane.is_some().then_some(true);
        }
        let level = self.levels.trailing_zeros() as usize % LEVELS;
        let words = &mut self.bits[level];
        let k = words.iter().position(|&w| w != 0).unwrap_or(0) % WORDS;
        let d = k * 64 + words[k].trailing_zeros() as usize;
        let i = level * WIDTH + d;
        if self.lane.is_some_and(|l| l.time < self.buckets[i].min) {
            return Some(true);
        }
        words[k] &= words[k] - 1;
        if words[k] == 0 && words.iter().all(|&w| w == 0) {
            self.levels &= !(1 << level);
        }
        let b = &mut self.buckets[i];
        self.last = b.min;
        let first = b.first;
        if level == 0 {
            // One exact time: the bucket is taken as it is.
            self.now.push(first);
            if !b.rest.is_empty() {
                self.now.append(&mut b.rest);
            }
            return Some(false);
        }
        let more = !b.rest.is_empty();
        self.put(first);
        if more {
            let mut moving = std::mem::take(&mut self.buckets[i].rest);
            for &e in &moving {
                self.put(e);
            }
            moving.clear();
            // Keep the emptied vector's capacity for later pushes into this bucket.
            self.buckets[i].rest = moving;
        }
        Some(false)
    }

    #[inline(always)]
    fn put(&mut self, e: Entry<E>) {
        // A time before `last` (see `push_late`) is served next, at its own time.
        let x = e.time ^ self.last;
        if x == 0 || e.time < self.last {
            self.now.push(e);
            return;
        }
        let level = ((63 - x.leading_zeros()) / DIGIT) as usize % LEVELS;
        let d = ((e.time >> (level as u32 * DIGIT)) as usize) & (WIDTH - 1);
        let i = level * WIDTH + d;
        if i >= self.buckets.len() {
            self.grow(level, e);
        }
        let word = &mut self.bits[level][(d / 64) % WORDS];
        let bit = 1u64 << (d % 64);
        let b = &mut self.buckets[i];
        if *word & bit == 0 {
            *word |= bit;
            self.levels |= 1 << level;
            b.first = e;
            b.min = e.time;
        } else {
            b.rest.push(e);
            b.min = b.min.min(e.time);
        }
    }

    /// Adds the buckets of levels up to `level`; `e` fills their unused first slots.
    #[cold]
    fn grow(&mut self, level: usize, e: Entry<E>) {
        let empty = Bucket {
            first: e,
            min: u64::MAX,
            rest: Vec::new(),
        };
        self.buckets.resize((level + 1) * WIDTH, empty);
    }

    /// Time of the earliest event, if any.
    #[inline]
    pub fn peek_time(&mut self) -> Option<SimTime> {
        self.front().map(|(_, e)| SimTime(e.time))
    }

    /// The earliest entry, and whether it is the lane's.
    #[inline(always)]
    fn front(&mut self) -> Option<(bool, Entry<E>)> {
        if self.ready()? {
            Some((true, self.lane?))
        } else {
            Some((false, self.now[self.head]))
        }
    }

    #[inline]
    pub fn push(&mut self, at: SimTime, event: E) {
        debug_assert!(at.0 >= self.last, "event scheduled before the current time");
        self.push_any(at, event);
    }

    /// Pushes an event that may be due before the current time: it is served next, at
    /// its own time, after the events already queued at the current time. Only for a model that
    /// learns late that something was due (fluid mode's parked probe chains, woken
    /// while it catches up to the event being handled); everything else uses `push`,
    /// which debug builds check.
    #[inline]
    pub fn push_late(&mut self, at: SimTime, event: E) {
        self.push_any(at, event);
    }

    #[inline(always)]
    fn push_any(&mut self, at: SimTime, event: E) {
        if self.lane.is_some_and(|l| l.time == at.0) {
            self.lane_into_buckets();
        }
        self.pushes += 1;
        self.put(Entry { time: at.0, event });
        self.len += 1;
    }

    /// Pushes the next event of a stream that schedules its own successor when it is
    /// handled (arrivals), into the *lane*: a slot outside the buckets, so the event
    /// is never re-bucketed. The order is exactly `push`'s: the lane holds one event,
    /// and a `push` at the lane's time (or another `push_lane`) first moves it into
    /// the buckets, behind everything queued before it.
    #[inline]
    pub fn push_lane(&mut self, at: SimTime, event: E) {
        debug_assert!(at.0 >= self.last, "event scheduled before the current time");
        self.lane_into_buckets();
        self.pushes += 1;
        self.lane = Some(Entry { time: at.0, event });
        self.len += 1;
    }

    #[inline]
    fn lane_into_buckets(&mut self) {
        if let Some(l) = self.lane.take() {
            self.put(l);
        }
    }

    /// Pops the earliest event if it is before `limit` (the run loop's horizon).
    #[inline]
    pub fn pop_before(&mut self, limit: SimTime) -> Option<(SimTime, E)> {
        let (lane, e) = self.front()?;
        if e.time >= limit.0 {
            return None;
        }
        Some(self.take(lane, e))
    }

    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let (lane, e) = self.front()?;
        Some(self.take(lane, e))
    }

    /// Removes the earliest entry `e`, which `front` found.
    #[inline(always)]
    fn take(&mut self, lane: bool, e: Entry<E>) -> (SimTime, E) {
        if lane {
            self.lane = None;
        } else {
            self.head += 1;
        }
        self.len -= 1;
        (SimTime(e.time), e.event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_time_then_fifo() {
        let mut q = EventQueue::with_capacity(8);
        q.push(SimTime(5), 'a');
        q.push(SimTime(1), 'b');
        q.push(SimTime(5), 'c');
        q.push(SimTime(3), 'd');
        q.push(SimTime(1), 'e');
        let order: String = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, "bedac");
    }

    #[test]
    fn matches_a_sorted_reference_on_random_input() {
        let mut q = EventQueue::with_capacity(0);
        let mut reference = Vec::new();
        let mut s = crate::sim::rng::Stream::new(9, crate::sim::rng::Purpose::Arrivals, 0);
        for i in 0..5000u32 {
            let t = SimTime(s.next_u64() % 100);
            q.push(t, i);
            reference.push((t, i));
        }
        reference.sort(); // (time, insertion index) = the FIFO order
        let got: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(got, reference);
    }

    /// Interleaved pushes and pops as a simulation does them (never into the past;
    /// many ties at the current time), against a reference ordered by (time, push
    /// number).
    #[test]
    fn interleaved_hold_matches_a_reference_heap() {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        let mut q = EventQueue::with_capacity(16);
        let mut reference = BinaryHeap::new();
        let mut s = crate::sim::rng::Stream::new(4, crate::sim::rng::Purpose::Arrivals, 0);
        let mut n = 0u64;
        let mut push = |q: &mut EventQueue<u64>, r: &mut BinaryHeap<_>, t: u64| {
            q.push(SimTime(t), n);
            r.push(Reverse((t, n)));
            n += 1;
        };
        for _ in 0..200 {
            let t = s.next_u64() % 1000;
            push(&mut q, &mut reference, t);
        }
        let mut now = 0;
        for step in 0..20_000 {
            assert_eq!(q.peek_time().map(|t| t.0), reference.peek().map(|r| r.0.0));
            let (t, e) = q.pop().expect("not empty");
            let Reverse((rt, re)) = reference.pop().expect("not empty");
            assert_eq!((t.0, e), (rt, re), "step {step}");
            assert!(t.0 >= now);
            now = t.0;
            // 0, 1 or 2 new events: at the same instant, soon, or far ahead.
            for _ in 0..(s.next_u64() % 3) {
                let dt = match s.next_u64() % 4 {
                    0 => 0,
                    1 => s.next_u64() % 8,
                    2 => s.next_u64() % 10_000,
                    _ => s.next_u64() % (1 << 40),
                };
                push(&mut q, &mut reference, now + dt);
            }
            if q.is_empty() {
                push(&mut q, &mut reference, now + 1);
            }
            assert_eq!(q.len(), reference.len());
        }
    }
    /// Times whose highest differing byte is each of the eight levels (up to the
    /// `SimTime` cap of u64::MAX / 2), pushed in reverse, come out sorted and FIFO.
    #[test]
    fn every_level_comes_out_in_order() {
        let mut q = EventQueue::with_capacity(0);
        let mut reference = Vec::new();
        let mut n = 0u32;
        for level in (0..8u32).rev() {
            for k in [3u64, 1, 2, 1] {
                let t = (k << (8 * level)).min(u64::MAX / 2);
                q.push(SimTime(t), n);
                reference.push((SimTime(t), n));
                n += 1;
            }
        }
        reference.sort();
        let got: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(got, reference);
    }

    /// A run reuses its thread's queue after `clear`: a cleared queue must give the
    /// same pops as a new one, whatever it held before.
    #[test]
    fn a_cleared_queue_behaves_like_a_new_one() {
        let script = |q: &mut EventQueue<u64>| {
            let mut s = crate::sim::rng::Stream::new(2, crate::sim::rng::Purpose::Arrivals, 0);
            let mut out = Vec::new();
            for i in 0..300 {
                q.push(SimTime(s.next_u64() % 5_000_000), i);
            }
            for i in 300..3000 {
                let (t, e) = q.pop().expect("not empty");
                out.push((t, e));
                q.push(t + SimTime(s.next_u64() % 2_000_000), i);
            }
            (out, q.len(), q.pushes())
        };
        let fresh = script(&mut EventQueue::with_capacity(0));
        let mut used = EventQueue::with_capacity(0);
        for i in 0..1000 {
            used.push(SimTime(i * 7919 % 100_000_000), i);
        }
        for _ in 0..400 {
            used.pop();
        }
        used.clear();
        assert!(used.is_empty());
        assert_eq!(script(&mut used), fresh);
    }
    /// The lane keeps `push`'s order exactly: a stream that pushes its successor into
    /// the lane when popped (as arrivals do), mixed with ordinary pushes, many of them
    /// at the same times, against a reference ordered by (time, push number).
    #[test]
    fn the_lane_keeps_push_order() {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        for seed in 0..20 {
            let mut q = EventQueue::with_capacity(0);
            let mut reference = BinaryHeap::new();
            let mut s = crate::sim::rng::Stream::new(seed, crate::sim::rng::Purpose::Arrivals, 0);
            let mut n = 0u64;
            // Even payloads are ordinary events, odd ones the lane's stream.
            let mut push = |q: &mut EventQueue<u64>, r: &mut BinaryHeap<_>, t: u64, lane| {
                let e = 2 * n + u64::from(lane);
                if lane {
                    q.push_lane(SimTime(t), e);
                } else {
                    q.push(SimTime(t), e);
                }
                r.push(Reverse((t, n, e)));
                n += 1;
            };
            push(&mut q, &mut reference, 3, true);
            for _ in 0..50 {
                let t = s.next_u64() % 20;
                push(&mut q, &mut reference, t, false);
            }
            let mut now = 0;
            for step in 0..5_000 {
                assert_eq!(q.peek_time().map(|t| t.0), reference.peek().map(|r| r.0.0));
                let (t, e) = q.pop().expect("not empty");
                let Reverse((rt, _, re)) = reference.pop().expect("not empty");
                assert_eq!((t.0, e), (rt, re), "seed {seed} step {step}");
                assert!(t.0 >= now);
                now = t.0;
                if e % 2 == 1 {
                    // Its successor first (as `on_arrival` does), then what it causes.
                    let dt = s.next_u64() % 4;
                    push(&mut q, &mut reference, now + dt, true);
                }
                for _ in 0..(s.next_u64() % 3) {
                    let dt = match s.next_u64() % 3 {
                        0 => 0,
                        1 => s.next_u64() % 4,
                        _ => s.next_u64() % 300,
                    };
                    push(&mut q, &mut reference, now + dt, false);
                }
                if q.is_empty() {
                    push(&mut q, &mut reference, now + 1, false);
                }
                assert_eq!(q.len(), reference.len());
            }
        }
    }
}
