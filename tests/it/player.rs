//! Issue 15: `deploysim trace --html` writes `player.html`, a self-contained page that
//! replays the run. The page is loaded in a real browser (headless Chromium, when
//! installed) at two moments given in its hash, and the pods, ready pods, terminating
//! pods and weight it draws are compared with the trace's timeline.csv for that second.

use crate::{bin, default_toml, parse, scratch};
use std::path::Path;
use std::process::Command;

const CHROMIUM: &str = "/usr/bin/chromium";

/// The timeline.csv row of simulated second `t_s`, as header name -> cell.
fn timeline_row(dir: &Path, t_s: u64) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(dir.join("timeline.csv")).expect("timeline.csv");
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .expect("header")
        .split(',')
        .map(String::from)
        .collect();
    let row = lines
        .find(|l| l.split(',').next() == Some(&t_s.to_string()))
        .unwrap_or_else(|| panic!("no timeline row for {t_s}"));
    header
        .into_iter()
        .zip(row.split(',').map(String::from))
        .collect()
}

fn cell(row: &[(String, String)], name: &str) -> f64 {
    row.iter()
        .find(|(h, _)| h == name)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or_else(|| panic!("no number in column {name}"))
}

/// Runs headless Chromium on `url` and returns the DOM after the page's scripts ran.
fn dump_dom(url: &str, profile: &Path) -> String {
    let out = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(url)
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 DOM")
}

/// The value of attribute `name` of the element with id `id` in a dumped DOM.
fn attr(dom: &str, id: &str, name: &str) -> String {
    let start = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element #{id}"));
    let open = dom[..start].rfind('<').expect("tag start");
    let end = start + dom[start..].find('>').expect("tag end");
    let tag = &dom[open..end];
    let key = format!("{name}=\"");
    let at = tag
        .find(&key)
        .unwrap_or_else(|| panic!("#{id} has no {name}: {tag}"));
    let v = &tag[at + key.len()..];
    v[..v.find('"').expect("attribute end")].to_string()
}

/// The text inside the element with id `id`.
fn text_of(dom: &str, id: &str) -> String {
    let start = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element #{id}"));
    let rest = &dom[start..];
    let open = rest.find('>').expect("tag end") + 1;
    let close = rest[open..].find('<').expect("text end");
    rest[open..open + close].to_string()
}

/// Pods drawn, by version: (active, ready, terminating), from the classes of the pod
/// boxes (`pod old ready lb`, `pod new terminating`).
fn pods_drawn(dom: &str, version: &str) -> (u32, u32, u32) {
    let mut n = (0, 0, 0);
    let key = format!("class=\"pod {version}");
    for (i, _) in dom.match_indices(&key) {
        let rest = &dom[i + 7..];
        let classes = &rest[..rest.find('"').expect("class end")];
        if classes.contains("terminating") {
            n.2 += 1;
        } else {
            n.0 += 1;
            n.1 += classes.split(' ').any(|c| c == "ready") as u32;
        }
    }
    n
}

/// Traces `seed` of the default's rolling update with `--html` into a scratch dir and
/// returns the dir and the page text, checked to be self-contained.
fn player_page(seed: u64) -> (std::path::PathBuf, String) {
    let dir = scratch(&format!("player-{seed}"));
    let out = bin()
        .args(["trace", "--strategy", "rolling", "--html", "--seed"])
        .arg(seed.to_string())
        .arg("--out")
        .arg(&dir)
        .output()
        .expect("run deploysim");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(dir.join("player.html")).expect("player.html written");
    // Self-contained: nothing to fetch, the data inline.
    for needle in [
        "http://",
        "https://",
        "<script src",
        "<link",
        "@import",
        "url(",
    ] {
        assert!(!page.contains(needle), "player.html contains {needle:?}");
    }
    assert!(page.contains("<script id=\"data\" type=\"application/json\">"));
    assert!(
        page.len() < 400_000,
        "a 30-minute trace gives a {} byte page",
        page.len()
    );
    (dir, page)
}

/// What the page drew: old and new pods as (active, ready, terminating), the weight.
type Drawn = ((u32, u32, u32), (u32, u32, u32), String);

/// Loads the page at each moment (`#t=` seconds from the deploy start) and compares what
/// it draws with timeline.csv; returns what was drawn.
fn check_moments(dir: &Path, moments: &[u64]) -> Vec<Drawn> {
    let t0 = parse(default_toml()).deploy_at.second() as u64;
    let url = dir
        .join("player.html")
        .canonicalize()
        .expect("absolute path")
        .display()
        .to_string();
    let mut seen = Vec::new();
    for &rel in moments {
        let profile = scratch(&format!("player-chromium-{rel}"));
        let dom = dump_dom(&format!("file://{url}#t={rel}"), &profile);
        let row = timeline_row(dir, t0 + rel);
        assert_eq!(
            text_of(&dom, "clock"),
            format!("t+{rel}s"),
            "clock at t+{rel}s"
        );
        assert_eq!(attr(&dom, "state", "data-t"), rel.to_string());
        let old = pods_drawn(&dom, "old");
        let new = pods_drawn(&dom, "new");
        let want = |c: &str| cell(&row, c) as u32;
        assert_eq!(
            (old.0, old.1, new.0, new.1, old.2 + new.2),
            (
                want("old_pods"),
                want("old_ready"),
                want("new_pods"),
                want("new_ready"),
                want("terminating")
            ),
            "pods drawn at t+{rel}s (old, old ready, new, new ready, terminating) vs timeline.csv"
        );
        assert_eq!(
            attr(&dom, "state", "data-weight"),
            format!("{}", cell(&row, "new_weight").round()),
            "weight at t+{rel}s"
        );
        assert_eq!(
            text_of(&dom, "phase"),
            row.iter().find(|(h, _)| h == "phase").expect("phase").1
        );
        seen.push((old, new, attr(&dom, "state", "data-weight")));
    }
    seen
}

#[test]
fn trace_html_writes_a_self_contained_player_that_replays_the_timeline() {
    // Seed 13 of the default: a faulty release rolled back by a person at about t+776s.
    // Seed 2: a release that crashes later, its pods crash-looping after `done`.
    let (dir13, _) = player_page(13);
    let (dir2, _) = player_page(2);
    if !Path::new(CHROMIUM).exists() {
        eprintln!(
            "SKIP player browser test: {CHROMIUM} is not installed (apt-get install chromium)"
        );
        return;
    }
    // t+30s: mid-rollout, both versions serving; t+800s: rolling back.
    let seen = check_moments(&dir13, &[30, 800]);
    assert_ne!(seen[0], seen[1], "the player moved between the two moments");
    // t+230s: some pods crashed, some of them still listed as ready.
    let seen = check_moments(&dir2, &[230]);
    assert!(
        seen[0].1.1 < seen[0].1.0,
        "crashed pods are not ready: {seen:?}"
    );
}
