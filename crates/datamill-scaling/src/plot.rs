//! PNG and SVG plots with `plotters` (through `datamill-plot`, the one plotting helper): the
//! runs, the fitted curve of each model size (with a colour key), the compute-optimal frontier
//! and its dashed extrapolation with bootstrap interval bands. The SVG is drawn at a quarter
//! pixel ([`datamill_plot::svg_string`]); a data-constrained law is drawn at the runs' unique
//! tokens, with repeated-data runs (more than one epoch) as open circles.

use std::path::Path;

use datamill_plot::plotters::coord::Shift;
use datamill_plot::plotters::prelude::*;
use datamill_plot::{Px, line_key, logspace, register_font};

use crate::bootstrap::interval;
use crate::data::Runs;
use crate::error::ScalingError;
use crate::laws::Law;

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

fn size_color(t: f64) -> RGBColor {
    // A simple blue → orange ramp; t in [0, 1].
    let t = t.clamp(0.0, 1.0);
    let lerp = |a: f64, b: f64| (a + (b - a) * t) as u8;
    RGBColor(lerp(40.0, 230.0), lerp(90.0, 120.0), lerp(200.0, 30.0))
}

/// The unique tokens a data-constrained law is drawn at: the runs' largest `U`.
fn unique_cap(spec: &PlotSpec) -> Option<f64> {
    if !matches!(spec.law, Law::DataConstrained(_)) {
        return None;
    }
    let u = spec.runs?.u.as_ref()?;
    let m = u
        .iter()
        .cloned()
        .filter(|x| x.is_finite())
        .fold(f64::NAN, f64::max);
    m.is_finite().then_some(m)
}

fn fmt_axis(v: &f64) -> String {
    format!("{v:.0e}")
}

/// Write `prefix.png` and `prefix.svg`.
pub fn plot(spec: &PlotSpec, prefix: &Path) -> Result<Vec<std::path::PathBuf>, ScalingError> {
    register_font();
    let png = prefix.with_extension("png");
    let svg = prefix.with_extension("svg");
    {
        let root = BitMapBackend::new(&png, size(spec)).into_drawing_area();
        draw(spec, root, Px(1.0))?;
    }
    std::fs::write(&svg, svg_string(spec)?)
        .map_err(|e| ScalingError::Plot(format!("{}: {e}", svg.display())))?;
    Ok(vec![png, svg])
}

/// The legend key of the dashed red extrapolation: two dashes, as the line looks (a macro:
/// the composed element's type is plotters-internal).
macro_rules! dashed_key {
    ($x:expr, $y:expr, $px:expr) => {{
        let style = RED.stroke_width($px.u(2.0));
        EmptyElement::at(($x, $y))
            + PathElement::new(vec![(0, 0), ($px.i(8.0), 0)], style)
            + PathElement::new(vec![($px.i(12.0), 0), ($px.i(20.0), 0)], style)
    }};
}

fn size(spec: &PlotSpec) -> (u32, u32) {
    if spec.law.has_n_and_d() {
        (1400, 600)
    } else {
        (800, 600)
    }
}

/// The figure as an SVG document (what [`plot`] writes to `prefix.svg`; the run report
/// embeds it).
pub fn svg_string(spec: &PlotSpec) -> Result<String, ScalingError> {
    datamill_plot::svg_string(size(spec), |root, px| {
        draw(spec, root, px).map_err(|e| datamill_plot::PlotError(e.to_string()))
    })
    .map_err(|e| ScalingError::Plot(e.0))
}

fn draw<DB: DrawingBackend>(
    spec: &PlotSpec,
    root: DrawingArea<DB, Shift>,
    px: Px,
) -> Result<(), ScalingError>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(plot_err)?;
    let root = root
        .titled(&spec.title, ("sans-serif", px.f(22.0)))
        .map_err(plot_err)?;
    if spec.law.has_n_and_d() {
        let (left, right) = root.split_horizontally(size_half(&root));
        draw_loss_vs_compute(spec, &left, px)?;
        draw_allocation(spec, &right, px)?;
    } else {
        draw_learning_curve(spec, &root, px)?;
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
    px: Px,
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
    // A data-constrained law: the best allocation when only `cap` unique tokens exist.
    let cap = unique_cap(spec);
    let optimal = |l: &Law, c: f64| -> Option<f64> {
        match (l, cap) {
            (Law::DataConstrained(dc), Some(u)) => {
                Some(dc.optimal_allocation(c, u, 60, 100.0).loss).filter(|x| x.is_finite())
            }
            _ => l.compute_optimal(c).map(|a| a.loss),
        }
    };
    let frontier: Vec<(f64, f64)> = frontier_c
        .iter()
        .filter_map(|&c| optimal(law, c).map(|l| (c, l)))
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
            interval(spec.draws, spec.level, |d| optimal(d, c)).map(|(lo, hi)| (c, lo, hi))
        })
        .collect();
    for &(_, lo, _) in &band {
        lmin = lmin.min(lo);
    }
    let pad = 0.05 * (lmax - lmin).max(1e-3);
    let mut chart = ChartBuilder::on(area)
        .margin(px.i(12.0))
        .caption("loss vs training compute", ("sans-serif", px.f(18.0)))
        .x_label_area_size(px.u(45.0))
        .y_label_area_size(px.u(60.0))
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
                Rectangle::new(
                    [(x, y - px.i(5.0)), (x + px.i(20.0), y + px.i(5.0))],
                    BLACK.mix(0.15).filled(),
                )
            });
    }
    let (lsmin, lsmax) = match (sizes.first(), sizes.last()) {
        (Some(a), Some(b)) if b > a => (a.ln(), b.ln()),
        _ => (0.0, 1.0),
    };
    // The colour key: at most five sizes named (the smallest, the largest, three between).
    let named: Vec<usize> = match sizes.len() {
        0 => Vec::new(),
        n if n <= 5 => (0..n).collect(),
        n => (0..5).map(|k| k * (n - 1) / 4).collect(),
    };
    for (j, &n) in sizes.iter().enumerate() {
        let color = size_color((n.ln() - lsmin) / (lsmax - lsmin).max(1e-12));
        let pts: Vec<(f64, f64)> = logspace(xmin, data_cmax * 3.0, 80)
            .into_iter()
            .map(|c| (c, law.loss(n, c / (6.0 * n), cap)))
            .filter(|&(_, l)| l.is_finite() && l <= lmax + pad && l >= lmin - pad)
            .collect();
        let series = chart
            .draw_series(LineSeries::new(pts, color.stroke_width(px.u(1.0))))
            .map_err(plot_err)?;
        if named.contains(&j) {
            series
                .label(format!("fitted, N = {n:.2e}"))
                .legend(line_key(color, px));
        }
    }
    if let Some(r) = spec.runs {
        chart
            .draw_series((0..r.len()).map(|i| {
                let color = size_color((r.n[i].ln() - lsmin) / (lsmax - lsmin).max(1e-12));
                // More than one epoch over the unique tokens: an open circle.
                let repeated = r.u.as_ref().is_some_and(|u| r.d[i] > u[i] * 1.0001);
                let style = if repeated {
                    color.stroke_width(px.u(1.5))
                } else {
                    color.filled()
                };
                Circle::new((6.0 * r.n[i] * r.d[i], r.loss[i]), px.u(3.0), style)
            }))
            .map_err(plot_err)?
            .label(match cap {
                Some(u) => format!(
                    "runs (colour = model size; open = more than one epoch), curves at U = {u:.2e}"
                ),
                None => "runs (colour = model size) and fitted L(N, C/6N)".into(),
            })
            .legend(|(x, y)| Circle::new((x + px.i(10.0), y), px.u(3.0), size_color(0.5).filled()));
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
        .draw_series(LineSeries::new(inside, BLACK.stroke_width(px.u(2.0))))
        .map_err(plot_err)?
        .label(if cap.is_some() {
            "compute-optimal frontier at U unique tokens"
        } else {
            "compute-optimal frontier"
        })
        .legend(line_key(BLACK, px));
    if spec.runs.is_some() && outside.len() > 1 {
        chart
            .draw_series(DashedLineSeries::new(
                outside,
                px.u(6.0),
                px.u(4.0),
                RED.stroke_width(px.u(2.0)),
            ))
            .map_err(plot_err)?
            .label("extrapolation")
            .legend(move |(x, y)| dashed_key!(x, y, px));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", px.f(13.0)))
        .draw()
        .map_err(plot_err)?;
    Ok(())
}

fn draw_allocation<DB: DrawingBackend>(
    spec: &PlotSpec,
    area: &DrawingArea<DB, Shift>,
    px: Px,
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
        .margin(px.i(12.0))
        .caption("compute-optimal N and D", ("sans-serif", px.f(18.0)))
        .x_label_area_size(px.u(45.0))
        .y_label_area_size(px.u(70.0))
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
            .draw_series((0..r.len()).map(|i| {
                Circle::new(
                    (6.0 * r.n[i] * r.d[i], r.n[i]),
                    px.u(2.0),
                    blue.mix(0.4).filled(),
                )
            }))
            .map_err(plot_err)?;
    }
    chart
        .draw_series(LineSeries::new(
            alloc.iter().map(|&(c, n, _)| (c, n)),
            blue.stroke_width(px.u(2.0)),
        ))
        .map_err(plot_err)?
        .label("N_opt(C)")
        .legend(line_key(blue, px));
    chart
        .draw_series(LineSeries::new(
            alloc.iter().map(|&(c, _, d)| (c, d)),
            orange.stroke_width(px.u(2.0)),
        ))
        .map_err(plot_err)?
        .label("D_opt(C)")
        .legend(line_key(orange, px));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", px.f(13.0)))
        .draw()
        .map_err(plot_err)?;
    Ok(())
}

fn draw_learning_curve<DB: DrawingBackend>(
    spec: &PlotSpec,
    area: &DrawingArea<DB, Shift>,
    px: Px,
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
        .margin(px.i(12.0))
        .x_label_area_size(px.u(45.0))
        .y_label_area_size(px.u(60.0))
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
            BLACK.stroke_width(px.u(2.0)),
        ))
        .map_err(plot_err)?
        .label(format!("fitted {}", law.name()))
        .legend(line_key(BLACK, px));
    chart
        .draw_series(DashedLineSeries::new(
            curve.iter().cloned().filter(|&(x, _)| x >= dmax),
            px.u(6.0),
            px.u(4.0),
            RED.stroke_width(px.u(2.0)),
        ))
        .map_err(plot_err)?
        .label("extrapolation")
        .legend(move |(x, y)| dashed_key!(x, y, px));
    if let Some(r) = spec.runs {
        chart
            .draw_series((0..r.len()).map(|i| {
                Circle::new(
                    (xs_data[i], r.loss[i]),
                    px.u(3.0),
                    RGBColor(40, 90, 200).filled(),
                )
            }))
            .map_err(plot_err)?
            .label("runs")
            .legend(|(x, y)| {
                Circle::new(
                    (x + px.i(10.0), y),
                    px.u(3.0),
                    RGBColor(40, 90, 200).filled(),
                )
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", px.f(13.0)))
        .draw()
        .map_err(plot_err)?;
    Ok(())
}
