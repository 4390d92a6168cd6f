//! Reading a results directory for the plots: the `runs.csv` columns the run plots
//! draw, and a trace's `timeline.csv`, `events.csv` and the first line of `trace.txt`.
//!
//! Owns which columns and event kinds each plot takes and where the timeline's
//! x range is cropped; it draws nothing. Parsing rules come from `report::data`.

use std::path::Path;

use plotters::prelude::RGBColor;

use super::style::INK;
use super::timeline::{Marker, Timeline};
use crate::report::ReportError;
use crate::report::data::Table;

/// The per-run numbers the run plots need, grouped by strategy in file order.
pub(super) struct Runs {
    pub strategies: Vec<String>,
    pub rows: Vec<Vec<RunRow>>,
}

pub(super) struct RunRow {
    pub faulty: bool,
    pub blast_radius: Option<f64>,
    pub downtime_s: Option<f64>,
    pub rollback_s: Option<f64>,
    pub extra_pod_seconds: Option<f64>,
}

impl Runs {
    pub(super) fn read(dir: &Path) -> Result<Runs, ReportError> {
        let table = Table::read_columns(
            &dir.join("runs.csv"),
            Some(&[
                "strategy",
                "faulty",
                "blast_radius",
                "downtime_s",
                "rollback_s",
                "extra_pod_seconds",
            ]),
        )?;
        if table.rows().is_empty() {
            return Err(ReportError::Empty {
                path: table.path.clone(),
            });
        }
        let strategy = table.column("strategy")?;
        let faulty = table.column("faulty")?;
        let [blast, downtime, rollback, extra] = [
            "blast_radius",
            "downtime_s",
            "rollback_s",
            "extra_pod_seconds",
        ]
        .map(|c| table.column(c));
        let (blast, downtime, rollback, extra) = (blast?, downtime?, rollback?, extra?);
        let strategies = table.distinct(strategy);
        let mut rows: Vec<Vec<RunRow>> = strategies.iter().map(|_| Vec::new()).collect();
        for row in table.rows() {
            let name = table.text(row, strategy);
            let Some(i) = strategies.iter().position(|s| s == name) else {
                continue;
            };
            rows[i].push(RunRow {
                faulty: table.boolean(row, faulty)?.unwrap_or(false),
                blast_radius: table.number(row, blast)?,
                downtime_s: table.number(row, downtime)?,
                rollback_s: table.number(row, rollback)?,
                extra_pod_seconds: table.number(row, extra)?,
            });
        }
        Ok(Runs { strategies, rows })
    }
}

impl Timeline {
    pub(super) fn read(dir: &Path) -> Result<Timeline, ReportError> {
        let table = Table::read(&dir.join("timeline.csv"))?;
        if table.rows().is_empty() {
            return Err(ReportError::Empty {
                path: table.path.clone(),
            });
        }
        let t_col = table.column("t_s")?;
        let phase = table.column("phase")?;
        let columns = [
            "old_pods",
            "new_pods",
            "terminating",
            "new_weight",
            "success_ratio",
            "latency_p99_ms",
        ]
        .map(|c| table.column(c));
        let mut cols = Vec::with_capacity(columns.len());
        for c in columns {
            cols.push(c?);
        }
        let ready = [table.column("old_ready")?, table.column("new_ready")?];
        let mut series: Vec<Vec<Option<f64>>> = vec![Vec::new(); cols.len()];
        let mut t = Vec::new();
        let mut deploy_start = None;
        // The last second whose state (phase, pods, ready pods, weight) differs from the
        // one before, leaving out ready pods that come and go once the deploy is done.
        let mut last_change = None;
        let mut prev: Option<(String, Vec<Option<f64>>)> = None;
        for row in table.rows() {
            let Some(time) = table.number(row, t_col)? else {
                continue;
            };
            let ph = table.text(row, phase);
            if deploy_start.is_none() && !matches!(ph, "steady" | "") {
                deploy_start = Some(time);
            }
            t.push(time);
            for (values, &col) in series.iter_mut().zip(&cols) {
                values.push(table.number(row, col)?);
            }
            let mut state = vec![table.number(row, cols[0])?, table.number(row, cols[1])?];
            state.push(table.number(row, cols[3])?.map(f64::round));
            if ph != "done" {
                state.push(table.number(row, ready[0])?);
                state.push(table.number(row, ready[1])?);
            }
            let now = (ph.to_string(), state);
            if prev.as_ref().is_some_and(|p| *p != now) {
                last_change = Some(time);
            }
            prev = Some(now);
        }
        let t0 = deploy_start.unwrap_or(0.0);
        for v in &mut t {
            *v -= t0;
        }
        let mut markers = Vec::new();
        if deploy_start.is_some() {
            markers.push(Marker {
                label: "deploy start",
                t: 0.0,
                color: INK,
            });
        }
        if let Some(events) = Table::read_optional(&dir.join("events.csv"))? {
            let t_col = events.column("t_s")?;
            let kind = events.column("kind")?;
            let first = |kinds: &[&str]| -> Result<Option<f64>, ReportError> {
                for row in events.rows() {
                    if kinds.contains(&events.text(row, kind))
                        && let Some(t) = events.number(row, t_col)?
                    {
                        return Ok(Some(t));
                    }
                }
                Ok(None)
            };
            let wanted: [(&'static str, &[&str], RGBColor); 4] = [
                (
                    "detection",
                    &["alert", "analysis_failed"],
                    RGBColor(230, 159, 0),
                ),
                ("rollback start", &["rollback_start"], RGBColor(200, 30, 30)),
                (
                    "rollback complete",
                    &["rollback_complete"],
                    RGBColor(123, 50, 148),
                ),
                ("deploy done", &["deploy_complete"], RGBColor(0, 158, 115)),
            ];
            for (label, kinds, color) in wanted {
                if let Some(t) = first(kinds)? {
                    markers.push(Marker {
                        label,
                        t: t - t0,
                        color,
                    });
                }
            }
        }
        let data_lo = t.first().copied().unwrap_or(0.0);
        let data_hi = t.last().copied().unwrap_or(1.0);
        let last = markers
            .iter()
            .map(|m| m.t)
            .chain(last_change.map(|c| c - t0))
            .fold(0.0_f64, f64::max);
        let margin = (0.15 * last).max(30.0);
        let lo = (-20.0_f64).max(data_lo);
        let span = (lo, (last + margin).min(data_hi).max(lo + 1.0));
        let run = std::fs::read_to_string(dir.join("trace.txt"))
            .ok()
            .and_then(|s| s.lines().next().map(str::to_string))
            .unwrap_or_default();
        let mut series = series.into_iter();
        let mut next = || series.next().unwrap_or_default();
        Ok(Timeline {
            run,
            t0,
            span,
            t,
            old_pods: next(),
            new_pods: next(),
            terminating: next(),
            new_weight: next(),
            success_ratio: next(),
            latency_p99_ms: next(),
            markers,
        })
    }
}
