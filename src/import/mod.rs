//! `deploysim import`: real rollout configuration -> a complete scenario.
//!
//! Reads Kubernetes Deployments, Argo Rollouts, Flagger Canaries and Compose/Swarm
//! files (YAML or JSON, several documents per file, UTF-8 or UTF-16 with a BOM) and lays
//! the settings they describe over the default scenario text. Every imported value
//! carries a `# from FILE: PATH` comment; every field that steers a rollout, a probe or a
//! shutdown and has no counterpart in the model becomes a warning naming its path.
//! Fields that only say *what* runs (images, ports, labels, selectors, service names)
//! are ignored without a warning.
//!
//! Pure: bytes in, text and warnings out. No file or terminal I/O (the CLI does it),
//! and never a panic on user input.
//!
//! - `decode`: bytes -> text -> generic documents;
//! - `fields`: typed, path-aware reading and unread-key warnings;
//! - `k8s`: Deployment, Argo Rollout, Flagger Canary;
//! - `compose`: Compose / Swarm stack files;
//! - `emit`: the overlay onto the default scenario.

mod compose;
mod decode;
mod emit;
mod fields;
mod k8s;

use serde_json::Value;

use fields::Ctx;

/// The scenario produced by an import, and what could not be carried over.
#[derive(Clone, Debug, PartialEq)]
pub struct Imported {
    /// A complete scenario (TOML) that the scenario parser accepts.
    pub toml: String,
    /// One line per field that could not be mapped or document that was skipped.
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: {reason}")]
    Encoding { file: String, reason: String },
    #[error("{file}:{line}:{column}: invalid {}: {message}", syntax_name(file))]
    Syntax {
        file: String,
        line: u64,
        column: u64,
        message: String,
    },
    #[error("{file}: empty: no YAML or JSON document to import")]
    Empty { file: String },
    #[error("{file}: {path}: {message}")]
    Field {
        file: String,
        path: String,
        message: String,
    },
    #[error(
        "nothing to import: no Deployment, Rollout, Flagger Canary or Compose service found{}",
        skipped_note(.skipped)
    )]
    NothingImportable { skipped: Vec<String> },
    #[error("no service named {wanted:?} (found: {})", .available.join(", "))]
    NoSuchService {
        wanted: String,
        available: Vec<String>,
    },
    #[error("{origin}: {message} (scenario key {key})")]
    Unrunnable {
        /// `FILE: PATH` of the manifest field the offending value came from.
        origin: String,
        key: String,
        message: String,
    },
    #[error("no manifest given")]
    NoFiles,
    #[error("the default scenario text is not valid TOML: {0}")]
    Default(String),
}

fn syntax_name(file: &str) -> &'static str {
    if file.to_ascii_lowercase().ends_with(".json") {
        "JSON"
    } else {
        "YAML"
    }
}

fn skipped_note(skipped: &[String]) -> String {
    if skipped.is_empty() {
        String::new()
    } else {
        format!(" (skipped: {})", skipped.join("; "))
    }
}

/// One scenario value set by an import: `[table] key = value` or, for an inline table
/// such as `readiness`, `[table] key = { sub = value }`.
#[derive(Clone, Debug)]
pub(crate) struct Setting {
    /// `""` for a top-level key.
    pub table: &'static str,
    pub key: &'static str,
    pub sub: Option<&'static str>,
    pub value: toml_edit::Value,
    /// Comment text after `# `, usually `from FILE: PATH`.
    pub comment: String,
}

impl Setting {
    pub fn new(
        table: &'static str,
        key: &'static str,
        value: impl Into<toml_edit::Value>,
        comment: String,
    ) -> Setting {
        Setting {
            table,
            key,
            sub: None,
            value: value.into(),
            comment,
        }
    }
    pub fn sub(
        table: &'static str,
        key: &'static str,
        sub: &'static str,
        value: impl Into<toml_edit::Value>,
        comment: String,
    ) -> Setting {
        Setting {
            table,
            key,
            sub: Some(sub),
            value: value.into(),
            comment,
        }
    }
    fn id(&self) -> String {
        format!(
            "{}.{}{}",
            self.table,
            self.key,
            self.sub.map(|s| format!(".{s}")).unwrap_or_default()
        )
        .trim_start_matches('.')
        .to_string()
    }
}

/// One `key = value   # comment` line of a `[[strategy]]` table.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub key: &'static str,
    pub value: toml_edit::Value,
    pub comment: String,
}

/// One imported `[[strategy]]`.
#[derive(Clone, Debug)]
pub(crate) struct StrategyOut {
    /// Preferred name; made unique when several strategies are imported.
    pub name: String,
    pub kind: &'static str,
    pub entries: Vec<Entry>,
    /// Canary steps, one inline table and its comment each.
    pub steps: Option<Vec<(toml_edit::Value, String)>>,
}

impl StrategyOut {
    pub fn new(name: &str, kind: &'static str) -> StrategyOut {
        StrategyOut {
            name: name.to_string(),
            kind,
            entries: Vec::new(),
            steps: None,
        }
    }
    pub fn set(&mut self, key: &'static str, value: impl Into<toml_edit::Value>, comment: String) {
        self.entries.push(Entry {
            key,
            value: value.into(),
            comment,
        });
    }
}

/// What one controller object (or Compose service) contributes.
#[derive(Clone, Debug)]
pub(crate) struct Unit {
    /// The service name `--service` selects by.
    pub service: String,
    /// The file it came from.
    pub file: String,
    /// Source of the name, for the scenario's `name` comment.
    pub name_comment: String,
    /// Other names `--service` accepts (a Flagger Canary's own name).
    pub aliases: Vec<String>,
    pub settings: Vec<Setting>,
    pub strategies: Vec<StrategyOut>,
}

/// Imports `files` (name, raw bytes) into a complete scenario laid over `default_toml`.
/// `service` selects one Deployment / Rollout / Canary / Compose service by name when
/// the files describe several.
pub fn import(
    files: &[(String, Vec<u8>)],
    service: Option<&str>,
    default_toml: &str,
) -> Result<Imported, ImportError> {
    if files.is_empty() {
        return Err(ImportError::NoFiles);
    }
    let mut warnings = Vec::new();
    let mut parsed: Vec<(String, Vec<Value>)> = Vec::new();
    for (name, bytes) in files {
        let text = decode::text(name, bytes)?;
        let docs = decode::documents(name, &text)?;
        if docs.is_empty() {
            return Err(ImportError::Empty { file: name.clone() });
        }
        parsed.push((name.clone(), docs));
    }

    let mut units = Vec::new();
    let mut skipped = Vec::new();
    let refs = k8s::Refs::collect(&parsed);
    for (file, docs) in &parsed {
        for (index, doc) in docs.iter().enumerate() {
            let label = if docs.len() > 1 {
                format!("{file} (document {})", index + 1)
            } else {
                file.clone()
            };
            let mut ctx = Ctx {
                file: file.clone(),
                label: label.clone(),
                warnings: &mut warnings,
            };
            match classify(doc) {
                Class::Compose => units.extend(compose::import(doc, &mut ctx)?),
                Class::Kube(kind) => {
                    if let Some(unit) = k8s::import(doc, kind, &refs, &parsed, &mut ctx)? {
                        units.push(unit);
                    }
                }
                Class::Other(what) => {
                    let msg = format!(
                        "{label}: {what}: skipped (not a Deployment, Rollout, Flagger Canary or Compose file)"
                    );
                    ctx.warnings.push(msg.clone());
                    skipped.push(msg);
                }
            }
        }
    }
    if units.is_empty() {
        return Err(ImportError::NothingImportable { skipped });
    }
    if let Some(wanted) = service {
        let available: Vec<String> = units.iter().map(|u| u.service.clone()).collect();
        units.retain(|u| u.service == wanted || u.aliases.iter().any(|a| a == wanted));
        if units.is_empty() {
            return Err(ImportError::NoSuchService {
                wanted: wanted.to_string(),
                available,
            });
        }
    }
    let toml = emit::scenario(default_toml, &units, &mut warnings)?;
    check_runnable(&toml)?;
    Ok(Imported { toml, warnings })
}

/// The imported scenario must be one `run` accepts: a value the scenario format
/// refuses (a probe period below its floor, a duration too long) is an error naming
/// the manifest field it came from, read from the value's `# from FILE: PATH` comment.
fn check_runnable(toml: &str) -> Result<(), ImportError> {
    let Err(e) = crate::scenario::parse(toml, "<imported>") else {
        return Ok(());
    };
    let origin = e
        .position
        .as_ref()
        .and_then(|p| p.source_line.split_once("# from ").map(|(_, o)| o.trim()))
        .unwrap_or("the imported manifests")
        .to_string();
    Err(ImportError::Unrunnable {
        origin,
        key: e.path,
        message: e.message,
    })
}

enum Class {
    Compose,
    Kube(k8s::Kind),
    Other(String),
}

fn classify(doc: &Value) -> Class {
    let Value::Object(map) = doc else {
        return Class::Other(format!(
            "a top-level {}",
            if doc.is_array() { "list" } else { "scalar" }
        ));
    };
    let kind = map.get("kind").and_then(Value::as_str);
    let api = map.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    match kind {
        Some(kind) => match k8s::Kind::from(api, kind) {
            Some(k) => Class::Kube(k),
            None => Class::Other(format!("kind {kind:?} (apiVersion {api:?})")),
        },
        None if map.get("services").is_some_and(Value::is_object) => Class::Compose,
        None => Class::Other("a mapping without `kind` or `services`".into()),
    }
}

#[cfg(test)]
mod tests;
