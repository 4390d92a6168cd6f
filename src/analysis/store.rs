//! The Prometheus-like store a controller queries (DESIGN.md §9 `[metrics]`).
//!
//! **What it models.** Every pod is a scrape target with its own phase (drawn once per
//! pod by the caller); it is scraped at `phase + k · scrape_interval` while it exists.
//! A query at t over `window` sees, per target, the last sample at or before t and the
//! last at or before t − window (or, for a series born inside the window, its first
//! sample), and takes the increase between them — `increase()` without extrapolation.
//! A target whose last sample is at or before t − window is absent (no sample in the
//! range, as a range vector); a scope with no target present is the empty vector.
//!
//! **How a scrape maps onto the collector's counters (the approximation).** The
//! simulator keeps counters per second and per version, not per pod, and no
//! per-request work may be added to the hot loop. So a sample of a pod of version v
//! taken at time s reads the version's cumulative counters over the seconds before
//! ⌊s⌋ (requests are filed under their arrival second once finished), and a pod's own
//! counter is taken to be an even share 1/n of its version's, n being the version's
//! targets present in the query. The sum over pods that `sum(increase(…))` computes
//! is then the mean, over the version's pods, of the version's increase between that
//! pod's two samples: each pod contributes the window as *its* phase sees it, so the
//! pipeline's lag and quantisation are those of real scrapes. What it misses: a
//! request is counted at the scrape after the second it arrived in (not the instant it
//! finished: at most one second plus the client timeout off), and traffic is assumed
//! evenly split across a version's pods, so a pod that joined or left inside the
//! window scales the counts (`request_rate`) by the share of the window it was
//! scraped; ratios (success rate, error rate, quantiles) are unaffected to first
//! order. Nothing is stored per scrape: a query reads the counters at the sample
//! times it computes, so the cost is per query (distinct sample seconds × window),
//! never per request or per scrape.
//!
//! **Latency.** Prometheus buckets (`le`, configurable, plus `+Inf`) are built from
//! the collector's per-second log buckets (8 per octave), a log bucket straddling an
//! `le` bound being split log-uniformly (`LogHist::split`); `histogram_quantile` then
//! interpolates linearly inside the Prometheus bucket, and a quantile in the `+Inf`
//! bucket is the highest finite bound, as Prometheus does. The mean latency is taken
//! from the log buckets' geometric middles (within 4.4%), the collector keeping no
//! per-version latency sum.
//!
//! Pure: no I/O; the only randomness is the query-failure draw, from the keyed stream
//! the caller passes (`Purpose::Analysis`), indexed by the store's query count.

use crate::metrics::{Collector, LATENCY_BUCKETS, LogHist};
use crate::scenario::analysis::{Measure, MetricsConfig, Scope};
use crate::sim::SimTime;
use crate::sim::rng::Keyed;

/// Which counters a series reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Series {
    /// User traffic to a version (0 old, 1 new).
    Version(u8),
    /// Synthetic requests to a blue/green preview stack.
    Preview,
    /// An extra old-version ReplicaSet, Kayenta's dedicated baseline.
    Baseline,
}

/// Per-second counters the store reads at its sample times: what the world records
/// while it runs. Seconds are arrival seconds; ranges are `[from, to)`.
pub trait Counters {
    /// (requests, failed requests) of `series`; `None` when the series is not recorded.
    fn counts(&self, series: Series, from: usize, to: usize) -> Option<(u64, u64)>;
    /// Adds the latency counts of `series`'s successful requests into `out`
    /// (`LATENCY_BUCKETS` log buckets); false when they are not recorded.
    fn add_latency(&self, series: Series, from: usize, to: usize, out: &mut [u64]) -> bool;
}

impl Counters for Collector {
    fn counts(&self, series: Series, from: usize, to: usize) -> Option<(u64, u64)> {
        match series {
            Series::Version(v) => Some(self.window(from, to, Some(v))),
            Series::Preview => self.has_preview().then(|| self.preview_window(from, to)),
            Series::Baseline => None,
        }
    }
    fn add_latency(&self, series: Series, from: usize, to: usize, out: &mut [u64]) -> bool {
        match series {
            Series::Version(v) => Collector::add_latency(self, from, to, v, out),
            Series::Preview => self.add_preview_latency(from, to, out),
            Series::Baseline => false,
        }
    }
}

/// A scrape target (one pod), as returned by `Store::add_target`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TargetId(usize);

#[derive(Clone, Debug)]
struct Target {
    series: Series,
    /// First scrape (the first phase point at or after the pod appeared).
    first: SimTime,
    /// No scrape at or after this (the pod is gone).
    gone: Option<SimTime>,
}

/// The result of one instant query.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum QueryResult {
    /// The provider failed (`query_failure_probability`).
    Error,
    /// No series of the scope has been scraped (or none has a sample in the window).
    Empty,
    /// One value; NaN when the series exist but the ratio's denominator did not grow.
    Value(f64),
}

/// `le` bound of a Prometheus bucket located in the log buckets.
#[derive(Clone, Copy, Debug)]
struct Edge {
    le_ms: f64,
    bucket: usize,
    share: f64,
}

/// The store: scrape targets and how to read them. Owned by the run (one per run).
#[derive(Clone, Debug)]
pub struct Store {
    interval: SimTime,
    edges: Vec<Edge>,
    failure_probability: f64,
    stream: Keyed,
    queries: u64,
    targets: Vec<Target>,
    // Scratch buffers reused by every query (no allocation once they have grown).
    scratch_spans: Vec<(Series, Span)>,
    scratch_buf: Vec<Span>,
    lat: Vec<f64>,
    row: Vec<u64>,
    prefix: Vec<f64>,
    cum: Vec<(f64, f64)>,
}

/// (base second, last second, weight) of one target's contribution.
type Span = (usize, usize, f64);

impl Store {
    /// A store scraping as `config` says; `stream` draws query failures (a
    /// `Keyed` of `Purpose::Analysis`).
    pub fn new(config: &MetricsConfig, stream: Keyed) -> Store {
        let edges = config
            .buckets_ms
            .iter()
            .map(|&le_ms| {
                let (bucket, share) = LogHist::split(le_ms * 1e3);
                Edge {
                    le_ms,
                    bucket,
                    share,
                }
            })
            .collect();
        Store {
            interval: config.scrape_interval,
            edges,
            failure_probability: config.query_failure_probability,
            stream,
            queries: 0,
            targets: Vec::new(),
            scratch_spans: Vec::new(),
            scratch_buf: Vec::new(),
            lat: vec![0.0; LATENCY_BUCKETS],
            row: vec![0; LATENCY_BUCKETS],
            prefix: Vec::with_capacity(LATENCY_BUCKETS + 1),
            cum: Vec::new(),
        }
    }

    pub fn scrape_interval(&self) -> SimTime {
        self.interval
    }

    /// A pod of `series` appeared at `now` (created: Prometheus discovers pods, ready or
    /// not); `phase` in `[0, scrape_interval)` is its scrape offset (larger values are
    /// taken modulo the interval).
    pub fn add_target(&mut self, series: Series, phase: SimTime, now: SimTime) -> TargetId {
        let i = self.interval.micros();
        let p = phase.micros() % i;
        let n = now.micros();
        // The first p + k·i at or after now.
        let first = if n <= p {
            p
        } else {
            p + (n - p).div_ceil(i) * i
        };
        self.targets.push(Target {
            series,
            first: SimTime::from_micros(first),
            gone: None,
        });
        TargetId(self.targets.len() - 1)
    }

    /// The pod is gone at `now` (deleted, or its node lost): no scrape from then on.
    pub fn remove_target(&mut self, id: TargetId, now: SimTime) {
        let t = &mut self.targets[id.0];
        t.gone = Some(t.gone.map_or(now, |g| g.min(now)));
    }

    /// The last scrape of `t` at or before `at`, if any.
    fn last_sample(&self, t: &Target, at: SimTime) -> Option<SimTime> {
        let i = self.interval.micros();
        let limit = match t.gone {
            // Scrapes strictly before the pod went away.
            Some(g) if g <= at => g.micros().checked_sub(1)?,
            _ => at.micros(),
        };
        let first = t.first.micros();
        if limit < first {
            return None;
        }
        Some(SimTime::from_micros(first + (limit - first) / i * i))
    }

    /// The sample-second spans of `series`'s targets present in (at − window, at],
    /// each weighted 1/n (see the module header).
    fn spans(&self, series: Series, at: SimTime, window: SimTime, out: &mut Vec<Span>) {
        let start = out.len();
        let from = at.saturating_sub(window);
        for t in self.targets.iter().filter(|t| t.series == series) {
            let Some(last) = self.last_sample(t, at) else {
                continue;
            };
            if at >= window && last <= from {
                continue;
            }
            let base = self.last_sample(t, from).filter(|_| at >= window);
            let base = base.unwrap_or(t.first);
            out.push((base.second(), last.second(), 1.0));
        }
        let n = (out.len() - start) as f64;
        for s in &mut out[start..] {
            s.2 = 1.0 / n;
        }
    }

    /// Draws whether the next query fails.
    fn fails(&mut self) -> bool {
        let n = self.queries;
        self.queries += 1;
        self.failure_probability > 0.0 && self.stream.uniform(n) < self.failure_probability
    }

    /// The instant query `measure` over `scope` at `now` with range `window`. Draws
    /// one query-failure chance.
    pub fn query(
        &mut self,
        counters: &impl Counters,
        measure: Measure,
        scope: Scope,
        window: SimTime,
        now: SimTime,
    ) -> QueryResult {
        if self.fails() {
            return QueryResult::Error;
        }
        self.evaluate(counters, measure, series_of(scope), window, now)
    }

    /// The per-scrape samples of `measure` on `series` over the `window` ending at
    /// `now` (a range query with step = scrape interval, each point over one scrape
    /// interval), NaN and empty points dropped, oldest first — Kayenta's input. `None`
    /// when the query fails (one draw, as one range query).
    pub fn points(
        &mut self,
        counters: &impl Counters,
        measure: Measure,
        series: Series,
        window: SimTime,
        now: SimTime,
    ) -> Option<Vec<f64>> {
        if self.fails() {
            return None;
        }
        let step = self.interval.micros();
        let n = window.micros() / step;
        let mut out = Vec::with_capacity(n as usize);
        for j in (0..n).rev() {
            let Some(at) = now.micros().checked_sub(j * step) else {
                continue;
            };
            let at = SimTime::from_micros(at);
            if let QueryResult::Value(v) =
                self.evaluate(counters, measure, &[series], self.interval, at)
                && !v.is_nan()
            {
                out.push(v);
            }
        }
        Some(out)
    }

    /// The increase of (requests, failed requests) on `scope` over `window` at `now`
    /// as `sum(increase(…))` sees them (the `[monitoring]` rule's input): `None` for the
    /// empty vector or a failed query. Draws one query-failure chance.
    pub fn increase(
        &mut self,
        counters: &impl Counters,
        scope: Scope,
        window: SimTime,
        now: SimTime,
    ) -> Option<(f64, f64)> {
        if self.fails() {
            return None;
        }
        self.gather(counters, series_of(scope), window, now, false)
            .map(|g| (g.requests, g.failed))
    }

    /// Collects the spans of `series` present at `now` over `window` into the scratch
    /// buffers and sums their counters (and, with `latency`, their latency buckets
    /// into `self.lat`); `None` for the empty vector.
    fn gather(
        &mut self,
        counters: &impl Counters,
        series: &[Series],
        window: SimTime,
        now: SimTime,
        latency: bool,
    ) -> Option<Gathered> {
        let mut spans = std::mem::take(&mut self.scratch_spans);
        let mut buf = std::mem::take(&mut self.scratch_buf);
        spans.clear();
        for &s in series {
            buf.clear();
            self.spans(s, now, window, &mut buf);
            spans.extend(buf.iter().map(|sp| (s, *sp)));
        }
        self.scratch_buf = buf;
        if spans.is_empty() {
            self.scratch_spans = spans;
            return None;
        }
        // Targets sharing sample seconds read the same counters: merge them.
        spans.sort_unstable_by_key(|&(s, (from, to, _))| (s, from, to));
        merge(&mut spans);
        let mut g = Gathered {
            requests: 0.0,
            failed: 0.0,
            latency_recorded: true,
        };
        if latency {
            self.lat.iter_mut().for_each(|x| *x = 0.0);
        }
        for &(s, (from, to, w)) in &spans {
            let Some((r, f)) = counters.counts(s, from, to) else {
                continue;
            };
            g.requests += w * r as f64;
            g.failed += w * f as f64;
            if latency {
                self.row.iter_mut().for_each(|x| *x = 0);
                if !counters.add_latency(s, from, to, &mut self.row) {
                    g.latency_recorded = false;
                    break;
                }
                for (a, &c) in self.lat.iter_mut().zip(&self.row) {
                    *a += w * c as f64;
                }
            }
        }
        self.scratch_spans = spans;
        Some(g)
    }

    /// The query without the failure draw, over the union of `series`.
    fn evaluate(
        &mut self,
        counters: &impl Counters,
        measure: Measure,
        series: &[Series],
        window: SimTime,
        now: SimTime,
    ) -> QueryResult {
        let latency = measure.is_latency();
        let Some(g) = self.gather(counters, series, window, now, latency) else {
            return QueryResult::Empty;
        };
        if !g.latency_recorded {
            return QueryResult::Empty;
        }
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
        QueryResult::Value(match measure {
            Measure::SuccessRate => ratio(g.requests - g.failed, g.requests),
            Measure::ErrorRate => ratio(g.failed, g.requests),
            Measure::RequestRate => g.requests / window.secs_f64(),
            Measure::LatencyMean => {
                let n: f64 = self.lat.iter().sum();
                let sum: f64 = self
                    .lat
                    .iter()
                    .enumerate()
                    .map(|(b, c)| c * LogHist::bucket_mid_ms(b))
                    .sum();
                ratio(sum, n)
            }
            Measure::LatencyQuantile(q) => {
                self.cumulative();
                histogram_quantile(q.fraction(), &self.cum)
            }
        })
    }

    /// Prometheus cumulative buckets (le_ms, count), `+Inf` last, from the log buckets
    /// in `self.lat`, into `self.cum`.
    fn cumulative(&mut self) {
        let h = &self.lat;
        self.prefix.clear();
        let mut acc = 0.0;
        self.prefix.push(0.0);
        for c in h {
            acc += c;
            self.prefix.push(acc);
        }
        self.cum.clear();
        for e in &self.edges {
            self.cum
                .push((e.le_ms, self.prefix[e.bucket] + h[e.bucket] * e.share));
        }
        self.cum.push((f64::INFINITY, acc));
    }
}

/// Sums of one query's spans.
#[derive(Clone, Copy, Debug)]
struct Gathered {
    requests: f64,
    failed: f64,
    /// False when a series has no latency histograms (the query is then empty).
    latency_recorded: bool,
}

/// The series a scope reads.
fn series_of(scope: Scope) -> &'static [Series] {
    match scope {
        Scope::Canary => &[Series::Version(1)],
        Scope::Stable => &[Series::Version(0)],
        Scope::Service => &[Series::Version(0), Series::Version(1)],
        Scope::Preview => &[Series::Preview],
    }
}

/// Sums the weights of equal (series, from, to) spans in place; input sorted so
/// equal ones are adjacent.
fn merge(spans: &mut Vec<(Series, Span)>) {
    spans.dedup_by(|next, kept| {
        let same = next.0 == kept.0 && next.1.0 == kept.1.0 && next.1.1 == kept.1.1;
        if same {
            kept.1.2 += next.1.2;
        }
        same
    });
}

/// Prometheus' `histogram_quantile(q, …)` over cumulative buckets `(le, count)`
/// sorted by `le` with `+Inf` last: NaN with fewer than two buckets or no
/// observation; linear interpolation inside the bucket holding rank q·total (from 0
/// for the first bucket when its bound is positive); the highest finite bound when
/// that bucket is `+Inf`.
pub fn histogram_quantile(q: f64, buckets: &[(f64, f64)]) -> f64 {
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    let n = buckets.len();
    if n < 2 || buckets[n - 1].0 != f64::INFINITY {
        return f64::NAN;
    }
    let total = buckets[n - 1].1;
    if total <= 0.0 || total.is_nan() {
        return f64::NAN;
    }
    let rank = q * total;
    // The first finite bucket whose count reaches the rank, else +Inf.
    let b = buckets[..n - 1]
        .iter()
        .position(|&(_, c)| c >= rank)
        .unwrap_or(n - 1);
    if b == n - 1 {
        return buckets[n - 2].0;
    }
    let (end, count) = buckets[b];
    let (start, below) = if b == 0 {
        if end <= 0.0 {
            return end;
        }
        (0.0, 0.0)
    } else {
        buckets[b - 1]
    };
    let inside = count - below;
    if inside <= 0.0 {
        return end;
    }
    start + (end - start) * ((rank - below) / inside)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::analysis::Quantile;
    use crate::sim::rng::Purpose;

    fn s(x: f64) -> SimTime {
        SimTime::from_secs_f64(x)
    }

    /// Per-second counters of versions 0 and 1: second `i` holds `req(v, i)` requests
    /// and `fail(v, i)` failures; successful requests all took `latency_ms`.
    struct Fake {
        req: [Vec<u64>; 2],
        fail: [Vec<u64>; 2],
        latency_ms: f64,
    }

    impl Fake {
        fn new(
            secs: usize,
            req: impl Fn(u8, usize) -> u64,
            fail: impl Fn(u8, usize) -> u64,
        ) -> Fake {
            let col = |v: u8, f: &dyn Fn(u8, usize) -> u64| (0..secs).map(|i| f(v, i)).collect();
            Fake {
                req: [col(0, &req), col(1, &req)],
                fail: [col(0, &fail), col(1, &fail)],
                latency_ms: 40.0,
            }
        }
    }

    impl Counters for Fake {
        fn counts(&self, series: Series, from: usize, to: usize) -> Option<(u64, u64)> {
            let Series::Version(v) = series else {
                return None;
            };
            let v = v as usize;
            let sum = |x: &[u64]| x[from.min(x.len())..to.min(x.len())].iter().sum::<u64>();
            Some((sum(&self.req[v]), sum(&self.fail[v])))
        }
        fn add_latency(&self, series: Series, from: usize, to: usize, out: &mut [u64]) -> bool {
            let Some((r, f)) = self.counts(series, from, to) else {
                return false;
            };
            out[LogHist::bucket(SimTime::from_secs_f64(self.latency_ms / 1e3))] += r - f;
            true
        }
    }

    fn store(p_fail: f64) -> Store {
        let cfg = crate::scenario::analysis::AnalysisSpec::default_for(0).metrics;
        let cfg = MetricsConfig {
            query_failure_probability: p_fail,
            ..cfg
        };
        Store::new(&cfg, Keyed::new(7, Purpose::Analysis, 0))
    }

    /// Σ_{i < n} i: the cumulative count of a ramp (second i holds i requests).
    fn ramp(n: u64) -> f64 {
        (n * n.saturating_sub(1) / 2) as f64
    }

    /// Increase between samples, by hand. One canary pod, phase 3 s, scrape 15 s,
    /// requests ramping (second i holds i): a query at 100 s over 60 s uses the samples
    /// at 93 s and 33 s, so requests = Σ_{33 ≤ i < 93} i; one failure per 10 requests.
    #[test]
    fn increase_between_phase_samples() {
        let fake = Fake::new(400, |_, i| i as u64 * 10, |_, i| i as u64);
        let mut st = store(0.0);
        st.add_target(Series::Version(1), s(3.0), s(0.0));
        let rate = |st: &mut Store, at: f64, w: f64| {
            st.query(&fake, Measure::RequestRate, Scope::Canary, s(w), s(at))
        };
        let want = 10.0 * (ramp(93) - ramp(33)) / 60.0;
        assert_eq!(rate(&mut st, 100.0, 60.0), QueryResult::Value(want));
        let err = st.query(&fake, Measure::ErrorRate, Scope::Canary, s(60.0), s(100.0));
        assert_eq!(err, QueryResult::Value(0.1));
        // Before the first scrape, and for a scope without pods: the empty vector.
        assert_eq!(rate(&mut st, 2.9, 60.0), QueryResult::Empty);
        let stable = st.query(&fake, Measure::ErrorRate, Scope::Stable, s(60.0), s(100.0));
        assert_eq!(stable, QueryResult::Empty);
        // At the first scrape the series exists with one sample: increase 0.
        assert_eq!(rate(&mut st, 3.0, 60.0), QueryResult::Value(0.0));
    }

    /// A series born inside the window counts from its first sample; a pod that went
    /// away counts up to its last sample, and is absent once that is out of the window.
    #[test]
    fn series_born_and_gone_inside_the_window() {
        let fake = Fake::new(400, |_, i| i as u64, |_, _| 0);
        let mut st = store(0.0);
        let id = st.add_target(Series::Version(1), s(3.0), s(50.0));
        let q = |st: &mut Store, at: f64| {
            st.query(&fake, Measure::RequestRate, Scope::Canary, s(60.0), s(at))
        };
        // First scrape at 63 s; at 100 s the samples are 63 s and 93 s.
        assert_eq!(
            q(&mut st, 100.0),
            QueryResult::Value((ramp(93) - ramp(63)) / 60.0)
        );
        st.remove_target(id, s(80.0));
        // Last sample 78 s.
        assert_eq!(
            q(&mut st, 100.0),
            QueryResult::Value((ramp(78) - ramp(63)) / 60.0)
        );
        // At 137.9 s the 78 s sample is still in (t − 60 s, t]; at 138 s it is not.
        assert_eq!(
            q(&mut st, 137.9),
            QueryResult::Value((ramp(78) - ramp(63)) / 60.0)
        );
        assert_eq!(q(&mut st, 138.0), QueryResult::Empty);
    }

    /// Two pods at phases 0 and 7.5 s: the mean of the version's increases between each
    /// pod's samples (at 60 s: 60 and 0; 52.5 and −7.5 → the first sample, 7.5 s).
    #[test]
    fn pods_at_different_phases_average() {
        let fake = Fake::new(400, |_, i| i as u64, |_, _| 0);
        let mut st = store(0.0);
        st.add_target(Series::Version(0), s(0.0), s(0.0));
        st.add_target(Series::Version(0), s(7.5), s(0.0));
        let got = st.query(&fake, Measure::RequestRate, Scope::Stable, s(60.0), s(60.0));
        let want = ((ramp(60) - ramp(0)) + (ramp(52) - ramp(7))) / 2.0 / 60.0;
        assert_eq!(got, QueryResult::Value(want));
        // Service = stable + canary; no canary pod: the stable part alone.
        let service = st.query(
            &fake,
            Measure::RequestRate,
            Scope::Service,
            s(60.0),
            s(60.0),
        );
        assert_eq!(service, QueryResult::Value(want));
    }

    /// Series exist but no request arrived: ratios are NaN, never 0; a rate is 0.
    #[test]
    fn nan_when_the_denominator_did_not_grow() {
        let fake = Fake::new(400, |_, _| 0, |_, _| 0);
        let mut st = store(0.0);
        st.add_target(Series::Version(1), s(0.0), s(0.0));
        for m in [
            Measure::SuccessRate,
            Measure::ErrorRate,
            Measure::LatencyMean,
            Measure::LatencyQuantile(Quantile::P99),
        ] {
            match st.query(&fake, m, Scope::Canary, s(60.0), s(120.0)) {
                QueryResult::Value(v) => assert!(v.is_nan(), "{m:?}: {v}"),
                other => panic!("{m:?}: {other:?}"),
            }
        }
        let r = st.query(
            &fake,
            Measure::RequestRate,
            Scope::Canary,
            s(60.0),
            s(120.0),
        );
        assert_eq!(r, QueryResult::Value(0.0));
    }

    /// All successful requests at 40 ms: the log bucket holding 40 ms lies inside the
    /// Prometheus bucket (25, 50] ms, so histogram_quantile interpolates there:
    /// p50 = 25 + 25·0.5, p99 = 25 + 25·0.99 (Prometheus reports the interpolated
    /// value, not 40). The mean reads the log bucket's middle (within 4.4%).
    #[test]
    fn latency_quantiles_interpolate_in_prometheus_buckets() {
        let fake = Fake::new(400, |_, _| 100, |_, _| 0);
        let mut st = store(0.0);
        st.add_target(Series::Version(1), s(0.0), s(0.0));
        let q = |st: &mut Store, m| match st.query(&fake, m, Scope::Canary, s(60.0), s(120.0)) {
            QueryResult::Value(v) => v,
            other => panic!("{other:?}"),
        };
        let p50 = q(&mut st, Measure::LatencyQuantile(Quantile::P50));
        let p99 = q(&mut st, Measure::LatencyQuantile(Quantile::P99));
        assert!((p50 - 37.5).abs() < 1e-9, "{p50}");
        assert!((p99 - 49.75).abs() < 1e-9, "{p99}");
        let mean = q(&mut st, Measure::LatencyMean);
        assert!((mean / 40.0 - 1.0).abs() < 0.045, "{mean}");
    }

    /// Query failures at the configured rate. 10,000 queries at p = 0.3: the share's
    /// standard deviation is √(0.3·0.7/10⁴) = 0.0046; tolerance 5 of them.
    #[test]
    fn query_failures_at_their_rate() {
        let fake = Fake::new(100, |_, _| 1, |_, _| 0);
        let mut st = store(0.3);
        st.add_target(Series::Version(1), s(0.0), s(0.0));
        let errors = (0..10_000)
            .filter(|_| {
                st.query(&fake, Measure::ErrorRate, Scope::Canary, s(30.0), s(60.0))
                    == QueryResult::Error
            })
            .count();
        assert!((errors as f64 / 1e4 - 0.3).abs() < 5.0 * 0.0046, "{errors}");
    }

    /// Kayenta's input: one point per scrape interval over the window, each the measure
    /// over one interval; empty and NaN points dropped.
    #[test]
    fn points_per_scrape() {
        // Requests from second 90 on (a sample time), every even second's all failing:
        // points before have no data (NaN, dropped).
        let fake = Fake::new(
            400,
            |_, i| if i >= 90 { 10 } else { 0 },
            |_, i| if i >= 90 && i % 2 == 0 { 10 } else { 0 },
        );
        let mut st = store(0.0);
        st.add_target(Series::Version(1), s(0.0), s(0.0));
        let pts = st
            .points(
                &fake,
                Measure::ErrorRate,
                Series::Version(1),
                s(150.0),
                s(180.0),
            )
            .unwrap();
        // Points at 45, 60, …, 180 s (10); those over [90, 105) on have requests:
        // 105..180 → 6 points, each 15 s holding 7 or 8 even seconds of 15.
        assert_eq!(pts.len(), 6, "{pts:?}");
        for p in &pts {
            assert!((p - 0.5).abs() <= 1.0 / 30.0 + 1e-12, "{p}");
        }
    }

    /// Prometheus' documented behaviour of `histogram_quantile`, case by case
    /// (buckets le = 100, 200, 400 ms and +Inf; counts cumulative).
    #[test]
    fn histogram_quantile_cases() {
        let inf = f64::INFINITY;
        let b = |c: [f64; 4]| vec![(100.0, c[0]), (200.0, c[1]), (400.0, c[2]), (inf, c[3])];
        type Case = (f64, Vec<(f64, f64)>, f64);
        let cases: [Case; 7] = [
            // 10 of 10 in the first bucket: the median at half of [0, 100].
            (0.5, b([10.0, 10.0, 10.0, 10.0]), 50.0),
            // Rank 9 of 10: 5 below 100, 5 in (100, 200] → 100 + 100·(4/5).
            (0.9, b([5.0, 10.0, 10.0, 10.0]), 180.0),
            // Rank 9.9 falls in +Inf: the highest finite bound.
            (0.99, b([5.0, 6.0, 9.0, 10.0]), 400.0),
            // Nothing observed: NaN.
            (0.5, b([0.0, 0.0, 0.0, 0.0]), f64::NAN),
            // q = 0: the lower edge, 0.
            (0.0, b([4.0, 8.0, 8.0, 8.0]), 0.0),
            // q = 1 with everything finite: the top of the last non-empty bucket.
            (1.0, b([4.0, 8.0, 8.0, 8.0]), 200.0),
            // Rank 5 of 20: 2 at or below 200, 18 in (200, 400] → 200 + 200·(3/18).
            (0.25, b([1.0, 2.0, 20.0, 20.0]), 200.0 + 200.0 * 3.0 / 18.0),
        ];
        for (q, buckets, want) in cases {
            let got = histogram_quantile(q, &buckets);
            assert!(
                (got.is_nan() && want.is_nan()) || (got - want).abs() < 1e-9,
                "q = {q}, {buckets:?}: {got} != {want}"
            );
        }
        assert!(histogram_quantile(0.5, &[(inf, 3.0)]).is_nan());
    }
}
