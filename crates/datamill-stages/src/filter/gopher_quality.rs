//! Gopher quality rules (Rae et al. 2021) exactly as datatrove 0.10.1's GopherQualityFilter.
//!
//! Words come from spaCy's blank English tokenizer, reproduced token for token
//! (`datamill_filters::tokenizer`); ratios, thresholds, the stop-word rule and the drop reasons
//! are datatrove's, checked document for document on the en_prose sample
//! (`crates/datamill-filters/tests/golden/`). Set a parameter to `0` to disable its rule.
//!
//! Parameters (datatrove's names and defaults): `min_doc_words` (50), `max_doc_words`
//! (100000), `min_avg_word_length` (3), `max_avg_word_length` (10), `max_symbol_word_ratio`
//! (0.1), `max_bullet_lines_ratio` (0.9), `max_ellipsis_lines_ratio` (0.3),
//! `max_non_alpha_words_ratio` (0.8), `min_stop_words` (2), `stop_words` (datatrove's list),
//! `language` ("en"; only languages datatrove tokenizes with spaCy's English rules).
//!
//! Drop reasons: `gopher_short_doc`, `gopher_long_doc`, `gopher_below_avg_threshold`,
//! `gopher_above_avg_threshold`, `gopher_too_many_hashes`, `gopher_too_many_ellipsis`,
//! `gopher_too_many_bullets`, `gopher_too_many_end_ellipsis`, `gopher_below_alpha_threshold`,
//! `gopher_enough_stop_words`.
//!
//! ```toml
//! [[stage]]
//! type = "gopher_quality"
//! min_doc_words = 50
//! max_non_alpha_words_ratio = 0.8
//! ```

pub use datamill_filters::GopherQualityFilter;
