//! Tests of DESIGN.md §9's scenario keys: `[metrics]`, `[[analysis]]` and the strategy
//! keys that run templates — every value carried into `AnalysisSpec`, the defaults,
//! and each rejection naming its key and line (data-driven table).

use super::analysis::*;
use super::*;
use crate::sim::SimTime;

fn s(x: u64) -> SimTime {
    SimTime::from_secs(x)
}

fn parsed(text: &str) -> Parsed {
    parse(text, "t.toml").unwrap_or_else(|e| panic!("expected a valid scenario, got:\n{e}"))
}

const TEMPLATES: &str = r#"
[[analysis]]
name = "success-rate"
[[analysis.metric]]
name = "success-rate"

[[analysis]]
name = "latency"
[[analysis.metric]]
name = "p99"
measure = "latency_p99"
scope = "service"
window = "30s"
interval = "20s"
count = 3
initial_delay = "10s"
success = "< 500"
failure = ">= 2000"
failure_limit = 1
inconclusive_limit = 2
consecutive_error_limit = 0
on_nan = "successful"
dry_run = true
[[analysis.metric]]
name = "kayenta"
measure = "error_rate"
judge = "mann_whitney"
window = "10m"
baseline = "dedicated"
confidence = 0.9
tolerance = 0.1
direction = "either"
min_points = 20
"#;

/// Every key of a full file lands in the spec; left-out keys take §9's defaults.
#[test]
fn every_value_is_carried() {
    let text = format!(
        r#"name = "a"
[metrics]
scrape_interval = "30s"
buckets = ["50ms", "1s"]
query_failure_probability = 0.05

[[strategy]]
name = "canary"
kind = "canary"
steps = [ {{ set_weight = 20 }}, {{ analysis = "latency" }}, {{ analysis = true }}, {{ pause = "1m" }} ]
analysis = {{ templates = ["success-rate", "latency"], start_step = 1 }}

[[strategy]]
name = "bg"
kind = "blue_green"
pre_promotion_analysis = "latency"
post_promotion_analysis = "success-rate"

[[strategy]]
name = "fl"
kind = "flagger"
metrics = [ {{ name = "request-success-rate", min = 99, interval = "1m" }},
            {{ name = "request-duration", max = 500, interval = "30s" }},
            {{ name = "success-rate" }} ]

[[strategy]]
name = "rolling"
kind = "rolling"
rollback = "auto"
analysis = "success-rate"
{TEMPLATES}"#
    );
    let p = parsed(&text);
    let a = &p.scenario.analysis;
    assert_eq!(
        a.metrics,
        MetricsConfig {
            scrape_interval: s(30),
            buckets_ms: vec![50.0, 1000.0],
            query_failure_probability: 0.05,
        }
    );
    assert_eq!(a.templates.len(), 2);
    let sr = &a.templates[0].metrics[0];
    assert_eq!(
        *sr,
        MetricSpec {
            name: "success-rate".into(),
            measure: Measure::SuccessRate,
            scope: Scope::Canary,
            window: s(60),
            interval: s(60),
            count: 0,
            initial_delay: SimTime::ZERO,
            failure_limit: 0,
            inconclusive_limit: 0,
            consecutive_error_limit: 4,
            on_nan: OnNan::Failed,
            judge: Judge::Threshold {
                success: Some(Condition {
                    op: Op::Ge,
                    value: 0.99
                }),
                failure: None
            },
            dry_run: false,
        }
    );
    let lat = &a.templates[1].metrics[0];
    assert_eq!(
        *lat,
        MetricSpec {
            name: "p99".into(),
            measure: Measure::LatencyQuantile(Quantile::P99),
            scope: Scope::Service,
            window: s(30),
            interval: s(20),
            count: 3,
            initial_delay: s(10),
            failure_limit: 1,
            inconclusive_limit: 2,
            consecutive_error_limit: 0,
            on_nan: OnNan::Successful,
            judge: Judge::Threshold {
                success: Some(Condition {
                    op: Op::Lt,
                    value: 500.0
                }),
                failure: Some(Condition {
                    op: Op::Ge,
                    value: 2000.0
                }),
            },
            dry_run: true,
        }
    );
    assert_eq!(
        a.templates[1].metrics[1].judge,
        Judge::MannWhitney(MannWhitney {
            baseline: Baseline::Dedicated,
            confidence: 0.9,
            tolerance: 0.1,
            direction: Direction::Either,
            min_points: 20,
        })
    );
    let [canary, bg, fl, rolling] = &a.strategies[..] else {
        panic!("{:?}", a.strategies)
    };
    assert_eq!(canary.background, [0, 1]);
    assert_eq!(canary.start_step, 1);
    assert_eq!(canary.steps, [None, Some(1), None, None]);
    assert_eq!(
        (canary.step_template(1), canary.step_template(2)),
        (Some(1), None)
    );
    // `{ analysis = true }` and `{ analysis = "latency" }` are both analysis steps.
    let StrategyKind::Canary(cp) = &p.scenario.strategies[0].kind else {
        panic!()
    };
    assert_eq!(cp.steps[1], CanaryStep::Analysis);
    assert_eq!(cp.steps[2], CanaryStep::Analysis);
    assert_eq!((bg.pre_promotion, bg.post_promotion), (Some(1), Some(0)));
    assert_eq!(
        fl.flagger_metrics,
        [
            FlaggerMetric {
                name: "request-success-rate".into(),
                check: FlaggerCheck::SuccessRate,
                min: Some(99.0),
                max: None,
                window: s(60),
            },
            FlaggerMetric {
                name: "request-duration".into(),
                check: FlaggerCheck::Duration,
                min: None,
                max: Some(500.0),
                window: s(30),
            },
            FlaggerMetric {
                name: "success-rate".into(),
                check: FlaggerCheck::Template(0),
                min: None,
                max: None,
                window: s(60),
            },
        ]
    );
    assert_eq!(rolling.pipeline, Some(0));
    assert!(a.needs_latency());
}

/// A scenario without the §9 keys gets the default pipeline and runs nothing: every
/// bundled scenario, the default one included, parses to exactly that.
#[test]
fn no_analysis_keys_means_the_defaults() {
    for (name, text) in bundled() {
        let p = parsed(text);
        assert_eq!(
            p.scenario.analysis,
            AnalysisSpec::default_for(p.scenario.strategies.len()),
            "{name}"
        );
    }
    let m = AnalysisSpec::default_for(0).metrics;
    assert_eq!(m.scrape_interval, s(15));
    assert_eq!(
        m.buckets_ms,
        [
            5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0
        ]
    );
    assert_eq!(m.query_failure_probability, 0.0);
}

const BASE: &str = "name = \"m\"\n[[strategy]]\nname = \"c\"\nkind = \"canary\"\n";

/// Each bad input: the message names the key path, the problem, and the line.
#[test]
fn rejections_name_key_and_line() {
    let tpl = "[[analysis]]\nname = \"t\"\n[[analysis.metric]]\nname = \"m\"\n";
    // (text after BASE, needles, line of the caret)
    let cases: Vec<(String, Vec<&str>, Option<usize>)> = vec![
        (
            "[metrics]\nscrape_interval = \"500ms\"".into(),
            vec!["metrics.scrape_interval", "floor of 1s"],
            Some(6),
        ),
        (
            "[metrics]\nbuckets = [\"1s\", \"100ms\"]".into(),
            vec!["metrics.buckets[1]", "strictly increasing"],
            Some(6),
        ),
        (
            "[metrics]\nbuckets = []".into(),
            vec!["metrics.buckets", "at least one"],
            Some(6),
        ),
        (
            "[metrics]\nquery_failure_probability = 1.5".into(),
            vec!["metrics.query_failure_probability", "[0, 1]"],
            Some(6),
        ),
        (
            "[metrics]\nscrape = \"15s\"".into(),
            vec!["unknown key `scrape`", "[metrics]"],
            Some(6),
        ),
        (
            format!("{tpl}success = \"99\""),
            vec!["analysis[0].metric[0].success", "operator"],
            Some(9),
        ),
        (
            format!("{tpl}success = \">= lots\""),
            vec!["analysis[0].metric[0].success", "not a number"],
            Some(9),
        ),
        (
            format!("{tpl}success = \">= 99\""),
            vec!["analysis[0].metric[0].success", "fractions in [0, 1]"],
            Some(9),
        ),
        (
            format!("{tpl}measure = \"latency_p99\""),
            vec![
                "analysis[0].metric[0].success",
                "needs `success` or `failure`",
            ],
            Some(9),
        ),
        (
            format!("{tpl}measure = \"p99\""),
            vec!["analysis[0].metric[0].measure", "unknown value \"p99\""],
            Some(9),
        ),
        (
            format!("{tpl}scope = \"green\""),
            vec!["analysis[0].metric[0].scope", "\"preview\""],
            Some(9),
        ),
        (
            format!("{tpl}interval = \"500ms\""),
            vec!["analysis[0].metric[0].interval", "floor of 1s"],
            Some(9),
        ),
        (
            format!("{tpl}failure_limit = -1"),
            vec![
                "analysis[0].metric[0].failure_limit",
                "must not be negative",
            ],
            Some(9),
        ),
        (
            format!("{tpl}consecutive_error_limit = -2"),
            vec!["analysis[0].metric[0].consecutive_error_limit", "negative"],
            Some(9),
        ),
        (
            format!("{tpl}count = 20000"),
            vec!["analysis[0].metric[0].count", "limit of 10000"],
            Some(9),
        ),
        (
            format!("{tpl}on_nan = \"zero\""),
            vec!["analysis[0].metric[0].on_nan", "\"inconclusive\""],
            Some(9),
        ),
        (
            format!("{tpl}confidence = 0.9"),
            vec!["analysis[0].metric[0].confidence", "mann_whitney"],
            Some(9),
        ),
        (
            format!("{tpl}judge = \"mann_whitney\"\nsuccess = \">= 0.9\""),
            vec!["analysis[0].metric[0].success", "threshold"],
            Some(10),
        ),
        (
            format!("{tpl}judge = \"mann_whitney\"\nconfidence = 1.0"),
            vec![
                "analysis[0].metric[0].confidence",
                "strictly between 0 and 1",
            ],
            Some(10),
        ),
        (
            format!("{tpl}judge = \"mann_whitney\"\ntolerance = -0.5"),
            vec!["analysis[0].metric[0].tolerance", ">= 0"],
            Some(10),
        ),
        (
            format!("{tpl}judge = \"mann_whitney\"\nmin_points = 0"),
            vec!["analysis[0].metric[0].min_points", "at least 1"],
            Some(10),
        ),
        (
            format!("{tpl}judge = \"mann_whitney\"\nscope = \"service\""),
            vec!["analysis[0].metric[0].scope", "must be \"canary\""],
            Some(10),
        ),
        (
            format!("{tpl}judge = \"mann_whitney\"\nwindow = \"3h\""),
            vec![
                "analysis[0].metric[0].window",
                "720 scrapes",
                "limit of 500",
            ],
            Some(10),
        ),
        (
            format!("{tpl}judge = \"kayenta\""),
            vec!["analysis[0].metric[0].judge", "\"mann_whitney\""],
            Some(9),
        ),
        (
            "[[analysis]]\nname = \"t\"".into(),
            vec!["analysis[0].metric", "at least one"],
            Some(5),
        ),
        (
            format!("{tpl}{tpl}"),
            vec!["analysis[1].name", "already used by analysis[0]"],
            Some(10),
        ),
        (
            format!("{tpl}[[analysis.metric]]\nname = \"m\""),
            vec!["analysis[0].metric[1].name", "already used"],
            Some(10),
        ),
        (
            format!("{tpl}thresh = 1"),
            vec!["unknown key `thresh`"],
            Some(9),
        ),
    ];
    let strategy_cases: Vec<(String, Vec<&str>, Option<usize>)> = vec![
        (
            format!("analysis = {{ templates = [\"nope\"] }}\n{tpl}"),
            vec![
                "strategy[0].analysis.templates",
                "unknown analysis template \"nope\"",
                "\"t\"",
            ],
            Some(5),
        ),
        (
            format!("analysis = {{ templates = [\"t\"], start_step = 6 }}\n{tpl}"),
            vec!["strategy[0].analysis.start_step", "0..6"],
            Some(5),
        ),
        (
            format!("analysis = {{ templates = [\"t\"], start = 1 }}\n{tpl}"),
            vec!["strategy[0].analysis.start", "unknown key `start`"],
            Some(5),
        ),
        (
            format!("analysis = \"t\"\n{tpl}"),
            vec!["strategy[0].analysis", "templates = [\"name\"]"],
            Some(5),
        ),
        (
            format!("steps = [ {{ analysis = \"nope\" }} ]\n{tpl}"),
            vec![
                "strategy[0].steps[0].analysis",
                "unknown analysis template \"nope\"",
            ],
            Some(5),
        ),
        (
            format!("steps = [ {{ analysis = 3 }} ]\n{tpl}"),
            vec!["true or the name of an [[analysis]] template"],
            Some(5),
        ),
        (
            "steps = [ { analysis = true } ]\n[[analysis]]".into(),
            vec!["analysis[0].name", "required"],
            None,
        ),
    ];
    for (i, (extra, needles, line)) in cases.into_iter().chain(strategy_cases).enumerate() {
        check(&format!("{BASE}{extra}\n"), &needles, line, i);
    }
    // Keys of other kinds, and the kinds' forms.
    let other: [(&str, &[&str], usize); 6] = [
        (
            "kind = \"rolling\"\nanalysis = \"t\"",
            &["strategy[0].analysis", "rollback = \"auto\"", "\"manual\""],
            5,
        ),
        (
            "kind = \"rolling\"\nrollback = \"auto\"\nanalysis = { templates = [\"t\"] }",
            &["strategy[0].analysis", "analysis = \"template\""],
            6,
        ),
        (
            "kind = \"blue_green\"\npre_promotion_analysis = \"x\"",
            &[
                "strategy[0].pre_promotion_analysis",
                "unknown analysis template \"x\"",
            ],
            5,
        ),
        (
            "kind = \"canary\"\npost_promotion_analysis = \"t\"",
            &[
                "strategy[0].post_promotion_analysis",
                "does not belong to strategy kind \"canary\"",
            ],
            5,
        ),
        (
            "kind = \"flagger\"\nmetrics = [ { name = \"request-success-rate\", min = 101 } ]",
            &["strategy[0].metrics[0].min", "0..=100"],
            5,
        ),
        (
            "kind = \"flagger\"\nmetrics = [ { name = \"request-duration\" } ]",
            &["strategy[0].metrics[0]", "needs min or max"],
            5,
        ),
    ];
    for (i, (kind, needles, line)) in other.into_iter().enumerate() {
        let text = format!("name = \"m\"\n[[strategy]]\nname = \"x\"\n{kind}\n{tpl}");
        check(&text, needles, Some(line), 100 + i);
    }
    let flagger: [(&str, &[&str]); 3] = [
        (
            "{ name = \"cpu\" }",
            &[
                "strategy[0].metrics[0].name",
                "unknown flagger metric \"cpu\"",
            ],
        ),
        (
            "{ name = \"t\", max = 3 }",
            &["strategy[0].metrics[0].max", "belong to the built-ins"],
        ),
        (
            "{ name = \"request-duration\", max = 500, interval = \"0s\" }",
            &["strategy[0].metrics[0].interval", "floor of 1s"],
        ),
    ];
    for (i, (entry, needles)) in flagger.into_iter().enumerate() {
        let text = format!(
            "name = \"m\"\n[[strategy]]\nname = \"x\"\nkind = \"flagger\"\nmetrics = [ {entry} ]\n{tpl}"
        );
        check(&text, needles, Some(5), 200 + i);
    }
}

/// The latency limit of §"Limits" holds for an analysis measuring latency too.
#[test]
fn latency_analysis_bounds_the_duration() {
    let text = "name = \"m\"\nduration = \"100h\"\n[[strategy]]\nname = \"c\"\nkind = \"canary\"\n\
                [[analysis]]\nname = \"t\"\n[[analysis.metric]]\nname = \"m\"\nmeasure = \"latency_p50\"\nsuccess = \"< 100\"\n";
    check(
        text,
        &["duration", "analysis measures latency"],
        Some(2),
        300,
    );
    parsed(
        &text
            .replace("latency_p50", "error_rate")
            .replace("< 100", "< 0.1"),
    );
}

fn check(text: &str, needles: &[&str], line: Option<usize>, case: usize) {
    let msg = match parse(text, "t.toml") {
        Ok(_) => panic!("case {case}: expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    };
    assert!(msg.starts_with("error: t.toml: "), "case {case}: {msg}");
    for n in needles {
        assert!(msg.contains(n), "case {case}: message lacks {n:?}:\n{msg}");
    }
    if let Some(l) = line {
        assert!(
            msg.contains(&format!("--> t.toml:{l}:")),
            "case {case}: no line {l}:\n{msg}"
        );
    }
}
