//! Issue 7: `check` gates (pass, fail, inconclusive, bad gates), JUnit XML, `import`
//! through the command line, and the imported Argo canary against its hand-written
//! equivalent.

use crate::{bin, scratch, write};
use quick_xml::Reader;
use quick_xml::events::Event;
use std::path::{Path, PathBuf};

/// A cheap scenario: 20 minutes at 100 req/s, half the releases faulty (errors), a
/// canary with automatic rollback and a recreate with a manual one, and `gates`.
fn gated(gates: &str) -> String {
    format!(
        r#"
name = "gated"
duration = "20m"
deploy_at = "1m"
[traffic]
rate = 100
[release]
bad_probability = 0.5
faults = [ {{ kind = "errors", weight = 1, error_rate = 0.2 }} ]

[[strategy]]
name = "canary"
kind = "canary"
steps = [ {{ set_weight = 10 }}, {{ pause = "2m" }}, {{ set_weight = 50 }}, {{ pause = "2m" }} ]
rollback = "auto"

[[strategy]]
name = "recreate"
kind = "recreate"
rollback = "manual"
{gates}
"#
    )
}

fn check(files: &[&Path], extra: &[&str]) -> (i32, String, String) {
    let o = bin()
        .arg("check")
        .args(files)
        .args(["--seeds", "40"])
        .args(extra)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The estimate and interval of one summary.csv row of a `run` with the same seeds.
fn interval(
    file: &Path,
    dir: &Path,
    strategy: &str,
    subset: &str,
    metric: &str,
    stat: &str,
) -> (f64, f64, f64) {
    let out = dir.join("run");
    let o = bin()
        .arg("run")
        .arg(file)
        .args(["--seeds", "40", "--quiet", "--format", "none", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success());
    let mut r = csv::Reader::from_path(out.join("summary.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let c = |n: &str| h.iter().position(|x| x == n).unwrap();
    for rec in r.records() {
        let rec = rec.unwrap();
        if rec[c("strategy")] == *strategy
            && rec[c("subset")] == *subset
            && rec[c("metric")] == *metric
            && rec[c("stat")] == *stat
        {
            let f = |n: &str| rec[c(n)].parse::<f64>().unwrap();
            return (f("estimate"), f("ci_low"), f("ci_high"));
        }
    }
    panic!("no summary row {strategy} {subset} {metric} {stat}");
}

#[test]
fn check_passes_fails_and_says_inconclusive_from_the_interval() {
    let dir = scratch("gates_check");
    // Find the recreate outage rate's interval first: the gates are set against it,
    // not against numbers copied from an earlier run.
    let probe = write(&dir, "probe.toml", &gated(""));
    let (est, lo, hi) = interval(&probe, &dir, "recreate", "all", "blast_radius", "mean");
    assert!(lo < est && est < hi && lo > 0.0);

    let pass = write(
        &dir,
        "pass.toml",
        &gated(&format!(
            "[[expect]]\nstrategy = \"recreate\"\nmetric = \"blast_radius\"\nstat = \"mean\"\nmax = {}\n",
            hi * 1.5
        )),
    );
    let (code, out, _) = check(&[&pass], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("PASS"), "{out}");

    let fail = write(
        &dir,
        "fail.toml",
        &gated(&format!(
            "[[expect]]\nstrategy = \"recreate\"\nmetric = \"blast_radius\"\nstat = \"mean\"\nmax = {}\n",
            lo / 2.0
        )),
    );
    let junit = dir.join("junit.xml");
    let (code, out, _) = check(&[&fail], &["--junit", junit.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL"), "{out}");

    let straddle = write(
        &dir,
        "straddle.toml",
        &gated(&format!(
            "[[expect]]\nstrategy = \"recreate\"\nmetric = \"blast_radius\"\nstat = \"mean\"\nmax = {est}\n\
             [[expect]]\nstrategy = \"canary\"\nmetric = \"p_outage\"\nstat = \"rate\"\nmax = 0.5\n"
        )),
    );
    let (code, out, _) = check(&[&straddle], &[]);
    assert_eq!(code, 1, "inconclusive makes the exit status 1: {out}");
    assert!(
        out.contains("INCONCLUSIVE") && out.contains("seeds"),
        "{out}"
    );
    assert!(out.contains("PASS"), "the canary gate passes: {out}");

    // Several files in one call: any failure makes the status 1.
    let (code, out, _) = check(&[&pass, &fail], &[]);
    assert_eq!(code, 1);
    assert!(out.contains("PASS") && out.contains("FAIL"));

    // JUnit XML: well-formed, one test case per gate, a <failure> for the failed one.
    let xml = std::fs::read_to_string(&junit).unwrap();
    let mut r = Reader::from_str(&xml);
    let (mut cases, mut failures, mut depth) = (0, 0, 0i32);
    loop {
        match r.read_event() {
            Ok(Event::Start(e)) => {
                depth += 1;
                match e.name().as_ref() {
                    "testcase" => cases += 1,
                    "failure" => failures += 1,
                    _ => {}
                }
            }
            Ok(Event::Empty(e)) => match e.name().as_ref() {
                "testcase" => cases += 1,
                "failure" => failures += 1,
                _ => {}
            },
            Ok(Event::End(_)) => depth -= 1,
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("junit.xml is not well-formed: {e}\n{xml}"),
        }
    }
    assert_eq!(depth, 0);
    assert_eq!((cases, failures), (1, 1), "{xml}");
}

#[test]
fn bad_gates_exit_2_naming_the_key_and_line() {
    let dir = scratch("gates_bad");
    for (gate, key, needle) in [
        (
            "[[expect]]\nstrategy = \"canary\"\nmetric = \"blast_raduis\"\nstat = \"mean\"\nmax = 1\n",
            "expect[0].metric",
            "unknown metric",
        ),
        (
            "[[expect]]\nstrategy = \"canary\"\nmetric = \"p_outage\"\nstat = \"mean\"\nmax = 1\n",
            "expect[0].stat",
            "rate",
        ),
        (
            "[[expect]]\nstrategy = \"canary\"\nmetric = \"blast_radius\"\nstat = \"p42\"\nmax = 1\n",
            "expect[0].stat",
            "unknown stat",
        ),
        (
            "[[expect]]\nstrategy = \"nope\"\nmetric = \"blast_radius\"\nstat = \"mean\"\nmax = 1\n",
            "expect[0].strategy",
            "no strategy named",
        ),
    ] {
        let f = write(&dir, "bad.toml", &gated(gate));
        let (code, out, err) = check(&[&f], &[]);
        assert_eq!(code, 2, "{gate}: {out}{err}");
        assert!(err.contains(key) && err.contains(needle), "{gate}: {err}");
        assert!(
            err.contains("bad.toml:"),
            "the file and line are named: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

fn manifests() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/manifests");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[test]
fn import_writes_scenarios_that_validate() {
    let dir = scratch("gates_import");
    let files = manifests();
    assert!(files.len() >= 6);
    for m in files {
        let name = m.file_stem().unwrap().to_str().unwrap().to_string();
        let out = dir.join(format!("{name}.toml"));
        let o = bin()
            .arg("import")
            .arg(&m)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v = bin().arg("validate").arg(&out).output().unwrap();
        assert!(
            v.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&v.stderr)
        );
        // Without -o the same scenario goes to stdout.
        let o2 = bin().arg("import").arg(&m).output().unwrap();
        assert!(o2.status.success());
        let text = std::fs::read_to_string(&out).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&o2.stdout).replace(&out.display().to_string(), ""),
            text.replace(&out.display().to_string(), ""),
            "{name}: stdout and -o differ"
        );
        assert!(text.contains("# from "), "{name}: values name their source");
    }
}

#[test]
fn import_bad_input_exits_2_and_writes_nothing() {
    let dir = scratch("gates_import_bad");
    let out = dir.join("out.toml");
    let bad_yaml = write(
        &dir,
        "broken.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: [1, 2\n",
    );
    let config = write(
        &dir,
        "config.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: b\n",
    );
    let good = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/manifests/k8s-deployment.yaml");
    let cases: Vec<(Vec<PathBuf>, Vec<&str>, &str)> = vec![
        (vec![bad_yaml.clone()], vec![], "broken.yaml:4:"),
        (vec![dir.join("missing.yaml")], vec![], "missing.yaml"),
        (vec![config], vec![], "nothing to import"),
        (
            vec![good],
            vec!["--service", "no-such-service"],
            "no-such-service",
        ),
    ];
    for (files, extra, needle) in cases {
        let o = bin()
            .arg("import")
            .args(&files)
            .args(&extra)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{files:?}: {err}");
        assert!(err.contains(needle), "{files:?}: {err}");
        assert!(!err.contains("panicked"));
        assert!(!out.exists(), "{files:?}: output written despite the error");
    }
}

/// Acceptance 2: the Argo canary of tests/manifests/argo-rollout-canary.yaml, imported,
/// and the same rollout written by hand from Argo's documented meaning of each field
/// give identical runs.csv files.
#[test]
fn imported_argo_canary_equals_the_hand_written_one() {
    let dir = scratch("gates_import_equal");
    let manifest =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/manifests/argo-rollout-canary.yaml");
    let imported = dir.join("imported.toml");
    let o = bin()
        .arg("import")
        .arg(&manifest)
        .arg("-o")
        .arg(&imported)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // By hand: spec.replicas 10; terminationGracePeriodSeconds 45; readinessProbe
    // periodSeconds 3 and failureThreshold 2, the rest Kubernetes defaults (timeout 1 s,
    // no initial delay, success threshold 1); canary with a traffic router (nginx),
    // maxSurge 20%, maxUnavailable 0, scaleDownDelaySeconds 20,
    // abortScaleDownDelaySeconds 60; steps setWeight 10, pause 90 s, setWeight 30,
    // pause without duration, an analysis step, setCanaryScale 3 replicas, setWeight
    // 60, pause 1 h. An analysis failure aborts the rollout: automatic rollback.
    let hand = write(
        &dir,
        "hand.toml",
        r#"
name = "checkout"
description = "written by hand"

[service]
replicas = 10
termination_grace = "45s"
readiness = { period = "3s", timeout = "1s", initial_delay = "0s", failure_threshold = 2, success_threshold = 1 }

[[strategy]]
name = "canary"
kind = "canary"
traffic_routing = true
max_surge = "20%"
max_unavailable = 0
scale_down_delay = "20s"
abort_scale_down_delay = "60s"
steps = [ { set_weight = 10 }, { pause = "90s" }, { set_weight = 30 }, { pause = {} },
          { analysis = true }, { set_canary_scale = 3 }, { set_weight = 60 }, { pause = "1h" } ]
rollback = "auto"
"#,
    );
    let runs = |file: &Path, out: &str| -> Vec<u8> {
        let d = dir.join(out);
        let o = bin()
            .arg("run")
            .arg(file)
            .args([
                "--seeds",
                "8",
                "--strategy",
                "canary",
                "--quiet",
                "--format",
                "none",
                "--out",
            ])
            .arg(&d)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read(d.join("runs.csv")).unwrap()
    };
    let a = runs(&imported, "a");
    let b = runs(&hand, "b");
    assert!(a.len() > 500);
    assert!(a == b, "imported and hand-written runs.csv differ");
}

/// examples/ci: the gates file appended to an imported manifest (what both CI jobs do)
/// validates, and `check` runs on it and writes JUnit.
#[test]
fn ci_example_gates_apply_to_an_imported_manifest() {
    let dir = scratch("gates_ci_example");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for job in [
        "examples/ci/github-actions.yml",
        "examples/ci/gitlab-ci.yml",
    ] {
        let text = std::fs::read_to_string(root.join(job)).unwrap();
        for needle in ["deploysim import", " -o ", "deploysim check", "--junit"] {
            assert!(text.contains(needle), "{job} lacks {needle:?}");
        }
    }
    let scenario = dir.join("web.toml");
    let o = bin()
        .arg("import")
        .arg(root.join("tests/manifests/argo-rollout-canary.yaml"))
        .arg("-o")
        .arg(&scenario)
        .output()
        .unwrap();
    assert!(o.status.success());
    let mut text = std::fs::read_to_string(&scenario).unwrap();
    text.push_str(&std::fs::read_to_string(root.join("examples/ci/web-gates.toml")).unwrap());
    std::fs::write(&scenario, text).unwrap();
    let junit = dir.join("junit.xml");
    let o = bin()
        .arg("check")
        .arg(&scenario)
        .args(["--seeds", "30", "--junit"])
        .arg(&junit)
        .output()
        .unwrap();
    let code = o.status.code();
    assert!(
        code == Some(0) || code == Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase").count(), 3, "{xml}");
}

/// A scenario without gates is a usage error (not an empty pass), and a rate gate
/// written as a percentage (`max = 5` meaning 5%) is refused instead of passing every run.
#[test]
fn check_without_gates_and_percent_rate_bounds_are_refused() {
    let dir = scratch("gates_refused");
    let no_gates = write(&dir, "none.toml", crate::default_toml());
    let junit = dir.join("junit.xml");
    let o = bin()
        .arg("check")
        .arg(&no_gates)
        .args(["--seeds", "2", "--junit"])
        .arg(&junit)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no [[expect]] gates"));
    assert!(
        !junit.exists(),
        "no JUnit file for a check that checked nothing"
    );
    for (metric, stat) in [("p_outage", "rate"), ("blast_radius", "mean")] {
        let text = format!(
            "{}\n[[expect]]\nstrategy = \"rolling\"\nmetric = \"{metric}\"\nstat = \"{stat}\"\nmax = 5\n",
            crate::default_toml()
        );
        let f = write(&dir, "pct.toml", &text);
        let o = bin().arg("validate").arg(&f).output().unwrap();
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{metric}: {e}");
        assert!(e.contains("max") && e.contains("0.05"), "{metric}: {e}");
    }
}
