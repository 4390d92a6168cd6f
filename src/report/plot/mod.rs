//! Plots of a results directory, drawn with plotters from the files of DESIGN.md §6.
//!
//! Owns the list of plots and their entry points: the run plots (`blast_radius`,
//! `downtime`, `rollback` box plots in `boxplot`, the `cost_risk` scatter in
//! `scatter`, from `runs.csv` and `summary.csv`) and the trace plot (`timeline`, from
//! `timeline.csv` and `events.csv`). The files are read in `read`, the backends (SVG,
//! PNG, the bundled font) are in `backend`, shared styles in `style`; the paired
//! comparisons of `report.html` are drawn in `forest`. Text is laid out with the font
//! shipped in `assets/fonts`, so plots render the same on a machine without fonts.
//! It reads files and writes images; it never computes statistics that `summary.csv`
//! already holds except the descriptive quantiles a box plot needs.

mod backend;
mod boxplot;
pub(crate) mod forest;
mod read;
mod scatter;
mod style;
mod timeline;

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use self::backend::{Drawn, svg_string, write_figure};
use self::boxplot::BoxPlot;
use self::read::Runs;
use self::scatter::Scatter;
use self::timeline::Timeline;
use super::data::Summary;
use super::{PlotFormat, ReportError};

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

fn run_figures(dir: &Path) -> Result<Vec<(&'static str, AnyFigure)>, ReportError> {
    let runs = Runs::read(dir)?;
    let summary = Summary::read(dir)?;
    let [blast, downtime, rollback, cost] = RUN_PLOTS.map(|(_, title)| title);
    Ok(vec![
        (
            "blast_radius",
            AnyFigure::Box(BoxPlot::faulty(
                &runs,
                blast,
                "impacted requests (%)",
                100.0,
                |r| r.blast_radius,
            )),
        ),
        (
            "downtime",
            AnyFigure::Box(BoxPlot::faulty(&runs, downtime, "downtime (s)", 1.0, |r| {
                r.downtime_s
            })),
        ),
        (
            "rollback",
            AnyFigure::Box(BoxPlot::faulty(
                &runs,
                rollback,
                "rollback time (s)",
                1.0,
                |r| r.rollback_s,
            )),
        ),
        (
            "cost_risk",
            AnyFigure::Scatter(Scatter::new(cost, &runs, &summary)),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::{ResultsDir, STRATEGIES, check_svg, has};

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
