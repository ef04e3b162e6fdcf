//! PNG and SVG plots with `plotters`: the runs, the fitted curve of each
//! model size, the compute-optimal frontier and its extrapolation with
//! bootstrap interval bands.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::bootstrap::interval;
use crate::data::Runs;
use crate::error::ScalingError;
use crate::laws::Law;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        // The embedded font is valid; a failure would only lose text in PNGs.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// What to draw.
#[derive(Debug, Clone)]
pub struct PlotSpec<'a> {
    /// The law.
    pub law: &'a Law,
    /// Bootstrap draws for interval bands (may be empty).
    pub draws: &'a [Law],
    /// The runs to show as points (optional).
    pub runs: Option<&'a Runs>,
    /// Right end of the compute axis (extrapolation).
    pub max_compute: Option<f64>,
    /// Figure title.
    pub title: String,
    /// Interval mass for the bands.
    pub level: f64,
}

fn plot_err<E: std::fmt::Display>(e: E) -> ScalingError {
    ScalingError::Plot(e.to_string())
}

fn logspace(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let (a, b) = (lo.ln(), hi.ln());
    (0..n)
        .map(|k| (a + (b - a) * k as f64 / (n - 1) as f64).exp())
        .collect()
}

fn size_color(t: f64) -> RGBColor {
    // A simple blue → orange ramp; t in [0, 1].
    let t = t.clamp(0.0, 1.0);
    let lerp = |a: f64, b: f64| (a + (b - a) * t) as u8;
    RGBColor(lerp(40.0, 230.0), lerp(90.0, 120.0), lerp(200.0, 30.0))
}

/// A legend entry for a 2-pixel line of colour `c`.
fn line_key(c: RGBColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
}

fn fmt_axis(v: &f64) -> String {
    format!("{v:.0e}")
}

/// Write `prefix.png` and `prefix.svg`.
pub fn plot(spec: &PlotSpec, prefix: &Path) -> Result<Vec<std::path::PathBuf>, ScalingError> {
    register_font();
    let png = prefix.with_extension("png");
    let svg = prefix.with_extension("svg");
    let size = if spec.law.has_n_and_d() {
        (1400, 600)
    } else {
        (800, 600)
    };
    {
        let root = BitMapBackend::new(&png, size).into_drawing_area();
        draw(spec, root)?;
    }
    {
        let root = SVGBackend::new(&svg, size).into_drawing_area();
        draw(spec, root)?;
    }
    Ok(vec![png, svg])
}

fn draw<DB: DrawingBackend>(
    spec: &PlotSpec,
    root: DrawingArea<DB, Shift>,
) -> Result<(), ScalingError>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(plot_err)?;
    let root = root
        .titled(&spec.title, ("sans-serif", 22))
        .map_err(plot_err)?;
    if spec.law.has_n_and_d() {
        let (left, right) = root.split_horizontally(size_half(&root));
        draw_loss_vs_compute(spec, &left)?;
        draw_allocation(spec, &right)?;
    } else {
        draw_learning_curve(spec, &root)?;
    }
    root.present().map_err(plot_err)?;
    Ok(())
}

fn size_half<DB: DrawingBackend>(a: &DrawingArea<DB, Shift>) -> u32 {
    a.dim_in_pixel().0 / 2
}

fn draw_loss_vs_compute<DB: DrawingBackend>(
    spec: &PlotSpec,
    area: &DrawingArea<DB, Shift>,
) -> Result<(), ScalingError>
where
    DB::ErrorType: 'static,
{
    let law = spec.law;
    let (mut cmin, mut cmax) = (1e18_f64, 1e22_f64);
    let mut lmin = f64::INFINITY;
    let mut lmax = f64::NEG_INFINITY;
    let mut sizes: Vec<f64> = Vec::new();
    if let Some(r) = spec.runs {
        let cs: Vec<f64> = (0..r.len()).map(|i| 6.0 * r.n[i] * r.d[i]).collect();
        cmin = cs.iter().cloned().fold(f64::INFINITY, f64::min);
        cmax = cs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        for &l in &r.loss {
            lmin = lmin.min(l);
            lmax = lmax.max(l);
        }
        // One curve per model size, at most ~12 sizes spread on a log scale.
        let mut ns = r.n.clone();
        ns.sort_by(f64::total_cmp);
        let step = match (ns.first(), ns.last()) {
            (Some(a), Some(b)) if b > a => (b / a).powf(1.0 / 11.0).max(1.02),
            _ => 1.02,
        };
        for n in ns {
            if sizes.last().is_none_or(|&s| n >= s * step) {
                sizes.push(n);
            }
        }
    }
    let data_cmax = cmax;
    let xmax = spec.max_compute.unwrap_or(cmax * 100.0).max(cmax);
    let xmin = cmin / 2.0;
    let frontier_c = logspace(xmin, xmax, 120);
    let frontier: Vec<(f64, f64)> = frontier_c
        .iter()
        .filter_map(|&c| law.compute_optimal(c).map(|a| (c, a.loss)))
        .collect();
    for &(_, l) in &frontier {
        lmin = lmin.min(l);
        if spec.runs.is_none() {
            lmax = lmax.max(l);
        }
    }
    let band: Vec<(f64, f64, f64)> = frontier_c
        .iter()
        .filter_map(|&c| {
            interval(spec.draws, spec.level, |d| {
                d.compute_optimal(c).map(|a| a.loss)
            })
            .map(|(lo, hi)| (c, lo, hi))
        })
        .collect();
    for &(_, lo, _) in &band {
        lmin = lmin.min(lo);
    }
    let pad = 0.05 * (lmax - lmin).max(1e-3);
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .caption("loss vs training compute", ("sans-serif", 18))
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d((xmin..xmax).log_scale(), (lmin - pad)..(lmax + pad))
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc("compute C = 6ND (FLOP)")
        .y_desc("loss")
        .x_label_formatter(&fmt_axis)
        .draw()
        .map_err(plot_err)?;
    if band.len() > 1 {
        let mut poly: Vec<(f64, f64)> = band.iter().map(|&(c, lo, _)| (c, lo)).collect();
        poly.extend(band.iter().rev().map(|&(c, _, hi)| (c, hi)));
        chart
            .draw_series(std::iter::once(Polygon::new(
                poly,
                BLACK.mix(0.15).filled(),
            )))
            .map_err(plot_err)?
            .label(format!("{:.0}% interval (bootstrap)", spec.level * 100.0))
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 5), (x + 20, y + 5)], BLACK.mix(0.15).filled())
            });
    }
    let (lsmin, lsmax) = match (sizes.first(), sizes.last()) {
        (Some(a), Some(b)) if b > a => (a.ln(), b.ln()),
        _ => (0.0, 1.0),
    };
    for &n in &sizes {
        let color = size_color((n.ln() - lsmin) / (lsmax - lsmin).max(1e-12));
        let pts: Vec<(f64, f64)> = logspace(xmin, data_cmax * 3.0, 80)
            .into_iter()
            .map(|c| (c, law.loss(n, c / (6.0 * n), None)))
            .filter(|&(_, l)| l.is_finite() && l <= lmax + pad && l >= lmin - pad)
            .collect();
        chart
            .draw_series(LineSeries::new(pts, color.stroke_width(1)))
            .map_err(plot_err)?;
    }
    if let Some(r) = spec.runs {
        chart
            .draw_series((0..r.len()).map(|i| {
                let color = size_color((r.n[i].ln() - lsmin) / (lsmax - lsmin).max(1e-12));
                Circle::new((6.0 * r.n[i] * r.d[i], r.loss[i]), 3, color.filled())
            }))
            .map_err(plot_err)?
            .label("runs (colour = model size) and fitted L(N, C/6N)")
            .legend(|(x, y)| Circle::new((x + 10, y), 3, size_color(0.5).filled()));
    }
    let inside: Vec<(f64, f64)> = frontier
        .iter()
        .cloned()
        .filter(|&(c, _)| c <= data_cmax)
        .collect();
    let outside: Vec<(f64, f64)> = frontier
        .iter()
        .cloned()
        .filter(|&(c, _)| c >= data_cmax)
        .collect();
    chart
        .draw_series(LineSeries::new(inside, BLACK.stroke_width(2)))
        .map_err(plot_err)?
        .label("compute-optimal frontier")
        .legend(line_key(BLACK));
    if spec.runs.is_some() && outside.len() > 1 {
        chart
            .draw_series(DashedLineSeries::new(outside, 6, 4, RED.stroke_width(2)))
            .map_err(plot_err)?
            .label("extrapolation")
            .legend(line_key(RED));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .draw()
        .map_err(plot_err)?;
    Ok(())
}

fn draw_allocation<DB: DrawingBackend>(
    spec: &PlotSpec,
    area: &DrawingArea<DB, Shift>,
) -> Result<(), ScalingError>
where
    DB::ErrorType: 'static,
{
    let law = spec.law;
    let (cmin, cmax) = match spec.runs {
        Some(r) => {
            let cs: Vec<f64> = (0..r.len()).map(|i| 6.0 * r.n[i] * r.d[i]).collect();
            (
                cs.iter().cloned().fold(f64::INFINITY, f64::min),
                cs.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
            )
        }
        None => (1e18, 1e22),
    };
    let xmin = cmin / 2.0;
    let xmax = spec.max_compute.unwrap_or(cmax * 100.0).max(cmax);
    let cs = logspace(xmin, xmax, 100);
    let alloc: Vec<(f64, f64, f64)> = cs
        .iter()
        .filter_map(|&c| law.compute_optimal(c).map(|a| (c, a.n, a.d)))
        .collect();
    let nb: Vec<(f64, f64, f64)> = cs
        .iter()
        .filter_map(|&c| {
            interval(spec.draws, spec.level, |d| {
                d.compute_optimal(c).map(|a| a.n)
            })
            .map(|(l, h)| (c, l, h))
        })
        .collect();
    let db: Vec<(f64, f64, f64)> = cs
        .iter()
        .filter_map(|&c| {
            interval(spec.draws, spec.level, |d| {
                d.compute_optimal(c).map(|a| a.d)
            })
            .map(|(l, h)| (c, l, h))
        })
        .collect();
    let mut ymin = f64::INFINITY;
    let mut ymax = f64::NEG_INFINITY;
    for &(_, n, d) in &alloc {
        ymin = ymin.min(n).min(d);
        ymax = ymax.max(n).max(d);
    }
    for &(_, l, h) in nb.iter().chain(&db) {
        ymin = ymin.min(l);
        ymax = ymax.max(h);
    }
    if let Some(r) = spec.runs {
        for i in 0..r.len() {
            ymin = ymin.min(r.n[i]).min(r.d[i]);
            ymax = ymax.max(r.n[i]).max(r.d[i]);
        }
    }
    if !(ymin > 0.0 && ymax.is_finite()) {
        return Err(ScalingError::Plot(
            "the compute-optimal allocation is not finite".into(),
        ));
    }
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .caption("compute-optimal N and D", ("sans-serif", 18))
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (xmin..xmax).log_scale(),
            (ymin / 2.0..ymax * 2.0).log_scale(),
        )
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc("compute C (FLOP)")
        .y_desc("parameters N / tokens D")
        .x_label_formatter(&fmt_axis)
        .y_label_formatter(&fmt_axis)
        .draw()
        .map_err(plot_err)?;
    let blue = RGBColor(40, 90, 200);
    let orange = RGBColor(230, 120, 30);
    for (b, color) in [(&nb, blue), (&db, orange)] {
        if b.len() > 1 {
            let mut poly: Vec<(f64, f64)> = b.iter().map(|&(c, lo, _)| (c, lo)).collect();
            poly.extend(b.iter().rev().map(|&(c, _, hi)| (c, hi)));
            chart
                .draw_series(std::iter::once(Polygon::new(poly, color.mix(0.2).filled())))
                .map_err(plot_err)?;
        }
    }
    if let Some(r) = spec.runs {
        chart
            .draw_series(
                (0..r.len()).map(|i| {
                    Circle::new((6.0 * r.n[i] * r.d[i], r.n[i]), 2, blue.mix(0.4).filled())
                }),
            )
            .map_err(plot_err)?;
    }
    chart
        .draw_series(LineSeries::new(
            alloc.iter().map(|&(c, n, _)| (c, n)),
            blue.stroke_width(2),
        ))
        .map_err(plot_err)?
        .label("N_opt(C)")
        .legend(line_key(blue));
    chart
        .draw_series(LineSeries::new(
            alloc.iter().map(|&(c, _, d)| (c, d)),
            orange.stroke_width(2),
        ))
        .map_err(plot_err)?
        .label("D_opt(C)")
        .legend(line_key(orange));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .draw()
        .map_err(plot_err)?;
    Ok(())
}

fn draw_learning_curve<DB: DrawingBackend>(
    spec: &PlotSpec,
    area: &DrawingArea<DB, Shift>,
) -> Result<(), ScalingError>
where
    DB::ErrorType: 'static,
{
    let law = spec.law;
    let uses_n = matches!(law, Law::Kaplan(crate::laws::Kaplan::N { .. }));
    let xs_data: Vec<f64> =
        spec.runs.map_or(
            Vec::new(),
            |r| if uses_n { r.n.clone() } else { r.d.clone() },
        );
    let (dmin, dmax) = if xs_data.is_empty() {
        (1e8, 1e11)
    } else {
        (
            xs_data.iter().cloned().fold(f64::INFINITY, f64::min),
            xs_data.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
        )
    };
    let xmax = dmax * 100.0;
    let xs = logspace(dmin / 2.0, xmax, 120);
    let eval = |l: &Law, x: f64| {
        if uses_n {
            l.loss(x, f64::NAN, None)
        } else {
            l.loss(f64::NAN, x, None)
        }
    };
    let curve: Vec<(f64, f64)> = xs.iter().map(|&x| (x, eval(law, x))).collect();
    let band: Vec<(f64, f64, f64)> = xs
        .iter()
        .filter_map(|&x| {
            interval(spec.draws, spec.level, |d| Some(eval(d, x))).map(|(l, h)| (x, l, h))
        })
        .collect();
    let mut lmin = curve.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let mut lmax = curve.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    if let Some(r) = spec.runs {
        for &l in &r.loss {
            lmin = lmin.min(l);
            lmax = lmax.max(l);
        }
    }
    let pad = 0.05 * (lmax - lmin).max(1e-3);
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d((dmin / 2.0..xmax).log_scale(), (lmin - pad)..(lmax + pad))
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc(if uses_n {
            "parameters N"
        } else {
            "training tokens D"
        })
        .y_desc("loss")
        .x_label_formatter(&fmt_axis)
        .draw()
        .map_err(plot_err)?;
    if band.len() > 1 {
        let mut poly: Vec<(f64, f64)> = band.iter().map(|&(c, lo, _)| (c, lo)).collect();
        poly.extend(band.iter().rev().map(|&(c, _, hi)| (c, hi)));
        chart
            .draw_series(std::iter::once(Polygon::new(
                poly,
                BLACK.mix(0.15).filled(),
            )))
            .map_err(plot_err)?;
    }
    chart
        .draw_series(LineSeries::new(
            curve.iter().cloned().filter(|&(x, _)| x <= dmax),
            BLACK.stroke_width(2),
        ))
        .map_err(plot_err)?
        .label(format!("fitted {}", law.name()))
        .legend(line_key(BLACK));
    chart
        .draw_series(DashedLineSeries::new(
            curve.iter().cloned().filter(|&(x, _)| x >= dmax),
            6,
            4,
            RED.stroke_width(2),
        ))
        .map_err(plot_err)?
        .label("extrapolation")
        .legend(line_key(RED));
    if let Some(r) = spec.runs {
        chart
            .draw_series(
                (0..r.len()).map(|i| {
                    Circle::new((xs_data[i], r.loss[i]), 3, RGBColor(40, 90, 200).filled())
                }),
            )
            .map_err(plot_err)?
            .label("runs")
            .legend(|(x, y)| Circle::new((x + 10, y), 3, RGBColor(40, 90, 200).filled()));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .draw()
        .map_err(plot_err)?;
    Ok(())
}
