//! The cost–risk scatter (`cost_risk`): one point per strategy, mean extra
//! pod-seconds against mean blast radius, with 95% intervals from `summary.csv`.
//!
//! Owns the point placement and the label placement that keeps coinciding
//! strategies legible.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::backend::Drawn;
use super::read::{RunRow, Runs};
use super::style::{INK, PALETTE, header, padded, text, tick};
use crate::report::data::{Summary, mean};

/// One strategy on the cost–risk plane, with optional 95% intervals.
struct Point {
    label: String,
    color: RGBColor,
    x: f64,
    y: f64,
    x_ci: Option<(f64, f64)>,
    y_ci: Option<(f64, f64)>,
}

pub(super) struct Scatter {
    title: String,
    points: Vec<Point>,
}

impl Scatter {
    /// Means come from `summary.csv` when it has them (they are the authoritative
    /// estimates, censoring included) and from `runs.csv` otherwise.
    pub(super) fn new(title: &str, runs: &Runs, summary: &Summary) -> Scatter {
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

    pub(super) fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
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
