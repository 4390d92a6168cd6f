//! `deploysim trace`: one (scenario, strategy, seed), second by second.

use super::config::TraceConfig;
use super::{Failure, create, emit};
use crate::report::files;
use crate::scenario::Scenario;
use crate::world::{TimelineRow, Trace, TraceEvent, UserTable};
use std::io::Write;

pub fn trace(cfg: TraceConfig) -> Result<u8, Failure> {
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
    crate::report::plots::render_trace_plot(tmp, cfg.plots.format())
        .map_err(super::report_failure)?;
    staged.commit()?;
    let r = &out.row;
    let mut text = format!(
        "{} / {} / seed {}: release {}{}; outcome {}\n",
        sc.name,
        strategy.name,
        cfg.seed,
        if r.faulty { "FAULTY" } else { "healthy" },
        r.fault.map(|f| format!(" ({f})")).unwrap_or_default(),
        r.outcome.name()
    );
    text.push_str(&text_timeline(sc, &tr));
    text.push_str(&format!(
        "impacted {} of {} requests since deploy ({:.2}%), downtime {} s, users affected {}\n",
        r.impacted_requests,
        r.requests,
        100.0 * r.blast_radius,
        r.downtime_s,
        r.users_affected
    ));
    text.push_str(&format!(
        "wrote {}/timeline.csv, events.csv and the timeline plot\n",
        dir.display()
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

/// What must change for the text timeline to print a new line.
type RowKey = (&'static str, u32, u32, u32, u32, u32, i64, bool);

/// A compact, readable timeline: a line when the state changes, milestones inline,
/// quiet stretches folded.
pub fn text_timeline(sc: &Scenario, tr: &Trace) -> String {
    let mut s = String::new();
    let mut last_key: Option<RowKey> = None;
    let mut ev = tr
        .events
        .iter()
        .filter(|e| MILESTONES.contains(&e.kind) || e.kind == "crash")
        .peekable();
    let mut folded = 0u32;
    let mut crashes_shown = 0u32;
    let first = sc.deploy_at.second().saturating_sub(2) as u64;
    for row in tr.timeline.iter().filter(|r| r.sample.t_s >= first) {
        while let Some(e) = ev.peek() {
            if e.t.second() as u64 > row.sample.t_s {
                break;
            }
            if e.kind != "crash" || crashes_shown < 8 {
                s.push_str(&event_line(e));
                crashes_shown += (e.kind == "crash") as u32;
            }
            ev.next();
        }
        let x = &row.sample;
        let bad = row.success_ratio.is_some_and(|r| r < sc.slo.success)
            || (row.requests == 0 && x.lb_old + x.lb_new == 0);
        let key = (
            x.phase.name(),
            x.old.active,
            x.new.active,
            x.old.ready,
            x.new.ready,
            x.old.terminating + x.new.terminating,
            x.new_weight.round() as i64,
            bad,
        );
        if last_key.as_ref() == Some(&key) && !bad {
            folded += 1;
            continue;
        }
        if folded > 0 {
            s.push_str(&format!("      … {folded} s unchanged\n"));
            folded = 0;
        }
        s.push_str(&row_line(row));
        last_key = Some(key);
    }
    if folded > 0 {
        s.push_str(&format!("      … {folded} s unchanged until the horizon\n"));
    }
    s
}

fn row_line(r: &TimelineRow) -> String {
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
        "{:>6}s {:<12} old {:>3} ({:>3} ready)  new {:>3} ({:>3} ready)  term {:>3}  weight {:>3}%  ok {ok} p99 {p99}\n",
        x.t_s,
        x.phase.name(),
        x.old.active,
        x.old.ready,
        x.new.active,
        x.new.ready,
        x.old.terminating + x.new.terminating,
        x.new_weight.round(),
    )
}

fn event_line(e: &TraceEvent) -> String {
    let what = if e.detail.is_empty() {
        String::new()
    } else {
        format!(": {}", e.detail)
    };
    let pod = e.pod.map(|p| format!(" pod {p}")).unwrap_or_default();
    format!("{:>8.1}s  >> {}{pod}{what}\n", e.t.secs_f64(), e.kind)
}
