//! The D-CPT Law (Que et al. 2024, arXiv 2406.01375): the loss of continual pre-training on a
//! mixture of general and domain data as a function of model size N, tokens D and the
//! mixture ratio r,
//!
//! ```text
//! L(N, D, r) = E + A/N^α + B·r^η/D^β + C/(r + ε)^γ            ("L3", the paper's choice)
//! L(N, D, r, K) = L3 + F/K^μ                                   (cross-domain form)
//! ```
//!
//! fitted separately for the general loss `L_g` (with r = r_g, the general share) and the
//! domain loss `L_d` (r = r_d = 1 − r_g). K is a per-domain coefficient (the paper's summary:
//! `K = w1/k1 + w2·k2` with k1 the initial domain loss and k2 its early rate of decline) that
//! lets one fit predict a domain it was not fitted on.
//!
//! No fitted constants, code or data were published, so the fitter ([`fit`]) is tested on
//! runs generated from known parameters. [`plan`] answers the paper's planning questions: the
//! largest domain share within a general-loss budget, the best share with limited domain
//! tokens (or a token/compute budget), and the data needed for a target domain loss.

use serde::{Deserialize, Serialize};

use crate::laws::Chinchilla;

pub mod fit;
pub mod plan;

/// The D-CPT law `E + A/N^α + B·r^η/D^β + C/(r+ε)^γ (+ F/K^μ)` for one loss (general or
/// domain). `r` is the share of the training mixture of the corpus whose loss it models.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Dcpt {
    /// Irreducible loss E.
    #[serde(rename = "E")]
    pub e: f64,
    /// Model-size coefficient A.
    #[serde(rename = "A")]
    pub a: f64,
    /// Data coefficient B (multiplied by r^η).
    #[serde(rename = "B")]
    pub b: f64,
    /// Ratio coefficient C.
    #[serde(rename = "C")]
    pub c: f64,
    /// Model-size exponent α.
    pub alpha: f64,
    /// Data exponent β.
    pub beta: f64,
    /// Ratio exponent η of the data term.
    pub eta: f64,
    /// Ratio exponent γ.
    pub gamma: f64,
    /// ε, which keeps the ratio term finite at r = 0.
    pub eps: f64,
    /// Cross-domain coefficient F (absent for a single-domain law).
    #[serde(rename = "F", default, skip_serializing_if = "Option::is_none")]
    pub f: Option<f64>,
    /// Cross-domain exponent μ (with `F`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mu: Option<f64>,
}

impl Dcpt {
    /// The predicted loss at `n` parameters, `d` tokens and share `r` ∈ [0, 1] of the modelled
    /// corpus; `k` is the domain coefficient K of a cross-domain law (ignored otherwise; a
    /// cross-domain law without `k` gives NaN).
    pub fn loss(&self, n: f64, d: f64, r: f64, k: Option<f64>) -> f64 {
        let mut l = self.e
            + self.a / n.powf(self.alpha)
            + self.b * r.powf(self.eta) / d.powf(self.beta)
            + self.c / (r + self.eps).powf(self.gamma);
        if let (Some(f), Some(mu)) = (self.f, self.mu) {
            l += f / k.unwrap_or(f64::NAN).powf(mu);
        }
        l
    }

    /// Whether the law has the cross-domain term F/K^μ.
    pub fn is_cross_domain(&self) -> bool {
        self.f.is_some() && self.mu.is_some()
    }

    /// The law at a fixed share `r` (and K): Chinchilla with `E_r = E + C/(r+ε)^γ (+ F/K^μ)`
    /// and `B_r = B·r^η`, so the closed forms (compute-optimal N and D, data for a target)
    /// apply.
    pub fn at_ratio(&self, r: f64, k: Option<f64>) -> Chinchilla {
        let mut e = self.e + self.c / (r + self.eps).powf(self.gamma);
        if let (Some(f), Some(mu)) = (self.f, self.mu) {
            e += f / k.unwrap_or(f64::NAN).powf(mu);
        }
        Chinchilla {
            e,
            a: self.a,
            b: self.b * r.powf(self.eta),
            alpha: self.alpha,
            beta: self.beta,
        }
    }

    /// The law's parameters as `(name, value)` pairs, in a stable order.
    pub fn params(&self) -> Vec<(&'static str, f64)> {
        let mut v = vec![
            ("E", self.e),
            ("A", self.a),
            ("B", self.b),
            ("C", self.c),
            ("alpha", self.alpha),
            ("beta", self.beta),
            ("eta", self.eta),
            ("gamma", self.gamma),
            ("eps", self.eps),
        ];
        if let (Some(f), Some(mu)) = (self.f, self.mu) {
            v.push(("F", f));
            v.push(("mu", mu));
        }
        v
    }
}

/// The formula, as tables and plot titles show it.
pub const FORMULA: &str = "L(N,D,r) = E + A/N^alpha + B*r^eta/D^beta + C/(r+eps)^gamma";
/// The cross-domain formula.
pub const FORMULA_CROSS: &str =
    "L(N,D,r,K) = E + A/N^alpha + B*r^eta/D^beta + C/(r+eps)^gamma + F/K^mu";

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn truth() -> Dcpt {
        Dcpt {
            e: 1.2,
            a: 60.0,
            b: 300.0,
            c: 0.08,
            alpha: 0.3,
            beta: 0.35,
            eta: 0.4,
            gamma: 0.5,
            eps: 0.05,
            f: None,
            mu: None,
        }
    }

    #[test]
    fn fixed_ratio_is_chinchilla() {
        let l = truth();
        for &r in &[0.0, 0.3, 1.0] {
            let c = l.at_ratio(r, None);
            let (n, d) = (1.8e9, 1e10);
            assert!((c.loss(n, d) - l.loss(n, d, r, None)).abs() < 1e-12);
        }
        // r = 0 is finite (ε) and the data term vanishes.
        let at0 = l.loss(1e9, 1e10, 0.0, None);
        assert!(at0.is_finite());
        assert!((at0 - (1.2 + 60.0 / 1e9f64.powf(0.3) + 0.08 / 0.05f64.powf(0.5))).abs() < 1e-12);
    }

    #[test]
    fn cross_domain_term_and_json() {
        let mut l = truth();
        l.f = Some(0.3);
        l.mu = Some(0.7);
        let base = truth().loss(1e9, 1e10, 0.5, None);
        assert!((l.loss(1e9, 1e10, 0.5, Some(2.0)) - base - 0.3 / 2f64.powf(0.7)).abs() < 1e-12);
        assert!(l.loss(1e9, 1e10, 0.5, None).is_nan());
        let s = serde_json::to_string(&l).unwrap();
        assert_eq!(serde_json::from_str::<Dcpt>(&s).unwrap(), l);
        let s = serde_json::to_string(&truth()).unwrap();
        assert!(!s.contains("\"F\""), "{s}");
    }
}
