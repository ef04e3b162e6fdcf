//! Error types.

use std::path::PathBuf;

/// Everything that can go wrong when loading a model.
///
/// Every variant names the file (or `<memory>` for [`crate::FastText::from_bytes`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read (missing, permissions, ...).
    #[error("cannot read fastText model '{}': {source}", path.display())]
    Io {
        /// The file that was being read.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not a valid (or not a supported) fastText model.
    #[error("invalid fastText model '{}': {kind}", path.display())]
    Format {
        /// The file that was being parsed.
        path: PathBuf,
        /// What exactly is wrong.
        #[source]
        kind: FormatError,
    },
}

/// What is wrong with the bytes of a model file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FormatError {
    /// The first four bytes are not fastText's magic number.
    #[error(
        "bad magic number {found:#010x} (expected {expected:#010x}): not a fastText .bin/.ftz file"
    )]
    BadMagic {
        /// The value found in the file.
        found: u32,
        /// fastText's magic number.
        expected: u32,
    },
    /// The file format version is not one this reader understands.
    #[error("unsupported fastText file format version {found} (supported: 11 and 12)")]
    UnsupportedVersion {
        /// The version found in the file.
        found: i32,
    },
    /// The file ended in the middle of a field.
    #[error(
        "file truncated while reading {what} at byte offset {offset}: needed {needed} bytes, {available} left"
    )]
    Truncated {
        /// The field being read.
        what: &'static str,
        /// Byte offset of the field.
        offset: usize,
        /// Bytes the field needs.
        needed: u64,
        /// Bytes left in the file.
        available: usize,
    },
    /// A field has a value that is impossible or inconsistent with the rest of the file.
    #[error("invalid {what} at byte offset {offset}: {detail}")]
    Invalid {
        /// The field.
        what: &'static str,
        /// Byte offset of (or after) the field.
        offset: usize,
        /// Explanation.
        detail: String,
    },
    /// A valid fastText model this crate cannot use (e.g. an unsupervised word-vector model).
    #[error("unsupported model: {0}")]
    Unsupported(String),
}
