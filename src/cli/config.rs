//! The second stage of the command line: raw clap flags -> validated, typed settings.
//!
//! Everything a command needs is checked here before any work starts (scenario
//! resolved and validated, seed range representable, jobs bounded, output target
//! safe), so a bad flag never costs a simulation and every command checks a flag the
//! same way.

use super::Failure;
use super::args::{CheckArgs, FidelityArg, Format, PlotArg, RunArgs, TraceArgs};
use super::out::Target;
use crate::scenario::{self, Parsed, Scenario, Strategy};
use crate::sim::SimTime;
use crate::sweep::SeedSet;
use std::path::{Path, PathBuf};

/// A validated scenario and how to name it to the user.
pub struct Loaded {
    pub parsed: Parsed,
    /// How a reproduction command names it: the path given, the bundled name, or
    /// `default`.
    pub arg: String,
    /// How messages name it (`default.toml (embedded)`, a path, `four-tier (bundled)`).
    pub label: String,
}

impl Loaded {
    pub fn scenario(&self) -> &Scenario {
        &self.parsed.scenario
    }
}

/// Resolves a scenario argument (a path that exists wins, else a bundled scenario's
/// name, else the embedded default when absent), validates it and prints its
/// warnings on stderr.
pub fn load_scenario(arg: Option<&Path>, fidelity: Option<FidelityArg>) -> Result<Loaded, Failure> {
    let (text, label, shown) = match arg {
        None => (
            scenario::DEFAULT_TOML.to_string(),
            "default.toml (embedded)".to_string(),
            "default".to_string(),
        ),
        Some(p) if p.exists() => {
            let text = std::fs::read_to_string(p).map_err(|e| {
                Failure::input(format!(
                    "error: {}: cannot read the scenario file: {e}",
                    p.display()
                ))
            })?;
            (text, p.display().to_string(), p.display().to_string())
        }
        Some(p) => {
            let name = p.to_string_lossy();
            let stem = name.strip_suffix(".toml").unwrap_or(&name);
            let Some((n, text)) = scenario::bundled().iter().find(|(n, _)| *n == stem) else {
                return Err(Failure::input(format!(
                    "error: {name}: no such file, and no bundled scenario of that name \
                     (`deploysim list` shows them)"
                )));
            };
            (text.to_string(), format!("{n} (bundled)"), n.to_string())
        }
    };
    let parsed = scenario::parse_as(&text, &label, fidelity.map(FidelityArg::fidelity))
        .map_err(|e| Failure::input(e.to_string()))?;
    for w in &parsed.warnings {
        eprintln!("{w}");
    }
    Ok(Loaded {
        parsed,
        arg: shown,
        label,
    })
}

/// The seed range `base .. base + count` (every seed representable), or shard
/// `I/N` of it (`--shard`, 1-based).
pub fn seed_set(base: u64, count: u64, shard: Option<&str>) -> Result<SeedSet, Failure> {
    if count == 0 {
        return Err(Failure::input("error: --seeds: must be at least 1"));
    }
    if base.checked_add(count - 1).is_none() {
        return Err(Failure::input(format!(
            "error: --seed-base {base} --seeds {count}: the last seed would exceed {} \
             (seeds never wrap around)",
            u64::MAX
        )));
    }
    let Some(text) = shard else {
        return Ok(SeedSet::whole(base, count));
    };
    let bad = |why: &str| Failure::input(format!("error: --shard {text}: {why}"));
    let (i, n) = text
        .split_once('/')
        .ok_or_else(|| bad("expected I/N, e.g. 2/8 (shard 2 of 8)"))?;
    let (Ok(i), Ok(n)) = (i.trim().parse::<u64>(), n.trim().parse::<u64>()) else {
        return Err(bad("expected I/N with whole numbers, e.g. 2/8"));
    };
    if n == 0 || i == 0 || i > n {
        return Err(bad("I must be between 1 and N"));
    }
    if n > count {
        return Err(bad(&format!(
            "more shards than seeds ({count}); every shard needs at least one seed"
        )));
    }
    Ok(SeedSet {
        base,
        count,
        index: i - 1,
        of: n,
    })
}

/// Worker threads beyond this many per core only cost memory and start-up time.
const JOBS_PER_CORE: usize = 8;

/// `--jobs`: at least 1; more than `JOBS_PER_CORE` per core is capped with a warning
/// (results never depend on it).
pub fn jobs(j: Option<usize>) -> Result<usize, Failure> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    match j {
        None => Ok(cores),
        Some(0) => Err(Failure::input("error: --jobs: must be at least 1")),
        Some(n) if n > cores * JOBS_PER_CORE => {
            let cap = cores * JOBS_PER_CORE;
            eprintln!(
                "warning: --jobs {n}: more than {JOBS_PER_CORE} threads per core \
                 ({cores} cores here); using {cap}"
            );
            Ok(cap)
        }
        Some(n) => Ok(n),
    }
}

/// Finds a strategy by name; `none` always exists.
pub fn find_strategy(sc: &Scenario, name: &str, file: &str) -> Result<Strategy, Failure> {
    if let Some(s) = sc.strategies.iter().find(|s| s.name == name) {
        return Ok(s.clone());
    }
    if name == "none" {
        return Ok(Strategy::none());
    }
    let mut known: Vec<&str> = sc.strategies.iter().map(|s| s.name.as_str()).collect();
    if !known.contains(&"none") {
        known.push("none");
    }
    Err(Failure::input(format!(
        "error: {file}: strategy: no strategy named '{name}' (known: {})",
        known.join(", ")
    )))
}

/// `deploysim run`, checked.
pub struct RunConfig {
    pub loaded: Loaded,
    pub strategies: Vec<Strategy>,
    pub seeds: SeedSet,
    pub jobs: usize,
    pub out: Target,
    pub format: Format,
    pub quiet: bool,
    pub plots: PlotArg,
}

impl RunConfig {
    pub fn from_args(a: RunArgs) -> Result<RunConfig, Failure> {
        let seeds = seed_set(a.seed_base, a.seeds, a.shard.as_deref())?;
        let jobs = jobs(a.jobs)?;
        let loaded = load_scenario(a.scenario.as_deref(), a.fidelity)?;
        let sc = loaded.scenario();
        let strategies = if a.strategies.is_empty() {
            sc.strategies.clone()
        } else {
            let mut v: Vec<Strategy> = Vec::new();
            for name in &a.strategies {
                let s = find_strategy(sc, name, &loaded.label)?;
                if !v.iter().any(|x| x.name == s.name) {
                    v.push(s);
                }
            }
            v
        };
        let out = a
            .out
            .unwrap_or_else(|| PathBuf::from("results").join(&sc.name));
        let out = Target::check(&out, "--out")?;
        Ok(RunConfig {
            loaded,
            strategies,
            seeds,
            jobs,
            out,
            format: a.format,
            quiet: a.quiet,
            plots: a.plots,
        })
    }
}

/// Traces hold one timeline row per simulated second in memory; beyond this horizon
/// a trace is refused rather than allowed to grow without bound.
pub const TRACE_MAX_HORIZON: SimTime = SimTime::from_secs(2 * 86_400);

/// `deploysim trace`, checked.
pub struct TraceConfig {
    pub loaded: Loaded,
    pub strategy: Strategy,
    pub seed: u64,
    pub out: Target,
    pub plots: PlotArg,
}

impl TraceConfig {
    pub fn from_args(a: TraceArgs) -> Result<TraceConfig, Failure> {
        let loaded = load_scenario(a.scenario.as_deref(), a.fidelity)?;
        let sc = loaded.scenario();
        if sc.duration > TRACE_MAX_HORIZON {
            return Err(Failure::input(format!(
                "error: {}: duration: a trace records every simulated second; traces are \
                 limited to {} h of simulated time (this scenario runs {:.0} h); shorten \
                 `duration` for the trace, or use `deploysim run` for the metrics",
                loaded.label,
                TRACE_MAX_HORIZON.secs_f64() / 3600.0,
                sc.duration.secs_f64() / 3600.0
            )));
        }
        let strategy = find_strategy(sc, &a.strategy, &loaded.label)?;
        let out = a.out.unwrap_or_else(|| {
            PathBuf::from("results")
                .join(&sc.name)
                .join(format!("trace-{}-{}", strategy.name, a.seed))
        });
        let out = Target::check(&out, "--out")?;
        Ok(TraceConfig {
            loaded,
            strategy,
            seed: a.seed,
            out,
            plots: a.plots,
        })
    }
}

/// `deploysim check`, checked.
pub struct CheckConfig {
    pub scenarios: Vec<Loaded>,
    pub seeds: SeedSet,
    pub jobs: usize,
    pub junit: Option<PathBuf>,
    pub out: Option<Target>,
}

impl CheckConfig {
    pub fn from_args(a: CheckArgs) -> Result<CheckConfig, Failure> {
        let seeds = seed_set(a.seed_base, a.seeds, None)?;
        let jobs = jobs(a.jobs)?;
        let out = a
            .out
            .as_deref()
            .map(|o| Target::check(o, "--out"))
            .transpose()?;
        let mut scenarios = Vec::new();
        for f in &a.scenarios {
            let l = load_scenario(Some(f), a.fidelity)?;
            if l.scenario().expects.is_empty() {
                return Err(Failure::input(format!(
                    "error: {}: expect: no [[expect]] gates, so there is nothing to check \
                     (add e.g. `[[expect]]` with strategy, metric, stat and max; or use \
                     `deploysim run`)",
                    l.label
                )));
            }
            scenarios.push(l);
        }
        if let Some(j) = &a.junit
            && j.is_dir()
        {
            return Err(Failure::input(format!(
                "error: --junit {}: is a directory; give a file path",
                j.display()
            )));
        }
        Ok(CheckConfig {
            scenarios,
            seeds,
            jobs,
            junit: a.junit,
            out,
        })
    }
}
