//! Pipeline files, the plan of a run, and the executors that run its tasks.
//!
//! [`pipeline::Pipeline::load`] parses and validates a pipeline file (building every stage,
//! so a bad parameter is reported before any output is written); [`run::run`] executes it:
//! the input files are cut into deterministic work units and the stage list into passes
//! ([`plan`]), the plan is stored in the output folder, and an executor ([`schedule`]: the
//! local thread pool, or ranks sharing the folder) runs its tasks ([`task`]): every (pass,
//! unit), the decisions of global stages between passes, and their report steps. Every task
//! writes its outputs atomically and a completion marker last, so rerunning the same command
//! after a crash resumes where it stopped and produces the same bytes; [`task::run_task`]
//! runs one task of a stored plan from any process.
//!
//! ```no_run
//! use datamill_exec::{pipeline::Pipeline, run::{run, RunOptions, Progress}};
//! use std::sync::atomic::AtomicBool;
//! let p = Pipeline::load("examples/quickstart.toml".as_ref())?;
//! let report = run(&p, &RunOptions::default(), &Progress::default(), &AtomicBool::new(false))?;
//! println!("kept {} of {}", report.stats.output_docs, report.stats.input_docs);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod changes;
pub mod error;
mod fault;
pub mod layout;
pub mod pipeline;
pub mod plan;
pub mod pool;
pub mod progress;
pub mod resources;
pub mod run;
pub mod schedule;
pub mod task;
