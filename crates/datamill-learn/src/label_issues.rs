//! Confident learning (Northcutt, Jiang, Chuang, JAIR 2021): find label issues from given labels
//! and out-of-sample predicted probabilities, as cleanlab 2.9.0 `filter.find_label_issues` does.
//!
//! Every step follows cleanlab's code (`cleanlab/filter.py`, `count.py`, `rank.py`,
//! `internal/util.py`), including the numerics that decide integer counts:
//! numpy's pairwise summation for row sums and means, banker's rounding in
//! `round_preserving_sum`, the `1e-6` offsets, the "first confident class" argmax and
//! `astype(int)` truncation. Where cleanlab calls `np.argsort` (not stable), this module calls
//! [`crate::sort::np_argsort`], a port of the sort numpy runs on x86-64 CPUs with AVX-512, so
//! exactly equal scores are ordered (and cut) as cleanlab orders them there. On CPUs without
//! AVX-512 numpy itself orders ties differently, and cleanlab's output changes with it.

use crate::error::LearnError;
use crate::sort::np_argsort;

/// `cleanlab.internal.constants.FLOATING_POINT_COMPARISON`.
const FLOATING_POINT_COMPARISON: f64 = 1e-6;
/// `CONFIDENT_THRESHOLDS_LOWER_BOUND`.
const CONFIDENT_THRESHOLDS_LOWER_BOUND: f64 = 2e-6;
/// `CLIPPING_LOWER_BOUND`.
const CLIPPING_LOWER_BOUND: f64 = 1e-6;
/// `TINY_VALUE`.
const TINY_VALUE: f64 = 1e-100;

/// An `N x K` row-major matrix of predicted probabilities (row = example, column = class).
#[derive(Debug, Clone, PartialEq)]
pub struct PredProbs {
    n: usize,
    k: usize,
    data: Vec<f64>,
}

impl PredProbs {
    /// Wraps row-major data; `data.len()` must equal `n * k`.
    pub fn new(n: usize, k: usize, data: Vec<f64>) -> Result<Self, LearnError> {
        if n.checked_mul(k) != Some(data.len()) {
            return Err(LearnError::invalid(format!(
                "pred_probs: {} values do not form a {n} x {k} matrix",
                data.len()
            )));
        }
        Ok(Self { n, k, data })
    }

    /// Number of examples (rows).
    pub fn n(&self) -> usize {
        self.n
    }

    /// Number of classes (columns).
    pub fn k(&self) -> usize {
        self.k
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.k..(i + 1) * self.k]
    }

    /// `P[i][j]`.
    #[inline]
    pub fn at(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.k + j]
    }
}

/// cleanlab's `filter_by` methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(
    feature = "clap",
    derive(clap::ValueEnum),
    clap(rename_all = "snake_case")
)]
#[serde(rename_all = "snake_case")]
pub enum FilterBy {
    /// For each pair of classes, flag the examples with the largest margin for the other class
    /// (count from the calibrated confident joint). cleanlab's default.
    PruneByNoiseRate,
    /// Per given class, flag the examples with the smallest probability of that class.
    PruneByClass,
    /// Intersection of `prune_by_noise_rate` and `prune_by_class`.
    Both,
    /// The off-diagonal entries of the confident joint.
    ConfidentLearning,
    /// `argmax(pred_probs) != label`.
    PredictedNeqGiven,
    /// The `num_label_issues` examples with the lowest self-confidence.
    LowSelfConfidence,
    /// The `num_label_issues` examples with the lowest normalized margin.
    LowNormalizedMargin,
}

impl FilterBy {
    /// The cleanlab name.
    pub fn as_str(self) -> &'static str {
        match self {
            FilterBy::PruneByNoiseRate => "prune_by_noise_rate",
            FilterBy::PruneByClass => "prune_by_class",
            FilterBy::Both => "both",
            FilterBy::ConfidentLearning => "confident_learning",
            FilterBy::PredictedNeqGiven => "predicted_neq_given",
            FilterBy::LowSelfConfidence => "low_self_confidence",
            FilterBy::LowNormalizedMargin => "low_normalized_margin",
        }
    }
}

/// Label-quality scores (`rank.get_label_quality_scores` methods); lower = more likely an issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RankBy {
    /// `P[i][label_i]` (cleanlab's default).
    SelfConfidence,
    /// `(P[i][label_i] - max_{k != label_i} P[i][k] + 1) / 2`.
    NormalizedMargin,
    /// `log(q + 1) / max(q, 1e-6)` with `q = H(P_i) / log K / max(P[i][label_i], 1e-6)`.
    ConfidenceWeightedEntropy,
}

impl RankBy {
    /// The cleanlab name.
    pub fn as_str(self) -> &'static str {
        match self {
            RankBy::SelfConfidence => "self_confidence",
            RankBy::NormalizedMargin => "normalized_margin",
            RankBy::ConfidenceWeightedEntropy => "confidence_weighted_entropy",
        }
    }
}

/// Options of [`find_label_issues`]; `Default` = cleanlab's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct FindOptions {
    /// Method (default `prune_by_noise_rate`).
    pub filter_by: FilterBy,
    /// Fraction of the estimated noise to flag (default 1.0; prune methods only).
    pub frac_noise: f64,
    /// Flag this many examples per given class (one value per class; prune methods only).
    pub num_to_remove_per_class: Option<Vec<i64>>,
    /// Classes with at most this many examples are not pruned (default 1).
    pub min_examples_per_class: usize,
}

impl Default for FindOptions {
    fn default() -> Self {
        Self {
            filter_by: FilterBy::PruneByNoiseRate,
            frac_noise: 1.0,
            num_to_remove_per_class: None,
            min_examples_per_class: 1,
        }
    }
}

/// A square `K x K` integer matrix, row-major.
pub type CountMatrix = Vec<Vec<i64>>;

pub use datamill_npsort::np_sum;

/// Index of the first maximum (`np.argmax`).
fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (j, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = j;
        }
    }
    best
}

/// Checks shapes and label range (cleanlab's `assert_valid_inputs`, the parts that matter here).
pub fn validate(labels: &[usize], p: &PredProbs) -> Result<(), LearnError> {
    if labels.len() != p.n {
        return Err(LearnError::invalid(format!(
            "{} labels but pred_probs has {} rows",
            labels.len(),
            p.n
        )));
    }
    if p.n == 0 {
        return Err(LearnError::invalid("no examples"));
    }
    if p.k < 2 {
        return Err(LearnError::invalid(format!(
            "pred_probs has {} column(s); at least 2 classes are needed",
            p.k
        )));
    }
    if let Some((i, &l)) = labels.iter().enumerate().find(|(_, l)| **l >= p.k) {
        return Err(LearnError::invalid(format!(
            "label {l} of row {i} is not a column of pred_probs (K = {})",
            p.k
        )));
    }
    if let Some(pos) = p.data.iter().position(|v| !v.is_finite()) {
        return Err(LearnError::invalid(format!(
            "pred_probs row {} column {} is not finite",
            pos / p.k,
            pos % p.k
        )));
    }
    Ok(())
}

/// Number of examples per class (`value_counts_fill_missing_classes`).
pub fn label_counts(labels: &[usize], k: usize) -> Vec<i64> {
    let mut c = vec![0i64; k];
    for &l in labels {
        c[l] += 1;
    }
    c
}

/// Per-class thresholds `t_k = mean(P[i][k] for label_i = k)`, 2 for absent classes, clipped
/// below at 2e-6 (`count.get_confident_thresholds`).
pub fn confident_thresholds(labels: &[usize], p: &PredProbs) -> Vec<f64> {
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); p.k];
    for (i, &l) in labels.iter().enumerate() {
        cols[l].push(p.at(i, l));
    }
    cols.iter()
        .map(|c| {
            let t = if c.is_empty() {
                2.0
            } else {
                np_sum(c) / c.len() as f64
            };
            t.max(CONFIDENT_THRESHOLDS_LOWER_BOUND)
        })
        .collect()
}

/// The confident joint `C[given][guessed]` and the indices of its off-diagonal examples
/// (`count.compute_confident_joint(..., return_indices_of_off_diagonals=True)`).
pub fn compute_confident_joint(
    labels: &[usize],
    p: &PredProbs,
    calibrate: bool,
) -> (CountMatrix, Vec<usize>) {
    let k = p.k;
    let t: Vec<f64> = confident_thresholds(labels, p)
        .into_iter()
        .map(|t| t - 1e-6)
        .collect();
    let mut cj = vec![vec![0i64; k]; k];
    let mut off = Vec::new();
    for (i, &label) in labels.iter().enumerate() {
        let row = p.row(i);
        let mut n_conf = 0usize;
        let mut first = 0usize;
        for j in 0..k {
            if row[j] >= t[j] {
                if n_conf == 0 {
                    first = j;
                }
                n_conf += 1;
            }
        }
        if n_conf == 0 {
            continue;
        }
        let guess = if n_conf > 1 { argmax(row) } else { first };
        cj[label][guess] += 1;
        if guess != label {
            off.push(i);
        }
    }
    for (j, row) in cj.iter_mut().enumerate() {
        row[j] = row[j].max(1);
    }
    if calibrate {
        cj = calibrate_confident_joint(&cj, labels);
    }
    (cj, off)
}

/// Scales each row of the joint to its class count, the total to N, and rounds preserving row
/// totals (`count.calibrate_confident_joint`).
pub fn calibrate_confident_joint(cj: &CountMatrix, labels: &[usize]) -> CountMatrix {
    let k = cj.len();
    let counts = label_counts(labels, k);
    let mut cal = vec![vec![0f64; k]; k];
    for i in 0..k {
        let row: Vec<f64> = cj[i].iter().map(|&v| v as f64).collect();
        let denom = np_sum(&row).max(TINY_VALUE);
        for j in 0..k {
            cal[i][j] = row[j] / denom * counts[i] as f64;
        }
    }
    let flat: Vec<f64> = cal.iter().flatten().copied().collect();
    let total = np_sum(&flat).max(TINY_VALUE);
    let n: i64 = counts.iter().sum();
    for row in cal.iter_mut() {
        for v in row.iter_mut() {
            *v = *v / total * n as f64;
        }
    }
    round_preserving_row_totals(&cal)
}

/// `internal.util.round_preserving_sum`: round half-to-even, then move the rounding residuals
/// so the integers sum to the rounded float sum.
pub fn round_preserving_sum(floats: &[f64]) -> Vec<i64> {
    let mut ints: Vec<f64> = floats.iter().map(|v| v.round_ties_even()).collect();
    let orig_sum = np_sum(floats).round_ties_even();
    let mut int_sum = np_sum(&ints).round_ties_even();
    let mut guard = 0;
    while (int_sum - orig_sum).abs() > FLOATING_POINT_COMPARISON && guard < 1000 {
        guard += 1;
        let diff = (orig_sum - int_sum).round_ties_even();
        let increment: f64 = if diff < 0.0 { -1.0 } else { 1.0 };
        let changes = (diff.abs() as usize).min(floats.len());
        let resid: Vec<f64> = floats.iter().zip(&ints).map(|(f, i)| f - i).collect();
        // np.argsort(floats - ints)[::-increment]
        let mut order = np_argsort(&resid);
        if increment > 0.0 {
            order.reverse();
        }
        for &i in order.iter().take(changes) {
            ints[i] += increment;
        }
        int_sum = np_sum(&ints).round_ties_even();
    }
    ints.iter().map(|&v| np_as_int(v)).collect()
}

/// `astype(int)` as numpy does it on x86-64: NaN, infinities and out-of-range values become
/// `i64::MIN` (Rust's `as` would saturate instead).
fn np_as_int(v: f64) -> i64 {
    if v.is_finite() && v > -9.223_372_036_854_776e18 && v < 9.223_372_036_854_776e18 {
        v as i64
    } else {
        i64::MIN
    }
}

/// `round_preserving_sum` on each row.
pub fn round_preserving_row_totals(m: &[Vec<f64>]) -> CountMatrix {
    m.iter().map(|r| round_preserving_sum(r)).collect()
}

/// `filter._keep_at_least_n_per_class` (+ `_reduce_prune_counts`): the prune-count matrix
/// `PCM[true][given]` from the transposed confident joint.
pub fn keep_at_least_n_per_class(pcm: &CountMatrix, n: usize, frac_noise: f64) -> CountMatrix {
    let k = pcm.len();
    let n = n as i64;
    let mut new_mat = vec![vec![0f64; k]; k];
    let mut new_diag = vec![0i64; k];
    for j in 0..k {
        let d = pcm[j][j];
        new_diag[j] = d.max(n);
        let diff = (new_diag[j] - d) as f64;
        let nnz = (0..k).filter(|&i| pcm[i][j] != 0).count() as f64;
        let per = (nnz - 1.0).max(1.0);
        for i in 0..k {
            let v = pcm[i][j] as f64 - diff / per;
            new_mat[i][j] = if v < 0.0 { 0.0 } else { v };
        }
    }
    for j in 0..k {
        new_mat[j][j] = new_diag[j] as f64;
    }
    // _reduce_prune_counts
    let mut reduced = vec![vec![0f64; k]; k];
    for i in 0..k {
        for j in 0..k {
            reduced[i][j] = new_mat[i][j] * frac_noise;
        }
    }
    for j in 0..k {
        reduced[j][j] = new_mat[j][j];
    }
    for j in 0..k {
        let mut s = 0.0;
        for i in 0..k {
            s += new_mat[i][j] - reduced[i][j];
        }
        reduced[j][j] = new_mat[j][j] + s;
    }
    let truncated: Vec<Vec<f64>> = reduced
        .iter()
        .map(|r| r.iter().map(|&v| v.trunc()).collect())
        .collect();
    round_preserving_row_totals(&truncated)
}

/// `count._reduce_issues`: true where the prediction equals the given label once the given
/// label's probability is raised by 1e-6.
fn reduce_issues_mask(labels: &[usize], p: &PredProbs) -> Vec<bool> {
    let mut row = vec![0f64; p.k];
    labels
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            row.copy_from_slice(p.row(i));
            row[l] += FLOATING_POINT_COMPARISON;
            argmax(&row) == l
        })
        .collect()
}

/// `count.num_label_issues` with the default `estimation_method="off_diagonal"`.
pub fn num_label_issues(labels: &[usize], p: &PredProbs) -> usize {
    let (_, off) = compute_confident_joint(labels, p, false);
    let reduce = reduce_issues_mask(labels, p);
    off.iter().filter(|&&i| !reduce[i]).count()
}

/// Reorders `idx` as `idx[np.argsort([key(i) for i in idx])]` (numpy's AVX-512 order of
/// ties: [`crate::sort::np_argsort`]).
fn argsort_by(idx: &mut [usize], key: impl Fn(usize) -> f64) {
    let keys: Vec<f64> = idx.iter().map(|&i| key(i)).collect();
    let sorted: Vec<usize> = np_argsort(&keys).into_iter().map(|j| idx[j]).collect();
    idx.copy_from_slice(&sorted);
}

/// `filter.find_label_issues(labels, pred_probs, ...)` returning the boolean mask
/// (`return_indices_ranked_by=None`). Use [`order_label_issues`] for the ranked indices.
pub fn find_label_issues(
    labels: &[usize],
    p: &PredProbs,
    opts: &FindOptions,
) -> Result<Vec<bool>, LearnError> {
    validate(labels, p)?;
    let k = p.k;
    let n = p.n;
    if !(opts.frac_noise.is_finite() && opts.frac_noise >= 0.0) {
        return Err(LearnError::invalid(format!(
            "frac_noise must be a finite number >= 0, got {}",
            opts.frac_noise
        )));
    }
    let prune = matches!(
        opts.filter_by,
        FilterBy::PruneByNoiseRate | FilterBy::PruneByClass | FilterBy::Both
    );
    if opts.num_to_remove_per_class.is_some() && !prune {
        return Err(LearnError::invalid(format!(
            "num_to_remove_per_class is not supported with filter_by {} (cleanlab raises too)",
            opts.filter_by.as_str()
        )));
    }
    let counts = label_counts(labels, k);
    let (cj, off) = compute_confident_joint(labels, p, true);
    let mut mask = vec![false; n];

    if prune {
        let pcm_t: CountMatrix = (0..k).map(|i| (0..k).map(|j| cj[j][i]).collect()).collect();
        let mut pcm =
            keep_at_least_n_per_class(&pcm_t, opts.min_examples_per_class, opts.frac_noise);
        if let Some(nrem) = &opts.num_to_remove_per_class {
            if nrem.len() != k {
                return Err(LearnError::invalid(format!(
                    "num_to_remove_per_class has {} values for {k} classes",
                    nrem.len()
                )));
            }
            let rowsum: Vec<f64> = pcm
                .iter()
                .map(|r| np_sum(&r.iter().map(|&v| v as f64).collect::<Vec<_>>()))
                .collect();
            // psy = pcm / rowsum broadcasts over the last axis: column j is divided by rowsum[j].
            let psy: Vec<Vec<f64>> = (0..k)
                .map(|i| (0..k).map(|j| pcm[i][j] as f64 / rowsum[j]).collect())
                .collect();
            let mut tmp = vec![vec![0f64; k]; k];
            for i in 0..k {
                let noise = np_sum(&psy[i]) - psy[i][i];
                for j in 0..k {
                    tmp[i][j] = psy[i][j] * nrem[i] as f64 / noise;
                }
                tmp[i][i] = (counts[i] - nrem[i]) as f64;
            }
            // A class without estimated noise gives 0/0 = NaN entries; cleanlab (numpy on x86)
            // turns them into i64::MIN, i.e. nothing is pruned for them. Same here.
            pcm = round_preserving_row_totals(&tmp);
        }
        let by_class: Vec<Vec<usize>> = {
            let mut v = vec![Vec::new(); k];
            for (i, &l) in labels.iter().enumerate() {
                v[l].push(i);
            }
            v
        };
        let min = opts.min_examples_per_class;
        let mut class_mask = vec![false; n];
        if matches!(opts.filter_by, FilterBy::PruneByClass | FilterBy::Both) {
            for (c, rows) in by_class.iter().enumerate() {
                if rows.len() <= 1 || rows.len() <= min {
                    continue;
                }
                let num = rows.len() as i64 - pcm[c][c];
                if num >= 1 {
                    let mut order: Vec<usize> = (0..rows.len()).collect();
                    argsort_by(&mut order, |r| p.at(rows[r], c));
                    for &r in order.iter().take(num as usize) {
                        class_mask[rows[r]] = true;
                    }
                }
            }
        }
        let mut noise_mask = vec![false; n];
        if matches!(opts.filter_by, FilterBy::PruneByNoiseRate | FilterBy::Both) {
            for (c, rows) in by_class.iter().enumerate() {
                if rows.len() <= 1 || rows.len() <= min {
                    continue;
                }
                for (j, pcm_row) in pcm.iter().enumerate() {
                    let num = pcm_row[c];
                    if j == c || num <= 0 {
                        continue;
                    }
                    let mut order: Vec<usize> = (0..rows.len()).collect();
                    argsort_by(&mut order, |r| -(p.at(rows[r], j) - p.at(rows[r], c)));
                    for &r in order.iter().take(num as usize) {
                        noise_mask[rows[r]] = true;
                    }
                }
            }
        }
        mask = match opts.filter_by {
            FilterBy::PruneByClass => class_mask,
            FilterBy::PruneByNoiseRate => noise_mask,
            _ => class_mask
                .iter()
                .zip(&noise_mask)
                .map(|(a, b)| *a && *b)
                .collect(),
        };
    }
    match opts.filter_by {
        FilterBy::ConfidentLearning => {
            for &i in &off {
                mask[i] = true;
            }
        }
        FilterBy::PredictedNeqGiven => {
            for (i, &l) in labels.iter().enumerate() {
                mask[i] = argmax(p.row(i)) != l;
            }
        }
        FilterBy::LowSelfConfidence | FilterBy::LowNormalizedMargin => {
            let method = if opts.filter_by == FilterBy::LowSelfConfidence {
                RankBy::SelfConfidence
            } else {
                RankBy::NormalizedMargin
            };
            let scores = label_quality_scores(labels, p, method, false)?;
            let num = num_label_issues(labels, p);
            let mut order: Vec<usize> = (0..n).collect();
            argsort_by(&mut order, |i| scores[i]);
            for &i in order.iter().take(num) {
                mask[i] = true;
            }
        }
        _ => {}
    }
    if !matches!(
        opts.filter_by,
        FilterBy::LowSelfConfidence | FilterBy::LowNormalizedMargin
    ) {
        for (m, r) in mask.iter_mut().zip(reduce_issues_mask(labels, p)) {
            if r {
                *m = false;
            }
        }
    }
    Ok(mask)
}

/// `rank.get_label_quality_scores(labels, pred_probs, method, adjust_pred_probs)`.
pub fn label_quality_scores(
    labels: &[usize],
    p: &PredProbs,
    method: RankBy,
    adjust_pred_probs: bool,
) -> Result<Vec<f64>, LearnError> {
    validate(labels, p)?;
    let adjusted;
    let p = if adjust_pred_probs {
        if method == RankBy::ConfidenceWeightedEntropy {
            return Err(LearnError::invalid(
                "adjust_pred_probs is not supported for confidence_weighted_entropy (as in cleanlab)",
            ));
        }
        let t = confident_thresholds(labels, p);
        let tmax = t.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut data = Vec::with_capacity(p.data.len());
        let mut row = vec![0f64; p.k];
        for i in 0..p.n {
            for j in 0..p.k {
                row[j] = (p.at(i, j) - t[j]) + tmax;
            }
            let s = np_sum(&row);
            data.extend(row.iter().map(|v| v / s));
        }
        adjusted = PredProbs {
            n: p.n,
            k: p.k,
            data,
        };
        &adjusted
    } else {
        p
    };
    let logk = (p.k as f64).ln();
    let mut xl = vec![0f64; p.k];
    Ok(labels
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            let row = p.row(i);
            let sc = row[l];
            match method {
                RankBy::SelfConfidence => sc,
                RankBy::NormalizedMargin => {
                    let mut m = f64::NEG_INFINITY;
                    for (j, &v) in row.iter().enumerate() {
                        if j != l && v > m {
                            m = v;
                        }
                    }
                    (sc - m + 1.0) / 2.0
                }
                RankBy::ConfidenceWeightedEntropy => {
                    for (x, &v) in xl.iter_mut().zip(row) {
                        *x = if v == 0.0 { 0.0 } else { v * v.ln() };
                    }
                    let ent = -np_sum(&xl) / logk;
                    let q = ent / sc.max(CLIPPING_LOWER_BOUND);
                    (q + 1.0).ln() / q.max(CLIPPING_LOWER_BOUND)
                }
            }
        })
        .collect())
}

/// `rank.order_label_issues`: the flagged indices sorted by label-quality score, lowest first
/// (equal scores in numpy's order on AVX-512 CPUs, see [`crate::sort`]).
pub fn order_label_issues(
    mask: &[bool],
    labels: &[usize],
    p: &PredProbs,
    rank_by: RankBy,
) -> Result<Vec<usize>, LearnError> {
    let scores = label_quality_scores(labels, p, rank_by, false)?;
    let mut idx: Vec<usize> = (0..mask.len()).filter(|&i| mask[i]).collect();
    argsort_by(&mut idx, |i| scores[i]);
    Ok(idx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_preserving_sum_uses_half_even_and_fixes_totals() {
        assert_eq!(round_preserving_sum(&[0.5, 1.5, 2.5]), vec![0, 2, 2]);
        // 0.4 * 5 = 2 but each rounds to 0: the two largest residuals get +1.
        let r = round_preserving_sum(&[0.4, 0.45, 0.4, 0.35, 0.4]);
        assert_eq!(r.iter().sum::<i64>(), 2);
        assert_eq!(r[1], 1);
    }

    fn toy() -> (Vec<usize>, PredProbs) {
        let labels = vec![0, 0, 0, 1, 1, 1, 2, 2, 2, 0];
        let p = vec![
            0.9, 0.05, 0.05, //
            0.8, 0.1, 0.1, //
            0.1, 0.8, 0.1, // mislabeled 0 -> looks like 1
            0.1, 0.85, 0.05, //
            0.2, 0.7, 0.1, //
            0.05, 0.05, 0.9, // mislabeled 1 -> looks like 2
            0.1, 0.1, 0.8, //
            0.05, 0.15, 0.8, //
            0.1, 0.2, 0.7, //
            0.7, 0.2, 0.1,
        ];
        (labels, PredProbs::new(10, 3, p).unwrap())
    }

    #[test]
    fn flags_the_obvious_flips() {
        let (labels, p) = toy();
        for fb in [
            FilterBy::PruneByNoiseRate,
            FilterBy::PruneByClass,
            FilterBy::Both,
            FilterBy::ConfidentLearning,
            FilterBy::PredictedNeqGiven,
        ] {
            let opts = FindOptions {
                filter_by: fb,
                ..Default::default()
            };
            let m = find_label_issues(&labels, &p, &opts).unwrap();
            let idx: Vec<usize> = (0..10).filter(|&i| m[i]).collect();
            assert_eq!(idx, vec![2, 5], "{fb:?}");
        }
        let m = find_label_issues(&labels, &p, &FindOptions::default()).unwrap();
        let ranked = order_label_issues(&m, &labels, &p, RankBy::SelfConfidence).unwrap();
        assert_eq!(ranked, vec![5, 2]);
    }

    #[test]
    fn rejects_bad_inputs() {
        let (mut labels, p) = toy();
        labels[0] = 3;
        assert!(find_label_issues(&labels, &p, &FindOptions::default()).is_err());
        assert!(PredProbs::new(3, 3, vec![0.0; 8]).is_err());
        let (labels, p) = toy();
        let opts = FindOptions {
            filter_by: FilterBy::ConfidentLearning,
            num_to_remove_per_class: Some(vec![1, 1, 1]),
            ..Default::default()
        };
        assert!(find_label_issues(&labels, &p, &opts).is_err());
    }
}
