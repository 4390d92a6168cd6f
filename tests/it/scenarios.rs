//! The curated scenario library (issue 6, acceptance 2): every file in `scenarios/`
//! validates, is bundled into the binary, carries a description and a lesson comment,
//! and runs end to end; a few lessons are pinned as facts the model must keep.

use crate::{bin, scratch};
use std::path::{Path, PathBuf};

fn scenario_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("scenarios/ exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 11,
        "at least ten curated scenarios plus the default"
    );
    files
}

#[test]
fn every_scenario_validates_and_is_bundled_with_a_lesson() {
    let bundled = deploysim::scenario::bundled();
    for f in scenario_files() {
        let o = bin().arg("validate").arg(&f).output().unwrap();
        assert!(
            o.status.success(),
            "{f:?} does not validate: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let text = std::fs::read_to_string(&f).unwrap();
        let stem = f.file_stem().unwrap().to_str().unwrap();
        let entry = bundled.iter().find(|(n, _)| *n == stem);
        assert!(
            entry.is_some_and(|(_, t)| *t == text),
            "{stem} is not bundled (or differs from the file): add it to scenario::BUNDLED"
        );
        let parsed = deploysim::scenario::parse(&text, stem).unwrap().scenario;
        assert!(
            !parsed.description.trim().is_empty(),
            "{stem}: no description"
        );
        if stem != "default" {
            assert!(
                text.starts_with("# Lesson:"),
                "{stem}: the header comment must say what it teaches"
            );
            assert!(
                text.contains("What to look at"),
                "{stem}: say what to look at"
            );
        }
    }
    assert_eq!(
        bundled.len(),
        scenario_files().len(),
        "a bundled scenario has no file"
    );
}

/// Reads runs.csv rows as (strategy, outcome, downtime_s, blast_radius).
fn runs(out: &Path) -> Vec<(String, String, f64, f64)> {
    let mut r = csv::Reader::from_path(out.join("runs.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (s, o, d, b) = (
        col("strategy"),
        col("outcome"),
        col("downtime_s"),
        col("blast_radius"),
    );
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            (
                rec[s].to_string(),
                rec[o].to_string(),
                rec[d].parse().unwrap(),
                rec[b].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_scenario_runs_end_to_end() {
    let dir = scratch("scenarios_run");
    for f in scenario_files() {
        let stem = f.file_stem().unwrap().to_str().unwrap().to_string();
        let out = dir.join(&stem);
        let seeds = 3;
        let o = bin()
            .arg("run")
            .arg(&f)
            .args(["--seeds", &seeds.to_string(), "--quiet", "--format", "none"])
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{stem}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let text = std::fs::read_to_string(&f).unwrap();
        let sc = deploysim::scenario::parse(&text, &f.display().to_string())
            .unwrap()
            .scenario;
        assert_eq!(runs(&out).len(), seeds * sc.strategies.len(), "{stem}");
        assert!(out.join("report.html").is_file(), "{stem}: no report");
        if stem == "crash-loop" {
            // New pods never become ready: recreate has removed every old pod (an
            // outage on every seed), rolling and canary keep serving on the old ones.
            for (s, _, downtime, _) in runs(&out) {
                match s.as_str() {
                    "recreate" => assert!(downtime > 0.0, "recreate must go down"),
                    _ => assert_eq!(downtime, 0.0, "{s} must keep serving"),
                }
            }
        }
        if stem == "blue-green-too-small" {
            // 24 slots cannot hold two stacks of 20: blue/green stalls, a rolling
            // update with surge 2 fits and completes.
            for (s, outcome, _, _) in runs(&out) {
                let want = if s == "blue-green" {
                    "stalled"
                } else {
                    "completed"
                };
                assert_eq!(outcome, want, "{s}");
            }
        }
        if stem == "health-checks" {
            // A crash 30-60 s after each start: minReadySeconds 90 s never counts a
            // new pod available, so the rollout cannot remove enough old pods to
            // cause an outage; with 0 s it replaces everything.
            let rows = runs(&out);
            let worst = |name: &str| {
                rows.iter()
                    .filter(|r| r.0 == name)
                    .map(|r| r.2)
                    .fold(0.0, f64::max)
            };
            assert_eq!(worst("min-ready-90s"), 0.0);
            let br = |name: &str| {
                rows.iter()
                    .filter(|r| r.0 == name)
                    .map(|r| r.3)
                    .sum::<f64>()
            };
            assert!(br("min-ready-90s") < br("min-ready-0s"));
        }
    }
}

/// The no-prestop lesson (issue 13, item 9): without a preStop sleep every replaced
/// pod drops what the balancer sends it during `endpoint_lag`; with one longer than
/// the lag it drops nothing, and the alert stays quiet on healthy releases.
#[test]
fn without_prestop_each_replaced_pod_drops_its_endpoint_lag_of_traffic() {
    let text = deploysim::scenario::bundled()
        .iter()
        .find(|(n, _)| *n == "no-prestop")
        .expect("bundled")
        .1;
    let with_prestop = text.replacen("\npre_stop = \"0s\"", "\npre_stop = \"3s\"", 1);
    assert_ne!(text, with_prestop);
    let seeds = 40u64;
    // (mean extra failed requests of rolling over none, share of healthy rolling runs
    // whose alert fired)
    let measure = |t: &str| {
        let sc = crate::parse(t);
        let users = deploysim::world::UserTable::new(&sc.traffic);
        let by_name = |n: &str| {
            sc.strategies
                .iter()
                .find(|s| s.name == n)
                .expect("strategy")
                .clone()
        };
        let (rolling, none) = (by_name("rolling"), by_name("none"));
        let (mut extra, mut alarms) = (0.0, 0u64);
        for seed in 0..seeds {
            let r = deploysim::runner::run(&sc, &users, &rolling, seed, false).row;
            let n = deploysim::runner::run(&sc, &users, &none, seed, false).row;
            assert!(!r.faulty, "every release of the lesson is healthy");
            extra += r.failed_requests as f64 - n.failed_requests as f64;
            alarms += r.detect_s.is_some() as u64;
        }
        (extra / seeds as f64, alarms as f64 / seeds as f64)
    };
    // Derivation: 200 req/s over the pods in the balancer; 20 old pods are replaced,
    // each receiving traffic for endpoint_lag = 1 s after it stopped accepting. With
    // maxSurge = maxUnavailable = 5 the balancer holds between 15 (only the available
    // old pods) and 25 pods, so each replaced pod drops between 200/25 and 200/15
    // requests: 20 × [8, 13.3] = [160, 267] extra failures per rollout.
    let (extra, alarm) = measure(text);
    assert!((160.0..=267.0).contains(&extra), "extra failures {extra}");
    // 2% of a 30 s window at 200 req/s is 120 failures; the rollout's drops come in
    // bursts of up to 5 pods, and the alert fires on most healthy rollouts.
    assert!(alarm > 0.5, "false-alarm share {alarm}");
    // With pre_stop 3 s > lag the pod still accepts while the balancer sends to it:
    // no drops, only baseline errors (0.1%, the same requests by common random
    // numbers, so the difference is routing noise of a few requests), and a window
    // of ~6,000 requests at 0.1% never reaches 120 errors.
    let (extra, alarm) = measure(&with_prestop);
    assert!(extra.abs() < 10.0, "extra failures with preStop {extra}");
    assert_eq!(alarm, 0.0);
}
