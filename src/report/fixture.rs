//! Test fixtures: small synthetic results directories in the DESIGN.md §6 format, and
//! a well-formedness checker for the SVG the plots produce.
//!
//! The numbers are invented but shaped like real output (faulty every third seed,
//! empty cells for moments that never came, an extra column the report must ignore).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

pub(crate) const STRATEGIES: [&str; 4] = ["rolling", "canary", "blue-green", "none"];

/// A results directory under the system temp dir, removed on drop.
pub(crate) struct ResultsDir {
    pub path: PathBuf,
}

impl Drop for ResultsDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

impl ResultsDir {
    /// An empty directory with a name unique to this process and call.
    pub fn empty(tag: &str) -> ResultsDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("deploysim-report-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp results dir");
        ResultsDir { path }
    }

    /// Every file of a `run` and a `trace`.
    pub fn full(tag: &str) -> ResultsDir {
        let dir = ResultsDir::empty(tag);
        dir.write("runs.csv", &runs_csv());
        dir.write("summary.csv", &summary_csv());
        dir.write("summary.json", SUMMARY_JSON);
        dir.write("compare.csv", COMPARE_CSV);
        dir.write("timeline.csv", &timeline_csv());
        dir.write("events.csv", EVENTS_CSV);
        dir
    }

    pub fn write(&self, name: &str, contents: &str) {
        std::fs::write(self.path.join(name), contents).expect("write fixture file");
    }

    pub fn remove(&self, name: &str) {
        std::fs::remove_file(self.path.join(name)).expect("remove fixture file");
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path.join(name)).expect("read output file")
    }

    pub fn as_path(&self) -> &Path {
        &self.path
    }
}

const RUN_COLUMNS: &str = "scenario,strategy,seed,faulty,fault,outcome,deploy_duration_s,\
requests,failed_requests,impacted_requests,exposed_requests,blast_radius,users_affected,\
user_blast_radius,downtime_s,degraded_s,detect_s,decide_s,rollback_s,exposure_end_s,\
recovery_s,peak_pods,extra_pod_seconds,latency_mean_ms,latency_p50_ms,latency_p99_ms,\
false_rollback,extra_col";

fn runs_csv() -> String {
    let mut out = format!("{RUN_COLUMNS}\n");
    for seed in 0..12u32 {
        let faulty = seed % 3 == 0;
        let s = f64::from(seed);
        for (k, strategy) in STRATEGIES.iter().enumerate() {
            let k = k as f64;
            let none = *strategy == "none";
            let blast = if faulty && !none {
                0.01 + 0.02 * k + 0.001 * s
            } else {
                0.001
            };
            let downtime = if faulty && !none { 10.0 * k + s } else { 0.0 };
            let (detect, decide, rollback) = if faulty && !none {
                (
                    format!("{}", 30.0 + s),
                    format!("{}", 40.0 + s),
                    format!("{}", 20.0 + 5.0 * k),
                )
            } else {
                (String::new(), String::new(), String::new())
            };
            let extra = if none { 0.0 } else { 100.0 * (k + 1.0) + s };
            let fault = if faulty { "errors" } else { "" };
            let outcome = match (none, faulty) {
                (true, _) => "none",
                (false, true) => "rolled_back",
                (false, false) => "completed",
            };
            let duration = if none { String::new() } else { "120".into() };
            out.push_str(&format!(
                "default,{strategy},{seed},{faulty},{fault},{outcome},{duration},\
                 1000,{f},{f},500,{blast},{u},0.05,{downtime},{downtime},{detect},{decide},\
                 {rollback},,0,25,{extra},41.5,35,180,false,ignored\n",
                f = (blast * 1000.0).round(),
                u = (blast * 5000.0).round(),
            ));
        }
    }
    out
}

fn summary_csv() -> String {
    let mut out =
        String::from("scenario,strategy,subset,metric,stat,n,n_censored,estimate,ci_low,ci_high\n");
    for (k, strategy) in STRATEGIES.iter().enumerate() {
        let k = k as f64;
        let mut row = |subset: &str, metric: &str, stat: &str, est: f64, spread: f64| {
            out.push_str(&format!(
                "default,{strategy},{subset},{metric},{stat},12,0,{est},{},{}\n",
                est - spread,
                est + spread
            ));
        };
        row("all", "p_outage", "rate", 0.1 * k, 0.05);
        row("all", "downtime_s", "mean", 3.0 * k, 1.0);
        row("all", "blast_radius", "mean", 0.004 + 0.01 * k, 0.002);
        row("all", "blast_radius", "p95", 0.02 + 0.02 * k, 0.005);
        row("all", "users_affected", "mean", 40.0 * k, 5.0);
        row("all", "detect_s", "p50", 35.0, 4.0);
        row("all", "rollback_s", "p50", 20.0 + 5.0 * k, 2.0);
        row("all", "deploy_duration_s", "p50", 120.0, 0.0);
        row(
            "all",
            "extra_pod_seconds",
            "mean",
            100.0 * (k + 1.0) + 5.5,
            10.0,
        );
        row("faulty", "blast_radius", "mean", 0.012 + 0.02 * k, 0.003);
        row("faulty", "p_outage", "rate", 0.25, 0.2);
        row("faulty", "downtime_s", "mean", 10.0 * k + 4.5, 3.0);
        row("faulty", "rollback_s", "p50", 20.0 + 5.0 * k, 2.0);
        row("healthy", "p_false_rollback", "rate", 0.0, 0.0);
        out.push_str(&format!(
            "default,{strategy},faulty,detect_s,p50,4,1,34,,\n\
             default,{strategy},all,latency_p99_ms,pooled,12,0,180,,\n"
        ));
    }
    out
}

const SUMMARY_JSON: &str = r#"{
  "scenario": "default",
  "scenario_text": "name = \"default\"\ndescription = \"20 replicas at 200 req/s; 15% of releases are <faulty> & flaky\"\n[[strategy]]\nname = \"rolling\"\nkind = \"rolling\"\n",
  "tool_version": "0.1.0",
  "invocation": { "command": ["deploysim", "run", "--seeds", "12", "--out", "results/my dir"], "jobs": 2 }
}"#;

const COMPARE_CSV: &str = "\
scenario,baseline,strategy,subset,metric,n_pairs,mean_diff,ci_low,ci_high,share_better
default,rolling,canary,all,blast_radius,12,-0.0123456,-0.02,-0.004,0.75
default,rolling,blue-green,all,blast_radius,12,0.00412,-0.001,0.009,0.25
default,rolling,none,faulty,downtime_s,4,-3.5,-6.25,-0.75,0.333333
";

fn timeline_csv() -> String {
    let mut out = String::from(
        "t_s,phase,old_pods,new_pods,terminating,old_ready,new_ready,new_weight,requests,\
         failed,impacted,success_ratio,latency_p99_ms\n",
    );
    for t in 0..300u32 {
        let (phase, new, weight) = match t {
            0..60 => ("steady", 0, 0),
            60..150 => ("rolling", (t - 60) / 10, (t - 60) / 2),
            150..200 => ("rolling_back", (200 - t) / 10, 0),
            _ => ("done", 0, 0),
        };
        let old = 20 - new.min(5);
        let terminating = u32::from((150..210).contains(&t)) * 2;
        // A second without requests has no success ratio or latency: empty cells.
        let (ratio, p99) = if t == 100 {
            (String::new(), String::new())
        } else if (120..150).contains(&t) {
            ("0.93".to_string(), "850".to_string())
        } else {
            ("0.999".to_string(), "120".to_string())
        };
        out.push_str(&format!(
            "{t},{phase},{old},{new},{terminating},{old},{new},{weight},200,1,1,{ratio},{p99}\n"
        ));
    }
    out
}

const EVENTS_CSV: &str = "\
t_s,kind,pod,version,node,detail
60,deploy_start,,new,,
61,pod_created,new-0,new,node-1,
125,alert,,,,error rate 0.07 > 0.02
126,analysis_failed,,new,,
150,rollback_start,,old,,
210,deploy_complete,,,,
";

/// Checks that `svg` is one well-formed XML element and returns the text of its
/// `<text>` elements, trimmed.
pub(crate) fn check_svg(svg: &str) -> Vec<String> {
    use quick_xml::Reader;
    use quick_xml::events::Event;

    let mut reader = Reader::from_str(svg);
    let mut depth = 0usize;
    let mut roots = 0usize;
    let mut in_text = false;
    let mut texts = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                if depth == 0 {
                    roots += 1;
                    assert_eq!(e.name().as_ref(), "svg", "the root element is <svg>");
                }
                in_text = e.name().as_ref() == "text";
                depth += 1;
            }
            Ok(Event::End(_)) => {
                depth = depth.checked_sub(1).expect("an end tag without a start");
                in_text = false;
            }
            Ok(Event::Empty(_)) => assert!(depth > 0, "an element outside the root"),
            Ok(Event::Text(t)) if in_text => {
                texts.push(t.into_inner().trim().to_string());
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("malformed SVG at byte {}: {e}", reader.buffer_position()),
        }
    }
    assert_eq!(depth, 0, "unclosed elements at the end of the SVG");
    assert_eq!(roots, 1, "exactly one root element");
    texts
}

/// Whether one of the texts of an SVG (`check_svg`) is exactly `wanted`.
pub(crate) fn has(texts: &[String], wanted: &str) -> bool {
    texts.iter().any(|t| t == wanted)
}
