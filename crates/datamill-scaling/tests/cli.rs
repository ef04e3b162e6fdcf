//! The `datamill scaling` subcommands end to end: argument parsing, the law
//! file, bad-input messages, the other laws, and plots.

mod common;

use clap::Parser;
use common::*;
use datamill_scaling::cli::{fit_table, run_fit, run_plot};
use datamill_scaling::lawfile::LawFile;
use datamill_scaling::laws::Law;
use datamill_scaling::{ScalingCommand, ScalingError};

/// `datamill_scaling::run` with its report discarded.
fn run(cmd: &ScalingCommand) -> Result<(), ScalingError> {
    datamill_scaling::run(cmd, &mut std::io::sink())
}

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: ScalingCommand,
}

fn parse(args: &[&str]) -> ScalingCommand {
    let mut v = vec!["scaling"];
    v.extend_from_slice(args);
    Cli::try_parse_from(v).expect("valid arguments").cmd
}

fn epoch_csv() -> String {
    format!("{DATA}epoch-chinchilla/svg_extracted_data.csv")
}

#[test]
fn fit_writes_full_precision_law_file_with_bootstrap() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("epoch.json");
    let cmd = parse(&[
        "fit",
        &epoch_csv(),
        "--law",
        "chinchilla",
        "--columns",
        "N=Model Size,C=Training FLOP,loss=loss",
        "--drop-highest-loss",
        "5",
        "--grid",
        "a=5|6;b=7|8;e=0.5;alpha=0.3|0.5;beta=0.3|0.5",
        "--bootstrap",
        "100",
        "--seed",
        "3",
        "-o",
        out.to_str().unwrap(),
    ]);
    let ScalingCommand::Fit(a) = &cmd else {
        panic!()
    };
    let (file, path) = run_fit(a).unwrap();
    assert_eq!(path, out);
    let fit = file.fit.as_ref().unwrap();
    assert_eq!(fit.starts, 16);
    assert_eq!(fit.n_points, 240);
    assert!(fit.objective <= 0.0010183, "{}", fit.objective);
    // The file round-trips every bit of the parameters.
    let back = LawFile::load(out.to_str().unwrap()).unwrap();
    assert_eq!(back.law, file.law);
    assert_eq!(back.bootstrap.as_ref().unwrap().draws.len(), 100);
    let table = fit_table(&back);
    for want in [
        "chinchilla",
        "240 of 245 rows",
        "SE",
        "alpha",
        "compute-optimal",
    ] {
        assert!(table.contains(want), "missing {want} in\n{table}");
    }
    // And `run` itself works on the same arguments.
    run(&cmd).unwrap();
}

#[test]
fn predict_and_plot_from_law_file() {
    let dir = tempfile::tempdir().unwrap();
    let law = dir.path().join("law.json");
    let cmd = parse(&[
        "fit",
        &epoch_csv(),
        "--drop-highest-loss",
        "5",
        "--start",
        "6.0073404,6.0179186,0.5267228,0.33917084,0.2849083",
        "--bootstrap",
        "40",
        "-o",
        law.to_str().unwrap(),
    ]);
    run(&cmd).unwrap();
    run(&parse(&[
        "predict",
        law.to_str().unwrap(),
        "--n",
        "7e10",
        "--d",
        "1.4e12",
        "--compute",
        "1e24",
        "--target-loss",
        "2.0",
    ]))
    .unwrap();
    run(&parse(&[
        "predict",
        law.to_str().unwrap(),
        "--n",
        "1e9",
        "--u",
        "1e10",
        "--epochs",
        "1,2,4,16",
        "--json",
    ]))
    .unwrap();
    let prefix = dir.path().join("plot");
    let cmd = parse(&[
        "plot",
        law.to_str().unwrap(),
        "--runs",
        &epoch_csv(),
        "--drop-highest-loss",
        "5",
        "--max-compute",
        "1e25",
        "-o",
        prefix.to_str().unwrap(),
    ]);
    let ScalingCommand::Plot(p) = &cmd else {
        panic!()
    };
    let files = run_plot(p).unwrap();
    let png = std::fs::read(&files[0]).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(png.len() > 20_000, "PNG too small: {}", png.len());
    let svg = std::fs::read_to_string(&files[1]).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("compute-optimal") && svg.contains("<polygon"));
}

#[test]
fn bad_input_messages_name_the_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("runs.csv");
    let fit = |text: &str, extra: &[&str]| -> String {
        std::fs::write(&csv, text).unwrap();
        let mut args = vec!["fit", csv.to_str().unwrap(), "-o"];
        let out = dir.path().join("o.json");
        let out = out.to_str().unwrap().to_string();
        args.push(&out);
        args.extend_from_slice(extra);
        run(&parse(&args)).unwrap_err().to_string()
    };
    let e = fit("N,D,loss\n1e8,1e9,3.1\n2e8,2e9,nan\n", &[]);
    assert!(
        e.contains("row 2") && e.contains("`loss`") && e.contains("NaN"),
        "{e}"
    );
    let e = fit("N,D,loss\n1e8,1e9,3.1\n2e8,0,3.0\n", &[]);
    assert!(
        e.contains("row 2") && e.contains("`D`") && e.contains("not positive"),
        "{e}"
    );
    let e = fit("N,D,loss\n1e8,1e9,3.1\n2e8,abc,3.0\n", &[]);
    assert!(
        e.contains("row 2") && e.contains("`abc` is not a number"),
        "{e}"
    );
    let e = fit("N,tokens,loss\n1e8,1e9,3.1\n", &["--columns", "D=toks"]);
    assert!(
        e.contains("missing column `toks`") && e.contains("N, tokens, loss"),
        "{e}"
    );
    let e = fit("params,loss\n1e8,3.1\n", &[]);
    assert!(e.contains("token column"), "{e}");
    let e = fit("N,D,loss\n1e8,1e9,3.1\n2e8,2e9,3.0\n4e8,4e9,2.9\n", &[]);
    assert!(
        e.contains("too few points for the chinchilla law: 3 rows, need at least 6"),
        "{e}"
    );
    let e = fit(
        "N,D,U,loss\n1e8,1e9,2e9,3.1\n",
        &["--law", "data-constrained"],
    );
    assert!(
        e.contains("row 1") && e.contains("exceed total tokens"),
        "{e}"
    );
}

#[test]
fn learning_curve_one_model_size() {
    // Gadre's rpj 412M model at 8 token multipliers (Hestness setting).
    let dir = tempfile::tempdir().unwrap();
    let csv = format!("{DATA}gadre-overtraining/gadre2024_models_loss.csv");
    let out = dir.path().join("lc.json");
    let base = [
        "fit",
        &csv,
        "--law",
        "learning-curve",
        "--columns",
        "N=params_N,D=tokens_D,loss=loss_c4_val",
        "--where",
        "train_dataset=rpj",
    ];
    let mut args = base.to_vec();
    args.extend_from_slice(&[
        "--where",
        "model_name=d=1024_l=24_h=8",
        "-o",
        out.to_str().unwrap(),
    ]);
    let ScalingCommand::Fit(a) = parse(&args) else {
        panic!()
    };
    let (file, _) = run_fit(&a).unwrap();
    let Law::LearningCurve(lc) = file.law else {
        panic!()
    };
    let fit = file.fit.unwrap();
    assert_eq!(fit.n_points, 8);
    assert!(fit.r2 > 0.97, "{fit:?}");
    assert!(
        lc.beta > 0.05 && lc.beta < 2.0 && lc.e > 1.0 && lc.e < 3.0,
        "{lc:?}"
    );
    // Several sizes at once is refused with a hint.
    let mut args = base.to_vec();
    args.extend_from_slice(&["-o", out.to_str().unwrap()]);
    let e = run(&parse(&args)).unwrap_err().to_string();
    assert!(e.contains("one model size"), "{e}");
}

#[test]
fn kaplan_forms_fit() {
    let runs = epoch_runs();
    use datamill_scaling::fit::{FitOptions, LawKind, fit};
    let r = fit(LawKind::Kaplan, &runs, &FitOptions::default()).unwrap();
    assert!(r.r2 > 0.95, "{r:?}");
    let Law::Kaplan(k) = r.law else { panic!() };
    // Compute-optimal allocation by numeric search exists and grows with C.
    let law = Law::Kaplan(k);
    let a = law.compute_optimal(1e21).unwrap();
    let b = law.compute_optimal(1e23).unwrap();
    assert!(b.n > a.n && b.d > a.d, "{a:?} {b:?}");
    // L(N) on the compute-optimal-ish runs (cc_mult = 1) of Gadre's rpj set.
    let g = gadre_runs(&["train_dataset=rpj", "cc_mult=1"]);
    let r = fit(LawKind::KaplanN, &g, &FitOptions::default()).unwrap();
    let Law::Kaplan(datamill_scaling::laws::Kaplan::N { alpha_n, .. }) = r.law else {
        panic!()
    };
    assert!(alpha_n > 0.02 && alpha_n < 0.5 && r.r2 > 0.95, "{r:?}");
}

#[test]
fn gadre_approach3_baseline_small_models() {
    // Our 5-parameter approach-3 fit on all rpj models <= 412M under-predicts
    // the 7B C4 loss by about 3.0% (gadre README table).
    use datamill_scaling::fit::{FitOptions, Grid, LawKind, fit};
    let runs = gadre_runs(&["train_dataset=rpj", "params_N<=412000000"]);
    // A documented subset of the standard grid (alpha, beta in {0, 0.5, 1}) keeps this fast in debug builds.
    let grid = Grid::parse(LawKind::Chinchilla, "alpha=0|0.5|1;beta=0|0.5|1").unwrap();
    let r = fit(
        LawKind::Chinchilla,
        &runs,
        &FitOptions {
            grid: Some(grid),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(rel(r.objective, 4.072e-4) < 0.01, "{r:?}");
    let held = gadre_runs(&["train_dataset=rpj", "params_N>6000000000"]);
    let err = (r.law.loss(held.n[0], held.d[0], None) - held.loss[0]) / held.loss[0];
    assert!(
        (err * 100.0 + 3.02).abs() < 0.3,
        "7B error {:.3}%",
        err * 100.0
    );
}
