//! CSV writers for `runs.csv`, `timeline.csv` and `events.csv` (DESIGN.md §6).
//!
//! Formatting is deterministic (no locale, no time stamps): the same rows give the same
//! bytes. Empty cells mean "does not apply" or "did not happen by the horizon".

use crate::catalogue::Column;
use crate::metrics::{RunRow, TimelineRow, TraceEvent};
use std::io::{self, Write};

/// A number as written in every output file: integers without a fraction, others
/// with at most six decimals and no trailing zeros.
/// A number for the CSV files: integers without a decimal point, anything else with 9
/// significant digits (enough for a blast radius of 0.001234567 or a time of
/// 1739.97882 s), trailing zeros trimmed. Stable across platforms: only `format!`.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return String::new();
    }
    if x == x.trunc() && x.abs() < 1e15 {
        return format!("{}", x as i64);
    }
    let magnitude = x.abs().log10().ceil() as i32;
    let decimals = (9 - magnitude).clamp(0, 15) as usize;
    let s = format!("{x:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        &s
    };
    if s == "-0" { "0".into() } else { s.into() }
}

pub fn opt(x: Option<f64>) -> String {
    x.map(num).unwrap_or_default()
}

/// Quotes a field if it needs it (RFC 4180).
pub fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn write_runs_header(w: &mut impl Write) -> io::Result<()> {
    let names: Vec<&str> = Column::ALL.iter().map(|c| c.name()).collect();
    writeln!(w, "{}", names.join(","))
}

/// One `runs.csv` row, its cells in `Column::ALL` order.
pub fn write_run(w: &mut impl Write, scenario: &str, kind: &str, r: &RunRow) -> io::Result<()> {
    for (i, c) in Column::ALL.into_iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        match c {
            Column::Scenario => write!(w, "{}", field(scenario))?,
            Column::Strategy => write!(w, "{}", field(&r.strategy))?,
            Column::Seed => write!(w, "{}", r.seed)?,
            Column::Faulty => write!(w, "{}", r.faulty)?,
            Column::Fault => write!(w, "{}", r.fault.unwrap_or(""))?,
            Column::Outcome => write!(w, "{}", r.outcome.name())?,
            Column::StrategyKind => write!(w, "{kind}")?,
            Column::CaughtStage => write!(w, "{}", field(r.caught_stage.as_deref().unwrap_or("")))?,
            Column::FalseRollback => write!(w, "{}", r.false_rollback)?,
            // Every other column is a number (or empty when it did not happen).
            c => write!(w, "{}", opt(r.metric(c)))?,
        }
    }
    writeln!(w)
}

pub fn write_timeline(w: &mut impl Write, rows: &[TimelineRow]) -> io::Result<()> {
    writeln!(
        w,
        "t_s,phase,old_pods,new_pods,terminating,old_ready,new_ready,new_weight,requests,failed,impacted,success_ratio,latency_p99_ms"
    )?;
    for r in rows {
        let s = &r.sample;
        writeln!(
            w,
            "{},{},{},{},{},{},{},{},{},{},{},{},{}",
            s.t_s,
            s.phase.name(),
            s.old.active,
            s.new.active,
            s.old.terminating + s.new.terminating,
            s.old.ready,
            s.new.ready,
            num(s.new_weight),
            r.requests,
            r.failed,
            r.impacted,
            opt(r.success_ratio),
            opt(r.latency_p99_ms),
        )?;
    }
    Ok(())
}

pub fn write_events(w: &mut impl Write, events: &[TraceEvent]) -> io::Result<()> {
    writeln!(w, "t_s,kind,pod,version,node,detail")?;
    for e in events {
        writeln!(
            w,
            "{},{},{},{},{},{}",
            num(e.t.secs_f64()),
            e.kind,
            e.pod.map(|p| p.to_string()).unwrap_or_default(),
            e.version
                .map(|v| if v == 0 { "old" } else { "new" })
                .unwrap_or(""),
            e.node.map(|n| n.to_string()).unwrap_or_default(),
            field(&e.detail),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_compact_and_stable() {
        let cases = [
            (3.0, "3"),
            (0.25, "0.25"),
            (1.0 / 3.0, "0.333333333"),
            (0.0010112345678, "0.00101123457"),
            (-1e-16, "0"),
            (1e-17, "0"),
            (89.684946, "89.684946"),
            (1739.978824123, "1739.97882"),
            (-2.5e-4, "-0.00025"),
        ];
        for (x, want) in cases {
            assert_eq!(num(x), want, "{x}");
        }
    }

    #[test]
    fn fields_are_quoted_when_needed() {
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("plain"), "plain");
    }
}
