//! n-gram language models for datamill: a KenLM-exact ARPA reader and scorer, a modified
//! Kneser-Ney trainer that writes ARPA, and CCNet's document perplexity.
//!
//! * [`Model`] reads an ARPA file (`\data\` header, `\N-grams:` sections of log10
//!   probabilities and backoffs, `<s>`, `</s>`, `<unk>`) and scores sentences exactly as the
//!   `kenlm` Python package's `Model.score(sentence, bos=True, eos=True)` and `full_scores`
//!   do: tokens are split on ASCII whitespace, unknown words are `<unk>`, the longest matching
//!   n-gram gives the probability and the backoffs of the longer contexts are added, all in
//!   32-bit floats in KenLM's order of additions.
//! * [`train::train_arpa`] estimates an interpolated modified Kneser-Ney model (Chen &
//!   Goodman; discounts D1, D2, D3+ per order from the counts of counts, as KenLM's `lmplz`)
//!   and writes it as ARPA text, which [`Model::from_arpa_str`] reads back.
//! * [`ccnet`] has CCNet's `text_normalizer.normalize` and its per-document perplexity
//!   `10 ** (-Σ log10 score / Σ (words + 1))`.
//!
//! N-grams are stored as 64-bit hashes of their word ids (a stable mixing function, one hash
//! map per order), as KenLM's probing model does: a lookup costs one hash and one probe.
//!
//! ```
//! use datamill_lm::{Model, train::{train_arpa, TrainOptions}};
//! let corpus = ["the cat sat", "the dog sat", "a cat ran"];
//! let arpa = train_arpa(corpus.iter().map(|l| l.split(' ')), &TrainOptions::new(3)).unwrap();
//! let lm = Model::from_arpa_str(&arpa).unwrap();
//! assert!(lm.score("the cat sat", true, true) > lm.score("sat cat the", true, true));
//! ```

pub mod ccnet;
mod model;
pub mod train;

pub use model::{FullScore, MAX_ORDER, Model, State, kenlm_words};

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum LmError {
    /// An I/O error reading a model.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A malformed ARPA file.
    #[error("ARPA line {line}: {message}")]
    Arpa {
        /// 1-based line number (0: end of file).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Training could not proceed.
    #[error("training: {0}")]
    Train(String),
}
