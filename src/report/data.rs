//! Reading the CSV and JSON files of a results directory by column name.
//!
//! Owns the tolerant parsing rules shared by the plots and the HTML report: columns
//! are found by header, extra columns are ignored, an empty cell is a missing value
//! and a malformed number is an error naming the file, line and column.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::ReportError;

/// A CSV file held as text, with its columns indexed by header name.
pub(crate) struct Table {
    pub path: PathBuf,
    pub headers: Vec<String>,
    index: HashMap<String, usize>,
    rows: Vec<Row>,
}

/// One data row and the line it came from (for error messages).
pub(crate) struct Row {
    line: u64,
    cells: Vec<String>,
}

impl Table {
    /// Reads `path`; a missing file is an error.
    pub fn read(path: &Path) -> Result<Table, ReportError> {
        Table::read_columns(path, None)
    }

    /// Reads `path` keeping only the cells of the columns named in `keep` (all when
    /// `None`): a 10,000-seed `runs.csv` then costs a few bytes per row in memory,
    /// not every cell as a string.
    pub fn read_columns(path: &Path, keep: Option<&[&str]>) -> Result<Table, ReportError> {
        let csv_err = |source| ReportError::Csv {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(|source| ReportError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(file);
        let all: Vec<String> = reader
            .headers()
            .map_err(csv_err)?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        // The file positions of the columns kept, in file order.
        let kept: Vec<usize> = (0..all.len())
            .filter(|&i| keep.is_none_or(|k| k.contains(&all[i].as_str())))
            .collect();
        let headers: Vec<String> = kept.iter().map(|&i| all[i].clone()).collect();
        let index = headers
            .iter()
            .enumerate()
            .map(|(i, h)| (h.clone(), i))
            .collect();
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(csv_err)?;
            let line = record.position().map_or(0, |p| p.line());
            let cells = kept
                .iter()
                .map(|&i| record.get(i).unwrap_or("").trim().to_string())
                .collect();
            rows.push(Row { line, cells });
        }
        Ok(Table {
            path: path.to_path_buf(),
            headers,
            index,
            rows,
        })
    }

    /// Reads `path` if it exists; `None` when the file is absent.
    pub fn read_optional(path: &Path) -> Result<Option<Table>, ReportError> {
        if path.exists() {
            Table::read(path).map(Some)
        } else {
            Ok(None)
        }
    }

    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The index of a column that must exist.
    pub fn column(&self, name: &str) -> Result<usize, ReportError> {
        self.index
            .get(name)
            .copied()
            .ok_or_else(|| ReportError::MissingColumn {
                path: self.path.clone(),
                column: name.to_string(),
            })
    }

    /// The text of a cell; empty when the row is short.
    pub fn text<'a>(&self, row: &'a Row, col: usize) -> &'a str {
        row.cells.get(col).map_or("", String::as_str)
    }

    /// A numeric cell: `None` when empty, an error when not a number.
    pub fn number(&self, row: &Row, col: usize) -> Result<Option<f64>, ReportError> {
        let text = self.text(row, col);
        if text.is_empty() {
            return Ok(None);
        }
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Some(x)),
            _ => Err(self.bad_value(row, col, "a finite number")),
        }
    }

    /// A boolean cell written `true` / `false`: `None` when empty.
    pub fn boolean(&self, row: &Row, col: usize) -> Result<Option<bool>, ReportError> {
        match self.text(row, col) {
            "" => Ok(None),
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            _ => Err(self.bad_value(row, col, "`true` or `false`")),
        }
    }

    fn bad_value(&self, row: &Row, col: usize, expected: &'static str) -> ReportError {
        ReportError::BadValue {
            path: self.path.clone(),
            line: row.line,
            column: self.headers.get(col).cloned().unwrap_or_default(),
            value: self.text(row, col).to_string(),
            expected,
        }
    }

    /// The distinct values of a column in order of first appearance.
    pub fn distinct(&self, col: usize) -> Vec<String> {
        let mut seen = Vec::<String>::new();
        for row in &self.rows {
            let value = self.text(row, col);
            if !seen.iter().any(|s| s == value) {
                seen.push(value.to_string());
            }
        }
        seen
    }
}

/// The `runs.csv` columns every results directory has (DESIGN.md §6).
const RUN_KEYS: [&str; 4] = ["strategy", "seed", "faulty", "outcome"];
/// `runs.csv` columns holding `true` / `false`.
const RUN_BOOLS: [&str; 2] = ["faulty", "false_rollback"];
/// `runs.csv` columns that are not numbers (besides the booleans).
const RUN_TEXTS: [&str; 6] = [
    "scenario",
    "strategy",
    "fault",
    "outcome",
    "strategy_kind",
    "caught_stage",
];
const OUTCOMES: [&str; 5] = ["completed", "rolled_back", "stalled", "incomplete", "none"];

/// Checks a results directory before anything is drawn from it, so a damaged one is an
/// error naming the file and line and nothing is written: `runs.csv` must have the key
/// columns, every row as many cells as the header, numbers that are finite and >= 0
/// (counts, fractions and seconds since `deploy_at`), a known `outcome`, and end with a
/// newline (the writer ends every row with one: a missing one means a cut-off file);
/// `summary.json` must exist and be a JSON object. Reads `runs.csv` row by row.
pub(crate) fn check_results_dir(dir: &Path) -> Result<(), ReportError> {
    let path = dir.join("runs.csv");
    let text_err = |source| ReportError::Read {
        path: path.clone(),
        source,
    };
    let bytes = std::fs::read(&path).map_err(text_err)?;
    let damaged = |line: u64, why: String| ReportError::Damaged {
        path: path.clone(),
        line,
        why,
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(bytes.as_slice());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|source| ReportError::Csv {
            path: path.clone(),
            source,
        })?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    for key in RUN_KEYS {
        if !headers.iter().any(|h| h == key) {
            return Err(ReportError::MissingColumn {
                path: path.clone(),
                column: key.to_string(),
            });
        }
    }
    let mut rows = 0u64;
    let mut record = csv::StringRecord::new();
    loop {
        let more = reader
            .read_record(&mut record)
            .map_err(|source| ReportError::Csv {
                path: path.clone(),
                source,
            })?;
        if !more {
            break;
        }
        rows += 1;
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != headers.len() {
            return Err(damaged(
                line,
                format!(
                    "{} cells where the header has {} (is the file cut off?)",
                    record.len(),
                    headers.len()
                ),
            ));
        }
        for (header, cell) in headers.iter().zip(record.iter()) {
            let cell = cell.trim();
            let bad = |expected: &'static str| ReportError::BadValue {
                path: path.clone(),
                line,
                column: header.clone(),
                value: cell.to_string(),
                expected,
            };
            let h = header.as_str();
            if h == "outcome" {
                if !OUTCOMES.contains(&cell) {
                    return Err(bad(
                        "an outcome (completed, rolled_back, stalled, incomplete or none)",
                    ));
                }
            } else if RUN_BOOLS.contains(&h) {
                if !matches!(cell, "true" | "false") {
                    return Err(bad("`true` or `false`"));
                }
            } else if !RUN_TEXTS.contains(&h) && !cell.is_empty() {
                match cell.parse::<f64>() {
                    Ok(x) if x.is_finite() && x >= 0.0 => {}
                    _ if !is_metric(h) => {}
                    _ => return Err(bad("a finite number >= 0")),
                }
            }
        }
    }
    if rows == 0 {
        return Err(ReportError::Empty { path: path.clone() });
    }
    if !bytes.ends_with(b"\n") {
        let line = u64::try_from(bytes.split(|b| *b == b'\n').count()).unwrap_or(u64::MAX);
        return Err(damaged(
            line,
            "the last row does not end with a newline (is the file cut off?)".into(),
        ));
    }
    let summary = dir.join("summary.json");
    match read_json_optional(&summary)? {
        None => Err(ReportError::Missing {
            path: summary,
            why: "every results directory of `run` has one",
        }),
        Some(serde_json::Value::Object(_)) => Ok(()),
        Some(_) => Err(ReportError::Damaged {
            path: summary,
            line: 1,
            why: "not a JSON object".into(),
        }),
    }
}

/// Whether a `runs.csv` column is one of deploysim's numeric metrics (extra columns a
/// person added are not checked).
fn is_metric(header: &str) -> bool {
    header == "seed"
        || crate::catalogue::Column::named(header).is_some_and(|c| c.metric().is_some())
}

/// One statistic of `summary.csv`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Stat {
    pub n: Option<f64>,
    pub n_censored: Option<f64>,
    pub estimate: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}

/// `summary.csv` indexed by (strategy, subset, metric, stat).
#[derive(Default)]
pub(crate) struct Summary {
    stats: HashMap<(String, String, String, String), Stat>,
    /// Strategies in order of first appearance.
    pub strategies: Vec<String>,
}

impl Summary {
    /// Reads `summary.csv` in `dir`; an empty summary when the file is absent.
    pub fn read(dir: &Path) -> Result<Summary, ReportError> {
        let Some(table) = Table::read_optional(&dir.join("summary.csv"))? else {
            return Ok(Summary::default());
        };
        let [strategy, subset, metric, stat] =
            ["strategy", "subset", "metric", "stat"].map(|c| table.column(c));
        let (strategy, subset, metric, stat) = (strategy?, subset?, metric?, stat?);
        let optional = |name: &str| table.column(name).ok();
        let [n, n_censored, estimate, ci_low, ci_high] =
            ["n", "n_censored", "estimate", "ci_low", "ci_high"].map(optional);
        let number = |row: &Row, col: Option<usize>| match col {
            Some(col) => table.number(row, col),
            None => Ok(None),
        };
        let mut summary = Summary {
            strategies: table.distinct(strategy),
            ..Summary::default()
        };
        for row in table.rows() {
            let key = (
                table.text(row, strategy).to_string(),
                table.text(row, subset).to_string(),
                table.text(row, metric).to_string(),
                table.text(row, stat).to_string(),
            );
            let value = Stat {
                n: number(row, n)?,
                n_censored: number(row, n_censored)?,
                estimate: number(row, estimate)?,
                ci_low: number(row, ci_low)?,
                ci_high: number(row, ci_high)?,
            };
            summary.stats.insert(key, value);
        }
        Ok(summary)
    }

    pub fn get(&self, strategy: &str, subset: &str, metric: &str, stat: &str) -> Option<Stat> {
        let key = (
            strategy.to_string(),
            subset.to_string(),
            metric.to_string(),
            stat.to_string(),
        );
        self.stats.get(&key).copied()
    }
}

/// Reads a JSON file if it exists.
pub(crate) fn read_json_optional(path: &Path) -> Result<Option<serde_json::Value>, ReportError> {
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path).map_err(|source| ReportError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|source| ReportError::Json {
            path: path.to_path_buf(),
            source,
        })
}

/// The `q` quantile (0..=1) of sorted values, interpolating linearly between order
/// statistics. `None` for no values.
pub(crate) fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let pos = q.clamp(0.0, 1.0) * last as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * frac)
}

/// The arithmetic mean; `None` for no values.
pub(crate) fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}
