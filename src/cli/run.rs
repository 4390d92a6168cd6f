//! `deploysim run`: the sweep, its files and its table; `execute` is the one sweep
//! entry point every command uses.

use super::args::Format;
use super::config::{RunConfig, Seeds};
use super::out::Staged;
use super::{Failure, emit};
use crate::report::PlotFormat;
use crate::report::files;
use crate::report::summary::{Invocation, Summary};
use crate::scenario::{Scenario, Strategy};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::Path;

/// Where a sweep's files go: the staged directory, how it is reported in
/// `summary.json`, and the plot format.
pub struct Destination<'a> {
    pub dir: &'a Path,
    pub invocation: &'a Invocation,
    pub plots: PlotFormat,
}

/// Runs `strategies` over `seeds` and, with a destination, writes `runs.csv` as the
/// runs arrive, then the summary files and the report.
pub fn execute<'s>(
    sc: &'s Scenario,
    strategies: &[Strategy],
    seeds: Seeds,
    jobs: usize,
    bar: &ProgressBar,
    dest: Option<Destination<'_>>,
) -> Result<Summary<'s>, Failure> {
    let mut summary = Summary::new(sc, strategies);
    let runs_path = dest.as_ref().map(|d| d.dir.join("runs.csv"));
    let mut runs = match &runs_path {
        Some(p) => {
            let mut w = super::create(p)?;
            files::write_runs_header(&mut w).map_err(|e| Failure::io(p, e))?;
            Some(w)
        }
        None => None,
    };
    let mut write_err = None;
    let progress = |n| bar.inc(n);
    crate::sweep::sweep(
        sc,
        strategies,
        seeds.base,
        seeds.count,
        jobs,
        &progress,
        &mut |s, o| {
            if let Some(w) = runs.as_mut()
                && write_err.is_none()
                && let Err(e) = files::write_run(w, &sc.name, s.kind.name(), &o.row)
            {
                write_err = Some(e);
            }
            summary.add(s, o);
        },
    )
    .map_err(|e| Failure::input(format!("error: --jobs: cannot start {jobs} threads: {e}")))?;
    bar.finish_and_clear();
    if let (Some(d), Some(mut w), Some(p)) = (dest, runs, runs_path) {
        if let Some(e) = write_err {
            return Err(Failure::io(&p, e));
        }
        w.flush().map_err(|e| Failure::io(&p, e))?;
        summary
            .write_all(d.dir, d.invocation)
            .map_err(super::report_failure)?;
        crate::report::render_report(d.dir, d.plots).map_err(super::report_failure)?;
    }
    Ok(summary)
}

/// A progress bar on stderr, hidden when stderr is not a terminal or `quiet`.
pub fn progress_bar(total: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    b.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} runs  {per_sec}  ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    b
}

pub fn run(cfg: RunConfig, line: &[String]) -> Result<u8, Failure> {
    let sc = cfg.loaded.scenario();
    let out = cfg.out.path().to_path_buf();
    let total = cfg.seeds.count.saturating_mul(cfg.strategies.len() as u64);
    let bar = progress_bar(total, cfg.quiet);
    let invocation = Invocation {
        command: line.join(" "),
        jobs: cfg.jobs,
        out: out.display().to_string(),
        seed_base: cfg.seeds.base,
        seeds: cfg.seeds.count,
    };
    let staged: Staged = cfg.out.stage()?;
    let summary = execute(
        sc,
        &cfg.strategies,
        cfg.seeds,
        cfg.jobs,
        &bar,
        Some(Destination {
            dir: staged.dir(),
            invocation: &invocation,
            plots: cfg.plots.format(),
        }),
    )?;
    staged.commit()?;
    match cfg.format {
        Format::Table => emit(&format!(
            "{}results: {}/ (report.html, runs.csv, summary.csv, summary.json, compare.csv, *.svg)\n",
            summary.table(),
            out.display()
        )),
        Format::Json => {
            let p = out.join("summary.json");
            let text = std::fs::read_to_string(&p).map_err(|e| Failure::io(&p, e))?;
            emit(&text)
        }
        Format::None => Ok(()),
    }?;
    Ok(0)
}
