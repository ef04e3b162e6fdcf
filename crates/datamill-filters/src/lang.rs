//! datatrove 0.10.1's language → word tokenizer table, and the word tokenizers it selects.
//!
//! `assets/tokenizer_assignment.csv` maps 2,177 language codes (ISO 639-3 and 639-1 codes, bare
//! and with a `_Script` suffix, e.g. `deu`, `de`, `deu_Latn`) to a tokenizer class. The table here
//! is what datatrove's `load_tokenizer_assignments()` builds from it (generated from datatrove
//! itself by `tools/gen_langs.py`, so proxies such as Frisian → English, Malay for 269
//! Austronesian languages and the spaCy `xx` fallback for 967 codes are datatrove's, quirks
//! included). A filter's `language` is one of these keys.
//!
//! | datatrove class | here |
//! | --- | --- |
//! | `SpaCyTokenizer` (57 rule-based classes incl. `xx`) | [`WordTokenizer::Spacy`]: spaCy's rules, exact |
//! | `WhitespaceTokenizer` | [`WordTokenizer::Whitespace`]: spaCy `xx` words, datatrove's sentence regex |
//! | `SpaCyTokenizer` `zh` (jieba segmenter: `cmn_Hani`, `yue_Hani`, ...) | [`WordTokenizer::Jieba`]: jieba 0.42.1's `cut`, exact ([`crate::jieba`]; its data from `fetch-jieba.sh`, else [`LanguageError::MissingData`]) |
//! | `SpaCyTokenizer` `ja` / `vi` (Sudachi, pyvi segmenters) | not yet: [`LanguageError::NotImplemented`] |
//! | `IndicNLPTokenizer` (hi, ur, bn, ta, ... : 61 codes) | [`WordTokenizer::IndicNlp`]: the Indic NLP Library's `trivial_tokenize` and `sentence_split`, exact ([`crate::indic`]); Urdu sentences (urduhack) not reproduced |
//! | `ThaiTokenizer` (tha, th, ... and, datatrove's quirk, ms/msa) | [`WordTokenizer::Thai`]: PyThaiNLP 5.4.0's `newmm-safe` words and `crfcut` sentences, exact ([`crate::thai`]; its data from `fetch-pythainlp.sh`, else [`LanguageError::MissingData`]) |
//! | `BurmeseTokenizer` (mya, my, shn, ksw, mnw, ...) | [`WordTokenizer::Burmese`]: pyidaungsu 0.1.4's CRF word segmentation, exact ([`crate::burmese`]; its model from `fetch-pyidaungsu.sh`, else [`LanguageError::MissingData`]), datatrove's whitespace sentence regex |
//! | `KhmerTokenizer` (khm, km, cmo_Khmr, ...) | [`WordTokenizer::Khmer`]: khmer-nltk 1.6's CRF words and its sentence split, exact ([`crate::khmer`]; its model from `fetch-khmernltk.sh`, else [`LanguageError::MissingData`]) |
//! | `LaoTokenizer` (lao, lo, ncq, ...) | [`WordTokenizer::Lao`]: LaoNLP 1.3.0's dictionary maximal matching and its sentence rule, exact ([`crate::lao`]; its word list from `fetch-laonlp.sh`, else [`LanguageError::MissingData`]) |
//! | Tibetan, Kiwi | not yet: [`LanguageError::NotImplemented`] |
//! | `StanzaTokenizer` (neural, models from a hub) | never: [`LanguageError::Stanza`] |
//!
//! Nothing falls back to English silently: a code datatrove does not know is an error listing
//! close codes.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use crate::tokenizer::{Tokenizer, langs_file, upper_letters};
use crate::{pystr, text};

/// Why a `language` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LanguageError {
    /// datatrove's table has no such code.
    Unknown {
        /// The code asked for.
        language: String,
        /// Known codes that look close (same base code, other script, small edit distance).
        close: Vec<String>,
    },
    /// datatrove tokenizes this language with Stanza's neural tokenizer, whose models come from
    /// a hub at run time; datamill does not reproduce it.
    Stanza {
        /// The code asked for.
        language: String,
        /// Stanza's language code.
        stanza_code: String,
    },
    /// The tokenizer's data (a dictionary from a package) is not installed.
    MissingData {
        /// The code asked for.
        language: String,
        /// datatrove's tokenizer.
        tokenizer: String,
        /// Where it was looked for and how to fetch it.
        message: String,
    },
    /// datatrove uses a tokenizer datamill does not implement yet.
    NotImplemented {
        /// The code asked for.
        language: String,
        /// datatrove's tokenizer (class and argument).
        tokenizer: String,
    },
}

impl fmt::Display for LanguageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LanguageError::Unknown { language, close } => {
                write!(
                    f,
                    "language {language:?} is not in datatrove 0.10.1's tokenizer table \
                     (assets/tokenizer_assignment.csv: ISO 639-3 or 639-1 codes, optionally with \
                     a script, e.g. \"deu\", \"de\", \"deu_Latn\")"
                )?;
                if close.is_empty() {
                    Ok(())
                } else {
                    write!(f, "; close codes: {}", close.join(", "))
                }
            }
            LanguageError::Stanza {
                language,
                stanza_code,
            } => write!(
                f,
                "language {language:?}: datatrove tokenizes it with Stanza's neural tokenizer \
                 (Stanza language {stanza_code:?}), whose models download from a hub at run \
                 time; datamill does not reproduce it. Alternative: language = \"und\" (spaCy's \
                 multi-language rules, datatrove's own fallback for unlisted languages; decisions \
                 then differ from datatrove's for {language:?})"
            ),
            LanguageError::MissingData {
                language,
                tokenizer,
                message,
            } => write!(
                f,
                "language {language:?}: datatrove tokenizes it with {tokenizer}: {message}"
            ),
            LanguageError::NotImplemented {
                language,
                tokenizer,
            } => write!(
                f,
                "language {language:?}: datatrove tokenizes it with {tokenizer}, which datamill \
                 does not implement yet. Alternative: language = \"und\" (spaCy's multi-language \
                 rules; decisions then differ from datatrove's for {language:?})"
            ),
        }
    }
}

impl std::error::Error for LanguageError {}

/// A word tokenizer as datatrove selects it for a language.
#[derive(Debug, Clone, Copy)]
pub enum WordTokenizer {
    /// datatrove's `SpaCyTokenizer` with a rule-based spaCy class: words and sentences (the
    /// `sentencizer`) from spaCy's rules.
    Spacy(&'static Tokenizer),
    /// datatrove's `WhitespaceTokenizer`: words from spaCy's `xx` rules, sentences from
    /// datatrove's regex `(?:(?:\p{Lu}\.)|.)+?[TERMINAL_PUNCTUATION\n]+["'”]?`.
    Whitespace(&'static Tokenizer),
    /// datatrove's `SpaCyTokenizer("zh")`: spaCy's Chinese tokenizer with the jieba segmenter
    /// (words from jieba 0.42.1's `cut`, sentences from the sentencizer on spaCy's tokens).
    Jieba(&'static crate::jieba::Jieba),
    /// datatrove's `IndicNLPTokenizer(lang)`: the Indic NLP Library's `trivial_tokenize` and
    /// `sentence_split` for its language argument (`hi`, `ur`, `bn`, `ta`, ...).
    IndicNlp(&'static str),
    /// datatrove's `ThaiTokenizer`: PyThaiNLP's `newmm-safe` words and `crfcut` sentences.
    Thai(&'static crate::thai::Thai),
    /// datatrove's `BurmeseTokenizer`: pyidaungsu's CRF words, the whitespace tokenizer's
    /// sentences.
    Burmese(&'static crate::burmese::Burmese),
    /// datatrove's `KhmerTokenizer`: khmer-nltk's CRF words (built from its cleaned text, so
    /// owned) and its separator-based sentences.
    Khmer(&'static crate::khmer::Khmer),
    /// datatrove's `LaoTokenizer`: LaoNLP's dictionary words and `.`-based sentences.
    Lao(&'static crate::lao::Lao),
}

impl WordTokenizer {
    /// datatrove's `split_into_words(text, language)`: tokens, stripped, empty ones dropped.
    /// Words are slices of `text`, except where a tokenizer rewrites (the Indic NLP Library
    /// joins `1 , 000` into `1,000`).
    pub fn words<'t>(&self, text: &'t str) -> Vec<Cow<'t, str>> {
        match self {
            WordTokenizer::Spacy(t) | WordTokenizer::Whitespace(t) => {
                t.words(text).into_iter().map(Cow::Borrowed).collect()
            }
            WordTokenizer::Jieba(j) => crate::jieba::words(j, text)
                .into_iter()
                .map(Cow::Borrowed)
                .collect(),
            WordTokenizer::IndicNlp(lang) => crate::indic::words(text, lang),
            WordTokenizer::Thai(t) => t.words(text).into_iter().map(Cow::Borrowed).collect(),
            WordTokenizer::Burmese(b) => b.words(text),
            WordTokenizer::Khmer(k) => k.words(text).into_iter().map(Cow::Owned).collect(),
            WordTokenizer::Lao(l) => l.words(text).into_iter().map(Cow::Borrowed).collect(),
        }
    }

    /// Whether datatrove can split sentences in this language with this tokenizer (not Urdu's
    /// `urduhack`).
    pub fn splits_sentences(&self) -> bool {
        !matches!(self, WordTokenizer::IndicNlp("ur"))
    }

    /// `split_into_sentences`, or why datatrove cannot ([`crate::indic::SentenceError`]: it
    /// raises `ValueError`, or the splitter is not reproduced).
    pub fn try_sentences<'t>(
        &self,
        text: &'t str,
    ) -> Result<Vec<&'t str>, crate::indic::SentenceError> {
        match self {
            WordTokenizer::IndicNlp(lang) => crate::indic::sentences(text, lang),
            _ => Ok(self.sentences(text)),
        }
    }

    /// `len(split_into_sentences(text))`, or why datatrove cannot give it.
    pub fn try_sentence_count(&self, text: &str) -> Result<usize, crate::indic::SentenceError> {
        match self {
            WordTokenizer::IndicNlp(lang) => crate::indic::sentences(text, lang).map(|s| s.len()),
            _ => Ok(self.sentence_count(text)),
        }
    }

    /// `len(split_into_sentences(text, language))` (at least 1).
    pub fn sentence_count(&self, text: &str) -> usize {
        match self {
            WordTokenizer::Spacy(t) => t.sentence_count(text),
            WordTokenizer::Whitespace(_) | WordTokenizer::Burmese(_) => {
                whitespace_sentences(text).len().max(1)
            }
            WordTokenizer::IndicNlp(_) => self.try_sentence_count(text).unwrap_or(1),
            WordTokenizer::Thai(t) => t.sent_tokenize(text).len().max(1),
            WordTokenizer::Khmer(k) => k.sent_tokenize(text).len().max(1),
            WordTokenizer::Lao(l) => l.sent_tokenize(text).len().max(1),
            WordTokenizer::Jieba(j) => {
                let toks = crate::jieba::spacy_tokens(j, text);
                crate::tokenizer::sentence_starts(text, &toks).len().max(1)
            }
        }
    }

    /// datatrove's `span_tokenize(text)`: each sentence as byte offsets into `text` (spaCy:
    /// the sentencizer's sentences, whitespace-only ones included; `WhitespaceTokenizer`:
    /// `simple_span_tokenize` of its sentences, one sentence being the whole text).
    ///
    /// `IndicNLPTokenizer` (also `simple_span_tokenize`): derived from the pieces of
    /// [`WordTokenizer::try_sentences`] (each piece's stripped text); a text datatrove cannot
    /// split is one span. Not golden-tested (no stage uses it yet).
    pub fn span_tokenize(&self, text: &str) -> Vec<(usize, usize)> {
        match self {
            WordTokenizer::Spacy(t) => t.sentence_spans(text),
            WordTokenizer::IndicNlp(_) => {
                let pieces = self.try_sentences(text).unwrap_or_else(|_| vec![text]);
                if pieces.len() <= 1 {
                    return vec![(0, text.len())];
                }
                let mut at = 0usize;
                let mut out = Vec::with_capacity(pieces.len());
                for p in pieces {
                    let lead = p.len() - pystr::lstrip(p).len();
                    let body = pystr::strip(p).len();
                    if body > 0 {
                        out.push((at + lead, at + lead + body));
                    }
                    at += p.len();
                }
                out
            }
            WordTokenizer::Jieba(j) => {
                crate::tokenizer::spans_of(text, &crate::jieba::spacy_tokens(j, text))
            }
            WordTokenizer::Whitespace(_)
            | WordTokenizer::Burmese(_)
            | WordTokenizer::Thai(_)
            | WordTokenizer::Khmer(_)
            | WordTokenizer::Lao(_) => {
                let sents = match self {
                    WordTokenizer::Thai(t) => t.sent_tokenize(text),
                    WordTokenizer::Khmer(k) => k.sent_tokenize(text),
                    WordTokenizer::Lao(l) => l.sent_tokenize(text),
                    _ => whitespace_sentences(text),
                };
                if sents.len() == 1 {
                    return vec![(0, text.len())];
                }
                let mut start = 0usize;
                sents
                    .iter()
                    .map(|s| {
                        let at = start + text[start..].find(s).expect("a sentence is in its text");
                        start = at + s.len();
                        (at, start)
                    })
                    .collect()
            }
        }
    }

    /// datatrove's `sent_tokenize(text)`: the sentences, stripped, empty ones dropped.
    pub fn sent_tokenize<'t>(&self, text: &'t str) -> Vec<&'t str> {
        match self {
            WordTokenizer::Whitespace(_) | WordTokenizer::Burmese(_) => whitespace_sentences(text),
            WordTokenizer::Thai(t) => t.sent_tokenize(text),
            WordTokenizer::Khmer(k) => k.sent_tokenize(text),
            WordTokenizer::Lao(l) => l.sent_tokenize(text),
            _ => self
                .span_tokenize(text)
                .into_iter()
                .map(|(a, b)| pystr::strip(&text[a..b]))
                .filter(|s| !s.is_empty())
                .collect(),
        }
    }

    /// datatrove's `split_into_sentences(text, language)`: the text cut after each sentence
    /// but the last; the pieces concatenate to `text`.
    pub fn sentences<'t>(&self, text: &'t str) -> Vec<&'t str> {
        match self {
            WordTokenizer::Spacy(t) => t.sentences(text),
            WordTokenizer::IndicNlp(_) => self.try_sentences(text).unwrap_or_else(|_| vec![text]),
            WordTokenizer::Jieba(j) => {
                crate::tokenizer::sentences_of(text, &crate::jieba::spacy_tokens(j, text))
            }
            WordTokenizer::Whitespace(_) | WordTokenizer::Burmese(_) => {
                simple_span_split(text, &whitespace_sentences(text))
            }
            WordTokenizer::Thai(t) => simple_span_split(text, &t.sent_tokenize(text)),
            WordTokenizer::Khmer(k) => simple_span_split(text, &k.sent_tokenize(text)),
            WordTokenizer::Lao(l) => simple_span_split(text, &l.sent_tokenize(text)),
        }
    }
}

/// `split_into_sentences` over datatrove's `simple_span_tokenize(text, sents)`: one sentence (or
/// none) -> the whole text; else each stripped sentence is found with `text.index(sent, start)`
/// and ends a span; the text is cut at the span ends but the last.
fn simple_span_split<'t>(text: &'t str, sents: &[&str]) -> Vec<&'t str> {
    if sents.len() <= 1 {
        return vec![text];
    }
    let mut ends = Vec::with_capacity(sents.len());
    let mut start = 0usize;
    for s in sents {
        let at = start + text[start..].find(s).expect("a sentence is in its text");
        start = at + s.len();
        ends.push(start);
    }
    let mut out = Vec::with_capacity(ends.len());
    let mut a = 0usize;
    for &b in &ends[..ends.len() - 1] {
        out.push(&text[a..b]);
        a = b;
    }
    out.push(&text[a..]);
    out
}

/// datatrove's `WhitespaceTokenizer.sent_tokenize`: `regex.findall` of its sentence pattern,
/// stripped, empty ones dropped.
///
/// The pattern `(?:(?:\p{Lu}\.)|.)+?[T\n]+["'”]?` (T = `TERMINAL_PUNCTUATION`, `.` = any
/// character but a newline) is matched as the backtracking engine does: units are taken lazily,
/// an upper-case letter + `.` pair before a single character; at the first position after a unit
/// where a terminal mark or newline follows, the match ends after the run of them (and one
/// optional quote). Reaching the end of the text without one, the engine backtracks to the last
/// `X.` pair taken as one unit and takes `X` alone, so the match ends at that `.`.
fn whitespace_sentences(text: &str) -> Vec<&str> {
    let lu = upper_letters();
    let is_term = |c: char| c == '\n' || text::is_terminal_punctuation(c);
    // end of [T\n]+["'”]? starting at q (which holds a terminal mark or newline)
    let term_end = |q: usize| -> usize {
        let mut e = q;
        for c in text[q..].chars() {
            if is_term(c) {
                e += c.len_utf8();
            } else {
                break;
            }
        }
        if let Some(c) = text[e..].chars().next()
            && matches!(c, '"' | '\'' | '\u{201d}')
        {
            e += c.len_utf8();
        }
        e
    };
    let match_at = |p: usize| -> Option<usize> {
        let mut q = p;
        let mut last_pair: Option<usize> = None;
        loop {
            let mut it = text[q..].chars();
            let c = it.next()?;
            if lu.contains(c) && it.next() == Some('.') {
                last_pair = Some(q);
                q += c.len_utf8() + 1;
            } else if c != '\n' {
                q += c.len_utf8();
            } else {
                break;
            }
            match text[q..].chars().next() {
                Some(n) if is_term(n) => return Some(term_end(q)),
                Some(_) => {}
                None => break,
            }
        }
        let a = last_pair?;
        let c = text[a..].chars().next()?;
        Some(term_end(a + c.len_utf8()))
    };
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < text.len() {
        match match_at(pos) {
            Some(e) => {
                let s = pystr::strip(&text[pos..e]);
                if !s.is_empty() {
                    out.push(s);
                }
                pos = e;
            }
            None => pos += text[pos..].chars().next().map_or(1, char::len_utf8),
        }
    }
    out
}

/// datatrove's table: key -> (class, argument), in datatrove's dict order.
fn table() -> &'static HashMap<&'static str, (&'static str, &'static str)> {
    static T: OnceLock<HashMap<&'static str, (&'static str, &'static str)>> = OnceLock::new();
    T.get_or_init(|| {
        langs_file("assignment.tsv")
            .lines()
            .map(|l| {
                let mut f = l.split('\t');
                let k = f.next().unwrap_or("");
                let c = f.next().unwrap_or("");
                let a = f.next().unwrap_or("");
                (k, (c, a))
            })
            .collect()
    })
}

/// Every language code datatrove's table knows, sorted.
pub fn language_codes() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = table().keys().copied().collect();
    v.sort_unstable();
    v
}

/// datatrove's tokenizer class and argument for a code (`("SpaCyTokenizer", "de")`,
/// `("StanzaTokenizer", "ar")`, `("ThaiTokenizer", "")`, ...).
pub fn tokenizer_assignment(language: &str) -> Option<(&'static str, &'static str)> {
    table().get(language).copied()
}

/// The word tokenizer datatrove uses for `language` (a key of its tokenizer table).
pub fn word_tokenizer(language: &str) -> Result<WordTokenizer, LanguageError> {
    let Some(&(class, arg)) = table().get(language) else {
        return Err(LanguageError::Unknown {
            language: language.to_string(),
            close: close_codes(language),
        });
    };
    let not_impl = |what: String| LanguageError::NotImplemented {
        language: language.to_string(),
        tokenizer: what,
    };
    match class {
        "SpaCyTokenizer" if arg == "zh" => crate::jieba::shared()
            .map(WordTokenizer::Jieba)
            .map_err(|message| LanguageError::MissingData {
                language: language.to_string(),
                tokenizer: "spaCy's Chinese tokenizer with the jieba 0.42.1 segmenter".into(),
                message,
            }),
        "SpaCyTokenizer" => Tokenizer::spacy(arg)
            .map(WordTokenizer::Spacy)
            .ok_or_else(|| {
                not_impl(match arg {
                    "ja" => "spaCy's Japanese tokenizer (SudachiPy with SudachiDict)".to_string(),
                    "zh" => "spaCy's Chinese tokenizer with the jieba segmenter".to_string(),
                    "vi" => "spaCy's Vietnamese tokenizer (pyvi)".to_string(),
                    other => format!("spaCy {other:?}"),
                })
            }),
        "WhitespaceTokenizer" => Ok(WordTokenizer::Whitespace(
            Tokenizer::spacy("xx").expect("xx rules are bundled"),
        )),
        "StanzaTokenizer" => Err(LanguageError::Stanza {
            language: language.to_string(),
            stanza_code: arg.to_string(),
        }),
        "ThaiTokenizer" => crate::thai::shared()
            .map(WordTokenizer::Thai)
            .map_err(|message| LanguageError::MissingData {
                language: language.to_string(),
                tokenizer: "PyThaiNLP 5.4.0's newmm-safe and crfcut tokenizers".into(),
                message,
            }),
        "BurmeseTokenizer" => crate::burmese::shared()
            .map(WordTokenizer::Burmese)
            .map_err(|message| LanguageError::MissingData {
                language: language.to_string(),
                tokenizer: "pyidaungsu 0.1.4's Burmese word segmenter".into(),
                message,
            }),
        "KhmerTokenizer" => crate::khmer::shared()
            .map(WordTokenizer::Khmer)
            .map_err(|message| LanguageError::MissingData {
                language: language.to_string(),
                tokenizer: "khmer-nltk 1.6's word and sentence tokenizers".into(),
                message,
            }),
        "LaoTokenizer" => crate::lao::shared()
            .map(WordTokenizer::Lao)
            .map_err(|message| LanguageError::MissingData {
                language: language.to_string(),
                tokenizer: "LaoNLP 1.3.0's word and sentence tokenizers".into(),
                message,
            }),
        "TibetanTokenizer" => Err(not_impl("botok's Tibetan tokenizer".into())),
        "IndicNLPTokenizer" => Ok(WordTokenizer::IndicNlp(arg)),
        "KiwiTokenizer" => Err(not_impl("Kiwi (kiwipiepy)".into())),
        other => Err(not_impl(other.to_string())),
    }
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j + 1] + 1)
                .min(cur[j] + 1)
                .min(prev[j] + usize::from(ca != cb));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Known codes close to `language`: the same base code with a script (`de` -> `de_Latn`),
/// case or separator variants (`DE-latn`), or an edit distance of 1 (2 for longer codes);
/// at most 10, closest first.
fn close_codes(language: &str) -> Vec<String> {
    let norm = language.trim().replace('-', "_");
    let (base, script) = match norm.split_once('_') {
        Some((b, s)) => (b.to_ascii_lowercase(), Some(s.to_ascii_lowercase())),
        None => (norm.to_ascii_lowercase(), None),
    };
    let mut scored: Vec<(usize, &'static str)> = Vec::new();
    for &k in table().keys() {
        let (kb, ks) = match k.split_once('_') {
            Some((b, s)) => (b, Some(s.to_ascii_lowercase())),
            None => (k, None),
        };
        let score = if kb == base && (script.is_none() || ks == script) {
            0
        } else if kb == base {
            1
        } else {
            let d = levenshtein(&base, kb);
            let max = if base.chars().count() > 3 { 2 } else { 1 };
            if d > max || ks.is_some() {
                continue;
            }
            1 + d
        };
        scored.push((score, k));
    }
    scored.sort_unstable();
    scored
        .into_iter()
        .take(10)
        .map(|(_, k)| k.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_datatrove_s() {
        // datatrove 0.10.1: 4,343 keys; Frisian is proxied to English, "und" to spaCy xx
        assert_eq!(table().len(), 4343);
        assert_eq!(tokenizer_assignment("fry"), Some(("SpaCyTokenizer", "en")));
        assert_eq!(tokenizer_assignment("und"), Some(("SpaCyTokenizer", "xx")));
        assert_eq!(
            tokenizer_assignment("deu_Latn"),
            Some(("SpaCyTokenizer", "de"))
        );
        assert!(
            matches!(word_tokenizer("de"), Ok(WordTokenizer::Spacy(t)) if t.language() == "de")
        );
        assert!(
            matches!(word_tokenizer("eng"), Ok(WordTokenizer::Spacy(t)) if t.language() == "en")
        );
    }

    #[test]
    fn errors_name_the_language_and_alternatives() {
        let e = word_tokenizer("deu_Latm").unwrap_err().to_string();
        assert!(e.contains("\"deu_Latm\"") && e.contains("deu_Latn"), "{e}");
        let e = word_tokenizer("de-DE").unwrap_err();
        match &e {
            LanguageError::Unknown { close, .. } => {
                assert!(close.contains(&"de".to_string()), "{close:?}")
            }
            other => panic!("{other:?}"),
        }
        let e = word_tokenizer("xyzq").unwrap_err();
        assert!(matches!(e, LanguageError::Unknown { .. }));
        let (stanza, _) = table()
            .iter()
            .find(|(_, (c, _))| *c == "StanzaTokenizer")
            .expect("a Stanza language");
        let e = word_tokenizer(stanza).unwrap_err().to_string();
        assert!(e.contains("Stanza") && e.contains("\"und\""), "{e}");
        for (code, name) in [("bod", "botok"), ("kor", "Kiwi")] {
            let e = word_tokenizer(code).unwrap_err();
            assert!(
                matches!(e, LanguageError::NotImplemented { .. }) && e.to_string().contains(name),
                "{e}"
            );
        }
    }

    #[test]
    fn whitespace_sentence_regex() {
        let s = whitespace_sentences;
        assert_eq!(s("One. Two! Three"), vec!["One.", "Two!"]);
        assert_eq!(s("The U.S. is big. Yes"), vec!["The U.S. is big."]);
        assert_eq!(s("He said \"hi.\" Then"), vec!["He said \"hi.\""]);
        assert_eq!(s("line one\nline two\n"), vec!["line one", "line two"]);
        // no terminal mark after the last upper-case + dot pair: the match ends at that dot
        assert_eq!(s("See A.B and more"), vec!["See A."]);
        assert_eq!(s("A.B.C"), vec!["A.B."]);
        assert_eq!(s("x\nA. b"), vec!["x", "A."]);
        assert_eq!(s("Ab. Cd.e f"), vec!["Ab.", "Cd."]);
        assert_eq!(s(""), Vec::<&str>::new());
        assert_eq!(s("\n\n"), Vec::<&str>::new());
    }
}
