//! Proof: Gadre et al. 2024's 5-point shared-exponent fit reproduces the
//! published held-out errors (scaling-laws.md §4, check 6).

mod common;

use common::*;
use datamill_scaling::fit::{FitOptions, LawKind, fit};
use datamill_scaling::laws::Law;

#[test]
fn five_point_fit_reproduces_published_heldout_errors() {
    // Fit set: rpj, the 4 small configs at cc_mult 1, plus d=96 at cc_mult 16.
    let all = gadre_runs(&["train_dataset=rpj", "params_N<=412000000"]);
    let t = table("gadre-overtraining/gadre2024_models_loss.csv");
    let cc = t.column("cc_mult").unwrap();
    let rows: Vec<usize> = t
        .rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r[1] == "rpj" && r[3].parse::<f64>().unwrap() <= 4.12e8)
        .map(|(i, r)| {
            (
                i,
                r[cc].parse::<f64>().unwrap(),
                r[3].parse::<f64>().unwrap(),
            )
        })
        .filter(|(_, m, n)| *m == 1.0 || (*m == 16.0 && *n < 2e7))
        .map(|(i, _, _)| i + 1)
        .collect();
    let keep: Vec<usize> = (0..all.len())
        .filter(|&k| rows.contains(&all.row[k]))
        .collect();
    let runs = all.select(&keep);
    assert_eq!(runs.len(), 5);
    let r = fit(LawKind::Overtrain, &runs, &FitOptions::default()).unwrap();
    let Law::Overtrain(o) = r.law else { panic!() };
    eprintln!("{o:?} sum sq {:e}", r.objective);
    let held = gadre_runs(&["train_dataset=rpj", "params_N>1000000000"]);
    let mut errs = Vec::new();
    for (i, name_row) in held.row.iter().enumerate() {
        let pred = o.loss(held.n[i], held.d[i]);
        errs.push((
            name_row,
            held.n[i],
            held.d[i] / held.n[i],
            100.0 * ((pred - held.loss[i]) / held.loss[i]).abs(),
        ));
    }
    eprintln!("{errs:?}");
    let e1b = errs.iter().find(|e| e.1 < 2e9 && e.2 > 600.0).unwrap().3;
    let e7b = errs.iter().find(|e| e.1 > 6e9).unwrap().3;
    assert!((e1b - 0.7103).abs() < 0.001, "1.4B M=640: {e1b}%");
    assert!((e7b - 0.7320).abs() < 0.001, "6.9B M=20: {e7b}%");
    assert!(
        (o.e - 1.836648).abs() < 1e-3 && (o.b + 0.272851).abs() < 1e-3,
        "{o:?}"
    );
}
