//! Exact ports of datatrove 0.10.1's rule-based quality filters and of the spaCy 3.8.18
//! word tokenizers they depend on.
//!
//! * [`GopherQualityFilter`], [`GopherRepetitionFilter`], [`C4QualityFilter`] (which may
//!   rewrite the text), [`C4BadWordsFilter`] and [`FineWebQualityFilter`]: parameter names,
//!   defaults and drop-reason strings are datatrove's, so a datatrove configuration carries
//!   over (each filter is a `serde::Deserialize` struct with `deny_unknown_fields`; datatrove's
//!   `exclusion_writer` is a pipeline concern and not a filter parameter here).
//! * [`tokenizer::Tokenizer`]: `spacy.blank(lang)` tokenization and the `sentencizer`, token for
//!   token (whitespace tokens included), which every word-based ratio depends on; [`lang`]:
//!   datatrove's language → tokenizer table.
//! * [`pystr`]: the Python `str` semantics (code-point lengths, `isspace`, `isalpha`,
//!   `splitlines`, `split`, `strip`, `lower`) from CPython 3.11's Unicode 14 tables.
//!
//! Decisions are checked document for document against datatrove itself
//! (`tests/golden/make_golden.py`); see the crate README for agreement figures, known
//! differences and speed.
//!
//! Every language datatrove tokenizes with spaCy's rules (57 spaCy classes, `xx` included, 3,742
//! of its 4,343 codes) or its whitespace tokenizer: a filter's `language` is a code of
//! datatrove's tokenizer table ([`lang`]); codes datatrove gives other tokenizers are errors
//! naming the tokenizer and an alternative, never a silent fallback.
//!
//! ```
//! use datamill_filters::{run_chain, C4QualityFilter, Filter, FilterResult, FineWebQualityFilter,
//!                        GopherQualityFilter, GopherRepetitionFilter};
//!
//! let gq: GopherQualityFilter = serde_json::from_str(r#"{"min_doc_words": 5}"#).unwrap();
//! gq.validate().unwrap();
//! assert_eq!(gq.filter("Hello world."), FilterResult::Drop("gopher_short_doc".into()));
//!
//! let text = "Menu\nThe cat sat on the mat. It was warm. The sun was out.\n\
//!             Birds sang in the trees. It was a good day to be a cat.";
//! let c4 = C4QualityFilter::default();
//! match c4.filter(text) {
//!     FilterResult::Rewrite(new) => assert!(!new.contains("Menu")),
//!     other => panic!("{other:?}"),
//! }
//!
//! let (rep, fw) = (GopherRepetitionFilter::default(), FineWebQualityFilter::default());
//! let chain: [&dyn Filter; 4] = [&gq, &rep, &c4, &fw];
//! // the same decision datatrove 0.10.1 takes on this text
//! let res = run_chain(&chain, text);
//! assert_eq!(res, FilterResult::Drop("gopher_quality:gopher_below_avg_threshold".into()));
//! ```

#![forbid(unsafe_code)]

pub mod burmese;
pub mod data;
pub mod dt_text;
pub mod filters;
pub mod indic;
mod indic_data;
pub mod jieba;
pub mod khmer;
pub mod lang;
pub mod lao;
pub mod presets;
pub mod pystr;
mod pytables;
pub mod text;
pub mod thai;
pub mod tokenizer;

pub use filters::{
    C4BadWordsFilter, C4QualityFilter, Filter, FilterResult, FineWebQualityFilter,
    GopherQualityFilter, GopherRepetitionFilter, ParamError, run_chain,
};
pub use lang::{LanguageError, WordTokenizer, word_tokenizer};
