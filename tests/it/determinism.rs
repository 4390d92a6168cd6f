//! Determinism is a tested property: the same (scenario, strategy, seed) gives the same
//! bytes; different seeds differ; every strategy sees the same world before it acts.

use crate::{bin, default_toml, scratch, write};
use std::path::Path;

fn trace(file: &Path, strategy: &str, seed: u64, out: &Path) -> (String, String) {
    let o = bin()
        .args([
            "trace",
            "--strategy",
            strategy,
            "--seed",
            &seed.to_string(),
            "--out",
        ])
        .arg(out)
        .arg(file)
        .output()
        .expect("run trace");
    assert!(
        o.status.success(),
        "trace failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let read = |f: &str| std::fs::read_to_string(out.join(f)).expect("trace file");
    (read("timeline.csv"), read("events.csv"))
}

#[test]
fn trace_is_byte_identical_and_seed_dependent() {
    let dir = scratch("determinism");
    let file = write(&dir, "default.toml", default_toml());
    for s in ["rolling", "recreate", "none"] {
        let a = trace(&file, s, 3, &dir.join(format!("{s}-a")));
        let b = trace(&file, s, 3, &dir.join(format!("{s}-b")));
        assert_eq!(a, b, "{s}: two identical traces differ");
        let c = trace(&file, s, 4, &dir.join(format!("{s}-c")));
        assert_ne!(a.0, c.0, "{s}: seeds 3 and 4 give the same timeline");
    }
}

#[test]
fn every_strategy_sees_the_same_world_before_deploy_at() {
    let dir = scratch("determinism_crn");
    let file = write(&dir, "default.toml", default_toml());
    let sc = crate::parse(default_toml());
    let t0 = sc.deploy_at.second() as u64;
    let before = |text: &str, col_t: usize| -> Vec<String> {
        text.lines()
            .skip(1)
            .filter(|l| {
                l.split(',')
                    .nth(col_t)
                    .and_then(|t| t.parse::<f64>().ok())
                    .is_some_and(|t| t < t0 as f64)
            })
            .map(str::to_string)
            .collect()
    };
    let (tl_none, ev_none) = trace(&file, "none", 11, &dir.join("none"));
    for s in sc.strategies.iter().map(|s| s.name.clone()) {
        let (tl, ev) = trace(&file, &s, 11, &dir.join(&s));
        assert_eq!(
            before(&tl, 0),
            before(&tl_none, 0),
            "{s}: timeline differs from none's before deploy_at"
        );
        assert_eq!(
            before(&ev, 0),
            before(&ev_none, 0),
            "{s}: events differ from none's before deploy_at"
        );
    }
}
