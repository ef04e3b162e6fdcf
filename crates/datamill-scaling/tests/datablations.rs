//! Proof: the data-constrained law (Muennighoff et al. 2023) — deterministic
//! README values and the local R_D*/R_N* fit (scaling-laws.md §4, checks 3, 5).

mod common;

use common::*;
use datamill_scaling::fit::{FitOptions, LawKind, Problem, fit_from};
use datamill_scaling::laws::{Chinchilla, DataConstrained, Law};

#[test]
fn readme_values_to_1e12() {
    let dc = DataConstrained::muennighoff();
    assert!(rel(dc.loss(6.34e9, 242e9, 25e9), 2.2256440889984477) < 1e-12);
    assert!(rel(dc.loss(8.67e9, 178e9, 25e9), 2.2269634075087867) < 1e-12);
    assert!(rel(dc.u_n(f64::INFINITY, 1e8), 5098651.765) < 1e-9);
    let opt = dc.base.compute_optimal(5.76e23);
    assert!(rel(opt.n, 69962173313.52) < 1e-12, "{opt:?}");
    assert!(rel(opt.d, 1372170066384.24) < 1e-12, "{opt:?}");
    // The README's 500-step grid allocation for C = 1e22, U = 25e9.
    let a = dc.optimal_allocation(1e22, 25e9, 500, 3.0);
    assert!(rel(a.d, 237336955477.55075) < 1e-12, "{a:?}");
    assert!(rel(a.n, 7022364735.879969) < 1e-12, "{a:?}");
    assert!((a.d / 25e9 - 9.4935).abs() < 1e-4);
    // D'/U at 4 epochs and in the limit.
    assert!((dc.effective_data(4.0, 1.0) - 3.7257).abs() < 1e-4);
    assert!((dc.effective_data(1e12, 1.0) - 16.388).abs() < 1e-3);
}

#[test]
fn r2_over_182_runs() {
    let runs = datablations_runs();
    assert_eq!(runs.len(), 182);
    let p = Problem::new(LawKind::DataConstrained, &runs, &FitOptions::default()).unwrap();
    let (r2, _) = p.goodness(&Law::DataConstrained(DataConstrained::muennighoff()));
    assert!((r2 - 0.7722046084968408).abs() < 1e-9, "{r2}");
    // Plain Chinchilla with the same base constants.
    let base = Chinchilla::muennighoff_c4();
    let mean = runs.loss.iter().sum::<f64>() / 182.0;
    let (mut res, mut tot) = (0.0, 0.0);
    for i in 0..182 {
        res += (runs.loss[i] - base.loss(runs.n[i], runs.d[i])).powi(2);
        tot += (runs.loss[i] - mean).powi(2);
    }
    assert!((1.0 - res / tot - 0.4451684378759986).abs() < 1e-9);
    // Objective at the published constants.
    let th = p
        .from_law(&Law::DataConstrained(DataConstrained::muennighoff()))
        .unwrap();
    assert!((p.objective(&th, None) - 0.0158259).abs() < 1e-7);
}

#[test]
fn local_rstar_fit_returns_published_values() {
    let runs = datablations_runs();
    let start = vec![15f64.ln(), 5f64.ln()];
    let r = fit_from(
        LawKind::DataConstrained,
        &runs,
        &[start],
        &FitOptions::default(),
    )
    .unwrap();
    let Law::DataConstrained(dc) = r.law else {
        panic!()
    };
    eprintln!("{dc:?} objective {:.12}", r.objective);
    assert!((dc.rd_star - 15.39).abs() <= 0.1, "R_D* = {}", dc.rd_star);
    assert!((dc.rn_star - 5.31).abs() <= 0.05, "R_N* = {}", dc.rn_star);
    // Published optimum 0.015825936570763588 (printed 0.0158259); ± 1e-8.
    assert!(
        (r.objective - 0.015825936570763588).abs() <= 1e-8,
        "objective {}",
        r.objective
    );
}
