//! `deploysim run`: the sweep, its files and its table; `execute` is the one sweep
//! entry point every command uses.

use super::args::Format;
use super::config::RunConfig;
use super::out::Staged;
use super::{Failure, emit};
use crate::report::PlotFormat;
use crate::report::summary::{Invocation, Summary};
use crate::report::{files, shard};
use crate::scenario::{Fidelity, Scenario, Strategy};
use crate::sweep::SeedSet;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Where a sweep's files go: the staged directory, how it is reported in
/// `summary.json`, and the plot format.
pub struct Destination<'a> {
    pub dir: &'a Path,
    pub invocation: &'a Invocation,
    pub plots: PlotFormat,
}

/// Runs `strategies` over `seeds` and, with a destination, writes `runs.csv` as the
/// runs arrive and then the summary files and the report, or, for a shard
/// (`seeds.of > 1`), `runs.jsonl` and `shard.json` for `merge` instead.
pub fn execute<'s>(
    sc: &'s Scenario,
    strategies: &[Strategy],
    seeds: SeedSet,
    jobs: usize,
    bar: &ProgressBar,
    dest: Option<Destination<'_>>,
) -> Result<Summary<'s>, Failure> {
    let mut summary = Summary::new(sc, strategies);
    let shard = seeds.of > 1;
    let open = |name: &str| -> Result<(PathBuf, BufWriter<File>), Failure> {
        let dir = dest.as_ref().map_or(Path::new("."), |d| d.dir);
        let p = dir.join(name);
        Ok((p.clone(), super::create(&p)?))
    };
    let mut runs = dest.as_ref().map(|_| open("runs.csv")).transpose()?;
    if let Some((p, w)) = runs.as_mut() {
        files::write_runs_header(w).map_err(|e| Failure::io(p, e))?;
    }
    let mut records = if shard {
        dest.as_ref().map(|_| open("runs.jsonl")).transpose()?
    } else {
        None
    };
    let mut write_err: Option<(PathBuf, std::io::Error)> = None;
    let progress = |n| bar.inc(n);
    crate::sweep::sweep(sc, strategies, seeds, jobs, &progress, &mut |s, o| {
        if write_err.is_none() {
            if let Some((p, w)) = runs.as_mut()
                && let Err(e) = files::write_run(w, &sc.name, s.kind.name(), &o.row)
            {
                write_err = Some((p.clone(), e));
            }
            let index = strategies
                .iter()
                .position(|x| x.name == s.name)
                .unwrap_or(0);
            if let Some((p, w)) = records.as_mut()
                && let Err(e) = shard::write_record(w, &shard::RunRecord::new(index, &o.row))
            {
                write_err = Some((p.clone(), e));
            }
        }
        summary.add(s, o);
    })
    .map_err(|e| Failure::input(format!("error: --jobs: cannot start {jobs} threads: {e}")))?;
    bar.finish_and_clear();
    if let Some((p, e)) = write_err {
        return Err(Failure::io(&p, e));
    }
    for (p, mut w) in runs.into_iter().chain(records) {
        w.flush().map_err(|e| Failure::io(&p, e))?;
    }
    if let Some(d) = dest {
        if shard {
            let header = shard_header(sc, strategies, seeds, &summary);
            shard::write_header(d.dir, &header).map_err(super::report_failure)?;
        } else {
            finish(&summary, &d)?;
        }
    }
    Ok(summary)
}

/// The summary files and the report of a finished (or merged) sweep.
pub fn finish(summary: &Summary<'_>, d: &Destination<'_>) -> Result<(), Failure> {
    summary
        .write_all(d.dir, d.invocation)
        .map_err(super::report_failure)?;
    crate::report::render_report(d.dir, d.plots).map_err(super::report_failure)?;
    Ok(())
}

pub fn fidelity_name(sc: &Scenario) -> &'static str {
    match sc.fidelity {
        Fidelity::Request => "request",
        Fidelity::Fluid => "fluid",
    }
}

fn shard_header(
    sc: &Scenario,
    strategies: &[Strategy],
    seeds: SeedSet,
    summary: &Summary<'_>,
) -> shard::ShardHeader {
    shard::ShardHeader {
        format: shard::FORMAT.into(),
        format_version: shard::FORMAT_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").into(),
        scenario: sc.name.clone(),
        scenario_text: sc.source_text.clone(),
        fidelity: fidelity_name(sc).into(),
        strategies: strategies.iter().map(|s| s.name.clone()).collect(),
        seed_base: seeds.base,
        seeds: seeds.count,
        shard_index: seeds.index + 1,
        shard_count: seeds.of,
        runs: seeds.len() * strategies.len() as u64,
        latency: strategies
            .iter()
            .filter_map(|s| {
                summary
                    .pooled(&s.name)
                    .map(|h| shard::PooledLatency::new(&s.name, h))
            })
            .collect(),
    }
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
    let total = cfg.seeds.len().saturating_mul(cfg.strategies.len() as u64);
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
    if cfg.seeds.of > 1 {
        if cfg.format != Format::None {
            emit(&format!(
                "shard {}/{}: {} runs written to {}/; combine every shard with \
                 `deploysim merge DIR... --out DIR`\n",
                cfg.seeds.index + 1,
                cfg.seeds.of,
                total,
                out.display()
            ))?;
        }
        return Ok(0);
    }
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
