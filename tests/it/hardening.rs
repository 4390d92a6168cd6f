//! Issue 19: the fuzz and extreme-value audit. Each test is named after the defect it
//! pins: memory or work sized by a user-controlled number, silent integer wraps in
//! `import`, the toml parser's stack overflow, quadratic validation and `report` on a
//! damaged results directory. Each runs the real binary or the library and checks the
//! message names the key, field or file and line.

use std::path::Path;
use std::time::Duration;

use crate::{bin, default_toml, scratch, write};
use deploysim::world::UserTable;

/// The default scenario with `key = ...` lines replaced (the first line starting with
/// `key =`), as `(key, new value)` pairs.
fn with(pairs: &[(&str, &str)]) -> String {
    let mut text = default_toml().to_string();
    for (key, value) in pairs {
        let start = text
            .lines()
            .find(|l| l.starts_with(&format!("{key} =")))
            .unwrap_or_else(|| panic!("default.toml has no line `{key} =`"))
            .to_string();
        text = text.replacen(&start, &format!("{key} = {value}"), 1);
    }
    text
}

/// `deploysim ARGS`, killed after `secs` (a hang fails the test instead of stalling it).
fn deploysim(args: &[&str], secs: u64) -> std::process::Output {
    let mut cmd = assert_cmd::Command::from_std(bin());
    cmd.args(args).timeout(Duration::from_secs(secs));
    let out = cmd.output().expect("run deploysim");
    assert!(
        out.status.code().is_some(),
        "deploysim {args:?} was killed (hang past {secs} s or a signal): {out:?}"
    );
    out
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `validate` on `text`: exit code and stderr.
fn validate(dir: &Path, name: &str, text: &str) -> (i32, String) {
    let file = write(dir, name, text);
    let out = deploysim(&["validate", &file.display().to_string()], 60);
    (out.status.code().unwrap_or(-1), stderr(&out))
}

/// Refused with exit 2, naming `key`, its line and `needle`.
fn assert_refused(name: &str, text: &str, key: &str, needle: &str) {
    let dir = scratch(&format!("hardening-{name}"));
    let (code, err) = validate(&dir, &format!("{name}.toml"), text);
    assert_eq!(code, 2, "{name}: {err}");
    assert!(
        err.contains(&format!(": {key}: ")),
        "{name}: key {key}: {err}"
    );
    assert!(err.contains(needle), "{name}: {needle:?}: {err}");
    assert!(
        err.contains(&format!("{name}.toml:")),
        "{name}: no line: {err}"
    );
}

#[test]
fn duration_27777777h_allocating_800_gb_is_refused() {
    assert_refused(
        "duration",
        &with(&[("duration", "\"27777777h\"")]),
        "duration",
        "above the limit of 720h",
    );
}

#[test]
fn a_latency_rule_limits_the_duration_to_72h() {
    // 1,664 bytes per simulated second: 4 GB at 30 days.
    let text = with(&[("duration", "\"100h\""), ("latency_p99_max", "\"500ms\"")]);
    assert_refused("latency-horizon", &text, "duration", "latency rule");
}

#[test]
fn users_4294967295_allocating_34_gb_is_refused() {
    assert_refused(
        "users",
        &with(&[("users", "4294967295")]),
        "traffic.users",
        "above the limit of 10000000",
    );
}

#[test]
fn retries_with_zero_backoff_are_refused() {
    assert_refused(
        "zero-backoff",
        &with(&[("retries", "3"), ("retry_backoff", "\"0s\"")]),
        "traffic.retry_backoff",
        "below the floor of 1ms",
    );
}

#[test]
fn retries_above_the_cap_are_refused_before_the_attempt_counter_wraps() {
    // The attempt number is a u8: 256 retries wrapped it to 0 and retried forever.
    assert_refused(
        "retries",
        &with(&[("retries", "256")]),
        "traffic.retries",
        "above the limit of 10",
    );
}

#[test]
fn swarm_parallelism_4294967295_allocating_a_worker_each_is_refused() {
    assert_refused(
        "parallelism",
        &with(&[("parallelism", "4294967295")]),
        "strategy[1].parallelism",
        "above the limit of 10000",
    );
}

#[test]
fn set_canary_scale_4294967295_creating_a_pod_each_is_refused() {
    let text = default_toml().replacen(
        "steps = [ { set_weight = 5 }",
        "steps = [ { set_canary_scale = 4294967295 }, { set_weight = 5 }",
        1,
    );
    assert_refused(
        "canary-scale",
        &text,
        "strategy[3].steps[0].set_canary_scale",
        "above the limit of 10000",
    );
}

#[test]
fn queues_that_could_hold_more_than_1e8_requests_are_refused() {
    // 200 x (4 workers + 1,000,000 queued) = 200,000,800 requests at ~32 bytes each.
    let text = with(&[
        ("replicas", "200"),
        ("nodes", "50"),
        ("queue_limit", "1000000"),
    ]);
    assert_refused(
        "held",
        &text,
        "service.queue_limit",
        "= 200000800 requests held at once is above the limit of 100000000",
    );
}

#[test]
fn readiness_period_1us_is_refused() {
    let text = with(&[(
        "readiness",
        "{ period = \"1us\", timeout = \"1s\", initial_delay = \"0s\", failure_threshold = 3, success_threshold = 1 }",
    )]);
    assert_refused(
        "probe-period",
        &text,
        "service.readiness.period",
        "below the floor of 1s",
    );
}

#[test]
fn monitoring_interval_1us_is_refused() {
    assert_refused(
        "interval",
        &with(&[("interval", "\"1us\"")]),
        "monitoring.interval",
        "below the floor of 1s",
    );
}

#[test]
fn node_mtbf_1us_is_refused() {
    assert_refused(
        "mtbf",
        &with(&[("node_mtbf", "\"1us\"")]),
        "cluster.node_mtbf",
        "below the floor of 1s",
    );
}

#[test]
fn rate_1e6_at_request_level_warns_with_the_request_count_and_points_to_fluid() {
    let dir = scratch("hardening-rate-warn");
    let (code, err) = validate(&dir, "r.toml", &with(&[("rate", "1e6")]));
    assert_eq!(code, 0, "{err}");
    // 10^6 req/s over the 30-minute horizon: 1.8e9 requests.
    assert!(err.contains("1.8e9 requests"), "{err}");
    assert!(err.contains("--fidelity fluid"), "{err}");
}

#[test]
fn rate_1e6_for_30_days_at_request_level_is_refused_but_fluid_is_not() {
    // 10^6 × 30 × 86,400 = 2.6e12 requests: past the 1e10 cap.
    let text = with(&[("rate", "1e6"), ("duration", "\"720h\"")]);
    assert_refused("rate-30d", &text, "duration", "2.6e12 requests");
    assert_refused("rate-30d", &text, "duration", "set fidelity = \"fluid\"");
    let parsed =
        deploysim::scenario::parse_as(&text, "x.toml", Some(deploysim::scenario::Fidelity::Fluid));
    assert!(parsed.is_ok(), "{:?}", parsed.err());
}

#[test]
fn replicas_5000_warn_about_the_scheduling_cost() {
    let dir = scratch("hardening-5000");
    let text = with(&[("replicas", "5000"), ("nodes", "2500")]);
    let (code, err) = validate(&dir, "r.toml", &text);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("5000 replicas on 2500 nodes"), "{err}");
}

#[test]
fn max_surge_4294967276_no_longer_stalls_a_20_replica_rolling_update() {
    // replicas + surge wrapped around u32 and the new ReplicaSet was never scaled up.
    // Any surge of at least the 20 replicas means "all new pods at once": the run
    // must be exactly the run with max_surge = 20.
    let healthy = default_toml().replacen("bad_probability = 0.15", "bad_probability = 0.0", 1);
    let run = |surge: &str| {
        let sc = crate::parse(&healthy.replacen("max_surge = \"25%\"", surge, 1));
        let users = UserTable::new(&sc.traffic);
        deploysim::runner::run(&sc, &users, &sc.strategies[0], 1, false).row
    };
    let huge = run("max_surge = 4294967276");
    assert_eq!(huge.outcome.name(), "completed", "{huge:?}");
    assert_eq!(huge, run("max_surge = 20"));
}

#[test]
fn toml_stack_overflow_after_a_syntax_error_is_a_clean_error() {
    // The audit's file: exit 134 (stack overflow) before.
    let n = 10_000;
    let text = format!(
        "a = [{{ b = 1 ,{}]\nx = {}1{}\n",
        "{ b = 1 },".repeat(n),
        "{ a = ".repeat(n),
        " }".repeat(n)
    );
    let dir = scratch("hardening-so");
    let (code, err) = validate(&dir, "so.toml", &text);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("nested deeper than 64 levels"), "{err}");
    assert!(err.contains("so.toml:2:"), "{err}");
}

#[test]
fn a_20000_deep_inline_table_stays_refused() {
    let d = 20_000;
    let text = format!("x = {}1{}\n", "{ a = ".repeat(d), " }".repeat(d));
    let dir = scratch("hardening-deep");
    let (code, err) = validate(&dir, "deep.toml", &text);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("deep.toml"), "{err}");
}

#[test]
fn validate_is_linear_in_the_number_of_strategies() {
    // 100,000 strategies took 79 s (every name compared with every earlier one); the
    // duplicate at the end must still be found, naming the first use.
    let n = 100_000;
    let mut text = String::from("name = \"many\"\n");
    for i in 0..n {
        text.push_str(&format!("[[strategy]]\nname = \"s{i}\"\nkind = \"none\"\n"));
    }
    text.push_str("[[strategy]]\nname = \"s7\"\nkind = \"none\"\n");
    let dir = scratch("hardening-many");
    let file = write(&dir, "many.toml", &text);
    let out = deploysim(&["validate", &file.display().to_string()], 30);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("strategy[{n}].name")) && err.contains("already used by strategy[7]"),
        "{err}"
    );
}

// ------------------------------------------------------------------------- import

/// `deploysim import FILE`: (exit code, stdout, stderr).
fn import(name: &str, yaml: &str) -> (i32, String, String) {
    let dir = scratch(&format!("hardening-import-{name}"));
    let file = write(&dir, &format!("{name}.yaml"), yaml);
    let out = deploysim(&["import", &file.display().to_string()], 60);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr(&out),
    )
}

fn assert_import_error(name: &str, yaml: &str, field: &str, needle: &str) {
    let (code, out, err) = import(name, yaml);
    assert_eq!(code, 2, "{name}: {err}");
    assert!(out.is_empty(), "{name}: wrote {out}");
    assert!(
        err.contains(&format!("{name}.yaml")) && err.contains(field),
        "{name}: {field}: {err}"
    );
    assert!(err.contains(needle), "{name}: {needle:?}: {err}");
    assert!(!err.contains("please report"), "{name}: {err}");
}

const FLAGGER_LIST: &str = "\
apiVersion: v1
kind: List
items:
- apiVersion: flagger.app/v1beta1
  kind: Canary
  metadata: {name: web}
  spec:
    targetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
    analysis:
      interval: 1m
      iterations: ITER
      match: [{headers: {x-canary: {exact: \"1\"}}}]
      metrics:
      - name: request-duration
        interval: 1m
        thresholdRange: {max: MAX}
";

#[test]
fn flagger_iterations_4294967295_in_a_list_is_an_import_error() {
    // Each A/B iteration became a step weight: 11.8 GB before.
    let yaml = FLAGGER_LIST
        .replace("ITER", "4294967295")
        .replace("MAX", "500");
    assert_import_error(
        "iterations",
        &yaml,
        "spec.analysis.iterations",
        "above the limit of 10000",
    );
}

#[test]
fn flagger_request_duration_18446744073709552_does_not_wrap_to_384us() {
    let yaml = FLAGGER_LIST
        .replace("ITER", "10")
        .replace("MAX", "18446744073709552");
    assert_import_error(
        "latency",
        &yaml,
        "spec.analysis.metrics[0].thresholdRange.max",
        "not a latency in milliseconds",
    );
}

#[test]
fn argo_pause_duration_18446744073710_does_not_wrap_to_448384us() {
    let yaml = "\
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  replicas: 4
  strategy:
    canary:
      steps: [{setWeight: 20}, {pause: {duration: \"18446744073710\"}}]
";
    assert_import_error(
        "pause",
        yaml,
        "spec.strategy.canary.steps[1].pause.duration",
        "too long",
    );
}

#[test]
fn import_sizes_the_cluster_for_49_blue_green_replicas() {
    // 49 replicas did not fit the default 12 nodes x 4 slots; blue/green runs a second
    // stack: 98 pods need ceil(98 / 4) = 25 nodes.
    let yaml = "\
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  replicas: 49
  strategy:
    blueGreen: {activeService: web, previewService: web-preview}
";
    let (code, out, err) = import("bluegreen49", yaml);
    assert_eq!(code, 0, "{err}");
    let sc = crate::parse(&out);
    assert_eq!(sc.service.replicas, 49);
    assert_eq!((sc.cluster.nodes, sc.cluster.pods_per_node), (25, 4));
}

#[test]
fn import_sizes_the_cluster_for_a_rolling_surge_only() {
    // 60 replicas, maxSurge 25%: 60 + 15 = 75 pods, ceil(75 / 4) = 19 nodes.
    let yaml = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 60
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 25%, maxUnavailable: 0}}
";
    let (code, out, err) = import("rolling60", yaml);
    assert_eq!(code, 0, "{err}");
    assert_eq!(crate::parse(&out).cluster.nodes, 19);
}

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: NAME}
spec:
  replicas: REPLICAS
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: SURGE, maxUnavailable: UNAVAILABLE}}
";

fn deployment(name: &str, replicas: &str, surge: &str, unavailable: &str) -> String {
    DEPLOYMENT
        .replace("NAME", name)
        .replace("REPLICAS", replicas)
        .replace("SURGE", surge)
        .replace("UNAVAILABLE", unavailable)
}

#[test]
fn an_empty_metadata_name_is_an_import_error() {
    assert_import_error(
        "emptyname",
        &deployment("\"\"", "3", "1", "0"),
        "metadata.name",
        "empty name",
    );
}

#[test]
fn zero_replicas_is_an_import_error() {
    assert_import_error(
        "zeroreplicas",
        &deployment("web", "0", "1", "0"),
        "spec.replicas",
        "0 replicas",
    );
}

#[test]
fn max_surge_and_max_unavailable_both_0_is_an_import_error() {
    assert_import_error(
        "bothzero",
        &deployment("web", "3", "0", "\"0%\""),
        "spec.strategy.rollingUpdate.maxSurge",
        "both 0",
    );
}

#[test]
fn an_unrunnable_probe_period_is_an_import_error_naming_the_field() {
    let yaml = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  template:
    spec:
      containers:
      - name: c
        readinessProbe: {periodSeconds: 0, httpGet: {path: /}}
";
    assert_import_error(
        "period0",
        yaml,
        "spec.template.spec.containers[0].readinessProbe.periodSeconds",
        "service.readiness.period",
    );
}

#[test]
fn a_yaml_alias_bomb_stays_refused() {
    let mut yaml = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        yaml.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let (code, _, err) = import("bomb", &yaml);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bomb.yaml"), "{err}");
}

// ------------------------------------------------------------------------- report

/// A results directory of a real 2-seed run, its plots and page removed.
fn results(name: &str) -> std::path::PathBuf {
    let dir = scratch(&format!("hardening-report-{name}"));
    let scenario = write(
        &dir,
        "s.toml",
        &with(&[("duration", "\"5m\"")]).replacen(
            "bad_probability = 0.15",
            "bad_probability = 0.5",
            1,
        ),
    );
    let out = dir.join("out");
    let run = deploysim(
        &[
            "run",
            &scenario.display().to_string(),
            "--seeds",
            "2",
            "--strategy",
            "rolling",
            "--out",
            &out.display().to_string(),
        ],
        120,
    );
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    for entry in std::fs::read_dir(&out).expect("results dir") {
        let path = entry.expect("entry").path();
        let ext = path.extension().and_then(|e| e.to_str());
        if matches!(ext, Some("svg" | "html")) {
            std::fs::remove_file(&path).expect("remove output");
        }
    }
    out
}

/// `report DIR` after `damage`: exit 2, `needle` in the message, nothing written.
fn assert_report_refuses(name: &str, damage: impl FnOnce(&Path), needle: &str) {
    let dir = results(name);
    damage(&dir);
    let before: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    let out = deploysim(&["report", &dir.display().to_string()], 60);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{name}: {err}");
    assert!(err.contains(needle), "{name}: {needle:?}: {err}");
    let after: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(before, after, "{name}: report wrote files");
}

fn edit_runs(dir: &Path, f: impl FnOnce(String) -> String) {
    let path = dir.join("runs.csv");
    let text = std::fs::read_to_string(&path).expect("runs.csv");
    std::fs::write(&path, f(text)).expect("write runs.csv");
}

/// Replaces the cell of `column` on data row 1 (line 2).
fn set_cell(text: String, column: &str, value: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let i = lines[0]
        .split(',')
        .position(|h| h == column)
        .unwrap_or_else(|| panic!("no column {column}"));
    let mut cells: Vec<&str> = lines[1].split(',').collect();
    cells[i] = value;
    lines[1] = cells.join(",");
    lines.join("\n") + "\n"
}

#[test]
fn report_refuses_a_runs_csv_cut_off_mid_row() {
    assert_report_refuses(
        "truncated",
        |d| edit_runs(d, |t| t[..t.len() - 30].to_string()),
        "runs.csv: line 3:",
    );
}

#[test]
fn report_refuses_a_runs_csv_without_the_outcome_column() {
    assert_report_refuses(
        "no-outcome",
        |d| {
            edit_runs(d, |t| {
                let header: Vec<&str> = t.lines().next().expect("header").split(',').collect();
                let i = header
                    .iter()
                    .position(|h| *h == "outcome")
                    .expect("outcome");
                t.lines()
                    .map(|l| {
                        let mut c: Vec<&str> = l.split(',').collect();
                        c.remove(i);
                        c.join(",") + "\n"
                    })
                    .collect()
            })
        },
        "runs.csv: missing column `outcome`",
    );
}

#[test]
fn report_refuses_nan_infinite_and_negative_values() {
    for (i, value) in ["NaN", "inf", "-inf", "-3"].into_iter().enumerate() {
        assert_report_refuses(
            &format!("value{i}"),
            |d| edit_runs(d, |t| set_cell(t, "downtime_s", value)),
            &format!("runs.csv: line 2, column `downtime_s`: `{value}`"),
        );
    }
}

#[test]
fn report_refuses_an_unknown_outcome() {
    assert_report_refuses(
        "outcome",
        |d| edit_runs(d, |t| set_cell(t, "outcome", "exploded")),
        "runs.csv: line 2, column `outcome`: `exploded`",
    );
}

#[test]
fn report_refuses_a_missing_or_malformed_summary_json() {
    assert_report_refuses(
        "no-summary",
        |d| std::fs::remove_file(d.join("summary.json")).expect("remove"),
        "summary.json: missing",
    );
    assert_report_refuses(
        "bad-summary",
        |d| std::fs::write(d.join("summary.json"), "{\"seeds\": [1,").expect("write"),
        "summary.json: not valid JSON",
    );
}
