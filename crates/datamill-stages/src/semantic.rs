//! Shared machinery of the embedding stages (`embed` and the semantic stages that read its
//! store): the lazily loaded encoder and where a run's embedding stores live.

use crate::BuildCx;
use crate::dedup::resolve;
use datamill_core::{DecideCx, StageError};
use datamill_embed::{Encoder, EncoderOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// An encoder loaded on first use (so `datamill stages` and pipelines that never reach the
/// stage do not pay for it); a load failure is reported by every call.
pub(crate) struct LazyEncoder {
    dir: PathBuf,
    opts: EncoderOptions,
    cell: OnceLock<Result<Arc<Encoder>, String>>,
}

impl LazyEncoder {
    /// Checks the `model` parameter and remembers the folder, resolved against the pipeline.
    pub(crate) fn new(cx: &BuildCx, model: &str, opts: EncoderOptions) -> Result<Self, StageError> {
        if model.is_empty() {
            return Err(StageError::config(
                "model",
                "required: a model folder (config.json, model.safetensors, tokenizer.json), \
                 relative to the pipeline file",
            ));
        }
        Ok(LazyEncoder {
            dir: resolve(&cx.base_dir, model),
            opts,
            cell: OnceLock::new(),
        })
    }

    /// The encoder, loading it the first time.
    pub(crate) fn get(&self) -> Result<&Arc<Encoder>, StageError> {
        self.cell
            .get_or_init(|| {
                Encoder::load(&self.dir, &self.opts)
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| StageError::Other(e.clone()))
    }

    /// The model folder.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }
}

/// The run's output folder, from the report folder the executor gives a decider
/// (`OUT/reports/<stage>`); `None` outside the executor (an in-memory report sink).
pub(crate) fn run_output_dir(cx: &DecideCx) -> Option<&Path> {
    cx.report.folder()?.parent()?.parent()
}

/// The stage's name in this run (`embed`, `embed-2`, ...), from its report folder.
pub(crate) fn stage_name(cx: &DecideCx) -> Option<String> {
    cx.report
        .folder()?
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
}

/// Where the `embed` stage named `name` of this run writes its store: `OUT/embeddings/<name>`.
pub(crate) fn run_store_dir(out: &Path, name: &str) -> PathBuf {
    out.join("embeddings").join(name)
}

/// Where a semantic stage reads embeddings from (its `embeddings` parameter).
#[derive(Clone, Debug)]
pub(crate) enum StoreRef {
    /// The store of an `embed` stage of this run, by its name (`embed`, `embed-2`).
    Stage(String),
    /// A store folder (relative paths resolved against the pipeline folder).
    Path(PathBuf),
}

impl StoreRef {
    /// Parses the parameter: a bare name (letters, digits, `_`, `-`) names a stage of this
    /// run, anything else is a folder.
    pub(crate) fn parse(cx: &BuildCx, v: &str) -> Result<StoreRef, StageError> {
        if v.is_empty() {
            return Err(StageError::config(
                "embeddings",
                "required: the name of an earlier `embed` stage (\"embed\") or a store folder",
            ));
        }
        if v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            Ok(StoreRef::Stage(v.to_string()))
        } else {
            Ok(StoreRef::Path(resolve(&cx.base_dir, v)))
        }
    }

    /// The store folder for a decider.
    pub(crate) fn dir(&self, cx: &DecideCx) -> Result<PathBuf, StageError> {
        match self {
            StoreRef::Path(p) => Ok(p.clone()),
            StoreRef::Stage(name) => run_output_dir(cx)
                .map(|out| run_store_dir(out, name))
                .ok_or_else(|| {
                    StageError::Other(format!(
                        "embeddings = {name:?} names a stage of this run, but the stage runs \
                         outside a run (no output folder)"
                    ))
                }),
        }
    }
}

/// The embeddings of a stage's documents, in its input order: rows of a store picked by id,
/// L2-normalized on read (in float64, rounded to float32, as NeMo Curator normalizes).
pub(crate) struct Gathered {
    pub store: datamill_embed::store::Store,
    /// Store row of each document, input order.
    pub rows: Vec<u64>,
}

impl Gathered {
    /// Opens the store and finds every id in it; a missing id is an error naming it.
    pub(crate) fn open(dir: &Path, ids: &[String]) -> Result<Gathered, StageError> {
        let err = |e: datamill_embed::EmbedError| StageError::Other(e.to_string());
        let store = datamill_embed::store::Store::open(dir).map_err(err)?;
        let index = store.id_index().map_err(err)?;
        let mut rows = Vec::with_capacity(ids.len());
        for id in ids {
            match index.get(id.as_str()) {
                Some(&r) => rows.push(r),
                None => {
                    return Err(StageError::Other(format!(
                        "document {id:?} has no embedding in {} (was the store made from \
                         other documents, or were ids changed?)",
                        dir.display()
                    )));
                }
            }
        }
        drop(index);
        Ok(Gathered { store, rows })
    }
}

impl datamill_embed::kmeans::Rows for Gathered {
    fn len(&self) -> usize {
        self.rows.len()
    }
    fn dim(&self) -> usize {
        self.store.meta().dim
    }
    fn read(&self, start: usize, n: usize, out: &mut Vec<f32>) -> datamill_embed::Result<()> {
        read_normalized(&self.store, &self.rows[start..start + n], out)
    }
}

/// Reads the given store rows, each L2-normalized (a zero vector is an error).
pub(crate) fn read_normalized(
    store: &datamill_embed::store::Store,
    rows: &[u64],
    out: &mut Vec<f32>,
) -> datamill_embed::Result<()> {
    let d = store.meta().dim;
    out.clear();
    out.reserve(rows.len() * d);
    let mut one = Vec::with_capacity(d);
    // Consecutive rows are read together.
    let mut i = 0;
    while i < rows.len() {
        let mut j = i + 1;
        while j < rows.len() && rows[j] == rows[j - 1] + 1 && j - i < 4096 {
            j += 1;
        }
        store.read_rows(rows[i], j - i, &mut one)?;
        for (k, v) in one.chunks_exact(d).enumerate() {
            let n = v.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
            if n == 0.0 {
                return Err(datamill_embed::EmbedError::Invalid(format!(
                    "embedding of {:?} is the zero vector",
                    store.ids()[rows[i + k] as usize]
                )));
            }
            out.extend(v.iter().map(|&x| (x as f64 / n) as f32));
        }
        i = j;
    }
    Ok(())
}

/// Converts an embedding-crate error into a stage error.
pub(crate) fn emb_err(e: datamill_embed::EmbedError) -> StageError {
    StageError::Other(e.to_string())
}

/// Rows of a [`Gathered`] picked by position.
pub(crate) struct Sub<'a> {
    pub g: &'a Gathered,
    pub pick: Vec<usize>,
}

impl datamill_embed::kmeans::Rows for Sub<'_> {
    fn len(&self) -> usize {
        self.pick.len()
    }
    fn dim(&self) -> usize {
        self.g.store.meta().dim
    }
    fn read(&self, start: usize, n: usize, out: &mut Vec<f32>) -> datamill_embed::Result<()> {
        let rows: Vec<u64> = self.pick[start..start + n]
            .iter()
            .map(|&i| self.g.rows[i])
            .collect();
        read_normalized(&self.g.store, &rows, out)
    }
}

/// The `n` documents with the smallest seeded hash of their id, in input order.
pub(crate) fn hashed_sample(ids: &[String], n: usize, seed: u64) -> Vec<usize> {
    if n >= ids.len() {
        return (0..ids.len()).collect();
    }
    let mut h: Vec<(u64, usize)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (xxhash_rust::xxh3::xxh3_64_with_seed(id.as_bytes(), seed), i))
        .collect();
    h.select_nth_unstable(n - 1);
    let mut pick: Vec<usize> = h[..n].iter().map(|p| p.1).collect();
    pick.sort_unstable();
    pick
}

/// How k-means starts.
#[derive(Clone, Debug)]
pub(crate) enum Init {
    /// k-means++ over a seeded sample.
    PlusPlus,
    /// Seeded distinct documents.
    Random,
    /// A float32 `(k, dim)` `.npy` of centroids.
    File(PathBuf),
}

/// The k-means settings every semantic stage shares (`n_clusters`, `max_iter`, `tol`, `seed`,
/// `init`, `init_sample`, `kmeans_sample`): NeMo Curator's cuVS loop on the L2-normalized
/// vectors, trained on a seeded sample, then every document assigned.
#[derive(Clone, Debug)]
pub(crate) struct KMeansSpec {
    pub n_clusters: usize,
    pub max_iter: usize,
    pub tol: f64,
    pub seed: u64,
    pub init: Init,
    pub init_sample: usize,
    pub kmeans_sample: Option<usize>,
    pub threads: usize,
    /// The stage's type, for error messages.
    pub stage: &'static str,
}

/// A clustering of a stage's documents (input order).
pub(crate) struct Clustered {
    pub km: datamill_embed::kmeans::KMeans,
    pub labels: Vec<u32>,
    /// Documents k-means trained on.
    pub trained_on: usize,
}

impl KMeansSpec {
    /// Checks the shared k-means parameters; returns the parsed `init`.
    pub(crate) fn check(
        cx: &BuildCx,
        n_clusters: usize,
        max_iter: usize,
        tol: f64,
        init: &str,
        init_sample: usize,
        kmeans_sample: Option<usize>,
    ) -> Result<Init, StageError> {
        if n_clusters == 0 {
            return Err(StageError::config("n_clusters", "must be at least 1"));
        }
        if max_iter == 0 {
            return Err(StageError::config("max_iter", "must be at least 1"));
        }
        if tol.is_nan() || tol < 0.0 {
            return Err(StageError::config("tol", "must be a number >= 0"));
        }
        if kmeans_sample.is_some_and(|s| s < n_clusters) {
            return Err(StageError::config(
                "kmeans_sample",
                "must be at least n_clusters",
            ));
        }
        if init_sample < n_clusters {
            return Err(StageError::config(
                "init_sample",
                "must be at least n_clusters",
            ));
        }
        Ok(match init {
            "k-means++" => Init::PlusPlus,
            "random" => Init::Random,
            "" => return Err(StageError::config("init", "must not be empty")),
            p => Init::File(resolve(&cx.base_dir, p)),
        })
    }

    /// Trains k-means on the documents `ids` (rows of `g`) and assigns every one of them.
    pub(crate) fn cluster(&self, g: &Gathered, ids: &[String]) -> Result<Clustered, StageError> {
        use datamill_embed::kmeans::{self, KMeansParams, Rows, StopRule};
        let n = ids.len();
        let d = g.store.meta().dim;
        let k = self.n_clusters;
        if n < k {
            return Err(StageError::Other(format!(
                "{}: {n} documents for n_clusters = {k}; lower n_clusters",
                self.stage
            )));
        }
        let train = Sub {
            g,
            pick: hashed_sample(ids, self.kmeans_sample.unwrap_or(n), self.seed),
        };
        let init_c: Vec<f32> = match &self.init {
            Init::File(p) => {
                let cents = datamill_embed::store::read_npy_f32(p, d)
                    .map_err(|e| StageError::config("init", e.to_string()))?;
                if cents.len() != k * d {
                    return Err(StageError::config(
                        "init",
                        format!(
                            "{} holds {} centroids, n_clusters is {k}",
                            p.display(),
                            cents.len() / d
                        ),
                    ));
                }
                cents
            }
            Init::Random => {
                let pick = hashed_sample(ids, k, self.seed ^ 0x5eed);
                let mut out = Vec::new();
                Sub { g, pick }.read(0, k, &mut out).map_err(emb_err)?;
                out
            }
            Init::PlusPlus => {
                let sub = hashed_sample(ids, self.init_sample, self.seed ^ 0x1417);
                kmeans::kmeans_plusplus(&Sub { g, pick: sub }, k, self.seed).map_err(emb_err)?
            }
        };
        let params = KMeansParams {
            max_iter: self.max_iter,
            tol: self.tol,
            stop: StopRule::Cuvs,
            threads: self.threads,
        };
        let km = kmeans::fit(&train, &init_c, &params).map_err(emb_err)?;
        let (labels, _) = kmeans::assign(g, &km.centroids, self.threads).map_err(emb_err)?;
        Ok(Clustered {
            km,
            labels,
            trained_on: train.pick.len(),
        })
    }
}

/// The summary every semantic stage writes: the document's id (its row is found in the store).
pub(crate) fn summarize_id(doc: &datamill_core::Doc, out: &mut Vec<u8>) {
    out.extend_from_slice(doc.id().as_bytes());
}

/// Reads back a [`summarize_id`] summary.
pub(crate) fn summary_id<'s>(stage: &str, summary: &'s [u8]) -> Result<&'s str, StageError> {
    std::str::from_utf8(summary).map_err(|_| StageError::Other(format!("{stage}: corrupt summary")))
}

/// Per-document distances (float64) of the L2-normalized vectors of `g` to their centroid:
/// `cosine` = `1 - x . c / (|x| |c|)` (scipy's `distance.cosine`, raw centroid), `l2` =
/// `|x - c|`. Vectors are streamed in chunks.
pub(crate) fn centroid_distances(
    g: &Gathered,
    centroids: &[f32],
    labels: &[u32],
    cosine: bool,
) -> Result<Vec<f64>, StageError> {
    use datamill_embed::kmeans::{CHUNK, Rows};
    let d = g.store.meta().dim;
    let n = labels.len();
    let cent: Vec<f64> = centroids.iter().map(|&v| v as f64).collect();
    let cnorm: Vec<f64> = cent
        .chunks_exact(d)
        .map(|c| c.iter().map(|v| v * v).sum::<f64>().sqrt())
        .collect();
    let mut out = vec![0f64; n];
    let mut buf = Vec::new();
    for s in (0..n).step_by(CHUNK) {
        let m = CHUNK.min(n - s);
        g.read(s, m, &mut buf).map_err(emb_err)?;
        for (i, x) in buf.chunks_exact(d).enumerate() {
            let l = labels[s + i] as usize;
            let c = &cent[l * d..(l + 1) * d];
            out[s + i] = if cosine {
                let dot: f64 = x.iter().zip(c).map(|(a, b)| *a as f64 * b).sum();
                let nx = x.iter().map(|&a| a as f64 * a as f64).sum::<f64>().sqrt();
                1.0 - dot / (nx * cnorm[l])
            } else {
                x.iter()
                    .zip(c)
                    .map(|(a, b)| (*a as f64 - b).powi(2))
                    .sum::<f64>()
                    .sqrt()
            };
        }
    }
    Ok(out)
}

/// Opens a store of reference vectors (targets, test sets) and checks it against the
/// documents' store: same dimension, at least one row. `param` names the stage parameter.
pub(crate) fn open_reference(
    dir: &Path,
    dim: usize,
    param: &str,
) -> Result<datamill_embed::store::Store, StageError> {
    let s = datamill_embed::store::Store::open(dir)
        .map_err(|e| StageError::config(param, e.to_string()))?;
    if s.meta().dim != dim {
        return Err(StageError::config(
            param,
            format!(
                "{} holds {}-dimensional embeddings, the documents' store {}: both must come \
                 from the same model",
                dir.display(),
                s.meta().dim,
                dim
            ),
        ));
    }
    if s.is_empty() {
        return Err(StageError::config(
            param,
            format!("{} holds no embeddings", dir.display()),
        ));
    }
    Ok(s)
}

/// For every document of `g` (input order): the largest cosine similarity to a row of
/// `reference` (float64 on the L2-normalized vectors) and the first row reaching it. Both
/// sides are streamed in blocks of [`datamill_embed::kmeans::CHUNK`] rows.
pub(crate) fn max_similarity(
    g: &Gathered,
    reference: &datamill_embed::store::Store,
) -> Result<(Vec<f64>, Vec<u32>), StageError> {
    use datamill_embed::kmeans::{CHUNK, Rows, dot_rows};
    let d = g.store.meta().dim;
    let n = g.rows.len();
    let t = reference.len();
    let mut best = vec![f64::NEG_INFINITY; n];
    let mut arg = vec![0u32; n];
    let (mut xb, mut rb, mut prod) = (Vec::new(), Vec::new(), Vec::new());
    let all: Vec<u64> = (0..t as u64).collect();
    for rs in (0..t).step_by(CHUNK) {
        let re = (rs + CHUNK).min(t);
        read_normalized(reference, &all[rs..re], &mut rb).map_err(emb_err)?;
        let r64: Vec<f64> = rb.iter().map(|&v| v as f64).collect();
        for s in (0..n).step_by(CHUNK) {
            let m = CHUNK.min(n - s);
            g.read(s, m, &mut xb).map_err(emb_err)?;
            let x64: Vec<f64> = xb.iter().map(|&v| v as f64).collect();
            prod.clear();
            prod.resize(m * (re - rs), 0.0);
            dot_rows(&x64, m, d, &r64, re - rs, &mut prod);
            for i in 0..m {
                for (j, &v) in prod[i * (re - rs)..(i + 1) * (re - rs)].iter().enumerate() {
                    if v > best[s + i] {
                        best[s + i] = v;
                        arg[s + i] = (rs + j) as u32;
                    }
                }
            }
        }
    }
    Ok((best, arg))
}

/// A selection budget shared by the embedding selection stages.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Budget {
    /// Documents kept.
    Documents(u64),
    /// Share of the documents kept.
    Fraction(f64),
    /// Summed tokens kept.
    Tokens(u64),
}

impl Budget {
    /// Exactly one of the three budget parameters.
    pub(crate) fn parse(
        documents: Option<u64>,
        fraction: Option<f64>,
        tokens: Option<u64>,
        token_field: &str,
    ) -> Result<Budget, StageError> {
        match (documents, fraction, tokens) {
            (Some(d), None, None) => Ok(Budget::Documents(d)),
            (None, Some(f), None) => {
                if f > 0.0 && f <= 1.0 {
                    Ok(Budget::Fraction(f))
                } else {
                    Err(StageError::config(
                        "fraction",
                        format!("{f} must be in (0, 1]"),
                    ))
                }
            }
            (None, None, Some(t)) => {
                if token_field.is_empty() {
                    Err(StageError::config("token_field", "must not be empty"))
                } else {
                    Ok(Budget::Tokens(t))
                }
            }
            _ => Err(StageError::config(
                "documents",
                "give exactly one budget: documents, fraction or token_budget",
            )),
        }
    }

    /// Writes the summary prefix: the document's token count (NaN when missing; 0 without a
    /// token budget), f64 little-endian.
    pub(crate) fn summarize_tokens(
        &self,
        doc: &datamill_core::Doc,
        token_field: &str,
        out: &mut Vec<u8>,
    ) {
        let t = match self {
            Budget::Tokens(_) => doc
                .get_raw(token_field)
                .and_then(|r| r.parse::<f64>().ok())
                .filter(|t| t.is_finite() && *t >= 0.0)
                .unwrap_or(f64::NAN),
            _ => 0.0,
        };
        out.extend_from_slice(&t.to_le_bytes());
    }
}

/// Splits a budget summary (tokens, id); `None` tokens = missing.
pub(crate) fn split_summary<'s>(
    stage: &str,
    summary: &'s [u8],
) -> Result<(Option<f64>, &'s str), StageError> {
    let bad = || StageError::Other(format!("{stage}: corrupt summary"));
    if summary.len() < 8 {
        return Err(bad());
    }
    let t = f64::from_le_bytes(summary[..8].try_into().expect("8 bytes"));
    let id = std::str::from_utf8(&summary[8..]).map_err(|_| bad())?;
    Ok(((!t.is_nan()).then_some(t), id))
}
