//! Errors of datamill-learn: every one names the file, and where it applies the row and field.

use std::path::PathBuf;

/// Errors of label-issue detection and classifier training.
#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    /// A file could not be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A malformed input record.
    #[error("{path}: row {row}: field `{field}`: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line (JSONL/CSV) or row (NPY) number.
        row: usize,
        /// The field or column.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A malformed file (bad header, wrong shape, unsupported dtype).
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Inconsistent inputs or an invalid parameter.
    #[error("{0}")]
    Invalid(String),
}

impl LearnError {
    /// An [`LearnError::Invalid`] with `message`.
    pub fn invalid(message: impl Into<String>) -> Self {
        LearnError::Invalid(message.into())
    }

    /// An [`LearnError::Io`] on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        LearnError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn parse(
        path: impl Into<PathBuf>,
        row: usize,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        LearnError::Parse {
            path: path.into(),
            row,
            field: field.into(),
            message: message.into(),
        }
    }

    pub(crate) fn format(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        LearnError::Format {
            path: path.into(),
            message: message.into(),
        }
    }
}
