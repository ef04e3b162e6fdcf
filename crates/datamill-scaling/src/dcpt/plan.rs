//! The D-CPT planner (Que et al. 2024, §"usages"): which domain share r_d to continue
//! pre-training with.
//!
//! 1. **General-loss budget**: the best r_d (lowest domain loss) such that the general loss
//!    stays within `(1 + T)·L_g0`. With monotone losses that is the largest such r_d, found by
//!    bisection on `L_g(N, D, 1 − r_d) = (1 + T)·L_g0` (the paper's chemistry example: 1.8B,
//!    10B tokens, T = 3 % → r_d ≈ 0.924). A token budget may be given as compute, D = C/(6N).
//! 2. **Limited domain tokens**: with D_dom domain tokens used once, the total is
//!    D = D_dom/r_d (capped by a token or compute budget); the best r_d minimizes
//!    `L_d(N, D, r_d)` (within the general-loss budget when one is given).
//! 3. **Target domain loss**: the tokens needed at N and r_d (Chinchilla's closed form with
//!    `B → B·r^η`, `E → E + C/(r+ε)^γ`), and with a compute budget but no N, the
//!    compute-optimal N and D at r_d.
//!
//! Every answer carries the percentile interval over the law file's paired bootstrap draws.

use serde::Serialize;

use super::Dcpt;
use super::fit::{DcptDraw, DcptFile};
use crate::bootstrap::Estimate;
use crate::error::ScalingError;
use crate::optim::golden_section;

/// What to plan (`datamill scaling dcpt plan`'s options; messages name the flags).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DcptQuery {
    /// Model parameters N (the model being continued).
    pub n: Option<f64>,
    /// Training tokens D.
    pub d: Option<f64>,
    /// Compute budget C in FLOP (D = C/(6N) when N is given; compute-optimal N, D otherwise).
    pub compute: Option<f64>,
    /// A fixed domain share r_d ∈ (0, 1] (losses, data for a target, compute-optimal split).
    pub ratio: Option<f64>,
    /// The general-loss budget T: L_g may rise to (1 + T)·L_g0.
    pub max_general_increase: Option<f64>,
    /// L_g0, the general loss the budget is relative to (default: the law at r_d = 0, i.e.
    /// continued training on general data only, at the same N and D).
    pub general_baseline: Option<f64>,
    /// Domain tokens available (used once).
    pub domain_tokens: Option<f64>,
    /// A target domain loss.
    pub target_domain_loss: Option<f64>,
    /// K of the general corpus (cross-domain laws).
    pub k_general: Option<f64>,
    /// K of the domain (cross-domain laws).
    pub k_domain: Option<f64>,
}

/// Losses at a fixed ratio.
#[derive(Debug, Clone, Serialize)]
pub struct AtRatio {
    /// Domain share r_d.
    pub ratio: f64,
    /// Parameters.
    pub n: f64,
    /// Tokens.
    pub d: f64,
    /// General loss L_g(N, D, 1 − r_d).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub general_loss: Option<Estimate>,
    /// Domain loss L_d(N, D, r_d).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_loss: Option<Estimate>,
}

/// The best ratio within a general-loss budget.
#[derive(Debug, Clone, Serialize)]
pub struct Tradeoff {
    /// Parameters.
    pub n: f64,
    /// Tokens.
    pub d: f64,
    /// The allowed relative increase T.
    pub max_general_increase: f64,
    /// L_g0.
    pub general_baseline: f64,
    /// Whether L_g0 was given (else: the law at r_d = 0).
    pub general_baseline_given: bool,
    /// The bound (1 + T)·L_g0.
    pub general_bound: f64,
    /// The chosen domain share r_d.
    pub ratio: Estimate,
    /// L_g at the chosen ratio.
    pub general_loss: Estimate,
    /// L_d at the chosen ratio (when the file has a domain law).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_loss: Option<Estimate>,
    /// Whether the budget does not bind (r_d = 1 is within it).
    pub unconstrained: bool,
}

/// The best ratio with limited domain tokens.
#[derive(Debug, Clone, Serialize)]
pub struct LimitedDomain {
    /// Parameters.
    pub n: f64,
    /// Domain tokens available.
    pub domain_tokens: f64,
    /// The cap on total tokens (from --d or --compute), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<f64>,
    /// The general-loss bound applied, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub general_bound: Option<f64>,
    /// The chosen domain share r_d.
    pub ratio: Estimate,
    /// Total tokens D = min(D_dom/r_d, cap).
    pub tokens: Estimate,
    /// L_d at the choice.
    pub domain_loss: Estimate,
    /// L_g at the choice (when the file has a general law).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub general_loss: Option<Estimate>,
}

/// Tokens needed for a target domain loss.
#[derive(Debug, Clone, Serialize)]
pub struct DataForTarget {
    /// Parameters.
    pub n: f64,
    /// Domain share r_d.
    pub ratio: f64,
    /// The target L_d.
    pub target: f64,
    /// Total tokens D.
    pub tokens: Estimate,
    /// Of which domain tokens r_d·D.
    pub domain_tokens: Estimate,
    /// General loss after D tokens (when the file has a general law).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub general_loss: Option<Estimate>,
}

/// Compute-optimal N and D for the domain loss at a fixed ratio.
#[derive(Debug, Clone, Serialize)]
pub struct ComputeOptimal {
    /// Domain share r_d.
    pub ratio: f64,
    /// Compute budget C = 6ND.
    pub compute: f64,
    /// N_opt.
    pub n: Estimate,
    /// D_opt.
    pub d: Estimate,
    /// L_d at the optimum.
    pub domain_loss: Estimate,
}

/// Everything the planner answered.
#[derive(Debug, Clone, Serialize, Default)]
pub struct DcptPlan {
    /// Losses at --ratio.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_ratio: Option<AtRatio>,
    /// The best ratio within the general-loss budget.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tradeoff: Option<Tradeoff>,
    /// The best ratio with limited domain tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limited_domain: Option<LimitedDomain>,
    /// Tokens for the target domain loss.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_for_target: Option<DataForTarget>,
    /// Compute-optimal split at --ratio.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compute_optimal: Option<ComputeOptimal>,
    /// Assumptions made.
    pub notes: Vec<String>,
}

impl DcptPlan {
    /// The domain share the plan recommends: the limited-domain answer, else the budget
    /// answer, else the fixed --ratio.
    pub fn chosen_ratio(&self) -> Option<f64> {
        self.limited_domain
            .as_ref()
            .map(|l| l.ratio.value)
            .or(self.tradeoff.as_ref().map(|t| t.ratio.value))
            .or(self.at_ratio.as_ref().map(|a| a.ratio))
            .or(self.data_for_target.as_ref().map(|a| a.ratio))
            .or(self.compute_optimal.as_ref().map(|a| a.ratio))
    }
}

/// Why a ratio search failed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RatioSearch {
    /// The best feasible ratio.
    Found(f64),
    /// No ratio in the range is feasible; the value is the smallest constraint value seen
    /// (e.g. the lowest general loss), for the message.
    Infeasible(f64),
}

/// The r in `[lo, hi]` minimizing `objective(r)` subject to `constraint(r) ≤ 0`: a scan of
/// 2,001 evenly spaced and 200 log-spaced points, refined by bisection on the constraint's
/// boundary when the optimum presses against it, else by golden-section search between the
/// neighbours of the best point.
pub fn best_ratio(
    objective: impl Fn(f64) -> f64,
    constraint: impl Fn(f64) -> f64,
    (lo, hi): (f64, f64),
) -> RatioSearch {
    let mut grid: Vec<f64> = (0..=2000)
        .map(|i| lo + (hi - lo) * i as f64 / 2000.0)
        .collect();
    if lo > 0.0 {
        grid.extend((0..200).map(|i| (lo.ln() + (hi / lo).ln() * i as f64 / 199.0).exp()));
    }
    grid.sort_by(f64::total_cmp);
    grid.dedup();
    let feasible = |r: f64| constraint(r) <= 0.0;
    let obj: Vec<f64> = grid.iter().map(|&r| objective(r)).collect();
    let best = (0..grid.len())
        .filter(|&i| feasible(grid[i]) && obj[i].is_finite())
        .min_by(|&a, &b| obj[a].total_cmp(&obj[b]).then(b.cmp(&a)));
    let Some(i) = best else {
        let least = grid
            .iter()
            .map(|&r| constraint(r))
            .fold(f64::INFINITY, f64::min);
        return RatioSearch::Infeasible(least);
    };
    // Bisection towards an infeasible neighbour that would be better.
    for j in [i.checked_sub(1), Some(i + 1)].into_iter().flatten() {
        if j < grid.len() && !feasible(grid[j]) && obj[j] < obj[i] {
            let (mut ok, mut bad) = (grid[i], grid[j]);
            for _ in 0..200 {
                let mid = 0.5 * (ok + bad);
                if mid == ok || mid == bad {
                    break;
                }
                if feasible(mid) {
                    ok = mid;
                } else {
                    bad = mid;
                }
            }
            return RatioSearch::Found(ok);
        }
    }
    let a = grid[i.saturating_sub(1)];
    let b = grid[(i + 1).min(grid.len() - 1)];
    if a == b {
        return RatioSearch::Found(grid[i]);
    }
    let r = golden_section(&objective, a, b, 200);
    if feasible(r) && objective(r) <= obj[i] {
        RatioSearch::Found(r)
    } else {
        RatioSearch::Found(grid[i])
    }
}

/// Piecewise-linear interpolation through measured `(x, y)` points (sorted by x inside);
/// outside the points' range it returns NaN.
pub fn interpolate_linear(points: &[(f64, f64)], x: f64) -> f64 {
    let mut p = points.to_vec();
    p.sort_by(|a, b| a.0.total_cmp(&b.0));
    for w in p.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        if x >= x0 && x <= x1 {
            return if x1 == x0 {
                y0
            } else {
                y0 + (y1 - y0) * (x - x0) / (x1 - x0)
            };
        }
    }
    f64::NAN
}

fn positive(flag: &str, v: Option<f64>) -> Result<Option<f64>, ScalingError> {
    match v {
        Some(x) if !(x.is_finite() && x > 0.0) => Err(ScalingError::InvalidArgument(format!(
            "{flag} {x}: must be finite and positive"
        ))),
        v => Ok(v),
    }
}

/// Checks a domain share given on the command line: it must lie in (0, 1].
pub fn check_ratio(flag: &str, r: f64) -> Result<f64, ScalingError> {
    if r > 0.0 && r <= 1.0 {
        Ok(r)
    } else {
        Err(ScalingError::InvalidArgument(format!(
            "{flag} {r} is outside (0, 1]: the domain share of the mixture"
        )))
    }
}

struct Laws<'a> {
    general: Option<&'a Dcpt>,
    domain: Option<&'a Dcpt>,
}

fn draw_laws(dr: &DcptDraw) -> Laws<'_> {
    Laws {
        general: dr.general.as_ref(),
        domain: dr.domain.as_ref(),
    }
}

fn lg(l: &Dcpt, q: &DcptQuery, n: f64, d: f64, r_d: f64) -> f64 {
    l.loss(n, d, 1.0 - r_d, q.k_general)
}

fn ld(l: &Dcpt, q: &DcptQuery, n: f64, d: f64, r_d: f64) -> f64 {
    l.loss(n, d, r_d, q.k_domain)
}

/// The budget answer for one pair of laws: (r_d, bound, baseline) or the lowest general
/// loss when no ratio fits.
fn solve_tradeoff(
    laws: &Laws,
    q: &DcptQuery,
    n: f64,
    d: f64,
    t: f64,
) -> Result<(f64, f64, f64), f64> {
    let g = laws.general.ok_or(f64::NAN)?;
    let base = q.general_baseline.unwrap_or_else(|| lg(g, q, n, d, 0.0));
    let bound = (1.0 + t) * base;
    let objective = |r: f64| match laws.domain {
        Some(dl) => ld(dl, q, n, d, r),
        None => -r,
    };
    match best_ratio(objective, |r| lg(g, q, n, d, r) - bound, (1e-6, 1.0)) {
        RatioSearch::Found(r) => Ok((r, bound, base)),
        RatioSearch::Infeasible(least) => Err(least + bound),
    }
}

fn tokens_at(domain_tokens: f64, cap: Option<f64>, r: f64) -> f64 {
    let d = domain_tokens / r;
    cap.map_or(d, |c| d.min(c))
}

fn solve_limited(
    laws: &Laws,
    q: &DcptQuery,
    n: f64,
    domain_tokens: f64,
    cap: Option<f64>,
    t: Option<f64>,
) -> Option<f64> {
    let dl = laws.domain?;
    let bound = match (t, laws.general) {
        (Some(t), Some(g)) => {
            let base = q
                .general_baseline
                .unwrap_or_else(|| lg(g, q, n, tokens_at(domain_tokens, cap, 1.0), 0.0));
            Some((g, (1.0 + t) * base))
        }
        _ => None,
    };
    let objective = |r: f64| ld(dl, q, n, tokens_at(domain_tokens, cap, r), r);
    let constraint = |r: f64| match bound {
        Some((g, b)) => lg(g, q, n, tokens_at(domain_tokens, cap, r), r) - b,
        None => -1.0,
    };
    match best_ratio(objective, constraint, (1e-4, 1.0)) {
        RatioSearch::Found(r) => Some(r),
        RatioSearch::Infeasible(_) => None,
    }
}

/// Answers `q` from a law file (see the module docs); errors name the option and value.
pub fn plan(file: &DcptFile, q: &DcptQuery) -> Result<DcptPlan, ScalingError> {
    let n = positive("--n", q.n)?;
    let d = positive("--d", q.d)?;
    let compute = positive("--compute", q.compute)?;
    positive("--general-baseline", q.general_baseline)?;
    let domain_tokens = positive("--domain-tokens", q.domain_tokens)?;
    let target = positive("--target-domain-loss", q.target_domain_loss)?;
    positive("--k-general", q.k_general)?;
    positive("--k-domain", q.k_domain)?;
    if let Some(r) = q.ratio {
        check_ratio("--ratio", r)?;
    }
    if let Some(t) = q.max_general_increase
        && !(t.is_finite() && t >= 0.0)
    {
        return Err(ScalingError::InvalidArgument(format!(
            "--max-general-increase {t}: must be a finite fraction ≥ 0 (0.03 = 3 %)"
        )));
    }
    if d.is_some() && compute.is_some() && n.is_some() {
        return Err(ScalingError::InvalidArgument(
            "give the token budget as --d or as --compute (D = C/(6N)), not both".into(),
        ));
    }
    let general = file.general.as_ref().map(|f| &f.law);
    let domain = file.domain.as_ref().map(|f| &f.law);
    for (flag, k, law) in [
        ("--k-general", q.k_general, general),
        ("--k-domain", q.k_domain, domain),
    ] {
        if law.is_some_and(|l| l.is_cross_domain()) && k.is_none() {
            return Err(ScalingError::InvalidArgument(format!(
                "the law is cross-domain (F/K^mu): give {flag} K"
            )));
        }
    }
    let laws = Laws { general, domain };
    let draws = file.draws();
    let level = file.level();
    let need_general = || {
        general.ok_or_else(|| {
            ScalingError::Law(
                "the law file has no general-loss law (fit it from a general-loss column)".into(),
            )
        })
    };
    let need_domain = || {
        domain.ok_or_else(|| {
            ScalingError::Law(
                "the law file has no domain-loss law (fit it from a domain-loss column)".into(),
            )
        })
    };
    // The token budget: --d, or --compute with --n.
    let tokens = d.or(match (compute, n) {
        (Some(c), Some(n)) => Some(c / (6.0 * n)),
        _ => None,
    });
    let mut out = DcptPlan::default();
    let mut asked = false;

    if let (Some(r), Some(n), Some(d)) = (q.ratio, n, tokens) {
        {
            asked = true;
            let est = |l: Option<&Dcpt>,
                       f: fn(&Dcpt, &DcptQuery, f64, f64, f64) -> f64,
                       pick: fn(&DcptDraw) -> Option<&Dcpt>| {
                l.map(|l| {
                    Estimate::with_draws(f(l, q, n, d, r), draws, level, |dr| {
                        pick(dr).map(|l| f(l, q, n, d, r))
                    })
                })
            };
            out.at_ratio = Some(AtRatio {
                ratio: r,
                n,
                d,
                general_loss: est(general, lg, |dr| dr.general.as_ref()),
                domain_loss: est(domain, ld, |dr| dr.domain.as_ref()),
            });
        }
    }

    if let (Some(t), None) = (q.max_general_increase, domain_tokens) {
        {
            asked = true;
            let (Some(n), Some(d)) = (n, tokens) else {
                return Err(ScalingError::InvalidArgument(
                    "--max-general-increase needs --n and a token budget (--d, or --compute)"
                        .into(),
                ));
            };
            let g = need_general()?;
            let (r, bound, base) = solve_tradeoff(&laws, q, n, d, t).map_err(|least| {
                ScalingError::InvalidArgument(format!(
                    "--max-general-increase {t}: unreachable: the general loss is at least {least:.6} for every domain ratio at N={n:e}, D={d:e}, above the budget (1 + {t})·{:.6} = {:.6}",
                    q.general_baseline.unwrap_or_else(|| lg(g, q, n, d, 0.0)),
                    (1.0 + t) * q.general_baseline.unwrap_or_else(|| lg(g, q, n, d, 0.0))
                ))
            })?;
            if q.general_baseline.is_none() {
                out.notes.push(format!(
                    "general baseline L_g0 = {base:.6}: the law at r_d = 0 (general data only) at the same N and D; give --general-baseline for the loss before continual pre-training"
                ));
            }
            let ratio = Estimate::with_draws(r, draws, level, |dr| {
                solve_tradeoff(&draw_laws(dr), q, n, d, t).ok().map(|x| x.0)
            });
            let general_loss = Estimate::with_draws(lg(g, q, n, d, r), draws, level, |dr| {
                let l = draw_laws(dr);
                let (r, _, _) = solve_tradeoff(&l, q, n, d, t).ok()?;
                Some(lg(l.general?, q, n, d, r))
            });
            let domain_loss = domain.map(|dl| {
                Estimate::with_draws(ld(dl, q, n, d, r), draws, level, |dr| {
                    let l = draw_laws(dr);
                    let (r, _, _) = solve_tradeoff(&l, q, n, d, t).ok()?;
                    Some(ld(l.domain?, q, n, d, r))
                })
            });
            out.tradeoff = Some(Tradeoff {
                n,
                d,
                max_general_increase: t,
                general_baseline: base,
                general_baseline_given: q.general_baseline.is_some(),
                general_bound: bound,
                unconstrained: lg(g, q, n, d, 1.0) <= bound,
                ratio,
                general_loss,
                domain_loss,
            });
        }
    }

    if let Some(dd) = domain_tokens {
        asked = true;
        let Some(n) = n else {
            return Err(ScalingError::InvalidArgument(
                "--domain-tokens needs --n".into(),
            ));
        };
        let dl = need_domain()?;
        let t = q.max_general_increase;
        if t.is_some() {
            need_general()?;
        }
        let r = solve_limited(&laws, q, n, dd, tokens, t).ok_or_else(|| {
            ScalingError::InvalidArgument(format!(
                "--max-general-increase {}: unreachable with --domain-tokens {dd:e}: no domain ratio keeps the general loss within the budget",
                t.unwrap_or(0.0)
            ))
        })?;
        let solve_draw = |dr: &DcptDraw| solve_limited(&draw_laws(dr), q, n, dd, tokens, t);
        let d_at = tokens_at(dd, tokens, r);
        out.limited_domain = Some(LimitedDomain {
            n,
            domain_tokens: dd,
            max_tokens: tokens,
            general_bound: match (t, general) {
                (Some(t), Some(g)) => Some(
                    (1.0 + t)
                        * q.general_baseline
                            .unwrap_or_else(|| lg(g, q, n, tokens_at(dd, tokens, 1.0), 0.0)),
                ),
                _ => None,
            },
            ratio: Estimate::with_draws(r, draws, level, solve_draw),
            tokens: Estimate::with_draws(d_at, draws, level, |dr| {
                solve_draw(dr).map(|r| tokens_at(dd, tokens, r))
            }),
            domain_loss: Estimate::with_draws(ld(dl, q, n, d_at, r), draws, level, |dr| {
                let r = solve_draw(dr)?;
                Some(ld(dr.domain.as_ref()?, q, n, tokens_at(dd, tokens, r), r))
            }),
            general_loss: general.map(|g| {
                Estimate::with_draws(lg(g, q, n, d_at, r), draws, level, |dr| {
                    let r = solve_draw(dr)?;
                    Some(lg(dr.general.as_ref()?, q, n, tokens_at(dd, tokens, r), r))
                })
            }),
        });
    }

    if let Some(target) = target {
        asked = true;
        let (Some(n), Some(r)) = (n, q.ratio) else {
            return Err(ScalingError::InvalidArgument(
                "--target-domain-loss needs --n and --ratio".into(),
            ));
        };
        let dl = need_domain()?;
        let need = |l: &Dcpt| l.at_ratio(r, q.k_domain).data_for_loss(target, n);
        let d_need = need(dl).ok_or_else(|| {
            let floor = dl.loss(n, f64::INFINITY, r, q.k_domain);
            ScalingError::InvalidArgument(format!(
                "--target-domain-loss {target}: unreachable at N={n:e}, r_d={r}: the domain loss never goes below {floor:.6} (infinite data)"
            ))
        })?;
        out.data_for_target = Some(DataForTarget {
            n,
            ratio: r,
            target,
            tokens: Estimate::with_draws(d_need, draws, level, |dr| need(dr.domain.as_ref()?)),
            domain_tokens: Estimate::with_draws(r * d_need, draws, level, |dr| {
                need(dr.domain.as_ref()?).map(|d| r * d)
            }),
            general_loss: general.map(|g| {
                Estimate::with_draws(lg(g, q, n, d_need, r), draws, level, |dr| {
                    let d = need(dr.domain.as_ref()?)?;
                    Some(lg(dr.general.as_ref()?, q, n, d, r))
                })
            }),
        });
    }

    if let (Some(c), None, Some(r)) = (compute, n, q.ratio) {
        asked = true;
        let dl = need_domain()?;
        let opt = |l: &Dcpt| l.at_ratio(r, q.k_domain).compute_optimal(c);
        let o = opt(dl);
        out.compute_optimal = Some(ComputeOptimal {
            ratio: r,
            compute: c,
            n: Estimate::with_draws(o.n, draws, level, |dr| Some(opt(dr.domain.as_ref()?).n)),
            d: Estimate::with_draws(o.d, draws, level, |dr| Some(opt(dr.domain.as_ref()?).d)),
            domain_loss: Estimate::with_draws(o.loss, draws, level, |dr| {
                Some(opt(dr.domain.as_ref()?).loss)
            }),
        });
    }
    if !asked {
        return Err(ScalingError::InvalidArgument(
            "nothing to plan: give --max-general-increase (with --n and --d or --compute), --domain-tokens (with --n), --target-domain-loss (with --n and --ratio), --ratio with --n and --d, or --ratio with --compute".into(),
        ));
    }
    Ok(out)
}

/// A mixture-file snippet (`datamill mix`'s MIX.toml) that trains with domain share `r_d`:
/// one phase whose manual weights give `domain_source` the share r_d and `general_source`
/// (the replayed general corpus) the rest. `comment` is written above it.
pub fn mix_snippet(r_d: f64, general_source: &str, domain_source: &str, comment: &str) -> String {
    let key = |s: &str| {
        if !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            s.to_string()
        } else {
            format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
        }
    };
    let mut s = String::new();
    for line in comment.lines() {
        s.push_str("# ");
        s.push_str(line);
        s.push('\n');
    }
    // Six decimals, the general share the exact complement of the printed domain share.
    let rd = (r_d * 1e6).round() / 1e6;
    let rg = ((1.0 - rd) * 1e6).round() / 1e6;
    s.push_str(&format!(
        "[[phase]]\nname = \"continual-pretraining\"\nfraction = 1.0\nweights = {{ {} = {rg}, {} = {rd} }}\n",
        key(general_source),
        key(domain_source),
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The paper's chemistry example (Table 5 via a third-party transcription): 1.8B model,
    /// D = 10B, T = 3 %, L_g0 = 2.8602. Interpolating the measured L_g to the bound
    /// 2.946006 gives r_d = 0.92445 (the paper: 0.924).
    #[test]
    fn chemistry_tradeoff_from_the_transcribed_table() {
        let r = [0.9, 0.91, 0.92, 0.924, 0.93, 0.94, 1.0];
        let lg = [2.9052, 2.9193, 2.9376, 2.9445, 2.9644, 2.9848, 3.4667];
        let ld = [1.7321, 1.7312, 1.7311, 1.7291, 1.7279, 1.7265, 1.7220];
        let gp: Vec<(f64, f64)> = r.iter().copied().zip(lg).collect();
        let dp: Vec<(f64, f64)> = r.iter().copied().zip(ld).collect();
        let bound: f64 = 1.03 * 2.8602;
        assert!((bound - 2.946006).abs() < 1e-12);
        let RatioSearch::Found(got) = best_ratio(
            |x| interpolate_linear(&dp, x),
            |x| interpolate_linear(&gp, x) - bound,
            (0.9, 1.0),
        ) else {
            panic!("infeasible")
        };
        assert!((got - 0.92445).abs() < 5e-6, "{got}");
        assert!((got - 0.924).abs() < 1e-3);
        // A budget tighter than every measured ratio is infeasible.
        assert!(matches!(
            best_ratio(
                |x| interpolate_linear(&dp, x),
                |x| interpolate_linear(&gp, x) - 2.90,
                (0.9, 1.0)
            ),
            RatioSearch::Infeasible(_)
        ));
    }

    #[test]
    fn snippet_is_a_phase_with_both_weights() {
        let s = mix_snippet(0.92445, "web", "chem istry", "D-CPT: r_d = 0.92445");
        assert!(s.starts_with("# D-CPT: r_d = 0.92445\n[[phase]]\n"), "{s}");
        assert!(s.contains("weights = { web = 0.07555"), "{s}");
        assert!(s.contains("\"chem istry\" = 0.92445 }"), "{s}");
    }
}
