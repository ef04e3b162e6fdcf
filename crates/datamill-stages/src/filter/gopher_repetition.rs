//! Gopher repetition rules (Rae et al. 2021) exactly as datatrove 0.10.1's GopherRepetitionFilter.
//!
//! Duplicate lines and paragraphs (by count and by characters), the share of the most
//! frequent 2-, 3- and 4-grams and of characters in duplicated 5- to 10-grams, with words from
//! spaCy's blank English tokenizer and `Counter.most_common` tie-breaking, checked document
//! for document against datatrove on the en_prose sample.
//!
//! Parameters (datatrove's names and defaults): `dup_line_frac` (0.3), `dup_para_frac` (0.3),
//! `dup_line_char_frac` (0.2), `dup_para_char_frac` (0.2), `top_n_grams`
//! ([[2, 0.2], [3, 0.18], [4, 0.16]]), `dup_n_grams` ([[5, 0.15], [6, 0.14], [7, 0.13],
//! [8, 0.12], [9, 0.11], [10, 0.10]]), `language` ("en").
//!
//! Drop reasons: `empty`, `dup_para_frac`, `dup_para_char_frac`, `dup_line_frac`,
//! `dup_line_char_frac`, `top_{n}_gram`, `duplicated_{n}_n_grams`.
//!
//! ```toml
//! [[stage]]
//! type = "gopher_repetition"
//! dup_line_frac = 0.3
//! ```

pub use datamill_filters::GopherRepetitionFilter;
