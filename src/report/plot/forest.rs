//! The forest plot of `report.html`: every strategy's paired difference from the
//! verdict's best, with its 95% interval, one small panel per compared metric and
//! subset (all runs on the left, faulty releases on the right).
//!
//! Owns the layout only: the numbers are the rows of `compare.csv` whose baseline is
//! the best strategy, drawn as they are. Written as plain SVG markup (the page's own
//! font, no plotters backend), 1,040 px wide, so it fits a 1,366 px screen without
//! sideways scrolling. Within a panel, a strategy whose interval reaches more than
//! `OUTLIER_FACTOR`× as far from zero as any other's is clipped at the panel's edge
//! (an arrow, its numbers in full beside it) so the close ones keep the scale.

use std::fmt::Write as _;

use crate::catalogue::Column;
use crate::report::escape;

/// One row of `compare.csv`: `strategy − baseline`, paired by seed.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Diff {
    pub strategy: String,
    pub subset: String,
    pub metric: String,
    pub n_pairs: u64,
    pub mean: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

/// Clip a row whose reach is more than this many times that of every other row.
const OUTLIER_FACTOR: f64 = 3.0;

const WIDTH: f64 = 1040.0;
const COLUMN: f64 = 510.0;
const GAP: f64 = 20.0;
const LABEL: f64 = 92.0;
const PLOT: f64 = 196.0;
const ROW: f64 = 20.0;
const PANEL_HEAD: f64 = 24.0;
const PANEL_FOOT: f64 = 26.0;
const TOP: f64 = 70.0;

const WORSE: &str = "#d55e00";
const BETTER: &str = "#009e73";
const TIE: &str = "#0072b2";
const MUTED: &str = "#666";

/// How a metric's differences are shown: the factor from the file's unit and the
/// unit written in the panel title.
fn display_unit(metric: &str) -> (f64, &'static str) {
    let unit = Column::named(metric)
        .and_then(Column::metric)
        .map_or("", |d| d.unit);
    match unit {
        "share" => (100.0, "percentage points"),
        "s" => (1.0, "seconds"),
        other => (1.0, other),
    }
}

/// A signed number with about three significant digits.
fn signed(v: f64) -> String {
    let abs = v.abs();
    let decimals = match abs {
        a if a == 0.0 || a >= 100.0 => 0,
        a if a >= 10.0 => 1,
        a if a >= 1.0 => 2,
        _ => 3,
    };
    let text = format!("{v:+.decimals$}");
    // U+2212 reads as a minus sign in proportional fonts; "-0" is zero.
    match text.trim_start_matches(['+', '-']).trim_matches(['0', '.']) {
        "" => "0".to_string(),
        _ => text.replace('-', "\u{2212}"),
    }
}

/// The forest plot as SVG markup, or `None` when `diffs` holds no row; `runs` and
/// `faulty` are the run counts of a strategy named in the column headings.
pub(crate) fn forest_svg(best: &str, diffs: &[Diff], runs: u64, faulty: u64) -> Option<String> {
    if diffs.is_empty() {
        return None;
    }
    let mut metrics: Vec<&str> = Vec::new();
    let mut strategies: Vec<&str> = Vec::new();
    for d in diffs {
        if !metrics.contains(&d.metric.as_str()) {
            metrics.push(&d.metric);
        }
        if !strategies.contains(&d.strategy.as_str()) {
            strategies.push(&d.strategy);
        }
    }
    let panel_h = PANEL_HEAD + ROW * strategies.len() as f64 + PANEL_FOOT;
    let height = TOP + panel_h * metrics.len() as f64 + 10.0;
    let mut s = String::with_capacity(16 * 1024);
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"forest\" viewBox=\"0 0 {WIDTH} {height}\" \
         width=\"{WIDTH}\" height=\"{height}\" font-family=\"system-ui, 'DejaVu Sans', sans-serif\" font-size=\"13\">"
    );
    let _ = writeln!(
        s,
        "<text x=\"0\" y=\"16\" font-size=\"15\" font-weight=\"600\">Each strategy minus {} \
         (paired by seed; bar: 95% interval, dot: mean difference; right of 0 is worse)</text>",
        escape(best)
    );
    let legend = [
        (WORSE, "interval above 0: worse than the best"),
        (TIE, "interval includes 0: cannot be told apart"),
        (BETTER, "interval below 0: better"),
        (MUTED, "arrow: runs off the scale (numbers beside it)"),
    ];
    let mut x = 0.0;
    for (color, label) in legend {
        let _ = writeln!(
            s,
            "<circle cx=\"{:.1}\" cy=\"33\" r=\"4.5\" fill=\"{color}\"/><text x=\"{:.1}\" y=\"37\" fill=\"{MUTED}\">{label}</text>",
            x + 5.0,
            x + 14.0
        );
        x += 14.0 + 7.2 * label.len() as f64 + 22.0;
    }
    for (col, (subset, heading)) in [
        ("all", format!("All {runs} runs")),
        ("faulty", format!("Faulty releases only ({faulty} runs)")),
    ]
    .into_iter()
    .enumerate()
    {
        let x0 = col as f64 * (COLUMN + GAP);
        let _ = writeln!(
            s,
            "<text x=\"{x0:.1}\" y=\"62\" font-size=\"14\" font-weight=\"600\">{}</text>",
            escape(&heading)
        );
        for (row, metric) in metrics.iter().enumerate() {
            let y0 = TOP + row as f64 * panel_h;
            let rows: Vec<&Diff> = strategies
                .iter()
                .filter_map(|st| {
                    diffs
                        .iter()
                        .find(|d| d.strategy == *st && d.subset == subset && d.metric == *metric)
                })
                .collect();
            panel(&mut s, x0, y0, metric, &strategies, &rows);
        }
    }
    s.push_str("</svg>\n");
    Some(s)
}

/// The strategies (indices into `rows`) clipped at the edge: those reaching more than
/// `OUTLIER_FACTOR`× as far from zero as every row left on the scale (at most two,
/// and never all but one).
fn clipped(reach: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..reach.len()).collect();
    order.sort_by(|&a, &b| reach[b].total_cmp(&reach[a]));
    let mut out = Vec::new();
    while out.len() < 2 && out.len() + 2 < order.len() {
        let (top, next) = (reach[order[out.len()]], reach[order[out.len() + 1]]);
        if next > 0.0 && top > OUTLIER_FACTOR * next {
            out.push(order[out.len()]);
        } else {
            break;
        }
    }
    out
}

fn panel(s: &mut String, x0: f64, y0: f64, metric: &str, strategies: &[&str], rows: &[&Diff]) {
    let (factor, unit) = display_unit(metric);
    let _ = writeln!(
        s,
        "<text x=\"{x0:.1}\" y=\"{:.1}\" font-weight=\"600\">{}<tspan fill=\"{MUTED}\" font-weight=\"400\"> · {}</tspan></text>",
        y0 + 15.0,
        escape(&metric.replace('_', " ")),
        escape(unit)
    );
    let scaled = |v: Option<f64>| v.map(|v| v * factor);
    let reach: Vec<f64> = rows
        .iter()
        .map(|d| {
            [d.low, d.high, d.mean]
                .into_iter()
                .flatten()
                .map(|v| (v * factor).abs())
                .fold(0.0, f64::max)
        })
        .collect();
    let off = clipped(&reach);
    let kept = rows
        .iter()
        .enumerate()
        .filter(|(i, _)| !off.contains(i))
        .flat_map(|(_, d)| [scaled(d.low), scaled(d.high), scaled(d.mean)])
        .flatten();
    let (mut lo, mut hi) = kept.fold((0.0_f64, 0.0_f64), |(a, b), v| (a.min(v), b.max(v)));
    if hi - lo <= 0.0 {
        (lo, hi) = (-1.0, 1.0);
    }
    let pad = 0.08 * (hi - lo);
    let (lo, hi) = (lo - pad, hi + pad);
    let px0 = x0 + LABEL;
    let px = |v: f64| px0 + (v.clamp(lo, hi) - lo) / (hi - lo) * PLOT;
    let top = y0 + PANEL_HEAD;
    let bottom = top + ROW * strategies.len() as f64;
    let _ = writeln!(
        s,
        "<rect x=\"{px0:.1}\" y=\"{top:.1}\" width=\"{PLOT:.1}\" height=\"{:.1}\" fill=\"#fafafa\" stroke=\"#ddd\"/>",
        bottom - top
    );
    let zero = px(0.0);
    let _ = writeln!(
        s,
        "<line x1=\"{zero:.1}\" y1=\"{top:.1}\" x2=\"{zero:.1}\" y2=\"{bottom:.1}\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>"
    );
    for (v, anchor) in [(lo, "start"), (0.0, "middle"), (hi, "end")] {
        // An end label too close to the zero label would overlap it.
        if v != 0.0 && (px(v) - zero).abs() < 44.0 {
            continue;
        }
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" font-size=\"11\" fill=\"{MUTED}\">{}</text>",
            px(v),
            bottom + 13.0,
            signed(v)
        );
    }
    for (i, name) in strategies.iter().enumerate() {
        let cy = top + ROW * (i as f64 + 0.5);
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            px0 - 8.0,
            cy + 4.5,
            escape(name)
        );
        let Some(k) = rows.iter().position(|d| d.strategy == *name) else {
            continue;
        };
        let d = rows[k];
        let (Some(mean), Some(low), Some(high)) = (scaled(d.mean), scaled(d.low), scaled(d.high))
        else {
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{MUTED}\">no pairs with a value (n = {})</text>",
                px0 + PLOT + 10.0,
                cy + 4.5,
                d.n_pairs
            );
            continue;
        };
        let color = if low > 0.0 {
            WORSE
        } else if high < 0.0 {
            BETTER
        } else {
            TIE
        };
        let _ = writeln!(
            s,
            "<line x1=\"{:.1}\" y1=\"{cy:.1}\" x2=\"{:.1}\" y2=\"{cy:.1}\" stroke=\"{color}\" stroke-width=\"2.5\"/>",
            px(low),
            px(high)
        );
        for (v, edge) in [(low, lo), (high, hi)] {
            if (v < lo && edge == lo) || (v > hi && edge == hi) {
                // Off the scale: an arrow at the edge it passes.
                let (tip, back) = if edge == hi {
                    (px(hi) + 1.0, px(hi) - 7.0)
                } else {
                    (px(lo) - 1.0, px(lo) + 7.0)
                };
                let _ = writeln!(
                    s,
                    "<path d=\"M{back:.1},{:.1} L{tip:.1},{cy:.1} L{back:.1},{:.1} Z\" fill=\"{color}\"/>",
                    cy - 5.0,
                    cy + 5.0
                );
            }
        }
        if (lo..=hi).contains(&mean) {
            let _ = writeln!(
                s,
                "<circle cx=\"{:.1}\" cy=\"{cy:.1}\" r=\"4.5\" fill=\"{color}\"/>",
                px(mean)
            );
        }
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{color}\">{} [{}, {}]</text>",
            px0 + PLOT + 10.0,
            cy + 4.5,
            signed(mean),
            signed(low),
            signed(high)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diff(strategy: &str, subset: &str, mean: f64, low: f64, high: f64) -> Diff {
        Diff {
            strategy: strategy.into(),
            subset: subset.into(),
            metric: "blast_radius".into(),
            n_pairs: 100,
            mean: Some(mean),
            low: Some(low),
            high: Some(high),
        }
    }

    #[test]
    fn far_rows_are_clipped_and_close_ones_keep_the_scale() {
        // recreate reaches 2.5 pp, the others at most 0.42 pp: 6x, so it is clipped.
        assert_eq!(clipped(&[0.42, 0.008, 2.5, 0.16]), vec![2]);
        // 3x or less: nothing is set apart.
        assert!(clipped(&[0.3, 0.1, 0.2]).is_empty());
        // Never all but one: with two rows nothing can be compared to the rest.
        assert!(clipped(&[10.0, 0.1]).is_empty());
    }

    #[test]
    fn rows_are_drawn_in_the_units_a_reader_uses_and_coloured_by_their_interval() {
        let diffs = [
            diff("canary", "all", 0.00003, -0.00002, 0.00008),
            diff("recreate", "all", 0.01891, 0.01238, 0.02543),
            diff("rolling", "all", 0.00087, 0.00015, 0.0016),
            diff("swarm", "faulty", -0.002, -0.003, -0.001),
        ];
        let svg = forest_svg("blue-green", &diffs, 100, 13).expect("rows");
        assert!(svg.contains("Each strategy minus blue-green"));
        assert!(svg.contains("All 100 runs") && svg.contains("Faulty releases only (13 runs)"));
        assert!(svg.contains("percentage points") && svg.contains(">blast radius<tspan"));
        // Shares become percentage points (x100); a tie is blue, worse orange, better green.
        assert!(svg.contains(&format!(
            "fill=\"{TIE}\">+0.003 [\u{2212}0.002, +0.008]</text>"
        )));
        assert!(svg.contains(&format!("fill=\"{WORSE}\">+0.087 [+0.015, +0.160]</text>")));
        assert!(svg.contains(&format!("fill=\"{WORSE}\">+1.89 [+1.24, +2.54]</text>")));
        // recreate is clipped: its interval is drawn as an arrow at the right edge.
        assert_eq!(svg.matches("<path ").count(), 1);
        assert!(svg.contains(&format!(
            "fill=\"{BETTER}\">\u{2212}0.200 [\u{2212}0.300, \u{2212}0.100]</text>"
        )));
        // A strategy with no row in a panel is listed without a bar.
        assert_eq!(svg.matches(">swarm</text>").count(), 2);
        assert!(forest_svg("x", &[], 1, 0).is_none());
    }

    #[test]
    fn signed_numbers_read_naturally() {
        assert_eq!(signed(0.0), "0");
        assert_eq!(signed(-0.0001), "0");
        assert_eq!(signed(0.0234), "+0.023");
        assert_eq!(signed(-5014.0), "\u{2212}5014");
        assert_eq!(signed(12.34), "+12.3");
    }
}
