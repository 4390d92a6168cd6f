//! A small fixed-size log-bucket histogram of durations, for per-second latency
//! quantiles (monitoring rules and the trace timeline). 8 buckets per octave from
//! 64 µs up to about 70 min: a quantile is known to within 4.4% (half a bucket).

use crate::sim::SimTime;

pub const BUCKETS: usize = 8 * 26;
const MIN_US_LOG2: f64 = 6.0; // 64 µs

#[derive(Clone, Copy, Debug)]
pub struct LogHist;

impl LogHist {
    #[inline]
    pub fn bucket(latency: SimTime) -> usize {
        let us = latency.micros().max(1) as f64;
        let b = ((us.log2() - MIN_US_LOG2) * 8.0).floor();
        if b <= 0.0 {
            0
        } else {
            (b as usize).min(BUCKETS - 1)
        }
    }

    /// Geometric middle of a bucket, in milliseconds.
    pub fn bucket_mid_ms(b: usize) -> f64 {
        2f64.powf(MIN_US_LOG2 + (b as f64 + 0.5) / 8.0) / 1e3
    }

    /// Where a duration of `us` microseconds falls: its bucket and the share of that
    /// bucket's counts taken to lie below it (counts spread log-uniformly inside a
    /// bucket; linearly in bucket 0, which starts at 0; none below in the last bucket,
    /// which is open-ended). The analysis store turns these buckets into Prometheus
    /// `le` buckets with it.
    pub fn split(us: f64) -> (usize, f64) {
        let pos = (us.max(0.0).log2() - MIN_US_LOG2) * 8.0;
        if pos < 1.0 {
            let top = 2f64.powf(MIN_US_LOG2 + 1.0 / 8.0);
            return (0, (us.max(0.0) / top).min(1.0));
        }
        let b = pos.floor();
        if b >= (BUCKETS - 1) as f64 {
            return (BUCKETS - 1, 0.0);
        }
        (b as usize, pos - b)
    }

    /// Quantile `q` (in ms) of the sum of several bucket arrays; `None` if empty.
    pub fn quantile_ms<'a>(parts: impl Iterator<Item = &'a [u32]> + Clone, q: f64) -> Option<f64> {
        let total: u64 = parts
            .clone()
            .map(|p| p.iter().map(|&c| c as u64).sum::<u64>())
            .sum();
        if total == 0 {
            return None;
        }
        let rank = ((q * total as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for b in 0..BUCKETS {
            seen += parts.clone().map(|p| p[b] as u64).sum::<u64>();
            if seen >= rank {
                return Some(Self::bucket_mid_ms(b));
            }
        }
        Some(Self::bucket_mid_ms(BUCKETS - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_within_half_a_bucket() {
        for ms in [0.1, 1.0, 40.0, 300.0, 2000.0, 60_000.0] {
            let b = LogHist::bucket(SimTime::from_secs_f64(ms / 1e3));
            let mid = LogHist::bucket_mid_ms(b);
            // Half a bucket is a factor 2^(1/16) ≈ 1.044.
            assert!(
                (mid / ms).ln().abs() <= (2f64).ln() / 16.0 + 1e-9,
                "{ms} -> {mid}"
            );
        }
    }

    /// `split` at a bucket's lower edge puts nothing of it below; at its geometric middle
    /// half; in bucket 0 (which starts at 0) the share is linear.
    #[test]
    fn split_places_durations_inside_buckets() {
        for b in [1usize, 40, 100] {
            let lo = 2f64.powf(MIN_US_LOG2 + b as f64 / 8.0);
            let (at, share) = LogHist::split(lo * 1.000_000_1);
            assert_eq!(at, b);
            assert!(share < 1e-5, "{share}");
            let (at, share) = LogHist::split(LogHist::bucket_mid_ms(b) * 1e3);
            assert_eq!(at, b);
            assert!((share - 0.5).abs() < 1e-9, "{share}");
        }
        let top0 = 2f64.powf(MIN_US_LOG2 + 1.0 / 8.0);
        assert_eq!(LogHist::split(top0 / 4.0), (0, 0.25));
        assert_eq!(LogHist::split(1e13), (BUCKETS - 1, 0.0));
    }

    #[test]
    fn quantile_of_known_counts() {
        let mut h = [0u32; BUCKETS];
        h[LogHist::bucket(SimTime::from_millis(10))] = 99;
        h[LogHist::bucket(SimTime::from_millis(1000))] = 1;
        let p50 = LogHist::quantile_ms(std::iter::once(&h[..]), 0.5).unwrap();
        let p99 = LogHist::quantile_ms(std::iter::once(&h[..]), 0.99).unwrap();
        let p100 = LogHist::quantile_ms(std::iter::once(&h[..]), 1.0).unwrap();
        assert!((p50 / 10.0 - 1.0).abs() < 0.05 && (p99 / 10.0 - 1.0).abs() < 0.05);
        assert!((p100 / 1000.0 - 1.0).abs() < 0.05);
    }
}
