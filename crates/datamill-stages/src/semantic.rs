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
