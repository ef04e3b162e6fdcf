//! `datamill mix-weights regmix|mixlaw`: learned mixture weights from proxy runs
//! (`datamill_mix::learn`), written as a weights file that a mixture reads with
//! `weights_file = "..."`.

use crate::Stdout;
use datamill_mix::MixError;
use datamill_mix::learn::{
    GbdtOptions, LearnInput, ModelChoice, Runs, SearchOptions, WeightsFile, mixlaw, regmix,
};
use std::io::Write;
use std::path::PathBuf;

/// The method.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Method {
    /// RegMix: regressors on (mixture → loss), Dirichlet search, top-k mean.
    Regmix,
    /// The data mixing law of Ye et al.: L_i(r) = c_i + k_i·exp(t_i·r), optimised on the simplex.
    Mixlaw,
}

/// The RegMix regressor.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ModelArg {
    /// Ridge regression.
    Ridge,
    /// Gradient-boosted trees.
    Gbdt,
    /// The better by held-out Spearman.
    Best,
}

/// Arguments of `datamill mix-weights`.
#[derive(Debug, Clone, clap::Args)]
pub struct MixWeightsArgs {
    /// `regmix` or `mixlaw`.
    #[arg(value_enum)]
    pub method: Method,
    /// CSV of proxy-run mixtures: one column per domain (and an optional `index`).
    #[arg(long, value_name = "CSV")]
    pub mixtures: PathBuf,
    /// CSV of their losses (matched by `index`, else row by row); default: targets are
    /// columns of --mixtures.
    #[arg(long, value_name = "CSV")]
    pub losses: Option<PathBuf>,
    /// Held-out mixtures (scores and early stopping); default: every fifth run is held out.
    #[arg(long, value_name = "CSV", requires = "test_losses")]
    pub test_mixtures: Option<PathBuf>,
    /// Held-out losses.
    #[arg(long, value_name = "CSV", requires = "test_mixtures")]
    pub test_losses: Option<PathBuf>,
    /// A target loss column (repeatable; default: every column of --losses).
    #[arg(long)]
    pub target: Vec<String>,
    /// Weights of the targets in the objective, comma-separated (default: equal).
    #[arg(long, value_delimiter = ',')]
    pub target_weights: Vec<f64>,
    /// Prior token shares per domain, comma-separated in column order (RegMix's Dirichlet
    /// centre; default: uniform).
    #[arg(long, value_delimiter = ',')]
    pub prior: Vec<f64>,
    /// RegMix regressor.
    #[arg(long, value_enum, default_value = "best")]
    pub model: ModelArg,
    /// RegMix: mixtures simulated.
    #[arg(long, default_value_t = 100_000)]
    pub samples: usize,
    /// RegMix: best mixtures averaged.
    #[arg(long, default_value_t = 128)]
    pub top_k: usize,
    /// RegMix: seed of the Dirichlet draws.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Remove this prefix from domain names (e.g. `train_the_pile_`), so they match sources.
    #[arg(long, default_value = "")]
    pub strip_prefix: String,
    /// Write the weights file here.
    #[arg(short, long, value_name = "JSON")]
    pub output: Option<PathBuf>,
}

/// Runs `datamill mix-weights`.
pub fn run(a: &MixWeightsArgs, out: &mut Stdout) -> Result<(), MixError> {
    let train = Runs::load(&a.mixtures, a.losses.as_deref(), &a.target)?;
    let test = match (&a.test_mixtures, &a.test_losses) {
        (Some(m), Some(l)) => Some(Runs::load(m, Some(l), &train.targets)?),
        _ => None,
    };
    let input = LearnInput {
        train,
        test,
        target_weights: a.target_weights.clone(),
        prior: a.prior.clone(),
        strip_prefix: a.strip_prefix.clone(),
    };
    let wf: WeightsFile = match a.method {
        Method::Regmix => regmix(
            &input,
            match a.model {
                ModelArg::Ridge => ModelChoice::Ridge,
                ModelArg::Gbdt => ModelChoice::Gbdt,
                ModelArg::Best => ModelChoice::Best,
            },
            &GbdtOptions::default(),
            &SearchOptions {
                samples: a.samples,
                top_k: a.top_k,
                seed: a.seed,
                ..Default::default()
            },
        )?,
        Method::Mixlaw => mixlaw(&input)?,
    };
    let io = |e: std::io::Error| MixError::io("<stdout>", e);
    writeln!(out, "{} weights ({} domains):", wf.method, wf.weights.len()).map_err(io)?;
    for (k, v) in &wf.weights {
        writeln!(out, "  {k:<32} {:.6}", v.as_f64().unwrap_or(0.0)).map_err(io)?;
    }
    match a.method {
        Method::Regmix => {
            let d = &wf.details;
            writeln!(
                out,
                "model {} (mean held-out Spearman: ridge {:.4}, gbdt {:.4}; {} held-out runs)",
                d["model"].as_str().unwrap_or(""),
                d["mean_spearman"]["ridge"].as_f64().unwrap_or(f64::NAN),
                d["mean_spearman"]["gbdt"].as_f64().unwrap_or(f64::NAN),
                d["held_out_runs"]
            )
            .map_err(io)?;
        }
        Method::Mixlaw => {
            for l in wf.details["laws"].as_array().into_iter().flatten() {
                writeln!(
                    out,
                    "  law {}: held-out R^2 {:.4}, Spearman {:.4}",
                    l["target"].as_str().unwrap_or(""),
                    l["r2"].as_f64().unwrap_or(f64::NAN),
                    l["spearman"].as_f64().unwrap_or(f64::NAN)
                )
                .map_err(io)?;
            }
        }
    }
    if let Some(p) = &a.output {
        let mut text = serde_json::to_vec_pretty(&wf).map_err(|e| MixError::state(p, e))?;
        text.push(b'\n');
        datamill_mix::tasks::write_atomic(p, &text)?;
        writeln!(
            out,
            "wrote {} (use it as `weights_file` in a mixture)",
            p.display()
        )
        .map_err(io)?;
    }
    Ok(())
}
