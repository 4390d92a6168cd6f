//! The event queue: a binary min-heap ordered by (time, insertion sequence).
//!
//! Ties are FIFO, so a run is a pure function of its inputs. Payloads are plain
//! `Copy` values; pushing and popping allocate nothing once the heap has grown.

use super::SimTime;

#[derive(Clone, Copy, Debug)]
struct Entry<E> {
    key: u128,
    event: E,
}

/// Min-heap of events keyed by `(time << 64) | sequence`.
#[derive(Clone, Debug)]
pub struct EventQueue<E: Copy> {
    heap: Vec<Entry<E>>,
    seq: u64,
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

impl<E: Copy> EventQueue<E> {
    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            heap: Vec::with_capacity(n),
            seq: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
    /// Events pushed since creation (or the last `clear`): a cost measure for tests.
    pub fn pushes(&self) -> u64 {
        self.seq
    }
    pub fn clear(&mut self) {
        self.heap.clear();
        self.seq = 0;
    }

    /// Time of the earliest event, if any.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.first().map(|e| SimTime((e.key >> 64) as u64))
    }

    #[inline]
    pub fn push(&mut self, at: SimTime, event: E) {
        let key = ((at.0 as u128) << 64) | self.seq as u128;
        self.seq += 1;
        self.heap.push(Entry { key, event });
        // Sift up.
        let mut i = self.heap.len() - 1;
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.heap[parent].key <= key {
                break;
            }
            self.heap.swap(i, parent);
            i = parent;
        }
    }

    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let n = self.heap.len();
        if n == 0 {
            return None;
        }
        let top = self.heap.swap_remove(0);
        let n = n - 1;
        if n > 1 {
            // Sift down the element moved to the root.
            let mut i = 0;
            loop {
                let l = 2 * i + 1;
                if l >= n {
                    break;
                }
                let r = l + 1;
                let c = if r < n && self.heap[r].key < self.heap[l].key {
                    r
                } else {
                    l
                };
                if self.heap[i].key <= self.heap[c].key {
                    break;
                }
                self.heap.swap(i, c);
                i = c;
            }
        }
        Some((SimTime((top.key >> 64) as u64), top.event))
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
}
