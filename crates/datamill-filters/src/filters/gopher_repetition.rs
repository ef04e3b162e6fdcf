//! Gopher repetition rules (Rae et al. 2021) exactly as datatrove 0.10.1's GopherRepetitionFilter.
//!
//! Duplicate lines and paragraphs (by count and by characters), the share of the most
//! frequent 2-, 3- and 4-grams and of characters in duplicated 5- to 10-grams, with words from
//! the word tokenizer datatrove uses for `language` and `Counter.most_common` tie-breaking,
//! checked document for document against datatrove on the en_prose and multilingual samples.
//!
//! Parameters (datatrove's names and defaults): `dup_line_frac` (0.3), `dup_para_frac` (0.3),
//! `dup_line_char_frac` (0.2), `dup_para_char_frac` (0.2), `top_n_grams`
//! ([[2, 0.2], [3, 0.18], [4, 0.16]]), `dup_n_grams` ([[5, 0.15], [6, 0.14], [7, 0.13],
//! [8, 0.12], [9, 0.11], [10, 0.10]]), `language` ("eng").
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
//! Drop reasons: `empty`, `dup_para_frac`, `dup_para_char_frac`, `dup_line_frac`,
//! `dup_line_char_frac`, `top_{n}_gram`, `duplicated_{n}_n_grams`.
//!
//! ```toml
//! [[stage]]
//! type = "gopher_repetition"
//! dup_line_frac = 0.3
//! ```

// The `//!` comment above is the `gopher_repetition` stage's user documentation (`datamill stages
// gopher_repetition`, extracted by crates/datamill-stages/build.rs): this one file owns the stage's
// docs, parameters and defaults (a test checks that the documented defaults are the real
// ones). Port of datatrove 0.10.1's `pipeline/filters/gopher_repetition_filter.py`.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use foldhash::fast::RandomState;
use serde::Deserialize;

use super::{FilterResult, ParamError, check_ratio, truthy};
use crate::{lang, pystr};

/// Gopher repetition heuristics (Rae et al. 2021, Table A1), exactly as datatrove 0.10.1.
///
/// Denominators are `len(text)` in code points of the unmodified text; comparisons are strict
/// `>`. Order (reason in brackets): empty text \[`empty`\]; paragraphs
/// (`re.split(r"\n{2,}", text.strip())`) duplicated fraction \[`dup_para_frac`\] and duplicated
/// characters \[`dup_para_char_frac`\]; lines (`re.split("\n+", text)`) \[`dup_line_frac`\],
/// \[`dup_line_char_frac`\]; for each `(n, frac)` of `top_n_grams`: the most frequent word n-gram
/// (space-joined, ties to the first seen) length × count / len(text) `> frac` \[`top_{n}_gram`\];
/// for each `(n, frac)` of `dup_n_grams`: characters of repeated n-grams (joined without
/// separator, scanning forward and skipping `n` words after each repeat) \[`duplicated_{n}_n_grams`\].
#[derive(Debug, Clone, PartialEq, Deserialize)]
// `remote = "Self"`: the derive becomes an inherent `deserialize`, wrapped below by the
// trait impl that first expands a `preset` (see `crate::presets`).
#[serde(deny_unknown_fields, default, remote = "Self")]
pub struct GopherRepetitionFilter {
    /// Maximum fraction of duplicated lines (default 0.3).
    pub dup_line_frac: Option<f64>,
    /// Maximum fraction of duplicated paragraphs (default 0.3).
    pub dup_para_frac: Option<f64>,
    /// Maximum fraction of characters in duplicated lines (default 0.2).
    pub dup_line_char_frac: Option<f64>,
    /// Maximum fraction of characters in duplicated paragraphs (default 0.2).
    pub dup_para_char_frac: Option<f64>,
    /// `(n, max fraction)` for the top n-gram rules (default `[[2,0.2],[3,0.18],[4,0.16]]`).
    pub top_n_grams: Vec<(usize, f64)>,
    /// `(n, max fraction)` for the duplicated n-gram rules (default 5..=10 with 0.15 .. 0.10).
    pub dup_n_grams: Vec<(usize, f64)>,
    /// Tokenizer language: a code of datatrove's tokenizer table (default `"eng"`; see
    /// [`crate::lang`]).
    pub language: String,
}

impl Default for GopherRepetitionFilter {
    fn default() -> Self {
        GopherRepetitionFilter {
            dup_line_frac: Some(0.3),
            dup_para_frac: Some(0.3),
            dup_line_char_frac: Some(0.2),
            dup_para_char_frac: Some(0.2),
            top_n_grams: vec![(2, 0.2), (3, 0.18), (4, 0.16)],
            dup_n_grams: vec![
                (5, 0.15),
                (6, 0.14),
                (7, 0.13),
                (8, 0.12),
                (9, 0.11),
                (10, 0.10),
            ],
            language: "eng".to_string(),
        }
    }
}

impl<'de> Deserialize<'de> for GopherRepetitionFilter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let table = crate::presets::expand("gopher_repetition", d)?;
        GopherRepetitionFilter::deserialize(table).map_err(serde::de::Error::custom)
    }
}

/// `find_duplicates`: (number of elements already seen before, their total length).
pub(crate) fn find_duplicates<'a>(items: impl IntoIterator<Item = &'a str>) -> (usize, usize) {
    let mut seen: HashSet<&str, RandomState> = HashSet::with_hasher(RandomState::default());
    let (mut n, mut chars) = (0usize, 0usize);
    for x in items {
        if !seen.insert(x) {
            n += 1;
            chars += pystr::char_len(x);
        }
    }
    (n, chars)
}

/// `re.split(r"\n{min,}", s)`.
fn split_newline_runs(s: &str, min: usize) -> Vec<&str> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut i) = (0usize, 0usize);
    while i < b.len() {
        if b[i] == b'\n' {
            let mut j = i;
            while j < b.len() && b[j] == b'\n' {
                j += 1;
            }
            if j - i >= min {
                out.push(&s[start..i]);
                start = j;
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out.push(&s[start..]);
    out
}

/// Polynomial hash of a byte string that composes over concatenation.
const HMUL: u64 = 0x9E37_79B9_7F4A_7C15 | 1;

struct WordInfo {
    /// hash of the word's bytes
    h: u64,
    /// HMUL^len(bytes)
    p: u64,
    /// length in code points
    chars: usize,
}

fn word_info(w: &str) -> WordInfo {
    let mut h = 0u64;
    let mut p = 1u64;
    for &b in w.as_bytes() {
        h = h.wrapping_mul(HMUL).wrapping_add(b as u64 + 1);
        p = p.wrapping_mul(HMUL);
    }
    WordInfo {
        h,
        p,
        chars: pystr::char_len(w),
    }
}

/// Do the concatenations of `a` and `b` (same number of words) have the same bytes?
fn same_concat(a: &[&str], b: &[&str]) -> bool {
    let mut ia = a.iter().flat_map(|w| w.bytes());
    let mut ib = b.iter().flat_map(|w| w.bytes());
    loop {
        match (ia.next(), ib.next()) {
            (None, None) => return true,
            (x, y) if x == y => {}
            _ => return false,
        }
    }
}

impl GopherRepetitionFilter {
    /// Check the parameters.
    pub fn validate(&self) -> Result<(), ParamError> {
        lang::word_tokenizer(&self.language).map_err(ParamError::language)?;
        for (n, v) in [
            ("dup_line_frac", self.dup_line_frac),
            ("dup_para_frac", self.dup_para_frac),
            ("dup_line_char_frac", self.dup_line_char_frac),
            ("dup_para_char_frac", self.dup_para_char_frac),
        ] {
            check_ratio(n, v)?;
        }
        for (name, list) in [
            ("top_n_grams", &self.top_n_grams),
            ("dup_n_grams", &self.dup_n_grams),
        ] {
            for &(n, f) in list {
                if n == 0 {
                    return Err(ParamError::new(name, format!("{name}: n must be >= 1")));
                }
                if !f.is_finite() || f < 0.0 {
                    return Err(ParamError::new(
                        name,
                        format!(
                            "{name}: the fraction for n={n} must be a finite number >= 0, got {f}"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Decide on one document.
    pub fn filter(&self, text: &str) -> FilterResult {
        if text.is_empty() {
            return FilterResult::drop("empty");
        }
        let text_len = pystr::char_len(text) as f64;
        let paragraphs = split_newline_runs(pystr::strip(text), 2);
        let (dups, chars) = find_duplicates(paragraphs.iter().copied());
        if let Some(m) = truthy(self.dup_para_frac)
            && dups as f64 / paragraphs.len() as f64 > m
        {
            return FilterResult::drop("dup_para_frac");
        }
        if let Some(m) = truthy(self.dup_para_char_frac)
            && chars as f64 / text_len > m
        {
            return FilterResult::drop("dup_para_char_frac");
        }
        let lines = split_newline_runs(text, 1);
        let (dups, chars) = find_duplicates(lines.iter().copied());
        if let Some(m) = truthy(self.dup_line_frac)
            && dups as f64 / lines.len() as f64 > m
        {
            return FilterResult::drop("dup_line_frac");
        }
        if let Some(m) = truthy(self.dup_line_char_frac)
            && chars as f64 / text_len > m
        {
            return FilterResult::drop("dup_line_char_frac");
        }
        if self.top_n_grams.is_empty() && self.dup_n_grams.is_empty() {
            return FilterResult::Keep;
        }
        let words = match super::tokenizer_for(&self.language) {
            Ok(t) => t.words(text),
            Err(drop) => return drop,
        };
        let words: Vec<&str> = words.iter().map(AsRef::as_ref).collect();
        self.filter_ngrams(text_len, &words)
    }

    pub(crate) fn filter_ngrams(&self, text_len: f64, words: &[&str]) -> FilterResult {
        // word ids (words never contain whitespace, so space-joined n-grams are equal iff their
        // word sequences are)
        let mut ids: HashMap<&str, u32, RandomState> =
            HashMap::with_capacity_and_hasher(words.len(), RandomState::default());
        let mut infos: Vec<WordInfo> = Vec::new();
        let seq: Vec<u32> = words
            .iter()
            .map(|w| {
                *ids.entry(w).or_insert_with(|| {
                    infos.push(word_info(w));
                    (infos.len() - 1) as u32
                })
            })
            .collect();

        for &(n, frac) in &self.top_n_grams {
            if n == 0 || words.len() < n {
                continue; // no n-grams (n == 0 is rejected by validate)
            }
            let top = if n <= 4 {
                let mut counter: HashMap<u128, (u32, u32), RandomState> =
                    HashMap::with_capacity_and_hasher(seq.len(), RandomState::default());
                for (i, win) in seq.windows(n).enumerate() {
                    let key = win.iter().fold(0u128, |k, &id| (k << 32) | id as u128);
                    counter.entry(key).or_insert((0, i as u32)).0 += 1;
                }
                best_of(counter.into_values())
            } else {
                let mut counter: HashMap<&[u32], (u32, u32), RandomState> =
                    HashMap::with_capacity_and_hasher(seq.len(), RandomState::default());
                for (i, win) in seq.windows(n).enumerate() {
                    counter.entry(win).or_insert((0, i as u32)).0 += 1;
                }
                best_of(counter.into_values())
            };
            let (count, first) = top;
            let first = first as usize;
            let len: usize = seq[first..first + n]
                .iter()
                .map(|&id| infos[id as usize].chars)
                .sum::<usize>()
                + (n - 1);
            if (len * count as usize) as f64 / text_len > frac {
                return FilterResult::Drop(Cow::Owned(format!("top_{n}_gram")));
            }
        }

        for &(n, frac) in &self.dup_n_grams {
            let repeated = find_all_duplicate(words, &seq, &infos, n);
            if repeated as f64 / text_len > frac {
                return FilterResult::Drop(Cow::Owned(format!("duplicated_{n}_n_grams")));
            }
        }
        FilterResult::Keep
    }
}

/// `Counter.most_common(1)`: highest count, ties to the first inserted.
fn best_of(vals: impl Iterator<Item = (u32, u32)>) -> (u32, u32) {
    vals.fold((0, u32::MAX), |best, (c, f)| {
        if c > best.0 || (c == best.0 && f < best.1) {
            (c, f)
        } else {
            best
        }
    })
}

/// `find_all_duplicate(words, n)`: n-grams are the words concatenated without separator.
fn find_all_duplicate(words: &[&str], seq: &[u32], infos: &[WordInfo], n: usize) -> usize {
    if n == 0 || words.len() < n {
        return 0;
    }
    // hash -> first start index with that hash; true collisions go to `extra`
    let mut unique: HashMap<u64, u32, RandomState> =
        HashMap::with_capacity_and_hasher(words.len(), RandomState::default());
    let mut extra: Vec<(u64, u32)> = Vec::new();
    let (mut repeated, mut idx) = (0usize, 0usize);
    let last = words.len() - n;
    while idx <= last {
        let win = &seq[idx..idx + n];
        let h = win.iter().fold(0u64, |h, &id| {
            let wi = &infos[id as usize];
            h.wrapping_mul(wi.p).wrapping_add(wi.h)
        });
        let cur = &words[idx..idx + n];
        let found = match unique.get(&h) {
            None => false,
            Some(&j) => {
                let j = j as usize;
                same_concat(&words[j..j + n], cur)
                    || extra.iter().any(|&(eh, ej)| {
                        eh == h && same_concat(&words[ej as usize..ej as usize + n], cur)
                    })
            }
        };
        if found {
            repeated += win
                .iter()
                .map(|&id| infos[id as usize].chars)
                .sum::<usize>();
            idx += n;
        } else {
            if let std::collections::hash_map::Entry::Vacant(e) = unique.entry(h) {
                e.insert(idx as u32);
            } else {
                extra.push((h, idx as u32));
            }
            idx += 1;
        }
    }
    repeated
}

impl super::Filter for GopherRepetitionFilter {
    fn name(&self) -> &'static str {
        "gopher_repetition"
    }
    fn validate(&self) -> Result<(), ParamError> {
        GopherRepetitionFilter::validate(self)
    }
    fn filter(&self, text: &str) -> FilterResult {
        GopherRepetitionFilter::filter(self, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_re_split() {
        assert_eq!(
            split_newline_runs("a\n\nb\n\n\nc\nd", 2),
            vec!["a", "b", "c\nd"]
        );
        assert_eq!(split_newline_runs("\na\n", 1), vec!["", "a", ""]);
        assert_eq!(find_duplicates(["a", "bb", "a", "bb", "bb"]), (3, 5));
    }

    #[test]
    fn concatenation_is_the_key() {
        // "ab"+"c" and "a"+"bc" are the same 2-gram for the duplicate rule
        let words = ["ab", "c", "a", "bc"];
        let mut ids: HashMap<&str, u32> = HashMap::new();
        let mut infos = Vec::new();
        let seq: Vec<u32> = words
            .iter()
            .map(|w| {
                *ids.entry(w).or_insert_with(|| {
                    infos.push(word_info(w));
                    (infos.len() - 1) as u32
                })
            })
            .collect();
        assert_eq!(find_all_duplicate(&words, &seq, &infos, 2), 3);
    }

    #[test]
    fn reasons() {
        let f = GopherRepetitionFilter::default();
        assert_eq!(f.filter(""), FilterResult::drop("empty"));
        assert_eq!(
            f.filter("same line\nsame line\nsame line\nother"),
            FilterResult::drop("dup_line_frac")
        );
        // datatrove scores the top n-gram even when it occurs once: short texts fail top_4_gram
        let t = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma";
        assert_eq!(f.filter(t), FilterResult::Drop("top_4_gram".into()));
        assert!(
            serde_json::from_str::<GopherRepetitionFilter>(r#"{"top_n_grams": [[2, 0.5]]}"#)
                .is_ok()
        );
        let bad = GopherRepetitionFilter {
            dup_n_grams: vec![(0, 0.1)],
            ..Default::default()
        };
        assert!(bad.validate().is_err());
    }
}
