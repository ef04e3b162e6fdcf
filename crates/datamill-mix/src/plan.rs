//! From a mixture file and each source's token counts to a plan: the phases with their exact
//! token boundaries, each phase's weights and tokens per source, the epochs this draws from
//! every source, and the tokens they are worth under the data-constrained law.
//!
//! * **Budget.** Phase *j* (after expanding `cycles`) ends at token
//!   `round(budget · (f_1 + … + f_j))`, the last one exactly at `budget`, so phase budgets are
//!   integers that add up to the budget.
//! * **Weights.** `manual` takes the shares given. The other methods first give the `fixed`
//!   shares, then share the rest of the phase among the other sources: `proportional` by unique
//!   tokens, `temperature` by `n^(1/τ)`, `unimax` by the UniMax closed form. Epoch caps bind
//!   these methods through an allowance of `max_epochs · unique · (phase budget / budget)`
//!   tokens per phase ("water-filling": a capped source keeps its cap, the others share the
//!   rest); with one phase this is exactly UniMax with N = `max_epochs`.
//! * **Caps.** After all phases, a source drawn for more than its `max_epochs` in total
//!   (manual or fixed shares can do that) is an error naming the source and its phases, as is a
//!   phase whose budget the caps cannot meet.
//! * **Effective tokens.** `D' = U + U·R_D*·(1 − e^(−R/R_D*))` with `R = D/U − 1`
//!   (Muennighoff et al. 2023), computed by `datamill-scaling`'s [`DataConstrained`] with R_D*
//!   from `[repetition].law`.

use crate::config::{Method, MixFile, TokenAmount};
use crate::error::MixError;
use crate::weights;
use datamill_scaling::lawfile::LawFile;
use datamill_scaling::laws::{DataConstrained, Law};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// What the counting pass found in one source.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceCounts {
    /// Documents with at least one token (the ones that can be drawn).
    pub docs: u64,
    /// Their tokens: the source's unique tokens.
    pub tokens: u64,
    /// Documents with no token (empty text and no `eos`): never drawn, counted here.
    pub empty_docs: u64,
    /// Records quarantined while reading (bad JSON, missing text or token count, ...).
    pub quarantined: u64,
    /// The longest document, in tokens.
    pub max_doc_tokens: u64,
}

/// One phase of the plan.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PhasePlan {
    /// The phase's name.
    pub name: String,
    /// The cycle (from 1) when `cycles` > 1.
    pub cycle: u32,
    /// Its fraction of the whole budget.
    pub fraction: f64,
    /// First token of the phase in the mixture.
    pub start: u64,
    /// One past its last token (`end − start` is the phase budget).
    pub end: u64,
    /// How the weights were chosen.
    pub method: Method,
    /// τ, for the temperature method.
    pub tau: Option<f64>,
    /// Fixed shares.
    pub fixed: BTreeMap<String, f64>,
    /// Each source's share of the phase (sums to 1).
    pub weights: Vec<f64>,
    /// Tokens planned from each source.
    pub tokens: Vec<f64>,
}

impl PhasePlan {
    /// The phase budget in tokens.
    pub fn budget(&self) -> u64 {
        self.end - self.start
    }

    /// `name`, or `name#cycle` when the schedule has cycles.
    pub fn label(&self, cycles: u32) -> String {
        if cycles > 1 {
            format!("{}#{}", self.name, self.cycle)
        } else {
            self.name.clone()
        }
    }
}

/// One source in the plan.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SourcePlan {
    /// The source's name.
    pub name: String,
    /// Drawable documents.
    pub docs: u64,
    /// Unique tokens.
    pub unique_tokens: u64,
    /// Tokens planned over the whole run.
    pub tokens: f64,
    /// `tokens / unique_tokens`.
    pub epochs: f64,
    /// The epoch cap, if any.
    pub max_epochs: Option<f64>,
    /// Tokens the draws are worth under the data-constrained law.
    pub effective_tokens: f64,
}

/// The whole plan.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Plan {
    /// Tokens in the mixture.
    pub budget: u64,
    /// The seed of the epoch orders.
    pub seed: u64,
    /// Times the phase list repeats.
    pub cycles: u32,
    /// The phases, in order.
    pub phases: Vec<PhasePlan>,
    /// The sources, in file order.
    pub sources: Vec<SourcePlan>,
    /// The law that values repetition (`builtin:...` or a file).
    pub law: String,
    /// Its R_D*.
    pub rd_star: f64,
    /// Warnings (too many epochs, ...).
    pub warnings: Vec<String>,
}

/// Loads R_D* from `[repetition].law`.
pub fn load_law(f: &MixFile) -> Result<(DataConstrained, String), MixError> {
    let spec = &f.config.repetition.law;
    let resolved = if spec.starts_with("builtin:") {
        spec.clone()
    } else {
        f.resolve(spec).to_string_lossy().into_owned()
    };
    let bad = |m: String| f.err("repetition", None, "law", format!("`law`: {m}"));
    let lf = LawFile::load(&resolved).map_err(|e| bad(e.to_string()))?;
    match lf.law {
        Law::DataConstrained(dc) if dc.rd_star.is_finite() && dc.rd_star > 0.0 => {
            Ok((dc, spec.clone()))
        }
        Law::DataConstrained(dc) => Err(bad(format!("R_D* = {} is not positive", dc.rd_star))),
        other => Err(bad(format!(
            "`{spec}` is a {} law; the mixer needs a data-constrained law (`datamill scaling \
             fit --law data-constrained`, or builtin:datablations)",
            other.name()
        ))),
    }
}

struct PhaseSpec {
    name: String,
    index: usize,
    fraction: f64,
    method: Method,
    tau: Option<f64>,
    manual: Option<Vec<f64>>,
    fixed: BTreeMap<String, f64>,
}

fn phase_specs(f: &MixFile) -> Vec<PhaseSpec> {
    let c = &f.config;
    let default = f.default_method();
    let source_weights: Vec<f64> = c.sources.iter().map(|s| s.weight.unwrap_or(0.0)).collect();
    let by_name = |m: &BTreeMap<String, f64>| -> Vec<f64> {
        c.sources
            .iter()
            .map(|s| m.get(&s.name).copied().unwrap_or(0.0))
            .collect()
    };
    if c.phases.is_empty() {
        return vec![PhaseSpec {
            name: "main".into(),
            index: 0,
            fraction: 1.0,
            method: default,
            tau: c.weights.tau,
            manual: (default == Method::Manual).then(|| source_weights.clone()),
            fixed: c.weights.fixed.clone(),
        }];
    }
    c.phases
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let method = p
                .method
                .or(p.weights.as_ref().map(|_| Method::Manual))
                .unwrap_or(default);
            PhaseSpec {
                name: p.name.clone(),
                index: i,
                fraction: p.fraction,
                method,
                tau: p.tau.or(c.weights.tau),
                manual: (method == Method::Manual).then(|| match &p.weights {
                    Some(w) => by_name(w),
                    None => source_weights.clone(),
                }),
                fixed: p.fixed.clone().unwrap_or_else(|| c.weights.fixed.clone()),
            }
        })
        .collect()
}

/// The plan for `counts` (one entry per source, in file order).
pub fn plan(f: &MixFile, counts: &[SourceCounts]) -> Result<Plan, MixError> {
    let c = &f.config;
    for (i, (s, n)) in c.sources.iter().zip(counts).enumerate() {
        if n.docs == 0 {
            return Err(f.err(
                "source",
                Some(i),
                "paths",
                format!(
                    "source `{}` has no documents with tokens ({} empty, {} quarantined): \
                     check its `paths`",
                    s.name, n.empty_docs, n.quarantined
                ),
            ));
        }
    }
    let sizes: Vec<f64> = counts.iter().map(|n| n.tokens as f64).collect();
    let unique_total: u64 = counts.iter().map(|n| n.tokens).sum();
    let budget = match c.budget {
        TokenAmount::Tokens(b) => b,
        TokenAmount::All => unique_total,
    };
    let caps_epochs: Vec<Option<f64>> = c
        .sources
        .iter()
        .map(|s| s.max_epochs.or(c.weights.max_epochs))
        .collect();
    let (law, law_name) = load_law(f)?;
    let specs = phase_specs(f);
    let cycles = c.cycles.max(1);
    let mut phases = Vec::new();
    let mut cum = 0.0f64;
    let mut start = 0u64;
    let total_phases = specs.len() * cycles as usize;
    for cycle in 1..=cycles {
        for spec in &specs {
            let fraction = spec.fraction / cycles as f64;
            cum += fraction;
            let end = if phases.len() + 1 == total_phases {
                budget
            } else {
                ((budget as f64) * cum).round().min(budget as f64) as u64
            };
            let pb = (end - start) as f64;
            let tokens = phase_tokens(f, spec, &sizes, &caps_epochs, pb, budget as f64)?;
            let weights: Vec<f64> = if pb > 0.0 {
                tokens.iter().map(|t| t / pb).collect()
            } else {
                vec![0.0; tokens.len()]
            };
            phases.push(PhasePlan {
                name: spec.name.clone(),
                cycle,
                fraction,
                start,
                end,
                method: spec.method,
                tau: (spec.method == Method::Temperature)
                    .then_some(spec.tau)
                    .flatten(),
                fixed: spec.fixed.clone(),
                weights,
                tokens,
            });
            start = end;
        }
    }
    // Totals, caps, effective tokens.
    let mut sources = Vec::new();
    let mut warnings = Vec::new();
    for (i, s) in c.sources.iter().enumerate() {
        let total: f64 = phases.iter().map(|p| p.tokens[i]).sum();
        let u = sizes[i];
        let epochs = total / u;
        if let Some(cap) = caps_epochs[i]
            && epochs > cap * (1.0 + 1e-9)
        {
            let by_phase: Vec<String> = phases
                .iter()
                .filter(|p| p.tokens[i] > 0.0)
                .map(|p| format!("{} {:.3}", p.label(cycles), p.tokens[i] / u))
                .collect();
            return Err(f.err(
                "source",
                Some(i),
                "max_epochs",
                format!(
                    "source `{}`: the mixture draws {:.0} tokens = {epochs:.3} epochs of its {} \
                     unique tokens (by phase: {}), above `max_epochs` = {cap}: lower its share \
                     or the budget, or raise `max_epochs`",
                    s.name,
                    total,
                    counts[i].tokens,
                    by_phase.join(", ")
                ),
            ));
        }
        let effective = if total > 0.0 {
            law.effective_data(total, u.min(total))
        } else {
            0.0
        };
        if epochs > c.repetition.warn_epochs {
            warnings.push(format!(
                "source `{}` is drawn {epochs:.2} epochs (more than warn_epochs = {}): its {:.0} \
                 tokens are worth {:.0} fresh tokens ({:.1} %) under the data-constrained law \
                 (R_D* = {:.2})",
                s.name,
                c.repetition.warn_epochs,
                total,
                effective,
                100.0 * effective / total,
                law.rd_star
            ));
        }
        sources.push(SourcePlan {
            name: s.name.clone(),
            docs: counts[i].docs,
            unique_tokens: counts[i].tokens,
            tokens: total,
            epochs,
            max_epochs: caps_epochs[i],
            effective_tokens: effective,
        });
    }
    for p in &phases {
        if p.budget() > 0 {
            let longest = counts.iter().map(|n| n.max_doc_tokens).max().unwrap_or(0);
            if p.budget() < longest {
                warnings.push(format!(
                    "phase `{}` has {} tokens, fewer than the longest document ({longest}): its \
                     token count can be off by up to one document",
                    p.label(cycles),
                    p.budget()
                ));
            }
        }
    }
    Ok(Plan {
        budget,
        seed: c.seed,
        cycles,
        phases,
        sources,
        law: law_name,
        rd_star: law.rd_star,
        warnings,
    })
}

fn phase_tokens(
    f: &MixFile,
    spec: &PhaseSpec,
    sizes: &[f64],
    caps_epochs: &[Option<f64>],
    phase_budget: f64,
    budget: f64,
) -> Result<Vec<f64>, MixError> {
    let c = &f.config;
    let n = sizes.len();
    let at = |key: &str, m: String| {
        if c.phases.is_empty() {
            f.err("weights", None, key, m)
        } else {
            f.err("phase", Some(spec.index), key, m)
        }
    };
    if let Some(w) = &spec.manual {
        return Ok(w.iter().map(|x| x * phase_budget).collect());
    }
    let mut out = vec![0.0; n];
    let mut free = vec![true; n];
    let mut fixed_sum = 0.0;
    for (name, &share) in &spec.fixed {
        let i = f.source_index(name).expect("checked when loading");
        out[i] = share * phase_budget;
        free[i] = false;
        fixed_sum += share;
    }
    if fixed_sum > 1.0 + 1e-9 {
        return Err(at(
            "fixed",
            format!(
                "phase `{}`: the fixed shares sum to {fixed_sum}, more than 1",
                spec.name
            ),
        ));
    }
    let rest = ((1.0 - fixed_sum).max(0.0)) * phase_budget;
    let idx: Vec<usize> = (0..n).filter(|&i| free[i]).collect();
    if idx.is_empty() || rest <= 0.0 {
        if rest > phase_budget * 1e-9 {
            return Err(at(
                "fixed",
                format!(
                    "phase `{}`: the fixed shares sum to {fixed_sum} and no other source is left \
                     to take the rest",
                    spec.name
                ),
            ));
        }
        return Ok(out);
    }
    let caps: Vec<f64> = idx
        .iter()
        .map(|&i| match caps_epochs[i] {
            Some(m) => m * sizes[i] * phase_budget / budget,
            None => f64::INFINITY,
        })
        .collect();
    let sub_sizes: Vec<f64> = idx.iter().map(|&i| sizes[i]).collect();
    let res = match spec.method {
        Method::Unimax => weights::unimax(&caps, rest),
        Method::Proportional => weights::capped(&sub_sizes, &caps, rest),
        Method::Temperature => {
            let tau = spec.tau.expect("checked when loading");
            weights::capped(&weights::temperature(&sub_sizes, tau), &caps, rest)
        }
        Method::Manual => unreachable!("manual handled above"),
    };
    match res {
        Ok(t) => {
            for (k, &i) in idx.iter().enumerate() {
                out[i] = t[k];
            }
            Ok(out)
        }
        Err(short) => {
            let names: Vec<&str> = idx.iter().map(|&i| c.sources[i].name.as_str()).collect();
            Err(at(
                "fraction",
                format!(
                    "phase `{}` needs {:.0} tokens from {} but their epoch caps (`max_epochs`) \
                     allow only {:.0}: the budget is larger than `max_epochs` allows; raise \
                     `max_epochs` or lower `budget`",
                    spec.name,
                    short.budget,
                    names.join(", "),
                    short.available
                ),
            ))
        }
    }
}

fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

impl Plan {
    /// The plan as a table for humans.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "mixture: {} tokens from {} source(s) in {} phase(s), seed {}",
            group(self.budget),
            self.sources.len(),
            self.phases.len(),
            self.seed
        );
        let _ = writeln!(
            s,
            "  {:<16} {:>10} {:>14} {:>14} {:>8} {:>6} {:>14} {:>6}",
            "source", "docs", "unique tok", "drawn tok", "epochs", "cap", "effective", "value"
        );
        for p in &self.sources {
            let _ = writeln!(
                s,
                "  {:<16} {:>10} {:>14} {:>14} {:>8.3} {:>6} {:>14} {:>5.1}%",
                p.name,
                group(p.docs),
                group(p.unique_tokens),
                group(p.tokens.round() as u64),
                p.epochs,
                p.max_epochs.map_or("-".into(), |m| format!("{m}")),
                group(p.effective_tokens.round() as u64),
                if p.tokens > 0.0 {
                    100.0 * p.effective_tokens / p.tokens
                } else {
                    100.0
                }
            );
        }
        let eff: f64 = self.sources.iter().map(|p| p.effective_tokens).sum();
        let _ = writeln!(
            s,
            "  effective tokens under the data-constrained law (R_D* = {:.4}, {}): {} of {}",
            self.rd_star,
            self.law,
            group(eff.round() as u64),
            group(self.budget)
        );
        for p in &self.phases {
            let how = match (p.method, p.tau) {
                (Method::Temperature, Some(t)) => format!("temperature tau={t}"),
                (m, _) => m.name().to_string(),
            };
            let fixed = if p.fixed.is_empty() {
                String::new()
            } else {
                let v: Vec<String> = p.fixed.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!(", fixed {}", v.join(" "))
            };
            let _ = writeln!(
                s,
                "  phase {:<12} tokens {}..{} ({}), {how}{fixed}",
                p.label(self.cycles),
                group(p.start),
                group(p.end),
                group(p.budget())
            );
            let parts: Vec<String> = self
                .sources
                .iter()
                .zip(&p.weights)
                .map(|(src, w)| format!("{} {:.4}", src.name, w))
                .collect();
            let _ = writeln!(s, "      weights: {}", parts.join(", "));
        }
        for w in &self.warnings {
            let _ = writeln!(s, "warning: {w}");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn file(src: &str) -> MixFile {
        MixFile::from_source(Path::new("m.toml"), src, Path::new(".")).unwrap()
    }

    fn counts(tokens: &[u64]) -> Vec<SourceCounts> {
        tokens
            .iter()
            .map(|&t| SourceCounts {
                docs: t / 10,
                tokens: t,
                max_doc_tokens: 10,
                ..Default::default()
            })
            .collect()
    }

    const SRC3: &str = "[[source]]\nname = \"a\"\npaths = [\"a\"]\n[[source]]\nname = \"b\"\n\
                        paths = [\"b\"]\n[[source]]\nname = \"c\"\npaths = [\"c\"]\n";

    #[test]
    fn unimax_fixture_through_the_plan() {
        let src = format!(
            "version = 1\nbudget = 250e9\ntoken_field = \"n\"\n{}{}[weights]\nmethod = \"unimax\"\nmax_epochs = 4\n",
            SRC3,
            "[[source]]\nname = \"d\"\npaths = [\"d\"]\n[[source]]\nname = \"e\"\npaths = [\"e\"]\n"
        );
        let p = plan(
            &file(&src),
            &counts(&[
                549_707_867,
                10_027_573_389,
                42_541_080_893,
                179_955_884_499,
                184_595_788_282,
            ]),
        )
        .unwrap();
        assert_eq!(p.phases.len(), 1);
        assert_eq!(p.phases[0].budget(), 250_000_000_000);
        assert_eq!(p.phases[0].tokens[0], 2_198_831_468.0);
        assert_eq!(p.phases[0].tokens[1], 40_110_293_556.0);
        assert!((p.phases[0].tokens[4] - 69_230_291_658.67).abs() < 0.01);
        assert!((p.sources[0].epochs - 4.0).abs() < 1e-12);
        // Four epochs: D' = U + U·R*(1 − e^(−3/R*)) with the published R_D*.
        let u = 549_707_867.0;
        let want = u + u * 15.387756 * (1.0 - (-3.0f64 / 15.387756).exp());
        assert!((p.sources[0].effective_tokens / want - 1.0).abs() < 1e-12);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        let text = p.render();
        assert!(text.contains("unimax"), "{text}");
    }

    #[test]
    fn phases_have_exact_integer_budgets() {
        let src = format!(
            "version = 1\nbudget = 1001\ntoken_field = \"n\"\ncycles = 3\n{SRC3}\
             [[phase]]\nname = \"x\"\nfraction = 0.3\n[[phase]]\nname = \"y\"\nfraction = 0.7\n\
             fixed = {{ c = 0.5 }}\n"
        );
        let p = plan(&file(&src), &counts(&[1000, 2000, 3000])).unwrap();
        assert_eq!(p.phases.len(), 6);
        assert_eq!(p.phases[0].start, 0);
        assert_eq!(p.phases[5].end, 1001);
        for w in p.phases.windows(2) {
            assert_eq!(w[0].end, w[1].start);
        }
        assert_eq!(p.phases[0].end, 100); // round(1001 * 0.1)
        let y = &p.phases[1];
        assert!((y.weights[2] - 0.5).abs() < 1e-12);
        // The rest is proportional between a and b (1:2).
        assert!((y.weights[0] - 0.5 / 3.0).abs() < 1e-12, "{:?}", y.weights);
        assert!(p.render().contains("y#2"));
    }

    #[test]
    fn caps_and_shortfalls_are_errors_naming_the_source() {
        // Manual weights drawing 6 epochs of `a` with a cap of 4.
        let src = "version = 1\nbudget = 600\ntoken_field = \"n\"\n[[source]]\nname = \"a\"\n\
                   paths = [\"a\"]\nweight = 0.1\nmax_epochs = 4\n[[source]]\nname = \"b\"\n\
                   paths = [\"b\"]\nweight = 0.9\n";
        let e = plan(&file(src), &counts(&[10, 10_000])).unwrap_err();
        let m = e.to_string();
        assert!(m.contains("source `a`") && m.contains("max_epochs"), "{m}");
        assert!(m.starts_with("m.toml:8:"), "{m}");
        // UniMax whose budget exceeds N epochs of everything.
        let src = format!(
            "version = 1\nbudget = 100000\ntoken_field = \"n\"\n{SRC3}[weights]\nmethod = \"unimax\"\nmax_epochs = 2\n"
        );
        let e = plan(&file(&src), &counts(&[100, 200, 300])).unwrap_err();
        assert!(
            e.to_string().contains("larger than `max_epochs` allows"),
            "{e}"
        );
        // An empty source.
        let mut n = counts(&[100, 200, 300]);
        n[1].docs = 0;
        n[1].tokens = 0;
        n[1].empty_docs = 4;
        let e = plan(&file(&src), &n).unwrap_err();
        assert!(e.to_string().contains("source `b` has no documents"), "{e}");
    }

    #[test]
    fn temperature_with_caps_and_warning() {
        let src = format!(
            "version = 1\nbudget = 10000\ntoken_field = \"n\"\n{SRC3}[weights]\nmethod = \"temperature\"\n\
             tau = 100\n[repetition]\nwarn_epochs = 2\n"
        );
        let p = plan(&file(&src), &counts(&[1000, 4000, 5000])).unwrap();
        // Nearly uniform: 3.3 epochs of `a`, a warning.
        assert!(p.sources[0].epochs > 3.0);
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
        assert!(p.warnings[0].contains("source `a`"));
        let src = format!(
            "version = 1\nbudget = 10000\ntoken_field = \"n\"\n{SRC3}[weights]\nmethod = \"temperature\"\n\
             tau = 100\nmax_epochs = 2\n"
        );
        let p = plan(&file(&src), &counts(&[1000, 4000, 5000])).unwrap();
        assert!((p.sources[0].epochs - 2.0).abs() < 1e-12);
        assert!((p.phases[0].weights.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn budget_all_is_one_epoch_of_everything() {
        let src = format!("version = 1\nbudget = \"all\"\ntoken_field = \"n\"\n{SRC3}");
        let p = plan(&file(&src), &counts(&[100, 200, 300])).unwrap();
        assert_eq!(p.budget, 600);
        for s in &p.sources {
            assert!((s.epochs - 1.0).abs() < 1e-12);
            assert!((s.effective_tokens - s.tokens).abs() < 1e-9);
        }
    }

    #[test]
    fn law_must_be_data_constrained() {
        let src = format!(
            "version = 1\nbudget = 10\ntoken_field = \"n\"\n{SRC3}[repetition]\nlaw = \"builtin:hoffmann\"\n"
        );
        let e = plan(&file(&src), &counts(&[100, 200, 300])).unwrap_err();
        assert!(e.to_string().contains("data-constrained"), "{e}");
    }
}
