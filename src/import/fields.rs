//! Typed, path-aware reading of a generic manifest tree.
//!
//! Owns the conversions every mapper shares (whole numbers, booleans, int-or-percent,
//! Kubernetes seconds, Go/Compose and Argo duration strings) and the bookkeeping that
//! turns every key a mapper did not read into a warning. Knows no manifest kind.

use serde_json::{Map, Value};

use std::collections::HashSet;

use super::ImportError;
use crate::scenario::limits;
use crate::sim::SimTime;

/// Longest duration an import accepts, in microseconds (about 31 years): far below
/// what a `u64` of microseconds holds, so no conversion or sum can wrap.
pub(crate) const MAX_DURATION_US: u64 = 1_000_000_000_000_000;

/// `x` (a finite, non-negative number of `unit_us` microseconds) as a `SimTime`,
/// or `None` if it is negative, not finite or longer than `MAX_DURATION_US`.
pub(crate) fn checked_time(x: f64, unit_us: f64) -> Option<SimTime> {
    let us = (x * unit_us).round();
    // The bound is exactly representable; in 0..=bound the conversion is exact.
    (us.is_finite() && us >= 0.0 && us <= MAX_DURATION_US as f64)
        .then(|| SimTime::from_micros(us as u64))
}

/// Per-file context: the file name for messages and the warnings collected so far.
pub(crate) struct Ctx<'w> {
    pub file: String,
    /// `FILE` or, in a multi-document file, `FILE (document N)`: names the object in
    /// warnings and errors (source comments name the file only).
    pub label: String,
    pub warnings: &'w mut Vec<String>,
}

impl Ctx<'_> {
    /// `# from FILE: PATH`, the comment that follows every imported value.
    pub fn src(&self, path: &str) -> String {
        format!("from {}: {}", self.file, path)
    }
    pub fn warn(&mut self, path: &str, what: &str) {
        self.warnings
            .push(format!("{}: {}: {}", self.label, path, what));
    }
    pub fn err(&self, path: &str, message: impl Into<String>) -> ImportError {
        ImportError::Field {
            file: self.label.clone(),
            path: path.to_string(),
            message: message.into(),
        }
    }
}

/// A value with the path that names it (`spec.strategy.canary.steps[0].setWeight`).
#[derive(Clone)]
pub(crate) struct Node<'a> {
    pub v: &'a Value,
    path: String,
}

/// What a JSON value is, for "expected X, found Y" messages.
fn found(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("a boolean ({b})"),
        Value::Number(n) => format!("a number ({n})"),
        Value::String(s) => format!("a string ({s:?})"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

impl<'a> Node<'a> {
    pub fn new(v: &'a Value, path: &str) -> Node<'a> {
        Node {
            v,
            path: path.to_string(),
        }
    }
    pub fn path(&self) -> &str {
        &self.path
    }
    fn expected(&self, ctx: &Ctx, what: &str) -> ImportError {
        ctx.err(
            &self.path,
            format!("expected {what}, found {}", found(self.v)),
        )
    }

    pub fn obj(&self, ctx: &Ctx) -> Result<Obj<'a>, ImportError> {
        match self.v {
            Value::Object(map) => Ok(Obj::new(map, self.path.clone())),
            _ => Err(self.expected(ctx, "a mapping")),
        }
    }
    pub fn arr(&self, ctx: &Ctx) -> Result<&'a [Value], ImportError> {
        match self.v {
            Value::Array(a) => Ok(a),
            _ => Err(self.expected(ctx, "a list")),
        }
    }
    pub fn str(&self, ctx: &Ctx) -> Result<&'a str, ImportError> {
        self.v
            .as_str()
            .ok_or_else(|| self.expected(ctx, "a string"))
    }
    pub fn bool(&self, ctx: &Ctx) -> Result<bool, ImportError> {
        self.v
            .as_bool()
            .ok_or_else(|| self.expected(ctx, "true or false"))
    }
    pub fn f64(&self, ctx: &Ctx) -> Result<f64, ImportError> {
        match self.v.as_f64() {
            Some(x) if x.is_finite() => Ok(x),
            _ => Err(self.expected(ctx, "a number")),
        }
    }
    /// A non-negative whole number that fits `u32` (`3` or `3.0`).
    pub fn u32(&self, ctx: &Ctx) -> Result<u32, ImportError> {
        if let Some(n) = self.v.as_u64() {
            return u32::try_from(n).map_err(|_| ctx.err(&self.path, format!("{n} is too large")));
        }
        match self.v.as_f64() {
            Some(x) if x >= 0.0 && x.fract() == 0.0 && x <= u32::MAX as f64 => Ok(x as u32),
            _ => Err(self.expected(ctx, "a non-negative whole number")),
        }
    }
    /// A replica count the scenario can run: 1 to `limits::MAX_REPLICAS`.
    pub fn replicas(&self, ctx: &Ctx) -> Result<u32, ImportError> {
        let n = self.u32(ctx)?;
        if n == 0 {
            return Err(ctx.err(
                &self.path,
                "0 replicas: a workload scaled to zero has no rollout to simulate",
            ));
        }
        if n > limits::MAX_REPLICAS {
            return Err(ctx.err(
                &self.path,
                format!(
                    "{n} replicas is above the limit of {}",
                    limits::MAX_REPLICAS
                ),
            ));
        }
        Ok(n)
    }
    /// A name: a string that is not empty or blank.
    pub fn name(&self, ctx: &Ctx) -> Result<&'a str, ImportError> {
        let s = self.str(ctx)?;
        if s.trim().is_empty() {
            return Err(ctx.err(&self.path, "an empty name: the object needs a name"));
        }
        Ok(s)
    }
    /// Kubernetes `*Seconds` fields: a whole number of seconds.
    pub fn seconds(&self, ctx: &Ctx) -> Result<SimTime, ImportError> {
        Ok(SimTime::from_secs(u64::from(self.u32(ctx)?)))
    }
    /// Kubernetes IntOrString for surge/unavailability: `3` or `"25%"`, as a scenario value.
    pub fn int_or_percent(&self, ctx: &Ctx) -> Result<toml_edit::Value, ImportError> {
        let what = "a whole number or a percentage like \"25%\"";
        match self.v {
            Value::Number(_) => {
                Ok(i64::from(self.u32(ctx).map_err(|_| self.expected(ctx, what))?).into())
            }
            Value::String(s) => {
                let digits = s
                    .trim()
                    .strip_suffix('%')
                    .ok_or_else(|| self.expected(ctx, what))?;
                match digits.trim().parse::<u32>() {
                    Ok(p) if p <= 100 => Ok(format!("{p}%").into()),
                    _ => Err(self.expected(ctx, "a percentage between \"0%\" and \"100%\"")),
                }
            }
            _ => Err(self.expected(ctx, what)),
        }
    }
    /// A Go / Compose duration string (`"1m30s"`, `"500ms"`); a bare number is seconds
    /// when `bare_seconds` (Argo pause durations accept `30` and `"30"`).
    pub fn duration(&self, ctx: &Ctx, bare_seconds: bool) -> Result<SimTime, ImportError> {
        let what = if bare_seconds {
            "a duration (seconds, or a string like \"30s\", \"1h\")"
        } else {
            "a duration string like \"30s\", \"1m30s\" or \"500ms\""
        };
        match self.v {
            Value::Number(_) if bare_seconds => self.seconds(ctx),
            Value::String(s) => {
                let s = s.trim();
                if bare_seconds && !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
                    let too_long = || ctx.err(&self.path, format!("duration {s:?} is too long"));
                    let n: u64 = s.parse().map_err(|_| too_long())?;
                    return n
                        .checked_mul(SimTime::MICROS_PER_SEC)
                        .filter(|us| *us <= MAX_DURATION_US)
                        .map(SimTime::from_micros)
                        .ok_or_else(too_long);
                }
                let us = parse_go_duration(s)
                    .map_err(|why| ctx.err(&self.path, format!("{why} in duration {s:?}")))?;
                if us % 1_000 != 0 {
                    return Err(ctx.err(
                        &self.path,
                        format!("duration {s:?} is finer than a millisecond, which the model does not resolve"),
                    ));
                }
                Ok(SimTime::from_micros(us))
            }
            _ => Err(self.expected(ctx, what)),
        }
    }
}

/// Parses a Go `time.ParseDuration` string (also Compose's format) into microseconds.
/// Negative durations are rejected; `"0"` is the only unitless form.
pub(crate) fn parse_go_duration(s: &str) -> Result<u64, String> {
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err("empty string".into());
    }
    if s.starts_with('-') {
        return Err("negative value".into());
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    let mut total: f64 = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| "missing unit (use s, m, h, ms)".to_string())?;
        if num_len == 0 {
            return Err(format!("expected a number at {rest:?}"));
        }
        let number: f64 = rest[..num_len]
            .parse()
            .map_err(|_| format!("bad number {:?}", &rest[..num_len]))?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit_us = match &rest[..unit_len] {
            "ns" => 0.001,
            "us" | "µs" | "μs" => 1.0,
            "ms" => 1e3,
            "s" => 1e6,
            "m" => 60e6,
            "h" => 3600e6,
            other => return Err(format!("unknown unit {other:?} (use ms, s, m, h)")),
        };
        total += number * unit_us;
        rest = &rest[unit_len..];
    }
    checked_time(total, 1.0)
        .map(SimTime::micros)
        .ok_or_else(|| "too long".into())
}

/// A mapping whose keys are ticked off as they are read; `finish` warns about the rest.
pub(crate) struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
    used: HashSet<&'a str>,
}

impl<'a> Obj<'a> {
    pub fn new(map: &'a Map<String, Value>, path: String) -> Obj<'a> {
        Obj {
            map,
            path,
            used: HashSet::new(),
        }
    }
    /// The path of `key` under this mapping.
    pub fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }
    /// The value of `key` (absent or null -> `None`) together with its path.
    pub fn get(&mut self, key: &str) -> Option<(&'a Value, String)> {
        let (k, v) = self.map.get_key_value(key)?;
        self.used.insert(k.as_str());
        if v.is_null() {
            None
        } else {
            Some((v, self.key_path(key)))
        }
    }
    /// Reads `key` with a typed reader (`Node::u32`, ...): `Some((value, path))`.
    pub fn read<T>(
        &mut self,
        ctx: &Ctx,
        key: &str,
        reader: impl FnOnce(&Node<'a>, &Ctx) -> Result<T, ImportError>,
    ) -> Result<Option<(T, String)>, ImportError> {
        match self.get(key) {
            Some((value, path)) => {
                let v = reader(&Node::new(value, &path), ctx)?;
                Ok(Some((v, path)))
            }
            None => Ok(None),
        }
    }
    /// Marks keys that have no counterpart in the model and need no warning
    /// (names, selectors, images: what runs, not how it is rolled out).
    pub fn ignore(&mut self, keys: &[&str]) {
        for key in keys {
            if let Some((k, _)) = self.map.get_key_value(*key) {
                self.used.insert(k.as_str());
            }
        }
    }
    /// Warns about every key that was neither read nor ignored.
    pub fn finish(self, ctx: &mut Ctx) {
        for key in self.map.keys() {
            if !self.used.contains(&key.as_str()) {
                let path = self.key_path(key);
                ctx.warn(&path, "not modeled by deploysim; ignored");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_go_duration;

    #[test]
    fn go_durations() {
        for (s, us) in [
            ("10s", 10_000_000),
            ("1m30s", 90_000_000),
            ("500ms", 500_000),
            ("1h", 3_600_000_000),
            ("1.5h", 5_400_000_000),
            ("0", 0),
            ("2h45m", 9_900_000_000),
        ] {
            assert_eq!(parse_go_duration(s), Ok(us), "{s}");
        }
        for bad in ["", "10", "-5s", "5x", "s", "1..2s"] {
            assert!(parse_go_duration(bad).is_err(), "{bad}");
        }
    }
}
