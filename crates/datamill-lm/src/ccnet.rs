//! CCNet's text normalization and per-document perplexity (facebookresearch/cc_net,
//! `text_normalizer.py` and `perplexity.py`).
//!
//! CCNet scores a document as `10 ** (-Σ log10 p(line) / Σ (words(line) + 1))` over its
//! `"\n"`-separated lines (`DocLM`), each line scored by KenLM with `<s>` and `</s>`, and
//! rounds it to one decimal. Its production pipeline first normalizes the *whole* document
//! and applies a SentencePiece model; since normalization deletes control characters,
//! `"\n"` included, the lines are glued together before scoring. [`DocOptions`] covers both
//! readings: `per_line` (DocLM's own `normalize=True` path) or the whole text as one
//! sentence.

use crate::Model;
use datamill_filters::pystr;
use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// CCNet's `UNICODE_PUNCT` replacements.
fn replace_punct(c: char) -> Option<&'static str> {
    Some(match c {
        '，' => ",",
        '。' => ".",
        '、' => ",",
        '„' | '”' | '“' | '«' | '»' | '１' | '」' | '「' | '《' | '》' => "\"",
        '´' => "'",
        '∶' | '：' => ":",
        '？' => "?",
        '！' => "!",
        '（' => "(",
        '）' => ")",
        '；' => ";",
        '–' => "-",
        '—' => " - ",
        '．' => ". ",
        '～' => "~",
        '’' => "'",
        '…' => "...",
        '━' => "-",
        '〈' => "<",
        '〉' => ">",
        '【' => "[",
        '】' => "]",
        '％' => "%",
        '►' => "-",
        _ => return None,
    })
}

/// `cc_net.text_normalizer.normalize(line)` with its defaults: strip, lowercase, remove
/// accents (NFD, drop the nonspacing marks, category Mn), digits (`\d`) to `0`, CCNet's
/// unicode punctuation replaced by ASCII, control characters (U+0000..U+001F,
/// U+007F..U+009F) removed.
pub fn normalize(line: &str) -> String {
    let line = pystr::strip(line);
    if line.is_empty() {
        return String::new();
    }
    let lower = pystr::lower(line);
    let mut out = String::with_capacity(lower.len());
    let push = |c: char, out: &mut String| {
        if pystr::is_digit(c) {
            out.push('0');
        } else if let Some(r) = replace_punct(c) {
            out.push_str(r);
        } else if !matches!(c, '\0'..='\x1f' | '\x7f'..='\u{9f}') {
            out.push(c);
        }
    };
    if lower.is_ascii() {
        for c in lower.chars() {
            push(c, &mut out);
        }
    } else {
        for c in lower.nfd() {
            if c.general_category() != GeneralCategory::NonspacingMark {
                push(c, &mut out);
            }
        }
    }
    out
}

/// How a document is turned into sentences for scoring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DocOptions {
    /// Apply [`normalize`] (to each line, or to the whole text).
    pub normalize: bool,
    /// Score each `"\n"` line as a sentence and sum (CCNet's `DocLM`); else the whole text is
    /// one sentence.
    pub per_line: bool,
}

impl Default for DocOptions {
    fn default() -> Self {
        DocOptions {
            normalize: true,
            per_line: true,
        }
    }
}

/// A document's summed log10 score and length (words plus one `</s>` per sentence).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DocScore {
    /// Σ log10 p(sentence), each sentence summed in f32 by KenLM, the sentences in f64.
    pub log10: f64,
    /// Σ (words + 1), words counted as Python's `str.split()` does.
    pub length: u64,
}

impl DocScore {
    /// CCNet's `pp(log_score, length) = 10 ** (-log_score / length)`.
    pub fn perplexity(&self) -> f64 {
        10f64.powf(-self.log10 / self.length as f64)
    }

    /// Adds one sentence (already tokenized into space-separated tokens).
    pub fn add_sentence(&mut self, model: &Model, sentence: &str) {
        self.log10 += f64::from(model.score(sentence, true, true));
        self.length += pystr::split_whitespace(sentence).count() as u64 + 1;
    }
}

/// Scores a document as CCNet does (see the module documentation). `tokenize` maps each
/// (normalized) sentence to the space-separated tokens the model was trained on; CCNet uses a
/// SentencePiece model there, the identity suits a model trained on whitespace words.
pub fn score_doc(
    model: &Model,
    text: &str,
    opts: DocOptions,
    tokenize: &dyn Fn(&str) -> std::borrow::Cow<'_, str>,
) -> DocScore {
    let mut s = DocScore::default();
    let mut one = |line: &str| {
        if opts.normalize {
            let n = normalize(line);
            s.add_sentence(model, &tokenize(&n));
        } else {
            s.add_sentence(model, &tokenize(line));
        }
    };
    if opts.per_line {
        for line in text.split('\n') {
            one(line);
        }
    } else {
        one(text);
    }
    s
}

/// The whitespace tokenizer for [`score_doc`]: the sentence as it is (KenLM splits it on
/// whitespace).
pub fn whitespace_tokens(sentence: &str) -> std::borrow::Cow<'_, str> {
    std::borrow::Cow::Borrowed(sentence)
}

/// Python's `round(x, 1)`: the nearest multiple of 0.1 by the exact binary value, ties to
/// even (CCNet stores `round(pp, 1)`).
pub fn round1(x: f64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    // Rust formats with exact decimal expansion, rounding ties to even, as CPython's dtoa.
    format!("{x:.1}").parse().unwrap_or(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization_as_ccnet() {
        // Values checked with cc_net 1.0.0's text_normalizer.normalize.
        assert_eq!(
            normalize("  Héllo  Wörld 123 — “x”\n"),
            "hello  world 000  -  \"x\""
        );
        assert_eq!(normalize("Ａ１２３ Ⅻ"), "ａ000 ⅻ"); // digits before punctuation
        assert_eq!(normalize("a\tb\u{7f}c"), "abc");
        assert_eq!(normalize(" \n "), "");
        assert_eq!(normalize("Ça coûte 5€…"), "ca coute 0€...");
    }

    #[test]
    fn python_round() {
        assert_eq!(round1(0.25), 0.2);
        assert_eq!(round1(0.35), 0.3); // 0.35 is 0.34999... in binary
        assert_eq!(round1(0.75), 0.8);
        assert_eq!(round1(123.456), 123.5);
        assert_eq!(round1(2.675), 2.7);
    }
}
