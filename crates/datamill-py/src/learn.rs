//! Label issues (`datamill_learn::label_issues`, cleanlab's `find_label_issues`) and
//! scaling-law fits and predictions (`datamill_scaling`) over numpy buffers: the same
//! functions the command line calls, so the numbers are the CLI's. Arrays cross as
//! little-endian bytes (`np.ascontiguousarray(x, "<f8").tobytes()`), results go back the same
//! way; the Python wrappers (`datamill.label_issues`, `datamill.scaling`) hide that.

use crate::DatamillError;
use datamill_learn::label_issues::{
    FilterBy, FindOptions, PredProbs, RankBy, find_label_issues, label_quality_scores,
    num_label_issues, order_label_issues,
};
use datamill_scaling::data::Runs;
use datamill_scaling::fit::{FitOptions, LawKind, fit};
use datamill_scaling::lawfile::LawFile;
use datamill_scaling::predict::{PredictQuery, predict};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

fn f64s(b: &[u8], what: &str) -> PyResult<Vec<f64>> {
    if !b.len().is_multiple_of(8) {
        return Err(PyValueError::new_err(format!("{what}: not float64 data")));
    }
    Ok(b.chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect())
}

fn labels(b: &[u8], k: usize) -> PyResult<Vec<usize>> {
    if !b.len().is_multiple_of(8) {
        return Err(PyValueError::new_err("labels: not int64 data"));
    }
    b.chunks_exact(8)
        .enumerate()
        .map(|(i, c)| {
            let v = i64::from_le_bytes(c.try_into().expect("8 bytes"));
            if v < 0 || v as usize >= k {
                Err(PyValueError::new_err(format!(
                    "labels[{i}] = {v}: labels must be class indices 0..{} (pred_probs has {k} columns)",
                    k.saturating_sub(1)
                )))
            } else {
                Ok(v as usize)
            }
        })
        .collect()
}

fn learn_err(e: datamill_learn::LearnError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

fn filter_by(s: &str) -> PyResult<FilterBy> {
    use FilterBy::*;
    [
        PruneByNoiseRate,
        PruneByClass,
        Both,
        ConfidentLearning,
        PredictedNeqGiven,
        LowSelfConfidence,
        LowNormalizedMargin,
    ]
    .into_iter()
    .find(|f| f.as_str() == s)
    .ok_or_else(|| PyValueError::new_err(format!("filter_by `{s}` is not a cleanlab method")))
}

fn rank_by(s: &str) -> PyResult<RankBy> {
    use RankBy::*;
    [SelfConfidence, NormalizedMargin, ConfidenceWeightedEntropy]
        .into_iter()
        .find(|f| f.as_str() == s)
        .ok_or_else(|| {
            PyValueError::new_err(format!(
                "`{s}`: expected self_confidence, normalized_margin or confidence_weighted_entropy"
            ))
        })
}

fn probs(p: &[u8], n: usize, k: usize) -> PyResult<PredProbs> {
    PredProbs::new(n, k, f64s(p, "pred_probs")?).map_err(learn_err)
}

fn i64_bytes<'py>(py: Python<'py>, v: impl Iterator<Item = i64>) -> Bound<'py, PyBytes> {
    let b: Vec<u8> = v.flat_map(|x| x.to_le_bytes()).collect();
    PyBytes::new(py, &b)
}

/// cleanlab `find_label_issues`: with `ranked_by` the flagged indices ranked (int64 bytes),
/// else the boolean mask (one byte per example).
#[pyfunction]
#[pyo3(signature = (label_bytes, prob_bytes, n, k, filter="prune_by_noise_rate", frac_noise=1.0, num_to_remove_per_class=None, min_examples_per_class=1, ranked_by=None))]
#[allow(clippy::too_many_arguments)]
fn find_issues<'py>(
    py: Python<'py>,
    label_bytes: &[u8],
    prob_bytes: &[u8],
    n: usize,
    k: usize,
    filter: &str,
    frac_noise: f64,
    num_to_remove_per_class: Option<Vec<i64>>,
    min_examples_per_class: usize,
    ranked_by: Option<&str>,
) -> PyResult<Bound<'py, PyBytes>> {
    let l = labels(label_bytes, k)?;
    let p = probs(prob_bytes, n, k)?;
    let opts = FindOptions {
        filter_by: filter_by(filter)?,
        frac_noise,
        num_to_remove_per_class,
        min_examples_per_class,
    };
    let rank = ranked_by.map(rank_by).transpose()?;
    let r = py.detach(|| -> Result<Result<Vec<bool>, Vec<usize>>, _> {
        let mask = find_label_issues(&l, &p, &opts)?;
        match rank {
            None => Ok(Ok(mask)),
            Some(m) => Ok(Err(order_label_issues(&mask, &l, &p, m)?)),
        }
    });
    match r.map_err(learn_err)? {
        Ok(mask) => {
            let b: Vec<u8> = mask.iter().map(|&x| x as u8).collect();
            Ok(PyBytes::new(py, &b))
        }
        Err(order) => Ok(i64_bytes(py, order.into_iter().map(|i| i as i64))),
    }
}

/// cleanlab `rank.get_label_quality_scores` (float64 bytes).
#[pyfunction]
#[pyo3(signature = (label_bytes, prob_bytes, n, k, method="self_confidence", adjust_pred_probs=false))]
fn quality_scores<'py>(
    py: Python<'py>,
    label_bytes: &[u8],
    prob_bytes: &[u8],
    n: usize,
    k: usize,
    method: &str,
    adjust_pred_probs: bool,
) -> PyResult<Bound<'py, PyBytes>> {
    let l = labels(label_bytes, k)?;
    let p = probs(prob_bytes, n, k)?;
    let m = rank_by(method)?;
    let s = py
        .detach(|| label_quality_scores(&l, &p, m, adjust_pred_probs))
        .map_err(learn_err)?;
    let b: Vec<u8> = s.iter().flat_map(|x| x.to_le_bytes()).collect();
    Ok(PyBytes::new(py, &b))
}

/// cleanlab `count.num_label_issues`.
#[pyfunction]
fn count_issues(label_bytes: &[u8], prob_bytes: &[u8], n: usize, k: usize) -> PyResult<usize> {
    let l = labels(label_bytes, k)?;
    let p = probs(prob_bytes, n, k)?;
    datamill_learn::label_issues::validate(&l, &p).map_err(learn_err)?;
    Ok(num_label_issues(&l, &p))
}

fn law_kind(s: &str) -> PyResult<LawKind> {
    use LawKind::*;
    [
        Chinchilla,
        LearningCurve,
        Kaplan,
        KaplanN,
        KaplanD,
        DataConstrained,
        Overtrain,
    ]
    .into_iter()
    .find(|k| k.name() == s || k.name().replace('-', "_") == s)
    .ok_or_else(|| {
        PyValueError::new_err(format!(
            "law `{s}`: expected chinchilla, learning-curve, kaplan, kaplan-n, kaplan-d, \
             data-constrained or overtrain"
        ))
    })
}

fn scaling_err(e: datamill_scaling::ScalingError) -> PyErr {
    DatamillError::new_err(e.to_string())
}

/// Fits a law to runs (float64 bytes of equal length; `n`/`d` may be empty when the law
/// does not use them); returns the law file (`datamill scaling fit`'s JSON) as text.
#[pyfunction]
#[pyo3(signature = (law, n, d, loss, u=None, huber_delta=1e-3, drop_highest_loss=0))]
#[allow(clippy::too_many_arguments)]
fn scaling_fit(
    py: Python<'_>,
    law: &str,
    n: &[u8],
    d: &[u8],
    loss: &[u8],
    u: Option<&[u8]>,
    huber_delta: f64,
    drop_highest_loss: usize,
) -> PyResult<String> {
    let kind = law_kind(law)?;
    let loss = f64s(loss, "loss")?;
    let col = |b: &[u8], name: &str, needed: bool| -> PyResult<Vec<f64>> {
        let v = f64s(b, name)?;
        if v.is_empty() && !needed {
            return Ok(vec![f64::NAN; loss.len()]);
        }
        if v.len() != loss.len() {
            return Err(PyValueError::new_err(format!(
                "{name} has {} values, loss has {}",
                v.len(),
                loss.len()
            )));
        }
        Ok(v)
    };
    let needs = kind.needs();
    let runs = Runs {
        n: col(n, "N", needs.n)?,
        d: col(d, "D", needs.d)?,
        u: match u {
            Some(b) => Some(col(b, "U", true)?),
            None if needs.u => {
                return Err(PyValueError::new_err(format!(
                    "the {} law needs U (unique tokens)",
                    kind.name()
                )));
            }
            None => None,
        },
        row: (1..=loss.len()).collect(),
        loss,
    }
    .drop_highest_losses(drop_highest_loss);
    if huber_delta.is_nan() || huber_delta <= 0.0 {
        return Err(PyValueError::new_err("huber_delta must be positive"));
    }
    let opts = FitOptions {
        huber_delta,
        ..Default::default()
    };
    let result = py.detach(|| fit(kind, &runs, &opts)).map_err(scaling_err)?;
    let mut file = LawFile::from_law(result.law);
    file.fit = Some(result);
    serde_json::to_string(&file).map_err(|e| DatamillError::new_err(e.to_string()))
}

/// Predictions from a law (a law file's JSON text, or `builtin:NAME`): `datamill scaling
/// predict --json`'s report as text.
#[pyfunction]
#[pyo3(signature = (law, n=vec![], d=vec![], compute=vec![], target_loss=None, u=None, epochs=vec![]))]
fn scaling_predict(
    law: &str,
    n: Vec<f64>,
    d: Vec<f64>,
    compute: Vec<f64>,
    target_loss: Option<f64>,
    u: Option<f64>,
    epochs: Vec<f64>,
) -> PyResult<String> {
    let file = if law.starts_with("builtin:") {
        LawFile::load(law).map_err(scaling_err)?
    } else {
        serde_json::from_str(law)
            .map_err(|e| PyValueError::new_err(format!("not a law file: {e}")))?
    };
    let q = PredictQuery {
        n,
        d,
        u,
        compute,
        target_loss,
        epochs,
        ..Default::default()
    };
    let report = predict(&file, &q).map_err(scaling_err)?;
    serde_json::to_string(&report).map_err(|e| DatamillError::new_err(e.to_string()))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(find_issues, m)?)?;
    m.add_function(wrap_pyfunction!(quality_scores, m)?)?;
    m.add_function(wrap_pyfunction!(count_issues, m)?)?;
    m.add_function(wrap_pyfunction!(scaling_fit, m)?)?;
    m.add_function(wrap_pyfunction!(scaling_predict, m)?)?;
    Ok(())
}
