//! Fluid fidelity (`fidelity = "fluid"`): client traffic as counts per time slice
//! instead of one event per request. Pods, probes, controllers, node failures and
//! monitoring stay event-driven and identical to the request-level mode; only the
//! requests change. The cost of a run does not grow with the request rate (see Cost).
//!
//! # Model
//! - Slices: traffic is accounted over intervals that end at every second boundary
//!   (`world::run` flushes them) and at every event that can change where traffic goes or
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
//!   share exceeding `slo.latency` is impacted. A readiness probe waits x/μ too, at
//!   the version's actual (fault-affected) service rate (`Core::probe_wait`).
//! - Queueing below saturation (`waiting.rs`): the carried queue is the backlog of
//!   overload; the random queueing of a stable pod is the stationary queue at the
//!   version's *expected* per-pod arrival rate (the rate, not the slice's drawn count):
//!   P(wait) by Erlang C and, for those who wait, an exponential wait of rate
//!   (cμ − λ) / ((ca² + cs²)/2) (exact for M/M/c; Allen–Cunneen otherwise). Random
//!   routing gives each pod Poisson arrivals (ca² = 1), round robin every N-th request
//!   (ca² = 1/N), least outstanding is treated as one pool of all the version's
//!   workers. Its response-time tail P(wait + service > x), with the service-time
//!   distribution itself, gives the shares beyond `timeout` (failed) and `slo.latency`
//!   (slow) of arrivals without a backlog; with one, the larger of the backlog's and
//!   the stationary share counts. It is recomputed only when its inputs change.
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
//! - Latency: successful requests are recorded as a table of weighted points: the
//!   interval's backlog wait, then no further wait (weight 1 − P(wait)) or the
//!   stationary wait at 12 fixed probability points (weight P(wait) × theirs), plus the
//!   service time at the same 12 points (bins centred on the 50th and 99th
//!   percentiles, finer in the upper tail). Mean, p50, p99 and the slow share agree with
//!   M/M/c and the request level within 1–4% at ρ = 0.3, 0.7 and 0.9
//!   (`tests/it/queueing.rs`). Tables change only with the state, so successes are
//!   added to the run's histogram once per change.
//! - Users: only totals are kept while the run goes: requests since t0 (N), impacted
//!   ones (K) and, for a cohort fault, the errors that come from the cohort (C). At
//!   the horizon the sets are drawn (Poissonised: a Zipf user i's impacted and other
//!   requests are independent Poisson counts): affected with probability
//!   1 − exp(−K·pᵢ), or, for a cohort user, 1 − exp(−C·pᵢ/mass) too; seen if affected
//!   or with probability 1 − exp(−(N − K − C)·pᵢ). `userset` draws each set in
//!   O(users / 256 + minority) instead of a draw per user or per request.
//!
//! # Cost
//! Per one-second slice: one Poisson draw, and per version one pod step and a few
//! binomial draws; the stationary queue and a latency table (156 points) only when a
//! version's routing or rate changes (tens of times per run, not per slice). Two shortcuts keep it there; both are exact (a test compares every
//! row with them off): a version whose endpoints all stepped alike with empty queues
//! is stepped once for all of them until an event that may change a pod (`uniform`),
//! and the probe chains of ready pods whose probes cannot fail are parked
//! (`Core::on_probe`) and woken when a queue grows past the probe timeout.
//!
//! # Where fluid mode is not valid
//! - Queueing transients: the stationary queue holds from the moment its inputs
//!   change, although a real queue needs a few relaxation times (long only very close
//!   to ρ = 1) to get there; and it has no `queue_limit` (rejections come only from the
//!   carried backlog of overload).
//! - Round robin: Allen–Cunneen's correction for its regular arrivals is coarse with
//!   few workers; at ρ ≈ 0.8 on 2 workers (`traffic-peak`) fluid's mean and p50 are
//!   6–7% above the request level.
//! - Per-user stickiness (`sticky = true` canaries): traffic is split by weight, the
//!   users of the new version are not a fixed set.
//! - Retries are ignored (`traffic.retries` has no effect): a failed request is final.
//! - `least_outstanding` balancing: traffic is split evenly, and the stationary queue
//!   is that of one pool of all the version's workers, a lower bound of its waits.
//! - Terminating pods stop at once when they stop accepting (their fluid queue is
//!   served as if drained), and `waited_requests` is not counted.
//!
//! Owns no state of `Core` beyond `Pod::fluid_queue` (and wakes parked probe chains);
//! never touches the request-level path.

use super::Ev;
use super::balancer::Mode;
use super::core::Core;
use super::pod::Phase;
use super::userset;
use super::waiting::{ServiceShape, Waiting};
use crate::metrics::{Collector, LogHist};
use crate::scenario::Fault;
use crate::scenario::Routing;
use crate::sim::SimTime;
use crate::sim::rng::{Keyed, Purpose};
use crate::sim::sample::{PowCache, binomial, binomial_small, poisson, stochastic_round};

/// (probability, weight in 1/1000) points at which the service time and the
/// stationary wait are evaluated for latencies: the midpoints of the bins
/// 0–.15–.3–.45–.55–.7–.85–.93–.97–.985–.995–.999–1, each bin's width as its weight.
/// The bins around .5 and .99 are centred on them, so a histogram of the points reads
/// p50 and p99 at those quantiles of the distribution.
const LAT_POINTS: [(f64, u64); 12] = [
    (0.075, 150),
    (0.225, 150),
    (0.375, 150),
    (0.5, 100),
    (0.625, 150),
    (0.775, 150),
    (0.89, 80),
    (0.95, 40),
    (0.9775, 15),
    (0.99, 10),
    (0.997, 4),
    (0.9995, 1),
];
const _: () = {
    let mut sum = 0;
    let mut i = 0;
    while i < LAT_POINTS.len() {
        sum += LAT_POINTS[i].1;
        i += 1;
    }
    assert!(sum == 1000, "latency point weights add up to 1000");
};

/// Points of a latency table: the service points without a wait, and every wait
/// point with every service point.
const TABLE: usize = LAT_POINTS.len() * (LAT_POINTS.len() + 1);

/// The response-time distribution of one version's successful requests in one state
/// (deterministic backlog wait, stationary wait) as weighted points, and the
/// successes since t0 not yet added to the run's histogram (the state rarely changes,
/// so they are added once per change instead of once per interval).
#[derive(Clone, Copy, Debug)]
struct LatCache {
    /// The state (bits of the backlog wait, P(wait), wait rate) the table is for.
    key: [u64; 3],
    len: usize,
    latency: [SimTime; TABLE],
    bucket: [usize; TABLE],
    /// `bucket` holds the buckets of this table's points.
    buckets: bool,
    /// Cumulative weight through each point (the last is 1).
    cum: [f64; TABLE],
    pending: u64,
}

impl LatCache {
    const EMPTY: LatCache = LatCache {
        key: [u64::MAX; 3],
        len: 0,
        latency: [SimTime::ZERO; TABLE],
        bucket: [0; TABLE],
        buckets: false,
        cum: [0.0; TABLE],
        pending: 0,
    };

    /// Fills the table: a backlog wait `backlog` (s) for everyone, then no further
    /// wait with probability 1 − P(wait), else a wait at the `wait_q` points (Exp(1)
    /// quantiles) over `theta`; plus the service points `svc`. Latencies are capped at
    /// `timeout` (slower requests timed out; they are not recorded).
    fn fill(&mut self, backlog: f64, w: &Waiting, svc: &[f64], wait_q: &[f64], timeout: f64) {
        self.key = [backlog.to_bits(), w.p_wait.to_bits(), w.theta.to_bits()];
        let mut n = 0;
        let mut cum = 0.0;
        let mut push = |lat: f64, weight: f64| {
            self.latency[n] = SimTime::from_secs_f64(lat.min(timeout));
            cum += weight;
            self.cum[n] = cum;
            n += 1;
        };
        let weight = |i: usize| LAT_POINTS[i].1 as f64 / 1000.0;
        if w.p_wait < 1.0 {
            for (j, &s) in svc.iter().enumerate() {
                push(backlog + s, (1.0 - w.p_wait) * weight(j));
            }
        }
        if w.p_wait > 0.0 {
            for (i, &q) in wait_q.iter().enumerate() {
                let wait = backlog + q / w.theta;
                for (j, &s) in svc.iter().enumerate() {
                    push(wait + s, w.p_wait * weight(i) * weight(j));
                }
            }
        }
        self.len = n;
        self.cum[n - 1] = 1.0;
        self.buckets = false;
    }

    /// Fills `bucket`, the per-second histogram bucket of each point, once per table.
    fn buckets(&mut self) {
        if !self.buckets {
            for i in 0..self.len {
                self.bucket[i] = LogHist::bucket(self.latency[i]);
            }
            self.buckets = true;
        }
    }

    /// `n` split over the points by their weights (cumulative counts rounded half
    /// up, so the parts add up to `n`), handed to `out` with each point's index.
    #[inline]
    fn split(&self, n: u64, mut out: impl FnMut(usize, u64)) {
        let mut given = 0;
        for i in 0..self.len {
            let upto = ((n as f64 * self.cum[i] + 0.5) as u64).min(n);
            if upto > given {
                out(i, upto - given);
                given = upto;
            }
        }
    }

    fn flush(&mut self, metrics: &mut Collector) {
        if self.pending == 0 {
            return;
        }
        let (pending, latency) = (self.pending, &self.latency);
        self.split(pending, |i, k| metrics.latency_n(latency[i], k));
        self.pending = 0;
    }
}

/// A version's stationary queue at its expected per-pod arrival rate (`Waiting`) and
/// the shares of arrivals whose response exceeds the client timeout and `slo.latency`
/// (service-time spread included), for the inputs in `key`.
#[derive(Clone, Copy, Debug)]
struct Stationary {
    /// (per-server-group arrival rate bits, ca² bits, servers).
    key: (u64, u64, u32),
    wait: Waiting,
    p_timeout: f64,
    p_slo: f64,
}

impl Stationary {
    const UNSET: Stationary = Stationary {
        key: (u64::MAX, u64::MAX, 0),
        wait: Waiting::NONE,
        p_timeout: 0.0,
        p_slo: 0.0,
    };
}

/// Whether traffic must be accounted up to an event's time before it is handled: every
/// event that can change routing, acceptance or what monitoring reads.
pub fn flush_before(ev: &Ev) -> bool {
    !matches!(
        ev,
        Ev::Probe { .. }
            | Ev::ProbeTimeout { .. }
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

impl Agg {
    #[inline(always)]
    fn add(&mut self, o: &Agg, k: f64) {
        self.refused += o.refused * k;
        self.rejected += o.rejected * k;
        self.timed_out += o.timed_out * k;
        self.slow += o.slow * k;
        self.accepted += o.accepted * k;
        self.wait_sum += o.wait_sum * k;
    }
}

/// What one pod's step depends on besides the interval (floats as bits: compared
/// exactly).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PodIn {
    queue: u64,
    inflight: u64,
    version: u8,
    /// Its work is lost now (crash, node loss, killed).
    lost_work: bool,
    accepting: bool,
    serving: bool,
}

/// What one pod's step yields: its contribution to the version's counts, the work it
/// lost, and its new queue and requests in service.
#[derive(Clone, Copy, Debug, Default)]
struct PodOut {
    agg: Agg,
    dropped: f64,
    queue: f64,
    inflight: f64,
}

/// The constants of one version's pod step.
#[derive(Clone, Copy, Debug)]
struct Service {
    /// Mean service time (s), service rate μ = workers / svc (1/s).
    svc: f64,
    mu: f64,
    workers: f64,
    limit: f64,
    /// Queue lengths beyond which an arrival's wait plus service exceeds the client
    /// timeout, and `slo.latency`.
    x_timeout: f64,
    x_slo: f64,
}

impl Service {
    fn new(sc: &crate::scenario::Scenario, svc: f64) -> Self {
        let workers = sc.service.workers as f64;
        let mu = workers / svc;
        let x_timeout = mu * (sc.service.timeout.secs_f64() - svc);
        let x_slo = mu * (sc.slo.latency.secs_f64() - svc);
        Service {
            svc,
            mu,
            workers,
            limit: sc.service.queue_limit as f64,
            x_timeout,
            x_slo,
        }
    }
}

/// The fluid traffic of one run. Created by `world::run` when the scenario asks for it.
pub struct Fluid {
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
    /// Per version: the constants of a pod's step.
    service: [Service; 2],
    /// Per version: the service-time distribution, and its values at the `LAT_POINTS`.
    shape: [ServiceShape; 2],
    svc_points_s: [[f64; LAT_POINTS.len()]; 2],
    /// The quantiles of Exp(1) at the `LAT_POINTS`: stationary waits over their rate.
    wait_q: [f64; LAT_POINTS.len()],
    /// Per version: its stationary queue in the current routing state, and that state
    /// (rate bits, endpoints per version, balancer mode).
    stationary: [Stationary; 2],
    routing: Option<(u64, u32, u32, Mode)>,
    /// Share of requests that come from cohort users (cohort fault only).
    cohort_mass: f64,
    zipf_norm: Option<f64>,
    lat_cache: [LatCache; 2],
    /// Per version: every endpoint is in this state, which the pods do not hold (their
    /// `fluid_queue` is 0 as the state says; the `inflight` of each is only here). Set
    /// after an interval in which all endpoints stepped alike, with an empty queue,
    /// when the next event cannot change a pod or an endpoint (`advance`'s `quiet`:
    /// probes and pulls in between touch no endpoint's state); the pods are written
    /// back before anything else changes them (`materialize`).
    uniform: [Option<PodIn>; 2],
    /// Per version: P(no error among n) for its current error rate.
    ok_pow: [PowCache; 2],
    /// Requests since t0, and those of them impacted (from anyone; from the cohort by
    /// a cohort fault's errors): their users are drawn at the horizon.
    seen_requests: u64,
    impacted_general: u64,
    impacted_cohort: u64,
    /// Cohort fault: the cohort's users as a bitset, and room for a draw.
    cohort_bits: Vec<u64>,
    scratch_bits: Vec<u64>,
}

impl Fluid {
    pub fn new(core: &Core<'_>) -> Self {
        let sc = core.sc;
        let mut rates = vec![(0.0, sc.traffic.rate)];
        for s in &sc.traffic.steps {
            if s.at.is_zero() {
                rates[0].1 = s.rate;
            } else {
                rates.push((s.at.secs_f64(), s.rate));
            }
        }
        let (factor, extra) = match &core.fault {
            Some(Fault::Capacity { factor }) => (*factor, 0.0),
            Some(Fault::Latency { extra }) => (1.0, extra.secs_f64()),
            _ => (1.0, 0.0),
        };
        let dist = &sc.service.service_time;
        let shape = [
            ServiceShape::new(dist, 1.0, 0.0),
            ServiceShape::new(dist, factor, extra),
        ];
        let mut f = Fluid {
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
            service: [0, 1].map(|v| Service::new(sc, shape[v].mean())),
            svc_points_s: [0, 1].map(|v| LAT_POINTS.map(|(p, _)| shape[v].quantile(p))),
            shape,
            wait_q: LAT_POINTS.map(|(p, _)| -(1.0 - p).ln()),
            stationary: [Stationary::UNSET; 2],
            routing: None,
            cohort_mass: 0.0,
            zipf_norm: None,
            lat_cache: [LatCache::EMPTY; 2],
            uniform: [None; 2],
            ok_pow: [PowCache::default(), PowCache::default()],
            seen_requests: 0,
            impacted_general: 0,
            impacted_cohort: 0,
            cohort_bits: Vec::new(),
            scratch_bits: Vec::new(),
        };
        if let Some(Fault::Cohort { users: share, .. }) = &core.fault {
            let skew = sc.traffic.user_skew;
            let h = f.zipf_norm(sc.traffic.users, skew);
            let words = (sc.traffic.users as usize).div_ceil(64);
            f.cohort_bits = vec![0; words];
            f.scratch_bits = vec![0; words];
            let mut mass = 0.0;
            for u in 0..sc.traffic.users {
                if f.cohort_keys.uniform(u as u64) < *share {
                    f.cohort_bits[(u / 64) as usize] |= 1 << (u % 64);
                    mass += ((u + 1) as f64).powf(-skew);
                }
            }
            f.cohort_mass = mass / h;
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

    /// At the horizon: marks the users affected and seen since t0 (module header).
    pub fn finish(&mut self, core: &mut Core<'_>) {
        for c in &mut self.lat_cache {
            c.flush(&mut core.metrics);
        }
        let (users, skew) = (core.sc.traffic.users, core.sc.traffic.user_skew);
        if self.seen_requests == 0 {
            return;
        }
        let h = self.zipf_norm(users, skew);
        let p = move |i: u32| {
            let rank = (i + 1) as f64;
            (if skew == 1.0 {
                1.0 / rank
            } else {
                rank.powf(-skew)
            }) / h
        };
        // Poissonised: user i's impacted and other requests are independent Poisson
        // counts with means k·pᵢ, so it is in a set with probability 1 − exp(−k·pᵢ).
        let within = |k: f64| move |i: u32| -(-k * p(i)).exp_m1();
        let key = self.user_keys.child(u64::MAX);
        let (seen, hit) = core.metrics.user_bits_mut();
        let general = self.impacted_general as f64;
        if general > 0.0 {
            userset::draw(hit, users, within(general), key.child(0));
        }
        if self.impacted_cohort > 0 {
            // Cohort users' requests: user i's share among them is pᵢ / mass.
            let k = self.impacted_cohort as f64 / self.cohort_mass.max(f64::MIN_POSITIVE);
            self.scratch_bits.iter_mut().for_each(|w| *w = 0);
            userset::draw(&mut self.scratch_bits, users, within(k), key.child(1));
            for ((h, s), m) in hit
                .iter_mut()
                .zip(&self.scratch_bits)
                .zip(&self.cohort_bits)
            {
                *h |= s & m;
            }
        }
        let others = self.seen_requests - self.impacted_general - self.impacted_cohort;
        userset::draw(seen, users, within(others as f64), key.child(2));
        for (s, h) in seen.iter_mut().zip(hit.iter()) {
            *s |= h;
        }
    }

    /// Expected arrivals in second `s`.
    fn mass(&self, s: usize) -> f64 {
        if let [(_, rate)] = self.rates[..] {
            return rate;
        }
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
    /// `quiet`: the event at `to` changes no pod and no endpoint before `materialize`
    /// is called (a `Tick`; a `Monitor`, whose rollback `run` starts after it).
    pub fn advance(&mut self, core: &mut Core<'_>, to: SimTime, quiet: bool) {
        while self.mark < to {
            let s = self.mark.second();
            let end_s = SimTime::from_secs(s as u64 + 1);
            let end = to.min(end_s);
            if s != self.second
                && end == end_s
                && self.mark == SimTime::from_secs(s as u64)
                && self.quiet_second(core, s)
            {
                self.mark = end;
                continue;
            }
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
            self.interval(core, self.mark, end, n, quiet || end < to);
            self.mark = end;
        }
        // Also when no interval was left to account (an event at the time of the last).
        if !quiet {
            self.materialize(core);
        }
    }

    /// Whole second `s` when one version holds every endpoint, all of them in its
    /// `uniform` state, and no queue builds up: what `interval` computes then, without
    /// its general bookkeeping. False when that is not the case (the second's arrivals
    /// may have been drawn: `interval` takes them from `left`).
    fn quiet_second(&mut self, core: &mut Core<'_>, s: usize) -> bool {
        if !self.loaded.is_empty() || !core.left_lb.is_empty() || core.metrics.per_second_latency()
        {
            return false;
        }
        let (e0, e1) = (core.lb.endpoints(0).len(), core.lb.endpoints(1).len());
        let (v, eps) = match (e0, e1) {
            (0, 0) => return false,
            (_, 0) => (0, e0),
            (0, _) => (1, e1),
            _ => return false,
        };
        let Some(input) = self.uniform[v] else {
            return false;
        };
        let c = self.service[v];
        self.second = s;
        let n = poisson(self.mass(s), self.totals.uniform(s as u64));
        // As `step` with dt = 1 s: the fast path of an empty queue.
        let lam = n as f64 / eps as f64;
        if lam - c.mu > 0.0 {
            self.left = n;
            return false;
        }
        self.left = 0;
        self.stamp = self.stamp.wrapping_add(1);
        self.update_stationary(core, s);
        let mut agg = Agg::default();
        agg.add(&self.calm(v as u8, lam), eps as f64);
        self.uniform[v] = Some(PodIn {
            inflight: (lam.min(c.mu) * c.svc).min(c.workers).to_bits(),
            ..input
        });
        if n > 0 {
            self.record(core, SimTime::from_secs(s as u64), v as u8, n, &agg);
        }
        true
    }

    /// Traffic over `[a, b)` with `n` arrivals; `quiet`: nothing changes pods or
    /// endpoints at `b`.
    fn interval(&mut self, core: &mut Core<'_>, a: SimTime, b: SimTime, n: u64, quiet: bool) {
        let dt = (b - a).secs_f64();
        self.stamp = self.stamp.wrapping_add(1);
        if self.pods.len() < core.pods.len() {
            self.pods.resize(core.pods.len(), PodFluid::default());
        }
        // The interval's draws (split, lost work), derived only when one is needed.
        let splits = self.splits;
        let key = move || splits.child(a.micros());
        let mut n_v = [0u64; 2];
        if core.lb.total() == 0 {
            if n > 0 {
                core.metrics.mark_no_endpoint(a);
                core.metrics.bulk(a, 0, false, n, n, n);
                self.count_users(core, a, 0, n, n, 0);
            }
        } else {
            let p1 = core.lb.new_share() / 100.0;
            let n1 = match p1 {
                _ if n == 0 || p1 <= 0.0 => 0,
                _ if p1 >= 1.0 => n,
                _ => binomial(n, p1, key().uniform(1)),
            };
            n_v = [n - n1, n1];
            self.update_stationary(core, a.second());
        }
        let mut dropped = [0.0f64; 2];
        for v in 0..2u8 {
            let eps = core.lb.endpoints(v).len();
            if eps == 0 {
                continue;
            }
            let m = n_v[v as usize] as f64 / eps as f64;
            let mut agg = Agg::default();
            if let Some(input) = self.uniform[v as usize].take() {
                // Every endpoint is in state `input` (see `uniform`): one step for all.
                let out = self.step(&input, m, dt);
                agg.add(&out.agg, eps as f64);
                dropped[v as usize] += out.dropped * eps as f64;
                if quiet && out.queue == 0.0 {
                    self.uniform[v as usize] = Some(PodIn {
                        inflight: out.inflight.to_bits(),
                        ..input
                    });
                } else {
                    for i in 0..eps {
                        let p = core.lb.endpoints(v)[i];
                        self.apply(core, p, &out, b);
                    }
                }
                if n_v[v as usize] > 0 {
                    self.record(core, a, v, n_v[v as usize], &agg);
                }
                continue;
            }
            // Endpoints in the same state get the same step: consecutive runs of equal
            // inputs are computed once (in steady state a version is one run).
            let mut group: Option<(PodIn, PodOut, u32)> = None;
            for i in 0..eps {
                let p = core.lb.endpoints(v)[i];
                let input = self.pod_in(core, p);
                let out = match &mut group {
                    Some((key, out, k)) if *key == input => {
                        *k += 1;
                        *out
                    }
                    _ => {
                        if let Some((_, out, k)) = group {
                            agg.add(&out.agg, k as f64);
                            dropped[v as usize] += out.dropped * k as f64;
                        }
                        let out = self.step(&input, m, dt);
                        group = Some((input, out, 1));
                        out
                    }
                };
                self.apply(core, p, &out, b);
            }
            if let Some((input, out, k)) = group {
                agg.add(&out.agg, k as f64);
                dropped[v as usize] += out.dropped * k as f64;
                // One steady group, and nothing changes it before the next interval:
                // the next step of every endpoint is the same.
                if k as usize == eps
                    && quiet
                    && core.shortcuts
                    && out.queue == 0.0
                    && input.accepting
                    && input.serving
                    && !input.lost_work
                {
                    self.uniform[v as usize] = Some(PodIn {
                        queue: 0.0f64.to_bits(),
                        inflight: out.inflight.to_bits(),
                        ..input
                    });
                }
            }
            if n_v[v as usize] > 0 {
                self.record(core, a, v, n_v[v as usize], &agg);
            }
        }
        // Pods outside the balancer still serve (or lose) the work they hold.
        let mut old = std::mem::take(&mut self.loaded);
        old.append(&mut core.left_lb);
        for &p in &old {
            if !core.pods[p as usize].in_lb && self.pods[p as usize].stamp != self.stamp {
                let input = self.pod_in(core, p);
                let out = self.step(&input, 0.0, dt);
                dropped[input.version as usize] += out.dropped;
                self.apply(core, p, &out, b);
            }
        }
        self.loaded = std::mem::replace(&mut self.next_loaded, old);
        self.next_loaded.clear();
        for (v, &work) in dropped.iter().enumerate() {
            if work <= 0.0 {
                continue;
            }
            let k = stochastic_round(work, key().uniform(2 + v as u64));
            if k > 0 {
                core.metrics.bulk(a, v as u8, true, 0, k, k);
            }
        }
    }

    /// Writes the state of uniform versions back to their pods (see `uniform`): before
    /// anything changes pods or endpoints after a quiet flush.
    pub fn materialize(&mut self, core: &mut Core<'_>) {
        for v in 0..2u8 {
            if let Some(input) = self.uniform[v as usize].take() {
                for &p in core.lb.endpoints(v) {
                    self.pods[p as usize].inflight = f64::from_bits(input.inflight);
                }
            }
        }
    }

    /// Recomputes each version's stationary queue when its inputs changed: the
    /// expected per-pod arrival rate in second `s` (not the drawn count: the queue's
    /// spread is what Poisson arrivals at that rate give) and how the balancer spreads
    /// them. Random routing feeds each pod a Poisson stream (an M/M/c queue per pod);
    /// round robin every N-th request of one (Erlang-N gaps, ca² = 1/N); least
    /// outstanding keeps the version's pods about as one pool of all their workers.
    fn update_stationary(&mut self, core: &Core<'_>, s: usize) {
        let rate = self.mass(s);
        // What the stationary queues depend on; most slices change none of it.
        let routing = (
            rate.to_bits(),
            core.lb.count(0) as u32,
            core.lb.count(1) as u32,
            core.lb.mode,
        );
        if self.routing == Some(routing) {
            return;
        }
        self.routing = Some(routing);
        let p1 = core.lb.new_share() / 100.0;
        let workers = core.sc.service.workers;
        for v in 0..2u8 {
            let eps = core.lb.endpoints(v).len();
            if eps == 0 {
                continue;
            }
            let lam_v = rate * if v == 1 { p1 } else { 1.0 - p1 };
            let (servers, lam, ca2) = match core.sc.load_balancer.routing {
                Routing::Random => (workers, lam_v / eps as f64, 1.0),
                Routing::RoundRobin => {
                    let cycle = match core.lb.mode {
                        Mode::Pooled => core.lb.total(),
                        Mode::Weighted { .. } => eps,
                    };
                    (workers, lam_v / eps as f64, 1.0 / cycle as f64)
                }
                Routing::LeastOutstanding => (workers * eps as u32, lam_v, 1.0),
            };
            let key = (lam.to_bits(), ca2.to_bits(), servers);
            let st = &mut self.stationary[v as usize];
            if st.key == key {
                continue;
            }
            let shape = &self.shape[v as usize];
            let wait = Waiting::stationary(servers, lam, shape, ca2);
            // Fewer than one request in 10^9 is none: it spares every slice two draws
            // that would almost never count anything (e^−25 of 40 ms exponential
            // service times exceed a 1 s SLO).
            let share = |x: SimTime| {
                let p = wait.response_above(shape, x.secs_f64());
                if p < 1e-9 { 0.0 } else { p }
            };
            *st = Stationary {
                key,
                wait,
                p_timeout: share(core.sc.service.timeout),
                p_slo: share(core.sc.slo.latency),
            };
        }
    }

    /// The counts of `m` arrivals at a pod of `v` without a backlog: the stationary
    /// queue's shares of too slow responses.
    #[inline(always)]
    fn calm(&self, v: u8, m: f64) -> Agg {
        let st = &self.stationary[v as usize];
        Agg {
            accepted: m,
            timed_out: m * st.p_timeout,
            slow: m * (st.p_slo - st.p_timeout).max(0.0),
            ..Agg::default()
        }
    }

    /// The state of pod `p` that its step depends on.
    #[inline]
    fn pod_in(&self, core: &Core<'_>, p: u32) -> PodIn {
        let pod = &core.pods[p as usize];
        let inflight = self.pods.get(p as usize).map_or(0.0, |s| s.inflight);
        PodIn {
            queue: pod.fluid_queue.to_bits(),
            inflight: inflight.to_bits(),
            version: pod.version,
            lost_work: pod.lost
                || pod.phase == Phase::CrashLoop
                || (pod.phase == Phase::Gone && !pod.terminating),
            accepting: pod.accepting,
            serving: pod.app_up
                && !pod.lost
                && matches!(pod.phase, Phase::Running | Phase::Terminating),
        }
    }

    /// One pod through an interval of `dt` s with `m` expected arrivals (pure).
    #[inline(always)]
    fn step(&self, inp: &PodIn, m: f64, dt: f64) -> PodOut {
        let c = &self.service[inp.version as usize];
        let (queue, inflight) = (f64::from_bits(inp.queue), f64::from_bits(inp.inflight));
        let mut out = PodOut::default();
        let work = queue + inflight;
        let mut b0 = queue;
        if work > 0.0 && inp.lost_work {
            out.dropped = work;
            b0 = 0.0;
        }
        let lam = if inp.accepting {
            m / dt
        } else {
            out.agg.refused = m;
            0.0
        };
        if !inp.serving {
            return out;
        }
        let drift = lam - c.mu;
        if b0 == 0.0 && drift <= 0.0 {
            // No backlog and none builds up: the stationary queue alone.
            out.agg = self.calm(inp.version, m);
            out.inflight = (lam.min(c.mu) * c.svc).min(c.workers);
            return out;
        }
        let b1 = b0 + drift * dt;
        let b_end = if b1 <= 0.0 { 0.0 } else { b1.min(c.limit) };
        if lam > 0.0 {
            let path = Path {
                b0,
                drift,
                dt,
                limit: c.limit,
            };
            let rejected = (b1 - c.limit).max(0.0).min(m);
            let p_rej = rejected / m;
            // The backlog's deterministic wait, or the stationary queue's spread of
            // waits and service times, whichever makes more arrivals too slow.
            let st = &self.stationary[inp.version as usize];
            let timed_out = (path.frac_above(c.x_timeout) - p_rej)
                .max(0.0)
                .max(st.p_timeout * (1.0 - p_rej));
            let slow = (path.frac_above(c.x_slo) - p_rej)
                .max(0.0)
                .max(st.p_slo * (1.0 - p_rej))
                .max(timed_out);
            out.agg.rejected = rejected;
            out.agg.timed_out = m * timed_out;
            out.agg.slow = m * (slow - timed_out);
            out.agg.accepted = m;
            out.agg.wait_sum = m * path.mean() / c.mu;
        }
        out.queue = b_end;
        out.inflight = if b_end > 0.0 {
            c.workers
        } else {
            (lam.min(c.mu) * c.svc).min(c.workers)
        };
        out
    }

    /// Writes a step's result to pod `p`; the interval ends at `end`.
    #[inline]
    fn apply(&mut self, core: &mut Core<'_>, p: u32, out: &PodOut, end: SimTime) {
        let st = &mut self.pods[p as usize];
        st.stamp = self.stamp;
        st.inflight = out.inflight;
        let pod = &mut core.pods[p as usize];
        pod.fluid_queue = out.queue;
        // Endpoints are stepped anyway; others only while they hold work.
        if !pod.in_lb && (out.queue > 0.0 || out.inflight > 0.0) {
            self.next_loaded.push(p);
        }
        if out.queue > 0.0 && pod.probe_parked.is_some() && !core.probe_passes(p) {
            core.wake_probe(p, end);
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
            if share <= 0.0 {
                return 0;
            }
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
        let slow_share = if agg.slow > 0.0 && left_p > 0.0 {
            (agg.slow / nf).clamp(0.0, left_p) / left_p
        } else {
            0.0
        };
        let p_err = self.error_rate(core, v);
        let errors = if p_err > 0.0 && p_err <= 0.5 && (rest as f64) * p_err < 20.0 {
            let none = self.ok_pow[v as usize].get(rest, p_err);
            binomial_small(rest, p_err, none, key.uniform(3))
        } else {
            binomial(rest, p_err, key.uniform(3))
        };
        let ok = rest - errors;
        let slow = if slow_share > 0.0 {
            binomial(ok, slow_share, key.uniform(4))
        } else {
            0
        };
        let failed = refused + rejected + timed_out + errors;
        core.metrics.bulk(a, v, true, n, failed, failed + slow);
        let wait = if agg.wait_sum > 0.0 && agg.accepted > 0.0 {
            (agg.wait_sum / agg.accepted).min(core.sc.service.timeout.secs_f64())
        } else {
            0.0
        };
        let st = self.stationary[v as usize].wait;
        let c = &mut self.lat_cache[v as usize];
        if c.key != [wait.to_bits(), st.p_wait.to_bits(), st.theta.to_bits()] {
            c.flush(&mut core.metrics);
            c.fill(
                wait,
                &st,
                &self.svc_points_s[v as usize],
                &self.wait_q,
                core.sc.service.timeout.secs_f64(),
            );
        }
        if a >= core.sc.deploy_at {
            c.pending += ok;
        }
        if core.metrics.per_second_latency() {
            c.buckets();
            let metrics = &mut core.metrics;
            c.split(ok, |i, k| metrics.second_latency(a, v, c.bucket[i], k));
        }
        self.count_users(core, a, v, n, failed + slow, errors);
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

    /// Counts `n` requests for the users, `impacted` of them impacted (`errors` of
    /// those by errors, which for a cohort fault come from the cohort). Users are drawn
    /// from these totals at the horizon (`finish`).
    fn count_users(
        &mut self,
        core: &Core<'_>,
        a: SimTime,
        v: u8,
        n: u64,
        impacted: u64,
        errors: u64,
    ) {
        if a < core.sc.deploy_at {
            return;
        }
        self.seen_requests += n;
        let from_cohort = match &core.fault {
            Some(Fault::Cohort { .. }) if v == 1 => errors,
            _ => 0,
        };
        self.impacted_cohort += from_cohort;
        self.impacted_general += impacted - from_cohort;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::RunRow;
    use crate::runner::run;
    use crate::scenario::*;
    use crate::world::UserTable;

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

    /// 100 times the traffic on pods 100 times as fast (the same utilisation, so the
    /// same run but for the request count) schedules about as many events: the cost of
    /// a fluid run does not depend on how many requests it stands for. (At a fixed
    /// service time 100× the traffic would overload the pods: a different run.)
    #[test]
    fn cost_does_not_grow_with_the_rate() {
        let events = |rate, service_ms| {
            let mut sc = scenario(Fidelity::Fluid, rate, None, 1800);
            sc.service.service_time = Dist::Exponential {
                mean: SimTime::from_secs_f64(service_ms / 1e3),
            };
            let users = UserTable::new(&sc.traffic);
            run(&sc, &users, &rolling(), 7, false).events as f64
        };
        let (low, high) = (events(200.0, 40.0), events(20_000.0, 0.4));
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
