//! `summary.csv`, `summary.json`, `compare.csv` and the terminal table, from the runs
//! of a sweep fed in seed order (DESIGN.md §6).
//!
//! Keeps one small record per run (not per request) and merged latency histograms,
//! so memory grows only with seeds × strategies. Statistics come from `crate::stats`.

use super::files::{field, num, opt};
use crate::catalogue::{COMPARED, Censoring, Column, METRICS, N_METRICS, Rate, metric_index};
use crate::metrics::{RunOutput, RunRow, latency_histogram};
use crate::scenario::{FaultKind, Scenario, Strategy};
use crate::stats;
use comfy_table::{Cell, CellAlignment, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use hdrhistogram::Histogram;
use std::path::Path;

/// How one run's metric value is known.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Val {
    Obs(f64),
    /// Did not happen by the horizon; `cap` is the time left, used by restricted means.
    Censored(f64),
    /// Does not apply to this run.
    NotApplicable,
}

/// One run's summarised values, in `METRICS` order; how a missing value counts comes
/// from the column's `Censoring`.
fn values(r: &RunRow, cap: f64) -> [Val; N_METRICS] {
    METRICS.map(|c| {
        let x = r.metric(c);
        match c.metric().map_or(Censoring::Optional, |d| d.censoring) {
            Censoring::Never | Censoring::Optional => x.map_or(Val::NotApplicable, Val::Obs),
            Censoring::AtHorizon => x.map_or(Val::Censored(cap), Val::Obs),
            Censoring::FromDecision => match (r.decide_s, x) {
                (None, _) => Val::NotApplicable,
                (Some(d), None) => Val::Censored(cap - d),
                (Some(_), Some(x)) => Val::Obs(x),
            },
        }
    })
}

/// The per-run record kept for the summary.
struct Rec {
    seed: u64,
    faulty: bool,
    fault: Option<&'static str>,
    vals: [Val; N_METRICS],
    rates: [bool; Rate::ALL.len()],
    /// Pipeline stage that caught the release (index into `scenario.pipeline`).
    caught: Option<usize>,
}

struct PerStrategy {
    name: String,
    kind: &'static str,
    recs: Vec<Rec>,
    /// Pooled latency of successful requests: all, faulty, healthy.
    hist: [Histogram<u64>; 3],
}

/// A row of `summary.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct StatRow {
    pub strategy: String,
    pub subset: String,
    pub metric: String,
    pub stat: &'static str,
    pub n: u64,
    pub n_censored: u64,
    pub estimate: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub note: &'static str,
}

/// A row of `compare.csv`: `strategy` minus `baseline`, paired by seed.
#[derive(Clone, Debug, PartialEq)]
pub struct CompareRow {
    pub baseline: String,
    pub strategy: String,
    pub subset: String,
    pub metric: &'static str,
    pub n_pairs: u64,
    pub mean_diff: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub share_better: Option<f64>,
    pub share_better_low: Option<f64>,
    pub share_better_high: Option<f64>,
    pub share_worse: Option<f64>,
}

pub struct Invocation {
    pub command: String,
    pub jobs: usize,
    pub out: String,
    pub seed_base: u64,
    pub seeds: u64,
}

pub struct Summary<'a> {
    sc: &'a Scenario,
    cap: f64,
    per: Vec<PerStrategy>,
}

/// Adds `from` into `into`. Every latency histogram is created by
/// `metrics::latency_histogram` and latencies are clamped into its bounds, so the
/// addition cannot fail; a debug build checks it.
fn merge_hist(into: &mut Histogram<u64>, from: &Histogram<u64>) {
    let added = into.add(from);
    debug_assert!(added.is_ok(), "latency histograms share their bounds");
}

impl<'a> Summary<'a> {
    pub fn new(sc: &'a Scenario, strategies: &[Strategy]) -> Self {
        Summary {
            sc,
            cap: sc.duration.saturating_sub(sc.deploy_at).secs_f64(),
            per: strategies
                .iter()
                .map(|s| PerStrategy {
                    name: s.name.clone(),
                    kind: s.kind.name(),
                    recs: Vec::new(),
                    hist: [
                        latency_histogram(),
                        latency_histogram(),
                        latency_histogram(),
                    ],
                })
                .collect(),
        }
    }

    /// Adds one run (call in seed order).
    pub fn add(&mut self, s: &Strategy, out: RunOutput) {
        self.add_row(&s.name, &out.row);
        if let Some(p) = self.per.iter_mut().find(|p| p.name == s.name) {
            merge_hist(&mut p.hist[0], &out.latency);
            merge_hist(
                &mut p.hist[if out.row.faulty { 1 } else { 2 }],
                &out.latency,
            );
        }
    }

    /// Adds one run's row without its latency histogram (a merge adds the pooled
    /// histograms of each shard instead, see `add_pooled`). Call in seed order.
    pub fn add_row(&mut self, strategy: &str, r: &RunRow) {
        let Some(p) = self.per.iter_mut().find(|p| p.name == strategy) else {
            return;
        };
        p.recs.push(Rec {
            seed: r.seed,
            faulty: r.faulty,
            fault: r.fault,
            vals: values(r, self.cap),
            caught: r
                .caught_stage
                .as_ref()
                .and_then(|c| self.sc.pipeline.iter().position(|st| &st.name == c)),
            rates: Rate::ALL.map(|rate| r.rate(rate)),
        });
    }

    /// The pooled latency histograms of a strategy: all, faulty, healthy releases.
    pub fn pooled(&self, strategy: &str) -> Option<&[Histogram<u64>; 3]> {
        self.per
            .iter()
            .find(|p| p.name == strategy)
            .map(|p| &p.hist)
    }

    /// Adds pooled latency histograms (of a shard) to a strategy's.
    pub fn add_pooled(&mut self, strategy: &str, hists: &[Histogram<u64>; 3]) {
        if let Some(p) = self.per.iter_mut().find(|p| p.name == strategy) {
            for (mine, theirs) in p.hist.iter_mut().zip(hists) {
                merge_hist(mine, theirs);
            }
        }
    }

    fn subsets(&self) -> Vec<String> {
        let mut v = vec!["all".to_string(), "faulty".into(), "healthy".into()];
        if !self.sc.pipeline.is_empty() {
            v.push("escaped".into());
        }
        for k in FaultKind::ALL {
            if self
                .sc
                .release
                .faults
                .iter()
                .any(|f| f.fault.kind() == k && f.weight > 0.0)
            {
                v.push(format!("fault:{}", k.name()));
            }
        }
        v
    }

    fn in_subset(rec: &Rec, subset: &str) -> bool {
        match subset {
            "all" => true,
            "faulty" => rec.faulty,
            "healthy" => !rec.faulty,
            "escaped" => rec.faulty && rec.caught.is_none(),
            s => s
                .strip_prefix("fault:")
                .is_some_and(|k| rec.fault == Some(k)),
        }
    }

    /// Every statistic, in a fixed order.
    pub fn stats(&self) -> Vec<StatRow> {
        let mut rows = Vec::new();
        for p in &self.per {
            for subset in self.subsets() {
                let recs: Vec<&Rec> = p
                    .recs
                    .iter()
                    .filter(|r| Self::in_subset(r, &subset))
                    .collect();
                for (mi, metric) in METRICS.iter().enumerate() {
                    let col: Vec<Val> = recs.iter().map(|r| r.vals[mi]).collect();
                    let quantiles = metric.metric().is_some_and(|d| d.quantiles);
                    // No row for a statistic of no run, nor quantiles of a yes/no value.
                    for row in column_stats(&col)
                        .into_iter()
                        .filter(|r| r.n > 0 && (quantiles || r.stat == "mean"))
                    {
                        rows.push(StatRow {
                            strategy: p.name.clone(),
                            subset: subset.clone(),
                            metric: metric.name().to_string(),
                            ..row
                        });
                    }
                }
                if let Some(h) = match subset.as_str() {
                    "all" => Some(&p.hist[0]),
                    "faulty" => Some(&p.hist[1]),
                    "healthy" => Some(&p.hist[2]),
                    _ => None,
                }
                .filter(|h| !h.is_empty())
                {
                    let n = h.len();
                    rows.push(StatRow {
                        strategy: p.name.clone(),
                        subset: subset.clone(),
                        metric: "latency_p99_ms".into(),
                        stat: "pooled",
                        n,
                        n_censored: 0,
                        estimate: Some(h.value_at_quantile(0.99) as f64 / 1e3),
                        ci_low: None,
                        ci_high: None,
                        note: "p99 of all successful requests pooled over runs (merged histograms)",
                    });
                }
                if !self.sc.pipeline.is_empty() {
                    // Among the faulty releases of the subset: caught per stage, escaped.
                    let faulty: Vec<&&Rec> = recs.iter().filter(|r| r.faulty).collect();
                    let n = faulty.len() as u64;
                    let mut push = |metric: String, k: u64, note: &'static str| {
                        let iv = stats::wilson(k, n, 0.95);
                        rows.push(StatRow {
                            strategy: p.name.clone(),
                            subset: subset.clone(),
                            metric,
                            stat: "rate",
                            n,
                            n_censored: 0,
                            estimate: iv.estimate,
                            ci_low: iv.low,
                            ci_high: iv.high,
                            note,
                        });
                    };
                    for (i, st) in self.sc.pipeline.iter().enumerate() {
                        let k = faulty.iter().filter(|r| r.caught == Some(i)).count() as u64;
                        push(
                            format!("p_caught:{}", st.name),
                            k,
                            "share of faulty releases this stage stopped",
                        );
                    }
                    let k = faulty.iter().filter(|r| r.caught.is_none()).count() as u64;
                    push(
                        "p_escaped".into(),
                        k,
                        "escaped-defect rate: faulty releases that reached production",
                    );
                }
                for (ri, rate) in Rate::ALL.iter().enumerate() {
                    let pool: Vec<&&Rec> = recs
                        .iter()
                        .filter(|r| !rate.among_healthy() || !r.faulty)
                        .collect();
                    let n = pool.len() as u64;
                    if n == 0 {
                        continue;
                    }
                    let k = pool.iter().filter(|r| r.rates[ri]).count() as u64;
                    let iv = stats::wilson(k, n, 0.95);
                    rows.push(StatRow {
                        strategy: p.name.clone(),
                        subset: subset.clone(),
                        metric: rate.name().to_string(),
                        stat: "rate",
                        n,
                        n_censored: 0,
                        estimate: iv.estimate,
                        ci_low: iv.low,
                        ci_high: iv.high,
                        note: rate.note(),
                    });
                }
            }
        }
        rows
    }

    /// Paired comparisons of every strategy with the first one (DESIGN §6) and, when
    /// the verdict's best strategy is another one, of every strategy with it too, so
    /// that every claim of the verdict is backed by a row of `compare.csv`.
    pub fn compare(&self) -> Vec<CompareRow> {
        let mut rows = self.compare_against(0);
        if let Some(best) = self.best_index()
            && best != 0
        {
            rows.extend(self.compare_against(best));
        }
        rows
    }

    fn compare_against(&self, base_index: usize) -> Vec<CompareRow> {
        let mut rows = Vec::new();
        let Some(base) = self.per.get(base_index) else {
            return rows;
        };
        for p in self.per.iter().filter(|p| p.name != base.name) {
            for subset in ["all", "faulty"] {
                for column in COMPARED {
                    let (Some(mi), Some(def)) = (metric_index(column), column.metric()) else {
                        continue;
                    };
                    let lower_better = def.lower_is_better;
                    let metric = column.name();
                    let pick = |recs: &Vec<Rec>| -> Vec<Option<f64>> {
                        recs.iter()
                            .filter(|r| Self::in_subset(r, subset))
                            .map(|r| match r.vals[mi] {
                                Val::Obs(x) => Some(x),
                                _ => None,
                            })
                            .collect()
                    };
                    let a = pick(&base.recs);
                    let b = pick(&p.recs);
                    debug_assert!(base.recs.iter().zip(&p.recs).all(|(x, y)| x.seed == y.seed));
                    let c = stats::paired(&a, &b, lower_better, 0.95);
                    rows.push(CompareRow {
                        baseline: base.name.clone(),
                        strategy: p.name.clone(),
                        subset: subset.into(),
                        metric,
                        n_pairs: c.n,
                        mean_diff: c.diff.estimate,
                        ci_low: c.diff.low,
                        ci_high: c.diff.high,
                        share_better: c.better_share.estimate,
                        share_better_low: c.better_share.low,
                        share_better_high: c.better_share.high,
                        share_worse: (c.n > 0).then(|| c.worse as f64 / c.n as f64),
                    });
                }
            }
        }
        rows
    }

    /// Writes `summary.csv`, `summary.json` and `compare.csv` into `dir`.
    pub fn write_all(&self, dir: &Path, inv: &Invocation) -> Result<(), super::ReportError> {
        let stats = self.stats();
        let compare = self.compare();
        let put = |name: &str, text: String| {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|source| super::ReportError::Write { path, source })
        };
        put("summary.csv", self.summary_csv(&stats))?;
        put("compare.csv", self.compare_csv(&compare))?;
        put("summary.json", self.summary_json(&stats, &compare, inv))?;
        Ok(())
    }

    fn summary_csv(&self, rows: &[StatRow]) -> String {
        let mut s = String::from(
            "scenario,strategy,subset,metric,stat,n,n_censored,estimate,ci_low,ci_high,note\n",
        );
        for r in rows {
            s.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{}\n",
                field(&self.sc.name),
                field(&r.strategy),
                r.subset,
                r.metric,
                r.stat,
                r.n,
                r.n_censored,
                opt(r.estimate),
                opt(r.ci_low),
                opt(r.ci_high),
                field(r.note)
            ));
        }
        s
    }

    fn compare_csv(&self, rows: &[CompareRow]) -> String {
        let mut s = String::from(
            "scenario,baseline,strategy,subset,metric,n_pairs,mean_diff,ci_low,ci_high,share_better,share_better_low,share_better_high,share_worse\n",
        );
        for r in rows {
            s.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                field(&self.sc.name),
                field(&r.baseline),
                field(&r.strategy),
                r.subset,
                r.metric,
                r.n_pairs,
                opt(r.mean_diff),
                opt(r.ci_low),
                opt(r.ci_high),
                opt(r.share_better),
                opt(r.share_better_low),
                opt(r.share_better_high),
                opt(r.share_worse)
            ));
        }
        s
    }

    fn summary_json(&self, stats: &[StatRow], compare: &[CompareRow], inv: &Invocation) -> String {
        use serde_json::{Value, json};
        let f = |x: Option<f64>| {
            x.filter(|v| v.is_finite())
                .map_or(Value::Null, |v| json!(v))
        };
        let stat_rows: Vec<Value> = stats
            .iter()
            .map(|r| {
                json!({
                    "strategy": r.strategy, "subset": r.subset, "metric": r.metric, "stat": r.stat,
                    "n": r.n, "n_censored": r.n_censored,
                    "estimate": f(r.estimate), "ci_low": f(r.ci_low), "ci_high": f(r.ci_high),
                    "note": r.note,
                })
            })
            .collect();
        let cmp_rows: Vec<Value> = compare
            .iter()
            .map(|r| {
                json!({
                    "baseline": r.baseline, "strategy": r.strategy, "subset": r.subset, "metric": r.metric,
                    "n_pairs": r.n_pairs, "mean_diff": f(r.mean_diff), "ci_low": f(r.ci_low), "ci_high": f(r.ci_high),
                    "share_better": f(r.share_better), "share_better_low": f(r.share_better_low),
                    "share_better_high": f(r.share_better_high), "share_worse": f(r.share_worse),
                })
            })
            .collect();
        let v = json!({
            "tool": "deploysim",
            "version": env!("CARGO_PKG_VERSION"),
            "scenario": self.sc.name,
            "description": self.sc.description,
            "scenario_text": self.sc.source_text,
            "seeds": { "base": inv.seed_base, "count": inv.seeds, "last": inv.seed_base + inv.seeds - 1 },
            "strategies": self.per.iter().map(|p| json!({"name": p.name, "kind": p.kind})).collect::<Vec<_>>(),
            "notes": [
                format!("Time metrics (deploy_duration_s, detect_s, decide_s, rollback_s, recovery_s) are right-censored at the horizon: a run where the event did not happen by {} s after deploy_at is counted in n_censored.", num(self.cap)),
                "Means of time metrics are restricted means: a censored value counts as the time left until the horizon (duration - deploy_at; for rollback_s, the time left after the decision).".to_string(),
                "Quantiles treat censored values as larger than any observed value; a quantile that falls among them is left empty.".to_string(),
                "95% intervals: Student t for means, Wilson for rates, distribution-free order statistics for quantiles; max has none.".to_string(),
                "compare.csv pairs each strategy with the first listed one by seed (strategy minus baseline), over seeds where both values are observed.".to_string(),
            ],
            "verdict": self.verdict().map(|v| {
                let standing = |t: &Standing| json!({
                    "strategy": t.name, "n_pairs": t.n_pairs,
                    "mean_diff": f(t.diff.estimate), "ci_low": f(t.diff.low), "ci_high": f(t.diff.high),
                    "extra_pod_seconds_diff": f(t.extra_pod_seconds_diff),
                    "deploy_duration_s_diff": f(t.deploy_duration_diff),
                });
                json!({
                    "objective": v.objective, "stat": "mean", "subset": "all", "level": stats::LEVEL,
                    "best": v.best, "best_mean": f(v.best_mean),
                    "indistinguishable": v.tied.iter().map(standing).collect::<Vec<_>>(),
                    "worse": v.worse.iter().map(standing).collect::<Vec<_>>(),
                    "note": "differences are strategy minus best, paired by seed; a strategy whose 95% interval includes zero cannot be told apart from the best (the same rows are in compare.csv with baseline = best)",
                })
            }),
            "invocation": { "command": inv.command, "jobs": inv.jobs, "out": inv.out },
            "summary": stat_rows,
            "compare": cmp_rows,
        });
        let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
        s.push('\n');
        s
    }

    fn get(
        &self,
        rows: &[StatRow],
        strategy: &str,
        subset: &str,
        metric: &str,
        stat: &str,
    ) -> Option<StatRow> {
        rows.iter()
            .find(|r| {
                r.strategy == strategy && r.subset == subset && r.metric == metric && r.stat == stat
            })
            .cloned()
    }

    /// The terminal table and the one-line verdict.
    pub fn table(&self) -> String {
        let rows = self.stats();
        let mut t = Table::new();
        t.load_style(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic);
        t.set_header(
            std::iter::once("strategy".to_string())
                .chain(TABLE.iter().map(|c| c.header.to_string()))
                .collect::<Vec<_>>(),
        );
        for p in &self.per {
            let mut cells = vec![Cell::new(&p.name)];
            for c in &TABLE {
                let r = self.get(&rows, &p.name, c.subset, c.metric, c.stat);
                let text = c.cell(r.as_ref().and_then(|r| r.estimate), r.map_or(0, |r| r.n));
                cells.push(Cell::new(text).set_alignment(CellAlignment::Right));
            }
            t.add_row(cells);
        }
        let n = self.per.first().map_or(0, |p| p.recs.len());
        let faulty = self
            .per
            .first()
            .map_or(0, |p| p.recs.iter().filter(|r| r.faulty).count());
        let mut s = format!(
            "{} — {} seeds ({} faulty releases), {} strategies\n{t}\n",
            self.sc.name,
            n,
            faulty,
            self.per.len()
        );
        s.push_str(&footnote(n, faulty));
        s.push('\n');
        s.push_str(&self.verdict_text());
        s
    }

    /// The deploying strategy (not `none`) with the lowest mean blast radius.
    fn best_index(&self) -> Option<usize> {
        let bi = metric_index(Column::BlastRadius)?;
        let mean = |p: &PerStrategy| {
            let xs: Vec<f64> = p
                .recs
                .iter()
                .filter_map(|r| match r.vals[bi] {
                    Val::Obs(x) => Some(x),
                    _ => None,
                })
                .collect();
            if xs.is_empty() {
                f64::INFINITY
            } else {
                xs.iter().sum::<f64>() / xs.len() as f64
            }
        };
        self.per
            .iter()
            .enumerate()
            .filter(|(_, p)| p.kind != "none")
            .min_by(|(_, a), (_, b)| mean(a).total_cmp(&mean(b)))
            .map(|(i, _)| i)
    }

    /// The verdict on the objective (mean blast radius): the best strategy, those whose
    /// paired 95% interval against it includes zero (a tie), and those it beats.
    pub fn verdict(&self) -> Option<Verdict> {
        let best = &self.per[self.best_index()?];
        let col = |p: &PerStrategy, c: Column| -> Vec<Option<f64>> {
            let Some(i) = metric_index(c) else {
                return vec![None; p.recs.len()];
            };
            p.recs
                .iter()
                .map(|r| match r.vals[i] {
                    Val::Obs(x) => Some(x),
                    _ => None,
                })
                .collect()
        };
        let mean_of = |p: &PerStrategy| {
            stats::mean_ci(
                &col(p, Column::BlastRadius)
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>(),
                stats::LEVEL,
            )
            .estimate
        };
        let mut v = Verdict {
            objective: Column::BlastRadius.name(),
            best: best.name.clone(),
            best_mean: mean_of(best),
            tied: Vec::new(),
            worse: Vec::new(),
        };
        for other in self
            .per
            .iter()
            .filter(|p| p.kind != "none" && p.name != best.name)
        {
            let d = stats::paired(
                &col(best, Column::BlastRadius),
                &col(other, Column::BlastRadius),
                true,
                stats::LEVEL,
            );
            let diff = |c: Column| {
                stats::paired(&col(best, c), &col(other, c), true, stats::LEVEL)
                    .diff
                    .estimate
            };
            let st = Standing {
                name: other.name.clone(),
                n_pairs: d.n,
                diff: d.diff,
                extra_pod_seconds_diff: diff(Column::ExtraPodSeconds),
                deploy_duration_diff: diff(Column::DeployDurationS),
            };
            let tie = match (d.diff.low, d.diff.high) {
                (Some(lo), Some(hi)) => lo <= 0.0 && hi >= 0.0,
                _ => true,
            };
            if tie {
                v.tied.push(st);
            } else {
                v.worse.push(st);
            }
        }
        Some(v)
    }

    /// The verdict as text for the terminal.
    fn verdict_text(&self) -> String {
        let Some(v) = self.verdict() else {
            return String::new();
        };
        let pct = |x: Option<f64>| x.map_or("–".into(), |v| format!("{:.3}%", 100.0 * v));
        let mut s = format!(
            "Verdict on mean blast radius (paired by seed, 95% intervals; compare.csv, baseline {}):\n",
            v.best
        );
        if v.tied.is_empty() {
            s.push_str(&format!(
                "  best: {} ({} of requests impacted)\n",
                v.best,
                pct(v.best_mean)
            ));
        } else {
            let names: Vec<&str> = v.tied.iter().map(|t| t.name.as_str()).collect();
            s.push_str(&format!(
                "  a tie: {} ({} impacted) cannot be told apart from {}\n",
                v.best,
                pct(v.best_mean),
                names.join(", ")
            ));
            for t in &v.tied {
                s.push_str(&format!(
                    "    {}: {} pp [{} .. {}]; what separates them: {} extra pod·s, {} s deploy (mean, paired)\n",
                    t.name,
                    signed_pp(t.diff.estimate),
                    signed_pp(t.diff.low),
                    signed_pp(t.diff.high),
                    signed(t.extra_pod_seconds_diff),
                    signed(t.deploy_duration_diff),
                ));
            }
        }
        for t in &v.worse {
            s.push_str(&format!(
                "  worse than {}: {} {} pp [{} .. {}], {} extra pod·s\n",
                v.best,
                t.name,
                signed_pp(t.diff.estimate),
                signed_pp(t.diff.low),
                signed_pp(t.diff.high),
                signed(t.extra_pod_seconds_diff),
            ));
        }
        s
    }
}

/// How a table cell shows its number.
#[derive(Clone, Copy)]
enum Format {
    Percent,
    Fixed(usize),
}

/// One column of the terminal table: a statistic of `summary.csv`.
pub struct TableColumn {
    pub header: &'static str,
    pub subset: &'static str,
    pub metric: &'static str,
    pub stat: &'static str,
    format: Format,
    /// The statistic is conditional on an event, so its n is shown in the cell.
    pub show_n: bool,
}

impl TableColumn {
    /// The runs the statistic is taken over, in words (`report.html` labels each
    /// column with it; the footnote says the same).
    pub fn over(&self) -> &'static str {
        let healthy = Rate::ALL
            .iter()
            .any(|r| r.name() == self.metric && r.among_healthy());
        if self.subset == "faulty" {
            "faulty releases"
        } else if healthy {
            "healthy releases"
        } else if self.metric == Column::RollbackS.name() {
            "runs that rolled back"
        } else {
            "all runs"
        }
    }

    /// A value as the table shows it.
    pub fn show(&self, v: f64) -> String {
        match self.format {
            Format::Percent => format!("{:.2}%", 100.0 * v),
            Format::Fixed(d) => format!("{v:.d$}"),
        }
    }

    /// The cell of the table: the estimate (`–` when there is none) and, for a
    /// conditional statistic, the number of runs it summarises.
    pub fn cell(&self, estimate: Option<f64>, n: u64) -> String {
        let mut text = estimate.map_or("–".to_string(), |v| self.show(v));
        if self.show_n {
            text.push_str(&format!(" (n={n})"));
        }
        text
    }
}

/// What the columns of `TABLE` are over, for a sweep of `runs` runs per strategy of
/// which `faulty` were faulty releases; printed under the terminal table and
/// `report.html`'s (line breaks for the terminal).
pub fn footnote(runs: usize, faulty: usize) -> String {
    format!(
        "Columns are over all {runs} runs of a strategy, except: `faulty` over the {faulty} faulty releases,\n\
         `healthy` over the {} healthy ones. detect and decide count a run without them as later than\n\
         the horizon (– when the median is); rollback is over the runs that decided a rollback (n shown),\n\
         from the decision until the old version serves all traffic; deploy counts a deploy that never\n\
         completed as later than the horizon.",
        runs.saturating_sub(faulty)
    )
}

const fn col(
    header: &'static str,
    subset: &'static str,
    metric: &'static str,
    stat: &'static str,
    format: Format,
    show_n: bool,
) -> TableColumn {
    TableColumn {
        header,
        subset,
        metric,
        stat,
        format,
        show_n,
    }
}

/// The terminal table, column by column; the footnote printed under it says over
/// which runs each subset is taken.
pub const TABLE: [TableColumn; 12] = [
    col(
        "P(outage)",
        "all",
        "p_outage",
        "rate",
        Format::Percent,
        false,
    ),
    col(
        "downtime s\nmean",
        "all",
        "downtime_s",
        "mean",
        Format::Fixed(1),
        false,
    ),
    col(
        "blast radius\nmean",
        "all",
        "blast_radius",
        "mean",
        Format::Percent,
        false,
    ),
    col(
        "blast radius\nmean faulty",
        "faulty",
        "blast_radius",
        "mean",
        Format::Percent,
        false,
    ),
    col(
        "users hit\nmean",
        "all",
        "users_affected",
        "mean",
        Format::Fixed(0),
        false,
    ),
    col(
        "detect s\np50 faulty",
        "faulty",
        "detect_s",
        "p50",
        Format::Fixed(0),
        false,
    ),
    col(
        "decide s\np50 faulty",
        "faulty",
        "decide_s",
        "p50",
        Format::Fixed(0),
        false,
    ),
    col(
        "rollback s\np50",
        "all",
        "rollback_s",
        "p50",
        Format::Fixed(0),
        true,
    ),
    col(
        "deploy s\np50",
        "all",
        "deploy_duration_s",
        "p50",
        Format::Fixed(0),
        false,
    ),
    col(
        "extra pod·s\nmean",
        "all",
        "extra_pod_seconds",
        "mean",
        Format::Fixed(0),
        false,
    ),
    col(
        "false alarm\nhealthy",
        "all",
        "p_false_alarm",
        "rate",
        Format::Percent,
        false,
    ),
    col(
        "false rollback\nhealthy",
        "all",
        "p_false_rollback",
        "rate",
        Format::Percent,
        false,
    ),
];

/// The verdict of a sweep on its objective.
#[derive(Clone, Debug)]
pub struct Verdict {
    pub objective: &'static str,
    pub best: String,
    pub best_mean: Option<f64>,
    /// Strategies whose paired interval against `best` includes zero.
    pub tied: Vec<Standing>,
    /// Strategies whose paired interval lies wholly above `best`.
    pub worse: Vec<Standing>,
}

/// One strategy against the verdict's best: differences are `strategy − best`.
#[derive(Clone, Debug)]
pub struct Standing {
    pub name: String,
    pub n_pairs: u64,
    pub diff: stats::Interval,
    pub extra_pod_seconds_diff: Option<f64>,
    pub deploy_duration_diff: Option<f64>,
}

fn signed(x: Option<f64>) -> String {
    x.map_or("–".into(), |v| format!("{v:+.0}"))
}

fn signed_pp(x: Option<f64>) -> String {
    x.map_or("–".into(), |v| format!("{:+.3}", 100.0 * v))
}

/// mean, p50, p95, p99, max of one (non-negative) column (censoring-aware), via `stats::MetricColumn`:
/// censored times count as larger than every observation for quantiles and as the
/// time left to the horizon for the (restricted) mean.
fn column_stats(col: &[Val]) -> Vec<StatRow> {
    let cap = col.iter().find_map(|v| match v {
        Val::Censored(c) => Some(*c),
        _ => None,
    });
    let mut mc = stats::MetricColumn::new(match cap {
        Some(cap_s) => stats::Censoring::AtHorizon { cap_s },
        None => stats::Censoring::NotApplicable,
    });
    for v in col {
        match v {
            Val::Obs(x) => mc.push(Some(*x)),
            Val::Censored(_) => mc.push(None),
            Val::NotApplicable => {}
        }
    }
    mc.rows(stats::LEVEL)
        .into_iter()
        .map(|r| StatRow {
            strategy: String::new(),
            subset: String::new(),
            metric: String::new(),
            stat: r.stat,
            n: r.n,
            n_censored: r.n_censored,
            estimate: r.estimate,
            // Every summarised metric is a count, share or time, never negative: a
            // t-interval reaching below zero is cut at zero (coverage only grows).
            ci_low: r.ci_low.map(|x| x.max(0.0)),
            ci_high: r.ci_high,
            note: r.note.map_or("", |n| n.as_str()),
        })
        .collect()
}
