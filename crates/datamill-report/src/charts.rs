//! Charts, drawn with the one plotting helper (`datamill-plot`, plotters at sub-pixel
//! precision) as inline SVG. Labels that come from the run are escaped by plotters' SVG
//! backend; the tests check a field name holding markup.

use datamill_plot::plotters::prelude::*;
use datamill_plot::{Px, err, svg_string};

/// A histogram of two samples (kept, dropped) over the same bins, with threshold lines.
pub struct Histogram<'a> {
    /// What is counted (x axis).
    pub field: &'a str,
    /// Values of kept documents.
    pub kept: &'a [f64],
    /// Values of dropped documents.
    pub dropped: &'a [f64],
    /// Vertical lines: (x, label).
    pub thresholds: &'a [(f64, String)],
}

/// Bin edges: `bins` equal bins between the 0.5th and 99.5th percentile of all values (the
/// thresholds widen them so they are always visible); values outside fall in the end bins.
pub fn bins(values: &[f64], thresholds: &[f64], bins: usize) -> (f64, f64) {
    let mut all: Vec<f64> = values.iter().cloned().filter(|v| v.is_finite()).collect();
    if all.is_empty() {
        return (0.0, 1.0);
    }
    all.sort_by(f64::total_cmp);
    let q = |p: f64| all[((all.len() - 1) as f64 * p).round() as usize];
    let (mut lo, mut hi) = (q(0.005), q(0.995));
    for &t in thresholds {
        lo = lo.min(t);
        hi = hi.max(t);
    }
    if hi <= lo {
        hi = lo + 1.0;
    }
    let _ = bins;
    (lo, hi)
}

/// Counts of `values` in `n` bins over `[lo, hi]` (outliers in the end bins).
pub fn count(values: &[f64], lo: f64, hi: f64, n: usize) -> Vec<u64> {
    let mut c = vec![0u64; n];
    let w = (hi - lo) / n as f64;
    for &v in values.iter().filter(|v| v.is_finite()) {
        let i = (((v - lo) / w).floor().max(0.0) as usize).min(n - 1);
        c[i] += 1;
    }
    c
}

/// The histogram as an SVG document.
pub fn histogram(h: &Histogram) -> Result<String, datamill_plot::PlotError> {
    const N: usize = 40;
    let ts: Vec<f64> = h.thresholds.iter().map(|t| t.0).collect();
    let all: Vec<f64> = h.kept.iter().chain(h.dropped).cloned().collect();
    let (lo, hi) = bins(&all, &ts, N);
    let kept = count(h.kept, lo, hi, N);
    let dropped = count(h.dropped, lo, hi, N);
    let ymax = kept
        .iter()
        .chain(&dropped)
        .copied()
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let w = (hi - lo) / N as f64;
    svg_string((560, 240), |root, px: Px| {
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(px.i(8.0))
            .x_label_area_size(px.u(34.0))
            .y_label_area_size(px.u(52.0))
            .build_cartesian_2d(lo..hi, 0.0..ymax * 1.08)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc(h.field)
            .y_desc("documents (sample)")
            .label_style(("sans-serif", px.f(11.0)))
            .axis_desc_style(("sans-serif", px.f(12.0)))
            .draw()
            .map_err(err)?;
        let blue = RGBColor(60, 125, 217);
        let orange = RGBColor(224, 123, 57);
        for (counts, color, name) in [(&kept, blue, "kept"), (&dropped, orange, "dropped")] {
            chart
                .draw_series(
                    counts
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| **c > 0)
                        .map(|(i, &c)| {
                            let x0 = lo + w * i as f64;
                            Rectangle::new(
                                [(x0, 0.0), (x0 + w, c as f64)],
                                color.mix(0.55).filled(),
                            )
                        }),
                )
                .map_err(err)?
                .label(name)
                .legend(move |(x, y)| {
                    Rectangle::new(
                        [(x, y - px.i(5.0)), (x + px.i(14.0), y + px.i(5.0))],
                        color.mix(0.55).filled(),
                    )
                });
        }
        for (t, label) in h.thresholds {
            let red = RGBColor(200, 30, 30);
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(*t, 0.0), (*t, ymax * 1.08)],
                    red.stroke_width(px.u(1.5)),
                )))
                .map_err(err)?
                .label(format!("{label} = {t}"))
                .legend(move |(x, y)| {
                    PathElement::new(
                        vec![(x, y), (x + px.i(14.0), y)],
                        red.stroke_width(px.u(1.5)),
                    )
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .label_font(("sans-serif", px.f(11.0)))
            .draw()
            .map_err(err)?;
        root.present().map_err(err)
    })
}

/// An UpSet chart: one row per set (its size as a bar on the left), one column per
/// intersection (its size as a bar on top, its member sets as filled dots below).
pub struct UpSet<'a> {
    /// The sets' names, top to bottom.
    pub sets: &'a [String],
    /// Each set's size.
    pub sizes: &'a [usize],
    /// The intersections, left to right: member sets, size.
    pub columns: &'a [(Vec<usize>, usize)],
}

/// The UpSet chart as an SVG document (drawn in pixel coordinates with plotters' elements).
pub fn upset(u: &UpSet) -> Result<String, datamill_plot::PlotError> {
    let rows = u.sets.len().max(1);
    let cols = u.columns.len().max(1);
    let (left, label_w, top, row_h, col_w) = (150.0, 170.0, 170.0, 24.0, 30.0);
    let width = (left + label_w + col_w * cols as f64 + 30.0).max(420.0);
    let height = top + row_h * rows as f64 + 40.0;
    let max_col = u.columns.iter().map(|c| c.1).max().unwrap_or(1).max(1) as f64;
    let max_set = u.sizes.iter().copied().max().unwrap_or(1).max(1) as f64;
    svg_string((width as u32, height as u32), |root, px: Px| {
        root.fill(&WHITE).map_err(err)?;
        let p = |x: f64, y: f64| (px.i(x), px.i(y));
        let dark = RGBColor(45, 55, 72);
        let blue = RGBColor(60, 125, 217);
        let grey = RGBColor(215, 219, 224);
        let font = ("sans-serif", px.f(11.0)).into_font();
        let x0 = left + label_w;
        let matrix_top = top + 10.0;
        // Column bars and their counts.
        for (j, (members, n)) in u.columns.iter().enumerate() {
            let cx = x0 + col_w * (j as f64 + 0.5);
            let h = (top - 30.0) * *n as f64 / max_col;
            root.draw(&Rectangle::new(
                [p(cx - 9.0, top - h), p(cx + 9.0, top)],
                dark.filled(),
            ))
            .map_err(err)?;
            root.draw(&Text::new(
                n.to_string(),
                p(cx - 4.0 * n.to_string().len() as f64 / 1.2, top - h - 14.0),
                font.clone(),
            ))
            .map_err(err)?;
            // The matrix: a dot per set, filled for members, joined by a line.
            for i in 0..u.sets.len() {
                let cy = matrix_top + row_h * (i as f64 + 0.5);
                let member = members.contains(&i);
                root.draw(&Circle::new(
                    p(cx, cy),
                    px.u(6.0),
                    if member { dark.filled() } else { grey.filled() },
                ))
                .map_err(err)?;
            }
            if let (Some(a), Some(b)) = (members.iter().min(), members.iter().max())
                && a != b
            {
                let ya = matrix_top + row_h * (*a as f64 + 0.5);
                let yb = matrix_top + row_h * (*b as f64 + 0.5);
                root.draw(&PathElement::new(
                    vec![p(cx, ya), p(cx, yb)],
                    dark.stroke_width(px.u(2.0)),
                ))
                .map_err(err)?;
            }
        }
        // Set rows: name and a bar of its size (right-aligned at the labels).
        for (i, name) in u.sets.iter().enumerate() {
            let cy = matrix_top + row_h * (i as f64 + 0.5);
            let n = u.sizes.get(i).copied().unwrap_or(0);
            let w = (left - 50.0) * n as f64 / max_set;
            root.draw(&Rectangle::new(
                [p(left - 10.0 - w, cy - 7.0), p(left - 10.0, cy + 7.0)],
                blue.mix(0.8).filled(),
            ))
            .map_err(err)?;
            root.draw(&Text::new(
                n.to_string(),
                p(left - 14.0 - w - 7.0 * n.to_string().len() as f64, cy - 6.0),
                font.clone(),
            ))
            .map_err(err)?;
            let label: String = name.chars().take(26).collect();
            root.draw(&Text::new(label, p(left, cy - 6.0), font.clone()))
                .map_err(err)?;
        }
        root.draw(&Text::new(
            "documents dropped by exactly these stages (columns)",
            p(4.0, 4.0),
            font.clone(),
        ))
        .map_err(err)?;
        root.draw(&Text::new(
            "each stage alone",
            p(4.0, top - 18.0),
            font.clone(),
        ))
        .map_err(err)?;
        root.present().map_err(err)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_cover_values_and_thresholds() {
        let v: Vec<f64> = (0..1000).map(f64::from).collect();
        let (lo, hi) = bins(&v, &[2000.0], 40);
        assert!(lo <= 5.0 && hi == 2000.0);
        let c = count(&v, 0.0, 1000.0, 10);
        assert_eq!(c.iter().sum::<u64>(), 1000);
        assert_eq!(c[0], 100);
        // Outliers land in the end bins.
        assert_eq!(count(&[-5.0, 5000.0], 0.0, 10.0, 2), vec![1, 1]);
    }

    #[test]
    fn histogram_is_svg_with_escaped_labels() {
        let svg = histogram(&Histogram {
            field: "<b>score</b>",
            kept: &[1.0, 2.0, 2.5],
            dropped: &[0.1],
            thresholds: &[(0.5, "min".into())],
        })
        .unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("viewBox=\"0 0 2240 960\""));
        assert!(!svg.contains("<b>"), "labels escaped");
        assert!(svg.contains("min = 0.5"));
    }

    #[test]
    fn upset_draws_a_dot_per_set_and_column() {
        let sets = vec!["length".to_string(), "<i>regex</i>".to_string()];
        let svg = upset(&UpSet {
            sets: &sets,
            sizes: &[7, 3],
            columns: &[(vec![0], 5), (vec![0, 1], 2), (vec![1], 1)],
        })
        .unwrap();
        assert!(svg.starts_with("<svg"));
        assert_eq!(svg.matches("<circle").count(), 6, "2 sets x 3 columns");
        assert!(!svg.contains("<i>"), "labels escaped");
        // One line joins the two members of the second column.
        assert_eq!(svg.matches("<polyline").count(), 1);
    }
}
