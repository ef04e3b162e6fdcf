//! File-level errors: problems that stop a run (as opposed to per-record problems, which are
//! quarantined). Every message names the file and, where it applies, the line or row.

use std::path::PathBuf;
use thiserror::Error;

/// A file-level input or output error.
#[derive(Debug, Error)]
pub enum IoError {
    /// A path given in the pipeline does not exist.
    #[error("input path not found: {0}")]
    NotFound(PathBuf),
    /// A glob pattern matched no file.
    #[error("input pattern `{0}` matches no file")]
    NoMatch(String),
    /// A glob pattern is malformed.
    #[error("invalid input pattern `{pattern}`: {message}")]
    BadPattern {
        /// The pattern.
        pattern: String,
        /// What is wrong with it.
        message: String,
    },
    /// The input resolved to no file at all.
    #[error("no input files")]
    NoInput,
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A compressed stream is truncated or corrupt.
    #[error("{path}: corrupt or truncated {codec} stream after line {line}: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// `gzip` or `zstd`.
        codec: &'static str,
        /// The last line read completely.
        line: u64,
        /// The decoder's message.
        message: String,
    },
    /// A file's structure is invalid (for example a truncated zstd frame header), found
    /// while planning, before anything is written.
    #[error("{path}: corrupt or truncated {codec} file: {message}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The codec or format.
        codec: &'static str,
        /// What is wrong and where.
        message: String,
    },
    /// A Parquet file cannot be used.
    #[error("{path}: {message}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What is wrong (unreadable footer, text column missing or not a string, ...).
        message: String,
    },
    /// A feature needed for this file was not compiled in.
    #[error("{path}: {message}")]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What is missing.
        message: String,
    },
}

impl IoError {
    /// Wraps an `std::io::Error` with the file it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> IoError {
        IoError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result alias for this crate.
pub type Result<T, E = IoError> = std::result::Result<T, E>;
