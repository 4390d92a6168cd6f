//! The pod lifecycle of `Core`: scheduling, image pulls, container start, readiness
//! probes, endpoints, crashes and restarts, termination and exit, as the scheduler,
//! the kubelet and the endpoints controller do them.

use super::Ev;
use super::balancer::Mode;
use super::core::Core;
use super::pod::{NO_NODE, Phase, Pod};
use crate::scenario::{Fault, Fidelity};
use crate::sim::SimTime;

fn is_faulty_kind(f: &Option<Fault>, pred: impl Fn(&Fault) -> bool) -> bool {
    f.as_ref().is_some_and(pred)
}

impl Core<'_> {
    pub(super) fn new_pod(&mut self, version: u8) -> u32 {
        let ord = self.next_ordinal[version as usize];
        self.next_ordinal[version as usize] += 1;
        let id = self.pods.len() as u32;
        self.pods.push(Pod::new(version, ord, self.now));
        self.add_scrape_targets(id);
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

    pub(super) fn schedule_pending(&mut self) {
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

    pub(super) fn start_container(&mut self, p: u32) {
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
    pub(super) fn probe_wait(&mut self, p: u32, limit: SimTime) -> SimTime {
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
    fn mean_service_secs(&self, version: u8) -> f64 {
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

    pub(super) fn set_ready(&mut self, p: u32, ready: bool) {
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

    pub(super) fn crash(&mut self, p: u32, why: &'static str) {
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

    pub(super) fn current(&self, p: u32, inc: u32) -> bool {
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
    pub(super) fn exit(&mut self, p: u32) {
        if self.pods[p as usize].phase == Phase::Gone {
            return;
        }
        self.drop_requests(p);
        let pod = &mut self.pods[p as usize];
        pod.accepting = false;
        pod.ready = false;
        pod.phase = Phase::Gone;
        let node = pod.node;
        self.remove_scrape_targets(p);
        if node != NO_NODE {
            self.nodes[node as usize].used -= 1;
            self.live_pods -= 1;
            self.metrics.pods(self.now, self.live_pods);
        }
        self.log("exit", Some(p), String::new);
        self.schedule_pending();
        self.request_sync();
    }

    pub(super) fn fail_queue(&mut self, p: u32) {
        while let Some(r) = self.pods[p as usize].queue.pop_front() {
            let v = self.pods[p as usize].version;
            self.finish(r, v, true, self.now.saturating_sub(r.arrive), true);
        }
    }

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
