//! Pure-Rust [fastText](https://fasttext.cc) *inference*: load supervised fastText models
//! (`.bin`, and product-quantized `.ftz` such as `lid.176.ftz`) and predict the top-k labels
//! with the same labels, order and probabilities as C++ fastText 0.9.2 and its Python binding.
//!
//! # What is supported
//!
//! * File format versions 11 and 12 (magic `0x2f4f16ba`): header, `Args`, dictionary (words,
//!   labels, char n-gram buckets hashed with fastText's FNV-1a variant including its
//!   signed-char quirk, the `pruneidx` of pruned quantized models), word n-grams
//!   (`wordNgrams > 1`).
//! * Input and output matrices dense or product-quantized (with or without norm quantization).
//! * Losses: softmax, hierarchical softmax (Huffman tree rebuilt from the label counts exactly
//!   like fastText), one-vs-all and negative sampling (both sigmoid per label, through fastText's
//!   lookup table).
//! * Prediction reproduces fastText's heap (libstdc++'s `push_heap`/`pop_heap`/`sort_heap`),
//!   so ties are broken identically, and its probabilities (`exp(log(p + 1e-5))`).
//!
//! Only supervised models can be loaded (word-vector models are rejected with a clear error).
//! Loading never panics: malformed, truncated or hostile bytes give an [`Error`] naming the file,
//! the field and the byte offset.
//!
//! # Text handling
//!
//! [`FastText::predict`] takes one document and treats it as one line: newlines are word
//! separators like spaces (datatrove replaces them with spaces before calling fastText; the
//! Python binding rejects text containing `\n`). The binding appends `"\n"` to the text, which
//! adds the end-of-sentence token `</s>`; this crate does the same.
//!
//! # Example
//!
//! ```no_run
//! use datamill_fasttext::{FastText, strip_label_prefix};
//!
//! let model = FastText::load("target/models/lid.176.ftz")?;
//! let text = "Le renard brun rapide saute par-dessus le chien paresseux.\nDeuxième ligne.";
//! // datatrove's language filter: top-1 label, keep the document if the score is >= 0.65
//! if let Some(&(label, prob)) = model.predict(text, 1, 0.0).first() {
//!     println!("language={} language_score={prob:.3}", strip_label_prefix(label));
//! }
//! // top 5 with their probabilities
//! for (label, prob) in model.predict(text, 5, 0.0) {
//!     println!("{label}\t{prob}");
//! }
//! # Ok::<(), datamill_fasttext::Error>(())
//! ```

mod args;
mod dictionary;
mod error;
pub mod hashing;
mod heap;
mod matrix;
mod model;
mod reader;

pub use args::{Args, Loss, ModelKind};
pub use dictionary::LABEL_PREFIX;
pub use error::{Error, FormatError};
pub use model::{FastText, MAGIC, VERSION};

/// Removes fastText's `__label__` prefix: `"__label__en"` → `"en"`. Other strings are returned
/// unchanged.
pub fn strip_label_prefix(label: &str) -> &str {
    label.strip_prefix(LABEL_PREFIX).unwrap_or(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_prefix() {
        assert_eq!(strip_label_prefix("__label__en"), "en");
        assert_eq!(strip_label_prefix("en"), "en");
    }

    #[test]
    fn model_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<FastText>();
    }
}
