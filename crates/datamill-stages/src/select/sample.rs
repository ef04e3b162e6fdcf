//! Keeps a seeded, deterministic fraction of the documents.
//!
//! Each document is kept when `xxh3_64(id, seed) / 2^64 < fraction`, so the decision depends
//! only on the id and the seed: the same documents are kept whatever the worker count, the
//! input order or the stages before it, and two documents with the same id share their fate.
//! Dropped documents get the reason `sampled_out`.
//!
//! Parameters: `fraction` (required, between 0 and 1), `seed` (default: the pipeline's `seed`).
//!
//! ```toml
//! [[stage]]
//! type = "sample"
//! fraction = 0.1
//! seed = 42
//! ```

use crate::{BuildCx, StageSpec, Step};
use datamill_core::{Doc, Stage, StageCx, StageError, Verdict};
use serde::Deserialize;

/// The `sample` stage's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sample {
    /// The fraction of documents to keep.
    pub fraction: f64,
    /// The seed; the pipeline's seed when absent.
    pub seed: Option<u64>,
}

struct Built {
    threshold: u64,
    keep_all: bool,
    seed: u64,
}

impl StageSpec for Sample {
    fn build(&self, cx: &BuildCx) -> Result<Step, StageError> {
        if !(0.0..=1.0).contains(&self.fraction) {
            return Err(StageError::config(
                "fraction",
                format!("must be between 0 and 1, got {}", self.fraction),
            ));
        }
        Ok(Step::Map(Box::new(Built {
            threshold: (self.fraction * 2f64.powi(64)) as u64,
            keep_all: self.fraction >= 1.0,
            seed: self.seed.unwrap_or(cx.seed),
        })))
    }
}

impl Stage for Built {
    fn process(&self, doc: &mut Doc, _: &mut StageCx) -> Result<Verdict, StageError> {
        let h = xxhash_rust::xxh3::xxh3_64_with_seed(doc.id().as_bytes(), self.seed);
        Ok(if self.keep_all || h < self.threshold {
            Verdict::Keep
        } else {
            Verdict::drop("sampled_out")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(fraction: f64, seed: u64, n: usize) -> Vec<usize> {
        let Step::Map(s) = (Sample {
            fraction,
            seed: Some(seed),
        })
        .build(&BuildCx::default())
        .unwrap() else {
            unreachable!()
        };
        (0..n)
            .filter(|i| {
                s.process(
                    &mut Doc::new(format!("doc-{i}"), ""),
                    &mut StageCx::default(),
                )
                .unwrap()
                    == Verdict::Keep
            })
            .collect()
    }

    #[test]
    fn fraction_is_respected_and_seeded() {
        let a = kept(0.1, 1, 20_000);
        assert!((1800..2200).contains(&a.len()), "{}", a.len());
        assert_eq!(a, kept(0.1, 1, 20_000));
        assert_ne!(a, kept(0.1, 2, 20_000));
        assert_eq!(kept(0.0, 1, 100).len(), 0);
        assert_eq!(kept(1.0, 1, 100).len(), 100);
    }

    #[test]
    fn out_of_range_fraction_refused() {
        for f in [-0.1, 1.5, f64::NAN] {
            let e = Sample {
                fraction: f,
                seed: None,
            }
            .build(&BuildCx::default())
            .err()
            .unwrap();
            assert!(e.to_string().contains("fraction"));
        }
    }
}
