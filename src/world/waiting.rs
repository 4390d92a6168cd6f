//! The stationary waiting time of a pod's queue, from which fluid mode draws its
//! latencies and slow shares (`fluid.rs`): Erlang C's probability of waiting and the
//! exponential wait of those who wait (exact for M/M/c), with the mean wait scaled by
//! Allen–Cunneen's (ca² + cs²)/2 when arrivals or service times vary more or less than
//! exponentially; and the response-time tail P(wait + service > x).
//!
//! Pure numerics on a version's service-time distribution: no state, no allocation.

use crate::scenario::Dist;
use crate::stats::dist::normal_upper_tail;

/// A version's service time: `factor` × a draw of `dist` + `extra` seconds (the
/// release's capacity or latency fault on the new version; 1 and 0 otherwise).
#[derive(Clone, Debug)]
pub struct ServiceShape {
    dist: Dist,
    factor: f64,
    extra: f64,
    /// The base draw at the midpoints of `GRID` equal-probability bins (for the
    /// lognormal's wait tail, which has no closed form), computed once.
    grid: [f64; GRID],
}

/// Midpoints used where a distribution has no closed form (the lognormal's wait tail).
const GRID: usize = 64;

impl ServiceShape {
    pub fn new(dist: &Dist, factor: f64, extra: f64) -> Self {
        let grid = match dist {
            Dist::LogNormal { .. } => {
                std::array::from_fn(|j| dist.quantile_secs((j as f64 + 0.5) / GRID as f64))
            }
            _ => [0.0; GRID],
        };
        ServiceShape {
            dist: dist.clone(),
            factor,
            extra,
            grid,
        }
    }

    /// Mean (s).
    pub fn mean(&self) -> f64 {
        self.dist.mean_secs() * self.factor + self.extra
    }

    /// Quantile `p` (s).
    pub fn quantile(&self, p: f64) -> f64 {
        self.dist.quantile_secs(p) * self.factor + self.extra
    }

    /// Squared coefficient of variation, Var(S) / E(S)².
    pub fn scv(&self) -> f64 {
        let var = match self.dist {
            Dist::Constant(_) => 0.0,
            Dist::Exponential { mean } => mean.secs_f64().powi(2),
            Dist::LogNormal { median, sigma } => {
                let s2 = sigma * sigma;
                median.secs_f64().powi(2) * s2.exp() * s2.exp_m1()
            }
            Dist::Uniform { min, max } => (max.secs_f64() - min.secs_f64()).powi(2) / 12.0,
        };
        let mean = self.mean();
        if mean > 0.0 {
            var * self.factor * self.factor / (mean * mean)
        } else {
            0.0
        }
    }

    /// P(S > x).
    pub fn survival(&self, x: f64) -> f64 {
        // S > x ⟺ the base draw B > y.
        let y = (x - self.extra) / self.factor;
        match self.dist {
            Dist::Constant(v) => (v.secs_f64() > y) as u8 as f64,
            Dist::Exponential { mean } if y > 0.0 => (-y / mean.secs_f64()).exp(),
            Dist::LogNormal { median, sigma } if y > 0.0 && sigma > 0.0 => {
                normal_upper_tail((y / median.secs_f64()).ln() / sigma)
            }
            Dist::LogNormal { median, .. } => (median.secs_f64() > y) as u8 as f64,
            Dist::Uniform { min, max } if max > min => {
                ((max.secs_f64() - y) / (max.secs_f64() - min.secs_f64())).clamp(0.0, 1.0)
            }
            Dist::Uniform { min, .. } => (min.secs_f64() > y) as u8 as f64,
            // y ≤ 0: every draw exceeds it.
            _ => 1.0,
        }
    }

    /// E[exp(−θ(x − S)); S ≤ x]: the probability that a response exceeds `x` only
    /// because of an exponential wait E of rate `theta` before the service, since
    /// P(E + S > x) = P(S > x) + this (conditioning on S: P(E > x − s) = e^−θ(x−s)).
    pub fn wait_tail(&self, x: f64, theta: f64) -> f64 {
        // In units of the base draw B: S = extra + factor·B, so θ(x − S) = θ'(y − B).
        let y = (x - self.extra) / self.factor;
        let th = theta * self.factor;
        if y <= 0.0 || !th.is_finite() {
            return 0.0;
        }
        let point = |b: f64| if b <= y { (-th * (y - b)).exp() } else { 0.0 };
        match self.dist {
            Dist::Constant(v) => point(v.secs_f64()),
            Dist::Exponential { mean } => {
                // ∫₀^y ν e^−νb e^−θ(y−b) db = ν (e^−νy − e^−θy) / (θ − ν).
                let nu = 1.0 / mean.secs_f64();
                if (th - nu).abs() <= 1e-9 * nu {
                    nu * y * (-nu * y).exp()
                } else {
                    nu * ((-nu * y).exp() - (-th * y).exp()) / (th - nu)
                }
            }
            Dist::Uniform { min, max } if max > min => {
                let (a, b) = (min.secs_f64(), max.secs_f64());
                if y <= a {
                    return 0.0;
                }
                let hi = y.min(b);
                ((-th * (y - hi)).exp() - (-th * (y - a)).exp()) / (th * (b - a))
            }
            Dist::Uniform { min, .. } => point(min.secs_f64()),
            Dist::LogNormal { .. } => {
                // Whole bins below y at their midpoints; the bin that y cuts, only its
                // part below y (the exact P(B ≤ y)), at that part's middle.
                let below = 1.0 - self.survival(x);
                let full = ((below * GRID as f64) as usize).min(GRID);
                let whole: f64 = self.grid[..full].iter().map(|&b| point(b)).sum();
                let lo = full as f64 / GRID as f64;
                let part = if below > lo {
                    (below - lo) * point(self.dist.quantile_secs((lo + below) / 2.0))
                } else {
                    0.0
                };
                whole / GRID as f64 + part
            }
        }
    }
}

/// The stationary wait of an arrival: none with probability 1 − `p_wait`, else
/// exponential with rate `theta`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Waiting {
    pub p_wait: f64,
    pub theta: f64,
}

impl Waiting {
    /// Nobody waits.
    pub const NONE: Waiting = Waiting {
        p_wait: 0.0,
        theta: f64::INFINITY,
    };

    /// `servers` workers fed at `lam` per second, inter-arrival times with squared
    /// coefficient of variation `ca2` (1 for Poisson), service times `svc`. M/M/c:
    /// P(wait) = Erlang C(c, a) with a = λ·E(S), and the wait of those who wait is
    /// exponential with rate cμ − λ; for other variability the mean wait is scaled by
    /// (ca² + cs²)/2 (Allen–Cunneen), P(wait) kept. `NONE` when idle or not stable
    /// (ρ ≥ 1: the backlog then grows, which fluid mode carries as a queue).
    pub fn stationary(servers: u32, lam: f64, svc: &ServiceShape, ca2: f64) -> Waiting {
        let mean = svc.mean();
        let a = lam * mean;
        let c = servers as f64;
        if lam <= 0.0 || mean <= 0.0 || a >= c {
            return Waiting::NONE;
        }
        let scale = (ca2 + svc.scv()) / 2.0;
        if scale <= 0.0 {
            return Waiting::NONE;
        }
        Waiting {
            p_wait: erlang_c(servers, a),
            theta: (c / mean - lam) / scale,
        }
    }

    /// P(wait + service > x).
    pub fn response_above(&self, svc: &ServiceShape, x: f64) -> f64 {
        let s = svc.survival(x);
        if self.p_wait <= 0.0 {
            return s;
        }
        (s + self.p_wait * svc.wait_tail(x, self.theta)).min(1.0)
    }
}

/// Erlang C: the probability that an arrival waits at `c` servers offered `a` erlangs
/// (a < c), through Erlang B's stable recursion B₀ = 1, B_k = a·B_{k−1} / (k + a·B_{k−1})
/// and C = B_c / (1 − ρ(1 − B_c)), ρ = a/c (no factorials, no overflow).
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    let rho = a / c as f64;
    b / (1.0 - rho * (1.0 - b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimTime;

    fn exp(mean_ms: u64, factor: f64, extra: f64) -> ServiceShape {
        let mean = SimTime::from_millis(mean_ms);
        ServiceShape::new(&Dist::Exponential { mean }, factor, extra)
    }

    /// Erlang C by its textbook formula with factorials, for small c.
    fn erlang_c_textbook(c: u32, a: f64) -> f64 {
        let fact = |n: u32| (1..=n).map(|k| k as f64).product::<f64>();
        let sum: f64 = (0..c).map(|k| a.powi(k as i32) / fact(k)).sum();
        let top = a.powi(c as i32) / fact(c) / (1.0 - a / c as f64);
        top / (sum + top)
    }

    #[test]
    fn erlang_c_matches_the_textbook_formula() {
        assert!((erlang_c(1, 0.7) - 0.7).abs() < 1e-12, "M/M/1: P(wait) = ρ");
        for (c, a) in [(2, 1.0), (4, 2.8), (4, 3.6), (8, 2.4)] {
            assert!((erlang_c(c, a) - erlang_c_textbook(c, a)).abs() < 1e-12);
        }
    }

    /// M/M/1 (c = 1, ρ = λ/μ): the response time is exponential with rate μ − λ, so
    /// P(R > x) = e^−(μ−λ)x.
    #[test]
    fn mm1_response_tail_is_exponential() {
        let svc = exp(100, 1.0, 0.0);
        let w = Waiting::stationary(1, 7.0, &svc, 1.0);
        for x in [0.05f64, 0.3, 1.0] {
            let want = (-(10.0 - 7.0) * x).exp();
            assert!((w.response_above(&svc, x) - want).abs() < 1e-12, "x = {x}");
        }
    }

    /// The closed forms of the wait tail against a fine midpoint sum of
    /// E[e^−θ(x−S); S ≤ x] for a shifted, scaled exponential, a uniform and a constant
    /// (within 1e-4), and the lognormal's 64-bin midpoint sum (within 1e-3).
    #[test]
    fn wait_tail_closed_forms_match_a_numeric_sum() {
        let ms = SimTime::from_millis;
        let shapes = [
            exp(40, 2.0, 0.05),
            ServiceShape::new(
                &Dist::Uniform {
                    min: ms(20),
                    max: ms(60),
                },
                1.0,
                0.0,
            ),
            ServiceShape::new(&Dist::Constant(ms(40)), 1.0, 0.3),
            ServiceShape::new(
                &Dist::LogNormal {
                    median: ms(30),
                    sigma: 0.5,
                },
                1.5,
                0.0,
            ),
        ];
        for svc in shapes {
            for (x, theta) in [(0.1, 20.0), (0.4, 5.0), (0.2, 80.0)] {
                let n = 200_000;
                let numeric = (0..n)
                    .map(|j| {
                        let s = svc.quantile((j as f64 + 0.5) / n as f64);
                        if s <= x {
                            (-theta * (x - s)).exp()
                        } else {
                            0.0
                        }
                    })
                    .sum::<f64>()
                    / n as f64;
                let got = svc.wait_tail(x, theta);
                let tol = if matches!(svc.dist, Dist::LogNormal { .. }) {
                    1e-3
                } else {
                    1e-4
                };
                assert!(
                    (got - numeric).abs() < tol,
                    "{svc:?} x {x}: {got} vs {numeric}"
                );
            }
        }
    }
}
