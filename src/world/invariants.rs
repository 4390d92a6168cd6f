//! Checkers for controller invariants, usable on any trace (`crate::runner::run(.., true)`).
//!
//! Pod counts are replayed from the event log, not from the once-per-second samples,
//! so a bound broken for a fraction of a second is still caught. The state is judged
//! after all events of an instant: a controller's scale-up and scale-down in one
//! reconcile happen at the same simulated time, and only their combined effect is a
//! state of the cluster. Every checker returns the violations, each with its time and
//! a readable description; an empty list means the invariant held.

use crate::metrics::{Trace, TraceEvent};
use crate::sim::SimTime;

/// Pods per version (0 = old, 1 = new) after all events of one instant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PodState {
    pub t: SimTime,
    /// Created and neither terminating nor gone (pending, starting, running, crashing).
    pub active: [u32; 2],
    /// Active and ready (with `min_ready = 0` this is Kubernetes' "available").
    pub ready: [u32; 2],
    pub terminating: [u32; 2],
}

impl PodState {
    pub fn active_total(&self) -> u32 {
        self.active[0] + self.active[1]
    }
    pub fn ready_total(&self) -> u32 {
        self.ready[0] + self.ready[1]
    }
}

/// An invariant broken at `t`.
#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    pub t: SimTime,
    pub what: String,
}

#[derive(Clone, Copy, Default)]
struct PodFlags {
    version: usize,
    active: bool,
    ready: bool,
    terminating: bool,
}

/// Replays the pod events of a trace into the state after each instant at which a
/// pod event happened. Pod events: `create`, `ready`, `unready`, `terminate`, `exit`,
/// `killed`, `evicted` (an evicted pod is gone from its node).
pub fn replay(events: &[TraceEvent]) -> Vec<PodState> {
    let mut pods: Vec<PodFlags> = Vec::new();
    let mut out: Vec<PodState> = Vec::new();
    let mut state = PodState::default();
    let mut i = 0;
    while i < events.len() {
        let t = events[i].t;
        let mut touched = false;
        while i < events.len() && events[i].t == t {
            let e = &events[i];
            i += 1;
            let (Some(p), Some(v)) = (e.pod, e.version) else {
                continue;
            };
            let p = p as usize;
            if pods.len() <= p {
                pods.resize(p + 1, PodFlags::default());
            }
            let f = &mut pods[p];
            let before = *f;
            match e.kind {
                "create" => {
                    *f = PodFlags {
                        version: (v as usize).min(1),
                        active: true,
                        ready: false,
                        terminating: false,
                    }
                }
                "ready" => f.ready = true,
                "unready" => f.ready = false,
                "terminate" => {
                    f.terminating = f.active;
                    f.active = false;
                }
                "exit" | "killed" | "evicted" => {
                    f.active = false;
                    f.ready = false;
                    f.terminating = false;
                }
                _ => continue,
            }
            let after = *f;
            apply(&mut state, before, -1);
            apply(&mut state, after, 1);
            touched = true;
        }
        if touched {
            state.t = t;
            out.push(state);
        }
    }
    out
}

fn apply(s: &mut PodState, f: PodFlags, sign: i64) {
    let add = |x: &mut u32, on: bool| {
        if on {
            *x = (*x as i64 + sign) as u32;
        }
    };
    add(&mut s.active[f.version], f.active);
    add(&mut s.ready[f.version], f.active && f.ready);
    add(&mut s.terminating[f.version], f.terminating);
}

/// Never more than `limit` active (non-terminating) pods, e.g. `replicas + maxSurge`
/// during a rolling update.
pub fn max_active(states: &[PodState], limit: u32) -> Vec<Violation> {
    states
        .iter()
        .filter(|s| s.active_total() > limit)
        .map(|s| Violation {
            t: s.t,
            what: format!(
                "{} active pods ({} old + {} new) > {limit}",
                s.active_total(),
                s.active[0],
                s.active[1]
            ),
        })
        .collect()
}

/// Never fewer than `min` ready active pods from `from` on, e.g. `replicas −
/// maxUnavailable` during a rolling update of a healthy release without node failures.
pub fn min_ready(states: &[PodState], min: u32, from: SimTime) -> Vec<Violation> {
    // The state in force at `from` is the last one at or before it.
    let start = states.partition_point(|s| s.t <= from).saturating_sub(1);
    states[start..]
        .iter()
        .filter(|s| s.ready_total() < min)
        .map(|s| Violation {
            t: s.t.max(from),
            what: format!(
                "{} ready pods ({} old + {} new) < {min}",
                s.ready_total(),
                s.ready[0],
                s.ready[1]
            ),
        })
        .collect()
}

/// At most two versions serving: every pod event names version 0 (old) or 1 (new).
pub fn two_versions(trace: &Trace) -> Vec<Violation> {
    trace
        .events
        .iter()
        .filter(|e| e.version.is_some_and(|v| v > 1))
        .map(|e| Violation {
            t: e.t,
            what: format!("a pod of version {} appeared", e.version.unwrap_or(0)),
        })
        .collect()
}

/// With traffic routing, the share of requests reaching the new version equals the
/// canary weight. Each maximal run of seconds with the same weight (and at least
/// `min_requests` requests) is one binomial sample: requests are routed independently
/// with probability `w`, so `k ~ Binomial(n, w)`; the run is a violation when
/// `|k − n·w| > z · sqrt(n·w·(1−w))` (plus one request of slack for the second in
/// which the weight changed). The first second of a run is skipped: the weight can
/// change inside it.
pub fn canary_share(trace: &Trace, z: f64, min_requests: u64) -> Vec<Violation> {
    let rows = &trace.timeline;
    let mut out = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let w = rows[i].sample.new_weight;
        let mut j = i + 1;
        while j < rows.len() && rows[j].sample.new_weight == w {
            j += 1;
        }
        if w > 0.0 && w < 100.0 && j - i >= 3 {
            // Seconds i+1 .. j-1 (the boundary seconds are mixed).
            let run = &rows[i + 1..j - 1];
            let n: u64 = run.iter().map(|r| r.requests).sum();
            let k: u64 = run.iter().map(|r| r.requests_new).sum();
            if n >= min_requests {
                let p = w / 100.0;
                let mean = n as f64 * p;
                let sd = (n as f64 * p * (1.0 - p)).sqrt();
                if (k as f64 - mean).abs() > z * sd + 1.0 {
                    out.push(Violation {
                        t: SimTime::from_secs(rows[i].sample.t_s),
                        what: format!(
                            "weight {w}%: {k} of {n} requests reached the new version \
                             (expected {mean:.0} ± {:.0})",
                            z * sd
                        ),
                    });
                }
            }
        }
        i = j;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t: u64, kind: &'static str, pod: u32, version: u8) -> TraceEvent {
        TraceEvent {
            t: SimTime::from_secs(t),
            kind,
            pod: Some(pod),
            version: Some(version),
            node: None,
            detail: String::new(),
        }
    }

    /// A hand-written log: two old pods, a surge pod, one old pod terminated at the
    /// same instant the new one turns ready (judged together), then a doctored extra
    /// pod that breaks a limit of 3.
    #[test]
    fn replay_counts_and_flags_violations() {
        let events = vec![
            ev(0, "create", 0, 0),
            ev(0, "ready", 0, 0),
            ev(0, "create", 1, 0),
            ev(0, "ready", 1, 0),
            ev(10, "create", 2, 1),
            ev(20, "ready", 2, 1),
            ev(20, "terminate", 0, 0),
            ev(25, "exit", 0, 0),
            ev(30, "create", 3, 1),
            ev(30, "create", 4, 1),
        ];
        let s = replay(&events);
        let at = |t: u64| *s.iter().find(|x| x.t == SimTime::from_secs(t)).unwrap();
        assert_eq!(at(0).active, [2, 0]);
        assert_eq!(at(10).active, [2, 1]);
        assert_eq!(at(20).active, [1, 1]);
        assert_eq!(at(20).ready, [1, 1]);
        assert_eq!(at(20).terminating, [1, 0]);
        assert_eq!(at(25).terminating, [0, 0]);
        assert!(max_active(&s[..4], 3).is_empty());
        let v = max_active(&s, 3);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].t, SimTime::from_secs(30));
        assert!(min_ready(&s, 2, SimTime::ZERO).is_empty());
        assert_eq!(min_ready(&s, 3, SimTime::from_secs(5)).len(), s.len());
    }
}
