//! Tests of the scenario format: the default file, every rejection rule, the warnings
//! and the value parsers (data-driven `check` tables).

use super::raw::{parse_duration, parse_percent};
use super::*;
use crate::sim::SimTime;

const MINIMAL: &str = "name = \"m\"\n[[strategy]]\nname = \"r\"\nkind = \"rolling\"\n";

fn ok(text: &str) -> Parsed {
    match parse(text, "t.toml") {
        Ok(p) => p,
        Err(e) => panic!("expected a valid scenario, got:\n{e}"),
    }
}

fn err(text: &str) -> String {
    match parse(text, "t.toml") {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

/// `MINIMAL` with `extra` appended (sections after the strategy are fine in TOML).
fn with(extra: &str) -> String {
    format!("{MINIMAL}{extra}\n")
}

/// The error for `text` names every needle and a line number `line`.
fn check_err(text: &str, needles: &[&str], line: Option<usize>) {
    let msg = err(text);
    assert!(msg.starts_with("error: t.toml: "), "{msg}");
    for n in needles {
        assert!(msg.contains(n), "message lacks {n:?}:\n{msg}");
    }
    if let Some(l) = line {
        assert!(
            msg.contains(&format!("--> t.toml:{l}:")),
            "no line {l}:\n{msg}"
        );
        assert!(msg.contains('^'), "no caret:\n{msg}");
    }
}

#[test]
fn default_matches_the_design_example() {
    let p = ok(DEFAULT_TOML);
    let s = &p.scenario;
    assert_eq!(s.name, "default");
    assert_eq!(
        s.description,
        "20 replicas at 200 req/s; 15% of releases are faulty"
    );
    assert_eq!(s.duration, SimTime::from_secs(1800));
    assert_eq!(s.deploy_at, SimTime::from_secs(60));
    assert_eq!(s.fidelity, Fidelity::Request);
    assert_eq!((s.cluster.nodes, s.cluster.pods_per_node), (12, 4));
    assert_eq!(s.cluster.node_grace, SimTime::from_secs(40));
    assert_eq!(s.service.replicas, 20);
    assert_eq!(s.service.workers, 4);
    assert_eq!(s.service.timeout, SimTime::from_secs(2));
    assert_eq!(
        s.service.service_time,
        Dist::Exponential {
            mean: SimTime::from_millis(40)
        }
    );
    assert_eq!(s.service.readiness.failure_threshold, 3);
    assert_eq!(s.service.restart_backoff.max, SimTime::from_secs(300));
    assert_eq!(s.traffic.rate, 200.0);
    assert_eq!(s.traffic.users, 10_000);
    assert_eq!(s.load_balancer.routing, Routing::RoundRobin);
    assert_eq!(s.release.bad_probability, 0.15);
    assert_eq!(s.release.faults.len(), 7);
    assert_eq!(s.release.faults[0].weight, 4.0);
    assert_eq!(
        s.release.faults[6].fault,
        Fault::Cohort {
            users: 0.1,
            error_rate: 1.0
        }
    );
    assert_eq!(s.slo.success, 0.99);
    assert_eq!(s.monitoring.window, SimTime::from_secs(30));
    let names: Vec<&str> = s.strategies.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "rolling",
            "swarm",
            "blue-green",
            "canary",
            "flagger",
            "recreate",
            "none"
        ]
    );
    let kinds: Vec<&str> = s.strategies.iter().map(|s| s.kind.name()).collect();
    assert_eq!(
        kinds,
        [
            "rolling",
            "swarm",
            "blue_green",
            "canary",
            "flagger",
            "recreate",
            "none"
        ]
    );
    assert_eq!(s.strategies[6], Strategy::none());
    let StrategyKind::Flagger(f) = &s.strategies[4].kind else {
        panic!("strategy[4] is not flagger")
    };
    assert_eq!(
        (
            f.interval,
            f.step_weight,
            f.max_weight,
            f.threshold,
            f.iterations
        ),
        (SimTime::from_secs(60), 10, 50, 2, 0)
    );
    assert_eq!(s.strategies[4].rollback, Rollback::Auto);
    assert_eq!(s.source_text, DEFAULT_TOML);
}

/// Leaving out every optional key gives exactly the values of the default file: the
/// defaults in `defaults.rs` and the example agree, except the two keys the default
/// sets on purpose (issue 13): a preStop sleep longer than the endpoint lag, and a
/// Swarm parallelism that lets the update and a human rollback fit the horizon.
#[test]
fn omitted_keys_take_the_documented_defaults() {
    let text = "name = \"default\"\n\
        description = \"20 replicas at 200 req/s; 15% of releases are faulty\"\n\
        [service]\npre_stop = \"3s\"\n\
        [[strategy]]\nname = \"rolling\"\nkind = \"rolling\"\n\
        [[strategy]]\nname = \"swarm\"\nkind = \"swarm\"\nparallelism = 2\n\
        [[strategy]]\nname = \"blue-green\"\nkind = \"blue_green\"\n\
        [[strategy]]\nname = \"canary\"\nkind = \"canary\"\n\
        [[strategy]]\nname = \"flagger\"\nkind = \"flagger\"\nthreshold = 2\n\
        [[strategy]]\nname = \"recreate\"\nkind = \"recreate\"\n\
        [[strategy]]\nname = \"none\"\nkind = \"none\"\n";
    let mut minimal = ok(text).scenario;
    let full = ok(DEFAULT_TOML).scenario;
    minimal.source_text = full.source_text.clone();
    assert_eq!(minimal, full);
}

#[test]
fn minimal_scenario_parses() {
    let s = ok(MINIMAL).scenario;
    assert_eq!(s.description, "");
    assert_eq!(s.strategies.len(), 1);
    assert_eq!(s.strategies[0].rollback, Rollback::Manual);
    assert!(s.pipeline.is_empty() && s.expects.is_empty());
}

#[test]
fn rollback_defaults_per_kind() {
    let kinds = [
        ("rolling", Rollback::Manual),
        ("swarm", Rollback::Manual),
        ("recreate", Rollback::Manual),
        ("blue_green", Rollback::Auto),
        ("canary", Rollback::Auto),
        ("flagger", Rollback::Auto),
        ("none", Rollback::None),
    ];
    for (kind, expect) in kinds {
        let text = format!("name = \"x\"\n[[strategy]]\nname = \"s\"\nkind = \"{kind}\"\n");
        assert_eq!(ok(&text).scenario.strategies[0].rollback, expect, "{kind}");
    }
}

#[test]
fn flagger_defaults() {
    let text = "name = \"x\"\n[[strategy]]\nname = \"f\"\nkind = \"flagger\"\n";
    let StrategyKind::Flagger(f) = &ok(text).scenario.strategies[0].kind else {
        panic!("not flagger")
    };
    assert_eq!(
        *f,
        FlaggerParams {
            interval: SimTime::from_secs(60),
            step_weights: vec![],
            step_weight: 10,
            max_weight: 50,
            threshold: 5,
            iterations: 0,
        }
    );
}

#[test]
fn durations() {
    fn check(input: &str, expect: Result<u64, &str>) {
        match (parse_duration(input), expect) {
            (Ok(t), Ok(us)) => assert_eq!(t, SimTime::from_micros(us), "{input}"),
            (Err(e), Err(needle)) => assert!(e.contains(needle), "{input}: {e}"),
            (got, want) => panic!("{input}: got {got:?}, want {want:?}"),
        }
    }
    check("0s", Ok(0));
    check("250ms", Ok(250_000));
    check("30s", Ok(30_000_000));
    check("5m", Ok(300_000_000));
    check("1h", Ok(3_600_000_000));
    check("1m30s", Ok(90_000_000));
    check("1h2m3s4ms5us", Ok(3_723_004_005));
    check("1.5s", Ok(1_500_000));
    check("40us", Ok(40));
    check(" 2s ", Ok(2_000_000));
    check("", Err("empty"));
    check("-5s", Err("negative"));
    check("5", Err("needs a unit"));
    check("5x", Err("unknown unit"));
    check("30s1m", Err("largest to smallest"));
    check("1s1s", Err("largest to smallest"));
    check("s", Err("expected a number"));
    check("1..2s", Err("not a number"));
}

#[test]
fn int_or_percent() {
    fn check(input: &str, expect: Option<IntOrPercent>) {
        assert_eq!(parse_percent(input).ok(), expect, "{input}");
    }
    check("25%", Some(IntOrPercent::Percent(25.0)));
    check("0%", Some(IntOrPercent::Percent(0.0)));
    check("12.5%", Some(IntOrPercent::Percent(12.5)));
    check("25", None);
    check("-1%", None);
    check("x%", None);
    // Issue 15: Kubernetes' IntOrString takes no spaces; neither does the scenario.
    check("25 %", None);
    check(" 25%", None);
    check("%", None);

    let surge = |v: &str| {
        let s = ok(&with(&format!("max_surge = {v}"))).scenario;
        let StrategyKind::Rolling(p) = &s.strategies[0].kind else {
            panic!("not rolling")
        };
        p.max_surge
    };
    assert_eq!(surge("3"), IntOrPercent::Count(3));
    assert_eq!(surge("\"25%\""), IntOrPercent::Percent(25.0));
    // Kubernetes rounding: surge up, unavailable down; 25% of 20 is exactly 5.
    assert_eq!(IntOrPercent::Percent(25.0).resolve(20, true), 5);
    assert_eq!(IntOrPercent::Percent(25.0).resolve(10, true), 3);
    assert_eq!(IntOrPercent::Percent(25.0).resolve(10, false), 2);
    assert_eq!(IntOrPercent::Count(7).resolve(10, false), 7);
}

#[test]
fn distributions() {
    let dist = |v: &str| {
        ok(&with(&format!("[service]\nstartup = {v}")))
            .scenario
            .service
            .startup
    };
    let s = SimTime::from_secs;
    assert_eq!(dist("\"5s\""), Dist::Constant(s(5)));
    assert_eq!(
        dist("{ dist = \"constant\", value = \"5s\" }"),
        Dist::Constant(s(5))
    );
    assert_eq!(
        dist("{ dist = \"exponential\", mean = \"3s\" }"),
        Dist::Exponential { mean: s(3) }
    );
    assert_eq!(
        dist("{ dist = \"lognormal\", median = \"20s\", sigma = 0.5 }"),
        Dist::LogNormal {
            median: s(20),
            sigma: 0.5
        }
    );
    assert_eq!(
        dist("{ dist = \"uniform\", min = \"1s\", max = \"3s\" }"),
        Dist::Uniform {
            min: s(1),
            max: s(3)
        }
    );
}

#[test]
fn canary_steps() {
    let text = MINIMAL.replace(
        "kind = \"rolling\"",
        "kind = \"canary\"\nsteps = [ { set_weight = 10 }, { pause = \"2m\" }, { pause = {} },\n\
         { analysis = true }, { set_canary_scale = 3 } ]",
    );
    let StrategyKind::Canary(c) = &ok(&text).scenario.strategies[0].kind else {
        panic!("not canary")
    };
    assert_eq!(
        c.steps,
        [
            CanaryStep::SetWeight(10),
            CanaryStep::Pause(Some(SimTime::from_secs(120))),
            CanaryStep::Pause(None),
            CanaryStep::Analysis,
            CanaryStep::SetCanaryScale(3),
        ]
    );
}

#[test]
fn pipeline_and_expect() {
    let text = with(
        "[[pipeline.stage]]\nname = \"test\"\nduration = \"1h\"\ncatch = { errors = 0.5, latency = 0.2 }\n\
         [[pipeline.stage]]\nname = \"staging\"\nduration = \"1d\"\n",
    );
    check_err(
        &text,
        &["pipeline.stage[1].duration", "unknown unit"],
        Some(11),
    );
    let text = with(
        "[[pipeline.stage]]\nname = \"test\"\nduration = \"1h\"\ncatch = { errors = 0.5, latency = 0.2 }\nmanual_promotion = true\n\
         [[expect]]\nstrategy = \"r\"\nmetric = \"downtime_s\"\nstat = \"p95\"\nmax = 5\nwhen = \"faulty\"\n",
    );
    let s = ok(&text).scenario;
    assert_eq!(
        s.pipeline,
        [PipelineStage {
            name: "test".into(),
            duration: SimTime::from_secs(3600),
            catch: vec![(FaultKind::Errors, 0.5), (FaultKind::Latency, 0.2)],
            manual_promotion: true,
        }]
    );
    assert_eq!(
        s.expects,
        [Expect {
            strategy: "r".into(),
            metric: "downtime_s".into(),
            stat: "p95".into(),
            max: Some(5.0),
            min: None,
            when: ExpectWhen::Faulty,
        }]
    );
}

/// Each bad input: the message names the key and points at the line.
#[test]
fn rejections() {
    // (extra text after MINIMAL, needles, line of the caret)
    let cases: &[(&str, &[&str], Option<usize>)] = &[
        (
            "[service]\nreplicas = 0",
            &["service.replicas", "at least 1"],
            Some(6),
        ),
        (
            "[service]\nreplicas = -4",
            &["service.replicas", "-4"],
            Some(6),
        ),
        ("[service]\nworkers = 0", &["service.workers"], Some(6)),
        (
            "[service]\nreplicaz = 4",
            &["replicaz", "[service]", "unknown key"],
            Some(6),
        ),
        ("replicaz = 4", &["replicaz", "strategy[0]"], Some(5)),
        (
            "[service]\ntimeout = 2",
            &["service.timeout", "unit"],
            Some(6),
        ),
        (
            "[service]\ntimeout = \"-2s\"",
            &["service.timeout", "negative"],
            Some(6),
        ),
        ("[service]\ntimeout = \"0s\"", &["service.timeout"], Some(6)),
        ("[cluster]\nnodes = 0", &["cluster.nodes"], Some(6)),
        (
            "[cluster]\npods_per_node = 0",
            &["cluster.pods_per_node"],
            Some(6),
        ),
        (
            "[cluster]\nfull_disk_fraction = 1.5",
            &["cluster.full_disk_fraction", "[0, 1]"],
            Some(6),
        ),
        (
            "[release]\nbad_probability = 1.2",
            &["release.bad_probability"],
            Some(6),
        ),
        (
            "[release]\nbaseline_error_rate = -0.1",
            &["release.baseline_error_rate"],
            Some(6),
        ),
        (
            "[release]\nfaults = [ { kind = \"errors\", weight = 0 }, { kind = \"latency\", weight = 0 } ]",
            &["release.faults", "weight"],
            Some(6),
        ),
        (
            "[release]\nfaults = [ { kind = \"errors\" }, { kind = \"latency\", weight = -1 } ]",
            &["release.faults[1].weight"],
            Some(6),
        ),
        (
            "[release]\nfaults = [ { kind = \"errors\", error_rate = 2.0 } ]",
            &["release.faults[0].error_rate"],
            Some(6),
        ),
        (
            "[release]\nfaults = [ { kind = \"latency\", error_rate = 0.1 } ]",
            &["release.faults[0].error_rate", "latency"],
            Some(6),
        ),
        (
            "[release]\nfaults = [ { kind = \"cohort\", users = 1.5 } ]",
            &["release.faults[0].users"],
            Some(6),
        ),
        (
            "[release]\nfaults = [ { kind = \"oops\" } ]",
            &["release.faults[0].kind", "oops"],
            Some(6),
        ),
        ("[slo]\nsuccess = 1.01", &["slo.success"], Some(6)),
        ("[slo]\ndown_below = -1", &["slo.down_below"], Some(6)),
        (
            "[monitoring]\nerror_rate_max = 3",
            &["monitoring.error_rate_max"],
            Some(6),
        ),
        (
            "[monitoring]\ninterval = \"0s\"",
            &["monitoring.interval"],
            Some(6),
        ),
        (
            "[monitoring]\nwindow = \"0s\"",
            &["monitoring.window"],
            Some(6),
        ),
        (
            "[monitoring]\nfailures = 0",
            &["monitoring.failures"],
            Some(6),
        ),
        (
            "[monitoring]\nhuman_response = { dist = \"lognormal\", median = \"5m\", sigma = -1 }",
            &["monitoring.human_response", "sigma"],
            Some(6),
        ),
        (
            "[monitoring]\nhuman_response = { dist = \"uniform\", min = \"5m\", max = \"1m\" }",
            &["monitoring.human_response", "min"],
            Some(6),
        ),
        (
            "[monitoring]\nhuman_response = { dist = \"exponential\", median = \"5m\" }",
            &["monitoring.human_response", "median"],
            Some(6),
        ),
        (
            "[service.readiness]\nperiod = \"0s\"",
            &["service.readiness.period"],
            Some(6),
        ),
        (
            "[service]\nreadiness = { failure_threshold = 0 }",
            &["service.readiness.failure_threshold"],
            Some(6),
        ),
        (
            "[service]\nreadiness = { success_threshold = 0 }",
            &["service.readiness.success_threshold"],
            Some(6),
        ),
        ("[traffic]\nrate = -1", &["traffic.rate"], Some(6)),
        ("[traffic]\nusers = 0", &["traffic.users"], Some(6)),
        (
            "[traffic]\nuser_skew = -0.5",
            &["traffic.user_skew"],
            Some(6),
        ),
        (
            "[traffic]\nsteps = [ { at = \"5m\", rate = 1 }, { at = \"2m\", rate = 2 } ]",
            &["traffic.steps[1].at", "sorted"],
            Some(6),
        ),
        (
            "[load_balancer]\nrouting = \"fastest\"",
            &["load_balancer.routing", "round_robin"],
            Some(6),
        ),
        ("fidelity = \"exact\"", &["fidelity"], Some(5)),
        (
            "[foo]\nbar = 1",
            &["unknown key `foo`", "top level"],
            Some(5),
        ),
        (
            "[service]\nreplicas = 49",
            &["service.replicas", "48"],
            Some(6),
        ),
        (
            "[[strategy]]\nname = \"r\"\nkind = \"recreate\"",
            &["strategy[1].name", "already used"],
            Some(6),
        ),
        (
            "[[strategy]]\nname = \"b\"\nkind = \"bogus\"",
            &["strategy[1].kind", "bogus"],
            Some(7),
        ),
        (
            "[[strategy]]\nkind = \"recreate\"",
            &["strategy[1].name", "missing"],
            Some(5),
        ),
        (
            "[[strategy]]\nname = \"x\"",
            &["strategy[1].kind", "missing"],
            Some(5),
        ),
        (
            "[[strategy]]\nname = \"\"\nkind = \"none\"",
            &["strategy[1].name", "empty"],
            Some(6),
        ),
        (
            "[[strategy]]\nname = \"s\"\nkind = \"recreate\"\nmax_surge = 1",
            &["strategy[1].max_surge", "recreate"],
            Some(8),
        ),
        (
            "[[strategy]]\nname = \"s\"\nkind = \"swarm\"\nmax_failure_ratio = 1.5",
            &["strategy[1].max_failure_ratio"],
            Some(8),
        ),
        (
            "[[strategy]]\nname = \"s\"\nkind = \"swarm\"\norder = \"whenever\"",
            &["strategy[1].order", "stop-first"],
            Some(8),
        ),
        (
            "[[strategy]]\nname = \"s\"\nkind = \"rolling\"\nmax_surge = 0\nmax_unavailable = \"0%\"",
            &["strategy[1].max_surge", "both 0"],
            Some(8),
        ),
        (
            "[[strategy]]\nname = \"s\"\nkind = \"rolling\"\nmax_surge = -1",
            &["strategy[1].max_surge"],
            Some(8),
        ),
        (
            "[[strategy]]\nname = \"s\"\nkind = \"canary\"\nsteps = [ { set_weight = 101 } ]",
            &["strategy[1].steps[0].set_weight", "0..=100"],
            Some(8),
        ),
        (
            "[[strategy]]\nname = \"s\"\nkind = \"canary\"\nsteps = [ { set_weight = 10, pause = \"1m\" } ]",
            &["strategy[1].steps[0]", "exactly one"],
            Some(8),
        ),
        (
            "[[strategy]]\nname = \"s\"\nkind = \"canary\"\nsteps = [ { wait = \"1m\" } ]",
            &["wait", "strategy[1].steps[0]"],
            Some(8),
        ),
        (
            "[[strategy]]\nname = \"s\"\nkind = \"canary\"\nsteps = [ { pause = 5 } ]",
            &["strategy[1].steps[0].pause", "unit"],
            Some(8),
        ),
        (
            "[[strategy]]\nname = \"s\"\nkind = \"flagger\"\nmax_weight = 150",
            &["strategy[1].max_weight"],
            Some(8),
        ),
        (
            "[[strategy]]\nname = \"s\"\nkind = \"flagger\"\nstep_weights = [10, 5]",
            &["strategy[1].step_weights[1]", "must not decrease"],
            Some(8),
        ),
        (
            "[[strategy]]\nname = \"s\"\nkind = \"flagger\"\nstep_weights = [10, 120]",
            &["strategy[1].step_weights[1]"],
            Some(8),
        ),
        (
            "[[strategy]]\nname = \"s\"\nkind = \"flagger\"\nthreshold = 0",
            &["strategy[1].threshold"],
            Some(8),
        ),
        (
            "[[strategy]]\nname = \"s\"\nkind = \"none\"\nrollback = \"later\"",
            &["strategy[1].rollback", "auto"],
            Some(8),
        ),
        ("deploy_at = \"40m\"", &["deploy_at", "duration"], Some(5)),
        (
            "[[pipeline.stage]]\nname = \"t\"\nduration = \"1h\"\ncatch = { typo = 0.5 }",
            &["typo", "pipeline.stage[0].catch"],
            Some(8),
        ),
        (
            "[[pipeline.stage]]\nname = \"t\"\nduration = \"1h\"\ncatch = { errors = 1.5 }",
            &["pipeline.stage[0].catch.errors"],
            Some(8),
        ),
        (
            "[[expect]]\nstrategy = \"nope\"\nmetric = \"downtime_s\"\nstat = \"mean\"\nmax = 1",
            &["expect[0].strategy", "nope"],
            Some(6),
        ),
        (
            "[[expect]]\nstrategy = \"r\"\nmetric = \"downtime_s\"\nstat = \"mean\"",
            &["expect[0]", "max"],
            Some(5),
        ),
        (
            "[[expect]]\nstrategy = \"r\"\nmetric = \"downtime_s\"\nstat = \"median\"\nmax = 1",
            &["expect[0].stat", "p50"],
            Some(8),
        ),
        (
            "[[expect]]\nstrategy = \"none\"\nmetric = \"\"\nstat = \"mean\"\nmax = 1",
            &["expect[0].metric", "empty"],
            Some(7),
        ),
    ];
    for (extra, needles, line) in cases {
        check_err(&with(extra), needles, *line);
    }
}

#[test]
fn rejections_without_a_strategy_or_name() {
    check_err("name = \"x\"\n", &["strategy", "at least one"], None);
    check_err(
        "name = \"x\"\nstrategy = []\n",
        &["strategy", "at least one"],
        None,
    );
    check_err(
        "[[strategy]]\nname = \"r\"\nkind = \"rolling\"\n",
        &["name", "missing"],
        None,
    );
    check_err(
        "name = \"  \"\n[[strategy]]\nname = \"r\"\nkind = \"rolling\"\n",
        &["name", "empty"],
        Some(1),
    );
}

#[test]
fn syntax_errors_name_the_table() {
    check_err(
        "name = \"x\"\n[service\nreplicas = 4\n",
        &["service", "invalid TOML"],
        Some(2),
    );
    check_err(
        "name = \"x\"\n[service]\nreplicas = = 4\n",
        &["service"],
        Some(3),
    );
    check_err("name = \"x\"\nname = \"y\"\n", &["duplicate"], Some(2));
}

#[test]
fn error_rendering_has_a_caret_under_the_value() {
    let msg = err(&with("[service]\nreplicas = -4"));
    let expect = "error: t.toml: service.replicas: must be at least 1, got -4\n \
                  --> t.toml:6:12\n  |\n6 | replicas = -4\n  |            ^^";
    assert_eq!(msg, expect);
}

#[test]
fn no_panic_on_odd_input() {
    for text in [
        "",
        "\u{feff}",
        "= 1",
        "name = 1",
        "[[strategy]]\n[[strategy]]",
        "name = \"é\"\n[service]\nreplicas = \"é\"",
        "name = \"x\"\n[service]\ntimeout = \"99999999999999999h\"",
        "name = \"x\"\n[[strategy]]\nname=\"a\"\nkind=\"rolling\"\nmax_surge = 99999999999",
        "name = \"x\"\n[[strategy]]\nname=\"a\"\nkind=\"rolling\"\nmax_surge = 4294967295\nmax_unavailable = 4294967295",
        "name = \"x\"\n[traffic]\nrate = nan\n[[strategy]]\nname=\"a\"\nkind=\"none\"",
    ] {
        let _ = parse(text, "odd.toml").map_err(|e| e.to_string());
    }
}

#[test]
fn warnings() {
    let p = ok(&format!("duration = \"5m\"\n{MINIMAL}"));
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("strategy \"r\"") && w.contains("too short")),
        "{:?}",
        p.warnings
    );
    let text = "name = \"x\"\n[service]\nreplicas = 30\n[[strategy]]\nname = \"bg\"\nkind = \"blue_green\"\n";
    let p = ok(text);
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("bg") && w.contains("Pending")),
        "{:?}",
        p.warnings
    );
    assert!(
        p.warnings
            .iter()
            .all(|w| w.starts_with("warning: t.toml: "))
    );
}

/// Flagger: a non-zero `step_weight` beside `step_weights` wins (Flagger's
/// `nextStepWeight`), which is easy to miss: a warning says so; the list alone is
/// followed, without one.
#[test]
fn flagger_step_weight_beside_step_weights_warns() {
    let both = "name = \"x\"\n[[strategy]]\nname = \"f\"\nkind = \"flagger\"\n\
                step_weight = 20\nstep_weights = [5, 60]\n";
    let p = ok(both);
    assert!(
        p.warnings.iter().any(|w| w.contains("\"f\"")
            && w.contains("takes precedence")
            && w.contains("grows by 20 up to 60")),
        "{:?}",
        p.warnings
    );
    let list = both.replace("step_weight = 20\n", "");
    let p = ok(&list);
    assert!(p.warnings.iter().all(|w| !w.contains("precedence")));
    let StrategyKind::Flagger(f) = &p.scenario.strategies[0].kind else {
        panic!("flagger");
    };
    assert_eq!(
        (f.step_weight, f.step_weights.as_slice()),
        (0, &[5, 60][..])
    );
}

#[test]
fn bundled_and_descriptions() {
    assert_eq!(bundled()[0], ("default", DEFAULT_TOML));
    for (stem, text) in bundled() {
        let p = ok(text);
        assert_eq!(&p.scenario.name, stem);
        assert_eq!(description_of(text), Some(p.scenario.description));
    }
    assert_eq!(description_of("not toml ["), None);
}

#[test]
fn default_lines_scripts_rely_on() {
    for line in [
        "replicas = 20",
        "timeout = \"2s\"",
        "bad_probability = 0.15",
    ] {
        assert!(
            DEFAULT_TOML.lines().any(|l| l.starts_with(line)),
            "default.toml lacks an unindented `{line}` line"
        );
    }
}

/// The nesting pre-scan counts only brackets the toml parser nests: brackets in
/// strings of every kind and in comments are text.
#[test]
fn brackets_in_strings_and_comments_do_not_count_as_nesting() {
    let deep = "[{".repeat(50);
    for description in [
        format!("description = \"{deep}\""),
        format!("description = '{deep}'"),
        format!("description = \"\"\"\n{deep}\n\"\"\"\""),
        format!("description = '''{deep}'''"),
        format!("description = \"\\\"{deep}\""),
        format!("# {deep}\ndescription = \"\""),
    ] {
        let p = ok(&format!("{description}\n{MINIMAL}"));
        assert!(p.scenario.strategies.len() == 1, "{description}");
    }
    let e = err(&format!("x = {}\n{MINIMAL}", "[".repeat(65)));
    assert!(e.contains("nested deeper than 64 levels"), "{e}");
    assert!(e.contains("t.toml:1:69"), "{e}");
    // 64 levels are accepted by the pre-scan (the toml parser then reports the shape).
    let e = err(&format!(
        "x = {}1{}\n{MINIMAL}",
        "[".repeat(64),
        "]".repeat(64)
    ));
    assert!(!e.contains("nested deeper"), "{e}");
}

/// DESIGN §2: the embedded default validates without any warning (issue 13, item 9:
/// it used to warn that swarm's update and a human rollback overrun the horizon).
#[test]
fn the_embedded_default_validates_without_a_warning() {
    let parsed = ok(DEFAULT_TOML);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
}

/// Issue 15: a quoted number or a wrong type is named in words, not as a Rust type, and
/// an empty file says what a scenario needs.
#[test]
fn type_errors_and_an_empty_file_read_as_sentences() {
    let e = err(&with("[service]\nreplicas = \"20\""));
    assert!(e.contains("service.replicas"), "{e}");
    assert!(
        e.contains("a whole number") && e.contains("without quotes"),
        "{e}"
    );
    assert!(!e.contains("i64") && !e.contains("u32"), "{e}");
    let e = err(&with("[traffic]\nrate = \"fast\""));
    assert!(e.contains("traffic.rate") && e.contains("a number"), "{e}");
    let e = err("");
    assert!(
        e.contains("empty") && e.contains("deploysim example"),
        "{e}"
    );
}
