//! One file per subcommand: its clap arguments and the glue that calls the library crates.
//! Each `run` returns the exit code (or the library's typed error, which `main` reports with
//! exit code 2).

pub mod label_issues;
pub mod plan;
pub mod report;
pub mod run;
pub mod scaling;
pub mod slurm;
pub mod stages;
pub mod task;
pub mod train_classifier;
pub mod validate;

use datamill_learn::LearnError;

/// A failed write of a learn command's report.
fn stdout_err(e: std::io::Error) -> LearnError {
    LearnError::Io {
        path: "<stdout>".into(),
        source: e,
    }
}
