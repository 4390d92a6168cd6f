//! The command line: raw flags (clap) -> a validated command -> the work -> an exit
//! code. Errors are one clear message on stderr, never a panic.
//!
//! Only this layer and `report` touch files, the terminal and threads' count.

mod args;
pub mod check;
mod run;
mod trace;

use crate::scenario::{self, Parsed};
use args::{Cli, Command};
use clap::Parser;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A failure with its exit status: 1 = a gate failed, 2 = bad input or usage.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn input(message: impl Into<String>) -> Self {
        Failure {
            code: 2,
            message: message.into(),
        }
    }
    pub fn io(path: &Path, e: std::io::Error) -> Self {
        Failure {
            code: 2,
            message: format!("error: {}: {e}", path.display()),
        }
    }
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let line: Vec<String> = std::env::args().collect();
    match dispatch(cli, &line) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("{}", f.message.trim_end());
            ExitCode::from(f.code)
        }
    }
}

fn dispatch(cli: Cli, line: &[String]) -> Result<u8, Failure> {
    match cli.command {
        Command::Run(a) => run::run(a, line),
        Command::Trace(a) => trace::trace(a),
        Command::Check(a) => check::check(a),
        Command::Validate { files } => validate(&files),
        Command::Import {
            manifests,
            service,
            output,
        } => import(&manifests, service.as_deref(), output.as_deref()),
        Command::Example => {
            print!("{}", scenario::DEFAULT_TOML);
            Ok(0)
        }
        Command::Report { dir, plots } => {
            if !dir.join("runs.csv").exists() && !dir.join("timeline.csv").exists() {
                return Err(Failure::input(format!(
                    "error: {}: not a results directory (no runs.csv or timeline.csv)",
                    dir.display()
                )));
            }
            let written = if dir.join("runs.csv").exists() {
                crate::report::render_report(&dir, plots.format())
            } else {
                crate::report::plots::render_trace_plot(&dir, plots.format()).map(|p| vec![p])
            }
            .map_err(report_failure)?;
            for p in written {
                println!("wrote {}", p.display());
            }
            Ok(0)
        }
        Command::List => {
            for (name, text) in scenario::bundled() {
                let desc = scenario::parse(text, name)
                    .map(|p| p.scenario.description)
                    .unwrap_or_default();
                println!("{name:<28} {desc}");
            }
            Ok(0)
        }
    }
}

/// Loads a scenario file, or the embedded default when `path` is `None`; prints the
/// validation warnings on stderr.
pub fn load_scenario(path: Option<&PathBuf>) -> Result<Parsed, Failure> {
    let parsed = match path {
        Some(p) => scenario::load(p),
        None => scenario::parse(scenario::DEFAULT_TOML, "default.toml (embedded)"),
    }
    .map_err(|e| Failure::input(e.to_string()))?;
    for w in &parsed.warnings {
        eprintln!("{w}");
    }
    Ok(parsed)
}

/// `deploysim import`: reads the manifests, prints every warning on stderr, and
/// writes the scenario (atomically) to `output` or stdout. Any error exits 2 and
/// writes nothing.
fn import(
    manifests: &[PathBuf],
    service: Option<&str>,
    output: Option<&Path>,
) -> Result<u8, Failure> {
    let mut files = Vec::with_capacity(manifests.len());
    for m in manifests {
        let bytes = std::fs::read(m).map_err(|e| {
            Failure::input(format!(
                "error: {}: cannot read the manifest: {e}",
                m.display()
            ))
        })?;
        files.push((m.display().to_string(), bytes));
    }
    let imported = crate::import::import(&files, service, scenario::DEFAULT_TOML)
        .map_err(|e| Failure::input(format!("error: {e}")))?;
    // The output must be a scenario `run` accepts; a failure here is a bug, but it
    // is still reported as a message, not a panic.
    let label = output.map_or("<stdout>".to_string(), |p| p.display().to_string());
    scenario::parse(&imported.toml, &label).map_err(|e| {
        Failure::input(format!(
            "error: the imported scenario does not validate (please report this):\n{e}"
        ))
    })?;
    for w in &imported.warnings {
        eprintln!("warning: {w}");
    }
    match output {
        Some(path) => {
            let tmp = path.with_extension("toml.tmp");
            std::fs::write(&tmp, &imported.toml)
                .and_then(|()| std::fs::rename(&tmp, path))
                .map_err(|e| {
                    let _ = std::fs::remove_file(&tmp);
                    Failure::input(format!("error: {}: cannot write: {e}", path.display()))
                })?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{}", imported.toml),
    }
    Ok(0)
}

fn validate(files: &[PathBuf]) -> Result<u8, Failure> {
    let mut worst = 0u8;
    for f in files {
        match scenario::load(f) {
            Ok(p) => {
                for w in &p.warnings {
                    eprintln!("{w}");
                }
                println!(
                    "ok: {} ({} strategies)",
                    f.display(),
                    p.scenario.strategies.len()
                );
            }
            Err(e) => {
                eprintln!("{}", e.to_string().trim_end());
                worst = 2;
            }
        }
    }
    Ok(worst)
}

/// Writes a results directory atomically: `fill` writes into a fresh temporary
/// directory beside `out`, which then replaces `out` as a whole.
pub fn write_dir_atomically(
    out: &Path,
    fill: impl FnOnce(&Path) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| Failure::io(parent, e))?;
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "results".into());
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| Failure::io(&tmp, e))?;
    if let Err(f) = fill(&tmp) {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(f);
    }
    if out.exists() {
        std::fs::remove_dir_all(out).map_err(|e| Failure::io(out, e))?;
    }
    std::fs::rename(&tmp, out).map_err(|e| Failure::io(out, e))
}

pub fn report_failure(e: crate::report::ReportError) -> Failure {
    Failure {
        code: 2,
        message: format!("error: {e}"),
    }
}

/// Opens a buffered file for writing inside a results directory.
pub fn create(path: &Path) -> Result<std::io::BufWriter<std::fs::File>, Failure> {
    std::fs::File::create(path)
        .map(std::io::BufWriter::new)
        .map_err(|e| Failure::io(path, e))
}
