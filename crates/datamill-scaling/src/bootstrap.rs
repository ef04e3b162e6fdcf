//! Nonparametric bootstrap of a fit: resample the runs with replacement,
//! refit each resample from one start, report standard errors and
//! percentile intervals.
//!
//! Resampling uses MT19937 drawn exactly like NumPy's legacy
//! `np.random.seed(s); np.random.choice(n, n, replace=True)`, so `--seed 42`
//! reproduces Epoch AI's resamples. All index sets are drawn up front from
//! one stream and the refits run in parallel, so the result does not depend
//! on the number of threads.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::Runs;
use crate::error::ScalingError;
use crate::fit::{FitOptions, LawKind, Problem};
use crate::laws::Law;

/// The resampling generator and the percentile are numpy's, from `datamill-npsort` (the one
/// home of reference numerics, with their golden tests).
pub use datamill_npsort::{Mt19937, percentile};

/// Where each bootstrap refit starts.
#[derive(Debug, Clone, PartialEq)]
pub enum BootstrapStart {
    /// From the full-data optimum.
    Fitted,
    /// From a given law (e.g. Hoffmann's unrounded values, as Epoch does).
    Law(Law),
}

/// Bootstrap options.
#[derive(Debug, Clone)]
pub struct BootstrapOptions {
    /// Number of resamples.
    pub resamples: usize,
    /// Seed for the MT19937 stream.
    pub seed: u32,
    /// Where each refit starts.
    pub start: BootstrapStart,
    /// Central interval mass (default 0.95).
    pub level: f64,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        Self {
            resamples: 4000,
            seed: 42,
            start: BootstrapStart::Fitted,
            level: 0.95,
        }
    }
}

/// Bootstrap summary: one entry per law parameter (see [`Law::params`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BootstrapResult {
    /// Number of resamples requested.
    pub resamples: usize,
    /// Seed.
    pub seed: u32,
    /// Central interval mass of `ci_low`/`ci_high`.
    pub level: f64,
    /// Resamples whose refit failed (non-finite) and were dropped.
    pub failed: usize,
    /// Parameter names.
    pub names: Vec<String>,
    /// Standard deviation of each parameter over the resamples.
    pub se: Vec<f64>,
    /// Lower percentile bound.
    pub ci_low: Vec<f64>,
    /// Upper percentile bound.
    pub ci_high: Vec<f64>,
    /// The refitted laws (for prediction intervals and plot bands).
    pub draws: Vec<Law>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Standard deviation (ddof = 0, as `numpy.std`).
pub fn std_dev(v: &[f64]) -> f64 {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n).sqrt()
}

/// Bootstrap the fit of `kind` on `runs`. `fitted` is the full-data law (its
/// parameters give the start for [`BootstrapStart::Fitted`]).
pub fn bootstrap(
    kind: LawKind,
    runs: &Runs,
    fitted: &Law,
    fit_opts: &FitOptions,
    opts: &BootstrapOptions,
) -> Result<BootstrapResult, ScalingError> {
    let t0 = std::time::Instant::now();
    let problem = Problem::new(kind, runs, fit_opts)?;
    let start_law = match &opts.start {
        BootstrapStart::Fitted => fitted,
        BootstrapStart::Law(l) => l,
    };
    let start = problem.from_law(start_law).ok_or_else(|| {
        ScalingError::InvalidArgument(format!(
            "the bootstrap start is a {} law, but the fit is {}",
            start_law.name(),
            kind.name()
        ))
    })?;
    let weights = resample_weights(runs.len(), opts.resamples, opts.seed);
    let draws: Vec<Option<Law>> = weights
        .par_iter()
        .map(|w| {
            let r = problem.local_fit(&start, Some(w), &fit_opts.lbfgs);
            (r.f.is_finite() && r.x.iter().all(|v| v.is_finite())).then(|| problem.to_law(&r.x))
        })
        .collect();
    let failed = draws.iter().filter(|d| d.is_none()).count();
    let draws: Vec<Law> = draws.into_iter().flatten().collect();
    if draws.is_empty() {
        return Err(ScalingError::Fit("every bootstrap refit failed".into()));
    }
    let names: Vec<String> = fitted.params().iter().map(|(k, _)| k.to_string()).collect();
    let values: Vec<Vec<f64>> = draws
        .iter()
        .map(|l| l.params().iter().map(|p| p.1).collect())
        .collect();
    let ParamSummary {
        se,
        ci_low: lo,
        ci_high: hi,
    } = summarize(&values, names.len(), opts.level);
    Ok(BootstrapResult {
        resamples: opts.resamples,
        seed: opts.seed,
        level: opts.level,
        failed,
        names,
        se,
        ci_low: lo,
        ci_high: hi,
        draws,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// The resamples of `n` rows as weights (multiplicities), drawn up front from one MT19937
/// stream exactly as NumPy's `np.random.seed(seed)` followed by `resamples` calls of
/// `np.random.choice(n, n)`.
pub fn resample_weights(n: usize, resamples: usize, seed: u32) -> Vec<Vec<f64>> {
    let mut rng = Mt19937::new(seed);
    (0..resamples)
        .map(|_| {
            let mut w = vec![0.0; n];
            for _ in 0..n {
                w[rng.below(n as u32) as usize] += 1.0;
            }
            w
        })
        .collect()
}

/// Standard errors and percentile intervals of parameters over bootstrap draws.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamSummary {
    /// Standard deviation of each parameter over the draws (ddof = 0).
    pub se: Vec<f64>,
    /// Lower percentile bound of each parameter.
    pub ci_low: Vec<f64>,
    /// Upper percentile bound of each parameter.
    pub ci_high: Vec<f64>,
}

/// Summarizes `draws` (one vector of `n_params` values per refit) at interval mass `level`.
pub fn summarize(draws: &[Vec<f64>], n_params: usize, level: f64) -> ParamSummary {
    let tail = (1.0 - level) / 2.0 * 100.0;
    let mut out = ParamSummary {
        se: Vec::new(),
        ci_low: Vec::new(),
        ci_high: Vec::new(),
    };
    for k in 0..n_params {
        let mut v: Vec<f64> = draws.iter().map(|d| d[k]).collect();
        out.se.push(std_dev(&v));
        v.sort_by(f64::total_cmp);
        out.ci_low.push(percentile(&v, tail));
        out.ci_high.push(percentile(&v, 100.0 - tail));
    }
    out
}

/// A central interval of a prediction, as JSON `{"low": .., "high": .., "level": 0.95}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower percentile bound.
    pub low: f64,
    /// Upper percentile bound.
    pub high: f64,
    /// Central mass (0.95 = the 2.5th to 97.5th percentiles of the bootstrap draws).
    pub level: f64,
}

/// A predicted quantity with its bootstrap interval when the law has draws, as JSON
/// `{"value": .., "interval": {"low": .., "high": .., "level": ..}}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The prediction of the fitted (point) law.
    pub value: f64,
    /// Percentile interval over the bootstrap draws (absent without draws).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Interval>,
}

impl Estimate {
    /// `value` with the percentile interval of `f` over `draws` (draws where `f` gives `None`
    /// or a non-finite value are left out).
    pub fn with_draws<T, F: Fn(&T) -> Option<f64>>(
        value: f64,
        draws: &[T],
        level: f64,
        f: F,
    ) -> Estimate {
        Estimate {
            value,
            interval: interval(draws, level, f).map(|(low, high)| Interval { low, high, level }),
        }
    }

    /// A value without an interval.
    pub fn point(value: f64) -> Estimate {
        Estimate {
            value,
            interval: None,
        }
    }
}

/// Percentile interval of `f` over bootstrap draws.
pub fn interval<T, F: Fn(&T) -> Option<f64>>(draws: &[T], level: f64, f: F) -> Option<(f64, f64)> {
    let mut v: Vec<f64> = draws
        .iter()
        .filter_map(&f)
        .filter(|x| x.is_finite())
        .collect();
    if v.len() < 2 {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0 * 100.0;
    Some((percentile(&v, tail), percentile(&v, 100.0 - tail)))
}
