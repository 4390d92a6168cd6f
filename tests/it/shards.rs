//! `run --shard I/N` + `merge` == one `run` of the whole seed range, byte for byte
//! except `invocation` (DESIGN §11); a bad shard set is refused and writes nothing.

use crate::{bin, scratch};
use std::path::Path;

fn run_ok(cwd: &Path, args: &[&str]) {
    let o = bin().current_dir(cwd).args(args).output().expect("run");
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A results file with the parts that name the invocation taken out: the
/// `invocation` object of summary.json and the command line of report.html.
fn comparable(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name != "summary.json" && name != "report.html" {
        return bytes;
    }
    let text = String::from_utf8(bytes).expect("utf-8");
    let mut out = String::new();
    let mut in_invocation = false;
    for line in text.lines() {
        if line.contains("\"invocation\": {") {
            in_invocation = true;
        }
        if !in_invocation && !line.contains("class=\"command\"") {
            out.push_str(line);
            out.push('\n');
        }
        if in_invocation && line.trim_start().starts_with('}') {
            in_invocation = false;
        }
    }
    out.into_bytes()
}

fn files_of(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("ls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn four_shards_merged_equal_one_run_byte_for_byte() {
    // The default, a canary lesson and the 4-tier pipeline (caught stages, lead
    // times), at both fidelities; the shards are handed to merge out of order.
    let cases = [
        ("default", "request", "7"),
        ("default", "fluid", "23"),
        ("canary-1-5", "request", "5"),
        ("canary-1-5", "fluid", "21"),
        ("four-tier", "request", "6"),
        ("four-tier", "fluid", "22"),
    ];
    for (scenario, fidelity, seeds) in cases {
        let root = scratch(&format!("shards_{scenario}_{fidelity}"));
        let common = [
            scenario,
            "--seeds",
            seeds,
            "--seed-base",
            "11",
            "--fidelity",
            fidelity,
        ];
        let common = [&common[..], &["--quiet", "--format", "none"]].concat();
        run_ok(
            &root,
            &[&["run"], &common[..], &["--out", "whole"]].concat(),
        );
        for i in 1..=4 {
            let shard = format!("{i}/4");
            let out = format!("s{i}");
            run_ok(
                &root,
                &[&["run"], &common[..], &["--shard", &shard, "--out", &out]].concat(),
            );
        }
        run_ok(
            &root,
            &[
                "merge", "s3", "s1", "s4", "s2", "--out", "merged", "--format", "none",
            ],
        );
        let whole = root.join("whole");
        let merged = root.join("merged");
        assert_eq!(files_of(&whole), files_of(&merged), "{scenario} {fidelity}");
        for f in files_of(&whole) {
            assert!(
                comparable(&whole.join(&f)) == comparable(&merged.join(&f)),
                "{scenario} {fidelity}: {f} differs between one run and the merged shards"
            );
        }
    }
}

#[test]
fn missing_duplicated_foreign_or_damaged_shards_are_refused() {
    let root = scratch("shards_refused");
    let common = [
        "--seeds",
        "8",
        "--fidelity",
        "fluid",
        "--quiet",
        "--format",
        "none",
    ];
    for i in 1..=4 {
        let shard = format!("{i}/4");
        let out = format!("s{i}");
        run_ok(
            &root,
            &[&["run"], &common[..], &["--shard", &shard, "--out", &out]].concat(),
        );
    }
    // A shard of another seed range, and one of another scenario.
    run_ok(
        &root,
        &[
            &["run"],
            &common[..],
            &["--seed-base", "1", "--shard", "2/4", "--out", "other_seeds"],
        ]
        .concat(),
    );
    run_ok(
        &root,
        &[
            &["run", "canary-1-5"],
            &common[..],
            &["--shard", "2/4", "--out", "other_scenario"],
        ]
        .concat(),
    );
    // A shard with a run removed from its records.
    run_ok(
        &root,
        &[
            &["run"],
            &common[..],
            &["--shard", "2/4", "--out", "damaged"],
        ]
        .concat(),
    );
    let jsonl = root.join("damaged/runs.jsonl");
    let text = std::fs::read_to_string(&jsonl).expect("read");
    let kept: Vec<&str> = text.lines().skip(1).collect();
    std::fs::write(&jsonl, kept.join("\n") + "\n").expect("write");
    let cases: [(&[&str], &str); 5] = [
        (&["s1", "s2", "s4"], "missing shard 3/4"),
        (&["s1", "s2", "s2", "s3", "s4"], "given twice"),
        (&["s1", "other_seeds", "s3", "s4"], "seed range differs"),
        (
            &["s1", "other_scenario", "s3", "s4"],
            "scenario text differs",
        ),
        (&["s1", "damaged", "s3", "s4"], "runs.jsonl"),
    ];
    for (dirs, want) in cases {
        let o = bin()
            .current_dir(&root)
            .arg("merge")
            .args(dirs)
            .args(["--out", "merged"])
            .output()
            .expect("run");
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{dirs:?}: {e}");
        assert!(e.contains(want), "{dirs:?}: {e}");
        assert!(!root.join("merged").exists(), "{dirs:?} wrote output");
    }
    // The --shard flag itself.
    for bad in ["0/4", "5/4", "2", "a/b", "9/9"] {
        let o = bin()
            .current_dir(&root)
            .args(["run", "--seeds", "8", "--shard", bad, "--out", "x"])
            .output()
            .expect("run");
        assert_eq!(o.status.code(), Some(2), "--shard {bad}");
        assert!(!root.join("x").exists());
    }
}
