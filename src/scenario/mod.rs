//! Scenario format: raw TOML -> validated typed model (`model`).
//!
//! Owns turning scenario text into the model (it reads no file: the command line
//! does), the bundled scenarios and the error messages users see for bad input. Two stages, as in ripgrep's flags:
//! `raw` (serde shape, spans) then `validate` (rules, defaults from `defaults`). It must
//! not print, exit or know about the simulator beyond `model`.

pub mod analysis;
mod defaults;
mod error;
mod horizon;
pub mod limits;
pub mod model;
mod raw;
mod validate;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_analysis;

pub use error::{Position, ScenarioError};
pub use model::*;
pub use validate::EXPECT_STATS;

/// The embedded default scenario: what `deploysim example` prints and `run` uses
/// without a scenario argument.
pub const DEFAULT_TOML: &str = include_str!("../../scenarios/default.toml");

/// The scenario files compiled into the binary, as (file stem, text), for `list`.
/// New files under `scenarios/` are appended here.
static BUNDLED: &[(&str, &str)] = &[
    ("default", DEFAULT_TOML),
    (
        "blue-green-capacity",
        include_str!("../../scenarios/blue-green-capacity.toml"),
    ),
    (
        "blue-green-too-small",
        include_str!("../../scenarios/blue-green-too-small.toml"),
    ),
    (
        "canary-1-5",
        include_str!("../../scenarios/canary-1-5.toml"),
    ),
    (
        "crash-loop",
        include_str!("../../scenarios/crash-loop.toml"),
    ),
    ("four-tier", include_str!("../../scenarios/four-tier.toml")),
    ("full-disk", include_str!("../../scenarios/full-disk.toml")),
    (
        "health-checks",
        include_str!("../../scenarios/health-checks.toml"),
    ),
    (
        "low-traffic",
        include_str!("../../scenarios/low-traffic.toml"),
    ),
    (
        "manual-vs-auto",
        include_str!("../../scenarios/manual-vs-auto.toml"),
    ),
    (
        "mixed-version-rolling",
        include_str!("../../scenarios/mixed-version-rolling.toml"),
    ),
    (
        "no-prestop",
        include_str!("../../scenarios/no-prestop.toml"),
    ),
    (
        "node-failures",
        include_str!("../../scenarios/node-failures.toml"),
    ),
    (
        "swarm-rollback-vs-pause",
        include_str!("../../scenarios/swarm-rollback-vs-pause.toml"),
    ),
    (
        "traffic-peak",
        include_str!("../../scenarios/traffic-peak.toml"),
    ),
];

/// A validated scenario and the warnings about it.
#[derive(Clone, Debug)]
pub struct Parsed {
    pub scenario: Scenario,
    /// Complete lines, `warning: <file>: ...`, for stderr (they do not fail the run).
    pub warnings: Vec<String>,
}

/// Parses and validates scenario `text`; `file` names it in messages.
pub fn parse(text: &str, file: &str) -> Result<Parsed, ScenarioError> {
    parse_as(text, file, None)
}

/// Like `parse`, with `fidelity` (the `--fidelity` flag), when given, in place of the
/// file's: the size limits of a run depend on it.
pub fn parse_as(
    text: &str,
    file: &str,
    fidelity: Option<Fidelity>,
) -> Result<Parsed, ScenarioError> {
    if let Some(at) = too_deep(text) {
        let message = format!(
            "invalid TOML: arrays and inline tables nested deeper than {MAX_NESTING} levels"
        );
        return Err(ScenarioError::new(file, "", message).at(text, Some(at..at + 1)));
    }
    let doc = toml::de::DeTable::parse(text).map_err(|e| syntax_error(&e, text, file))?;
    if doc.get_ref().is_empty() {
        return Err(ScenarioError::new(
            file,
            "",
            "the file is empty (or only comments): a scenario needs at least `name` and one \
             [[strategy]] with `name` and `kind`; `deploysim example` prints a complete one",
        ));
    }
    let raw: raw::RawScenario =
        toml::from_str(text).map_err(|e| shape_error(&e, doc.get_ref(), text, file))?;
    let (scenario, warnings) = validate::validate(raw, text, file, fidelity)?;
    let warnings = warnings
        .into_iter()
        .map(|w| format!("warning: {file}: {w}"))
        .collect();
    Ok(Parsed { scenario, warnings })
}

/// The bundled scenarios as (file stem, text).
pub fn bundled() -> &'static [(&'static str, &'static str)] {
    BUNDLED
}

/// The top-level `description` of scenario text, without validating the rest; `None`
/// if the text is not TOML or has no description string.
pub fn description_of(text: &str) -> Option<String> {
    if too_deep(text).is_some() {
        return None;
    }
    let doc = toml::de::DeTable::parse(text).ok()?;
    doc.get_ref()
        .iter()
        .find(|(k, _)| k.get_ref() == "description")
        .and_then(|(_, v)| v.get_ref().as_str().map(str::to_string))
}

/// Deepest nesting of arrays and inline tables accepted (a scenario needs 3 or 4). The
/// toml parser recurses once per level, and after a syntax error it does so without its
/// own depth limit: deeper input would overflow the stack.
pub const MAX_NESTING: usize = 64;

/// The byte offset of the first `[` or `{` nested deeper than `MAX_NESTING`, if any,
/// by a linear scan that skips strings and comments (`[`, `]`, `{`, `}` there are
/// text). Unbalanced closers are ignored: only depth matters.
fn too_deep(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            q @ (b'"' | b'\'') => {
                let triple = b[i..].starts_with(if q == b'"' { b"\"\"\"" } else { b"'''" });
                i += if triple { 3 } else { 1 };
                while i < b.len() {
                    if q == b'"' && b[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if b[i] == q && (!triple || b[i..].starts_with(&[q, q, q])) {
                        // A closing triple quote may be followed by up to two more quotes.
                        i += if triple { 3 } else { 1 };
                        while triple && i < b.len() && b[i] == q {
                            i += 1;
                        }
                        break;
                    }
                    if !triple && b[i] == b'\n' {
                        break; // an unterminated one-line string ends at the line end
                    }
                    i += 1;
                }
                continue;
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Whether `text` is nested shallowly enough (`MAX_NESTING`) for the toml parser to
/// be given it: true for every valid scenario.
pub fn nesting_ok(text: &str) -> bool {
    too_deep(text).is_none()
}

/// A TOML syntax error: name the table being written where it happened.
fn syntax_error(e: &toml::de::Error, text: &str, file: &str) -> ScenarioError {
    let table = e.span().and_then(|s| error::table_at(text, s.start));
    let message = match &table {
        Some(t) => format!("invalid TOML in table [{t}]: {}", e.message()),
        None => format!("invalid TOML: {}", e.message()),
    };
    ScenarioError::new(file, table.unwrap_or_default(), message).at(text, e.span())
}

/// A serde error (unknown key, wrong type, bad value): find its key path by span and
/// phrase the common cases for people.
fn shape_error(
    e: &toml::de::Error,
    doc: &toml::de::DeTable<'_>,
    text: &str,
    file: &str,
) -> ScenarioError {
    let mut path = e
        .span()
        .map(|s| error::path_at(doc, s.start))
        .unwrap_or_default();
    let msg = e.message().trim();
    let section = |path: &str| match path.rfind('.') {
        Some(i) if path[..i].contains('[') => format!("in {}", &path[..i]),
        Some(i) => format!("in [{}]", &path[..i]),
        None => "at the top level".to_string(),
    };
    let message = if let Some(key) = backticked(msg, "unknown field `") {
        let expected = msg.split_once(", expected ").map(|(_, x)| x);
        let mut m = format!("unknown key `{key}` {}", section(&path));
        if let Some(x) = expected {
            m.push_str(&format!(" (expected {x})"));
        }
        m
    } else if let Some(key) = backticked(msg, "missing field `") {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
        "required key is missing".to_string()
    } else {
        plain_type_message(msg).unwrap_or_else(|| msg.to_string())
    };
    ScenarioError::new(file, path, message).at(text, e.span())
}

/// serde's `invalid type: string "20", expected i64` in words a person uses.
fn plain_type_message(msg: &str) -> Option<String> {
    let rest = msg.strip_prefix("invalid type: ")?;
    let (found, expected) = rest.split_once(", expected ")?;
    let want = match expected.trim() {
        "i64" | "u64" | "i32" | "u32" | "u8" | "u16" | "usize" => "a whole number",
        "f64" | "f32" => "a number",
        "a boolean" | "bool" => "true or false",
        other => return Some(format!("expected {other}, found {found}")),
    };
    let hint = if found.starts_with("string") && want != "true or false" {
        " (write the number without quotes)"
    } else {
        ""
    };
    Some(format!("expected {want}, found {found}{hint}"))
}

/// The text between `prefix` and the next backtick, if `msg` starts with `prefix`.
fn backticked<'a>(msg: &'a str, prefix: &str) -> Option<&'a str> {
    msg.strip_prefix(prefix)?.split('`').next()
}
