//! Predictions from a law file: losses, compute-optimal and unique-capped allocations, data
//! and compute needed for a target loss, and the cost of repeating data, each with bootstrap
//! intervals when the law file carries draws. [`crate::report`] renders them as text.
//!
//! Every interval is labelled (`{"low": .., "high": .., "level": 0.95}`); a report carries the
//! number of draws its intervals come from and the law file's warnings (an ill-conditioned
//! fit, no bootstrap).

use serde::Serialize;

use crate::bootstrap::{Estimate, Interval};
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<Interval>,
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
    /// Bootstrap interval of the tokens needed, over the draws that reach the target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<Interval>,
    /// Draws by which the target is unreachable at this N (their floor is above it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreachable_draws: Option<usize>,
    /// The floor of the loss at this N (infinite data, and U when given).
    pub floor: f64,
}

/// Compute needed on the frontier to reach a target.
#[derive(Debug, Clone, Serialize)]
pub struct ComputeNeeded {
    /// Target loss.
    pub target: f64,
    /// The compute needed in FLOP, `None` = unreachable (target ≤ E); its interval is over
    /// each draw's own compute for the target.
    pub compute: Option<Estimate>,
    /// The compute-optimal allocation at that compute, `None` = unreachable.
    pub allocation: Option<ComputeOptimal>,
    /// Draws by which the target is unreachable (their E is at or above it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreachable_draws: Option<usize>,
}

/// A compute-optimal allocation with fresh data, each number with its bootstrap interval
/// (JSON: `{"compute": C, "n": {"value": .., "interval": {"low": .., "high": .., "level": ..}},
/// "d": {..}, "loss": {..}, "tokens_per_param": ..}`).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ComputeOptimal {
    /// Compute budget in FLOP (C = 6 N D).
    pub compute: f64,
    /// Parameters N_opt.
    pub n: Estimate,
    /// Training tokens D_opt.
    pub d: Estimate,
    /// Predicted loss at (N_opt, D_opt).
    pub loss: Estimate,
    /// D_opt / N_opt of the point law.
    pub tokens_per_param: f64,
}

impl ComputeOptimal {
    /// The point law's allocation at `c`, with the intervals of `law_at` over `draws`
    /// (draws where it gives `None` are left out).
    fn new(
        opt: Allocation,
        draws: &[Law],
        level: f64,
        law_at: impl Fn(&Law) -> Option<Allocation>,
    ) -> ComputeOptimal {
        let est = |v: f64, f: fn(&Allocation) -> f64| {
            Estimate::with_draws(v, draws, level, |l| law_at(l).map(|a| f(&a)))
        };
        ComputeOptimal {
            compute: opt.compute,
            n: est(opt.n, |a| a.n),
            d: est(opt.d, |a| a.d),
            loss: est(opt.loss, |a| a.loss),
            tokens_per_param: opt.d / opt.n,
        }
    }

    /// The point law's allocation.
    pub fn allocation(&self) -> Allocation {
        Allocation {
            compute: self.compute,
            n: self.n.value,
            d: self.d.value,
            loss: self.loss.value,
        }
    }
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
    /// Bootstrap interval of `loss_repeated`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss_repeated_interval: Option<Interval>,
    /// Bootstrap interval of `loss_fresh`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss_fresh_interval: Option<Interval>,
    /// Bootstrap interval of `loss_cost`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss_cost_interval: Option<Interval>,
}

/// Everything `predict` computed.
#[derive(Debug, Clone, Serialize, Default)]
pub struct PredictReport {
    /// The law's name.
    pub law: String,
    /// Bootstrap draws the intervals come from (0: the law file has none, no intervals).
    pub draws: usize,
    /// Central mass of every interval (the bootstrap's level), when there are draws.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<f64>,
    /// The law file's warnings: an ill-conditioned fit, no bootstrap (see
    /// [`LawFile::warnings`]).
    pub warnings: Vec<String>,
    /// Losses at (N, D[, U]).
    pub losses: Vec<LossPoint>,
    /// Compute-optimal allocations with fresh data, with intervals.
    pub compute_optimal: Vec<ComputeOptimal>,
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
    /// Bootstrap interval of the allocation's N (each draw's own grid optimum).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n_interval: Option<Interval>,
    /// Bootstrap interval of the allocation's D.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub d_interval: Option<Interval>,
    /// Bootstrap interval of the allocation's loss.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss_interval: Option<Interval>,
}
/// Computes the predictions asked for in `a`.
pub fn predict(file: &LawFile, a: &PredictQuery) -> Result<PredictReport, ScalingError> {
    let law = &file.law;
    let draws = file.draws();
    let level = file.bootstrap.as_ref().map_or(0.95, |b| b.level);
    let mut rep = PredictReport {
        law: law.name().to_string(),
        draws: draws.len(),
        level: (!draws.is_empty()).then_some(level),
        warnings: file.warnings(),
        ..Default::default()
    };
    let iv = |f: &dyn Fn(&Law) -> Option<f64>| {
        crate::bootstrap::interval(draws, level, f).map(|(low, high)| Interval { low, high, level })
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
                rep.losses.push(LossPoint {
                    n,
                    d,
                    u: a.u,
                    loss,
                    interval: iv(&|l| Some(l.loss(n, d, a.u))),
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
        rep.compute_optimal
            .push(ComputeOptimal::new(opt, draws, level, |l| {
                l.compute_optimal(c)
            }));
        if let Some(u) = a.u {
            let dc = data_constrained_view(law, &mut rep.notes)?;
            let steps = a.grid_steps.max(1);
            let best = dc.optimal_allocation(c, u, steps, a.grid_max_factor);
            let fresh = dc.base.compute_optimal(c);
            let per_draw: Vec<Allocation> = draws
                .iter()
                .filter_map(dc_of)
                .map(|d| d.optimal_allocation(c, u, steps, a.grid_max_factor))
                .collect();
            let of = |f: fn(&Allocation) -> f64| {
                crate::bootstrap::interval(&per_draw, level, |x| Some(f(x)))
                    .map(|(low, high)| Interval { low, high, level })
            };
            rep.capped_allocation.push(CappedAllocation {
                unique_cap: u,
                allocation: best,
                epochs: best.d / u.min(best.d),
                loss_at_fresh_optimum: dc.loss(fresh.n, fresh.d, u.min(fresh.d)),
                n_interval: of(|x| x.n),
                d_interval: of(|x| x.d),
                loss_interval: of(|x| x.loss),
            });
        }
    }
    // Target loss.
    if let Some(t) = a.target_loss {
        if a.n.is_empty() && !needs_n {
            let (interval, unreachable_draws) =
                needed_over_draws(draws, level, |l| l.data_for_loss(t, f64::NAN, a.u));
            rep.data_needed.push(DataNeeded {
                n: f64::NAN,
                target: t,
                d: law.data_for_loss(t, f64::NAN, a.u),
                interval,
                unreachable_draws,
                floor: law.loss(f64::NAN, f64::INFINITY, None),
            });
        } else if a.n.is_empty() {
            let c = law.as_chinchilla().ok_or_else(|| {
                ScalingError::Law(format!(
                    "--target-loss without --n needs a law with a compute-optimal frontier; give --n for the {} law",
                    law.name()
                ))
            })?;
            // Each draw's own compute for the target, and its allocation there.
            let at_target = |l: &Law| {
                let c = l.as_chinchilla()?;
                c.compute_for_loss(t).map(|cc| c.compute_optimal(cc))
            };
            let unreachable = draws.iter().filter(|l| at_target(l).is_none()).count();
            let cc = c.compute_for_loss(t);
            rep.compute_needed = Some(ComputeNeeded {
                target: t,
                compute: cc.map(|cc| {
                    Estimate::with_draws(cc, draws, level, |l| at_target(l).map(|a| a.compute))
                }),
                allocation: cc
                    .map(|cc| ComputeOptimal::new(c.compute_optimal(cc), draws, level, at_target)),
                unreachable_draws: (!draws.is_empty()).then_some(unreachable),
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
                let (interval, unreachable_draws) =
                    needed_over_draws(draws, level, |l| l.data_for_loss(t, n, a.u));
                rep.data_needed.push(DataNeeded {
                    n,
                    target: t,
                    d: law.data_for_loss(t, n, a.u),
                    interval,
                    unreachable_draws,
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
                let repeated = |l: &Law| dc_of(l).map(|x| x.loss(n, d, u));
                let fresh_of = |l: &Law| dc_of(l).map(|x| x.loss(n, d, d));
                rep.epochs.push(EpochCost {
                    loss_repeated_interval: iv(&repeated),
                    loss_fresh_interval: iv(&fresh_of),
                    loss_cost_interval: iv(&|l| Some(repeated(l)? - fresh_of(l)?)),
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

/// The interval of the tokens needed over the draws that reach the target, and how many do
/// not (`None` without draws).
fn needed_over_draws(
    draws: &[Law],
    level: f64,
    f: impl Fn(&Law) -> Option<f64>,
) -> (Option<Interval>, Option<usize>) {
    if draws.is_empty() {
        return (None, None);
    }
    let unreachable = draws.iter().filter(|l| f(l).is_none()).count();
    let iv = crate::bootstrap::interval(draws, level, &f).map(|(low, high)| Interval {
        low,
        high,
        level,
    });
    (iv, Some(unreachable))
}

/// [`data_constrained_view`] without the note (for bootstrap draws).
fn dc_of(law: &Law) -> Option<DataConstrained> {
    match law {
        Law::DataConstrained(dc) => Some(*dc),
        other => other.as_chinchilla().map(|base| DataConstrained {
            base,
            ..DataConstrained::muennighoff()
        }),
    }
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
