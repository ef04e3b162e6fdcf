//! Drops a document whose normalized text (or field) was seen before; the first occurrence in
//! input order wins, or the one of highest priority.
//!
//! A global stage: every document is summarized by the 128-bit xxh3 hash of its normalized
//! content (and its id, for the report), one pass over the summaries in input order keeps the
//! first document of each hash and drops the others with reason `duplicate`. The result does
//! not depend on the worker count. Normalization (both on by default): `lowercase` lowercases
//! (Unicode), and `collapse_whitespace` trims the text and turns every run of whitespace into
//! one space, so documents differing only in case or spacing count as duplicates. With
//! `field`, the value of that metadata field is hashed instead of the text (URL dedup, say);
//! documents without the field are never duplicates.
//!
//! Memory: about 40 bytes per document plus its id while deciding. With a budget (`memory`,
//! else the run's `--memory`) the (hash, position) pairs are spilled as sorted runs to the
//! work folder and merged, ids go to a scratch file, and the verdicts are identical: the
//! first position of each hash wins either way.
//!
//! Incremental: `save_index = "path"` writes the distinct hashes of this run's documents
//! after deciding; `against = ["path", ...]` drops, with reason `duplicate_in_index`, every
//! document whose hash is in one of those saved indexes (each is streamed and merge-joined
//! with the sorted hashes, so it costs no memory). New data B against A's index keeps exactly
//! the documents that deduping A followed by B keeps from B. Indexes must have been saved
//! with the same `field`, `lowercase` and `collapse_whitespace`.
//!
//! Which member is kept: the first in input order, or, with `priority_field` (datatrove's
//! `document_priority`, read from a numeric metadata field), the one with the highest value,
//! the first in input order among equals; a document without a numeric value ranks below all
//! others. `count_field` writes to each kept document the number of documents that shared its
//! content, itself included (1 for a unique document).
//!
//! Excluded documents say what they duplicate: with `[output] excluded = true`, their
//! `excluded_by` has `duplicate_of` (the kept document's id; `null` when the hash was in a
//! saved index) and `cluster` (the hash, hex, as in the report).
//!
//! Report: `OUT/reports/exact_dedup/clusters.jsonl`, one row per hash shared by several
//! documents (or found in an index), sorted by hash: `cluster` (the hash, hex), `kept` (the
//! id kept, `null` when the hash was in an index), `members` (every document id, in input
//! order) and `in_index`.
//!
//! Parameters: `field`, `lowercase` (default true), `collapse_whitespace` (default true),
//! `priority_field`, `count_field`, `save_index`, `against` (`[]`), `memory` (size, e.g.
//! `"2GB"`).
//!
//! ```toml
//! [[stage]]
//! type = "exact_dedup"
//!
//! [[stage]]
//! type = "exact_dedup"
//! priority_field = "quality_score"
//! count_field = "duplicates"
//!
//! [[stage]]
//! type = "exact_dedup"
//! field = "url"
//! lowercase = false
//! memory = "1GB"
//! save_index = "indexes/urls-2024.idx"
//! ```

use crate::dedup::index::{Cursor, IndexReader, IndexWriter, resolve_against};
use crate::dedup::spill::{Record, Sorter};
use crate::dedup::{io_err, pack, resolve, unpack};
use crate::{BuildCx, StageSpec, Step};
use datamill_core::ByteSize;
use datamill_core::codec::{Dec, Enc};
use datamill_core::{
    DecideCx, Decider, Doc, DocRef, GlobalStage, ReportSink, Stage, StageCx, StageError, Verdict,
    Verdicts,
};
use serde::Deserialize;
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

/// The `exact_dedup` stage's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExactDedup {
    /// Hash this metadata field instead of the text.
    pub field: Option<String>,
    /// Lowercase before hashing.
    #[serde(default = "crate::yes")]
    pub lowercase: bool,
    /// Trim and collapse whitespace before hashing.
    #[serde(default = "crate::yes")]
    pub collapse_whitespace: bool,
    /// Where to save the hashes of this run.
    pub save_index: Option<String>,
    /// Saved indexes whose documents count as seen.
    #[serde(default)]
    pub against: Vec<String>,
    /// Memory budget of the decider (overrides `--memory`).
    pub memory: Option<ByteSize>,
    /// Keep the member with the highest value of this numeric metadata field (datatrove's
    /// `document_priority`) instead of the first.
    pub priority_field: Option<String>,
    /// Write to each kept document the number of documents sharing its content.
    pub count_field: Option<String>,
}

const KIND: &str = "exact_dedup";

impl StageSpec for ExactDedup {
    fn build(&self, cx: &BuildCx) -> Result<Step, StageError> {
        for (name, f) in [
            ("priority_field", &self.priority_field),
            ("count_field", &self.count_field),
        ] {
            if f.as_deref() == Some("") {
                return Err(StageError::config(name, "must not be empty"));
            }
        }
        let against = resolve_against(&cx.base_dir, &self.against, KIND, Some(&self.params()))?;
        Ok(Step::Global(Box::new(Built {
            cfg: self.clone(),
            save_index: self.save_index.as_deref().map(|p| resolve(&cx.base_dir, p)),
            against,
        })))
    }
}

impl ExactDedup {
    /// The normalized form of `s` that is hashed.
    pub fn normalize<'a>(&self, s: &'a str) -> std::borrow::Cow<'a, str> {
        let mut s = std::borrow::Cow::Borrowed(s);
        if self.collapse_whitespace {
            s = std::borrow::Cow::Owned(s.split_whitespace().collect::<Vec<_>>().join(" "));
        }
        if self.lowercase {
            s = std::borrow::Cow::Owned(s.to_lowercase());
        }
        s
    }

    fn params(&self) -> serde_json::Value {
        serde_json::json!({
            "field": self.field,
            "lowercase": self.lowercase,
            "collapse_whitespace": self.collapse_whitespace,
            "hash": "xxh3_128",
        })
    }
}

/// The built stage.
struct Built {
    cfg: ExactDedup,
    save_index: Option<PathBuf>,
    against: Vec<PathBuf>,
}

impl GlobalStage for Built {
    /// The summary: the 16-byte hash, the priority (8 bytes, with `priority_field`), then
    /// the document id (empty: no field, never a duplicate).
    fn summarize(&self, doc: &Doc, out: &mut Vec<u8>) -> Result<(), StageError> {
        let content = match &self.cfg.field {
            None => std::borrow::Cow::Borrowed(doc.text()),
            Some(f) => match doc.get_str(f) {
                Some(v) => v,
                None => return Ok(()),
            },
        };
        let h = xxhash_rust::xxh3::xxh3_128(self.cfg.normalize(&content).as_bytes());
        out.extend_from_slice(&h.to_le_bytes());
        if let Some(f) = &self.cfg.priority_field {
            let p = doc
                .get_raw(f)
                .and_then(|r| r.parse::<f64>().ok())
                .filter(|p| !p.is_nan())
                .unwrap_or(f64::NEG_INFINITY);
            out.extend_from_slice(&p.to_le_bytes());
        }
        out.extend_from_slice(doc.id().as_bytes());
        Ok(())
    }

    fn transform(&self, state: &[u8]) -> Result<Box<dyn Stage + '_>, StageError> {
        let mut d = Dec::new(state, "exact_dedup counts");
        let n = d.len(12)?;
        let mut counts = HashMap::with_capacity(n);
        for _ in 0..n {
            let at = d.u64()?;
            counts.insert(at, d.u32()?);
        }
        d.end()?;
        Ok(Box::new(WriteCount {
            counts,
            field: self.cfg.count_field.as_deref().unwrap_or("duplicates"),
        }))
    }

    fn decider(&self, cx: &DecideCx) -> Result<Box<dyn Decider + '_>, StageError> {
        let budget = self.cfg.memory.map(|b| b.0).or(cx.memory_budget);
        let work = if cx.work_dir.as_os_str().is_empty() {
            std::env::temp_dir().join(format!("datamill-exact-dedup-{}", std::process::id()))
        } else {
            cx.work_dir.clone()
        };
        let mut against = Vec::new();
        for p in &self.against {
            let r = IndexReader::open(p, KIND)?;
            r.expect_params(&self.cfg.params(), "against")?;
            against.push(Cursor::new(r, |b: &[u8]| {
                u128::from_le_bytes(b.try_into().expect("16 bytes"))
            })?);
        }
        let ids = if budget.is_some() {
            std::fs::create_dir_all(&work).map_err(|e| io_err(&work, e))?;
            Ids::file(work.join("exact_dedup-ids.bin"))?
        } else {
            Ids::memory()
        };
        Ok(Box::new(FirstWins {
            st: self,
            sorter: Sorter::new("exact_dedup", budget, &work),
            ids,
            against,
            report: cx.report.clone(),
            work,
        }))
    }
}

/// One document: hash, input position, where its id is stored, its priority (the bits of
/// an `f64`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    hash: u128,
    pos: u64,
    id_off: u64,
    id_len: u32,
    prio: u64,
}

impl Entry {
    fn priority(&self) -> f64 {
        f64::from_bits(self.prio)
    }
}

impl Record for Entry {
    const SIZE: usize = 44;
    fn encode(&self, o: &mut [u8]) {
        o[..16].copy_from_slice(&self.hash.to_be_bytes());
        o[16..24].copy_from_slice(&self.pos.to_be_bytes());
        o[24..32].copy_from_slice(&self.id_off.to_be_bytes());
        o[32..36].copy_from_slice(&self.id_len.to_be_bytes());
        o[36..44].copy_from_slice(&self.prio.to_be_bytes());
    }
    fn decode(b: &[u8]) -> Self {
        Entry {
            hash: u128::from_be_bytes(b[..16].try_into().expect("16 bytes")),
            pos: u64::from_be_bytes(b[16..24].try_into().expect("8 bytes")),
            id_off: u64::from_be_bytes(b[24..32].try_into().expect("8 bytes")),
            id_len: u32::from_be_bytes(b[32..36].try_into().expect("4 bytes")),
            prio: u64::from_be_bytes(b[36..44].try_into().expect("8 bytes")),
        }
    }
}

/// The transform of `count_field`: writes each kept document's cluster size (1 when it
/// shared its content with no other).
struct WriteCount<'a> {
    counts: HashMap<u64, u32>,
    field: &'a str,
}

impl Stage for WriteCount<'_> {
    fn process(&self, doc: &mut Doc, cx: &mut StageCx) -> Result<Verdict, StageError> {
        let n = cx
            .doc_ref()
            .and_then(|at| self.counts.get(&pack(at)))
            .copied()
            .unwrap_or(1);
        doc.set(self.field, &n);
        Ok(Verdict::Keep)
    }
}

/// Document ids, appended in input order: in memory, or in a scratch file under a budget
/// (removed when dropped).
struct Ids {
    store: Store,
    scratch: Option<PathBuf>,
}

enum Store {
    Memory(Vec<u8>),
    File(std::io::BufWriter<std::fs::File>, u64),
    Reading(std::fs::File),
    Moved,
}

impl Ids {
    fn memory() -> Ids {
        Ids {
            store: Store::Memory(Vec::new()),
            scratch: None,
        }
    }

    fn file(path: PathBuf) -> Result<Ids, StageError> {
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| io_err(&path, e))?;
        Ok(Ids {
            store: Store::File(std::io::BufWriter::new(f), 0),
            scratch: Some(path),
        })
    }

    fn path(&self) -> PathBuf {
        self.scratch.clone().unwrap_or_default()
    }

    fn append(&mut self, id: &[u8]) -> Result<u64, StageError> {
        let path = self.path();
        match &mut self.store {
            Store::Memory(v) => {
                v.extend_from_slice(id);
                Ok((v.len() - id.len()) as u64)
            }
            Store::File(w, len) => {
                w.write_all(id).map_err(|e| io_err(&path, e))?;
                *len += id.len() as u64;
                Ok(*len - id.len() as u64)
            }
            Store::Reading(_) | Store::Moved => {
                unreachable!("ids are appended before they are read")
            }
        }
    }

    fn get(&mut self, off: u64, len: u32) -> Result<String, StageError> {
        let path = self.path();
        if let Store::File(..) = self.store {
            let Store::File(w, _) = std::mem::replace(&mut self.store, Store::Moved) else {
                unreachable!()
            };
            let f = w.into_inner().map_err(|e| io_err(&path, e.into_error()))?;
            self.store = Store::Reading(f);
        }
        let bytes = match &mut self.store {
            Store::Memory(v) => v[off as usize..off as usize + len as usize].to_vec(),
            Store::Reading(f) => {
                let mut b = vec![0u8; len as usize];
                f.seek(SeekFrom::Start(off))
                    .and_then(|_| f.read_exact(&mut b))
                    .map_err(|e| io_err(&path, e))?;
                b
            }
            Store::File(..) | Store::Moved => unreachable!(),
        };
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

impl Drop for Ids {
    fn drop(&mut self) {
        if let Some(p) = &self.scratch {
            let _ = std::fs::remove_file(p);
        }
    }
}

struct FirstWins<'a> {
    st: &'a Built,
    sorter: Sorter<Entry>,
    ids: Ids,
    against: Vec<Cursor<u128>>,
    report: ReportSink,
    work: PathBuf,
}

impl Decider for FirstWins<'_> {
    fn observe(&mut self, at: DocRef, summary: &[u8], _: &mut Verdicts) -> Result<(), StageError> {
        if summary.is_empty() {
            return Ok(());
        }
        if summary.len() < 16 {
            return Err(StageError::Other(format!(
                "exact_dedup: corrupt summary of {} bytes",
                summary.len()
            )));
        }
        let hash = u128::from_le_bytes(summary[..16].try_into().expect("16 bytes"));
        let (prio, id) = if self.st.cfg.priority_field.is_some() {
            if summary.len() < 24 {
                return Err(StageError::Other(format!(
                    "exact_dedup: corrupt summary of {} bytes",
                    summary.len()
                )));
            }
            let p = f64::from_le_bytes(summary[16..24].try_into().expect("8 bytes"));
            (p, &summary[24..])
        } else {
            (0.0, &summary[16..])
        };
        let id_off = self.ids.append(id)?;
        self.sorter.push(Entry {
            hash,
            pos: pack(at),
            id_off,
            id_len: id.len() as u32,
            prio: prio.to_bits(),
        })
    }

    fn finish(&mut self, v: &mut Verdicts) -> Result<Option<Vec<u8>>, StageError> {
        let sorter = std::mem::replace(&mut self.sorter, Sorter::new("unused", None, &self.work));
        let mut sorted = sorter.finish()?;
        let mut index = match &self.st.save_index {
            Some(p) => Some(IndexWriter::create(p, KIND, 16, self.st.cfg.params())?),
            None => None,
        };
        let mut report = self.report.jsonl("clusters.jsonl")?;
        let mut members: Vec<Entry> = Vec::new();
        let mut counts: Vec<(u64, u32)> = Vec::new();
        let mut next = sorted.next_record()?;
        while let Some(first) = next {
            let hash = first.hash;
            members.clear();
            let mut cur = Some(first);
            while let Some(e) = cur.filter(|e| e.hash == hash) {
                members.push(e);
                cur = sorted.next_record()?;
            }
            next = cur;
            if let Some(w) = &mut index {
                w.write(&hash.to_le_bytes())?;
            }
            let mut in_index = false;
            for c in &mut self.against {
                in_index |= c.seek(&hash, |h| *h)?.is_some();
            }
            if members.len() == 1 && !in_index {
                continue;
            }
            // The kept member: the first of the highest priority (members are in input
            // order); none when the content is in a saved index.
            let mut kept = 0;
            for (i, m) in members.iter().enumerate() {
                if m.priority() > members[kept].priority() {
                    kept = i;
                }
            }
            let mut ids = Vec::with_capacity(members.len());
            for m in &members {
                ids.push(self.ids.get(m.id_off, m.id_len)?);
            }
            let cluster = format!("{hash:032x}");
            for (i, m) in members.iter().enumerate() {
                if in_index {
                    let d = serde_json::json!({"duplicate_of": null, "cluster": cluster});
                    v.drop_with(unpack(m.pos), "duplicate_in_index", &d);
                } else if i != kept {
                    let d = serde_json::json!({"duplicate_of": ids[kept], "cluster": cluster});
                    v.drop_with(unpack(m.pos), "duplicate", &d);
                }
            }
            if !in_index && self.st.cfg.count_field.is_some() {
                counts.push((members[kept].pos, members.len() as u32));
            }
            report.write(&serde_json::json!({
                "cluster": cluster,
                "kept": if in_index { None } else { Some(&ids[kept]) },
                "members": ids,
                "in_index": in_index,
            }))?;
        }
        if let Some(w) = index {
            w.finish()?;
        }
        report.finish()?;
        if self.st.cfg.count_field.is_none() {
            return Ok(None);
        }
        counts.sort_unstable();
        let mut e = Enc::default();
        e.len(counts.len());
        for (at, n) in counts {
            e.u64(at);
            e.u32(n);
        }
        Ok(Some(e.finish()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stage: &ExactDedup, lines: &[&str]) -> Vec<Option<String>> {
        let dir = tempfile::tempdir().unwrap();
        run_in(stage, lines, 1000, None, dir.path())
    }

    /// Decides over JSON lines split into units of `per_unit`; returns each verdict.
    fn run_in(
        stage: &ExactDedup,
        lines: &[&str],
        per_unit: usize,
        budget: Option<u64>,
        dir: &std::path::Path,
    ) -> Vec<Option<String>> {
        let Step::Global(g) = stage
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
            work_dir: dir.join("work"),
            memory_budget: budget,
            workers: 1,
        };
        let docs: Vec<Doc> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                Doc::from_json(l.to_string(), &Default::default(), || format!("n{i}")).unwrap()
            })
            .collect();
        let summaries = crate::testing::summaries(&*g, &docs);
        let decided = crate::testing::decide(&*g, &summaries, per_unit, &cx);
        assert!(decided.transform.is_none());
        decided.reasons()
    }

    fn corpus(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                let x = xxhash_rust::xxh3::xxh3_64(&(i as u64).to_le_bytes());
                let text = if x.is_multiple_of(3) {
                    format!("dup {}", x % 50)
                } else {
                    format!("unique {i}")
                };
                serde_json::json!({"id": format!("doc{i}"), "text": text}).to_string()
            })
            .collect()
    }

    #[test]
    fn budget_ten_times_smaller_gives_identical_verdicts_and_report() {
        let docs = corpus(2000);
        let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
        let s: ExactDedup = toml::from_str("").unwrap();
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        // In memory: 2000 entries × 48 bytes ≈ 96 KB (+ ids); budget 8 KB.
        let mem = run_in(&s, &refs, 100, None, a.path());
        let disk = run_in(&s, &refs, 100, Some(8 << 10), b.path());
        assert_eq!(mem, disk);
        assert!(mem.iter().filter(|v| v.is_some()).count() > 500);
        let ra = std::fs::read_to_string(a.path().join("report/clusters.jsonl")).unwrap();
        let rb = std::fs::read_to_string(b.path().join("report/clusters.jsonl")).unwrap();
        assert_eq!(ra, rb);
        assert_eq!(ra.lines().count(), 50);
        let row: serde_json::Value = serde_json::from_str(ra.lines().next().unwrap()).unwrap();
        assert_eq!(row["kept"], row["members"][0]);
        assert!(
            std::fs::read_dir(b.path().join("work"))
                .unwrap()
                .next()
                .is_none(),
            "scratch removed"
        );
    }

    #[test]
    fn against_a_saved_index_equals_deduping_both_restricted_to_the_new_part() {
        let docs = corpus(600);
        let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
        let dir = tempfile::tempdir().unwrap();
        let plain: ExactDedup = toml::from_str("").unwrap();
        let together = run_in(&plain, &refs, 64, None, dir.path());
        let save: ExactDedup = toml::from_str("save_index = \"a.idx\"").unwrap();
        run_in(&save, &refs[..350], 64, None, dir.path());
        let against: ExactDedup = toml::from_str("against = [\"a.idx\"]").unwrap();
        let got = run_in(&against, &refs[350..], 64, Some(2 << 10), dir.path());
        let kept = |v: &[Option<String>]| v.iter().map(Option::is_none).collect::<Vec<_>>();
        assert_eq!(kept(&got), kept(&together[350..]));
        assert!(
            got.iter()
                .any(|v| v.as_deref() == Some("duplicate_in_index"))
        );
        let other: ExactDedup = toml::from_str("against = [\"a.idx\"]\nlowercase = false").unwrap();
        let e = other
            .build(&BuildCx {
                seed: 0,
                base_dir: dir.path().to_path_buf(),
            })
            .err()
            .unwrap();
        assert!(
            e.to_string()
                .contains("lowercase = true in the index, false here"),
            "{e}"
        );
    }

    #[test]
    fn first_occurrence_wins_after_normalization() {
        let s: ExactDedup = toml::from_str("").unwrap();
        let got = run(
            &s,
            &[
                r#"{"text":"Hello  World"}"#,
                r#"{"text":"hello world "}"#,
                r#"{"text":"hello there"}"#,
                r#"{"text":"HELLO\nWORLD"}"#,
            ],
        );
        let dup = Some("duplicate".to_string());
        assert_eq!(got, [None, dup.clone(), None, dup]);
    }

    #[test]
    fn raw_mode_and_field_mode() {
        let s: ExactDedup =
            toml::from_str("lowercase = false\ncollapse_whitespace = false").unwrap();
        let got = run(
            &s,
            &[
                r#"{"text":"a b"}"#,
                r#"{"text":"a  b"}"#,
                r#"{"text":"a b"}"#,
            ],
        );
        assert_eq!(got, [None, None, Some("duplicate".into())]);
        let s: ExactDedup = toml::from_str("field = \"url\"").unwrap();
        let got = run(
            &s,
            &[
                r#"{"text":"1","url":"HTTP://a"}"#,
                r#"{"text":"2"}"#,
                r#"{"text":"3"}"#,
                r#"{"text":"4","url":"http://a"}"#,
            ],
        );
        assert_eq!(got, [None, None, None, Some("duplicate".into())]);
    }
}
