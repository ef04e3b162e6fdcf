//! Gopher quality rules (Rae et al. 2021) exactly as datatrove 0.10.1's GopherQualityFilter.
//!
//! Words come from the word tokenizer datatrove uses for `language`, reproduced token for token
//! (`datamill_filters::tokenizer`); ratios, thresholds, the stop-word rule and the drop reasons
//! are datatrove's, checked document for document on the en_prose sample
//! (`crates/datamill-filters/tests/golden/`). Set a parameter to `0` to disable its rule.
//!
//! Parameters (datatrove's names and defaults): `min_doc_words` (50), `max_doc_words`
//! (100000), `min_avg_word_length` (3), `max_avg_word_length` (10), `max_symbol_word_ratio`
//! (0.1), `max_bullet_lines_ratio` (0.9), `max_ellipsis_lines_ratio` (0.3),
//! `max_non_alpha_words_ratio` (0.8), `min_stop_words` (2), `stop_words` (datatrove's list),
//! `language` ("eng").
//!
//! `language` is a code of datatrove's tokenizer table (`assets/tokenizer_assignment.csv`:
//! "eng", "de", "deu", "rus_Cyrl", ...): words (and sentences) come from the tokenizer datatrove
//! uses for it, reproduced exactly for the 57 spaCy rule-based classes (`xx` included),
//! datatrove's whitespace tokenizer and jieba (Chinese: `cmn_Hani`, ...; its dictionary from
//! `fetch-jieba.sh`), the Indic NLP Library's rules (Hindi, Bengali, Tamil, Urdu, ...),
//! PyThaiNLP (Thai), pyidaungsu (Burmese), khmer-nltk (Khmer) and LaoNLP (Lao) (their data from
//! the crate's `fetch-*.sh` scripts);
//! languages datatrove gives Stanza, Sudachi, botok, Kiwi, ... are refused with an error naming that tokenizer and an alternative, and an
//! unknown code with the close codes.
//!
//! `preset = "fineweb2"` (with `language`, e.g. "deu_Latn") sets what FineWeb-2 set for that
//! language: its published per-language thresholds and stop words (huggingface/fineweb-2
//! `configs/`, 1,929 languages) combined as its pipeline does; parameters given explicitly win.
//! See `datamill_filters::presets`.
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

// The `//!` comment above is the `gopher_quality` stage's user documentation (`datamill stages
// gopher_quality`, extracted by crates/datamill-stages/build.rs): this one file owns the stage's
// docs, parameters and defaults (a test checks that the documented defaults are the real
// ones). Port of datatrove 0.10.1's `pipeline/filters/gopher_quality_filter.py`.

use std::collections::HashSet;

use serde::Deserialize;

use super::{FilterResult, ParamError, ZERO_DIVISION, check_ratio, div, truthy};
use crate::{lang, pystr, text};

/// datatrove's default stop words (case-sensitive; the text is not lower-cased).
pub const STOP_WORDS: [&str; 8] = ["the", "be", "to", "of", "and", "that", "have", "with"];

/// Gopher quality heuristics (Rae et al. 2021, Table A1), exactly as datatrove 0.10.1.
///
/// Rules in order, first failure wins (reason in brackets); a parameter set to `null` or `0`
/// disables its rule (Python truthiness):
/// 1. non-symbol words (tokens with a character outside `PUNCTUATION_SET`) `< min_doc_words`
///    \[`gopher_short_doc`\] or `> max_doc_words` \[`gopher_long_doc`\];
/// 2. their mean length `< min_avg_word_length` \[`gopher_below_avg_threshold`\] or
///    `> max_avg_word_length` \[`gopher_above_avg_threshold`\];
/// 3. `text.count("#") / words > max_symbol_word_ratio` \[`gopher_too_many_hashes`\], same for
///    `"..."` + `"…"` \[`gopher_too_many_ellipsis`\];
/// 4. fraction of `splitlines()` lines starting (after `lstrip`) with `•` or `-` `>
///    max_bullet_lines_ratio` \[`gopher_too_many_bullets`\]; ending (after `rstrip`) with `...` or
///    `…` `> max_ellipsis_lines_ratio` \[`gopher_too_many_end_ellipsis`\];
/// 5. fraction of all tokens with an alphabetic character `< max_non_alpha_words_ratio`
///    \[`gopher_below_alpha_threshold`\];
/// 6. distinct stop words present `< min_stop_words` \[`gopher_enough_stop_words`\].
#[derive(Debug, Clone, PartialEq, Deserialize)]
// `remote = "Self"`: the derive becomes an inherent `deserialize`, wrapped below by the
// trait impl that first expands a `preset` (see `crate::presets`).
#[serde(deny_unknown_fields, default, remote = "Self")]
pub struct GopherQualityFilter {
    /// Minimum number of non-symbol words (default 50).
    pub min_doc_words: Option<u64>,
    /// Maximum number of non-symbol words (default 100000).
    pub max_doc_words: Option<u64>,
    /// Minimum mean non-symbol word length in characters (default 3).
    pub min_avg_word_length: Option<f64>,
    /// Maximum mean non-symbol word length in characters (default 10).
    pub max_avg_word_length: Option<f64>,
    /// Maximum `#` (and, separately, ellipsis) count per word (default 0.1).
    pub max_symbol_word_ratio: Option<f64>,
    /// Maximum fraction of bullet lines (default 0.9).
    pub max_bullet_lines_ratio: Option<f64>,
    /// Maximum fraction of lines ending with an ellipsis (default 0.3).
    pub max_ellipsis_lines_ratio: Option<f64>,
    /// Minimum fraction of words with an alphabetic character (default 0.8; the name is
    /// datatrove's).
    pub max_non_alpha_words_ratio: Option<f64>,
    /// Minimum number of distinct stop words present (default 2).
    pub min_stop_words: Option<u64>,
    /// Stop words (`null` = [`STOP_WORDS`]).
    pub stop_words: Option<Vec<String>>,
    /// Tokenizer language: a code of datatrove's tokenizer table (default `"eng"`; see
    /// [`crate::lang`]).
    pub language: String,
}

impl Default for GopherQualityFilter {
    fn default() -> Self {
        GopherQualityFilter {
            min_doc_words: Some(50),
            max_doc_words: Some(100_000),
            min_avg_word_length: Some(3.0),
            max_avg_word_length: Some(10.0),
            max_symbol_word_ratio: Some(0.1),
            max_bullet_lines_ratio: Some(0.9),
            max_ellipsis_lines_ratio: Some(0.3),
            max_non_alpha_words_ratio: Some(0.8),
            min_stop_words: Some(2),
            stop_words: None,
            language: "eng".to_string(),
        }
    }
}

impl<'de> Deserialize<'de> for GopherQualityFilter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let table = crate::presets::expand("gopher_quality", d)?;
        GopherQualityFilter::deserialize(table).map_err(serde::de::Error::custom)
    }
}

impl GopherQualityFilter {
    /// Check the parameters.
    pub fn validate(&self) -> Result<(), ParamError> {
        lang::word_tokenizer(&self.language).map_err(ParamError::language)?;
        for (n, v) in [
            ("min_avg_word_length", self.min_avg_word_length),
            ("max_avg_word_length", self.max_avg_word_length),
            ("max_symbol_word_ratio", self.max_symbol_word_ratio),
            ("max_bullet_lines_ratio", self.max_bullet_lines_ratio),
            ("max_ellipsis_lines_ratio", self.max_ellipsis_lines_ratio),
            ("max_non_alpha_words_ratio", self.max_non_alpha_words_ratio),
        ] {
            check_ratio(n, v)?;
        }
        if let (Some(a), Some(b)) = (self.min_doc_words, self.max_doc_words)
            && a > 0
            && b > 0
            && a > b
        {
            return Err(ParamError::new(
                "min_doc_words",
                format!("min_doc_words ({a}) > max_doc_words ({b})"),
            ));
        }
        if let (Some(a), Some(b)) = (self.min_avg_word_length, self.max_avg_word_length)
            && a > 0.0
            && b > 0.0
            && a > b
        {
            return Err(ParamError::new(
                "min_avg_word_length",
                format!("min_avg_word_length ({a}) > max_avg_word_length ({b})"),
            ));
        }
        Ok(())
    }

    /// Decide on one document.
    pub fn filter(&self, text: &str) -> FilterResult {
        let words = match super::tokenizer_for(&self.language) {
            Ok(t) => t.words(text),
            Err(drop) => return drop,
        };
        let words: Vec<&str> = words.iter().map(AsRef::as_ref).collect();
        self.filter_words(text, &words)
    }

    pub(crate) fn filter_words(&self, text: &str, words: &[&str]) -> FilterResult {
        let n_words = words.len();
        let mut n_non_symbol = 0usize;
        let mut non_symbol_chars = 0usize;
        for w in words {
            if w.chars().any(|c| !text::is_punctuation(c)) {
                n_non_symbol += 1;
                non_symbol_chars += pystr::char_len(w);
            }
        }
        if let Some(m) = self.min_doc_words.filter(|&m| m != 0)
            && (n_non_symbol as u64) < m
        {
            return FilterResult::drop("gopher_short_doc");
        }
        if let Some(m) = self.max_doc_words.filter(|&m| m != 0)
            && n_non_symbol as u64 > m
        {
            return FilterResult::drop("gopher_long_doc");
        }
        // np.mean of an empty list is nan: every comparison is false
        let avg = if n_non_symbol == 0 {
            f64::NAN
        } else {
            non_symbol_chars as f64 / n_non_symbol as f64
        };
        if let Some(m) = truthy(self.min_avg_word_length)
            && avg < m
        {
            return FilterResult::drop("gopher_below_avg_threshold");
        }
        if let Some(m) = truthy(self.max_avg_word_length)
            && avg > m
        {
            return FilterResult::drop("gopher_above_avg_threshold");
        }
        if let Some(m) = truthy(self.max_symbol_word_ratio) {
            let Some(r) = div(pystr::count(text, "#"), n_words) else {
                return FilterResult::drop(ZERO_DIVISION);
            };
            if r > m {
                return FilterResult::drop("gopher_too_many_hashes");
            }
            let Some(r) = div(
                pystr::count(text, "...") + pystr::count(text, "\u{2026}"),
                n_words,
            ) else {
                return FilterResult::drop(ZERO_DIVISION);
            };
            if r > m {
                return FilterResult::drop("gopher_too_many_ellipsis");
            }
        }
        let bullets = truthy(self.max_bullet_lines_ratio);
        let ellipsis = truthy(self.max_ellipsis_lines_ratio);
        if bullets.is_some() || ellipsis.is_some() {
            let lines = pystr::splitlines(text);
            if let Some(m) = bullets {
                let n = lines
                    .iter()
                    .filter(|s| {
                        let l = pystr::lstrip(s);
                        l.starts_with('\u{2022}') || l.starts_with('-')
                    })
                    .count();
                let Some(r) = div(n, lines.len()) else {
                    return FilterResult::drop(ZERO_DIVISION);
                };
                if r > m {
                    return FilterResult::drop("gopher_too_many_bullets");
                }
            }
            if let Some(m) = ellipsis {
                let n = lines
                    .iter()
                    .filter(|s| {
                        let l = pystr::rstrip(s);
                        l.ends_with("...") || l.ends_with('\u{2026}')
                    })
                    .count();
                let Some(r) = div(n, lines.len()) else {
                    return FilterResult::drop(ZERO_DIVISION);
                };
                if r > m {
                    return FilterResult::drop("gopher_too_many_end_ellipsis");
                }
            }
        }
        if let Some(m) = truthy(self.max_non_alpha_words_ratio) {
            let n = words
                .iter()
                .filter(|w| w.chars().any(pystr::is_alpha))
                .count();
            let Some(r) = div(n, n_words) else {
                return FilterResult::drop(ZERO_DIVISION);
            };
            if r < m {
                return FilterResult::drop("gopher_below_alpha_threshold");
            }
        }
        if let Some(m) = self.min_stop_words.filter(|&m| m != 0) {
            let found: HashSet<&str> = match &self.stop_words {
                None => words
                    .iter()
                    .copied()
                    .filter(|w| STOP_WORDS.contains(w))
                    .collect(),
                Some(sw) => words
                    .iter()
                    .copied()
                    .filter(|w| sw.iter().any(|s| s == w))
                    .collect(),
            };
            if (found.len() as u64) < m {
                return FilterResult::drop("gopher_enough_stop_words");
            }
        }
        FilterResult::Keep
    }
}

impl super::Filter for GopherQualityFilter {
    fn name(&self) -> &'static str {
        "gopher_quality"
    }
    fn validate(&self) -> Result<(), ParamError> {
        GopherQualityFilter::validate(self)
    }
    fn filter(&self, text: &str) -> FilterResult {
        GopherQualityFilter::filter(self, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_reasons() {
        let f = GopherQualityFilter::default();
        assert!(f.validate().is_ok());
        assert_eq!(
            f.filter("too short"),
            FilterResult::drop("gopher_short_doc")
        );
        let good =
            "The cat sat on the mat and looked at the birds that have been singing with joy. "
                .repeat(5);
        assert_eq!(f.filter(&good), FilterResult::Keep);
        let no_stop = "Cats sit on mats looking at birds singing joyfully. ".repeat(8);
        assert_eq!(
            f.filter(&no_stop),
            FilterResult::drop("gopher_enough_stop_words")
        );
    }

    #[test]
    fn serde_defaults_and_validation() {
        let f: GopherQualityFilter =
            serde_json::from_str(r#"{"min_doc_words": 10, "stop_words": null}"#).unwrap();
        assert_eq!(f.min_doc_words, Some(10));
        assert_eq!(f.max_doc_words, Some(100_000));
        assert!(serde_json::from_str::<GopherQualityFilter>(r#"{"bogus": 1}"#).is_err());
        let bad = GopherQualityFilter {
            max_symbol_word_ratio: Some(-0.1),
            ..Default::default()
        };
        let e = bad.validate().unwrap_err();
        assert_eq!(e.param, "max_symbol_word_ratio");
        assert!(e.message.contains("-0.1"), "{e}");
        let de = GopherQualityFilter {
            language: "deu".into(),
            ..Default::default()
        };
        assert!(de.validate().is_ok());
        let bad_lang = GopherQualityFilter {
            language: "deu_Latm".into(),
            ..Default::default()
        };
        let e = bad_lang.validate().unwrap_err();
        assert_eq!(e.param, "language");
        assert!(e.message.contains("deu_Latn"), "{e}");
        let no_words = GopherQualityFilter {
            min_doc_words: None,
            ..Default::default()
        };
        assert_eq!(no_words.filter(""), FilterResult::drop(ZERO_DIVISION));
    }
}
