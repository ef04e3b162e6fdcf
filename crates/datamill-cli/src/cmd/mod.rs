//! One file per subcommand: its clap arguments and the glue that calls the library crates.
//! Each `run` returns the exit code (or the library's typed error, which `main` reports with
//! exit code 2).

pub mod label_issues;
pub mod mix;
pub mod mix_weights;
pub mod plan;
pub mod report;
pub mod run;
pub mod scaling;
pub mod slurm;
pub mod stages;
pub mod task;
pub mod train_classifier;
pub mod validate;

use std::path::{Path, PathBuf};

use datamill_learn::LearnError;

/// `p` made absolute against the current folder (lexically). A plan handed to other
/// processes (`datamill task`, Slurm jobs) must hold absolute paths: they run elsewhere.
fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// A failed write of a learn command's report.
fn stdout_err(e: std::io::Error) -> LearnError {
    LearnError::Io {
        path: "<stdout>".into(),
        source: e,
    }
}
