//! `datamill scaling dcpt fit|plan`: the D-CPT law (Que et al. 2024) fitted from continual
//! pre-training runs, and the mixture-ratio planner over its law file.

use std::path::PathBuf;

use datamill_scaling::ScalingError;
use datamill_scaling::dcpt::fit::{
    DcptFile, DcptFitOptions, DcptSource, FORMAT, Which, bootstrap, fit, load_runs,
};
use datamill_scaling::dcpt::plan::{DcptQuery, mix_snippet, plan};
use datamill_scaling::lawfile::write_text_atomic;
use datamill_scaling::report::{dcpt_fit_table, dcpt_plan_table};

/// `datamill scaling dcpt` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum DcptCommand {
    /// Fit the D-CPT law L(N,D,r) = E + A/N^α + B·r^η/D^β + C/(r+ε)^γ to the general and the
    /// domain loss of continual pre-training runs (CSV: N, D, r = domain share, losses).
    Fit(DcptFitArgs),
    /// Plan the domain share from a D-CPT law file: within a general-loss budget, with
    /// limited domain tokens, for a target domain loss, or compute-optimal at a share.
    Plan(DcptPlanArgs),
}

/// Arguments of `scaling dcpt fit`.
#[derive(Debug, Clone, clap::Args)]
pub struct DcptFitArgs {
    /// CSV file with one run per row.
    pub runs: PathBuf,
    /// Column mapping `KEY=COLUMN,...` with keys N, D, r (domain share 0..1), general
    /// (general-corpus loss), domain (domain-corpus loss), K (domain coefficient).
    /// Defaults recognise N/params, D/tokens, r/r_d/domain_ratio/ratio,
    /// general_loss/L_g/loss_g, domain_loss/L_d/loss_d, K.
    #[arg(long)]
    pub columns: Option<String>,
    /// Keep only rows matching `COLUMN OP VALUE` (OP: = != < <= > >=); repeatable.
    #[arg(long = "where", value_name = "FILTER")]
    pub filters: Vec<String>,
    /// Fit the cross-domain form L3 + F/K^μ (needs the K column; runs of ≥ 2 domains).
    #[arg(long)]
    pub cross_domain: bool,
    /// Huber δ on log-loss residuals.
    #[arg(long, default_value_t = 1e-3)]
    pub huber_delta: f64,
    /// Local L-BFGS starts (the best least-squares starts of the exponent grid).
    #[arg(long, default_value_t = 32)]
    pub starts: usize,
    /// Bootstrap resamples, on by default as for `scaling fit` (0 = none); each refits both
    /// losses on the same rows.
    #[arg(long, default_value_t = 200)]
    pub bootstrap: usize,
    /// Bootstrap seed (MT19937, NumPy-compatible resampling).
    #[arg(long, default_value_t = 42)]
    pub seed: u32,
    /// Output law file (default: `<RUNS stem>.dcpt.law.json`).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

/// Arguments of `scaling dcpt plan`.
#[derive(Debug, Clone, clap::Args)]
pub struct DcptPlanArgs {
    /// A law file written by `datamill scaling dcpt fit`.
    pub law: PathBuf,
    /// Parameters N of the model.
    #[arg(long)]
    pub n: Option<f64>,
    /// Training tokens D (the token budget).
    #[arg(long)]
    pub d: Option<f64>,
    /// Compute budget in FLOP: D = C/(6N) with --n; compute-optimal N and D at --ratio without.
    #[arg(long)]
    pub compute: Option<f64>,
    /// A fixed domain share r_d in (0, 1].
    #[arg(long)]
    pub ratio: Option<f64>,
    /// General-loss budget: L_g may rise to (1 + T)·L_g0 (0.03 = 3 %); prints the best r_d.
    #[arg(long, value_name = "T")]
    pub max_general_increase: Option<f64>,
    /// L_g0 for the budget, e.g. the general loss before continual pre-training (default:
    /// the law at r_d = 0, general data only, at the same N and D).
    #[arg(long)]
    pub general_baseline: Option<f64>,
    /// Domain tokens available (used once): the best r_d and D = D_dom/r_d.
    #[arg(long)]
    pub domain_tokens: Option<f64>,
    /// Target domain loss: tokens needed at --n and --ratio.
    #[arg(long)]
    pub target_domain_loss: Option<f64>,
    /// K of the general corpus (cross-domain law).
    #[arg(long)]
    pub k_general: Option<f64>,
    /// K of the domain (cross-domain law).
    #[arg(long)]
    pub k_domain: Option<f64>,
    /// Print JSON (every answer as {"value", "interval": {"low", "high", "level"}}).
    #[arg(long)]
    pub json: bool,
    /// Write the chosen ratio as a `datamill mix` phase (TOML snippet) to this file.
    #[arg(long, value_name = "FILE")]
    pub emit_mix: Option<PathBuf>,
    /// Source name of the general (replayed) corpus in the emitted mixture snippet.
    #[arg(long, default_value = "general")]
    pub general_source: String,
    /// Source name of the domain corpus in the emitted mixture snippet.
    #[arg(long, default_value = "domain")]
    pub domain_source: String,
}

impl DcptPlanArgs {
    /// The library's query.
    fn query(&self) -> DcptQuery {
        DcptQuery {
            n: self.n,
            d: self.d,
            compute: self.compute,
            ratio: self.ratio,
            max_general_increase: self.max_general_increase,
            general_baseline: self.general_baseline,
            domain_tokens: self.domain_tokens,
            target_domain_loss: self.target_domain_loss,
            k_general: self.k_general,
            k_domain: self.k_domain,
        }
    }
}

/// Runs a `dcpt` subcommand and returns its report.
pub fn run(cmd: &DcptCommand) -> Result<String, ScalingError> {
    match cmd {
        DcptCommand::Fit(a) => {
            let (file, path) = run_fit(a)?;
            Ok(format!(
                "{}wrote {}\n",
                dcpt_fit_table(&file),
                path.display()
            ))
        }
        DcptCommand::Plan(a) => run_plan(a),
    }
}

/// `dcpt fit`: fits the losses the file has, optionally bootstraps, writes the law file.
pub fn run_fit(a: &DcptFitArgs) -> Result<(DcptFile, PathBuf), ScalingError> {
    if !(a.huber_delta > 0.0) {
        return Err(ScalingError::InvalidArgument(format!(
            "--huber-delta {}: must be positive",
            a.huber_delta
        )));
    }
    let (runs, rows_in_file) = load_runs(&a.runs, a.columns.as_deref(), &a.filters)?;
    let opts = DcptFitOptions {
        huber_delta: a.huber_delta,
        cross_domain: a.cross_domain,
        local_starts: a.starts.max(1),
        ..Default::default()
    };
    let general = match runs.general {
        Some(_) => Some(fit(&runs, Which::General, &opts)?),
        None => None,
    };
    let domain = match runs.domain {
        Some(_) => Some(fit(&runs, Which::Domain, &opts)?),
        None => None,
    };
    let boot = if a.bootstrap > 0 {
        Some(bootstrap(
            &runs,
            general.as_ref().map(|f| &f.law),
            domain.as_ref().map(|f| &f.law),
            &opts,
            a.bootstrap,
            a.seed,
            0.95,
        )?)
    } else {
        None
    };
    let range = |v: &[f64]| {
        (
            v.iter().cloned().fold(f64::INFINITY, f64::min),
            v.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
        )
    };
    let file = DcptFile {
        format: FORMAT.into(),
        general,
        domain,
        source: Some(DcptSource {
            file: a.runs.display().to_string(),
            rows_in_file,
            rows_used: runs.len(),
            columns: a.columns.clone(),
            filters: a.filters.clone(),
            n_range: range(&runs.n),
            d_range: range(&runs.d),
        }),
        bootstrap: boot,
    };
    let out = a.out.clone().unwrap_or_else(|| {
        let stem = a
            .runs
            .file_stem()
            .map_or("runs".into(), |s| s.to_string_lossy().to_string());
        PathBuf::from(format!("{stem}.dcpt.law.json"))
    });
    file.write(&out)?;
    Ok((file, out))
}

/// `dcpt plan`: the report (table or JSON), and the mixture snippet when asked.
pub fn run_plan(a: &DcptPlanArgs) -> Result<String, ScalingError> {
    let file = DcptFile::load(&a.law)?;
    let p = plan(&file, &a.query())?;
    let mut text = if a.json {
        format!("{}\n", serde_json::to_string_pretty(&p)?)
    } else {
        dcpt_plan_table(&file, &p)
    };
    if let Some(path) = &a.emit_mix {
        let r = p.chosen_ratio().ok_or_else(|| {
            ScalingError::InvalidArgument("--emit-mix: the plan chose no ratio".into())
        })?;
        let how = if p.limited_domain.is_some() {
            "best ratio with limited domain tokens"
        } else if p.tradeoff.is_some() {
            "best ratio within the general-loss budget"
        } else {
            "the given ratio"
        };
        let comment = format!(
            "datamill scaling dcpt plan {}: {how}, r_d = {r:.6}\nPaste into a datamill mix file whose [[source]]s are named `{}` and `{}`.",
            a.law.display(),
            a.general_source,
            a.domain_source
        );
        write_text_atomic(
            path,
            &mix_snippet(r, &a.general_source, &a.domain_source, &comment),
        )?;
        if !a.json {
            text.push_str(&format!("wrote {}\n", path.display()));
        }
    }
    Ok(text)
}
