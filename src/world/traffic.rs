//! Client traffic: open-loop Poisson arrivals with piecewise-constant rate steps, and
//! users drawn by Zipf. Arrivals are generated lazily, one pending at a time.

use crate::scenario::Traffic;
use crate::sim::SimTime;
use crate::sim::rng::Stream;

/// Per-scenario tables shared by every run (built once).
#[derive(Clone, Debug)]
pub struct UserTable {
    /// Cumulative Zipf probabilities of user ranks 0..users.
    cdf: Vec<f64>,
}

impl UserTable {
    pub fn new(t: &Traffic) -> Self {
        let n = t.users.max(1) as usize;
        let mut cdf = Vec::with_capacity(n);
        let mut acc = 0.0;
        for k in 1..=n {
            acc += (k as f64).powf(-t.user_skew);
            cdf.push(acc);
        }
        for c in &mut cdf {
            *c /= acc;
        }
        UserTable { cdf }
    }

    /// The user of uniform `u` (rank 0 is the most active).
    #[inline]
    pub fn user(&self, u: f64) -> u32 {
        let i = self.cdf.partition_point(|&c| c < u);
        i.min(self.cdf.len() - 1) as u32
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
    fn zipf_rank_one_has_its_share() {
        let t = traffic(1.0, vec![]);
        let u = UserTable::new(&t);
        // Zipf(1) over 100 users: P(rank 1) = 1 / H_100 = 1 / 5.187377517639621.
        let n = 200_000;
        let hits = (0..n)
            .filter(|i| u.user((*i as f64 + 0.5) / n as f64) == 0)
            .count();
        let expect = n as f64 / 5.187_377_517_639_621;
        assert!((hits as f64 - expect).abs() <= 1.0, "{hits} vs {expect}");
    }
}
