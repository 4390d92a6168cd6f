//! Issue 13, controller deviations: each test pins one documented rule of the real
//! controller (Flagger's scheduler, Argo Rollouts' blueGreen and abort handling) with
//! the expected value worked out in its comment, plus human-readable trace durations.
//!
//! The scenarios use constant pull and startup times so that controller timings are
//! exact: a new pod is scheduled at once, pulls for 2 s, and its application is up
//! 10 s after the container starts, just before the probe due then (probes run every
//! 5 s from the container start): it is ready 12 s after its creation.

use crate::{bin, scratch, write};
use deploysim::metrics::RunOutput;
use deploysim::scenario::{Fault, Scenario, StrategyKind, WeightedFault};
use deploysim::world::UserTable;

/// 10 replicas at 200 req/s, no baseline errors, deterministic pod start-up.
fn scenario(release: &str, strategy: &str) -> Scenario {
    crate::parse(&format!(
        r#"
name = "fidelity"
duration = "20m"
deploy_at = "1m"
[service]
replicas = 10
image_pull = "2s"
startup = "10s"
[traffic]
rate = 200
[release]
baseline_error_rate = 0.0
{release}
{strategy}
"#
    ))
}

const HEALTHY: &str = "bad_probability = 0.0";

fn faulty(fault: &str) -> String {
    format!("bad_probability = 1.0\nfaults = [ {{ {fault}, weight = 1 }} ]")
}

fn run(sc: &Scenario, strategy: &str, seed: u64) -> RunOutput {
    let users = UserTable::new(&sc.traffic);
    let st = sc
        .strategies
        .iter()
        .find(|s| s.name == strategy)
        .unwrap_or_else(|| panic!("no strategy {strategy}"));
    deploysim::runner::run(sc, &users, st, seed, true)
}

fn events<'a>(
    out: &'a RunOutput,
    kind: &'a str,
) -> impl Iterator<Item = &'a deploysim::metrics::TraceEvent> {
    out.trace
        .as_ref()
        .unwrap()
        .events
        .iter()
        .filter(move |e| e.kind == kind)
}

fn first(out: &RunOutput, kind: &str) -> Option<f64> {
    events(out, kind).next().map(|e| e.t.secs_f64())
}

/// The weights the router was set to before promotion started, in order.
fn ramp(out: &RunOutput) -> Vec<u32> {
    let promote = first(out, "promote").unwrap_or(f64::INFINITY);
    events(out, "weight")
        .filter(|e| e.t.secs_f64() < promote)
        .map(|e| {
            let w = e.detail.trim_start_matches("new version weight ");
            w.trim_end_matches('%').parse().unwrap()
        })
        .collect()
}

/// Item 1. Flagger's `nextStepWeight`: with `stepWeight` unset (0) the weight follows
/// `stepWeights` one entry per passing interval, and `maxWeight` is its last entry.
/// Tick 0 (t0 = 60 s) scales the canary up (ready at t0 + 12 s); tick k = 1..4
/// sets 5, 10, 25, 50; tick 5 (t0 + 5 min) passes its check at 50% and promotes.
/// Before the fix the default `step_weight = 10` won: 10, 20, 30, 40, 50 and a
/// promotion at tick 6. An explicit `step_weight = 0` (rejected before) is the same.
#[test]
fn flagger_step_weights_drive_the_ramp() {
    for step in ["", "step_weight = 0\n"] {
        let sc = scenario(
            HEALTHY,
            &format!(
                "[[strategy]]\nname = \"f\"\nkind = \"flagger\"\ninterval = \"1m\"\n{step}\
                 step_weights = [5, 10, 25, 50]\nthreshold = 2"
            ),
        );
        for seed in 0..2 {
            let out = run(&sc, "f", seed);
            assert_eq!(ramp(&out), [0, 5, 10, 25, 50], "{step:?} seed {seed}");
            assert_eq!(first(&out, "promote"), Some(60.0 + 5.0 * 60.0));
            assert_eq!(out.row.outcome.name(), "completed");
        }
    }
}

/// `step_weight = 0` without `step_weights` or `iterations` would never move the
/// weight: a validation error naming the key.
#[test]
fn flagger_zero_step_weight_alone_is_rejected() {
    let text = "name = \"x\"\n[[strategy]]\nname = \"f\"\nkind = \"flagger\"\nstep_weight = 0\n";
    let err = deploysim::scenario::parse(text, "x.toml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("strategy[0].step_weight"), "{err}");
    assert!(err.contains("never grow"), "{err}");
}

/// Item 1, import path: a Flagger Canary with `stepWeights: [5, 10, 25, 50]` (and no
/// `stepWeight`) imports to a scenario that ramps 5 → 10 → 25 → 50, as Flagger does.
#[test]
fn imported_flagger_step_weights_drive_the_ramp() {
    let dir = scratch("fidelity_flagger_import");
    let manifest = write(
        &dir,
        "canary.yaml",
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 4
  template:
    spec:
      containers:
        - name: web
          image: example.org/web:2
---
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: web
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  analysis:
    interval: 1m
    threshold: 2
    stepWeights: [5, 10, 25, 50]
    metrics:
      - name: request-success-rate
        thresholdRange:
          min: 99
        interval: 1m
"#,
    );
    let out = dir.join("web.toml");
    let o = bin()
        .arg("import")
        .arg(&manifest)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    let sc = crate::parse(&text.replace("bad_probability = 0.15", "bad_probability = 0.0"));
    let st = sc.strategies.iter().find(|s| s.name == "flagger").unwrap();
    let StrategyKind::Flagger(p) = &st.kind else {
        panic!("not a flagger strategy: {:?}", st.kind)
    };
    for seed in 0..2 {
        let out = run(&sc, "flagger", seed);
        assert_eq!(ramp(&out), [0, 5, 10, 25, 50], "seed {seed}");
    }
    assert_eq!(p.step_weights, [5, 10, 25, 50]);
    assert_eq!(p.step_weight, 0, "stepWeight is unset in the manifest");
}

/// Item 4. DESIGN §6: `detect_s` is the first failed check. Canary errors 10%: at 10%
/// weight the service sees 1% errors (the 2% alert rule stays quiet: 7 σ away over
/// 6,000 requests), the canary 10% (its check fails). Tick 1 (t0 + 60 s) moves the
/// weight to 10% without a check (weight 0, "starting canary analysis"); ticks 2, 3
/// and 4 fail (t0 + 120, 180, 240 s); tick 5 finds threshold 3 reached and rolls
/// back. So detect = 120 s and decide = 300 s (before the fix detect was 240 s).
#[test]
fn flagger_detects_at_the_first_failed_check() {
    let sc = scenario(
        &faulty("kind = \"errors\", error_rate = 0.1"),
        "[[strategy]]\nname = \"f\"\nkind = \"flagger\"\ninterval = \"1m\"\nstep_weight = 10\n\
         max_weight = 50\nthreshold = 3",
    );
    for seed in 0..3 {
        let out = run(&sc, "f", seed);
        assert_eq!(
            events(&out, "alert").count(),
            0,
            "seed {seed}: the alert fired"
        );
        assert_eq!(out.row.detect_s, Some(120.0), "seed {seed}");
        assert_eq!(out.row.decide_s, Some(300.0), "seed {seed}");
        assert_eq!(out.row.outcome.name(), "rolled_back");
    }
}

/// A canary whose first step aborts: errors 50% at 10% weight fail the background
/// analysis within a window.
fn aborting_canary(abort_delay: &str) -> Scenario {
    scenario(
        &faulty("kind = \"errors\", error_rate = 0.5"),
        &format!(
            "[[strategy]]\nname = \"c\"\nkind = \"canary\"\nsteps = [ {{ set_weight = 10 }}, \
             {{ pause = \"5m\" }} ]\nabort_scale_down_delay = \"{abort_delay}\"\nrollback = \"auto\""
        ),
    )
}

/// Item 5. Argo Rollouts (docs/features/scaledown-aborted-rs.md): a canary with
/// traffic routing and `abortScaleDownDelaySeconds: 0` "does not scale down" on abort.
/// Weight 10% of 10 replicas is ceil(1.0) = 1 canary pod, created and scheduled at
/// t0; it holds a slot above `replicas` until the horizon: extra pod-seconds =
/// 1 × (20 min − 1 min) = 1140. With "30s" it goes 30 s after the abort. Before the
/// fix "0s" scaled it down at once.
#[test]
fn canary_abort_scale_down_delay_zero_never_scales_down() {
    for seed in 0..2 {
        let out = run(&aborting_canary("0s"), "c", seed);
        let r = &out.row;
        assert_eq!(r.outcome.name(), "rolled_back", "seed {seed}");
        assert_eq!(r.rollback_s, Some(0.0), "weight 0 at the decision");
        assert_eq!(events(&out, "scale_down").count(), 0, "seed {seed}");
        let last = out.trace.as_ref().unwrap().timeline.last().unwrap();
        assert_eq!(last.sample.new.active, 1, "seed {seed}: the canary is kept");
        assert_eq!(r.extra_pod_seconds, 1140.0, "seed {seed}");

        let out = run(&aborting_canary("30s"), "c", seed);
        let decide = 60.0 + out.row.decide_s.unwrap();
        assert_eq!(
            first(&out, "scale_down"),
            Some(decide + 30.0),
            "seed {seed}"
        );
        let last = out.trace.as_ref().unwrap().timeline.last().unwrap();
        assert_eq!(last.sample.new.active, 0, "seed {seed}");
    }
}

/// Item 5, import path: `abortScaleDownDelaySeconds: 0` keeps Argo's meaning. The
/// imported scenario, run with a release whose canary fails its analysis, keeps the
/// one canary pod (10% of 10) until the horizon.
#[test]
fn imported_abort_scale_down_delay_zero_keeps_the_canary() {
    let dir = scratch("fidelity_abort_import");
    let manifest = write(
        &dir,
        "rollout.yaml",
        r#"apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: shop
spec:
  replicas: 10
  template:
    spec:
      containers:
        - name: shop
          image: example.org/shop:3
  strategy:
    canary:
      abortScaleDownDelaySeconds: 0
      trafficRouting:
        nginx:
          stableIngress: shop
      analysis:
        templates:
          - templateName: success-rate
      steps:
        - setWeight: 10
        - pause:
            duration: 5m
"#,
    );
    let out = dir.join("shop.toml");
    let o = bin()
        .arg("import")
        .arg(&manifest)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    let mut sc = crate::parse(&text);
    sc.release.bad_probability = 1.0;
    sc.release.faults = vec![WeightedFault {
        weight: 1.0,
        fault: Fault::Errors { error_rate: 0.5 },
    }];
    let st = sc.strategies[0].name.clone();
    for seed in 0..2 {
        let out = run(&sc, &st, seed);
        assert_eq!(out.row.outcome.name(), "rolled_back", "seed {seed}");
        let last = out.trace.as_ref().unwrap().timeline.last().unwrap();
        assert_eq!(last.sample.new.active, 1, "seed {seed}: the canary is kept");
    }
    assert!(
        text.contains("never scaled down"),
        "the comment says so:\n{text}"
    );
}

fn blue_green(release: &str, keys: &str) -> Scenario {
    scenario(
        release,
        &format!(
            "[[strategy]]\nname = \"bg\"\nkind = \"blue_green\"\n{keys}\n\
             [[strategy]]\nname = \"none\"\nkind = \"none\""
        ),
    )
}

/// Item 6. DESIGN §9: the preview stack's only traffic before the switch is
/// `preview_rate` synthetic requests/s, and they are not user traffic. With 20/s and
/// 50% errors the pre-promotion check (the `[monitoring]` rule on them: window 30 s,
/// every 10 s, ≥ 50 requests) fails at the first evaluation with 50 of them in whole
/// seconds of its window. The load starts once the preview endpoints reach the
/// balancer (1 s `endpoint_lag` after the stack is ready); 50 requests take 2.5 s on
/// average; so detection comes within 1 s (lag) + 1 s (partial second) + 6 s (Poisson
/// luck) + 10 s (evaluation cadence) of the preview becoming ready.
/// The abort comes before any user reached the new version: nothing exposed, nothing
/// failed (no baseline errors), and `requests` equal to `none`'s (common random
/// numbers; synthetic requests are not counted). At `preview_rate = 0` the same
/// release is promoted and users meet it. Before the fix both rates promoted.
#[test]
fn blue_green_preview_traffic_catches_a_fault_before_users() {
    let release = faulty("kind = \"errors\", error_rate = 0.5");
    let checked = blue_green(&release, "preview_duration = \"2m\"\npreview_rate = 20");
    let unchecked = blue_green(&release, "preview_duration = \"2m\"\npreview_rate = 0");
    for seed in 0..3 {
        let out = run(&checked, "bg", seed);
        let r = &out.row;
        let ready = first(&out, "preview_ready").expect("preview ready");
        let detect = 60.0 + r.detect_s.expect("detected");
        assert!(
            detect > ready && detect <= ready + 18.0,
            "seed {seed}: ready {ready}, detected {detect}"
        );
        assert_eq!(r.decide_s, r.detect_s, "seed {seed}: automatic abort");
        assert!(first(&out, "promote").is_none(), "seed {seed}: promoted");
        assert_eq!(
            (r.exposed_requests, r.failed_requests),
            (0, 0),
            "seed {seed}"
        );
        assert_eq!((r.blast_radius, r.users_affected), (0.0, 0), "seed {seed}");
        assert_eq!(r.requests, run(&checked, "none", seed).row.requests);
        assert_eq!(r.outcome.name(), "rolled_back", "seed {seed}");

        let plain = run(&unchecked, "bg", seed).row;
        assert!(plain.exposed_requests > 0, "seed {seed}: preview_rate 0");
        assert_eq!(plain.requests, r.requests);
    }
}

/// Item 6, healthy release: the synthetic requests pass the check, the switch happens
/// after `preview_duration`, and user-facing counts are those of `preview_rate = 0`
/// up to the switch (the preview load shares no stream with user requests).
#[test]
fn blue_green_preview_traffic_lets_a_healthy_release_through() {
    let checked = blue_green(HEALTHY, "preview_rate = 20");
    let unchecked = blue_green(HEALTHY, "preview_rate = 0");
    for seed in 0..2 {
        let a = run(&checked, "bg", seed);
        let b = run(&unchecked, "bg", seed);
        assert_eq!(a.row.outcome.name(), "completed", "seed {seed}");
        assert!(a.row.detect_s.is_none(), "seed {seed}");
        assert_eq!(first(&a, "promote"), first(&b, "promote"), "seed {seed}");
        assert_eq!(a.row.requests, b.row.requests);
    }
}

/// Item 7. Argo's `reconcileActiveService` switches only when the new ReplicaSet is
/// saturated (all replicas available). `crash_later` after a constant 60 s: the
/// preview containers start at t0 + 2 s, are ready at t0 + 12 s (preview ready),
/// crash at t0 + 62 s and restart after the 10 s back-off, at t0 + 72 s, when
/// `preview_duration` ends with none of them ready. The switch must wait until all
/// ten are ready again (counted from the trace's ready/unready events of the new
/// version): at t0 + 82 s. Before the fix it switched at t0 + 72 s to an empty
/// preview.
#[test]
fn blue_green_switches_only_to_a_fully_available_preview() {
    let sc = blue_green(
        &faulty("kind = \"crash_later\", after = \"60s\""),
        "preview_duration = \"1m\"\nrollback = \"none\"",
    );
    for seed in 0..2 {
        let out = run(&sc, "bg", seed);
        let ready = first(&out, "preview_ready").unwrap();
        assert_eq!(ready, 60.0 + 12.0, "seed {seed}");
        let promote = first(&out, "promote").expect("promoted eventually");
        assert_eq!(promote, 60.0 + 82.0, "seed {seed}");
        let mut available = 0i64;
        for e in &out.trace.as_ref().unwrap().events {
            if e.t.secs_f64() > promote {
                break;
            }
            match (e.kind, e.version) {
                ("ready", Some(1)) => available += 1,
                ("unready", Some(1)) => available -= 1,
                _ => {}
            }
        }
        assert_eq!(available, 10, "seed {seed}: switched at {promote} s");
    }
}

/// Item 8. Argo scales an aborted preview down `abortScaleDownDelaySeconds` (30 s by
/// default) after the active service is back on the stable stack; "0s" never. A
/// faulty release (errors 50%, no preview traffic) is caught by the post-promotion
/// analysis; the switch back reaches the balancer at decide + `rollback_s`. The ten
/// preview pods, created and scheduled at t0 with the old ten running, cost
/// 10 × (scale-down − t0) extra pod-seconds (plus the few milliseconds they need to
/// drain); kept for good, 10 × (20 min − 1 min) = 11,400. Before the fix they went
/// within the endpoint lag and `abort_scale_down_delay` was not a blue/green key.
#[test]
fn blue_green_abort_waits_abort_scale_down_delay() {
    let release = faulty("kind = \"errors\", error_rate = 0.5");
    let delayed = blue_green(&release, "abort_scale_down_delay = \"30s\"");
    let kept = blue_green(&release, "abort_scale_down_delay = \"0s\"");
    for seed in 0..2 {
        let out = run(&delayed, "bg", seed);
        let r = &out.row;
        let promote = first(&out, "promote").unwrap();
        let decide = 60.0 + r.decide_s.expect("aborted");
        assert!(decide > promote, "seed {seed}: aborted after the switch");
        let back = decide + r.rollback_s.expect("back on the old stack");
        let gone = first(&out, "scale_down").expect("preview scaled down");
        assert!(
            (gone - (back + 30.0)).abs() < 1e-6,
            "seed {seed}: {gone} vs {back}"
        );
        let extra = 10.0 * (gone - 60.0);
        assert!(
            r.extra_pod_seconds >= extra - 1e-6 && r.extra_pod_seconds <= extra + 1.0,
            "seed {seed}: {} vs {extra}",
            r.extra_pod_seconds
        );
        assert_eq!(r.outcome.name(), "rolled_back");

        let k = run(&kept, "bg", seed).row;
        assert_eq!(k.extra_pod_seconds, 11_400.0, "seed {seed}");
        assert_eq!(k.outcome.name(), "rolled_back");
    }
}

/// The trace is read by people: drawn durations (a person's response, start-up times,
/// back-offs) are printed rounded in the scenario's units, e.g. `12m5.8s`, never as
/// raw microseconds (`725809376us` before the fix).
#[test]
fn trace_durations_are_human_readable() {
    let dir = scratch("fidelity_trace_durations");
    let text = format!(
        r#"
name = "durations"
duration = "30m"
[release]
{}
[[strategy]]
name = "rolling"
kind = "rolling"
rollback = "manual"
"#,
        faulty("kind = \"errors\", error_rate = 0.3")
    );
    let file = write(&dir, "s.toml", &text);
    let out = dir.join("t");
    let o = bin()
        .arg("trace")
        .arg(&file)
        .args(["--strategy", "rolling", "--seed", "1", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(out.join("events.csv")).unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let paged: Vec<&str> = csv.lines().filter(|l| l.contains(",paged,")).collect();
    assert_eq!(paged.len(), 1, "one page for a faulty rolling release");
    let d = paged[0].rsplit("responds in ").next().unwrap();
    // `human_response` (median 5 min): minutes, then seconds to a tenth.
    let (m, s) = d.split_once('m').unwrap_or_else(|| panic!("{d}"));
    assert!(m.parse::<u32>().is_ok(), "{d}");
    let s = s.strip_suffix('s').unwrap_or(s);
    let tenths = s.split('.').nth(1).is_none_or(|f| f.len() == 1);
    assert!((s.is_empty() || s.parse::<f64>().is_ok()) && tenths, "{d}");
    for text in [csv.as_str(), &stdout] {
        for word in text.split(|c: char| !c.is_ascii_alphanumeric()) {
            let raw = word
                .strip_suffix("us")
                .is_some_and(|n| n.len() > 3 && n.bytes().all(|b| b.is_ascii_digit()));
            assert!(!raw, "raw microseconds in the trace: {word}");
        }
    }
}
