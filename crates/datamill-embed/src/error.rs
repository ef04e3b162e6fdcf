//! Error types.

use std::path::PathBuf;

/// Everything that can go wrong when loading a model, embedding text or reading an embedding
/// store. Every variant names the file it is about.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A model file is missing, malformed or does not match the others.
    #[error("model {}: {message}", path.display())]
    Model {
        /// The file at fault (`config.json`, `model.safetensors`, `tokenizer.json`, ...).
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Tokenization failed.
    #[error("tokenizer {}: {message}", path.display())]
    Tokenize {
        /// The tokenizer file.
        path: PathBuf,
        /// The tokenizer's message.
        message: String,
    },
    /// An embedding store is malformed or inconsistent.
    #[error("embedding store {}: {message}", path.display())]
    Store {
        /// The file at fault.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Bad numeric input (NaN, wrong dimension, empty data) or parameters.
    #[error("{0}")]
    Invalid(String),
}

impl EmbedError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> EmbedError {
        EmbedError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn model(path: impl Into<PathBuf>, message: impl Into<String>) -> EmbedError {
        EmbedError::Model {
            path: path.into(),
            message: message.into(),
        }
    }

    pub(crate) fn store(path: impl Into<PathBuf>, message: impl Into<String>) -> EmbedError {
        EmbedError::Store {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, EmbedError>;
