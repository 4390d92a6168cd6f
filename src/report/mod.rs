//! Output files and what people read: CSV writers (`files`), the summary statistics
//! files and terminal table (`summary`), and pictures and the HTML report of a results
//! directory (`plot`, `html`). Only this layer (and `cli`) serialises.
//!
//! The plots and the page work from the *files* of a results directory (DESIGN.md §6),
//! never from in-memory simulation state, so `deploysim report DIR` can re-render a report
//! without re-running anything. Columns are looked up by header name: extra columns are
//! ignored and an empty cell means "missing". This module never simulates and never
//! writes anything but its own output files.

mod data;
pub mod files;
#[cfg(test)]
mod fixture;
pub mod html;
pub mod player;
pub mod plot;
pub mod shard;
pub mod summary;

use std::path::{Path, PathBuf};

/// Everything `deploysim report DIR` produces: the run plots, the timeline when the
/// directory holds a trace, and `report.html`. Returns the files written, the page last.
pub fn render_report(dir: &Path, format: PlotFormat) -> Result<Vec<PathBuf>, ReportError> {
    data::check_results_dir(dir)?;
    let mut written = plot::render_run_plots(dir, format)?;
    if dir.join("timeline.csv").exists() {
        written.push(plot::render_trace_plot(dir, format)?);
    }
    written.push(html::render_html(dir)?);
    Ok(written)
}

/// Image format of the plot files. The HTML report always inlines SVG.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlotFormat {
    #[default]
    Svg,
    Png,
}

impl PlotFormat {
    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            PlotFormat::Svg => "svg",
            PlotFormat::Png => "png",
        }
    }
}

/// Why a plot or the report could not be produced. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not valid CSV: {source}", path.display())]
    Csv { path: PathBuf, source: csv::Error },
    #[error("{}: not valid JSON: {source}", path.display())]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{}: missing column `{column}`", path.display())]
    MissingColumn { path: PathBuf, column: String },
    #[error("{}: line {line}, column `{column}`: `{value}` is not {expected}", path.display())]
    BadValue {
        path: PathBuf,
        line: u64,
        column: String,
        value: String,
        expected: &'static str,
    },
    #[error("{}: line {line}: {why}", path.display())]
    Damaged {
        path: PathBuf,
        line: u64,
        why: String,
    },
    #[error("{}: missing ({why})", path.display())]
    Missing { path: PathBuf, why: &'static str },
    #[error("{}: no rows", path.display())]
    Empty { path: PathBuf },
    #[error("{}: cannot draw: {message}", path.display())]
    Draw { path: PathBuf, message: String },
}

/// Escapes text for HTML and SVG element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use fixture::ResultsDir;

    #[test]
    fn report_re_renders_everything_from_the_files() {
        let dir = ResultsDir::full("all");
        let written = render_report(dir.as_path(), PlotFormat::Svg).expect("render");
        let names: Vec<_> = written
            .iter()
            .map(|p| {
                p.strip_prefix(dir.as_path())
                    .expect("inside dir")
                    .to_owned()
            })
            .collect();
        let expected = [
            "blast_radius.svg",
            "downtime.svg",
            "rollback.svg",
            "cost_risk.svg",
            "timeline.svg",
            "report.html",
        ];
        assert_eq!(names, expected.map(PathBuf::from));
        // Rendering twice gives the same bytes: the report is a function of the files.
        let first = dir.read("report.html");
        render_report(dir.as_path(), PlotFormat::Svg).expect("render again");
        assert_eq!(first, dir.read("report.html"));
    }
}
