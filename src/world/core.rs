//! `Core`: everything of one run except the deployment controller — nodes, pods, the
//! balancer, traffic, the release, monitoring counters — and the handlers of the
//! events that change them.
//!
//! API boundaries: its fields are private to `world`; the run loop (`runner`) uses
//! the `pub` methods (the run loop API below), a controller only the narrower
//! `Ctl` (`ctl.rs`), which wraps the `pub(super)` controller API here. Handlers
//! allocate nothing per request: queues and vectors grow to their peak once and are
//! reused.

use super::Ev;
use super::balancer::{Balancer, Mode};
use super::pod::{NO_NODE, Node, Phase, Pod};
use super::traffic::{Arrivals, UserTable};
use crate::metrics::{Collector, Counts, DeployPhase, Sample, TraceEvent};
use crate::scenario::{Dist, Fault, FaultKind, Fidelity, Scenario};
use crate::sim::rng::{Keyed, Purpose, Stream};
use crate::sim::{EventQueue, SimTime};

/// What the deploy has done so far; the controller writes it (through `Ctl`), the
/// row reads it.
#[derive(Clone, Debug, Default)]
pub struct DeployState {
    pub done_at: Option<SimTime>,
    pub detect_at: Option<SimTime>,
    pub decide_at: Option<SimTime>,
    pub rollback_traffic_at: Option<SimTime>,
    pub rollback_complete: bool,
    pub stalled: bool,
    /// The controller is waiting at a gate (manual promotion, paused swarm update).
    pub gated: bool,
}

pub struct Core<'a> {
    pub(super) sc: &'a Scenario,
    pub(super) seed: u64,
    pub(super) now: SimTime,
    pub(super) q: EventQueue<Ev>,
    pub(super) nodes: Vec<Node>,
    pub(super) pods: Vec<Pod>,
    pub(super) lb: Balancer,
    pub(super) metrics: Collector,
    pub(super) phase: DeployPhase,
    pub(super) deploy: DeployState,
    /// `minReadySeconds` of the active controller (availability).
    pub(super) min_ready: SimTime,
    /// Desired pods per version (the two ReplicaSets).
    pub(super) desired: [u32; 2],
    pub(super) next_ordinal: [u32; 2],
    pub(super) faulty: bool,
    pub(super) fault: Option<Fault>,
    pub(super) users: &'a UserTable,
    pub(super) arrivals: Arrivals,
    pub(super) next_request: u32,
    pub(super) next_retry: u32,
    pub(super) req_keys: Keyed,
    pub(super) retry_keys: Keyed,
    pub(super) user_stream: Stream,
    pub(super) sticky_keys: Keyed,
    pub(super) cohort_keys: Keyed,
    pub(super) pod_keys: Keyed,
    pub(super) node_streams: Vec<Stream>,
    pub(super) people: Stream,
    /// Synthetic requests to the preview stack (`preview_traffic`): their rate per
    /// second (0: none), the epoch of the running arrival chain, the next request
    /// number, per-request draws and inter-arrival gaps, each its own stream.
    pub(super) preview_rate: f64,
    pub(super) preview_epoch: u32,
    pub(super) next_preview: u32,
    pub(super) preview_keys: Keyed,
    pub(super) preview_gaps: Stream,
    pub(super) sync_pending: bool,
    pub(super) rollback_requested: bool,
    /// Pods holding a node slot (scheduled and not yet exited).
    pub(super) live_pods: u64,
    pub(super) log: Option<Vec<TraceEvent>>,
    pub(super) scratch: Vec<u32>,
    /// Room for `probe_wait`'s worker free times.
    pub(super) scratch_times: Vec<SimTime>,
    /// Fluid mode's shortcuts: probe chains of ready pods whose probes cannot fail are
    /// parked (`on_probe`), and a version whose endpoints are all in one steady state
    /// is stepped once, quiet whole seconds of it without bookkeeping (`fluid.rs`).
    /// Results are identical either way (tested); they only save work.
    pub(super) shortcuts: bool,
    /// Fluid mode only: pods removed from the balancer since the fluid traffic last
    /// looked (they may still hold work to serve or lose).
    pub(super) left_lb: Vec<u32>,
    /// The scrape store and the analyses controllers started (DESIGN.md §9).
    pub(super) analyses: super::analysis::Analyses,
}

/// What is left of a finished run (`Core::into_parts`).
pub struct Finished<'a> {
    pub sc: &'a Scenario,
    pub metrics: Collector,
    pub deploy: DeployState,
    pub faulty: bool,
    pub fault: Option<Fault>,
    /// The event log (trace mode).
    pub log: Option<Vec<TraceEvent>>,
    /// Events the run scheduled.
    pub events: u64,
    /// Analysis measurements over the run.
    pub analysis: crate::analysis::Tally,
}

thread_local! {
    /// The event queue of this thread's last finished run, kept for the next one: its
    /// buckets are tens of KB, and a fluid run takes a fraction of a millisecond.
    static SPARE_QUEUE: std::cell::Cell<Option<EventQueue<Ev>>> =
        const { std::cell::Cell::new(None) };
}

/// An empty queue: this thread's spare one (cleared, so a run cannot tell it from a new
/// one), or a new one with room for about `hint` pending events.
fn take_queue(hint: usize) -> EventQueue<Ev> {
    match SPARE_QUEUE.take() {
        Some(mut q) => {
            q.clear();
            q
        }
        None => EventQueue::with_capacity(hint),
    }
}

/// Gives a finished run's queue back for the next run on this thread.
fn recycle_queue(q: EventQueue<Ev>) {
    SPARE_QUEUE.set(Some(q));
}

impl<'a> Core<'a> {
    pub fn new(sc: &'a Scenario, users: &'a UserTable, seed: u64, trace: bool) -> Self {
        // The release draw: identical for every strategy of a seed.
        let mut rel = Stream::new(seed, Purpose::Release, 0);
        let faulty = rel.uniform() < sc.release.bad_probability;
        let pick = rel.uniform();
        let fault = faulty.then(|| {
            let total: f64 = sc.release.faults.iter().map(|f| f.weight).sum();
            let mut acc = 0.0;
            let mut chosen = &sc.release.faults[0].fault;
            for f in &sc.release.faults {
                acc += f.weight / total;
                if pick < acc && f.weight > 0.0 {
                    chosen = &f.fault;
                    break;
                }
                if f.weight > 0.0 {
                    chosen = &f.fault;
                }
            }
            chosen.clone()
        });
        // Full-disk nodes: a seeded partial shuffle picks round(fraction * nodes).
        let n = sc.cluster.nodes as usize;
        let k = (sc.cluster.full_disk_fraction * n as f64).round() as usize;
        let mut order: Vec<usize> = (0..n).collect();
        let mut fd = Stream::new(seed, Purpose::FullDisk, 0);
        for i in 0..k.min(n) {
            let j = i + (fd.uniform() * (n - i) as f64) as usize;
            order.swap(i, j.min(n - 1));
        }
        let mut nodes: Vec<Node> = (0..n)
            .map(|_| Node {
                up: true,
                used: 0,
                full_disk: false,
                image_at: [SimTime::ZERO, SimTime::MAX],
                epoch: 0,
                pulls: 0,
            })
            .collect();
        for &i in &order[..k.min(n)] {
            nodes[i].full_disk = true;
        }
        let latency_rule = !sc.monitoring.latency_p99_max.is_zero();
        let cap = (sc.service.replicas as usize) * 4 + 16;
        Core {
            sc,
            seed,
            now: SimTime::ZERO,
            q: take_queue(cap * sc.service.workers as usize + 64),
            nodes,
            pods: Vec::with_capacity(cap),
            lb: Balancer::new(sc.load_balancer.routing, cap),
            metrics: Collector::new(
                sc.deploy_at,
                sc.duration,
                sc.service.replicas,
                sc.traffic.users,
                sc.slo.latency,
                latency_rule || trace || sc.analysis.needs_latency(),
            ),
            phase: DeployPhase::Steady,
            deploy: DeployState::default(),
            min_ready: SimTime::ZERO,
            desired: [0, 0],
            next_ordinal: [0, 0],
            faulty,
            fault,
            users,
            arrivals: Arrivals::new(&sc.traffic, Stream::new(seed, Purpose::Arrivals, 0)),
            next_request: 0,
            next_retry: 0,
            req_keys: Keyed::new(seed, Purpose::Request, 0),
            retry_keys: Keyed::new(seed, Purpose::Retry, 0),
            user_stream: Stream::new(seed, Purpose::Users, 0),
            sticky_keys: Keyed::new(seed, Purpose::Users, 1),
            cohort_keys: Keyed::new(seed, Purpose::Cohort, 0),
            pod_keys: Keyed::new(seed, Purpose::Pod, 0),
            node_streams: (0..n as u64)
                .map(|i| Stream::new(seed, Purpose::NodeFailure, i))
                .collect(),
            people: Stream::new(seed, Purpose::People, 0),
            preview_rate: 0.0,
            preview_epoch: 0,
            next_preview: 0,
            preview_keys: Keyed::new(seed, Purpose::Preview, 0),
            preview_gaps: Stream::new(seed, Purpose::Preview, 1),
            sync_pending: false,
            rollback_requested: false,
            live_pods: 0,
            log: trace.then(Vec::new),
            scratch: Vec::with_capacity(cap),
            scratch_times: Vec::new(),
            shortcuts: sc.fidelity == Fidelity::Fluid,
            left_lb: Vec::new(),
            analyses: super::analysis::Analyses::new(sc, seed),
        }
    }

    /// Before t = 0: the old version runs `replicas` pods, ready and in the balancer.
    pub fn boot(&mut self) {
        let r = self.sc.service.replicas;
        self.desired[0] = r;
        for _ in 0..r {
            let p = self.new_pod(0);
            let pod = &mut self.pods[p as usize];
            if pod.node == NO_NODE {
                continue;
            }
            pod.phase = Phase::Running;
            pod.app_up = true;
            pod.accepting = true;
            pod.ready = true;
            pod.probe_ok = self.sc.service.readiness.success_threshold;
            pod.in_lb = true;
            pod.lb_pos = self.lb.add(0, p);
            self.log("ready", Some(p), || {
                "boot: running and in the balancer".into()
            });
            // Spread the probes of the initial pods over a period.
            let off = self.sc.service.readiness.period.micros() * p as u64 / r.max(1) as u64;
            self.q.push(SimTime(off), Ev::Probe { pod: p, inc: 0 });
        }
        // Fluid mode draws arrivals per slice (`fluid.rs`), not as events.
        if self.sc.fidelity == Fidelity::Request
            && let Some(t) = self.arrivals.next(SimTime::ZERO)
        {
            self.q.push_lane(t, Ev::Arrival);
        }
        if !self.sc.cluster.node_mtbf.is_zero() {
            for n in 0..self.nodes.len() {
                let t = self.exp_draw_node(n, self.sc.cluster.node_mtbf);
                self.q.push(t, Ev::NodeFail { node: n as u32 });
            }
        }
        // Fluid mode does a second's bookkeeping in its own loop (`world::run`).
        if self.sc.fidelity == Fidelity::Request {
            self.q.push(SimTime::ZERO, Ev::Tick);
        }
    }

    pub(super) fn exp_draw_node(&mut self, n: usize, mean: SimTime) -> SimTime {
        let e = self.node_streams[n].exp1();
        self.now + SimTime::from_secs_f64(e * mean.secs_f64())
    }

    /// A draw for a person (response, promotion), in order of need.
    pub fn people_draw(&mut self, d: &Dist) -> SimTime {
        let u = self.people.uniform();
        d.sample(u)
    }

    pub fn log(&mut self, kind: &'static str, pod: Option<u32>, detail: impl FnOnce() -> String) {
        if let Some(log) = &mut self.log {
            let (version, node) = match pod {
                Some(p) => {
                    let pod = &self.pods[p as usize];
                    (Some(pod.version), (pod.node != NO_NODE).then_some(pod.node))
                }
                None => (None, None),
            };
            log.push(TraceEvent {
                t: self.now,
                kind,
                pod,
                version,
                node,
                detail: detail(),
            });
        }
    }

    // ---------------------------------------------------------------- run loop API

    /// The kind of the release's fault (`None`: a healthy release).
    pub fn fault_kind(&self) -> Option<FaultKind> {
        self.fault.as_ref().map(|f| f.kind())
    }

    /// Schedules one of the run loop's own events (deploy start, monitoring, the
    /// person, the clock tick).
    pub fn schedule(&mut self, at: SimTime, ev: Ev) {
        self.q.push(at, ev);
    }

    /// The next event due before `horizon`, taken off the queue (`now` is not moved).
    pub fn next_event(&mut self, horizon: SimTime) -> Option<(SimTime, Ev)> {
        self.q.pop_before(horizon)
    }

    pub fn now(&self) -> SimTime {
        self.now
    }

    pub fn set_now(&mut self, t: SimTime) {
        self.now = t;
    }

    /// What the deploy has done so far.
    pub fn deploy(&self) -> &DeployState {
        &self.deploy
    }

    /// A problem was detected at `t` (kept if one was detected before).
    pub fn detected_at(&mut self, t: SimTime) {
        self.deploy.detect_at.get_or_insert(t);
    }

    /// The rollback decision, now: its time for the row, the timeline's phase.
    pub fn decide_rollback(&mut self) {
        self.deploy.decide_at = Some(self.now);
        self.phase = DeployPhase::RollingBack;
        self.log("rollback_start", None, String::new);
    }

    /// At every whole second (`now`): a second in which the balancer has no endpoint
    /// at its start is marked, and the trace samples the state.
    pub fn second_starts(&mut self, samples: Option<&mut Vec<Sample>>) {
        let t = self.now;
        if self.lb.total() == 0 {
            self.metrics.mark_no_endpoint(t);
        }
        if let Some(samples) = samples {
            samples.push(Sample {
                t_s: t.second() as u64,
                phase: self.phase,
                old: self.counts(0),
                new: self.counts(1),
                new_weight: self.lb.new_share(),
                lb_old: self.lb.count(0) as u32,
                lb_new: self.lb.count(1) as u32,
            });
        }
    }

    /// The finished run taken apart for its row; the event queue goes back to this
    /// thread's spare (`recycle_queue`).
    pub fn into_parts(self) -> Finished<'a> {
        let events = self.q.pushes();
        recycle_queue(self.q);
        Finished {
            sc: self.sc,
            metrics: self.metrics,
            deploy: self.deploy,
            faulty: self.faulty,
            fault: self.fault,
            log: self.log,
            events,
            analysis: self.analyses.tally(),
        }
    }

    // ---------------------------------------------------------------- controller API (`Ctl`)

    /// Requests a controller sync at the current time (deduplicated).
    pub(super) fn request_sync(&mut self) {
        if !self.sync_pending {
            self.sync_pending = true;
            self.q.push(self.now, Ev::Sync);
        }
    }
    pub(super) fn sync_taken(&mut self) {
        self.sync_pending = false;
    }

    /// Schedules a controller timer.
    pub(super) fn timer(&mut self, at: SimTime, tag: u32) {
        self.q.push(at, Ev::Timer { tag });
    }

    pub(super) fn counts(&self, version: u8) -> Counts {
        let mut c = Counts::default();
        for p in &self.pods {
            if p.version != version || p.phase == Phase::Gone {
                continue;
            }
            if p.terminating {
                c.terminating += 1;
                continue;
            }
            c.active += 1;
            if p.ready {
                c.ready += 1;
                if p.ready_since + self.min_ready <= self.now {
                    c.available += 1;
                }
            }
        }
        c
    }

    pub(super) fn desired(&self, version: u8) -> u32 {
        self.desired[version as usize]
    }

    /// Scales the ReplicaSet of `version` to `n` pods: creates or deletes pods now.
    pub(super) fn set_desired(&mut self, version: u8, n: u32) {
        self.desired[version as usize] = n;
        self.reconcile(version);
    }

    pub(super) fn set_mode(&mut self, mode: Mode) {
        if self.lb.mode != mode {
            self.lb.mode = mode;
            if let Mode::Weighted { new_weight, .. } = mode {
                self.log("weight", None, || {
                    format!("new version weight {new_weight}%")
                });
            }
            self.check_rollback_traffic();
        }
    }

    /// The ReplicaSet controller: replace missing pods, delete surplus ones in the
    /// Kubernetes order (unscheduled, then not ready, then most recently ready).
    pub(super) fn reconcile(&mut self, version: u8) {
        let want = self.desired[version as usize];
        let have = self
            .pods
            .iter()
            .filter(|p| p.version == version && p.active())
            .count() as u32;
        if have < want {
            for _ in have..want {
                self.new_pod(version);
            }
        } else if have > want {
            let mut cand = std::mem::take(&mut self.scratch);
            cand.clear();
            cand.extend((0..self.pods.len() as u32).filter(|&i| {
                self.pods[i as usize].version == version && self.pods[i as usize].active()
            }));
            let rank = |p: &Pod| {
                let sched = (p.node != NO_NODE) as u8;
                let running = matches!(p.phase, Phase::Running) as u8;
                let ready = p.ready as u8;
                // Lower sorts first = deleted first. Newer ready time and creation first.
                (
                    sched,
                    running,
                    ready,
                    u64::MAX - p.ready_since.0,
                    u32::MAX - p.restarts,
                    u64::MAX - p.created.0,
                )
            };
            cand.sort_by_key(|&i| rank(&self.pods[i as usize]));
            for &i in cand.iter().take((have - want) as usize) {
                self.terminate(i);
            }
            self.scratch = cand;
        }
    }
}
