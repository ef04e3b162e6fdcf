//! Line charts described as data ([`Figure`]: panels of lines and bands) and rendered to PNG
//! and SVG with `plotters`, for the D-CPT, vocabulary and quantization plots.
//!
//! Every legend key is drawn with its line's own style (colour, width, dash pattern); the SVG
//! comes from [`datamill_plot::svg_string`] (a canvas [`datamill_plot::SVG_SCALE`] times larger
//! than displayed, so coordinates keep a fraction of a pixel). Log axes are drawn as linear
//! axes over log10 of the values, labelled with the values themselves.

use std::path::{Path, PathBuf};

use datamill_plot::plotters::coord::Shift;
use datamill_plot::plotters::element::{DashedPathElement, IntoDynElement};
use datamill_plot::plotters::prelude::*;
use datamill_plot::{logspace, register_font};

use crate::error::ScalingError;

/// The dash pattern of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dash {
    /// A solid line.
    Solid,
    /// Long dashes (6 on, 4 off, in pixels at width 2).
    Dashed,
    /// Short dashes (2 on, 3 off).
    Dotted,
}

/// One line of a panel.
#[derive(Debug, Clone)]
pub struct Line {
    /// Legend text (`None`: not in the legend).
    pub label: Option<String>,
    /// Points in data coordinates (non-finite points are dropped).
    pub points: Vec<(f64, f64)>,
    /// Colour.
    pub color: RGBColor,
    /// Width in pixels.
    pub width: u32,
    /// Dash pattern.
    pub dash: Dash,
}

/// A shaded interval band `(x, low, high)`.
#[derive(Debug, Clone)]
pub struct Band {
    /// Legend text.
    pub label: Option<String>,
    /// `(x, low, high)` points.
    pub points: Vec<(f64, f64, f64)>,
    /// Colour (drawn at 20 % opacity).
    pub color: RGBColor,
}

/// Marked points (e.g. a chosen ratio).
#[derive(Debug, Clone)]
pub struct Markers {
    /// Legend text.
    pub label: Option<String>,
    /// Points.
    pub points: Vec<(f64, f64)>,
    /// Colour.
    pub color: RGBColor,
}

/// One chart.
#[derive(Debug, Clone)]
pub struct Panel {
    /// Caption above the chart.
    pub caption: String,
    /// X axis description.
    pub x_desc: String,
    /// Y axis description.
    pub y_desc: String,
    /// Logarithmic x axis.
    pub x_log: bool,
    /// Logarithmic y axis.
    pub y_log: bool,
    /// Bands, drawn first.
    pub bands: Vec<Band>,
    /// Lines.
    pub lines: Vec<Line>,
    /// Markers, drawn last.
    pub markers: Vec<Markers>,
}

/// A figure: a title over panels side by side.
#[derive(Debug, Clone)]
pub struct Figure {
    /// Title.
    pub title: String,
    /// Panels, left to right.
    pub panels: Vec<Panel>,
}

fn plot_err<E: std::fmt::Display>(e: E) -> ScalingError {
    ScalingError::Plot(e.to_string())
}

/// The `k`-th of a fixed set of distinguishable colours.
pub fn palette(k: usize) -> RGBColor {
    const P: [RGBColor; 8] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
    ];
    P[k % P.len()]
}

/// Writes `prefix.png` and `prefix.svg` (the SVG through a temporary name and a rename).
pub fn render(fig: &Figure, prefix: &Path) -> Result<Vec<PathBuf>, ScalingError> {
    register_font();
    let png = prefix.with_extension("png");
    let svg = prefix.with_extension("svg");
    let size = (560 * fig.panels.len().max(1) as u32 + 40, 520);
    {
        let root = BitMapBackend::new(&png, size).into_drawing_area();
        draw(fig, root, 1)?;
    }
    let text = datamill_plot::svg_string(size, |root, px| {
        draw(fig, root, px.0 as u32).map_err(|e| datamill_plot::PlotError(e.to_string()))
    })
    .map_err(|e| ScalingError::Plot(e.0))?;
    crate::lawfile::write_text_atomic(&svg, &text)?;
    Ok(vec![png, svg])
}

fn draw<DB: DrawingBackend>(
    fig: &Figure,
    root: DrawingArea<DB, Shift>,
    s: u32,
) -> Result<(), ScalingError>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(plot_err)?;
    let root = root
        .titled(&fig.title, ("sans-serif", 20 * s))
        .map_err(plot_err)?;
    let areas = root.split_evenly((1, fig.panels.len().max(1)));
    for (panel, area) in fig.panels.iter().zip(areas) {
        draw_panel(panel, &area, s)?;
    }
    root.present().map_err(plot_err)?;
    Ok(())
}

fn tx(log: bool, v: f64) -> f64 {
    if log { v.log10() } else { v }
}

fn label(log: bool, v: f64) -> String {
    if log {
        let x = 10f64.powf(v);
        if (1e-3..1e5).contains(&x.abs()) {
            crate::report::fmt_num(x, 3)
        } else {
            format!("{x:.1e}")
        }
    } else {
        crate::report::fmt_num(v, 3)
    }
}

fn dash_px(d: Dash, s: u32) -> Option<(u32, u32)> {
    match d {
        Dash::Solid => None,
        Dash::Dashed => Some((8 * s, 5 * s)),
        Dash::Dotted => Some((2 * s, 4 * s)),
    }
}

fn draw_panel<DB: DrawingBackend>(
    p: &Panel,
    area: &DrawingArea<DB, Shift>,
    s: u32,
) -> Result<(), ScalingError>
where
    DB::ErrorType: 'static,
{
    let keep = |(x, y): (f64, f64)| {
        let (a, b) = (tx(p.x_log, x), tx(p.y_log, y));
        (a.is_finite() && b.is_finite()).then_some((a, b))
    };
    let lines: Vec<(Vec<(f64, f64)>, &Line)> = p
        .lines
        .iter()
        .map(|l| (l.points.iter().copied().filter_map(keep).collect(), l))
        .collect();
    type BandPoints<'a> = Vec<(Vec<(f64, f64, f64)>, &'a Band)>;
    let bands: BandPoints = p
        .bands
        .iter()
        .map(|b| {
            (
                b.points
                    .iter()
                    .filter_map(|&(x, lo, hi)| {
                        let (x, lo, hi) = (tx(p.x_log, x), tx(p.y_log, lo), tx(p.y_log, hi));
                        (x.is_finite() && lo.is_finite() && hi.is_finite()).then_some((x, lo, hi))
                    })
                    .collect(),
                b,
            )
        })
        .collect();
    let markers: Vec<(Vec<(f64, f64)>, &Markers)> = p
        .markers
        .iter()
        .map(|m| (m.points.iter().copied().filter_map(keep).collect(), m))
        .collect();
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    let mut see = |x: f64, y: f64| {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    };
    for (pts, _) in &lines {
        for &(x, y) in pts {
            see(x, y);
        }
    }
    for (pts, _) in &markers {
        for &(x, y) in pts {
            see(x, y);
        }
    }
    for (pts, _) in &bands {
        for &(x, lo, hi) in pts {
            see(x, lo);
            see(x, hi);
        }
    }
    if !(x0.is_finite() && x1.is_finite() && y0.is_finite() && y1.is_finite()) {
        return Err(ScalingError::Plot(format!(
            "panel `{}` has no finite point",
            p.caption
        )));
    }
    let pad_x = 0.02 * (x1 - x0).max(1e-9);
    let pad_y = 0.06 * (y1 - y0).max(1e-9);
    let mut chart = ChartBuilder::on(area)
        .margin(12 * s)
        .caption(&p.caption, ("sans-serif", 16 * s))
        .x_label_area_size(45 * s)
        .y_label_area_size(65 * s)
        .build_cartesian_2d((x0 - pad_x)..(x1 + pad_x), (y0 - pad_y)..(y1 + pad_y))
        .map_err(plot_err)?;
    let (xl, yl) = (p.x_log, p.y_log);
    chart
        .configure_mesh()
        .x_desc(p.x_desc.as_str())
        .y_desc(p.y_desc.as_str())
        .x_label_formatter(&|v| label(xl, *v))
        .y_label_formatter(&|v| label(yl, *v))
        .label_style(("sans-serif", 12 * s))
        .axis_desc_style(("sans-serif", 14 * s))
        .bold_line_style(BLACK.mix(0.1).stroke_width(s))
        .light_line_style(BLACK.mix(0.04).stroke_width(s))
        .axis_style(BLACK.stroke_width(s))
        .draw()
        .map_err(plot_err)?;
    for (pts, b) in &bands {
        if pts.len() < 2 {
            continue;
        }
        let mut poly: Vec<(f64, f64)> = pts.iter().map(|&(x, lo, _)| (x, lo)).collect();
        poly.extend(pts.iter().rev().map(|&(x, _, hi)| (x, hi)));
        let c = b.color.mix(0.2);
        let ann = chart
            .draw_series(std::iter::once(Polygon::new(poly, c.filled())))
            .map_err(plot_err)?;
        if let Some(l) = &b.label {
            ann.label(l.as_str()).legend(move |(x, y)| {
                Rectangle::new(
                    [(x, y - 5 * s as i32), (x + 24 * s as i32, y + 5 * s as i32)],
                    c.filled(),
                )
            });
        }
    }
    for (pts, l) in &lines {
        let style = l.color.stroke_width(l.width * s);
        let ann = match dash_px(l.dash, s) {
            None => chart
                .draw_series(LineSeries::new(pts.iter().copied(), style))
                .map_err(plot_err)?,
            Some((on, off)) => chart
                .draw_series(DashedLineSeries::new(pts.iter().copied(), on, off, style))
                .map_err(plot_err)?,
        };
        if let Some(label) = &l.label {
            let dash = dash_px(l.dash, s);
            ann.label(label.as_str()).legend(move |(x, y)| {
                let pts = vec![(x, y), (x + 24 * s as i32, y)];
                match dash {
                    None => PathElement::new(pts, style).into_dyn(),
                    Some((on, off)) => DashedPathElement::new(pts, on, off, style).into_dyn(),
                }
            });
        }
    }
    for (pts, m) in &markers {
        let c = m.color;
        let ann = chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 4 * s, c.filled())))
            .map_err(plot_err)?;
        if let Some(l) = &m.label {
            ann.label(l.as_str())
                .legend(move |(x, y)| Circle::new((x + 12 * s as i32, y), 4 * s, c.filled()));
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.stroke_width(s))
        .label_font(("sans-serif", 12 * s))
        .legend_area_size(30 * s)
        .margin(8 * s)
        .draw()
        .map_err(plot_err)?;
    Ok(())
}

fn band_of(xs: &[f64], level: f64, f: impl Fn(f64) -> Vec<f64>) -> Vec<(f64, f64, f64)> {
    xs.iter()
        .filter_map(|&x| {
            let mut v: Vec<f64> = f(x).into_iter().filter(|y| y.is_finite()).collect();
            if v.len() < 2 {
                return None;
            }
            v.sort_by(f64::total_cmp);
            let tail = (1.0 - level) / 2.0 * 100.0;
            Some((
                x,
                crate::bootstrap::percentile(&v, tail),
                crate::bootstrap::percentile(&v, 100.0 - tail),
            ))
        })
        .collect()
}

/// What the D-CPT figure shows besides the two loss curves.
#[derive(Debug, Clone, Default)]
pub struct DcptPlotOptions {
    /// The general-loss budget T (marks the best ratio within it).
    pub max_general_increase: Option<f64>,
    /// L_g0 for the budget.
    pub general_baseline: Option<f64>,
    /// K of the general corpus (cross-domain laws).
    pub k_general: Option<f64>,
    /// K of the domain (cross-domain laws).
    pub k_domain: Option<f64>,
}

/// Loss vs domain ratio: L_g(N, D, 1 − r_d) and L_d(N, D, r_d) over r_d ∈ [0, 1] at the given
/// N and D (and at D/4 and 4D, dashed and dotted), with bootstrap bands, and the planner's
/// best ratio within a general-loss budget when one is given.
pub fn dcpt_figure(
    file: &crate::dcpt::fit::DcptFile,
    n: f64,
    d: f64,
    opts: &DcptPlotOptions,
) -> Result<Figure, ScalingError> {
    use crate::dcpt::plan::{DcptQuery, plan};
    let rs: Vec<f64> = (0..=200).map(|i| i as f64 / 200.0).collect();
    let level = file.level();
    let chosen = match opts.max_general_increase {
        Some(t) if file.general.is_some() => {
            plan(
                file,
                &DcptQuery {
                    n: Some(n),
                    d: Some(d),
                    max_general_increase: Some(t),
                    general_baseline: opts.general_baseline,
                    k_general: opts.k_general,
                    k_domain: opts.k_domain,
                    ..Default::default()
                },
            )?
            .tradeoff
        }
        _ => None,
    };
    let mut panels = Vec::new();
    for (which, law, k) in [
        ("general", file.general.as_ref(), opts.k_general),
        ("domain", file.domain.as_ref(), opts.k_domain),
    ] {
        let Some(law) = law.map(|f| f.law) else {
            continue;
        };
        let general = which == "general";
        let share = move |r_d: f64| if general { 1.0 - r_d } else { r_d };
        let mut lines = Vec::new();
        for (factor, dash, name) in [
            (1.0, Dash::Solid, "D"),
            (0.25, Dash::Dashed, "D/4"),
            (4.0, Dash::Dotted, "4D"),
        ] {
            let dd = d * factor;
            lines.push(Line {
                label: Some(format!("{name} = {dd:.3e} tokens")),
                points: rs
                    .iter()
                    .map(|&r| (r, law.loss(n, dd, share(r), k)))
                    .collect(),
                color: if general { palette(0) } else { palette(1) },
                width: 2,
                dash,
            });
        }
        let draws = file.draws();
        let band = band_of(&rs, level, |r| {
            draws
                .iter()
                .filter_map(|dr| if general { dr.general } else { dr.domain })
                .map(|l| l.loss(n, d, share(r), k))
                .collect()
        });
        let mut bands = Vec::new();
        if band.len() > 1 {
            bands.push(Band {
                label: Some(format!("{:.0}% interval at D (bootstrap)", level * 100.0)),
                points: band,
                color: if general { palette(0) } else { palette(1) },
            });
        }
        let mut markers = Vec::new();
        if let Some(t) = &chosen {
            let r = t.ratio.value;
            if general {
                lines.push(Line {
                    label: Some(format!(
                        "budget (1 + {}) x L_g0 = {:.4}",
                        t.max_general_increase, t.general_bound
                    )),
                    points: vec![(0.0, t.general_bound), (1.0, t.general_bound)],
                    color: palette(3),
                    width: 1,
                    dash: Dash::Dashed,
                });
            }
            markers.push(Markers {
                label: Some(format!("best r_d within the budget = {r:.4}")),
                points: vec![(r, law.loss(n, d, share(r), k))],
                color: palette(3),
            });
        }
        panels.push(Panel {
            caption: format!("{which} loss at N = {n:.3e}"),
            x_desc: "domain share r_d of the mixture".into(),
            y_desc: format!("{which} loss"),
            x_log: false,
            y_log: false,
            bands,
            lines,
            markers,
        });
    }
    if panels.is_empty() {
        return Err(ScalingError::Law("the D-CPT law file has no law".into()));
    }
    Ok(Figure {
        title: format!("D-CPT law: loss vs domain ratio ({})", crate::dcpt::FORMULA),
        panels,
    })
}

/// Optimal vocabulary vs compute: approach 3's V_opt(N_nv, C) for each N_nv over 0.1× to
/// 10× its compute-optimal budget (solid), approach 3 at the compute-optimal budgets
/// (black), approaches 1 (dashed) and 2 (dotted) along the compute-optimal N_nv(C).
pub fn vocab_figure(
    law: &crate::vocab::VocabLaw,
    draws: &[crate::vocab::VocabLaw],
    params: &[f64],
) -> Result<Figure, ScalingError> {
    use crate::vocab::{ISOFLOPS, approach2_vocab_params, embed_dim};
    if params.is_empty() || params.iter().any(|n| !(n.is_finite() && *n > 0.0)) {
        return Err(ScalingError::InvalidArgument(
            "--params: give positive non-vocabulary sizes, e.g. 3e8,3e9,7e9,70e9".into(),
        ));
    }
    let mut lines = Vec::new();
    let mut bands = Vec::new();
    let (lo, hi) = params
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(a, b), &n| (a.min(n), b.max(n)));
    for (i, &n) in params.iter().enumerate() {
        let d = embed_dim(n);
        let c0 = ISOFLOPS.compute_for(n);
        let cs = logspace(c0 / 10.0, c0 * 10.0, 60);
        lines.push(Line {
            label: Some(format!("approach 3, N_nv = {n:.2e}")),
            points: cs
                .iter()
                .map(|&c| (c, law.optimal_vocab(n, d, c).unwrap_or(f64::NAN)))
                .collect(),
            color: palette(i + 2),
            width: 2,
            dash: Dash::Solid,
        });
        let b = band_of(&cs, 0.95, |c| {
            draws
                .iter()
                .filter_map(|l| l.optimal_vocab(n, d, c))
                .collect()
        });
        if b.len() > 1 {
            bands.push(Band {
                label: (i == 0).then(|| "95% interval (bootstrap)".to_string()),
                points: b,
                color: palette(i + 2),
            });
        }
    }
    let cs = logspace(
        ISOFLOPS.compute_for(lo) / 10.0,
        ISOFLOPS.compute_for(hi) * 10.0,
        120,
    );
    let at_opt = |c: f64| {
        let n = ISOFLOPS.n_nv_for(c);
        (n, embed_dim(n))
    };
    lines.push(Line {
        label: Some("approach 3 at the compute-optimal N_nv(C)".into()),
        points: cs
            .iter()
            .map(|&c| {
                let (n, d) = at_opt(c);
                (c, law.optimal_vocab(n, d, c).unwrap_or(f64::NAN))
            })
            .collect(),
        color: BLACK,
        width: 2,
        dash: Dash::Solid,
    });
    lines.push(Line {
        label: Some("approach 1 (isoFLOPs) N_v(C)/d".into()),
        points: cs
            .iter()
            .map(|&c| (c, ISOFLOPS.vocab_params(c) / at_opt(c).1))
            .collect(),
        color: BLACK,
        width: 2,
        dash: Dash::Dashed,
    });
    lines.push(Line {
        label: Some("approach 2 (derivative) N_v(N_nv)/d".into()),
        points: cs
            .iter()
            .map(|&c| {
                let (n, d) = at_opt(c);
                (c, approach2_vocab_params(n) / d)
            })
            .collect(),
        color: BLACK,
        width: 2,
        dash: Dash::Dotted,
    });
    Ok(Figure {
        title: "Optimal vocabulary size vs compute (Tao et al. 2024)".into(),
        panels: vec![Panel {
            caption: "V_opt: dL_u/dV = 0 (approach 3), and approaches 1 and 2".into(),
            x_desc: "compute C (FLOP)".into(),
            y_desc: "vocabulary size V".into(),
            x_log: true,
            y_log: true,
            bands,
            lines,
            markers: Vec::new(),
        }],
    })
}

/// ΔqLoss vs training tokens, one line per bit width, at N parameters; with a tolerance,
/// a dashed line at it and a marker where each bit width crosses it.
pub fn quant_figure(
    file: &crate::quant::QuantFile,
    n: f64,
    bits: &[f64],
    max_increase: Option<f64>,
) -> Result<Figure, ScalingError> {
    if !(n.is_finite() && n > 0.0) {
        return Err(ScalingError::InvalidArgument(format!(
            "--n {n}: must be finite and positive"
        )));
    }
    let bits: Vec<f64> = if bits.is_empty() {
        vec![2.0, 3.0, 4.0, 8.0]
    } else {
        bits.to_vec()
    };
    if let Some(b) = bits.iter().find(|b| !(b.is_finite() && **b > 0.0)) {
        return Err(ScalingError::InvalidArgument(format!(
            "--bits {b}: must be finite and positive"
        )));
    }
    let law = file.law;
    let ds = logspace(1e9, 1e14, 100);
    let mut lines = Vec::new();
    let mut bands = Vec::new();
    let mut markers = Vec::new();
    for (i, &p) in bits.iter().enumerate() {
        lines.push(Line {
            label: Some(format!("{p} bits")),
            points: ds.iter().map(|&d| (d, law.delta(n, d, p))).collect(),
            color: palette(i),
            width: 2,
            dash: Dash::Solid,
        });
        let b = band_of(&ds, 0.95, |d| {
            file.draws().iter().map(|l| l.delta(n, d, p)).collect()
        });
        if b.len() > 1 {
            bands.push(Band {
                label: (i == 0).then(|| "95% interval (bootstrap)".to_string()),
                points: b,
                color: palette(i),
            });
        }
        if let Some(m) = max_increase {
            let d = law.tokens_for(n, p, m);
            if (1e9..=1e14).contains(&d) {
                markers.push(Markers {
                    label: (markers.is_empty())
                        .then(|| "tokens where quantization adds the tolerance".to_string()),
                    points: vec![(d, m)],
                    color: palette(i),
                });
            }
        }
    }
    if let Some(m) = max_increase {
        lines.push(Line {
            label: Some(format!("tolerance dq = {m}")),
            points: vec![(1e9, m), (1e14, m)],
            color: BLACK,
            width: 1,
            dash: Dash::Dashed,
        });
    }
    Ok(Figure {
        title: format!("Quantization loss vs training tokens (Ouyang et al. 2024), N = {n:.3e}"),
        panels: vec![Panel {
            caption: format!(
                "dq = {}*D^{}/(N^{}*P^{})",
                crate::report::fmt_num(law.k, 4),
                crate::report::fmt_num(law.a, 4),
                crate::report::fmt_num(law.b, 4),
                crate::report::fmt_num(law.c, 4)
            ),
            x_desc: "training tokens D".into(),
            y_desc: "loss increase dq".into(),
            x_log: true,
            y_log: true,
            bands,
            lines,
            markers,
        }],
    })
}
