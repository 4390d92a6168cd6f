//! The world of one run: cluster, pods, balancer, traffic, release and monitoring.
//! The loop that drives them together with a deployment controller is `runner`,
//! above both `world` and `strategy`.
//!
//! A run is a pure function of (scenario, strategy, seed): no I/O, no clock, no
//! threads. The `trace` flag only adds recording (timeline samples, an event log).

pub mod analysis;
pub mod balancer;
pub mod core;
pub mod ctl;
pub mod fluid;
pub mod invariants;
mod lifecycle;
mod nodes;
pub mod pipeline;
pub mod pod;
mod requests;
pub mod traffic;
pub mod userset;
pub mod waiting;

pub use self::core::Core;
pub use ctl::{Ctl, PodView};
pub use traffic::UserTable;

/// Everything that can happen. `Copy` and small: the queue stores them inline.
#[derive(Clone, Copy, Debug)]
pub enum Ev {
    Arrival,
    /// The next synthetic request to a blue/green preview stack (`Core::preview_traffic`).
    PreviewArrival {
        epoch: u32,
    },
    Retry {
        user: u32,
        attempt: u8,
    },
    Done {
        pod: u32,
        inc: u32,
        slot: u32,
    },
    Pulled {
        pod: u32,
        inc: u32,
    },
    PullFailed {
        pod: u32,
        inc: u32,
    },
    PullRetry {
        pod: u32,
        inc: u32,
    },
    AppUp {
        pod: u32,
        inc: u32,
    },
    Probe {
        pod: u32,
        inc: u32,
    },
    ProbeTimeout {
        pod: u32,
        inc: u32,
    },
    Crash {
        pod: u32,
        inc: u32,
    },
    Restart {
        pod: u32,
        inc: u32,
    },
    Endpoint {
        pod: u32,
        inc: u32,
        add: bool,
    },
    StopAccepting {
        pod: u32,
        inc: u32,
    },
    GraceEnd {
        pod: u32,
        inc: u32,
    },
    NodeFail {
        node: u32,
    },
    NodeRecover {
        node: u32,
    },
    NodeGrace {
        node: u32,
        epoch: u32,
    },
    NodeEvict {
        node: u32,
        epoch: u32,
    },
    DeployStart,
    Sync,
    Timer {
        tag: u32,
    },
    Monitor,
    /// Measurements of the running analyses are due (`Core::measure_analyses`).
    Analysis,
    HumanRollback,
    Tick,
}

// Architecture invariant: events are small `Copy` values stored inline in the queue.
const _: () = assert!(std::mem::size_of::<Ev>() == 16);

/// Which traffic a rule looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Service,
    NewVersion,
    /// The synthetic requests sent to a blue/green preview stack (not user traffic).
    Preview,
}

impl Scope {
    /// The analysis scope a query of this rule scope reads.
    fn query_scope(self) -> crate::scenario::analysis::Scope {
        use crate::scenario::analysis::Scope as Q;
        match self {
            Scope::Service => Q::Service,
            Scope::NewVersion => Q::Canary,
            Scope::Preview => Q::Preview,
        }
    }
}

/// Result of one evaluation of the `[monitoring]` rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleVerdict {
    Pass,
    Fail,
    /// Too few requests in the window to judge.
    NoVerdict,
}

impl Core<'_> {
    /// Evaluates the `[monitoring]` rule now over the last `window` on `scope`.
    ///
    /// The rule is a Prometheus alerting rule: it queries the scrape store (DESIGN.md
    /// §9), so it sees only scraped samples, `increase` over `window` without
    /// extrapolation, and a p99 by `histogram_quantile` over the `[metrics]` buckets.
    /// An empty vector, a failed query or fewer than `min_requests` requests in the
    /// window give no verdict.
    pub fn evaluate(&mut self, scope: Scope) -> RuleVerdict {
        let m = &self.sc.monitoring;
        let Some((r, f)) = self.window_counts(scope) else {
            return RuleVerdict::NoVerdict;
        };
        if r < m.min_requests as f64 || r <= 0.0 {
            return RuleVerdict::NoVerdict;
        }
        let mut fail = f / r > m.error_rate_max;
        if !m.latency_p99_max.is_zero() {
            let max_ms = m.latency_p99_max.millis_f64();
            if let Some(p99) = self.rule_p99_ms(scope.query_scope()) {
                fail |= p99 > max_ms;
            }
        }
        if fail {
            RuleVerdict::Fail
        } else {
            RuleVerdict::Pass
        }
    }

    /// (requests, failed requests) on `scope` in the rule's window ending now, as the
    /// store's `increase` sees them; `None` for an empty vector or a failed query.
    pub(super) fn window_counts(&mut self, scope: Scope) -> Option<(f64, f64)> {
        self.analyses.store.increase(
            &self.metrics,
            scope.query_scope(),
            self.sc.monitoring.window,
            self.now,
        )
    }

    /// A controller asks the pipeline to roll back (analysis failed, deadline passed).
    pub fn request_rollback(&mut self) {
        self.rollback_requested = true;
    }

    /// Whether a rollback was requested since the last call (the runner acts on it).
    pub fn take_rollback_request(&mut self) -> bool {
        std::mem::take(&mut self.rollback_requested)
    }

    /// Turns fluid mode's exact shortcuts off when `on` is false (the test that they
    /// change no result compares both).
    pub fn limit_shortcuts(&mut self, on: bool) {
        self.shortcuts &= on;
    }
}

impl Core<'_> {
    /// Handles an event of the world itself (requests, pods, probes, nodes) and
    /// returns `None`; the events of the controller, the monitoring rule, the person
    /// and the clock are handed back to the runner.
    pub fn handle(&mut self, ev: Ev) -> Option<Ev> {
        match ev {
            Ev::Arrival => self.on_arrival(),
            Ev::PreviewArrival { epoch } => self.on_preview_arrival(epoch),
            Ev::Done { pod, inc, slot } => self.on_done(pod, inc, slot),
            Ev::Retry { user, attempt } => self.on_retry(user, attempt),
            Ev::Probe { pod, inc } => self.on_probe(pod, inc),
            Ev::ProbeTimeout { pod, inc } => self.on_probe_timeout(pod, inc),
            Ev::Pulled { pod, inc } => self.on_pulled(pod, inc),
            Ev::PullFailed { pod, inc } => self.on_pull_failed(pod, inc),
            Ev::PullRetry { pod, inc } => self.on_pull_retry(pod, inc),
            Ev::AppUp { pod, inc } => self.on_app_up(pod, inc),
            Ev::Crash { pod, inc } => self.on_crash(pod, inc),
            Ev::Restart { pod, inc } => self.on_restart(pod, inc),
            Ev::Endpoint { pod, inc, add } => self.on_endpoint(pod, inc, add),
            Ev::StopAccepting { pod, inc } => self.on_stop_accepting(pod, inc),
            Ev::GraceEnd { pod, inc } => self.on_grace_end(pod, inc),
            Ev::NodeFail { node } => self.on_node_fail(node),
            Ev::NodeRecover { node } => self.on_node_recover(node),
            Ev::NodeGrace { node, epoch } => self.on_node_grace(node, epoch),
            Ev::NodeEvict { node, epoch } => self.on_node_evict(node, epoch),
            other => return Some(other),
        }
        None
    }

    /// What a `Sync` does before the controller reacts: the replica sets reconcile.
    pub fn reconcile_all(&mut self) {
        self.sync_taken();
        self.reconcile(0);
        self.reconcile(1);
    }
}
