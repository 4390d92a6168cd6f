//! Pure samplers by inversion of one uniform draw (so that common random numbers
//! carry through: each is monotone in `u`): Poisson, binomial, stochastic rounding.
//! Fluid mode (`world::fluid`) draws its per-slice counts with them.

use super::rng::normal_quantile_fast;

/// Binomial(`n`, `p`) by inversion of `u` from P(0) = `none` = (1 − `p`)^`n` (0 < `p` ≤ 0.5).
pub fn binomial_small(n: u64, p: f64, none: f64, u: f64) -> u64 {
    let r = p / (1.0 - p);
    let mut f = none;
    let mut cum = f;
    let mut k = 0u64;
    while u > cum && k < n && f > 0.0 {
        f *= (n - k) as f64 / (k + 1) as f64 * r;
        k += 1;
        cum += f;
    }
    k
}

/// (1 − p)^n for one p at a time, kept per n: the error rate rarely changes and the
/// counts per slice repeat, so most look-ups cost no `exp`.
#[derive(Debug, Default)]
pub struct PowCache {
    p: u64,
    ln_q: f64,
    /// Index n: (1 − p)^n, or NaN where not computed yet.
    by_n: Vec<f64>,
}

impl PowCache {
    const SIZE: usize = 1024;

    pub fn get(&mut self, n: u64, p: f64) -> f64 {
        if self.by_n.is_empty() || self.p != p.to_bits() {
            self.p = p.to_bits();
            self.ln_q = (1.0 - p).ln();
            self.by_n.clear();
            self.by_n.resize(Self::SIZE, f64::NAN);
        }
        let Some(slot) = self.by_n.get_mut(n as usize) else {
            return (n as f64 * self.ln_q).exp();
        };
        if slot.is_nan() {
            *slot = (n as f64 * self.ln_q).exp();
        }
        *slot
    }
}

/// Rounds `x` up with probability equal to its fractional part.
#[inline]
pub fn stochastic_round(x: f64, u: f64) -> u64 {
    // `x` ≥ 0: truncation is the floor (and avoids a libm call).
    let f = x as u64;
    f + (u < x - f as f64) as u64
}

/// ⌊x⌋ clamped to `0..=max` (truncation is the floor for x ≥ 0; no libm call).
#[inline]
fn floor_clamped(x: f64, max: u64) -> u64 {
    if x <= 0.0 { 0 } else { (x as u64).min(max) }
}

/// Poisson(`mean`) by inversion of `u`: exact below a mean of 40, normal beyond.
#[inline]
pub fn poisson(mean: f64, u: f64) -> u64 {
    if mean <= 0.0 {
        return 0;
    }
    if mean < 40.0 {
        let mut p = (-mean).exp();
        let mut cum = p;
        let mut k = 0u64;
        while u > cum && p > 0.0 {
            k += 1;
            p *= mean / k as f64;
            cum += p;
        }
        return k;
    }
    floor_clamped(mean + mean.sqrt() * normal_quantile_fast(u) + 0.5, u64::MAX)
}

/// Binomial(`n`, `p`) by inversion of `u`: exact below a mean of 20 (on the smaller
/// side), normal beyond. Monotone in `u`, so common random numbers carry through.
#[inline]
pub fn binomial(n: u64, p: f64, u: f64) -> u64 {
    if n == 0 || p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    if p > 0.5 {
        return n - binomial(n, 1.0 - p, 1.0 - u);
    }
    let mean = n as f64 * p;
    // P(0) = (1 − p)^n ≥ 1 − np (Bernoulli's inequality): a `u` below that is 0
    // without a logarithm (tail shares such as P(response > timeout) are tiny).
    if u <= 1.0 - mean {
        return 0;
    }
    if mean < 20.0 {
        return binomial_small(n, p, (n as f64 * (1.0 - p).ln()).exp(), u);
    }
    let sd = (mean * (1.0 - p)).sqrt();
    floor_clamped(mean + sd * normal_quantile_fast(u) + 0.5, n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{Keyed, Purpose};

    #[test]
    fn samplers_have_the_right_mean() {
        let k = Keyed::new(1, Purpose::Fluid, 99);
        let n = 20_000u64;
        for (mean, p, trials) in [(3.0, 0.01, 300u64), (150.0, 0.3, 500)] {
            let pm = (0..n)
                .map(|i| poisson(mean, k.uniform(i)) as f64)
                .sum::<f64>()
                / n as f64;
            // sd of the mean: sqrt(mean / n); 5 sd.
            assert!((pm - mean).abs() < 5.0 * (mean / n as f64).sqrt(), "{pm}");
            let bm = (0..n)
                .map(|i| binomial(trials, p, k.uniform(n + i)) as f64)
                .sum::<f64>()
                / n as f64;
            let sd = (trials as f64 * p * (1.0 - p) / n as f64).sqrt();
            assert!((bm - trials as f64 * p).abs() < 5.0 * sd, "{bm}");
        }
    }
}
