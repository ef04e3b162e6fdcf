//! Pipeline files and the local executor.
//!
//! [`pipeline::Pipeline::load`] parses and validates a pipeline file (building every stage,
//! so a bad parameter is reported before any output is written); [`run::run`] executes it:
//! input files are cut into deterministic work units, worker threads process units
//! independently (largest first), global stages decide between passes, every task writes
//! its outputs atomically and a completion marker last, so rerunning the same command after
//! a crash resumes where it stopped and produces the same bytes.
//!
//! ```no_run
//! use datamill_exec::{pipeline::Pipeline, run::{run, RunOptions, Progress}};
//! use std::sync::atomic::AtomicBool;
//! let p = Pipeline::load("examples/quickstart.toml".as_ref())?;
//! let report = run(&p, &RunOptions::default(), &Progress::default(), &AtomicBool::new(false))?;
//! println!("kept {} of {}", report.stats.output_docs, report.stats.input_docs);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod pipeline;
pub mod run;
