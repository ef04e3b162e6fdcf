//! Removes paragraphs already seen (or drops documents made mostly of them) with a Bloom
//! filter in one streaming pass; `compat = "bff"` and `compat = "dolma"` reproduce those
//! tools exactly.
//!
//! A global stage whose decider walks the documents in input order with one Bloom filter
//! (so the result is the same whatever the worker count). By default a document is split
//! into paragraphs on `paragraph_separator` (default `"\n"`); each paragraph is normalized
//! (`normalize`: `"none"` by default; or `"whitespace"`, `"ccnet"`, see `line_dedup`) and
//! blank paragraphs, or paragraphs of fewer than `min_words` words, are ignored (neither
//! checked nor added). What goes into the filter (`by`):
//!
//! - `by = "paragraph"`: the xxh3-64 hash of the paragraph;
//! - `by = "ngram"`: the word n-grams of the paragraph, words being the UAX #29 words of
//!   `unicode_words` (letters and digits: punctuation is not a word): windows of
//!   `ngram_length` words (default 13) every `stride` words (default 1); a paragraph of fewer
//!   than `ngram_length` but at least `min_ngram_length` words (default 5) is one n-gram;
//!   shorter paragraphs are ignored.
//!
//! Each paragraph is checked against the filter, then all its hashes are added (unless
//! `read_only`, for decontamination against saved filters). With `remove = "paragraph"`
//! (default) a paragraph whose fraction of n-grams already in the filter is at least
//! (`>=`) `overlap_threshold` (default 0.8; for `by = "paragraph"` a paragraph is one unit,
//! so it is removed when seen before) is removed from its document with one separator
//! (the one before it, or after it for the first); the count goes to the stage counter `paragraphs_removed` and to metadata field
//! `count_field` (default `dedup_paragraphs_removed`, `""` for none), and a document left
//! blank is dropped with reason `empty_after_dedup`. With `remove = "document"` a document
//! is dropped with reason `duplicate` when the fraction of its paragraphs' n-grams (summed
//! paragraph by paragraph) already in the filter is at least `overlap_threshold`.
//!
//! That default is neither bff nor dolma. The presets (golden-tested against bff built from
//! source and dolma 1.2.1 from PyPI on real text; `tests/golden/dedup_parity/`):
//!
//! - `compat = "bff"` (allenai/bff; `by` defaults to `"ngram"`): tokens are the UAX #29 word
//!   bounds that are not all whitespace (`split_word_bounds`: punctuation counts, so a line
//!   `-- Name <mail>  date` has n-grams); a unit is a line with the newline before it; a
//!   unit is removed when its fraction of n-grams seen is strictly greater (`>`) than
//!   `overlap_threshold`, and only the n-grams of kept units are added; a removed unit goes
//!   with the newline before it, and a document whose units all went stays with what is
//!   left (possibly blank). `remove = "document"` is bff's `--whole-document`: the document
//!   is one unit whose n-grams run across line breaks, and a duplicate keeps its place with
//!   blank text. `by = "paragraph"` is bff's `--whole-paragraphs` (one n-gram of all the
//!   unit's tokens). Fixes `paragraph_separator`, `normalize`, `min_words`, `stride`.
//! - `compat = "dolma"` (dolma's `dedupe` then its mixer's span removal): paragraphs are
//!   the pieces of `text.split(paragraph_separator)`, blank ones included unless
//!   `skip_empty = true`; `by = "paragraph"`: a piece seen before is a duplicate; `by =
//!   "ngram"`: dolma's tokens (as bff's), each n-gram checked and, when new, added before
//!   the next, so a paragraph repeating itself counts; a paragraph with fewer than two
//!   n-grams is decided by the whole piece as one more key; a duplicate when the fraction
//!   seen is at least (`>=`) `overlap_threshold`. The removed text is the span dolma writes
//!   (in characters, with the separator after the piece, and dolma's arithmetic near the
//!   end of a non-ASCII text) as its mixer removes it; a document left blank stays.
//!   `remove = "document"` is dolma's `documents` dedup with key `$.text`: a document whose
//!   exact text was seen is dropped (`duplicate`). Fixes `normalize`, `min_words` (dolma
//!   1.2.1 with `min_words` > 0 checks no paragraph at all).
//!
//! Filter size: `size_in_bytes` (dolma's name), else the optimal size for `expected_items`
//! (default 10,000,000; aliases `estimated_doc_count`, `expected_ngram_count`) at
//! `false_positive_rate` (default 0.001; alias `desired_false_positive_rate`): m = ⌈−n·ln p /
//! ln²2⌉ bits and k = round(m/n · ln 2) hashes (about 18 MB for the defaults). The filter is
//! `fastbloom` 0.17 fed the xxh3-64 hashes. Being probabilistic, a new paragraph is wrongly
//! taken for a duplicate with about that probability; nothing already seen is ever missed.
//! The filter is all the decider's memory: it must fit the memory budget (`memory`, else the
//! run's `--memory`), or the stage fails with a message saying so.
//!
//! Incremental: `save_index = "path"` saves the filter after the run; `against = [...]` loads
//! saved filters. One with the same size and hash count is merged into this run's filter
//! (so B against A's filter decides exactly as A followed by B would, and the filter saved
//! by B then covers A and B); others are only checked. Saved with the same `by`,
//! `normalize`, n-gram and paragraph settings and `compat`, or refused.
//!
//! Report: `OUT/reports/bloom_dedup/clusters.jsonl` — a Bloom filter does not know which
//! earlier document a paragraph came from, so the report has one row per document that lost
//! paragraphs or was dropped, in input order: `id`, `dropped`, `duplicate_fraction`, and
//! `removed` (indexes of the removed paragraphs among the document's counted paragraphs).
//!
//! Parameters: `compat`, `by` (default paragraph; ngram with bff), `remove` (`"paragraph"`), `paragraph_separator`
//! (`"\n"`), `normalize` (`"none"`), `min_words` (0), `ngram_length` (13),
//! `min_ngram_length` (5), `stride` (1), `overlap_threshold` (0.8), `expected_items`
//! (10000000), `false_positive_rate` (0.001), `size_in_bytes`, `read_only` (false),
//! `skip_empty` (false; dolma only), `count_field`, `save_index`, `against` (`[]`), `memory`.
//!
//! ```toml
//! [[stage]]
//! type = "bloom_dedup"
//! expected_items = 1000000
//!
//! [[stage]]
//! type = "bloom_dedup"
//! by = "ngram"
//! remove = "document"
//! overlap_threshold = 0.5
//! size_in_bytes = "64MB"
//! save_index = "indexes/ngrams.idx"
//!
//! [[stage]]
//! type = "bloom_dedup"
//! compat = "bff"
//! size_in_bytes = "256MB"
//! ```

use crate::dedup::index::{IndexReader, IndexWriter, resolve_against};
use crate::dedup::text::Normalize;
use crate::dedup::{pack, resolve};
use crate::{BuildCx, StageSpec, Step};
use datamill_core::ByteSize;
use datamill_core::codec::{Dec, Enc};
use datamill_core::{
    DecideCx, Decider, Doc, DocRef, GlobalStage, ReportFile, Stage, StageCx, StageError, Verdict,
    Verdicts,
};
use fastbloom::BloomFilter;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::PathBuf;
use unicode_segmentation::UnicodeSegmentation;

/// What is hashed into the filter.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum By {
    /// Whole paragraphs.
    Paragraph,
    /// Word n-grams of each paragraph.
    Ngram,
}

/// What a duplicate removes.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Remove {
    /// The duplicate paragraph.
    Paragraph,
    /// The whole document, when duplicate enough.
    Document,
}

/// The reference whose behaviour `compat` reproduces exactly.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum BloomCompat {
    /// allenai/bff.
    Bff,
    /// dolma's `dedupe` followed by its mixer's span removal.
    Dolma,
}
fn remove() -> Remove {
    Remove::Paragraph
}
fn newline() -> String {
    "\n".into()
}
fn none() -> Normalize {
    Normalize::None
}
fn thirteen() -> usize {
    13
}
fn five() -> usize {
    5
}
fn one() -> usize {
    1
}
fn threshold() -> f64 {
    0.8
}
fn items() -> u64 {
    10_000_000
}
fn fpr() -> f64 {
    0.001
}
fn field() -> String {
    "dedup_paragraphs_removed".into()
}

/// The `bloom_dedup` stage's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BloomDedup {
    /// Reproduce a reference exactly (`"bff"`).
    pub compat: Option<BloomCompat>,
    /// `"paragraph"` or `"ngram"` (default `"paragraph"`; `"ngram"` with `compat = "bff"`).
    pub by: Option<By>,
    /// `"paragraph"` or `"document"`.
    #[serde(default = "remove")]
    pub remove: Remove,
    /// Splits paragraphs.
    #[serde(default = "newline")]
    pub paragraph_separator: String,
    /// Normalization before hashing.
    #[serde(default = "none")]
    pub normalize: Normalize,
    /// Paragraphs with fewer words are ignored.
    #[serde(default)]
    pub min_words: usize,
    /// Words per n-gram.
    #[serde(default = "thirteen")]
    pub ngram_length: usize,
    /// Shortest paragraph (in words) still counted, as one n-gram.
    #[serde(default = "five")]
    pub min_ngram_length: usize,
    /// Words between n-gram starts.
    #[serde(default = "one")]
    pub stride: usize,
    /// Fraction of n-grams seen before that makes a duplicate.
    #[serde(default = "threshold")]
    pub overlap_threshold: f64,
    /// Items the filter is sized for.
    #[serde(
        default = "items",
        alias = "estimated_doc_count",
        alias = "expected_ngram_count"
    )]
    pub expected_items: u64,
    /// Target false-positive rate at `expected_items`.
    #[serde(default = "fpr", alias = "desired_false_positive_rate")]
    pub false_positive_rate: f64,
    /// Explicit filter size.
    pub size_in_bytes: Option<ByteSize>,
    /// Check only; never add to the filter.
    #[serde(default)]
    pub read_only: bool,
    /// `compat = "dolma"`: blank paragraphs (documents) are neither checked nor added.
    #[serde(default)]
    pub skip_empty: bool,
    /// Metadata field receiving the number of paragraphs removed (`""`: none).
    #[serde(default = "field")]
    pub count_field: String,
    /// Where to save the filter.
    pub save_index: Option<String>,
    /// Saved filters to load.
    #[serde(default)]
    pub against: Vec<String>,
    /// Memory budget (overrides `--memory`).
    pub memory: Option<ByteSize>,
}

const KIND: &str = "bloom_dedup";
/// The bit layout of the saved words: fastbloom 0.17's (multiply-shift index, double hashing).
const LAYOUT: &str = "fastbloom-0.17";

impl BloomDedup {
    /// The settings that give a hash its meaning (compared with saved filters).
    fn params(&self) -> serde_json::Value {
        let mut p = serde_json::json!({
            "by": match self.by() { By::Paragraph => "paragraph", By::Ngram => "ngram" },
            "paragraph_separator": self.paragraph_separator,
            "normalize": self.normalize.name(),
            "min_words": self.min_words,
            "hash": "xxh3_64",
        });
        if self.by() == By::Ngram || self.bff() {
            p["ngram_length"] = self.ngram_length.into();
            p["min_ngram_length"] = self.min_ngram_length.into();
            p["stride"] = self.stride.into();
        }
        if let Some(c) = self.compat {
            // Other tokens, units and hashes.
            p["compat"] = match c {
                BloomCompat::Bff => "bff",
                BloomCompat::Dolma => "dolma",
            }
            .into();
            p["remove"] = if self.remove == Remove::Document {
                "document"
            } else {
                "paragraph"
            }
            .into();
        }
        if self.dolma() {
            p["skip_empty"] = self.skip_empty.into();
        }
        p
    }

    fn dolma(&self) -> bool {
        self.compat == Some(BloomCompat::Dolma)
    }

    /// dolma's units: (the span dolma reports, in characters, as dolma computes it; whether
    /// the last hash is the whole paragraph's; the hashes in the order dolma checks them).
    ///
    /// Paragraphs are the pieces of `text.split(paragraph_separator)` (an empty text has
    /// none). A piece's span starts where the previous one ended and spans its characters
    /// plus one (the separator) unless that would reach the text's last byte: dolma compares
    /// a character offset with the byte length, so near the end of a non-ASCII text the
    /// span runs past the text, and the span of a final empty piece is empty. Blank pieces
    /// are skipped with `skip_empty`. `by = "paragraph"`: one key, the piece. `by = "ngram"`:
    /// the n-grams of its tokens (as bff's), the first and then those starting `stride`
    /// tokens or more after the last taken one; with fewer than two, the piece itself is
    /// one more key that decides (dolma's short-paragraph rule). `remove = "document"`: one
    /// unit, the whole text as key (dolma's `documents` with key `$.text`).
    fn dolma_units(&self, text: &str) -> Vec<((usize, usize), bool, Vec<u64>)> {
        let mut out = Vec::new();
        if self.remove == Remove::Document {
            if !(self.skip_empty && text.trim().is_empty()) {
                out.push(((0, text.len()), true, vec![token_hash(&[text])]));
            }
            return out;
        }
        if text.is_empty() {
            return out;
        }
        let mut offset = 0usize;
        let mut tokens: Vec<&str> = Vec::new();
        for p in text.split(self.paragraph_separator.as_str()) {
            let start = offset;
            offset += p.chars().count();
            if offset + 1 < text.len() {
                offset += 1;
            }
            if self.skip_empty && p.trim().is_empty() {
                continue;
            }
            let whole_key = token_hash(&[p]);
            if self.by() == By::Paragraph {
                out.push(((start, offset), true, vec![whole_key]));
                continue;
            }
            tokens.clear();
            tokens.extend(
                p.split_word_bounds()
                    .filter(|t| !t.chars().all(char::is_whitespace)),
            );
            let n = self.ngram_length;
            let mut hashes = Vec::new();
            if tokens.len() >= n {
                let mut last = 0;
                for s in 0..=tokens.len() - n {
                    if last == 0 || s - last >= self.stride {
                        last = s;
                        hashes.push(token_hash(&tokens[s..s + n]));
                    }
                }
            }
            let short = hashes.len() < 2;
            if short {
                hashes.push(whole_key);
            }
            out.push(((start, offset), short, hashes));
        }
        out
    }

    /// What is hashed.
    fn by(&self) -> By {
        self.by
            .unwrap_or(if self.bff() { By::Ngram } else { By::Paragraph })
    }

    fn bff(&self) -> bool {
        self.compat == Some(BloomCompat::Bff)
    }

    /// bff's units: (the byte range that goes when the unit is a duplicate, its hashes).
    ///
    /// A unit is the text from one `\n` (included) to the next (excluded), the first from the
    /// start (bff's `newlines.windows(2)`), or the whole text with `remove = "document"`
    /// (`--whole-document`: n-grams run across line breaks). Tokens are the UAX #29 word
    /// bounds that are not all whitespace (`split_word_bounds`, punctuation included);
    /// n-grams of `ngram_length` tokens at every token; a unit without a full one but with
    /// at least `min_ngram_length` tokens is one n-gram of them all (with `by = "paragraph"`,
    /// bff's `--whole-paragraphs`, always so). Units without n-grams are left out.
    fn bff_units(&self, text: &str) -> Vec<(std::ops::Range<usize>, Vec<u64>)> {
        let mut bounds = vec![0];
        if self.remove == Remove::Paragraph {
            bounds.extend(text.match_indices('\n').map(|(i, _)| i));
        }
        bounds.push(text.len());
        let whole = self.by() == By::Paragraph;
        let mut out = Vec::new();
        let mut tokens: Vec<&str> = Vec::new();
        for w in bounds.windows(2) {
            tokens.clear();
            tokens.extend(
                text[w[0]..w[1]]
                    .split_word_bounds()
                    .filter(|t| !t.chars().all(char::is_whitespace)),
            );
            let n = self.ngram_length;
            let hashes: Vec<u64> = if !whole && tokens.len() >= n {
                tokens.windows(n).map(token_hash).collect()
            } else if tokens.len() >= self.min_ngram_length {
                vec![token_hash(&tokens)]
            } else {
                continue;
            };
            out.push((w[0]..w[1], hashes));
        }
        out
    }

    /// Filter geometry: (bits, hashes).
    fn geometry(&self) -> (u64, u32) {
        let n = self.expected_items.max(1) as f64;
        let ln2 = std::f64::consts::LN_2;
        let bits = match self.size_in_bytes {
            Some(b) => b.0 * 8,
            None => (-n * self.false_positive_rate.ln() / (ln2 * ln2)).ceil() as u64,
        };
        let bits = bits.max(64).div_ceil(64) * 64;
        let k = ((bits as f64 / n) * ln2).round().clamp(1.0, 64.0) as u32;
        (bits, k)
    }

    /// The counted paragraphs of `text`: (piece index, hashes).
    fn units(&self, text: &str) -> Vec<(usize, Vec<u64>)> {
        if self.dolma() {
            // (The piece index is the short-paragraph flag.)
            return self
                .dolma_units(text)
                .into_iter()
                .map(|(_, short, h)| (short as usize, h))
                .collect();
        }
        if self.bff() {
            return self
                .bff_units(text)
                .into_iter()
                .enumerate()
                .map(|(i, (_, h))| (i, h))
                .collect();
        }
        let mut out = Vec::new();
        for (i, p) in text.split(self.paragraph_separator.as_str()).enumerate() {
            let n = self.normalize.apply(p);
            if n.trim().is_empty() {
                continue;
            }
            if self.min_words > 0 && n.split_whitespace().count() < self.min_words {
                continue;
            }
            let hashes = match self.by() {
                By::Paragraph => vec![xxhash_rust::xxh3::xxh3_64(n.as_bytes())],
                By::Ngram => {
                    let words: Vec<&str> = n.unicode_words().collect();
                    if words.len() < self.min_ngram_length.max(1) {
                        continue;
                    }
                    let gram = |w: &[&str]| xxhash_rust::xxh3::xxh3_64(w.join(" ").as_bytes());
                    if words.len() < self.ngram_length {
                        vec![gram(&words)]
                    } else {
                        (0..=words.len() - self.ngram_length)
                            .step_by(self.stride)
                            .map(|s| gram(&words[s..s + self.ngram_length]))
                            .collect()
                    }
                }
            };
            out.push((i, hashes));
        }
        out
    }
}

/// The hash of a token sequence (each token length-prefixed: sequences, not strings).
fn token_hash(tokens: &[&str]) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for t in tokens {
        h.update(&(t.len() as u32).to_le_bytes());
        h.update(t.as_bytes());
    }
    h.digest()
}

#[cfg(test)]
impl BloomDedup {
    /// The spans of dolma's units (for golden-test messages).
    pub(crate) fn dolma_units_for_test(&self, text: &str) -> Vec<(usize, usize)> {
        self.dolma_units(text).into_iter().map(|u| u.0).collect()
    }
}

/// dolma's mixer removing `spans` (character offsets, sorted by start) from `text` with an
/// empty replacement. Its walk over the characters is reproduced: an empty span `[a, a]`
/// removes the character at `a`, and no later span is applied after it.
fn dolma_remove_spans(text: &str, spans: &[(usize, usize)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut k = 0;
    for (i, c) in text.chars().enumerate() {
        let Some(&(start, end)) = spans.get(k) else {
            out.push(c);
            continue;
        };
        if start <= i && i < end {
            continue;
        }
        if i == end {
            while spans.get(k).is_some_and(|s| s.0 < i) {
                k += 1;
            }
        }
        if spans.get(k).is_some_and(|s| s.0 == i) {
            continue;
        }
        out.push(c);
    }
    out
}

fn load_filter(p: &std::path::Path, cfg: &BloomDedup) -> Result<(BloomFilter, u64), StageError> {
    let mut r = IndexReader::open(p, KIND)?;
    let mut have = r.header().params.clone();
    let bits = have["num_bits"].as_u64().unwrap_or(0);
    let k = have["num_hashes"].as_u64().unwrap_or(0) as u32;
    let layout = have["layout"].as_str().unwrap_or("").to_string();
    if layout != LAYOUT || bits == 0 || k == 0 || bits != r.records() * 64 {
        return Err(StageError::config(
            "against",
            format!(
                "{}: filter layout `{layout}` ({bits} bits, {k} hashes) is not {LAYOUT}",
                p.display()
            ),
        ));
    }
    if let Some(o) = have.as_object_mut() {
        for g in ["num_bits", "num_hashes", "layout"] {
            o.remove(g);
        }
    }
    let want = cfg.params();
    if have != want {
        let mut diff = Vec::new();
        for (key, w) in want.as_object().into_iter().flatten() {
            let h = have.get(key).unwrap_or(&serde_json::Value::Null);
            if h != w {
                diff.push(format!("{key} = {h} in the index, {w} here"));
            }
        }
        return Err(StageError::config(
            "against",
            format!(
                "{} was saved with other settings ({})",
                p.display(),
                diff.join(", ")
            ),
        ));
    }
    let mut words = Vec::with_capacity(r.records() as usize);
    let mut b = [0u8; 8];
    while r.next_into(&mut b)? {
        words.push(u64::from_le_bytes(b));
    }
    Ok((BloomFilter::from_vec(words).hashes(k), bits))
}

/// The built stage.
struct Built {
    cfg: BloomDedup,
    save_index: Option<PathBuf>,
    against: Vec<PathBuf>,
}

impl StageSpec for BloomDedup {
    fn build(&self, cx: &BuildCx) -> Result<Step, StageError> {
        if !(self.overlap_threshold > 0.0 && self.overlap_threshold <= 1.0) {
            return Err(StageError::config("overlap_threshold", "must be in (0, 1]"));
        }
        if !(self.false_positive_rate > 0.0 && self.false_positive_rate < 1.0) {
            return Err(StageError::config(
                "false_positive_rate",
                "must be in (0, 1)",
            ));
        }
        if self.paragraph_separator.is_empty() {
            return Err(StageError::config(
                "paragraph_separator",
                "must not be empty",
            ));
        }
        if self.ngram_length == 0 || self.stride == 0 {
            return Err(StageError::config(
                if self.stride == 0 {
                    "stride"
                } else {
                    "ngram_length"
                },
                "must be at least 1",
            ));
        }
        if self.min_ngram_length > self.ngram_length {
            return Err(StageError::config(
                "min_ngram_length",
                "must not exceed ngram_length",
            ));
        }
        if self.bff() {
            let fixed = [
                (
                    "paragraph_separator",
                    self.paragraph_separator != "\n",
                    "\"\\n\"",
                ),
                ("normalize", self.normalize != Normalize::None, "\"none\""),
                ("min_words", self.min_words != 0, "0"),
                ("stride", self.stride != 1, "1"),
            ];
            if let Some((param, _, want)) = fixed.iter().find(|f| f.1) {
                return Err(StageError::config(
                    *param,
                    format!(
                        "compat = \"bff\" splits and tokenizes as bff: leave it unset or {want}"
                    ),
                ));
            }
        }
        if self.dolma() {
            let fixed = [
                (
                    "normalize",
                    self.normalize != Normalize::None,
                    "leave it unset or \"none\"",
                ),
                (
                    "min_words",
                    self.min_words != 0,
                    "leave it unset or 0 (dolma 1.2.1 with min_words > 0 checks no paragraph at all)",
                ),
            ];
            if let Some((param, _, msg)) = fixed.iter().find(|f| f.1) {
                return Err(StageError::config(
                    *param,
                    format!("compat = \"dolma\" splits and hashes as dolma: {msg}"),
                ));
            }
        } else if self.skip_empty {
            return Err(StageError::config(
                "skip_empty",
                "is dolma's option (compat = \"dolma\"); blank paragraphs are always skipped otherwise",
            ));
        }
        if self.size_in_bytes.is_some_and(|b| b.0 == 0) {
            return Err(StageError::config("size_in_bytes", "must be positive"));
        }
        // Header only; the filter's settings and words are read when deciding.
        let against = resolve_against(&cx.base_dir, &self.against, KIND, None)?;
        if self.read_only && against.is_empty() {
            return Err(StageError::config(
                "read_only",
                "needs saved filters in `against`",
            ));
        }
        Ok(Step::Global(Box::new(Built {
            cfg: self.clone(),
            save_index: self.save_index.as_deref().map(|p| resolve(&cx.base_dir, p)),
            against,
        })))
    }
}

impl GlobalStage for Built {
    fn transform(&self, state: &[u8]) -> Result<Box<dyn Stage + '_>, StageError> {
        let mut d = Dec::new(state, "bloom_dedup decision");
        let n = d.len(16)?;
        let mut removals = HashMap::with_capacity_and_hasher(n, Default::default());
        for _ in 0..n {
            let at = d.u64()?;
            let m = d.len(4)?;
            let ords = (0..m).map(|_| d.u32()).collect::<Result<Vec<_>, _>>()?;
            removals.insert(at, ords);
        }
        d.end()?;
        Ok(Box::new(Apply {
            cfg: &self.cfg,
            removals,
        }))
    }

    /// The summary: id length (u32) and id, paragraph count (u32), then per paragraph its
    /// piece index (u32), hash count (u32) and hashes (u64).
    fn summarize(&self, doc: &Doc, out: &mut Vec<u8>) -> Result<(), StageError> {
        let id = doc.id().as_bytes();
        out.extend_from_slice(&(id.len() as u32).to_le_bytes());
        out.extend_from_slice(id);
        let units = self.cfg.units(doc.text());
        out.extend_from_slice(&(units.len() as u32).to_le_bytes());
        for (i, hs) in units {
            out.extend_from_slice(&(i as u32).to_le_bytes());
            out.extend_from_slice(&(hs.len() as u32).to_le_bytes());
            for h in hs {
                out.extend_from_slice(&h.to_le_bytes());
            }
        }
        Ok(())
    }

    fn decider(&self, cx: &DecideCx) -> Result<Box<dyn Decider + '_>, StageError> {
        let (bits, k) = self.cfg.geometry();
        let budget = self.cfg.memory.map(|b| b.0).or(cx.memory_budget);
        if let Some(b) = budget
            && bits / 8 > b
        {
            return Err(StageError::config(
                if self.cfg.size_in_bytes.is_some() {
                    "size_in_bytes"
                } else {
                    "expected_items"
                },
                format!(
                    "the Bloom filter needs {} bytes, more than the memory budget of {b} bytes \
                     (a filter cannot spill: give this stage its own `memory`, or a smaller filter)",
                    bits / 8
                ),
            ));
        }
        let mut filter = BloomFilter::with_num_bits(bits as usize).hashes(k);
        let mut extra = Vec::new();
        for p in &self.against {
            let (f, fbits) = load_filter(p, &self.cfg)?;
            if fbits == bits && f.num_hashes() == k && !self.cfg.read_only {
                filter.union(&f);
            } else {
                extra.push(f);
            }
        }
        Ok(Box::new(Decide {
            st: self,
            filter,
            extra,
            removals: HashMap::default(),
            report: Some(cx.report.jsonl("clusters.jsonl")?),
        }))
    }
}

struct Decide<'a> {
    st: &'a Built,
    filter: BloomFilter,
    extra: Vec<BloomFilter>,
    removals: HashMap<u64, Vec<u32>, foldhash::fast::FixedState>,
    report: Option<ReportFile>,
}

fn corrupt() -> StageError {
    StageError::Other("bloom_dedup: corrupt summary".into())
}

fn take<'s>(b: &mut &'s [u8], n: usize) -> Result<&'s [u8], StageError> {
    if b.len() < n {
        return Err(corrupt());
    }
    let (h, t) = b.split_at(n);
    *b = t;
    Ok(h)
}

fn u32_of(b: &mut &[u8]) -> Result<u32, StageError> {
    Ok(u32::from_le_bytes(take(b, 4)?.try_into().expect("4 bytes")))
}

impl Decide<'_> {
    /// Whether `h` is in the filters; adds it when not (unless `read_only`), as dolma does
    /// key by key.
    fn check_and_add(&mut self, h: u64) -> bool {
        if self.filter.contains_hash(h) || self.extra.iter().any(|f| f.contains_hash(h)) {
            return true;
        }
        if !self.st.cfg.read_only {
            self.filter.insert_hash(h);
        }
        false
    }
}

impl Decider for Decide<'_> {
    fn observe(&mut self, at: DocRef, summary: &[u8], v: &mut Verdicts) -> Result<(), StageError> {
        let cfg = &self.st.cfg;
        let mut b = summary;
        let id_len = u32_of(&mut b)? as usize;
        let id = String::from_utf8_lossy(take(&mut b, id_len)?).into_owned();
        let n = u32_of(&mut b)?;
        let (mut seen_total, mut total) = (0usize, 0usize);
        let mut removed = Vec::new();
        let mut hashes = Vec::new();
        for ord in 0..n {
            let piece = u32_of(&mut b)?;
            let m = u32_of(&mut b)? as usize;
            hashes.clear();
            for c in take(&mut b, m * 8)?.chunks_exact(8) {
                hashes.push(u64::from_le_bytes(c.try_into().expect("8 bytes")));
            }
            let seen = hashes
                .iter()
                .filter(|&&h| {
                    self.filter.contains_hash(h) || self.extra.iter().any(|f| f.contains_hash(h))
                })
                .count();
            if cfg.dolma() {
                // dolma: each key is checked and, when new, added before the next one.
                let short = piece == 1;
                let (ngrams, whole) = if short {
                    (&hashes[..m - 1], hashes.last().copied())
                } else {
                    (&hashes[..], None)
                };
                let mut dups = 0usize;
                for &h in ngrams {
                    if self.check_and_add(h) {
                        dups += 1;
                    }
                }
                let thr = cfg.overlap_threshold as f32;
                let exact = cfg.by() == By::Paragraph || cfg.remove == Remove::Document;
                let dup = match whole {
                    // A paragraph (or document) key: a duplicate when seen.
                    Some(w) if exact => self.check_and_add(w),
                    // The short-paragraph rule: score 1 when seen, else 0.
                    Some(w) => {
                        let score = if self.check_and_add(w) { 1.0f32 } else { 0.0 };
                        score >= thr
                    }
                    None => dups as f32 / ngrams.len() as f32 >= thr,
                };
                seen_total += dups + usize::from(dup && whole.is_some());
                total += m;
                if dup {
                    removed.push(ord);
                }
                continue;
            }
            seen_total += seen;
            total += m;
            if cfg.bff() {
                // bff: strictly more than the threshold; only a kept unit's n-grams go
                // into the filter; with `remove = "document"` the unit is the document.
                let dup = m > 0 && seen as f64 / m as f64 > cfg.overlap_threshold;
                if dup {
                    removed.push(ord);
                } else if !cfg.read_only {
                    for &h in &hashes {
                        self.filter.insert_hash(h);
                    }
                }
                continue;
            }
            if !cfg.read_only {
                for &h in &hashes {
                    self.filter.insert_hash(h);
                }
            }
            if cfg.remove == Remove::Paragraph
                && m > 0
                && seen as f64 >= cfg.overlap_threshold * m as f64
            {
                removed.push(ord);
            }
        }
        if !b.is_empty() {
            return Err(corrupt());
        }
        let fraction = if total == 0 {
            0.0
        } else {
            seen_total as f64 / total as f64
        };
        let dropped = if cfg.dolma() {
            cfg.remove == Remove::Document && !removed.is_empty()
        } else {
            !cfg.bff()
                && cfg.remove == Remove::Document
                && total > 0
                && fraction >= cfg.overlap_threshold
        };
        if dropped {
            v.drop(at, "duplicate");
        }
        if dropped || !removed.is_empty() {
            let report = self.report.as_mut().expect("observe before finish");
            report.write(&serde_json::json!({
                "id": id,
                "dropped": dropped,
                "duplicate_fraction": (fraction * 1e6).round() / 1e6,
                "removed": removed,
            }))?;
        }
        if !removed.is_empty() {
            self.removals.insert(pack(at), removed);
        }
        Ok(())
    }

    fn finish(&mut self, _: &mut Verdicts) -> Result<Option<Vec<u8>>, StageError> {
        self.report.take().expect("finish once").finish()?;
        if let Some(p) = &self.st.save_index {
            let mut params = self.st.cfg.params();
            params["num_bits"] = (self.filter.num_bits() as u64).into();
            params["num_hashes"] = self.filter.num_hashes().into();
            params["layout"] = LAYOUT.into();
            let mut w = IndexWriter::create(p, KIND, 8, params)?;
            for word in self.filter.as_slice() {
                w.write(&word.to_le_bytes())?;
            }
            w.finish()?;
        }
        if self.st.cfg.remove == Remove::Document && !self.st.cfg.bff() {
            // (dolma's document mode drops; nothing to transform.)
            return Ok(None);
        }
        // The transform's state: (document, removed paragraph ordinals), in input order.
        let mut removals: Vec<(u64, Vec<u32>)> =
            std::mem::take(&mut self.removals).into_iter().collect();
        removals.sort_unstable_by_key(|r| r.0);
        let mut e = Enc::default();
        e.len(removals.len());
        for (at, ords) in &removals {
            e.u64(*at);
            e.len(ords.len());
            for &o in ords {
                e.u32(o);
            }
        }
        Ok(Some(e.finish()))
    }
}

/// The transform: removes the duplicate paragraphs found by the decider.
struct Apply<'a> {
    cfg: &'a BloomDedup,
    removals: HashMap<u64, Vec<u32>, foldhash::fast::FixedState>,
}

impl Stage for Apply<'_> {
    fn process(&self, doc: &mut Doc, cx: &mut StageCx) -> Result<Verdict, StageError> {
        let Some(at) = cx.doc_ref() else {
            return Err(StageError::Other(
                "bloom_dedup needs the document's position (run it through the executor)".into(),
            ));
        };
        let mut n = 0u64;
        if self.cfg.dolma()
            && let Some(ords) = self.removals.get(&pack(at))
        {
            // dolma's mixer: the spans go, character by character; a document left blank
            // stays.
            let units = self.cfg.dolma_units(doc.text());
            let spans: Vec<(usize, usize)> = ords
                .iter()
                .filter_map(|&o| units.get(o as usize).map(|u| u.0))
                .collect();
            n = spans.len() as u64;
            let new = dolma_remove_spans(doc.text(), &spans);
            cx.count("paragraphs_removed", n);
            doc.set_text(new);
        } else if self.cfg.bff()
            && let Some(ords) = self.removals.get(&pack(at))
        {
            // bff's bytes: each removed unit goes with the newline before it; a document
            // whose every unit went stays, with blank text.
            let units = self.cfg.bff_units(doc.text());
            let text = doc.text();
            let mut new = String::with_capacity(text.len());
            let mut last = 0;
            for &o in ords {
                if let Some((r, _)) = units.get(o as usize) {
                    new.push_str(&text[last..r.start]);
                    last = r.end;
                    n += 1;
                }
            }
            new.push_str(&text[last..]);
            cx.count("paragraphs_removed", n);
            doc.set_text(new);
        } else if let Some(ords) = self.removals.get(&pack(at)) {
            let units = self.cfg.units(doc.text());
            let drop_pieces: Vec<usize> = ords
                .iter()
                .filter_map(|&o| units.get(o as usize).map(|u| u.0))
                .collect();
            n = drop_pieces.len() as u64;
            let sep = self.cfg.paragraph_separator.as_str();
            let kept: Vec<&str> = doc
                .text()
                .split(sep)
                .enumerate()
                .filter(|(i, _)| drop_pieces.binary_search(i).is_err())
                .map(|(_, p)| p)
                .collect();
            let new = kept.join(sep);
            cx.count("paragraphs_removed", n);
            if new.trim().is_empty() {
                return Ok(Verdict::drop("empty_after_dedup"));
            }
            doc.set_text(new);
        }
        if !self.cfg.count_field.is_empty() {
            doc.set(&self.cfg.count_field, &n);
        }
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_with(src: &str, docs: &[&str], dir: &std::path::Path) -> Vec<Option<String>> {
        let cfg: BloomDedup = toml::from_str(src).unwrap();
        let Step::Global(g) = cfg
            .build(&BuildCx {
                seed: 0,
                base_dir: dir.to_path_buf(),
            })
            .unwrap()
        else {
            panic!("global")
        };
        let cx = DecideCx {
            report: datamill_core::ReportSink::dir(dir.join("report")),
            ..Default::default()
        };
        let docs = docs
            .iter()
            .enumerate()
            .map(|(i, t)| Doc::new(format!("d{i}"), *t))
            .collect();
        let (fates, _) = crate::testing::run(&*g, docs, usize::MAX, &cx);
        fates
            .iter()
            .map(|f| f.doc().map(|d| d.text().to_string()))
            .collect()
    }

    fn s(x: &str) -> Option<String> {
        Some(x.to_string())
    }

    #[test]
    fn paragraph_mode_removes_repeats_in_input_order() {
        let dir = tempfile::tempdir().unwrap();
        let got = run_with(
            "expected_items = 1000",
            &["a\nshared\nb", "shared\nc\n\na", "shared", "c\nd"],
            dir.path(),
        );
        assert_eq!(got, [s("a\nshared\nb"), s("c\n"), None, s("d")]);
        let report = std::fs::read_to_string(dir.path().join("report/clusters.jsonl")).unwrap();
        let first = r#"{"id":"d1","dropped":false,"duplicate_fraction":0.666667,"removed":[0,2]}"#;
        assert_eq!(report.lines().collect::<Vec<_>>()[0], first);
        assert_eq!(report.lines().count(), 3);
    }

    #[test]
    fn ngram_document_mode_like_bff() {
        let dir = tempfile::tempdir().unwrap();
        let base = "the quick brown fox jumps over the lazy dog near the river bank today";
        // base: 14 words, two 13-grams.
        let docs = [
            base.to_string(),
            format!("{base} more"), // 3 n-grams, 2 seen: 0.67
            "completely different words that share nothing with the others at all here".into(),
            format!("Intro words here.\n{base}"), // short paragraph ignored; 2 of 2 seen
        ];
        let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
        let kept = |src: &str| {
            run_with(src, &refs, dir.path())
                .iter()
                .map(Option::is_some)
                .collect::<Vec<_>>()
        };
        let doc_mode = "by = \"ngram\"\nremove = \"document\"\nexpected_items = 1000";
        assert_eq!(kept(doc_mode), [true, true, true, false]);
        assert_eq!(
            kept(&format!("{doc_mode}\noverlap_threshold = 0.6")),
            [true, false, true, false]
        );
        // Paragraph mode: only the repeated paragraph of the last document goes.
        let got = run_with("by = \"ngram\"\nexpected_items = 1000", &refs, dir.path());
        assert_eq!(got[1].as_deref(), Some(docs[1].as_str()));
        assert_eq!(got[3].as_deref(), Some("Intro words here."));
    }

    #[test]
    fn against_a_saved_filter_equals_one_pass_over_both() {
        let docs: Vec<String> = (0..400)
            .map(|i| {
                let x = xxhash_rust::xxh3::xxh3_64(&(i as u64).to_le_bytes());
                format!("para {}\nunique {i}\npara {}", x % 97, (x >> 8) % 300)
            })
            .collect();
        let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
        let dir = tempfile::tempdir().unwrap();
        let together = run_with("expected_items = 5000", &refs, dir.path());
        run_with(
            "expected_items = 5000\nsave_index = \"f.idx\"",
            &refs[..250],
            dir.path(),
        );
        let got = run_with(
            "expected_items = 5000\nagainst = [\"f.idx\"]",
            &refs[250..],
            dir.path(),
        );
        assert_eq!(got, together[250..]);
        assert!(
            got.iter()
                .any(|d| d.as_deref().is_some_and(|t| t.lines().count() < 3))
        );
        // Decontamination: read-only against the filter of the first part.
        let ro = run_with(
            "expected_items = 5000\nagainst = [\"f.idx\"]\nread_only = true",
            &refs[250..],
            dir.path(),
        );
        assert!(ro.iter().zip(&got).any(|(a, b)| a != b));
        let e = toml::from_str::<BloomDedup>(
            "against = [\"f.idx\"]\nnormalize = \"ccnet\"\nexpected_items = 5000",
        )
        .unwrap()
        .build(&BuildCx {
            seed: 0,
            base_dir: dir.path().to_path_buf(),
        })
        .ok()
        .unwrap();
        let Step::Global(g) = e else { panic!() };
        let err = g.decider(&DecideCx::default()).err().unwrap();
        assert!(
            err.to_string()
                .contains("normalize = \"none\" in the index"),
            "{err}"
        );
    }

    #[test]
    fn bff_counts_punctuation_removes_the_newline_before_and_keeps_emptied_documents() {
        let dir = tempfile::tempdir().unwrap();
        // 3 words but 8 bff tokens: "-", "-", "Ann", "<", "ann", "@", "x.org", ">".
        let docs = [
            "-- Ann <ann@x.org>\nbody one",
            "body two\n-- Ann <ann@x.org>",
            "-- Ann <ann@x.org>",
        ];
        let bff = "compat = \"bff\"\nexpected_items = 1000";
        assert_eq!(
            run_with(bff, &docs, dir.path()),
            [s(docs[0]), s("body two"), s("")]
        );
        // The default's words are letters and digits: the line is too short to count.
        let got = run_with("by = \"ngram\"\nexpected_items = 1000", &docs, dir.path());
        assert_eq!(got, docs.map(s));
        // bff's threshold is strict: nothing is more than 100% seen.
        let strict = format!("{bff}\noverlap_threshold = 1.0");
        assert_eq!(run_with(&strict, &docs, dir.path()), docs.map(s));
        let e = toml::from_str::<BloomDedup>("compat = \"bff\"\nstride = 2")
            .unwrap()
            .build(&BuildCx::default())
            .err()
            .unwrap();
        assert!(e.to_string().contains("stride"), "{e}");
    }

    #[test]
    fn dolma_counts_blank_paragraphs_and_removes_character_spans() {
        let dir = tempfile::tempdir().unwrap();
        let docs = ["a b\n\nc d", "c d\n\nx", "é\nx\n"];
        let dolma = "compat = \"dolma\"\nby = \"paragraph\"\nexpected_items = 1000";
        // d1: "c d" and the blank paragraph were seen, each goes with the newline after it.
        // d2: "x" [2, 4) goes; the final empty piece's span is empty ([4, 4]: 4 + 1 < 5
        // bytes fails) and dolma's mixer then removes the character at 4 — past the end.
        assert_eq!(
            run_with(dolma, &docs, dir.path()),
            [s(docs[0]), s("x"), s("é\n")]
        );
        let skip = format!("{dolma}\nskip_empty = true");
        assert_eq!(
            run_with(&skip, &docs, dir.path()),
            [s(docs[0]), s("\nx"), s("é\n")]
        );
        // The default ignores blank paragraphs and removes one separator.
        let got = run_with("expected_items = 1000", &docs, dir.path());
        assert_eq!(got, [s(docs[0]), s("\nx"), s("é\n")]);
        // Document mode: an exact repeat of the text is dropped.
        let doc = "compat = \"dolma\"\nremove = \"document\"\nexpected_items = 1000";
        let got = run_with(doc, &["same", "other", "same"], dir.path());
        assert_eq!(got, [s("same"), s("other"), None]);
    }

    #[test]
    fn dolma_mixer_span_walk() {
        assert_eq!(dolma_remove_spans("abc\n", &[(3, 3)]), "abc");
        assert_eq!(dolma_remove_spans("abcdef", &[(1, 3), (3, 4)]), "aef");
        // An empty span removes its character and stops the walk.
        assert_eq!(dolma_remove_spans("abcdef", &[(1, 1), (3, 4)]), "acdef");
        assert_eq!(dolma_remove_spans("ab", &[(1, 9)]), "a");
    }

    #[test]
    fn filter_layout_is_pinned() {
        // Saved filters store fastbloom's bit positions: fail loudly if a fastbloom upgrade
        // changes them (then bump LAYOUT and refuse old files).
        let mut f = BloomFilter::with_num_bits(4096).hashes(7);
        for i in 0..100u64 {
            f.insert_hash(xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes()));
        }
        let bytes: Vec<u8> = f.as_slice().iter().flat_map(|w| w.to_le_bytes()).collect();
        assert_eq!(
            xxhash_rust::xxh3::xxh3_64(&bytes),
            5_314_219_955_026_338_328
        );
    }

    #[test]
    fn geometry_and_budget() {
        let c: BloomDedup = toml::from_str("").unwrap();
        let (bits, k) = c.geometry();
        assert_eq!(k, 10);
        assert!((143_775_000..143_776_000).contains(&bits), "{bits}");
        let c: BloomDedup = toml::from_str("size_in_bytes = \"1MB\"\nmemory = \"100KB\"").unwrap();
        let Step::Global(g) = c.build(&BuildCx::default()).unwrap() else {
            panic!()
        };
        let e = g.decider(&DecideCx::default()).err().unwrap();
        assert!(e.to_string().contains("more than the memory budget"), "{e}");
    }
}
