//! Generated inputs for the user-facing parsers, shared by the proptest harness
//! (`tests/it/fuzz.rs`) and the long fuzz driver (`examples/fuzz.rs`, included there
//! by path): mutated scenario TOML starting from the bundled scenarios, and mutated or
//! generated manifests starting from `tests/manifests/`. Each input is a pure function
//! of a 64-bit seed, so a failure is replayed from the seed alone.
//!
//! `check_scenario` and `check_manifest` are the properties: no panic, and an import
//! that succeeds yields a scenario that validates.

use std::panic::{AssertUnwindSafe, catch_unwind};

/// SplitMix64: a tiny seeded generator (the inputs need variety, not quality).
pub struct Gen(u64);

impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        let n = u64::try_from(n).unwrap_or(u64::MAX).max(1);
        usize::try_from(self.next() % n).unwrap_or(0)
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// Values that have broken parsers before: limits of integer types, non-finite and
/// tiny floats, durations that overflow, malformed percentages, wrong types.
const TOML_VALUES: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "20",
    "5000",
    "2147483647",
    "4294967295",
    "4294967296",
    "4294967276",
    "9223372036854775807",
    "-9223372036854775808",
    "1e6",
    "1e308",
    "-1e308",
    "1e-300",
    "0.5",
    "1.5",
    "nan",
    "inf",
    "-inf",
    "true",
    "\"\"",
    "\" \"",
    "\"0s\"",
    "\"1us\"",
    "\"1s\"",
    "\"30m\"",
    "\"720h\"",
    "\"27777777h\"",
    "\"18446744073710s\"",
    "\"99999999999999999999h\"",
    "\"1e400s\"",
    "\"1.5.5s\"",
    "\"1h1h\"",
    "\"1s1m\"",
    "\"-1s\"",
    "\"5\"",
    "\"25%\"",
    "\"0%\"",
    "\"101%\"",
    "\"1e30%\"",
    "\"nan%\"",
    "\"-5%\"",
    "\"request\"",
    "\"fluid\"",
    "\"rolling\"",
    "\"canary\"",
    "\"flagger\"",
    "\"blue_green\"",
    "\"swarm\"",
    "\"none\"",
    "{}",
    "[]",
    "[1, 2]",
    "[{}]",
    "{ dist = \"lognormal\", median = \"1us\", sigma = 1e300 }",
    "{ dist = \"exponential\", mean = \"0s\" }",
    "{ dist = \"uniform\", min = \"2s\", max = \"1s\" }",
    "{ dist = \"constant\", value = \"10m\" }",
    "{ dist = \"weird\" }",
    "{ period = \"1us\", timeout = \"1s\" }",
    "[ { at = \"1m\", rate = 1e9 }, { at = \"30s\", rate = 1 } ]",
    "[ { kind = \"errors\", weight = 0 } ]",
    "[ { set_weight = 101 }, { pause = {} }, { analysis = false } ]",
    "1979-05-27T07:32:00Z",
];

/// Keys of the format (and near misses), for inserted lines.
const TOML_KEYS: &[&str] = &[
    "name",
    "duration",
    "deploy_at",
    "fidelity",
    "nodes",
    "pods_per_node",
    "node_mtbf",
    "node_mttr",
    "replicas",
    "workers",
    "service_time",
    "queue_limit",
    "timeout",
    "readiness",
    "restart_backoff",
    "rate",
    "users",
    "user_skew",
    "retries",
    "retry_backoff",
    "steps",
    "faults",
    "interval",
    "window",
    "latency_p99_max",
    "max_surge",
    "max_unavailable",
    "parallelism",
    "iterations",
    "step_weights",
    "preview_rate",
    "kind",
    "strategy",
    "replicaz",
];

const TOML_NOISE: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    "[[",
    "]]",
    "\"",
    "'",
    "\"\"\"",
    "'''",
    "#",
    "=",
    ",",
    "\n",
    "\r\n",
    "\u{0}",
    "\u{feff}",
    "\\",
    "\t",
    "[service]",
    "[[strategy]]",
    "[strategy]",
    "é",
];

/// A mutated scenario: a bundled one (or an empty text) after 1 to 6 random edits.
pub fn scenario_input(g: &mut Gen) -> String {
    let bundled = deploysim::scenario::bundled();
    let mut text = if g.chance(50) {
        String::new()
    } else {
        g.pick(bundled).1.to_string()
    };
    let edits = if g.chance(2) { 1 } else { 2 + g.below(5) };
    for _ in 0..edits {
        text = mutate_toml(g, text);
    }
    text
}

fn mutate_toml(g: &mut Gen, text: String) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    let i = g.below(lines.len());
    match g.below(10) {
        // A value replaced (most edits: they reach validation).
        0..=3 => {
            let candidates: Vec<usize> = (0..lines.len())
                .filter(|&j| lines[j].contains(" = "))
                .collect();
            if !candidates.is_empty() {
                let j = *g.pick(&candidates);
                let key = lines[j].split(" = ").next().unwrap_or("").to_string();
                lines[j] = format!("{key} = {}", g.pick(TOML_VALUES));
            }
        }
        4 => {
            lines.remove(i);
        }
        5 => {
            let line = lines[i].clone();
            lines.insert(i, line);
        }
        6 => {
            let line = format!("{} = {}", g.pick(TOML_KEYS), g.pick(TOML_VALUES));
            lines.insert(i, line);
        }
        7 => {
            let j = g.below(lines.len());
            lines.swap(i, j);
        }
        8 => {
            let line = &mut lines[i];
            let at = floor_boundary(line, g.below(line.len() + 1));
            let noise = *g.pick(TOML_NOISE);
            line.insert_str(at, noise);
        }
        _ => {
            let joined = lines.join("\n");
            let cut = floor_boundary(&joined, g.below(joined.len() + 1));
            return joined[..cut].to_string();
        }
    }
    let sep = if g.chance(8) { "\r\n" } else { "\n" };
    lines.join(sep) + sep
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

const MANIFESTS: &[&str] = &[
    include_str!("../manifests/argo-rollout-bluegreen.yaml"),
    include_str!("../manifests/argo-rollout-canary.yaml"),
    include_str!("../manifests/compose.yaml"),
    include_str!("../manifests/flagger-ab.yaml"),
    include_str!("../manifests/flagger-bluegreen.yaml"),
    include_str!("../manifests/flagger-canary.yaml"),
    include_str!("../manifests/k8s-deployment.yaml"),
];

const YAML_VALUES: &[&str] = &[
    "0",
    "1",
    "-1",
    "49",
    "5000",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "18446744073709552",
    "1e400",
    "-1e400",
    "0.5",
    "1.5",
    ".nan",
    ".inf",
    "-.inf",
    "0x10",
    "0o17",
    "~",
    "null",
    "true",
    "\"\"",
    "\"18446744073710\"",
    "\"1e400s\"",
    "\"99999999999h\"",
    "\"0%\"",
    "\"101%\"",
    "\"25%\"",
    "30s",
    "1m",
    "\"-5s\"",
    "500ms",
    "1ns",
    "[]",
    "{}",
    "[1, 2, 3]",
    "{duration: \"18446744073710\"}",
    "&anchor {a: 1}",
    "*anchor",
    "*missing",
    "!!binary aGVsbG8=",
    "!custom x",
    "|\n  block",
];

/// A mutated or generated manifest, as raw bytes (encodings and BOMs included).
pub fn manifest_input(g: &mut Gen) -> Vec<u8> {
    let mut text = match g.below(12) {
        0 => deep_nesting(g),
        1 => alias_fanout(g),
        2 => {
            // A base manifest nested in a `kind: List`.
            let base = g.pick(MANIFESTS);
            let mut t = String::from("apiVersion: v1\nkind: List\nitems:\n");
            for (k, line) in base.lines().enumerate() {
                let lead = if k == 0 { "- " } else { "  " };
                t.push_str(&format!("{lead}{line}\n"));
            }
            t
        }
        _ => g.pick(MANIFESTS).to_string(),
    };
    for _ in 0..1 + g.below(5) {
        text = mutate_yaml(g, text);
    }
    encode(g, text)
}

fn mutate_yaml(g: &mut Gen, text: String) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    let i = g.below(lines.len());
    match g.below(9) {
        0..=3 => {
            // A scalar replaced: `key: value` keeps its key and indentation.
            let candidates: Vec<usize> = (0..lines.len())
                .filter(|&j| lines[j].contains(": ") && !lines[j].trim_end().ends_with(':'))
                .collect();
            if !candidates.is_empty() {
                let j = *g.pick(&candidates);
                let key = lines[j].split(": ").next().unwrap_or("").to_string();
                lines[j] = format!("{key}: {}", g.pick(YAML_VALUES));
            }
        }
        // A duplicate key.
        4 => {
            let line = lines[i].clone();
            lines.insert(i, line);
        }
        5 => {
            lines.remove(i);
        }
        6 => lines.push(format!("---\n{}", g.pick(MANIFESTS))),
        7 => {
            let line = &mut lines[i];
            let at = floor_boundary(line, g.below(line.len() + 1));
            let noise = [
                "\t", "&a ", "*a", "[", "{", "\"", "'", ": ", "- ", "#", "%", "@",
            ];
            let noise = *g.pick(&noise);
            line.insert_str(at, noise);
        }
        _ => {
            let joined = lines.join("\n");
            let cut = floor_boundary(&joined, g.below(joined.len() + 1));
            return joined[..cut].to_string();
        }
    }
    let sep = if g.chance(6) { "\r\n" } else { "\n" };
    lines.join(sep) + sep
}

/// `spec:` followed by a flow sequence or mapping nested up to 5,000 deep.
fn deep_nesting(g: &mut Gen) -> String {
    let depth = 1 + g.below(5_000);
    let (open, close) = if g.chance(2) {
        ("[", "]")
    } else {
        ("{a: ", "}")
    };
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec: {}1{}\n",
        open.repeat(depth),
        close.repeat(depth)
    )
}

/// Anchors that each alias the previous one several times (a small alias bomb when
/// deep enough).
fn alias_fanout(g: &mut Gen) -> String {
    let levels = 1 + g.below(12);
    let fan = 2 + g.below(9);
    let mut t = String::from("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n");
    t.push_str("a0: &a0 [x, x]\n");
    for i in 1..levels {
        let items = vec![format!("*a{}", i - 1); fan].join(", ");
        t.push_str(&format!("a{i}: &a{i} [{items}]\n"));
    }
    t.push_str(&format!("spec: {{replicas: *a{}}}\n", levels - 1));
    t
}

/// UTF-8 (sometimes with a BOM), UTF-16 with a BOM, or UTF-8 with invalid bytes.
fn encode(g: &mut Gen, text: String) -> Vec<u8> {
    match g.below(10) {
        0 => [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat(),
        1 => {
            let mut b = vec![0xFF, 0xFE];
            b.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
            b
        }
        2 => {
            let mut b = vec![0xFE, 0xFF];
            b.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
            b
        }
        3 => {
            let mut b = text.into_bytes();
            let at = g.below(b.len() + 1);
            let choices: [&[u8]; 4] = [&[0xFF], &[0xC3], &[0xED, 0xA0, 0x80], &[0]];
            let bad = *g.pick(&choices);
            b.splice(at..at, bad.iter().copied());
            b
        }
        _ => text.into_bytes(),
    }
}

/// The scenario property: parsing and validating never panics. `Ok(true)` when the
/// input was accepted.
pub fn check_scenario(text: &str) -> Result<bool, String> {
    catch_unwind(AssertUnwindSafe(|| {
        deploysim::scenario::parse(text, "fuzz.toml").is_ok()
    }))
    .map_err(|p| format!("scenario parser panicked: {}", panic_text(&p)))
}

/// The import property: never a panic, and a successful import validates. `Ok(true)`
/// when the import succeeded.
pub fn check_manifest(bytes: &[u8]) -> Result<bool, String> {
    let files = vec![("fuzz.yaml".to_string(), bytes.to_vec())];
    let result = catch_unwind(AssertUnwindSafe(|| {
        deploysim::import::import(&files, None, deploysim::scenario::DEFAULT_TOML)
    }))
    .map_err(|p| format!("importer panicked: {}", panic_text(&p)))?;
    if let Ok(imported) = result {
        let parsed = catch_unwind(AssertUnwindSafe(|| {
            deploysim::scenario::parse(&imported.toml, "imported.toml").map(|_| ())
        }))
        .map_err(|p| format!("parser panicked on an import: {}", panic_text(&p)))?;
        parsed.map_err(|e| format!("an import does not validate: {e}"))?;
        return Ok(true);
    }
    Ok(false)
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(no message)".into())
}

/// The run property: a mutated scenario that validates, cut to a short horizon (at
/// most 5 minutes, deploy at most halfway) and a bounded amount of work, runs every
/// strategy for one seed without a panic (in the test profile that includes integer
/// overflow). `Ok(true)` when it ran.
pub fn check_run(text: &str, seed: u64) -> Result<bool, String> {
    let Ok(parsed) = deploysim::scenario::parse(text, "fuzz.toml") else {
        return Ok(false);
    };
    let mut sc = parsed.scenario;
    let cap = deploysim::sim::SimTime::from_secs(300);
    if sc.duration > cap {
        sc.duration = cap;
    }
    let half = deploysim::sim::SimTime::from_micros(sc.duration.micros() / 2);
    if sc.deploy_at > half {
        sc.deploy_at = half;
    }
    let work = deploysim::scenario::limits::estimate(&sc);
    let small = work.events() <= 2e6
        && u64::from(sc.service.replicas) * u64::from(sc.cluster.nodes) <= 100_000
        && sc.traffic.users <= 1_000_000;
    if !small {
        return Ok(false);
    }
    catch_unwind(AssertUnwindSafe(|| {
        let users = deploysim::world::UserTable::new(&sc.traffic);
        for st in &sc.strategies {
            deploysim::runner::run(&sc, &users, st, seed, false);
        }
    }))
    .map_err(|p| format!("a run panicked: {}", panic_text(&p)))?;
    Ok(true)
}
