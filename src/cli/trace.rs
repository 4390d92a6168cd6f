//! `deploysim trace`: one (scenario, strategy, seed), second by second.

use super::args::TraceArgs;
use super::config::TraceConfig;
use super::{Failure, create, emit};
use crate::metrics::{DeployPhase, TimelineRow, Trace, TraceEvent};
use crate::report::{files, player};
use crate::scenario::Scenario;
use crate::sim::SimTime;
use crate::world::UserTable;
use std::io::Write;

/// `deploysim trace`, from its arguments: `--html` is the trace's own switch.
pub fn from_args(a: TraceArgs) -> Result<u8, Failure> {
    let html = a.html;
    trace(TraceConfig::from_args(a)?, html)
}

pub fn trace(cfg: TraceConfig, html: bool) -> Result<u8, Failure> {
    let sc = cfg.loaded.scenario();
    let strategy = &cfg.strategy;
    let users = UserTable::new(&sc.traffic);
    let out = crate::runner::run(sc, &users, strategy, cfg.seed, true);
    let Some(tr) = out.trace else {
        return Err(Failure {
            code: 101,
            message: "internal error: the trace was requested but not recorded".into(),
        });
    };
    let dir = cfg.out.path().to_path_buf();
    let staged = cfg.out.stage()?;
    let tmp = staged.dir();
    let p = tmp.join("timeline.csv");
    let mut w = create(&p)?;
    files::write_timeline(&mut w, &tr.timeline)
        .and_then(|_| w.flush())
        .map_err(|e| Failure::io(&p, e))?;
    let p = tmp.join("events.csv");
    let mut w = create(&p)?;
    files::write_events(&mut w, &tr.events)
        .and_then(|_| w.flush())
        .map_err(|e| Failure::io(&p, e))?;
    drop(w);
    let r = &out.row;
    let title = format!(
        "{} / {} / seed {}: release {}{}; outcome {}",
        sc.name,
        strategy.name,
        cfg.seed,
        if r.faulty { "FAULTY" } else { "healthy" },
        r.fault.map(|f| format!(" ({f})")).unwrap_or_default(),
        r.outcome.name()
    );
    let mut text = format!("{title}\n");
    text.push_str(&text_timeline(sc, &tr));
    // The plot takes its title and its time base from this file (`deploysim report`
    // re-renders from the files of the directory).
    let p = tmp.join("trace.txt");
    let mut w = create(&p)?;
    w.write_all(text.as_bytes())
        .and_then(|_| w.flush())
        .map_err(|e| Failure::io(&p, e))?;
    drop(w);
    if html {
        let p = tmp.join("player.html");
        let mut w = create(&p)?;
        w.write_all(player::player_html(&title, sc, &tr).as_bytes())
            .and_then(|_| w.flush())
            .map_err(|e| Failure::io(&p, e))?;
    }
    crate::report::plot::render_trace_plot(tmp, cfg.plots.format())
        .map_err(super::report_failure)?;
    staged.commit()?;
    text.push_str(&format!(
        "impacted {} of {} requests since deploy ({:.2}%), downtime {} s, users affected {}\n",
        r.impacted_requests,
        r.requests,
        100.0 * r.blast_radius,
        r.downtime_s,
        r.users_affected
    ));
    text.push_str(&format!(
        "wrote {}/timeline.csv, events.csv, trace.txt{} and the timeline plot\n",
        dir.display(),
        if html { ", player.html" } else { "" }
    ));
    text.push_str(&format!(
        "reproduce: deploysim trace {} --strategy {} --seed {}\n",
        cfg.loaded.arg, strategy.name, cfg.seed
    ));
    emit(&text)?;
    Ok(0)
}

/// Milestone events worth a line in the text timeline.
const MILESTONES: [&str; 14] = [
    "deploy_start",
    "alert",
    "analysis_failed",
    "paged",
    "stand_down",
    "rollback_start",
    "rollback_complete",
    "deploy_complete",
    "stalled",
    "promote",
    "abort",
    "pause",
    "node_down",
    "node_up",
];

/// What must change for the text timeline to print a new line: the phase, the pods of
/// each version (active, ready) and the weight. Terminating counts and the per-second
/// success ratio do not: they are shown on the lines, and degraded seconds inside a
/// quiet stretch are counted on its fold line. Once the deploy is over (`done`), ready
/// counts that come and go (crash loops) are folded too, as a range.
type RowKey = (&'static str, u32, u32, u32, u32, i64);

/// Time relative to the deploy start, whole seconds: `t+12s`, `t-2s`.
fn rel_secs(t_s: u64, t0_s: u64) -> String {
    let d = t_s as i64 - t0_s as i64;
    if d < 0 {
        format!("t{d}s")
    } else {
        format!("t+{d}s")
    }
}

/// An instant relative to the deploy start, to a tenth of a second: `t+86.5s`.
fn rel_instant(t: SimTime, t0: SimTime) -> String {
    let d = (t.micros() as i64 - t0.micros() as i64) as f64 / 1e6;
    if d < 0.0 {
        format!("t{d:.1}s")
    } else {
        format!("t+{d:.1}s")
    }
}

/// Crash events shown before the rest are only counted.
const MAX_CRASHES: u32 = 8;

/// A run of seconds with an unchanged state, not yet printed.
struct Fold {
    first: u64,
    last: u64,
    degraded: u32,
    worst: Option<f64>,
    ready: (u32, u32),
}

impl Fold {
    /// The fold line, or nothing when the stretch had no degraded second (the gap in the
    /// times of the lines around it already says the state did not change).
    fn line(&self, t0_s: u64) -> Option<String> {
        if self.degraded == 0 && self.ready.0 == self.ready.1 {
            return None;
        }
        let n = self.last - self.first + 1;
        let mut what = Vec::new();
        if self.ready.0 != self.ready.1 {
            what.push(format!("ready pods {}..{}", self.ready.0, self.ready.1));
        }
        if self.degraded > 0 {
            let worst = self
                .worst
                .map(|w| format!(" (worst ok {:.2}%)", 100.0 * w))
                .unwrap_or_default();
            what.push(format!("{} s below the SLO{worst}", self.degraded));
        }
        let span = if n == 1 {
            rel_secs(self.first, t0_s)
        } else {
            format!(
                "{:>9}..{}",
                rel_secs(self.first, t0_s),
                rel_secs(self.last, t0_s)
            )
        };
        Some(format!("{span:>9} {n} s folded: {}\n", what.join(", ")))
    }
}

/// A compact, readable timeline in time order: a line when the state changes, milestone
/// events between them, quiet stretches folded into a count of their degraded seconds.
/// Times are from the deploy start (`deploy_at`), as in runs.csv.
pub fn text_timeline(sc: &Scenario, tr: &Trace) -> String {
    let t0 = sc.deploy_at;
    let t0_s = t0.second() as u64;
    let mut s = format!(
        "times from the deploy start (t+0 = deploy_at = {} s of simulated time, as in runs.csv); \
         a line when the phase, pods or weight change; ok = success ratio and p99 = latency \
         of that second (SLO: ok >= {:.2}%)\n",
        t0_s,
        100.0 * sc.slo.success
    );
    let mut last_key: Option<RowKey> = None;
    let mut ev = tr
        .events
        .iter()
        .filter(|e| MILESTONES.contains(&e.kind) || e.kind == "crash")
        .peekable();
    let mut fold: Option<Fold> = None;
    let mut crashes_shown = 0u32;
    let mut crashes_hidden = 0u32;
    let first = t0_s.saturating_sub(2);
    let flush = |fold: &mut Option<Fold>, s: &mut String| {
        if let Some(line) = fold.take().and_then(|f| f.line(t0_s)) {
            s.push_str(&line);
        }
    };
    // An event line ends any fold before it; crashes beyond the first few are counted.
    let event = |e: &TraceEvent,
                 fold: &mut Option<Fold>,
                 s: &mut String,
                 shown: &mut u32,
                 hidden: &mut u32| {
        if e.kind != "crash" || *shown < MAX_CRASHES {
            flush(fold, s);
            s.push_str(&event_line(e, t0));
            *shown += (e.kind == "crash") as u32;
        } else {
            *hidden += 1;
        }
    };
    for row in tr.timeline.iter().filter(|r| r.sample.t_s >= first) {
        let t = row.sample.t_s;
        // Events up to the start of this second shaped its sample: they come first.
        while let Some(e) = ev.next_if(|e| e.t <= SimTime::from_secs(t)) {
            event(
                e,
                &mut fold,
                &mut s,
                &mut crashes_shown,
                &mut crashes_hidden,
            );
        }
        let x = &row.sample;
        let bad = row.success_ratio.is_some_and(|r| r < sc.slo.success)
            || (row.requests == 0 && x.lb_old + x.lb_new == 0);
        let done = x.phase == DeployPhase::Done;
        let key = (
            x.phase.name(),
            x.old.active,
            x.new.active,
            if done { 0 } else { x.old.ready },
            if done { 0 } else { x.new.ready },
            x.new_weight.round() as i64,
        );
        let ready = x.old.ready + x.new.ready;
        if last_key.as_ref() == Some(&key) {
            let f = fold.get_or_insert(Fold {
                first: t,
                last: t,
                degraded: 0,
                worst: None,
                ready: (ready, ready),
            });
            f.last = t;
            f.ready = (f.ready.0.min(ready), f.ready.1.max(ready));
            if bad {
                f.degraded += 1;
                f.worst = match (f.worst, row.success_ratio) {
                    (Some(w), Some(r)) => Some(w.min(r)),
                    (w, r) => w.or(r),
                };
            }
            continue;
        }
        flush(&mut fold, &mut s);
        s.push_str(&row_line(row, t0_s));
        last_key = Some(key);
    }
    for e in ev {
        event(
            e,
            &mut fold,
            &mut s,
            &mut crashes_shown,
            &mut crashes_hidden,
        );
    }
    flush(&mut fold, &mut s);
    if crashes_hidden > 0 {
        s.push_str(&format!(
            "          ({crashes_hidden} more crashes not shown; events.csv lists every one)\n"
        ));
    }
    if let Some(last) = tr.timeline.last() {
        s.push_str(&format!(
            "{:>9}  horizon: unchanged since the last line\n",
            rel_secs(last.sample.t_s + 1, t0_s)
        ));
    }
    s
}

fn row_line(r: &TimelineRow, t0_s: u64) -> String {
    let x = &r.sample;
    let ok = r
        .success_ratio
        .map(|v| format!("{:6.2}%", 100.0 * v))
        .unwrap_or_else(|| "     -".into());
    let p99 = r
        .latency_p99_ms
        .map(|v| format!("{v:6.0}ms"))
        .unwrap_or_else(|| "      -".into());
    format!(
        "{:>9} {:<12} old {:>3} ({:>3} ready)  new {:>3} ({:>3} ready)  term {:>3}  weight {:>3}%  ok {ok} p99 {p99}\n",
        rel_secs(x.t_s, t0_s),
        x.phase.name(),
        x.old.active,
        x.old.ready,
        x.new.active,
        x.new.ready,
        x.old.terminating + x.new.terminating,
        x.new_weight.round(),
    )
}

fn event_line(e: &TraceEvent, t0: SimTime) -> String {
    let what = if e.detail.is_empty() {
        String::new()
    } else {
        format!(": {}", e.detail)
    };
    let pod = e.pod.map(|p| format!(" pod {p}")).unwrap_or_default();
    format!("{:>9}  >> {}{pod}{what}\n", rel_instant(e.t, t0), e.kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The start time of a timeline line, in seconds from the deploy start (`t+12s`,
    /// `t-2s`, `t+86.5s`, `t+24s..t+35s`); `None` for lines without one.
    fn line_time(line: &str) -> Option<(f64, f64)> {
        let rest = line.trim_start().strip_prefix('t')?;
        let num = |r: &str| -> Option<f64> {
            let end = r.find('s')?;
            r[..end].parse().ok()
        };
        let start = num(rest)?;
        let end = match rest.split_once("..t") {
            Some((_, b)) => num(b)?,
            None => start,
        };
        Some((start, end))
    }

    fn traced(name: &str, seed: u64) -> (Scenario, Trace, crate::metrics::RunRow) {
        let sc = crate::scenario::parse(crate::scenario::DEFAULT_TOML, "default.toml")
            .expect("default parses")
            .scenario;
        let users = UserTable::new(&sc.traffic);
        let st = sc
            .strategies
            .iter()
            .find(|s| s.name == name)
            .expect("strategy")
            .clone();
        let out = crate::runner::run(&sc, &users, &st, seed, true);
        (sc, out.trace.expect("trace"), out.row)
    }

    #[test]
    fn rolling_timeline_is_short_ordered_and_timed_from_the_deploy() {
        // Seed 13 of the default is a faulty release that a person rolls back; seed 0 a
        // healthy one. Both had hundreds of lines (866 for seed 13) before folding.
        for seed in [13, 0] {
            let (sc, tr, row) = traced("rolling", seed);
            let text = text_timeline(&sc, &tr);
            let lines: Vec<&str> = text.lines().collect();
            assert!(
                lines.len() < 100,
                "seed {seed}: {} lines\n{text}",
                lines.len()
            );
            assert!(
                lines[0].contains("t+0 = deploy_at = 60 s"),
                "the header names the time base: {}",
                lines[0]
            );
            // Every line after the header has a time, and they are in order: a fold
            // line's range ends before the next line starts.
            let mut prev_end = f64::NEG_INFINITY;
            for l in &lines[1..] {
                if l.contains("more crashes not shown") {
                    continue;
                }
                let (a, b) = line_time(l).unwrap_or_else(|| panic!("no time: {l}"));
                assert!(a >= prev_end, "seed {seed}: out of order at {l}\n{text}");
                prev_end = b;
            }
            // Every milestone event has its line, at its time from the deploy start.
            let t0 = sc.deploy_at.secs_f64();
            for e in tr.events.iter().filter(|e| MILESTONES.contains(&e.kind)) {
                let want = format!("t+{:.1}s  >> {}", e.t.secs_f64() - t0, e.kind);
                assert!(text.contains(&want), "seed {seed}: missing {want}\n{text}");
            }
            // The same instants as runs.csv, which counts from the deploy start.
            assert!(text.contains("t+0.0s  >> deploy_start"));
            let at = |kind: &str| {
                lines
                    .iter()
                    .find(|l| l.contains(&format!(">> {kind}")))
                    .and_then(|l| line_time(l))
                    .map(|t| t.0)
            };
            let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
                (Some(a), Some(b)) => (a - b).abs() < 0.051,
                (a, b) => a.is_none() && b.is_none(),
            };
            assert!(
                close(at("deploy_complete"), row.deploy_duration_s),
                "seed {seed}: deploy_complete {:?} vs deploy_duration_s {:?}",
                at("deploy_complete"),
                row.deploy_duration_s
            );
            assert!(
                close(at("alert"), row.detect_s),
                "seed {seed}: alert {:?} vs detect_s {:?}",
                at("alert"),
                row.detect_s
            );
            assert!(
                close(at("rollback_start"), row.decide_s),
                "seed {seed}: rollback_start {:?} vs decide_s {:?}",
                at("rollback_start"),
                row.decide_s
            );
        }
    }

    #[test]
    fn degraded_seconds_after_done_are_counted_not_listed() {
        // Seed 0 is healthy: after `done` the only changes are isolated seconds below the
        // SLO (baseline errors). They are folded into counts, one line per quiet stretch.
        let (sc, tr, _) = traced("rolling", 0);
        let text = text_timeline(&sc, &tr);
        let done_at = tr
            .timeline
            .iter()
            .find(|r| r.sample.phase == DeployPhase::Done)
            .expect("done")
            .sample
            .t_s;
        let bad_after: usize = tr
            .timeline
            .iter()
            .filter(|r| r.sample.t_s > done_at)
            .filter(|r| r.success_ratio.is_some_and(|v| v < sc.slo.success))
            .count();
        assert!(bad_after > 0, "the case needs baseline dips after done");
        let done_rows = text.lines().filter(|l| l.contains(" done ")).count();
        assert_eq!(done_rows, 1, "{text}");
        let folded: usize = text
            .lines()
            .filter_map(|l| l.split_once("s folded: ").map(|(_, r)| r))
            .filter_map(|r| r.split(" s below the SLO").next()?.rsplit(' ').next())
            .filter_map(|n| n.parse::<usize>().ok())
            .sum::<usize>();
        let bad_before: usize = tr
            .timeline
            .iter()
            .filter(|r| r.sample.t_s + 2 >= sc.deploy_at.second() as u64 && r.sample.t_s <= done_at)
            .filter(|r| r.success_ratio.is_some_and(|v| v < sc.slo.success))
            .count();
        assert!(
            folded >= bad_after && folded <= bad_after + bad_before,
            "folded {folded}, after done {bad_after}\n{text}"
        );
    }
}
