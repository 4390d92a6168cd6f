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
use super::pod::{NO_NODE, Node, Phase, Pod, Req};
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
}

/// `Req::attempt` of a synthetic preview request (never a client retry count).
const PREVIEW_ATTEMPT: u8 = u8::MAX;

fn is_faulty_kind(f: &Option<Fault>, pred: impl Fn(&Fault) -> bool) -> bool {
    f.as_ref().is_some_and(pred)
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
                latency_rule || trace,
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

    fn exp_draw_node(&mut self, n: usize, mean: SimTime) -> SimTime {
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

    // ---------------------------------------------------------------- pod lifecycle

    fn new_pod(&mut self, version: u8) -> u32 {
        let ord = self.next_ordinal[version as usize];
        self.next_ordinal[version as usize] += 1;
        let id = self.pods.len() as u32;
        self.pods.push(Pod::new(version, ord, self.now));
        self.log("create", Some(id), String::new);
        self.try_schedule(id);
        id
    }

    fn try_schedule(&mut self, p: u32) {
        let cap = self.sc.cluster.pods_per_node;
        let best = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.up && n.used < cap)
            .min_by_key(|(i, n)| (n.used, *i))
            .map(|(i, _)| i);
        let Some(n) = best else {
            return;
        };
        self.nodes[n].used += 1;
        // Cost counts pods holding a node slot: an unscheduled Pending pod costs
        // nothing (DESIGN.md §6 peak_pods / extra_pod_seconds).
        self.live_pods += 1;
        self.metrics.pods(self.now, self.live_pods);
        let pod = &mut self.pods[p as usize];
        pod.node = n as u32;
        if self.now.is_zero() && pod.version == 0 {
            return; // boot: already running
        }
        self.log("scheduled", Some(p), String::new);
        self.start_pull(p);
    }

    fn schedule_pending(&mut self) {
        for i in 0..self.pods.len() {
            let p = &self.pods[i];
            if p.phase == Phase::Pending && p.node == NO_NODE && !p.terminating {
                self.try_schedule(i as u32);
            }
        }
    }

    fn start_pull(&mut self, p: u32) {
        let (v, n, inc) = {
            let pod = &mut self.pods[p as usize];
            pod.phase = Phase::Pulling;
            pod.pull_attempts += 1;
            (pod.version, pod.node as usize, pod.inc)
        };
        let node = &mut self.nodes[n];
        if v == 1 && node.full_disk {
            // The pull fails once the layers do not fit: ErrImagePull after the download.
            let k = self.pod_keys.child(0x100 + n as u64);
            let t = self
                .sc
                .service
                .image_pull
                .sample(k.uniform(node.pulls as u64));
            node.pulls += 1;
            self.q.push(self.now + t, Ev::PullFailed { pod: p, inc });
            return;
        }
        if node.image_at[v as usize] == SimTime::MAX {
            // One pull per node and image; later pods on the node find it cached.
            let k = self.pod_keys.child((v as u64) << 32 | n as u64);
            let t = self.sc.service.image_pull.sample(k.uniform(0));
            node.image_at[v as usize] = self.now + t;
        }
        let at = node.image_at[v as usize].max(self.now);
        self.q.push(at, Ev::Pulled { pod: p, inc });
    }

    pub(super) fn on_pull_failed(&mut self, p: u32, inc: u32) {
        if !self.current(p, inc) {
            return;
        }
        let b = self.backoff(self.pods[p as usize].pull_attempts);
        self.pods[p as usize].phase = Phase::PullBackOff;
        self.log("pull_failed", Some(p), || {
            format!("ErrImagePull (disk full); retry in {}", b.human())
        });
        self.q.push(self.now + b, Ev::PullRetry { pod: p, inc });
    }

    pub(super) fn on_pull_retry(&mut self, p: u32, inc: u32) {
        if self.current(p, inc) {
            self.start_pull(p);
        }
    }

    pub(super) fn on_pulled(&mut self, p: u32, inc: u32) {
        if self.current(p, inc) {
            self.log("pulled", Some(p), String::new);
            self.start_container(p);
        }
    }

    fn backoff(&self, exp: u32) -> SimTime {
        let b = &self.sc.service.restart_backoff;
        let f = 1u64 << exp.saturating_sub(1).min(30);
        SimTime(b.initial.0.saturating_mul(f)).min(b.max)
    }

    fn start_container(&mut self, p: u32) {
        let sc = self.sc;
        let pod = &mut self.pods[p as usize];
        pod.phase = Phase::Starting;
        pod.app_up = false;
        pod.started_at = self.now;
        pod.probe_ok = 0;
        pod.probe_fail = 0;
        let (v, ord, restarts, inc) = (pod.version, pod.ordinal, pod.restarts, pod.inc);
        let k = self
            .pod_keys
            .child(((v as u64) << 40) | ((ord as u64) << 8))
            .child(restarts as u64);
        let startup = sc.service.startup.sample(k.uniform(0));
        self.q.push(self.now + startup, Ev::AppUp { pod: p, inc });
        self.q.push(
            self.now + sc.service.readiness.initial_delay,
            Ev::Probe { pod: p, inc },
        );
        if v == 1
            && let Some(Fault::CrashLater { after }) = &self.fault
        {
            let t = after.sample(k.uniform(1));
            self.q.push(self.now + t, Ev::Crash { pod: p, inc });
        }
        self.log("started", Some(p), || {
            format!("container started; app up in {}", startup.human())
        });
    }

    pub(super) fn on_app_up(&mut self, p: u32, inc: u32) {
        if !self.current(p, inc) {
            return;
        }
        let crash = self.pods[p as usize].version == 1
            && is_faulty_kind(&self.fault, |f| matches!(f, Fault::CrashOnStart));
        if crash {
            self.crash(p, "crash_on_start");
            return;
        }
        let pod = &mut self.pods[p as usize];
        pod.app_up = true;
        pod.phase = Phase::Running;
        pod.accepting = !pod.terminating && !pod.lost;
    }

    /// Whether a probe of `p` passes now: the application is up, its node is, and the
    /// probe gets a worker within its timeout (`probe_wait`).
    pub(super) fn probe_passes(&mut self, p: u32) -> bool {
        let pod = &self.pods[p as usize];
        if !pod.app_up || pod.lost {
            return false;
        }
        let timeout = self.sc.service.readiness.timeout;
        self.probe_wait(p, timeout) <= timeout
    }

    /// How long a probe sent to `p` now waits for a worker, or some time beyond
    /// `limit` once it is clear that it waits longer. The probe is a request like any
    /// other: it queues behind the requests already waiting, in order (its own
    /// handling, a health endpoint, takes no time). In the request-level mode that
    /// wait is known exactly: each worker frees up when its request ends, and each
    /// queued request then holds the first free worker for its own service time (the
    /// keyed draw it will get, fault included). In fluid mode the queue is a real
    /// number and the wait is its fluid value, queue / (workers / mean service time of
    /// the pod's version, fault included), as fluid arrivals wait.
    fn probe_wait(&mut self, p: u32, limit: SimTime) -> SimTime {
        let workers = self.sc.service.workers;
        let pod = &self.pods[p as usize];
        if pod.fluid_queue > 0.0 {
            let svc = self.mean_service_secs(pod.version);
            return SimTime::from_secs_f64(pod.fluid_queue * svc / workers as f64);
        }
        if pod.busy < workers {
            return SimTime::ZERO;
        }
        let deadline = self.now + limit;
        let mut free = std::mem::take(&mut self.scratch_times);
        free.clear();
        let pod = &self.pods[p as usize];
        free.extend(
            pod.slots
                .iter()
                .zip(&pod.slot_end)
                .filter(|(r, _)| r.is_some())
                .map(|(_, &end)| end),
        );
        // The worker that frees up first, and when.
        let first_free = |free: &[SimTime]| {
            free.iter()
                .copied()
                .enumerate()
                .min_by_key(|&(_, t)| t)
                .expect("a busy pod has workers")
        };
        let v = pod.version;
        let mut next = first_free(&free);
        for r in &self.pods[p as usize].queue {
            if next.1 > deadline {
                break;
            }
            free[next.0] = next.1 + self.service_time(v, self.keys(r));
            next = first_free(&free);
        }
        let at = next.1;
        self.scratch_times = free;
        at.saturating_sub(self.now)
    }

    /// Mean service time (s) of a pod of `version`, with the release's latency or
    /// capacity fault on the new version.
    pub(super) fn mean_service_secs(&self, version: u8) -> f64 {
        let mean = self.sc.service.service_time.mean_secs();
        match &self.fault {
            Some(Fault::Latency { extra }) if version == 1 => mean + extra.secs_f64(),
            Some(Fault::Capacity { factor }) if version == 1 => mean * factor,
            _ => mean,
        }
    }

    /// A readiness probe. One that fails by waiting longer than its timeout is
    /// counted when the timeout ends (`on_probe_timeout`). In fluid mode a probe that passes on a ready pod changes
    /// nothing, and so would every later one until the pod's queue grows past the probe
    /// timeout (`fluid.rs` wakes the chain then, at the next time a probe was due) or
    /// the pod's incarnation changes (crash, node loss: the chain would be stale). Such
    /// a chain is parked instead of scheduling a no-op event every period.
    pub(super) fn on_probe(&mut self, p: u32, inc: u32) {
        if !self.current(p, inc) {
            return;
        }
        let phase = self.pods[p as usize].phase;
        if phase == Phase::Gone || phase == Phase::CrashLoop {
            return;
        }
        let reachable = self.pods[p as usize].app_up && !self.pods[p as usize].lost;
        let ok = self.probe_passes(p);
        let rp = &self.sc.service.readiness;
        if reachable && !ok {
            // It waits out its timeout: the kubelet records the failure then, and
            // starts the next probe at its first tick after that.
            let period = rp.period.micros().max(1);
            let ticks = rp.timeout.micros().div_ceil(period).max(1);
            self.q
                .push(self.now + rp.timeout, Ev::ProbeTimeout { pod: p, inc });
            self.q.push(
                SimTime(self.now.micros() + ticks * period),
                Ev::Probe { pod: p, inc },
            );
            return;
        }
        let pod = &mut self.pods[p as usize];
        if ok {
            pod.probe_ok += 1;
            pod.probe_fail = 0;
        } else {
            pod.probe_fail += 1;
            pod.probe_ok = 0;
        }
        let become_ready =
            ok && !pod.ready && pod.probe_ok >= rp.success_threshold && !pod.terminating;
        let become_unready = !ok && pod.ready && pod.probe_fail >= rp.failure_threshold;
        if self.shortcuts && ok && pod.ready {
            pod.probe_parked = Some((self.now + rp.period, inc));
            return;
        }
        self.q.push(self.now + rp.period, Ev::Probe { pod: p, inc });
        if become_ready {
            self.set_ready(p, true);
        } else if become_unready {
            self.set_ready(p, false);
        }
    }

    /// A probe of `p` started `timeout` ago got no answer: a failure.
    pub(super) fn on_probe_timeout(&mut self, p: u32, inc: u32) {
        if !self.current(p, inc) || self.pods[p as usize].phase == Phase::CrashLoop {
            return;
        }
        let threshold = self.sc.service.readiness.failure_threshold;
        let pod = &mut self.pods[p as usize];
        pod.probe_fail += 1;
        pod.probe_ok = 0;
        if pod.ready && pod.probe_fail >= threshold {
            self.set_ready(p, false);
        }
    }

    /// Resumes a parked probe chain of `p` at the first time a probe was due at or
    /// after `from` (see `on_probe`), if the chain still belongs to the pod.
    pub(super) fn wake_probe(&mut self, p: u32, from: SimTime) {
        let period = self.sc.service.readiness.period.micros().max(1);
        let pod = &mut self.pods[p as usize];
        let Some((due, inc)) = pod.probe_parked.take() else {
            return;
        };
        if inc != pod.inc {
            return;
        }
        let periods = from.saturating_sub(due).micros().div_ceil(period);
        // `from` ends a slice fluid mode is catching up through, so this due time can
        // be before the event being handled: the probe then runs right after it, at
        // its own time, as it would have run before it without the shortcut (the
        // shortcuts test compares every row).
        self.q.push_late(
            SimTime(due.micros() + periods * period),
            Ev::Probe { pod: p, inc },
        );
    }

    fn set_ready(&mut self, p: u32, ready: bool) {
        let pod = &mut self.pods[p as usize];
        if pod.ready == ready {
            return;
        }
        pod.ready = ready;
        let inc = pod.inc;
        if ready {
            pod.ready_since = self.now;
            if !self.min_ready.is_zero() {
                self.q.push(self.now + self.min_ready, Ev::Sync);
            }
        }
        self.q.push(
            self.now + self.sc.load_balancer.endpoint_lag,
            Ev::Endpoint {
                pod: p,
                inc,
                add: ready,
            },
        );
        self.log(
            if ready { "ready" } else { "unready" },
            Some(p),
            String::new,
        );
        self.request_sync();
    }

    pub(super) fn on_endpoint(&mut self, p: u32, inc: u32, add: bool) {
        let pod = &self.pods[p as usize];
        if add {
            if pod.inc != inc
                || !pod.ready
                || pod.terminating
                || pod.in_lb
                || pod.phase == Phase::Gone
            {
                return;
            }
            let pos = self.lb.add(pod.version, p);
            let pod = &mut self.pods[p as usize];
            pod.in_lb = true;
            pod.lb_pos = pos;
            self.log("endpoint_add", Some(p), String::new);
        } else {
            // Removal stands even if the pod restarted since, unless it is ready again.
            if !pod.in_lb || (pod.ready && !pod.terminating && pod.phase != Phase::Gone) {
                return;
            }
            self.lb_remove(p);
            self.log("endpoint_remove", Some(p), String::new);
        }
        self.check_rollback_traffic();
    }

    fn lb_remove(&mut self, p: u32) {
        let (v, pos) = (self.pods[p as usize].version, self.pods[p as usize].lb_pos);
        if let Some(moved) = self.lb.remove(v, pos) {
            self.pods[moved as usize].lb_pos = pos;
        }
        self.pods[p as usize].in_lb = false;
        if self.sc.fidelity == Fidelity::Fluid {
            self.left_lb.push(p);
        }
    }

    /// After a rollback decision: the first moment no request can reach the new
    /// version while the old one has endpoints.
    pub fn check_rollback_traffic(&mut self) {
        if self.deploy.decide_at.is_some() && self.deploy.rollback_traffic_at.is_none() {
            let new_off = self.lb.count(1) == 0
                || matches!(self.lb.mode, Mode::Weighted { new_weight: 0, .. });
            if new_off && self.lb.count(0) > 0 {
                self.deploy.rollback_traffic_at = Some(self.now);
            }
        }
    }

    fn crash(&mut self, p: u32, why: &'static str) {
        self.drop_requests(p);
        let pod = &mut self.pods[p as usize];
        pod.accepting = false;
        pod.app_up = false;
        // The kubelet resets the back-off after ten minutes of running.
        if self.now.saturating_sub(pod.started_at) >= SimTime::from_secs(600) {
            pod.backoff_exp = 0;
        }
        pod.restarts += 1;
        pod.backoff_exp += 1;
        pod.phase = Phase::CrashLoop;
        let (inc, exp, terminating) = (pod.inc, pod.backoff_exp, pod.terminating);
        self.set_ready(p, false);
        if terminating {
            self.exit(p);
            return;
        }
        let b = self.backoff(exp);
        self.log("crash", Some(p), || {
            format!("{why}; CrashLoopBackOff {}", b.human())
        });
        self.q.push(self.now + b, Ev::Restart { pod: p, inc });
        self.request_sync();
    }

    pub(super) fn on_crash(&mut self, p: u32, inc: u32) {
        if self.current(p, inc) && self.pods[p as usize].phase != Phase::CrashLoop {
            self.crash(p, "crash_later");
        }
    }

    pub(super) fn on_restart(&mut self, p: u32, inc: u32) {
        if self.current(p, inc) && !self.pods[p as usize].lost {
            self.log("restart", Some(p), String::new);
            self.start_container(p);
        }
    }

    fn current(&self, p: u32, inc: u32) -> bool {
        let pod = &self.pods[p as usize];
        pod.inc == inc && pod.phase != Phase::Gone
    }

    /// Deletes a pod: it leaves the balancer after the endpoint lag, stops accepting
    /// after `pre_stop`, and exits when drained or at the end of the grace period.
    pub(super) fn terminate(&mut self, p: u32) {
        let pod = &mut self.pods[p as usize];
        if pod.terminating || pod.phase == Phase::Gone {
            return;
        }
        pod.terminating = true;
        let inc = pod.inc;
        let serving = pod.app_up && pod.phase == Phase::Running && !pod.lost;
        let was_listed = pod.ready || pod.in_lb;
        pod.ready = false;
        self.log("terminate", Some(p), String::new);
        if was_listed {
            self.q.push(
                self.now + self.sc.load_balancer.endpoint_lag,
                Ev::Endpoint {
                    pod: p,
                    inc,
                    add: false,
                },
            );
        }
        if !serving {
            self.exit(p);
            return;
        }
        self.pods[p as usize].phase = Phase::Terminating;
        let stop = self.now + self.sc.service.pre_stop;
        self.q.push(stop, Ev::StopAccepting { pod: p, inc });
        self.q.push(
            stop + self.sc.service.termination_grace,
            Ev::GraceEnd { pod: p, inc },
        );
        self.request_sync();
    }

    pub(super) fn on_stop_accepting(&mut self, p: u32, inc: u32) {
        if !self.current(p, inc) {
            return;
        }
        let pod = &mut self.pods[p as usize];
        pod.accepting = false;
        if pod.outstanding() == 0 {
            self.exit(p);
        }
    }

    pub(super) fn on_grace_end(&mut self, p: u32, inc: u32) {
        if self.current(p, inc) {
            self.log("killed", Some(p), || "termination grace ended".into());
            self.exit(p);
        }
    }

    /// The container is gone: in-flight requests fail, the slot is freed.
    fn exit(&mut self, p: u32) {
        if self.pods[p as usize].phase == Phase::Gone {
            return;
        }
        self.drop_requests(p);
        let pod = &mut self.pods[p as usize];
        pod.accepting = false;
        pod.ready = false;
        pod.phase = Phase::Gone;
        let node = pod.node;
        if node != NO_NODE {
            self.nodes[node as usize].used -= 1;
            self.live_pods -= 1;
            self.metrics.pods(self.now, self.live_pods);
        }
        self.log("exit", Some(p), String::new);
        self.schedule_pending();
        self.request_sync();
    }

    fn fail_queue(&mut self, p: u32) {
        while let Some(r) = self.pods[p as usize].queue.pop_front() {
            let v = self.pods[p as usize].version;
            self.finish(r, v, true, self.now.saturating_sub(r.arrive), true);
        }
    }

    // ---------------------------------------------------------------- nodes

    pub(super) fn on_node_fail(&mut self, n: u32) {
        let node = &mut self.nodes[n as usize];
        node.up = false;
        node.epoch += 1;
        let epoch = node.epoch;
        self.log("node_down", None, || format!("node {n} failed"));
        for i in 0..self.pods.len() {
            let pod = &self.pods[i];
            if pod.node != n || pod.phase == Phase::Gone {
                continue;
            }
            self.drop_requests(i as u32);
            let pod = &mut self.pods[i];
            pod.lost = true;
            pod.accepting = false;
            pod.app_up = false;
        }
        let grace = self.now + self.sc.cluster.node_grace;
        self.q.push(grace, Ev::NodeGrace { node: n, epoch });
        let evict = self.now + self.sc.cluster.pod_eviction.max(self.sc.cluster.node_grace);
        self.q.push(evict, Ev::NodeEvict { node: n, epoch });
        let back = self.exp_draw_node(n as usize, self.sc.cluster.node_mttr);
        self.q.push(back, Ev::NodeRecover { node: n });
    }

    pub(super) fn on_node_grace(&mut self, n: u32, epoch: u32) {
        if self.nodes[n as usize].epoch != epoch || self.nodes[n as usize].up {
            return;
        }
        for i in 0..self.pods.len() as u32 {
            let pod = &self.pods[i as usize];
            if pod.node == n && pod.phase != Phase::Gone && pod.lost {
                self.set_ready(i, false);
            }
        }
    }

    pub(super) fn on_node_evict(&mut self, n: u32, epoch: u32) {
        if self.nodes[n as usize].epoch != epoch || self.nodes[n as usize].up {
            return;
        }
        for i in 0..self.pods.len() as u32 {
            let pod = &self.pods[i as usize];
            if pod.node == n && pod.phase != Phase::Gone {
                self.log("evicted", Some(i), String::new);
                self.exit(i);
            }
        }
        self.reconcile(0);
        self.reconcile(1);
    }

    pub(super) fn on_node_recover(&mut self, n: u32) {
        self.nodes[n as usize].up = true;
        self.log("node_up", None, || format!("node {n} recovered"));
        for i in 0..self.pods.len() as u32 {
            let pod = &mut self.pods[i as usize];
            if pod.node == n && pod.phase != Phase::Gone && pod.lost {
                pod.lost = false;
                pod.inc += 1;
                if pod.terminating {
                    self.exit(i);
                } else {
                    self.start_container(i);
                }
            }
        }
        self.schedule_pending();
        let next = self.exp_draw_node(n as usize, self.sc.cluster.node_mtbf);
        self.q.push(next, Ev::NodeFail { node: n });
    }

    // ---------------------------------------------------------------- requests

    pub(super) fn on_arrival(&mut self) {
        self.metrics.arrived(self.now);
        let key = self.next_request;
        self.next_request += 1;
        let user = self.users.user(self.user_stream.uniform());
        let req = Req {
            arrive: self.now,
            key,
            user,
            attempt: 0,
            error: false,
        };
        if let Some(t) = self.arrivals.next(self.now) {
            self.q.push_lane(t, Ev::Arrival);
        }
        self.route(req);
    }

    pub(super) fn on_retry(&mut self, user: u32, attempt: u8) {
        self.metrics.arrived(self.now);
        let key = self.next_retry;
        self.next_retry += 1;
        self.route(Req {
            arrive: self.now,
            key,
            user,
            attempt,
            error: false,
        });
    }

    #[inline]
    fn keys(&self, r: &Req) -> Keyed {
        let base = match r.attempt {
            0 => self.req_keys,
            PREVIEW_ATTEMPT => self.preview_keys,
            _ => self.retry_keys,
        };
        base.child(r.key as u64)
    }

    #[inline]
    fn route(&mut self, mut req: Req) {
        let k = self.keys(&req);
        let u_route = k.uniform(2);
        let u_user = self.sticky_keys.uniform(req.user as u64);
        let pods = &self.pods;
        let Some(p) = self
            .lb
            .pick(u_route, u_user, |i| pods[i as usize].outstanding())
        else {
            self.metrics.mark_no_endpoint(self.now);
            self.finish(req, 0, false, SimTime::ZERO, true);
            return;
        };
        let pod = &self.pods[p as usize];
        let v = pod.version;
        if !pod.accepting {
            // Connection refused, or (node lost) no answer until the client gives up.
            let lat = if pod.lost {
                self.sc.service.timeout
            } else {
                SimTime::ZERO
            };
            self.finish(req, v, true, lat, true);
            return;
        }
        req.error = k.uniform(1) < self.error_rate(v, req.user);
        if self.admit(p, req, k) == Admitted::Queued {
            self.metrics.waited(req.arrive);
        }
    }

    /// The error probability of a request to `version` from `user` right now.
    #[inline]
    fn error_rate(&self, version: u8, user: u32) -> f64 {
        let base = self.sc.release.baseline_error_rate;
        let extra = match &self.fault {
            Some(Fault::Errors { error_rate }) if version == 1 => *error_rate,
            Some(Fault::Cohort { users, error_rate })
                if version == 1 && self.cohort_keys.uniform(user as u64) < *users =>
            {
                *error_rate
            }
            Some(Fault::MixedVersion { error_rate }) if self.lb.serving_both() => *error_rate,
            _ => return base,
        };
        1.0 - (1.0 - base) * (1.0 - extra)
    }

    /// A request at pod `p`: a free worker serves it, else it waits in the queue, else
    /// (queue full) it is rejected at once.
    #[inline]
    fn admit(&mut self, p: u32, req: Req, k: Keyed) -> Admitted {
        let workers = self.sc.service.workers;
        let limit = self.sc.service.queue_limit as usize;
        let pod = &mut self.pods[p as usize];
        if pod.busy < workers {
            pod.busy += 1;
            self.start_service(p, req, k);
            Admitted::Served
        } else if pod.queue.len() < limit {
            pod.queue.push_back(req);
            Admitted::Queued
        } else {
            let v = pod.version;
            self.finish(req, v, true, SimTime::ZERO, true);
            Admitted::Rejected
        }
    }

    /// The service time at a pod of `version` of the request whose draws are `k`:
    /// its keyed draw, longer on the new version under a latency or capacity fault.
    #[inline]
    fn service_time(&self, version: u8, k: Keyed) -> SimTime {
        let t = self.sc.service.service_time.sample(k.uniform(0));
        match &self.fault {
            Some(Fault::Latency { extra }) if version == 1 => t + *extra,
            Some(Fault::Capacity { factor }) if version == 1 => t.mul_f64(*factor),
            _ => t,
        }
    }

    /// `k`: the request's draws (`keys`), which the caller has at hand.
    #[inline]
    fn start_service(&mut self, p: u32, req: Req, k: Keyed) {
        let end = self.now + self.service_time(self.pods[p as usize].version, k);
        let pod = &mut self.pods[p as usize];
        let slot = match pod.free_slots.pop() {
            Some(s) => {
                pod.slots[s as usize] = Some(req);
                pod.slot_end[s as usize] = end;
                s
            }
            None => {
                pod.slots.push(Some(req));
                pod.slot_end.push(end);
                pod.slots.len() as u32 - 1
            }
        };
        let inc = pod.inc;
        self.q.push(end, Ev::Done { pod: p, inc, slot });
    }

    pub(super) fn on_done(&mut self, p: u32, inc: u32, slot: u32) {
        let pod = &mut self.pods[p as usize];
        if pod.inc != inc {
            return; // already failed when the pod crashed, lost its node or was killed
        }
        let Some(req) = pod.slots[slot as usize].take() else {
            return;
        };
        pod.free_slots.push(slot);
        let v = pod.version;
        pod.busy -= 1;
        let next = pod.queue.pop_front();
        let latency = self.now - req.arrive;
        let failed = req.error || latency > self.sc.service.timeout;
        self.finish(req, v, true, latency, failed);
        if let Some(n) = next {
            self.pods[p as usize].busy += 1;
            let k = self.keys(&n);
            self.start_service(p, n, k);
        } else {
            let pod = &self.pods[p as usize];
            if pod.terminating && !pod.accepting && pod.busy == 0 {
                self.exit(p);
            }
        }
    }

    /// Every request the pod holds fails now (crash, node loss, kill); pending events of
    /// the pod's old incarnation are ignored from here on.
    fn drop_requests(&mut self, p: u32) {
        self.fail_queue(p);
        let v = self.pods[p as usize].version;
        for s in 0..self.pods[p as usize].slots.len() {
            if let Some(r) = self.pods[p as usize].slots[s].take() {
                self.finish(r, v, true, self.now.saturating_sub(r.arrive), true);
            }
        }
        let pod = &mut self.pods[p as usize];
        pod.free_slots.clear();
        pod.free_slots.extend((0..pod.slots.len() as u32).rev());
        pod.busy = 0;
        pod.inc += 1;
    }

    #[inline]
    fn finish(&mut self, req: Req, version: u8, routed: bool, latency: SimTime, failed: bool) {
        let timeout = self.sc.service.timeout;
        let shown = if failed && latency > timeout {
            timeout
        } else {
            latency
        };
        if req.attempt == PREVIEW_ATTEMPT {
            self.finish_preview(req, shown, failed);
            return;
        }
        self.metrics
            .request(req.arrive, version, routed, req.user, shown, failed);
        if failed && (req.attempt as u32) < self.sc.traffic.retries {
            // The client learns of the failure at once, or when it gives up waiting.
            let at = (req.arrive + shown).max(self.now) + self.sc.traffic.retry_backoff;
            self.q.push(
                at,
                Ev::Retry {
                    user: req.user,
                    attempt: req.attempt + 1,
                },
            );
        }
    }

    // ---------------------------------------------------------------- preview traffic

    /// Starts (`rate` > 0, per second) or stops (0) the synthetic requests a load test
    /// sends to the preview service, i.e. to the new version's endpoints whatever the
    /// active service's weight. They queue and are served like any request but are
    /// not user traffic: they count only in the preview window (`Scope::Preview`).
    /// Their arrivals and draws come from the `Preview` streams, so turning them on
    /// shifts no other draw.
    pub(super) fn preview_traffic(&mut self, rate: f64) {
        if self.preview_rate == rate {
            return;
        }
        self.preview_epoch += 1;
        self.preview_rate = rate;
        if rate > 0.0 {
            self.metrics.enable_preview();
            let at = self.now + self.preview_gap();
            let epoch = self.preview_epoch;
            self.q.push(at, Ev::PreviewArrival { epoch });
        }
    }

    /// A synthetic preview request is done: it counts only in the preview window.
    #[cold]
    #[inline(never)]
    fn finish_preview(&mut self, req: Req, latency: SimTime, failed: bool) {
        self.metrics.preview_request(req.arrive, latency, failed);
    }

    /// Poisson arrivals: an exponential gap at the preview rate.
    fn preview_gap(&mut self) -> SimTime {
        SimTime::from_secs_f64(self.preview_gaps.exp1() / self.preview_rate)
    }

    pub(super) fn on_preview_arrival(&mut self, epoch: u32) {
        if epoch != self.preview_epoch {
            return; // a chain stopped (or restarted) since
        }
        let at = self.now + self.preview_gap();
        self.q.push(at, Ev::PreviewArrival { epoch });
        let key = self.next_preview;
        self.next_preview += 1;
        let mut req = Req {
            arrive: self.now,
            key,
            user: 0,
            attempt: PREVIEW_ATTEMPT,
            error: false,
        };
        let k = self.preview_keys.child(key as u64);
        let eps = self.lb.endpoints(1);
        if eps.is_empty() {
            self.finish(req, 1, false, SimTime::ZERO, true);
            return;
        }
        let p = eps[((k.uniform(2) * eps.len() as f64) as usize).min(eps.len() - 1)];
        let pod = &self.pods[p as usize];
        if !pod.accepting {
            let lat = if pod.lost {
                self.sc.service.timeout
            } else {
                SimTime::ZERO
            };
            self.finish(req, 1, true, lat, true);
            return;
        }
        // A load tester is no user: the cohort fault never applies, and only the new
        // version serves it (no mixed-version errors).
        let base = self.sc.release.baseline_error_rate;
        let rate = match &self.fault {
            Some(Fault::Errors { error_rate }) => 1.0 - (1.0 - base) * (1.0 - error_rate),
            _ => base,
        };
        req.error = k.uniform(1) < rate;
        self.admit(p, req, k);
    }

    // ---------------------------------------------------------------- routing changes

    /// Deletes a pod whose traffic a router has already moved elsewhere: its endpoint
    /// leaves the balancer now instead of after `endpoint_lag` (a mesh route change,
    /// not an endpoint update). In-flight requests drain as with `terminate`.
    pub(super) fn terminate_unrouted(&mut self, p: u32) {
        if self.pods[p as usize].in_lb {
            self.lb_remove(p);
            self.log("endpoint_remove", Some(p), || "unrouted".into());
        }
        self.terminate(p);
    }
}

/// What became of a request at a pod (`Core::admit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Admitted {
    Served,
    Queued,
    Rejected,
}
