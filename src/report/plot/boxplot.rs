//! Box plots of faulty releases (`blast_radius`, `downtime`, `rollback`), one box per
//! strategy, scaled so that the strategies a user hesitates between can be told apart.
//!
//! Owns the descriptive quantiles a box needs and the choice of scale (`Layout`):
//! - every value positive and spread over more than `LOG_SPREAD`× → a log axis
//!   (blast radius: the baseline error rate keeps every run above zero, and strategies
//!   differ by factors, 0.1% to 17%);
//! - otherwise a linear axis, where a strategy whose box or mean reaches more than
//!   `OUTLIER_FACTOR`× the highest of the rest is drawn in a panel of its own, with its
//!   own axis (downtime: most strategies have none, a log axis cannot show zero, and
//!   recreate's minutes would flatten everyone else's seconds).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::backend::Drawn;
use super::read::{RunRow, Runs};
use super::style::{INK, MUTED, PALETTE, header, text, tick, upper_bound};
use crate::report::data::{mean, quantile};

/// A log axis when the largest value drawn is more than this many times the smallest.
const LOG_SPREAD: f64 = 20.0;

/// A strategy reaching more than this many times the highest of the others gets its
/// own panel: the rest then use at least a third of their axis.
const OUTLIER_FACTOR: f64 = 3.0;

/// At most this many strategies are set apart.
const MAX_OUTLIERS: usize = 2;

pub(super) struct BoxPlot {
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

pub(super) struct BoxStats {
    pub p5: f64,
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    pub p95: f64,
    pub mean: f64,
}

impl BoxStats {
    pub(super) fn of(sorted: &[f64]) -> Option<BoxStats> {
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

    /// The highest point drawn (whisker or mean).
    fn top(&self) -> f64 {
        self.p95.max(self.mean)
    }

    /// The lowest point drawn.
    fn bottom(&self) -> f64 {
        self.p5.min(self.mean)
    }
}

/// How the y axis is laid out.
#[derive(Debug, PartialEq)]
pub(super) enum Layout {
    /// One log axis from `lo` to `hi` (values, not logarithms).
    Log { lo: f64, hi: f64 },
    /// A linear axis; the groups at these indices each get a panel and an axis of
    /// their own, right of the others.
    Linear { apart: Vec<usize> },
}

/// One panel: the groups it shows (indices) and how its y values map to the axis.
struct Panel {
    groups: Vec<usize>,
    log: bool,
    y: std::ops::Range<f64>,
}

impl BoxPlot {
    /// A box plot of `value` over faulty releases, scaled by `scale`.
    pub(super) fn faulty(
        runs: &Runs,
        title: &str,
        y_desc: &str,
        scale: f64,
        value: impl Fn(&RunRow) -> Option<f64>,
    ) -> BoxPlot {
        let groups = runs
            .strategies
            .iter()
            .zip(&runs.rows)
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

    /// The scale that lets the close strategies be compared (see the module header).
    pub(super) fn layout(&self) -> Layout {
        let drawn: Vec<(usize, &BoxStats)> = self
            .groups
            .iter()
            .enumerate()
            .filter_map(|(i, g)| g.stats.as_ref().map(|s| (i, s)))
            .collect();
        let lo = drawn
            .iter()
            .map(|(_, s)| s.bottom())
            .fold(f64::INFINITY, f64::min);
        let hi = drawn.iter().map(|(_, s)| s.top()).fold(0.0, f64::max);
        if lo > 0.0 && hi / lo > LOG_SPREAD {
            return Layout::Log { lo, hi };
        }
        let mut by_top: Vec<(usize, f64)> = drawn.iter().map(|(i, s)| (*i, s.top())).collect();
        by_top.sort_by(|a, b| b.1.total_cmp(&a.1));
        let mut apart = Vec::new();
        // Keep at least two strategies together: setting apart all but one compares
        // nothing.
        while apart.len() < MAX_OUTLIERS && apart.len() + 2 < by_top.len() {
            let (top, rest) = (by_top[apart.len()], by_top[apart.len() + 1].1);
            if rest > 0.0 && top.1 > OUTLIER_FACTOR * rest {
                apart.push(top.0);
            } else {
                break;
            }
        }
        apart.sort_unstable();
        Layout::Linear { apart }
    }

    /// The line under the title saying how the axis is scaled.
    fn scale_note(&self, layout: &Layout) -> String {
        match layout {
            Layout::Log { .. } => {
                "log scale: each step up is a multiple, so small values stay apart".to_string()
            }
            Layout::Linear { apart } if apart.is_empty() => String::new(),
            Layout::Linear { apart } => {
                let names: Vec<&str> = apart
                    .iter()
                    .map(|&i| self.groups[i].label.as_str())
                    .collect();
                format!(
                    "{} on {} own scale (right): its values are far larger and would flatten the others",
                    names.join(" and "),
                    if apart.len() == 1 { "its" } else { "their" }
                )
            }
        }
    }

    fn panels(&self, layout: &Layout) -> Vec<Panel> {
        let top_of = |groups: &[usize]| {
            groups
                .iter()
                .filter_map(|&i| self.groups[i].stats.as_ref())
                .map(BoxStats::top)
                .fold(0.0, f64::max)
        };
        match layout {
            Layout::Log { lo, hi } => {
                // Room of a quarter decade each side, so a box at the edge is visible.
                vec![Panel {
                    groups: (0..self.groups.len()).collect(),
                    log: true,
                    y: lo.log10() - 0.25..hi.log10() + 0.25,
                }]
            }
            Layout::Linear { apart } => {
                let main: Vec<usize> = (0..self.groups.len())
                    .filter(|i| !apart.contains(i))
                    .collect();
                let mut panels = vec![Panel {
                    y: 0.0..upper_bound(top_of(&main)),
                    groups: main,
                    log: false,
                }];
                for &i in apart {
                    panels.push(Panel {
                        groups: vec![i],
                        log: false,
                        y: 0.0..upper_bound(top_of(&[i])),
                    });
                }
                panels
            }
        }
    }

    pub(super) fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
        let layout = self.layout();
        let note = self.scale_note(&layout);
        let body = header(
            root,
            &self.title,
            "box: 25th–75th percentile · bar: median · whiskers: 5th–95th percentile · \
             dot: mean · n: faulty releases with a value",
            if note.is_empty() { 58 } else { 78 },
        )?;
        if !note.is_empty() {
            root.draw_text(&note, &text(15.0, MUTED), (16, 56))?;
        }
        let panels = self.panels(&layout);
        // Each panel has its own axis; the boxes share the rest of the width evenly.
        let axis_px = 72 + 12 + 24;
        let (width, _) = body.dim_in_pixel();
        let slots = self.groups.len().max(1) as u32;
        let slot = width.saturating_sub(axis_px * panels.len() as u32) / slots;
        let mut rest = body;
        for (k, panel) in panels.iter().enumerate() {
            let area = if k + 1 == panels.len() {
                rest.clone()
            } else {
                let (left, right) =
                    rest.split_horizontally(axis_px + slot * panel.groups.len() as u32);
                rest = right;
                left
            };
            self.draw_panel(root, &area, panel, k > 0)?;
        }
        Ok(())
    }

    fn draw_panel<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        area: &DrawingArea<DB, Shift>,
        panel: &Panel,
        own_scale: bool,
    ) -> Drawn {
        let n = panel.groups.len().max(1);
        let y = panel.y.clone();
        let mut chart = ChartBuilder::on(area)
            .margin_left(12)
            .margin_right(24)
            .margin_bottom(8)
            .x_label_area_size(56)
            .y_label_area_size(72)
            .build_cartesian_2d(-0.5..n as f64 - 0.5, y.clone())?;
        let desc = if own_scale { "" } else { self.y_desc.as_str() };
        let mut mesh = chart.configure_mesh();
        mesh.disable_x_mesh()
            .x_labels(0)
            .max_light_lines(1)
            .light_line_style(RGBColor(242, 242, 242))
            .y_desc(desc)
            .label_style(text(14.0, INK))
            .axis_desc_style(text(15.0, INK));
        if panel.log {
            // The ticks of a log axis are drawn by hand at 1, 2 and 5 × 10^k.
            mesh.y_labels(0).disable_y_mesh();
        } else {
            mesh.y_label_formatter(&tick);
        }
        mesh.draw()?;
        let at = |v: f64| {
            if panel.log {
                v.max(f64::MIN_POSITIVE).log10()
            } else {
                v
            }
        };
        if panel.log {
            let grid = RGBColor(225, 225, 225);
            let right = Pos::new(HPos::Right, VPos::Center);
            let (first, last) = (y.start.floor() as i32, y.end.ceil() as i32);
            for k in first..=last {
                for m in [1.0, 2.0, 5.0] {
                    let v = m * 10f64.powi(k);
                    let ly = v.log10();
                    if !y.contains(&ly) {
                        continue;
                    }
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(-0.5, ly), (n as f64 - 0.5, ly)],
                        grid.stroke_width(1),
                    )))?;
                    let (px, py) = chart.backend_coord(&(-0.5, ly));
                    root.draw_text(&tick(&v), &text(14.0, INK).pos(right), (px - 8, py))?;
                }
            }
        }
        // The categories are drawn by hand (a numeric axis would put ticks between
        // them), each with its sample size underneath.
        let below = Pos::new(HPos::Center, VPos::Top);
        for (slot, &gi) in panel.groups.iter().enumerate() {
            let group = &self.groups[gi];
            let (x, py) = chart.backend_coord(&(slot as f64, y.start));
            root.draw_text(&group.label, &text(15.0, INK).pos(below), (x, py + 10))?;
            let count = format!("n = {}", group.n);
            root.draw_text(&count, &text(13.0, MUTED).pos(below), (x, py + 30))?;
        }
        for (slot, &gi) in panel.groups.iter().enumerate() {
            let group = &self.groups[gi];
            let x = slot as f64;
            let Some(s) = &group.stats else {
                let centre = Pos::new(HPos::Center, VPos::Center);
                chart.draw_series(std::iter::once(Text::new(
                    "no data",
                    (x, (y.start + y.end) / 2.0),
                    text(13.0, MUTED).pos(centre),
                )))?;
                continue;
            };
            let color = group.color;
            let line = color.stroke_width(2);
            let (half, cap) = (0.28, 0.12);
            let (p5, q1, median, q3, p95, mean) = (
                at(s.p5),
                at(s.q1),
                at(s.median),
                at(s.q3),
                at(s.p95),
                at(s.mean),
            );
            chart.draw_series([
                Rectangle::new([(x - half, q1), (x + half, q3)], color.mix(0.25).filled()),
                Rectangle::new([(x - half, q1), (x + half, q3)], line),
            ])?;
            chart.draw_series([
                PathElement::new(vec![(x, q3), (x, p95)], line),
                PathElement::new(vec![(x, q1), (x, p5)], line),
                PathElement::new(vec![(x - cap, p95), (x + cap, p95)], line),
                PathElement::new(vec![(x - cap, p5), (x + cap, p5)], line),
                PathElement::new(
                    vec![(x - half, median), (x + half, median)],
                    color.stroke_width(4),
                ),
            ])?;
            chart.draw_series([
                Circle::new((x, mean), 5, WHITE.filled()),
                Circle::new((x, mean), 5, INK.stroke_width(2)),
            ])?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::PlotFormat;
    use crate::report::fixture::{ResultsDir, check_svg, has};
    use crate::report::plot::render_run_plots;

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

    /// A plot of groups with the given (sorted) values.
    fn plot(groups: &[(&str, &[f64])]) -> BoxPlot {
        BoxPlot {
            title: "t".into(),
            y_desc: "y".into(),
            groups: groups
                .iter()
                .map(|(label, values)| BoxGroup {
                    label: label.to_string(),
                    color: INK,
                    stats: BoxStats::of(values),
                    n: values.len(),
                })
                .collect(),
        }
    }

    #[test]
    fn positive_values_spread_over_decades_get_a_log_axis() {
        // Blast radius of the default at 100 seeds: 0.1% floor, recreate to 17%.
        let p = plot(&[
            ("canary", &[0.1, 0.11, 0.2]),
            ("swarm", &[0.11, 0.5, 3.0]),
            ("recreate", &[4.0, 7.0, 17.0]),
        ]);
        // Interpolated p5 of canary and p95 of recreate (BoxStats::of).
        let Layout::Log { lo, hi } = p.layout() else {
            panic!("expected a log axis: {:?}", p.layout());
        };
        assert!(
            (lo - 0.101).abs() < 1e-12 && (hi - 16.0).abs() < 1e-12,
            "{lo} {hi}"
        );
        // Under 20x from the lowest to the highest point: linear.
        let p = plot(&[("a", &[1.0, 2.0]), ("b", &[1.5, 19.0])]);
        assert_eq!(p.layout(), Layout::Linear { apart: vec![] });
    }

    #[test]
    fn with_zeros_the_far_strategy_gets_its_own_panel() {
        // Downtime: zero for most, rolling a few seconds, recreate minutes.
        let zeros: &[f64] = &[0.0, 0.0, 0.0];
        let p = plot(&[
            ("rolling", &[0.0, 0.0, 6.0]),
            ("canary", zeros),
            ("recreate", &[30.0, 32.0, 290.0]),
            ("none", zeros),
        ]);
        assert_eq!(p.layout(), Layout::Linear { apart: vec![2] });
        let svg = {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, (960, 520)).into_drawing_area();
                crate::report::plot::backend::ensure_font(std::path::Path::new("x.svg"))
                    .expect("font");
                p.draw(&root).map_err(|_| "draw").expect("draws");
            }
            svg
        };
        let texts = check_svg(&svg);
        assert!(has(
            &texts,
            "recreate on its own scale (right): its values are far larger and would flatten the others"
        ));
        // Only rolling's few seconds set the main axis: nothing is set apart when the rest
        // are all zero, nor when the next is within 3x.
        let p = plot(&[("a", zeros), ("b", &[0.0, 1.0]), ("c", zeros)]);
        assert_eq!(p.layout(), Layout::Linear { apart: vec![] });
        let p = plot(&[("a", &[1.0]), ("b", &[2.9]), ("c", &[1.5])]);
        assert_eq!(p.layout(), Layout::Linear { apart: vec![] });
    }
}
