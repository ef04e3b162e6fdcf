//! The filters, their common result type and a chain helper.

use std::borrow::Cow;

pub mod c4_badwords;
pub mod c4_quality;
pub mod fineweb_quality;
pub mod gopher_quality;
pub mod gopher_repetition;

pub use c4_badwords::{BADWORDS_LANGS, C4BadWordsFilter};
pub use c4_quality::C4QualityFilter;
pub use fineweb_quality::FineWebQualityFilter;
pub use gopher_quality::{GopherQualityFilter, STOP_WORDS};
pub use gopher_repetition::GopherRepetitionFilter;

/// The reason used when datatrove itself would raise `ZeroDivisionError` (possible only with
/// non-default parameters, e.g. `min_doc_words: null` on a text without words). datatrove would
/// crash the pipeline; we drop the document with this reason instead of panicking.
pub const ZERO_DIVISION: &str = "datatrove_error:ZeroDivisionError";

/// The reason used where datatrove raises `ValueError`: its `simple_span_tokenize` cannot find a
/// sentence the Indic NLP Library's splitter joined with a space that is not in the text.
pub const VALUE_ERROR: &str = "datatrove_error:ValueError";

/// Outcome of a filter on one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterResult {
    /// Keep the document unchanged.
    Keep,
    /// Keep the document with this new text (only [`C4QualityFilter`] rewrites, and only when
    /// the new text differs from the input).
    Rewrite(String),
    /// Drop the document; the reason is datatrove's own string (e.g. `gopher_short_doc`).
    Drop(Cow<'static, str>),
}

impl FilterResult {
    /// Whether the document is kept (possibly rewritten).
    pub fn is_kept(&self) -> bool {
        !matches!(self, FilterResult::Drop(_))
    }

    /// The drop reason, if dropped.
    pub fn reason(&self) -> Option<&str> {
        match self {
            FilterResult::Drop(r) => Some(r),
            _ => None,
        }
    }

    pub(crate) fn drop(reason: &'static str) -> Self {
        FilterResult::Drop(Cow::Borrowed(reason))
    }
}

/// A document filter (one datatrove `BaseFilter` subclass).
pub trait Filter: Send + Sync {
    /// The filter's short name (`gopher_quality`, `c4_quality`, ...), used as the prefix of chain
    /// drop reasons.
    fn name(&self) -> &'static str;

    /// Check the parameters; `Err` names the offending parameter.
    fn validate(&self) -> Result<(), ParamError>;

    /// Decide on one document text.
    fn filter(&self, text: &str) -> FilterResult;
}

/// Run `filters` in order, as a datatrove pipeline would: a rewrite is seen by the following
/// filters, the first drop ends the chain with reason `"<filter name>:<reason>"`.
pub fn run_chain(filters: &[&dyn Filter], text: &str) -> FilterResult {
    let mut current: Option<String> = None;
    for f in filters {
        let t = current.as_deref().unwrap_or(text);
        match f.filter(t) {
            FilterResult::Keep => {}
            FilterResult::Rewrite(s) => current = Some(s),
            FilterResult::Drop(r) => {
                return FilterResult::Drop(Cow::Owned(format!("{}:{}", f.name(), r)));
            }
        }
    }
    match current {
        Some(s) if s != text => FilterResult::Rewrite(s),
        _ => FilterResult::Keep,
    }
}

/// The word tokenizer of a filter's `language`, or the drop a filter returns when it cannot be
/// resolved (only reachable when `validate()` was skipped).
pub(crate) fn tokenizer_for(language: &str) -> Result<crate::lang::WordTokenizer, FilterResult> {
    crate::lang::word_tokenizer(language)
        .map_err(|e| FilterResult::Drop(Cow::Owned(format!("error:{e}"))))
}

/// `a / b` as Python computes it (`int / int` -> correctly rounded `float`), `None` if `b == 0`
/// (Python raises `ZeroDivisionError`).
#[inline]
pub(crate) fn div(a: usize, b: usize) -> Option<f64> {
    (b != 0).then(|| a as f64 / b as f64)
}

/// Python truthiness of an optional float parameter (`None` and `0.0` disable a rule).
#[inline]
pub(crate) fn truthy(x: Option<f64>) -> Option<f64> {
    x.filter(|v| *v != 0.0)
}

pub(crate) fn check_ratio(name: &'static str, v: Option<f64>) -> Result<(), ParamError> {
    match v {
        Some(x) if !x.is_finite() || x < 0.0 => Err(ParamError::new(
            name,
            format!("{name} must be a finite number >= 0, got {x}"),
        )),
        _ => Ok(()),
    }
}

/// An invalid filter parameter: which one, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    /// The parameter's name (`language`, `min_doc_words`, ...).
    pub param: &'static str,
    /// What is wrong, for a person (names the parameter and the value).
    pub message: String,
}

impl ParamError {
    pub(crate) fn new(param: &'static str, message: impl Into<String>) -> Self {
        ParamError {
            param,
            message: message.into(),
        }
    }

    /// A bad `language`.
    pub(crate) fn language(e: crate::lang::LanguageError) -> Self {
        ParamError::new("language", e.to_string())
    }
}

impl std::fmt::Display for ParamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParamError {}
