//! `report.html`: one self-contained page per results directory.
//!
//! Owns the page layout and the plain-language reading of the numbers. It reads the
//! files of DESIGN.md §6 (`runs.csv` required; `summary.csv`, `summary.json`,
//! `compare.csv` and `timeline.csv` optional: a missing one omits its section), draws
//! the plots in memory and inlines them as SVG markup. The page loads nothing: no
//! scripts, stylesheets, fonts or images from anywhere. All inserted text is escaped.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::data::{Stat, Summary, Table, read_json_optional};
use super::plot::forest::{Diff, forest_svg};
use super::plot::{RUN_PLOTS, run_plot_svgs, trace_plot_svg};
use super::summary::{TABLE, footnote};
use super::{ReportError, escape};

/// Writes `report.html` into `dir` and returns its path.
pub fn render_html(dir: &Path) -> Result<PathBuf, ReportError> {
    let html = build(dir)?;
    let path = dir.join("report.html");
    std::fs::write(&path, html).map_err(|source| ReportError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// What the page says about the scenario and how it was run.
#[derive(Default)]
struct About {
    name: String,
    description: Option<String>,
    scenario_text: Option<String>,
    command: Option<String>,
    /// The `verdict` object of summary.json, when there is one.
    verdict: serde_json::Value,
}

impl About {
    fn read(dir: &Path, runs: &Table) -> Result<About, ReportError> {
        let json = read_json_optional(&dir.join("summary.json"))?.unwrap_or_default();
        let string = |v: &serde_json::Value| v.as_str().map(str::to_string);
        let scenario_text = string(&json["scenario_text"]);
        let toml = scenario_text
            .as_deref()
            .filter(|t| crate::scenario::nesting_ok(t))
            .and_then(|t| t.parse::<toml::Table>().ok())
            .unwrap_or_default();
        let from_toml = |key: &str| toml.get(key).and_then(|v| v.as_str()).map(str::to_string);
        let from_runs = || {
            let col = runs.column("scenario").ok()?;
            runs.rows()
                .first()
                .map(|row| runs.text(row, col).to_string())
                .filter(|s| !s.is_empty())
        };
        let name = string(&json["scenario"])
            .or_else(|| string(&json["scenario"]["name"]))
            .or_else(|| from_toml("name"))
            .or_else(from_runs)
            .or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "results".to_string());
        let description = string(&json["description"])
            .or_else(|| string(&json["scenario"]["description"]))
            .or_else(|| from_toml("description"));
        let command = match &json["invocation"]["command"] {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Array(args) => Some(
                args.iter()
                    .filter_map(|a| a.as_str())
                    .map(shell_word)
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            _ => None,
        };
        Ok(About {
            verdict: json["verdict"].clone(),
            name,
            description,
            scenario_text,
            command,
        })
    }
}

/// An argument as a shell would need it typed.
fn shell_word(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,%+@".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

fn build(dir: &Path) -> Result<String, ReportError> {
    let runs = Table::read_columns(
        &dir.join("runs.csv"),
        Some(&["scenario", "strategy", "faulty"]),
    )?;
    let about = About::read(dir, &runs)?;
    let strategy_col = runs.column("strategy")?;
    let strategies = runs.distinct(strategy_col);
    // Runs and faulty releases of one strategy (every strategy runs the same seeds).
    let (mut n_runs, mut n_faulty) = (0, 0);
    if let (Some(first), Ok(faulty_col)) = (strategies.first(), runs.column("faulty")) {
        for row in runs
            .rows()
            .iter()
            .filter(|r| runs.text(r, strategy_col) == first)
        {
            n_runs += 1;
            if runs.boolean(row, faulty_col)? == Some(true) {
                n_faulty += 1;
            }
        }
    }
    let summary = Summary::read(dir)?;
    let has_summary = !summary.strategies.is_empty();
    let plots = run_plot_svgs(dir)?;
    let timeline = trace_plot_svg(dir)?;
    let compare = Table::read_optional(&dir.join("compare.csv"))?;

    let mut page = String::with_capacity(256 * 1024);
    let title = format!("deploysim report: {}", about.name);
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(page, "<title>{}</title>", escape(&title));
    let _ = writeln!(page, "<style>{STYLE}</style>\n</head>\n<body>\n<main>");

    let _ = writeln!(page, "<header>\n<h1>{}</h1>", escape(&title));
    if let Some(description) = &about.description {
        let _ = writeln!(page, "<p class=\"lead\">{}</p>", escape(description));
    }
    let _ = writeln!(
        page,
        "<p class=\"meta\">{} strategies · {} runs</p>",
        strategies.len(),
        runs.rows().len()
    );
    if let Some(command) = &about.command {
        let _ = writeln!(
            page,
            "<p class=\"meta\">Reproduce with:</p>\n<pre class=\"command\"><code>{}</code></pre>",
            escape(command)
        );
    }
    if let Some(text) = &about.scenario_text {
        let _ = writeln!(
            page,
            "<details>\n<summary>Scenario file</summary>\n<pre><code>{}</code></pre>\n</details>",
            escape(text)
        );
    }
    page.push_str("</header>\n");
    verdict_section(&mut page, &about.verdict);

    if has_summary {
        results_table(&mut page, &strategies, &summary, n_runs, n_faulty);
        page.push_str("<section>\n<h2>In plain words</h2>\n");
        for strategy in &strategies {
            let _ = writeln!(
                page,
                "<p class=\"reading\">{}</p>",
                escape(&paragraph(strategy, &summary))
            );
        }
        page.push_str("</section>\n");
    } else {
        page.push_str(
            "<section>\n<h2>Results</h2>\n<p class=\"meta\">No summary.csv in this \
             directory: the table and the plain-language reading are omitted.</p>\n</section>\n",
        );
    }

    page.push_str("<section>\n<h2>Plots</h2>\n");
    for (stem, svg) in &plots {
        let title = RUN_PLOTS
            .iter()
            .find(|(s, _)| s == stem)
            .map_or(*stem, |(_, t)| t);
        figure(&mut page, title, svg);
    }
    if let Some(svg) = &timeline {
        figure(&mut page, "Deploy timeline", svg);
    }
    page.push_str("</section>\n");

    if let Some(compare) = &compare {
        let baseline = about
            .verdict
            .get("best")
            .and_then(|b| b.as_str())
            .or(strategies.first().map(String::as_str));
        if let Some(baseline) = baseline {
            comparisons(&mut page, compare, baseline, n_runs, n_faulty)?;
        }
    }

    page.push_str("<footer>Generated by deploysim from the files of this directory; re-render with <code>deploysim report DIR</code>.</footer>\n");
    page.push_str("</main>\n</body>\n</html>\n");
    Ok(page)
}

const STYLE: &str = "
:root { color-scheme: light; }
body { margin: 0; background: #f6f6f4; color: #222;
  font: 16px/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 1.7rem; margin: 0 0 .3rem; }
h2 { font-size: 1.3rem; margin: 2rem 0 .6rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
.lead { font-size: 1.1rem; margin: .2rem 0 .6rem; }
.meta { color: #666; margin: .3rem 0; font-size: .95rem; }
pre { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 10px 12px;
  overflow-x: auto; font-size: .85rem; line-height: 1.4; }
pre.command { margin-top: 0; }
details summary { cursor: pointer; color: #245; margin: .4rem 0; }
.table-wrap { overflow-x: auto; background: #fff; border: 1px solid #ddd; border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { padding: 6px 10px; text-align: right; border-bottom: 1px solid #eee; vertical-align: top; }
th { background: #f0f0ee; font-weight: 600; font-size: .82rem; line-height: 1.25; }
th .over { display: block; font-weight: 400; color: #666; font-size: .72rem; margin-top: 2px; }
table.results th, table.results td { padding: 5px 6px; }
table.results td { white-space: nowrap; }
.footnote { font-size: .85rem; }
th:first-child, td:first-child { text-align: left; white-space: nowrap;
  position: sticky; left: 0; background: #fff; }
th:first-child { background: #f0f0ee; }
table.plain th, table.plain td { text-align: left; }
table.plain .num { text-align: right; }
td .ci { display: block; color: #777; font-size: .75rem; white-space: nowrap; }
tbody tr:hover { background: #fafaf6; }
.reading { background: #fff; border-left: 4px solid #0072b2; padding: 8px 12px; margin: .6rem 0; }
figure { margin: 1rem 0 1.6rem; background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 8px; }
figure svg { display: block; width: 100%; height: auto; }
footer { margin-top: 2rem; color: #777; font-size: .85rem; }
";

fn figure(page: &mut String, title: &str, svg: &str) {
    // Inline SVG in HTML needs no namespace declaration; dropping it keeps the page
    // free of any URL, and the role makes the drawing announce its title.
    let svg = svg
        .replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1)
        .replacen(
            "<svg ",
            &format!("<svg role=\"img\" aria-label=\"{}\" ", escape(title)),
            1,
        );
    // The drawing carries its own title (the same files stand alone), so no caption.
    let _ = writeln!(page, "<figure>\n{svg}</figure>");
}

/// How a number of the plain-language reading is shown.
#[derive(Clone, Copy)]
enum Unit {
    Percent,
    Seconds,
}

/// The results table: the columns of the terminal table (`summary::TABLE`), the same
/// cells, each column labelled with the runs it is over, the same footnote.
fn results_table(
    page: &mut String,
    strategies: &[String],
    summary: &Summary,
    n_runs: usize,
    n_faulty: usize,
) {
    page.push_str("<section>\n<h2>Results by strategy</h2>\n");
    page.push_str(
        "<p class=\"meta\">The terminal's table; the 95% confidence interval is below each \
         value, the runs a column is over under its name.</p>\n",
    );
    page.push_str(
        "<div class=\"table-wrap\"><table class=\"results\">\n<thead><tr><th>strategy</th>",
    );
    for c in &TABLE {
        let header: Vec<String> = c.header.split('\n').map(escape).collect();
        let _ = write!(
            page,
            "<th>{}<span class=\"over\">{}</span></th>",
            header.join("<br>"),
            escape(c.over())
        );
    }
    page.push_str("</tr></thead>\n<tbody>\n");
    for strategy in strategies {
        let _ = write!(page, "<tr><td>{}</td>", escape(strategy));
        for c in &TABLE {
            let stat = summary.get(strategy, c.subset, c.metric, c.stat);
            let n = stat.and_then(|s| s.n).map_or(0, |n| n as u64);
            let _ = write!(
                page,
                "<td>{}",
                escape(&c.cell(stat.and_then(|s| s.estimate), n))
            );
            if let Some((lo, hi)) = stat.and_then(|s| Some((s.ci_low?, s.ci_high?))) {
                let _ = write!(
                    page,
                    "<span class=\"ci\">{}–{}</span>",
                    escape(&c.show(lo)),
                    escape(&c.show(hi))
                );
            }
            page.push_str("</td>");
        }
        page.push_str("</tr>\n");
    }
    let _ = writeln!(
        page,
        "</tbody>\n</table></div>\n<p class=\"meta footnote\">{}</p>\n</section>",
        escape(&footnote(n_runs, n_faulty).replace('\n', " "))
    );
}

/// The paired comparisons against `baseline` (the verdict's best) as a forest plot.
fn comparisons(
    page: &mut String,
    compare: &Table,
    baseline: &str,
    n_runs: usize,
    n_faulty: usize,
) -> Result<(), ReportError> {
    let col = |name: &str| compare.column(name);
    let (base, strategy, subset, metric) = (
        col("baseline")?,
        col("strategy")?,
        col("subset")?,
        col("metric")?,
    );
    let (n_pairs, mean, low, high) = (
        col("n_pairs")?,
        col("mean_diff")?,
        col("ci_low")?,
        col("ci_high")?,
    );
    let mut diffs = Vec::new();
    for row in compare
        .rows()
        .iter()
        .filter(|r| compare.text(r, base) == baseline)
    {
        diffs.push(Diff {
            strategy: compare.text(row, strategy).to_string(),
            subset: compare.text(row, subset).to_string(),
            metric: compare.text(row, metric).to_string(),
            n_pairs: compare.number(row, n_pairs)?.map_or(0, |n| n as u64),
            mean: compare.number(row, mean)?,
            low: compare.number(row, low)?,
            high: compare.number(row, high)?,
        });
    }
    let Some(svg) = forest_svg(baseline, &diffs, n_runs as u64, n_faulty as u64) else {
        return Ok(());
    };
    page.push_str("<section>\n<h2>Paired comparisons</h2>\n");
    let _ = writeln!(
        page,
        "<p class=\"meta\">Each strategy against <strong>{}</strong> on the same seeds \
         (per-seed differences, so shared luck cancels out); the rows of compare.csv with \
         baseline {}.</p>",
        escape(baseline),
        escape(baseline)
    );
    figure(page, "Paired differences from the best strategy", &svg);
    page.push_str("</section>\n");
    Ok(())
}

/// A plain-language reading of one strategy's numbers; sentences whose numbers are
/// missing are left out rather than guessed.
fn paragraph(strategy: &str, summary: &Summary) -> String {
    let get = |subset: &str, metric: &str, stat: &str| summary.get(strategy, subset, metric, stat);
    let value = |s: Option<Stat>| s.and_then(|s| s.estimate);
    let mut out = Vec::<String>::new();
    if strategy == "none" {
        out.push(
            "The none baseline never deploys, so its numbers are what the service suffers \
             without any release."
                .to_string(),
        );
    }
    let blast = get("faulty", "blast_radius", "mean");
    if let Some(v) = value(blast) {
        let mut s = format!(
            "With {strategy}, a faulty release reached {} of requests on average{}",
            show(v, Unit::Percent),
            ci_clause(blast, Unit::Percent)
        );
        if let Some(p) = value(get("faulty", "p_outage", "rate")) {
            let _ = write!(
                s,
                ", and {} of faulty releases caused an outage",
                show(p, Unit::Percent)
            );
        }
        out.push(s + ".");
    }
    let downtime = get("faulty", "downtime_s", "mean");
    if let Some(v) = value(downtime) {
        out.push(format!(
            "A faulty release meant {} of downtime on average{}.",
            show(v, Unit::Seconds),
            ci_clause(downtime, Unit::Seconds)
        ));
    }
    let detect = get("faulty", "detect_s", "p50");
    let rollback = get("faulty", "rollback_s", "p50");
    match (value(detect), value(rollback)) {
        (Some(d), Some(r)) => out.push(format!(
            "The problem was detected a median of {} after the deploy began, and a rollback \
             took a median of {} from the decision until all traffic was back on the old \
             version.",
            show(d, Unit::Seconds),
            show(r, Unit::Seconds)
        )),
        (Some(d), None) => out.push(format!(
            "The problem was detected a median of {} after the deploy began.",
            show(d, Unit::Seconds)
        )),
        (None, Some(r)) => out.push(format!(
            "A rollback took a median of {} from the decision until all traffic was back on \
             the old version.",
            show(r, Unit::Seconds)
        )),
        (None, None) => {}
    }
    if let Some(Stat {
        n: Some(n),
        n_censored: Some(censored),
        ..
    }) = detect
        && censored > 0.0
    {
        out.push(format!(
            "In {} of {} faulty runs nothing detected the fault before the horizon.",
            number(censored),
            number(n)
        ));
    }
    let deploy = value(get("all", "deploy_duration_s", "p50"));
    let cost = value(get("all", "extra_pod_seconds", "mean"));
    match (deploy, cost) {
        (Some(d), Some(c)) => out.push(format!(
            "Across all runs a deploy took a median of {} and cost {} extra pod-seconds on \
             average.",
            show(d, Unit::Seconds),
            number(c)
        )),
        (None, Some(c)) => out.push(format!(
            "Across all runs it cost {} extra pod-seconds on average.",
            number(c)
        )),
        (Some(d), None) => out.push(format!(
            "Across all runs a deploy took a median of {}.",
            show(d, Unit::Seconds)
        )),
        (None, None) => {}
    }
    if let Some(p) = value(get("healthy", "p_false_rollback", "rate"))
        && p > 0.0
    {
        out.push(format!(
            "It rolled back a healthy release in {} of healthy runs.",
            show(p, Unit::Percent)
        ));
    }
    if out.is_empty() {
        out.push(format!(
            "summary.csv holds no statistics for {strategy} to describe."
        ));
    }
    out.join(" ")
}

fn ci_clause(stat: Option<Stat>, unit: Unit) -> String {
    stat.and_then(|s| interval(s, unit))
        .map_or_else(String::new, |ci| format!(" ({ci})"))
}

/// "95% CI a–b" when both bounds are present.
fn interval(stat: Stat, unit: Unit) -> Option<String> {
    bounds(stat, unit).map(|b| format!("95% CI {b}"))
}

/// "a–b" with the unit once, when both bounds are present.
fn bounds(stat: Stat, unit: Unit) -> Option<String> {
    let (lo, hi) = (stat.ci_low?, stat.ci_high?);
    Some(match unit {
        Unit::Percent => format!("{}–{}%", number(lo * 100.0), number(hi * 100.0)),
        Unit::Seconds if lo.abs() < 120.0 && hi.abs() < 120.0 => {
            format!("{}–{} s", number(lo), number(hi))
        }
        Unit::Seconds => format!("{}–{}", duration(lo), duration(hi)),
    })
}

fn show(value: f64, unit: Unit) -> String {
    match unit {
        Unit::Percent => format!("{}%", number(value * 100.0)),
        Unit::Seconds => duration(value),
    }
}

/// Seconds as a reader would say them: "42 s", "3 min 20 s", "1.2 h".
fn duration(seconds: f64) -> String {
    let abs = seconds.abs();
    if abs < 120.0 {
        format!("{} s", number(seconds))
    } else if abs < 7200.0 {
        let total = seconds.round() as i64;
        let (minutes, rest) = (total / 60, (total % 60).abs());
        if rest == 0 {
            format!("{minutes} min")
        } else {
            format!("{minutes} min {rest} s")
        }
    } else {
        format!("{} h", number(seconds / 3600.0))
    }
}

/// A number with about three significant digits, without trailing zeros.
fn number(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let abs = v.abs();
    let decimals = match abs {
        a if a == 0.0 || a >= 100.0 => 0,
        a if a >= 10.0 => 1,
        a if a >= 1.0 => 2,
        a if a >= 0.1 => 3,
        _ => 4,
    };
    let text = format!("{v:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    if text == "-0" { "0".to_string() } else { text }
}

/// The verdict of summary.json at the top of the page: the best strategy on the
/// objective, the ones that cannot be told apart from it and those it beats, each with
/// its paired interval (the same numbers as compare.csv with baseline = best).
fn verdict_section(page: &mut String, v: &serde_json::Value) {
    let Some(best) = v["best"].as_str() else {
        return;
    };
    let pp = |x: &serde_json::Value| {
        x.as_f64()
            .map_or("–".to_string(), |x| format!("{:+.3}", 100.0 * x))
    };
    let num = |x: &serde_json::Value| x.as_f64().map_or("–".to_string(), |x| format!("{x:+.0}"));
    let objective = v["objective"].as_str().unwrap_or("blast_radius");
    page.push_str("<section class=\"verdict\">\n<h2>Verdict</h2>\n");
    let best_mean = v["best_mean"]
        .as_f64()
        .map_or("–".to_string(), |x| format!("{:.3}%", 100.0 * x));
    let tied: Vec<&serde_json::Value> = v["indistinguishable"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    if tied.is_empty() {
        let _ = writeln!(
            page,
            "<p><strong>{}</strong> has the lowest mean {} ({} of requests impacted), and every other \
             strategy is worse by a paired 95% interval that excludes zero.</p>",
            escape(best),
            escape(&objective.replace('_', " ")),
            best_mean
        );
    } else {
        let names: Vec<String> = tied
            .iter()
            .filter_map(|t| t["strategy"].as_str().map(escape))
            .collect();
        let _ = writeln!(
            page,
            "<p><strong>A tie:</strong> {} has the lowest mean {} ({}), but it cannot be told apart \
             from {}: their paired 95% intervals include zero. Choose among them on what separates \
             them below.</p>",
            escape(best),
            escape(&objective.replace('_', " ")),
            best_mean,
            names.join(", ")
        );
    }
    page.push_str("<table>\n<thead><tr><th>strategy</th><th>vs best</th><th>difference (pp)</th><th>95% interval</th><th>extra pod·s</th><th>deploy s</th></tr></thead>\n<tbody>\n");
    for (kind, list) in [("tie", &v["indistinguishable"]), ("worse", &v["worse"])] {
        for t in list.as_array().into_iter().flatten() {
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td>{kind}</td><td class=\"num\">{}</td><td class=\"num\">{} .. {}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                escape(t["strategy"].as_str().unwrap_or("")),
                pp(&t["mean_diff"]),
                pp(&t["ci_low"]),
                pp(&t["ci_high"]),
                num(&t["extra_pod_seconds_diff"]),
                num(&t["deploy_duration_s_diff"]),
            );
        }
    }
    page.push_str("</tbody>\n</table>\n<p class=\"meta\">Differences are strategy minus best, paired by seed (compare.csv, baseline = best).</p>\n</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::{ResultsDir, STRATEGIES, check_svg};

    /// Asserts the page pulls in nothing from outside itself.
    fn assert_self_contained(html: &str) {
        let lower = html.to_ascii_lowercase();
        for forbidden in [
            "http://", "https://", "<script", "<link", "src=", "href=", "@import", "url(",
        ] {
            assert!(
                !lower.contains(forbidden),
                "report.html contains {forbidden:?}"
            );
        }
    }

    #[test]
    fn report_is_self_contained_and_has_every_section() {
        let dir = ResultsDir::full("html");
        let path = render_html(dir.as_path()).expect("render");
        assert_eq!(path, dir.as_path().join("report.html"));
        let html = dir.read("report.html");
        assert_self_contained(&html);
        for strategy in STRATEGIES {
            assert!(
                html.contains(&format!("<td>{strategy}</td>")),
                "{strategy} row"
            );
            assert!(html.contains(&format!("With {strategy}, a faulty release")));
        }
        assert!(html.contains("<h1>deploysim report: default</h1>"));
        // Scenario text and description, escaped.
        assert!(html.contains("are &lt;faulty&gt; &amp; flaky"));
        assert!(!html.contains("<faulty>"));
        assert!(html.contains("deploysim run --seeds 12 --out &#39;results/my dir&#39;"));
        assert_eq!(
            html.matches("<svg").count(),
            6,
            "four run plots, the timeline and the forest plot"
        );
        for section in [
            "Results by strategy",
            "In plain words",
            "Plots",
            "Paired comparisons",
        ] {
            assert!(html.contains(&format!("<h2>{section}</h2>")), "{section}");
        }
        // compare.csv against the first strategy (no verdict in this summary.json) as a
        // forest plot: shares in percentage points, each row's interval beside it.
        assert!(html.contains("Each strategy minus rolling"));
        assert!(html.contains(">\u{2212}1.23 [\u{2212}2.00, \u{2212}0.400]</text>"));
        assert!(html.contains(">+0.412 [\u{2212}0.100, +0.900]</text>"));
        assert!(html.contains(">\u{2212}3.50 [\u{2212}6.25, \u{2212}0.750]</text>"));
        assert!(html.contains("Faulty releases only (4 runs)"));
        // Each inlined SVG is itself well-formed.
        for svg in html.split("<svg").skip(1) {
            let end = svg.find("</svg>").expect("closed svg") + "</svg>".len();
            check_svg(&format!("<svg{}", &svg[..end]));
        }
    }

    #[test]
    fn results_table_has_the_terminal_columns_cells_and_footnote() {
        let dir = ResultsDir::full("html-table");
        render_html(dir.as_path()).expect("render");
        let html = dir.read("report.html");
        let table = &html[html
            .find("<table class=\"results\">")
            .expect("results table")..];
        let table = &table[..table.find("</table>").expect("closed")];
        // One header per terminal column, its line breaks kept, the runs it is over below.
        for c in &TABLE {
            let header = c.header.replace('\n', "<br>");
            assert!(
                table.contains(&format!(
                    "<th>{header}<span class=\"over\">{}</span></th>",
                    c.over()
                )),
                "{header}"
            );
        }
        assert_eq!(table.matches("<th>").count(), TABLE.len() + 1);
        // canary (k = 1): blast radius over all runs 0.014 ± 0.002, shown as the terminal
        // shows it; rollback is conditional, so its n (12 in the fixture) is in the cell.
        assert!(table.contains("<td>1.40%<span class=\"ci\">1.20%–1.60%</span></td>"));
        assert!(table.contains("<td>25 (n=12)<span class=\"ci\">23–27</span></td>"));
        assert!(table.contains("<span class=\"over\">faulty releases</span>"));
        assert!(table.contains("<span class=\"over\">healthy releases</span>"));
        // The footnote of the terminal, for 12 runs of which 4 faulty.
        let foot = footnote(12, 4).replace('\n', " ");
        assert!(html.contains(&format!("<p class=\"meta footnote\">{foot}</p>")));
        assert!(foot.starts_with(
            "Columns are over all 12 runs of a strategy, except: `faulty` over the 4"
        ));
    }

    #[test]
    fn plain_words_come_from_the_numbers() {
        let dir = ResultsDir::full("words");
        render_html(dir.as_path()).expect("render");
        let html = dir.read("report.html");
        // canary (index 1): faulty blast radius mean 0.032 ± 0.003.
        assert!(html.contains(
            "With canary, a faulty release reached 3.2% of requests on average \
             (95% CI 2.9–3.5%), and 25% of faulty releases caused an outage."
        ));
        assert!(html.contains("14.5 s of downtime on average (95% CI 11.5–17.5 s)"));
        assert!(html.contains("In 1 of 4 faulty runs nothing detected the fault"));
        assert!(html.contains("a deploy took a median of 2 min and cost 206 extra pod-seconds"));
    }

    #[test]
    fn optional_files_only_omit_their_sections() {
        let dir = ResultsDir::full("html-minimal");
        for file in [
            "summary.csv",
            "summary.json",
            "compare.csv",
            "timeline.csv",
            "events.csv",
        ] {
            dir.remove(file);
        }
        render_html(dir.as_path()).expect("render");
        let html = dir.read("report.html");
        assert_self_contained(&html);
        assert!(!html.contains("Paired comparisons"));
        assert!(!html.contains("In plain words"));
        assert!(html.contains("No summary.csv"));
        assert_eq!(html.matches("<svg").count(), 4);
        // The scenario name falls back to runs.csv.
        assert!(html.contains("<h1>deploysim report: default</h1>"));
    }

    #[test]
    fn missing_runs_csv_is_an_error() {
        let dir = ResultsDir::empty("html-missing");
        let err = render_html(dir.as_path()).unwrap_err();
        assert!(err.to_string().contains("runs.csv"), "{err}");
        assert!(!dir.as_path().join("report.html").exists());
    }

    #[test]
    fn numbers_read_naturally() {
        let cases = [
            (0.0, "0"),
            (1234.5, "1234"),
            (42.25, "42.2"),
            (3.14259, "3.14"),
            (0.5, "0.5"),
            (0.01234, "0.0123"),
            (-0.00001, "0"),
        ];
        for (value, expected) in cases {
            assert_eq!(number(value), expected, "{value}");
        }
        assert_eq!(duration(42.0), "42 s");
        assert_eq!(duration(330.0), "5 min 30 s");
        assert_eq!(duration(120.2), "2 min");
        assert_eq!(duration(9000.0), "2.5 h");
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(shell_word("results/my dir"), "'results/my dir'");
        assert_eq!(shell_word("--seeds"), "--seeds");
    }
}
