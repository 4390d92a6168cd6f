//! Issue 19, acceptance 3: extreme but valid scenarios, one table. Each case either
//! completes (exit 0, one `runs.csv` row with an outcome), or is warned about or
//! refused with a message naming the key: never a panic, an overflow or a hang. The
//! real binary runs each case under a watchdog (killed after two minutes; a kill fails
//! the test). Horizons are short where the case is not about the horizon.

use std::time::Duration;

use crate::{bin, default_toml, scratch, write};

enum Expect {
    /// `run --seeds 1 --strategy rolling` exits 0 with one row.
    Completes,
    /// `validate` exits 0 and warns with this text (the run itself is too long for a
    /// test: the warning is the behaviour).
    Warned(&'static str),
    /// `validate` exits 2 with this text.
    Refused(&'static str),
}

/// `key = value` replacements of the default scenario.
type Edits = Vec<(&'static str, &'static str)>;

/// (case, edits, expectation)
fn cases() -> Vec<(&'static str, Edits, Expect)> {
    use Expect::*;
    let short = [("duration", "\"5m\"")];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut v = short.to_vec();
        v.extend_from_slice(extra);
        v
    };
    vec![
        ("replicas 1", with(&[("replicas", "1")]), Completes),
        (
            "replicas 5000",
            with(&[("replicas", "5000"), ("nodes", "2500")]),
            Completes,
        ),
        (
            "replicas 5000 warns",
            with(&[("replicas", "5000"), ("nodes", "2500")]),
            Warned("5000 replicas on 2500 nodes"),
        ),
        (
            "replicas 10001",
            with(&[("replicas", "10001"), ("nodes", "5000")]),
            Refused("service.replicas: 10001 is above the limit of 10000"),
        ),
        ("rate 0.01", with(&[("rate", "0.01")]), Completes),
        (
            "rate 1e6 for 3 s",
            vec![
                ("duration", "\"3s\""),
                ("deploy_at", "\"1s\""),
                ("rate", "1e6"),
            ],
            Completes,
        ),
        (
            "rate 1e6 for 30 min",
            vec![("rate", "1e6")],
            Warned("1.8e9 requests"),
        ),
        (
            "duration 1 s",
            vec![("duration", "\"1s\""), ("deploy_at", "\"0s\"")],
            Completes,
        ),
        (
            "duration 30 days at request level",
            vec![("duration", "\"720h\"")],
            // 200 req/s x 2,592,000 s
            Warned("5.2e8 requests"),
        ),
        (
            "duration 30 days in fluid mode",
            vec![("duration", "\"720h\""), ("fidelity", "\"fluid\"")],
            Completes,
        ),
        (
            "duration 31 days",
            vec![("duration", "\"744h\"")],
            Refused("duration: 744h is above the limit of 720h"),
        ),
        (
            "service time 1 us",
            with(&[("service_time", "\"1us\"")]),
            Completes,
        ),
        (
            "service time 10 min",
            with(&[("service_time", "\"10m\"")]),
            Completes,
        ),
        ("queue_limit 0", with(&[("queue_limit", "0")]), Completes),
        (
            "nodes 1",
            with(&[("nodes", "1"), ("pods_per_node", "48")]),
            Completes,
        ),
    ]
}

fn scenario(pairs: &[(&str, &str)]) -> String {
    let mut text = default_toml().to_string();
    for (key, value) in pairs {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{key} =")))
            .unwrap_or_else(|| panic!("default.toml has no line `{key} =`"))
            .to_string();
        text = text.replacen(&line, &format!("{key} = {value}"), 1);
    }
    text
}

fn watched(args: &[String]) -> std::process::Output {
    let mut cmd = assert_cmd::Command::from_std(bin());
    cmd.args(args).timeout(Duration::from_secs(120));
    cmd.output().expect("run deploysim")
}

#[test]
fn extreme_but_valid_scenarios_complete_warn_or_are_refused() {
    let dir = scratch("extremes");
    for (i, (case, pairs, expect)) in cases().into_iter().enumerate() {
        let file = write(&dir, &format!("case{i}.toml"), &scenario(&pairs));
        let file = file.display().to_string();
        let out = match expect {
            Expect::Completes => {
                let results = dir.join(format!("out{i}"));
                let args = [
                    "run",
                    &file,
                    "--seeds",
                    "1",
                    "--strategy",
                    "rolling",
                    "--out",
                    &results.display().to_string(),
                ]
                .map(String::from);
                let out = watched(&args);
                let runs = std::fs::read_to_string(results.join("runs.csv")).unwrap_or_default();
                let rows: Vec<&str> = runs.lines().skip(1).collect();
                assert_eq!(out.status.code(), Some(0), "{case}: {out:?}");
                assert_eq!(rows.len(), 1, "{case}: {runs}");
                assert!(rows[0].starts_with("default,rolling,0,"), "{case}: {runs}");
                out
            }
            Expect::Warned(needle) | Expect::Refused(needle) => {
                let out = watched(&["validate".to_string(), file.clone()]);
                let err = String::from_utf8_lossy(&out.stderr);
                let code = if matches!(expect, Expect::Warned(_)) {
                    0
                } else {
                    2
                };
                assert_eq!(out.status.code(), Some(code), "{case}: {err}");
                assert!(err.contains(needle), "{case}: {needle:?}: {err}");
                out
            }
        };
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{case}: {err}");
    }
}
