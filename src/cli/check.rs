//! `deploysim check`: run the sweep of each scenario and judge its `[[expect]]` gates
//! against the 95% intervals; optional JUnit XML for CI systems.
//!
//! A gate passes when its whole interval is on the right side of the bound, fails when
//! the whole interval is on the wrong side, and is inconclusive otherwise; failed or
//! inconclusive gates make the exit status 1.

use super::config::CheckConfig;
use super::run::{Destination, execute};
use super::{Failure, emit};
use crate::report::summary::{Invocation, StatRow};
use crate::scenario::{Expect, ExpectWhen, Scenario};
use indicatif::ProgressBar;
use std::fmt::Write as _;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    Inconclusive,
}

/// The outcome of one gate.
#[derive(Clone, Debug)]
pub struct Judged {
    pub scenario: String,
    pub expect: Expect,
    pub row: Option<StatRow>,
    pub verdict: Verdict,
    pub message: String,
}

fn subset(w: ExpectWhen) -> &'static str {
    match w {
        ExpectWhen::All => "all",
        ExpectWhen::Faulty => "faulty",
        ExpectWhen::Healthy => "healthy",
    }
}

/// A readable name for a gate, e.g. `canary blast_radius mean (faulty) <= 0.02`.
pub fn gate_name(e: &Expect) -> String {
    let mut s = format!("{} {} {}", e.strategy, e.metric, e.stat);
    if e.when != ExpectWhen::All {
        s.push_str(&format!(" ({})", subset(e.when)));
    }
    if let Some(m) = e.max {
        s.push_str(&format!(" <= {m}"));
    }
    if let Some(m) = e.min {
        s.push_str(&format!(" >= {m}"));
    }
    s
}

/// Judges one gate against its statistic: the interval (or, for `max` and `pooled`,
/// the point value, which has none) must lie wholly on the right side of each bound.
pub fn judge(e: &Expect, row: Option<&StatRow>) -> (Verdict, String) {
    let Some(r) = row else {
        return (
            Verdict::Inconclusive,
            "no such statistic in this run".into(),
        );
    };
    let Some(est) = r.estimate else {
        return (
            Verdict::Inconclusive,
            format!(
                "no estimate (n = {}, censored {}): {}",
                r.n, r.n_censored, r.note
            ),
        );
    };
    let exact = matches!(r.stat, "max" | "pooled");
    let (lo, hi) = if exact {
        (Some(est), Some(est))
    } else {
        (r.ci_low, r.ci_high)
    };
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return (
            Verdict::Inconclusive,
            format!(
                "estimate {est:.6} but too few runs for an interval (n = {})",
                r.n
            ),
        );
    };
    let mut verdict = Verdict::Pass;
    let mut decisive_gap = f64::INFINITY;
    for (bound, upper) in [(e.max, true), (e.min, false)] {
        let Some(b) = bound else { continue };
        let (ok, bad) = if upper {
            (hi <= b, lo > b)
        } else {
            (lo >= b, hi < b)
        };
        if bad {
            verdict = Verdict::Fail;
        } else if !ok && verdict == Verdict::Pass {
            verdict = Verdict::Inconclusive;
            decisive_gap = decisive_gap.min((est - b).abs());
        }
    }
    let ci = if exact {
        format!("{est:.6}")
    } else {
        format!("{est:.6} [95% CI {lo:.6} .. {hi:.6}]")
    };
    let msg = match verdict {
        Verdict::Pass => format!("{ci}: within the bound"),
        Verdict::Fail => format!("{ci}: the whole interval is on the wrong side"),
        Verdict::Inconclusive => {
            // The half-width h shrinks like 1/sqrt(n), h = z·s/√n. For the interval to
            // clear the bound with 80% probability if the estimate holds, the gap must
            // reach (z_0.975 + z_0.80)·s/√n': n' = n·(h/gap)²·((1.96 + 0.84)/1.96)².
            // It is a hint, not a promise: the estimate itself moves with more seeds.
            let half = (hi - lo) / 2.0;
            if decisive_gap > 0.0 && decisive_gap.is_finite() && r.n > 0 {
                let power = ((1.959964 + 0.841621) / 1.959964_f64).powi(2);
                let need = (r.n as f64 * (half / decisive_gap).powi(2) * power).ceil();
                let more = (need - r.n as f64).max(1.0);
                format!(
                    "{ci}: the interval straddles the bound; about {more:.0} more seeds would \
                     decide it with 80% probability if the estimate holds"
                )
            } else {
                format!("{ci}: the estimate sits on the bound; more seeds will not decide it")
            }
        }
    };
    (verdict, msg)
}

pub fn evaluate(sc: &Scenario, rows: &[StatRow]) -> Vec<Judged> {
    sc.expects
        .iter()
        .map(|e| {
            let row = rows
                .iter()
                .find(|r| {
                    r.strategy == e.strategy
                        && r.subset == subset(e.when)
                        && r.metric == e.metric
                        && r.stat == e.stat
                })
                .cloned();
            let (verdict, message) = judge(e, row.as_ref());
            Judged {
                scenario: sc.name.clone(),
                expect: e.clone(),
                row,
                verdict,
                message,
            }
        })
        .collect()
}

pub fn check(cfg: CheckConfig, line: &[String]) -> Result<u8, Failure> {
    let staged = cfg.out.as_ref().map(|t| t.stage()).transpose()?;
    let mut used_names: Vec<String> = Vec::new();
    let mut all = Vec::new();
    for l in &cfg.scenarios {
        let sc = l.scenario();
        let mut strategies = sc.strategies.clone();
        if sc.expects.iter().any(|e| e.strategy == "none")
            && !strategies.iter().any(|s| s.name == "none")
        {
            strategies.push(crate::scenario::Strategy::none());
        }
        let sub = staged.as_ref().map(|st| {
            // Two checked scenarios may share a name: each gets its own directory.
            let mut name = sc.name.clone();
            let mut k = 1;
            while used_names.contains(&name) {
                k += 1;
                name = format!("{}-{k}", sc.name);
            }
            used_names.push(name.clone());
            (
                st.dir().join(&name),
                cfg.out.as_ref().map(|t| t.path().join(&name)),
            )
        });
        if let Some((d, _)) = &sub {
            std::fs::create_dir(d).map_err(|e| Failure::io(d, e))?;
        }
        let invocation = Invocation {
            command: line.join(" "),
            jobs: cfg.jobs,
            out: sub
                .as_ref()
                .and_then(|(_, o)| o.as_ref())
                .map(|o| o.display().to_string())
                .unwrap_or_default(),
            seed_base: cfg.seeds.base,
            seeds: cfg.seeds.count,
        };
        let summary = execute(
            sc,
            &strategies,
            cfg.seeds,
            cfg.jobs,
            &ProgressBar::hidden(),
            sub.as_ref().map(|(d, _)| Destination {
                dir: d,
                invocation: &invocation,
                plots: crate::report::PlotFormat::Svg,
            }),
        )?;
        all.extend(evaluate(sc, &summary.stats()));
    }
    if let Some(st) = staged {
        st.commit()?;
    }
    let failed = all.iter().filter(|j| j.verdict == Verdict::Fail).count();
    let inconclusive = all
        .iter()
        .filter(|j| j.verdict == Verdict::Inconclusive)
        .count();
    if let Some(path) = &cfg.junit {
        std::fs::write(path, junit(&all, cfg.seeds.count)).map_err(|e| Failure::io(path, e))?;
    }
    emit(&format!(
        "{}{} gates: {} passed, {failed} failed, {inconclusive} inconclusive ({} seeds from {})\n",
        table(&all),
        all.len(),
        all.len() - failed - inconclusive,
        cfg.seeds.count,
        cfg.seeds.base
    ))?;
    if let Some(t) = &cfg.out {
        emit(&format!("results: {}/\n", t.path().display()))?;
    }
    Ok(if failed + inconclusive > 0 { 1 } else { 0 })
}

fn table(all: &[Judged]) -> String {
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header(vec!["scenario", "gate", "verdict", "detail"]);
    for j in all {
        let v = match j.verdict {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Inconclusive => "INCONCLUSIVE",
        };
        t.add_row(vec![
            j.scenario.clone(),
            gate_name(&j.expect),
            v.into(),
            j.message.clone(),
        ]);
    }
    format!("{t}\n")
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// JUnit XML: one test suite per scenario, one test case per gate.
pub fn junit(all: &[Judged], seeds: u64) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let failures = all.iter().filter(|j| j.verdict != Verdict::Pass).count();
    let _ = writeln!(
        s,
        "<testsuites name=\"deploysim check\" tests=\"{}\" failures=\"{failures}\">",
        all.len()
    );
    let mut names: Vec<&str> = all.iter().map(|j| j.scenario.as_str()).collect();
    names.dedup();
    for name in names {
        let cases: Vec<&Judged> = all.iter().filter(|j| j.scenario == name).collect();
        let f = cases.iter().filter(|j| j.verdict != Verdict::Pass).count();
        let _ = writeln!(
            s,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" errors=\"0\">",
            xml_escape(name),
            cases.len()
        );
        let _ = writeln!(
            s,
            "    <properties><property name=\"seeds\" value=\"{seeds}\"/></properties>"
        );
        for j in cases {
            let _ = write!(
                s,
                "    <testcase classname=\"deploysim.{}\" name=\"{}\"",
                xml_escape(name),
                xml_escape(&gate_name(&j.expect))
            );
            match j.verdict {
                Verdict::Pass => {
                    let _ = writeln!(
                        s,
                        ">\n      <system-out>{}</system-out>\n    </testcase>",
                        xml_escape(&j.message)
                    );
                }
                v => {
                    let kind = if v == Verdict::Fail {
                        "failed"
                    } else {
                        "inconclusive"
                    };
                    let _ = writeln!(
                        s,
                        ">\n      <failure type=\"{kind}\" message=\"{}\">{}</failure>\n    </testcase>",
                        xml_escape(&j.message),
                        xml_escape(&j.message)
                    );
                }
            }
        }
        s.push_str("  </testsuite>\n");
    }
    s.push_str("</testsuites>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(stat: &'static str, est: f64, lo: f64, hi: f64) -> StatRow {
        StatRow {
            strategy: "s".into(),
            subset: "all".into(),
            metric: "blast_radius".into(),
            stat,
            n: 100,
            n_censored: 0,
            estimate: Some(est),
            ci_low: Some(lo),
            ci_high: Some(hi),
            note: "",
        }
    }
    fn gate(max: Option<f64>, min: Option<f64>) -> Expect {
        Expect {
            strategy: "s".into(),
            metric: "blast_radius".into(),
            stat: "mean".into(),
            max,
            min,
            when: ExpectWhen::All,
        }
    }

    #[test]
    fn verdicts_follow_the_interval() {
        // (bound, interval) -> verdict, worked by hand.
        let cases = [
            (
                gate(Some(0.05), None),
                row("mean", 0.02, 0.01, 0.03),
                Verdict::Pass,
            ),
            (
                gate(Some(0.05), None),
                row("mean", 0.08, 0.06, 0.10),
                Verdict::Fail,
            ),
            (
                gate(Some(0.05), None),
                row("mean", 0.05, 0.04, 0.06),
                Verdict::Inconclusive,
            ),
            (
                gate(None, Some(0.05)),
                row("mean", 0.08, 0.06, 0.10),
                Verdict::Pass,
            ),
            (
                gate(None, Some(0.05)),
                row("mean", 0.02, 0.01, 0.03),
                Verdict::Fail,
            ),
            (
                gate(Some(0.05), None),
                row("max", 0.04, 0.0, 1.0),
                Verdict::Pass,
            ),
        ];
        for (g, r, want) in cases {
            assert_eq!(judge(&g, Some(&r)).0, want, "{g:?} vs {r:?}");
        }
    }

    #[test]
    fn inconclusive_estimates_more_seeds() {
        // Half-width 0.02, gap 0.01: n' = 100 · (0.02/0.01)² · ((1.959964 + 0.841621) /
        // 1.959964)² = 400 · 2.0432 = 817.28 → 818, so 718 more.
        let (_, msg) = judge(
            &gate(Some(0.05), None),
            Some(&row("mean", 0.04, 0.02, 0.06)),
        );
        assert!(msg.contains("about 718 more seeds"), "{msg}");
    }
}
