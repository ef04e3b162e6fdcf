//! `datamill scaling quant`: the loss low-bit quantization adds (Ouyang et al. 2024) and the
//! tokens before it exceeds a tolerance; `quant fit` fits the law to a user's own table.

use std::path::PathBuf;

use datamill_scaling::ScalingError;
use datamill_scaling::quant::{QuantFile, QuantQuery, fit, load_runs, plan};

/// `datamill scaling quant --params N ...` or `datamill scaling quant fit CSV`.
#[derive(Debug, Clone, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct QuantArgs {
    /// `fit`: fit the law to a table of measured quantization losses.
    #[command(subcommand)]
    pub command: Option<QuantCommand>,
    /// Non-embedding parameters N (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub params: Vec<f64>,
    /// Training tokens D (comma-separated): the loss increase after D tokens.
    #[arg(long, value_delimiter = ',')]
    pub tokens: Vec<f64>,
    /// Bit widths P (comma-separated; default 2,3,4,8).
    #[arg(long, value_delimiter = ',')]
    pub bits: Vec<f64>,
    /// Acceptable loss increase: the tokens before P-bit quantization adds more.
    #[arg(long, value_name = "DELTA")]
    pub max_increase: Option<f64>,
    /// A law file written by `quant fit` (default: the paper's unified fit).
    #[arg(long)]
    pub law: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `quant` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum QuantCommand {
    /// Fit dq = k*D^a/(N^b*P^c) to a CSV of (N, D, bits, delta_loss).
    Fit(QuantFitArgs),
}

/// Arguments of `quant fit`.
#[derive(Debug, Clone, clap::Args)]
pub struct QuantFitArgs {
    /// The table (CSV).
    pub runs: PathBuf,
    /// Column mapping `KEY=COLUMN,...` with keys N, D, bits, delta (defaults: N/params,
    /// D/tokens, bits/P, delta_loss/dq).
    #[arg(long)]
    pub columns: Option<String>,
    /// Keep only rows matching `COLUMN OP VALUE`; repeatable.
    #[arg(long = "where", value_name = "FILTER")]
    pub filters: Vec<String>,
    /// Huber δ on log residuals.
    #[arg(long, default_value_t = 1e-3)]
    pub huber_delta: f64,
    /// Bootstrap resamples (0 = none).
    #[arg(long, default_value_t = 0)]
    pub bootstrap: usize,
    /// Bootstrap seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u32,
    /// Output law file (default: `<RUNS stem>.quant.law.json`).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

/// Runs `quant` and returns its report.
pub fn run(a: &QuantArgs) -> Result<String, ScalingError> {
    if let Some(QuantCommand::Fit(f)) = &a.command {
        if !(f.huber_delta > 0.0) {
            return Err(ScalingError::InvalidArgument(format!(
                "--huber-delta {}: must be positive",
                f.huber_delta
            )));
        }
        let (runs, rows_in_file) = load_runs(&f.runs, f.columns.as_deref(), &f.filters)?;
        let mut file = fit(&runs, f.huber_delta, f.bootstrap, f.seed)?;
        file.source = Some(format!(
            "{}: {} of {rows_in_file} rows",
            f.runs.display(),
            runs.len()
        ));
        let out = f.out.clone().unwrap_or_else(|| {
            let stem = f
                .runs
                .file_stem()
                .map_or("runs".into(), |s| s.to_string_lossy().to_string());
            PathBuf::from(format!("{stem}.quant.law.json"))
        });
        file.write(&out)?;
        return Ok(format!(
            "{}wrote {}\n",
            datamill_scaling::report::quant_fit_table(&file),
            out.display()
        ));
    }
    let file = match &a.law {
        Some(p) => QuantFile::load(p)?,
        None => QuantFile::published(),
    };
    let r = plan(
        &file,
        &QuantQuery {
            params: a.params.clone(),
            tokens: a.tokens.clone(),
            bits: a.bits.clone(),
            max_increase: a.max_increase,
        },
    )?;
    if a.json {
        return Ok(format!("{}\n", serde_json::to_string_pretty(&r)?));
    }
    Ok(datamill_scaling::report::quant_table(&file, &r))
}
