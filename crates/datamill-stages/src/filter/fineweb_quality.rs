//! FineWeb's own quality rules exactly as datatrove 0.10.1's FineWebQualityFilter.
//!
//! Share of lines ending in punctuation, share of short lines, characters in duplicated lines,
//! and the newline-to-word ratio ("list-like" documents), with words from spaCy's blank
//! English tokenizer; checked document for document against datatrove on the en_prose sample.
//!
//! Parameters (datatrove's names and defaults): `line_punct_thr` (0.12),
//! `line_punct_exclude_zero` (false), `stop_chars` (datatrove's set), `short_line_thr` (0.67),
//! `short_line_length` (30), `char_duplicates_ratio` (0.01), `new_line_ratio` (0.3),
//! `language` ("en").
//!
//! Drop reasons: `empty`, `line_punct_ratio`, `short_line_ratio`, `char_dup_ratio`, `list_ratio`.
//!
//! ```toml
//! [[stage]]
//! type = "fineweb_quality"
//! line_punct_thr = 0.12
//! ```

pub use datamill_filters::FineWebQualityFilter;
