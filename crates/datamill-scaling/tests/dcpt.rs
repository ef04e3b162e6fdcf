//! D-CPT law: no constants or data were published (scaling-laws-2.md §1), so the fitter is
//! checked on runs generated from known parameters (the paper's design: 3 model sizes, D from
//! 0.1B to 26B tokens, nine ratios), and the planner on the recovered law against the truth.

use datamill_scaling::dcpt::Dcpt;
use datamill_scaling::dcpt::fit::{
    DcptFile, DcptFitOptions, DcptRuns, FORMAT, FittedDcpt, Which, bootstrap, fit,
};
use datamill_scaling::dcpt::plan::{DcptQuery, plan};

fn general_truth() -> Dcpt {
    Dcpt {
        e: 1.9,
        a: 300.0,
        b: 200.0,
        c: 0.3,
        alpha: 0.3,
        beta: 0.3,
        eta: 0.2,
        gamma: 0.4,
        eps: 0.02,
        f: None,
        mu: None,
    }
}

fn domain_truth() -> Dcpt {
    Dcpt {
        e: 0.9,
        a: 150.0,
        b: 400.0,
        c: 0.25,
        alpha: 0.28,
        beta: 0.32,
        eta: 0.3,
        gamma: 0.5,
        eps: 0.05,
        f: None,
        mu: None,
    }
}

/// Runs from the true laws with a deterministic ±`noise` relative wobble.
fn runs(noise: f64) -> DcptRuns {
    let (g, dm) = (general_truth(), domain_truth());
    let mut runs = DcptRuns {
        general: Some(Vec::new()),
        domain: Some(Vec::new()),
        ..Default::default()
    };
    let ratios = [0.0, 0.1, 0.2, 0.33, 0.5, 0.67, 0.8, 0.9, 1.0];
    let mut k = 0usize;
    for &n in &[0.5e9, 1.8e9, 4e9] {
        for i in 0..8 {
            let d = 1e8 * (260f64).powf(i as f64 / 7.0);
            for &r in &ratios {
                let wob = |s: f64| 1.0 + noise * (k as f64 * s).sin();
                runs.n.push(n);
                runs.d.push(d);
                runs.r_domain.push(r);
                runs.general
                    .as_mut()
                    .unwrap()
                    .push(g.loss(n, d, 1.0 - r, None) * wob(1.3));
                runs.domain
                    .as_mut()
                    .unwrap()
                    .push(dm.loss(n, d, r, None) * wob(2.1));
                runs.row.push(k + 1);
                k += 1;
            }
        }
    }
    runs
}

fn rel(a: f64, b: f64) -> f64 {
    ((a - b) / b).abs()
}

#[test]
fn recovers_known_parameters_from_exact_runs() {
    let runs = runs(0.0);
    for (which, truth) in [
        (Which::General, general_truth()),
        (Which::Domain, domain_truth()),
    ] {
        let f = fit(&runs, which, &DcptFitOptions::default()).unwrap();
        let info = f.fit.as_ref().unwrap();
        let l = f.law;
        assert!(info.objective < 1e-12, "{which:?}: {info:?} {l:?}");
        for ((name, got), (_, want)) in l.params().iter().zip(truth.params()) {
            assert!(
                rel(*got, want) < 1e-3,
                "{which:?} {name}: {got} vs {want} ({l:?})"
            );
        }
    }
}

#[test]
fn noisy_runs_predict_held_out_7b_and_plan_like_the_truth() {
    let runs = runs(0.002);
    let opts = DcptFitOptions::default();
    let g = fit(&runs, Which::General, &opts).unwrap();
    let d = fit(&runs, Which::Domain, &opts).unwrap();
    for (f, truth) in [(&g, general_truth()), (&d, domain_truth())] {
        assert!(f.fit.as_ref().unwrap().r2 > 0.999, "{:?}", f.fit);
        // Held out: a 7B model (the paper's held-out size) at 10B tokens, every ratio.
        for r in [0.05, 0.25, 0.5, 0.924, 1.0] {
            let (want, got) = (
                truth.loss(7e9, 1e10, r, None),
                f.law.loss(7e9, 1e10, r, None),
            );
            assert!(rel(got, want) < 0.01, "r={r}: {got} vs {want}");
        }
        assert!((f.law.alpha - truth.alpha).abs() < 0.05, "{:?}", f.law);
        assert!((f.law.beta - truth.beta).abs() < 0.05, "{:?}", f.law);
    }
    let boot = bootstrap(&runs, Some(&g.law), Some(&d.law), &opts, 40, 7, 0.95).unwrap();
    assert_eq!(boot.draws.len() + boot.failed, 40);
    let file = DcptFile {
        format: FORMAT.into(),
        general: Some(g),
        domain: Some(d),
        source: None,
        bootstrap: Some(boot),
    };
    let truth_file = DcptFile {
        format: FORMAT.into(),
        general: Some(FittedDcpt {
            law: general_truth(),
            fit: None,
        }),
        domain: Some(FittedDcpt {
            law: domain_truth(),
            fit: None,
        }),
        source: None,
        bootstrap: None,
    };
    let q = DcptQuery {
        n: Some(1.8e9),
        d: Some(1e10),
        max_general_increase: Some(0.03),
        ..Default::default()
    };
    let want = plan(&truth_file, &q).unwrap().tradeoff.unwrap();
    let got = plan(&file, &q).unwrap().tradeoff.unwrap();
    // The truth's answer satisfies the bound with equality.
    let gt = general_truth();
    let lg = gt.loss(1.8e9, 1e10, 1.0 - want.ratio.value, None);
    assert!(
        rel(lg, want.general_bound) < 1e-9,
        "{lg} vs {}",
        want.general_bound
    );
    assert!(
        (got.ratio.value - want.ratio.value).abs() < 0.02,
        "{got:?} vs {want:?}"
    );
    let iv = got.ratio.interval.expect("bootstrap interval");
    assert!(
        iv.low <= got.ratio.value && got.ratio.value <= iv.high,
        "{iv:?}"
    );
}

/// The example CSV of the README (`tests/data/dcpt_synthetic.csv`) is these runs (0.2 %
/// wobble); `DATAMILL_UPDATE_GOLDEN=1` rewrites it.
#[test]
fn example_csv_is_the_generated_runs() {
    let r = runs(0.002);
    let mut csv = String::from("N,D,r_d,general_loss,domain_loss\n");
    for i in 0..r.len() {
        csv.push_str(&format!(
            "{},{},{},{},{}\n",
            r.n[i],
            r.d[i],
            r.r_domain[i],
            r.general.as_ref().unwrap()[i],
            r.domain.as_ref().unwrap()[i]
        ));
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/dcpt_synthetic.csv");
    if std::env::var_os("DATAMILL_UPDATE_GOLDEN").is_some() {
        std::fs::write(path, &csv).unwrap();
    }
    assert_eq!(std::fs::read_to_string(path).unwrap(), csv);
}
