//! The overlay: imported settings and strategies laid over the default scenario text.
//!
//! Keeps the default's layout and comments for everything not imported; an imported
//! value replaces the default's value and carries its source comment. Inline tables
//! that are partly imported (`readiness`, `restart_backoff`) become dotted keys so each
//! value keeps its own comment. The strategy list is replaced by the imported
//! strategies plus the `none` baseline.

use std::collections::{HashMap, HashSet};

use toml_edit::{ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value};

use super::{ImportError, Setting, StrategyOut, Unit};

pub(crate) fn scenario(
    default_toml: &str,
    units: &[Unit],
    warnings: &mut Vec<String>,
) -> Result<String, ImportError> {
    let mut doc: DocumentMut = default_toml
        .parse()
        .map_err(|e: toml_edit::TomlError| ImportError::Default(e.to_string()))?;

    let first = &units[0];
    let mut names: Vec<&str> = units.iter().map(|u| u.service.as_str()).collect();
    names.dedup();
    if names.len() > 1 {
        warnings.push(format!(
            "several services imported ({}); the scenario is named after {:?} and their \
             service settings must agree (use --service NAME to pick one)",
            names.join(", "),
            first.service
        ));
    }
    set(
        &mut doc,
        "",
        "name",
        first.service.as_str().into(),
        &first.name_comment,
    );
    let mut files: Vec<&str> = Vec::new();
    for unit in units {
        if !files.contains(&unit.file.as_str()) {
            files.push(&unit.file);
        }
    }
    set(
        &mut doc,
        "",
        "description",
        format!("{} imported from {}", first.service, files.join(", ")).into(),
        "the rest of the scenario is the default example",
    );

    let settings = merge_settings(units, warnings);
    apply_settings(&mut doc, &settings);

    let strategies = unique_names(units);
    size_cluster(&mut doc, &strategies);
    let mut list = ArrayOfTables::new();
    for s in &strategies {
        list.push(strategy_table(s));
    }
    let mut none = Table::new();
    none.insert("name", Item::Value("none".into()));
    none.insert(
        "kind",
        Item::Value(commented("none".into(), "baseline: no deployment")),
    );
    none.decor_mut().set_prefix("\n");
    list.push(none);
    doc.remove("strategy");
    doc.insert("strategy", Item::ArrayOfTables(list));
    Ok(doc.to_string())
}

/// An integer `[table] key` of the document, if it is one.
fn int_of(doc: &DocumentMut, table: &str, key: &str) -> Option<u64> {
    let v = doc.get(table)?.get(key)?.as_integer()?;
    u64::try_from(v).ok()
}

/// The entry `key` of a strategy, if it was imported.
fn entry<'s>(s: &'s StrategyOut, key: &str) -> Option<&'s Value> {
    s.entries.iter().find(|e| e.key == key).map(|e| &e.value)
}

/// Pods a strategy runs at its peak for `replicas`: a second full stack for blue/green,
/// Flagger and a routed canary; the surge for a rolling update and a canary without a
/// router (default 25%); the parallelism of a start-first Swarm update.
fn peak_pods(s: &StrategyOut, replicas: u64) -> u64 {
    let surge = || match entry(s, "max_surge") {
        Some(v) => match (v.as_integer(), v.as_str()) {
            (Some(n), _) => u64::try_from(n).unwrap_or(0),
            (None, Some(p)) => {
                let pct: u64 = p.trim_end_matches('%').parse().unwrap_or(100);
                (replicas * pct).div_ceil(100)
            }
            (None, None) => replicas,
        },
        None => replicas.div_ceil(4),
    };
    let extra = match s.kind {
        "blue_green" | "flagger" => replicas,
        "canary" if entry(s, "traffic_routing").and_then(Value::as_bool) != Some(false) => replicas,
        "rolling" | "canary" => surge(),
        "swarm" if entry(s, "order").and_then(Value::as_str) == Some("start-first") => {
            match entry(s, "parallelism").and_then(Value::as_integer) {
                Some(p) if p > 0 => u64::try_from(p).unwrap_or(replicas),
                _ => replicas,
            }
        }
        _ => 0,
    };
    replicas + extra.min(replicas)
}

/// Adds nodes when the cluster has fewer slots than the imported strategies need at
/// their peak, so an imported scenario never fails for room the real cluster has.
fn size_cluster(doc: &mut DocumentMut, strategies: &[StrategyOut]) {
    let (Some(replicas), Some(nodes), Some(per_node)) = (
        int_of(doc, "service", "replicas"),
        int_of(doc, "cluster", "nodes"),
        int_of(doc, "cluster", "pods_per_node"),
    ) else {
        return;
    };
    let need = strategies
        .iter()
        .map(|s| peak_pods(s, replicas))
        .max()
        .unwrap_or(replicas);
    if nodes * per_node >= need || per_node == 0 {
        return;
    }
    let sized = need.div_ceil(per_node);
    let Ok(sized) = i64::try_from(sized) else {
        return;
    };
    set(
        doc,
        "cluster",
        "nodes",
        sized.into(),
        &format!("sized by the import: room for {need} pods at the rollout's peak"),
    );
}

fn commented(mut value: Value, comment: &str) -> Value {
    value.decor_mut().set_prefix(" ");
    value.decor_mut().set_suffix(format!("   # {comment}"));
    value
}

/// Sets `[table] key = value   # comment`, creating the table if the default lacks it.
fn set(doc: &mut DocumentMut, table: &str, key: &str, value: Value, comment: &str) {
    let target = if table.is_empty() {
        doc.as_table_mut()
    } else {
        let entry = doc
            .as_table_mut()
            .entry(table)
            .or_insert_with(|| Item::Table(Table::new()));
        if !entry.is_table() {
            *entry = Item::Table(Table::new());
        }
        match entry.as_table_mut() {
            Some(t) => t,
            None => return,
        }
    };
    target.insert(key, Item::Value(commented(value, comment)));
}

/// All units' settings; the first unit wins a conflict, with a warning.
fn merge_settings(units: &[Unit], warnings: &mut Vec<String>) -> Vec<Setting> {
    let mut merged: Vec<Setting> = Vec::new();
    for unit in units {
        for s in &unit.settings {
            match merged.iter().find(|m| m.id() == s.id()) {
                Some(kept) if kept.value.to_string().trim() != s.value.to_string().trim() => {
                    warnings.push(format!(
                        "{}: {} = {} ({}) differs from {} ({}); kept the first",
                        unit.service,
                        s.id(),
                        s.value.to_string().trim(),
                        s.comment,
                        kept.value.to_string().trim(),
                        kept.comment
                    ));
                }
                Some(_) => {}
                None => merged.push(s.clone()),
            }
        }
    }
    merged
}

fn apply_settings(doc: &mut DocumentMut, settings: &[Setting]) {
    for s in settings.iter().filter(|s| s.sub.is_none()) {
        set(doc, s.table, s.key, s.value.clone(), &s.comment);
    }
    // Partly imported inline tables: dotted keys, the default's other entries kept.
    let mut done: Vec<(&str, &str)> = Vec::new();
    for s in settings.iter().filter(|s| s.sub.is_some()) {
        if done.contains(&(s.table, s.key)) {
            continue;
        }
        done.push((s.table, s.key));
        let parts: Vec<&Setting> = settings
            .iter()
            .filter(|o| o.table == s.table && o.key == s.key && o.sub.is_some())
            .collect();
        let existing: Option<InlineTable> = doc
            .get(s.table)
            .and_then(|t| t.get(s.key))
            .and_then(Item::as_inline_table)
            .cloned();
        let mut dotted = Table::new();
        dotted.set_dotted(true);
        if let Some(existing) = existing {
            for (k, v) in existing.iter() {
                let mut v = v.clone();
                v.decor_mut().set_prefix(" ");
                v.decor_mut().set_suffix("");
                dotted.insert(k, Item::Value(v));
            }
        }
        for p in parts {
            if let Some(sub) = p.sub {
                dotted.insert(sub, Item::Value(commented(p.value.clone(), &p.comment)));
            }
        }
        let table = doc
            .as_table_mut()
            .entry(s.table)
            .or_insert_with(|| Item::Table(Table::new()));
        if let Some(table) = table.as_table_mut() {
            table.insert(s.key, Item::Table(dotted));
        }
    }
}

/// Strategy names, made unique: a clash gets the service name, then a number.
fn unique_names(units: &[Unit]) -> Vec<StrategyOut> {
    let all: Vec<(&Unit, &StrategyOut)> = units
        .iter()
        .flat_map(|u| u.strategies.iter().map(move |s| (u, s)))
        .collect();
    let mut count: HashMap<&str, usize> = HashMap::new();
    for (_, s) in &all {
        *count.entry(s.name.as_str()).or_default() += 1;
    }
    let mut taken: HashSet<String> = HashSet::new();
    let mut out: Vec<StrategyOut> = Vec::new();
    for (unit, s) in &all {
        let clashes = count.get(s.name.as_str()).is_some_and(|n| *n > 1);
        let mut name = if clashes {
            format!("{}-{}", s.name, unit.service)
        } else {
            s.name.clone()
        };
        let base = name.clone();
        let mut n = 2;
        while name == "none" || taken.contains(&name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        taken.insert(name.clone());
        let mut s = (*s).clone();
        s.name = name;
        out.push(s);
    }
    out
}

fn strategy_table(s: &StrategyOut) -> Table {
    let mut t = Table::new();
    t.decor_mut().set_prefix("\n");
    t.insert("name", Item::Value(s.name.as_str().into()));
    t.insert("kind", Item::Value(s.kind.into()));
    for e in &s.entries {
        if e.key == "rollback" {
            continue;
        }
        t.insert(e.key, Item::Value(commented(e.value.clone(), &e.comment)));
    }
    if let Some(steps) = &s.steps {
        let mut arr = toml_edit::Array::new();
        let mut previous: Option<&str> = None;
        for (value, comment) in steps {
            let mut v = value.clone();
            let prefix = match previous {
                Some(c) => format!("   # {c}\n  "),
                None => "\n  ".to_string(),
            };
            v.decor_mut().set_prefix(prefix);
            v.decor_mut().set_suffix("");
            arr.push_formatted(v);
            previous = Some(comment);
        }
        arr.set_trailing_comma(true);
        arr.set_trailing(match previous {
            Some(c) => format!("   # {c}\n"),
            None => String::new(),
        });
        let mut value = Value::Array(arr);
        value.decor_mut().set_prefix(" ");
        t.insert("steps", Item::Value(value));
    }
    // `rollback` last, as in the default scenario.
    for e in s.entries.iter().filter(|e| e.key == "rollback") {
        t.insert(e.key, Item::Value(commented(e.value.clone(), &e.comment)));
    }
    t
}
