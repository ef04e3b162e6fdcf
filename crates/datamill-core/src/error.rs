//! Errors raised by stages.

use thiserror::Error;

/// An error raised by a stage while processing or deciding.
///
/// A stage error stops the run: it means the stage itself is broken or misconfigured
/// (a model file that cannot be read, a summary that cannot be decoded), not that one
/// document is bad — a bad document is a drop with a reason.
#[derive(Debug, Error)]
pub enum StageError {
    /// The stage's configuration is invalid; the message says which parameter and why.
    #[error("invalid parameter `{param}`: {message}")]
    Config {
        /// The parameter's name as written in the pipeline file.
        param: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// An I/O error while reading a resource the stage needs.
    #[error("{context}: {source}")]
    Io {
        /// What the stage was doing (for example the path of a model file).
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Any other failure, described by its message.
    #[error("{0}")]
    Other(String),
}

impl StageError {
    /// A configuration error for parameter `param`.
    pub fn config(param: impl Into<String>, message: impl Into<String>) -> Self {
        StageError::Config {
            param: param.into(),
            message: message.into(),
        }
    }
}
