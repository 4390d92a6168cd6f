//! Special functions and distribution functions the intervals need: log-gamma, the
//! regularized incomplete beta function, Student's t (density, tail, quantile), the
//! normal upper tail and binomial cumulative probabilities.
//!
//! Pure numerics: no allocation beyond the binomial table, no I/O. The normal quantile
//! lives in `crate::sim::rng` and is reused, not duplicated.

use crate::sim::rng::normal_quantile;

/// Lanczos coefficients for g = 7, n = 9 (Lanczos 1964; the widely tabulated set
/// computed by Godfrey), good to about 1e-15 relative for x > 0.
const LANCZOS_G: f64 = 7.0;
const LANCZOS: [f64; 9] = [
    0.999_999_999_999_809_9,
    676.520_368_121_885_1,
    -1_259.139_216_722_402_8,
    771.323_428_777_653_1,
    -176.615_029_162_140_6,
    12.507_343_278_686_905,
    -0.138_571_095_265_720_12,
    9.984_369_578_019_572e-6,
    1.505_632_735_149_311_6e-7,
];

/// P(Z > z) for a standard normal Z, from the complementary error function by the
/// Chebyshev fit of Press et al., *Numerical Recipes* §6.2 (`erfcc`; fractional error
/// below 1.2e-7 everywhere): erfc(t) = τ·exp(−t² + P(τ)), τ = 1 / (1 + t/2).
pub fn normal_upper_tail(z: f64) -> f64 {
    const P: [f64; 10] = [
        -1.265_512_23,
        1.000_023_68,
        0.374_091_96,
        0.096_784_18,
        -0.186_288_06,
        0.278_868_07,
        -1.135_203_98,
        1.488_515_87,
        -0.822_152_23,
        0.170_872_77,
    ];
    let t = z.abs() / std::f64::consts::SQRT_2;
    let tau = 1.0 / (1.0 + 0.5 * t);
    let poly = P.iter().rev().fold(0.0, |acc, c| acc * tau + c);
    let erfc = tau * (-t * t + poly).exp();
    if z >= 0.0 {
        erfc / 2.0
    } else {
        1.0 - erfc / 2.0
    }
}

/// `ln Γ(x)` for `x > 0` by the Lanczos approximation:
/// `Γ(x) = √(2π) · (x + g − ½)^(x − ½) · e^−(x + g − ½) · A_g(x)` with
/// `A_g(x) = c₀ + Σ_{k≥1} c_k / (x − 1 + k)`; below ½ through the reflection formula
/// `Γ(x) Γ(1 − x) = π / sin(πx)`. Source: Press et al., *Numerical Recipes*, §6.1.
pub fn ln_gamma(x: f64) -> f64 {
    if x < 0.5 {
        let s = (std::f64::consts::PI * x).sin();
        return std::f64::consts::PI.ln() - s.abs().ln() - ln_gamma(1.0 - x);
    }
    let z = x - 1.0;
    let mut sum = LANCZOS[0];
    for (k, c) in LANCZOS.iter().enumerate().skip(1) {
        sum += c / (z + k as f64);
    }
    let t = z + LANCZOS_G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (z + 0.5) * t.ln() - t + sum.ln()
}

/// `ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b)`.
fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// The regularized incomplete beta function `I_x(a, b)`, with `y = 1 − x` passed in
/// by the caller so that neither tail loses digits to cancellation.
///
/// `I_x(a, b) = x^a y^b / (a B(a, b)) · 1 / (1 + d₁ / (1 + d₂ / (1 + …)))` with
/// `d_{2m+1} = −(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1))` and
/// `d_{2m} = m (b − m) x / ((a + 2m − 1)(a + 2m))`, evaluated by the modified Lentz
/// method; the fraction converges fast for `x < (a + 1) / (a + b + 2)`, otherwise the
/// symmetry `I_x(a, b) = 1 − I_y(b, a)` is used. Source: Press et al., *Numerical
/// Recipes*, §6.4 (continued fraction) and §5.2 (Lentz).
pub fn beta_reg(a: f64, b: f64, x: f64, y: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if y <= 0.0 {
        return 1.0;
    }
    if x < (a + 1.0) / (a + b + 2.0) {
        beta_front(a, b, x, y) * beta_fraction(a, b, x)
    } else {
        1.0 - beta_front(b, a, y, x) * beta_fraction(b, a, y)
    }
}

/// `x^a y^b / (a B(a, b))`, in log space so that large `a` or `b` cannot underflow
/// an intermediate.
fn beta_front(a: f64, b: f64, x: f64, y: f64) -> f64 {
    (a * x.ln() + b * y.ln() - ln_beta(a, b)).exp() / a
}

/// `1 / (1 + d₁ / (1 + d₂ / …))` by the modified Lentz method.
fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const MAX_TERMS: u32 = 100_000;
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let mut f = 1.0;
    let mut c = 1.0;
    let mut d = 0.0;
    for j in 1..=MAX_TERMS {
        let m = f64::from(j / 2);
        let coef = if j % 2 == 1 {
            -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0))
        } else {
            m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m))
        };
        d = 1.0 / guard(1.0 + coef * d);
        c = guard(1.0 + coef / c);
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < f64::EPSILON {
            break;
        }
    }
    1.0 / f
}

/// Student's t density with `df` degrees of freedom:
/// `f(t) = Γ((ν + 1)/2) / (√(νπ) Γ(ν/2)) · (1 + t²/ν)^−(ν + 1)/2`.
pub fn t_density(t: f64, df: f64) -> f64 {
    let ln_norm =
        ln_gamma(0.5 * (df + 1.0)) - ln_gamma(0.5 * df) - 0.5 * (df * std::f64::consts::PI).ln();
    (ln_norm - 0.5 * (df + 1.0) * (t * t / df).ln_1p()).exp()
}

/// Upper tail `P(T > t)` of Student's t for `t ≥ 0`:
/// `P(T > t) = ½ · I_{ν/(ν + t²)}(ν/2, ½)` (Abramowitz & Stegun 26.7.1 with 26.5.27).
pub fn t_upper_tail(t: f64, df: f64) -> f64 {
    let t2 = t * t;
    let x = df / (df + t2);
    let y = t2 / (df + t2);
    0.5 * beta_reg(0.5 * df, 0.5, x, y)
}

/// The quantile of Student's t distribution: the `t` with `P(T ≤ t) = p` for `df`
/// degrees of freedom (any real `df > 0`).
///
/// Solves `P(T > t) = min(p, 1 − p)` for `t ≥ 0` by Newton's method on the tail
/// [`t_upper_tail`] (incomplete beta, Numerical Recipes §6.4) with the density as
/// derivative, then applies the sign. The start is the normal quantile, which lies
/// below the root because t has heavier tails; the tail is convex and decreasing on
/// `t ≥ 0`, so Newton steps from below never overshoot and increase monotonically.
///
/// Returns `-∞` for `p ≤ 0`, `+∞` for `p ≥ 1` (as `normal_quantile` does), the normal
/// quantile for `df = ∞`, and NaN for NaN `p` or for `df` that is not positive.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    if p.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    if df.is_infinite() {
        return normal_quantile(p);
    }
    if p == 0.5 {
        return 0.0;
    }
    // `1 − p` is exact for p in [½, 1) (Sterbenz), so each tail keeps its digits.
    let (tail, sign) = if p > 0.5 { (1.0 - p, 1.0) } else { (p, -1.0) };
    let mut t = -normal_quantile(tail);
    for _ in 0..200 {
        let step = (t_upper_tail(t, df) - tail) / t_density(t, df);
        if !step.is_finite() {
            break;
        }
        t += step;
        if step.abs() <= 4.0 * f64::EPSILON * t.abs() {
            break;
        }
    }
    sign * t
}

/// The binomial(n, q) cumulative probabilities `P(K ≤ k)` for `k = 0..=n`.
///
/// Each probability mass `C(n, k) q^k (1 − q)^(n−k)` is formed in log space,
/// `ln C(n, k) = ln Γ(n + 1) − ln Γ(k + 1) − ln Γ(n − k + 1)`, so large `n` neither
/// overflows the coefficient nor underflows the powers; masses below the smallest
/// double contribute nothing, as they should. Between exact anchors every
/// `ANCHOR_EVERY` ranks the log mass follows the ratio
/// `P(k) / P(k − 1) = (n − k + 1) / k · q / (1 − q)`, which keeps 10,000-seed columns
/// cheap while the drift stays far below a part in 1e10. The sum is exact up to
/// rounding (no normal approximation). Requires `0 < q < 1`.
pub fn binomial_cdf(n: u64, q: f64) -> Vec<f64> {
    const ANCHOR_EVERY: u64 = 64;
    let nf = n as f64;
    let ln_q = q.ln();
    let ln_1mq = (-q).ln_1p();
    let ln_odds = ln_q - ln_1mq;
    let ln_n_fact = ln_gamma(nf + 1.0);
    let mut ln_mass = 0.0;
    let mut acc = 0.0;
    (0..=n)
        .map(|k| {
            let kf = k as f64;
            ln_mass = if k % ANCHOR_EVERY == 0 {
                ln_n_fact - ln_gamma(kf + 1.0) - ln_gamma(nf - kf + 1.0)
                    + kf * ln_q
                    + (nf - kf) * ln_1mq
            } else {
                ln_mass + ((nf - kf + 1.0) / kf).ln() + ln_odds
            };
            acc += ln_mass.exp();
            acc.min(1.0)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tabulated standard normal tails (Abramowitz & Stegun, Table 26.1).
    #[test]
    fn normal_upper_tail_matches_tables() {
        for (z, want) in [
            (0.0, 0.5),
            (1.0, 0.158_655_253_9),
            (1.959_963_985, 0.025),
            (3.0, 0.001_349_898_0),
            (-1.0, 0.841_344_746_1),
        ] {
            check_rel(normal_upper_tail(z), want, 2e-7, "normal tail");
        }
    }

    fn check_rel(got: f64, want: f64, tol: f64, what: &str) {
        let rel = ((got - want) / want).abs();
        assert!(
            rel <= tol,
            "{what}: got {got}, want {want}, rel err {rel:e}"
        );
    }

    #[test]
    fn t_quantile_matches_scipy() {
        // Reference: scipy 1.17.1, `scipy.stats.t.ppf(p, df)`.
        let table = [
            (0.9, 1.0, 3.077_683_537_175_254_4),
            (0.975, 1.0, 12.706_204_736_174_694),
            (0.995, 1.0, 63.656_741_162_871_526),
            (0.9, 2.0, 1.885_618_083_164_127_2),
            (0.975, 2.0, 4.302_652_729_749_462),
            (0.995, 2.0, 9.924_843_200_918_287),
            (0.9, 5.0, 1.475_884_048_824_481_5),
            (0.975, 5.0, 2.570_581_835_636_314_6),
            (0.995, 5.0, 4.032_142_983_555_228),
            (0.9, 10.0, 1.372_183_641_110_336),
            (0.975, 10.0, 2.228_138_851_986_274),
            (0.995, 10.0, 3.169_272_672_616_95),
            (0.9, 30.0, 1.310_415_025_391_395_5),
            (0.975, 30.0, 2.042_272_456_301_237_8),
            (0.995, 30.0, 2.749_995_653_567_225_4),
            (0.9, 1000.0, 1.282_398_721_460_924_7),
            (0.975, 1000.0, 1.962_339_080_826_408_3),
            (0.995, 1000.0, 2.580_754_698_065_951),
            (0.975, 1.5, 6.016_663_104_427_929),
            (0.995, 1.5, 17.820_310_514_462_804),
            (0.025, 10.0, -2.228_138_851_986_275_3),
            (0.025, 1000.0, -1.962_339_080_826_408_5),
            // scipy.stats.t.ppf(0.975, 7), used by the hand-worked interval tests.
            (0.975, 7.0, 2.364_624_251_010_299_3),
        ];
        for (p, df, want) in table {
            check_rel(
                t_quantile(p, df),
                want,
                1e-8,
                &format!("t_quantile({p}, {df})"),
            );
        }
    }

    #[test]
    fn t_quantile_matches_closed_forms() {
        // df = 1 is Cauchy: t = tan(π(p − ½)). df = 2: t = (2p − 1) / √(2p(1 − p)).
        for p in [0.6, 0.9, 0.975, 0.995, 0.9999, 0.3, 0.01] {
            let cauchy = (std::f64::consts::PI * (p - 0.5)).tan();
            check_rel(t_quantile(p, 1.0), cauchy, 1e-10, &format!("df 1, p {p}"));
            let two = (2.0 * p - 1.0) / (2.0 * p * (1.0 - p)).sqrt();
            check_rel(t_quantile(p, 2.0), two, 1e-10, &format!("df 2, p {p}"));
        }
    }

    #[test]
    fn t_quantile_edges() {
        assert_eq!(t_quantile(0.5, 3.0), 0.0);
        assert_eq!(t_quantile(0.0, 3.0), f64::NEG_INFINITY);
        assert_eq!(t_quantile(1.0, 3.0), f64::INFINITY);
        assert!(t_quantile(0.9, 0.0).is_nan());
        assert!(t_quantile(f64::NAN, 3.0).is_nan());
        assert_eq!(t_quantile(0.975, f64::INFINITY), normal_quantile(0.975));
        // Large df approaches the normal from above.
        let z = normal_quantile(0.975);
        let t = t_quantile(0.975, 1e6);
        assert!(t > z && t - z < 1e-5, "{t} vs {z}");
    }

    #[test]
    fn special_functions_match_scipy() {
        // scipy.special.gammaln(x)
        check_rel(ln_gamma(0.1), 2.252_712_651_734_206, 1e-14, "lnΓ(0.1)");
        check_rel(ln_gamma(0.5), 0.572_364_942_924_7, 1e-14, "lnΓ(0.5)");
        check_rel(ln_gamma(10.5), 13.940_625_219_403_763, 1e-14, "lnΓ(10.5)");
        check_rel(ln_gamma(1001.0), 5_912.128_178_488_164, 1e-14, "lnΓ(1001)");
        // scipy.stats.beta.cdf(x, a, b)
        check_rel(
            beta_reg(2.5, 7.0, 0.3, 0.7),
            0.641_222_462_971_721_7,
            1e-12,
            "I(2.5,7)",
        );
        check_rel(
            beta_reg(500.0, 0.5, 0.9, 0.1),
            1.045_367_793_835_481e-24,
            1e-10,
            "I(500,½)",
        );
        check_rel(
            beta_reg(0.5, 3.0, 0.2, 0.8),
            0.733_430_296_619_931,
            1e-12,
            "I(½,3)",
        );
    }

    #[test]
    fn binomial_cdf_matches_scipy() {
        // scipy.stats.binom.cdf(k, n, q)
        let cdf = binomial_cdf(100, 0.5);
        check_rel(cdf[39], 0.017_600_100_108_852_428, 1e-10, "B(39; 100, ½)");
        check_rel(cdf[60], 0.982_399_899_891_147_6, 1e-10, "B(60; 100, ½)");
        assert!((cdf[100] - 1.0).abs() < 1e-12);
        let big = binomial_cdf(10_000, 0.99);
        check_rel(
            big[9950],
            0.999_999_989_687_516_1,
            1e-10,
            "B(9950; 10⁴, 0.99)",
        );
        assert!(big.windows(2).all(|w| w[0] <= w[1]), "CDF not monotone");
    }
}
