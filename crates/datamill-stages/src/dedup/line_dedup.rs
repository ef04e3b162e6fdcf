//! Removes lines (or paragraphs) that occur more than `max_occurrences` times across the
//! corpus, as CCNet does; the number removed per document goes to metadata.
//!
//! A global stage. Every line (`unit = "line"`, split on `\n`) or paragraph
//! (`unit = "paragraph"`, a run of non-blank lines) is normalized (`normalize`, see below)
//! and hashed with xxh3-64; units whose normalized form is empty or shorter than
//! `min_chars` characters are never counted nor removed (blank lines stay). The decider
//! counts every occurrence of every hash over the whole input (an occurrence repeated inside
//! one document counts too), then a transform rewrites each document:
//!
//! - `keep_first = false` (default; the rule of CCNet's paper and `mine.py`): every
//!   occurrence of a unit seen more than `max_occurrences` times is removed, the first one
//!   included — boilerplate goes entirely;
//! - `keep_first = true`: the first `max_occurrences` occurrences in input order stay, later
//!   ones are removed.
//!
//! The default is not byte-for-byte CCNet: it never counts blank lines, and a line repeated
//! only inside one document counts as a duplicate. `compat = "ccnet"` reproduces cc_net's
//! `dedup.py` exactly (golden-tested against cc-net 1.0.0 on real text):
//!
//! - lines are the pieces of `text.split("\n")`, blank ones included (and the empty piece
//!   after a final newline), normalized with `normalize_for_dedup` and hashed as cc_net does
//!   (the first 8 bytes of the SHA-1, little-endian);
//! - a document's lines are added as one batch: a line is a corpus duplicate when it occurs
//!   in two documents or more; `against` indexes and `save_index` count documents too;
//! - `keep_first = false` is `deduplicate_two_pass` (what `mine.py` and the paper use): every
//!   copy of a corpus duplicate goes; `keep_first = true` is the one-pass `deduplicate`: a
//!   line stays in the first document that has it;
//! - then every repeat of a line inside a document goes (its first copy stays), the kept
//!   lines are joined with `\n`; a document none of whose lines survived the corpus step is
//!   dropped (`empty_after_dedup`), one left with only blank lines is kept, and an empty
//!   document is dropped (`empty_text`), as cc_net's `DuplicatesRemover`.
//!
//! `compat = "ccnet"` fixes `unit = "line"`, `normalize = "ccnet"`, `min_chars = 0` and
//! `max_occurrences = 1` (other values are refused).
//!
//! A removed line goes with its newline; a removed paragraph with the blank lines before the
//! next kept one. The number of units removed is written to metadata field `count_field`
//! (default `dedup_lines_removed`; `""` writes nothing) on every document and counted in
//! the stage counter `lines_removed` (or `paragraphs_removed`). A document left with no
//! non-blank text is dropped with reason `empty_after_dedup`.
//!
//! Normalization (`normalize`): `"ccnet"` (default) is CCNet's `normalize_for_dedup`: strip,
//! lowercase, every Unicode digit → `0`, remove CCNet's list of 35 Unicode punctuation marks
//! and the control characters; `"whitespace"` trims, collapses whitespace and lowercases;
//! `"none"` hashes the unit as written. Units are hashed with xxh3-64 (SHA-1 truncated to 64
//! bits with `compat = "ccnet"`); a saved index is datamill's format, not a cc_net file.
//!
//! Memory: 24 bytes per counted occurrence while deciding. With a budget (`memory`, else the
//! run's `--memory`) occurrences are spilled as sorted runs to the work folder and
//! merge-counted; the result is identical. The transform then holds the set of removed
//! hashes (16–32 bytes per distinct removed unit) in memory.
//!
//! Incremental: `save_index = "path"` writes this run's counts (hash, occurrences in this
//! run) after deciding; `against = ["path", ...]` adds the counts of saved indexes, as if
//! their data came before this input: the result on new data B against A's index equals
//! deduping A followed by B, restricted to B. The indexes must have been saved with the same
//! `unit`, `normalize` and `min_chars`.
//!
//! Report: `OUT/reports/line_dedup/clusters.jsonl`, one row per removed unit for the
//! `report_top` (default 1000) most frequent ones, by count then hash: `cluster` (the hash,
//! hex), `count` (occurrences, index included), `in_index` (of which in `against` indexes),
//! `removed` (occurrences removed from this input), `example` (the unit as first written in
//! this input, cut at 500 characters) and `example_id` (its document). Sorted, and the same
//! whatever the worker count.
//!
//! Parameters: `compat`, `unit` (`"line"`), `max_occurrences` (1), `keep_first` (false), `normalize`
//! (`"ccnet"`), `min_chars` (0), `count_field` (`"dedup_lines_removed"`), `save_index`,
//! `against` (`[]`), `memory` (size, e.g. `"2GB"`), `report_top` (1000).
//!
//! ```toml
//! [[stage]]
//! type = "line_dedup"
//!
//! [[stage]]
//! type = "line_dedup"
//! unit = "paragraph"
//! max_occurrences = 3
//! keep_first = true
//! min_chars = 20
//! memory = "512MB"
//! save_index = "indexes/paragraphs-2024.idx"
//!
//! [[stage]]
//! type = "line_dedup"
//! compat = "ccnet"
//! ```

use crate::dedup::index::{Cursor, IndexReader, IndexWriter, resolve_against};
use crate::dedup::spill::{Record, Sorter};
use crate::dedup::text::{Normalize, Unit};
use crate::dedup::{pack, resolve};
use crate::{BuildCx, StageSpec, Step};
use datamill_core::ByteSize;
use datamill_core::codec::{Dec, Enc};
use datamill_core::{
    DecideCx, Decider, Doc, DocRef, GlobalStage, ReportSink, Stage, StageCx, StageError, Verdict,
    Verdicts,
};
use serde::Deserialize;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::path::PathBuf;

fn one() -> u64 {
    1
}
fn default_field() -> String {
    "dedup_lines_removed".into()
}
fn default_top() -> usize {
    1000
}
fn line() -> Unit {
    Unit::Line
}
fn ccnet() -> Normalize {
    Normalize::Ccnet
}

/// The reference whose behaviour `compat` reproduces exactly.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LineCompat {
    /// cc_net's `dedup.py` (`deduplicate` / `deduplicate_two_pass`).
    Ccnet,
}

/// The `line_dedup` stage's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineDedup {
    /// Reproduce a reference exactly (`"ccnet"`).
    pub compat: Option<LineCompat>,
    /// `"line"` or `"paragraph"`.
    #[serde(default = "line")]
    pub unit: Unit,
    /// A unit seen more than this many times is a duplicate.
    #[serde(default = "one")]
    pub max_occurrences: u64,
    /// Keep the first `max_occurrences` occurrences instead of removing all.
    #[serde(default)]
    pub keep_first: bool,
    /// How units are normalized before hashing.
    #[serde(default = "ccnet")]
    pub normalize: Normalize,
    /// Units whose normalized form has fewer characters are never removed.
    #[serde(default)]
    pub min_chars: usize,
    /// Metadata field receiving the number of units removed (`""`: none).
    #[serde(default = "default_field")]
    pub count_field: String,
    /// Where to save this run's counts.
    pub save_index: Option<String>,
    /// Saved indexes whose counts are added.
    #[serde(default)]
    pub against: Vec<String>,
    /// Memory budget of the decider (overrides `--memory`).
    pub memory: Option<ByteSize>,
    /// Rows of the cluster report.
    #[serde(default = "default_top")]
    pub report_top: usize,
}

const KIND: &str = "line_dedup";

impl LineDedup {
    fn params(&self) -> serde_json::Value {
        let mut p = serde_json::json!({
            "unit": self.unit.name(),
            "normalize": self.normalize.name(),
            "min_chars": self.min_chars,
            "hash": "xxh3_64",
        });
        if self.ccnet() {
            // Counts are documents, hashes cc_net's.
            p["hash"] = "sha1_64".into();
            p["compat"] = "ccnet".into();
        }
        p
    }

    fn ccnet(&self) -> bool {
        self.compat == Some(LineCompat::Ccnet)
    }

    /// The hashes of the counted units of `text`, with their byte ranges. With
    /// `compat = "ccnet"`: every piece of `text.split('\n')` (blank ones and the empty piece
    /// after a final newline included), hashed as cc_net's `compute_hashes`: the first 8
    /// bytes of the SHA-1 of the normalized line, little-endian.
    fn hashes(&self, text: &str) -> Vec<(u64, std::ops::Range<usize>)> {
        if self.ccnet() {
            use sha1::Digest;
            // (cc_net skips an empty document: it has no lines.)
            if text.is_empty() {
                return Vec::new();
            }
            return ccnet_lines(text)
                .map(|r| {
                    let d = sha1::Sha1::digest(self.normalize.apply(&text[r.clone()]).as_bytes());
                    (u64::from_le_bytes(d[..8].try_into().expect("8 bytes")), r)
                })
                .collect();
        }
        let mut out = Vec::new();
        for r in self.unit.split(text) {
            let n = self.normalize.apply(&text[r.clone()]);
            if n.trim().is_empty() || (self.min_chars > 0 && n.chars().count() < self.min_chars) {
                continue;
            }
            out.push((xxhash_rust::xxh3::xxh3_64(n.as_bytes()), r));
        }
        out
    }
}

/// Byte ranges of Python's `text.split("\n")`.
fn ccnet_lines(text: &str) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let mut start = 0;
    text.split('\n').map(move |l| {
        let r = start..start + l.len();
        start = r.end + 1;
        r
    })
}

/// The built stage.
struct Built {
    cfg: LineDedup,
    save_index: Option<PathBuf>,
    against: Vec<PathBuf>,
}

impl StageSpec for LineDedup {
    fn build(&self, cx: &BuildCx) -> Result<Step, StageError> {
        if self.max_occurrences == 0 {
            return Err(StageError::config("max_occurrences", "must be at least 1"));
        }
        if self.ccnet() {
            let fixed = [
                ("unit", self.unit != Unit::Line, "\"line\""),
                ("normalize", self.normalize != Normalize::Ccnet, "\"ccnet\""),
                ("min_chars", self.min_chars != 0, "0"),
                ("max_occurrences", self.max_occurrences != 1, "1"),
            ];
            if let Some((param, _, want)) = fixed.iter().find(|f| f.1) {
                return Err(StageError::config(
                    *param,
                    format!(
                        "compat = \"ccnet\" hashes lines as cc_net does: leave it unset or {want}"
                    ),
                ));
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

impl GlobalStage for Built {
    fn summarize(&self, doc: &Doc, out: &mut Vec<u8>) -> Result<(), StageError> {
        for (h, _) in self.cfg.hashes(doc.text()) {
            out.extend_from_slice(&h.to_le_bytes());
        }
        Ok(())
    }

    fn decider(&self, cx: &DecideCx) -> Result<Box<dyn Decider + '_>, StageError> {
        let budget = self.cfg.memory.map(|b| b.0).or(cx.memory_budget);
        let work = if cx.work_dir.as_os_str().is_empty() {
            std::env::temp_dir().join(format!("datamill-line-dedup-{}", std::process::id()))
        } else {
            cx.work_dir.clone()
        };
        let mut against = Vec::new();
        for p in &self.against {
            let r = IndexReader::open(p, KIND)?;
            r.expect_params(&self.cfg.params(), "against")?;
            against.push(Cursor::new(r, |b: &[u8]| {
                (
                    u64::from_le_bytes(b[..8].try_into().expect("8 bytes")),
                    u64::from_le_bytes(b[8..16].try_into().expect("8 bytes")),
                )
            })?);
        }
        Ok(Box::new(Decide {
            st: self,
            sorter: Sorter::new("line_dedup", budget, &work),
            against,
            work,
        }))
    }

    fn transform(&self, state: &[u8]) -> Result<Box<dyn Stage + '_>, StageError> {
        let mut d = Dec::new(state, "line_dedup decision");
        let rows = Row::decode_all(&mut d)?;
        let removal = match d.u8()? {
            0 => {
                let n = d.len(8)?;
                let mut set = HashSet::with_capacity_and_hasher(n, Default::default());
                for _ in 0..n {
                    set.insert(d.u64()?);
                }
                Removal::All(set)
            }
            _ => {
                let n = d.len(9)?;
                let mut map = HashMap::with_capacity_and_hasher(n, Default::default());
                for _ in 0..n {
                    let h = d.u64()?;
                    let cut = match d.u8()? {
                        0 => None,
                        _ => Some((d.u64()?, d.u32()?)),
                    };
                    map.insert(h, cut);
                }
                Removal::After(map)
            }
        };
        d.end()?;
        let want = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.first, i as u32))
            .collect();
        Ok(Box::new(Apply {
            cfg: &self.cfg,
            removal,
            want,
        }))
    }

    /// Writes `clusters.jsonl`: the rows the decision chose, with the examples the transform
    /// noted (slot, document id, text) while it saw each row's first occurrence.
    fn finish_report(
        &self,
        state: &[u8],
        notes: &[Vec<u8>],
        report: &ReportSink,
    ) -> Result<(), StageError> {
        let rows = Row::decode_all(&mut Dec::new(state, "line_dedup decision"))?;
        let mut got: Vec<Option<(String, String)>> = vec![None; rows.len()];
        for n in notes {
            let mut d = Dec::new(n, "line_dedup report note");
            let slot = d.u32()? as usize;
            let (id, ex) = (d.str()?, d.str()?);
            d.end()?;
            let g = got
                .get_mut(slot)
                .ok_or_else(|| StageError::Other("line_dedup report note: no such row".into()))?;
            g.get_or_insert((id, ex));
        }
        let mut w = report.jsonl("clusters.jsonl")?;
        for (r, g) in rows.iter().zip(&got) {
            w.write(&r.json(g.as_ref()))?;
        }
        w.finish()
    }
}

/// One occurrence: hash, then input position (document, unit ordinal).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Occ {
    hash: u64,
    pos: u64,
    ord: u32,
}

impl Record for Occ {
    const SIZE: usize = 20;
    fn encode(&self, o: &mut [u8]) {
        o[..8].copy_from_slice(&self.hash.to_be_bytes());
        o[8..16].copy_from_slice(&self.pos.to_be_bytes());
        o[16..20].copy_from_slice(&self.ord.to_be_bytes());
    }
    fn decode(b: &[u8]) -> Self {
        Occ {
            hash: u64::from_be_bytes(b[..8].try_into().expect("8 bytes")),
            pos: u64::from_be_bytes(b[8..16].try_into().expect("8 bytes")),
            ord: u32::from_be_bytes(b[16..20].try_into().expect("4 bytes")),
        }
    }
}

struct Decide<'a> {
    st: &'a Built,
    sorter: Sorter<Occ>,
    against: Vec<Cursor<(u64, u64)>>,
    work: PathBuf,
}

/// One row of the report.
#[derive(Clone, Debug)]
struct Row {
    hash: u64,
    count: u64,
    in_index: u64,
    removed: u64,
    first: (u64, u32),
}

impl Row {
    fn encode_all(rows: &[Row], e: &mut Enc) {
        e.len(rows.len());
        for r in rows {
            e.u64(r.hash);
            e.u64(r.count);
            e.u64(r.in_index);
            e.u64(r.removed);
            e.u64(r.first.0);
            e.u32(r.first.1);
        }
    }

    fn decode_all(d: &mut Dec) -> Result<Vec<Row>, StageError> {
        let n = d.len(44)?;
        (0..n)
            .map(|_| {
                Ok(Row {
                    hash: d.u64()?,
                    count: d.u64()?,
                    in_index: d.u64()?,
                    removed: d.u64()?,
                    first: (d.u64()?, d.u32()?),
                })
            })
            .collect()
    }

    fn json(&self, example: Option<&(String, String)>) -> serde_json::Value {
        serde_json::json!({
            "cluster": format!("{:016x}", self.hash),
            "count": self.count,
            "in_index": self.in_index,
            "removed": self.removed,
            "example": example.map(|e| &e.1),
            "example_id": example.map(|e| &e.0),
        })
    }
}

/// Which occurrences of a duplicate hash go: all, or those after a position.
enum Removal {
    All(HashSet<u64, foldhash::fast::FixedState>),
    After(HashMap<u64, Option<(u64, u32)>, foldhash::fast::FixedState>),
}

impl Decider for Decide<'_> {
    fn observe(&mut self, at: DocRef, summary: &[u8], _: &mut Verdicts) -> Result<(), StageError> {
        if !summary.len().is_multiple_of(8) {
            return Err(StageError::Other(format!(
                "line_dedup: corrupt summary of {} bytes",
                summary.len()
            )));
        }
        let pos = pack(at);
        for (i, c) in summary.chunks_exact(8).enumerate() {
            let hash = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            self.sorter.push(Occ {
                hash,
                pos,
                ord: i as u32,
            })?;
        }
        Ok(())
    }

    fn finish(&mut self, _: &mut Verdicts) -> Result<Option<Vec<u8>>, StageError> {
        let cfg = &self.st.cfg;
        let sorter = std::mem::replace(&mut self.sorter, Sorter::new("unused", None, &self.work));
        let mut sorted = sorter.finish()?;
        let mut index = match &self.st.save_index {
            Some(p) => Some(IndexWriter::create(p, KIND, 16, cfg.params())?),
            None => None,
        };
        let mut removal = if cfg.keep_first {
            Removal::After(HashMap::default())
        } else {
            Removal::All(HashSet::default())
        };
        // Top rows by (count desc, hash asc): a min-heap on that order.
        let mut top: BinaryHeap<std::cmp::Reverse<(u64, std::cmp::Reverse<u64>, usize)>> =
            BinaryHeap::new();
        let mut rows: Vec<Row> = Vec::new();
        let max = cfg.max_occurrences;

        let mut next = sorted.next_record()?;
        while let Some(first) = next {
            // One group: every new occurrence of `first.hash`, in input order.
            let hash = first.hash;
            let mut in_index = 0u64;
            for c in &mut self.against {
                if let Some((_, n)) = c.seek(&hash, |r| r.0)? {
                    in_index += n;
                }
            }
            let allowed_new = if cfg.keep_first {
                max.saturating_sub(in_index)
            } else {
                0
            };
            let mut n = 0u64;
            let mut docs = 0u64;
            let mut cutoff = None;
            let mut cur = Some(first);
            let mut last_doc = None;
            while let Some(o) = cur.filter(|o| o.hash == hash) {
                n += 1;
                if last_doc != Some(o.pos) {
                    docs += 1;
                    last_doc = Some(o.pos);
                }
                if n == allowed_new {
                    cutoff = Some((o.pos, o.ord));
                }
                cur = sorted.next_record()?;
            }
            next = cur;
            // cc_net adds a document's hashes as one batch: a line is a corpus duplicate
            // when it is in two documents, whatever its repeats inside one.
            let n_counted = if cfg.ccnet() { docs } else { n };
            if let Some(w) = &mut index {
                let mut rec = [0u8; 16];
                rec[..8].copy_from_slice(&hash.to_le_bytes());
                rec[8..].copy_from_slice(&n_counted.to_le_bytes());
                w.write(&rec)?;
            }
            let count = n_counted + in_index;
            if count <= max {
                continue;
            }
            let removed = match &mut removal {
                Removal::All(s) => {
                    s.insert(hash);
                    n
                }
                Removal::After(m) => {
                    m.insert(hash, cutoff);
                    n - allowed_new.min(n)
                }
            };
            if removed == 0 || cfg.report_top == 0 {
                continue;
            }
            let key = (count, std::cmp::Reverse(hash));
            let row = Row {
                hash,
                count,
                in_index,
                removed,
                first: (first.pos, first.ord),
            };
            if top.len() < cfg.report_top {
                top.push(std::cmp::Reverse((key.0, key.1, rows.len())));
                rows.push(row);
            } else if let Some(std::cmp::Reverse((c, h, slot))) = top.peek().copied()
                && (count, std::cmp::Reverse(hash)) > (c, h)
            {
                top.pop();
                rows[slot] = row;
                top.push(std::cmp::Reverse((key.0, key.1, slot)));
            }
        }
        if let Some(w) = index {
            w.finish()?;
        }
        rows.sort_by(|a, b| b.count.cmp(&a.count).then(a.hash.cmp(&b.hash)));
        // The decision: the report's rows (the report is written once the transform has
        // seen each row's first occurrence), then what to remove, sorted by hash.
        let mut e = Enc::default();
        Row::encode_all(&rows, &mut e);
        match removal {
            Removal::All(set) => {
                let mut v: Vec<u64> = set.into_iter().collect();
                v.sort_unstable();
                e.u8(0);
                e.len(v.len());
                for h in v {
                    e.u64(h);
                }
            }
            Removal::After(map) => {
                let mut v: Vec<(u64, Option<(u64, u32)>)> = map.into_iter().collect();
                v.sort_unstable();
                e.u8(1);
                e.len(v.len());
                for (h, cut) in v {
                    e.u64(h);
                    match cut {
                        None => e.u8(0),
                        Some((p, o)) => {
                            e.u8(1);
                            e.u64(p);
                            e.u32(o);
                        }
                    }
                }
            }
        }
        Ok(Some(e.finish()))
    }
}

/// The transform: removes the duplicate units of each document, and notes the text of each
/// report row's first occurrence.
struct Apply<'a> {
    cfg: &'a LineDedup,
    removal: Removal,
    /// Report row of each first occurrence (document, unit ordinal).
    want: HashMap<(u64, u32), u32>,
}

impl Apply<'_> {
    /// Notes the text of a report row's first occurrence.
    fn note_example(
        &self,
        pos: Option<u64>,
        ord: u32,
        doc: &Doc,
        r: &std::ops::Range<usize>,
        cx: &mut StageCx,
    ) {
        if let Some(p) = pos
            && let Some(&slot) = self.want.get(&(p, ord))
        {
            let ex: String = doc.text()[r.clone()].trim().chars().take(500).collect();
            let mut note = Enc::default();
            note.u32(slot);
            note.str(doc.id());
            note.str(&ex);
            cx.note(note.finish());
        }
    }

    /// Whether the occurrence of `h` at (document, ordinal) is removed by the decision.
    fn gone(&self, h: u64, pos: Option<u64>, ord: u32) -> bool {
        match &self.removal {
            Removal::All(s) => s.contains(&h),
            Removal::After(m) => match m.get(&h) {
                None => false,
                Some(None) => true,
                Some(Some(cut)) => (pos.unwrap_or(0), ord) > *cut,
            },
        }
    }

    /// cc_net's `DuplicatesRemover.do` + `finalize_doc`: an empty document is dropped; the
    /// lines the decision removes go, then every repeat of a line inside the document (the
    /// first copy stays); a document none of whose lines survived the first step is
    /// dropped; the kept lines are joined with `\n` (a document of blank lines stays).
    fn process_ccnet(
        &self,
        doc: &mut Doc,
        cx: &mut StageCx,
        pos: Option<u64>,
    ) -> Result<Verdict, StageError> {
        if doc.text().is_empty() {
            return Ok(Verdict::drop("empty_text"));
        }
        let hashes = self.cfg.hashes(doc.text());
        let mut seen =
            HashSet::with_capacity_and_hasher(hashes.len(), foldhash::fast::FixedState::default());
        let mut survivors = 0usize;
        let mut kept = Vec::with_capacity(hashes.len());
        for (ord, (h, r)) in hashes.iter().enumerate() {
            let ord = ord as u32;
            self.note_example(pos, ord, doc, r, cx);
            // (A line the decision removes cannot have an earlier kept copy here: the
            // decision removes every copy or every copy after the first.)
            if !self.gone(*h, pos, ord) {
                survivors += 1;
                if seen.insert(*h) {
                    kept.push(r.clone());
                }
            }
        }
        let n = (hashes.len() - kept.len()) as u64;
        if n > 0 {
            cx.count("lines_removed", n);
            if survivors == 0 {
                return Ok(Verdict::drop("empty_after_dedup"));
            }
            let text = doc.text();
            let new = kept
                .iter()
                .map(|r| &text[r.clone()])
                .collect::<Vec<_>>()
                .join("\n");
            doc.set_text(new);
        }
        if !self.cfg.count_field.is_empty() {
            doc.set(&self.cfg.count_field, &n);
        }
        Ok(Verdict::Keep)
    }
}

impl Stage for Apply<'_> {
    fn process(&self, doc: &mut Doc, cx: &mut StageCx) -> Result<Verdict, StageError> {
        let pos = cx.doc_ref().map(pack);
        if pos.is_none() && matches!(self.removal, Removal::After(_)) {
            return Err(StageError::Other(
                "line_dedup with keep_first needs the document's position (run it through the executor)".into(),
            ));
        }
        if self.cfg.ccnet() {
            return self.process_ccnet(doc, cx, pos);
        }
        let text = doc.text();
        let units = self.cfg.unit.split(text);
        let hashes = self.cfg.hashes(text);
        let mut remove = Vec::new();
        for (ord, (h, r)) in hashes.iter().enumerate() {
            let ord = ord as u32;
            self.note_example(pos, ord, doc, r, cx);
            if self.gone(*h, pos, ord) {
                remove.push(r.start);
            }
        }
        let n = remove.len() as u64;
        if n > 0 {
            let keep: Vec<bool> = units
                .iter()
                .map(|u| remove.binary_search(&u.start).is_err())
                .collect();
            let new = self.cfg.unit.rebuild(text, &units, &keep);
            cx.count(
                if self.cfg.unit == Unit::Line {
                    "lines_removed"
                } else {
                    "paragraphs_removed"
                },
                n,
            );
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

    /// Runs the stage over documents split into units of `per_unit` documents; returns the
    /// resulting texts (`None`: dropped).
    pub(crate) fn run_with(
        toml_src: &str,
        docs: &[&str],
        per_unit: usize,
        budget: Option<u64>,
        dir: &std::path::Path,
    ) -> Vec<Option<String>> {
        let cfg: LineDedup = toml::from_str(toml_src).unwrap();
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
            work_dir: dir.join("work"),
            memory_budget: budget,
            workers: 1,
        };
        let docs = docs
            .iter()
            .enumerate()
            .map(|(i, t)| Doc::new(format!("d{i}"), *t))
            .collect();
        let (fates, decided) = crate::testing::run(&*g, docs, per_unit, &cx);
        assert!(decided.transform.is_some(), "a transform");
        fates
            .iter()
            .map(|f| match f {
                crate::testing::Fate::Kept(d) => Some(d.text().to_string()),
                crate::testing::Fate::Dropped(r) => {
                    // (a drop by the decision itself would have another reason)
                    assert!(r == "empty_after_dedup" || r == "empty_text", "{r}");
                    None
                }
            })
            .collect()
    }

    fn s(x: &str) -> Option<String> {
        Some(x.to_string())
    }

    #[test]
    fn default_removes_every_occurrence() {
        let dir = tempfile::tempdir().unwrap();
        let got = run_with(
            "",
            &[
                "Home | About\nA first article.\n\nCopyright 2023",
                "home | about\nA second article.\ncopyright 2024",
                "Only boilerplate:\nHOME | ABOUT",
                "copyright 1999",
            ],
            2,
            None,
            dir.path(),
        );
        assert_eq!(
            got,
            [
                s("A first article.\n"),
                s("A second article."),
                s("Only boilerplate:"),
                None
            ]
        );
        let report = std::fs::read_to_string(dir.path().join("report/clusters.jsonl")).unwrap();
        let rows: Vec<serde_json::Value> = report
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["count"], 3);
        assert_eq!(rows[1]["count"], 3);
        let examples: HashSet<&str> = rows
            .iter()
            .map(|r| r["example"].as_str().unwrap())
            .collect();
        assert_eq!(examples, HashSet::from(["Home | About", "Copyright 2023"]));
        assert_eq!(rows.iter().filter(|r| r["example_id"] == "d0").count(), 2);
    }

    #[test]
    fn keep_first_and_max_occurrences() {
        let dir = tempfile::tempdir().unwrap();
        let docs = ["x\nsame", "same\ny\nsame", "same\nz"];
        let got = run_with("keep_first = true", &docs, 1, None, dir.path());
        assert_eq!(got, [s("x\nsame"), s("y"), s("z")]);
        let got = run_with(
            "keep_first = true\nmax_occurrences = 2",
            &docs,
            1,
            None,
            dir.path(),
        );
        assert_eq!(got, [s("x\nsame"), s("same\ny"), s("z")]);
        let got = run_with("max_occurrences = 4", &docs, 1, None, dir.path());
        assert_eq!(got, docs.map(s));
        let got = run_with("max_occurrences = 3", &docs, 1, None, dir.path());
        assert_eq!(got, [s("x"), s("y"), s("z")]);
    }

    #[test]
    fn paragraphs_and_min_chars() {
        let dir = tempfile::tempdir().unwrap();
        let docs = [
            "Intro one.\n\nShared para\nline two\n\nEnd.",
            "Shared para\nline two\n\nOther.",
        ];
        let got = run_with("unit = \"paragraph\"", &docs, 1, None, dir.path());
        assert_eq!(got, [s("Intro one.\n\nEnd."), s("Other.")]);
        let got = run_with(
            "min_chars = 9",
            &["ab\nlong enough", "ab\nlong enough"],
            1,
            None,
            dir.path(),
        );
        assert_eq!(got, [s("ab"), s("ab")]);
    }

    #[test]
    fn ccnet_compat_counts_documents_and_blank_lines() {
        let dir = tempfile::tempdir().unwrap();
        let docs = [
            "Title\n\nsame\nsame\nonly here\nonly here\n",
            "Other\n\nsame",
            "same\nsame",
            "",
            "solo\n\nsolo",
        ];
        let two = run_with("compat = \"ccnet\"", &docs, 2, None, dir.path());
        // "same" and "" (the blank line, and the empty piece after a final newline) are in
        // several documents: every copy goes; "only here" is repeated inside one document
        // only: its first copy stays; the blank line of the last document is in another.
        assert_eq!(
            two,
            [s("Title\nonly here"), s("Other"), None, None, s("solo")]
        );
        let one = run_with(
            "compat = \"ccnet\"\nkeep_first = true",
            &docs,
            2,
            None,
            dir.path(),
        );
        assert_eq!(
            one,
            [
                s("Title\n\nsame\nonly here"),
                s("Other"),
                None,
                None,
                s("solo")
            ]
        );
        let cfg: LineDedup = toml::from_str("compat = \"ccnet\"\nmin_chars = 3").unwrap();
        let e = cfg.build(&BuildCx::default()).err().unwrap();
        assert!(e.to_string().contains("min_chars"), "{e}");
    }

    /// A pseudo-random corpus with lines repeated at various rates.
    pub(crate) fn corpus(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                let mut t = String::new();
                for j in 0..6u64 {
                    let x = xxhash_rust::xxh3::xxh3_64(&((i as u64) * 31 + j).to_le_bytes());
                    let line = match x % 4 {
                        0 => format!("common line {}", x % 5),
                        1 => format!("rare line {}", x % 200),
                        _ => format!("unique line {i} {j}"),
                    };
                    t.push_str(&line);
                    t.push('\n');
                }
                t
            })
            .collect()
    }

    #[test]
    fn budget_ten_times_smaller_gives_the_same_result() {
        let docs = corpus(600);
        let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
        // 600 docs × 6 lines × 24 bytes ≈ 86 KB in memory; budget 8 KB.
        for cfg in ["", "keep_first = true\nmax_occurrences = 2"] {
            let a = tempfile::tempdir().unwrap();
            let b = tempfile::tempdir().unwrap();
            let mem = run_with(cfg, &refs, 50, None, a.path());
            let disk = run_with(cfg, &refs, 50, Some(8 << 10), b.path());
            assert_eq!(mem, disk);
            assert!(
                mem.iter().any(|d| d.as_deref() != Some(refs[0])),
                "something was removed"
            );
            let ra = std::fs::read(a.path().join("report/clusters.jsonl")).unwrap();
            let rb = std::fs::read(b.path().join("report/clusters.jsonl")).unwrap();
            assert_eq!(ra, rb);
            assert!(!ra.is_empty());
        }
    }

    #[test]
    fn against_a_saved_index_equals_deduping_both_restricted_to_the_new_part() {
        let docs = corpus(300);
        let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
        let (old, new) = refs.split_at(180);
        for cfg in [
            "",
            "keep_first = true\nmax_occurrences = 2",
            "max_occurrences = 3",
        ] {
            let dir = tempfile::tempdir().unwrap();
            let together = run_with(cfg, &refs, 40, None, dir.path());
            let save = format!("{cfg}\nsave_index = \"a.idx\"");
            run_with(&save, old, 40, None, dir.path());
            let against = format!("{cfg}\nagainst = [\"a.idx\"]");
            let got = run_with(&against, new, 40, Some(4 << 10), dir.path());
            assert_eq!(got, together[180..], "{cfg}");
        }
        let dir = tempfile::tempdir().unwrap();
        run_with("save_index = \"a.idx\"", old, 40, None, dir.path());
        let cfg: LineDedup = toml::from_str("against = [\"a.idx\"]\nnormalize = \"none\"").unwrap();
        let e = cfg
            .build(&BuildCx {
                seed: 0,
                base_dir: dir.path().to_path_buf(),
            })
            .err()
            .unwrap();
        assert!(
            e.to_string().contains("normalize = \"ccnet\" in the index"),
            "{e}"
        );
    }
}
