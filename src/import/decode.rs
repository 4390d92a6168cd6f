//! Raw manifest bytes -> text -> generic documents (`serde_json::Value`).
//!
//! Owns encoding detection (UTF-8, UTF-16 LE/BE with a byte-order mark), the choice of
//! YAML or JSON parser, multi-document streams and Kubernetes `List` objects. It knows
//! nothing about what the documents mean.

use serde_json::Value;

use super::ImportError;

/// Decodes `bytes` to text: a UTF-8 or UTF-16 byte-order mark decides; without one the
/// bytes must be UTF-8. NUL characters mean a binary file, not a manifest.
pub(crate) fn text(file: &str, bytes: &[u8]) -> Result<String, ImportError> {
    let bad = |reason: String| ImportError::Encoding {
        file: file.to_string(),
        reason,
    };
    let text = if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        String::from_utf8(rest.to_vec())
            .map_err(|e| bad(format!("invalid UTF-8 after the byte-order mark: {e}")))?
    } else if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        utf16(rest, u16::from_le_bytes).map_err(|r| bad(format!("UTF-16 LE: {r}")))?
    } else if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        utf16(rest, u16::from_be_bytes).map_err(|r| bad(format!("UTF-16 BE: {r}")))?
    } else {
        match std::str::from_utf8(bytes) {
            Ok(s) => s.to_string(),
            Err(e) => {
                return Err(bad(format!(
                    "not UTF-8 text (a binary file, or UTF-16 without a byte-order mark?): \
                     invalid byte at offset {}",
                    e.valid_up_to()
                )));
            }
        }
    };
    if let Some(pos) = text.find('\0') {
        return Err(bad(format!(
            "contains a NUL character at offset {pos}: a binary file, not a manifest"
        )));
    }
    Ok(text)
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, String> {
    if !bytes.len().is_multiple_of(2) {
        return Err(format!("odd number of bytes ({})", bytes.len() + 2));
    }
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|e| format!("unpaired surrogate 0x{:04X}", e.unpaired_surrogate()))
}

/// Parses every document of `text`. JSON files (by extension) use the JSON parser so
/// its messages apply; everything else is YAML, which also reads JSON. Empty (null)
/// documents are dropped; `kind: List` objects are flattened into their items.
pub(crate) fn documents(file: &str, text: &str) -> Result<Vec<Value>, ImportError> {
    let docs: Vec<Value> = if file.to_ascii_lowercase().ends_with(".json") {
        let mut out = Vec::new();
        for doc in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
            out.push(doc.map_err(|e| ImportError::Syntax {
                file: file.to_string(),
                line: e.line() as u64,
                column: e.column() as u64,
                message: json_message(&e),
            })?);
        }
        out
    } else {
        serde_saphyr::from_multiple::<Value>(text).map_err(|e| {
            let (line, column) = e
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((0, 0));
            ImportError::Syntax {
                file: file.to_string(),
                line,
                column,
                message: yaml_message(&e),
            }
        })?
    };
    let mut out = Vec::new();
    for doc in docs {
        flatten(doc, &mut out);
    }
    Ok(out)
}

fn flatten(doc: Value, out: &mut Vec<Value>) {
    match doc {
        Value::Null => {}
        Value::Object(mut map)
            if map.get("kind").and_then(Value::as_str) == Some("List")
                && map.get("items").is_some_and(Value::is_array) =>
        {
            if let Some(Value::Array(items)) = map.remove("items") {
                for item in items {
                    flatten(item, out);
                }
            }
        }
        other => out.push(other),
    }
}

/// serde_json appends " at line L column C"; the location is reported separately.
fn json_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    match full.rfind(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full,
    }
}

/// The parser's message on one line, without its snippet and location (reported apart).
fn yaml_message(e: &serde_saphyr::Error) -> String {
    let full = e.without_snippet().to_string();
    let first = full.lines().next().unwrap_or("invalid YAML").trim();
    match first.rfind(" at line ") {
        Some(i) => first[..i].to_string(),
        None => first.to_string(),
    }
}
