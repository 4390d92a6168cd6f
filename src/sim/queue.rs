//! The event queue: a radix heap ordered by (time, insertion order).
//!
//! Ties are FIFO, so a run is a pure function of its inputs. A discrete-event
//! simulation never schedules into the past, so times are monotone: every time pushed
//! is at least the last time popped. A radix heap exploits that: an entry sits in the
//! bucket of the highest bit in which its time differs from the last popped time, and
//! only the lowest non-empty bucket is ever sorted out, so each entry moves a few
//! times at most instead of climbing a heap of 10^5 entries (see
//! docs/performance.md for the hold-model numbers).
//!
//! FIFO without sequence numbers: every bucket's vector is in insertion order. Pushes
//! append (later than everything queued), and a bucket is only redistributed into
//! lower buckets that are all empty at that moment, preserving its order. Bucket 0
//! holds entries at exactly the current time and is consumed from the front.
//!
//! Payloads are plain `Copy` values; buckets keep their capacity, so pushing and
//! popping allocate nothing once they have grown.

use super::SimTime;

#[derive(Clone, Copy, Debug)]
struct Entry<E> {
    time: u64,
    event: E,
}

/// Bucket 0 holds times equal to the current one; bucket `b` ≥ 1 times whose highest
/// bit differing from it is bit `b − 1`.
const BUCKETS: usize = 65;

/// Monotone min-queue of events by (time, insertion order).
#[derive(Clone, Debug)]
pub struct EventQueue<E: Copy> {
    buckets: Vec<Vec<Entry<E>>>,
    /// Entries of bucket 0 before `head` have been popped.
    head: usize,
    /// Bit `b − 1` set when bucket `b` ≥ 1 is non-empty: the lowest one is found with
    /// one `trailing_zeros` instead of a scan.
    nonempty: u64,
    /// The current time: the last popped (or settled) minimum.
    last: u64,
    /// Per bucket ≥ 1, the smallest time in it (`u64::MAX` when empty): settling a
    /// bucket then needs no pass to find its minimum.
    mins: [u64; BUCKETS],
    len: usize,
    pushes: u64,
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

impl<E: Copy> EventQueue<E> {
    pub fn with_capacity(n: usize) -> Self {
        let mut buckets: Vec<Vec<Entry<E>>> = (0..BUCKETS).map(|_| Vec::new()).collect();
        // Entries spread over the upper buckets (times µs apart to minutes apart).
        for b in buckets.iter_mut().skip(8) {
            b.reserve(n / 16);
        }
        EventQueue {
            buckets,
            head: 0,
            nonempty: 0,
            last: 0,
            mins: [u64::MAX; BUCKETS],
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
            b.clear();
        }
        self.head = 0;
        self.nonempty = 0;
        self.last = 0;
        self.mins = [u64::MAX; BUCKETS];
        self.len = 0;
        self.pushes = 0;
    }

    #[inline]
    fn bucket(&self, time: u64) -> usize {
        // A time before `last` would be scheduling into the past, a bug upstream; it
        // is served next (bucket 0) rather than lost.
        debug_assert!(time >= self.last, "event scheduled before the current time");
        if time <= self.last {
            0
        } else {
            BUCKETS - (time ^ self.last).leading_zeros() as usize
        }
    }

    /// Makes bucket 0 hold the earliest entries: when it is used up, re-buckets the
    /// lowest non-empty bucket around its smallest time. False when empty.
    #[inline]
    fn settle(&mut self) -> bool {
        if self.head < self.buckets[0].len() {
            return true;
        }
        self.buckets[0].clear();
        self.head = 0;
        if self.nonempty == 0 {
            return false;
        }
        let i = self.nonempty.trailing_zeros() as usize + 1;
        self.nonempty &= !(1u64 << (i - 1));
        self.last = std::mem::replace(&mut self.mins[i], u64::MAX);
        let mut moving = std::mem::take(&mut self.buckets[i]);
        for e in moving.drain(..) {
            self.put(e);
        }
        // Keep the emptied vector's capacity for later pushes into this bucket.
        self.buckets[i] = moving;
        true
    }

    #[inline]
    fn put(&mut self, e: Entry<E>) {
        let b = self.bucket(e.time);
        if b > 0 {
            self.nonempty |= 1u64 << (b - 1);
            self.mins[b] = self.mins[b].min(e.time);
        }
        self.buckets[b].push(e);
    }

    /// Time of the earliest event, if any.
    #[inline]
    pub fn peek_time(&mut self) -> Option<SimTime> {
        if !self.settle() {
            return None;
        }
        Some(SimTime(self.buckets[0][self.head].time))
    }

    #[inline]
    pub fn push(&mut self, at: SimTime, event: E) {
        self.pushes += 1;
        self.put(Entry { time: at.0, event });
        self.len += 1;
    }

    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        if !self.settle() {
            return None;
        }
        let e = self.buckets[0][self.head];
        self.head += 1;
        self.len -= 1;
        Some((SimTime(e.time), e.event))
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
}
