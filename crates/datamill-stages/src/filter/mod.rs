//! Filters: per-document stages that keep or drop a document by a rule (length, a regular
//! expression, a metadata value, a URL block list) and the exact ports of datatrove 0.10.1's
//! Gopher, C4 and FineWeb rules. A datatrove rule's file (its docs, parameters, defaults and
//! rule) is `crates/datamill-filters/src/filters/<name>.rs`, re-exported here; `datatrove.rs`
//! makes it a stage.

mod datatrove;

/// Re-exports datatrove rule filters as stage modules of this family, each a plain
/// `datatrove::FilterStage` (validate, then keep, rewrite or drop).
macro_rules! datatrove_stages {
    ($($module:ident :: $ty:ident),* $(,)?) => {
        pub use datamill_filters::filters::{$($module),*};
        $(impl crate::StageSpec for $module::$ty {
            fn build(&self, _: &crate::BuildCx) -> Result<crate::Step, datamill_core::StageError> {
                datatrove::build(self)
            }
        })*
    };
}

datatrove_stages! {
    c4_quality::C4QualityFilter,
    fineweb_quality::FineWebQualityFilter,
    gopher_quality::GopherQualityFilter,
    gopher_repetition::GopherRepetitionFilter,
}
/// `c4_badwords` adds a per-document language and a deterministic `keep_fraction` to the rule
/// (its stage is in `datatrove.rs`).
pub use datamill_filters::filters::c4_badwords;
pub mod c4_paragraph;
pub mod length;
pub mod metadata;
pub mod ngrams_decont;
pub mod regex_match;
pub mod unigram_logprob;
pub mod url_filter;
