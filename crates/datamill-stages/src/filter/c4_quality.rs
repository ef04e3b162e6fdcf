//! C4 line and document rules (Raffel et al. 2020) exactly as datatrove 0.10.1's C4QualityFilter,
//! including the lines it removes: the text is rewritten and the stage counts `rewritten`.
//!
//! Lines without terminal punctuation, with too few words, with over-long words, citation
//! markers, "javascript" and policy boilerplate lines are removed; documents with "lorem
//! ipsum", a curly bracket or too few sentences (spaCy's sentencizer) are dropped. Checked
//! document for document (decision and rewritten text) against datatrove on the en_prose sample.
//!
//! Parameters (datatrove's names and defaults): `split_paragraph` (true), `remove_citations`
//! (true), `filter_no_terminal_punct` (true), `min_num_sentences` (5), `min_words_per_line` (3),
//! `max_word_length` (1000), `filter_lorem_ipsum` (true), `filter_javascript` (true),
//! `filter_curly_bracket` (true), `filter_policy` (true), `language` ("en").
//!
//! Drop reasons: `lorem_ipsum`, `curly_bracket`, `too_few_sentences`.
//!
//! ```toml
//! [[stage]]
//! type = "c4_quality"
//! filter_no_terminal_punct = true
//! min_num_sentences = 5
//! ```

pub use datamill_filters::C4QualityFilter;
