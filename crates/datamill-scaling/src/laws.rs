//! Scaling-law forms, their evaluation and closed-form planning quantities.
//!
//! All parameters are stored on their natural scale (A, B, E, exponents) at
//! full `f64` precision; rounding them changes the implied allocations a lot
//! (`scaling-laws.md`, pitfall 2).

use serde::{Deserialize, Serialize};

use crate::optim::golden_section;

/// Chinchilla (Hoffmann et al. 2022): `L(N, D) = E + A/N^α + B/D^β`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Chinchilla {
    /// Irreducible loss E.
    #[serde(rename = "E")]
    pub e: f64,
    /// Model-size coefficient A.
    #[serde(rename = "A")]
    pub a: f64,
    /// Data coefficient B.
    #[serde(rename = "B")]
    pub b: f64,
    /// Model-size exponent α.
    pub alpha: f64,
    /// Data exponent β.
    pub beta: f64,
}

/// The result of a compute-optimal allocation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Allocation {
    /// Compute budget in FLOP (C = 6 N D).
    pub compute: f64,
    /// Parameters.
    pub n: f64,
    /// Training tokens.
    pub d: f64,
    /// Predicted loss.
    pub loss: f64,
}

impl Chinchilla {
    /// Hoffmann et al. 2022, values as printed in the paper body.
    pub const HOFFMANN_ROUNDED: Chinchilla = Chinchilla {
        e: 1.69,
        a: 406.4,
        b: 410.7,
        alpha: 0.34,
        beta: 0.28,
    };

    /// Hoffmann et al. 2022, unrounded values (log form `[6.0073404,
    /// 6.0179186, 0.5267228, 0.33917084, 0.2849083]`), the start point Epoch
    /// uses for its bootstrap.
    pub fn hoffmann_unrounded() -> Chinchilla {
        Chinchilla::from_log(6.0073404, 6.0179186, 0.5267228, 0.33917084, 0.2849083)
    }

    /// Epoch AI 2024 headline estimate (Besiroglu et al., 240 points), with
    /// the digits of the notebook output (E = 1.81686, α = 0.34781,
    /// β = 0.36585; the paper rounds to 1.8169, 0.3478, 0.3659).
    pub const EPOCH_HEADLINE: Chinchilla = Chinchilla {
        e: 1.81686,
        a: 482.01,
        b: 2085.43,
        alpha: 0.34781,
        beta: 0.36585,
    };

    /// Muennighoff et al. 2023 C4 base constants (α tied to β), log form
    /// `[6.255414, 7.3049974, 0.6254804, 0.3526596, 0.3526596]`.
    pub fn muennighoff_c4() -> Chinchilla {
        Chinchilla::from_log(6.255414, 7.3049974, 0.6254804, 0.3526596, 0.3526596)
    }

    /// Build from the log form `(a, b, e, α, β)` with A = e^a, B = e^b, E = e^e.
    pub fn from_log(a: f64, b: f64, e: f64, alpha: f64, beta: f64) -> Chinchilla {
        Chinchilla {
            e: e.exp(),
            a: a.exp(),
            b: b.exp(),
            alpha,
            beta,
        }
    }

    /// Predicted loss.
    pub fn loss(&self, n: f64, d: f64) -> f64 {
        self.e + self.a / n.powf(self.alpha) + self.b / d.powf(self.beta)
    }

    /// G = (αA / (βB))^{1/(α+β)}.
    pub fn g(&self) -> f64 {
        ((self.alpha * self.a) / (self.beta * self.b)).powf(1.0 / (self.alpha + self.beta))
    }

    /// Compute-optimal N and D for a budget of `compute` FLOP with C = 6ND
    /// (Hoffmann eq. 4).
    pub fn compute_optimal(&self, compute: f64) -> Allocation {
        let g = self.g();
        let a_exp = self.beta / (self.alpha + self.beta);
        let b_exp = self.alpha / (self.alpha + self.beta);
        let n = g * (compute / 6.0).powf(a_exp);
        let d = (compute / 6.0).powf(b_exp) / g;
        Allocation {
            compute,
            n,
            d,
            loss: self.loss(n, d),
        }
    }

    /// The compute needed to reach `target` loss on the compute-optimal
    /// frontier (Epoch's `optimal_compute_from_reducible_loss`), or `None`
    /// when `target <= E`.
    pub fn compute_for_loss(&self, target: f64) -> Option<f64> {
        let red = target - self.e;
        if !(red > 0.0) {
            return None;
        }
        let g = self.g();
        let k = self.a * g.powf(-self.alpha) + self.b * g.powf(self.beta);
        let s = self.alpha + self.beta;
        Some(6.0 * (red / k).powf(-s / (self.alpha * self.beta)))
    }

    /// Tokens needed at fixed `n` to reach `target` loss, or `None` when the
    /// target is at or below the law's floor `E + A/N^α` for that size.
    pub fn data_for_loss(&self, target: f64, n: f64) -> Option<f64> {
        let rest = target - self.e - self.a / n.powf(self.alpha);
        (rest > 0.0).then(|| (self.b / rest).powf(1.0 / self.beta))
    }

    /// Parameters needed at fixed `d` to reach `target`, or `None` when unreachable.
    pub fn params_for_loss(&self, target: f64, d: f64) -> Option<f64> {
        let rest = target - self.e - self.b / d.powf(self.beta);
        (rest > 0.0).then(|| (self.a / rest).powf(1.0 / self.alpha))
    }

    /// The tokens for which `d` tokens are compute-optimal: the README's
    /// `D_to_N(D) = (D·G)^{β/α}·G`.
    pub fn optimal_n_for_data(&self, d: f64) -> f64 {
        let g = self.g();
        (d * g).powf(self.beta / self.alpha) * g
    }
}

/// The Hestness-style learning curve for one model size: `L(D) = E + B/D^β`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LearningCurve {
    /// Irreducible loss E (at infinite data, for this model size).
    #[serde(rename = "E")]
    pub e: f64,
    /// Coefficient B.
    #[serde(rename = "B")]
    pub b: f64,
    /// Exponent β.
    pub beta: f64,
}

impl LearningCurve {
    /// Predicted loss.
    pub fn loss(&self, d: f64) -> f64 {
        self.e + self.b / d.powf(self.beta)
    }
    /// Tokens needed to reach `target`, `None` when `target <= E`.
    pub fn data_for_loss(&self, target: f64) -> Option<f64> {
        let rest = target - self.e;
        (rest > 0.0).then(|| (self.b / rest).powf(1.0 / self.beta))
    }
}

/// Kaplan et al. 2020 forms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "form", rename_all = "kebab-case")]
pub enum Kaplan {
    /// `L(N) = (N_c/N)^{α_N}`.
    N {
        /// N_c.
        nc: f64,
        /// α_N.
        alpha_n: f64,
    },
    /// `L(D) = (D_c/D)^{α_D}`.
    D {
        /// D_c.
        dc: f64,
        /// α_D.
        alpha_d: f64,
    },
    /// `L(N, D) = [(N_c/N)^{α_N/α_D} + D_c/D]^{α_D}`.
    #[serde(rename = "n-d")]
    Nd {
        /// N_c.
        nc: f64,
        /// D_c.
        dc: f64,
        /// α_N.
        alpha_n: f64,
        /// α_D.
        alpha_d: f64,
    },
}

impl Kaplan {
    /// Predicted loss (`n` or `d` is ignored by the one-variable forms).
    pub fn loss(&self, n: f64, d: f64) -> f64 {
        match *self {
            Kaplan::N { nc, alpha_n } => (nc / n).powf(alpha_n),
            Kaplan::D { dc, alpha_d } => (dc / d).powf(alpha_d),
            Kaplan::Nd {
                nc,
                dc,
                alpha_n,
                alpha_d,
            } => ((nc / n).powf(alpha_n / alpha_d) + dc / d).powf(alpha_d),
        }
    }

    /// Tokens needed at fixed `n` to reach `target`, `None` when unreachable
    /// or when the form does not depend on D.
    pub fn data_for_loss(&self, target: f64, n: f64) -> Option<f64> {
        match *self {
            Kaplan::N { .. } => None,
            Kaplan::D { dc, alpha_d } => (target > 0.0).then(|| dc / target.powf(1.0 / alpha_d)),
            Kaplan::Nd {
                nc,
                dc,
                alpha_n,
                alpha_d,
            } => {
                let rest = target.powf(1.0 / alpha_d) - (nc / n).powf(alpha_n / alpha_d);
                (rest > 0.0).then(|| dc / rest)
            }
        }
    }
}

/// Muennighoff et al. 2023 data-constrained law: Chinchilla evaluated at the
/// effective data D' and effective parameters N' that discount repetition.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DataConstrained {
    /// The base (fresh-data) Chinchilla constants.
    pub base: Chinchilla,
    /// R_D*: the number of repetitions after which repeated data is worth ~1/e.
    pub rd_star: f64,
    /// R_N*: the same for excess parameters.
    pub rn_star: f64,
}

/// `R·(1 − e^{−x/R})` computed with `expm1` so that it does not underflow to
/// zero for large R (pitfall 5).
fn saturating(x: f64, r: f64) -> f64 {
    -r * (-x / r).exp_m1()
}

impl DataConstrained {
    /// The published datablations constants (R_D* = 15.387756, R_N* = 5.309743
    /// on the Muennighoff C4 base).
    pub fn muennighoff() -> DataConstrained {
        DataConstrained {
            base: Chinchilla::muennighoff_c4(),
            rd_star: 15.387756,
            rn_star: 5.309743,
        }
    }

    /// U_N = min(N, N_opt for which U tokens are compute-optimal).
    pub fn u_n(&self, n: f64, u: f64) -> f64 {
        n.min(self.base.optimal_n_for_data(u))
    }

    /// Effective data D' = U + U·R_D*·(1 − e^{−R_D/R_D*}), R_D = max(D/U − 1, 0).
    pub fn effective_data(&self, d: f64, u: f64) -> f64 {
        let rd = (d / u - 1.0).max(0.0);
        u + u * saturating(rd, self.rd_star)
    }

    /// Effective parameters N' = U_N + U_N·R_N*·(1 − e^{−R_N/R_N*}).
    pub fn effective_params(&self, n: f64, u: f64) -> f64 {
        let un = self.u_n(n, u);
        let rn = (n / un - 1.0).max(0.0);
        un + un * saturating(rn, self.rn_star)
    }

    /// Predicted loss for N parameters, D total tokens and U unique tokens.
    /// U is clamped to D (you cannot see more unique tokens than you train on).
    pub fn loss(&self, n: f64, d: f64, u: f64) -> f64 {
        let u = u.min(d);
        let np = self.effective_params(n, u);
        let dp = self.effective_data(d, u);
        self.base.e + self.base.a / np.powf(self.base.alpha) + self.base.b / dp.powf(self.base.beta)
    }

    /// The datablations README grid search: start from the fresh-data
    /// compute-optimal (N, D) for `compute`, and scan `steps` factors in
    /// `[1.0001, max_factor]` that trade N for D in both directions at constant
    /// compute, with U = min(cap, D). Returns the allocation of lowest loss.
    pub fn optimal_allocation(
        &self,
        compute: f64,
        unique_cap: f64,
        steps: usize,
        max_factor: f64,
    ) -> Allocation {
        let base = self.base.compute_optimal(compute);
        let mut best = Allocation {
            compute,
            n: f64::NAN,
            d: f64::NAN,
            loss: f64::INFINITY,
        };
        for f in linspace(1.0001, max_factor, steps) {
            for (d, n) in [(base.d * f, base.n / f), (base.d / f, base.n * f)] {
                let u = unique_cap.min(d);
                let l = self.loss(n, d, u);
                if l < best.loss {
                    best = Allocation {
                        compute,
                        n,
                        d,
                        loss: l,
                    };
                }
            }
        }
        best
    }

    /// Tokens needed at fixed `n` and `u` unique tokens to reach `target`,
    /// `None` when unreachable even with infinite repetition.
    pub fn data_for_loss(&self, target: f64, n: f64, u: f64) -> Option<f64> {
        // D <= U: no repetition, U = D (the loss clamps U to D), solved by bisection
        // on log D since the loss decreases monotonically in D.
        if target >= self.loss(n, u, u) {
            if target >= self.loss(n, 1.0, 1.0) {
                return Some(1.0);
            }
            let (mut lo, mut hi) = (0.0_f64, u.ln());
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                let dm = mid.exp();
                if self.loss(n, dm, dm) > target {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            return Some(hi.exp());
        }
        // D > U: U_N is fixed by U, invert D' in closed form.
        let np = self.effective_params(n, u);
        let rest = target - self.base.e - self.base.a / np.powf(self.base.alpha);
        if !(rest > 0.0) {
            return None;
        }
        let dp = (self.base.b / rest).powf(1.0 / self.base.beta);
        let frac = (dp / u - 1.0) / self.rd_star;
        if frac >= 1.0 {
            return None;
        }
        let rd = -self.rd_star * (-frac).ln_1p();
        Some(u * (1.0 + rd))
    }
}

/// `numpy.linspace(start, stop, num)`: `start + k·step`, with the last value
/// set to `stop` exactly.
pub fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    if num == 0 {
        return Vec::new();
    }
    if num == 1 {
        return vec![start];
    }
    let step = (stop - start) / (num - 1) as f64;
    let mut v: Vec<f64> = (0..num).map(|k| start + k as f64 * step).collect();
    v[num - 1] = stop;
    v
}

/// Gadre et al. 2024 over-training form:
/// `L(N, M) = α·N^b + β·6^{b/2}·(M·N)^b + E` with M = D/N and b < 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Overtrain {
    /// α (coefficient of N^b).
    pub alpha: f64,
    /// β (coefficient of 6^{b/2}·D^b).
    pub beta: f64,
    /// The shared exponent b (negative).
    pub b: f64,
    /// Irreducible loss E.
    #[serde(rename = "E")]
    pub e: f64,
}

impl Overtrain {
    /// Predicted loss at N parameters and D = M·N tokens.
    pub fn loss(&self, n: f64, d: f64) -> f64 {
        self.alpha * n.powf(self.b) + self.beta * 6f64.powf(self.b / 2.0) * d.powf(self.b) + self.e
    }
    /// The same law written in Chinchilla form (A = α, B = β·6^{b/2}, exponents −b).
    pub fn to_chinchilla(&self) -> Chinchilla {
        Chinchilla {
            e: self.e,
            a: self.alpha,
            b: self.beta * 6f64.powf(self.b / 2.0),
            alpha: -self.b,
            beta: -self.b,
        }
    }
}

/// Any supported law, tagged by `"law"` in JSON law files.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "law", rename_all = "kebab-case")]
pub enum Law {
    /// Chinchilla L(N, D).
    Chinchilla(Chinchilla),
    /// Learning curve L(D) for one model size.
    LearningCurve(LearningCurve),
    /// Kaplan et al. 2020 forms.
    Kaplan(Kaplan),
    /// Muennighoff et al. 2023 data-constrained law L(N, D, U).
    DataConstrained(DataConstrained),
    /// Gadre et al. 2024 over-training form.
    Overtrain(Overtrain),
}

impl Law {
    /// A short name, as used on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Law::Chinchilla(_) => "chinchilla",
            Law::LearningCurve(_) => "learning-curve",
            Law::Kaplan(Kaplan::N { .. }) => "kaplan-n",
            Law::Kaplan(Kaplan::D { .. }) => "kaplan-d",
            Law::Kaplan(Kaplan::Nd { .. }) => "kaplan",
            Law::DataConstrained(_) => "data-constrained",
            Law::Overtrain(_) => "overtrain",
        }
    }

    /// Predicted loss at `n` parameters and `d` tokens; `u` (unique tokens) is
    /// used by the data-constrained law only (absent = all data unique).
    pub fn loss(&self, n: f64, d: f64, u: Option<f64>) -> f64 {
        match self {
            Law::Chinchilla(c) => c.loss(n, d),
            Law::LearningCurve(l) => l.loss(d),
            Law::Kaplan(k) => k.loss(n, d),
            Law::DataConstrained(dc) => dc.loss(n, d, u.unwrap_or(d)),
            Law::Overtrain(o) => o.loss(n, d),
        }
    }

    /// The Chinchilla-form equivalent with fresh data, when the law has one.
    pub fn as_chinchilla(&self) -> Option<Chinchilla> {
        match self {
            Law::Chinchilla(c) => Some(*c),
            Law::DataConstrained(dc) => Some(dc.base),
            Law::Overtrain(o) => Some(o.to_chinchilla()),
            _ => None,
        }
    }

    /// Whether the law depends on both N and D (so a compute budget can be split).
    pub fn has_n_and_d(&self) -> bool {
        !matches!(
            self,
            Law::LearningCurve(_) | Law::Kaplan(Kaplan::N { .. }) | Law::Kaplan(Kaplan::D { .. })
        )
    }

    /// Compute-optimal allocation for `compute` FLOP (C = 6ND): closed form
    /// for Chinchilla-type laws, a golden-section search over log N otherwise.
    /// `None` for laws that do not depend on both N and D.
    pub fn compute_optimal(&self, compute: f64) -> Option<Allocation> {
        if let Some(c) = self.as_chinchilla() {
            return Some(c.compute_optimal(compute));
        }
        if !self.has_n_and_d() {
            return None;
        }
        let ln_half = (compute / 6.0).ln();
        let ln_n = golden_section(
            |ln_n| {
                let n = ln_n.exp();
                self.loss(n, compute / (6.0 * n), None)
            },
            0.0,
            ln_half,
            200,
        );
        let n = ln_n.exp();
        let d = compute / (6.0 * n);
        Some(Allocation {
            compute,
            n,
            d,
            loss: self.loss(n, d, None),
        })
    }

    /// Tokens needed to reach `target` at `n` parameters (and `u` unique
    /// tokens for the data-constrained law). `None` means unreachable.
    pub fn data_for_loss(&self, target: f64, n: f64, u: Option<f64>) -> Option<f64> {
        match self {
            Law::Chinchilla(c) => c.data_for_loss(target, n),
            Law::LearningCurve(l) => l.data_for_loss(target),
            Law::Kaplan(k) => k.data_for_loss(target, n),
            Law::DataConstrained(dc) => match u {
                Some(u) => dc.data_for_loss(target, n, u),
                None => dc.base.data_for_loss(target, n),
            },
            Law::Overtrain(o) => o.to_chinchilla().data_for_loss(target, n),
        }
    }

    /// The law's parameters as `(name, value)` pairs, in a stable order.
    pub fn params(&self) -> Vec<(&'static str, f64)> {
        match *self {
            Law::Chinchilla(c) => vec![
                ("E", c.e),
                ("A", c.a),
                ("B", c.b),
                ("alpha", c.alpha),
                ("beta", c.beta),
            ],
            Law::LearningCurve(l) => vec![("E", l.e), ("B", l.b), ("beta", l.beta)],
            Law::Kaplan(Kaplan::N { nc, alpha_n }) => vec![("N_c", nc), ("alpha_N", alpha_n)],
            Law::Kaplan(Kaplan::D { dc, alpha_d }) => vec![("D_c", dc), ("alpha_D", alpha_d)],
            Law::Kaplan(Kaplan::Nd {
                nc,
                dc,
                alpha_n,
                alpha_d,
            }) => vec![
                ("N_c", nc),
                ("D_c", dc),
                ("alpha_N", alpha_n),
                ("alpha_D", alpha_d),
            ],
            Law::DataConstrained(d) => vec![("R_D*", d.rd_star), ("R_N*", d.rn_star)],
            Law::Overtrain(o) => vec![("alpha", o.alpha), ("beta", o.beta), ("b", o.b), ("E", o.e)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    #[test]
    fn hoffmann_rounded_checks() {
        let c = Chinchilla::HOFFMANN_ROUNDED;
        assert!((c.loss(7e10, 1.4e12) - 1.93665).abs() < 5e-6);
        assert!((c.loss(1e9, 2e10) - 2.58005).abs() < 5e-6);
        let opt = c.compute_optimal(5.76e23);
        assert!(rel(opt.n, 3.219e10) < 2e-4, "{opt:?}");
        assert!(rel(opt.d, 2.982e12) < 2e-4, "{opt:?}");
        assert!((opt.loss - 1.93075).abs() < 5e-6, "{opt:?}");
        assert!(rel(c.data_for_loss(2.5, 1e9).unwrap(), 3.563e10) < 2e-4);
        assert!(rel(c.data_for_loss(2.0, 7e10).unwrap(), 4.338e11) < 2e-4);
        // Unreachable: below the floor E + A/N^α.
        assert!(c.data_for_loss(1.8, 1e9).is_none());
    }

    #[test]
    fn compute_for_loss_inverts_frontier() {
        let c = Chinchilla::EPOCH_HEADLINE;
        let opt = c.compute_optimal(1e23);
        let back = c.compute_for_loss(opt.loss).unwrap();
        assert!(rel(back, 1e23) < 1e-10);
        assert!(c.compute_for_loss(1.0).is_none());
    }

    #[test]
    fn data_constrained_readme_values() {
        let dc = DataConstrained::muennighoff();
        assert!(rel(dc.loss(6.34e9, 242e9, 25e9), 2.2256440889984477) < 1e-12);
        assert!(rel(dc.loss(8.67e9, 178e9, 25e9), 2.2269634075087867) < 1e-12);
        // Inverse of the data requirement under a unique cap.
        let l = dc.loss(1e9, 100e9, 10e9);
        let d = dc.data_for_loss(l, 1e9, 10e9).unwrap();
        assert!(rel(d, 100e9) < 1e-9, "{d}");
    }

    #[test]
    fn expm1_avoids_underflow() {
        let dc = DataConstrained {
            base: Chinchilla::muennighoff_c4(),
            rd_star: 1e18,
            rn_star: 1e18,
        };
        // With R* huge the repeated data is worth as much as fresh data.
        let l_rep = dc.loss(1e9, 40e9, 10e9);
        let l_fresh = dc.base.loss(1e9, 40e9);
        assert!(rel(l_rep, l_fresh) < 1e-9, "{l_rep} vs {l_fresh}");
    }

    #[test]
    fn numeric_compute_optimal_matches_closed_form() {
        let c = Chinchilla::EPOCH_HEADLINE;
        // Disguise as Kaplan-free check: golden search on the Chinchilla loss.
        let ln = golden_section(
            |ln_n| {
                let n = ln_n.exp();
                c.loss(n, 1e21 / (6.0 * n))
            },
            0.0,
            (1e21f64 / 6.0).ln(),
            200,
        );
        let closed = c.compute_optimal(1e21);
        assert!(rel(ln.exp(), closed.n) < 1e-6);
    }

    #[test]
    fn law_json_roundtrip_full_precision() {
        let law = Law::Chinchilla(Chinchilla::hoffmann_unrounded());
        let s = serde_json::to_string(&law).unwrap();
        let back: Law = serde_json::from_str(&s).unwrap();
        assert_eq!(law, back);
        let k = Law::Kaplan(Kaplan::Nd {
            nc: 6.4e13,
            dc: 1.8e13,
            alpha_n: 0.076,
            alpha_d: 0.103,
        });
        let s = serde_json::to_string(&k).unwrap();
        assert_eq!(k, serde_json::from_str::<Law>(&s).unwrap());
    }
}
