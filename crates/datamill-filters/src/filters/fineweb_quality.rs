//! FineWeb's own quality rules exactly as datatrove 0.10.1's FineWebQualityFilter.
//!
//! Share of lines ending in punctuation, share of short lines, characters in duplicated lines,
//! and the newline-to-word ratio ("list-like" documents), with words from the tokenizer
//! datatrove uses for `language`; checked document for document against datatrove on the
//! en_prose and multilingual samples.
//!
//! Parameters (datatrove's names and defaults): `line_punct_thr` (0.12),
//! `line_punct_exclude_zero` (false), `stop_chars` (datatrove's set), `short_line_thr` (0.67),
//! `short_line_length` (30), `char_duplicates_ratio` (0.01), `new_line_ratio` (0.3),
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
//! Drop reasons: `empty`, `line_punct_ratio`, `short_line_ratio`, `char_dup_ratio`, `list_ratio`.
//!
//! ```toml
//! [[stage]]
//! type = "fineweb_quality"
//! line_punct_thr = 0.12
//!
//! [[stage]]
//! type = "fineweb_quality"
//! preset = "fineweb2"
//! language = "deu_Latn"
//! ```

// The `//!` comment above is the `fineweb_quality` stage's user documentation (`datamill stages
// fineweb_quality`, extracted by crates/datamill-stages/build.rs): this one file owns the stage's
// docs, parameters and defaults (a test checks that the documented defaults are the real
// ones). Port of datatrove 0.10.1's `pipeline/filters/fineweb_quality_filter.py`.

use serde::Deserialize;

use super::{FilterResult, ParamError, ZERO_DIVISION, check_ratio, div};
use crate::filters::gopher_repetition::find_duplicates;
use crate::{lang, pystr, text};

/// FineWeb's custom heuristics (Penedo et al. 2024), exactly as datatrove 0.10.1 (the current
/// code, not the FineWeb-release v0.2.0 variant).
///
/// Lines are the non-blank lines of `text.split("\n")` (none: \[`empty`\]). In order: fraction of
/// lines ending with a stop character `< line_punct_thr` \[`line_punct_ratio`\] (unless it is 0
/// and `line_punct_exclude_zero`); fraction of lines of at most `short_line_length` characters
/// `> short_line_thr` \[`short_line_ratio`\]; characters of duplicated lines /
/// `len(text.replace("\n", ""))` `> char_duplicates_ratio` \[`char_dup_ratio`\]; newlines / words
/// `> new_line_ratio` \[`list_ratio`\].
#[derive(Debug, Clone, PartialEq, Deserialize)]
// `remote = "Self"`: the derive becomes an inherent `deserialize`, wrapped below by the
// trait impl that first expands a `preset` (see `crate::presets`).
#[serde(deny_unknown_fields, default, remote = "Self")]
pub struct FineWebQualityFilter {
    /// Minimum fraction of lines ending with a stop character (default 0.12).
    pub line_punct_thr: f64,
    /// Do not drop when no line at all ends with a stop character (default false).
    pub line_punct_exclude_zero: bool,
    /// Line endings that count as punctuation (`null` = datatrove's `TERMINAL_PUNCTUATION`).
    pub stop_chars: Option<Vec<String>>,
    /// Maximum fraction of short lines (default 0.67).
    pub short_line_thr: f64,
    /// A line of at most this many characters is short (default 30).
    pub short_line_length: usize,
    /// Maximum fraction of characters in duplicated lines (default 0.01).
    pub char_duplicates_ratio: f64,
    /// Maximum newlines per word (default 0.3).
    pub new_line_ratio: f64,
    /// Tokenizer language: a code of datatrove's tokenizer table (default `"eng"`; see
    /// [`crate::lang`]).
    pub language: String,
}

impl Default for FineWebQualityFilter {
    fn default() -> Self {
        FineWebQualityFilter {
            line_punct_thr: 0.12,
            line_punct_exclude_zero: false,
            stop_chars: None,
            short_line_thr: 0.67,
            short_line_length: 30,
            char_duplicates_ratio: 0.01,
            new_line_ratio: 0.3,
            language: "eng".to_string(),
        }
    }
}

impl<'de> Deserialize<'de> for FineWebQualityFilter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let table = crate::presets::expand("fineweb_quality", d)?;
        FineWebQualityFilter::deserialize(table).map_err(serde::de::Error::custom)
    }
}

impl FineWebQualityFilter {
    /// Check the parameters.
    pub fn validate(&self) -> Result<(), ParamError> {
        lang::word_tokenizer(&self.language).map_err(ParamError::language)?;
        // a negative line_punct_thr disables its rule (FineWeb-2's configs use -1)
        if !self.line_punct_thr.is_finite() {
            return Err(ParamError::new(
                "line_punct_thr",
                format!(
                    "line_punct_thr must be a finite number, got {}",
                    self.line_punct_thr
                ),
            ));
        }
        for (n, v) in [
            ("short_line_thr", self.short_line_thr),
            ("char_duplicates_ratio", self.char_duplicates_ratio),
            ("new_line_ratio", self.new_line_ratio),
        ] {
            check_ratio(n, Some(v))?;
        }
        if let Some(sc) = &self.stop_chars
            && sc.iter().any(|s| s.is_empty())
        {
            // "".endswith("") is true for every line: almost certainly a configuration error
            return Err(ParamError::new(
                "stop_chars",
                "stop_chars must not contain an empty string",
            ));
        }
        Ok(())
    }

    fn ends_with_stop(&self, line: &str) -> bool {
        match &self.stop_chars {
            None => line
                .chars()
                .next_back()
                .is_some_and(text::is_terminal_punctuation),
            Some(sc) => sc.iter().any(|s| line.ends_with(s.as_str())),
        }
    }

    /// Decide on one document.
    pub fn filter(&self, text: &str) -> FilterResult {
        let lines: Vec<&str> = text
            .split('\n')
            .filter(|l| !pystr::strip(l).is_empty())
            .collect();
        if lines.is_empty() {
            return FilterResult::drop("empty");
        }
        let n = lines.len() as f64;
        let ratio = lines.iter().filter(|l| self.ends_with_stop(l)).count() as f64 / n;
        if ratio < self.line_punct_thr && !(ratio == 0.0 && self.line_punct_exclude_zero) {
            return FilterResult::drop("line_punct_ratio");
        }
        let ratio = lines
            .iter()
            .filter(|l| pystr::char_len(l) <= self.short_line_length)
            .count() as f64
            / n;
        if ratio > self.short_line_thr {
            return FilterResult::drop("short_line_ratio");
        }
        let newlines = text.bytes().filter(|&b| b == b'\n').count();
        let (_, dup_chars) = find_duplicates(lines.iter().copied());
        let Some(ratio) = div(dup_chars, pystr::char_len(text) - newlines) else {
            return FilterResult::drop(ZERO_DIVISION);
        };
        if ratio > self.char_duplicates_ratio {
            return FilterResult::drop("char_dup_ratio");
        }
        let words = match super::tokenizer_for(&self.language) {
            Ok(t) => t.words(text),
            Err(drop) => return drop,
        };
        let Some(ratio) = div(newlines, words.len()) else {
            return FilterResult::drop(ZERO_DIVISION);
        };
        if ratio > self.new_line_ratio {
            return FilterResult::drop("list_ratio");
        }
        FilterResult::Keep
    }
}

impl super::Filter for FineWebQualityFilter {
    fn name(&self) -> &'static str {
        "fineweb_quality"
    }
    fn validate(&self) -> Result<(), ParamError> {
        FineWebQualityFilter::validate(self)
    }
    fn filter(&self, text: &str) -> FilterResult {
        FineWebQualityFilter::filter(self, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons() {
        let f = FineWebQualityFilter::default();
        assert_eq!(f.filter(" \n \n"), FilterResult::drop("empty"));
        assert_eq!(
            f.filter("no punctuation here at all in this line"),
            FilterResult::drop("line_punct_ratio")
        );
        assert_eq!(
            f.filter("Short.\nLines.\nOnly."),
            FilterResult::drop("short_line_ratio")
        );
        let long = "This is a reasonably long line that ends with a period.";
        assert_eq!(
            f.filter(&format!("{long}\n{long}")),
            FilterResult::drop("char_dup_ratio")
        );
        assert_eq!(f.filter(long), FilterResult::Keep);
        assert!(
            serde_json::from_str::<FineWebQualityFilter>(r#"{"stop_chars": [".", "!"]}"#).is_ok()
        );
        assert!(
            FineWebQualityFilter {
                new_line_ratio: -1.0,
                ..Default::default()
            }
            .validate()
            .is_err()
        );
    }
}
