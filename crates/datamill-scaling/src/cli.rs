//! The `datamill scaling <fit|predict|plot>` subcommands: clap types and
//! [`run`], which does all the work (reads files, prints tables, writes
//! outputs).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::bootstrap::{BootstrapOptions, BootstrapStart, bootstrap, interval};
use crate::data::{ColumnMap, RowFilter, Runs, Table, extract_runs};
use crate::error::ScalingError;
use crate::fit::{FitOptions, FitResult, Grid, LawKind, Problem, fit, fit_from};
use crate::lawfile::{LawFile, SourceInfo};
use crate::laws::{Allocation, Chinchilla, DataConstrained, Law};
use crate::plot::{PlotSpec, plot};

/// `datamill scaling` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ScalingCommand {
    /// Fit a scaling law to runs in a CSV file; write a JSON law file and print a table.
    Fit(FitArgs),
    /// Predict from a law file: loss, compute-optimal N and D, data needed, epochs.
    Predict(PredictArgs),
    /// Plot runs and a law (PNG and SVG).
    Plot(PlotArgs),
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
    /// Number of bootstrap resamples (0 = none).
    #[arg(long, default_value_t = 0)]
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
    /// Law file or `builtin:NAME`.
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
            let report = predict(&law, a)?;
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
    };
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| ScalingError::Io {
            path: "<stdout>".into(),
            source: e,
        })
}

/// Read runs as `fit` and `plot` do.
pub fn load_runs(
    path: &Path,
    input: &InputArgs,
    kind: LawKind,
) -> Result<(Runs, usize), ScalingError> {
    let table = Table::read(path)?;
    let cols = match &input.columns {
        Some(s) => ColumnMap::parse(s)?,
        None => ColumnMap::default(),
    };
    let filters = input
        .filters
        .iter()
        .map(|f| RowFilter::parse(f))
        .collect::<Result<Vec<_>, _>>()?;
    let runs = extract_runs(&table, &cols, &filters, kind.needs())?
        .drop_highest_losses(input.drop_highest_loss);
    Ok((runs, table.rows.len()))
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
    let (runs, rows_in_file) = load_runs(&a.runs, &a.input, kind)?;
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
    let file = LawFile {
        format: crate::lawfile::FORMAT.to_string(),
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
    };
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

fn formula(law: &Law) -> &'static str {
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
    s
}

/// One loss prediction.
#[derive(Debug, Clone, Serialize)]
pub struct LossPoint {
    /// Parameters.
    pub n: f64,
    /// Tokens.
    pub d: f64,
    /// Unique tokens, if given.
    pub u: Option<f64>,
    /// Predicted loss.
    pub loss: f64,
    /// Bootstrap interval of the loss, when the law file has draws.
    pub interval: Option<(f64, f64)>,
}

/// Data needed at a model size.
#[derive(Debug, Clone, Serialize)]
pub struct DataNeeded {
    /// Parameters.
    pub n: f64,
    /// Target loss.
    pub target: f64,
    /// Tokens needed, `None` = unreachable.
    pub d: Option<f64>,
    /// The floor of the loss at this N (infinite data, and U when given).
    pub floor: f64,
}

/// Compute needed on the frontier to reach a target.
#[derive(Debug, Clone, Serialize)]
pub struct ComputeNeeded {
    /// Target loss.
    pub target: f64,
    /// The allocation at that compute, `None` = unreachable (target ≤ E).
    pub allocation: Option<Allocation>,
}

/// One row of the epochs-vs-fresh-data table.
#[derive(Debug, Clone, Serialize)]
pub struct EpochCost {
    /// Number of epochs over U unique tokens.
    pub epochs: f64,
    /// Total tokens D = epochs · U.
    pub d: f64,
    /// Loss training on U unique tokens repeated.
    pub loss_repeated: f64,
    /// Loss with D fresh tokens.
    pub loss_fresh: f64,
    /// loss_repeated − loss_fresh.
    pub loss_cost: f64,
    /// Effective data D'/U.
    pub effective_epochs: f64,
    /// (D' − U)/(D − U): the value of a repeated token relative to a fresh one.
    pub repeated_token_value: Option<f64>,
}

/// Bootstrap interval of an allocation: `(n_low, n_high, d_low, d_high)`.
pub type AllocationInterval = (f64, f64, f64, f64);

/// Everything `predict` computed.
#[derive(Debug, Clone, Serialize, Default)]
pub struct PredictReport {
    /// The law's name.
    pub law: String,
    /// Losses at (N, D[, U]).
    pub losses: Vec<LossPoint>,
    /// Compute-optimal allocations with fresh data (and their intervals as
    /// `(n_lo, n_hi, d_lo, d_hi)`).
    pub compute_optimal: Vec<(Allocation, Option<AllocationInterval>)>,
    /// Best allocation under the unique-token cap with repetition (data-constrained law).
    pub capped_allocation: Vec<CappedAllocation>,
    /// Data needed at fixed N.
    pub data_needed: Vec<DataNeeded>,
    /// Compute needed on the frontier.
    pub compute_needed: Option<ComputeNeeded>,
    /// Epoch costs.
    pub epochs: Vec<EpochCost>,
    /// Notes (assumptions made).
    pub notes: Vec<String>,
}

/// The datablations grid allocation for one budget.
#[derive(Debug, Clone, Serialize)]
pub struct CappedAllocation {
    /// The unique-token cap.
    pub unique_cap: f64,
    /// The best allocation found.
    pub allocation: Allocation,
    /// Epochs = D / min(U, D).
    pub epochs: f64,
    /// The fresh-data optimum's loss evaluated with the cap (for comparison).
    pub loss_at_fresh_optimum: f64,
}

/// Compute the predictions asked for in `a`.
pub fn predict(file: &LawFile, a: &PredictArgs) -> Result<PredictReport, ScalingError> {
    let law = &file.law;
    let draws = file.draws();
    let level = file.bootstrap.as_ref().map_or(0.95, |b| b.level);
    let mut rep = PredictReport {
        law: law.name().to_string(),
        ..Default::default()
    };
    let check = |what: &str, v: f64| -> Result<(), ScalingError> {
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            Err(ScalingError::InvalidArgument(format!(
                "{what} must be finite and positive, got {v}"
            )))
        }
    };
    for &v in &a.n {
        check("--n", v)?;
    }
    for &v in &a.d {
        check("--d", v)?;
    }
    for &v in &a.compute {
        check("--compute", v)?;
    }
    if let Some(u) = a.u {
        check("--u", u)?;
    }
    let needs_n = !matches!(
        law,
        Law::LearningCurve(_) | Law::Kaplan(crate::laws::Kaplan::D { .. })
    );
    let needs_d = !matches!(law, Law::Kaplan(crate::laws::Kaplan::N { .. }));
    // Losses.
    let ns: Vec<f64> = if a.n.is_empty() && !needs_n {
        vec![f64::NAN]
    } else {
        a.n.clone()
    };
    let ds: Vec<f64> = if a.d.is_empty() && !needs_d {
        vec![f64::NAN]
    } else {
        a.d.clone()
    };
    if !a.d.is_empty() || (!needs_d && !a.n.is_empty()) {
        if ns.is_empty() {
            return Err(ScalingError::InvalidArgument(format!(
                "the {} law needs --n",
                law.name()
            )));
        }
        for &n in &ns {
            for &d in &ds {
                let loss = law.loss(n, d, a.u);
                let iv = interval(draws, level, |l| Some(l.loss(n, d, a.u)));
                rep.losses.push(LossPoint {
                    n,
                    d,
                    u: a.u,
                    loss,
                    interval: iv,
                });
            }
        }
    }
    // Compute-optimal.
    for &c in &a.compute {
        let Some(opt) = law.compute_optimal(c) else {
            return Err(ScalingError::Law(format!(
                "the {} law does not depend on both N and D, so a compute budget cannot be split",
                law.name()
            )));
        };
        let ni = interval(draws, level, |l| l.compute_optimal(c).map(|o| o.n));
        let di = interval(draws, level, |l| l.compute_optimal(c).map(|o| o.d));
        rep.compute_optimal
            .push((opt, ni.zip(di).map(|(n, d)| (n.0, n.1, d.0, d.1))));
        if let Some(u) = a.u {
            let dc = data_constrained_view(law, &mut rep.notes)?;
            let best = dc.optimal_allocation(c, u, a.grid_steps.max(1), a.grid_max_factor);
            let fresh = dc.base.compute_optimal(c);
            rep.capped_allocation.push(CappedAllocation {
                unique_cap: u,
                allocation: best,
                epochs: best.d / u.min(best.d),
                loss_at_fresh_optimum: dc.loss(fresh.n, fresh.d, u.min(fresh.d)),
            });
        }
    }
    // Target loss.
    if let Some(t) = a.target_loss {
        if a.n.is_empty() && !needs_n {
            rep.data_needed.push(DataNeeded {
                n: f64::NAN,
                target: t,
                d: law.data_for_loss(t, f64::NAN, a.u),
                floor: law.loss(f64::NAN, f64::INFINITY, None),
            });
        } else if a.n.is_empty() {
            let c = law.as_chinchilla().ok_or_else(|| {
                ScalingError::Law(format!(
                    "--target-loss without --n needs a law with a compute-optimal frontier; give --n for the {} law",
                    law.name()
                ))
            })?;
            rep.compute_needed = Some(ComputeNeeded {
                target: t,
                allocation: c.compute_for_loss(t).map(|cc| c.compute_optimal(cc)),
            });
        } else {
            for &n in &a.n {
                let floor = law.loss(n, f64::INFINITY, None);
                let floor = if let (Law::DataConstrained(dc), Some(u)) = (law, a.u) {
                    let np = dc.effective_params(n, u);
                    dc.base.e
                        + dc.base.a / np.powf(dc.base.alpha)
                        + dc.base.b / (u * (1.0 + dc.rd_star)).powf(dc.base.beta)
                } else {
                    floor
                };
                rep.data_needed.push(DataNeeded {
                    n,
                    target: t,
                    d: law.data_for_loss(t, n, a.u),
                    floor,
                });
            }
        }
    }
    // Epochs.
    if !a.epochs.is_empty() {
        let (Some(u), false) = (a.u, a.n.is_empty()) else {
            return Err(ScalingError::InvalidArgument(
                "--epochs needs --n and --u (unique tokens)".into(),
            ));
        };
        let dc = data_constrained_view(law, &mut rep.notes)?;
        for &n in &a.n {
            for &k in &a.epochs {
                check("--epochs", k)?;
                let d = k * u;
                let rep_l = dc.loss(n, d, u);
                let fresh = dc.loss(n, d, d);
                let dp = dc.effective_data(d, u);
                rep.epochs.push(EpochCost {
                    epochs: k,
                    d,
                    loss_repeated: rep_l,
                    loss_fresh: fresh,
                    loss_cost: rep_l - fresh,
                    effective_epochs: dp / u,
                    repeated_token_value: (k > 1.0).then(|| (dp - u) / (d - u)),
                });
            }
        }
    }
    Ok(rep)
}

/// The data-constrained view of a law: itself, or R* from Muennighoff et al.
/// on top of a Chinchilla-form law (noted in the report).
fn data_constrained_view(
    law: &Law,
    notes: &mut Vec<String>,
) -> Result<DataConstrained, ScalingError> {
    match law {
        Law::DataConstrained(dc) => Ok(*dc),
        other => {
            let base = other.as_chinchilla().ok_or_else(|| {
                ScalingError::Law(format!(
                    "repetition needs a Chinchilla-form or data-constrained law, not {}",
                    other.name()
                ))
            })?;
            let pubd = DataConstrained::muennighoff();
            let note = format!(
                "the {} law has no repetition terms: using Muennighoff et al.'s R_D* = {}, R_N* = {} on top of it",
                other.name(),
                pubd.rd_star,
                pubd.rn_star
            );
            if !notes.contains(&note) {
                notes.push(note);
            }
            Ok(DataConstrained { base, ..pubd })
        }
    }
}

fn fmt_iv(iv: Option<(f64, f64)>) -> String {
    iv.map_or(String::new(), |(l, h)| {
        format!("  [{}, {}]", fmt_num(l, 5), fmt_num(h, 5))
    })
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
    if file.bootstrap.is_some() {
        let _ = writeln!(
            s,
            "     intervals: 95% bootstrap percentiles over the law file's draws"
        );
    }
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
                fmt_iv(p.interval)
            );
        }
    }
    if !r.compute_optimal.is_empty() {
        let _ = writeln!(s, "\ncompute-optimal allocation (C = 6ND, fresh data)");
        for (o, iv) in &r.compute_optimal {
            let _ = write!(
                s,
                "  C={:.4e}  N_opt={:.6e}  D_opt={:.6e}  D/N={:.2}  L={:.6}",
                o.compute,
                o.n,
                o.d,
                o.d / o.n,
                o.loss
            );
            if let Some((nl, nh, dl, dh)) = iv {
                let _ = write!(s, "  N in [{nl:.3e}, {nh:.3e}], D in [{dl:.3e}, {dh:.3e}]");
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
                "  C={:.4e} U={:.4e}  N={:.6e}  D={:.6e}  epochs={:.4}  L={:.6}  (fresh-data optimum under the cap: L={:.6})",
                a.compute, c.unique_cap, a.n, a.d, c.epochs, a.loss, c.loss_at_fresh_optimum
            );
        }
    }
    if !r.data_needed.is_empty() {
        let _ = writeln!(s, "\ndata needed to reach the target loss");
        for d in &r.data_needed {
            match d.d {
                Some(v) => {
                    let _ = writeln!(s, "  N={:.4e}  L*={}  D = {:.6e} tokens", d.n, d.target, v);
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
        match c.allocation {
            Some(a) => {
                let _ = writeln!(
                    s,
                    "  L*={}  C = {:.6e} FLOP  N={:.4e}  D={:.4e}",
                    c.target, a.compute, a.n, a.d
                );
            }
            None => {
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

/// `scaling plot`: returns the written files.
pub fn run_plot(a: &PlotArgs) -> Result<Vec<PathBuf>, ScalingError> {
    let file = LawFile::load(&a.law)?;
    let kind = match file.law {
        Law::DataConstrained(_) => LawKind::DataConstrained,
        Law::LearningCurve(_) => LawKind::LearningCurve,
        Law::Kaplan(crate::laws::Kaplan::N { .. }) => LawKind::KaplanN,
        Law::Kaplan(crate::laws::Kaplan::D { .. }) => LawKind::KaplanD,
        _ => LawKind::Chinchilla,
    };
    let runs = match &a.runs {
        Some(p) => Some(load_runs(p, &a.input, kind)?.0),
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
    plot(&spec, &a.out)
}

/// Re-evaluate a fit's objective for a law on runs (used by tests and docs).
pub fn objective_at(
    kind: LawKind,
    runs: &Runs,
    law: &Law,
    delta: f64,
) -> Result<f64, ScalingError> {
    let p = Problem::new(
        kind,
        runs,
        &FitOptions {
            huber_delta: delta,
            ..Default::default()
        },
    )?;
    let th = p.from_law(law).ok_or_else(|| {
        ScalingError::Law(format!(
            "a {} law cannot be evaluated as {}",
            law.name(),
            kind.name()
        ))
    })?;
    Ok(p.objective(&th, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fmt_num_switches_notation() {
        assert_eq!(fmt_num(1.81722, 5), "1.8172");
        assert_eq!(fmt_num(2143.42, 6), "2143.42");
        assert_eq!(fmt_num(7.2e10, 3), "7.20e10");
    }

    #[test]
    fn predict_reports_unreachable() {
        let f = LawFile::builtin("hoffmann").unwrap();
        let a = PredictArgs {
            law: "builtin:hoffmann".into(),
            n: vec![1e9],
            d: vec![],
            u: None,
            compute: vec![],
            target_loss: Some(1.8),
            epochs: vec![],
            grid_steps: 500,
            grid_max_factor: 3.0,
            json: false,
        };
        let r = predict(&f, &a).unwrap();
        assert!(r.data_needed[0].d.is_none());
        let t = report_table(&f, &r);
        assert!(t.contains("unreachable"), "{t}");
    }
}
