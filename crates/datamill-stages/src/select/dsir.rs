//! Data Selection with Importance Resampling (DSIR, Xie et al. 2023): keeps the documents that
//! look most like a target corpus, sampled by hashed n-gram importance weights.
//!
//! A port of PyPI `data-selection` 1.0.3 (`HashedNgramDSIR`, repository p-lambda/dsir) with its
//! defaults, checked against it on the en_prose sample (`tests/golden/dsir/`):
//!
//! 1. **Features**: the text is lowercased (Python `str.lower()`), split by NLTK's
//!    `WordPunctTokenizer` (`\w+|[^\w\s]+`, with the Unicode classes of the `regex` engine
//!    NLTK 3.10 uses: marks are word characters), and every unigram
//!    and every space-joined i-gram for i in 2..=`ngrams` goes to bucket
//!    `int(sha256(gram).hexdigest(), 16) % num_buckets`. Each document becomes a sparse count
//!    vector; its DSIR *length* is `(Σ counts + n(n-1)/2) // n` (its word count).
//! 2. **Models**: the target model is the bucket distribution of all `target` documents; the
//!    raw model that of the documents reaching this stage, fitted up to `num_tokens_to_fit`
//!    n-grams (`"auto"` = 100,000 × `num_buckets`, DSIR's default; `"all"`; or a number) split
//!    as data-selection splits it: its raw files are cut into *virtual shards* (with
//!    `num_proc` = P and F raw files, `max(1, P / F)` shards per file, one more for each of the
//!    first `P % F` files when P ≥ F; a file's j-th document goes to its shard `j % count`),
//!    and each shard fits its documents in order, stopping after the document that takes the
//!    shard's n-grams past `num_tokens_to_fit / shards` (rounded down). With the default
//!    `num_proc = 1` that is one shard per raw file, each fitting up to its share of the cap.
//!    `log_diff = ln(p_target + 1e-8) − ln(p_raw + 1e-8)`.
//!
//!    **What a raw file is**: an input file of the run (in the run's input order), whatever
//!    work units datamill cuts it into; its documents are those of its units that reach this
//!    stage, in order. A file with no work unit (empty) does not count.
//! 3. **Weights**: each document's log importance weight is `log_diff · counts`, rounded as
//!    data-selection's `np.dot` rounds it with numpy 2.4.6's OpenBLAS on an x86-64 CPU with
//!    AVX-512 (`datamill_npsort::np_dot_sparse`): bit for bit with one target and up to 10,000
//!    buckets. With several targets numpy multiplies a matrix by the vector (OpenBLAS `dgemv`,
//!    whose order of additions depends on its thread count), and above 10,000 buckets OpenBLAS
//!    splits the dot product over its threads: there the weights agree to about 1e-15
//!    relative, not bit for bit.
//! 4. **Resampling**: documents shorter than `min_example_length` are dropped (`dsir_too_short`);
//!    the others are ranked by weight plus Gumbel noise (sampling without replacement ∝ weight,
//!    the Gumbel top-k trick) and the best are kept; the rest are dropped (`dsir_not_selected`).
//!    The noise is numpy's: `np.random.seed(seed); np.random.gumbel(size=eligible)`, drawn over
//!    the eligible documents in data-selection's example order (virtual shard by virtual
//!    shard: the input order when each file is one shard), so with the same seed, the same
//!    raw files in the same order and the same `num_proc`, the selected set is the one
//!    `data-selection` selects after `np.random.seed(seed)` (checked for 1 to 7 processes). `top_k = true` ranks by weight alone. The best are taken as
//!    data-selection takes them, `np.argpartition(-keys, k)[:k]`, with numpy's choice among
//!    keys equal at the cut (duplicate documents under `top_k`) as made on x86-64 CPUs with
//!    AVX-512 (`datamill-npsort`; numpy itself chooses otherwise on other CPUs).
//! 5. Kept documents get their weight in metadata field `weight_field`.
//!
//! **Several targets** (`separate_targets = true`, data-selection's option of that name): each
//! `target` entry is a target of its own, with its own model (fitted, like the raw model, up to
//! `num_tokens_to_fit` n-grams) and weights. The amount to keep is split by
//! `target_proportions` (one share per entry, normalized; default: each target's fitted n-gram
//! count), `int(amount × share)` each and the remainder to the last, and the targets select in
//! order, each from the documents not chosen yet, with the same Gumbel stream continuing
//! (drawn over each target's candidates, skipped for a target with nothing to select). Same
//! selected set as data-selection's for the same seed (checked). Kept documents also get
//! `dsir_target`, the entry that chose them; the report lists per target its share, quota,
//! selection and KL figures (against that target), and the overall figures against all
//! targets' n-grams pooled. Not with `token_budget`.
//!
//! How many to keep: exactly one of `k` (documents), `fraction` (of the documents reaching the
//! stage, rounded down) or `token_budget` (the best-ranked documents while their summed
//! `token_field` fits the budget; the first document that does not fit ends the selection, and
//! documents without a numeric `token_field` are dropped as `dsir_tokens_missing`; put a
//! `token_count` stage before). If fewer documents are eligible than asked for, all eligible
//! documents are kept.
//!
//! Report: `OUT/reports/dsir/dsir.json` holds the counts (documents, eligible, selected, n-grams
//! of raw, fitted raw and target) and `kl_to_target`, how close the selection is to the target
//! as `KL(p_target ‖ p_X)` over the hashed bucket distributions, with
//! `KL(p ‖ q) = Σ p_i (ln(p_i + 1e-8) − ln(q_i + 1e-8))`, the smoothing of `log_diff`; lower is
//! closer. Its fields, the verdict first: `gain_over_random` = KL of as many eligible documents
//! drawn uniformly at random (seeded) − KL of the selection, positive when importance resampling
//! beats a random pick of the same size; `gain_over_raw` = KL of all documents reaching the stage
//! − KL of the selection, the paper's "KL reduction" (with small selections the buckets they
//! never hit dominate, so it is negative even for a good selection, and for a random one); then
//! the three divergences `selected`, `random_same_size`, `raw`, and `about`, this explanation.
//!
//! Parameters: `target` (required: files, directories or globs, relative to the pipeline file;
//! JSONL, optionally compressed, or Parquet when datamill-io has its `parquet` feature; read
//! when the stage decides, so a missing target is reported then, as a `target` error),
//! `target_text_field` (default `"text"`), `k` |
//! `fraction` | `token_budget` (one required), `token_field` (default `"token_count"`, only with
//! `token_budget`), `ngrams` (default 2), `num_buckets` (default 10000), `tokenizer` (only
//! `"wordpunct"`, the default; NLTK's `word_tokenize` needs punkt data and is not ported),
//! `min_example_length` (default 100), `num_tokens_to_fit` (default `"auto"`), `top_k` (default
//! false), `seed` (default: the pipeline's seed; below 2^32 as numpy requires), `weight_field`
//! (default `"dsir_log_weight"`; `""` writes none), `separate_targets` (default false),
//! `target_proportions`, `num_proc` (default 1: data-selection's `num_proc`, whose default is
//! the machine's CPU count; here it only decides the virtual shards, never datamill's
//! threads).
//!
//! Parameter names are data-selection's (`HashedNgramDSIR` arguments, `fit_importance_estimator`'s
//! `num_tokens_to_fit`, `resample`'s `num_to_sample` = `k` and `top_k`). Differences from
//! `data-selection`: without `separate_targets` all target files are pooled into one model, as
//! it does; with `separate_targets` each target entry is fitted over the virtual shards of
//! its files (data-selection's entries are single files); the raw files are the run's input
//! files in the run's order, and the documents of a file are those reaching the stage (a
//! data-selection user passes the same files in the same order and the same `num_proc`).
//!
//! Cost: one SHA-256 per distinct n-gram (an exact per-thread cache serves repeats), in the
//! parallel summarize pass. The summary is the sparse count vector (about 2–3 bytes per
//! distinct bucket); the decider keeps a copy in its work folder (or memory), about 24 bytes
//! per document plus 8 per target, and 24 per selected document (the weight to write, keyed by
//! the document's reference) in memory.
//!
//! ```toml
//! [[stage]]
//! type = "dsir"
//! target = ["target/*.jsonl"]
//! k = 100000
//! seed = 0
//!
//! [[stage]]
//! type = "dsir"
//! target = ["wiki_sample.jsonl.zst"]
//! token_budget = 1_000_000_000
//! top_k = true
//!
//! [[stage]]
//! type = "dsir"
//! target = ["wiki_sample.jsonl.zst", "books_sample.jsonl.zst"]
//! separate_targets = true
//! target_proportions = [0.7, 0.3]
//! fraction = 0.1
//! ```

mod features;
mod word_table;

use datamill_npsort::Mt19937;
pub use features::{Featurizer, Scratch};

use crate::{BuildCx, StageSpec, Step};
use datamill_core::codec::{Dec, Enc};
use datamill_core::{
    DecideCx, Decider, Doc, DocRef, FieldNames, GlobalStage, ReportSink, Stage, StageCx,
    StageError, Verdict, Verdicts,
};
use serde::Deserialize;
use std::collections::HashMap;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

/// Smoothing added to both probabilities before taking logs (data-selection's constant).
const EPS: f64 = 1e-8;

fn default_text() -> String {
    "text".into()
}
fn default_token_field() -> String {
    "token_count".into()
}
fn default_ngrams() -> usize {
    2
}
fn default_buckets() -> u64 {
    10000
}
fn default_tokenizer() -> String {
    "wordpunct".into()
}
fn default_min_len() -> u64 {
    100
}
fn default_num_proc() -> usize {
    1
}
fn default_weight_field() -> String {
    "dsir_log_weight".into()
}

/// How much raw data fits the raw model: `"auto"`, `"all"` or a number of n-grams.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum TokensToFit {
    /// A number of counted n-grams.
    Count(u64),
    /// `"auto"` (100,000 × `num_buckets`) or `"all"`.
    Word(String),
}

impl Default for TokensToFit {
    fn default() -> Self {
        TokensToFit::Word("auto".into())
    }
}

/// The `dsir` stage's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dsir {
    /// Target corpus: files, directories or glob patterns (relative to the pipeline file).
    pub target: Vec<String>,
    /// The text field of the target records.
    #[serde(default = "default_text")]
    pub target_text_field: String,
    /// Number of documents to keep.
    pub k: Option<u64>,
    /// Fraction of the documents reaching the stage to keep.
    pub fraction: Option<f64>,
    /// Token budget of the selection (summed over `token_field`).
    pub token_budget: Option<u64>,
    /// Metadata field holding a document's token count (with `token_budget`).
    #[serde(default = "default_token_field")]
    pub token_field: String,
    /// n of the n-grams (1 = unigrams only, 2 = unigrams and bigrams).
    #[serde(default = "default_ngrams")]
    pub ngrams: usize,
    /// Number of hash buckets.
    #[serde(default = "default_buckets")]
    pub num_buckets: u64,
    /// Word tokenizer; only `"wordpunct"`.
    #[serde(default = "default_tokenizer")]
    pub tokenizer: String,
    /// Documents with a shorter DSIR length (in words) are never selected.
    #[serde(default = "default_min_len")]
    pub min_example_length: u64,
    /// Raw n-grams used to fit the raw model.
    #[serde(default)]
    pub num_tokens_to_fit: TokensToFit,
    /// Rank by weight alone (no Gumbel noise).
    #[serde(default)]
    pub top_k: bool,
    /// Seed of the Gumbel noise (numpy legacy seeding); the pipeline's seed when absent.
    pub seed: Option<u64>,
    /// Metadata field receiving the log importance weight of kept documents (`""`: none).
    #[serde(default = "default_weight_field")]
    pub weight_field: String,
    /// Each `target` entry is its own target, selected for separately (data-selection's
    /// `separate_targets`).
    #[serde(default)]
    pub separate_targets: bool,
    /// Shares of the selection per target with `separate_targets` (normalized; default: each
    /// target's fitted n-gram count).
    pub target_proportions: Option<Vec<f64>>,
    /// data-selection's `num_proc`: the number of virtual shards its raw files are cut into,
    /// which splits `num_tokens_to_fit` and orders the documents for the Gumbel noise
    /// (datamill's own threads are set by the run, whatever this says).
    #[serde(default = "default_num_proc")]
    pub num_proc: usize,
}

#[derive(Clone, Copy, Debug)]
enum Amount {
    K(u64),
    Fraction(f64),
    Tokens(u64),
}

struct Built {
    feat: Featurizer,
    target: Vec<String>,
    base: PathBuf,
    target_text_field: String,
    amount: Amount,
    token_field: String,
    min_len: u64,
    fit_cap: Option<u64>,
    top_k: bool,
    seed: u32,
    weight_field: String,
    separate: bool,
    proportions: Option<Vec<f64>>,
    num_proc: usize,
}

impl StageSpec for Dsir {
    fn build(&self, cx: &BuildCx) -> Result<Step, StageError> {
        if self.target.is_empty() || self.target.iter().any(|t| t.is_empty()) {
            return Err(StageError::config(
                "target",
                "give at least one target file, directory or glob",
            ));
        }
        let amount = match (self.k, self.fraction, self.token_budget) {
            (Some(k), None, None) => Amount::K(k),
            (None, Some(f), None) => {
                if !(0.0..=1.0).contains(&f) {
                    return Err(StageError::config(
                        "fraction",
                        format!("must be between 0 and 1, got {f}"),
                    ));
                }
                Amount::Fraction(f)
            }
            (None, None, Some(t)) => {
                if self.token_field.is_empty() {
                    return Err(StageError::config("token_field", "must not be empty"));
                }
                Amount::Tokens(t)
            }
            _ => {
                return Err(StageError::config(
                    "k",
                    "give exactly one of `k`, `fraction` and `token_budget`",
                ));
            }
        };
        if self.ngrams == 0 || self.ngrams > 16 {
            return Err(StageError::config("ngrams", "must be between 1 and 16"));
        }
        if !(1..=1u64 << 32).contains(&self.num_buckets) {
            return Err(StageError::config(
                "num_buckets",
                "must be between 1 and 2^32",
            ));
        }
        if self.tokenizer != "wordpunct" {
            return Err(StageError::config(
                "tokenizer",
                format!(
                    "only \"wordpunct\" is implemented (NLTK's WordPunctTokenizer, DSIR's default), got {:?}",
                    self.tokenizer
                ),
            ));
        }
        let fit_cap = match &self.num_tokens_to_fit {
            TokensToFit::Count(n) => Some(*n),
            TokensToFit::Word(w) if w == "auto" => Some(100_000 * self.num_buckets),
            TokensToFit::Word(w) if w == "all" => None,
            TokensToFit::Word(w) => {
                return Err(StageError::config(
                    "num_tokens_to_fit",
                    format!("must be \"auto\", \"all\" or a number, got {w:?}"),
                ));
            }
        };
        if let Some(p) = &self.target_proportions {
            if !self.separate_targets {
                return Err(StageError::config(
                    "target_proportions",
                    "needs separate_targets = true",
                ));
            }
            if p.len() != self.target.len() {
                return Err(StageError::config(
                    "target_proportions",
                    format!(
                        "one share per `target` entry: {} shares for {} targets",
                        p.len(),
                        self.target.len()
                    ),
                ));
            }
            if p.iter().any(|x| !x.is_finite() || *x < 0.0) || p.iter().sum::<f64>() <= 0.0 {
                return Err(StageError::config(
                    "target_proportions",
                    "shares must be finite, non-negative and not all zero",
                ));
            }
        }
        if self.separate_targets && self.token_budget.is_some() {
            return Err(StageError::config(
                "separate_targets",
                "not supported with token_budget (give k or fraction)",
            ));
        }
        if self.num_proc == 0 {
            return Err(StageError::config("num_proc", "must be at least 1"));
        }
        let seed = self.seed.unwrap_or(cx.seed);
        let seed = u32::try_from(seed).map_err(|_| {
            StageError::config(
                "seed",
                format!("must be below 2^32 (numpy's legacy seeding), got {seed}"),
            )
        })?;
        Ok(Step::Global(Box::new(Built {
            feat: Featurizer::new(self.ngrams, self.num_buckets),
            target: self.target.clone(),
            base: cx.base_dir.clone(),
            target_text_field: self.target_text_field.clone(),
            amount,
            token_field: self.token_field.clone(),
            min_len: self.min_example_length,
            fit_cap,
            top_k: self.top_k,
            seed,
            weight_field: self.weight_field.clone(),
            separate: self.separate_targets,
            proportions: self.target_proportions.clone(),
            num_proc: self.num_proc,
        })))
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(buf: &[u8], pos: &mut usize) -> Result<u64, StageError> {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = *buf
            .get(*pos)
            .ok_or_else(|| StageError::Other("dsir: corrupt summary".into()))?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Ok(v);
        }
        shift += 7;
        if shift > 63 {
            return Err(StageError::Other("dsir: corrupt summary".into()));
        }
    }
}

/// A decoded summary: the token count (0 = missing, else
/// tokens + 1) and the sparse counts.
fn decode(buf: &[u8], pairs: &mut Vec<(u32, u32)>) -> Result<u64, StageError> {
    pairs.clear();
    let mut pos = 0;
    let tokens = get_varint(buf, &mut pos)?;
    let n = get_varint(buf, &mut pos)?;
    let mut b = 0u64;
    for _ in 0..n {
        b += get_varint(buf, &mut pos)?;
        let c = get_varint(buf, &mut pos)?;
        pairs.push((b as u32, c as u32));
    }
    Ok(tokens)
}

/// The log importance weight of a sparse count vector: `Σ log_diff[b] · c`, rounded as
/// data-selection's `np.dot(log_diff, features)` is (numpy's OpenBLAS `ddot`, AVX-512 kernel:
/// [`datamill_npsort::np_dot_sparse`]).
pub fn log_weight(log_diff: &[f64], counts: &[(u32, u32)]) -> f64 {
    datamill_npsort::np_dot_sparse(
        log_diff,
        counts.iter().map(|&(b, c)| (b as usize, f64::from(c))),
    )
}

/// data-selection's virtual shards (`DSIR._get_virtually_sharded_datasets`) of `files` files
/// with `num_proc` processes: each file gets `max(1, num_proc / files)` shards, one more for
/// each of the first `num_proc % files` files when `num_proc ≥ files`; a file's `j`-th document
/// goes to its shard `j % count`. Shards are numbered file by file.
#[derive(Clone, Debug, PartialEq)]
pub struct VirtualShards {
    /// Per file: its first shard's number and its shard count.
    files: Vec<(usize, usize)>,
}

impl VirtualShards {
    /// The shards of `files` files (at least one) under `num_proc` (at least one).
    pub fn new(files: usize, num_proc: usize) -> VirtualShards {
        let files = files.max(1);
        let num_proc = num_proc.max(1);
        let per = (num_proc / files).max(1);
        let remainder = if num_proc >= files {
            num_proc % files
        } else {
            0
        };
        let mut base = 0;
        let files = (0..files)
            .map(|f| {
                let count = per + usize::from(f < remainder);
                base += count;
                (base - count, count)
            })
            .collect();
        VirtualShards { files }
    }

    /// The number of shards (data-selection's `len(sharded_datasets)`).
    pub fn total(&self) -> usize {
        self.files.last().map_or(0, |&(b, c)| b + c)
    }

    /// The number of shards of file `file`.
    pub fn count(&self, file: usize) -> usize {
        self.files[file].1
    }

    /// The shard of file `file`'s `j`-th document.
    pub fn shard(&self, file: usize, j: usize) -> usize {
        let (base, count) = self.files[file];
        base + j % count
    }
}

/// The n-grams each virtual shard may fit: `num_tokens_to_fit // len(sharded_datasets)`.
fn shard_cap(cap: Option<u64>, shards: &VirtualShards) -> Option<u64> {
    cap.map(|c| c / shards.total() as u64)
}

/// `log_diff = ln(p_target + 1e-8) − ln(p_raw + 1e-8)` from bucket counts.
pub fn log_diff(target: &[u64], raw: &[u64]) -> Vec<f64> {
    let pt = probs(target);
    let pr = probs(raw);
    pt.iter()
        .zip(&pr)
        .map(|(t, r)| (t + EPS).ln() - (r + EPS).ln())
        .collect()
}

fn probs(counts: &[u64]) -> Vec<f64> {
    let total: u64 = counts.iter().sum();
    let t = total as f64;
    counts
        .iter()
        .map(|&c| if total == 0 { 0.0 } else { c as f64 / t })
        .collect()
}

/// `KL(p ‖ q) = Σ p_i (ln(p_i + 1e-8) − ln(q_i + 1e-8))` of two count vectors.
pub fn kl(p: &[u64], q: &[u64]) -> f64 {
    let p = probs(p);
    let q = probs(q);
    p.iter()
        .zip(&q)
        .map(|(a, b)| a * ((a + EPS).ln() - (b + EPS).ln()))
        .sum()
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

impl Built {
    fn counts(&self, text: &str) -> Vec<(u32, u32)> {
        SCRATCH.with(|s| self.feat.counts(text, &mut s.borrow_mut()))
    }

    /// The targets' bucket counts and document counts: one per `target` entry with
    /// `separate_targets` (each fitted up to `num_tokens_to_fit`, as data-selection fits
    /// separate targets), else one for all entries together (every n-gram).
    fn read_targets(&self) -> Result<Vec<(Vec<u64>, u64)>, StageError> {
        if self.separate {
            self.target
                .iter()
                .map(|t| self.read_target(std::slice::from_ref(t), self.fit_cap))
                .collect()
        } else {
            Ok(vec![self.read_target(&self.target, None)?])
        }
    }

    fn read_target(
        &self,
        paths: &[String],
        cap: Option<u64>,
    ) -> Result<(Vec<u64>, u64), StageError> {
        use datamill_io::read::{ReadOptions, Record, open_unit};
        let files = datamill_io::discover::discover(&self.base, paths)
            .map_err(|e| StageError::config("target", e.to_string()))?;
        let opts = ReadOptions {
            names: FieldNames {
                text: self.target_text_field.clone(),
                id: "id".into(),
            },
            ..Default::default()
        };
        let mut counts = vec![0u64; self.feat.buckets() as usize];
        let mut docs = 0u64;
        // Fitted up to a cap, the files are cut into virtual shards as data-selection's
        // `_fit_bow` cuts them, each shard fitting up to its share of the cap.
        let shards = VirtualShards::new(files.len(), self.num_proc);
        let cap = shard_cap(cap, &shards);
        let mut shard_total = vec![0u64; shards.total()];
        let mut shard_closed = vec![false; shards.total()];
        let io = |e: datamill_io::IoError| StageError::config("target", e.to_string());
        for (f, path) in files.into_iter().enumerate() {
            let mut j = 0usize;
            let label = path.display().to_string();
            let file = datamill_io::plan::describe(path, label, None).map_err(io)?;
            let units = datamill_io::plan::plan_file(&file, 0, u64::MAX, &self.target_text_field)
                .map_err(io)?;
            'units: for unit in units {
                let mut r = open_unit(&file, &unit, &opts, Arc::default()).map_err(io)?;
                while let Some(rec) = r.next_record().map_err(io)? {
                    match rec {
                        Record::Doc(doc, _) => {
                            let s = shards.shard(f, j);
                            j += 1;
                            if shard_closed[s] {
                                let (base, n) = (shards.shard(f, 0), shards.count(f));
                                if shard_closed[base..base + n].iter().all(|&c| c) {
                                    break 'units;
                                }
                                continue;
                            }
                            docs += 1;
                            for (b, c) in self.counts(doc.text()) {
                                counts[b as usize] += u64::from(c);
                                shard_total[s] += u64::from(c);
                            }
                            // As the raw fit: a shard stops after the document that passes
                            // its cap.
                            if cap.is_some_and(|c| shard_total[s] > c) {
                                shard_closed[s] = true;
                            }
                        }
                        Record::Blank => {}
                        Record::Bad(b) => {
                            return Err(StageError::config(
                                "target",
                                format!("{}: {} ({})", b.location, b.message, b.reason),
                            ));
                        }
                    }
                }
            }
        }
        if counts.iter().all(|&c| c == 0) {
            return Err(StageError::config(
                "target",
                format!(
                    "the target documents hold no n-grams ({})",
                    paths.join(", ")
                ),
            ));
        }
        Ok((counts, docs))
    }
}

impl GlobalStage for Built {
    fn transform(&self, state: &[u8]) -> Result<Box<dyn Stage + '_>, StageError> {
        let mut d = Dec::new(state, "dsir decision");
        let named = d.u8()? != 0;
        let n = d.len(18)?;
        let mut by_ref = HashMap::with_capacity(n);
        for _ in 0..n {
            let at = d.u64()?;
            let w = d.f64()?;
            by_ref.insert(at, (w, d.u16()?));
        }
        d.end()?;
        Ok(Box::new(WriteWeight {
            by_ref,
            field: &self.weight_field,
            targets: named.then_some(&self.target[..]),
        }))
    }

    fn summarize(&self, doc: &Doc, out: &mut Vec<u8>) -> Result<(), StageError> {
        let tokens = match self.amount {
            Amount::Tokens(_) => match doc.get_value(&self.token_field) {
                Some(serde_json::Value::Number(n)) => match n.as_u64() {
                    Some(t) => t + 1,
                    None => n.as_f64().filter(|f| *f >= 0.0).map_or(0, |f| f as u64 + 1),
                },
                _ => 0,
            },
            _ => 0,
        };
        put_varint(out, tokens);
        let counts = self.counts(doc.text());
        put_varint(out, counts.len() as u64);
        let mut prev = 0u32;
        for (b, c) in counts {
            put_varint(out, u64::from(b - prev));
            put_varint(out, u64::from(c));
            prev = b;
        }
        Ok(())
    }

    fn decider(&self, cx: &DecideCx) -> Result<Box<dyn Decider + '_>, StageError> {
        let targets = self.read_targets()?;
        let nb = self.feat.buckets() as usize;
        let store = if cx.work_dir.as_os_str().is_empty() {
            Store::Mem(Vec::new())
        } else {
            std::fs::create_dir_all(&cx.work_dir).map_err(|e| StageError::Io {
                context: format!("creating {}", cx.work_dir.display()),
                source: e,
            })?;
            let path = cx.work_dir.join("dsir_features.bin");
            let f = std::fs::File::create(&path).map_err(|e| StageError::Io {
                context: format!("creating {}", path.display()),
                source: e,
            })?;
            Store::File(path, BufWriter::with_capacity(1 << 20, f))
        };
        Ok(Box::new(DsirDecider {
            b: self,
            report: cx.report.clone(),
            targets,
            raw: vec![0; nb],
            files: Vec::new(),
            file: None,
            store,
            refs: Vec::new(),
            lengths: Vec::new(),
            tokens: Vec::new(),
            pairs: Vec::new(),
        }))
    }
}

enum Store {
    Mem(Vec<u8>),
    File(PathBuf, BufWriter<std::fs::File>),
}

impl Store {
    fn push(&mut self, summary: &[u8]) -> Result<(), StageError> {
        let mut len = Vec::with_capacity(5);
        put_varint(&mut len, summary.len() as u64);
        match self {
            Store::Mem(v) => {
                v.extend_from_slice(&len);
                v.extend_from_slice(summary);
                Ok(())
            }
            Store::File(p, w) => w
                .write_all(&len)
                .and_then(|_| w.write_all(summary))
                .map_err(|e| StageError::Io {
                    context: format!("writing {}", p.display()),
                    source: e,
                }),
        }
    }

    /// Calls `f` on every stored summary, in order.
    fn for_each(
        &mut self,
        mut f: impl FnMut(usize, &[u8]) -> Result<(), StageError>,
    ) -> Result<(), StageError> {
        match self {
            Store::Mem(v) => {
                let mut pos = 0;
                let mut i = 0;
                while pos < v.len() {
                    let n = get_varint(v, &mut pos)? as usize;
                    f(i, &v[pos..pos + n])?;
                    pos += n;
                    i += 1;
                }
                Ok(())
            }
            Store::File(p, w) => {
                let ioe = |e: std::io::Error| StageError::Io {
                    context: format!("reading {}", p.display()),
                    source: e,
                };
                w.flush().map_err(ioe)?;
                let mut r =
                    BufReader::with_capacity(1 << 20, std::fs::File::open(&*p).map_err(ioe)?);
                let mut buf = Vec::new();
                let mut i = 0;
                loop {
                    // varint length
                    let mut n = 0u64;
                    let mut shift = 0;
                    let mut byte = [0u8; 1];
                    loop {
                        match r.read(&mut byte).map_err(ioe)? {
                            0 if shift == 0 => return Ok(()),
                            0 => return Err(StageError::Other("dsir: truncated work file".into())),
                            _ => {}
                        }
                        n |= u64::from(byte[0] & 0x7f) << shift;
                        if byte[0] < 0x80 {
                            break;
                        }
                        shift += 7;
                    }
                    buf.resize(n as usize, 0);
                    r.read_exact(&mut buf).map_err(ioe)?;
                    f(i, &buf)?;
                    i += 1;
                }
            }
        }
    }

    fn remove(&self) {
        if let Store::File(p, _) = self {
            let _ = std::fs::remove_file(p);
        }
    }
}

struct DsirDecider<'a> {
    b: &'a Built,
    report: ReportSink,
    /// Per target: bucket counts and documents (one target unless `separate_targets`).
    targets: Vec<(Vec<u64>, u64)>,
    raw: Vec<u64>,
    /// Per document: its raw file, numbered from 0 in input order.
    files: Vec<u32>,
    /// The input file of the current unit (as the executor numbers it) and its number here.
    file: Option<(u32, u32)>,
    store: Store,
    refs: Vec<DocRef>,
    lengths: Vec<u64>,
    tokens: Vec<u64>,
    pairs: Vec<(u32, u32)>,
}

impl Decider for DsirDecider<'_> {
    fn begin_unit(&mut self, _unit: u32, file: u32) {
        self.file = match self.file {
            None => Some((file, 0)),
            Some((f, n)) if f == file => Some((f, n)),
            Some((_, n)) => Some((file, n + 1)),
        };
    }

    fn observe(&mut self, at: DocRef, summary: &[u8], _: &mut Verdicts) -> Result<(), StageError> {
        let tokens = decode(summary, &mut self.pairs)?;
        let mut total = 0u64;
        for &(b, c) in &self.pairs {
            let b = b as usize;
            if b >= self.raw.len() {
                return Err(StageError::Other("dsir: corrupt summary (bucket)".into()));
            }
            self.raw[b] += u64::from(c);
            total += u64::from(c);
        }
        self.files.push(self.file.map_or(0, |f| f.1));
        self.store.push(summary)?;
        self.refs.push(at);
        self.lengths.push(self.b.feat.length(total));
        self.tokens.push(tokens);
        Ok(())
    }

    fn finish(&mut self, v: &mut Verdicts) -> Result<Option<Vec<u8>>, StageError> {
        let b = self.b;
        let nt = self.targets.len();
        let n = self.refs.len();
        // data-selection's virtual shards of the raw files: each fits the raw model up to its
        // share of the cap, and the examples are ordered shard by shard.
        let n_files = self.files.last().map_or(1, |&f| f as usize + 1);
        let shards = VirtualShards::new(n_files, b.num_proc);
        // Per document: its index in its file; and the documents in data-selection's order.
        let mut in_file = Vec::with_capacity(n);
        let mut order: Vec<usize> = Vec::with_capacity(n);
        {
            let mut start = 0;
            while start < n {
                let f = self.files[start];
                let end = start + self.files[start..].iter().take_while(|&&x| x == f).count();
                in_file.extend(0..end - start);
                let count = shards.count(f as usize);
                for r in 0..count {
                    order.extend((start + r..end).step_by(count));
                }
                start = end;
            }
        }
        let mut pairs = std::mem::take(&mut self.pairs);
        let (fit, fit_total) = match shard_cap(b.fit_cap, &shards) {
            None => (self.raw.clone(), self.raw.iter().sum::<u64>()),
            Some(cap) => {
                let mut fit = vec![0u64; self.raw.len()];
                let mut shard_total = vec![0u64; shards.total()];
                let mut closed = vec![false; shards.total()];
                let (files, in_file) = (&self.files, &in_file);
                self.store.for_each(|i, s| {
                    let sh = shards.shard(files[i] as usize, in_file[i]);
                    if closed[sh] {
                        return Ok(());
                    }
                    decode(s, &mut pairs)?;
                    for &(bk, c) in pairs.iter() {
                        fit[bk as usize] += u64::from(c);
                        shard_total[sh] += u64::from(c);
                    }
                    // A shard stops after the document that takes its count past its cap.
                    closed[sh] = shard_total[sh] > cap;
                    Ok(())
                })?;
                (fit, shard_total.iter().sum())
            }
        };
        let log_diffs: Vec<Vec<f64>> = self
            .targets
            .iter()
            .map(|(t, _)| log_diff(t, &fit))
            .collect();
        // weights[i * nt + t]: document i's log importance weight for target t.
        let mut weights = vec![0f64; n * nt];
        self.store.for_each(|i, s| {
            decode(s, &mut pairs)?;
            for (t, ld) in log_diffs.iter().enumerate() {
                weights[i * nt + t] = log_weight(ld, &pairs);
            }
            Ok(())
        })?;

        // Eligible documents, in data-selection's order (the input order with one virtual
        // shard per file).
        let mut eligible: Vec<usize> = Vec::new();
        let mut tokens_missing = 0u64;
        for &i in &order {
            if self.lengths[i] < b.min_len {
                v.drop(self.refs[i], "dsir_too_short");
            } else if matches!(b.amount, Amount::Tokens(_)) && self.tokens[i] == 0 {
                v.drop(self.refs[i], "dsir_tokens_missing");
                tokens_missing += 1;
            } else {
                eligible.push(i);
            }
        }
        // How many each target selects: data-selection's `int(num * p)`, the rest to the last.
        let num = match b.amount {
            Amount::K(k) => k,
            Amount::Fraction(f) => (f * n as f64).floor() as u64,
            Amount::Tokens(_) => u64::MAX,
        };
        let shares: Vec<f64> = match &b.proportions {
            Some(p) => {
                let sum = datamill_npsort::np_sum(p);
                p.iter().map(|x| x / sum).collect()
            }
            None => {
                let totals: Vec<u64> = self.targets.iter().map(|(c, _)| c.iter().sum()).collect();
                let sum: u64 = totals.iter().sum();
                totals.iter().map(|&t| t as f64 / sum as f64).collect()
            }
        };
        let quotas: Vec<u64> = if nt == 1 {
            vec![num]
        } else {
            let mut q: Vec<u64> = shares.iter().map(|p| (num as f64 * p) as u64).collect();
            let rest = num - q.iter().sum::<u64>();
            *q.last_mut().expect("targets") += rest;
            q
        };
        // Target by target, the best of the documents not chosen yet: weight plus Gumbel noise
        // (one numpy stream, drawn over the candidates in input order, only for targets with
        // a quota), ties to the earlier document.
        let mut chosen: Vec<Option<u16>> = vec![None; n];
        let mut per_target = vec![0u64; nt];
        let mut sel_docs = 0u64;
        let mut sel_tokens = 0u64;
        let mut rng = Mt19937::new(b.seed);
        for (t, &quota) in quotas.iter().enumerate() {
            if quota == 0 {
                continue;
            }
            let cands: Vec<usize> = eligible
                .iter()
                .copied()
                .filter(|&i| chosen[i].is_none())
                .collect();
            let mut keys: Vec<f64> = cands.iter().map(|&i| weights[i * nt + t]).collect();
            if !b.top_k {
                for k in keys.iter_mut() {
                    *k += rng.gumbel();
                }
            }
            match b.amount {
                Amount::Tokens(budget) => {
                    // Best first (ties: the earlier document) while the budget holds.
                    let mut order: Vec<usize> = (0..cands.len()).collect();
                    order.sort_by(|&x, &y| keys[y].total_cmp(&keys[x]).then(x.cmp(&y)));
                    for &o in &order {
                        let tok = self.tokens[cands[o]] - 1;
                        if sel_tokens + tok > budget {
                            break;
                        }
                        sel_tokens += tok;
                        chosen[cands[o]] = Some(t as u16);
                        per_target[t] += 1;
                    }
                }
                _ => {
                    // data-selection: `np.argpartition(-keys, quota)[:quota]`; the set is
                    // numpy's (AVX-512) even when equal keys straddle the cut.
                    let take: Vec<usize> = if quota as usize >= cands.len() {
                        (0..cands.len()).collect()
                    } else {
                        let neg: Vec<f64> = keys.iter().map(|k| -k).collect();
                        let mut a = datamill_npsort::np_argpartition(&neg, quota as usize);
                        a.truncate(quota as usize);
                        a
                    };
                    for o in take {
                        chosen[cands[o]] = Some(t as u16);
                        per_target[t] += 1;
                    }
                }
            }
            sel_docs += per_target[t];
        }
        for &i in &eligible {
            if chosen[i].is_none() {
                v.drop(self.refs[i], "dsir_not_selected");
            }
        }

        // Baselines: as many eligible documents drawn uniformly at random (the smallest
        // xxh3(seed, target, position) first), so the KL of a selection can be judged at any
        // scale; index nt = the whole selection.
        let random_subset = |salt: u64, size: u64| -> Vec<bool> {
            let mut by_hash: Vec<(u64, usize)> = eligible
                .iter()
                .map(|&i| {
                    let mut key = [0u8; 24];
                    key[..8].copy_from_slice(&u64::from(b.seed).to_le_bytes());
                    key[8..16].copy_from_slice(&(i as u64).to_le_bytes());
                    key[16..].copy_from_slice(&salt.to_le_bytes());
                    (xxhash_rust::xxh3::xxh3_64(&key), i)
                })
                .collect();
            by_hash.sort_unstable();
            let mut r = vec![false; n];
            for &(_, i) in by_hash.iter().take(size as usize) {
                r[i] = true;
            }
            r
        };
        let random_all = random_subset(u64::MAX, sel_docs);
        let random_t: Vec<Vec<bool>> = if nt > 1 {
            (0..nt)
                .map(|t| random_subset(t as u64, per_target[t]))
                .collect()
        } else {
            Vec::new()
        };
        // Bucket distributions of the selection (all, per target) and of the baselines.
        let nb = self.raw.len();
        let mut sel_counts = vec![0u64; nb];
        let mut random_counts = vec![0u64; nb];
        let mut sel_t = vec![vec![0u64; nb]; if nt > 1 { nt } else { 0 }];
        let mut rnd_t = vec![vec![0u64; nb]; if nt > 1 { nt } else { 0 }];
        let mut sel_words = 0u64;
        let mut by_ref: HashMap<u64, (f64, u16)> = HashMap::new();
        let want_map = !b.weight_field.is_empty();
        self.store.for_each(|i, s| {
            let in_random_t = random_t.iter().any(|r| r[i]);
            if chosen[i].is_none() && !random_all[i] && !in_random_t {
                return Ok(());
            }
            decode(s, &mut pairs)?;
            let add = |to: &mut Vec<u64>| {
                for &(bk, c) in pairs.iter() {
                    to[bk as usize] += u64::from(c);
                }
            };
            if random_all[i] {
                add(&mut random_counts);
            }
            for (t, r) in random_t.iter().enumerate() {
                if r[i] {
                    add(&mut rnd_t[t]);
                }
            }
            if let Some(t) = chosen[i] {
                if want_map {
                    by_ref.insert(
                        crate::dedup::pack(self.refs[i]),
                        (weights[i * nt + t as usize], t),
                    );
                }
                add(&mut sel_counts);
                if nt > 1 {
                    add(&mut sel_t[t as usize]);
                }
                sel_words += self.lengths[i];
            }
            Ok(())
        })?;
        self.store.remove();
        // The pooled target (every target's n-grams) for the overall figures.
        let mut pooled = vec![0u64; nb];
        for (c, _) in &self.targets {
            for (p, x) in pooled.iter_mut().zip(c) {
                *p += x;
            }
        }
        let kl_raw = kl(&pooled, &self.raw);
        let kl_sel = kl(&pooled, &sel_counts);
        let kl_random = kl(&pooled, &random_counts);
        {
            let mut report = serde_json::json!({
                "docs": n,
                "eligible": eligible.len(),
                "too_short": n - eligible.len() - tokens_missing as usize,
                "tokens_missing": tokens_missing,
                "selected": sel_docs,
                "selected_words": sel_words,
                "selected_tokens": matches!(b.amount, Amount::Tokens(_)).then_some(sel_tokens),
                "raw_ngrams": self.raw.iter().sum::<u64>(),
                "raw_ngrams_fitted": fit_total,
                "raw_files": n_files,
                "virtual_shards": shards.total(),
                "target_docs": self.targets.iter().map(|t| t.1).sum::<u64>(),
                "target_ngrams": pooled.iter().sum::<u64>(),
                "kl_to_target": kl_figures(kl_sel, kl_random, kl_raw),
                "top_k": b.top_k,
                "seed": b.seed,
            });
            if nt > 1 {
                report["targets"] = (0..nt)
                    .map(|t| {
                        let c = &self.targets[t].0;
                        let (r, s, x) = (kl(c, &self.raw), kl(c, &sel_t[t]), kl(c, &rnd_t[t]));
                        serde_json::json!({
                            "target": b.target[t],
                            "docs": self.targets[t].1,
                            "ngrams": c.iter().sum::<u64>(),
                            "share": shares[t],
                            "quota": quotas[t],
                            "selected": per_target[t],
                            "kl_to_target": kl_figures(s, x, r),
                        })
                    })
                    .collect();
            }
            self.report.json("dsir.json", &report)?;
        }
        if b.weight_field.is_empty() {
            return Ok(None);
        }
        // The transform's state: whether targets are named, then (document, weight, target)
        // of every selected document, in input order.
        let mut sel: Vec<(u64, (f64, u16))> = by_ref.into_iter().collect();
        sel.sort_unstable_by_key(|s| s.0);
        let mut e = Enc::default();
        e.u8(u8::from(nt > 1));
        e.len(sel.len());
        for (at, (w, t)) in sel {
            e.u64(at);
            e.f64(w);
            e.u16(t);
        }
        Ok(Some(e.finish()))
    }
}

/// What the report says about closeness to the target, the verdict first: the KL divergence
/// from the target of the selection (`selected`), of as many documents drawn at random
/// (`random`) and of every document reaching the stage (`raw`), and the two gains (drops in
/// KL: positive = the selection is closer to the target).
fn kl_figures(selected: f64, random: f64, raw: f64) -> serde_json::Value {
    serde_json::json!({
        "about": "KL(target || X) over the hashed n-gram buckets; lower is closer to the \
            target. A gain is a drop in KL: positive means the selection is closer to the \
            target than X. gain_over_random is the verdict on the selection; gain_over_raw is \
            the paper's 'KL reduction', negative for small selections even when they are good \
            (the buckets they never hit dominate).",
        "gain_over_random": random - selected,
        "gain_over_raw": raw - selected,
        "selected": selected,
        "random_same_size": random,
        "raw": raw,
    })
}

/// The transform run on kept documents: writes the weight the selection used (and, with
/// several targets, the target whose share chose the document), found by document reference.
struct WriteWeight<'a> {
    by_ref: HashMap<u64, (f64, u16)>,
    field: &'a str,
    targets: Option<&'a [String]>,
}

impl Stage for WriteWeight<'_> {
    fn process(&self, doc: &mut Doc, cx: &mut StageCx) -> Result<Verdict, StageError> {
        let found = cx
            .doc_ref()
            .and_then(|at| self.by_ref.get(&crate::dedup::pack(at)));
        let Some(&(w, t)) = found else {
            return Err(StageError::Other(
                "dsir: a kept document the selection does not know (a bug)".into(),
            ));
        };
        doc.set(self.field, &w);
        if let Some(names) = &self.targets {
            doc.set("dsir_target", &names[t as usize]);
        }
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests;
