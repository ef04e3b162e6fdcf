//! Deduplication: the global stages that remove repeated documents (`exact_dedup`,
//! `minhash_dedup`), lines and paragraphs (`line_dedup`, `bloom_dedup`), sentence spans (`sentence_dedup`) and
//! spans (`substring_dedup`), near-duplicates in embedding space (`semantic_dedup`), documents near a test set (`semantic_decontaminate`), and their shared machinery: external sorting under a memory budget
//! ([`spill`]), the versioned on-disk format of saved dedup indexes ([`index`]), and the text
//! units and normalizations that line and paragraph dedup hash ([`text`]).

pub mod index;
pub mod spill;
pub mod text;

#[cfg(test)]
mod parity;

pub mod bloom_dedup;
pub mod exact_dedup;
pub mod line_dedup;
pub mod minhash_dedup;
pub mod semantic_decontaminate;
pub mod semantic_dedup;
pub mod sentence_dedup;
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
