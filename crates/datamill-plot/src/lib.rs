//! The one plotting helper of datamill (scaling-law figures, the run report's charts):
//! [`plotters`] with an embedded font, and SVG drawn at sub-pixel precision.
//!
//! plotters' backends place everything on whole pixels, which makes curves on a log axis
//! visibly jagged in an SVG. [`svg_string`] therefore draws at [`SVG_SCALE`] times the size
//! and declares the nominal size with a `viewBox`: coordinates land on a quarter pixel. Drawing
//! code multiplies every length it chooses (margins, font sizes, stroke widths, radii) with
//! [`Px`], so one function draws the PNG (`Px(1.0)`) and the SVG alike.
//!
//! ```
//! use datamill_plot::plotters::prelude::*;
//! let svg = datamill_plot::svg_string((200, 100), |root, px| {
//!     root.fill(&WHITE).map_err(datamill_plot::err)?;
//!     root.draw(&Circle::new((px.i(50.0), px.i(50.0)), px.u(10.0), BLUE.filled()))
//!         .map_err(datamill_plot::err)
//! })
//! .unwrap();
//! assert!(svg.contains("width=\"200\" height=\"100\" viewBox=\"0 0 800 400\""));
//! ```

use std::sync::Once;

pub use plotters;
use plotters::coord::Shift;
use plotters::prelude::*;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

/// How much finer than a pixel the SVG is drawn (4: a quarter pixel).
pub const SVG_SCALE: u32 = 4;

/// A plotting error, as text (plotters' errors are generic over the backend).
#[derive(Debug, Clone, PartialEq)]
pub struct PlotError(pub String);

impl std::fmt::Display for PlotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PlotError {}

/// Any displayable error as a [`PlotError`] (for `map_err`).
pub fn err<E: std::fmt::Display>(e: E) -> PlotError {
    PlotError(e.to_string())
}

/// Registers the embedded DejaVu Sans as `sans-serif` (text measurement, PNG glyphs); called
/// by [`svg_string`], call it before drawing a PNG.
pub fn register_font() {
    REGISTER.call_once(|| {
        // The embedded font is valid; a failure would only lose text in PNGs.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// The scale of one drawing: nominal pixels to backend pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Px(pub f64);

impl Px {
    /// `v` nominal pixels as a backend coordinate.
    pub fn i(self, v: f64) -> i32 {
        (v * self.0).round() as i32
    }
    /// `v` nominal pixels as a backend size.
    pub fn u(self, v: f64) -> u32 {
        (v * self.0).round().max(0.0) as u32
    }
    /// A font size of `v` nominal pixels.
    pub fn f(self, v: f64) -> f64 {
        v * self.0
    }
}

/// Draws with `draw` into an SVG document of nominal `size`, at [`SVG_SCALE`] times the
/// precision, and returns its text.
pub fn svg_string<F>(size: (u32, u32), draw: F) -> Result<String, PlotError>
where
    F: FnOnce(DrawingArea<SVGBackend<'_>, Shift>, Px) -> Result<(), PlotError>,
{
    register_font();
    let big = (size.0 * SVG_SCALE, size.1 * SVG_SCALE);
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, big).into_drawing_area();
        draw(root, Px(SVG_SCALE as f64))?;
    }
    let from = format!("width=\"{}\" height=\"{}\"", big.0, big.1);
    let to = format!("width=\"{}\" height=\"{}\"", size.0, size.1);
    Ok(s.replacen(&from, &to, 1))
}

/// `n` points spread evenly on a log scale from `lo` to `hi` (both > 0, `n` >= 2).
pub fn logspace(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let (a, b) = (lo.ln(), hi.ln());
    (0..n)
        .map(|k| (a + (b - a) * k as f64 / (n - 1) as f64).exp())
        .collect()
}

/// A legend key: a solid line of colour `c`, `px`-scaled.
pub fn line_key(c: RGBColor, px: Px) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + px.i(20.0), y)], c.stroke_width(px.u(2.0)))
}
