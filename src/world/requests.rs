//! Requests in `Core` (the request-level mode): arrivals and retries, routing, the
//! pod's workers and queue, completion and the client's retry, and the synthetic
//! requests to a blue/green preview stack. Nothing here allocates per request.

use super::Ev;
use super::core::Core;
use super::pod::Req;
use crate::scenario::Fault;
use crate::sim::SimTime;
use crate::sim::rng::Keyed;

/// `Req::attempt` of a synthetic preview request (never a client retry count).
const PREVIEW_ATTEMPT: u8 = u8::MAX;

impl Core<'_> {
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
    pub(super) fn keys(&self, r: &Req) -> Keyed {
        let base = match r.attempt {
            0 => self.req_keys,
            PREVIEW_ATTEMPT => self.preview_keys,
            _ => self.retry_keys,
        };
        base.child(r.key as u64)
    }

    #[inline]
    pub(super) fn route(&mut self, mut req: Req) {
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
    pub(super) fn error_rate(&self, version: u8, user: u32) -> f64 {
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
    pub(super) fn service_time(&self, version: u8, k: Keyed) -> SimTime {
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
    pub(super) fn drop_requests(&mut self, p: u32) {
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
    pub(super) fn finish(
        &mut self,
        req: Req,
        version: u8,
        routed: bool,
        latency: SimTime,
        failed: bool,
    ) {
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
}

/// What became of a request at a pod (`Core::admit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Admitted {
    Served,
    Queued,
    Rejected,
}
