//! Issue 6, acceptance 1: `run` writes report.html and the plots next to the CSV
//! files, `trace` writes timeline.svg; the SVGs are well-formed XML and carry the
//! expected series; the HTML is self-contained (no external resource).

use crate::{bin, default_toml, scratch, write};
use quick_xml::Reader;
use quick_xml::events::Event;
use std::path::Path;

/// Parses an SVG fully (any XML error fails the test) and returns its text contents.
fn svg_texts(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let mut r = Reader::from_str(&text);
    let mut texts = Vec::new();
    let mut root = None;
    let mut depth = 0i32;
    loop {
        match r.read_event() {
            Ok(Event::Start(e)) => {
                depth += 1;
                if root.is_none() {
                    root = Some(e.name().as_ref().to_string());
                }
            }
            Ok(Event::End(_)) => depth -= 1,
            Ok(Event::Text(t)) => {
                let s = t.into_inner().trim().to_string();
                if !s.is_empty() {
                    texts.push(s);
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!(
                "{path:?} is not well-formed XML at {}: {e}",
                r.error_position()
            ),
        }
    }
    assert_eq!(root.as_deref(), Some("svg"), "{path:?}: root element");
    assert_eq!(depth, 0, "{path:?}: unbalanced elements");
    texts
}

fn has(texts: &[String], needle: &str) -> bool {
    texts.iter().any(|t| t.contains(needle))
}

#[test]
fn run_writes_a_self_contained_report_and_well_formed_plots() {
    let dir = scratch("report_files_run");
    let file = write(&dir, "default.toml", default_toml());
    let out = dir.join("out");
    let o = bin()
        .arg("run")
        .arg(&file)
        .args(["--seeds", "30", "--quiet", "--format", "none"])
        .args(["--strategy", "rolling", "--strategy", "canary", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in ["runs.csv", "summary.csv", "summary.json", "compare.csv"] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    for (svg, title) in [
        ("blast_radius.svg", "Blast radius"),
        ("downtime.svg", "owntime"),
        ("rollback.svg", "ollback"),
        ("cost_risk.svg", "Cost and risk"),
    ] {
        let texts = svg_texts(&out.join(svg));
        assert!(has(&texts, title), "{svg}: no title {title:?} in {texts:?}");
        for s in ["rolling", "canary"] {
            assert!(has(&texts, s), "{svg}: strategy {s} missing in {texts:?}");
        }
    }
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let lower = html.to_lowercase();
    for external in [
        "src=\"http",
        "href=\"http",
        "url(http",
        "url(//",
        "src=\"//",
        "<link",
        "@import",
        "<script src",
    ] {
        assert!(
            !lower.contains(external),
            "report.html references {external}"
        );
    }
    // Plots are inlined, once per plot file at least, and the scenario is shown.
    assert!(lower.matches("<svg").count() >= 4, "plots are not inlined");
    assert!(html.contains("rolling") && html.contains("canary"));
    assert!(
        html.contains("name = &quot;default&quot;"),
        "scenario text missing"
    );
}

#[test]
fn trace_writes_a_timeline_svg_with_every_series_and_moment() {
    let dir = scratch("report_files_trace");
    let file = write(&dir, "default.toml", default_toml());
    // Seed 13 of the default scenario is a faulty `errors` release that the canary's
    // analysis catches (checked in runs.csv by the sweep tests' neighbours); whatever
    // the seed, the deploy start is marked.
    let out = dir.join("trace");
    let o = bin()
        .arg("trace")
        .arg(&file)
        .args(["--strategy", "canary", "--seed", "13", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let texts = svg_texts(&out.join("timeline.svg"));
    for series in [
        "old pods",
        "new pods",
        "new weight",
        "success ratio",
        "p99 latency",
        "deploy start",
    ] {
        assert!(
            has(&texts, series),
            "timeline.svg lacks {series:?}: {texts:?}"
        );
    }
    let events = std::fs::read_to_string(out.join("events.csv")).unwrap();
    if events.contains("rollback_start") {
        assert!(has(&texts, "rollback start"), "rollback not marked");
    }
    if events.contains("analysis_failed") || events.contains("alert") {
        assert!(has(&texts, "detection"), "detection not marked");
    }
    // The title names the run; the x axis counts from the deploy start (deploy_at = 60 s
    // in the default) and is cropped to the moments that matter, not the 1800 s horizon.
    assert!(
        has(
            &texts,
            "Deploy timeline: default / canary / seed 13: release FAULTY (errors)"
        ),
        "title: {texts:?}"
    );
    let deploy_at = crate::parse(default_toml()).deploy_at.secs_f64();
    let last_mark = events
        .lines()
        .filter(|l| {
            let kind = l.split(',').nth(1).unwrap_or("");
            ["deploy_start", "alert", "analysis_failed", "rollback_start"]
                .iter()
                .chain(&["rollback_complete", "deploy_complete"])
                .any(|k| *k == kind)
        })
        .filter_map(|l| l.split(',').next()?.parse::<f64>().ok())
        .fold(0.0_f64, f64::max)
        - deploy_at;
    assert!(
        last_mark > 0.0 && last_mark < 600.0,
        "last mark {last_mark}"
    );
    let shown = texts
        .iter()
        .find_map(|t| {
            t.split_once("; t ")?
                .1
                .strip_suffix(" s of the trace shown")
        })
        .unwrap_or_else(|| panic!("no shown range: {texts:?}"));
    let (lo, hi) = shown.split_once(" to ").expect("lo to hi");
    let (lo, hi): (f64, f64) = (lo.parse().unwrap(), hi.parse().unwrap());
    assert_eq!(lo, -20.0, "starts 20 s before the deploy");
    assert!(
        hi >= last_mark && hi <= last_mark + (0.15 * last_mark).max(30.0) + 1.0,
        "x axis ends at {hi}, last mark at t+{last_mark}"
    );
    assert!(
        has(&texts, "-20"),
        "a tick before the deploy start: {texts:?}"
    );
    assert!(
        !texts.iter().any(|t| t == "1800" || t == "1000"),
        "the axis runs to the horizon: {texts:?}"
    );
}

/// Issue 15: a tie is reported as a tie. Two identical canaries under different names
/// see the same world seed by seed (common random numbers), so every paired difference
/// is exactly zero and neither can be called better; recreate, down on every deploy,
/// is worse by an interval that excludes zero (every release is healthy here, so its
/// deploy gap is the only thing that varies: ~26 s of a 29-minute window every seed).
#[test]
fn identical_strategies_are_a_tie_in_the_table_json_and_report() {
    let dir = crate::scratch("verdict_tie");
    let d = crate::default_toml().replacen("bad_probability = 0.15", "bad_probability = 0.0", 1);
    let head = d.split("[[strategy]]").next().unwrap_or_default();
    let text = format!(
        "{head}[[strategy]]\nname = \"canary-a\"\nkind = \"canary\"\n\n\
         [[strategy]]\nname = \"canary-b\"\nkind = \"canary\"\n\n\
         [[strategy]]\nname = \"recreate\"\nkind = \"recreate\"\n"
    );
    let f = crate::write(&dir, "tie.toml", &text);
    let out = dir.join("out");
    let o = crate::bin()
        .arg("run")
        .arg(&f)
        .args(["--seeds", "12", "--quiet", "--out"])
        .arg(&out)
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(
        table.contains("a tie: canary-a") && table.contains("cannot be told apart from canary-b"),
        "{table}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("json"))
            .expect("valid json");
    let v = &json["verdict"];
    assert_eq!(v["best"], "canary-a");
    assert_eq!(v["indistinguishable"][0]["strategy"], "canary-b");
    assert_eq!(v["indistinguishable"][0]["mean_diff"], 0.0);
    assert_eq!(v["worse"][0]["strategy"], "recreate");
    assert!(v["worse"][0]["ci_low"].as_f64().expect("interval") > 0.0);
    let html = std::fs::read_to_string(out.join("report.html")).expect("report");
    assert!(
        html.contains("<h2>Verdict</h2>") && html.contains("A tie:"),
        "no verdict in the report"
    );
}
