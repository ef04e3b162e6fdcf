//! Small, dependency-free optimizers: L-BFGS with a strong-Wolfe line search,
//! and Levenberg–Marquardt for small least-squares problems.
//!
//! The scaling-law objectives are tiny in absolute value (a Huber sum with
//! δ = 1e-3 is ~1e-3 in total), so the stopping rules here are deliberately
//! tight and *relative*: a default-tolerance optimizer stops far from the
//! optimum on these problems (see `scaling-laws.md`, pitfall 1).

/// Options for [`lbfgs`].
#[derive(Debug, Clone, Copy)]
pub struct LbfgsOptions {
    /// Number of correction pairs kept (history size).
    pub history: usize,
    /// Maximum number of iterations.
    pub max_iter: usize,
    /// Stop when the infinity norm of the gradient is at most this.
    pub gtol: f64,
    /// Stop when the relative decrease of the objective over one iteration is
    /// at most this, for [`LbfgsOptions::ftol_patience`] iterations in a row.
    pub ftol: f64,
    /// How many consecutive iterations must satisfy the `ftol` rule.
    pub ftol_patience: usize,
}

impl Default for LbfgsOptions {
    fn default() -> Self {
        Self {
            history: 10,
            max_iter: 3000,
            gtol: 1e-13,
            ftol: 1e-15,
            ftol_patience: 3,
        }
    }
}

/// Why an optimizer stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The gradient norm fell below the tolerance.
    Gradient,
    /// The objective stopped decreasing (relative tolerance).
    Objective,
    /// The line search could not find a lower point (numerical precision reached).
    LineSearch,
    /// The iteration limit was reached.
    MaxIter,
    /// The objective or its gradient was not finite at the start.
    NonFinite,
}

/// The result of a minimization.
#[derive(Debug, Clone)]
pub struct OptResult {
    /// The best point found.
    pub x: Vec<f64>,
    /// The objective at `x`.
    pub f: f64,
    /// Number of iterations.
    pub iterations: usize,
    /// Number of objective/gradient evaluations.
    pub evaluations: usize,
    /// Why the optimizer stopped.
    pub reason: StopReason,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn inf_norm(a: &[f64]) -> f64 {
    a.iter().fold(0.0_f64, |m, v| m.max(v.abs()))
}

/// Minimize `f` from `x0` with L-BFGS. `f(x, grad)` returns the objective and
/// writes the gradient into `grad`.
pub fn lbfgs<F>(mut f: F, x0: &[f64], opts: &LbfgsOptions) -> OptResult
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let n = x0.len();
    let mut x = x0.to_vec();
    let mut g = vec![0.0; n];
    let mut fx = f(&x, &mut g);
    let mut evals = 1;
    if !fx.is_finite() || g.iter().any(|v| !v.is_finite()) {
        return OptResult {
            x,
            f: fx,
            iterations: 0,
            evaluations: evals,
            reason: StopReason::NonFinite,
        };
    }
    let m = opts.history.max(1);
    let mut s_hist: Vec<Vec<f64>> = Vec::with_capacity(m);
    let mut y_hist: Vec<Vec<f64>> = Vec::with_capacity(m);
    let mut rho_hist: Vec<f64> = Vec::with_capacity(m);
    let mut alpha_buf = vec![0.0; m];
    let mut d = vec![0.0; n];
    let mut x_new = vec![0.0; n];
    let mut g_new = vec![0.0; n];
    let mut small_steps = 0;
    let mut reason = StopReason::MaxIter;
    let mut iter = 0;
    while iter < opts.max_iter {
        if inf_norm(&g) <= opts.gtol {
            reason = StopReason::Gradient;
            break;
        }
        // Two-loop recursion: d = -H g.
        d.copy_from_slice(&g);
        let k = s_hist.len();
        for i in (0..k).rev() {
            let a = rho_hist[i] * dot(&s_hist[i], &d);
            alpha_buf[i] = a;
            for (dj, yj) in d.iter_mut().zip(&y_hist[i]) {
                *dj -= a * yj;
            }
        }
        if k > 0 {
            let yy = dot(&y_hist[k - 1], &y_hist[k - 1]);
            let gamma = 1.0 / (rho_hist[k - 1] * yy);
            for dj in d.iter_mut() {
                *dj *= gamma;
            }
        }
        for i in 0..k {
            let b = rho_hist[i] * dot(&y_hist[i], &d);
            for (dj, sj) in d.iter_mut().zip(&s_hist[i]) {
                *dj += (alpha_buf[i] - b) * sj;
            }
        }
        for dj in d.iter_mut() {
            *dj = -*dj;
        }
        let mut dg = dot(&d, &g);
        if !(dg < 0.0) {
            // Not a descent direction: reset to steepest descent.
            s_hist.clear();
            y_hist.clear();
            rho_hist.clear();
            for (dj, gj) in d.iter_mut().zip(&g) {
                *dj = -gj;
            }
            dg = dot(&d, &g);
        }
        let step0 = if s_hist.is_empty() {
            (1.0 / inf_norm(&g)).min(1.0)
        } else {
            1.0
        };
        let ls = strong_wolfe(&mut f, &x, fx, &g, &d, dg, step0, &mut x_new, &mut g_new);
        evals += ls.evals;
        let Some(f_new) = ls.f else {
            reason = StopReason::LineSearch;
            break;
        };
        iter += 1;
        // Update history.
        let s: Vec<f64> = x_new.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-300 {
            if s_hist.len() == m {
                s_hist.remove(0);
                y_hist.remove(0);
                rho_hist.remove(0);
            }
            s_hist.push(s);
            y_hist.push(y);
            rho_hist.push(1.0 / sy);
        }
        let decrease = fx - f_new;
        x.copy_from_slice(&x_new);
        g.copy_from_slice(&g_new);
        let scale = fx.abs().max(f_new.abs()).max(1e-300);
        fx = f_new;
        if decrease <= opts.ftol * scale {
            small_steps += 1;
            if small_steps >= opts.ftol_patience {
                reason = StopReason::Objective;
                break;
            }
        } else {
            small_steps = 0;
        }
    }
    OptResult {
        x,
        f: fx,
        iterations: iter,
        evaluations: evals,
        reason,
    }
}

struct LineSearchOut {
    f: Option<f64>,
    evals: usize,
}

/// Strong-Wolfe line search (Nocedal & Wright, algorithms 3.5 and 3.6) with
/// cubic/bisection interpolation. On success `x_out`/`g_out` hold the new point.
#[allow(clippy::too_many_arguments)]
fn strong_wolfe<F>(
    f: &mut F,
    x: &[f64],
    f0: f64,
    g0: &[f64],
    d: &[f64],
    dg0: f64,
    step0: f64,
    x_out: &mut [f64],
    g_out: &mut [f64],
) -> LineSearchOut
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    const C1: f64 = 1e-4;
    const C2: f64 = 0.9;
    let _ = g0;
    let mut evals = 0;
    let mut eval = |t: f64, xo: &mut [f64], go: &mut [f64], evals: &mut usize| -> (f64, f64) {
        for ((xo, xi), di) in xo.iter_mut().zip(x).zip(d) {
            *xo = xi + t * di;
        }
        let fv = f(xo, go);
        *evals += 1;
        let dg = dot(go, d);
        if fv.is_finite() && dg.is_finite() {
            (fv, dg)
        } else {
            (f64::INFINITY, f64::NAN)
        }
    };
    // Best point seen that satisfies sufficient decrease (fallback).
    let mut t_prev = 0.0;
    let mut f_prev = f0;
    let mut dg_prev = dg0;
    let mut t = step0;
    let mut best: Option<(f64, f64)> = None; // (t, f)
    for i in 0..40 {
        let (ft, dgt) = eval(t, x_out, g_out, &mut evals);
        if ft > f0 + C1 * t * dg0 || (i > 0 && ft >= f_prev) {
            return zoom(
                &mut eval, f0, dg0, t_prev, f_prev, dg_prev, t, ft, dgt, x_out, g_out, evals, best,
            );
        }
        if dgt.abs() <= -C2 * dg0 {
            return LineSearchOut { f: Some(ft), evals };
        }
        if ft < f0 {
            best = Some((t, ft));
        }
        if dgt >= 0.0 {
            return zoom(
                &mut eval, f0, dg0, t, ft, dgt, t_prev, f_prev, dg_prev, x_out, g_out, evals, best,
            );
        }
        t_prev = t;
        f_prev = ft;
        dg_prev = dgt;
        t *= 2.0;
    }
    finish_best(&mut eval, best, x_out, g_out, evals)
}

fn finish_best<E>(
    eval: &mut E,
    best: Option<(f64, f64)>,
    x_out: &mut [f64],
    g_out: &mut [f64],
    mut evals: usize,
) -> LineSearchOut
where
    E: FnMut(f64, &mut [f64], &mut [f64], &mut usize) -> (f64, f64),
{
    match best {
        Some((t, _)) => {
            let (ft, _) = eval(t, x_out, g_out, &mut evals);
            LineSearchOut { f: Some(ft), evals }
        }
        None => LineSearchOut { f: None, evals },
    }
}

fn cubic_min(a: f64, fa: f64, ga: f64, b: f64, fb: f64, gb: f64) -> Option<f64> {
    let d1 = ga + gb - 3.0 * (fa - fb) / (a - b);
    let disc = d1 * d1 - ga * gb;
    if !(disc >= 0.0) {
        return None;
    }
    let d2 = (b - a).signum() * disc.sqrt();
    let t = b - (b - a) * (gb + d2 - d1) / (gb - ga + 2.0 * d2);
    t.is_finite().then_some(t)
}

#[allow(clippy::too_many_arguments)]
fn zoom<E>(
    eval: &mut E,
    f0: f64,
    dg0: f64,
    mut lo: f64,
    mut f_lo: f64,
    mut dg_lo: f64,
    mut hi: f64,
    mut f_hi: f64,
    mut dg_hi: f64,
    x_out: &mut [f64],
    g_out: &mut [f64],
    mut evals: usize,
    mut best: Option<(f64, f64)>,
) -> LineSearchOut
where
    E: FnMut(f64, &mut [f64], &mut [f64], &mut usize) -> (f64, f64),
{
    const C1: f64 = 1e-4;
    const C2: f64 = 0.9;
    if f_lo < f0 && best.is_none_or(|(_, fb)| f_lo < fb) && lo > 0.0 {
        best = Some((lo, f_lo));
    }
    for _ in 0..60 {
        let (a, b) = if lo < hi { (lo, hi) } else { (hi, lo) };
        let width = b - a;
        if width <= 1e-16 * b.abs().max(1e-300) {
            break;
        }
        let mut t = if f_hi.is_finite() && dg_hi.is_finite() {
            cubic_min(lo, f_lo, dg_lo, hi, f_hi, dg_hi).unwrap_or(0.5 * (lo + hi))
        } else {
            0.5 * (lo + hi)
        };
        // Safeguard: stay well inside the bracket.
        let margin = 0.1 * width;
        if t < a + margin || t > b - margin {
            t = 0.5 * (lo + hi);
        }
        let (ft, dgt) = eval(t, x_out, g_out, &mut evals);
        if ft > f0 + C1 * t * dg0 || ft >= f_lo {
            hi = t;
            f_hi = ft;
            dg_hi = dgt;
        } else {
            if dgt.abs() <= -C2 * dg0 {
                return LineSearchOut { f: Some(ft), evals };
            }
            if ft < f0 && best.is_none_or(|(_, fb)| ft < fb) {
                best = Some((t, ft));
            }
            if dgt * (hi - lo) >= 0.0 {
                hi = lo;
                f_hi = f_lo;
                dg_hi = dg_lo;
            }
            lo = t;
            f_lo = ft;
            dg_lo = dgt;
        }
    }
    finish_best(eval, best, x_out, g_out, evals)
}

/// Options for [`levenberg_marquardt`].
#[derive(Debug, Clone, Copy)]
pub struct LmOptions {
    /// Maximum number of accepted+rejected steps.
    pub max_iter: usize,
    /// Relative tolerance on the sum of squares.
    pub ftol: f64,
    /// Relative tolerance on the step size.
    pub xtol: f64,
}

impl Default for LmOptions {
    fn default() -> Self {
        Self {
            max_iter: 10_000,
            ftol: 1e-15,
            xtol: 1e-15,
        }
    }
}

/// Minimize `Σ r_i(x)²` with Levenberg–Marquardt (Marquardt's diagonal
/// scaling). `resid(x, r, jac)` fills the residuals `r` (length m) and the
/// row-major Jacobian `jac` (m × n, ∂r_i/∂x_j). Returns the point and its sum
/// of squares in [`OptResult::f`].
pub fn levenberg_marquardt<F>(mut resid: F, x0: &[f64], m: usize, opts: &LmOptions) -> OptResult
where
    F: FnMut(&[f64], &mut [f64], &mut [f64]),
{
    let n = x0.len();
    let mut x = x0.to_vec();
    let mut r = vec![0.0; m];
    let mut j = vec![0.0; m * n];
    resid(&x, &mut r, &mut j);
    let mut evals = 1;
    let mut ss: f64 = r.iter().map(|v| v * v).sum();
    if !ss.is_finite() {
        return OptResult {
            x,
            f: ss,
            iterations: 0,
            evaluations: evals,
            reason: StopReason::NonFinite,
        };
    }
    let mut lambda = 1e-3;
    let mut x_try = vec![0.0; n];
    let mut r_try = vec![0.0; m];
    let mut j_try = vec![0.0; m * n];
    let mut reason = StopReason::MaxIter;
    let mut iter = 0;
    while iter < opts.max_iter {
        iter += 1;
        // Normal equations: (JᵀJ + λ diag(JᵀJ)) δ = -Jᵀ r.
        let mut jtj = vec![0.0; n * n];
        let mut jtr = vec![0.0; n];
        for i in 0..m {
            let row = &j[i * n..(i + 1) * n];
            for a in 0..n {
                jtr[a] += row[a] * r[i];
                for b in 0..n {
                    jtj[a * n + b] += row[a] * row[b];
                }
            }
        }
        if inf_norm(&jtr) == 0.0 {
            reason = StopReason::Gradient;
            break;
        }
        let mut accepted = false;
        for _ in 0..60 {
            let mut a_mat = jtj.clone();
            for k in 0..n {
                let dkk = jtj[k * n + k].max(1e-300);
                a_mat[k * n + k] += lambda * dkk;
            }
            let rhs: Vec<f64> = jtr.iter().map(|v| -v).collect();
            let Some(delta) = solve_dense(a_mat, rhs, n) else {
                lambda *= 10.0;
                continue;
            };
            for k in 0..n {
                x_try[k] = x[k] + delta[k];
            }
            resid(&x_try, &mut r_try, &mut j_try);
            evals += 1;
            let ss_try: f64 = r_try.iter().map(|v| v * v).sum();
            if ss_try.is_finite() && ss_try < ss {
                let step_rel = delta
                    .iter()
                    .zip(&x)
                    .map(|(d, xv)| d.abs() / (xv.abs() + 1e-300))
                    .fold(0.0_f64, f64::max);
                let f_rel = (ss - ss_try) / ss.max(1e-300);
                std::mem::swap(&mut x, &mut x_try);
                std::mem::swap(&mut r, &mut r_try);
                std::mem::swap(&mut j, &mut j_try);
                ss = ss_try;
                lambda = (lambda / 10.0).max(1e-15);
                accepted = true;
                if f_rel <= opts.ftol || step_rel <= opts.xtol {
                    reason = StopReason::Objective;
                }
                break;
            }
            lambda *= 10.0;
            if lambda > 1e20 {
                break;
            }
        }
        if !accepted {
            reason = StopReason::LineSearch;
            break;
        }
        if reason == StopReason::Objective {
            break;
        }
    }
    OptResult {
        x,
        f: ss,
        iterations: iter,
        evaluations: evals,
        reason,
    }
}

/// Solve the dense n×n system `a x = b` by Gaussian elimination with partial
/// pivoting. Returns `None` when the matrix is singular.
pub(crate) fn solve_dense(mut a: Vec<f64>, mut b: Vec<f64>, n: usize) -> Option<Vec<f64>> {
    for col in 0..n {
        let piv =
            (col..n).max_by(|&i, &k| a[i * n + col].abs().total_cmp(&a[k * n + col].abs()))?;
        if a[piv * n + col].abs() < 1e-300 || !a[piv * n + col].is_finite() {
            return None;
        }
        if piv != col {
            for k in 0..n {
                a.swap(piv * n + k, col * n + k);
            }
            b.swap(piv, col);
        }
        for row in col + 1..n {
            let factor = a[row * n + col] / a[col * n + col];
            for k in col..n {
                a[row * n + k] -= factor * a[col * n + k];
            }
            b[row] -= factor * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let mut s = b[row];
        for k in row + 1..n {
            s -= a[row * n + k] * x[k];
        }
        x[row] = s / a[row * n + row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// Minimize a scalar function of one variable on `[lo, hi]` by golden-section
/// search (used for compute-optimal allocations without a closed form).
pub fn golden_section<F: FnMut(f64) -> f64>(
    mut f: F,
    mut lo: f64,
    mut hi: f64,
    iters: usize,
) -> f64 {
    let phi = (5.0_f64.sqrt() - 1.0) / 2.0;
    let mut c = hi - phi * (hi - lo);
    let mut d = lo + phi * (hi - lo);
    let mut fc = f(c);
    let mut fd = f(d);
    for _ in 0..iters {
        if fc < fd {
            hi = d;
            d = c;
            fd = fc;
            c = hi - phi * (hi - lo);
            fc = f(c);
        } else {
            lo = c;
            c = d;
            fc = fd;
            d = lo + phi * (hi - lo);
            fd = f(d);
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lbfgs_rosenbrock() {
        let r = lbfgs(
            |x, g| {
                let (a, b) = (x[0], x[1]);
                g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
                g[1] = 200.0 * (b - a * a);
                (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
            },
            &[-1.2, 1.0],
            &LbfgsOptions::default(),
        );
        assert!((r.x[0] - 1.0).abs() < 1e-8, "{r:?}");
        assert!((r.x[1] - 1.0).abs() < 1e-8, "{r:?}");
    }

    #[test]
    fn lm_fits_exponential() {
        let xs: Vec<f64> = (0..10).map(|i| i as f64 * 0.3).collect();
        let ys: Vec<f64> = xs.iter().map(|x| 2.0 * (-0.7 * x).exp() + 0.5).collect();
        let r = levenberg_marquardt(
            |p, r, j| {
                for (i, (&x, &y)) in xs.iter().zip(&ys).enumerate() {
                    let e = (-p[1] * x).exp();
                    r[i] = p[0] * e + p[2] - y;
                    j[i * 3] = e;
                    j[i * 3 + 1] = -p[0] * x * e;
                    j[i * 3 + 2] = 1.0;
                }
            },
            &[1.0, 0.1, 0.0],
            xs.len(),
            &LmOptions::default(),
        );
        assert!(
            (r.x[0] - 2.0).abs() < 1e-8 && (r.x[1] - 0.7).abs() < 1e-8,
            "{r:?}"
        );
    }

    #[test]
    fn golden_finds_parabola_min() {
        let x = golden_section(|x| (x - 1.3).powi(2), -5.0, 5.0, 100);
        assert!((x - 1.3).abs() < 1e-9);
    }

    #[test]
    fn solve_small_system() {
        let x = solve_dense(vec![2.0, 1.0, 1.0, 3.0], vec![3.0, 5.0], 2).unwrap();
        assert!((x[0] - 0.8).abs() < 1e-12 && (x[1] - 1.4).abs() < 1e-12);
    }
}
