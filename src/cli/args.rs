//! Raw command-line flags (clap derive). Checked and turned into typed settings by
//! the command modules.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "deploysim",
    version,
    about = "Which deployment strategy hurts users least when a release is bad?"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    None,
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Scenario file or bundled scenario name (default: the embedded default
    /// scenario, see `deploysim example`)
    pub scenario: Option<PathBuf>,
    /// Number of seeds (runs per strategy)
    #[arg(long, default_value_t = 500)]
    pub seeds: u64,
    /// First seed: runs use seeds seed-base .. seed-base + seeds
    #[arg(long, default_value_t = 0)]
    pub seed_base: u64,
    /// Worker threads (default: available cores)
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Only these strategies (repeatable); `none` is always available
    #[arg(long = "strategy")]
    pub strategies: Vec<String>,
    /// Output directory (default: results/<scenario name>/), replaced as a whole
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// What to print on stdout
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// No progress bar
    #[arg(long)]
    pub quiet: bool,
    /// Image format of the plot files (report.html always inlines SVG)
    #[arg(long, value_enum, default_value_t = PlotArg::Svg)]
    pub plots: PlotArg,
    /// Override the scenario's `fidelity`: request (every request simulated) or
    /// fluid (traffic as counts per one-second slice; for very large sweeps)
    #[arg(long, value_enum)]
    pub fidelity: Option<FidelityArg>,
    /// Run only shard I of N (1-based): the seeds seed-base + i with i mod N = I - 1.
    /// Writes a shard directory for `deploysim merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FidelityArg {
    Request,
    Fluid,
}

impl FidelityArg {
    /// The scenario's fidelity this flag asks for (validation limits depend on it).
    pub fn fidelity(self) -> crate::scenario::Fidelity {
        match self {
            FidelityArg::Request => crate::scenario::Fidelity::Request,
            FidelityArg::Fluid => crate::scenario::Fidelity::Fluid,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PlotArg {
    Svg,
    Png,
}

impl PlotArg {
    pub fn format(self) -> crate::report::PlotFormat {
        match self {
            PlotArg::Svg => crate::report::PlotFormat::Svg,
            PlotArg::Png => crate::report::PlotFormat::Png,
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct TraceArgs {
    /// Scenario file or bundled scenario name (default: the embedded default)
    pub scenario: Option<PathBuf>,
    /// Strategy name (or `none`)
    #[arg(long)]
    pub strategy: String,
    /// Seed
    #[arg(long)]
    pub seed: u64,
    /// Output directory (default: results/<scenario name>/trace-<strategy>-<seed>/)
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Image format of timeline plot
    #[arg(long, value_enum, default_value_t = PlotArg::Svg)]
    pub plots: PlotArg,
    /// Override the scenario's `fidelity` (request or fluid)
    #[arg(long, value_enum)]
    pub fidelity: Option<FidelityArg>,
    /// Also write player.html: a self-contained page that replays the run
    #[arg(long)]
    pub html: bool,
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Scenario files (or bundled scenario names) with [[expect]] gates
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
    /// Seeds per scenario
    #[arg(long, default_value_t = 200)]
    pub seeds: u64,
    /// Override every scenario's `fidelity` (request or fluid)
    #[arg(long, value_enum)]
    pub fidelity: Option<FidelityArg>,
    /// First seed
    #[arg(long, default_value_t = 0)]
    pub seed_base: u64,
    /// Worker threads (default: available cores)
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Write JUnit XML here (one test case per gate)
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Keep the results of every checked scenario here (one directory per scenario)
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// Shard directories written by `run --shard I/N`, in any order
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// Output directory for the merged results (replaced as a whole)
    #[arg(long)]
    pub out: PathBuf,
    /// What to print on stdout
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Image format of the plot files
    #[arg(long, value_enum, default_value_t = PlotArg::Svg)]
    pub plots: PlotArg,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run every strategy across many seeds and summarise
    Run(RunArgs),
    /// Simulate one (strategy, seed) and write its second-by-second timeline
    Trace(TraceArgs),
    /// Check scenario files
    Validate {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the embedded default scenario, or a bundled one by name
    Example { name: Option<String> },
    /// List the bundled scenarios
    List,
    /// Run the sweep and judge the scenario's [[expect]] gates (exit 1 if any fails)
    Check(CheckArgs),
    /// Turn real manifests (Kubernetes Deployment, Argo Rollout, Flagger Canary,
    /// Compose/Swarm) into a scenario laid over the embedded default
    Import {
        /// YAML or JSON manifest files
        #[arg(required = true)]
        manifests: Vec<PathBuf>,
        /// Import only this service (Deployment / Rollout / Canary / Compose service name)
        #[arg(long)]
        service: Option<String>,
        /// Write the scenario here instead of stdout
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
    },
    /// Merge shard directories (`run --shard I/N`) into the results of one run
    Merge(MergeArgs),
    /// Re-render the plots and report.html of an existing results directory
    Report {
        dir: PathBuf,
        /// Image format of the plot files
        #[arg(long, value_enum, default_value_t = PlotArg::Svg)]
        plots: PlotArg,
    },
}
