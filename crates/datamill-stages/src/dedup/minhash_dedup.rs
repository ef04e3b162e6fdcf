//! Removes near-duplicate documents: MinHash signatures, LSH bands, union-find clusters; one
//! document per cluster is kept.
//!
//! A global stage. Each document's text is normalized and cut into words; its word n-grams
//! ("shingles") are hashed, and `bands × rows` hash functions `(a·x + b) mod (2^61 − 1)` give
//! its MinHash signature. Two documents whose signatures agree on all `rows` values of at least
//! one band are candidates; a pair with Jaccard similarity `s` becomes a candidate with
//! probability `1 − (1 − s^rows)^bands` (14 × 8: 0.57 at s = 0.7, 0.92 at 0.8, 0.99 at 0.85).
//! Candidates are merged by union-find into clusters, and every document of a cluster but one
//! is dropped with reason `duplicate` (datatrove only counts them as `dropped`; see `against`
//! for `duplicate_in_index`).
//! Documents with fewer than `ngram` words have no shingle: they are never duplicates.
//!
//! With `verify = true`, a candidate cluster is split by true Jaccard similarity of the
//! shingle sets: its documents are visited in keep order (see `keep`); one joins the first
//! already kept document whose similarity with it is at least `threshold`, otherwise it is kept
//! too. Every dropped document then has Jaccard ≥ `threshold` with the document kept in its
//! cluster (datatrove, without verification, drops on any band collision, and chains of
//! collisions join dissimilar documents).
//!
//! The report `OUT/reports/minhash_dedup/clusters.jsonl` has one line per cluster of two or more
//! documents, in input order of their first member: `{"cluster": n, "size": k, "kept": id,
//! "members": [ids in input order]}`; `summary.json` beside it has the counts (documents,
//! signed, too short, candidate clusters, clusters, removed, Jaccard checks) and parameters.
//!
//! Parameters:
//! - `ngram` (default 5): words per shingle.
//! - `bands` (default 14), `rows` (default 8): the LSH banding (`bands × rows` hashes).
//! - `seed` (default: the pipeline's `seed`; 1 with `compat`): draws the hash parameters
//!   exactly as `numpy.random.RandomState(seed)` does for datatrove (seeds above 2^32 − 1 are
//!   folded to 32 bits).
//! - `normalize` (default `"words"`): `"words"` lowercases and takes runs of letters, digits
//!   and `_` as words; `"whitespace"` splits the raw text on whitespace; `"simplify"` applies
//!   datatrove's `simplify_text` (lowercase, numbers → `0`, punctuation → space, diacritics
//!   removed) and splits on spaces. Shingles are hashed with xxh3-64.
//! - `verify` (default false), `threshold` (default 0.8): see above.
//! - `keep` (default `"first"`): `"first"` keeps the first document of a cluster in input
//!   order, `"longest"` the one with the most characters (ties: the first); with `compat` the
//!   default is `"union_find_root"`, the document datatrove keeps (the root of its union-find:
//!   union by size, pairs in datatrove's order).
//! - `compat = "datatrove"`: datatrove 0.10.1's MinHash exactly (`MinhashConfig()` defaults):
//!   `simplify_text`, then spaCy's blank-English tokenizer (`datamill_filters::tokenizer`), word
//!   5-grams joined by one space hashed with xxh64, 14 × 8 hashes with its parameters (seed 1)
//!   and uint64 arithmetic, its bucket order and union-find; the same documents are removed as
//!   by its 4 stages with one task (checked by a golden test). `ngram`, `bands`, `rows`,
//!   `seed`, `keep` and `verify` may still be set; `normalize` may not.
//! - `hash_precision` (default 64; only with `compat = "datatrove"`): 32 is datatrove's
//!   `HashConfig(precision=32)`: shingles hashed with xxh32, each permuted hash masked to its
//!   low 32 bits before the minimum is taken, 32-bit signatures (checked by a golden test
//!   against datatrove on the neardup sample). One corner is not reproduced: datatrove's
//!   bucket step stops reading a signature file at the first band whose first hash is
//!   2^32 − 1 (`read_sigs`' `max_hash`), so such a band (all of a document's shingles masked to
//!   2^32 − 1, about one band in 4 billion) takes no part in its dedup; datamill compares it.
//! - `save_cluster_id`, `save_cluster_size` (default false; datatrove's `MinhashDedupCluster`
//!   options of those names, with `load_cluster_ids` / `load_cluster_sizes` of its filter):
//!   every kept document gets `minhash_cluster_id` (the number of its cluster, the row of
//!   `clusters.jsonl`: clusters of two or more documents numbered from 0 in input order of
//!   their first member, as datatrove numbers them with one task; -1 for a document in no
//!   cluster) and `minhash_cluster_size` (its cluster's document count, 1 when in none).
//!   Checked against datatrove's fields by the golden test.
//! - `save_index` (a path, relative to the pipeline file): after deciding, saves every signed
//!   document of this run (id, length, band keys, and the shingle set with `verify`) as a
//!   datamill index (kind `minhash`, see `dedup/index.rs`), written to a temporary name and
//!   renamed when complete.
//! - `against` (default `[]`): saved indexes whose documents count as coming *before* this
//!   input: they join the LSH and the union-find as the first documents, so new data B deduped
//!   against A's index keeps and drops exactly what one run over A followed by B keeps and
//!   drops of B, for every setting (`keep`, `verify`, `compat`; tested) — a new crawl against
//!   last year's dataset without rereading it. A document of this run whose cluster keeps a
//!   document of an index is dropped with reason `duplicate_in_index`; clusters with index
//!   documents list them under `in_index` in the report, and clusters of index documents
//!   alone are not reported. An index must come from the same `compat`, `normalize`, `ngram`,
//!   `bands`, `rows`, `seed` and `verify` (else a configuration error names the difference).
//!   Index documents cost what this run's do (their band keys are spilled like the others).
//!
//! Result and speed: the clusters do not depend on the worker count (the union-find is shared
//! by the workers, which handle one band each; a root is always linked below a smaller one, so
//! the root of a set is its first document) nor on `--memory`. Memory: the summary of a
//! document holds its id, its length and `bands` band keys of 8 bytes (`bands × rows × 8`
//! with `compat`); with `verify`, also its sorted set of 32-bit shingle hashes (4 bytes per
//! distinct shingle). While deciding, band keys are held in memory up to half the `--memory`
//! budget and spilled to the scratch folder beyond, then each band is sorted in memory or by
//! sorted runs and a merge; shingle sets and ids go to scratch files. What stays in memory is
//! about 20 bytes per document (its reference, length, union-find parent and cluster count)
//! plus the ids of the documents in clusters when the report is written.
//!
//! ```toml
//! [[stage]]
//! type = "minhash_dedup"
//!
//! [[stage]]
//! type = "minhash_dedup"
//! bands = 20
//! rows = 10
//! verify = true
//! threshold = 0.8
//! keep = "longest"
//!
//! [[stage]]
//! type = "minhash_dedup"
//! compat = "datatrove"
//!
//! [[stage]]
//! type = "minhash_dedup"
//! save_index = "indexes/crawl-2025.minhash"
//! # next year: against = ["indexes/crawl-2025.minhash"]
//! ```

mod bands;
mod hashing;
mod text;
mod uf;

use crate::{BuildCx, StageSpec, Step};
use bands::BandStore;
use datamill_core::{DecideCx, Decider, Doc, DocRef, GlobalStage, StageError, Verdicts};
use serde::Deserialize;
use std::cell::RefCell;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use text::Normalize;

/// The `minhash_dedup` stage's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinhashDedup {
    /// `"datatrove"`: reproduce datatrove 0.10.1's MinHash.
    pub compat: Option<String>,
    /// Words per shingle (default 5).
    pub ngram: Option<usize>,
    /// LSH bands (default 14).
    pub bands: Option<usize>,
    /// Hashes per band (default 8).
    pub rows: Option<usize>,
    /// Seed of the hash parameters (default: the pipeline's; 1 with `compat`).
    pub seed: Option<u64>,
    /// `"words"` (default), `"whitespace"` or `"simplify"`.
    pub normalize: Option<String>,
    /// Check candidates' true Jaccard similarity before merging.
    #[serde(default)]
    pub verify: bool,
    /// Jaccard threshold of `verify` (default 0.8).
    pub threshold: Option<f64>,
    /// `"first"` (default), `"longest"`, or `"union_find_root"` (with `compat`).
    pub keep: Option<String>,
    /// 64 (default) or 32 (datatrove's `HashConfig(precision=32)`, with `compat`).
    pub hash_precision: Option<u32>,
    /// Where to save this run's signatures (an index for later runs).
    pub save_index: Option<String>,
    /// Saved indexes whose documents count as coming before this input.
    #[serde(default)]
    pub against: Vec<String>,
    /// Write `minhash_cluster_id` on kept documents (datatrove's `save_cluster_id`).
    #[serde(default)]
    pub save_cluster_id: bool,
    /// Write `minhash_cluster_size` on kept documents (datatrove's `save_cluster_size`).
    #[serde(default)]
    pub save_cluster_size: bool,
}

/// The kind of minhash index files.
const INDEX_KIND: &str = "minhash";

/// Which document of a cluster is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Keep {
    First,
    Longest,
    UnionFindRoot,
}

/// The built stage.
struct Minhash {
    norm: Normalize,
    ngram: usize,
    bands: usize,
    rows: usize,
    a: Vec<u64>,
    b: Vec<u64>,
    /// datatrove layout: a band key is its `rows` raw values (sorted as datatrove sorts them)
    /// and clusters use datatrove's union-find.
    datatrove: bool,
    verify: Option<f64>,
    keep: Keep,
    /// The effective seed of the hash parameters.
    seed: u32,
    save_index: Option<PathBuf>,
    against: Vec<PathBuf>,
    /// `save_cluster_id`, `save_cluster_size`.
    cluster_fields: (bool, bool),
}

impl StageSpec for MinhashDedup {
    fn build(&self, cx: &BuildCx) -> Result<Step, StageError> {
        let datatrove = match self.compat.as_deref() {
            None => false,
            Some("datatrove") => true,
            Some(o) => {
                return Err(StageError::config(
                    "compat",
                    format!("unknown compat preset `{o}` (known: \"datatrove\")"),
                ));
            }
        };
        let precision32 = match (self.hash_precision, datatrove) {
            (None | Some(64), _) => false,
            (Some(32), true) => true,
            (Some(32), false) => {
                return Err(StageError::config(
                    "hash_precision",
                    "32 needs compat = \"datatrove\" (datatrove's HashConfig(precision=32))",
                ));
            }
            (Some(p), _) => {
                return Err(StageError::config(
                    "hash_precision",
                    format!("must be 32 or 64, got {p}"),
                ));
            }
        };
        let norm = match (self.normalize.as_deref(), datatrove) {
            (Some(_), true) => {
                return Err(StageError::config(
                    "normalize",
                    "not allowed with compat = \"datatrove\", which uses datatrove's simplify_text and spaCy tokenizer",
                ));
            }
            (None, true) if precision32 => Normalize::Datatrove32,
            (None, true) => Normalize::Datatrove,
            (None | Some("words"), false) => Normalize::Words,
            (Some("whitespace"), false) => Normalize::Whitespace,
            (Some("simplify"), false) => Normalize::Simplify,
            (Some(o), false) => {
                return Err(StageError::config(
                    "normalize",
                    format!(
                        "unknown normalization `{o}` (known: \"words\", \"whitespace\", \"simplify\")"
                    ),
                ));
            }
        };
        let ngram = self.ngram.unwrap_or(5);
        if !(1..=64).contains(&ngram) {
            return Err(StageError::config("ngram", "must be between 1 and 64"));
        }
        let bands = self.bands.unwrap_or(14);
        if !(1..=1024).contains(&bands) {
            return Err(StageError::config("bands", "must be between 1 and 1024"));
        }
        let rows = self.rows.unwrap_or(8);
        if !(1..=256).contains(&rows) {
            return Err(StageError::config("rows", "must be between 1 and 256"));
        }
        if bands * rows > 4096 {
            return Err(StageError::config(
                "bands",
                "bands × rows must be at most 4096",
            ));
        }
        let seed = match (self.seed, datatrove) {
            (Some(s), true) => u32::try_from(s).map_err(|_| {
                StageError::config("seed", "numpy's RandomState takes seeds up to 2^32 − 1")
            })?,
            (None, true) => 1,
            (s, false) => {
                let s = s.unwrap_or(cx.seed);
                u32::try_from(s).unwrap_or((s ^ (s >> 32)) as u32)
            }
        };
        let threshold = self.threshold.unwrap_or(0.8);
        if !(threshold > 0.0 && threshold <= 1.0) {
            return Err(StageError::config("threshold", "must be in (0, 1]"));
        }
        if self.threshold.is_some() && !self.verify {
            return Err(StageError::config(
                "threshold",
                "only used with verify = true",
            ));
        }
        let keep = match (self.keep.as_deref(), datatrove) {
            (None, true) if !self.verify => Keep::UnionFindRoot,
            (None | Some("first"), _) => Keep::First,
            (Some("longest"), _) => Keep::Longest,
            (Some("union_find_root"), true) if !self.verify => Keep::UnionFindRoot,
            (Some("union_find_root"), _) => {
                return Err(StageError::config(
                    "keep",
                    "\"union_find_root\" needs compat = \"datatrove\" and no verify",
                ));
            }
            (Some(o), _) => {
                return Err(StageError::config(
                    "keep",
                    format!("unknown policy `{o}` (known: \"first\", \"longest\")"),
                ));
            }
        };
        let (a, b) = hashing::parameters(seed, bands * rows);
        let m = Minhash {
            norm,
            ngram,
            bands,
            rows,
            a,
            b,
            datatrove,
            verify: self.verify.then_some(threshold),
            keep,
            seed,
            save_index: self
                .save_index
                .as_deref()
                .map(|p| crate::dedup::resolve(&cx.base_dir, p)),
            against: Vec::new(),
            cluster_fields: (self.save_cluster_id, self.save_cluster_size),
        };
        let against = crate::dedup::index::resolve_against(
            &cx.base_dir,
            &self.against,
            INDEX_KIND,
            Some(&m.index_params()),
        )?;
        Ok(Step::Global(Box::new(Minhash { against, ..m })))
    }
}

#[derive(Default)]
struct Buffers {
    scratch: text::Scratch,
    shingles: Vec<u64>,
    sig: Vec<u64>,
    set: Vec<u32>,
}

thread_local! {
    static BUFFERS: RefCell<Buffers> = RefCell::new(Buffers::default());
}

fn corrupt(what: &str) -> StageError {
    StageError::Other(format!("minhash_dedup: corrupt summary ({what})"))
}

/// Reads summaries: `u32 id_len, id, u32 chars, u8 signed, [keys], [u32 n, n × u32]`.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StageError> {
        if self.0.len() < n {
            return Err(corrupt("truncated"));
        }
        let (h, t) = self.0.split_at(n);
        self.0 = t;
        Ok(h)
    }
    fn u32(&mut self) -> Result<u32, StageError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
}

impl Minhash {
    /// What a saved index's entries depend on: the signature settings (and whether shingle
    /// sets are stored, for `verify`).
    fn index_params(&self) -> serde_json::Value {
        serde_json::json!({
            "compat": if self.datatrove { Some("datatrove") } else { None },
            "normalize": format!("{:?}", self.norm).to_lowercase(),
            "ngram": self.ngram,
            "bands": self.bands,
            "rows": self.rows,
            "seed": self.seed,
            "verify": self.verify.is_some(),
        })
    }

    /// u64 words per band key.
    fn width(&self) -> usize {
        if self.datatrove { self.rows } else { 1 }
    }
}

/// The transform writing `minhash_cluster_id` / `minhash_cluster_size` on kept documents.
struct ClusterFields {
    by_ref: std::collections::HashMap<u64, (u32, u32)>,
    id: bool,
    size: bool,
}

impl datamill_core::Stage for ClusterFields {
    fn process(
        &self,
        doc: &mut Doc,
        cx: &mut datamill_core::StageCx,
    ) -> Result<datamill_core::Verdict, StageError> {
        let found = cx
            .doc_ref()
            .and_then(|at| self.by_ref.get(&crate::dedup::pack(at)));
        let (id, size) = found.map_or((-1i64, 1u32), |&(c, n)| (i64::from(c), n));
        if self.id {
            doc.set("minhash_cluster_id", &id);
        }
        if self.size {
            doc.set("minhash_cluster_size", &size);
        }
        Ok(datamill_core::Verdict::Keep)
    }
}

impl GlobalStage for Minhash {
    fn transform(&self, state: &[u8]) -> Result<Box<dyn datamill_core::Stage + '_>, StageError> {
        let mut d = datamill_core::codec::Dec::new(state, "minhash_dedup decision");
        let n = d.len(16)?;
        let mut by_ref = std::collections::HashMap::with_capacity(n);
        for _ in 0..n {
            let at = d.u64()?;
            let c = d.u32()?;
            by_ref.insert(at, (c, d.u32()?));
        }
        d.end()?;
        Ok(Box::new(ClusterFields {
            by_ref,
            id: self.cluster_fields.0,
            size: self.cluster_fields.1,
        }))
    }

    fn summarize(&self, doc: &Doc, out: &mut Vec<u8>) -> Result<(), StageError> {
        let id = doc.id().as_bytes();
        out.extend_from_slice(&(id.len() as u32).to_le_bytes());
        out.extend_from_slice(id);
        let chars = u32::try_from(doc.text().chars().count()).unwrap_or(u32::MAX);
        out.extend_from_slice(&chars.to_le_bytes());
        BUFFERS.with(|b| {
            let b = &mut *b.borrow_mut();
            b.shingles.clear();
            text::shingles(
                doc.text(),
                self.norm,
                self.ngram,
                &mut b.scratch,
                &mut b.shingles,
            );
            if b.shingles.is_empty() {
                out.push(0);
                return;
            }
            out.push(1);
            b.sig.resize(self.a.len(), 0);
            if self.norm == Normalize::Datatrove32 {
                hashing::signature32(&b.shingles, &self.a, &self.b, &mut b.sig);
            } else {
                hashing::signature(&b.shingles, &self.a, &self.b, &mut b.sig);
            }
            for band in b.sig.chunks_exact(self.rows) {
                if self.datatrove {
                    for v in band {
                        out.extend_from_slice(&v.to_le_bytes());
                    }
                } else {
                    let mut bytes = [0u8; 8 * 256];
                    for (k, v) in band.iter().enumerate() {
                        bytes[8 * k..8 * k + 8].copy_from_slice(&v.to_le_bytes());
                    }
                    let key = xxhash_rust::xxh3::xxh3_64(&bytes[..8 * band.len()]);
                    out.extend_from_slice(&key.to_le_bytes());
                }
            }
            if self.verify.is_some() {
                b.set.clear();
                b.set.extend(b.shingles.iter().map(|&x| x as u32));
                b.set.sort_unstable();
                b.set.dedup();
                out.extend_from_slice(&(b.set.len() as u32).to_le_bytes());
                for v in &b.set {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
        });
        Ok(())
    }

    fn decider(&self, cx: &DecideCx) -> Result<Box<dyn Decider + '_>, StageError> {
        let work = cx.work_dir.join("minhash_dedup");
        std::fs::create_dir_all(&work).map_err(|e| io_err(&work, e))?;
        let ids_path = work.join("ids.bin");
        let ids = BufWriter::new(File::create(&ids_path).map_err(|e| io_err(&ids_path, e))?);
        let verify = match self.verify {
            None => None,
            Some(_) => {
                let p = work.join("shingles.bin");
                let f = File::create(&p).map_err(|e| io_err(&p, e))?;
                Some((BufWriter::new(f), p))
            }
        };
        let buffer_limit = cx.memory_budget.map(|m| (m / 2) as usize);
        let save = match &self.save_index {
            None => None,
            Some(p) => Some(crate::dedup::index::IndexWriter::create(
                p,
                INDEX_KIND,
                1,
                self.index_params(),
            )?),
        };
        let mut d = MinhashDecider {
            st: self,
            cx: cx.clone(),
            store: BandStore::new(self.bands, self.width(), work.clone(), buffer_limit),
            work,
            index_docs: 0,
            refs: Vec::new(),
            lens: Vec::new(),
            ids: Some(ids),
            ids_path,
            verify,
            voffs: Vec::new(),
            vpos: 0,
            docs: 0,
            keys: Vec::new(),
            save,
        };
        // Saved indexes: their documents become the first nodes, as if they came before the
        // input.
        let mut buf = Vec::new();
        for p in &self.against {
            let mut r = crate::dedup::index::IndexReader::open(p, INDEX_KIND)?;
            r.expect_params(&self.index_params(), "against")?;
            while !r.at_end()? {
                let mut len = [0u8; 4];
                r.read_records(&mut len)?;
                buf.resize(u32::from_le_bytes(len) as usize, 0);
                r.read_records(&mut buf)?;
                if !d.add(None, &buf)? {
                    return Err(StageError::Other(format!(
                        "{}: corrupt index (an unsigned document)",
                        p.display()
                    )));
                }
            }
        }
        Ok(Box::new(d))
    }
}

fn io_err(path: &Path, e: std::io::Error) -> StageError {
    StageError::Io {
        context: format!("minhash_dedup: {}", path.display()),
        source: e,
    }
}

struct MinhashDecider<'a> {
    st: &'a Minhash,
    cx: DecideCx,
    work: PathBuf,
    store: BandStore,
    /// Signed documents `0..index_docs` come from saved indexes (`against`).
    index_docs: u32,
    /// Per signed document of this run (index `s − index_docs`): its reference.
    refs: Vec<DocRef>,
    /// Per signed document (index `s`), with `keep = "longest"`: its length.
    lens: Vec<u32>,
    ids: Option<BufWriter<File>>,
    ids_path: PathBuf,
    verify: Option<(BufWriter<File>, PathBuf)>,
    voffs: Vec<u64>,
    vpos: u64,
    docs: u64,
    keys: Vec<u64>,
    /// The index being saved (`save_index`).
    save: Option<crate::dedup::index::IndexWriter>,
}

impl Decider for MinhashDecider<'_> {
    fn observe(&mut self, at: DocRef, summary: &[u8], _: &mut Verdicts) -> Result<(), StageError> {
        self.docs += 1;
        if self.add(Some(at), summary)?
            && let Some(w) = &mut self.save
        {
            w.write(&(summary.len() as u32).to_le_bytes())?;
            w.write(summary)?;
        }
        Ok(())
    }

    fn finish(&mut self, verdicts: &mut Verdicts) -> Result<Option<Vec<u8>>, StageError> {
        let res = self.decide(verdicts);
        self.store.cleanup();
        let _ = std::fs::remove_dir_all(&self.work);
        let state = res?;
        if let Some(w) = self.save.take() {
            w.finish()?;
        }
        Ok(state)
    }
}

impl MinhashDecider<'_> {
    /// Adds a summarized document as the next node: one of this run (`at`) or of a saved
    /// index (`None`; all of those come first). Returns whether it was signed (a node).
    fn add(&mut self, at: Option<DocRef>, summary: &[u8]) -> Result<bool, StageError> {
        let mut c = Cursor(summary);
        let id_len = c.u32()? as usize;
        let id = c.take(id_len)?;
        let chars = c.u32()?;
        if c.take(1)?[0] == 0 {
            return Ok(false);
        }
        let n = self.st.bands * self.st.width();
        self.keys.clear();
        for w in c.take(8 * n)?.chunks_exact(8) {
            self.keys
                .push(u64::from_le_bytes(w.try_into().expect("8 bytes")));
        }
        if self.nodes() >= u32::MAX as usize - 1 {
            return Err(StageError::Other(
                "minhash_dedup: more than 2^32 − 2 documents".into(),
            ));
        }
        match at {
            Some(at) => self.refs.push(at),
            None => {
                debug_assert!(self.refs.is_empty(), "index documents come first");
                self.index_docs += 1;
            }
        }
        if self.st.keep == Keep::Longest {
            self.lens.push(chars);
        }
        let ids = self.ids.as_mut().expect("open");
        let r = ids
            .write_all(&(id_len as u32).to_le_bytes())
            .and_then(|_| ids.write_all(id));
        r.map_err(|e| io_err(&self.ids_path, e))?;
        self.store
            .push(&self.keys)
            .map_err(|e| io_err(&self.work, e))?;
        if let Some((w, p)) = &mut self.verify {
            let k = c.u32()? as usize;
            let set = c.take(4 * k)?;
            let r = w
                .write_all(&(k as u32).to_le_bytes())
                .and_then(|_| w.write_all(set));
            r.map_err(|e| io_err(p, e))?;
            self.voffs.push(self.vpos);
            self.vpos += 4 + 4 * k as u64;
        }
        if !c.0.is_empty() {
            return Err(corrupt("trailing bytes"));
        }
        Ok(true)
    }

    /// Signed documents so far, index documents included.
    fn nodes(&self) -> usize {
        self.index_docs as usize + self.refs.len()
    }
}

/// A cluster: the kept document and the members in input order (signed-document indexes).
type Cluster = (u32, Vec<u32>);

/// Counts for `summary.json`.
#[derive(Default, serde::Serialize)]
struct Summary {
    docs: u64,
    signed: u64,
    too_short: u64,
    /// Documents read from saved indexes (`against`).
    index_docs: u64,
    /// Of `removed`, those whose cluster keeps a document of a saved index.
    removed_in_index: u64,
    candidate_clusters: u64,
    clusters: u64,
    removed: u64,
    jaccard_checks: u64,
    spills: u64,
    sorted_runs: u64,
}

impl MinhashDecider<'_> {
    /// Decides; returns the transform's state when cluster fields are written: per kept
    /// document of a cluster (by reference), its cluster number and size.
    fn decide(&mut self, verdicts: &mut Verdicts) -> Result<Option<Vec<u8>>, StageError> {
        let st = self.st;
        self.store.seal().map_err(|e| io_err(&self.work, e))?;
        if let Some(mut w) = self.ids.take() {
            w.flush().map_err(|e| io_err(&self.ids_path, e))?;
        }
        if let Some((w, p)) = &mut self.verify {
            w.flush().map_err(|e| io_err(p, e))?;
        }
        let n = self.nodes();
        let workers = self.cx.workers.max(1).min(st.bands);
        let limit = self.cx.memory_budget.map(|m| (m / 2) as usize / workers);

        // 1. Candidate components.
        let roots = if st.datatrove {
            // datatrove: buckets in order, pairs of consecutive equal signatures in sorted
            // order, union(previous, current).
            let mut uf = uf::DatatroveUf::new(n);
            for band in 0..st.bands {
                let mut prev: Option<(Vec<u64>, u32)> = None;
                self.store
                    .scan(band, limit.map(|l| l * workers), |k, s| match &mut prev {
                        Some((pk, ps)) if pk.as_slice() == k => {
                            uf.union(*ps, s);
                            *ps = s;
                        }
                        Some((pk, ps)) => {
                            pk.clear();
                            pk.extend_from_slice(k);
                            *ps = s;
                        }
                        None => prev = Some((k.to_vec(), s)),
                    })?;
            }
            uf.into_roots()
        } else {
            let uf = uf::ConcurrentUf::new(n);
            let next = AtomicUsize::new(0);
            let error = Mutex::new(None);
            std::thread::scope(|sc| {
                for _ in 0..workers {
                    sc.spawn(|| {
                        loop {
                            let band = next.fetch_add(1, Ordering::Relaxed);
                            if band >= st.bands {
                                break;
                            }
                            let mut prev: Option<(u64, u32)> = None;
                            let r = self.store.scan(band, limit, |k, s| {
                                if let Some((pk, ps)) = prev
                                    && pk == k[0]
                                {
                                    uf.union(ps, s);
                                }
                                prev = Some((k[0], s));
                            });
                            if let Err(e) = r {
                                *error.lock().expect("lock") = Some(e);
                                break;
                            }
                        }
                    });
                }
            });
            if let Some(e) = error.into_inner().expect("lock") {
                return Err(e);
            }
            uf.into_roots()
        };

        // 2. Components of two or more documents, members in input order, ordered by their
        // first member.
        let mut size = vec![0u32; n];
        for &r in &roots {
            size[r as usize] += 1;
        }
        let mut comp_of_root: std::collections::HashMap<u32, u32, foldhash::fast::FixedState> =
            Default::default();
        let mut comps: Vec<(u32, Vec<u32>)> = Vec::new();
        for s in 0..n as u32 {
            let r = roots[s as usize];
            if size[r as usize] < 2 {
                continue;
            }
            let c = *comp_of_root.entry(r).or_insert_with(|| {
                comps.push((r, Vec::with_capacity(size[r as usize] as usize)));
                comps.len() as u32 - 1
            });
            comps[c as usize].1.push(s);
        }
        drop((size, comp_of_root, roots));

        // 3. Kept documents: clusters are (kept, members in input order).
        let lens = &self.lens;
        let order = |root: u32, members: &[u32]| -> Vec<u32> {
            let mut m = members.to_vec();
            match st.keep {
                Keep::First => {}
                Keep::Longest => m.sort_by_key(|&s| (std::cmp::Reverse(lens[s as usize]), s)),
                Keep::UnionFindRoot => m.sort_by_key(|&s| (s != root, s)),
            }
            m
        };
        let checks = AtomicU64::new(0);
        let clusters: Vec<Cluster> = match st.verify {
            None => comps
                .iter()
                .map(|(r, m)| (order(*r, m)[0], m.clone()))
                .collect(),
            Some(t) => {
                let path = &self.verify.as_ref().expect("verify file").1;
                let voffs = &self.voffs;
                let next = AtomicUsize::new(0);
                let results: Vec<Mutex<Vec<Cluster>>> =
                    comps.iter().map(|_| Mutex::new(Vec::new())).collect();
                let error = Mutex::new(None);
                std::thread::scope(|sc| {
                    for _ in 0..self.cx.workers.max(1) {
                        sc.spawn(|| {
                            let mut f = match File::open(path) {
                                Ok(f) => BufReader::new(f),
                                Err(e) => {
                                    *error.lock().expect("lock") = Some(e);
                                    return;
                                }
                            };
                            loop {
                                let c = next.fetch_add(1, Ordering::Relaxed);
                                if c >= comps.len() {
                                    break;
                                }
                                let (r, m) = &comps[c];
                                match split_verified(&order(*r, m), t, &mut f, voffs, &checks) {
                                    Ok(v) => *results[c].lock().expect("lock") = v,
                                    Err(e) => {
                                        *error.lock().expect("lock") = Some(e);
                                        break;
                                    }
                                }
                            }
                        });
                    }
                });
                if let Some(e) = error.into_inner().expect("lock") {
                    return Err(io_err(path, e));
                }
                let mut v: Vec<Cluster> = results
                    .into_iter()
                    .flat_map(|m| m.into_inner().expect("lock"))
                    .collect();
                v.sort_by_key(|c| c.1[0]);
                v
            }
        };

        // 4. Verdicts and report. Clusters of saved-index documents alone are not this run's;
        // a document of this run whose cluster keeps an index document is a duplicate of
        // the earlier data.
        let m = self.index_docs;
        let clusters: Vec<Cluster> = clusters
            .into_iter()
            .filter(|c| c.1.last().is_some_and(|&s| s >= m))
            .collect();
        let mut removed = 0u64;
        let mut removed_in_index = 0u64;
        let (needed, ids) = self.load_ids(&clusters)?;
        let id_of = |s: u32| -> &str { &ids[needed.binary_search(&s).expect("needed id")] };
        for (c, (kept, members)) in clusters.iter().enumerate() {
            let in_index = *kept < m;
            // What an excluded duplicate says: the kept document and the cluster (its row
            // number in clusters.jsonl).
            let detail = serde_json::json!({"duplicate_of": id_of(*kept), "cluster": c});
            for &s in members {
                if s != *kept && s >= m {
                    let at = self.refs[(s - m) as usize];
                    if in_index {
                        verdicts.drop_with(at, "duplicate_in_index", &detail);
                        removed_in_index += 1;
                    } else {
                        verdicts.drop_with(at, "duplicate", &detail);
                    }
                    removed += 1;
                }
            }
        }
        let summary = Summary {
            docs: self.docs,
            signed: self.refs.len() as u64,
            too_short: self.docs - self.refs.len() as u64,
            index_docs: u64::from(m),
            removed_in_index,
            candidate_clusters: comps
                .iter()
                .filter(|c| c.1.last().is_some_and(|&s| s >= m))
                .count() as u64,
            clusters: clusters.len() as u64,
            removed,
            jaccard_checks: checks.into_inner(),
            spills: self.store.spills,
            sorted_runs: self.store.runs.load(Ordering::Relaxed),
        };
        self.write_report(&clusters, &summary, &needed, &ids)?;
        if self.st.cluster_fields == (false, false) {
            return Ok(None);
        }
        let mut kept: Vec<(u64, u32, u32)> = clusters
            .iter()
            .enumerate()
            .filter(|(_, c)| c.0 >= m)
            .map(|(i, (k, members))| {
                let at = crate::dedup::pack(self.refs[(k - m) as usize]);
                (at, i as u32, members.len() as u32)
            })
            .collect();
        kept.sort_unstable();
        let mut e = datamill_core::codec::Enc::default();
        e.len(kept.len());
        for (at, c, n) in kept {
            e.u64(at);
            e.u32(c);
            e.u32(n);
        }
        Ok(Some(e.finish()))
    }

    /// The ids of every member of `clusters`: the members sorted, and their ids.
    fn load_ids(&self, clusters: &[Cluster]) -> Result<(Vec<u32>, Vec<String>), StageError> {
        let mut needed: Vec<u32> = clusters.iter().flat_map(|c| c.1.iter().copied()).collect();
        needed.sort_unstable();
        let mut ids: Vec<String> = Vec::with_capacity(needed.len());
        {
            let mut r =
                BufReader::new(File::open(&self.ids_path).map_err(|e| io_err(&self.ids_path, e))?);
            let mut buf = Vec::new();
            let mut k = 0usize;
            let mut s = 0u32;
            while k < needed.len() {
                let mut len = [0u8; 4];
                r.read_exact(&mut len)
                    .map_err(|e| io_err(&self.ids_path, e))?;
                buf.resize(u32::from_le_bytes(len) as usize, 0);
                r.read_exact(&mut buf)
                    .map_err(|e| io_err(&self.ids_path, e))?;
                if needed[k] == s {
                    ids.push(String::from_utf8_lossy(&buf).into_owned());
                    k += 1;
                }
                s += 1;
            }
        }
        Ok((needed, ids))
    }

    fn write_report(
        &self,
        clusters: &[Cluster],
        summary: &Summary,
        needed: &[u32],
        ids: &[String],
    ) -> Result<(), StageError> {
        let id_of = |s: u32| -> &str { &ids[needed.binary_search(&s).expect("needed id")] };
        let mut w = self.cx.report.jsonl("clusters.jsonl")?;
        for (i, (kept, members)) in clusters.iter().enumerate() {
            let mut row = serde_json::json!({
                "cluster": i,
                "size": members.len(),
                "kept": id_of(*kept),
                "members": members.iter().map(|&s| id_of(s)).collect::<Vec<_>>(),
            });
            let old: Vec<&str> = members
                .iter()
                .filter(|&&s| s < self.index_docs)
                .map(|&s| id_of(s))
                .collect();
            if !old.is_empty() {
                row["in_index"] = serde_json::json!(old);
            }
            w.write(&row)?;
        }
        w.finish()?;
        let st = self.st;
        let info = serde_json::json!({
            "counts": summary,
            "params": {
                "compat": if st.datatrove { Some("datatrove") } else { None },
                "normalize": format!("{:?}", st.norm).to_lowercase(),
                "ngram": st.ngram, "bands": st.bands, "rows": st.rows,
                "verify_threshold": st.verify,
                "keep": format!("{:?}", st.keep),
            }
        });
        self.cx.report.json("summary.json", &info)
    }
}

/// Splits one candidate component (members in keep order) into verified clusters: a member
/// joins the first kept document with Jaccard ≥ `t`, or is kept. Returns the clusters of two or
/// more documents as `(kept, members in input order)`.
fn split_verified(
    members: &[u32],
    t: f64,
    f: &mut BufReader<File>,
    voffs: &[u64],
    checks: &AtomicU64,
) -> std::io::Result<Vec<Cluster>> {
    let mut leaders: Vec<(u32, Vec<u32>, Vec<u32>)> = Vec::new(); // (doc, set, members)
    let mut n_checks = 0u64;
    for &s in members {
        let set = read_set(f, voffs[s as usize])?;
        let mut joined = false;
        for (_, lset, lm) in leaders.iter_mut() {
            let (small, big) = (set.len().min(lset.len()), set.len().max(lset.len()));
            if (small as f64) < t * big as f64 {
                continue; // Jaccard ≤ small / big < t
            }
            n_checks += 1;
            if hashing::jaccard(&set, lset) >= t {
                lm.push(s);
                joined = true;
                break;
            }
        }
        if !joined {
            leaders.push((s, set, vec![s]));
        }
    }
    checks.fetch_add(n_checks, Ordering::Relaxed);
    Ok(leaders
        .into_iter()
        .filter(|l| l.2.len() > 1)
        .map(|(s, _, mut m)| {
            m.sort_unstable();
            (s, m)
        })
        .collect())
}

fn read_set(f: &mut BufReader<File>, off: u64) -> std::io::Result<Vec<u32>> {
    f.seek(SeekFrom::Start(off))?;
    let mut len = [0u8; 4];
    f.read_exact(&mut len)?;
    let mut bytes = vec![0u8; 4 * u32::from_le_bytes(len) as usize];
    f.read_exact(&mut bytes)?;
    Ok(bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Run {
        verdicts: Vec<Option<String>>,
        clusters: String,
        summary: serde_json::Value,
    }

    fn build(toml_src: &str) -> Box<dyn GlobalStage> {
        let cfg: MinhashDedup = toml::from_str(toml_src).unwrap();
        match cfg.build(&BuildCx::default()).unwrap() {
            Step::Global(g) => g,
            Step::Map(_) => panic!("global expected"),
        }
    }

    /// Runs the stage over `docs` split into `units` work units.
    fn run(
        stage: &dyn GlobalStage,
        docs: &[Doc],
        units: usize,
        workers: usize,
        memory: Option<u64>,
    ) -> Run {
        let dir = tempfile::tempdir().unwrap();
        let per = docs.len().div_ceil(units);
        let cx = DecideCx {
            report: datamill_core::ReportSink::dir(dir.path().join("report")),
            work_dir: dir.path().join("work"),
            memory_budget: memory,
            workers,
        };
        let decided =
            crate::testing::decide(stage, &crate::testing::summaries(stage, docs), per, &cx);
        assert!(decided.transform.is_none());
        assert!(
            !cx.work_dir.join("minhash_dedup").exists(),
            "scratch files left behind"
        );
        Run {
            verdicts: decided.reasons(),
            clusters: String::from_utf8(cx.report.get("clusters.jsonl").unwrap()).unwrap(),
            summary: serde_json::from_slice(&cx.report.get("summary.json").unwrap()).unwrap(),
        }
    }

    /// A deterministic pseudo-random text of `n` words from a 2,000-word vocabulary.
    fn words(seed: u64, n: usize) -> Vec<String> {
        let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                format!("w{}", x % 2000)
            })
            .collect()
    }

    /// `base` with every `every`-th word replaced.
    fn edit(base: &[String], every: usize, tag: &str) -> String {
        base.iter()
            .enumerate()
            .map(|(i, w)| {
                if i % every == every - 1 {
                    format!("{tag}{i}")
                } else {
                    w.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn corpus() -> Vec<Doc> {
        let a = words(1, 400);
        let b = words(2, 300);
        let mut docs = vec![
            Doc::new("a0", a.join(" ")),
            Doc::new("b0", b.join(" ")),
            Doc::new("u0", words(3, 200).join(" ")),
            Doc::new("a1", edit(&a, 97, "x")), // J ≈ 0.95 with a0
            Doc::new("short", "too short"),
            Doc::new("b1", edit(&b, 80, "y") + " and a longer tail here"),
            Doc::new("u1", words(4, 200).join(" ")),
            Doc::new("a2", a.join(" ").to_uppercase()), // identical after normalization
        ];
        for i in 0..40 {
            docs.push(Doc::new(format!("n{i}"), words(100 + i, 150).join(" ")));
        }
        docs
    }

    #[test]
    fn near_duplicates_are_clustered_and_the_first_is_kept() {
        let st = build("");
        let r = run(&*st, &corpus(), 1, 1, None);
        let dup = Some("duplicate".to_string());
        assert_eq!(
            r.verdicts[..8],
            [None, None, None, dup.clone(), None, dup.clone(), None, dup]
        );
        assert!(r.verdicts[8..].iter().all(Option::is_none));
        let lines: Vec<serde_json::Value> = r
            .clusters
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["kept"], "a0");
        assert_eq!(lines[0]["members"], serde_json::json!(["a0", "a1", "a2"]));
        assert_eq!(lines[0]["size"], 3);
        assert_eq!(lines[1]["members"], serde_json::json!(["b0", "b1"]));
        assert_eq!(r.summary["counts"]["too_short"], 1);
        assert_eq!(r.summary["counts"]["removed"], 3);
    }

    #[test]
    fn keep_longest() {
        let st = build("keep = \"longest\"");
        let r = run(&*st, &corpus(), 2, 2, None);
        let dup = Some("duplicate".to_string());
        // b1 is longer than b0; a0 and a2 have the same length (the first wins), a1 is shorter
        assert_eq!(
            r.verdicts[..8],
            [None, dup.clone(), None, dup.clone(), None, None, None, dup]
        );
        assert!(r.clusters.contains("\"kept\":\"b1\""));
    }

    #[test]
    fn same_result_whatever_workers_units_and_memory() {
        let docs = corpus();
        for cfg in [
            "",
            "verify = true",
            "compat = \"datatrove\"",
            "keep = \"longest\"\nbands = 9\nrows = 3",
        ] {
            let st = build(cfg);
            let base = run(&*st, &docs, 1, 1, None);
            for (units, workers, mem) in [(3, 4, None), (5, 2, Some(4096)), (1, 3, Some(1))] {
                let r = run(&*st, &docs, units, workers, mem);
                assert_eq!(r.verdicts, base.verdicts, "{cfg} {units} {workers} {mem:?}");
                assert_eq!(r.clusters, base.clusters, "{cfg}");
                if mem == Some(1) {
                    assert!(r.summary["counts"]["spills"].as_u64().unwrap() > 0);
                    assert!(r.summary["counts"]["sorted_runs"].as_u64().unwrap() > 0);
                }
            }
        }
    }

    #[test]
    fn verify_splits_candidates_below_the_threshold() {
        // 12 single-hash bands: a pair with Jaccard ~0.5 is almost surely a candidate.
        let a = words(7, 300);
        let half: Vec<String> = a[..150].iter().cloned().chain(words(8, 150)).collect();
        let docs = vec![
            Doc::new("a", a.join(" ")),
            Doc::new("half", half.join(" ")),
            Doc::new("close", edit(&a, 100, "z")),
        ];
        let loose = run(&*build("bands = 12\nrows = 1"), &docs, 1, 1, None);
        assert_eq!(
            loose.verdicts,
            [None, Some("duplicate".into()), Some("duplicate".into())]
        );
        let st = build("bands = 12\nrows = 1\nverify = true\nthreshold = 0.8");
        let r = run(&*st, &docs, 1, 2, None);
        assert_eq!(r.verdicts, [None, None, Some("duplicate".into())]);
        assert_eq!(r.summary["counts"]["candidate_clusters"], 1);
        assert!(r.summary["counts"]["jaccard_checks"].as_u64().unwrap() >= 1);
        assert!(r.clusters.contains("[\"a\",\"close\"]"));
    }

    #[test]
    fn parameters_are_validated() {
        for (src, param) in [
            ("bands = 0", "bands"),
            ("rows = 0", "rows"),
            ("ngram = 0", "ngram"),
            ("threshold = 0.9", "threshold"),
            ("verify = true\nthreshold = 1.5", "threshold"),
            ("normalize = \"stem\"", "normalize"),
            ("compat = \"datatrove\"\nnormalize = \"words\"", "normalize"),
            ("compat = \"nemo\"", "compat"),
            ("keep = \"random\"", "keep"),
            ("keep = \"union_find_root\"", "keep"),
            ("compat = \"datatrove\"\nseed = 5000000000", "seed"),
        ] {
            let cfg: MinhashDedup = toml::from_str(src).unwrap();
            match cfg.build(&BuildCx::default()) {
                Err(StageError::Config { param: p, .. }) => assert_eq!(p, param, "{src}"),
                _ => panic!("{src} accepted"),
            }
        }
        assert!(toml::from_str::<MinhashDedup>("band = 3").is_err());
    }
}

#[cfg(test)]
mod incremental_tests {
    use super::*;
    use crate::testing;

    fn build_in(toml_src: &str, dir: &Path) -> Result<Box<dyn GlobalStage>, StageError> {
        let cfg: MinhashDedup = toml::from_str(toml_src).unwrap();
        match cfg.build(&BuildCx {
            seed: 0,
            base_dir: dir.to_path_buf(),
        })? {
            Step::Global(g) => Ok(g),
            Step::Map(_) => panic!("global expected"),
        }
    }

    /// Near-duplicate families (a base text and edited copies, some chained through each
    /// other) in a fixed shuffled order.
    fn corpus() -> Vec<Doc> {
        let word = |x: &mut u64| {
            *x ^= *x << 13;
            *x ^= *x >> 7;
            *x ^= *x << 17;
            format!("w{}", *x % 3000)
        };
        let mut docs = Vec::new();
        for f in 0..40u64 {
            let mut x = (f + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
            let base: Vec<String> = (0..120 + f as usize).map(|_| word(&mut x)).collect();
            for v in 0..(f % 4 + 1) {
                // Each copy edits the previous one a little more: a chain of near-duplicates.
                let every = [0, 40, 25, 12][v as usize];
                let text: Vec<String> = base
                    .iter()
                    .enumerate()
                    .map(|(i, w)| {
                        if every > 0 && i % every == 0 {
                            format!("e{v}x{i}")
                        } else {
                            w.clone()
                        }
                    })
                    .collect();
                docs.push(Doc::new(format!("f{f}v{v}"), text.join(" ")));
            }
        }
        // A fixed shuffle, so families straddle the two halves.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for i in (1..docs.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            docs.swap(i, (x % (i as u64 + 1)) as usize);
        }
        docs
    }

    fn cx(dir: &Path) -> DecideCx {
        DecideCx {
            report: datamill_core::ReportSink::dir(dir.join("report")),
            work_dir: dir.join("work"),
            memory_budget: None,
            workers: 2,
        }
    }

    /// New data B deduped against A's saved index keeps and drops exactly what one run over
    /// A followed by B keeps and drops of B, for every preset; the drops whose cluster keeps a
    /// document of A say `duplicate_in_index`.
    #[test]
    fn b_against_a_index_equals_a_then_b() {
        let docs = corpus();
        let (a, b) = docs.split_at(docs.len() / 2);
        for cfg in [
            "",
            "verify = true",
            "keep = \"longest\"",
            "compat = \"datatrove\"",
            "bands = 20\nrows = 4\nnormalize = \"whitespace\"",
        ] {
            let tmp = tempfile::tempdir().unwrap();
            // One run over A then B.
            let all = build_in(cfg, tmp.path()).unwrap();
            let (fates, _) = testing::run(&*all, docs.clone(), 7, &cx(&tmp.path().join("ab")));
            let combined: Vec<Option<&str>> = fates[a.len()..].iter().map(|f| f.reason()).collect();
            let report =
                std::fs::read_to_string(tmp.path().join("ab/report/clusters.jsonl")).unwrap();
            let a_ids: std::collections::HashSet<&str> = a.iter().map(|d| d.id()).collect();
            let mut kept_in_a = std::collections::HashSet::new();
            for line in report.lines() {
                let c: serde_json::Value = serde_json::from_str(line).unwrap();
                if a_ids.contains(c["kept"].as_str().unwrap()) {
                    for m in c["members"].as_array().unwrap() {
                        kept_in_a.insert(m.as_str().unwrap().to_string());
                    }
                }
            }
            // A alone, saving its index; then B against it.
            let sa = build_in(&format!("{cfg}\nsave_index = \"idx/a.idx\""), tmp.path()).unwrap();
            testing::run(&*sa, a.to_vec(), 7, &cx(&tmp.path().join("a")));
            assert!(tmp.path().join("idx/a.idx").exists(), "{cfg}: index saved");
            let sb = build_in(&format!("{cfg}\nagainst = [\"idx/a.idx\"]"), tmp.path()).unwrap();
            let (fates, _) = testing::run(&*sb, b.to_vec(), 7, &cx(&tmp.path().join("b")));
            let mut in_index = 0;
            for ((doc, f), want) in b.iter().zip(&fates).zip(&combined) {
                match (f.reason(), want) {
                    (None, None) => {}
                    (Some(r), Some("duplicate")) => {
                        let expect = if kept_in_a.contains(doc.id()) {
                            in_index += 1;
                            "duplicate_in_index"
                        } else {
                            "duplicate"
                        };
                        assert_eq!(r, expect, "{cfg}: {}", doc.id());
                    }
                    (got, want) => panic!("{cfg}: {}: {got:?} vs {want:?}", doc.id()),
                }
            }
            assert!(in_index >= 5, "{cfg}: only {in_index} duplicates of A in B");
            let summary: serde_json::Value = serde_json::from_slice(
                &std::fs::read(tmp.path().join("b/report/summary.json")).unwrap(),
            )
            .unwrap();
            assert_eq!(summary["counts"]["index_docs"], a.len());
            assert_eq!(summary["counts"]["removed_in_index"], in_index);
        }
    }

    #[test]
    fn an_index_of_other_settings_is_refused_by_name() {
        let tmp = tempfile::tempdir().unwrap();
        let sa = build_in("save_index = \"a.idx\"", tmp.path()).unwrap();
        testing::run(&*sa, corpus(), 7, &cx(&tmp.path().join("a")));
        let e = build_in("ngram = 3\nagainst = [\"a.idx\"]", tmp.path())
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("against") && e.contains("ngram"), "{e}");
        let e = build_in("verify = true\nagainst = [\"a.idx\"]", tmp.path())
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("verify"), "{e}");
        let e = build_in("against = [\"missing.idx\"]", tmp.path())
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("missing.idx"), "{e}");
        // Not a minhash index.
        std::fs::write(tmp.path().join("junk.idx"), vec![7u8; 100]).unwrap();
        assert!(build_in("against = [\"junk.idx\"]", tmp.path()).is_err());
    }
}
