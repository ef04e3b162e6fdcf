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
//! `filter_curly_bracket` (true), `filter_policy` (true), `language` ("eng").
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
//! Drop reasons: `lorem_ipsum`, `curly_bracket`, `too_few_sentences`.
//!
//! ```toml
//! [[stage]]
//! type = "c4_quality"
//! filter_no_terminal_punct = true
//! min_num_sentences = 5
//! ```

// The `//!` comment above is the `c4_quality` stage's user documentation (`datamill stages
// c4_quality`, extracted by crates/datamill-stages/build.rs): this one file owns the stage's
// docs, parameters and defaults (a test checks that the documented defaults are the real
// ones). Port of datatrove 0.10.1's `pipeline/filters/c4_filters.py`.

use serde::Deserialize;

use super::{FilterResult, ParamError};
use crate::{lang, pystr};

/// C4's line-level heuristics (Raffel et al. 2020), exactly as datatrove 0.10.1. Removes lines
/// and may **rewrite** the text.
///
/// For every line of `text.splitlines()` (or every sentence if `split_paragraph` is false), after
/// `strip()`, in order: a whitespace-separated word longer than `max_word_length` drops the line;
/// citations (`[1]`, `[edit]`, `[citation needed]`) are removed; without terminal punctuation
/// (`. ? ! " '`, not `...`) the line is dropped if `filter_no_terminal_punct`; fewer than
/// `min_words_per_line` words (counted before citation removal) drops it; `lorem ipsum` drops
/// the **document** \[`lorem_ipsum`\]; `javascript` drops the line; `{` drops the **document**
/// \[`curly_bracket`\]; a policy phrase drops the line; otherwise the line is kept and its spaCy
/// sentences counted. Fewer than `min_num_sentences` sentences in total drops the document
/// \[`too_few_sentences`\]; else the text becomes the kept lines joined by `"\n"` (by `" "` when
/// splitting sentences), stripped.
#[derive(Debug, Clone, PartialEq, Deserialize)]
// `remote = "Self"`: the derive becomes an inherent `deserialize`, wrapped below by the
// trait impl that first expands a `preset` (see `crate::presets`).
#[serde(deny_unknown_fields, default, remote = "Self")]
pub struct C4QualityFilter {
    /// Work on lines (default true); false = on spaCy sentences.
    pub split_paragraph: bool,
    /// Remove Wikipedia-style citations (default true).
    pub remove_citations: bool,
    /// Drop lines without terminal punctuation (default true; FineWeb sets false).
    pub filter_no_terminal_punct: bool,
    /// Minimum number of sentences in the kept lines (default 5; -1 disables).
    pub min_num_sentences: i64,
    /// Minimum whitespace-separated words per line (default 3; -1 disables).
    pub min_words_per_line: i64,
    /// Drop lines with a longer word (default 1000; -1 disables).
    pub max_word_length: i64,
    /// Drop documents containing "lorem ipsum" (default true).
    pub filter_lorem_ipsum: bool,
    /// Drop lines containing "javascript" (default true).
    pub filter_javascript: bool,
    /// Drop documents containing "{" (default true).
    pub filter_curly_bracket: bool,
    /// Drop lines with a cookie / terms-of-use phrase (default true).
    pub filter_policy: bool,
    /// Tokenizer language: a code of datatrove's tokenizer table (default `"eng"`; see
    /// [`crate::lang`]).
    pub language: String,
}

impl Default for C4QualityFilter {
    fn default() -> Self {
        C4QualityFilter {
            split_paragraph: true,
            remove_citations: true,
            filter_no_terminal_punct: true,
            min_num_sentences: 5,
            min_words_per_line: 3,
            max_word_length: 1000,
            filter_lorem_ipsum: true,
            filter_javascript: true,
            filter_curly_bracket: true,
            filter_policy: true,
            language: "eng".to_string(),
        }
    }
}

impl<'de> Deserialize<'de> for C4QualityFilter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let table = crate::presets::expand("c4_quality", d)?;
        C4QualityFilter::deserialize(table).map_err(serde::de::Error::custom)
    }
}

/// `POLICY_SUBSTRINGS`.
pub const POLICY_SUBSTRINGS: [&str; 6] = [
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
];

/// `END_PUNCTUATION`.
const END_PUNCTUATION: [char; 5] = ['.', '?', '!', '"', '\''];

/// `CITATION_REGEX.sub("", line)` with `CITATION_REGEX = r"\[\d*]|\[edit]|\[citation needed]"`.
fn remove_citations(line: &str) -> std::borrow::Cow<'_, str> {
    if !line.contains('[') {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(p) = rest.find('[') {
        out.push_str(&rest[..p]);
        let tail = &rest[p..];
        let after = &tail[1..];
        let digits = after.len() - after.trim_start_matches(pystr::is_digit).len();
        let m = if after[digits..].starts_with(']') {
            Some(1 + digits + 1)
        } else if tail.starts_with("[edit]") {
            Some(6)
        } else if tail.starts_with("[citation needed]") {
            Some(17)
        } else {
            None
        };
        match m {
            Some(len) => rest = &tail[len..],
            None => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

impl C4QualityFilter {
    /// Check the parameters.
    pub fn validate(&self) -> Result<(), ParamError> {
        let tok = lang::word_tokenizer(&self.language).map_err(ParamError::language)?;
        if !tok.splits_sentences() {
            return Err(ParamError::new(
                "language",
                format!(
                    "c4_quality counts sentences, and datatrove splits {:?} sentences with \
                     urduhack, which datamill does not reproduce (gopher_quality, \
                     gopher_repetition and fineweb_quality work for this language)",
                    self.language
                ),
            ));
        }
        for (n, v) in [
            ("min_num_sentences", self.min_num_sentences),
            ("min_words_per_line", self.min_words_per_line),
            ("max_word_length", self.max_word_length),
        ] {
            if v < -1 {
                return Err(ParamError::new(
                    n,
                    format!("{n} must be >= 0 or -1 (disabled), got {v}"),
                ));
            }
        }
        Ok(())
    }

    /// Decide on one document; `Rewrite` carries the new text when lines were removed.
    pub fn filter(&self, text: &str) -> FilterResult {
        let tok = match super::tokenizer_for(&self.language) {
            Ok(t) => t,
            Err(drop) => return drop,
        };
        let lines: Vec<&str> = if self.split_paragraph {
            pystr::splitlines(text)
        } else {
            match tok.try_sentences(text) {
                Ok(s) => s,
                Err(_) => return FilterResult::drop(super::VALUE_ERROR),
            }
        };
        // datatrove counts the sentences of every kept line; only a tokenizer that can raise
        // (the Indic NLP Library's) needs them all, the others stop once the minimum is reached
        let all_lines = matches!(tok, lang::WordTokenizer::IndicNlp(_));
        let mut num_sentences: i64 = 0;
        let mut kept: Vec<std::borrow::Cow<'_, str>> = Vec::new();
        for line in lines {
            let line = pystr::strip(line);
            let mut n_words = 0i64;
            let mut too_long = false;
            for w in pystr::split_whitespace(line) {
                n_words += 1;
                if self.max_word_length != -1 && pystr::char_len(w) as i64 > self.max_word_length {
                    too_long = true;
                }
            }
            if too_long {
                continue;
            }
            let line = if self.remove_citations {
                remove_citations(line)
            } else {
                std::borrow::Cow::Borrowed(line)
            };
            if self.filter_no_terminal_punct
                && (!line.ends_with(END_PUNCTUATION) || line.ends_with("..."))
            {
                continue;
            }
            if n_words < self.min_words_per_line {
                continue;
            }
            let lower = if line.is_ascii() {
                line.to_ascii_lowercase()
            } else {
                pystr::lower(&line)
            };
            if self.filter_lorem_ipsum && lower.contains("lorem ipsum") {
                return FilterResult::drop("lorem_ipsum");
            }
            if self.filter_javascript && lower.contains("javascript") {
                continue;
            }
            if self.filter_curly_bracket && line.contains('{') {
                return FilterResult::drop("curly_bracket");
            }
            if self.filter_policy && POLICY_SUBSTRINGS.iter().any(|p| lower.contains(p)) {
                continue;
            }
            // only the comparison with min_num_sentences matters: stop counting once reached
            if self.min_num_sentences != -1 && (all_lines || num_sentences < self.min_num_sentences)
            {
                num_sentences += if self.split_paragraph {
                    match tok.try_sentence_count(&line) {
                        Ok(n) => n as i64,
                        Err(_) => return FilterResult::drop(super::VALUE_ERROR),
                    }
                } else {
                    1
                };
            }
            kept.push(line);
        }
        if num_sentences < self.min_num_sentences {
            return FilterResult::drop("too_few_sentences");
        }
        let sep = if self.split_paragraph { "\n" } else { " " };
        let joined = kept.join(sep);
        let new = pystr::strip(&joined);
        if new == text {
            FilterResult::Keep
        } else {
            FilterResult::Rewrite(new.to_string())
        }
    }
}

impl super::Filter for C4QualityFilter {
    fn name(&self) -> &'static str {
        "c4_quality"
    }
    fn validate(&self) -> Result<(), ParamError> {
        C4QualityFilter::validate(self)
    }
    fn filter(&self, text: &str) -> FilterResult {
        C4QualityFilter::filter(self, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citations() {
        assert_eq!(
            remove_citations("a[1] b[edit] c[citation needed][] d[x] [٣]"),
            "a b c d[x] "
        );
        assert_eq!(remove_citations("[[2]]"), "[]");
    }

    #[test]
    fn rewrites_and_drops() {
        let f = C4QualityFilter::default();
        let text =
            "Menu\nThis is one. This is two. This is three.\nAnd four here. And five here.\nshort.";
        assert_eq!(
            f.filter(text),
            FilterResult::Rewrite(
                "This is one. This is two. This is three.\nAnd four here. And five here.".into()
            )
        );
        assert_eq!(
            f.filter("Too few here. Only two."),
            FilterResult::drop("too_few_sentences")
        );
        assert_eq!(
            f.filter("Lorem ipsum dolor sit amet."),
            FilterResult::drop("lorem_ipsum")
        );
        assert_eq!(
            f.filter("We use {braces} here."),
            FilterResult::drop("curly_bracket")
        );
        let bad = C4QualityFilter {
            min_num_sentences: -2,
            ..Default::default()
        };
        assert!(bad.validate().is_err());
    }
}
