//! The crate's error type.

/// Everything that can go wrong in fitting, predicting or plotting.
#[derive(Debug, thiserror::Error)]
pub enum ScalingError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Bad input data: a missing column, a bad value (the message names the
    /// row and column), too few points for the law.
    #[error("{0}")]
    Input(String),
    /// A bad command-line argument or option value.
    #[error("{0}")]
    InvalidArgument(String),
    /// A law file that cannot be used for the requested operation.
    #[error("{0}")]
    Law(String),
    /// The optimizer found no finite solution.
    #[error("fit failed: {0}")]
    Fit(String),
    /// Drawing a plot failed.
    #[error("plot failed: {0}")]
    Plot(String),
    /// JSON (de)serialization failed.
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}
