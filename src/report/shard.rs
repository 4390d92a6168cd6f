//! The shard directory (`run --shard I/N`) and what `merge` reads back (DESIGN §11).
//!
//! A shard directory holds `.deploysim`, `runs.csv` (its rows, for people),
//! `runs.jsonl` (one lossless record per run, in the shard's seed order, then
//! strategy order) and `shard.json` (what the shard is: format version, tool version,
//! scenario text, fidelity, strategies, seed range, I/N, and the pooled latency
//! histograms per strategy). Floats are written by serde_json in their shortest
//! round-trip form and read back with exact rounding (`float_roundtrip`), histograms
//! as their (value, count) buckets, so a merge rebuilds every record and histogram
//! bit for bit and its files are byte-identical to a single run's.

use super::ReportError;
use crate::metrics::{Outcome, RunRow, latency_histogram};
use crate::scenario::FaultKind;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// The `format` value of every `shard.json`.
pub const FORMAT: &str = "deploysim-shard";
/// Bumped whenever `shard.json` or `runs.jsonl` change shape.
pub const FORMAT_VERSION: u32 = 2;

/// `shard.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardHeader {
    pub format: String,
    pub format_version: u32,
    pub tool_version: String,
    pub scenario: String,
    pub scenario_text: String,
    /// `request` or `fluid`, after any `--fidelity` override.
    pub fidelity: String,
    /// The strategies run, in order (after any `--strategy` selection).
    pub strategies: Vec<String>,
    pub seed_base: u64,
    pub seeds: u64,
    /// 1-based.
    pub shard_index: u64,
    pub shard_count: u64,
    pub runs: u64,
    /// Per strategy, in `strategies` order.
    pub latency: Vec<PooledLatency>,
}

impl ShardHeader {
    /// What must be equal across the shards of one merge, with a name for messages.
    pub fn identity(&self) -> [(&'static str, String); 7] {
        [
            ("format version", self.format_version.to_string()),
            ("tool version", self.tool_version.clone()),
            ("scenario text", self.scenario_text.clone()),
            ("fidelity", self.fidelity.clone()),
            ("strategies", self.strategies.join(",")),
            (
                "seed range",
                format!("--seed-base {} --seeds {}", self.seed_base, self.seeds),
            ),
            ("shard count", self.shard_count.to_string()),
        ]
    }
}

/// A strategy's pooled latency histograms (all, faulty, healthy releases) as
/// (bucket value, count) pairs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PooledLatency {
    pub strategy: String,
    pub all: Vec<(u64, u64)>,
    pub faulty: Vec<(u64, u64)>,
    pub healthy: Vec<(u64, u64)>,
}

impl PooledLatency {
    pub fn new(strategy: &str, h: &[Histogram<u64>; 3]) -> Self {
        let buckets = |h: &Histogram<u64>| -> Vec<(u64, u64)> {
            h.iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value()))
                .collect()
        };
        PooledLatency {
            strategy: strategy.to_string(),
            all: buckets(&h[0]),
            faulty: buckets(&h[1]),
            healthy: buckets(&h[2]),
        }
    }

    /// The histograms back; `None` if a bucket is outside the histogram's range.
    pub fn histograms(&self) -> Option<[Histogram<u64>; 3]> {
        let build = |b: &[(u64, u64)]| -> Option<Histogram<u64>> {
            let mut h = latency_histogram();
            for &(v, c) in b {
                h.record_n(v, c).ok()?;
            }
            Some(h)
        };
        Some([
            build(&self.all)?,
            build(&self.faulty)?,
            build(&self.healthy)?,
        ])
    }
}

/// One line of `runs.jsonl`: every field of a `RunRow`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRecord {
    pub strategy_index: usize,
    pub strategy: String,
    pub seed: u64,
    pub faulty: bool,
    pub fault: Option<String>,
    pub outcome: String,
    pub deploy_duration_s: Option<f64>,
    pub requests: u64,
    pub failed_requests: u64,
    pub impacted_requests: u64,
    pub exposed_requests: u64,
    pub blast_radius: f64,
    pub users_affected: u64,
    pub user_blast_radius: f64,
    pub downtime_s: f64,
    pub degraded_s: f64,
    pub detect_s: Option<f64>,
    pub decide_s: Option<f64>,
    pub rollback_s: Option<f64>,
    pub exposure_end_s: Option<f64>,
    pub recovery_s: Option<f64>,
    pub peak_pods: u64,
    pub extra_pod_seconds: f64,
    pub latency_mean_ms: Option<f64>,
    pub latency_p50_ms: Option<f64>,
    pub latency_p99_ms: Option<f64>,
    pub false_rollback: bool,
    pub waited_requests: u64,
    pub caught_stage: Option<String>,
    pub lead_time_s: Option<f64>,
    pub analysis_measurements: u64,
    pub analysis_failed: u64,
    pub analysis_inconclusive: u64,
    pub analysis_errors: u64,
}

const OUTCOMES: [Outcome; 5] = [
    Outcome::Completed,
    Outcome::RolledBack,
    Outcome::Stalled,
    Outcome::Incomplete,
    Outcome::None,
];

impl RunRecord {
    pub fn new(strategy_index: usize, r: &RunRow) -> Self {
        RunRecord {
            strategy_index,
            strategy: r.strategy.clone(),
            seed: r.seed,
            faulty: r.faulty,
            fault: r.fault.map(str::to_string),
            outcome: r.outcome.name().to_string(),
            deploy_duration_s: r.deploy_duration_s,
            requests: r.requests,
            failed_requests: r.failed_requests,
            impacted_requests: r.impacted_requests,
            exposed_requests: r.exposed_requests,
            blast_radius: r.blast_radius,
            users_affected: r.users_affected,
            user_blast_radius: r.user_blast_radius,
            downtime_s: r.downtime_s,
            degraded_s: r.degraded_s,
            detect_s: r.detect_s,
            decide_s: r.decide_s,
            rollback_s: r.rollback_s,
            exposure_end_s: r.exposure_end_s,
            recovery_s: r.recovery_s,
            peak_pods: r.peak_pods,
            extra_pod_seconds: r.extra_pod_seconds,
            latency_mean_ms: r.latency_mean_ms,
            latency_p50_ms: r.latency_p50_ms,
            latency_p99_ms: r.latency_p99_ms,
            false_rollback: r.false_rollback,
            waited_requests: r.waited_requests,
            caught_stage: r.caught_stage.clone(),
            lead_time_s: r.lead_time_s,
            analysis_measurements: r.analysis_measurements,
            analysis_failed: r.analysis_failed,
            analysis_inconclusive: r.analysis_inconclusive,
            analysis_errors: r.analysis_errors,
        }
    }

    /// The `RunRow` back; `None` for an unknown fault kind or outcome.
    pub fn row(&self) -> Option<RunRow> {
        let fault = match &self.fault {
            None => None,
            Some(f) => Some(FaultKind::from_name(f)?.name()),
        };
        let outcome = OUTCOMES.into_iter().find(|o| o.name() == self.outcome)?;
        Some(RunRow {
            strategy: self.strategy.clone(),
            seed: self.seed,
            faulty: self.faulty,
            fault,
            outcome,
            deploy_duration_s: self.deploy_duration_s,
            requests: self.requests,
            failed_requests: self.failed_requests,
            impacted_requests: self.impacted_requests,
            exposed_requests: self.exposed_requests,
            blast_radius: self.blast_radius,
            users_affected: self.users_affected,
            user_blast_radius: self.user_blast_radius,
            downtime_s: self.downtime_s,
            degraded_s: self.degraded_s,
            detect_s: self.detect_s,
            decide_s: self.decide_s,
            rollback_s: self.rollback_s,
            exposure_end_s: self.exposure_end_s,
            recovery_s: self.recovery_s,
            peak_pods: self.peak_pods,
            extra_pod_seconds: self.extra_pod_seconds,
            latency_mean_ms: self.latency_mean_ms,
            latency_p50_ms: self.latency_p50_ms,
            latency_p99_ms: self.latency_p99_ms,
            false_rollback: self.false_rollback,
            waited_requests: self.waited_requests,
            caught_stage: self.caught_stage.clone(),
            lead_time_s: self.lead_time_s,
            analysis_measurements: self.analysis_measurements,
            analysis_failed: self.analysis_failed,
            analysis_inconclusive: self.analysis_inconclusive,
            analysis_errors: self.analysis_errors,
        })
    }
}

/// Appends one record to `runs.jsonl`.
pub fn write_record(w: &mut impl Write, rec: &RunRecord) -> std::io::Result<()> {
    serde_json::to_writer(&mut *w, rec)?;
    w.write_all(b"\n")
}

/// Writes `shard.json`.
pub fn write_header(dir: &Path, h: &ShardHeader) -> Result<(), ReportError> {
    let path = dir.join("shard.json");
    let mut text = serde_json::to_string_pretty(h).map_err(|source| ReportError::Json {
        path: path.clone(),
        source,
    })?;
    text.push('\n');
    std::fs::write(&path, text).map_err(|source| ReportError::Write { path, source })
}

/// A shard directory read back: its header and records.
pub struct ShardDir {
    pub dir: PathBuf,
    pub header: ShardHeader,
    pub records: Vec<RunRecord>,
}

/// Reads a shard directory; every problem names the file (and line).
pub fn read(dir: &Path) -> Result<ShardDir, ReportError> {
    let path = dir.join("shard.json");
    let text = std::fs::read_to_string(&path).map_err(|source| ReportError::Read {
        path: path.clone(),
        source,
    })?;
    let header: ShardHeader = serde_json::from_str(&text).map_err(|source| ReportError::Json {
        path: path.clone(),
        source,
    })?;
    if header.format != FORMAT {
        return Err(ReportError::BadValue {
            path,
            line: 1,
            column: "format".into(),
            value: header.format,
            expected: "\"deploysim-shard\" (not a shard directory)",
        });
    }
    let path = dir.join("runs.jsonl");
    let file = std::fs::File::open(&path).map_err(|source| ReportError::Read {
        path: path.clone(),
        source,
    })?;
    let mut records = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|source| ReportError::Read {
            path: path.clone(),
            source,
        })?;
        let rec: RunRecord = serde_json::from_str(&line).map_err(|e| ReportError::BadValue {
            path: path.clone(),
            line: i as u64 + 1,
            column: "record".into(),
            value: e.to_string(),
            expected: "a run record",
        })?;
        records.push(rec);
    }
    Ok(ShardDir {
        dir: dir.to_path_buf(),
        header,
        records,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_histograms_round_trip_bit_for_bit() {
        let sc = crate::scenario::parse(crate::scenario::DEFAULT_TOML, "default.toml")
            .expect("default parses")
            .scenario;
        let users = crate::runner::UserTable::new(&sc.traffic);
        let mut hists = [
            latency_histogram(),
            latency_histogram(),
            latency_histogram(),
        ];
        for (i, s) in sc.strategies.iter().enumerate() {
            for seed in [2, 7] {
                let out = crate::runner::run(&sc, &users, s, seed, false);
                let rec = RunRecord::new(i, &out.row);
                let mut line = Vec::new();
                write_record(&mut line, &rec).expect("write");
                let back: RunRecord = serde_json::from_slice(&line).expect("read");
                assert_eq!(
                    back.row().as_ref(),
                    Some(&out.row),
                    "{} seed {seed}",
                    s.name
                );
                hists[0].add(&out.latency).expect("same bounds");
            }
        }
        let pooled = PooledLatency::new("x", &hists);
        let back = pooled.histograms().expect("in range");
        assert_eq!(back[0].len(), hists[0].len());
        for q in [0.5, 0.9, 0.99, 0.999] {
            assert_eq!(back[0].value_at_quantile(q), hists[0].value_at_quantile(q));
        }
    }
}
