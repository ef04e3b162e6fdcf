//! The text tables `datamill scaling fit` and `predict` print: a law file with its fit and
//! bootstrap, and a [`PredictReport`].

use std::fmt::Write as _;

use crate::bootstrap::Estimate;
use crate::dcpt::fit::DcptFile;
use crate::dcpt::plan::DcptPlan;
use crate::lawfile::LawFile;
use crate::laws::Law;
use crate::predict::PredictReport;
use crate::quant::{QuantFile, QuantReport};
use crate::vocab::VocabRow;
use crate::vocab::fit::VocabFile;

/// Format a number with ~`sig` significant digits, switching to scientific
/// notation for very large or small magnitudes.
pub fn fmt_num(v: f64, sig: usize) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e6).contains(&a) {
        format!("{:.*e}", sig.saturating_sub(1), v)
    } else {
        let mag = if a == 0.0 {
            0
        } else {
            a.log10().floor() as i32
        };
        let dec = (sig as i32 - 1 - mag).max(0) as usize;
        format!("{v:.dec$}")
    }
}

/// The law's formula, as the tables and plot titles show it.
pub fn formula(law: &Law) -> &'static str {
    match law {
        Law::Chinchilla(_) => "L(N,D) = E + A/N^alpha + B/D^beta",
        Law::LearningCurve(_) => "L(D) = E + B/D^beta",
        Law::Kaplan(crate::laws::Kaplan::N { .. }) => "L(N) = (N_c/N)^alpha_N",
        Law::Kaplan(crate::laws::Kaplan::D { .. }) => "L(D) = (D_c/D)^alpha_D",
        Law::Kaplan(_) => "L(N,D) = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D",
        Law::DataConstrained(_) => {
            "L(N,D,U) = E + A/N'^alpha + B/D'^beta (repetition-discounted N', D')"
        }
        Law::Overtrain(_) => "L(N,M) = alpha*N^b + beta*6^(b/2)*(M*N)^b + E",
    }
}

/// The terminal table printed by `scaling fit`.
pub fn fit_table(file: &LawFile) -> String {
    let mut s = String::new();
    let law = &file.law;
    let _ = writeln!(s, "law        {}   {}", law.name(), formula(law));
    if let Some(src) = &file.source {
        let _ = write!(
            s,
            "runs       {} of {} rows from {}",
            src.rows_used, src.rows_in_file, src.file
        );
        if src.dropped_highest_loss > 0 {
            let _ = write!(
                s,
                " (dropped the {} highest losses)",
                src.dropped_highest_loss
            );
        }
        if !src.filters.is_empty() {
            let _ = write!(s, " where {}", src.filters.join(" and "));
        }
        let _ = writeln!(s);
    }
    if let Some(f) = &file.fit {
        let _ = writeln!(
            s,
            "objective  {} = {:.12e}   ({} starts, {} reached the best; {} iterations)",
            f.objective_name, f.objective, f.starts, f.starts_at_best, f.iterations
        );
        let _ = writeln!(
            s,
            "goodness   R^2 = {:.6}   RMSE(log loss) = {:.6}",
            f.r2, f.rmse_log
        );
    }
    if let Law::DataConstrained(dc) = law {
        let b = dc.base;
        let _ = writeln!(
            s,
            "base       E={} A={} B={} alpha={} beta={} (fixed)",
            fmt_num(b.e, 6),
            fmt_num(b.a, 6),
            fmt_num(b.b, 6),
            fmt_num(b.alpha, 6),
            fmt_num(b.beta, 6)
        );
    }
    let boot = file.bootstrap.as_ref();
    let _ = writeln!(s);
    match boot {
        Some(b) => {
            let _ = writeln!(
                s,
                "{:<10} {:>16} {:>14} {:>14} {:>14}",
                "param",
                "estimate",
                "SE",
                format!("{:.1}%", (1.0 - b.level) / 2.0 * 100.0),
                format!("{:.1}%", (1.0 + b.level) / 2.0 * 100.0)
            );
        }
        None => {
            let _ = writeln!(s, "{:<10} {:>16}", "param", "estimate");
        }
    }
    for (k, (name, v)) in law.params().iter().enumerate() {
        let _ = write!(s, "{name:<10} {:>16}", fmt_num(*v, 7));
        if let Some(b) = boot {
            let _ = write!(
                s,
                " {:>14} {:>14} {:>14}",
                fmt_num(b.se[k], 4),
                fmt_num(b.ci_low[k], 5),
                fmt_num(b.ci_high[k], 5)
            );
        }
        let _ = writeln!(s);
    }
    if let Some(b) = boot {
        let _ = writeln!(
            s,
            "bootstrap  {} resamples (seed {}), {} failed, {:.2} s",
            b.resamples, b.seed, b.failed, b.seconds
        );
    }
    if let Some(c) = law.as_chinchilla() {
        let a = c.beta / (c.alpha + c.beta);
        let _ = writeln!(
            s,
            "\ncompute-optimal: N_opt ~ C^{:.4}, D_opt ~ C^{:.4}",
            a,
            1.0 - a
        );
        for cc in [1e21, 1e23, 5.76e23, 1e25] {
            let o = c.compute_optimal(cc);
            let _ = writeln!(
                s,
                "  C = {:.2e}: N = {:.4e}, D = {:.4e}, D/N = {:.1}, L = {:.5}",
                cc,
                o.n,
                o.d,
                o.d / o.n,
                o.loss
            );
        }
    }
    write_warnings(&mut s, &file.warnings(), true);
    s
}

/// `warning: ...` lines (after a blank line when `gap`).
fn write_warnings(s: &mut String, warnings: &[String], gap: bool) {
    if gap && !warnings.is_empty() {
        let _ = writeln!(s);
    }
    for w in warnings {
        let _ = writeln!(s, "warning: {w}");
    }
}

fn fmt_iv(iv: Option<(f64, f64)>) -> String {
    iv.map_or(String::new(), |(l, h)| {
        format!("  [{}, {}]", fmt_num(l, 5), fmt_num(h, 5))
    })
}

fn fmt_interval(iv: Option<crate::bootstrap::Interval>) -> String {
    fmt_iv(iv.map(|i| (i.low, i.high)))
}

/// The terminal rendering of a [`PredictReport`].
pub fn report_table(file: &LawFile, r: &PredictReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "law  {}   {}", file.law.name(), formula(&file.law));
    let params: Vec<String> = file
        .law
        .params()
        .iter()
        .map(|(k, v)| format!("{k}={}", fmt_num(*v, 7)))
        .collect();
    let _ = writeln!(s, "     {}", params.join(" "));
    if let Some(level) = r.level {
        let _ = writeln!(
            s,
            "     intervals: {}% bootstrap percentiles over the law file's {} draws",
            (level * 1000.0).round() / 10.0,
            r.draws
        );
    }
    write_warnings(&mut s, &r.warnings, false);
    for n in &r.notes {
        let _ = writeln!(s, "note: {n}");
    }
    if !r.losses.is_empty() {
        let _ = writeln!(s, "\nloss");
        for p in &r.losses {
            let u = p.u.map_or(String::new(), |u| format!(" U={u:.4e}"));
            let _ = writeln!(
                s,
                "  N={:.4e} D={:.4e}{u}  L = {:.10}{}",
                p.n,
                p.d,
                p.loss,
                fmt_interval(p.interval)
            );
        }
    }
    if !r.compute_optimal.is_empty() {
        let _ = writeln!(s, "\ncompute-optimal allocation (C = 6ND, fresh data)");
        for o in &r.compute_optimal {
            let _ = write!(
                s,
                "  C={:.4e}  N_opt={:.6e}  D_opt={:.6e}  D/N={:.2}  L={:.6}",
                o.compute, o.n.value, o.d.value, o.tokens_per_param, o.loss.value
            );
            if let (Some(n), Some(d)) = (o.n.interval, o.d.interval) {
                let _ = write!(
                    s,
                    "  N in [{:.3e}, {:.3e}], D in [{:.3e}, {:.3e}]",
                    n.low, n.high, d.low, d.high
                );
            }
            let _ = writeln!(s);
        }
    }
    if !r.capped_allocation.is_empty() {
        let _ = writeln!(
            s,
            "\nbest allocation under a unique-token cap (repetition allowed; datablations grid)"
        );
        for c in &r.capped_allocation {
            let a = c.allocation;
            let _ = writeln!(
                s,
                "  C={:.4e} U={:.4e}  N={:.6e}  D={:.6e}  epochs={:.4}  L={:.6}  (fresh-data optimum under the cap: L={:.6}){}",
                a.compute,
                c.unique_cap,
                a.n,
                a.d,
                c.epochs,
                a.loss,
                c.loss_at_fresh_optimum,
                match (c.n_interval, c.d_interval) {
                    (Some(n), Some(d)) => format!(
                        "  N in [{:.3e}, {:.3e}], D in [{:.3e}, {:.3e}]",
                        n.low, n.high, d.low, d.high
                    ),
                    _ => String::new(),
                }
            );
        }
    }
    if !r.data_needed.is_empty() {
        let _ = writeln!(s, "\ndata needed to reach the target loss");
        for d in &r.data_needed {
            match d.d {
                Some(v) => {
                    let _ = writeln!(
                        s,
                        "  N={:.4e}  L*={}  D = {:.6e} tokens{}{}",
                        d.n,
                        d.target,
                        v,
                        fmt_interval(d.interval),
                        unreachable_in(d.unreachable_draws, r.draws)
                    );
                }
                None => {
                    let _ = writeln!(
                        s,
                        "  N={:.4e}  L*={}  unreachable: the loss at this size never goes below {:.6}",
                        d.n, d.target, d.floor
                    );
                }
            }
        }
    }
    if let Some(c) = &r.compute_needed {
        let _ = writeln!(s, "\ncompute needed on the frontier");
        match (&c.compute, &c.allocation) {
            (Some(cc), Some(a)) => {
                let _ = writeln!(
                    s,
                    "  L*={}  C = {:.6e} FLOP{}  N={:.4e}{}  D={:.4e}{}{}",
                    c.target,
                    cc.value,
                    fmt_interval(cc.interval),
                    a.n.value,
                    fmt_interval(a.n.interval),
                    a.d.value,
                    fmt_interval(a.d.interval),
                    unreachable_in(c.unreachable_draws, r.draws)
                );
            }
            _ => {
                let _ = writeln!(
                    s,
                    "  L*={}  unreachable: at or below the irreducible loss",
                    c.target
                );
            }
        }
    }
    if !r.epochs.is_empty() {
        let _ = writeln!(s, "\ncost of repeating U unique tokens vs fresh data");
        let _ = writeln!(
            s,
            "  {:>8} {:>12} {:>12} {:>12} {:>10} {:>8} {:>10}",
            "epochs", "D", "L repeated", "L fresh", "cost", "D'/U", "rep value"
        );
        for e in &r.epochs {
            let _ = writeln!(
                s,
                "  {:>8} {:>12.4e} {:>12.6} {:>12.6} {:>10.6} {:>8.4} {:>10}",
                e.epochs,
                e.d,
                e.loss_repeated,
                e.loss_fresh,
                e.loss_cost,
                e.effective_epochs,
                e.repeated_token_value
                    .map_or("-".into(), |v| format!("{v:.4}"))
            );
            if let Some(c) = e.loss_cost_interval {
                let _ = writeln!(s, "  {:>8} cost in [{:.6}, {:.6}]", "", c.low, c.high);
            }
        }
    }
    if r.losses.is_empty()
        && r.compute_optimal.is_empty()
        && r.data_needed.is_empty()
        && r.compute_needed.is_none()
        && r.epochs.is_empty()
    {
        let _ = writeln!(
            s,
            "\n(nothing asked: give --n/--d for a loss, --compute for an allocation, --target-loss, or --epochs with --n and --u)"
        );
    }
    s
}

/// `  (unreachable in k of n draws)` when some draws cannot reach the target.
fn unreachable_in(k: Option<usize>, n: usize) -> String {
    match k {
        Some(k) if k > 0 => format!("  (unreachable in {k} of {n} draws)"),
        _ => String::new(),
    }
}

fn fmt_est(e: &Estimate, sig: usize) -> String {
    format!(
        "{}{}",
        fmt_num(e.value, sig),
        fmt_iv(e.interval.map(|i| (i.low, i.high)))
    )
}

/// The terminal table printed by `scaling dcpt fit`: each fitted law with its diagnostics
/// and bootstrap intervals.
pub fn dcpt_fit_table(file: &DcptFile) -> String {
    let mut s = String::new();
    if let Some(src) = &file.source {
        let _ = write!(
            s,
            "runs       {} of {} rows from {}",
            src.rows_used, src.rows_in_file, src.file
        );
        if !src.filters.is_empty() {
            let _ = write!(s, " where {}", src.filters.join(" and "));
        }
        let _ = writeln!(s);
    }
    let boot = file.bootstrap.as_ref();
    for (which, f, ps) in [
        (
            "general",
            &file.general,
            boot.and_then(|b| b.general.as_ref()),
        ),
        ("domain", &file.domain, boot.and_then(|b| b.domain.as_ref())),
    ] {
        let Some(f) = f else { continue };
        let r = if which == "general" {
            "r = r_g = 1 - r_d"
        } else {
            "r = r_d"
        };
        let formula = if f.law.is_cross_domain() {
            crate::dcpt::FORMULA_CROSS
        } else {
            crate::dcpt::FORMULA
        };
        let _ = writeln!(s, "\n{which} loss   {formula}   ({r})");
        if let Some(i) = &f.fit {
            let _ = writeln!(
                s,
                "objective  {} = {:.12e}   ({} starts, {} reached the best; {} iterations)",
                i.objective_name, i.objective, i.starts, i.starts_at_best, i.iterations
            );
            let _ = writeln!(
                s,
                "goodness   R^2 = {:.6}   RMSE(log loss) = {:.6}   ({} points)",
                i.r2, i.rmse_log, i.n_points
            );
        }
        match (boot, ps) {
            (Some(b), Some(_)) => {
                let _ = writeln!(
                    s,
                    "{:<10} {:>16} {:>14} {:>14} {:>14}",
                    "param",
                    "estimate",
                    "SE",
                    format!("{:.1}%", (1.0 - b.level) / 2.0 * 100.0),
                    format!("{:.1}%", (1.0 + b.level) / 2.0 * 100.0)
                );
            }
            _ => {
                let _ = writeln!(s, "{:<10} {:>16}", "param", "estimate");
            }
        }
        for (k, (name, v)) in f.law.params().iter().enumerate() {
            let _ = write!(s, "{name:<10} {:>16}", fmt_num(*v, 7));
            if let Some(p) = ps {
                let _ = write!(
                    s,
                    " {:>14} {:>14} {:>14}",
                    fmt_num(p.se[k], 4),
                    fmt_num(p.ci_low[k], 5),
                    fmt_num(p.ci_high[k], 5)
                );
            }
            let _ = writeln!(s);
        }
    }
    if let Some(b) = boot {
        let _ = writeln!(
            s,
            "\nbootstrap  {} resamples (seed {}), {} failed; each resample refits both losses",
            b.resamples, b.seed, b.failed
        );
    }
    s
}

/// The terminal rendering of a [`DcptPlan`].
pub fn dcpt_plan_table(file: &DcptFile, p: &DcptPlan) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "D-CPT law (Que et al. 2024): {}; r_d = domain share of the mixture",
        crate::dcpt::FORMULA
    );
    if file.bootstrap.is_some() {
        let _ = writeln!(
            s,
            "intervals: {:.0}% bootstrap percentiles over the law file's draws",
            file.level() * 100.0
        );
    }
    for n in &p.notes {
        let _ = writeln!(s, "note: {n}");
    }
    if let Some(a) = &p.at_ratio {
        let _ = writeln!(
            s,
            "\nlosses at r_d = {}  (N={:.4e}, D={:.4e})",
            a.ratio, a.n, a.d
        );
        if let Some(g) = &a.general_loss {
            let _ = writeln!(s, "  general loss L_g = {}", fmt_est(g, 6));
        }
        if let Some(d) = &a.domain_loss {
            let _ = writeln!(s, "  domain loss  L_d = {}", fmt_est(d, 6));
        }
    }
    if let Some(t) = &p.tradeoff {
        let _ = writeln!(
            s,
            "\nbest domain ratio within a general-loss budget  (N={:.4e}, D={:.4e})",
            t.n, t.d
        );
        let _ = writeln!(
            s,
            "  budget  L_g <= (1 + {}) x {:.6} = {:.6}{}",
            t.max_general_increase,
            t.general_baseline,
            t.general_bound,
            if t.general_baseline_given {
                ""
            } else {
                "  (L_g0 from the law at r_d = 0)"
            }
        );
        let _ = writeln!(
            s,
            "  r_d = {}{}",
            fmt_est(&t.ratio, 6),
            if t.unconstrained {
                "  (the budget does not bind: all domain data is within it)"
            } else {
                ""
            }
        );
        let _ = writeln!(s, "  L_g = {}", fmt_est(&t.general_loss, 6));
        if let Some(d) = &t.domain_loss {
            let _ = writeln!(s, "  L_d = {}", fmt_est(d, 6));
        }
    }
    if let Some(l) = &p.limited_domain {
        let _ = writeln!(
            s,
            "\nbest domain ratio with {:.4e} domain tokens used once  (N={:.4e}{})",
            l.domain_tokens,
            l.n,
            l.max_tokens.map_or(String::new(), |c| format!(
                ", at most {c:.4e} tokens in total"
            ))
        );
        if let Some(b) = l.general_bound {
            let _ = writeln!(s, "  within L_g <= {b:.6}");
        }
        let _ = writeln!(s, "  r_d = {}", fmt_est(&l.ratio, 6));
        let _ = writeln!(s, "  D   = {}", fmt_est(&l.tokens, 6));
        let _ = writeln!(s, "  L_d = {}", fmt_est(&l.domain_loss, 6));
        if let Some(g) = &l.general_loss {
            let _ = writeln!(s, "  L_g = {}", fmt_est(g, 6));
        }
    }
    if let Some(t) = &p.data_for_target {
        let _ = writeln!(
            s,
            "\ntokens to reach L_d = {} at r_d = {}  (N={:.4e})",
            t.target, t.ratio, t.n
        );
        let _ = writeln!(s, "  D = {}", fmt_est(&t.tokens, 6));
        let _ = writeln!(
            s,
            "  of which domain tokens r_d*D = {}",
            fmt_est(&t.domain_tokens, 6)
        );
        if let Some(g) = &t.general_loss {
            let _ = writeln!(s, "  L_g after D tokens = {}", fmt_est(g, 6));
        }
    }
    if let Some(c) = &p.compute_optimal {
        let _ = writeln!(
            s,
            "\ncompute-optimal N and D for the domain loss at r_d = {}  (C = {:.4e} = 6ND)",
            c.ratio, c.compute
        );
        let _ = writeln!(s, "  N_opt = {}", fmt_est(&c.n, 6));
        let _ = writeln!(s, "  D_opt = {}", fmt_est(&c.d, 6));
        let _ = writeln!(s, "  L_d   = {}", fmt_est(&c.domain_loss, 6));
    }
    s
}

fn thousands(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The terminal table of `datamill scaling vocab`.
pub fn vocab_table(file: &VocabFile, rows: &[VocabRow]) -> String {
    let mut s = String::new();
    let l = &file.law;
    let _ = writeln!(
        s,
        "optimal vocabulary size (Tao et al. 2024) for N_nv non-vocabulary parameters at compute C"
    );
    let _ = writeln!(
        s,
        "  approach 1 (isoFLOPs):   N_v = e^{:.7}*C^{:.8}",
        crate::vocab::ISOFLOPS.k_nv,
        crate::vocab::ISOFLOPS.a_nv
    );
    let _ = writeln!(
        s,
        "  approach 2 (derivative): N_v = {}*(N_nv/33e6)^{:.7}",
        thousands(crate::vocab::APPROACH2_ANCHOR as u64),
        crate::vocab::APPROACH2_GAMMA
    );
    let _ = writeln!(
        s,
        "  approach 3 (parametric): dL_u/dV = 0 at C, L_u = -{} + {}/N_nv^{} + {}/(V*d)^{} + {}/D^{} ({}; tokens per char f at {})",
        fmt_num(l.e, 7),
        fmt_num(l.a1, 7),
        fmt_num(l.beta, 7),
        fmt_num(l.a2, 7),
        fmt_num(l.alpha2, 7),
        fmt_num(l.b, 7),
        fmt_num(l.beta, 7),
        if file.fit.is_some() {
            "fitted"
        } else {
            "published constants"
        },
        if l.quirk {
            "V/1000 in the fit, as upstream"
        } else {
            "the real V"
        }
    );
    let _ = writeln!(
        s,
        "\n{:>10} {:>6} {:>10} {:>12} {:>12} {:>12} {:>8} {:>11} {:>11}",
        "N_nv",
        "d",
        "C",
        "V approach1",
        "V approach2",
        "V approach3",
        "f(V3)",
        "tokens D",
        "chars H"
    );
    for r in rows {
        let _ = writeln!(
            s,
            "{:>10.3e} {:>6} {:>10.3e} {:>12} {:>12} {:>12} {:>8.5} {:>11.3e} {:>11.3e}",
            r.n_nv,
            r.embed_dim,
            r.compute,
            thousands(r.approach1.vocab_size),
            thousands(r.approach2.vocab_size),
            thousands(r.approach3.vocab_size),
            r.tokens_per_char,
            r.tokens,
            r.characters
        );
        if let Some(i) = r.approach3_vocab.interval {
            let _ = writeln!(
                s,
                "{:>56} approach 3 V in [{:.0}, {:.0}] ({:.0}% bootstrap)",
                "",
                i.low,
                i.high,
                i.level * 100.0
            );
        }
    }
    if rows.iter().any(|r| r.compute_is_optimal_default) {
        let _ = writeln!(
            s,
            "\nC: approach 1's compute-optimal budget for N_nv, (N_nv/e^{:.7})^2 (give --compute for another budget; approach 2 assumes the optimal one)",
            crate::vocab::ISOFLOPS.k_nnv
        );
    }
    s
}

/// The table printed by `datamill scaling vocab fit`.
pub fn vocab_fit_table(file: &VocabFile) -> String {
    let mut s = String::new();
    if let Some(src) = &file.source {
        let _ = writeln!(s, "runs       {src}");
    }
    if let Some(f) = &file.fit {
        let _ = writeln!(
            s,
            "objective  sum of Huber(delta={}) on L_u residuals = {:.12e}   ({} starts, {} with 0.1 < alpha2, beta < 1, {} reached the best)",
            f.huber_delta, f.objective, f.starts, f.starts_in_range, f.starts_at_best
        );
        let _ = writeln!(
            s,
            "goodness   R^2 = {:.6}   relative MSE = {:.4e}   ({} points)",
            f.r2, f.relative_mse, f.n_points
        );
    }
    let l = &file.law;
    let ps = [
        ("A1", l.a1),
        ("A2", l.a2),
        ("B", l.b),
        ("E", l.e),
        ("alpha2", l.alpha2),
        ("beta", l.beta),
    ];
    let boot = file.bootstrap.as_ref();
    let _ = writeln!(
        s,
        "{:<10} {:>16}{}",
        "param",
        "estimate",
        if boot.is_some() {
            format!(" {:>14} {:>14} {:>14}", "SE", "2.5%", "97.5%")
        } else {
            String::new()
        }
    );
    for (k, (name, v)) in ps.iter().enumerate() {
        let _ = write!(s, "{name:<10} {:>16}", fmt_num(*v, 7));
        if let Some(b) = boot {
            let _ = write!(
                s,
                " {:>14} {:>14} {:>14}",
                fmt_num(b.params.se[k], 4),
                fmt_num(b.params.ci_low[k], 5),
                fmt_num(b.params.ci_high[k], 5)
            );
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(
        s,
        "tokens per character evaluated at {}",
        if l.quirk {
            "V/1000 (the authors' fit)"
        } else {
            "the real V"
        }
    );
    s
}

/// The terminal table of `datamill scaling quant`.
pub fn quant_table(file: &QuantFile, r: &QuantReport) -> String {
    let mut s = String::new();
    let l = file.law;
    let _ = writeln!(
        s,
        "quantization loss (Ouyang et al. 2024): dq = {}*D^{}/(N^{}*P^{}) ({})",
        fmt_num(l.k, 6),
        fmt_num(l.a, 6),
        fmt_num(l.b, 6),
        fmt_num(l.c, 6),
        if file.fit.is_some() {
            "fitted"
        } else {
            "the paper's unified fit; its Table 1 disagrees for 3 and 4 bits"
        }
    );
    if !r.delta_loss.is_empty() {
        let _ = writeln!(s, "\n{:>11} {:>11} {:>5} {:>12}", "N", "D", "bits", "dq");
        for d in &r.delta_loss {
            let _ = writeln!(
                s,
                "{:>11.3e} {:>11.3e} {:>5} {:>12}",
                d.n,
                d.d,
                d.bits,
                fmt_est(&d.delta_loss, 5)
            );
        }
    }
    if !r.token_limits.is_empty() {
        let _ = writeln!(
            s,
            "\ntokens before quantization adds more than the tolerance"
        );
        let _ = writeln!(
            s,
            "{:>11} {:>5} {:>9} {:>12}",
            "N", "bits", "max dq", "D_max"
        );
        for t in &r.token_limits {
            let _ = writeln!(
                s,
                "{:>11.3e} {:>5} {:>9} {:>12}",
                t.n,
                t.bits,
                t.max_increase,
                fmt_est(&t.tokens, 5)
            );
        }
    }
    if !r.hints.is_empty() {
        let _ = writeln!(s);
        for h in &r.hints {
            let _ = writeln!(s, "{h}");
        }
    }
    s
}

/// The table printed by `datamill scaling quant fit`.
pub fn quant_fit_table(file: &QuantFile) -> String {
    let mut s = String::new();
    if let Some(src) = &file.source {
        let _ = writeln!(s, "runs       {src}");
    }
    if let Some(f) = &file.fit {
        let _ = writeln!(
            s,
            "objective  sum of Huber(delta={}) on log residuals = {:.12e}   ({} iterations from the least-squares start)",
            f.huber_delta, f.objective, f.iterations
        );
        let _ = writeln!(
            s,
            "goodness   R^2(log dq) = {:.6}   ({} points)",
            f.r2_log, f.n_points
        );
    }
    let boot = file.bootstrap.as_ref();
    for (k, (name, v)) in file.law.params().iter().enumerate() {
        let _ = write!(s, "{name:<10} {:>16}", fmt_num(*v, 7));
        if let Some(b) = boot {
            let _ = write!(
                s,
                "  SE {:>10}  [{}, {}]",
                fmt_num(b.params.se[k], 4),
                fmt_num(b.params.ci_low[k], 5),
                fmt_num(b.params.ci_high[k], 5)
            );
        }
        let _ = writeln!(s);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::predict::{PredictQuery, predict};

    #[test]
    fn fmt_num_switches_notation() {
        assert_eq!(fmt_num(1.81722, 5), "1.8172");
        assert_eq!(fmt_num(2143.42, 6), "2143.42");
        assert_eq!(fmt_num(7.2e10, 3), "7.20e10");
    }

    #[test]
    fn predict_reports_unreachable() {
        let f = LawFile::builtin("hoffmann").unwrap();
        let a = PredictQuery {
            n: vec![1e9],
            target_loss: Some(1.8),
            ..Default::default()
        };
        let r = predict(&f, &a).unwrap();
        assert!(r.data_needed[0].d.is_none());
        let t = report_table(&f, &r);
        assert!(t.contains("unreachable"), "{t}");
    }
}
