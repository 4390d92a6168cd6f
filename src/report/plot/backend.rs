//! Drawing backends of the plots: SVG markup (files and the inlined report) and PNG
//! bitmaps, the bundled font, and plotters errors flattened to messages.
//!
//! Owns nothing about what a plot shows; every figure draws through `AnyFigure::draw`
//! on whichever backend is asked for.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::drawing::DrawingAreaErrorKind;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use super::AnyFigure;
use super::style::FONT;
use crate::report::{PlotFormat, ReportError};

/// A plotters error flattened to its message, so one drawing routine serves every
/// backend.
pub(super) struct DrawError(String);

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for DrawError {
    fn from(error: DrawingAreaErrorKind<E>) -> Self {
        DrawError(error.to_string())
    }
}

pub(super) type Drawn = Result<(), DrawError>;

/// Registers the bundled font once. It is compiled in, so a failure is a build defect;
/// it is still reported as an error rather than a panic.
pub(super) fn ensure_font(path: &Path) -> Result<(), ReportError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        let bytes = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
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

/// Draws `figure` on `root`; a drawing error names the file it was for.
fn draw_on<DB: DrawingBackend>(
    figure: &AnyFigure,
    root: &DrawingArea<DB, plotters::coord::Shift>,
    path: &Path,
) -> Result<(), ReportError> {
    figure
        .draw(root)
        .map_err(|DrawError(message)| ReportError::Draw {
            path: path.to_path_buf(),
            message,
        })
}

/// Renders to SVG markup; `stem` only names the plot in error messages.
pub(super) fn svg_string(figure: &AnyFigure, stem: &Path) -> Result<String, ReportError> {
    let path = stem.with_extension("svg");
    ensure_font(&path)?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, figure.size()).into_drawing_area();
        draw_on(figure, &root, &path)?;
    }
    Ok(svg)
}

pub(super) fn write_figure(
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
            draw_on(figure, &root, &path)?;
        }
    }
    Ok(path)
}
