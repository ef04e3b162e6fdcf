//! Learned mixtures: from small proxy runs (mixture weights → validation losses) to a weight
//! vector the mixer takes directly (`weights_file`).
//!
//! * **RegMix** (Liu et al. 2024, sail-sg/regmix `regression_fitting/regression.ipynb`): one
//!   regressor per target loss, fitted on the training runs and scored by the Spearman
//!   correlation of its predictions on held-out runs; then `samples` mixtures are drawn from
//!   `Dirichlet(prior · strength)`, their losses predicted, and the `top_k` best averaged. The
//!   reference uses LightGBM (no Rust port); datamill offers ridge regression and a small
//!   gradient-boosted tree ensemble (least squares, depth-limited trees, shrinkage, early
//!   stopping on the held-out rows as the notebook does) and picks the better by Spearman.
//!   Dirichlet draws use datamill's seeded PCG64 (`default_rng`-compatible bits) with a
//!   Marsaglia–Tsang gamma, not numpy's sampler, so the draws are reproducible but not
//!   numpy's.
//! * **Data mixing law** (Ye et al., ICLR 2025, yegcjs/mixinglaws): per target domain
//!   `L_i(r) = c_i + k_i · exp(Σ_j t_ij r_j)`, fitted by minimising the sum of Huber losses
//!   (δ = 0.01, as `law.py`) with `datamill-scaling`'s L-BFGS from a start found as the
//!   notebooks do (c on a grid maximising |corr| of `log(y − c)` with the mixture, then least
//!   squares of the log); the mixture minimising `Σ_i s_i L_i(r)` is found on the simplex
//!   (softmax parameters, L-BFGS, several starts).

// Index loops over parallel arrays read best in these numeric kernels.
#![allow(clippy::needless_range_loop)]

use datamill_npsort::random::Pcg64;
use datamill_scaling::data::Table;
use datamill_scaling::optim::{LbfgsOptions, lbfgs};
use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::error::MixError;

/// Proxy runs: mixtures and the losses they reached.
#[derive(Clone, Debug)]
pub struct Runs {
    /// The mixture's domains (column names).
    pub domains: Vec<String>,
    /// Each run's weights (one per domain).
    pub x: Vec<Vec<f64>>,
    /// The target columns.
    pub targets: Vec<String>,
    /// Each run's losses (one per target).
    pub y: Vec<Vec<f64>>,
}

fn bad(m: String) -> MixError {
    MixError::Plan(m)
}

fn parse_cell(t: &Table, row: usize, col: usize) -> Result<f64, MixError> {
    let s = t.rows[row][col].trim();
    s.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| {
            bad(format!(
                "{}: row {}: column `{}`: `{s}` is not a finite number",
                t.source,
                row + 2,
                t.headers[col]
            ))
        })
}

impl Runs {
    /// Reads proxy runs. `mixtures` has one column per domain (and optionally an `index`
    /// column); `losses` (if given) has the target columns and is matched row by row, or by
    /// its `index` column when both files have one. Without `losses` the targets are columns
    /// of `mixtures`. `targets` empty means every column of `losses`.
    pub fn load(
        mixtures: &Path,
        losses: Option<&Path>,
        targets: &[String],
    ) -> Result<Runs, MixError> {
        let mt = Table::read(mixtures).map_err(|e| bad(e.to_string()))?;
        let lt = match losses {
            Some(p) => Some(Table::read(p).map_err(|e| bad(e.to_string()))?),
            None => None,
        };
        let loss_table = lt.as_ref().unwrap_or(&mt);
        let idx_m = mt.column("index");
        let idx_l = loss_table.column("index");
        let targets: Vec<String> = if targets.is_empty() {
            match &lt {
                Some(l) => l
                    .headers
                    .iter()
                    .filter(|h| h.as_str() != "index")
                    .cloned()
                    .collect(),
                None => return Err(bad("give the target column(s)".into())),
            }
        } else {
            targets.to_vec()
        };
        let tcols: Vec<usize> = targets
            .iter()
            .map(|t| {
                loss_table.column(t).ok_or_else(|| {
                    bad(format!(
                        "{}: no column `{t}`; the columns are: {}",
                        loss_table.source,
                        loss_table.headers.join(", ")
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
        let dcols: Vec<usize> = (0..mt.headers.len())
            .filter(|&c| Some(c) != idx_m && (lt.is_some() || !tcols.contains(&c)))
            .collect();
        if dcols.len() < 2 {
            return Err(bad(format!("{}: fewer than two domain columns", mt.source)));
        }
        let mut lrow_of = Vec::with_capacity(mt.rows.len());
        if let (Some(l), Some(im), Some(il)) = (&lt, idx_m, idx_l) {
            let mut by: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
            for (r, row) in l.rows.iter().enumerate() {
                by.insert(row[il].trim(), r);
            }
            for row in &mt.rows {
                let key = row[im].trim();
                lrow_of.push(
                    *by.get(key)
                        .ok_or_else(|| bad(format!("{}: no row with index {key}", l.source)))?,
                );
            }
        } else {
            if loss_table.rows.len() != mt.rows.len() {
                return Err(bad(format!(
                    "{} has {} rows but {} has {}",
                    mt.source,
                    mt.rows.len(),
                    loss_table.source,
                    loss_table.rows.len()
                )));
            }
            lrow_of.extend(0..mt.rows.len());
        }
        let mut x = Vec::new();
        let mut y = Vec::new();
        for (r, &lr) in lrow_of.iter().enumerate() {
            let w: Vec<f64> = dcols
                .iter()
                .map(|&c| parse_cell(&mt, r, c))
                .collect::<Result<_, _>>()?;
            if w.iter().any(|&v| v < 0.0) {
                return Err(bad(format!(
                    "{}: row {}: a negative weight",
                    mt.source,
                    r + 2
                )));
            }
            x.push(w);
            y.push(
                tcols
                    .iter()
                    .map(|&c| parse_cell(loss_table, lr, c))
                    .collect::<Result<_, _>>()?,
            );
        }
        if x.len() < 4 {
            return Err(bad(format!("{}: fewer than 4 runs", mt.source)));
        }
        Ok(Runs {
            domains: dcols.iter().map(|&c| mt.headers[c].clone()).collect(),
            x,
            targets,
            y,
        })
    }

    /// The losses of target `t`.
    pub fn target(&self, t: usize) -> Vec<f64> {
        self.y.iter().map(|r| r[t]).collect()
    }
}

/// Average ranks (ties share the mean rank), from 1.
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

/// Pearson's correlation.
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let ma = a.iter().sum::<f64>() / n;
    let mb = b.iter().sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    sab / (saa * sbb).sqrt()
}

/// Spearman's rank correlation (`scipy.stats.spearmanr`: Pearson on average ranks).
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    pearson(&ranks(a), &ranks(b))
}

/// A fitted regressor of one target.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Model {
    /// `b + w · x`.
    Ridge {
        /// Intercept.
        b: f64,
        /// Coefficients.
        w: Vec<f64>,
    },
    /// `base + lr · Σ trees`.
    Gbdt {
        /// The initial prediction (mean of the targets).
        base: f64,
        /// Shrinkage.
        lr: f64,
        /// The trees, as flat node lists.
        trees: Vec<Vec<Node>>,
    },
}

/// A node of a regression tree: a split (`feature`, `threshold`, children) or a leaf.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Node {
    /// `x[feature] <= threshold` goes left.
    Split {
        /// Feature index.
        feature: usize,
        /// Threshold.
        threshold: f64,
        /// Left child.
        left: usize,
        /// Right child.
        right: usize,
    },
    /// A leaf value.
    Leaf(f64),
}

impl Model {
    /// The prediction for one mixture.
    pub fn predict(&self, x: &[f64]) -> f64 {
        match self {
            Model::Ridge { b, w } => b + w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>(),
            Model::Gbdt { base, lr, trees } => {
                let mut s = 0.0;
                for t in trees {
                    let mut n = 0;
                    loop {
                        match t[n] {
                            Node::Leaf(v) => {
                                s += v;
                                break;
                            }
                            Node::Split {
                                feature,
                                threshold,
                                left,
                                right,
                            } => n = if x[feature] <= threshold { left } else { right },
                        }
                    }
                }
                base + lr * s
            }
        }
    }

    /// Short name.
    pub fn name(&self) -> &'static str {
        match self {
            Model::Ridge { .. } => "ridge",
            Model::Gbdt { .. } => "gbdt",
        }
    }
}

/// Solves the symmetric positive definite system `a x = b` (Cholesky).
fn solve_spd(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for j in 0..n {
        let mut d = a[j][j];
        for k in 0..j {
            d -= a[j][k] * a[j][k];
        }
        let d = d.max(1e-300).sqrt();
        a[j][j] = d;
        for i in j + 1..n {
            let mut s = a[i][j];
            for k in 0..j {
                s -= a[i][k] * a[j][k];
            }
            a[i][j] = s / d;
        }
    }
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= a[i][k] * b[k];
        }
        b[i] = s / a[i][i];
    }
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= a[k][i] * b[k];
        }
        b[i] = s / a[i][i];
    }
    b
}

/// Ridge regression with an unpenalised intercept: minimises `Σ (y − b − w·x)² + λ |w|²`.
pub fn fit_ridge(x: &[Vec<f64>], y: &[f64], lambda: f64) -> Model {
    let n = x.len() as f64;
    let d = x[0].len();
    let mx: Vec<f64> = (0..d)
        .map(|j| x.iter().map(|r| r[j]).sum::<f64>() / n)
        .collect();
    let my = y.iter().sum::<f64>() / n;
    let mut a = vec![vec![0.0; d]; d];
    let mut rhs = vec![0.0; d];
    for (r, &t) in x.iter().zip(y) {
        for i in 0..d {
            let ci = r[i] - mx[i];
            rhs[i] += ci * (t - my);
            for j in 0..=i {
                a[i][j] += ci * (r[j] - mx[j]);
            }
        }
    }
    for i in 0..d {
        for j in 0..i {
            a[j][i] = a[i][j];
        }
        a[i][i] += lambda;
    }
    let w = solve_spd(a, rhs);
    let b = my - w.iter().zip(&mx).map(|(a, b)| a * b).sum::<f64>();
    Model::Ridge { b, w }
}

/// Options of the boosted trees.
#[derive(Clone, Copy, Debug)]
pub struct GbdtOptions {
    /// Boosting rounds at most.
    pub rounds: usize,
    /// Shrinkage (the notebook: 0.01).
    pub lr: f64,
    /// Tree depth.
    pub max_depth: usize,
    /// Fewest runs in a leaf (LightGBM's `min_data_in_leaf` default: 20).
    pub min_leaf: usize,
    /// Stop after this many rounds without improving the validation error (the notebook: 3).
    pub patience: usize,
}

impl Default for GbdtOptions {
    fn default() -> Self {
        GbdtOptions {
            rounds: 1000,
            lr: 0.01,
            max_depth: 5,
            min_leaf: 20,
            patience: 3,
        }
    }
}

fn grow(
    x: &[Vec<f64>],
    g: &[f64],
    rows: &mut [usize],
    depth: usize,
    o: &GbdtOptions,
    nodes: &mut Vec<Node>,
) -> usize {
    let here = nodes.len();
    let n = rows.len();
    let sum: f64 = rows.iter().map(|&r| g[r]).sum();
    nodes.push(Node::Leaf(sum / n as f64));
    if depth == 0 || n < 2 * o.min_leaf {
        return here;
    }
    // Best split by the decrease of the squared error: maximise sl²/nl + sr²/nr.
    let base = sum * sum / n as f64;
    let mut best: Option<(f64, usize, f64)> = None;
    let d = x[0].len();
    let mut order: Vec<usize> = rows.to_vec();
    for f in 0..d {
        order.sort_by(|&a, &b| x[a][f].total_cmp(&x[b][f]).then(a.cmp(&b)));
        let mut sl = 0.0;
        for i in 0..n - 1 {
            sl += g[order[i]];
            let nl = i + 1;
            if nl < o.min_leaf || n - nl < o.min_leaf {
                continue;
            }
            let (a, b) = (x[order[i]][f], x[order[i + 1]][f]);
            if a == b {
                continue;
            }
            let sr = sum - sl;
            let gain = sl * sl / nl as f64 + sr * sr / (n - nl) as f64 - base;
            if gain > 1e-12 && best.is_none_or(|(bg, _, _)| gain > bg) {
                best = Some((gain, f, a + (b - a) / 2.0));
            }
        }
    }
    let Some((_, feature, threshold)) = best else {
        return here;
    };
    let mut left: Vec<usize> = rows
        .iter()
        .copied()
        .filter(|&r| x[r][feature] <= threshold)
        .collect();
    let mut right: Vec<usize> = rows
        .iter()
        .copied()
        .filter(|&r| x[r][feature] > threshold)
        .collect();
    let l = grow(x, g, &mut left, depth - 1, o, nodes);
    let r = grow(x, g, &mut right, depth - 1, o, nodes);
    nodes[here] = Node::Split {
        feature,
        threshold,
        left: l,
        right: r,
    };
    here
}

/// Least-squares gradient boosting of depth-limited trees, stopped early on `(vx, vy)`
/// (the rounds of the best validation error are kept).
pub fn fit_gbdt(x: &[Vec<f64>], y: &[f64], vx: &[Vec<f64>], vy: &[f64], o: &GbdtOptions) -> Model {
    let base = y.iter().sum::<f64>() / y.len() as f64;
    let mut pred = vec![base; y.len()];
    let mut vpred = vec![base; vy.len()];
    let mut trees: Vec<Vec<Node>> = Vec::new();
    let mse = |p: &[f64], t: &[f64]| p.iter().zip(t).map(|(a, b)| (a - b) * (a - b)).sum::<f64>();
    let mut best = (mse(&vpred, vy), 0usize);
    let mut since = 0;
    for _ in 0..o.rounds {
        let g: Vec<f64> = y.iter().zip(&pred).map(|(t, p)| t - p).collect();
        let mut rows: Vec<usize> = (0..y.len()).collect();
        let mut nodes = Vec::new();
        grow(x, &g, &mut rows, o.max_depth, o, &mut nodes);
        let tree = Model::Gbdt {
            base: 0.0,
            lr: 1.0,
            trees: vec![nodes],
        };
        for (p, r) in pred.iter_mut().zip(x) {
            *p += o.lr * tree.predict(r);
        }
        for (p, r) in vpred.iter_mut().zip(vx) {
            *p += o.lr * tree.predict(r);
        }
        let Model::Gbdt { trees: mut t, .. } = tree else {
            unreachable!()
        };
        trees.push(t.pop().expect("one tree"));
        let e = mse(&vpred, vy);
        if e < best.0 {
            best = (e, trees.len());
            since = 0;
        } else {
            since += 1;
            if since >= o.patience {
                break;
            }
        }
    }
    trees.truncate(best.1);
    Model::Gbdt {
        base,
        lr: o.lr,
        trees,
    }
}

/// `Dirichlet(alpha)` draws with a seeded generator, computed in log space so that tiny
/// concentrations (RegMix's prior has shares of 0.002) do not underflow to all-zero rows.
pub struct Dirichlet {
    rng: Pcg64,
}

impl Dirichlet {
    /// A sampler seeded like `np.random.default_rng(seed)`.
    pub fn new(seed: u64) -> Dirichlet {
        Dirichlet {
            rng: Pcg64::from_entropy(&[seed]),
        }
    }

    fn normal(&mut self) -> f64 {
        // Box–Muller on two doubles in (0, 1].
        let u1 = 1.0 - self.rng.next_f64();
        let u2 = self.rng.next_f64();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// `ln` of a Gamma(a, 1) draw (Marsaglia–Tsang; a < 1 boosted by `U^(1/a)`).
    fn ln_gamma_draw(&mut self, a: f64) -> f64 {
        if a < 1.0 {
            let u = 1.0 - self.rng.next_f64();
            return self.ln_gamma_draw(a + 1.0) + u.ln() / a;
        }
        let d = a - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = 1.0 + c * x;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let u = 1.0 - self.rng.next_f64();
            if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return (d * v).ln();
            }
        }
    }

    /// One draw.
    pub fn draw(&mut self, alpha: &[f64]) -> Vec<f64> {
        let lg: Vec<f64> = alpha.iter().map(|&a| self.ln_gamma_draw(a)).collect();
        let m = lg.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = lg.iter().map(|&l| (l - m).exp()).collect();
        let s: f64 = e.iter().sum();
        e.into_iter().map(|v| v / s).collect()
    }
}

/// How RegMix searches.
#[derive(Clone, Debug)]
pub struct SearchOptions {
    /// Mixtures simulated (the notebook: 100,000).
    pub samples: usize,
    /// Best mixtures averaged (the notebook: 128).
    pub top_k: usize,
    /// Dirichlet strength: `alpha = prior · strength` (the notebook: 1).
    pub strength: f64,
    /// Seed of the draws.
    pub seed: u64,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            samples: 100_000,
            top_k: 128,
            strength: 1.0,
            seed: 42,
        }
    }
}

/// RegMix's search: the mean of the `top_k` simulated mixtures of lowest `score`.
pub fn regmix_search(prior: &[f64], o: &SearchOptions, score: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let s: f64 = prior.iter().sum();
    let alpha: Vec<f64> = prior.iter().map(|p| p / s * o.strength).collect();
    let mut d = Dirichlet::new(o.seed);
    let mut scored: Vec<(f64, Vec<f64>)> = (0..o.samples)
        .map(|_| {
            let m = d.draw(&alpha);
            (score(&m), m)
        })
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    let k = o.top_k.min(scored.len()).max(1);
    let mut mean = vec![0.0; prior.len()];
    for (_, m) in &scored[..k] {
        for (a, b) in mean.iter_mut().zip(m) {
            *a += b / k as f64;
        }
    }
    mean
}

/// One target's data mixing law `L(r) = c + k · exp(t · r)`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MixLaw {
    /// The floor c.
    pub c: f64,
    /// The scale k.
    pub k: f64,
    /// One exponent per domain.
    pub t: Vec<f64>,
}

impl MixLaw {
    /// The predicted loss of mixture `r`.
    pub fn predict(&self, r: &[f64]) -> f64 {
        self.c + self.k * self.t.iter().zip(r).map(|(a, b)| a * b).sum::<f64>().exp()
    }
}

fn huber(r: f64, delta: f64) -> (f64, f64) {
    if r.abs() <= delta {
        (0.5 * r * r, r)
    } else {
        (delta * (r.abs() - 0.5 * delta), delta * r.signum())
    }
}

/// Fits one target's mixing law to runs `(x, y)` (Huber δ = `delta`).
pub fn fit_mixlaw(x: &[Vec<f64>], y: &[f64], delta: f64) -> MixLaw {
    let d = x[0].len();
    let ymin = y.iter().copied().fold(f64::INFINITY, f64::min);
    // Start: c on a grid in [0, min y) maximising the fit of log(y − c) by least squares in
    // r (the notebooks' |corr| grid, generalised to several domains), then that fit.
    let mut start: Option<(f64, Vec<f64>)> = None;
    let mut best_r2 = f64::NEG_INFINITY;
    for i in 0..100 {
        let c = ymin * i as f64 / 100.0;
        let ly: Vec<f64> = y.iter().map(|v| (v - c).ln()).collect();
        let Model::Ridge { b, w } = fit_ridge(x, &ly, 1e-6) else {
            unreachable!()
        };
        let pred: Vec<f64> = x
            .iter()
            .map(|r| b + w.iter().zip(r).map(|(a, c)| a * c).sum::<f64>())
            .collect();
        let r2 = pearson(&pred, &ly).powi(2);
        if r2 > best_r2 {
            best_r2 = r2;
            let mut p = vec![c, b];
            p.extend(w);
            start = Some((c, p));
        }
    }
    let (_, p0) = start.expect("at least one grid point");
    // Parameters: c, ln k, t_1..t_d.
    let obj = |p: &[f64], g: &mut [f64]| -> f64 {
        g.iter_mut().for_each(|v| *v = 0.0);
        let mut f = 0.0;
        for (r, &t) in x.iter().zip(y) {
            let e = (p[1] + p[2..].iter().zip(r).map(|(a, b)| a * b).sum::<f64>()).exp();
            let (h, dh) = huber(p[0] + e - t, delta);
            f += h;
            g[0] += dh;
            g[1] += dh * e;
            for j in 0..d {
                g[2 + j] += dh * e * r[j];
            }
        }
        f
    };
    let res = lbfgs(obj, &p0, &LbfgsOptions::default());
    let p = if res.f.is_finite() { res.x } else { p0 };
    MixLaw {
        c: p[0],
        k: p[1].exp(),
        t: p[2..].to_vec(),
    }
}

/// The mixture on the simplex minimising `Σ_i s_i L_i(r)` (softmax parameters, L-BFGS from
/// the centre and from each vertex's neighbourhood; the best is kept).
pub fn mixlaw_optimum(laws: &[MixLaw], s: &[f64]) -> Vec<f64> {
    let d = laws[0].t.len();
    let softmax = |z: &[f64]| -> Vec<f64> {
        let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
        let sum: f64 = e.iter().sum();
        e.into_iter().map(|v| v / sum).collect()
    };
    let obj = |z: &[f64], g: &mut [f64]| -> f64 {
        let r = softmax(z);
        let mut f = 0.0;
        let mut dr = vec![0.0; d];
        for (law, &w) in laws.iter().zip(s) {
            let e = law.k * law.t.iter().zip(&r).map(|(a, b)| a * b).sum::<f64>().exp();
            f += w * (law.c + e);
            for j in 0..d {
                dr[j] += w * e * law.t[j];
            }
        }
        // d r_j / d z_i = r_j (δ_ij − r_i).
        let dot: f64 = dr.iter().zip(&r).map(|(a, b)| a * b).sum();
        for i in 0..d {
            g[i] = r[i] * (dr[i] - dot);
        }
        f
    };
    let mut starts = vec![vec![0.0; d]];
    for i in 0..d {
        let mut z = vec![0.0; d];
        z[i] = 3.0;
        starts.push(z);
    }
    let opts = LbfgsOptions {
        max_iter: 2000,
        gtol: 1e-12,
        ftol: 1e-14,
        ..Default::default()
    };
    let mut best: Option<(f64, Vec<f64>)> = None;
    for z0 in starts {
        let r = lbfgs(obj, &z0, &opts);
        if r.f.is_finite() && best.as_ref().is_none_or(|(f, _)| r.f < *f) {
            best = Some((r.f, r.x));
        }
    }
    softmax(&best.expect("the centre start is finite").1)
}

/// A weights file: what `datamill mix-weights` writes and `weights_file` reads.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WeightsFile {
    /// `"regmix"` or `"mixlaw"`.
    pub method: String,
    /// Domain name → weight (sums to 1).
    pub weights: serde_json::Map<String, serde_json::Value>,
    /// How the weights were found (models, scores, parameters).
    #[serde(default)]
    pub details: serde_json::Value,
}

/// Where a learned mixture comes from.
#[derive(Clone, Debug)]
pub struct LearnInput {
    /// Training runs.
    pub train: Runs,
    /// Held-out runs (scores, early stopping); `None`: every fifth training run is held out.
    pub test: Option<Runs>,
    /// Weight of each target in the objective (default: equal).
    pub target_weights: Vec<f64>,
    /// Prior token shares per domain (RegMix's Dirichlet centre); empty: uniform.
    pub prior: Vec<f64>,
    /// A prefix removed from domain names in the output (`train_the_pile_`).
    pub strip_prefix: String,
}

impl LearnInput {
    fn split(&self) -> (Runs, Runs) {
        match &self.test {
            Some(t) => (self.train.clone(), t.clone()),
            None => {
                let pick = |keep: bool| {
                    let idx: Vec<usize> = (0..self.train.x.len())
                        .filter(|i| (i % 5 == 4) != keep)
                        .collect();
                    Runs {
                        domains: self.train.domains.clone(),
                        targets: self.train.targets.clone(),
                        x: idx.iter().map(|&i| self.train.x[i].clone()).collect(),
                        y: idx.iter().map(|&i| self.train.y[i].clone()).collect(),
                    }
                };
                (pick(true), pick(false))
            }
        }
    }

    fn check(&self) -> Result<(), MixError> {
        if let Some(t) = &self.test
            && (t.domains != self.train.domains || t.targets != self.train.targets)
        {
            return Err(bad(
                "the held-out runs must have the same domain and target columns".into(),
            ));
        }
        let d = self.train.domains.len();
        if !self.prior.is_empty()
            && (self.prior.len() != d || self.prior.iter().any(|&p| !(p.is_finite() && p > 0.0)))
        {
            return Err(bad(format!(
                "the prior needs {d} positive shares, one per domain"
            )));
        }
        if !self.target_weights.is_empty() && self.target_weights.len() != self.train.targets.len()
        {
            return Err(bad("one target weight per target".into()));
        }
        Ok(())
    }

    fn weights_json(&self, w: &[f64]) -> serde_json::Map<String, serde_json::Value> {
        let total: f64 = w.iter().sum();
        self.train
            .domains
            .iter()
            .zip(w)
            .map(|(n, v)| {
                let name = n.strip_prefix(self.strip_prefix.as_str()).unwrap_or(n);
                (name.to_string(), serde_json::json!(v / total))
            })
            .collect()
    }

    fn s(&self) -> Vec<f64> {
        if self.target_weights.is_empty() {
            vec![1.0 / self.train.targets.len() as f64; self.train.targets.len()]
        } else {
            self.target_weights.clone()
        }
    }
}

/// Which RegMix regressor to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelChoice {
    /// Ridge regression.
    Ridge,
    /// Gradient-boosted trees.
    Gbdt,
    /// The better of the two by mean held-out Spearman.
    Best,
}

/// RegMix: fit, score, search. Returns the weights file.
pub fn regmix(
    input: &LearnInput,
    choice: ModelChoice,
    gbdt: &GbdtOptions,
    search: &SearchOptions,
) -> Result<WeightsFile, MixError> {
    input.check()?;
    let (train, test) = input.split();
    let nt = train.targets.len();
    let mut fitted: Vec<(Model, Model)> = Vec::new();
    let mut scores = Vec::new();
    for t in 0..nt {
        let y = train.target(t);
        let ty = test.target(t);
        let ridge = fit_ridge(&train.x, &y, 1e-4 * train.x.len() as f64);
        let tree = fit_gbdt(&train.x, &y, &test.x, &ty, gbdt);
        let sp = |m: &Model| {
            let p: Vec<f64> = test.x.iter().map(|r| m.predict(r)).collect();
            spearman(&p, &ty)
        };
        scores.push((sp(&ridge), sp(&tree)));
        fitted.push((ridge, tree));
    }
    let mean = |f: fn(&(f64, f64)) -> f64| scores.iter().map(f).sum::<f64>() / nt as f64;
    let (mr, mg) = (mean(|s| s.0), mean(|s| s.1));
    let use_gbdt = match choice {
        ModelChoice::Ridge => false,
        ModelChoice::Gbdt => true,
        ModelChoice::Best => mg >= mr,
    };
    let models: Vec<&Model> = fitted
        .iter()
        .map(|(r, g)| if use_gbdt { g } else { r })
        .collect();
    let s = input.s();
    let d = train.domains.len();
    let prior = if input.prior.is_empty() {
        vec![1.0 / d as f64; d]
    } else {
        input.prior.clone()
    };
    let w = regmix_search(&prior, search, |m| {
        models
            .iter()
            .zip(&s)
            .map(|(model, w)| w * model.predict(m))
            .sum()
    });
    let details = serde_json::json!({
        "model": if use_gbdt { "gbdt" } else { "ridge" },
        "targets": train.targets,
        "target_weights": s,
        "held_out_runs": test.x.len(),
        "spearman": train.targets.iter().zip(&scores).map(|(t, (r, g))| serde_json::json!({
            "target": t, "ridge": r, "gbdt": g,
        })).collect::<Vec<_>>(),
        "mean_spearman": {"ridge": mr, "gbdt": mg},
        "gbdt_trees": fitted.iter().map(|(_, g)| match g {
            Model::Gbdt { trees, .. } => trees.len(), _ => 0 }).collect::<Vec<_>>(),
        "samples": search.samples, "top_k": search.top_k, "seed": search.seed,
        "strength": search.strength, "prior": prior,
    });
    Ok(WeightsFile {
        method: "regmix".into(),
        weights: input.weights_json(&w),
        details,
    })
}

/// The data mixing law: fit per target, score on held-out runs, optimise. Returns the
/// weights file.
pub fn mixlaw(input: &LearnInput) -> Result<WeightsFile, MixError> {
    input.check()?;
    let (train, test) = input.split();
    let mut laws = Vec::new();
    let mut scores = Vec::new();
    for t in 0..train.targets.len() {
        let law = fit_mixlaw(&train.x, &train.target(t), 0.01);
        let ty = test.target(t);
        let p: Vec<f64> = test.x.iter().map(|r| law.predict(r)).collect();
        let my = ty.iter().sum::<f64>() / ty.len() as f64;
        let ss_res: f64 = p.iter().zip(&ty).map(|(a, b)| (a - b) * (a - b)).sum();
        let ss_tot: f64 = ty.iter().map(|b| (b - my) * (b - my)).sum();
        scores.push(serde_json::json!({
            "target": train.targets[t],
            "r2": 1.0 - ss_res / ss_tot,
            "spearman": spearman(&p, &ty),
            "c": law.c, "k": law.k, "t": law.t,
        }));
        laws.push(law);
    }
    let s = input.s();
    let w = mixlaw_optimum(&laws, &s);
    let predicted: f64 = laws.iter().zip(&s).map(|(l, w2)| w2 * l.predict(&w)).sum();
    Ok(WeightsFile {
        method: "mixlaw".into(),
        weights: input.weights_json(&w),
        details: serde_json::json!({
            "targets": train.targets,
            "target_weights": s,
            "held_out_runs": test.x.len(),
            "laws": scores,
            "predicted_objective": predicted,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_with_ties_is_scipys() {
        // scipy 1.17.1: spearmanr([1, 2, 2, 3, 5], [2, 1, 4, 4, 6]).statistic
        let r = spearman(&[1.0, 2.0, 2.0, 3.0, 5.0], &[2.0, 1.0, 4.0, 4.0, 6.0]);
        assert!((r - 0.7631578947368421).abs() < 1e-12, "{r}");
    }

    #[test]
    fn ridge_recovers_a_linear_map() {
        let x: Vec<Vec<f64>> = (0..50)
            .map(|i| vec![(i % 7) as f64, (i % 5) as f64 * 0.5])
            .collect();
        let y: Vec<f64> = x.iter().map(|r| 1.0 + 2.0 * r[0] - 3.0 * r[1]).collect();
        let m = fit_ridge(&x, &y, 1e-9);
        let Model::Ridge { b, w } = &m else { panic!() };
        assert!((b - 1.0).abs() < 1e-6 && (w[0] - 2.0).abs() < 1e-6 && (w[1] + 3.0).abs() < 1e-6);
    }

    #[test]
    fn dirichlet_means_and_tiny_concentrations() {
        let mut d = Dirichlet::new(1);
        let alpha = [0.5, 1.5, 3.0];
        let mut mean = [0.0; 3];
        for _ in 0..20_000 {
            for (m, v) in mean.iter_mut().zip(d.draw(&alpha)) {
                *m += v / 20_000.0;
            }
        }
        for (m, a) in mean.iter().zip(alpha) {
            assert!((m - a / 5.0).abs() < 0.01, "{mean:?}");
        }
        for _ in 0..1000 {
            let v = d.draw(&[0.002, 0.001, 0.003]);
            assert!(v.iter().all(|x| x.is_finite()) && (v.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn mixing_law_recovers_a_synthetic_law_and_its_optimum() {
        // Two targets over three domains; each prefers a different domain, the sum is
        // minimised inside the simplex.
        let truth = [
            MixLaw {
                c: 1.5,
                k: 2.0,
                t: vec![-2.0, 0.5, 0.0],
            },
            MixLaw {
                c: 2.0,
                k: 1.0,
                t: vec![0.3, -1.5, -0.2],
            },
        ];
        let mut d = Dirichlet::new(3);
        let x: Vec<Vec<f64>> = (0..80).map(|_| d.draw(&[1.0, 1.0, 1.0])).collect();
        let mut fitted = Vec::new();
        for law in &truth {
            let y: Vec<f64> = x.iter().map(|r| law.predict(r)).collect();
            let f = fit_mixlaw(&x, &y, 0.01);
            for r in &x {
                assert!((f.predict(r) - law.predict(r)).abs() < 1e-4);
            }
            fitted.push(f);
        }
        let opt = mixlaw_optimum(&fitted, &[1.0, 1.0]);
        let want = mixlaw_optimum(&truth, &[1.0, 1.0]);
        for (a, b) in opt.iter().zip(&want) {
            assert!((a - b).abs() < 1e-3, "{opt:?} vs {want:?}");
        }
        // The optimum beats every vertex and the centre.
        let f = |r: &[f64]| truth.iter().map(|l| l.predict(r)).sum::<f64>();
        for v in [
            [1.0, 0.0, 0.0],
            [0.0, 1.0, 0.0],
            [0.0, 0.0, 1.0],
            [1.0 / 3.0; 3],
        ] {
            assert!(f(&want) < f(&v));
        }
    }
}
