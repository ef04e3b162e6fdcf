//! The Indic NLP Library's tokenizers (indic-nlp-library 0.92), as datatrove 0.10.1's
//! `IndicNLPTokenizer` uses them for Hindi, Bengali, Tamil, Urdu and 57 more codes.
//!
//! * Words: `indic_tokenize.trivial_tokenize(text, lang)` — tabs become spaces, every
//!   punctuation character (`string.punctuation`, the dandas and a few Meetei/Ol Chiki marks;
//!   Arabic-script marks for Urdu) is surrounded by spaces, runs of spaces collapse, the text is
//!   split at spaces; for Brahmi scripts the spaces inside number sequences `1 , 000` are removed
//!   again (with the library's loop as written: a sequence at the very start of the text is left
//!   alone). datatrove strips the tokens and drops empty ones.
//! * Sentences: `sentence_tokenize.sentence_split(text, lang)` — split after `?`, `!`, the dandas
//!   (and `.` plus a few marks unless the language uses dandas and the text has one), not after a
//!   numeric character; then, when `.` is a delimiter, a one-word sentence ending in `.` or a
//!   sentence ending in a known abbreviation/initial (checked after transliteration to
//!   Devanagari) is joined to the next. datatrove then finds each sentence in the text
//!   (`str.index`); a joined sentence that is not in the text makes datatrove raise
//!   `ValueError` — reported here as [`SentenceError::ValueError`]. Urdu sentences are split by
//!   `urduhack` in the library: not implemented ([`SentenceError::Unsupported`]).
//!
//! Data (the abbreviation set, the Sinhala → Devanagari map, `str.isnumeric`) is generated from
//! the library and CPython 3.11 by `tools/gen_indic.py` into `indic_data.rs`.

use std::borrow::Cow;

use crate::indic_data::{ACK_CHARS, DANDA_DELIM, NUMERIC, SCRIPT_START, SINHALA_DEVANAGARI};
use crate::pystr;

/// Why sentences cannot be given as datatrove would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SentenceError {
    /// datatrove raises `ValueError` (a sentence the splitter joined is not in the text).
    ValueError,
    /// The library delegates to a package datamill does not reproduce (`urduhack` for Urdu).
    Unsupported,
}

/// `string.punctuation`.
const ASCII_PUNCT: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

fn is_indic_punct(c: char) -> bool {
    if c.is_ascii() {
        return ASCII_PUNCT.contains(c);
    }
    matches!(
        c,
        '\u{0964}'
            | '\u{0965}'
            | '\u{AAF1}'
            | '\u{AAF0}'
            | '\u{ABEB}'
            | '\u{ABEC}'
            | '\u{ABED}'
            | '\u{ABEE}'
            | '\u{ABEF}'
            | '\u{1C7E}'
            | '\u{1C7F}'
    )
}

fn is_urdu_punct(c: char) -> bool {
    if c.is_ascii() {
        return ASCII_PUNCT.contains(c);
    }
    matches!(
        c,
        '\u{0609}'
            | '\u{060A}'
            | '\u{060C}'
            | '\u{061E}'
            | '\u{066A}'
            | '\u{066B}'
            | '\u{066C}'
            | '\u{066D}'
            | '\u{06D4}'
    )
}

/// `re.sub(r'[ ]+', ' ', pat.sub(r' \1 ', text.replace('\t', ' '))).strip(' ')`.
fn spaced(text: &str, punct: fn(char) -> bool) -> String {
    let mut s = String::with_capacity(text.len() + text.len() / 4);
    let push_space = |s: &mut String| {
        if !s.is_empty() && !s.ends_with(' ') {
            s.push(' ');
        }
    };
    for c in text.chars() {
        if c == ' ' || c == '\t' {
            push_space(&mut s);
        } else if punct(c) {
            push_space(&mut s);
            s.push(c);
            s.push(' ');
        } else {
            s.push(c);
        }
    }
    while s.ends_with(' ') {
        s.pop();
    }
    s
}

fn digits_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    i
}

/// End of a match of `([0-9]+ [,.:/] )+[0-9]+` starting at `i` (Python `re`: greedy, with
/// backtracking), or `None`.
fn num_seq_at(b: &[u8], i: usize) -> Option<usize> {
    // positions after each complete `[0-9]+ [,.:/] ` iteration
    let mut ends: Vec<usize> = Vec::new();
    let mut p = i;
    loop {
        let d = digits_end(b, p);
        if d == p
            || d + 2 >= b.len()
            || b[d] != b' '
            || !matches!(b[d + 1], b',' | b'.' | b':' | b'/')
            || b[d + 2] != b' '
        {
            break;
        }
        p = d + 3;
        ends.push(p);
    }
    let k = ends.len();
    if k == 0 {
        return None;
    }
    let d = digits_end(b, ends[k - 1]);
    if d > ends[k - 1] {
        return Some(d);
    }
    // backtrack one iteration: its digits are the final `[0-9]+`
    if k >= 2 {
        return Some(digits_end(b, ends[k - 2]));
    }
    None
}

/// `trivial_tokenize_indic`'s number-sequence loop (as written, including its `start > prev`
/// test).
fn join_numbers(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let (mut prev, mut i) = (0usize, 0usize);
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        match num_seq_at(b, i) {
            Some(end) => {
                if i > prev {
                    out.push_str(&s[prev..i]);
                    out.extend(s[i..end].chars().filter(|&c| c != ' '));
                    prev = end;
                }
                i = end;
            }
            None => i += 1,
        }
    }
    out.push_str(&s[prev..]);
    out
}

/// datatrove's `IndicNLPTokenizer(lang).word_tokenize(text)`: `trivial_tokenize(text, lang)`,
/// stripped, empty tokens dropped.
pub(crate) fn words<'t>(text: &'t str, lang: &str) -> Vec<Cow<'t, str>> {
    let s = if lang == "ur" {
        spaced(text, is_urdu_punct)
    } else {
        let s = spaced(text, is_indic_punct);
        if s.bytes().any(|c| c.is_ascii_digit()) {
            join_numbers(&s)
        } else {
            s
        }
    };
    s.split(' ')
        .map(pystr::strip)
        .filter(|w| !w.is_empty())
        .map(|w| Cow::Owned(w.to_string()))
        .collect()
}

fn is_numeric(c: char) -> bool {
    let c = c as u32;
    NUMERIC
        .binary_search_by(|&(a, b)| {
            if b < c {
                std::cmp::Ordering::Less
            } else if a > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

fn script_start(lang: &str) -> Option<u32> {
    SCRIPT_START
        .iter()
        .find(|(l, _)| *l == lang)
        .map(|&(_, s)| s)
}

/// `UnicodeIndicTransliterator.transliterate(text, lang, "hi")`.
fn to_devanagari(text: &str, lang: &str) -> String {
    let Some(mut start) = script_start(lang) else {
        return text.to_string();
    };
    let mapped: String;
    let text = if lang == "si" {
        mapped = text
            .chars()
            .map(
                |c| match SINHALA_DEVANAGARI.binary_search_by(|(k, _)| k.cmp(&c)) {
                    Ok(i) => Cow::Borrowed(SINHALA_DEVANAGARI[i].1),
                    Err(_) => Cow::Owned(c.to_string()),
                },
            )
            .collect();
        start = 0x900;
        mapped.as_str()
    } else {
        text
    };
    text.chars()
        .map(|c| {
            let off = i64::from(c as u32) - i64::from(start);
            if (0..=0x6f).contains(&off) && c != '\u{0964}' && c != '\u{0965}' {
                char::from_u32(0x900 + off as u32).unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

fn is_acronym_abbvr(text: &str, lang: &str) -> bool {
    ACK_CHARS
        .binary_search(&to_devanagari(text, lang).as_str())
        .is_ok()
}

/// `sentence_split(text, lang)` (not Urdu), then datatrove's `strip_strings`.
fn sentence_split(text: &str, lang: &str) -> Vec<String> {
    let has_danda = text.contains(['\u{0964}', '\u{0965}']);
    let danda = DANDA_DELIM.contains(&lang) && has_danda;
    let is_delim = |c: char| {
        if danda {
            matches!(c, '?' | '!' | '\u{0964}' | '\u{0965}')
        } else {
            matches!(
                c,
                '.' | '?'
                    | '!'
                    | '\u{0964}'
                    | '\u{0965}'
                    | '\u{AAF1}'
                    | '\u{AAF0}'
                    | '\u{ABEB}'
                    | '\u{ABEC}'
                    | '\u{ABED}'
                    | '\u{ABEE}'
                    | '\u{ABEF}'
                    | '\u{1C7E}'
                    | '\u{1C7F}'
            )
        }
    };
    let text = pystr::strip(text);
    let mut cand: Vec<&str> = Vec::new();
    let mut begin = 0usize;
    let mut prev: Option<char> = None;
    for (i, c) in text.char_indices() {
        let before = prev;
        prev = Some(c);
        if !is_delim(c) || before.is_some_and(is_numeric) {
            continue;
        }
        let end = i + c.len_utf8();
        let s = pystr::strip(&text[begin..end]);
        if !s.is_empty() {
            cand.push(s);
        }
        begin = end;
    }
    let s = pystr::strip(&text[begin..]);
    if !s.is_empty() {
        cand.push(s);
    }
    if danda {
        return cand.into_iter().map(String::from).collect();
    }
    // phase 2: `.` may not end a sentence
    let mut out: Vec<String> = Vec::new();
    let mut buf = String::new();
    let mut bad = false;
    for sentence in cand {
        let last_word = sentence.rsplit(' ').next().unwrap_or("");
        let ends_dot = sentence.ends_with('.');
        if !sentence.contains(' ') && ends_dot {
            bad = true;
            buf.push(' ');
            buf.push_str(sentence);
        } else if ends_dot && is_acronym_abbvr(&last_word[..last_word.len() - 1], lang) {
            if !buf.is_empty() && !bad {
                out.push(std::mem::take(&mut buf));
            }
            bad = true;
            buf = sentence.to_string();
        } else if bad {
            buf.push(' ');
            buf.push_str(sentence);
            out.push(std::mem::take(&mut buf));
            bad = false;
        } else {
            if !buf.is_empty() {
                out.push(std::mem::take(&mut buf));
            }
            buf = sentence.to_string();
            bad = false;
        }
    }
    if !buf.is_empty() {
        out.push(buf);
    }
    out.into_iter()
        .map(|s| pystr::strip(&s).to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// datatrove's `split_into_sentences(text, <Indic language>)`: the text cut after each sentence
/// but the last, as its `simple_span_tokenize` finds them.
pub(crate) fn sentences<'t>(text: &'t str, lang: &str) -> Result<Vec<&'t str>, SentenceError> {
    if lang == "ur" {
        return Err(SentenceError::Unsupported);
    }
    let sents = sentence_split(text, lang);
    if sents.len() <= 1 {
        return Ok(vec![text]);
    }
    let mut ends = Vec::with_capacity(sents.len());
    let mut start = 0usize;
    for s in &sents {
        let at = start
            + text[start..]
                .find(s.as_str())
                .ok_or(SentenceError::ValueError)?;
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
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trivial_tokenize_cases() {
        let w = |t: &str, l: &str| -> Vec<String> {
            words(t, l).into_iter().map(|c| c.into_owned()).collect()
        };
        assert_eq!(w("राम ने कहा। ठीक", "hi"), ["राम", "ने", "कहा", "।", "ठीक"]);
        assert_eq!(w("a 1 , 000 b", "hi"), ["a", "1,000", "b"]);
        // a number sequence at the very start is left split (the library's `start > prev`)
        assert_eq!(w("1,000 b", "hi"), ["1", ",", "000", "b"]);
        assert_eq!(w("x\t1:2:3", "ta"), ["x", "1:2:3"]);
        assert_eq!(w("x 12 , y", "hi"), ["x", "12", ",", "y"]);
        assert_eq!(w("اردو، ٹھیک۔", "ur"), ["اردو", "،", "ٹھیک", "۔"]);
        assert_eq!(w("a\nb  c", "hi"), ["a\nb", "c"]);
    }

    #[test]
    fn sentence_split_cases() {
        assert_eq!(
            sentences("राम आया। श्याम गया। ", "hi").unwrap(),
            ["राम आया।", " श्याम गया। "]
        );
        // `.` delimits when the text has no danda; an initial is joined to the next sentence
        assert_eq!(
            sentences("डॉ. शर्मा आए. वे गए.", "hi").unwrap(),
            ["डॉ. शर्मा आए.", " वे गए."]
        );
        assert_eq!(sentences("x", "ur"), Err(SentenceError::Unsupported));
        // a one-word sentence ending in `.` joined with a space that is not in the text
        assert_eq!(
            sentences("a.b c. d e", "ta"),
            Err(SentenceError::ValueError)
        );
        assert_eq!(sentences("3.5 கி", "ta").unwrap(), ["3.5 கி"]);
    }
}
