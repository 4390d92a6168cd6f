//! Docker Swarm service update (`update_config`), after swarmkit's updater
//! (`manager/orchestrator/update/updater.go`) and the Docker executor.
//!
//! Follows swarmkit:
//! - `parallelism` workers (0 = one per task) each take one slot at a time and sleep
//!   `delay` after it: a sliding pipeline, not lock-step batches.
//! - stop-first: the old task is shut down and the new one starts once the old one has
//!   exited; start-first: the new task starts and the old one is shut down when the
//!   new one is running. With a health check Docker reports a task running only once
//!   it is healthy, so "running" here is "ready".
//! - A worker waits (without timeout) until its new task is running or has failed; the
//!   monitor period starts then. A failure of a task of this update counts when it
//!   happens before the task ran or within `monitor` after; each task counts once.
//! - The ratio is failures over *all* tasks to update (swarmkit divides by the dirty
//!   slots, not by the tasks updated so far); above `max_failure_ratio` the
//!   `failure_action` applies: `pause` (no more slots; outcome stalled), `rollback`, or
//!   `continue` (failures are not even watched). After the last slot the updater keeps
//!   watching for one more `monitor` (or `delay` + 1 s when the delay is longer).
//! - A rollback uses Swarm's default `rollback_config` (parallelism 1, stop-first,
//!   delay 0, monitor 5 s, failure action pause): the scenario has no rollback keys and
//!   a service that only sets `update_config` gets exactly these. A rollback is never
//!   rolled back: a failing one pauses.
//!
//! Simplifies: tasks are the pods of `Core` (a failed task crash-loops in place instead
//! of being replaced by a new task in its slot); a task that turns unhealthy is counted
//! as failed but not killed; the routing mesh is the pooled balancer. A start-first
//! slot whose new task failed keeps its old task until the new one is ready. The deploy
//! is `completed` when swarmkit would mark the update completed *and* every task runs
//! the new version and is ready.

use super::update::Update;
use crate::metrics::DeployPhase;
use crate::scenario::{FailureAction, SwarmOrder, SwarmParams};
use crate::sim::SimTime;
use crate::world::balancer::Mode;
use crate::world::{Ctl, Scope};

#[derive(Clone, Debug)]
struct UpdateConfig {
    parallelism: u32,
    delay: SimTime,
    order: SwarmOrder,
    monitor: SimTime,
    failure_action: FailureAction,
    max_failure_ratio: f64,
}

impl UpdateConfig {
    /// swarmkit's `defaults.Service.Rollback`.
    fn default_rollback() -> Self {
        UpdateConfig {
            parallelism: 1,
            delay: SimTime::ZERO,
            order: SwarmOrder::StopFirst,
            monitor: SimTime::from_secs(5),
            failure_action: FailureAction::Pause,
            max_failure_ratio: 0.0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Worker {
    Idle,
    /// Stop-first: the old task is stopping; the new one starts once it has exited.
    /// `track`: the new task belongs to the running update (false once paused).
    Stopping {
        victim: u32,
        track: bool,
    },
    /// Waiting for the new task (index into `tasks`) to run or fail.
    Starting {
        task: usize,
    },
    /// Sleeping `delay` after its slot.
    Delay,
}

#[derive(Clone, Debug)]
struct Task {
    pod: u32,
    running_at: Option<SimTime>,
    failed: bool,
    /// Start-first slot whose new task failed before running: its old task is shut
    /// down once the new one is ready after all.
    owes_removal: bool,
}

/// Timer tags: `generation << GEN_SHIFT | worker`, or the end of the monitor period.
const GEN_SHIFT: u32 = 20;
const MONITOR_END: u32 = (1 << GEN_SHIFT) - 1;

#[derive(Clone, Debug)]
pub struct Swarm {
    update_cfg: UpdateConfig,
    cfg: UpdateConfig,
    replicas: u32,
    generation: u32,
    workers: Vec<Worker>,
    tasks: Vec<Task>,
    /// Slots this run updates: the denominator of the failure ratio.
    dirty: u32,
    /// Slots not yet taken by a worker.
    queued: u32,
    failures: u32,
    /// Paused or cancelled: no more slots.
    stopped: bool,
    monitor_end: Option<SimTime>,
    /// swarmkit marked the update (or rollback) completed.
    complete: bool,
    update: Update,
}

impl Swarm {
    pub fn new(p: &SwarmParams, replicas: u32) -> Self {
        let cfg = UpdateConfig {
            parallelism: p.parallelism,
            delay: p.delay,
            order: p.order,
            monitor: p.monitor,
            failure_action: p.failure_action,
            max_failure_ratio: p.max_failure_ratio,
        };
        Swarm {
            update_cfg: cfg.clone(),
            cfg,
            replicas,
            generation: 0,
            workers: Vec::new(),
            tasks: Vec::new(),
            dirty: 0,
            queued: 0,
            failures: 0,
            stopped: false,
            monitor_end: None,
            complete: false,
            update: Update::forward(),
        }
    }

    pub fn start(&mut self, core: &mut Ctl) {
        core.set_phase(DeployPhase::Rolling);
        core.set_mode(Mode::Pooled);
        self.cfg = self.update_cfg.clone();
        self.begin(core.desired(self.update.from), core);
    }

    /// Starts an update run over `dirty` slots.
    fn begin(&mut self, dirty: u32, core: &mut Ctl) {
        self.generation += 1;
        self.dirty = dirty;
        self.queued = dirty;
        self.failures = 0;
        self.stopped = false;
        self.complete = false;
        self.monitor_end = None;
        self.tasks.clear();
        let n = if self.cfg.parallelism == 0 {
            dirty
        } else {
            self.cfg.parallelism
        };
        self.workers = vec![Worker::Idle; n as usize];
        self.sync(core);
    }

    pub fn sync(&mut self, core: &mut Ctl) {
        if self.update.finished {
            return;
        }
        self.watch_failures(core);
        self.advance_workers(core);
        self.dispatch(core);
        self.start_monitor(core);
        self.check_done(core);
    }

    pub fn timer(&mut self, tag: u32, core: &mut Ctl) {
        if tag >> GEN_SHIFT != self.generation || self.update.finished {
            return;
        }
        let idx = tag & MONITOR_END;
        if idx == MONITOR_END {
            if !self.stopped && self.monitor_end == Some(core.now()) {
                self.complete = true;
                let what = if self.update.rolling_back {
                    "rollback"
                } else {
                    "update"
                };
                core.log("swarm_complete", None, || format!("{what} completed"));
            }
        } else if let Some(w) = self.workers.get_mut(idx as usize)
            && *w == Worker::Delay
        {
            *w = Worker::Idle;
        }
        self.sync(core);
    }

    pub fn analysis_scope(&self) -> Option<Scope> {
        self.update.analysis_scope()
    }

    pub fn rollback(&mut self, core: &mut Ctl) {
        self.update.reverse(core);
        self.cfg = UpdateConfig::default_rollback();
        // Dirty slots: every slot holding a new task, and every slot left without a
        // task by a cancelled stop-first worker.
        let (d_old, d_new) = (core.desired(0), core.desired(1));
        let dirty = d_new + self.replicas.saturating_sub(d_old + d_new);
        self.begin(dirty, core);
    }

    /// A task of this update failed: it exited (crash), its pull was rejected, it was
    /// lost with its node, or it turned unhealthy after running.
    fn task_failed(core: &Ctl, t: &Task) -> bool {
        let p = core.pod(t.pod);
        p.restarts > 0
            || p.pull_backoff
            || (p.gone && !p.terminating)
            || (t.running_at.is_some() && !p.ready && !p.terminating)
    }

    fn watch_failures(&mut self, core: &mut Ctl) {
        if self.cfg.failure_action == FailureAction::Continue || self.stopped || self.complete {
            return;
        }
        for i in 0..self.tasks.len() {
            if self.tasks[i].failed || !Self::task_failed(core, &self.tasks[i]) {
                continue;
            }
            let t = &mut self.tasks[i];
            t.failed = true;
            let in_monitor = t
                .running_at
                .is_none_or(|at| core.now().saturating_sub(at) <= self.cfg.monitor);
            if !in_monitor {
                continue;
            }
            self.failures += 1;
            let pod = t.pod;
            core.log("task_failed", Some(pod), || {
                format!("failure {} of {} tasks", self.failures, self.dirty)
            });
            if self.failures as f64 / self.dirty.max(1) as f64 > self.cfg.max_failure_ratio {
                self.act_on_failure(core);
                return;
            }
        }
    }

    fn act_on_failure(&mut self, core: &mut Ctl) {
        self.stopped = true;
        // Workers abandon the slots they wait on (a start-first old task stays); a
        // stop-first task whose old task is stopping still starts (the restart
        // supervisor's delayed start does not depend on the updater).
        for w in &mut self.workers {
            match *w {
                Worker::Stopping { victim, .. } => {
                    *w = Worker::Stopping {
                        victim,
                        track: false,
                    }
                }
                _ => *w = Worker::Idle,
            }
        }
        if self.cfg.failure_action == FailureAction::Rollback && !self.update.rolling_back {
            core.log("swarm_failure", None, || "failure_action rollback".into());
            core.fail_and_roll_back();
        } else {
            core.set_gated(true);
            core.set_phase(DeployPhase::Paused);
            let what = if self.update.rolling_back {
                "rollback"
            } else {
                "update"
            };
            core.log("pause", None, || {
                format!("{what} paused due to failure or early termination of a task")
            });
        }
    }

    fn advance_workers(&mut self, core: &mut Ctl) {
        for i in 0..self.workers.len() {
            match self.workers[i] {
                Worker::Stopping { victim, track } => {
                    if !core.pod(victim).gone {
                        continue;
                    }
                    let pod = Self::add_one(core, self.update.to);
                    self.workers[i] = match pod {
                        Some(pod) if track => {
                            self.tasks.push(Task {
                                pod,
                                running_at: None,
                                failed: false,
                                owes_removal: false,
                            });
                            Worker::Starting {
                                task: self.tasks.len() - 1,
                            }
                        }
                        _ => Worker::Idle,
                    };
                    if let Worker::Starting { task } = self.workers[i] {
                        self.check_started(i, task, core);
                    }
                }
                Worker::Starting { task } => self.check_started(i, task, core),
                Worker::Idle | Worker::Delay => {}
            }
        }
        if self.stopped {
            return;
        }
        for i in 0..self.tasks.len() {
            let t = &self.tasks[i];
            if t.owes_removal && core.pod(t.pod).ready {
                self.tasks[i].owes_removal = false;
                Self::remove_one(core, self.update.from);
            }
        }
    }

    /// The worker's new task reached running (ready) or failed: the slot is done.
    fn check_started(&mut self, worker: usize, task: usize, core: &mut Ctl) {
        let t = &self.tasks[task];
        let ready = core.pod(t.pod).ready;
        if !ready && !t.failed && !Self::task_failed(core, t) {
            return;
        }
        let t = &mut self.tasks[task];
        t.running_at = Some(core.now());
        if self.cfg.order == SwarmOrder::StartFirst {
            if ready {
                Self::remove_one(core, self.update.from);
            } else {
                t.owes_removal = true;
            }
        }
        self.slot_done(worker, core);
    }

    fn slot_done(&mut self, worker: usize, core: &mut Ctl) {
        if self.cfg.delay.is_zero() {
            self.workers[worker] = Worker::Idle;
        } else {
            self.workers[worker] = Worker::Delay;
            core.timer(
                core.now() + self.cfg.delay,
                (self.generation << GEN_SHIFT) | worker as u32,
            );
        }
    }

    fn dispatch(&mut self, core: &mut Ctl) {
        // One pass per free worker: a slot that needs no waiting frees its worker at
        // once, so loop until nothing changes.
        let mut progress = true;
        while progress && !self.stopped {
            progress = false;
            for i in 0..self.workers.len() {
                if self.queued == 0 || self.stopped {
                    return;
                }
                if self.workers[i] == Worker::Idle {
                    self.queued -= 1;
                    self.start_slot(i, core);
                    progress = true;
                }
            }
        }
    }

    /// Tasks the slot accounting expects beyond `desired`: stop-first workers whose new
    /// task is not created yet, minus start-first slots that still hold their old task.
    fn expected_total(&self, core: &Ctl) -> i64 {
        let mut total = core.desired(0) as i64 + core.desired(1) as i64;
        for w in &self.workers {
            match *w {
                Worker::Stopping { .. } => total += 1,
                Worker::Starting { task }
                    if self.cfg.order == SwarmOrder::StartFirst
                        && self.tasks[task].running_at.is_none() =>
                {
                    total -= 1
                }
                _ => {}
            }
        }
        total - self.tasks.iter().filter(|t| t.owes_removal).count() as i64
    }

    fn start_slot(&mut self, worker: usize, core: &mut Ctl) {
        let total = self.expected_total(core);
        let replicas = self.replicas as i64;
        if total > replicas && core.desired(self.update.from) > 0 {
            // The slot already runs a clean task: only the other one goes.
            Self::remove_one(core, self.update.from);
            self.slot_done(worker, core);
            return;
        }
        let stop_first = total == replicas && self.cfg.order == SwarmOrder::StopFirst;
        if stop_first && let Some(victim) = Self::remove_one(core, self.update.from) {
            self.workers[worker] = Worker::Stopping {
                victim,
                track: true,
            };
            self.advance_workers(core);
            return;
        }
        match Self::add_one(core, self.update.to) {
            Some(pod) => {
                self.tasks.push(Task {
                    pod,
                    running_at: None,
                    failed: false,
                    owes_removal: false,
                });
                let task = self.tasks.len() - 1;
                self.workers[worker] = Worker::Starting { task };
                self.check_started(worker, task, core);
            }
            None => self.slot_done(worker, core),
        }
    }

    /// Scales `version` down by one; returns the pod that was shut down.
    fn remove_one(core: &mut Ctl, version: u8) -> Option<u32> {
        let d = core.desired(version);
        if d == 0 {
            return None;
        }
        let before: Vec<u32> = core.active_pods(version).collect();
        core.set_desired(version, d - 1);
        before.into_iter().find(|&i| !core.pod(i).active)
    }

    /// Scales `version` up by one; returns the new pod.
    fn add_one(core: &mut Ctl, version: u8) -> Option<u32> {
        let n = core.pod_count();
        core.set_desired(version, core.desired(version) + 1);
        (core.pod_count() > n).then_some(n)
    }

    /// All slots taken and all workers done: watch one more monitor period.
    fn start_monitor(&mut self, core: &mut Ctl) {
        if self.stopped
            || self.complete
            || self.monitor_end.is_some()
            || self.queued > 0
            || self.workers.iter().any(|w| *w != Worker::Idle)
        {
            return;
        }
        let period = if self.cfg.delay >= self.cfg.monitor {
            self.cfg.delay + SimTime::from_secs(1)
        } else {
            self.cfg.monitor
        };
        let end = core.now() + period;
        self.monitor_end = Some(end);
        core.timer(end, (self.generation << GEN_SHIFT) | MONITOR_END);
    }

    fn check_done(&mut self, core: &mut Ctl) {
        if !self.complete
            || core.counts(self.update.from).active > 0
            || core.counts(self.update.to).available < self.replicas
        {
            return;
        }
        self.update.finish(core);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::metrics::Outcome;
    use crate::metrics::RunOutput;
    use crate::scenario::*;
    use crate::world::UserTable;

    fn s(x: u64) -> SimTime {
        SimTime::from_secs(x)
    }

    /// A small service with constant pull (2 s) and startup (10 s) times, so expected
    /// times can be derived by hand. `fault`: the release is faulty with it (or healthy).
    pub(crate) fn scenario(replicas: u32, fault: Option<Fault>) -> Scenario {
        // The controller test kit, made deterministic where Swarm's timing matters:
        // constant pull and startup, a 2 s probe, a fixed human response.
        let mut sc = crate::strategy::testkit::scenario(replicas, fault.clone());
        sc.cluster.nodes = 6;
        sc.service.image_pull = Dist::Constant(s(2));
        sc.service.startup = Dist::Constant(s(10));
        sc.service.readiness.period = s(2);
        sc.traffic.rate = 60.0;
        sc.traffic.users = 1000;
        if fault.is_none() {
            sc.release.faults[0].fault = Fault::Errors { error_rate: 0.0 };
        }
        sc.monitoring.human_response = Dist::Constant(s(300));
        sc.monitoring.human_promote = Dist::Constant(s(900));
        sc
    }

    pub(crate) fn run(sc: &Scenario, kind: StrategyKind, rollback: Rollback) -> RunOutput {
        let st = Strategy {
            name: kind.name().into(),
            rollback,
            kind,
        };
        let users = UserTable::new(&sc.traffic);
        crate::runner::run(sc, &users, &st, 1, true)
    }

    fn swarm(
        parallelism: u32,
        order: SwarmOrder,
        failure_action: FailureAction,
        monitor: SimTime,
    ) -> StrategyKind {
        StrategyKind::Swarm(SwarmParams {
            parallelism,
            delay: SimTime::ZERO,
            order,
            monitor,
            failure_action,
            max_failure_ratio: 0.0,
        })
    }

    fn new_pods_created(out: &RunOutput) -> usize {
        let events = &out.trace.as_ref().unwrap().events;
        events
            .iter()
            .filter(|e| e.kind == "create" && e.version == Some(1))
            .count()
    }

    #[test]
    fn stop_first_parallelism_1_keeps_replicas_bounds() {
        let r = 6;
        let sc = scenario(r, None);
        let out = run(
            &sc,
            swarm(1, SwarmOrder::StopFirst, FailureAction::Pause, s(5)),
            Rollback::Manual,
        );
        assert_eq!(out.row.outcome, Outcome::Completed);
        // Per slot: drain (~ms) + pull 2 s (cached after the first pod on a node) +
        // startup 10 s + the next 2 s probe; six slots one after the other, then the
        // 5 s monitor period.
        let d = out.row.deploy_duration_s.unwrap();
        assert!((6.0 * 10.0 + 5.0..=6.0 * 15.0 + 5.0).contains(&d), "{d}");
        let tl = &out.trace.unwrap().timeline;
        for row in tl.iter().filter(|row| row.sample.t_s >= 60) {
            let (o, n) = (row.sample.old, row.sample.new);
            assert!(o.active + n.active <= r, "t={} {o:?} {n:?}", row.sample.t_s);
            assert!(
                o.available + n.available >= r - 1,
                "t={} {o:?} {n:?}",
                row.sample.t_s
            );
        }
        assert_eq!(out.row.downtime_s, 0.0);
    }

    #[test]
    fn start_first_never_drops_below_replicas_ready() {
        let r = 6;
        let sc = scenario(r, None);
        let out = run(
            &sc,
            swarm(2, SwarmOrder::StartFirst, FailureAction::Pause, s(5)),
            Rollback::Manual,
        );
        assert_eq!(out.row.outcome, Outcome::Completed);
        let tl = &out.trace.unwrap().timeline;
        let mut peak = 0;
        for row in tl.iter().filter(|row| row.sample.t_s >= 60) {
            let (o, n) = (row.sample.old, row.sample.new);
            // An old task is stopped only once its replacement is ready, so ready
            // tasks never drop below `replicas`; at most `parallelism` extra run.
            assert!(o.ready + n.ready >= r, "t={} {o:?} {n:?}", row.sample.t_s);
            assert!(
                o.active + n.active <= r + 2,
                "t={} {o:?} {n:?}",
                row.sample.t_s
            );
            peak = peak.max(o.active + n.active);
        }
        assert_eq!(peak, r + 2);
    }

    #[test]
    fn crash_on_start_rolls_back_after_first_task() {
        let sc = scenario(6, Some(Fault::CrashOnStart));
        let out = run(
            &sc,
            swarm(1, SwarmOrder::StopFirst, FailureAction::Rollback, s(15)),
            Rollback::None,
        );
        // The first new task starts after the old one drained (~ms) and its pull
        // (2 s), crashes when the app would be up (10 s): 1 failure / 6 > 0.
        let decide = out.row.decide_s.unwrap();
        assert!((12.0..13.0).contains(&decide), "{decide}");
        assert_eq!(new_pods_created(&out), 1);
        assert_eq!(out.row.outcome, Outcome::RolledBack);
        assert!(out.row.rollback_s.is_some());
    }

    #[test]
    fn crash_on_start_with_pause_stalls_after_first_batch() {
        let r = 6;
        let sc = scenario(r, Some(Fault::CrashOnStart));
        let out = run(
            &sc,
            swarm(2, SwarmOrder::StopFirst, FailureAction::Pause, s(5)),
            Rollback::None,
        );
        assert_eq!(out.row.outcome, Outcome::Stalled);
        assert!(new_pods_created(&out) <= 2);
        let last = out.trace.unwrap().timeline.last().unwrap().sample.clone();
        assert_eq!(last.old.active, r - 2);
        assert_eq!(last.phase, DeployPhase::Paused);
    }

    #[test]
    fn continue_ignores_failures() {
        let r = 4;
        let sc = scenario(r, Some(Fault::CrashOnStart));
        let out = run(
            &sc,
            swarm(1, SwarmOrder::StartFirst, FailureAction::Continue, s(5)),
            Rollback::None,
        );
        // Start-first keeps every old task while its replacement crash-loops: every
        // slot gets a new task, no old one is stopped, nothing goes down.
        assert_eq!(new_pods_created(&out), r as usize);
        assert_eq!(out.row.downtime_s, 0.0);
        assert!(out.row.decide_s.is_none());
        let last = out.trace.unwrap().timeline.last().unwrap().sample.clone();
        assert_eq!(last.old.active, r);
    }
}
