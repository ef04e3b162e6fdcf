//! Out-of-fold predicted probabilities by K-fold cross-validation of the fastText classifier
//! ([`crate::train`]), for confident learning: `datamill train-classifier --cv K` writes them
//! in the format `datamill label-issues` reads, as cleanlab's
//! `estimate_cv_predicted_probabilities` does with a scikit-learn model.
//!
//! Folds are stratified: the examples of each class, shuffled with fastText's own generator
//! (`minstd_rand(seed)`, Fisher–Yates by `uniform_int_distribution`), are dealt to the folds in
//! turn, continuing from class to class, so every fold holds each class in proportion (±1).
//! Each fold's model is trained on the other folds with the same options and predicts the
//! probability of every class for the fold's examples. A class the training folds lack gets
//! probability 0; a text with no known word or n-gram gets the training folds' class
//! frequencies (the prior), and is counted.

use crate::error::LearnError;
use crate::train::{LABEL_PREFIX, MinStd, Model, TrainOptions, fasttext_line};

/// Out-of-fold probabilities of `n` examples over `classes`.
#[derive(Debug, Clone, PartialEq)]
pub struct CvProbs {
    /// The fold of each example (0..K).
    pub fold: Vec<usize>,
    /// One row per example: the probability of each class, in the caller's class order.
    pub probs: Vec<Vec<f32>>,
    /// Examples whose text had no known word or n-gram (given the prior).
    pub unknown_text: usize,
}

/// Stratified fold of each example: `labels[i]` is its class index.
pub fn stratified_folds(labels: &[usize], k: usize, seed: i32) -> Vec<usize> {
    let classes = labels.iter().copied().max().map_or(0, |m| m + 1);
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for (i, &c) in labels.iter().enumerate() {
        by_class[c].push(i);
    }
    let mut rng = MinStd::new(i64::from(seed));
    let mut fold = vec![0; labels.len()];
    let mut next = 0;
    for members in &mut by_class {
        for i in (1..members.len()).rev() {
            let j = rng.uniform_int(i as u64) as usize;
            members.swap(i, j);
        }
        for &m in members.iter() {
            fold[m] = next % k;
            next += 1;
        }
    }
    fold
}

/// Out-of-fold probabilities: `labels[i]` is the class index (into `classes`, the fastText
/// label names without `__label__`) of the example with text `texts[i]` (already a fastText
/// line body, see [`fasttext_line`]). `k` folds, each model trained with `opts`.
pub fn cross_val_probs(
    texts: &[String],
    labels: &[usize],
    classes: &[String],
    k: usize,
    opts: &TrainOptions,
) -> Result<CvProbs, LearnError> {
    if k < 2 {
        return Err(LearnError::invalid(format!(
            "--cv {k}: needs at least 2 folds"
        )));
    }
    if texts.len() < k {
        return Err(LearnError::invalid(format!(
            "--cv {k}: only {} examples",
            texts.len()
        )));
    }
    let fold = stratified_folds(labels, k, opts.seed);
    let mut probs = vec![Vec::new(); texts.len()];
    let mut unknown_text = 0;
    for f in 0..k {
        let train: Vec<String> = (0..texts.len())
            .filter(|&i| fold[i] != f)
            .map(|i| fasttext_line(std::slice::from_ref(&classes[labels[i]]), &texts[i], false))
            .collect();
        let (model, _) = Model::train(&train, opts)?;
        // Model label -> class column.
        let column: Vec<Option<usize>> = model
            .labels()
            .iter()
            .map(|l| {
                let name = l.strip_prefix(LABEL_PREFIX).unwrap_or(l);
                classes.iter().position(|c| c == name)
            })
            .collect();
        let mut prior = vec![0f32; classes.len()];
        let seen = (0..texts.len()).filter(|&i| fold[i] != f).count() as f32;
        for i in (0..texts.len()).filter(|&i| fold[i] != f) {
            prior[labels[i]] += 1.0 / seen;
        }
        for i in (0..texts.len()).filter(|&i| fold[i] == f) {
            probs[i] = match model.probabilities(&texts[i]) {
                Some(p) => {
                    let mut row = vec![0f32; classes.len()];
                    for (j, v) in p.into_iter().enumerate() {
                        if let Some(c) = column[j] {
                            row[c] += v;
                        }
                    }
                    row
                }
                None => {
                    unknown_text += 1;
                    prior.clone()
                }
            };
        }
    }
    Ok(CvProbs {
        fold,
        probs,
        unknown_text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_are_stratified_disjoint_and_seeded() {
        let labels: Vec<usize> = (0..103).map(|i| if i % 4 == 0 { 1 } else { 0 }).collect();
        let f = stratified_folds(&labels, 5, 7);
        assert_eq!(f, stratified_folds(&labels, 5, 7));
        assert_ne!(f, stratified_folds(&labels, 5, 8));
        for c in 0..2 {
            let mut per = [0usize; 5];
            for (i, &l) in labels.iter().enumerate() {
                if l == c {
                    per[f[i]] += 1;
                }
            }
            let (lo, hi) = (per.iter().min().unwrap(), per.iter().max().unwrap());
            assert!(hi - lo <= 1, "class {c}: {per:?}");
        }
    }

    #[test]
    fn out_of_fold_probabilities_rank_the_given_label_of_clean_examples_high() {
        let classes = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let words = [
            "apple apricot avocado",
            "banana blueberry",
            "cherry coconut",
        ];
        let (mut texts, mut labels) = (Vec::new(), Vec::new());
        for i in 0..150 {
            texts.push(format!("{} item{i}", words[i % 3]));
            labels.push(i % 3);
        }
        let opts = TrainOptions {
            dim: 8,
            lr: 0.5,
            epoch: 10,
            ..Default::default()
        };
        let cv = cross_val_probs(&texts, &labels, &classes, 5, &opts).unwrap();
        assert_eq!(cv.probs.len(), 150);
        for (i, row) in cv.probs.iter().enumerate() {
            assert_eq!(row.len(), 3);
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-4, "{row:?}");
            assert!(row[labels[i]] > 0.5, "{i}: {row:?}");
        }
        // "item<i>" is unknown out of fold: every text still has its fruit words.
        assert_eq!(cv.unknown_text, 0);
        let e = cross_val_probs(&texts, &labels, &classes, 1, &opts).unwrap_err();
        assert!(e.to_string().contains("at least 2 folds"), "{e}");
    }
}
