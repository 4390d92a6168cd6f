//! `deploysim run`: the sweep, its files and its table.

use super::args::{Format, RunArgs};
use super::trace::find_strategy;
use super::{Failure, create, load_scenario, write_dir_atomically};
use crate::report::files;
use crate::report::summary::{Invocation, Summary};
use crate::scenario::Strategy;
use crate::sweep::sweep;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

pub fn run(a: RunArgs, line: &[String]) -> Result<u8, Failure> {
    let mut parsed = load_scenario(a.scenario.as_ref())?;
    super::args::FidelityArg::apply(a.fidelity, &mut parsed.scenario);
    let sc = &parsed.scenario;
    let file = a
        .scenario
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "default.toml (embedded)".into());
    if a.seeds == 0 {
        return Err(Failure::input("error: --seeds: must be at least 1"));
    }
    if a.jobs == Some(0) {
        return Err(Failure::input("error: --jobs: must be at least 1"));
    }
    let strategies: Vec<Strategy> = if a.strategies.is_empty() {
        sc.strategies.clone()
    } else {
        let mut v = Vec::new();
        for name in &a.strategies {
            let s = find_strategy(sc, name, &file)?;
            if !v.iter().any(|x: &Strategy| x.name == s.name) {
                v.push(s);
            }
        }
        v
    };
    let jobs = a.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&sc.name));
    let total = a.seeds * strategies.len() as u64;
    let bar = if a.quiet || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} runs  {per_sec}  ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    };
    let invocation = Invocation {
        command: line.join(" "),
        jobs,
        out: out.display().to_string(),
        seed_base: a.seed_base,
        seeds: a.seeds,
    };
    let mut summary = Summary::new(sc, &strategies);
    write_dir_atomically(&out, |tmp| {
        let p = tmp.join("runs.csv");
        let mut w = create(&p)?;
        let ioerr = |e| Failure::io(&tmp.join("runs.csv"), e);
        files::write_runs_header(&mut w).map_err(ioerr)?;
        let mut write_err = None;
        let progress = |n| bar.inc(n);
        sweep(
            sc,
            &strategies,
            a.seed_base,
            a.seeds,
            jobs,
            &progress,
            &mut |s, o| {
                if write_err.is_none()
                    && let Err(e) = files::write_run(&mut w, &sc.name, s.kind.name(), &o.row)
                {
                    write_err = Some(e);
                }
                summary.add(s, o);
            },
        )
        .map_err(|e| Failure::input(format!("error: --jobs: cannot start {jobs} threads: {e}")))?;
        if let Some(e) = write_err {
            return Err(ioerr(e));
        }
        w.flush().map_err(ioerr)?;
        bar.finish_and_clear();
        summary.write_all(tmp, &invocation)?;
        crate::report::render_report(tmp, a.plots.format()).map_err(super::report_failure)?;
        Ok(())
    })?;
    match a.format {
        Format::Table => {
            print!("{}", summary.table());
            println!(
                "results: {}/ (report.html, runs.csv, summary.csv, summary.json, compare.csv, *.svg)",
                out.display()
            );
        }
        Format::Json => {
            let p = out.join("summary.json");
            let text = std::fs::read_to_string(&p).map_err(|e| Failure::io(&p, e))?;
            print!("{text}");
        }
        Format::None => {}
    }
    Ok(0)
}
