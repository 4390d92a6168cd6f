//! `deploysim merge`: shard directories -> the results of one run over the whole seed
//! range, byte-identical except `invocation` (DESIGN §11). Never re-simulates.
//!
//! Every shard must come from the same scenario text, tool version, options and seed
//! range, and together they must cover every (seed, strategy) exactly once; anything
//! else is refused (exit 2) before the output directory is staged.

use super::args::{Format, MergeArgs};
use super::config::find_strategy;
use super::out::Target;
use super::run::{Destination, fidelity_name, finish};
use super::{Failure, emit};
use crate::report::files;
use crate::report::shard::{self, ShardDir};
use crate::report::summary::{Invocation, Summary};
use crate::scenario::{self, Fidelity};
use crate::sweep::SeedSet;
use std::io::Write;

pub fn merge(a: MergeArgs, line: &[String]) -> Result<u8, Failure> {
    let out = Target::check(&a.out, "--out")?;
    let mut shards = Vec::new();
    for d in &a.shards {
        shards.push(shard::read(d).map_err(super::report_failure)?);
    }
    check_set(&shards)?;
    let first = &shards[0].header;
    let label = format!("{} (from {})", first.scenario, shards[0].dir.display());
    let mut sc = scenario::parse(&first.scenario_text, &label)
        .map_err(|e| Failure::input(e.to_string()))?
        .scenario;
    sc.fidelity = if first.fidelity == "fluid" {
        Fidelity::Fluid
    } else {
        Fidelity::Request
    };
    if fidelity_name(&sc) != first.fidelity {
        return Err(Failure::input(format!(
            "error: {}: shard.json: unknown fidelity `{}`",
            shards[0].dir.display(),
            first.fidelity
        )));
    }
    let strategies = first
        .strategies
        .iter()
        .map(|n| find_strategy(&sc, n, &label))
        .collect::<Result<Vec<_>, _>>()?;
    // Every record in (seed, strategy) order, as one run would have produced them.
    let mut records: Vec<&shard::RunRecord> =
        shards.iter().flat_map(|s| s.records.iter()).collect();
    records.sort_by_key(|r| (r.seed, r.strategy_index));
    let mut rows = Vec::with_capacity(records.len());
    for r in &records {
        let row = r.row().ok_or_else(|| {
            Failure::input(format!(
                "error: runs.jsonl: seed {} strategy {}: unknown fault kind or outcome",
                r.seed, r.strategy
            ))
        })?;
        rows.push((r.strategy_index, row));
    }
    let mut summary = Summary::new(&sc, &strategies);
    for (i, row) in &rows {
        summary.add_row(&strategies[*i].name, row);
    }
    for s in &shards {
        for pooled in &s.header.latency {
            let h = pooled.histograms().ok_or_else(|| {
                Failure::input(format!(
                    "error: {}: shard.json: latency of `{}`: a bucket is out of range",
                    s.dir.display(),
                    pooled.strategy
                ))
            })?;
            summary.add_pooled(&pooled.strategy, &h);
        }
    }
    let invocation = Invocation {
        command: line.join(" "),
        jobs: 1,
        out: out.path().display().to_string(),
        seed_base: first.seed_base,
        seeds: first.seeds,
    };
    let staged = out.stage()?;
    let p = staged.dir().join("runs.csv");
    let mut w = super::create(&p)?;
    files::write_runs_header(&mut w).map_err(|e| Failure::io(&p, e))?;
    for (i, row) in &rows {
        files::write_run(&mut w, &sc.name, strategies[*i].kind.name(), row)
            .map_err(|e| Failure::io(&p, e))?;
    }
    w.flush().map_err(|e| Failure::io(&p, e))?;
    drop(w);
    finish(
        &summary,
        &Destination {
            dir: staged.dir(),
            invocation: &invocation,
            plots: a.plots.format(),
        },
    )?;
    staged.commit()?;
    match a.format {
        Format::Table => emit(&format!(
            "{}results: {}/ (merged from {} shards)\n",
            summary.table(),
            out.path().display(),
            shards.len()
        )),
        Format::Json => {
            let p = out.path().join("summary.json");
            let text = std::fs::read_to_string(&p).map_err(|e| Failure::io(&p, e))?;
            emit(&text)
        }
        Format::None => Ok(()),
    }?;
    Ok(0)
}

/// The shards agree on what they are and cover every (seed, strategy) once.
fn check_set(shards: &[ShardDir]) -> Result<(), Failure> {
    let Some(first) = shards.first() else {
        return Err(Failure::input("error: merge: no shard directories given"));
    };
    let bad =
        |s: &ShardDir, why: String| Failure::input(format!("error: {}: {why}", s.dir.display()));
    for s in shards {
        if s.header.format_version != shard::FORMAT_VERSION {
            return Err(bad(
                s,
                format!(
                    "shard format version {} (this deploysim reads version {})",
                    s.header.format_version,
                    shard::FORMAT_VERSION
                ),
            ));
        }
        for ((what, mine), (_, theirs)) in s.header.identity().iter().zip(first.header.identity()) {
            if *mine != theirs {
                return Err(bad(
                    s,
                    format!(
                        "not a shard of the same run as {}: its {what} differs",
                        first.dir.display()
                    ),
                ));
            }
        }
    }
    let n = first.header.shard_count;
    let mut seen: Vec<Option<&ShardDir>> = vec![None; n.min(1 << 20) as usize];
    for s in shards {
        let i = s.header.shard_index;
        if i == 0 || i > n || i as usize > seen.len() {
            return Err(bad(s, format!("shard index {i} is not between 1 and {n}")));
        }
        if let Some(other) = seen[i as usize - 1] {
            return Err(bad(
                s,
                format!(
                    "shard {i}/{n} is given twice (also {})",
                    other.dir.display()
                ),
            ));
        }
        seen[i as usize - 1] = Some(s);
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| format!("{}/{n}", i + 1))
        .collect();
    if !missing.is_empty() {
        return Err(Failure::input(format!(
            "error: merge: missing shard {} (every shard 1..{n} must be given once)",
            missing.join(", ")
        )));
    }
    let n_strat = first.header.strategies.len();
    for s in shards {
        let h = &s.header;
        let set = SeedSet {
            base: h.seed_base,
            count: h.seeds,
            index: h.shard_index - 1,
            of: h.shard_count,
        };
        let want = set.len() * n_strat as u64;
        if s.records.len() as u64 != want || h.runs != want {
            return Err(bad(
                s,
                format!(
                    "runs.jsonl holds {} runs, but shard {}/{} of this range has {want}",
                    s.records.len(),
                    h.shard_index,
                    h.shard_count
                ),
            ));
        }
        for (k, r) in s.records.iter().enumerate() {
            let seed = set.nth(k as u64 / n_strat as u64);
            let idx = k % n_strat;
            if r.seed != seed || r.strategy_index != idx || r.strategy != h.strategies[idx] {
                return Err(bad(
                    s,
                    format!(
                        "runs.jsonl line {}: expected seed {seed} strategy {}, found seed {} strategy {}",
                        k + 1,
                        h.strategies[idx],
                        r.seed,
                        r.strategy
                    ),
                ));
            }
        }
    }
    Ok(())
}
