//! Removes spans of `n_sentences` consecutive sentences seen earlier in the corpus, as C4 did
//! ("discarded all but one of any three-sentence span occurring more than once") and as
//! datatrove 0.10.1's `SentenceDedupSignature` → `SentenceFindDedups` → `SentenceDedupFilter`.
//!
//! A global stage. Each document is cut into sentences (`split_sentences = true`: the
//! sentences of datatrove's word tokenizer for `language`, stripped, empty ones dropped; else
//! Python's `str.splitlines`); each sentence is normalized with datatrove's `simplify_text`
//! (lowercase, digits → `0`, punctuation → space, accents removed); every window of
//! `n_sentences` consecutive normalized sentences, joined with a space, is hashed (unless it is
//! blank). Documents with fewer than `n_sentences` sentences have no windows.
//!
//! The decider walks the windows in input order: a window whose hash was seen before (in an
//! earlier document, or earlier in the same one) is a duplicate, so the first occurrence of
//! every span stays. The transform then removes, from each document with duplicates, the
//! sentence where each duplicate window starts and the `n_sentences − 1` after it (datatrove's
//! `remove_dup_sentences`: sentences as `span_tokenize` gives them, each with the whitespace
//! before it; the rest joined and left-stripped). A document that changed is kept only if it
//! still has `min_doc_words` words and `min_num_sentences` sentences (datatrove's word and
//! sentence splitting; 0 turns a check off) and is not empty; an unchanged document is kept
//! unless it is empty.
//!
//! With `min_words_to_remove_span` > 0, a removed span shorter than that many words is put
//! back, as datatrove does it: only the first sentence of the run of removed sentences is
//! put back (datatrove's `removed_span` holds only that sentence).
//!
//! Index (`index`, datatrove's `SentenceDedupBuildIndex` + `index_folder`): the spans of the
//! documents of these local JSONL/Parquet files (field `index_text_field`), hashed the same
//! way. With an index and `only_dedup_in_index = true` (datatrove's default) only spans found
//! in the index are removed; with `false`, spans in the index and spans seen earlier in the
//! input. Without an index, `only_dedup_in_index` has no effect.
//!
//! Drop reasons: `min_doc_words`, `min_num_sentences`, `empty_after_dedup` (a changed text
//! left empty) and `empty_text` (an empty input document, which datatrove drops too).
//! Counters (datatrove's stat names): `removed_sentences`, `original_sentences` (of the
//! documents that had duplicates).
//!
//! Parameters (datatrove's `SentDedupConfig` names and defaults): `n_sentences` (3),
//! `split_sentences` (true), `only_dedup_in_index` (true), `min_doc_words` (50),
//! `min_num_sentences` (3), `min_words_to_remove_span` (0), `hash_precision` (64) and
//! `hash_fc` (`"xxhash"`) (datatrove's `hash_config`), `language` (`"en"`, the constructor's
//! `language`: the word tokenizer datatrove assigns to it), `index` (`[]`), `index_text_field`
//! (`"text"`). `norm_config` is datatrove's default `TextNormConfig`.
//!
//! What a datatrove user sees differently (checked document for document against datatrove
//! 0.10.1 on its own test corpus and on real text, `tests/golden/sentence_dedup/`):
//! - which copy stays: datamill keeps the first occurrence in input order, datatrove the one
//!   with the smallest document index *within its task*, then the lowest task: equal with one
//!   signature task, and datamill's result does not depend on the task or worker count;
//! - sentence positions are 32-bit (datatrove stores them as `uint16` and fails on a document
//!   with more than 65,535 sentences);
//! - `excluded/` holds the original text of dropped documents (datatrove's exclusion writer
//!   gets the text with `>>>` / `<<<` around the removed spans, and also receives kept
//!   documents that changed).
//!
//! Memory: 8 bytes (and hash-set overhead) per distinct span while deciding, plus the
//! duplicate positions; the transform holds the duplicate positions.
//!
//! ```toml
//! [[stage]]
//! type = "sentence_dedup"
//!
//! [[stage]]
//! type = "sentence_dedup"
//! n_sentences = 3
//! min_doc_words = 50
//! index = ["previous_crawl.jsonl.zst"]
//! only_dedup_in_index = false
//! ```

use crate::dedup::pack;
use crate::dedup::text::datatrove::{HashConfig, simplify_text};
use crate::{BuildCx, StageSpec, Step};
use datamill_core::codec::{Dec, Enc};
use datamill_core::{
    DecideCx, Decider, Doc, DocRef, GlobalStage, Stage, StageCx, StageError, Verdict, Verdicts,
};
use datamill_filters::lang::WordTokenizer;
use datamill_filters::pystr;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};

fn three() -> usize {
    3
}
fn fifty() -> usize {
    50
}
fn sixty_four() -> u32 {
    64
}
fn xxhash() -> String {
    "xxhash".into()
}
fn en() -> String {
    "en".into()
}
fn text() -> String {
    "text".into()
}

/// The `sentence_dedup` stage's configuration (datatrove's `SentDedupConfig`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentenceDedup {
    /// Sentences per span.
    #[serde(default = "three")]
    pub n_sentences: usize,
    /// Sentences from the word tokenizer (else lines).
    #[serde(default = "crate::yes")]
    pub split_sentences: bool,
    /// With an index, remove only spans found in it.
    #[serde(default = "crate::yes")]
    pub only_dedup_in_index: bool,
    /// Words a changed document needs to stay (0: no check).
    #[serde(default = "fifty")]
    pub min_doc_words: usize,
    /// Sentences a changed document needs to stay (0: no check).
    #[serde(default = "three")]
    pub min_num_sentences: usize,
    /// A removed span with fewer words is put back (0: never).
    #[serde(default)]
    pub min_words_to_remove_span: usize,
    /// Hash width, 32 or 64 bits.
    #[serde(default = "sixty_four")]
    pub hash_precision: u32,
    /// `"xxhash"` or `"sha1"`.
    #[serde(default = "xxhash")]
    pub hash_fc: String,
    /// The language whose datatrove word tokenizer splits sentences and counts words.
    #[serde(default = "en")]
    pub language: String,
    /// Local files whose spans form the index.
    #[serde(default)]
    pub index: Vec<String>,
    /// The text field of the index files' documents.
    #[serde(default = "text")]
    pub index_text_field: String,
}

impl StageSpec for SentenceDedup {
    fn build(&self, cx: &BuildCx) -> Result<Step, StageError> {
        if self.n_sentences == 0 {
            return Err(StageError::config("n_sentences", "must be at least 1"));
        }
        let hash = HashConfig::new(self.hash_precision, &self.hash_fc)?;
        let tok = datamill_filters::lang::word_tokenizer(&self.language)
            .map_err(|e| StageError::config("language", e.to_string()))?;
        if matches!(tok, WordTokenizer::IndicNlp(_)) && self.split_sentences {
            return Err(StageError::config(
                "language",
                format!(
                    "{:?}: datatrove splits its sentences with the Indic NLP Library, whose \
                     sentence spans sentence_dedup does not reproduce yet; use \
                     split_sentences = false (lines)",
                    self.language
                ),
            ));
        }
        let index = self
            .index
            .iter()
            .map(|p| crate::dedup::resolve(&cx.base_dir, p))
            .collect::<Vec<_>>();
        Ok(Step::Global(Box::new(Built {
            cfg: self.clone(),
            hash,
            tok,
            index,
        })))
    }
}

struct Built {
    cfg: SentenceDedup,
    hash: HashConfig,
    tok: WordTokenizer,
    index: Vec<std::path::PathBuf>,
}

impl Built {
    /// datatrove's `get_hashes`: (hash, window position) of each non-blank window.
    fn hashes(&self, text: &str) -> Vec<(u64, u32)> {
        let sents: Vec<&str> = if self.cfg.split_sentences {
            self.tok.sent_tokenize(text)
        } else {
            pystr::splitlines(text)
        };
        let n = self.cfg.n_sentences;
        if sents.len() < n {
            return Vec::new();
        }
        let simple: Vec<String> = sents.iter().map(|s| simplify_text(s)).collect();
        simple
            .windows(n)
            .enumerate()
            .filter_map(|(i, w)| {
                let gram = w.join(" ");
                (!pystr::strip(&gram).is_empty()).then(|| (self.hash.hash(&gram), i as u32))
            })
            .collect()
    }
}

impl GlobalStage for Built {
    fn summarize(&self, doc: &Doc, out: &mut Vec<u8>) -> Result<(), StageError> {
        for (h, i) in self.hashes(doc.text()) {
            out.extend_from_slice(&h.to_le_bytes());
            out.extend_from_slice(&i.to_le_bytes());
        }
        Ok(())
    }

    fn decider(&self, _: &DecideCx) -> Result<Box<dyn Decider + '_>, StageError> {
        let mut index = HashSet::default();
        for p in &self.index {
            crate::reference::for_each_doc(p.clone(), &self.cfg.index_text_field, "id", &mut |d| {
                index.extend(self.hashes(d.text()).into_iter().map(|(h, _)| h));
                Ok(())
            })
            .map_err(|e| StageError::config("index", e))?;
        }
        Ok(Box::new(Decide {
            st: self,
            with_index: !self.index.is_empty(),
            index,
            seen: HashSet::default(),
            dups: Vec::new(),
        }))
    }

    fn transform(&self, state: &[u8]) -> Result<Box<dyn Stage + '_>, StageError> {
        let mut d = Dec::new(state, "sentence_dedup decision");
        let n = d.len(12)?;
        let mut dups = HashMap::with_capacity(n);
        for _ in 0..n {
            let at = d.u64()?;
            let k = d.len(4)?;
            let mut v = Vec::with_capacity(k);
            for _ in 0..k {
                v.push(d.u32()?);
            }
            dups.insert(at, v);
        }
        d.end()?;
        Ok(Box::new(Apply { st: self, dups }))
    }
}

type Set = HashSet<u64, foldhash::fast::FixedState>;

struct Decide<'a> {
    st: &'a Built,
    with_index: bool,
    index: Set,
    seen: Set,
    /// (document, positions of its duplicate windows, ascending), in input order.
    dups: Vec<(u64, Vec<u32>)>,
}

impl Decider for Decide<'_> {
    fn observe(&mut self, at: DocRef, summary: &[u8], _: &mut Verdicts) -> Result<(), StageError> {
        if !summary.len().is_multiple_of(12) {
            return Err(StageError::Other(
                "sentence_dedup: a summary of the wrong size".into(),
            ));
        }
        let mut mine = Vec::new();
        for c in summary.chunks_exact(12) {
            let h = u64::from_le_bytes(c[..8].try_into().expect("8 bytes"));
            let i = u32::from_le_bytes(c[8..].try_into().expect("4 bytes"));
            // datatrove's SentenceFindDedups: a hash popped after an equal one is written
            // when the earlier one is from the index, or there is no index, or
            // only_dedup_in_index is off.
            let dup = if self.with_index {
                self.index.contains(&h)
                    || (!self.st.cfg.only_dedup_in_index && self.seen.contains(&h))
            } else {
                self.seen.contains(&h)
            };
            self.seen.insert(h);
            if dup {
                mine.push(i);
            }
        }
        if !mine.is_empty() {
            mine.sort_unstable();
            self.dups.push((pack(at), mine));
        }
        Ok(())
    }

    fn finish(&mut self, _: &mut Verdicts) -> Result<Option<Vec<u8>>, StageError> {
        self.seen = Set::default();
        let mut e = Enc::default();
        e.len(self.dups.len());
        for (at, v) in &self.dups {
            e.u64(*at);
            e.len(v.len());
            for &i in v {
                e.u32(i);
            }
        }
        Ok(Some(e.finish()))
    }
}

/// The transform: removes the duplicate spans of each document.
struct Apply<'a> {
    st: &'a Built,
    dups: HashMap<u64, Vec<u32>>,
}

impl Apply<'_> {
    /// datatrove's `remove_dup_sentences`: the text with the spans starting at `dups`
    /// removed (left-stripped), the number of sentences and the number kept.
    fn remove(&self, text: &str, dups: &[u32]) -> (String, usize, usize) {
        let cfg = &self.st.cfg;
        let pieces: Vec<&str> = if cfg.split_sentences {
            let mut last = 0usize;
            self.st
                .tok
                .span_tokenize(text)
                .into_iter()
                .map(|(_, b)| {
                    // each sentence with the whitespace before it
                    let p = &text[last.min(b)..b];
                    last = b;
                    p
                })
                .collect()
        } else {
            pystr::splitlines(text)
        };
        let mut kept: Vec<&str> = Vec::with_capacity(pieces.len());
        let mut removed: Vec<&str> = Vec::new();
        let mut du = 0usize;
        let mut drop_until = 0usize;
        let put_back = |removed: &[&str]| {
            cfg.min_words_to_remove_span > 0
                && self.st.tok.words(&removed.join("\n")).len() < cfg.min_words_to_remove_span
        };
        for (idx, &p) in pieces.iter().enumerate() {
            if du < dups.len() && dups[du] as usize == idx {
                drop_until = idx + cfg.n_sentences;
                du += 1;
            }
            if idx >= drop_until {
                if !removed.is_empty() {
                    if put_back(&removed) {
                        kept.extend(removed.iter().copied());
                    }
                    removed.clear();
                }
                kept.push(p);
            } else if removed.is_empty() {
                removed.push(p);
            }
        }
        if !removed.is_empty() && put_back(&removed) {
            kept.extend(removed.iter().copied());
        }
        let joined = kept.join(if cfg.split_sentences { "" } else { "\n" });
        (pystr::lstrip(&joined).to_string(), pieces.len(), kept.len())
    }
}

impl Stage for Apply<'_> {
    fn process(&self, doc: &mut Doc, cx: &mut StageCx) -> Result<Verdict, StageError> {
        let Some(at) = cx.doc_ref() else {
            return Err(StageError::Other(
                "sentence_dedup needs the document's position (run it through the executor)".into(),
            ));
        };
        let Some(dups) = self.dups.get(&pack(at)) else {
            if doc.text().is_empty() {
                return Ok(Verdict::drop("empty_text"));
            }
            return Ok(Verdict::Keep);
        };
        let (new, n, kept) = self.remove(doc.text(), dups);
        if kept < n {
            cx.count("removed_sentences", (n - kept) as u64);
        }
        cx.count("original_sentences", n as u64);
        if new == doc.text() {
            return Ok(if new.is_empty() {
                Verdict::drop("empty_text")
            } else {
                Verdict::Keep
            });
        }
        let cfg = &self.st.cfg;
        if new.is_empty() {
            return Ok(Verdict::drop("empty_after_dedup"));
        }
        if cfg.min_doc_words > 0 && self.st.tok.words(&new).len() < cfg.min_doc_words {
            return Ok(Verdict::drop("min_doc_words"));
        }
        if cfg.min_num_sentences > 0 && self.st.tok.sentence_count(&new) < cfg.min_num_sentences {
            return Ok(Verdict::drop("min_num_sentences"));
        }
        doc.set_text(new);
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fate, run};

    fn build(src: &str, base: &std::path::Path) -> Result<Step, StageError> {
        let c: SentenceDedup = toml::from_str(src).unwrap();
        c.build(&BuildCx {
            seed: 0,
            base_dir: base.to_path_buf(),
        })
    }

    fn outcome(src: &str, texts: &[&str], base: &std::path::Path) -> Vec<Result<String, String>> {
        let Step::Global(g) = build(src, base).unwrap() else {
            panic!("global")
        };
        let docs = texts
            .iter()
            .enumerate()
            .map(|(i, t)| Doc::new(format!("d{i}"), *t))
            .collect();
        let (fates, _) = run(&*g, docs, 2, &DecideCx::default());
        fates
            .into_iter()
            .map(|f| match f {
                Fate::Kept(d) => Ok(d.text().to_string()),
                Fate::Dropped(r) => Err(r),
            })
            .collect()
    }

    #[test]
    fn first_occurrence_stays_and_checks_apply_to_changed_documents() {
        let dir = tempfile::tempdir().unwrap();
        let loose = "min_doc_words = 0\nmin_num_sentences = 0";
        let a = "One fish. Two fish. Red fish. Blue fish.";
        let b = "Intro here. One fish. Two fish. Red fish. Outro.";
        let out = outcome(loose, &[a, b, a, ""], dir.path());
        assert_eq!(out[0].as_deref(), Ok(a));
        assert_eq!(out[1].as_deref(), Ok("Intro here. Outro."));
        assert_eq!(out[2], Err("empty_after_dedup".into()));
        assert_eq!(out[3], Err("empty_text".into()));
        // defaults: a changed document needs 50 words and 3 sentences
        let out = outcome("", &[a, b], dir.path());
        assert_eq!(out[0].as_deref(), Ok(a));
        assert_eq!(out[1], Err("min_doc_words".into()));
        let out = outcome("min_doc_words = 1", &[a, b], dir.path());
        assert_eq!(out[1], Err("min_num_sentences".into()));
        // a span repeated inside one document
        let c = "Red cat. Blue dog. Green owl. Red cat. Blue dog. Green owl. Grey fox.";
        let out = outcome(loose, &[c], dir.path());
        assert_eq!(
            out[0].as_deref(),
            Ok("Red cat. Blue dog. Green owl. Grey fox.")
        );
    }

    #[test]
    fn index_spans_only_by_default() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("ix.jsonl"),
            "{\"text\": \"Old one. Old two. Old three.\"}\n",
        )
        .unwrap();
        let a = "New one. New two. New three. Old one. Old two. Old three.";
        let src = "min_doc_words = 0\nmin_num_sentences = 0\nindex = [\"ix.jsonl\"]";
        let out = outcome(src, &[a, a], dir.path());
        assert_eq!(out[0].as_deref(), Ok("New one. New two. New three."));
        assert_eq!(out[1].as_deref(), Ok("New one. New two. New three."));
        let out = outcome(
            &format!("{src}\nonly_dedup_in_index = false"),
            &[a, a],
            dir.path(),
        );
        assert_eq!(out[0].as_deref(), Ok("New one. New two. New three."));
        assert_eq!(out[1], Err("empty_after_dedup".into()));
    }

    #[test]
    fn bad_parameters_are_named() {
        let dir = tempfile::tempdir().unwrap();
        for (src, param) in [
            ("n_sentences = 0", "n_sentences"),
            ("hash_precision = 16", "hash_precision"),
            ("hash_fc = \"md5\"", "hash_fc"),
            ("language = \"xx_Nope\"", "language"),
        ] {
            let e = build(src, dir.path()).err().expect(src).to_string();
            assert!(e.contains(param), "{src}: {e}");
        }
        std::fs::write(dir.path().join("bad.jsonl"), "{\"text\": 1}\n").unwrap();
        for file in ["bad.jsonl", "missing.jsonl"] {
            let src = format!("index = [\"{file}\"]");
            let Step::Global(g) = build(&src, dir.path()).unwrap() else {
                panic!()
            };
            let e = g.decider(&DecideCx::default()).err().unwrap().to_string();
            assert!(e.contains(file) && e.contains("index"), "{e}");
        }
    }
}
