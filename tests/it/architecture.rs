//! The layering of docs/ARCHITECTURE.md as a test: every `crate::<module>` path in
//! non-test code of `src/` points to a module of a lower layer, so the module graph
//! has no cycle. Test code (`#[cfg(test)]` modules and files) may reach higher layers
//! to drive a whole run; it is skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, top to bottom; a module may use only modules of a strictly lower
/// layer. Same as the diagram in docs/ARCHITECTURE.md.
const LAYERS: &[&[&str]] = &[
    &["cli"],
    &["import", "report", "sweep"],
    &["runner"],
    &["strategy"],
    &["world"],
    &["analysis"],
    &["metrics"],
    &["scenario", "stats"],
    &["sim", "catalogue"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src dir") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `mod NAME;` / `pub(crate) mod NAME;` right after a `#[cfg(test)]` line.
fn declared_test_file(prev: &str, line: &str) -> Option<String> {
    if !prev.contains("cfg(test)") {
        return None;
    }
    let t = line.trim();
    let t = t
        .strip_prefix("pub(crate) ")
        .or_else(|| t.strip_prefix("pub "))
        .unwrap_or(t);
    let name = t.strip_prefix("mod ")?.strip_suffix(';')?;
    Some(name.to_string())
}

/// An inline `mod NAME {` opening a test module.
fn opens_test_module(prev: &str, line: &str) -> bool {
    let t = line.trim();
    prev.contains("cfg(test)") && t.contains("mod ") && t.ends_with('{')
}

/// The module graph: (from, to) → first place it is used.
fn graph(src: &Path) -> BTreeMap<(String, String), String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    // Files that are test modules (declared behind `#[cfg(test)]`).
    let mut test_files = BTreeSet::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read source");
        let lines: Vec<&str> = text.lines().collect();
        let dir = match f.file_name().and_then(|n| n.to_str()) {
            Some("mod.rs" | "lib.rs") => f.parent().expect("parent").to_path_buf(),
            _ => f.with_extension(""),
        };
        for w in lines.windows(2) {
            if let Some(name) = declared_test_file(w[0], w[1]) {
                test_files.insert(dir.join(format!("{name}.rs")));
            }
        }
    }
    let mut edges = BTreeMap::new();
    for f in &files {
        let rel = f.strip_prefix(src).expect("under src");
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .expect("component")
            .trim_end_matches(".rs")
            .to_string();
        if top == "lib" || top == "main" || test_files.contains(f) {
            continue;
        }
        let text = std::fs::read_to_string(f).expect("read source");
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if i > 0 && opens_test_module(lines[i - 1], line) {
                break;
            }
            let code = line.split("//").next().unwrap_or("");
            let mut rest = code;
            while let Some(at) = rest.find("crate::") {
                rest = &rest[at + "crate::".len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != top {
                    edges
                        .entry((top.clone(), name))
                        .or_insert_with(|| format!("{}:{}", rel.display(), i + 1));
                }
            }
        }
    }
    edges
}

#[test]
fn every_module_uses_only_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = graph(&src);
    // The scan must see the graph at all: these edges exist by design.
    for (a, b) in [
        ("runner", "strategy"),
        ("strategy", "world"),
        ("world", "metrics"),
    ] {
        assert!(
            edges.contains_key(&(a.to_string(), b.to_string())),
            "expected {a} -> {b} in the module graph"
        );
    }
    let mut wrong = Vec::new();
    for ((a, b), at) in &edges {
        match (layer_of(a), layer_of(b)) {
            (Some(la), Some(lb)) if la < lb => {}
            (None, _) | (_, None) => {
                wrong.push(format!("{a} -> {b} ({at}): module not on the layer map"))
            }
            _ => wrong.push(format!("{a} -> {b} ({at}): not a lower layer")),
        }
    }
    assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
}

#[test]
fn a_test_module_is_recognised() {
    assert_eq!(
        declared_test_file("#[cfg(test)]", "pub(crate) mod testkit;"),
        Some("testkit".to_string())
    );
    assert_eq!(declared_test_file("", "mod testkit;"), None);
    assert!(opens_test_module("#[cfg(test)]", "mod tests {"));
    assert!(!opens_test_module("", "mod tests {"));
}
