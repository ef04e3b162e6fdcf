//! Why a run or a task stops.

use crate::pipeline::ConfigError;
use datamill_io::IoError;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why a run stopped.
#[derive(Debug, Error)]
pub enum RunError {
    /// The pipeline file is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// An input or output file is unusable.
    #[error(transparent)]
    Io(#[from] IoError),
    /// A stage failed.
    #[error("stage {index} (`{kind}`): {message}")]
    Stage {
        /// 1-based position of the stage.
        index: usize,
        /// The stage's type.
        kind: String,
        /// What went wrong.
        message: String,
    },
    /// The output folder holds a run of another pipeline or of changed inputs.
    #[error(
        "{dir} holds the output of a different pipeline or of changed inputs ({what}); \
         rerun with --force to delete it and start over, or choose another --output"
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
    /// Tasks of other processes did not finish within the wait timeout.
    #[error(
        "gave up after waiting {waited} for {missing}; start the missing rank(s) with the same \
         command and their --rank (this one resumes where it stopped), or raise --wait-timeout"
    )]
    Timeout {
        /// How long this process waited.
        waited: String,
        /// The missing tasks, by rank.
        missing: String,
    },
    /// The run was interrupted.
    #[error("interrupted")]
    Interrupted,
}

pub(crate) fn state_err(path: &Path, e: impl std::fmt::Display) -> RunError {
    RunError::State {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}
