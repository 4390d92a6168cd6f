//! Random sets of users as bitsets, for the fluid mode's user counts at the horizon.
//!
//! Every user `i` is in the set independently with probability `r(i)`, where `r` is
//! monotone in the rank (a Zipf user's chance to have sent at least one of `k`
//! requests). Drawing one uniform per user would cost O(users) per run whatever the
//! traffic; instead each block of ranks draws only its minority outcome: the members
//! where `r` is small, the non-members where it is large, by geometric skips under the
//! block's bound on that probability and an acceptance test (thinning). A block whose
//! probabilities are neither small nor large is halved down to 32 ranks, drawn one by
//! one. Cost: O(users / BLOCK + Σ min(r, 1 − r) + the ranks in between).
//!
//! Pure functions of their arguments and the key; no allocation.

use crate::sim::rng::Keyed;

/// Ranks per block: the bound of a block is its largest minority probability.
const BLOCK: u32 = 256;

/// ORs into `bits` a draw of the set over ranks `0..users` with membership probability
/// `r(i)`, monotone in `i` (either direction). Uniforms are the key's `0, 1, 2, …`.
pub fn draw(bits: &mut [u64], users: u32, r: impl Fn(u32) -> f64, key: Keyed) {
    let mut next = 0u64;
    let mut u = || {
        next += 1;
        key.uniform(next - 1)
    };
    let mut lo = 0u32;
    while lo < users {
        let hi = (lo + BLOCK).min(users);
        block(bits, lo, hi, &r, &mut u);
        lo = hi;
    }
}

/// Probabilities up to this draw the minority by skips; between it and 1 − it, a block
/// is halved until small, then drawn rank by rank (skips would cost more there).
const THIN: f64 = 0.25;
const SMALL: u32 = 32;

fn block(bits: &mut [u64], lo: u32, hi: u32, r: &impl Fn(u32) -> f64, u: &mut impl FnMut() -> f64) {
    let (r_lo, r_hi) = (r(lo), r(hi - 1));
    let (r_min, r_max) = (r_lo.min(r_hi), r_lo.max(r_hi));
    if r_max <= THIN {
        // Members are the minority: candidates at rate r_max, kept with r / r_max.
        skips(lo, hi, r_max, u, |i, v| {
            if v * r_max < r(i) {
                set(bits, i);
            }
        });
    } else if r_min >= 1.0 - THIN {
        // Non-members are the minority: fill the block, then clear them.
        let before: [u64; (BLOCK / 64) as usize + 1] = snapshot(bits, lo, hi);
        fill(bits, lo, hi);
        let m_max = 1.0 - r_min;
        skips(lo, hi, m_max, u, |i, v| {
            if v * m_max < 1.0 - r(i) && !is_set(&before, lo, i) {
                clear(bits, i);
            }
        });
    } else if hi - lo > SMALL {
        let mid = lo + (hi - lo) / 2;
        block(bits, lo, mid, r, u);
        block(bits, mid, hi, r, u);
    } else {
        for i in lo..hi {
            if u() < r(i) {
                set(bits, i);
            }
        }
    }
}

/// Calls `f(i, v)` for candidates `i` in `lo..hi` drawn at rate `b` (geometric gaps),
/// with a fresh uniform `v` for the acceptance test.
fn skips(lo: u32, hi: u32, b: f64, u: &mut impl FnMut() -> f64, mut f: impl FnMut(u32, f64)) {
    if b <= 0.0 {
        return;
    }
    let ln_miss = (-b).ln_1p();
    let mut i = lo as f64 - 1.0;
    loop {
        // ln_miss is −∞ when b = 1: every rank is a candidate.
        let gap = if ln_miss == f64::NEG_INFINITY {
            0.0
        } else {
            // Non-negative: truncation is the floor.
            ((u().ln() / ln_miss) as u64) as f64
        };
        i += 1.0 + gap;
        if i >= hi as f64 {
            return;
        }
        let v = u();
        f(i as u32, v);
    }
}

#[inline]
fn set(bits: &mut [u64], i: u32) {
    bits[(i / 64) as usize] |= 1 << (i % 64);
}

#[inline]
fn clear(bits: &mut [u64], i: u32) {
    bits[(i / 64) as usize] &= !(1 << (i % 64));
}

/// The words of `bits` that hold ranks `lo..hi` (at most `BLOCK` ranks).
fn snapshot<const N: usize>(bits: &[u64], lo: u32, hi: u32) -> [u64; N] {
    let mut out = [0u64; N];
    let (w0, w1) = ((lo / 64) as usize, (hi as usize).div_ceil(64));
    out[..w1 - w0].copy_from_slice(&bits[w0..w1]);
    out
}

fn is_set(words: &[u64], lo: u32, i: u32) -> bool {
    let j = i - (lo / 64) * 64;
    words[(j / 64) as usize] & (1 << (j % 64)) != 0
}

/// Sets ranks `lo..hi`.
fn fill(bits: &mut [u64], lo: u32, hi: u32) {
    let mut i = lo;
    while i < hi {
        let (w, b) = ((i / 64) as usize, i % 64);
        let n = (64 - b).min(hi - i);
        let mask = if n == 64 {
            u64::MAX
        } else {
            ((1u64 << n) - 1) << b
        };
        bits[w] |= mask;
        i += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::Purpose;

    /// Per-rank frequencies over many keys match r(i): each count within 5 binomial
    /// standard deviations (+2, see below; with 20,000 draws per rank and ~1,000 ranks a
    /// chance failure has probability ~1e-3 overall), and the mean set size within 5 sd
    /// of Σ r(i).
    fn check(users: u32, r: impl Fn(u32) -> f64 + Copy) {
        const DRAWS: u64 = 20_000;
        let words = (users as usize).div_ceil(64);
        let mut freq = vec![0u64; users as usize];
        for k in 0..DRAWS {
            let mut bits = vec![0u64; words];
            draw(&mut bits, users, r, Keyed::new(k, Purpose::Fluid, 77));
            for (i, f) in freq.iter_mut().enumerate() {
                *f += (bits[i / 64] >> (i % 64)) & 1;
            }
            // Nothing beyond the last rank.
            if !users.is_multiple_of(64) {
                assert_eq!(bits[words - 1] >> (users % 64), 0);
            }
        }
        let n = DRAWS as f64;
        let (mut total, mut expect, mut var) = (0.0, 0.0, 0.0);
        for (i, &f) in freq.iter().enumerate() {
            let p = r(i as u32);
            // In counts: 5 sd, plus 2 for ranks whose sd is tiny (a Poisson count of
            // mean ≤ 0.05 reaches 3 with probability below 2e-5).
            let sd = (n * p * (1.0 - p)).sqrt();
            assert!(
                (f as f64 - n * p).abs() <= 5.0 * sd + 2.0,
                "rank {i}: {f} of {n} draws, probability {p}"
            );
            let got = f as f64 / n;
            total += got;
            expect += p;
            var += p * (1.0 - p);
        }
        assert!((total - expect).abs() <= 5.0 * (var / n).sqrt() + 1e-9);
    }

    /// A Zipf user's chance to be among k requests: 1 − exp(−k·pᵢ), pᵢ ∝ 1/(i+1).
    fn zipf_hit(k: f64, users: u32) -> impl Fn(u32) -> f64 + Copy {
        let h: f64 = (1..=users).map(|i| 1.0 / i as f64).sum();
        move |i| -(-k / (h * (i + 1) as f64)).exp_m1()
    }

    #[test]
    fn heavy_traffic_most_users_in() {
        // Blocks above one half: the non-members are drawn.
        check(1000, zipf_hit(20_000.0, 1000));
    }

    #[test]
    fn light_traffic_few_users_in() {
        // Blocks below one half: the members are drawn.
        check(1000, zipf_hit(50.0, 1000));
    }

    #[test]
    fn straddling_and_increasing_probabilities() {
        check(777, zipf_hit(1500.0, 777));
        check(700, |i| i as f64 / 700.0);
        check(300, |_| 1.0);
        check(300, |_| 0.0);
    }

    #[test]
    fn draws_only_add_to_the_set() {
        let mut bits = vec![u64::MAX; 4];
        draw(&mut bits, 256, |_| 0.9, Keyed::new(3, Purpose::Fluid, 1));
        assert!(bits.iter().all(|&w| w == u64::MAX));
        let mut bits = vec![0b1010u64, 0, 0, 0];
        draw(&mut bits, 256, |_| 0.0, Keyed::new(3, Purpose::Fluid, 1));
        assert_eq!(bits, vec![0b1010, 0, 0, 0]);
    }
}
