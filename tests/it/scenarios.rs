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
        let sc = deploysim::scenario::load(&f).unwrap().scenario;
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
