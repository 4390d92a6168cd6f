//! Import tests: hand-written manifests in the shapes the projects document, checked
//! field by field on the parsed output, plus bad input that must fail cleanly.

use super::{ImportError, Imported, import};

/// Stand-in for `crate::scenario::DEFAULT_TOML` (the DESIGN §3 example).
const DEFAULT: &str = crate::scenario::DEFAULT_TOML;

const CANARY: &[u8] = include_bytes!("../../tests/manifests/argo-rollout-canary.yaml");
const BLUE_GREEN: &[u8] = include_bytes!("../../tests/manifests/argo-rollout-bluegreen.yaml");
const FLAGGER: &[u8] = include_bytes!("../../tests/manifests/flagger-canary.yaml");
const FLAGGER_AB: &[u8] = include_bytes!("../../tests/manifests/flagger-ab.yaml");
const FLAGGER_BG: &[u8] = include_bytes!("../../tests/manifests/flagger-bluegreen.yaml");
const DEPLOYMENT: &[u8] = include_bytes!("../../tests/manifests/k8s-deployment.yaml");
const COMPOSE: &[u8] = include_bytes!("../../tests/manifests/compose.yaml");

fn run(files: &[(&str, &[u8])], service: Option<&str>) -> Result<Imported, ImportError> {
    let files: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(n, b)| (n.to_string(), b.to_vec()))
        .collect();
    import(&files, service, DEFAULT)
}

/// Imports one file and parses the scenario it produced.
fn one(name: &str, bytes: &[u8]) -> (toml::Value, Imported) {
    let imported = run(&[(name, bytes)], None).unwrap_or_else(|e| panic!("{name}: {e}"));
    let value: toml::Value = toml::from_str(&imported.toml)
        .unwrap_or_else(|e| panic!("output is not TOML: {e}\n{}", imported.toml));
    // DESIGN.md §2: the imported scenario is complete and validates.
    if let Err(e) = crate::scenario::parse(&imported.toml, name) {
        panic!(
            "{name}: the imported scenario does not validate:\n{e}\n{}",
            imported.toml
        );
    }
    (value, imported)
}

/// The value at a path like `strategy[0].steps[1].pause` or `service.readiness.period`.
fn at<'v>(v: &'v toml::Value, path: &str) -> &'v toml::Value {
    let mut cur = v;
    for part in path.split('.') {
        let (key, index) = match part.split_once('[') {
            Some((k, i)) => (k, Some(i.trim_end_matches(']').parse::<usize>().unwrap())),
            None => (part, None),
        };
        cur = cur
            .get(key)
            .unwrap_or_else(|| panic!("no key {key:?} in path {path}"));
        if let Some(i) = index {
            cur = cur
                .get(i)
                .unwrap_or_else(|| panic!("no index {i} in path {path}"));
        }
    }
    cur
}

/// Checks `(path, expected)` rows; expected as TOML text (`5`, `"2m"`, `true`).
fn check(v: &toml::Value, rows: &[(&str, &str)]) {
    for (path, expected) in rows {
        let expected: toml::Value = toml::from_str::<toml::Table>(&format!("x = {expected}"))
            .unwrap()
            .remove("x")
            .unwrap();
        assert_eq!(at(v, path), &expected, "{path}");
    }
}

fn strategies(v: &toml::Value) -> Vec<String> {
    at(v, "strategy")
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

fn has_warning(imported: &Imported, needle: &str) -> bool {
    imported.warnings.iter().any(|w| w.contains(needle))
}

#[test]
fn argo_canary_steps_and_settings() {
    let (v, imported) = one("rollout-canary.yaml", CANARY);
    assert_eq!(strategies(&v), ["canary", "none"]);
    check(
        &v,
        &[
            ("name", r#""checkout""#),
            ("service.replicas", "10"),
            ("service.termination_grace", r#""45s""#),
            ("service.readiness.period", r#""3s""#),
            ("service.readiness.failure_threshold", "2"),
            ("service.readiness.timeout", r#""1s""#),
            ("strategy[0].kind", r#""canary""#),
            ("strategy[0].traffic_routing", "true"),
            ("strategy[0].max_surge", r#""20%""#),
            ("strategy[0].max_unavailable", "0"),
            ("strategy[0].abort_scale_down_delay", r#""1m""#),
            ("strategy[0].scale_down_delay", r#""20s""#),
            ("strategy[0].rollback", r#""auto""#),
            ("strategy[0].steps[0].set_weight", "10"),
            ("strategy[0].steps[1].pause", r#""1m30s""#),
            ("strategy[0].steps[2].set_weight", "30"),
            ("strategy[0].steps[3].pause", "{}"),
            ("strategy[0].steps[4].analysis", "true"),
            ("strategy[0].steps[5].set_canary_scale", "3"),
            ("strategy[0].steps[6].set_weight", "60"),
            ("strategy[0].steps[7].pause", r#""1h""#),
            ("strategy[1].kind", r#""none""#),
        ],
    );
    assert_eq!(at(&v, "strategy[0].steps").as_array().unwrap().len(), 8);
    let text = &imported.toml;
    assert!(text.contains(
        r#"max_surge = "20%"   # from rollout-canary.yaml: spec.strategy.canary.maxSurge"#
    ));
    assert!(text.contains(
        "{ set_weight = 10 },   # from rollout-canary.yaml: spec.strategy.canary.steps[0].setWeight"
    ));
    assert!(
        text.contains("# from rollout-canary.yaml: spec.strategy.canary.steps[1].pause.duration")
    );
    assert!(text.contains("replicas = 10   # from rollout-canary.yaml: spec.replicas"));
    // Untouched parts of the default survive, with their comments.
    assert!(text.contains("bad_probability = 0.15    # chance the new version is faulty"));
    assert!(has_warning(
        &imported,
        "spec.strategy.canary.steps[4].analysis"
    ));
}

#[test]
fn argo_canary_without_router_or_analysis_is_manual_and_pod_weighted() {
    let yaml = b"apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: a}\n\
spec:\n  replicas: 4\n  strategy:\n    canary:\n      steps:\n      - setWeight: 50\n      - pause: {duration: 30s}\n      - experiment: {duration: 1m}\n";
    let (v, imported) = one("r.yaml", yaml);
    check(
        &v,
        &[
            ("strategy[0].traffic_routing", "false"),
            ("strategy[0].rollback", r#""manual""#),
            ("strategy[0].steps[1].pause", r#""30s""#),
        ],
    );
    assert_eq!(at(&v, "strategy[0].steps").as_array().unwrap().len(), 2);
    assert!(has_warning(
        &imported,
        "spec.strategy.canary.steps[2].experiment"
    ));
}

/// `abortScaleDownDelaySeconds` of a blueGreen strategy maps too; 0 keeps Argo's
/// "never scale down", which the scenario's "0s" means.
#[test]
fn argo_blue_green_abort_scale_down_delay() {
    let yaml = b"apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: a}\n\
spec:\n  replicas: 4\n  strategy:\n    blueGreen:\n      activeService: a\n      abortScaleDownDelaySeconds: 0\n";
    let (v, imported) = one("r.yaml", yaml);
    check(&v, &[("strategy[0].abort_scale_down_delay", r#""0s""#)]);
    assert!(imported.toml.contains("never scaled down"));
    let parsed = crate::scenario::parse(&imported.toml, "r.toml").unwrap();
    let crate::scenario::StrategyKind::BlueGreen(p) = &parsed.scenario.strategies[0].kind else {
        panic!("not blue/green");
    };
    assert_eq!(p.abort_scale_down_delay, None);
}

#[test]
fn argo_blue_green() {
    let (v, imported) = one("rollout-bluegreen.yaml", BLUE_GREEN);
    assert_eq!(strategies(&v), ["blue-green", "none"]);
    check(
        &v,
        &[
            ("name", r#""storefront""#),
            ("service.replicas", "6"),
            ("service.readiness.period", r#""2s""#),
            ("service.readiness.initial_delay", r#""5s""#),
            ("strategy[0].kind", r#""blue_green""#),
            ("strategy[0].auto_promote", "true"),
            ("strategy[0].preview_duration", r#""2m""#),
            ("strategy[0].scale_down_delay", r#""1m30s""#),
            ("strategy[0].rollback", r#""auto""#),
        ],
    );
    assert!(has_warning(
        &imported,
        "spec.strategy.blueGreen.previewReplicaCount"
    ));
    assert!(has_warning(
        &imported,
        "spec.strategy.blueGreen.prePromotionAnalysis"
    ));
    assert!(
        imported.toml.contains(
            "# from rollout-bluegreen.yaml: spec.strategy.blueGreen.autoPromotionSeconds"
        )
    );
}

#[test]
fn flagger_canary_with_its_deployment_and_metrics() {
    let (v, imported) = one("flagger-canary.yaml", FLAGGER);
    assert_eq!(strategies(&v), ["flagger", "none"]);
    check(
        &v,
        &[
            ("name", r#""podinfo""#),
            ("service.replicas", "4"),
            ("service.readiness.initial_delay", r#""5s""#),
            ("service.readiness.timeout", r#""5s""#),
            ("service.readiness.period", r#""10s""#),
            ("strategy[0].kind", r#""flagger""#),
            ("strategy[0].interval", r#""1m""#),
            ("strategy[0].threshold", "5"),
            ("strategy[0].max_weight", "50"),
            ("strategy[0].step_weight", "10"),
            ("strategy[0].rollback", r#""auto""#),
            ("monitoring.error_rate_max", "0.01"),
            ("monitoring.latency_p99_max", r#""500ms""#),
            ("monitoring.window", r#""1m""#),
        ],
    );
    assert!(imported.toml.contains(
        "error_rate_max = 0.01   # from flagger-canary.yaml: spec.analysis.metrics[0].thresholdRange.min"
    ));
    assert!(imported.toml.contains(
        "# Kubernetes default (spec.template.spec.containers[0].readinessProbe.periodSeconds absent"
    ));
    assert!(has_warning(&imported, "spec.analysis.webhooks"));
    // The targeted Deployment yields no strategy of its own.
    assert!(has_warning(&imported, "rolled out by Canary podinfo"));
}

#[test]
fn flagger_ab_is_a_share() {
    let (v, imported) = one("flagger-ab.yaml", FLAGGER_AB);
    assert_eq!(strategies(&v), ["flagger-ab", "none"]);
    check(
        &v,
        &[
            ("name", r#""frontend""#),
            ("strategy[0].interval", r#""30s""#),
            ("strategy[0].threshold", "3"),
            (
                "strategy[0].step_weights",
                "[10, 10, 10, 10, 10, 10, 10, 10]",
            ),
            ("strategy[0].max_weight", "10"),
            ("monitoring.error_rate_max", "0.005"),
            ("monitoring.window", r#""30s""#),
        ],
    );
    assert!(at(&v, "strategy[0]").get("iterations").is_none());
    assert!(has_warning(
        &imported,
        "spec.analysis.match: header/cookie matching"
    ));
    // The target Deployment is not among the files: the default service stays.
    check(&v, &[("service.replicas", "20")]);
    assert!(has_warning(
        &imported,
        "spec.targetRef: Deployment frontend is not among"
    ));
}

#[test]
fn flagger_iterations_without_match_is_blue_green() {
    let (v, _) = one("flagger-bluegreen.yaml", FLAGGER_BG);
    assert_eq!(strategies(&v), ["flagger-blue-green", "none"]);
    check(
        &v,
        &[
            ("strategy[0].kind", r#""flagger""#),
            ("strategy[0].iterations", "10"),
            ("strategy[0].interval", r#""1m30s""#),
            ("strategy[0].threshold", "2"),
            ("monitoring.latency_p99_max", r#""250ms""#),
            ("monitoring.window", r#""45s""#),
            ("monitoring.error_rate_max", "0.02"),
        ],
    );
}

#[test]
fn kubernetes_deployment_probes_prestop_and_skipped_service() {
    let (v, imported) = one("k8s-deployment.yaml", DEPLOYMENT);
    assert_eq!(strategies(&v), ["rolling", "none"]);
    check(
        &v,
        &[
            ("name", r#""web""#),
            ("service.replicas", "8"),
            ("service.termination_grace", r#""1m""#),
            ("service.pre_stop", r#""15s""#),
            ("service.readiness.period", r#""5s""#),
            ("service.readiness.timeout", r#""2s""#),
            ("service.readiness.initial_delay", r#""3s""#),
            ("service.readiness.failure_threshold", "4"),
            ("service.readiness.success_threshold", "2"),
            ("strategy[0].kind", r#""rolling""#),
            ("strategy[0].max_surge", "2"),
            ("strategy[0].max_unavailable", r#""10%""#),
            ("strategy[0].min_ready", r#""10s""#),
            ("strategy[0].progress_deadline", r#""5m""#),
            ("strategy[0].rollback", r#""manual""#),
        ],
    );
    assert!(imported.toml.contains(
        r#"pre_stop = "15s"   # from k8s-deployment.yaml: spec.template.spec.containers[0].lifecycle.preStop.exec.command"#
    ));
    assert!(imported.toml.contains(
        r#"readiness.success_threshold = 2   # from k8s-deployment.yaml: spec.template.spec.containers[0].readinessProbe.successThreshold"#
    ));
    assert!(has_warning(&imported, "(document 2): kind \"Service\""));
    assert!(has_warning(
        &imported,
        "k8s-deployment.yaml (document 1): spec.template.spec.containers[0].livenessProbe"
    ));
}

#[test]
fn recreate_and_prestop_sleep_action() {
    let yaml = br#"{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "j"},
 "spec": {"replicas": 3, "strategy": {"type": "Recreate"},
  "template": {"spec": {"containers": [{"name": "j", "image": "x",
    "lifecycle": {"preStop": {"sleep": {"seconds": 7}}}}]}}}}"#;
    let (v, _) = one("deploy.json", yaml);
    assert_eq!(strategies(&v), ["recreate", "none"]);
    check(
        &v,
        &[
            ("service.replicas", "3"),
            ("service.pre_stop", r#""7s""#),
            ("strategy[0].kind", r#""recreate""#),
        ],
    );
}

#[test]
fn compose_swarm_deploy() {
    let (v, imported) = one("compose.yaml", COMPOSE);
    assert_eq!(strategies(&v), ["swarm", "none"]);
    check(
        &v,
        &[
            ("name", r#""api""#),
            ("service.replicas", "6"),
            ("service.termination_grace", r#""20s""#),
            ("service.readiness.period", r#""10s""#),
            ("service.readiness.timeout", r#""3s""#),
            ("service.readiness.failure_threshold", "5"),
            ("service.readiness.initial_delay", r#""1m30s""#),
            ("service.readiness.success_threshold", "1"),
            ("service.restart_backoff.initial", r#""5s""#),
            ("service.restart_backoff.max", r#""5s""#),
            ("strategy[0].kind", r#""swarm""#),
            ("strategy[0].parallelism", "2"),
            ("strategy[0].delay", r#""10s""#),
            ("strategy[0].order", r#""start-first""#),
            ("strategy[0].monitor", r#""30s""#),
            ("strategy[0].failure_action", r#""rollback""#),
            ("strategy[0].max_failure_ratio", "0.2"),
        ],
    );
    assert!(imported.toml.contains(
        r#"order = "start-first"   # from compose.yaml: services.api.deploy.update_config.order"#
    ));
    assert!(has_warning(
        &imported,
        "services.api.deploy.rollback_config.parallelism: differs"
    ));
    assert!(!has_warning(&imported, "rollback_config.order"));
    assert!(has_warning(
        &imported,
        "services.api.deploy.restart_policy.max_attempts"
    ));
    assert!(has_warning(&imported, "services.db: no deploy section"));
}

#[test]
fn utf16_with_bom_both_byte_orders() {
    let text = std::str::from_utf8(DEPLOYMENT).unwrap();
    for big_endian in [false, true] {
        let mut bytes = if big_endian {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for unit in text.encode_utf16() {
            let pair = if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            };
            bytes.extend_from_slice(&pair);
        }
        let (v, _) = one("utf16.yaml", &bytes);
        check(
            &v,
            &[("service.replicas", "8"), ("strategy[0].max_surge", "2")],
        );
    }
    let mut utf8_bom = vec![0xEF, 0xBB, 0xBF];
    utf8_bom.extend_from_slice(COMPOSE);
    let (v, _) = one("bom.yaml", &utf8_bom);
    check(&v, &[("service.replicas", "6")]);
}

#[test]
fn several_files_and_service_selection() {
    let files: &[(&str, &[u8])] = &[
        ("k8s-deployment.yaml", DEPLOYMENT),
        ("compose.yaml", COMPOSE),
    ];
    let all = run(files, None).unwrap();
    let v: toml::Value = toml::from_str(&all.toml).unwrap();
    assert_eq!(strategies(&v), ["rolling", "swarm", "none"]);
    assert!(has_warning(&all, "several services imported (web, api)"));
    assert!(has_warning(&all, "service.replicas = 6"));
    check(&v, &[("service.replicas", "8")]);

    let api = run(files, Some("api")).unwrap();
    let v: toml::Value = toml::from_str(&api.toml).unwrap();
    assert_eq!(strategies(&v), ["swarm", "none"]);
    check(&v, &[("name", r#""api""#), ("service.replicas", "6")]);

    let err = run(files, Some("nope")).unwrap_err().to_string();
    assert!(
        err.contains("no service named \"nope\" (found: web, api)"),
        "{err}"
    );
}

#[test]
fn duplicate_strategy_kinds_get_service_suffixes() {
    let a = b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {replicas: 2}\n";
    let b = b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b}\nspec: {replicas: 2}\n";
    let out = run(&[("a.yaml", a), ("b.yaml", b)], None).unwrap();
    let v: toml::Value = toml::from_str(&out.toml).unwrap();
    assert_eq!(strategies(&v), ["rolling-a", "rolling-b", "none"]);
}

/// Bad input: each case fails with a message containing every needle, never a panic.
#[test]
fn bad_input_fails_cleanly() {
    let cases: &[(&str, &[u8], &[&str])] = &[
        (
            "truncated.yaml",
            b"apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: [1, 2\n",
            &["truncated.yaml:", "invalid YAML"],
        ),
        (
            "tabs.yaml",
            b"kind: Deployment\nspec:\n\treplicas: 2\n",
            &["tabs.yaml:3:", "invalid YAML"],
        ),
        (
            "surge.yaml",
            b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\nspec:\n  strategy:\n    rollingUpdate:\n      maxSurge: true\n",
            &["surge.yaml: spec.strategy.rollingUpdate.maxSurge: expected a whole number or a percentage", "found a boolean (true)"],
        ),
        (
            "replicas.yaml",
            b"apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: \"three\"\n",
            &["replicas.yaml: spec.replicas: expected a non-negative whole number, found a string"],
        ),
        (
            "pause.yaml",
            b"apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nspec:\n  strategy:\n    canary:\n      steps:\n      - pause: {duration: 5 minutes}\n",
            &["pause.yaml: spec.strategy.canary.steps[0].pause.duration:", "duration"],
        ),
        (
            "unknown.yaml",
            b"apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: x}\n",
            &["nothing to import", "kind \"CronJob\""],
        ),
        ("empty.yaml", b"", &["empty.yaml: empty"]),
        ("comments.yaml", b"# nothing here\n---\n", &["comments.yaml: empty"]),
        (
            "garbage.bin",
            &[0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x00, 0xFF, 0xFE, 0x00, 0x9C],
            &["garbage.bin:", "binary"],
        ),
        ("nul.yaml", b"kind: \x00Deployment\n", &["nul.yaml:", "binary"]),
        ("odd.yaml", &[0xFF, 0xFE, 0x41], &["odd.yaml: UTF-16 LE: odd number of bytes"]),
        (
            "bad.json",
            b"{\"kind\": \"Deployment\",\n \"spec\": {\"replicas\": 2,}}",
            &["bad.json:2:", "invalid JSON"],
        ),
        (
            "weight.yaml",
            b"apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nspec:\n  strategy:\n    canary:\n      steps:\n      - setWeight: 150\n",
            &["spec.strategy.canary.steps[0].setWeight: weight 150 is above 100"],
        ),
        (
            "order.yaml",
            b"services:\n  a:\n    deploy:\n      update_config: {order: sideways}\n",
            &["order.yaml: services.a.deploy.update_config.order: unknown order \"sideways\""],
        ),
        ("scalar.yaml", b"just a string\n", &["nothing to import", "a top-level scalar"]),
        (
            "second.yaml",
            b"kind: Service\napiVersion: v1\n---\napiVersion: apps/v1\nkind: Deployment\nspec: {minReadySeconds: -3}\n",
            &["second.yaml (document 2): spec.minReadySeconds: expected a non-negative whole number, found a number (-3)"],
        ),
    ];
    for (name, bytes, needles) in cases {
        let result = std::panic::catch_unwind(|| run(&[(name, bytes)], None));
        let result = result.unwrap_or_else(|_| panic!("{name}: panicked"));
        let err = match result {
            Err(e) => e.to_string(),
            Ok(out) => panic!("{name}: expected an error, got\n{}", out.toml),
        };
        for needle in *needles {
            assert!(err.contains(needle), "{name}: {err:?} lacks {needle:?}");
        }
    }
}

#[test]
fn yaml_errors_name_line_and_column() {
    let err = run(&[("t.yaml", b"a: 1\nb: [1, 2\nc: 3\n")], None).unwrap_err();
    match err {
        ImportError::Syntax {
            file, line, column, ..
        } => {
            assert_eq!(file, "t.yaml");
            assert!(line >= 2 && column >= 1, "{line}:{column}");
        }
        other => panic!("expected a syntax error, got {other}"),
    }
}

#[test]
fn description_names_the_sources() {
    let (v, _) = one("k8s-deployment.yaml", DEPLOYMENT);
    check(
        &v,
        &[("description", r#""web imported from k8s-deployment.yaml""#)],
    );
}
