//! The trace plot (`timeline`): pods per version, the new version's weight, the
//! success ratio and p99 latency of one run, with its moments marked, time from the
//! deploy start.
//!
//! Owns the layout of the four panels and the marker strip; the data is read by
//! `read.rs` (`Timeline::read`).

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::backend::Drawn;
use super::style::{INK, header, text, tick, upper_bound};

pub(super) struct Marker {
    pub label: &'static str,
    pub t: f64,
    pub color: RGBColor,
}

pub(super) struct Timeline {
    /// The run (scenario / strategy / seed, release and fault, outcome), from the first
    /// line of `trace.txt`; empty when the directory has none.
    pub run: String,
    /// Simulated second of the deploy start; `t` and the markers count from it.
    pub t0: f64,
    /// The x range drawn: a little before the deploy to a little after the last mark or
    /// change of state.
    pub span: (f64, f64),
    pub t: Vec<f64>,
    pub old_pods: Vec<Option<f64>>,
    pub new_pods: Vec<Option<f64>>,
    pub terminating: Vec<Option<f64>>,
    pub new_weight: Vec<Option<f64>>,
    pub success_ratio: Vec<Option<f64>>,
    pub latency_p99_ms: Vec<Option<f64>>,
    pub markers: Vec<Marker>,
}

/// One timeline panel: its axis label, its y maximum and its lines with their colours.
type Panel<'a> = (&'static str, f64, Vec<(&'a [Option<f64>], RGBColor)>);

const OLD_COLOR: RGBColor = RGBColor(0, 114, 178);
const NEW_COLOR: RGBColor = RGBColor(213, 94, 0);
const TERMINATING_COLOR: RGBColor = RGBColor(140, 140, 140);

impl Timeline {
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

    pub(super) fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
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
    use crate::report::PlotFormat;
    use crate::report::fixture::{ResultsDir, check_svg, has};
    use crate::report::plot::render_trace_plot;

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
}
