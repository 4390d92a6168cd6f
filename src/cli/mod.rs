//! The command line: raw flags (clap) -> a validated command -> the work -> an exit
//! code. Errors are one clear message on stderr, never a panic.
//!
//! Only this layer and `report` touch files, the terminal and threads' count.

mod args;
pub mod check;
mod config;
mod merge;
mod out;
mod run;
mod trace;

use crate::scenario;
use args::{Cli, Command};
use clap::Parser;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub use out::MARKER;

/// A failure with its exit status: 1 = a gate failed, 2 = bad input or usage. A
/// closed stdout is a quiet success (status 0, no message), as in ripgrep.
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

/// Writes `text` to stdout. A closed pipe (`deploysim list | head -1`) ends the
/// command quietly with status 0 instead of a panic.
pub fn emit(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Failure {
            code: 0,
            message: String::new(),
        }),
        Err(e) => Err(Failure::input(format!("error: <stdout>: {e}"))),
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
    out::handle_signals();
    let line: Vec<String> = std::env::args().collect();
    match dispatch(cli, &line) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            if !f.message.is_empty() {
                eprintln!("{}", f.message.trim_end());
            }
            ExitCode::from(f.code)
        }
    }
}

fn dispatch(cli: Cli, line: &[String]) -> Result<u8, Failure> {
    match cli.command {
        Command::Run(a) => run::run(config::RunConfig::from_args(a)?, line),
        Command::Trace(a) => trace::from_args(a),
        Command::Check(a) => check::check(config::CheckConfig::from_args(a)?, line),
        Command::Merge(a) => merge::merge(a, line),
        Command::Validate { files } => validate(&files),
        Command::Import {
            manifests,
            service,
            output,
        } => import(&manifests, service.as_deref(), output.as_deref()),
        Command::Example { name } => {
            let text = match name {
                None => scenario::DEFAULT_TOML,
                Some(n) => {
                    let stem = n.strip_suffix(".toml").unwrap_or(&n);
                    scenario::bundled()
                        .iter()
                        .find(|(b, _)| *b == stem)
                        .map(|(_, t)| *t)
                        .ok_or_else(|| {
                            Failure::input(format!(
                                "error: {n}: no bundled scenario of that name (`deploysim list` shows them)"
                            ))
                        })?
                }
            };
            emit(text)?;
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
                crate::report::plot::render_trace_plot(&dir, plots.format()).map(|p| vec![p])
            }
            .map_err(report_failure)?;
            let mut text = String::new();
            for p in written {
                text.push_str(&format!("wrote {}\n", p.display()));
            }
            emit(&text)?;
            Ok(0)
        }
        Command::List => {
            let mut text = String::new();
            for (name, body) in scenario::bundled() {
                let desc = scenario::description_of(body).unwrap_or_default();
                text.push_str(&format!("{name:<28} {desc}\n"));
            }
            emit(&text)?;
            Ok(0)
        }
    }
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
        None => emit(&imported.toml)?,
    }
    Ok(0)
}

fn validate(files: &[PathBuf]) -> Result<u8, Failure> {
    let mut worst = 0u8;
    for f in files {
        match config::load_scenario(Some(f), None) {
            Ok(l) => emit(&format!(
                "ok: {} ({} strategies)\n",
                l.label,
                l.scenario().strategies.len()
            ))?,
            Err(e) => {
                eprintln!("{}", e.message.trim_end());
                worst = 2;
            }
        }
    }
    Ok(worst)
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
