//! Pictures and the HTML report of a results directory.
//!
//! Everything here works from the *files* of a results directory (DESIGN.md §6), never
//! from in-memory simulation state, so `deploysim report DIR` can re-render a report
//! without re-running anything. Columns are looked up by header name: extra columns are
//! ignored and an empty cell means "missing". This module never simulates and never
//! writes anything but plots and `report.html`.

mod data;
#[cfg(test)]
mod fixture;
pub mod html;
pub mod plots;

use std::path::PathBuf;

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
    #[error("{}: no rows", path.display())]
    Empty { path: PathBuf },
    #[error("{}: cannot draw: {message}", path.display())]
    Draw { path: PathBuf, message: String },
}
