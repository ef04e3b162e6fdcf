//! `datamill scaling fit|predict|plot`: the clap arguments and the glue that reads the runs
//! and law files, calls `datamill_scaling` (fits, bootstrap, predictions, tables, plots) and
//! writes the law file, the plot files and the report.

// `!(x > 0.0)` is used on purpose: it is also true for NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use std::path::PathBuf;

pub mod dcpt;
pub mod quant;
pub mod vocab;

use datamill_scaling::ScalingError;
use datamill_scaling::bootstrap::{BootstrapOptions, BootstrapStart, bootstrap};
use datamill_scaling::data::{RunSelection, load_runs};
use datamill_scaling::fit::{FitOptions, FitResult, Grid, LawKind, fit, fit_from};
use datamill_scaling::lawfile::{LawFile, SourceInfo};
use datamill_scaling::laws::{Chinchilla, Kaplan, Law};
use datamill_scaling::plot::{PlotSpec, plot};
use datamill_scaling::predict::{PredictQuery, predict};
use datamill_scaling::report::{fit_table, formula, report_table};

/// `datamill scaling` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ScalingCommand {
    /// Fit a scaling law to runs in a CSV file; write a JSON law file and print a table.
    Fit(FitArgs),
    /// Predict from a law file: loss, compute-optimal N and D, data needed, epochs.
    Predict(PredictArgs),
    /// Plot runs and a law (PNG and SVG); D-CPT law files: loss vs ratio; `builtin:vocab` or a
    /// vocabulary law file: V_opt vs compute; `builtin:quant` or a quantization law file:
    /// loss increase vs tokens per bit width.
    Plot(PlotArgs),
    /// The D-CPT law: fit it to continual pre-training runs, plan the domain mixture ratio.
    #[command(subcommand)]
    Dcpt(dcpt::DcptCommand),
    /// The compute-optimal vocabulary size (Tao et al. 2024) by three approaches; `vocab fit`
    /// fits the parametric law to runs.
    Vocab(vocab::VocabArgs),
    /// The loss low-bit quantization adds (Ouyang et al. 2024) and the tokens before it
    /// exceeds a tolerance; `quant fit` fits the law to a measured table.
    Quant(quant::QuantArgs),
}

/// Where bootstrap refits start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BootstrapStartArg {
    /// From the full-data optimum.
    Fitted,
    /// From Hoffmann et al.'s unrounded values (Epoch's procedure; Chinchilla only).
    Hoffmann,
}

/// Input selection shared by `fit` and `plot`.
#[derive(Debug, Clone, clap::Args)]
pub struct InputArgs {
    /// Column mapping `KEY=COLUMN,...` with keys N, D, C (FLOP: D = C/(6N)),
    /// M (tokens per parameter: D = M·N), U (unique tokens), loss. Defaults
    /// recognise N/params_N/"Model Size", D/tokens_D, C/"Training FLOP",
    /// U/unique_tokens_U, loss/val_loss/loss_c4_val.
    #[arg(long)]
    pub columns: Option<String>,
    /// Keep only rows matching `COLUMN OP VALUE` (OP: = != < <= > >=;
    /// `COLUMN=V1|V2` matches any value); repeatable, all must hold.
    #[arg(long = "where", value_name = "FILTER")]
    pub filters: Vec<String>,
    /// Outlier rule: drop the K highest losses (keep a row iff loss < sorted(loss)[-K];
    /// Epoch uses 5).
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub drop_highest_loss: usize,
}

/// Arguments of `scaling fit`.
#[derive(Debug, Clone, clap::Args)]
pub struct FitArgs {
    /// CSV file with one training run per row.
    pub runs: PathBuf,
    /// The law to fit.
    #[arg(long, value_enum, default_value = "chinchilla")]
    pub law: LawKind,
    /// Input columns, filters and outlier rule.
    #[command(flatten)]
    pub input: InputArgs,
    /// Start grid, `NAME=START:STOP:STEP;NAME=V1|V2;...` over the optimizer
    /// coordinates (chinchilla: a, b, e, alpha, beta with A = e^a, B = e^b,
    /// E = e^e). Unnamed coordinates keep the standard grid (chinchilla: 4500 starts).
    #[arg(long)]
    pub grid: Option<String>,
    /// Start point(s) instead of the grid, comma-separated in grid
    /// coordinates; for data-constrained give R_D*,R_N* (e.g. 15,5).
    #[arg(long)]
    pub start: Vec<String>,
    /// Huber δ on log-loss residuals.
    #[arg(long, default_value_t = 1e-3)]
    pub huber_delta: f64,
    /// Base Chinchilla law for data-constrained fits (law file or builtin:NAME;
    /// default: Muennighoff et al.'s C4 constants).
    #[arg(long)]
    pub base: Option<String>,
    /// Number of bootstrap resamples: standard errors, 95% intervals of the parameters and of
    /// every prediction, and the ill-conditioned-fit warning (0 = none).
    #[arg(long, default_value_t = 200)]
    pub bootstrap: usize,
    /// Bootstrap seed (MT19937, NumPy-compatible resampling).
    #[arg(long, default_value_t = 42)]
    pub seed: u32,
    /// Where each bootstrap refit starts.
    #[arg(long, value_enum, default_value = "fitted")]
    pub bootstrap_start: BootstrapStartArg,
    /// Output law file (default: `<RUNS stem>.<law>.law.json` in the current directory).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

/// Arguments of `scaling predict`.
#[derive(Debug, Clone, clap::Args)]
pub struct PredictArgs {
    /// Law file written by `scaling fit`, or `builtin:NAME` (hoffmann,
    /// hoffmann-unrounded, epoch, muennighoff-c4, datablations).
    pub law: String,
    /// Parameter count(s) N, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub n: Vec<f64>,
    /// Training token count(s) D, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub d: Vec<f64>,
    /// Unique tokens U (data-constrained law; with --compute: the unique-token cap).
    #[arg(long)]
    pub u: Option<f64>,
    /// Compute budget(s) C in FLOP: compute-optimal N and D (C = 6ND).
    #[arg(long, value_delimiter = ',')]
    pub compute: Vec<f64>,
    /// Target loss: data needed at each --n, or the compute needed on the frontier.
    #[arg(long)]
    pub target_loss: Option<f64>,
    /// Epoch counts for the repetition cost at --n and --u (e.g. 1,2,4,8,16,40).
    #[arg(long, value_delimiter = ',')]
    pub epochs: Vec<f64>,
    /// Grid steps for the unique-cap allocation (datablations README: 500).
    #[arg(long, default_value_t = 500)]
    pub grid_steps: usize,
    /// Largest N↔D trade factor for the unique-cap allocation (README: 3).
    #[arg(long, default_value_t = 3.0)]
    pub grid_max_factor: f64,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `scaling plot`.
#[derive(Debug, Clone, clap::Args)]
pub struct PlotArgs {
    /// Law file (of `scaling fit`, `dcpt fit`, `vocab fit` or `quant fit`) or `builtin:NAME`
    /// (also `builtin:vocab` and `builtin:quant`, the published laws).
    pub law: String,
    /// Runs to draw as points (CSV).
    #[arg(long)]
    pub runs: Option<PathBuf>,
    /// Input columns, filters and outlier rule for --runs.
    #[command(flatten)]
    pub input: InputArgs,
    /// Output prefix: writes PREFIX.png and PREFIX.svg.
    #[arg(long, short, default_value = "scaling")]
    pub out: PathBuf,
    /// Extrapolate the frontier to this compute (FLOP; default 100× the largest run).
    #[arg(long)]
    pub max_compute: Option<f64>,
    /// Figure title.
    #[arg(long)]
    pub title: Option<String>,
    /// D-CPT and quantization plots: model parameters N (quantization default: 7e9).
    #[arg(long)]
    pub n: Option<f64>,
    /// D-CPT plot: training tokens D.
    #[arg(long)]
    pub d: Option<f64>,
    /// D-CPT plot: mark the best domain ratio within this general-loss budget (0.03 = 3 %).
    #[arg(long, value_name = "T")]
    pub max_general_increase: Option<f64>,
    /// D-CPT plot: L_g0 for the budget (default: the law at r_d = 0).
    #[arg(long)]
    pub general_baseline: Option<f64>,
    /// D-CPT plot: K of the general corpus (cross-domain laws).
    #[arg(long)]
    pub k_general: Option<f64>,
    /// D-CPT plot: K of the domain (cross-domain laws).
    #[arg(long)]
    pub k_domain: Option<f64>,
    /// Vocabulary plot: non-vocabulary sizes N_nv (default 3e8,3e9,7e9,70e9).
    #[arg(long, value_delimiter = ',')]
    pub params: Vec<f64>,
    /// Quantization plot: bit widths (default 2,3,4,8).
    #[arg(long, value_delimiter = ',')]
    pub bits: Vec<f64>,
    /// Quantization plot: the tolerated loss increase (marks where each bit width reaches it).
    #[arg(long, value_name = "DELTA")]
    pub max_increase: Option<f64>,
}

impl InputArgs {
    /// The library's view of these options.
    fn selection(&self) -> RunSelection {
        RunSelection {
            columns: self.columns.clone(),
            filters: self.filters.clone(),
            drop_highest_loss: self.drop_highest_loss,
        }
    }
}

impl PredictArgs {
    /// What to predict, for [`predict`].
    fn query(&self) -> PredictQuery {
        PredictQuery {
            n: self.n.clone(),
            d: self.d.clone(),
            u: self.u,
            compute: self.compute.clone(),
            target_loss: self.target_loss,
            epochs: self.epochs.clone(),
            grid_steps: self.grid_steps,
            grid_max_factor: self.grid_max_factor,
        }
    }
}

/// Run a `datamill scaling` subcommand; its report goes to `out`.
pub fn run(cmd: &ScalingCommand, out: &mut dyn std::io::Write) -> Result<(), ScalingError> {
    let text = match cmd {
        ScalingCommand::Fit(a) => {
            let (file, path) = run_fit(a)?;
            format!("{}wrote {}\n", fit_table(&file), path.display())
        }
        ScalingCommand::Predict(a) => {
            let law = LawFile::load(&a.law)?;
            let report = predict(&law, &a.query())?;
            if a.json {
                format!("{}\n", serde_json::to_string_pretty(&report)?)
            } else {
                report_table(&law, &report)
            }
        }
        ScalingCommand::Plot(a) => run_plot(a)?
            .iter()
            .map(|p| format!("wrote {}\n", p.display()))
            .collect(),
        ScalingCommand::Dcpt(c) => dcpt::run(c)?,
        ScalingCommand::Vocab(a) => vocab::run(a)?,
        ScalingCommand::Quant(a) => quant::run(a)?,
    };
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| ScalingError::Io {
            path: "<stdout>".into(),
            source: e,
        })
}

fn parse_list(s: &str) -> Result<Vec<f64>, ScalingError> {
    s.split(',')
        .map(|v| {
            v.trim().parse::<f64>().map_err(|_| {
                ScalingError::InvalidArgument(format!("--start `{s}`: `{v}` is not a number"))
            })
        })
        .collect()
}

/// `scaling fit`: fit, optionally bootstrap, write the law file. Returns the
/// law file and where it was written.
pub fn run_fit(a: &FitArgs) -> Result<(LawFile, PathBuf), ScalingError> {
    let kind = a.law;
    let (runs, rows_in_file) = load_runs(&a.runs, &a.input.selection(), kind.needs())?;
    let base = match &a.base {
        Some(spec) => match LawFile::load(spec)?.law.as_chinchilla() {
            Some(c) => Some(c),
            None => {
                return Err(ScalingError::Law(format!(
                    "--base {spec}: needs a Chinchilla-form law"
                )));
            }
        },
        None => None,
    };
    let mut opts = FitOptions {
        huber_delta: a.huber_delta,
        base,
        ..Default::default()
    };
    if !(a.huber_delta > 0.0) {
        return Err(ScalingError::InvalidArgument(
            "--huber-delta must be positive".into(),
        ));
    }
    if let Some(g) = &a.grid {
        opts.grid = Some(Grid::parse(kind, g)?);
    }
    let mut starts = Vec::new();
    for s in &a.start {
        let mut v = parse_list(s)?;
        if v.len() != kind.n_params() {
            return Err(ScalingError::InvalidArgument(format!(
                "--start `{s}`: {} values, the {} law has {} ({})",
                v.len(),
                kind.name(),
                kind.n_params(),
                kind.coordinate_names().join(", ")
            )));
        }
        if kind == LawKind::DataConstrained {
            if v.iter().any(|x| !(*x > 0.0)) {
                return Err(ScalingError::InvalidArgument(format!(
                    "--start `{s}`: R_D*, R_N* must be positive"
                )));
            }
            v = v.iter().map(|x| x.ln()).collect();
        }
        starts.push(v);
    }
    let result: FitResult = if starts.is_empty() || a.grid.is_some() {
        opts.extra_starts = starts;
        fit(kind, &runs, &opts)?
    } else {
        fit_from(kind, &runs, &starts, &opts)?
    };
    let boot = if a.bootstrap > 0 {
        let start = match a.bootstrap_start {
            BootstrapStartArg::Fitted => BootstrapStart::Fitted,
            BootstrapStartArg::Hoffmann => {
                if kind != LawKind::Chinchilla {
                    return Err(ScalingError::InvalidArgument(
                        "--bootstrap-start hoffmann needs --law chinchilla".into(),
                    ));
                }
                BootstrapStart::Law(Law::Chinchilla(Chinchilla::hoffmann_unrounded()))
            }
        };
        Some(bootstrap(
            kind,
            &runs,
            &result.law,
            &opts,
            &BootstrapOptions {
                resamples: a.bootstrap,
                seed: a.seed,
                start,
                level: 0.95,
            },
        )?)
    } else {
        None
    };
    let mut file = LawFile {
        format: datamill_scaling::lawfile::FORMAT.to_string(),
        law: result.law,
        source: Some(SourceInfo {
            file: a.runs.display().to_string(),
            rows_in_file,
            rows_used: runs.len(),
            columns: a.input.columns.clone(),
            filters: a.input.filters.clone(),
            dropped_highest_loss: a.input.drop_highest_loss,
        }),
        fit: Some(result),
        bootstrap: boot,
        warnings: Vec::new(),
    };
    file.warnings = file.warnings();
    let out = a.out.clone().unwrap_or_else(|| {
        let stem = a
            .runs
            .file_stem()
            .map_or("runs".into(), |s| s.to_string_lossy().to_string());
        PathBuf::from(format!("{stem}.{}.law.json", kind.name()))
    });
    file.write(&out)?;
    Ok((file, out))
}

/// `scaling plot`: returns the written files.
pub fn run_plot(a: &PlotArgs) -> Result<Vec<PathBuf>, ScalingError> {
    use datamill_scaling::figure::{self, DcptPlotOptions};
    use datamill_scaling::lawfile::AnyLaw;
    let file = match AnyLaw::load(&a.law)? {
        AnyLaw::Scaling(f) => f,
        AnyLaw::Dcpt(f) => {
            let (Some(n), Some(d)) = (a.n, a.d) else {
                return Err(ScalingError::InvalidArgument(
                    "the D-CPT plot (loss vs ratio) needs --n and --d".into(),
                ));
            };
            for (flag, v) in [("--n", n), ("--d", d)] {
                if !(v.is_finite() && v > 0.0) {
                    return Err(ScalingError::InvalidArgument(format!(
                        "{flag} {v}: must be finite and positive"
                    )));
                }
            }
            let mut fig = figure::dcpt_figure(
                &f,
                n,
                d,
                &DcptPlotOptions {
                    max_general_increase: a.max_general_increase,
                    general_baseline: a.general_baseline,
                    k_general: a.k_general,
                    k_domain: a.k_domain,
                },
            )?;
            if let Some(t) = &a.title {
                fig.title = t.clone();
            }
            return figure::render(&fig, &a.out);
        }
        AnyLaw::Vocab(f) => {
            let params = if a.params.is_empty() {
                vec![3e8, 3e9, 7e9, 70e9]
            } else {
                a.params.clone()
            };
            let mut fig = figure::vocab_figure(&f.law, f.draws(), &params)?;
            if let Some(t) = &a.title {
                fig.title = t.clone();
            }
            return figure::render(&fig, &a.out);
        }
        AnyLaw::Quant(f) => {
            let mut fig = figure::quant_figure(&f, a.n.unwrap_or(7e9), &a.bits, a.max_increase)?;
            if let Some(t) = &a.title {
                fig.title = t.clone();
            }
            return figure::render(&fig, &a.out);
        }
    };
    with_spec(a, file, |spec| plot(spec, &a.out))
}

/// `scaling plot`'s figure of a scaling law (Chinchilla, data-constrained, Kaplan, learning
/// curve) as one SVG document: the run report embeds it.
pub fn plot_svg(a: &PlotArgs) -> Result<String, ScalingError> {
    use datamill_scaling::lawfile::AnyLaw;
    match AnyLaw::load(&a.law)? {
        AnyLaw::Scaling(f) => with_spec(a, f, datamill_scaling::plot::svg_string),
        _ => Err(ScalingError::InvalidArgument(format!(
            "{}: the report embeds scaling laws (loss vs compute); plot D-CPT, vocabulary and \
             quantization laws with `datamill scaling plot`",
            a.law
        ))),
    }
}

/// Hands the figure's spec of scaling law `file` (with the runs `a` names) to `f`.
fn with_spec<T>(
    a: &PlotArgs,
    file: LawFile,
    f: impl FnOnce(&PlotSpec) -> Result<T, ScalingError>,
) -> Result<T, ScalingError> {
    let kind = match file.law {
        Law::DataConstrained(_) => LawKind::DataConstrained,
        Law::LearningCurve(_) => LawKind::LearningCurve,
        Law::Kaplan(Kaplan::N { .. }) => LawKind::KaplanN,
        Law::Kaplan(Kaplan::D { .. }) => LawKind::KaplanD,
        _ => LawKind::Chinchilla,
    };
    let runs = match &a.runs {
        Some(p) => Some(load_runs(p, &a.input.selection(), kind.needs())?.0),
        None => None,
    };
    let title = a
        .title
        .clone()
        .unwrap_or_else(|| format!("{}: {}", file.law.name(), formula(&file.law)));
    let spec = PlotSpec {
        law: &file.law,
        draws: file.draws(),
        runs: runs.as_ref(),
        max_compute: a.max_compute,
        title,
        level: file.bootstrap.as_ref().map_or(0.95, |b| b.level),
    };
    f(&spec)
}

#[cfg(test)]
mod tests {
    //! The `datamill scaling` subcommands end to end: argument parsing, the law file,
    //! bad-input messages, the learning curve, and plots.

    use super::*;
    use clap::Parser;

    /// [`super::run`] with its report discarded.
    fn run(cmd: &ScalingCommand) -> Result<(), ScalingError> {
        super::run(cmd, &mut std::io::sink())
    }

    /// Parses `datamill scaling ARGS...` as the binary does.
    fn parse(args: &[&str]) -> ScalingCommand {
        let mut v = vec!["datamill", "scaling"];
        v.extend_from_slice(args);
        match crate::Cli::try_parse_from(v)
            .expect("valid arguments")
            .command
        {
            crate::Command::Scaling(cmd) => cmd,
            _ => unreachable!("parsed as `scaling`"),
        }
    }

    /// `../shared/data/scaling/` relative to the repository root.
    const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/scaling/");

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
        assert!(
            svg.starts_with("<svg") && svg.contains("compute-optimal") && svg.contains("<polygon")
        );
    }

    /// `scaling predict --json` as text.
    fn predict_json(args: &[&str]) -> serde_json::Value {
        let mut v = vec!["predict"];
        v.extend_from_slice(args);
        v.push("--json");
        let mut out = Vec::new();
        super::run(&parse(&v), &mut out).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn bootstrap_by_default_labelled_intervals_and_ill_conditioned_warning() {
        let dir = tempfile::tempdir().unwrap();
        // Gadre's rpj models below 5e8 parameters (four sizes): a Chinchilla fit that the
        // runs do not determine. No --bootstrap: 200 seeded resamples by default.
        let law = dir.path().join("small.json");
        let csv = format!("{DATA}gadre-overtraining/gadre2024_models_loss.csv");
        let cmd = parse(&[
            "fit",
            &csv,
            "--columns",
            "N=params_N,D=tokens_D,loss=loss_c4_val",
            "--where",
            "train_dataset=rpj",
            "--where",
            "params_N<5e8",
            "-o",
            law.to_str().unwrap(),
        ]);
        let ScalingCommand::Fit(a) = &cmd else {
            panic!()
        };
        assert_eq!((a.bootstrap, a.seed), (200, 42));
        let ScalingCommand::Dcpt(dcpt::DcptCommand::Fit(d)) = parse(&["dcpt", "fit", "runs.csv"])
        else {
            panic!("dcpt fit")
        };
        assert_eq!(
            (d.bootstrap, d.seed),
            (200, 42),
            "dcpt fit bootstraps by default too"
        );
        let mut out = Vec::new();
        super::run(&cmd, &mut out).unwrap();
        let table = String::from_utf8(out).unwrap();
        assert!(
            table.contains("bootstrap  200 resamples (seed 42)"),
            "{table}"
        );
        assert!(
            table.contains("warning: ill-conditioned fit: the runs do not determine"),
            "{table}"
        );
        let file = LawFile::load(law.to_str().unwrap()).unwrap();
        assert!(file.bootstrap.as_ref().unwrap().draws.len() > 150);
        assert!(
            file.warnings.iter().any(|w| w.contains("ill-conditioned")),
            "{:?}",
            file.warnings
        );
        // predict says it too, in the table and in JSON.
        let v = predict_json(&[law.to_str().unwrap(), "--n", "1e9", "--d", "2e10"]);
        assert!(
            v["warnings"][0]
                .as_str()
                .unwrap()
                .contains("ill-conditioned"),
            "{v}"
        );

        // A well-determined fit (Epoch's 240 runs) has no warning; every predicted number
        // has a labelled interval.
        let law = dir.path().join("epoch.json");
        run(&parse(&[
            "fit",
            &epoch_csv(),
            "--drop-highest-loss",
            "5",
            "--start",
            "6.0073404,6.0179186,0.5267228,0.33917084,0.2849083",
            "--bootstrap",
            "60",
            "-o",
            law.to_str().unwrap(),
        ]))
        .unwrap();
        let v = predict_json(&[
            law.to_str().unwrap(),
            "--n",
            "7e10",
            "--d",
            "1.4e12",
            "--compute",
            "1e24",
        ]);
        assert_eq!(v["warnings"], serde_json::json!([]), "{v}");
        assert_eq!(v["draws"], 60);
        assert_eq!(v["level"], 0.95);
        let labelled = |x: &serde_json::Value, what: &str| {
            let iv = &x["interval"];
            let (lo, hi) = (iv["low"].as_f64().unwrap(), iv["high"].as_f64().unwrap());
            let val = x["value"]
                .as_f64()
                .unwrap_or_else(|| x["loss"].as_f64().unwrap());
            assert!(lo <= val && val <= hi, "{what}: {x}");
            assert_eq!(iv["level"], 0.95, "{what}");
        };
        labelled(&v["losses"][0], "loss");
        let co = &v["compute_optimal"][0];
        assert_eq!(co["compute"], 1e24);
        for k in ["n", "d", "loss"] {
            labelled(&co[k], k);
        }
        // --target-loss: the data needed at N and the compute needed, with intervals.
        let v = predict_json(&[law.to_str().unwrap(), "--target-loss", "2.1"]);
        let c = &v["compute_needed"];
        labelled(&c["compute"], "compute needed");
        labelled(&c["allocation"]["n"], "N at the compute needed");
        assert_eq!(c["unreachable_draws"], 0, "{c}");
        let v = predict_json(&[law.to_str().unwrap(), "--n", "1e9", "--target-loss", "2.4"]);
        let d = &v["data_needed"][0];
        let (lo, hi) = (
            d["interval"]["low"].as_f64().unwrap(),
            d["interval"]["high"].as_f64().unwrap(),
        );
        assert!(
            lo <= d["d"].as_f64().unwrap() && d["d"].as_f64().unwrap() <= hi,
            "{d}"
        );

        // Repetition: the epoch costs and the capped allocation have intervals too.
        let v = predict_json(&[
            law.to_str().unwrap(),
            "--n",
            "1e9",
            "--u",
            "1e10",
            "--epochs",
            "1,4",
            "--compute",
            "1e21",
            "--grid-steps",
            "50",
        ]);
        let e = &v["epochs"][1];
        let cost = e["loss_cost"].as_f64().unwrap();
        let iv = &e["loss_cost_interval"];
        assert!(
            iv["low"].as_f64().unwrap() <= cost && cost <= iv["high"].as_f64().unwrap(),
            "{e}"
        );
        assert!(e["loss_repeated_interval"]["low"].is_f64(), "{e}");
        let c = &v["capped_allocation"][0];
        let n = c["allocation"]["n"].as_f64().unwrap();
        assert!(
            c["n_interval"]["low"].as_f64().unwrap() <= n
                && n <= c["n_interval"]["high"].as_f64().unwrap(),
            "{c}"
        );
        assert_eq!(c["loss_interval"]["level"], 0.95);

        // --bootstrap 0 is allowed, and says that there are no intervals.
        let law0 = dir.path().join("none.json");
        run(&parse(&[
            "fit",
            &epoch_csv(),
            "--start",
            "6.0073404,6.0179186,0.5267228,0.33917084,0.2849083",
            "--bootstrap",
            "0",
            "-o",
            law0.to_str().unwrap(),
        ]))
        .unwrap();
        let v = predict_json(&[law0.to_str().unwrap(), "--n", "7e10", "--d", "1.4e12"]);
        assert!(v["losses"][0].get("interval").is_none(), "{v}");
        assert!(
            v["warnings"][0].as_str().unwrap().contains("no bootstrap"),
            "{v}"
        );
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
}
