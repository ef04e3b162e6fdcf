//! Scores perplexity as the `perplexity` stage does, then labels each document head, middle
//! or tail by percentiles of the perplexities of the whole data, as CCNet's buckets.
//!
//! A global stage: every document's perplexity is computed (the summary), the cutoffs are
//! the `buckets` percentiles of all of them (numpy's default linear interpolation; CCNet's
//! `percentile_head = 30`, `percentile_tail = 60`), and every kept document gets the
//! perplexity in `field` and its label in `bucket_field`: the first bucket whose cutoff its
//! perplexity is strictly below (`pp < cutoff`, CCNet's rule), else the last. Lower
//! perplexity is better: head is the most Wikipedia-like 30 %. A document without a
//! perplexity (empty text) gets the label `"all"`, as in CCNet.
//!
//! CCNet itself reads fixed per-language cutoffs from `cutoff.csv` (computed on a sample of
//! its data, e.g. English p30 = 340, p60 = 520); this stage computes them on the data it
//! sees. For fixed cutoffs or per-language strata, use the `perplexity` stage followed by
//! `score_select` (`mode = "buckets"`, `stratify_by = "language"`) or `metadata` rules.
//!
//! Parameters: every parameter of the `perplexity` stage except `max_perplexity` (`model` or
//! `train_from`, `order`, `train_text_field`, `field`, `normalize`, `per_line`, `tokenizer`,
//! `round`), plus `buckets` (percentiles in 0..100, increasing; default `[30, 60]`),
//! `bucket_labels` (one more than `buckets`; default `["head", "middle", "tail"]` for two
//! cutoffs, else `"0"`, `"1"`, ...), `bucket_field` (default `"<field>_bucket"`, i.e.
//! `"perplexity_bucket"`) and `keep_buckets` (keep only these labels; the others are dropped
//! as `perplexity_bucket`).
//!
//! Memory: about 24 bytes per document while deciding.
//!
//! ```toml
//! [[stage]]
//! type = "perplexity_buckets"
//! model = "models/en.arpa"
//! buckets = [30, 60]
//! keep_buckets = ["head", "middle"]
//! ```

use crate::annotate::perplexity::{Scoring, Tokenizer};
use crate::{BuildCx, StageSpec, Step};
use datamill_core::codec::{Dec, Enc};
use datamill_core::{
    DecideCx, Decider, Doc, DocRef, GlobalStage, Stage, StageCx, StageError, Verdict, Verdicts,
};
use datamill_npsort::percentile;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

fn default_field() -> String {
    "perplexity".into()
}
fn default_text_field() -> String {
    "text".into()
}
fn default_buckets() -> Vec<f64> {
    vec![30.0, 60.0]
}

/// The `perplexity_buckets` stage's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerplexityBuckets {
    /// ARPA model file.
    pub model: Option<String>,
    /// Reference text to train a model on.
    pub train_from: Option<Vec<String>>,
    /// Order of the trained model (default 5).
    pub order: Option<usize>,
    /// Text field of the reference documents.
    #[serde(default = "default_text_field")]
    pub train_text_field: String,
    /// Metadata field receiving the perplexity.
    #[serde(default = "default_field")]
    pub field: String,
    /// Apply CCNet's normalization.
    #[serde(default = "crate::yes")]
    pub normalize: bool,
    /// Score each line as a sentence.
    #[serde(default = "crate::yes")]
    pub per_line: bool,
    /// The tokenizer.
    #[serde(default)]
    pub tokenizer: Tokenizer,
    /// Round to one decimal, as CCNet.
    #[serde(default = "crate::yes")]
    pub round: bool,
    /// Percentile cutoffs.
    #[serde(default = "default_buckets")]
    pub buckets: Vec<f64>,
    /// Bucket labels, one more than cutoffs.
    pub bucket_labels: Option<Vec<String>>,
    /// Metadata field receiving the label.
    pub bucket_field: Option<String>,
    /// Keep only these labels.
    pub keep_buckets: Option<Vec<String>>,
}

struct Built {
    scoring: Scoring,
    field: String,
    percentiles: Vec<f64>,
    labels: Arc<Vec<String>>,
    bucket_field: String,
    keep: Option<Vec<String>>,
}

impl StageSpec for PerplexityBuckets {
    fn build(&self, cx: &BuildCx) -> Result<Step, StageError> {
        let cfg = |p: &str, m: String| Err(StageError::config(p, m));
        let scoring = Scoring::new(
            cx,
            &self.model,
            &self.train_from,
            self.order,
            &self.train_text_field,
            self.normalize,
            self.per_line,
            self.round,
        )?;
        if self.field.is_empty() {
            return cfg("field", "must not be empty".into());
        }
        let p = &self.buckets;
        if p.is_empty()
            || p.iter().any(|x| !(0.0..=100.0).contains(x))
            || p.windows(2).any(|w| w[0] >= w[1])
        {
            return cfg(
                "buckets",
                format!("must be increasing percentiles between 0 and 100, got {p:?}"),
            );
        }
        let labels = match &self.bucket_labels {
            Some(l) if l.len() != p.len() + 1 => {
                return cfg(
                    "bucket_labels",
                    format!(
                        "needs {} labels (one more than `buckets`), got {}",
                        p.len() + 1,
                        l.len()
                    ),
                );
            }
            Some(l) => l.clone(),
            None if p.len() == 2 => vec!["head".into(), "middle".into(), "tail".into()],
            None => (0..=p.len()).map(|i| i.to_string()).collect(),
        };
        if let Some(keep) = &self.keep_buckets
            && let Some(bad) = keep.iter().find(|k| !labels.contains(k) && *k != "all")
        {
            return cfg(
                "keep_buckets",
                format!("{bad:?} is not a bucket label ({labels:?})"),
            );
        }
        let bucket_field = self
            .bucket_field
            .clone()
            .unwrap_or_else(|| format!("{}_bucket", self.field));
        if bucket_field.is_empty() || bucket_field == self.field {
            return cfg(
                "bucket_field",
                "must be non-empty and differ from `field`".into(),
            );
        }
        Ok(Step::Global(Box::new(Built {
            scoring,
            field: self.field.clone(),
            percentiles: p.clone(),
            labels: Arc::new(labels),
            bucket_field,
            keep: self.keep_buckets.clone(),
        })))
    }
}

// Summary: empty (no perplexity) or the perplexity as 8 little-endian bytes.
impl GlobalStage for Built {
    fn summarize(&self, doc: &Doc, out: &mut Vec<u8>) -> Result<(), StageError> {
        if let Some(pp) = self.scoring.perplexity(doc)? {
            out.extend_from_slice(&pp.to_le_bytes());
        }
        Ok(())
    }

    fn transform(&self, state: &[u8]) -> Result<Box<dyn Stage + '_>, StageError> {
        let mut d = Dec::new(state, "perplexity_buckets decision");
        let n = d.len(17)?;
        let mut at = HashMap::with_capacity_and_hasher(n, Default::default());
        for _ in 0..n {
            let r = crate::dedup::unpack(d.u64()?);
            let pp = d.f64()?;
            at.insert(r, (pp, d.u8()?));
        }
        d.end()?;
        Ok(Box::new(Label { b: self, at }))
    }

    fn decider(&self, _: &DecideCx) -> Result<Box<dyn Decider + '_>, StageError> {
        Ok(Box::new(Decide {
            b: self,
            docs: Vec::new(),
        }))
    }
}

struct Decide<'a> {
    b: &'a Built,
    docs: Vec<(DocRef, Option<f64>)>,
}

impl Decider for Decide<'_> {
    fn observe(&mut self, at: DocRef, s: &[u8], _: &mut Verdicts) -> Result<(), StageError> {
        let pp = match s.len() {
            0 => None,
            8 => Some(f64::from_le_bytes(s.try_into().expect("8 bytes"))),
            _ => {
                return Err(StageError::Other(
                    "perplexity_buckets: corrupt summary".into(),
                ));
            }
        };
        self.docs.push((at, pp));
        Ok(())
    }

    fn finish(&mut self, v: &mut Verdicts) -> Result<Option<Vec<u8>>, StageError> {
        let mut sorted: Vec<f64> = self.docs.iter().filter_map(|d| d.1).collect();
        sorted.sort_by(f64::total_cmp);
        let cutoffs: Vec<f64> = if sorted.is_empty() {
            Vec::new()
        } else {
            self.b
                .percentiles
                .iter()
                .map(|&p| percentile(&sorted, p))
                .collect()
        };
        // The transform's state: (document, perplexity, label) of every kept document, in
        // input order.
        let mut at = Enc::default();
        let mut kept = Vec::new();
        for &(r, pp) in &self.docs {
            let label = match pp {
                None => u8::MAX,
                Some(pp) => cutoffs
                    .iter()
                    .position(|&c| pp < c)
                    .unwrap_or(cutoffs.len()) as u8,
            };
            let name = if label == u8::MAX {
                "all"
            } else {
                &self.b.labels[label as usize]
            };
            if let Some(keep) = &self.b.keep
                && !keep.iter().any(|k| k == name)
            {
                v.drop(r, "perplexity_bucket");
                continue;
            }
            kept.push((r, pp.unwrap_or(f64::NAN), label));
        }
        self.docs = Vec::new();
        at.len(kept.len());
        for (r, pp, label) in kept {
            at.u64(crate::dedup::pack(r));
            at.f64(pp);
            at.u8(label);
        }
        Ok(Some(at.finish()))
    }
}

/// Writes the perplexity and the bucket label of a kept document.
struct Label<'a> {
    b: &'a Built,
    at: HashMap<DocRef, (f64, u8), foldhash::fast::FixedState>,
}

impl Stage for Label<'_> {
    fn process(&self, doc: &mut Doc, cx: &mut StageCx) -> Result<Verdict, StageError> {
        let Some(&(pp, label)) = cx.doc_ref().and_then(|r| self.at.get(&r)) else {
            return Err(StageError::Other(format!(
                "perplexity_buckets: document {} was not seen by the decision",
                doc.id()
            )));
        };
        if label == u8::MAX {
            doc.set(&self.b.bucket_field, "all");
        } else {
            doc.set(&self.b.field, &pp);
            doc.set(&self.b.bucket_field, &self.b.labels[label as usize]);
        }
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARPA: &str = "../datamill-lm/tests/golden/en_prose_o5.arpa";

    /// Runs the stage over texts; returns verdicts and the kept docs after the transform.
    fn run(cfg: &str, texts: &[&str]) -> (Vec<Option<String>>, Vec<Doc>) {
        let c: PerplexityBuckets = toml::from_str(&format!("model = \"{ARPA}\"\n{cfg}")).unwrap();
        let Step::Global(g) = c
            .build(&BuildCx {
                base_dir: env!("CARGO_MANIFEST_DIR").into(),
                ..Default::default()
            })
            .unwrap()
        else {
            panic!()
        };
        let docs: Vec<Doc> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| Doc::new(i.to_string(), *t))
            .collect();
        let (fates, decided) = crate::testing::run(&*g, docs, usize::MAX, &DecideCx::default());
        assert!(decided.transform.is_some());
        crate::testing::split(fates)
    }

    const TEXTS: [&str; 6] = [
        "This package contains the documentation.",
        "zebra quantum toaster umbrella",
        "This package provides the development files.",
        "",
        "of of of the the the",
        "The library is used by the package.",
    ];

    #[test]
    fn ccnet_buckets_from_percentiles() {
        let (v, kept) = run("round = false", &TEXTS);
        assert!(v.iter().all(Option::is_none));
        let pp: Vec<f64> = kept
            .iter()
            .filter_map(|d| d.get_raw("perplexity").map(|x| x.parse().unwrap()))
            .collect();
        assert_eq!(pp.len(), 5);
        let mut sorted = pp.clone();
        sorted.sort_by(f64::total_cmp);
        let (c30, c60) = (percentile(&sorted, 30.0), percentile(&sorted, 60.0));
        for d in &kept {
            let label = d.get_str("perplexity_bucket").unwrap();
            match d.get_raw("perplexity") {
                None => assert_eq!(label, "all"),
                Some(x) => {
                    let x: f64 = x.parse().unwrap();
                    let want = if x < c30 {
                        "head"
                    } else if x < c60 {
                        "middle"
                    } else {
                        "tail"
                    };
                    assert_eq!(label, want, "{x} {c30} {c60}");
                }
            }
        }
        // Prose is head, gibberish tail.
        assert_eq!(kept[0].get_str("perplexity_bucket").unwrap(), "head");
        assert_eq!(kept[1].get_str("perplexity_bucket").unwrap(), "tail");
        // keep_buckets drops the others; custom labels and field.
        let (v, kept) = run(
            "buckets = [50]\nbucket_labels = [\"low\", \"high\"]\nbucket_field = \"b\"\nkeep_buckets = [\"low\"]",
            &TEXTS,
        );
        // 5 scored: 2 strictly below the median; the 3 others and the empty doc ("all") go.
        assert_eq!(
            v.iter()
                .filter(|x| x.as_deref() == Some("perplexity_bucket"))
                .count(),
            4
        );
        assert!(kept.iter().all(|d| d.get_str("b").unwrap() == "low"));
        assert_eq!(kept.len(), 2);
    }

    #[test]
    fn parameter_errors() {
        let param =
            |s: &str| match toml::from_str::<PerplexityBuckets>(&format!("model = \"m\"\n{s}"))
                .unwrap()
                .build(&BuildCx::default())
            {
                Err(StageError::Config { param, .. }) => param,
                _ => panic!("{s} should fail"),
            };
        assert_eq!(param("buckets = [60, 30]"), "buckets");
        assert_eq!(param("buckets = []"), "buckets");
        assert_eq!(param("bucket_labels = [\"a\"]"), "bucket_labels");
        assert_eq!(param("keep_buckets = [\"top\"]"), "keep_buckets");
        assert_eq!(param("bucket_field = \"perplexity\""), "bucket_field");
        assert_eq!(param("order = 3"), "order");
        assert!(
            toml::from_str::<PerplexityBuckets>("model = \"m\"\nmax_perplexity = 3.0").is_err()
        );
    }
}
