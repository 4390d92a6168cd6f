//! What every plot shares: the font family, the colours, text styles, the title
//! block, tick labels and axis bounds.
//!
//! Pure helpers: no file, no figure-specific layout.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::backend::DrawError;

/// The family every text style asks for; the bundled font is registered under it.
pub(super) const FONT: &str = "sans-serif";

/// Colour-blind-safe (Okabe–Ito) colours, one per strategy in `runs.csv` order.
pub(super) const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(230, 159, 0),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(90, 90, 90),
    RGBColor(170, 150, 0),
];

pub(super) const INK: RGBColor = RGBColor(33, 33, 33);
pub(super) const MUTED: RGBColor = RGBColor(100, 100, 100);

pub(super) fn text(size: f64, color: RGBColor) -> TextStyle<'static> {
    (FONT, size).into_font().color(&color)
}

/// A title and a one-line explanation above a figure; returns the area below.
pub(super) fn header<DB: DrawingBackend>(
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
pub(super) fn tick(v: &f64) -> String {
    let text = format!("{v:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// An axis range from `lo` to `hi` with room on both sides, so a point at zero does not
/// sit on the axis line.
pub(super) fn padded(lo: f64, hi: f64) -> std::ops::Range<f64> {
    let top = upper_bound(hi);
    lo - (top - lo) * 0.03..top
}

/// A sensible upper axis bound for data whose largest value is `max`.
pub(super) fn upper_bound(max: f64) -> f64 {
    if max.is_finite() && max > 0.0 {
        max * 1.12
    } else {
        1.0
    }
}
