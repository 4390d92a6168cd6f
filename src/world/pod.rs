//! Pods and nodes: the state the kubelet and scheduler keep.

use crate::sim::SimTime;
use std::collections::VecDeque;

pub const NO_NODE: u32 = u32::MAX;

/// Lifecycle phase of a pod (a coarser view of the Kubernetes pod/container states).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Not scheduled: no node has a free slot.
    Pending,
    /// Pulling its image.
    Pulling,
    /// The pull failed (full disk); the kubelet retries with back-off.
    PullBackOff,
    /// Container started, application not up yet.
    Starting,
    /// Application up (ready or not, depending on probes).
    Running,
    /// Container exited; waiting for the restart back-off.
    CrashLoop,
    /// Deleted; draining until it exits.
    Terminating,
    /// Gone: holds no slot.
    Gone,
}

/// A request waiting in a pod's queue or in service.
#[derive(Clone, Copy, Debug)]
pub struct Req {
    pub arrive: SimTime,
    /// Draw key: request number (first attempts) or retry number (retries).
    pub key: u32,
    pub user: u32,
    pub attempt: u8,
    /// The request's error draw already decided it fails (a fault or baseline error).
    pub error: bool,
}

#[derive(Clone, Debug)]
pub struct Pod {
    pub version: u8,
    /// Creation index within its version: the key of its random draws.
    pub ordinal: u32,
    pub node: u32,
    pub phase: Phase,
    /// Bumped whenever pending events for this pod must be ignored (crash, node loss).
    pub inc: u32,
    pub ready: bool,
    pub ready_since: SimTime,
    pub in_lb: bool,
    pub lb_pos: u32,
    /// Accepts new requests (application up, not stopping, node up).
    pub accepting: bool,
    pub terminating: bool,
    pub busy: u32,
    pub queue: VecDeque<Req>,
    /// Requests in service, by worker slot (`Ev::Done` names the slot).
    pub slots: Vec<Option<Req>>,
    /// When the request in each slot finishes (its `Ev::Done` time); readiness probes
    /// wait behind them.
    pub slot_end: Vec<SimTime>,
    pub free_slots: Vec<u32>,
    pub probe_ok: u32,
    pub probe_fail: u32,
    pub app_up: bool,
    pub restarts: u32,
    /// Back-off exponent (reset after ten minutes of running, as the kubelet does).
    pub backoff_exp: u32,
    pub pull_attempts: u32,
    pub started_at: SimTime,
    pub created: SimTime,
    /// Its node failed: it is lost until the node returns or it is evicted.
    pub lost: bool,
    /// Fluid mode only: requests waiting for a worker, as a real number (the
    /// request-level mode keeps them in `queue`).
    pub fluid_queue: f64,
    /// Fluid mode only: the probe chain is parked (see `Core::on_probe`): the time its
    /// next probe was due and the incarnation it belongs to.
    pub probe_parked: Option<(SimTime, u32)>,
    /// Its scrape targets (user traffic of its version; preview), while it exists.
    pub targets: Option<(crate::analysis::TargetId, Option<crate::analysis::TargetId>)>,
}

impl Pod {
    pub fn new(version: u8, ordinal: u32, now: SimTime) -> Self {
        Pod {
            version,
            ordinal,
            node: NO_NODE,
            phase: Phase::Pending,
            inc: 0,
            ready: false,
            ready_since: SimTime::ZERO,
            in_lb: false,
            lb_pos: 0,
            accepting: false,
            terminating: false,
            busy: 0,
            queue: VecDeque::new(),
            slots: Vec::new(),
            slot_end: Vec::new(),
            free_slots: Vec::new(),
            probe_ok: 0,
            probe_fail: 0,
            app_up: false,
            restarts: 0,
            backoff_exp: 0,
            pull_attempts: 0,
            started_at: now,
            created: now,
            lost: false,
            fluid_queue: 0.0,
            probe_parked: None,
            targets: None,
        }
    }

    /// Counted by controllers: neither terminating nor gone.
    pub fn active(&self) -> bool {
        !self.terminating && self.phase != Phase::Gone
    }

    /// Requests in service or waiting.
    pub fn outstanding(&self) -> u32 {
        self.busy + self.queue.len() as u32
    }
}

#[derive(Clone, Debug)]
pub struct Node {
    pub up: bool,
    pub used: u32,
    pub full_disk: bool,
    /// When each version's image is present on the node (`SimTime::MAX`: not pulled).
    pub image_at: [SimTime; 2],
    /// Bumped at each failure, to ignore stale grace/eviction events.
    pub epoch: u32,
    pub pulls: u32,
}
