//! Fluid fidelity (`fidelity = "fluid"`): client traffic as counts per time slice
//! instead of one event per request. Pods, probes, controllers, node failures and
//! monitoring stay event-driven and identical to the request-level mode; only the
//! requests change. The cost of a run does not grow with the request rate: each slice
//! costs O(endpoints) arithmetic plus a fixed number of draws per version.
//!
//! # Model
//! - Slices: traffic is accounted over intervals that end at every second boundary
//!   (the `Tick` event) and at every event that can change where traffic goes or
//!   whether a pod accepts it (endpoint changes, stop-accepting, crashes, node
//!   failures, controller syncs and timers, monitoring). Within an interval the
//!   routing state is constant, so a pod that stops accepting mid-second refuses
//!   exactly the arrivals after that moment.
//! - Arrivals (common random numbers): the total of second `s` is Poisson(∫rate) from
//!   the key (`Purpose::Fluid`, 0, s), whatever the strategy. An interval `[a, b)`
//!   takes Binomial(left, (b−a)/(end of second − a)) of the arrivals still left in the
//!   second (the exact conditional split of a Poisson process), and a binomial splits
//!   them between versions by the balancer's share of the new version (pooled: its
//!   share of endpoints; weighted: the weight). Within a version every endpoint gets
//!   an equal share: round robin, random and least outstanding are all treated as an
//!   even split.
//! - Queues: each pod's waiting requests are a real number (`Pod::fluid_queue`)
//!   carried from interval to interval. With per-pod inflow λ and service rate
//!   μ = workers / mean service time (× the capacity factor, + the latency extra) the
//!   queue follows x(t) = clamp(x₀ + (λ − μ)t, 0, queue_limit): overload builds up and
//!   drains; what would exceed `queue_limit` is rejected. An arrival meeting queue x
//!   waits x/μ: the share of arrivals whose wait plus the mean service time exceeds
//!   `timeout` time out (they still hold a worker, as in the request-level mode), the
//!   share exceeding `slo.latency` is impacted. Probes see the queue as in the
//!   request-level mode (wait = queue × mean service / workers).
//! - Outcomes per version and interval: expected shares from the pods are turned into
//!   counts by a binomial chain (refused by a pod that does not accept, rejected,
//!   timed out, then errors ~ Binomial(rest, error rate), then slow successes). Fault
//!   semantics follow `core.rs`: `errors`, `latency`, `capacity`, `mixed_version`
//!   (while both versions receive traffic), crashes (a pod that does not accept
//!   refuses; a crash, node loss or eviction fails the work it held: its queue plus
//!   its expected requests in service), and `cohort`: the error rate applies to the
//!   share of requests that comes from the cohort, i.e. the Zipf mass of the users
//!   drawn into the cohort (computed once per run from the same cohort draw as the
//!   request-level mode), not the share of user ids.
//! - Latency: successful requests are recorded as the interval's mean wait plus the
//!   service-time distribution at ten fixed probability points (finer in the upper
//!   tail), each with its share of the count.
//! - Users: per version and interval, up to `USER_DRAWS` users are drawn from the Zipf
//!   table for the impacted requests (from the cohort for a cohort fault); beyond
//!   that, ranks expected to appear at least three times are marked wholesale, so
//!   `users_affected` is approximate above `USER_DRAWS` impacted requests per second.
//!   Users seen (the denominator of `user_blast_radius`) are marked once at the
//!   horizon: with N requests since t0, user i is seen with probability
//!   1 − exp(−N·pᵢ) (independently; Poissonised), which costs O(users) per run
//!   instead of a draw per request.
//!
//! # Where fluid mode is not valid
//! - Latency tails at high utilisation: waits are the fluid mean path, without the
//!   queueing variance of an M/M/c queue, so p99 (and the `slo.latency` impacted share,
//!   timeouts near the threshold, the latency rule of monitoring) is understated when
//!   pods run above roughly 70% utilisation and below saturation.
//! - Per-user stickiness (`sticky = true` canaries): traffic is split by weight, the
//!   users of the new version are not a fixed set.
//! - Retries are ignored (`traffic.retries` has no effect): a failed request is final.
//! - `least_outstanding` balancing: its load-aware choice is what keeps queues short
//!   under uneven load; fluid mode splits evenly.
//! - Terminating pods stop at once when they stop accepting (their fluid queue is
//!   served as if drained), and `waited_requests` is not counted.
//!
//! Owns no state of `Core` beyond `Pod::fluid_queue`; never touches the request-level
//! path.

use super::Ev;
use super::core::Core;
use super::pod::Phase;
use super::traffic::UserTable;
use crate::scenario::Fault;
use crate::sim::SimTime;
use crate::sim::rng::{Keyed, Purpose, normal_quantile};

/// (probability, weight) points of the service-time distribution used for latencies:
/// the midpoints of the bins 0–.2–.4–.6–.8–.9–.95–.98–.99–.995–1.
const LAT_POINTS: [(f64, f64); 10] = [
    (0.1, 0.2),
    (0.3, 0.2),
    (0.5, 0.2),
    (0.7, 0.2),
    (0.85, 0.1),
    (0.925, 0.05),
    (0.965, 0.03),
    (0.985, 0.01),
    (0.9925, 0.005),
    (0.9975, 0.005),
];

/// Impacted users drawn per version and interval.
const USER_DRAWS: u64 = 256;

/// Whether traffic must be accounted up to an event's time before it is handled: every
/// event that can change routing, acceptance or what monitoring reads.
pub fn flush_before(ev: &Ev) -> bool {
    !matches!(
        ev,
        Ev::Probe { .. }
            | Ev::Pulled { .. }
            | Ev::PullFailed { .. }
            | Ev::PullRetry { .. }
            | Ev::Restart { .. }
    )
}

#[derive(Clone, Copy, Debug, Default)]
struct PodFluid {
    /// Expected requests in service at the end of the last interval.
    inflight: f64,
    /// The interval that last updated this pod.
    stamp: u32,
}

/// Expected counts of one version over one interval, summed over its endpoints.
#[derive(Clone, Copy, Debug, Default)]
struct Agg {
    refused: f64,
    rejected: f64,
    timed_out: f64,
    slow: f64,
    /// Arrivals at accepting pods, and the sum of their waits (s).
    accepted: f64,
    wait_sum: f64,
}

/// The fluid traffic of one run. Created by `world::run` when the scenario asks for it.
pub struct Fluid<'u> {
    users: &'u UserTable,
    totals: Keyed,
    splits: Keyed,
    outcomes: Keyed,
    user_keys: Keyed,
    cohort_keys: Keyed,
    /// Traffic is accounted up to here.
    mark: SimTime,
    second: usize,
    left: u64,
    /// (start s, rate) segments.
    rates: Vec<(f64, f64)>,
    pods: Vec<PodFluid>,
    loaded: Vec<u32>,
    next_loaded: Vec<u32>,
    stamp: u32,
    svc_mean_s: [f64; 2],
    svc_points_s: [[f64; LAT_POINTS.len()]; 2],
    /// Share of requests that come from cohort users (cohort fault only).
    cohort_mass: f64,
    zipf_norm: Option<f64>,
    lat: Vec<(SimTime, u64)>,
    /// Requests since t0 (their users are marked seen at the horizon).
    seen_requests: u64,
}

impl<'u> Fluid<'u> {
    pub fn new(core: &Core<'_>, users: &'u UserTable) -> Self {
        let sc = core.sc;
        let mut rates = vec![(0.0, sc.traffic.rate)];
        for s in &sc.traffic.steps {
            if s.at.is_zero() {
                rates[0].1 = s.rate;
            } else {
                rates.push((s.at.secs_f64(), s.rate));
            }
        }
        let svc = &sc.service.service_time;
        let base_mean = svc.mean_secs();
        let base_points = LAT_POINTS.map(|(p, _)| svc.sample(p).secs_f64());
        let (factor, extra) = match &core.fault {
            Some(Fault::Capacity { factor }) => (*factor, 0.0),
            Some(Fault::Latency { extra }) => (1.0, extra.secs_f64()),
            _ => (1.0, 0.0),
        };
        let mut f = Fluid {
            users,
            totals: Keyed::new(core.seed, Purpose::Fluid, 0),
            splits: Keyed::new(core.seed, Purpose::Fluid, 1),
            outcomes: Keyed::new(core.seed, Purpose::Fluid, 2),
            user_keys: Keyed::new(core.seed, Purpose::Fluid, 3),
            // The same cohort as the request-level mode draws.
            cohort_keys: Keyed::new(core.seed, Purpose::Cohort, 0),
            mark: SimTime::ZERO,
            second: usize::MAX,
            left: 0,
            rates,
            pods: Vec::with_capacity(core.pods.capacity()),
            loaded: Vec::new(),
            next_loaded: Vec::new(),
            stamp: 0,
            svc_mean_s: [base_mean, base_mean * factor + extra],
            svc_points_s: [base_points, base_points.map(|x| x * factor + extra)],
            cohort_mass: 0.0,
            zipf_norm: None,
            lat: Vec::with_capacity(LAT_POINTS.len()),
            seen_requests: 0,
        };
        if let Some(Fault::Cohort { users: share, .. }) = &core.fault {
            let skew = sc.traffic.user_skew;
            let h = f.zipf_norm(sc.traffic.users, skew);
            f.cohort_mass = (0..sc.traffic.users)
                .filter(|&u| f.cohort_keys.uniform(u as u64) < *share)
                .map(|u| ((u + 1) as f64).powf(-skew))
                .sum::<f64>()
                / h;
        }
        f
    }

    /// H = Σ_{k=1}^{users} k^−skew: the first terms summed, the rest by Euler–Maclaurin
    /// (relative error far below 1e-9), so it costs O(1) whatever the number of users.
    fn zipf_norm(&mut self, users: u32, skew: f64) -> f64 {
        *self.zipf_norm.get_or_insert_with(|| {
            const EXACT: u32 = 64;
            let n = users.max(1);
            let head: f64 = (1..=n.min(EXACT)).map(|k| (k as f64).powf(-skew)).sum();
            if n <= EXACT {
                return head;
            }
            // Σ_{k=a}^{n} f(k) ≈ ∫_a^n f + (f(a) + f(n))/2 − (f'(a) − f'(n))/12, f = x^−s.
            let (a, b) = ((EXACT + 1) as f64, n as f64);
            let f = |x: f64| x.powf(-skew);
            let df = |x: f64| -skew * x.powf(-skew - 1.0);
            let integral = if (skew - 1.0).abs() < 1e-12 {
                (b / a).ln()
            } else {
                (b.powf(1.0 - skew) - a.powf(1.0 - skew)) / (1.0 - skew)
            };
            head + integral + (f(a) + f(b)) / 2.0 - (df(a) - df(b)) / 12.0
        })
    }

    /// At the horizon: marks the users seen since t0 (see the module header).
    pub fn finish(&mut self, core: &mut Core<'_>) {
        let (users, skew) = (core.sc.traffic.users, core.sc.traffic.user_skew);
        let n = self.seen_requests as f64;
        if n == 0.0 {
            return;
        }
        let h = self.zipf_norm(users, skew);
        // Ranks expected 40+ times are seen but for a chance below e^−40.
        let sure = if skew > 0.0 {
            (n / (40.0 * h)).powf(1.0 / skew).floor().min(users as f64) as u32
        } else if n / h >= 40.0 {
            users
        } else {
            0
        };
        core.metrics.mark_user_head(sure, false);
        let key = self.user_keys.child(u64::MAX);
        for i in sure..users {
            let rank = (i + 1) as f64;
            let p = if skew == 1.0 {
                1.0 / rank
            } else {
                rank.powf(-skew)
            } / h;
            if key.uniform(i as u64) < -(-n * p).exp_m1() {
                core.metrics.mark_user(i, false);
            }
        }
    }

    /// Expected arrivals in second `s`.
    fn mass(&self, s: usize) -> f64 {
        let (a, b) = (s as f64, s as f64 + 1.0);
        let mut m = 0.0;
        for (i, &(start, rate)) in self.rates.iter().enumerate() {
            let end = self.rates.get(i + 1).map_or(f64::INFINITY, |r| r.0);
            let (lo, hi) = (start.max(a), end.min(b));
            if hi > lo {
                m += rate * (hi - lo);
            }
        }
        m
    }

    /// Accounts traffic from the last mark up to `to`, one interval per second at most.
    pub fn advance(&mut self, core: &mut Core<'_>, to: SimTime) {
        while self.mark < to {
            let s = self.mark.second();
            let end_s = SimTime::from_secs(s as u64 + 1);
            let end = to.min(end_s);
            if s != self.second {
                self.second = s;
                self.left = poisson(self.mass(s), self.totals.uniform(s as u64));
            }
            let n = if end == end_s {
                self.left
            } else {
                let frac = (end - self.mark).secs_f64() / (end_s - self.mark).secs_f64();
                let u = self.splits.child(self.mark.micros()).uniform(0);
                binomial(self.left, frac, u)
            };
            self.left -= n;
            self.interval(core, self.mark, end, n);
            self.mark = end;
        }
    }

    fn interval(&mut self, core: &mut Core<'_>, a: SimTime, b: SimTime, n: u64) {
        let dt = (b - a).secs_f64();
        self.stamp = self.stamp.wrapping_add(1);
        if self.pods.len() < core.pods.len() {
            self.pods.resize(core.pods.len(), PodFluid::default());
        }
        let key = self.splits.child(a.micros());
        let mut n_v = [0u64; 2];
        if core.lb.total() == 0 {
            if n > 0 {
                core.metrics.mark_no_endpoint(a);
                core.metrics.bulk(a, 0, false, n, n, n, &[]);
                self.mark_users(core, a, 0, n, n, 0);
            }
        } else {
            let n1 = binomial(n, core.lb.new_share() / 100.0, key.uniform(1));
            n_v = [n - n1, n1];
        }
        let mut dropped = [0.0f64; 2];
        for v in 0..2u8 {
            let eps = core.lb.endpoints(v).len();
            if eps == 0 {
                continue;
            }
            let m = n_v[v as usize] as f64 / eps as f64;
            let mut agg = Agg::default();
            for i in 0..eps {
                let p = core.lb.endpoints(v)[i];
                self.step_pod(core, p, m, dt, &mut agg, &mut dropped);
            }
            if n_v[v as usize] > 0 {
                self.record(core, a, v, n_v[v as usize], &agg);
            }
        }
        // Pods outside the balancer still serve (or lose) the work they hold.
        let old = std::mem::take(&mut self.loaded);
        for &p in &old {
            if self.pods[p as usize].stamp != self.stamp {
                self.step_pod(core, p, 0.0, dt, &mut Agg::default(), &mut dropped);
            }
        }
        self.loaded = std::mem::replace(&mut self.next_loaded, old);
        self.next_loaded.clear();
        for (v, &work) in dropped.iter().enumerate() {
            let k = stochastic_round(work, key.uniform(2 + v as u64));
            if k > 0 {
                core.metrics.bulk(a, v as u8, true, 0, k, k, &[]);
            }
        }
    }

    /// Moves pod `p` through an interval of `dt` s with `m` expected arrivals.
    fn step_pod(
        &mut self,
        core: &mut Core<'_>,
        p: u32,
        m: f64,
        dt: f64,
        agg: &mut Agg,
        dropped: &mut [f64; 2],
    ) {
        let sc = core.sc;
        let st = &mut self.pods[p as usize];
        st.stamp = self.stamp;
        let pod = &mut core.pods[p as usize];
        let v = pod.version as usize;
        let work = pod.fluid_queue + st.inflight;
        let lost_work = pod.lost
            || pod.phase == Phase::CrashLoop
            || (pod.phase == Phase::Gone && !pod.terminating);
        if work > 0.0 && lost_work {
            dropped[v] += work;
            pod.fluid_queue = 0.0;
            st.inflight = 0.0;
        }
        let serving =
            pod.app_up && !pod.lost && matches!(pod.phase, Phase::Running | Phase::Terminating);
        let lam = if pod.accepting {
            m / dt
        } else {
            agg.refused += m;
            0.0
        };
        if !serving {
            pod.fluid_queue = 0.0;
            st.inflight = 0.0;
            return;
        }
        let workers = sc.service.workers as f64;
        let svc = self.svc_mean_s[v];
        let mu = workers / svc;
        let limit = sc.service.queue_limit as f64;
        let b0 = pod.fluid_queue;
        let drift = lam - mu;
        let b1 = b0 + drift * dt;
        let b_end = b1.clamp(0.0, limit);
        if lam > 0.0 {
            let path = Path {
                b0,
                drift,
                dt,
                limit,
            };
            let rejected = (b1 - limit).max(0.0).min(m);
            let p_rej = rejected / m;
            let fa_to = path.frac_above(mu * (sc.service.timeout.secs_f64() - svc));
            let fa_slo = path.frac_above(mu * (sc.slo.latency.secs_f64() - svc));
            agg.rejected += rejected;
            agg.timed_out += m * (fa_to - p_rej).max(0.0);
            agg.slow += m * (fa_slo - fa_to.max(p_rej)).max(0.0);
            agg.accepted += m;
            agg.wait_sum += m * path.mean() / mu;
        }
        pod.fluid_queue = b_end;
        st.inflight = if b_end > 0.0 {
            workers
        } else {
            (lam.min(mu) * svc).min(workers)
        };
        if b_end > 0.0 || st.inflight > 0.0 {
            self.next_loaded.push(p);
        }
    }

    /// Draws the counts of one version's `n` arrivals over an interval and records them.
    fn record(&mut self, core: &mut Core<'_>, a: SimTime, v: u8, n: u64, agg: &Agg) {
        let key = self.outcomes.child(a.micros() * 2 + v as u64);
        let nf = n as f64;
        // A multinomial as a binomial chain: each outcome's share of what is left.
        let mut left_p = 1.0;
        let mut rest = n;
        let mut take = |share: f64, j: u64| {
            let p = (share / nf).clamp(0.0, left_p);
            let cond = if left_p > 0.0 { p / left_p } else { 0.0 };
            let k = binomial(rest, cond, key.uniform(j));
            left_p -= p;
            rest -= k;
            k
        };
        let refused = take(agg.refused, 0);
        let rejected = take(agg.rejected, 1);
        let timed_out = take(agg.timed_out, 2);
        let slow_p = (agg.slow / nf).clamp(0.0, left_p);
        let slow_share = if left_p > 0.0 { slow_p / left_p } else { 0.0 };
        let errors = binomial(rest, self.error_rate(core, v), key.uniform(3));
        let ok = rest - errors;
        let slow = binomial(ok, slow_share, key.uniform(4));
        let failed = refused + rejected + timed_out + errors;
        let wait = if agg.accepted > 0.0 {
            (agg.wait_sum / agg.accepted).min(core.sc.service.timeout.secs_f64())
        } else {
            0.0
        };
        self.lat.clear();
        let (mut cum_w, mut given) = (0.0, 0u64);
        for (i, &(_, w)) in LAT_POINTS.iter().enumerate() {
            cum_w += w;
            let upto = ((ok as f64 * cum_w).round() as u64).min(ok);
            let c = upto - given;
            given = upto;
            if c > 0 {
                let l = SimTime::from_secs_f64(wait + self.svc_points_s[v as usize][i]);
                self.lat.push((l, c));
            }
        }
        core.metrics
            .bulk(a, v, true, n, failed, failed + slow, &self.lat);
        self.mark_users(core, a, v, n, failed + slow, errors);
    }

    /// The error probability of a request to `v` in the current routing state.
    fn error_rate(&self, core: &Core<'_>, v: u8) -> f64 {
        let base = core.sc.release.baseline_error_rate;
        let extra = match &core.fault {
            Some(Fault::Errors { error_rate }) if v == 1 => *error_rate,
            Some(Fault::Cohort { error_rate, .. }) if v == 1 => error_rate * self.cohort_mass,
            Some(Fault::MixedVersion { error_rate }) if core.lb.serving_both() => *error_rate,
            _ => return base,
        };
        1.0 - (1.0 - base) * (1.0 - extra)
    }

    /// Counts `n` requests for the seen users and marks the users of `impacted` of them (`errors` of those
    /// by errors, which for a cohort fault come from the cohort).
    fn mark_users(
        &mut self,
        core: &mut Core<'_>,
        a: SimTime,
        v: u8,
        n: u64,
        impacted: u64,
        errors: u64,
    ) {
        let sc = core.sc;
        if a < sc.deploy_at {
            return;
        }
        self.seen_requests += n;
        let key = self.user_keys.child(a.micros() * 2 + v as u64);
        let cohort = match &core.fault {
            Some(Fault::Cohort { users, .. }) if v == 1 => Some(*users),
            _ => None,
        };
        let from_cohort = if cohort.is_some() { errors } else { 0 };
        let ik = key.child(1);
        let mut j = 0u64;
        for i in 0..impacted.min(USER_DRAWS) {
            let mut user = self.users.user(ik.uniform(j));
            j += 1;
            if let Some(share) = cohort
                && i < from_cohort
            {
                // Rejection sampling of a cohort user, a bounded number of tries.
                for _ in 0..64 {
                    if self.cohort_keys.uniform(user as u64) < share {
                        break;
                    }
                    user = self.users.user(ik.uniform(j));
                    j += 1;
                }
            }
            core.metrics.mark_user(user, true);
        }
        let others = impacted - from_cohort;
        if others > USER_DRAWS {
            let head = self.head(sc.traffic.users, sc.traffic.user_skew, others);
            core.metrics.mark_user_head(head, true);
        }
    }

    /// Number of top-ranked users expected at least three times among `k` requests.
    fn head(&mut self, users: u32, skew: f64, k: u64) -> u32 {
        let h = self.zipf_norm(users, skew);
        let x = k as f64 / (3.0 * h);
        if skew <= 0.0 {
            return if x >= 1.0 { users } else { 0 };
        }
        x.powf(1.0 / skew).floor().min(users as f64) as u32
    }
}

/// The queue path of one pod over an interval: x(t) = clamp(b0 + drift·t, 0, limit).
struct Path {
    b0: f64,
    drift: f64,
    dt: f64,
    limit: f64,
}

impl Path {
    /// Share of the interval during which the queue exceeds `x`.
    fn frac_above(&self, x: f64) -> f64 {
        let Path {
            b0,
            drift,
            dt,
            limit,
        } = *self;
        if x < 0.0 {
            return 1.0;
        }
        if x >= limit {
            return 0.0;
        }
        if drift > 0.0 {
            let t = ((x - b0) / drift).max(0.0);
            ((dt - t) / dt).clamp(0.0, 1.0)
        } else if drift < 0.0 {
            if b0 <= x {
                0.0
            } else {
                ((b0 - x) / -drift / dt).min(1.0)
            }
        } else if b0 > x {
            1.0
        } else {
            0.0
        }
    }

    /// Mean queue over the interval.
    fn mean(&self) -> f64 {
        let Path {
            b0,
            drift,
            dt,
            limit,
        } = *self;
        if drift > 0.0 {
            let t_full = (limit - b0) / drift;
            if t_full >= dt {
                b0 + drift * dt / 2.0
            } else {
                ((b0 + limit) / 2.0 * t_full + limit * (dt - t_full)) / dt
            }
        } else if drift < 0.0 {
            let t_empty = b0 / -drift;
            if t_empty >= dt {
                b0 + drift * dt / 2.0
            } else {
                b0 / 2.0 * t_empty / dt
            }
        } else {
            b0
        }
    }
}

/// Rounds `x` up with probability equal to its fractional part.
fn stochastic_round(x: f64, u: f64) -> u64 {
    let f = x.floor();
    f as u64 + (u < x - f) as u64
}

/// Poisson(`mean`) by inversion of `u`: exact below a mean of 40, normal beyond.
fn poisson(mean: f64, u: f64) -> u64 {
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
    (mean + mean.sqrt() * normal_quantile(u) + 0.5)
        .floor()
        .max(0.0) as u64
}

/// Binomial(`n`, `p`) by inversion of `u`: exact below a mean of 20 (on the smaller
/// side), normal beyond. Monotone in `u`, so common random numbers carry through.
fn binomial(n: u64, p: f64, u: f64) -> u64 {
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
    if mean < 20.0 {
        let r = p / (1.0 - p);
        let mut f = (n as f64 * (1.0 - p).ln()).exp();
        let mut cum = f;
        let mut k = 0u64;
        while u > cum && k < n && f > 0.0 {
            f *= (n - k) as f64 / (k + 1) as f64 * r;
            k += 1;
            cum += f;
        }
        return k;
    }
    let sd = (mean * (1.0 - p)).sqrt();
    (mean + sd * normal_quantile(u) + 0.5)
        .floor()
        .clamp(0.0, n as f64) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::RunRow;
    use crate::scenario::*;
    use crate::world::run;

    fn s(x: u64) -> SimTime {
        SimTime::from_secs(x)
    }

    /// The default scenario's service (the controller tests' test kit): 20 pods of
    /// 4 workers, 40 ms exponential service, 0.1% baseline errors, at `rate` req/s,
    /// faulty with `fault` if given.
    fn scenario(fidelity: Fidelity, rate: f64, fault: Option<Fault>, duration_s: u64) -> Scenario {
        let mut sc = crate::strategy::testkit::scenario(20, fault);
        sc.name = "fluid-test".into();
        sc.duration = s(duration_s);
        sc.fidelity = fidelity;
        sc.traffic.rate = rate;
        sc.release.baseline_error_rate = 0.001;
        sc
    }

    fn rolling() -> Strategy {
        Strategy {
            name: "rolling".into(),
            rollback: Rollback::Manual,
            kind: StrategyKind::Rolling(RollingParams {
                max_surge: IntOrPercent::Percent(25.0),
                max_unavailable: IntOrPercent::Percent(25.0),
                min_ready: SimTime::ZERO,
                progress_deadline: s(600),
            }),
        }
    }

    fn rows(sc: &Scenario, st: &Strategy, seeds: u64) -> Vec<RunRow> {
        let users = UserTable::new(&sc.traffic);
        (0..seeds)
            .map(|i| run(sc, &users, st, i, false).row)
            .collect()
    }

    #[test]
    fn cost_does_not_grow_with_the_rate() {
        let events = |rate| {
            let sc = scenario(Fidelity::Fluid, rate, None, 1800);
            let users = UserTable::new(&sc.traffic);
            run(&sc, &users, &rolling(), 7, false).events as f64
        };
        let (low, high) = (events(200.0), events(20_000.0));
        assert!(
            (high - low).abs() < 0.1 * low,
            "events at 200 req/s: {low}, at 20,000 req/s: {high}"
        );
    }

    /// Equivalence of paired per-seed means: the (1 − 2α) interval of the mean
    /// difference (fluid − request) must lie within ±margin (two one-sided tests).
    fn assert_equivalent(what: &str, req: &[f64], fluid: &[f64], margin: f64, t: f64) {
        let n = req.len() as f64;
        let d: Vec<f64> = fluid.iter().zip(req).map(|(f, r)| f - r).collect();
        let mean = d.iter().sum::<f64>() / n;
        let sd = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let half = t * sd / n.sqrt();
        let (mr, mf) = (req.iter().sum::<f64>() / n, fluid.iter().sum::<f64>() / n);
        eprintln!(
            "NUM {what}: req {mr:.5} fluid {mf:.5} diff {mean:.5} +- {half:.5} margin {margin:.5}"
        );
        assert!(
            mean.abs() + half <= margin,
            "{what}: request {mr:.5}, fluid {mf:.5}, difference {mean:.5} ± {half:.5} \
             exceeds the margin {margin:.5}"
        );
    }

    /// (name, column, absolute part of the margin).
    type Metric = (&'static str, fn(&RunRow) -> f64, f64);

    /// Fluid and request-level runs of the same seeds agree on the default-like
    /// scenario. Margins, fixed before running: blast radius and failed share within
    /// 10% of the request-level mean + 0.001; downtime within 10% + 2 s. Four cases
    /// × three metrics = 12 comparisons; Bonferroni gives α = 0.05 / 12 ≈ 0.0042 each,
    /// so each uses the 1 − 2α ≈ 99.2% interval: t(39 df, 0.9958) ≈ 2.78. `recreate`
    /// is there because it has real downtime (the gap between stacks).
    #[test]
    fn agrees_with_the_request_level_mode() {
        const SEEDS: u64 = 40;
        const T: f64 = 2.78;
        let cases = [
            ("none", Strategy::none(), None),
            ("rolling healthy", rolling(), None),
            (
                "recreate healthy",
                Strategy {
                    name: "recreate".into(),
                    rollback: Rollback::Manual,
                    kind: StrategyKind::Recreate,
                },
                None,
            ),
            (
                "rolling errors",
                rolling(),
                Some(Fault::Errors { error_rate: 0.05 }),
            ),
        ];
        for (name, st, fault) in cases {
            let req = rows(
                &scenario(Fidelity::Request, 200.0, fault.clone(), 1800),
                &st,
                SEEDS,
            );
            let flu = rows(&scenario(Fidelity::Fluid, 200.0, fault, 1800), &st, SEEDS);
            let col = |rs: &[RunRow], f: fn(&RunRow) -> f64| rs.iter().map(f).collect::<Vec<_>>();
            let metrics: [Metric; 3] = [
                ("blast_radius", |r| r.blast_radius, 0.001),
                (
                    "failed share",
                    |r| r.failed_requests as f64 / r.requests as f64,
                    0.001,
                ),
                ("downtime_s", |r| r.downtime_s, 2.0),
            ];
            for (metric, f, abs) in metrics {
                let (r, fl) = (col(&req, f), col(&flu, f));
                let margin = 0.1 * r.iter().sum::<f64>() / r.len() as f64 + abs;
                assert_equivalent(&format!("{name}: {metric}"), &r, &fl, margin, T);
            }
        }
    }

    /// A capacity fault (×3) at 80% utilisation overloads every new pod: queues fill,
    /// requests time out or are rejected, more of them as the rollout proceeds. Margin,
    /// fixed in advance: the mean failed count within 15% of the request-level mean
    /// (one comparison, 95% paired interval, t(9 df) = 2.26).
    #[test]
    fn overload_builds_up_as_in_the_request_level_mode() {
        const SEEDS: u64 = 10;
        let fault = Some(Fault::Capacity { factor: 3.0 });
        // 20 pods × 4 workers / 40 ms = 2000 req/s of capacity; 80% of it.
        let st = Strategy {
            rollback: Rollback::None,
            ..rolling()
        };
        let req = rows(
            &scenario(Fidelity::Request, 1600.0, fault.clone(), 240),
            &st,
            SEEDS,
        );
        let flu = rows(&scenario(Fidelity::Fluid, 1600.0, fault, 240), &st, SEEDS);
        let failed = |rs: &[RunRow]| {
            rs.iter()
                .map(|r| r.failed_requests as f64)
                .collect::<Vec<_>>()
        };
        let (r, f) = (failed(&req), failed(&flu));
        let mean_r = r.iter().sum::<f64>() / r.len() as f64;
        // Far above the baseline errors (0.1% of ~290k requests): the overload shows.
        assert!(mean_r > 20_000.0, "request-level failures {mean_r}");
        assert_equivalent("overload: failed_requests", &r, &f, 0.15 * mean_r, 2.26);
    }

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

    #[test]
    fn queue_path_fills_and_drains() {
        // Inflow 50/s over capacity from empty, limit 100: full after 2 s.
        let p = Path {
            b0: 0.0,
            drift: 50.0,
            dt: 4.0,
            limit: 100.0,
        };
        assert_eq!(p.frac_above(50.0), 0.75);
        assert_eq!(p.mean(), (50.0 * 2.0 + 100.0 * 2.0) / 4.0);
        let d = Path {
            b0: 100.0,
            drift: -50.0,
            dt: 4.0,
            limit: 100.0,
        };
        assert_eq!(d.frac_above(50.0), 0.25);
        assert_eq!(d.mean(), 50.0 * 2.0 / 4.0);
    }
}
