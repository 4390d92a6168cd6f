//! `summary.csv`, `summary.json`, `compare.csv` and the terminal table, from the runs
//! of a sweep fed in seed order (DESIGN.md §6).
//!
//! Keeps one small record per run (not per request) and merged latency histograms,
//! so memory grows only with seeds × strategies. Statistics come from `crate::stats`.

use super::files::{field, num, opt};
use crate::catalogue::{COMPARED, Censoring, Column, METRICS, N_METRICS, Rate, metric_index};
use crate::metrics::RunRow;
use crate::scenario::{FaultKind, Scenario, Strategy};
use crate::stats;
use crate::world::RunOutput;
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

/// An empty pooled-latency histogram: 1 µs to 2 h, 2 significant digits.
pub fn new_hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 7_200_000_000, 2).expect("static bounds are valid")
}

/// Adds `from` into `into`. Every latency histogram is created with the bounds of
/// `new_hist` and latencies are clamped into them, so the addition cannot fail; a
/// debug build checks it.
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
                    hist: [new_hist(), new_hist(), new_hist()],
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
                    for row in column_stats(&col) {
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
                } {
                    let n = h.len();
                    rows.push(StatRow {
                        strategy: p.name.clone(),
                        subset: subset.clone(),
                        metric: "latency_p99_ms".into(),
                        stat: "pooled",
                        n,
                        n_censored: 0,
                        estimate: (n > 0).then(|| h.value_at_quantile(0.99) as f64 / 1e3),
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

    /// Paired comparisons of every strategy with the first one.
    pub fn compare(&self) -> Vec<CompareRow> {
        let mut rows = Vec::new();
        let Some(base) = self.per.first() else {
            return rows;
        };
        for p in self.per.iter().skip(1) {
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
        t.set_header(vec![
            "strategy",
            "P(outage)",
            "downtime s\nmean",
            "blast radius\nmean",
            "blast radius\np95",
            "users hit\nmean",
            "detect s\np50 faulty",
            "rollback s\np50",
            "deploy s\np50",
            "extra pod·s\nmean",
        ]);
        let pct = |x: Option<f64>| x.map_or("–".to_string(), |v| format!("{:.2}%", 100.0 * v));
        let fx = |x: Option<f64>, d: usize| x.map_or("–".to_string(), |v| format!("{v:.d$}"));
        for p in &self.per {
            let g = |subset: &str, metric: &str, stat: &str| {
                self.get(&rows, &p.name, subset, metric, stat)
            };
            let est = |r: Option<StatRow>| r.and_then(|r| r.estimate);
            t.add_row(vec![
                Cell::new(&p.name),
                Cell::new(pct(est(g("all", "p_outage", "rate"))))
                    .set_alignment(CellAlignment::Right),
                Cell::new(fx(est(g("all", "downtime_s", "mean")), 1))
                    .set_alignment(CellAlignment::Right),
                Cell::new(pct(est(g("all", "blast_radius", "mean"))))
                    .set_alignment(CellAlignment::Right),
                Cell::new(pct(est(g("all", "blast_radius", "p95"))))
                    .set_alignment(CellAlignment::Right),
                Cell::new(fx(est(g("all", "users_affected", "mean")), 0))
                    .set_alignment(CellAlignment::Right),
                Cell::new(fx(est(g("faulty", "detect_s", "p50")), 0))
                    .set_alignment(CellAlignment::Right),
                Cell::new(fx(est(g("all", "rollback_s", "p50")), 0))
                    .set_alignment(CellAlignment::Right),
                Cell::new(fx(est(g("all", "deploy_duration_s", "p50")), 0))
                    .set_alignment(CellAlignment::Right),
                Cell::new(fx(est(g("all", "extra_pod_seconds", "mean")), 0))
                    .set_alignment(CellAlignment::Right),
            ]);
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
        s.push_str(&self.verdict(&rows));
        s
    }

    /// Which deploying strategy has the lowest mean blast radius, with paired intervals.
    fn verdict(&self, rows: &[StatRow]) -> String {
        let candidates: Vec<&PerStrategy> = self.per.iter().filter(|p| p.kind != "none").collect();
        let mean_of = |name: &str, metric: &str| {
            self.get(rows, name, "all", metric, "mean")
                .and_then(|r| r.estimate)
                .unwrap_or(f64::INFINITY)
        };
        let Some(best) = candidates.iter().min_by(|a, b| {
            mean_of(&a.name, "blast_radius").total_cmp(&mean_of(&b.name, "blast_radius"))
        }) else {
            return String::new();
        };
        let (Some(bi), Some(ci)) = (
            metric_index(Column::BlastRadius),
            metric_index(Column::ExtraPodSeconds),
        ) else {
            return String::new();
        };
        let col = |p: &PerStrategy, i: usize| -> Vec<Option<f64>> {
            p.recs
                .iter()
                .map(|r| {
                    if let Val::Obs(x) = r.vals[i] {
                        Some(x)
                    } else {
                        None
                    }
                })
                .collect()
        };
        let mut s = format!(
            "Lowest mean blast radius: {} ({:.3}% of requests impacted).",
            best.name,
            100.0 * mean_of(&best.name, "blast_radius")
        );
        for other in candidates.iter().filter(|p| p.name != best.name) {
            let d = stats::paired(&col(other, bi), &col(best, bi), true, 0.95);
            let c = stats::paired(&col(other, ci), &col(best, ci), true, 0.95);
            s.push_str(&format!(
                "\n  vs {}: {} pp blast radius [95% CI {} .. {}], {} extra pod·s",
                other.name,
                signed_pp(d.diff.estimate),
                signed_pp(d.diff.low),
                signed_pp(d.diff.high),
                c.diff.estimate.map_or("–".into(), |v| format!("{v:+.0}")),
            ));
        }
        s.push('\n');
        s
    }
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
