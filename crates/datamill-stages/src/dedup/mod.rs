//! Deduplication: the global stages that remove repeated documents (`exact_dedup`,
//! `minhash_dedup`), lines and paragraphs (`line_dedup`, `bloom_dedup`) and spans
//! (`substring_dedup`), and their shared machinery: external sorting under a memory budget
//! ([`spill`]), the versioned on-disk format of saved dedup indexes ([`index`]), and the text
//! units and normalizations that line and paragraph dedup hash ([`text`]).

pub mod index;
pub mod spill;
pub mod text;

pub mod bloom_dedup;
pub mod exact_dedup;
pub mod line_dedup;
pub mod minhash_dedup;
pub mod substring_dedup;

use datamill_core::{DocRef, StageError};
use std::path::{Path, PathBuf};

/// Packs a [`DocRef`] into a `u64` whose integer order is input order.
pub fn pack(at: DocRef) -> u64 {
    (u64::from(at.unit) << 32) | u64::from(at.index)
}

/// The inverse of [`pack`].
pub fn unpack(p: u64) -> DocRef {
    DocRef {
        unit: (p >> 32) as u32,
        index: p as u32,
    }
}

/// An I/O error as a [`StageError`], naming the path.
pub fn io_err(path: &Path, e: std::io::Error) -> StageError {
    StageError::Io {
        context: path.display().to_string(),
        source: e,
    }
}

/// Resolves a path parameter against the pipeline's folder.
pub fn resolve(base: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// Writes `lines` (JSON values, one per line) to `dir/name` atomically; does nothing when
/// `dir` is empty (a decider run outside the executor, as in unit tests).
pub fn write_report(
    dir: &Path,
    name: &str,
    lines: impl IntoIterator<Item = serde_json::Value>,
) -> Result<(), StageError> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    let mut w = ReportWriter::create(dir, name)?;
    for l in lines {
        w.write(&l)?;
    }
    w.finish()
}

/// A JSONL report file written line by line, renamed into place by [`ReportWriter::finish`].
/// A writer created with an empty folder writes nothing.
pub struct ReportWriter {
    out: Option<(std::io::BufWriter<std::fs::File>, PathBuf, PathBuf)>,
}

impl ReportWriter {
    /// Starts `dir/name` (written to a temporary name first).
    pub fn create(dir: &Path, name: &str) -> Result<ReportWriter, StageError> {
        if dir.as_os_str().is_empty() {
            return Ok(ReportWriter { out: None });
        }
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        let path = dir.join(name);
        let tmp = dir.join(format!(".{name}.tmp"));
        let f = std::fs::File::create(&tmp).map_err(|e| io_err(&tmp, e))?;
        Ok(ReportWriter {
            out: Some((std::io::BufWriter::new(f), tmp, path)),
        })
    }

    /// Appends one JSON line.
    pub fn write(&mut self, v: &serde_json::Value) -> Result<(), StageError> {
        use std::io::Write;
        if let Some((w, tmp, _)) = &mut self.out {
            serde_json::to_writer(&mut *w, v)
                .map_err(std::io::Error::from)
                .and_then(|_| w.write_all(b"\n"))
                .map_err(|e| io_err(tmp, e))?;
        }
        Ok(())
    }

    /// Flushes and renames the file into place.
    pub fn finish(self) -> Result<(), StageError> {
        if let Some((w, tmp, path)) = self.out {
            let f = w.into_inner().map_err(|e| io_err(&tmp, e.into_error()))?;
            drop(f);
            std::fs::rename(&tmp, &path).map_err(|e| io_err(&path, e))?;
        }
        Ok(())
    }
}
