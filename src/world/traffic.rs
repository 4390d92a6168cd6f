//! Client traffic: open-loop Poisson arrivals with piecewise-constant rate steps, and
//! users drawn by Zipf. Arrivals are generated lazily, one pending at a time.

use crate::scenario::Traffic;
use crate::sim::SimTime;
use crate::sim::rng::Stream;

/// Per-scenario tables shared by every run (built once): a Walker/Vose alias table of
/// the Zipf distribution of users, so drawing a user is O(1) with one uniform.
#[derive(Clone, Debug)]
pub struct UserTable {
    /// (acceptance threshold, alias) per cell.
    cells: Vec<(f64, u32)>,
}

impl UserTable {
    pub fn new(t: &Traffic) -> Self {
        let n = t.users.max(1) as usize;
        let w: Vec<f64> = (1..=n).map(|k| (k as f64).powf(-t.user_skew)).collect();
        let total: f64 = w.iter().sum();
        // Scaled probabilities: cell i keeps user i with probability p[i], else its alias.
        let mut p: Vec<f64> = w.iter().map(|x| x * n as f64 / total).collect();
        let mut alias: Vec<u32> = (0..n as u32).collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| p[i] < 1.0);
        while let (Some(s), Some(&l)) = (small.pop(), large.last()) {
            alias[s] = l as u32;
            p[l] -= 1.0 - p[s];
            if p[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // Left-overs are 1 up to rounding.
        for i in large.into_iter().chain(small) {
            p[i] = 1.0;
        }
        UserTable {
            cells: p.into_iter().zip(alias).collect(),
        }
    }

    /// The user of uniform `u` (rank 0 is the most active).
    #[inline]
    pub fn user(&self, u: f64) -> u32 {
        let x = u * self.cells.len() as f64;
        let i = (x as usize).min(self.cells.len() - 1);
        let (keep, alias) = self.cells[i];
        if x - (i as f64) < keep {
            i as u32
        } else {
            alias
        }
    }
}

/// The arrival process of one run.
#[derive(Clone, Debug)]
pub struct Arrivals {
    stream: Stream,
    /// (start, rate) segments, sorted; the first starts at zero.
    segments: Vec<(SimTime, f64)>,
}

impl Arrivals {
    pub fn new(t: &Traffic, stream: Stream) -> Self {
        let mut segments = vec![(SimTime::ZERO, t.rate)];
        for s in &t.steps {
            if s.at.is_zero() {
                segments[0].1 = s.rate;
            } else {
                segments.push((s.at, s.rate));
            }
        }
        Arrivals { stream, segments }
    }

    /// The next arrival after `now`: an Exp(1) draw spent against the integrated rate.
    pub fn next(&mut self, now: SimTime) -> Option<SimTime> {
        let mut need = self.stream.exp1();
        let mut t = now.secs_f64();
        let mut i = self
            .segments
            .partition_point(|s| s.0 <= now)
            .saturating_sub(1);
        loop {
            let rate = self.segments[i].1;
            let end = self.segments.get(i + 1).map(|s| s.0.secs_f64());
            match end {
                Some(end) => {
                    let mass = rate * (end - t);
                    if rate > 0.0 && need <= mass {
                        return Some(SimTime::from_secs_f64(t + need / rate));
                    }
                    need -= mass.max(0.0);
                    t = end;
                    i += 1;
                }
                None => {
                    if rate <= 0.0 {
                        return None;
                    }
                    return Some(SimTime::from_secs_f64(t + need / rate));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::RateStep;
    use crate::sim::rng::Purpose;

    fn traffic(rate: f64, steps: Vec<RateStep>) -> Traffic {
        Traffic {
            rate,
            users: 100,
            user_skew: 1.0,
            retries: 0,
            retry_backoff: SimTime::ZERO,
            steps,
        }
    }

    #[test]
    fn poisson_counts_follow_the_rate_steps() {
        let t = traffic(
            100.0,
            vec![RateStep {
                at: SimTime::from_secs(100),
                rate: 400.0,
            }],
        );
        let mut a = Arrivals::new(&t, Stream::new(5, Purpose::Arrivals, 0));
        let (mut before, mut after) = (0u64, 0u64);
        let mut now = SimTime::ZERO;
        while let Some(n) = a.next(now) {
            if n >= SimTime::from_secs(200) {
                break;
            }
            if n < SimTime::from_secs(100) {
                before += 1
            } else {
                after += 1
            }
            now = n;
        }
        // Poisson counts: mean 10_000 (sd 100) and 40_000 (sd 200); 4 sd.
        assert!((before as f64 - 10_000.0).abs() < 400.0, "{before}");
        assert!((after as f64 - 40_000.0).abs() < 800.0, "{after}");
    }

    #[test]
    fn zipf_ranks_have_their_share() {
        let t = traffic(1.0, vec![]);
        let u = UserTable::new(&t);
        // Zipf(1) over 100 users: P(rank k) = (1/k) / H_100, H_100 = 5.187377517639621.
        let n = 400_000u32;
        let mut s = Stream::new(11, Purpose::Users, 0);
        let mut hits = [0u32; 100];
        for _ in 0..n {
            hits[u.user(s.uniform()) as usize] += 1;
        }
        for k in [1usize, 2, 10, 100] {
            let p = 1.0 / k as f64 / 5.187_377_517_639_621;
            let sd = (n as f64 * p * (1.0 - p)).sqrt();
            // 4.5 binomial standard deviations: a false alarm about once in 150,000.
            assert!(
                (hits[k - 1] as f64 - n as f64 * p).abs() < 4.5 * sd,
                "rank {k}: {}",
                hits[k - 1]
            );
        }
    }
}
