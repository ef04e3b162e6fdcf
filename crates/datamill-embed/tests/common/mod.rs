//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `tests/golden`.
pub fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The shipped samples' MiniLM embeddings (sentence-transformers, stored as float16): rows,
/// count, dim.
pub fn samples_matrix() -> (Vec<f32>, usize, usize) {
    datamill_embed::testing::samples_matrix()
}
