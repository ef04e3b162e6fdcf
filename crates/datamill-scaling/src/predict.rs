//! Predictions from a law file: losses, compute-optimal and unique-capped allocations, data
//! and compute needed for a target loss, and the cost of repeating data, each with bootstrap
//! intervals when the law file carries draws. [`crate::report`] renders them as text.

use serde::Serialize;

use crate::bootstrap::interval;
use crate::error::ScalingError;
use crate::lawfile::LawFile;
use crate::laws::{Allocation, DataConstrained, Law};

/// What to predict from a law file (`datamill scaling predict`'s options; error messages name
/// them as the command-line flags `--n`, `--d`, `--u`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct PredictQuery {
    /// Parameter counts N.
    pub n: Vec<f64>,
    /// Training token counts D.
    pub d: Vec<f64>,
    /// Unique tokens U (data-constrained law; with `compute`: the unique-token cap).
    pub u: Option<f64>,
    /// Compute budgets C in FLOP: compute-optimal N and D (C = 6ND).
    pub compute: Vec<f64>,
    /// Target loss: data needed at each N, or the compute needed on the frontier.
    pub target_loss: Option<f64>,
    /// Epoch counts for the repetition cost at N and U.
    pub epochs: Vec<f64>,
    /// Grid steps for the unique-cap allocation (datablations README: 500).
    pub grid_steps: usize,
    /// Largest N↔D trade factor for the unique-cap allocation (README: 3).
    pub grid_max_factor: f64,
}

impl Default for PredictQuery {
    /// Nothing asked, the datablations grid (500 steps, factor 3).
    fn default() -> Self {
        PredictQuery {
            n: Vec::new(),
            d: Vec::new(),
            u: None,
            compute: Vec::new(),
            target_loss: None,
            epochs: Vec::new(),
            grid_steps: 500,
            grid_max_factor: 3.0,
        }
    }
}

/// One loss prediction.
#[derive(Debug, Clone, Serialize)]
pub struct LossPoint {
    /// Parameters.
    pub n: f64,
    /// Tokens.
    pub d: f64,
    /// Unique tokens, if given.
    pub u: Option<f64>,
    /// Predicted loss.
    pub loss: f64,
    /// Bootstrap interval of the loss, when the law file has draws.
    pub interval: Option<(f64, f64)>,
}

/// Data needed at a model size.
#[derive(Debug, Clone, Serialize)]
pub struct DataNeeded {
    /// Parameters.
    pub n: f64,
    /// Target loss.
    pub target: f64,
    /// Tokens needed, `None` = unreachable.
    pub d: Option<f64>,
    /// The floor of the loss at this N (infinite data, and U when given).
    pub floor: f64,
}

/// Compute needed on the frontier to reach a target.
#[derive(Debug, Clone, Serialize)]
pub struct ComputeNeeded {
    /// Target loss.
    pub target: f64,
    /// The allocation at that compute, `None` = unreachable (target ≤ E).
    pub allocation: Option<Allocation>,
}

/// One row of the epochs-vs-fresh-data table.
#[derive(Debug, Clone, Serialize)]
pub struct EpochCost {
    /// Number of epochs over U unique tokens.
    pub epochs: f64,
    /// Total tokens D = epochs · U.
    pub d: f64,
    /// Loss training on U unique tokens repeated.
    pub loss_repeated: f64,
    /// Loss with D fresh tokens.
    pub loss_fresh: f64,
    /// loss_repeated − loss_fresh.
    pub loss_cost: f64,
    /// Effective data D'/U.
    pub effective_epochs: f64,
    /// (D' − U)/(D − U): the value of a repeated token relative to a fresh one.
    pub repeated_token_value: Option<f64>,
}

/// Bootstrap interval of an allocation: `(n_low, n_high, d_low, d_high)`.
pub type AllocationInterval = (f64, f64, f64, f64);

/// Everything `predict` computed.
#[derive(Debug, Clone, Serialize, Default)]
pub struct PredictReport {
    /// The law's name.
    pub law: String,
    /// Losses at (N, D[, U]).
    pub losses: Vec<LossPoint>,
    /// Compute-optimal allocations with fresh data (and their intervals as
    /// `(n_lo, n_hi, d_lo, d_hi)`).
    pub compute_optimal: Vec<(Allocation, Option<AllocationInterval>)>,
    /// Best allocation under the unique-token cap with repetition (data-constrained law).
    pub capped_allocation: Vec<CappedAllocation>,
    /// Data needed at fixed N.
    pub data_needed: Vec<DataNeeded>,
    /// Compute needed on the frontier.
    pub compute_needed: Option<ComputeNeeded>,
    /// Epoch costs.
    pub epochs: Vec<EpochCost>,
    /// Notes (assumptions made).
    pub notes: Vec<String>,
}

/// The datablations grid allocation for one budget.
#[derive(Debug, Clone, Serialize)]
pub struct CappedAllocation {
    /// The unique-token cap.
    pub unique_cap: f64,
    /// The best allocation found.
    pub allocation: Allocation,
    /// Epochs = D / min(U, D).
    pub epochs: f64,
    /// The fresh-data optimum's loss evaluated with the cap (for comparison).
    pub loss_at_fresh_optimum: f64,
}
/// Computes the predictions asked for in `a`.
pub fn predict(file: &LawFile, a: &PredictQuery) -> Result<PredictReport, ScalingError> {
    let law = &file.law;
    let draws = file.draws();
    let level = file.bootstrap.as_ref().map_or(0.95, |b| b.level);
    let mut rep = PredictReport {
        law: law.name().to_string(),
        ..Default::default()
    };
    let check = |what: &str, v: f64| -> Result<(), ScalingError> {
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            Err(ScalingError::InvalidArgument(format!(
                "{what} must be finite and positive, got {v}"
            )))
        }
    };
    for &v in &a.n {
        check("--n", v)?;
    }
    for &v in &a.d {
        check("--d", v)?;
    }
    for &v in &a.compute {
        check("--compute", v)?;
    }
    if let Some(u) = a.u {
        check("--u", u)?;
    }
    let needs_n = !matches!(
        law,
        Law::LearningCurve(_) | Law::Kaplan(crate::laws::Kaplan::D { .. })
    );
    let needs_d = !matches!(law, Law::Kaplan(crate::laws::Kaplan::N { .. }));
    // Losses.
    let ns: Vec<f64> = if a.n.is_empty() && !needs_n {
        vec![f64::NAN]
    } else {
        a.n.clone()
    };
    let ds: Vec<f64> = if a.d.is_empty() && !needs_d {
        vec![f64::NAN]
    } else {
        a.d.clone()
    };
    if !a.d.is_empty() || (!needs_d && !a.n.is_empty()) {
        if ns.is_empty() {
            return Err(ScalingError::InvalidArgument(format!(
                "the {} law needs --n",
                law.name()
            )));
        }
        for &n in &ns {
            for &d in &ds {
                let loss = law.loss(n, d, a.u);
                let iv = interval(draws, level, |l| Some(l.loss(n, d, a.u)));
                rep.losses.push(LossPoint {
                    n,
                    d,
                    u: a.u,
                    loss,
                    interval: iv,
                });
            }
        }
    }
    // Compute-optimal.
    for &c in &a.compute {
        let Some(opt) = law.compute_optimal(c) else {
            return Err(ScalingError::Law(format!(
                "the {} law does not depend on both N and D, so a compute budget cannot be split",
                law.name()
            )));
        };
        let ni = interval(draws, level, |l| l.compute_optimal(c).map(|o| o.n));
        let di = interval(draws, level, |l| l.compute_optimal(c).map(|o| o.d));
        rep.compute_optimal
            .push((opt, ni.zip(di).map(|(n, d)| (n.0, n.1, d.0, d.1))));
        if let Some(u) = a.u {
            let dc = data_constrained_view(law, &mut rep.notes)?;
            let best = dc.optimal_allocation(c, u, a.grid_steps.max(1), a.grid_max_factor);
            let fresh = dc.base.compute_optimal(c);
            rep.capped_allocation.push(CappedAllocation {
                unique_cap: u,
                allocation: best,
                epochs: best.d / u.min(best.d),
                loss_at_fresh_optimum: dc.loss(fresh.n, fresh.d, u.min(fresh.d)),
            });
        }
    }
    // Target loss.
    if let Some(t) = a.target_loss {
        if a.n.is_empty() && !needs_n {
            rep.data_needed.push(DataNeeded {
                n: f64::NAN,
                target: t,
                d: law.data_for_loss(t, f64::NAN, a.u),
                floor: law.loss(f64::NAN, f64::INFINITY, None),
            });
        } else if a.n.is_empty() {
            let c = law.as_chinchilla().ok_or_else(|| {
                ScalingError::Law(format!(
                    "--target-loss without --n needs a law with a compute-optimal frontier; give --n for the {} law",
                    law.name()
                ))
            })?;
            rep.compute_needed = Some(ComputeNeeded {
                target: t,
                allocation: c.compute_for_loss(t).map(|cc| c.compute_optimal(cc)),
            });
        } else {
            for &n in &a.n {
                let floor = law.loss(n, f64::INFINITY, None);
                let floor = if let (Law::DataConstrained(dc), Some(u)) = (law, a.u) {
                    let np = dc.effective_params(n, u);
                    dc.base.e
                        + dc.base.a / np.powf(dc.base.alpha)
                        + dc.base.b / (u * (1.0 + dc.rd_star)).powf(dc.base.beta)
                } else {
                    floor
                };
                rep.data_needed.push(DataNeeded {
                    n,
                    target: t,
                    d: law.data_for_loss(t, n, a.u),
                    floor,
                });
            }
        }
    }
    // Epochs.
    if !a.epochs.is_empty() {
        let (Some(u), false) = (a.u, a.n.is_empty()) else {
            return Err(ScalingError::InvalidArgument(
                "--epochs needs --n and --u (unique tokens)".into(),
            ));
        };
        let dc = data_constrained_view(law, &mut rep.notes)?;
        for &n in &a.n {
            for &k in &a.epochs {
                check("--epochs", k)?;
                let d = k * u;
                let rep_l = dc.loss(n, d, u);
                let fresh = dc.loss(n, d, d);
                let dp = dc.effective_data(d, u);
                rep.epochs.push(EpochCost {
                    epochs: k,
                    d,
                    loss_repeated: rep_l,
                    loss_fresh: fresh,
                    loss_cost: rep_l - fresh,
                    effective_epochs: dp / u,
                    repeated_token_value: (k > 1.0).then(|| (dp - u) / (d - u)),
                });
            }
        }
    }
    Ok(rep)
}

/// The data-constrained view of a law: itself, or R* from Muennighoff et al.
/// on top of a Chinchilla-form law (noted in the report).
fn data_constrained_view(
    law: &Law,
    notes: &mut Vec<String>,
) -> Result<DataConstrained, ScalingError> {
    match law {
        Law::DataConstrained(dc) => Ok(*dc),
        other => {
            let base = other.as_chinchilla().ok_or_else(|| {
                ScalingError::Law(format!(
                    "repetition needs a Chinchilla-form or data-constrained law, not {}",
                    other.name()
                ))
            })?;
            let pubd = DataConstrained::muennighoff();
            let note = format!(
                "the {} law has no repetition terms: using Muennighoff et al.'s R_D* = {}, R_N* = {} on top of it",
                other.name(),
                pubd.rd_star,
                pubd.rn_star
            );
            if !notes.contains(&note) {
                notes.push(note);
            }
            Ok(DataConstrained { base, ..pubd })
        }
    }
}
