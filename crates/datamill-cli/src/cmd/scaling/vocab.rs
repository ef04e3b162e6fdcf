//! `datamill scaling vocab`: the compute-optimal vocabulary size (Tao et al. 2024) by the
//! paper's three approaches, and `vocab fit` for approach 3's law on the authors' CSV columns.

use std::path::PathBuf;

use datamill_scaling::ScalingError;
use datamill_scaling::vocab::fit::{FORMAT, VocabFile, VocabFitOptions, bootstrap, fit, load_runs};
use datamill_scaling::vocab::{VocabQuery, plan};

/// `datamill scaling vocab [--params N ...]` or `datamill scaling vocab fit CSV`.
#[derive(Debug, Clone, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct VocabArgs {
    /// `fit`: fit approach 3's law to runs.
    #[command(subcommand)]
    pub command: Option<VocabCommand>,
    /// Non-vocabulary parameters N_nv (comma-separated for several rows).
    #[arg(long, value_delimiter = ',')]
    pub params: Vec<f64>,
    /// Compute budget C in FLOP (default: approach 1's compute-optimal budget for N_nv,
    /// C = (N_nv/e^-2.4846510)^2, as the published table).
    #[arg(long)]
    pub compute: Option<f64>,
    /// Embedding width d (default: the authors' table of d by N_nv).
    #[arg(long)]
    pub embed_dim: Option<f64>,
    /// A law file written by `vocab fit` for approach 3 (default: the published constants).
    #[arg(long)]
    pub law: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `vocab` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum VocabCommand {
    /// Fit approach 3's law L_u = -E + A1/N_nv^beta + A2/(V*d)^alpha2 + B/D^beta to runs with
    /// the authors' columns (vocab_size, embed_dim, num_characters, Non_vocab_parameters,
    /// FLOPs, Lossu).
    Fit(VocabFitArgs),
}

/// Arguments of `vocab fit`.
#[derive(Debug, Clone, clap::Args)]
pub struct VocabFitArgs {
    /// The runs (CSV).
    pub runs: PathBuf,
    /// Column mapping `KEY=COLUMN,...` with keys V, d, H, N, C, loss.
    #[arg(long)]
    pub columns: Option<String>,
    /// Keep only rows matching `COLUMN OP VALUE`; repeatable.
    #[arg(long = "where", value_name = "FILTER")]
    pub filters: Vec<String>,
    /// Fit only rows with FLOPs at least this (the authors: 2.18e17).
    #[arg(long, default_value_t = 2.18e17)]
    pub min_flops: f64,
    /// Compute tokens as H·f(V) instead of the authors' H·f(V/1000) (their published
    /// constants need the latter).
    #[arg(long)]
    pub real_tokens_per_char: bool,
    /// Huber δ on raw L_u residuals.
    #[arg(long, default_value_t = 1e-3)]
    pub huber_delta: f64,
    /// Bootstrap resamples (0 = none).
    #[arg(long, default_value_t = 0)]
    pub bootstrap: usize,
    /// Bootstrap seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u32,
    /// Output law file (default: `<RUNS stem>.vocab.law.json`).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

/// Runs `vocab` and returns its report.
pub fn run(a: &VocabArgs) -> Result<String, ScalingError> {
    if let Some(VocabCommand::Fit(f)) = &a.command {
        return run_fit(f);
    }
    let file = match &a.law {
        Some(p) => VocabFile::load(p)?,
        None => VocabFile::published(),
    };
    let rows = plan(
        &file.law,
        file.draws(),
        &VocabQuery {
            params: a.params.clone(),
            compute: a.compute,
            embed_dim: a.embed_dim,
        },
    )?;
    if a.json {
        return Ok(format!("{}\n", serde_json::to_string_pretty(&rows)?));
    }
    Ok(datamill_scaling::report::vocab_table(&file, &rows))
}

fn run_fit(a: &VocabFitArgs) -> Result<String, ScalingError> {
    if !(a.huber_delta > 0.0) {
        return Err(ScalingError::InvalidArgument(format!(
            "--huber-delta {}: must be positive",
            a.huber_delta
        )));
    }
    let (runs, rows_in_file) = load_runs(&a.runs, a.columns.as_deref(), &a.filters, a.min_flops)?;
    let opts = VocabFitOptions {
        huber_delta: a.huber_delta,
        quirk: !a.real_tokens_per_char,
        ..Default::default()
    };
    let (law, info) = fit(&runs, &opts)?;
    let boot = if a.bootstrap > 0 {
        Some(bootstrap(&runs, &law, &opts, a.bootstrap, a.seed, 0.95)?)
    } else {
        None
    };
    let file = VocabFile {
        format: FORMAT.into(),
        law,
        fit: Some(info),
        source: Some(format!(
            "{}: {} of {rows_in_file} rows (FLOPs >= {:e})",
            a.runs.display(),
            runs.len(),
            a.min_flops
        )),
        bootstrap: boot,
    };
    let out = a.out.clone().unwrap_or_else(|| {
        let stem = a
            .runs
            .file_stem()
            .map_or("runs".into(), |s| s.to_string_lossy().to_string());
        PathBuf::from(format!("{stem}.vocab.law.json"))
    });
    file.write(&out)?;
    Ok(format!(
        "{}wrote {}\n",
        datamill_scaling::report::vocab_fit_table(&file),
        out.display()
    ))
}
