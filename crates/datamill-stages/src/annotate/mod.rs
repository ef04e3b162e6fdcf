//! Annotators: per-document stages that rewrite the text (normalization, PII replacement) or
//! add what a model says of it to the metadata (language, a classifier's score, a token count,
//! a perplexity), and may keep or drop it by that value; and `embed` (global), which stores a
//! sentence embedding of every document beside the run.

pub mod embed;
pub mod fasttext_classifier;
pub mod language;
pub mod normalize;
pub mod perplexity;
pub mod pii;
pub mod symbol_lines;
pub mod token_count;
