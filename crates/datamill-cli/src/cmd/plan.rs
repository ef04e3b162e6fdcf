//! `datamill plan PIPELINE`: plans a run without running it. The plan is stored in the output
//! folder and its tasks are printed, one wave (tasks that may run at once) per line, for a
//! launcher that runs each with `datamill task`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use datamill_exec::layout::Layout;
use datamill_exec::pipeline::Pipeline;
use datamill_exec::run::{RunOptions, prepare};

use crate::{Stdout, fail};

/// Arguments of `datamill plan`.
#[derive(Args)]
pub struct PlanArgs {
    /// The pipeline file (TOML).
    pipeline: PathBuf,
    /// Output folder (default: `output.dir` of the pipeline, relative to its file).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Delete a previous run of a different pipeline in the output folder.
    #[arg(long)]
    force: bool,
}

/// Runs `datamill plan`.
pub fn run(args: PlanArgs) -> ExitCode {
    // From its absolute path, to an absolute output folder: `datamill task` may run the
    // plan's tasks from any folder.
    let p = match Pipeline::load(&super::absolute(&args.pipeline)) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let opts = RunOptions {
        output: args.output.as_deref().map(super::absolute),
        force: args.force,
        ..Default::default()
    };
    let (plan, out) = match prepare(&p, &opts) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    eprintln!(
        "{}: {} work unit(s), {} pass(es), {} decision(s); plan stored in {}",
        args.pipeline.display(),
        plan.units.len(),
        plan.passes.len(),
        plan.decisions.len(),
        Layout::new(&out).plan().display()
    );
    let mut stdout = Stdout::default();
    for wave in plan.waves() {
        let tasks: Vec<String> = plan.tasks(wave).iter().map(|t| t.to_string()).collect();
        let _ = writeln!(stdout, "{}", tasks.join(" "));
    }
    ExitCode::SUCCESS
}
