//! datamill-learn: label-issue detection with confident learning (cleanlab 2.9.0 parity) and
//! fastText-compatible supervised classifier training.
//!
//! * [`label_issues`] — pure numerics: confident joint, calibration, every `filter_by`, label
//!   quality scores and ranking, as cleanlab's `filter.find_label_issues`.
//! * [`train`] — fastText 0.9.2 supervised training (softmax, word n-grams, hashing buckets,
//!   SGD with linearly decaying learning rate) and a `.bin` writer that fastText loads.
//! * [`cv`] — out-of-fold predicted probabilities by stratified K-fold training, the input
//!   of [`label_issues`].
//! * [`quantize`] — fastText's `quantize` (`.ftz`: norm cutoff, dictionary pruning, product
//!   quantization), byte for byte.
//! * [`io`] — labels and predicted probabilities from JSONL, CSV or NPY.
//!
//! The `datamill label-issues` and `datamill train-classifier` commands live in the `datamill`
//! binary (`crates/datamill-cli/src/cmd/`); with the `clap` feature,
//! [`label_issues::FilterBy`] derives `clap::ValueEnum` for them.

pub mod cv;
pub mod error;
pub mod io;
pub mod label_issues;
pub mod quantize;
/// The reference sorts (re-exported from `datamill-npsort`).
pub mod sort {
    pub use datamill_npsort::*;
}
pub mod train;

pub use error::LearnError;
