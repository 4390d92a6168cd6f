//! The per-run collector and the `runs.csv` row it produces.

use super::loghist::{BUCKETS, LogHist};
use crate::catalogue::{Column, Rate};
use crate::sim::SimTime;
use hdrhistogram::Histogram;

/// The longest latency the histograms hold, in µs (2 h); a longer one counts as 2 h.
pub const LATENCY_MAX_US: u64 = 7_200_000_000;

/// An empty latency histogram: 1 µs to `LATENCY_MAX_US` at 2 significant digits
/// (quantiles within 1%, 27 KiB).
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, LATENCY_MAX_US, 2).expect("static bounds are valid")
}

/// Records `n` latencies of `us` µs, clamped to `LATENCY_MAX_US`: a pathological
/// latency saturates instead of failing, so recording cannot fail.
#[inline]
pub fn record_latency(h: &mut Histogram<u64>, us: u64, n: u64) {
    h.saturating_record_n(us.min(LATENCY_MAX_US), n);
}

/// Final state of a run at the horizon (DESIGN.md §6 `outcome`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Completed,
    RolledBack,
    Stalled,
    Incomplete,
    None,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::RolledBack => "rolled_back",
            Outcome::Stalled => "stalled",
            Outcome::Incomplete => "incomplete",
            Outcome::None => "none",
        }
    }
}

/// One row of `runs.csv`. Times are seconds since `deploy_at`; `None` is an empty cell.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRow {
    pub strategy: String,
    pub seed: u64,
    pub faulty: bool,
    pub fault: Option<&'static str>,
    pub outcome: Outcome,
    pub deploy_duration_s: Option<f64>,
    pub requests: u64,
    pub failed_requests: u64,
    pub impacted_requests: u64,
    pub exposed_requests: u64,
    pub blast_radius: f64,
    pub users_affected: u64,
    pub user_blast_radius: f64,
    pub downtime_s: f64,
    pub degraded_s: f64,
    pub detect_s: Option<f64>,
    pub decide_s: Option<f64>,
    pub rollback_s: Option<f64>,
    pub exposure_end_s: Option<f64>,
    pub recovery_s: Option<f64>,
    pub peak_pods: u64,
    pub extra_pod_seconds: f64,
    pub latency_mean_ms: Option<f64>,
    pub latency_p50_ms: Option<f64>,
    pub latency_p99_ms: Option<f64>,
    pub false_rollback: bool,
    /// Requests since t0 that waited in a pod's queue (not in `runs.csv`; the queueing
    /// validity test compares its share with Erlang C).
    pub waited_requests: u64,
    /// 4-tier pipeline: the stage that caught the faulty release (it never reached
    /// production), and the lead time to production. `None` without a pipeline.
    pub caught_stage: Option<String>,
    pub lead_time_s: Option<f64>,
    /// Analysis measurements over the run (DESIGN.md §9): all, and the Failed,
    /// Inconclusive and Error ones.
    pub analysis_measurements: u64,
    pub analysis_failed: u64,
    pub analysis_inconclusive: u64,
    pub analysis_errors: u64,
}

impl RunRow {
    /// The value of a summarised column (`catalogue::METRICS`); `None` when it did not
    /// happen or does not apply, and for the identity and label columns.
    pub fn metric(&self, c: Column) -> Option<f64> {
        let n = |x: u64| Some(x as f64);
        match c {
            Column::Scenario
            | Column::Strategy
            | Column::Seed
            | Column::Faulty
            | Column::Fault
            | Column::Outcome
            | Column::StrategyKind
            | Column::CaughtStage => None,
            Column::DeployDurationS => self.deploy_duration_s,
            Column::Requests => n(self.requests),
            Column::FailedRequests => n(self.failed_requests),
            Column::ImpactedRequests => n(self.impacted_requests),
            Column::ExposedRequests => n(self.exposed_requests),
            Column::BlastRadius => Some(self.blast_radius),
            Column::UsersAffected => n(self.users_affected),
            Column::UserBlastRadius => Some(self.user_blast_radius),
            Column::DowntimeS => Some(self.downtime_s),
            Column::DegradedS => Some(self.degraded_s),
            Column::DetectS => self.detect_s,
            Column::DecideS => self.decide_s,
            Column::RollbackS => self.rollback_s,
            Column::ExposureEndS => self.exposure_end_s,
            Column::RecoveryS => self.recovery_s,
            Column::PeakPods => n(self.peak_pods),
            Column::ExtraPodSeconds => Some(self.extra_pod_seconds),
            Column::LatencyMeanMs => self.latency_mean_ms,
            Column::LatencyP50Ms => self.latency_p50_ms,
            Column::LatencyP99Ms => self.latency_p99_ms,
            Column::FalseRollback => Some(self.false_rollback as u8 as f64),
            Column::LeadTimeS => self.lead_time_s,
            Column::AnalysisMeasurements => n(self.analysis_measurements),
            Column::AnalysisFailed => n(self.analysis_failed),
            Column::AnalysisInconclusive => n(self.analysis_inconclusive),
            Column::AnalysisErrors => n(self.analysis_errors),
        }
    }

    /// Whether this run counts towards a summary rate.
    pub fn rate(&self, r: Rate) -> bool {
        match r {
            Rate::Outage => self.downtime_s > 0.0,
            Rate::Rollback => self.decide_s.is_some(),
            Rate::FalseRollback => self.false_rollback,
            Rate::Exposed => self.exposed_requests > 0,
            Rate::Completed => self.outcome == Outcome::Completed,
            Rate::FalseAlarm => !self.faulty && self.detect_s.is_some(),
        }
    }
}

/// Controller-side facts the collector cannot see, passed in at the horizon.
#[derive(Clone, Debug, Default)]
pub struct Decisions {
    pub deploy_done: Option<SimTime>,
    pub detect: Option<SimTime>,
    pub decide: Option<SimTime>,
    pub rollback_done: Option<SimTime>,
}

/// Everything measured during one run. Sized once from the scenario.
pub struct Collector {
    t0: SimTime,
    horizon: SimTime,
    replicas: u64,
    slo_latency: SimTime,
    /// Requests and failures per arrival second, per version (0 old, 1 new).
    pub req: Vec<[u32; 2]>,
    pub fail: Vec<[u32; 2]>,
    pub impacted: Vec<u32>,
    /// Per second and version, `BUCKETS` latency counts of successful requests
    /// (only when a latency rule or a trace needs them).
    pub lat: Option<Vec<u32>>,
    /// Seconds in which the balancer had no endpoint at some moment.
    pub no_endpoint: Vec<bool>,
    requests: u64,
    failed: u64,
    impacted_total: u64,
    exposed: u64,
    users_seen: Vec<u64>,
    users_hit: Vec<u64>,
    pub hist: Histogram<u64>,
    lat_sum_us: u128,
    lat_n: u64,
    pods_now: u64,
    pods_peak: u64,
    /// Whether a pod count change at or after t0 has been seen (see `pods`).
    pods_past_t0: bool,
    pods_since: SimTime,
    extra_pod_us: u128,
    last_new_request: Option<SimTime>,
    waited: u64,
    /// Synthetic requests to a blue/green preview stack, per arrival second: (requests,
    /// failures). Empty unless a controller sends them (`enable_preview`); they are
    /// not user traffic and count in nothing else (DESIGN.md §9).
    preview: Vec<[u32; 2]>,
    /// Per second, `BUCKETS` latency counts of successful preview requests (when the
    /// per-second latency of user requests is kept too).
    preview_lat: Vec<u32>,
}

impl Collector {
    pub fn new(
        t0: SimTime,
        horizon: SimTime,
        replicas: u32,
        users: u32,
        slo_latency: SimTime,
        per_second_latency: bool,
    ) -> Self {
        let secs = horizon.second() + 1;
        let words = (users as usize).div_ceil(64);
        Collector {
            t0,
            horizon,
            replicas: replicas as u64,
            slo_latency,
            req: vec![[0; 2]; secs],
            fail: vec![[0; 2]; secs],
            impacted: vec![0; secs],
            lat: per_second_latency.then(|| vec![0; secs * 2 * BUCKETS]),
            no_endpoint: vec![false; secs],
            requests: 0,
            failed: 0,
            impacted_total: 0,
            exposed: 0,
            users_seen: vec![0; words],
            users_hit: vec![0; words],
            hist: latency_histogram(),
            lat_sum_us: 0,
            lat_n: 0,
            pods_now: 0,
            pods_peak: 0,
            pods_past_t0: false,
            pods_since: SimTime::ZERO,
            extra_pod_us: 0,
            last_new_request: None,
            waited: 0,
            preview: Vec::new(),
            preview_lat: Vec::new(),
        }
    }

    /// Makes room for synthetic preview requests (once per run, before the first).
    pub fn enable_preview(&mut self) {
        if self.preview.is_empty() {
            let secs = self.req.len();
            self.preview = vec![[0; 2]; secs];
            if self.lat.is_some() {
                self.preview_lat = vec![0; secs * BUCKETS];
            }
        }
    }

    /// Records one finished synthetic preview request (`enable_preview` first).
    #[inline]
    pub fn preview_request(&mut self, arrive: SimTime, latency: SimTime, failed: bool) {
        let Some(last) = self.preview.len().checked_sub(1) else {
            return;
        };
        let s = arrive.second().min(last);
        self.preview[s][0] += 1;
        if failed {
            self.preview[s][1] += 1;
        } else if !self.preview_lat.is_empty() {
            self.preview_lat[s * BUCKETS + LogHist::bucket(latency)] += 1;
        }
    }

    /// Window sums of synthetic preview requests and failures over seconds `[from, to)`.
    pub fn preview_window(&self, from: usize, to: usize) -> (u64, u64) {
        let to = to.min(self.preview.len());
        self.preview[from.min(to)..to]
            .iter()
            .fold((0, 0), |(r, f), x| (r + x[0] as u64, f + x[1] as u64))
    }

    /// p99 (ms) of successful preview requests over seconds `[from, to)`, if tracked.
    pub fn preview_p99_ms(&self, from: usize, to: usize) -> Option<f64> {
        let to = to.min(self.preview_lat.len() / BUCKETS);
        let parts = (from.min(to)..to).map(|s| &self.preview_lat[s * BUCKETS..(s + 1) * BUCKETS]);
        LogHist::quantile_ms(parts, 0.99)
    }

    pub fn seconds(&self) -> usize {
        self.req.len()
    }

    /// A request (or retry) arrived at `at`: it counts in `requests` from t0 on, whether
    /// or not it finishes by the horizon (DESIGN.md §6: requests count when they arrive).
    #[inline]
    pub fn arrived(&mut self, at: SimTime) {
        if at >= self.t0 {
            self.requests += 1;
        }
    }

    /// Records one finished request: `version` it was routed to (0 when it reached no
    /// pod), `user`, response time `latency`, and whether it failed.
    #[inline]
    pub fn request(
        &mut self,
        arrive: SimTime,
        version: u8,
        routed: bool,
        user: u32,
        latency: SimTime,
        failed: bool,
    ) {
        let s = arrive.second().min(self.req.len() - 1);
        let v = version as usize;
        self.req[s][v] += 1;
        let impacted = failed || latency > self.slo_latency;
        if failed {
            self.fail[s][v] += 1;
        } else if let Some(lat) = &mut self.lat {
            lat[(s * 2 + v) * BUCKETS + LogHist::bucket(latency)] += 1;
        }
        if impacted {
            self.impacted[s] += 1;
        }
        if arrive < self.t0 {
            return;
        }
        // `requests` was counted at arrival (`arrived`), so that requests still in
        // flight at the horizon count too.
        if routed && version == 1 {
            self.exposed += 1;
            self.last_new_request = Some(self.last_new_request.map_or(arrive, |t| t.max(arrive)));
        }
        let (w, bit) = ((user / 64) as usize, 1u64 << (user % 64));
        self.users_seen[w] |= bit;
        if impacted {
            self.impacted_total += 1;
            self.users_hit[w] |= bit;
        }
        if failed {
            self.failed += 1;
        } else {
            let us = latency.micros().max(1);
            self.lat_sum_us += us as u128;
            self.lat_n += 1;
            record_latency(&mut self.hist, us, 1);
        }
    }

    /// Records `requests` requests that arrived at `arrive` to `version` at once (fluid
    /// mode): `failed` and `impacted` of them (impacted includes failed). The response
    /// times of the successful ones go to `second_latency` and `latency_n`; users are
    /// drawn by the fluid mode at the horizon (`user_bits_mut`). `requests` may be
    /// zero: failures of requests already counted (work lost in a crash).
    pub fn bulk(
        &mut self,
        arrive: SimTime,
        version: u8,
        routed: bool,
        requests: u64,
        failed: u64,
        impacted: u64,
    ) {
        let s = arrive.second().min(self.req.len() - 1);
        let v = version as usize;
        self.req[s][v] += requests as u32;
        self.fail[s][v] += failed as u32;
        self.impacted[s] += impacted as u32;
        if arrive < self.t0 {
            return;
        }
        self.requests += requests;
        if routed && version == 1 && requests > 0 {
            self.exposed += requests;
            self.last_new_request = Some(self.last_new_request.map_or(arrive, |t| t.max(arrive)));
        }
        self.impacted_total += impacted;
        self.failed += failed;
    }

    /// Whether per-second latency buckets are kept (a latency rule or a trace).
    pub fn per_second_latency(&self) -> bool {
        self.lat.is_some()
    }

    /// `n` successful requests to `version` that arrived in the second of `arrive`
    /// took a response time in latency bucket `bucket` (per-second buckets only).
    #[inline]
    pub fn second_latency(&mut self, arrive: SimTime, version: u8, bucket: usize, n: u64) {
        if let Some(lat) = &mut self.lat {
            let s = arrive.second().min(self.req.len() - 1);
            lat[(s * 2 + version as usize) * BUCKETS + bucket] += n as u32;
        }
    }

    /// `n` successful requests since t0 took `latency` (the run's histogram and mean).
    #[inline]
    pub fn latency_n(&mut self, latency: SimTime, n: u64) {
        if n == 0 {
            return;
        }
        let us = latency.micros().max(1);
        self.lat_sum_us += us as u128 * n as u128;
        self.lat_n += n;
        record_latency(&mut self.hist, us, n);
    }

    /// The bitsets of users seen and affected since t0 (fluid mode draws them).
    pub fn user_bits_mut(&mut self) -> (&mut [u64], &mut [u64]) {
        (&mut self.users_seen, &mut self.users_hit)
    }

    /// A request that arrived at `arrive` had to wait for a worker.
    #[inline]
    pub fn waited(&mut self, arrive: SimTime) {
        self.waited += (arrive >= self.t0) as u64;
    }

    #[inline]
    pub fn mark_no_endpoint(&mut self, at: SimTime) {
        let s = at.second().min(self.no_endpoint.len() - 1);
        self.no_endpoint[s] = true;
    }

    /// The number of pods holding a slot changed to `count` at `now`.
    pub fn pods(&mut self, now: SimTime, count: u64) {
        self.integrate_pods(now);
        if now >= self.t0 {
            if !self.pods_past_t0 {
                // The count in force when t0 passed held at t0.
                self.pods_past_t0 = true;
                self.pods_peak = self.pods_peak.max(self.pods_now);
            }
            self.pods_peak = self.pods_peak.max(count);
        }
        self.pods_now = count;
    }

    fn integrate_pods(&mut self, now: SimTime) {
        let from = self.pods_since.max(self.t0);
        if now > from {
            let extra = self.pods_now.saturating_sub(self.replicas);
            self.extra_pod_us += extra as u128 * (now - from).micros() as u128;
        }
        self.pods_since = now;
    }

    /// Window sums of requests and failures over seconds `[from, to)` for `version`
    /// (`None` = whole service).
    pub fn window(&self, from: usize, to: usize, version: Option<u8>) -> (u64, u64) {
        let to = to.min(self.req.len());
        let mut r = 0u64;
        let mut f = 0u64;
        for s in from.min(to)..to {
            match version {
                Some(v) => {
                    r += self.req[s][v as usize] as u64;
                    f += self.fail[s][v as usize] as u64;
                }
                None => {
                    r += (self.req[s][0] + self.req[s][1]) as u64;
                    f += (self.fail[s][0] + self.fail[s][1]) as u64;
                }
            }
        }
        (r, f)
    }

    /// p99 (ms) of successful requests over seconds `[from, to)`, if tracked.
    pub fn window_p99_ms(&self, from: usize, to: usize, version: Option<u8>) -> Option<f64> {
        let lat = self.lat.as_ref()?;
        let to = to.min(self.req.len());
        let parts = (from.min(to)..to).flat_map(move |s| {
            (0..2u8)
                .filter(move |v| version.is_none_or(|x| x == *v))
                .map(move |v| {
                    &lat[(s * 2 + v as usize) * BUCKETS..(s * 2 + v as usize + 1) * BUCKETS]
                })
        });
        LogHist::quantile_ms(parts, 0.99)
    }

    /// Adds to `out` (`LogHist` buckets) the latency counts of successful requests to
    /// `version` over seconds `[from, to)`; false when per-second latency is not kept.
    pub fn add_latency(&self, from: usize, to: usize, version: u8, out: &mut [u64]) -> bool {
        let Some(lat) = &self.lat else { return false };
        let to = to.min(self.req.len());
        for s in from.min(to)..to {
            let row = &lat[(s * 2 + version as usize) * BUCKETS..][..BUCKETS];
            for (o, &c) in out.iter_mut().zip(row) {
                *o += c as u64;
            }
        }
        true
    }

    /// `add_latency` for the synthetic preview requests; false when not kept.
    pub fn add_preview_latency(&self, from: usize, to: usize, out: &mut [u64]) -> bool {
        if self.preview_lat.is_empty() {
            return false;
        }
        let to = to.min(self.preview_lat.len() / BUCKETS);
        for s in from.min(to)..to {
            let row = &self.preview_lat[s * BUCKETS..][..BUCKETS];
            for (o, &c) in out.iter_mut().zip(row) {
                *o += c as u64;
            }
        }
        true
    }

    /// Whether synthetic preview requests are recorded (`enable_preview`).
    pub fn has_preview(&self) -> bool {
        !self.preview.is_empty()
    }

    /// Classifies second `s`: (down, degraded).
    pub fn second_state(&self, s: usize, slo: &crate::scenario::Slo) -> (bool, bool) {
        let r = (self.req[s][0] + self.req[s][1]) as u64;
        let f = (self.fail[s][0] + self.fail[s][1]) as u64;
        if r < slo.min_requests as u64 {
            let down = self.no_endpoint[s];
            return (down, down);
        }
        let ratio = 1.0 - f as f64 / r as f64;
        let down = ratio < slo.down_below;
        (down, down || ratio < slo.success)
    }

    /// Computes the row at the horizon.
    #[allow(clippy::too_many_arguments)]
    pub fn finish(
        &mut self,
        strategy: &str,
        seed: u64,
        faulty: bool,
        fault: Option<&'static str>,
        outcome: Outcome,
        d: &Decisions,
        false_rollback: bool,
        slo: &crate::scenario::Slo,
    ) -> RunRow {
        self.integrate_pods(self.horizon);
        let rel = |t: Option<SimTime>| t.map(|t| (t.saturating_sub(self.t0)).secs_f64());
        let first = self.t0.second();
        let last = self.horizon.second().min(self.req.len()); // exclusive: the horizon's own second is empty
        let (mut down, mut degraded) = (0u64, 0u64);
        let mut last_bad: Option<usize> = None;
        for s in first..last {
            let (dn, dg) = self.second_state(s, slo);
            down += dn as u64;
            degraded += dg as u64;
            if dg {
                last_bad = Some(s);
            }
        }
        let recovery_s = match last_bad {
            None => Some(0.0),
            Some(s) if s + 1 >= last => None,
            Some(s) => Some(
                SimTime::from_secs(s as u64 + 1)
                    .saturating_sub(self.t0)
                    .secs_f64(),
            ),
        };
        let seen: u64 = self.users_seen.iter().map(|w| w.count_ones() as u64).sum();
        let hit: u64 = self.users_hit.iter().map(|w| w.count_ones() as u64).sum();
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let has_lat = self.lat_n > 0;
        RunRow {
            strategy: strategy.to_string(),
            seed,
            faulty,
            fault,
            outcome,
            deploy_duration_s: rel(d.deploy_done),
            requests: self.requests,
            failed_requests: self.failed,
            impacted_requests: self.impacted_total,
            exposed_requests: self.exposed,
            blast_radius: ratio(self.impacted_total, self.requests),
            users_affected: hit,
            user_blast_radius: ratio(hit, seen),
            downtime_s: down as f64,
            degraded_s: degraded as f64,
            detect_s: rel(d.detect),
            decide_s: rel(d.decide),
            rollback_s: match (d.decide, d.rollback_done) {
                (Some(a), Some(b)) => Some(b.saturating_sub(a).secs_f64()),
                _ => None,
            },
            exposure_end_s: if faulty {
                rel(self.last_new_request)
            } else {
                None
            },
            recovery_s,
            peak_pods: if self.pods_past_t0 {
                self.pods_peak
            } else {
                self.pods_now
            },
            extra_pod_seconds: self.extra_pod_us as f64 / 1e6,
            latency_mean_ms: has_lat.then(|| self.lat_sum_us as f64 / self.lat_n as f64 / 1e3),
            latency_p50_ms: has_lat.then(|| self.hist.value_at_quantile(0.5) as f64 / 1e3),
            latency_p99_ms: has_lat.then(|| self.hist.value_at_quantile(0.99) as f64 / 1e3),
            false_rollback,
            waited_requests: self.waited,
            caught_stage: None,
            lead_time_s: None,
            analysis_measurements: 0,
            analysis_failed: 0,
            analysis_inconclusive: 0,
            analysis_errors: 0,
        }
    }
}
