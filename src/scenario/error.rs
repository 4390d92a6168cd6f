//! `ScenarioError`: one clear message naming the file, the TOML key path and, when
//! known, the line and column with a caret under the offending text.
//!
//! Owns turning byte spans into positions and key paths (by walking the spanned TOML
//! tree). It renders text only: it never prints, exits or decides what is valid.

use std::fmt;
use std::ops::Range;

use toml::de::{DeTable, DeValue};

/// A 1-based line and column (in characters) and the text of that line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub col: usize,
    pub source_line: String,
    /// How many characters the caret underlines (at least 1).
    pub width: usize,
}

impl Position {
    /// The position of byte `span.start` in `text` (clamped to the text).
    pub fn of(text: &str, span: &Range<usize>) -> Position {
        let start = span.start.min(text.len());
        let start = floor_char_boundary(text, start);
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[line_start..]
            .find('\n')
            .map_or(text.len(), |i| line_start + i);
        let source_line = text[line_start..line_end]
            .trim_end_matches('\r')
            .to_string();
        let line = text[..line_start].matches('\n').count() + 1;
        let col = text[line_start..start].chars().count() + 1;
        let end = floor_char_boundary(text, span.end.clamp(start, line_end));
        let width = text[start..end].chars().count().max(1);
        Position {
            line,
            col,
            source_line,
            width,
        }
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A scenario that cannot be read, parsed or validated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioError {
    /// The file as the user named it (or `<embedded>` style labels).
    pub file: String,
    /// TOML key path such as `service.replicas` or `strategy[2].max_surge`; empty when
    /// the problem is the file itself.
    pub path: String,
    pub message: String,
    pub position: Option<Position>,
}

impl ScenarioError {
    pub fn new(file: &str, path: impl Into<String>, message: impl Into<String>) -> Self {
        ScenarioError {
            file: file.to_string(),
            path: path.into(),
            message: message.into(),
            position: None,
        }
    }

    /// Attaches the position of `span` in `text` (if any).
    pub fn at(mut self, text: &str, span: Option<Range<usize>>) -> Self {
        self.position = span.map(|s| Position::of(text, &s));
        self
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}: ", self.file)?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        write!(f, "{}", self.message)?;
        if let Some(p) = &self.position {
            let gutter = " ".repeat(p.line.to_string().len());
            write!(f, "\n{gutter}--> {}:{}:{}", self.file, p.line, p.col)?;
            write!(f, "\n{gutter} |")?;
            write!(f, "\n{} | {}", p.line, p.source_line)?;
            // Tabs in the source line keep the caret aligned only if echoed as tabs.
            let pad: String = p
                .source_line
                .chars()
                .take(p.col - 1)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            write!(f, "\n{gutter} | {pad}{}", "^".repeat(p.width))?;
        }
        Ok(())
    }
}

/// The key path (`service.replicas`, `strategy[2].max_surge`) of the innermost key or
/// value whose span contains byte `pos`, or `""` if none does.
pub fn path_at(root: &DeTable<'_>, pos: usize) -> String {
    let mut path = String::new();
    walk_table(root, pos, &mut path);
    path
}

fn contains(span: &Range<usize>, pos: usize) -> bool {
    span.start <= pos && (pos < span.end || span.start == span.end && pos == span.start)
}

fn push_key(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
}

/// Header tables (`[service]`) span only their header, so their entries lie outside the
/// table's own span: search every entry rather than only those whose span contains `pos`.
fn walk_table(table: &DeTable<'_>, pos: usize, path: &mut String) -> bool {
    for (key, value) in table.iter() {
        let len = path.len();
        push_key(path, key.get_ref());
        if walk_value(value.get_ref(), pos, path) {
            return true;
        }
        if contains(&key.span(), pos) || contains(&value.span(), pos) {
            return true;
        }
        path.truncate(len);
    }
    false
}

fn walk_value(value: &DeValue<'_>, pos: usize, path: &mut String) -> bool {
    match value {
        DeValue::Table(t) => walk_table(t, pos, path),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                if walk_value(item.get_ref(), pos, path) || contains(&item.span(), pos) {
                    return true;
                }
                path.truncate(len);
            }
            false
        }
        _ => false,
    }
}

/// For a TOML syntax error at byte `pos`: the table being written there, read from the
/// nearest header at or above that line (`[service` -> `service`).
pub fn table_at(text: &str, pos: usize) -> Option<String> {
    let pos = floor_char_boundary(text, pos.min(text.len()));
    let line_end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
    text[..line_end].lines().rev().find_map(|line| {
        let t = line.trim_start();
        let inner = t.strip_prefix('[')?;
        let inner = inner.strip_prefix('[').unwrap_or(inner);
        let name: String = inner
            .split(['#', ']'])
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        (!name.is_empty()).then_some(name)
    })
}
