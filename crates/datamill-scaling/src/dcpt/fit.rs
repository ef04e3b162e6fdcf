//! Fitting the D-CPT law to small runs: reading the CSV (N, D, r, general loss, domain loss
//! [, K]), the crate's robust objective (the sum of Huber(δ = 1e-3) on log residuals of a
//! log-sum-exp parametrization, as the Chinchilla fit) minimized by multi-start L-BFGS, a
//! paired bootstrap, and the law file.
//!
//! Starts: for every point of an exponent grid (α, β, η, γ, ε [, μ]) the coefficients
//! (E, A, B, C [, F]) are the least-squares solution of the (then linear) law; the best
//! [`DcptFitOptions::local_starts`] of those by the objective start L-BFGS over all
//! coordinates.

use std::path::Path;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::Dcpt;
use crate::bootstrap::{ParamSummary, resample_weights, summarize};
use crate::data::{
    Column, D_NAMES, N_NAMES, Table, filtered_rows, parse_cell, parse_cell_in, resolve_columns,
};
use crate::error::ScalingError;
use crate::fit::{Objective, huber, multi_start};
use crate::optim::{LbfgsOptions, lbfgs, solve_dense};

/// The format tag of a D-CPT law file.
pub const FORMAT: &str = "datamill-dcpt-law/1";

/// Which loss a law models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Which {
    /// The general-corpus loss L_g, with r = r_g = 1 − r_d.
    General,
    /// The domain-corpus loss L_d, with r = r_d.
    Domain,
}

impl Which {
    /// "general" or "domain".
    pub fn name(self) -> &'static str {
        match self {
            Which::General => "general",
            Which::Domain => "domain",
        }
    }
}

/// Runs of continual pre-training: one entry per kept CSV row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DcptRuns {
    /// Parameters N.
    pub n: Vec<f64>,
    /// Training tokens D.
    pub d: Vec<f64>,
    /// Domain share r_d ∈ [0, 1] of the training mixture (the general share is 1 − r_d).
    pub r_domain: Vec<f64>,
    /// General-corpus validation loss, when the file has it.
    pub general: Option<Vec<f64>>,
    /// Domain-corpus validation loss, when the file has it.
    pub domain: Option<Vec<f64>>,
    /// Domain coefficient K (cross-domain fits), when the file has it.
    pub k: Option<Vec<f64>>,
    /// 1-based data-row number of each entry in the file.
    pub row: Vec<usize>,
}

impl DcptRuns {
    /// Number of runs.
    pub fn len(&self) -> usize {
        self.n.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.n.is_empty()
    }

    /// The loss column for `which`.
    pub fn loss(&self, which: Which) -> Option<&[f64]> {
        match which {
            Which::General => self.general.as_deref(),
            Which::Domain => self.domain.as_deref(),
        }
    }

    /// The modelled corpus's share for `which` (r_d, or 1 − r_d).
    pub fn ratio(&self, which: Which) -> Vec<f64> {
        match which {
            Which::Domain => self.r_domain.clone(),
            Which::General => self.r_domain.iter().map(|r| 1.0 - r).collect(),
        }
    }
}

/// The CSV columns of D-CPT runs (`--columns` keys N, D, r, general, domain, K).
pub const COLUMNS: &[Column] = &[
    Column {
        key: "N",
        role: "parameters N",
        names: N_NAMES,
        required: true,
    },
    Column {
        key: "D",
        role: "training tokens D",
        names: D_NAMES,
        required: true,
    },
    Column {
        key: "r",
        role: "domain ratio r (the domain share of the mixture, 0..1)",
        names: &["r", "r_d", "domain_ratio", "ratio"],
        required: true,
    },
    Column {
        key: "general",
        role: "general-corpus loss",
        names: &["general_loss", "L_g", "loss_g", "general"],
        required: false,
    },
    Column {
        key: "domain",
        role: "domain-corpus loss",
        names: &["domain_loss", "L_d", "loss_d", "domain"],
        required: false,
    },
    Column {
        key: "K",
        role: "domain coefficient K",
        names: &["K"],
        required: false,
    },
];

/// Reads D-CPT runs from a CSV file: `columns` is `--columns` (`KEY=COLUMN,...`, keys as in
/// [`COLUMNS`]), `filters` the `--where` filters. Every used cell is validated (N, D, losses
/// and K finite and positive; r in [0, 1]) and errors name the row and column. Returns the
/// runs and the number of data rows in the file.
pub fn load_runs(
    path: &Path,
    columns: Option<&str>,
    filters: &[String],
) -> Result<(DcptRuns, usize), ScalingError> {
    let table = Table::read(path)?;
    let runs = extract_runs(&table, columns, filters)?;
    Ok((runs, table.rows.len()))
}

/// [`load_runs`] on a parsed table.
pub fn extract_runs(
    table: &Table,
    columns: Option<&str>,
    filters: &[String],
) -> Result<DcptRuns, ScalingError> {
    let cols = resolve_columns(table, COLUMNS, columns)?;
    let (n_col, d_col, r_col) = (
        cols[0].unwrap_or(0),
        cols[1].unwrap_or(0),
        cols[2].unwrap_or(0),
    );
    let (g_col, dm_col, k_col) = (cols[3], cols[4], cols[5]);
    if g_col.is_none() && dm_col.is_none() {
        return Err(ScalingError::Input(format!(
            "{}: no loss column: give a general-loss column (looked for {}) and/or a domain-loss column (looked for {}), or name them with --columns general=COLUMN,domain=COLUMN. The columns are: {}",
            table.source,
            COLUMNS[3].names.join(", "),
            COLUMNS[4].names.join(", "),
            table.headers.join(", ")
        )));
    }
    let mut runs = DcptRuns {
        general: g_col.map(|_| Vec::new()),
        domain: dm_col.map(|_| Vec::new()),
        k: k_col.map(|_| Vec::new()),
        ..Default::default()
    };
    for i in filtered_rows(table, filters)? {
        runs.n.push(parse_cell(table, i, n_col, "N")?);
        runs.d.push(parse_cell(table, i, d_col, "D")?);
        runs.r_domain.push(parse_cell_in(
            table,
            i,
            r_col,
            "domain ratio r",
            (0.0, 1.0),
        )?);
        if let (Some(c), Some(v)) = (g_col, runs.general.as_mut()) {
            v.push(parse_cell(table, i, c, "general loss")?);
        }
        if let (Some(c), Some(v)) = (dm_col, runs.domain.as_mut()) {
            v.push(parse_cell(table, i, c, "domain loss")?);
        }
        if let (Some(c), Some(v)) = (k_col, runs.k.as_mut()) {
            v.push(parse_cell(table, i, c, "K")?);
        }
        runs.row.push(i + 1);
    }
    Ok(runs)
}

/// Options of a D-CPT fit.
#[derive(Debug, Clone)]
pub struct DcptFitOptions {
    /// Huber δ on log-loss residuals.
    pub huber_delta: f64,
    /// Fit the cross-domain term F/K^μ (needs a K column).
    pub cross_domain: bool,
    /// How many of the best linear-least-squares starts L-BFGS refines.
    pub local_starts: usize,
    /// L-BFGS options.
    pub lbfgs: LbfgsOptions,
}

impl Default for DcptFitOptions {
    fn default() -> Self {
        DcptFitOptions {
            huber_delta: 1e-3,
            cross_domain: false,
            local_starts: 32,
            lbfgs: LbfgsOptions::default(),
        }
    }
}

/// Names of the optimizer coordinates (A = e^a, B = e^b, C = e^c, E = e^e, ε = e^ln_eps,
/// F = e^f).
pub const COORDINATES: &[&str] = &[
    "e", "a", "b", "c", "alpha", "beta", "eta", "gamma", "ln_eps", "f", "mu",
];

/// The objective of one D-CPT fit: Σ w·Huber_δ(ln L − LSE(e, a − α ln N, b + η ln r − β ln D,
/// c − γ ln(r + ε) [, f − μ ln K])).
pub struct DcptProblem {
    ln_n: Vec<f64>,
    ln_d: Vec<f64>,
    r: Vec<f64>,
    ln_k: Option<Vec<f64>>,
    ln_y: Vec<f64>,
    delta: f64,
}

impl DcptProblem {
    /// The problem of fitting `which` loss of `runs`.
    pub fn new(runs: &DcptRuns, which: Which, opts: &DcptFitOptions) -> Result<Self, ScalingError> {
        let y = runs.loss(which).ok_or_else(|| {
            ScalingError::Input(format!("the runs have no {} loss column", which.name()))
        })?;
        let dim = if opts.cross_domain { 11 } else { 9 };
        if runs.len() < dim + 1 {
            return Err(ScalingError::Input(format!(
                "too few points for the D-CPT law ({} loss): {} rows, need at least {} ({dim} parameters)",
                which.name(),
                runs.len(),
                dim + 1
            )));
        }
        let distinct = |v: &[f64]| {
            let mut s = v.to_vec();
            s.sort_by(f64::total_cmp);
            s.dedup();
            s.len()
        };
        for (what, v, need) in [
            ("model sizes N", &runs.n, 2),
            ("token counts D", &runs.d, 2),
            ("ratios r", &runs.r_domain, 3),
        ] {
            if distinct(v) < need {
                return Err(ScalingError::Input(format!(
                    "the D-CPT law needs at least {need} distinct {what}; the rows have {}",
                    distinct(v)
                )));
            }
        }
        let ln_k = if opts.cross_domain {
            let k = runs.k.as_ref().ok_or_else(|| {
                ScalingError::Input(
                    "the cross-domain fit needs a K column (the domain coefficient; --columns K=COLUMN)"
                        .into(),
                )
            })?;
            if distinct(k) < 2 {
                return Err(ScalingError::Input(
                    "the cross-domain fit needs runs of at least 2 domains (distinct K)".into(),
                ));
            }
            Some(k.iter().map(|v| v.ln()).collect())
        } else {
            None
        };
        Ok(DcptProblem {
            ln_n: runs.n.iter().map(|v| v.ln()).collect(),
            ln_d: runs.d.iter().map(|v| v.ln()).collect(),
            r: runs.ratio(which),
            ln_k,
            ln_y: y.iter().map(|v| v.ln()).collect(),
            delta: opts.huber_delta,
        })
    }

    /// Number of optimizer coordinates.
    pub fn dim(&self) -> usize {
        if self.ln_k.is_some() { 11 } else { 9 }
    }

    /// The law at optimizer coordinates `th`.
    pub fn to_law(&self, th: &[f64]) -> Dcpt {
        Dcpt {
            e: th[0].exp(),
            a: th[1].exp(),
            b: th[2].exp(),
            c: th[3].exp(),
            alpha: th[4],
            beta: th[5],
            eta: th[6],
            gamma: th[7],
            eps: th[8].exp(),
            f: self.ln_k.as_ref().map(|_| th[9].exp()),
            mu: self.ln_k.as_ref().map(|_| th[10]),
        }
    }

    /// Optimizer coordinates of `law` (which must match the problem's cross-domain setting).
    pub fn from_law(&self, law: &Dcpt) -> Vec<f64> {
        let mut th = vec![
            law.e.ln(),
            law.a.ln(),
            law.b.ln(),
            law.c.ln(),
            law.alpha,
            law.beta,
            law.eta,
            law.gamma,
            law.eps.ln(),
        ];
        if self.ln_k.is_some() {
            th.push(law.f.unwrap_or(1e-3).ln());
            th.push(law.mu.unwrap_or(0.5));
        }
        th
    }

    /// Linear-least-squares starts over the exponent grid, best first.
    fn starts(&self, keep: usize) -> Vec<Vec<f64>> {
        let alphas = [0.1, 0.25, 0.5, 0.8];
        let betas = [0.1, 0.25, 0.5, 0.8];
        let etas = [0.1, 0.5, 1.0];
        let gammas = [0.1, 0.5, 1.0];
        let epss = [1e-3, 1e-2, 0.1, 0.5];
        let mus: &[f64] = if self.ln_k.is_some() {
            &[0.2, 0.5, 1.0]
        } else {
            &[f64::NAN]
        };
        let mut combos = Vec::new();
        for &al in &alphas {
            for &be in &betas {
                for &et in &etas {
                    for &ga in &gammas {
                        for &ep in &epss {
                            for &mu in mus {
                                combos.push([al, be, et, ga, ep, mu]);
                            }
                        }
                    }
                }
            }
        }
        let y: Vec<f64> = self.ln_y.iter().map(|v| v.exp()).collect();
        let ymean = y.iter().sum::<f64>() / y.len() as f64;
        let mut scored: Vec<(f64, Vec<f64>)> = combos
            .par_iter()
            .filter_map(|&[al, be, et, ga, ep, mu]| {
                let p = if mu.is_nan() { 4 } else { 5 };
                let feats = |i: usize| -> [f64; 5] {
                    let r = self.r[i];
                    [
                        1.0,
                        (-al * self.ln_n[i]).exp(),
                        r.powf(et) * (-be * self.ln_d[i]).exp(),
                        (r + ep).powf(-ga),
                        self.ln_k.as_ref().map_or(0.0, |k| (-mu * k[i]).exp()),
                    ]
                };
                // Column scales for conditioning.
                let mut scale = [0.0f64; 5];
                for i in 0..y.len() {
                    let f = feats(i);
                    for j in 0..p {
                        scale[j] = scale[j].max(f[j].abs());
                    }
                }
                if scale[..p].iter().any(|s| !(*s > 0.0)) {
                    return None;
                }
                let mut ata = vec![0.0; p * p];
                let mut atb = vec![0.0; p];
                for (i, &yi) in y.iter().enumerate() {
                    let f = feats(i);
                    for a in 0..p {
                        let fa = f[a] / scale[a];
                        atb[a] += fa * yi;
                        for b in 0..p {
                            ata[a * p + b] += fa * f[b] / scale[b];
                        }
                    }
                }
                for a in 0..p {
                    ata[a * p + a] *= 1.0 + 1e-12;
                }
                let coef = solve_dense(ata, atb, p)?;
                let floor = 1e-6 * ymean;
                let c: Vec<f64> = (0..p).map(|j| (coef[j] / scale[j]).max(floor)).collect();
                let mut th = vec![
                    c[0].ln(),
                    c[1].ln(),
                    c[2].ln(),
                    c[3].ln(),
                    al,
                    be,
                    et,
                    ga,
                    ep.ln(),
                ];
                if p == 5 {
                    th.push(c[4].ln());
                    th.push(mu);
                }
                let mut g = vec![0.0; th.len()];
                let f = self.value_grad(&th, None, &mut g);
                f.is_finite().then_some((f, th))
            })
            .collect();
        scored.sort_by(|a, b| a.0.total_cmp(&b.0));
        scored.truncate(keep.max(1));
        scored.into_iter().map(|(_, th)| th).collect()
    }

    /// (R² of the loss, RMSE of log residuals) of `law` on the points.
    pub fn goodness(&self, law: &Dcpt) -> (f64, f64) {
        let y: Vec<f64> = self.ln_y.iter().map(|v| v.exp()).collect();
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        let (mut ss_res, mut ss_tot, mut sq_log) = (0.0, 0.0, 0.0);
        for i in 0..y.len() {
            let k = self.ln_k.as_ref().map(|k| k[i].exp());
            let p = law.loss(self.ln_n[i].exp(), self.ln_d[i].exp(), self.r[i], k);
            ss_res += (y[i] - p).powi(2);
            ss_tot += (y[i] - mean).powi(2);
            sq_log += (self.ln_y[i] - p.ln()).powi(2);
        }
        (1.0 - ss_res / ss_tot, (sq_log / y.len() as f64).sqrt())
    }
}

impl Objective for DcptProblem {
    fn n_points(&self) -> usize {
        self.ln_y.len()
    }

    fn value_grad(&self, th: &[f64], w: Option<&[f64]>, g: &mut [f64]) -> f64 {
        g.iter_mut().for_each(|v| *v = 0.0);
        let (e, a, b, c) = (th[0], th[1], th[2], th[3]);
        let (al, be, et, ga) = (th[4], th[5], th[6], th[7]);
        let eps = th[8].exp();
        let mut f = 0.0;
        for i in 0..self.ln_y.len() {
            let wi = w.map_or(1.0, |w| w[i]);
            if wi == 0.0 {
                continue;
            }
            let r = self.r[i];
            let ln_r = if r > 0.0 { r.ln() } else { f64::NEG_INFINITY };
            let ln_re = (r + eps).ln();
            let mut t = [
                e,
                a - al * self.ln_n[i],
                b + et * ln_r - be * self.ln_d[i],
                c - ga * ln_re,
                f64::NEG_INFINITY,
            ];
            if let Some(k) = &self.ln_k {
                t[4] = th[9] - th[10] * k[i];
            }
            let m = t.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let x: Vec<f64> = t.iter().map(|v| (v - m).exp()).collect();
            let s: f64 = x.iter().sum();
            let res = self.ln_y[i] - (m + s.ln());
            let (h, psi) = huber(res, self.delta);
            f += wi * h;
            let cc = -wi * psi / s;
            g[0] += cc * x[0];
            g[1] += cc * x[1];
            g[4] -= cc * x[1] * self.ln_n[i];
            if x[2] > 0.0 {
                g[2] += cc * x[2];
                g[5] -= cc * x[2] * self.ln_d[i];
                g[6] += cc * x[2] * ln_r;
            }
            g[3] += cc * x[3];
            g[7] -= cc * x[3] * ln_re;
            g[8] -= cc * x[3] * ga * eps / (r + eps);
            if self.ln_k.is_some() {
                g[9] += cc * x[4];
                g[10] -= cc * x[4] * self.ln_k.as_ref().map_or(0.0, |k| k[i]);
            }
        }
        f
    }
}

/// Diagnostics of one D-CPT fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitInfo {
    /// The objective at the optimum.
    pub objective: f64,
    /// Its name.
    pub objective_name: String,
    /// Huber δ.
    pub huber_delta: f64,
    /// Points fitted.
    pub n_points: usize,
    /// Local starts refined by L-BFGS.
    pub starts: usize,
    /// Starts that ended within 1e-9 (relative) of the best objective.
    pub starts_at_best: usize,
    /// Iterations of the winning start.
    pub iterations: usize,
    /// R² of the fitted loss.
    pub r2: f64,
    /// RMSE of the log residuals.
    pub rmse_log: f64,
}

/// A fitted law with its diagnostics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedDcpt {
    /// The law.
    pub law: Dcpt,
    /// How it was fitted (absent for a law written by hand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit: Option<FitInfo>,
}

/// Fits `which` loss of `runs`.
pub fn fit(
    runs: &DcptRuns,
    which: Which,
    opts: &DcptFitOptions,
) -> Result<FittedDcpt, ScalingError> {
    let p = DcptProblem::new(runs, which, opts)?;
    let starts = p.starts(opts.local_starts);
    let best = multi_start(&p, &starts, None, &opts.lbfgs).ok_or_else(|| {
        ScalingError::Fit(format!(
            "no start of the D-CPT fit ({} loss) reached a finite objective",
            which.name()
        ))
    })?;
    let law = p.to_law(&best.result.x);
    let (r2, rmse_log) = p.goodness(&law);
    Ok(FittedDcpt {
        law,
        fit: Some(FitInfo {
            objective: best.result.f,
            objective_name: format!(
                "sum of Huber(delta={}) on log-loss residuals",
                opts.huber_delta
            ),
            huber_delta: opts.huber_delta,
            n_points: p.n_points(),
            starts: best.starts,
            starts_at_best: best.starts_at_best,
            iterations: best.result.iterations,
            r2,
            rmse_log,
        }),
    })
}

/// One bootstrap draw: both laws refitted on the same resample (so planner intervals that
/// use both losses are paired).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DcptDraw {
    /// The general-loss law of this resample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub general: Option<Dcpt>,
    /// The domain-loss law of this resample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<Dcpt>,
}

/// The bootstrap of a D-CPT fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DcptBootstrap {
    /// Resamples drawn.
    pub resamples: usize,
    /// Seed (MT19937, NumPy-compatible resampling).
    pub seed: u32,
    /// Central interval mass.
    pub level: f64,
    /// Resamples whose refit failed (dropped).
    pub failed: usize,
    /// Parameter names (as [`Dcpt::params`]).
    pub names: Vec<String>,
    /// SEs and intervals of the general law's parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub general: Option<ParamSummary>,
    /// SEs and intervals of the domain law's parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<ParamSummary>,
    /// The refitted laws.
    pub draws: Vec<DcptDraw>,
}

/// Refits both laws on `resamples` resamples of the rows (one MT19937 stream, as
/// [`crate::bootstrap::bootstrap`]), each from the full-data optimum.
pub fn bootstrap(
    runs: &DcptRuns,
    general: Option<&Dcpt>,
    domain: Option<&Dcpt>,
    opts: &DcptFitOptions,
    resamples: usize,
    seed: u32,
    level: f64,
) -> Result<DcptBootstrap, ScalingError> {
    let prob = |which: Which, law: Option<&Dcpt>| -> Result<_, ScalingError> {
        law.map(|l| {
            DcptProblem::new(runs, which, opts).map(|p| {
                let start = p.from_law(l);
                (p, start)
            })
        })
        .transpose()
    };
    let pg = prob(Which::General, general)?;
    let pd = prob(Which::Domain, domain)?;
    let weights = resample_weights(runs.len(), resamples, seed);
    let refit = |p: &Option<(DcptProblem, Vec<f64>)>, w: &[f64]| -> Option<Option<Dcpt>> {
        match p {
            None => Some(None),
            Some((p, start)) => {
                let r = lbfgs(|th, g| p.value_grad(th, Some(w), g), start, &opts.lbfgs);
                (r.f.is_finite() && r.x.iter().all(|v| v.is_finite())).then(|| Some(p.to_law(&r.x)))
            }
        }
    };
    let draws: Vec<Option<DcptDraw>> = weights
        .par_iter()
        .map(|w| {
            Some(DcptDraw {
                general: refit(&pg, w)?,
                domain: refit(&pd, w)?,
            })
        })
        .collect();
    let failed = draws.iter().filter(|d| d.is_none()).count();
    let draws: Vec<DcptDraw> = draws.into_iter().flatten().collect();
    if draws.is_empty() {
        return Err(ScalingError::Fit("every bootstrap refit failed".into()));
    }
    let any = general.or(domain).copied().ok_or_else(|| {
        ScalingError::InvalidArgument("nothing to bootstrap: no law was fitted".into())
    })?;
    let names: Vec<String> = any.params().iter().map(|p| p.0.to_string()).collect();
    let summary = |pick: fn(&DcptDraw) -> Option<Dcpt>| -> Option<ParamSummary> {
        let v: Vec<Vec<f64>> = draws
            .iter()
            .filter_map(pick)
            .map(|l| l.params().iter().map(|p| p.1).collect())
            .collect();
        (!v.is_empty()).then(|| summarize(&v, names.len(), level))
    };
    Ok(DcptBootstrap {
        resamples,
        seed,
        level,
        failed,
        general: summary(|d| d.general),
        domain: summary(|d| d.domain),
        names: names.clone(),
        draws,
    })
}

/// Where the fitted rows came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DcptSource {
    /// The CSV file.
    pub file: String,
    /// Data rows in the file.
    pub rows_in_file: usize,
    /// Rows used.
    pub rows_used: usize,
    /// The `--columns` mapping, if any.
    #[serde(default)]
    pub columns: Option<String>,
    /// The `--where` filters.
    #[serde(default)]
    pub filters: Vec<String>,
    /// Smallest and largest N of the runs.
    pub n_range: (f64, f64),
    /// Smallest and largest D of the runs.
    pub d_range: (f64, f64),
}

/// A D-CPT law file (`datamill scaling dcpt fit` writes it, `dcpt plan` and `plot` read it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DcptFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// The general-loss law (r = r_g = 1 − r_d).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub general: Option<FittedDcpt>,
    /// The domain-loss law (r = r_d).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<FittedDcpt>,
    /// Input provenance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<DcptSource>,
    /// Bootstrap draws and parameter intervals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<DcptBootstrap>,
}

impl DcptFile {
    /// Reads a law file.
    pub fn load(path: &Path) -> Result<DcptFile, ScalingError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScalingError::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        let f: DcptFile = serde_json::from_str(&text).map_err(|e| {
            ScalingError::Law(format!("{}: not a D-CPT law file: {e}", path.display()))
        })?;
        if f.format != FORMAT {
            return Err(ScalingError::Law(format!(
                "{}: format `{}`, expected `{FORMAT}`",
                path.display(),
                f.format
            )));
        }
        Ok(f)
    }

    /// Writes the file as pretty JSON (full `f64` precision) to a temporary name, then
    /// renames it.
    pub fn write(&self, path: &Path) -> Result<(), ScalingError> {
        crate::lawfile::write_json_atomic(path, &serde_json::to_value(self)?)
    }

    /// The bootstrap draws (empty without a bootstrap).
    pub fn draws(&self) -> &[DcptDraw] {
        self.bootstrap.as_ref().map_or(&[], |b| &b.draws)
    }

    /// The interval mass of the bootstrap (0.95 without one).
    pub fn level(&self) -> f64 {
        self.bootstrap.as_ref().map_or(0.95, |b| b.level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dcpt::tests::truth;

    fn numeric_grad(p: &DcptProblem, th: &[f64]) -> Vec<f64> {
        (0..th.len())
            .map(|k| {
                let h = 1e-6 * (1.0 + th[k].abs());
                let (mut a, mut b) = (th.to_vec(), th.to_vec());
                a[k] += h;
                b[k] -= h;
                let mut g = vec![0.0; th.len()];
                (p.value_grad(&a, None, &mut g) - p.value_grad(&b, None, &mut g)) / (2.0 * h)
            })
            .collect()
    }

    fn small_runs() -> DcptRuns {
        let l = truth();
        let mut runs = DcptRuns {
            general: Some(Vec::new()),
            domain: Some(Vec::new()),
            k: Some(Vec::new()),
            ..Default::default()
        };
        let mut i = 0;
        for &n in &[5e8, 2e9] {
            for &d in &[1e9, 1e10] {
                for &r in &[0.0, 0.3, 0.7, 1.0] {
                    runs.n.push(n);
                    runs.d.push(d);
                    runs.r_domain.push(r);
                    runs.general
                        .as_mut()
                        .unwrap()
                        .push(l.loss(n, d, 1.0 - r, None) * 1.01);
                    runs.domain.as_mut().unwrap().push(l.loss(n, d, r, None));
                    runs.k.as_mut().unwrap().push(1.0 + (i % 3) as f64);
                    runs.row.push(i + 1);
                    i += 1;
                }
            }
        }
        runs
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let runs = small_runs();
        for cross in [false, true] {
            let opts = DcptFitOptions {
                huber_delta: 10.0, // quadratic region: smooth for differences
                cross_domain: cross,
                ..Default::default()
            };
            for which in [Which::General, Which::Domain] {
                let p = DcptProblem::new(&runs, which, &opts).unwrap();
                let mut th = vec![0.1, 3.5, 5.0, -2.0, 0.3, 0.3, 0.5, 0.4, -2.5];
                if cross {
                    th.extend([-1.0, 0.6]);
                }
                let mut g = vec![0.0; th.len()];
                p.value_grad(&th, None, &mut g);
                let ng = numeric_grad(&p, &th);
                for k in 0..th.len() {
                    assert!(
                        (g[k] - ng[k]).abs() < 1e-5 * (1.0 + ng[k].abs()),
                        "{which:?} cross={cross} coord {}: {} vs {}",
                        COORDINATES[k],
                        g[k],
                        ng[k]
                    );
                }
            }
        }
    }

    #[test]
    fn csv_errors_name_row_column_and_value() {
        let t = Table::parse(
            "N,D,r,general_loss,domain_loss\n1e9,1e10,0.5,2.9,1.8\n1e9,1e10,1.5,2.9,1.8\n",
            "runs.csv",
        )
        .unwrap();
        let e = extract_runs(&t, None, &[]).unwrap_err().to_string();
        assert!(
            e.contains("row 2") && e.contains("`r`") && e.contains("1.5 is outside [0, 1]"),
            "{e}"
        );
        let t = Table::parse("N,D,ratio,loss\n1e9,1e10,0.5,2.9\n", "runs.csv").unwrap();
        let e = extract_runs(&t, None, &[]).unwrap_err().to_string();
        assert!(
            e.contains("no loss column") && e.contains("general_loss"),
            "{e}"
        );
        let t = Table::parse("N,tokens,general_loss\n1e9,1e10,2.9\n", "runs.csv").unwrap();
        let e = extract_runs(&t, None, &[]).unwrap_err().to_string();
        assert!(
            e.contains("domain ratio r") && e.contains("looked for r, r_d"),
            "{e}"
        );
        let t = Table::parse("N,D,mix,Lg\n1e9,1e10,0.25,2.9\n", "runs.csv").unwrap();
        let r = extract_runs(&t, Some("r=mix,general=Lg"), &[]).unwrap();
        assert_eq!(r.r_domain, vec![0.25]);
        assert_eq!(r.general, Some(vec![2.9]));
        assert!(r.domain.is_none());
    }
}
