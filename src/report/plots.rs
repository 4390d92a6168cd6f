//! Plots of a results directory, drawn with plotters from the files of DESIGN.md §6.
//!
//! Owns the run plots (`blast_radius`, `downtime`, `rollback` box plots and the
//! `cost_risk` scatter, from `runs.csv` and `summary.csv`) and the trace plot
//! (`timeline`, from `timeline.csv` and `events.csv`). Text is laid out with the font
//! shipped in `assets/fonts`, so plots render the same on a machine without fonts.
//! It reads files and writes images; it never computes statistics that `summary.csv`
//! already holds except the descriptive quantiles a box plot needs.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::drawing::DrawingAreaErrorKind;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};

use super::data::{Summary, Table, mean, quantile};
use super::{PlotFormat, ReportError};

/// The family every text style asks for; the bundled font is registered under it.
const FONT: &str = "sans-serif";

/// Colour-blind-safe (Okabe–Ito) colours, one per strategy in `runs.csv` order.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(230, 159, 0),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(90, 90, 90),
    RGBColor(170, 150, 0),
];

const INK: RGBColor = RGBColor(33, 33, 33);
const MUTED: RGBColor = RGBColor(100, 100, 100);

/// The run plots, as (file stem, title) in the order the report shows them.
pub(crate) const RUN_PLOTS: [(&str, &str); 4] = [
    ("blast_radius", "Blast radius of faulty releases"),
    ("downtime", "Downtime of faulty releases"),
    ("rollback", "Rollback time of faulty releases"),
    ("cost_risk", "Cost and risk"),
];

/// Draws the run plots of `dir` (from `runs.csv`, with intervals from `summary.csv`
/// when present) and returns the files written.
pub fn render_run_plots(dir: &Path, format: PlotFormat) -> Result<Vec<PathBuf>, ReportError> {
    let figures = run_figures(dir)?;
    figures
        .iter()
        .map(|(stem, figure)| write_figure(figure, &dir.join(stem), format))
        .collect()
}

/// Draws `timeline` from `timeline.csv` (and the markers from `events.csv` when
/// present) and returns the file written.
pub fn render_trace_plot(dir: &Path, format: PlotFormat) -> Result<PathBuf, ReportError> {
    let timeline = Timeline::read(dir)?;
    write_figure(
        &AnyFigure::Timeline(timeline),
        &dir.join("timeline"),
        format,
    )
}

/// The run plots as SVG markup, for inlining: (file stem, svg).
pub(crate) fn run_plot_svgs(dir: &Path) -> Result<Vec<(&'static str, String)>, ReportError> {
    run_figures(dir)?
        .into_iter()
        .map(|(stem, figure)| Ok((stem, svg_string(&figure, &dir.join(stem))?)))
        .collect()
}

/// The timeline as SVG markup, or `None` when `dir` holds no `timeline.csv`.
pub(crate) fn trace_plot_svg(dir: &Path) -> Result<Option<String>, ReportError> {
    if !dir.join("timeline.csv").exists() {
        return Ok(None);
    }
    let figure = AnyFigure::Timeline(Timeline::read(dir)?);
    svg_string(&figure, &dir.join("timeline")).map(Some)
}

// ---------------------------------------------------------------------------------
// Backends

/// A plotters error flattened to its message, so one drawing routine serves every
/// backend.
struct DrawError(String);

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for DrawError {
    fn from(error: DrawingAreaErrorKind<E>) -> Self {
        DrawError(error.to_string())
    }
}

type Drawn = Result<(), DrawError>;

/// Registers the bundled font once. It is compiled in, so a failure is a build defect;
/// it is still reported as an error rather than a panic.
fn ensure_font(path: &Path) -> Result<(), ReportError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        let bytes = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
        register_font(FONT, FontStyle::Normal, bytes).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(ReportError::Draw {
            path: path.to_path_buf(),
            message: "the bundled font assets/fonts/DejaVuSans.ttf is invalid".into(),
        })
    }
}

enum AnyFigure {
    Box(BoxPlot),
    Scatter(Scatter),
    Timeline(Timeline),
}

impl AnyFigure {
    fn size(&self) -> (u32, u32) {
        match self {
            AnyFigure::Box(_) => (960, 520),
            AnyFigure::Scatter(_) => (960, 600),
            AnyFigure::Timeline(_) => (960, 920),
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
        root.fill(&WHITE)?;
        match self {
            AnyFigure::Box(plot) => plot.draw(root)?,
            AnyFigure::Scatter(plot) => plot.draw(root)?,
            AnyFigure::Timeline(plot) => plot.draw(root)?,
        }
        root.present()?;
        Ok(())
    }
}

/// Renders to SVG markup; `stem` only names the plot in error messages.
fn svg_string(figure: &AnyFigure, stem: &Path) -> Result<String, ReportError> {
    let path = stem.with_extension("svg");
    ensure_font(&path)?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, figure.size()).into_drawing_area();
        figure
            .draw(&root)
            .map_err(|DrawError(message)| ReportError::Draw {
                path: path.clone(),
                message,
            })?;
    }
    Ok(svg)
}

fn write_figure(
    figure: &AnyFigure,
    stem: &Path,
    format: PlotFormat,
) -> Result<PathBuf, ReportError> {
    let path = stem.with_extension(format.extension());
    match format {
        PlotFormat::Svg => {
            let svg = svg_string(figure, stem)?;
            std::fs::write(&path, svg).map_err(|source| ReportError::Write {
                path: path.clone(),
                source,
            })?;
        }
        PlotFormat::Png => {
            ensure_font(&path)?;
            let root = BitMapBackend::new(&path, figure.size()).into_drawing_area();
            figure
                .draw(&root)
                .map_err(|DrawError(message)| ReportError::Draw {
                    path: path.clone(),
                    message,
                })?;
        }
    }
    Ok(path)
}

// ---------------------------------------------------------------------------------
// Shared drawing helpers

fn text(size: f64, color: RGBColor) -> TextStyle<'static> {
    (FONT, size).into_font().color(&color)
}

/// A title and a one-line explanation above a figure; returns the area below.
fn header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
    height: u32,
) -> Result<DrawingArea<DB, Shift>, DrawError> {
    let (head, body) = root.split_vertically(height);
    head.draw_text(title, &text(22.0, INK), (16, 8))?;
    if !subtitle.is_empty() {
        head.draw_text(subtitle, &text(15.0, MUTED), (16, 36))?;
    }
    Ok(body)
}

/// A tick label without a pointless ".0": plotters prints 20.0 for a count of 20.
fn tick(v: &f64) -> String {
    let text = format!("{v:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// An axis range from `lo` to `hi` with room on both sides, so a point at zero does not
/// sit on the axis line.
fn padded(lo: f64, hi: f64) -> std::ops::Range<f64> {
    let top = upper_bound(hi);
    lo - (top - lo) * 0.03..top
}

/// A sensible upper axis bound for data whose largest value is `max`.
fn upper_bound(max: f64) -> f64 {
    if max.is_finite() && max > 0.0 {
        max * 1.12
    } else {
        1.0
    }
}

// ---------------------------------------------------------------------------------
// Run plots

/// The per-run numbers the run plots need, grouped by strategy in file order.
struct Runs {
    strategies: Vec<String>,
    rows: Vec<Vec<RunRow>>,
}

struct RunRow {
    faulty: bool,
    blast_radius: Option<f64>,
    downtime_s: Option<f64>,
    rollback_s: Option<f64>,
    extra_pod_seconds: Option<f64>,
}

impl Runs {
    fn read(dir: &Path) -> Result<Runs, ReportError> {
        let table = Table::read_columns(
            &dir.join("runs.csv"),
            Some(&[
                "strategy",
                "faulty",
                "blast_radius",
                "downtime_s",
                "rollback_s",
                "extra_pod_seconds",
            ]),
        )?;
        if table.rows().is_empty() {
            return Err(ReportError::Empty {
                path: table.path.clone(),
            });
        }
        let strategy = table.column("strategy")?;
        let faulty = table.column("faulty")?;
        let [blast, downtime, rollback, extra] = [
            "blast_radius",
            "downtime_s",
            "rollback_s",
            "extra_pod_seconds",
        ]
        .map(|c| table.column(c));
        let (blast, downtime, rollback, extra) = (blast?, downtime?, rollback?, extra?);
        let strategies = table.distinct(strategy);
        let mut rows: Vec<Vec<RunRow>> = strategies.iter().map(|_| Vec::new()).collect();
        for row in table.rows() {
            let name = table.text(row, strategy);
            let Some(i) = strategies.iter().position(|s| s == name) else {
                continue;
            };
            rows[i].push(RunRow {
                faulty: table.boolean(row, faulty)?.unwrap_or(false),
                blast_radius: table.number(row, blast)?,
                downtime_s: table.number(row, downtime)?,
                rollback_s: table.number(row, rollback)?,
                extra_pod_seconds: table.number(row, extra)?,
            });
        }
        Ok(Runs { strategies, rows })
    }

    /// A box plot of `value` over faulty releases, scaled by `scale`.
    fn box_plot(
        &self,
        title: &str,
        y_desc: &str,
        scale: f64,
        value: impl Fn(&RunRow) -> Option<f64>,
    ) -> BoxPlot {
        let groups = self
            .strategies
            .iter()
            .zip(&self.rows)
            .enumerate()
            .map(|(i, (name, rows))| {
                let mut values: Vec<f64> = rows
                    .iter()
                    .filter(|r| r.faulty)
                    .filter_map(&value)
                    .map(|v| v * scale)
                    .collect();
                values.sort_by(f64::total_cmp);
                BoxGroup {
                    label: name.clone(),
                    color: PALETTE[i % PALETTE.len()],
                    stats: BoxStats::of(&values),
                    n: values.len(),
                }
            })
            .collect();
        BoxPlot {
            title: title.to_string(),
            y_desc: y_desc.to_string(),
            groups,
        }
    }
}

fn run_figures(dir: &Path) -> Result<Vec<(&'static str, AnyFigure)>, ReportError> {
    let runs = Runs::read(dir)?;
    let summary = Summary::read(dir)?;
    let [blast, downtime, rollback, cost] = RUN_PLOTS.map(|(_, title)| title);
    Ok(vec![
        (
            "blast_radius",
            AnyFigure::Box(
                runs.box_plot(blast, "impacted requests (%)", 100.0, |r| r.blast_radius),
            ),
        ),
        (
            "downtime",
            AnyFigure::Box(runs.box_plot(downtime, "downtime (s)", 1.0, |r| r.downtime_s)),
        ),
        (
            "rollback",
            AnyFigure::Box(runs.box_plot(rollback, "rollback time (s)", 1.0, |r| r.rollback_s)),
        ),
        (
            "cost_risk",
            AnyFigure::Scatter(Scatter::new(cost, &runs, &summary)),
        ),
    ])
}

struct BoxPlot {
    title: String,
    y_desc: String,
    groups: Vec<BoxGroup>,
}

struct BoxGroup {
    label: String,
    color: RGBColor,
    stats: Option<BoxStats>,
    n: usize,
}

struct BoxStats {
    p5: f64,
    q1: f64,
    median: f64,
    q3: f64,
    p95: f64,
    mean: f64,
}

impl BoxStats {
    fn of(sorted: &[f64]) -> Option<BoxStats> {
        let q = |p| quantile(sorted, p);
        Some(BoxStats {
            p5: q(0.05)?,
            q1: q(0.25)?,
            median: q(0.5)?,
            q3: q(0.75)?,
            p95: q(0.95)?,
            mean: mean(sorted)?,
        })
    }
}

impl BoxPlot {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
        let body = header(
            root,
            &self.title,
            "box: 25th–75th percentile · bar: median · whiskers: 5th–95th percentile · \
             dot: mean · n: runs with a value",
            58,
        )?;
        let n = self.groups.len().max(1);
        let y_max = upper_bound(
            self.groups
                .iter()
                .filter_map(|g| g.stats.as_ref())
                .map(|s| s.p95.max(s.mean))
                .fold(0.0, f64::max),
        );
        let mut chart = ChartBuilder::on(&body)
            .margin_left(12)
            .margin_right(24)
            .margin_bottom(8)
            .x_label_area_size(56)
            .y_label_area_size(72)
            .build_cartesian_2d(-0.5..n as f64 - 0.5, 0.0..y_max)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_label_formatter(&tick)
            .max_light_lines(1)
            .light_line_style(RGBColor(242, 242, 242))
            .y_desc(self.y_desc.as_str())
            .label_style(text(14.0, INK))
            .axis_desc_style(text(15.0, INK))
            .draw()?;
        // The categories are drawn by hand (a numeric axis would put ticks between
        // them), each with its sample size underneath.
        let below = Pos::new(HPos::Center, VPos::Top);
        for (i, group) in self.groups.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(i as f64, 0.0));
            root.draw_text(&group.label, &text(15.0, INK).pos(below), (x, y + 10))?;
            let count = format!("n = {}", group.n);
            root.draw_text(&count, &text(13.0, MUTED).pos(below), (x, y + 30))?;
        }
        for (i, group) in self.groups.iter().enumerate() {
            let x = i as f64;
            let Some(s) = &group.stats else {
                let centre = Pos::new(HPos::Center, VPos::Center);
                chart.draw_series(std::iter::once(Text::new(
                    "no data",
                    (x, y_max / 2.0),
                    text(13.0, MUTED).pos(centre),
                )))?;
                continue;
            };
            let color = group.color;
            let line = color.stroke_width(2);
            let (half, cap) = (0.28, 0.12);
            chart.draw_series([
                Rectangle::new(
                    [(x - half, s.q1), (x + half, s.q3)],
                    color.mix(0.25).filled(),
                ),
                Rectangle::new([(x - half, s.q1), (x + half, s.q3)], line),
            ])?;
            chart.draw_series([
                PathElement::new(vec![(x, s.q3), (x, s.p95)], line),
                PathElement::new(vec![(x, s.q1), (x, s.p5)], line),
                PathElement::new(vec![(x - cap, s.p95), (x + cap, s.p95)], line),
                PathElement::new(vec![(x - cap, s.p5), (x + cap, s.p5)], line),
                PathElement::new(
                    vec![(x - half, s.median), (x + half, s.median)],
                    color.stroke_width(4),
                ),
            ])?;
            chart.draw_series([
                Circle::new((x, s.mean), 5, WHITE.filled()),
                Circle::new((x, s.mean), 5, INK.stroke_width(2)),
            ])?;
        }
        Ok(())
    }
}

/// One strategy on the cost–risk plane, with optional 95% intervals.
struct Point {
    label: String,
    color: RGBColor,
    x: f64,
    y: f64,
    x_ci: Option<(f64, f64)>,
    y_ci: Option<(f64, f64)>,
}

struct Scatter {
    title: String,
    points: Vec<Point>,
}

impl Scatter {
    /// Means come from `summary.csv` when it has them (they are the authoritative
    /// estimates, censoring included) and from `runs.csv` otherwise.
    fn new(title: &str, runs: &Runs, summary: &Summary) -> Scatter {
        let mut points = Vec::new();
        for (i, (name, rows)) in runs.strategies.iter().zip(&runs.rows).enumerate() {
            let estimate = |metric: &str, column: fn(&RunRow) -> Option<f64>, scale: f64| {
                let stat = summary.get(name, "all", metric, "mean");
                let fallback = || mean(&rows.iter().filter_map(column).collect::<Vec<_>>());
                let value = stat.and_then(|s| s.estimate).or_else(fallback)?;
                let ci = stat.and_then(|s| Some((s.ci_low? * scale, s.ci_high? * scale)));
                Some((value * scale, ci))
            };
            let x = estimate("extra_pod_seconds", |r| r.extra_pod_seconds, 1.0);
            let y = estimate("blast_radius", |r| r.blast_radius, 100.0);
            if let (Some((x, x_ci)), Some((y, y_ci))) = (x, y) {
                points.push(Point {
                    label: name.clone(),
                    color: PALETTE[i % PALETTE.len()],
                    x,
                    y,
                    x_ci,
                    y_ci,
                });
            }
        }
        Scatter {
            title: title.to_string(),
            points,
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
        let body = header(
            root,
            &self.title,
            "one point per strategy, over all runs · bars: 95% confidence intervals · \
             lower left is cheaper and safer",
            58,
        )?;
        let bounds = |f: fn(&Point) -> (f64, f64)| {
            self.points
                .iter()
                .map(f)
                .fold((0.0_f64, 0.0_f64), |acc, (lo, hi)| {
                    (acc.0.min(lo), acc.1.max(hi))
                })
        };
        let (x_lo, x_hi) = bounds(|p| p.x_ci.map_or((p.x, p.x), |(l, h)| (l.min(p.x), h.max(p.x))));
        let (y_lo, y_hi) = bounds(|p| p.y_ci.map_or((p.y, p.y), |(l, h)| (l.min(p.y), h.max(p.y))));
        let mut chart = ChartBuilder::on(&body)
            .margin_left(12)
            .margin_right(24)
            .margin_bottom(8)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(padded(x_lo, x_hi), padded(y_lo, y_hi))?;
        chart
            .configure_mesh()
            .max_light_lines(1)
            .light_line_style(RGBColor(242, 242, 242))
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .x_desc("mean extra pod-seconds per run (cost)")
            .y_desc("mean blast radius, % of requests (risk)")
            .label_style(text(14.0, INK))
            .axis_desc_style(text(15.0, INK))
            .draw()?;
        for p in &self.points {
            let line = p.color.stroke_width(2);
            let x_cap = (x_hi - x_lo).max(1e-9) * 0.006;
            let y_cap = (y_hi - y_lo).max(1e-9) * 0.01;
            if let Some((lo, hi)) = p.x_ci {
                chart.draw_series([
                    PathElement::new(vec![(lo, p.y), (hi, p.y)], line),
                    PathElement::new(vec![(lo, p.y - y_cap), (lo, p.y + y_cap)], line),
                    PathElement::new(vec![(hi, p.y - y_cap), (hi, p.y + y_cap)], line),
                ])?;
            }
            if let Some((lo, hi)) = p.y_ci {
                chart.draw_series([
                    PathElement::new(vec![(p.x, lo), (p.x, hi)], line),
                    PathElement::new(vec![(p.x - x_cap, lo), (p.x + x_cap, lo)], line),
                    PathElement::new(vec![(p.x - x_cap, hi), (p.x + x_cap, hi)], line),
                ])?;
            }
            chart.draw_series([
                Circle::new((p.x, p.y), 6, p.color.filled()),
                Circle::new((p.x, p.y), 6, WHITE.stroke_width(1)),
            ])?;
        }
        self.draw_labels(root, &chart)?;
        Ok(())
    }

    /// Labels each point beside it, trying positions around the point until one
    /// overlaps neither another label nor a point, so coinciding strategies stay legible.
    fn draw_labels<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
        &self,
        root: &DrawingArea<DB, Shift>,
        chart: &ChartContext<DB, Cartesian2d<X, Y>>,
    ) -> Drawn {
        let style = text(14.0, INK);
        let (x_px, y_px) = chart.plotting_area().get_pixel_range();
        let centres: Vec<(i32, i32)> = self
            .points
            .iter()
            .map(|p| chart.backend_coord(&(p.x, p.y)))
            .collect();
        let mut taken: Vec<[i32; 4]> = centres
            .iter()
            .map(|&(x, y)| [x - 7, y - 7, x + 7, y + 7])
            .collect();
        for (p, &(cx, cy)) in self.points.iter().zip(&centres) {
            let (w, h) = root.estimate_text_size(&p.label, &style)?;
            let (w, h) = (w as i32, h as i32);
            let candidates = [
                (10, -h - 6),
                (10, 6),
                (-w - 10, -h - 6),
                (-w - 10, 6),
                (10, -h / 2),
                (-w - 10, -h / 2),
                (-w / 2, -h - 12),
                (-w / 2, 12),
                (10, -2 * h - 10),
                (10, h + 10),
                (-w - 10, -2 * h - 10),
                (-w - 10, h + 10),
            ];
            let fits = |&(dx, dy): &(i32, i32)| {
                let b = [cx + dx, cy + dy, cx + dx + w, cy + dy + h];
                let inside = b[0] >= x_px.start
                    && b[2] <= x_px.end
                    && b[1] >= y_px.start
                    && b[3] <= y_px.end;
                inside
                    && !taken
                        .iter()
                        .any(|t| b[0] < t[2] && t[0] < b[2] && b[1] < t[3] && t[1] < b[3])
            };
            let (dx, dy) = candidates
                .iter()
                .copied()
                .find(|c| fits(c))
                .unwrap_or(candidates[0]);
            let (x, y) = (cx + dx, cy + dy);
            taken.push([x, y, x + w, y + h]);
            root.draw_text(&p.label, &style, (x, y))?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------
// Trace plot

struct Marker {
    label: &'static str,
    t: f64,
    color: RGBColor,
}

struct Timeline {
    /// The run (scenario / strategy / seed, release and fault, outcome), from the first
    /// line of `trace.txt`; empty when the directory has none.
    run: String,
    /// Simulated second of the deploy start; `t` and the markers count from it.
    t0: f64,
    /// The x range drawn: a little before the deploy to a little after the last mark or
    /// change of state.
    span: (f64, f64),
    t: Vec<f64>,
    old_pods: Vec<Option<f64>>,
    new_pods: Vec<Option<f64>>,
    terminating: Vec<Option<f64>>,
    new_weight: Vec<Option<f64>>,
    success_ratio: Vec<Option<f64>>,
    latency_p99_ms: Vec<Option<f64>>,
    markers: Vec<Marker>,
}

/// One timeline panel: its axis label, its y maximum and its lines with their colours.
type Panel<'a> = (&'static str, f64, Vec<(&'a [Option<f64>], RGBColor)>);

const OLD_COLOR: RGBColor = RGBColor(0, 114, 178);
const NEW_COLOR: RGBColor = RGBColor(213, 94, 0);
const TERMINATING_COLOR: RGBColor = RGBColor(140, 140, 140);

impl Timeline {
    fn read(dir: &Path) -> Result<Timeline, ReportError> {
        let table = Table::read(&dir.join("timeline.csv"))?;
        if table.rows().is_empty() {
            return Err(ReportError::Empty {
                path: table.path.clone(),
            });
        }
        let t_col = table.column("t_s")?;
        let phase = table.column("phase")?;
        let columns = [
            "old_pods",
            "new_pods",
            "terminating",
            "new_weight",
            "success_ratio",
            "latency_p99_ms",
        ]
        .map(|c| table.column(c));
        let mut cols = Vec::with_capacity(columns.len());
        for c in columns {
            cols.push(c?);
        }
        let ready = [table.column("old_ready")?, table.column("new_ready")?];
        let mut series: Vec<Vec<Option<f64>>> = vec![Vec::new(); cols.len()];
        let mut t = Vec::new();
        let mut deploy_start = None;
        // The last second whose state (phase, pods, ready pods, weight) differs from the
        // one before, leaving out ready pods that come and go once the deploy is done.
        let mut last_change = None;
        let mut prev: Option<(String, Vec<Option<f64>>)> = None;
        for row in table.rows() {
            let Some(time) = table.number(row, t_col)? else {
                continue;
            };
            let ph = table.text(row, phase);
            if deploy_start.is_none() && !matches!(ph, "steady" | "") {
                deploy_start = Some(time);
            }
            t.push(time);
            for (values, &col) in series.iter_mut().zip(&cols) {
                values.push(table.number(row, col)?);
            }
            let mut state = vec![table.number(row, cols[0])?, table.number(row, cols[1])?];
            state.push(table.number(row, cols[3])?.map(f64::round));
            if ph != "done" {
                state.push(table.number(row, ready[0])?);
                state.push(table.number(row, ready[1])?);
            }
            let now = (ph.to_string(), state);
            if prev.as_ref().is_some_and(|p| *p != now) {
                last_change = Some(time);
            }
            prev = Some(now);
        }
        let t0 = deploy_start.unwrap_or(0.0);
        for v in &mut t {
            *v -= t0;
        }
        let mut markers = Vec::new();
        if deploy_start.is_some() {
            markers.push(Marker {
                label: "deploy start",
                t: 0.0,
                color: INK,
            });
        }
        if let Some(events) = Table::read_optional(&dir.join("events.csv"))? {
            let t_col = events.column("t_s")?;
            let kind = events.column("kind")?;
            let first = |kinds: &[&str]| -> Result<Option<f64>, ReportError> {
                for row in events.rows() {
                    if kinds.contains(&events.text(row, kind))
                        && let Some(t) = events.number(row, t_col)?
                    {
                        return Ok(Some(t));
                    }
                }
                Ok(None)
            };
            let wanted: [(&'static str, &[&str], RGBColor); 4] = [
                (
                    "detection",
                    &["alert", "analysis_failed"],
                    RGBColor(230, 159, 0),
                ),
                ("rollback start", &["rollback_start"], RGBColor(200, 30, 30)),
                (
                    "rollback complete",
                    &["rollback_complete"],
                    RGBColor(123, 50, 148),
                ),
                ("deploy done", &["deploy_complete"], RGBColor(0, 158, 115)),
            ];
            for (label, kinds, color) in wanted {
                if let Some(t) = first(kinds)? {
                    markers.push(Marker {
                        label,
                        t: t - t0,
                        color,
                    });
                }
            }
        }
        let data_lo = t.first().copied().unwrap_or(0.0);
        let data_hi = t.last().copied().unwrap_or(1.0);
        let last = markers
            .iter()
            .map(|m| m.t)
            .chain(last_change.map(|c| c - t0))
            .fold(0.0_f64, f64::max);
        let margin = (0.15 * last).max(30.0);
        let lo = (-20.0_f64).max(data_lo);
        let span = (lo, (last + margin).min(data_hi).max(lo + 1.0));
        let run = std::fs::read_to_string(dir.join("trace.txt"))
            .ok()
            .and_then(|s| s.lines().next().map(str::to_string))
            .unwrap_or_default();
        let mut series = series.into_iter();
        let mut next = || series.next().unwrap_or_default();
        Ok(Timeline {
            run,
            t0,
            span,
            t,
            old_pods: next(),
            new_pods: next(),
            terminating: next(),
            new_weight: next(),
            success_ratio: next(),
            latency_p99_ms: next(),
            markers,
        })
    }

    /// Runs of consecutive present values, so a missing value leaves a gap in the
    /// line instead of joining across it.
    fn segments(&self, values: &[Option<f64>]) -> Vec<Vec<(f64, f64)>> {
        let mut out = Vec::new();
        let mut current = Vec::new();
        let (lo, hi) = self.span;
        for (&t, v) in self.t.iter().zip(values) {
            if !(lo..=hi).contains(&t) {
                continue;
            }
            match v {
                Some(v) => current.push((t, *v)),
                None if !current.is_empty() => out.push(std::mem::take(&mut current)),
                None => {}
            }
        }
        if !current.is_empty() {
            out.push(current);
        }
        out
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
        let title = if self.run.is_empty() {
            "Deploy timeline".to_string()
        } else {
            format!("Deploy timeline: {}", self.run)
        };
        let subtitle = format!(
            "time from the deploy start (t = 0 at deploy_at, {:.0} s of simulated time); \
             t {:.0} to {:.0} s of the trace shown",
            self.t0, self.span.0, self.span.1
        );
        let body = header(root, &title, &subtitle, 84)?;
        let legend = [
            ("old pods", OLD_COLOR),
            ("new pods", NEW_COLOR),
            ("terminating", TERMINATING_COLOR),
        ];
        let mut x = 16;
        for (label, color) in legend {
            root.draw(&PathElement::new(
                vec![(x, 68), (x + 22, 68)],
                color.stroke_width(3),
            ))?;
            root.draw_text(label, &text(14.0, INK), (x + 28, 61))?;
            x += 28 + root.estimate_text_size(label, &text(14.0, INK))?.0 as i32 + 24;
        }
        // Reserve a row per marker so labels of close moments never overlap.
        let strip_height = 18 * self.markers.len().max(1) as u32 + 6;
        let (strip, panels_area) = body.split_vertically(strip_height);
        let panels = panels_area.split_evenly((4, 1));

        let (t_min, t_max) = self.span;
        let max_of = |values: &[&[Option<f64>]]| {
            values
                .iter()
                .flat_map(|v| v.iter().flatten())
                .fold(0.0_f64, |a, &b| a.max(b))
        };
        let pods = [&self.old_pods, &self.new_pods, &self.terminating];
        let panel_specs: [Panel; 4] = [
            (
                "pods",
                upper_bound(max_of(&pods.map(|v| v.as_slice()))),
                vec![
                    (&self.old_pods, OLD_COLOR),
                    (&self.new_pods, NEW_COLOR),
                    (&self.terminating, TERMINATING_COLOR),
                ],
            ),
            ("new weight (%)", 105.0, vec![(&self.new_weight, NEW_COLOR)]),
            (
                "success ratio",
                1.05,
                vec![(&self.success_ratio, RGBColor(0, 158, 115))],
            ),
            (
                "p99 latency (ms)",
                upper_bound(max_of(&[&self.latency_p99_ms])),
                vec![(&self.latency_p99_ms, RGBColor(204, 121, 167))],
            ),
        ];
        let mut marker_px = Vec::new();
        for (i, (area, (y_desc, y_max, lines))) in panels.iter().zip(panel_specs).enumerate() {
            let last = i == 3;
            let mut chart = ChartBuilder::on(area)
                .margin_left(12)
                .margin_right(24)
                .margin_top(6)
                .margin_bottom(if last { 4 } else { 6 })
                .x_label_area_size(if last { 44 } else { 0 })
                .y_label_area_size(72)
                .build_cartesian_2d(t_min..t_max, 0.0..y_max)?;
            let blank = |_: &f64| String::new();
            let mut mesh = chart.configure_mesh();
            mesh.max_light_lines(1)
                .light_line_style(RGBColor(242, 242, 242))
                .y_labels(4)
                .y_label_formatter(&tick)
                .y_desc(y_desc)
                .label_style(text(13.0, INK))
                .axis_desc_style(text(14.0, INK));
            if last {
                mesh.x_desc("time from the deploy start (s)")
                    .x_label_formatter(&tick);
            } else {
                mesh.x_label_formatter(&blank);
            }
            mesh.draw()?;
            for m in &self.markers {
                chart.draw_series(std::iter::once(DashedPathElement::new(
                    vec![(m.t, 0.0), (m.t, y_max)],
                    6,
                    4,
                    m.color.stroke_width(2),
                )))?;
            }
            for (values, color) in lines {
                chart.draw_series(
                    self.segments(values)
                        .into_iter()
                        .map(|seg| PathElement::new(seg, color.stroke_width(2))),
                )?;
            }
            if i == 0 {
                marker_px = self
                    .markers
                    .iter()
                    .map(|m| chart.backend_coord(&(m.t, 0.0)).0)
                    .collect();
            }
        }
        self.draw_marker_labels(&strip, &marker_px)
    }

    fn draw_marker_labels<DB: DrawingBackend>(
        &self,
        strip: &DrawingArea<DB, Shift>,
        marker_px: &[i32],
    ) -> Drawn {
        let (strip_x, strip_y) = strip.get_pixel_range();
        for (row, (m, &x)) in self.markers.iter().zip(marker_px).enumerate() {
            let style = text(14.0, m.color);
            let label = format!("{} (t{:+.0} s)", m.label, m.t);
            let (w, _) = strip.estimate_text_size(&label, &style)?;
            // Coordinates of a shifted area are relative to its top left corner.
            let x = x - strip_x.start;
            let right_aligned = x + 6 + w as i32 > strip_x.end - strip_x.start;
            let lx = if right_aligned {
                x - 6 - w as i32
            } else {
                x + 6
            };
            let y = 4 + 18 * row as i32;
            strip.draw(&PathElement::new(
                vec![(x, y), (x, strip_y.end - strip_y.start)],
                m.color.stroke_width(2),
            ))?;
            strip.draw_text(&label, &style, (lx, y))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::{ResultsDir, STRATEGIES, check_svg};

    fn has(texts: &[String], wanted: &str) -> bool {
        texts.iter().any(|t| t == wanted)
    }

    #[test]
    fn run_plots_are_well_formed_svg_with_every_strategy_and_axis() {
        let dir = ResultsDir::full("run-plots");
        let files = render_run_plots(dir.as_path(), PlotFormat::Svg).expect("render");
        let names: Vec<String> = files
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "blast_radius.svg",
                "downtime.svg",
                "rollback.svg",
                "cost_risk.svg"
            ]
        );
        let expected_axis = [
            ("blast_radius.svg", "impacted requests (%)"),
            ("downtime.svg", "downtime (s)"),
            ("rollback.svg", "rollback time (s)"),
            ("cost_risk.svg", "mean extra pod-seconds per run (cost)"),
        ];
        for (file, axis) in expected_axis {
            let texts = check_svg(&dir.read(file));
            assert!(has(&texts, axis), "{file} lacks the axis label {axis:?}");
            for strategy in STRATEGIES {
                assert!(has(&texts, strategy), "{file} lacks {strategy}: {texts:?}");
            }
        }
        let cost = check_svg(&dir.read("cost_risk.svg"));
        assert!(has(&cost, "mean blast radius, % of requests (risk)"));
    }

    #[test]
    fn box_plots_count_only_faulty_runs_with_a_value() {
        let dir = ResultsDir::full("box-n");
        render_run_plots(dir.as_path(), PlotFormat::Svg).expect("render");
        // 12 seeds, faulty every third: 4 faulty runs; `none` never rolls back.
        let rollback = check_svg(&dir.read("rollback.svg"));
        assert_eq!(rollback.iter().filter(|t| *t == "n = 4").count(), 3);
        assert!(has(&rollback, "n = 0") && has(&rollback, "no data"));
    }

    #[test]
    fn box_statistics_interpolate_between_order_statistics() {
        let values: Vec<f64> = (0..=100).map(f64::from).collect();
        let s = BoxStats::of(&values).expect("stats");
        assert_eq!(
            (s.p5, s.q1, s.median, s.q3, s.p95),
            (5.0, 25.0, 50.0, 75.0, 95.0)
        );
        assert_eq!(s.mean, 50.0);
        assert!(BoxStats::of(&[]).is_none());
    }

    #[test]
    fn cost_risk_works_without_summary() {
        let dir = ResultsDir::full("no-summary");
        dir.remove("summary.csv");
        render_run_plots(dir.as_path(), PlotFormat::Svg).expect("render");
        let texts = check_svg(&dir.read("cost_risk.svg"));
        for strategy in STRATEGIES {
            assert!(has(&texts, strategy));
        }
    }

    #[test]
    fn timeline_has_four_panels_and_the_moments_marked() {
        let dir = ResultsDir::full("timeline");
        let path = render_trace_plot(dir.as_path(), PlotFormat::Svg).expect("render");
        assert_eq!(path, dir.as_path().join("timeline.svg"));
        let texts = check_svg(&dir.read("timeline.svg"));
        for label in [
            "pods",
            "new weight (%)",
            "success ratio",
            "p99 latency (ms)",
            "time from the deploy start (s)",
            "old pods",
            "new pods",
            "terminating",
            // The fixture's deploy starts at 60 s: its events at 125, 150 and 210 s are
            // shown from there.
            "deploy start (t+0 s)",
            "detection (t+65 s)",
            "rollback start (t+90 s)",
            "deploy done (t+150 s)",
            // Without trace.txt the run is unknown: the plain title.
            "Deploy timeline",
            // 20 s before the deploy to the last mark plus max(30 s, 15% of 150 s).
            "time from the deploy start (t = 0 at deploy_at, 60 s of simulated time); \
             t -20 to 180 s of the trace shown",
            "-20",
        ] {
            assert!(has(&texts, label), "timeline lacks {label:?}: {texts:?}");
        }
    }

    #[test]
    fn timeline_title_names_the_run_from_trace_txt() {
        let dir = ResultsDir::full("timeline-title");
        dir.write(
            "trace.txt",
            "default / canary / seed 13: release FAULTY (errors); outcome rolled_back\nmore\n",
        );
        render_trace_plot(dir.as_path(), PlotFormat::Svg).expect("render");
        let texts = check_svg(&dir.read("timeline.svg"));
        assert!(
            has(
                &texts,
                "Deploy timeline: default / canary / seed 13: release FAULTY (errors); \
                 outcome rolled_back"
            ),
            "{texts:?}"
        );
    }

    #[test]
    fn timeline_without_events_marks_only_the_deploy_start() {
        let dir = ResultsDir::full("timeline-no-events");
        dir.remove("events.csv");
        render_trace_plot(dir.as_path(), PlotFormat::Svg).expect("render");
        let texts = check_svg(&dir.read("timeline.svg"));
        assert!(has(&texts, "deploy start (t+0 s)"));
        assert!(!texts.iter().any(|t| t.starts_with("detection")));
    }

    #[test]
    fn png_is_written_with_the_bitmap_backend() {
        let dir = ResultsDir::full("png");
        let path = render_trace_plot(dir.as_path(), PlotFormat::Png).expect("render");
        assert_eq!(path, dir.as_path().join("timeline.png"));
        let bytes = std::fs::read(&path).expect("png written");
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        // Text must have been rasterised with the bundled font: a blank image with
        // only lines would compress far smaller.
        assert!(
            bytes.len() > 20_000,
            "suspiciously small PNG: {}",
            bytes.len()
        );
    }

    #[test]
    fn missing_runs_csv_is_an_error_naming_the_file() {
        let dir = ResultsDir::empty("missing");
        let err = render_run_plots(dir.as_path(), PlotFormat::Svg).unwrap_err();
        assert!(err.to_string().contains("runs.csv"), "{err}");
        let err = render_trace_plot(dir.as_path(), PlotFormat::Svg).unwrap_err();
        assert!(err.to_string().contains("timeline.csv"), "{err}");
    }

    #[test]
    fn malformed_cells_are_errors_naming_file_line_and_column() {
        let cases = [
            (
                "strategy,faulty,blast_radius,downtime_s,rollback_s,extra_pod_seconds\nx,true,oops,1,1,1\n",
                "line 2, column `blast_radius`: `oops` is not a finite number",
            ),
            (
                "strategy,faulty,blast_radius,downtime_s,rollback_s,extra_pod_seconds\nx,true,0.1,NaN,1,1\n",
                "line 2, column `downtime_s`: `NaN` is not a finite number",
            ),
            (
                "strategy,faulty,blast_radius,downtime_s,rollback_s,extra_pod_seconds\nx,yes,0.1,1,1,1\n",
                "column `faulty`: `yes` is not `true` or `false`",
            ),
            (
                "strategy,faulty,downtime_s\nx,true,1\n",
                "missing column `blast_radius`",
            ),
            (
                "strategy,faulty,blast_radius,downtime_s,rollback_s,extra_pod_seconds\n",
                "no rows",
            ),
        ];
        for (csv, expected) in cases {
            let dir = ResultsDir::empty("malformed");
            dir.write("runs.csv", csv);
            let err = render_run_plots(dir.as_path(), PlotFormat::Svg).unwrap_err();
            let message = err.to_string();
            assert!(
                message.contains("runs.csv") && message.contains(expected),
                "{message}"
            );
        }
    }
}
