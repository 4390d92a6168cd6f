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
