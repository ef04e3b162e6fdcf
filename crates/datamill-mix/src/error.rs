//! Errors of the mixer.

use datamill_io::IoError;
use std::path::PathBuf;
use thiserror::Error;

/// Why a mixture could not be planned or written.
#[derive(Debug, Error)]
pub enum MixError {
    /// The mixture file is invalid; the message names the parameter.
    #[error("{path}:{line}: {message}")]
    Config {
        /// The mixture file.
        path: PathBuf,
        /// 1-based line of the offending key or table (0 if unknown).
        line: usize,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// The data make the mixture impossible (an empty source, a budget beyond the epoch caps).
    #[error("{0}")]
    Plan(String),
    /// An input or output file is unusable.
    #[error(transparent)]
    Io(#[from] IoError),
    /// The tokenizer cannot be loaded or fails.
    #[error("tokenizer {path}: {message}")]
    Tokenizer {
        /// The tokenizer file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A record lacks a usable token count.
    #[error("{location}: {message}")]
    Record {
        /// `file:line`.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// The output folder holds another mixture's output.
    #[error(
        "{dir} holds the output of a different mixture or of changed inputs ({what}); rerun \
         with --force to delete it and start over, or choose another --output"
    )]
    Mismatch {
        /// The output folder.
        dir: PathBuf,
        /// What differs.
        what: String,
    },
    /// Internal bookkeeping files are unreadable.
    #[error("{path}: {message}")]
    State {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The run was interrupted.
    #[error("interrupted")]
    Interrupted,
}

impl MixError {
    /// A state error at `path`.
    pub fn state(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> MixError {
        MixError::State {
            path: path.into(),
            message: message.to_string(),
        }
    }

    /// An I/O error at `path`.
    pub fn io(path: impl Into<PathBuf>, e: std::io::Error) -> MixError {
        MixError::Io(IoError::io(path, e))
    }
}
