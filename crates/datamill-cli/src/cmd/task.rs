//! `datamill task OUT TASK`: runs one task of the plan stored in an output folder (see
//! `datamill plan`), from any process: the entry point of cluster launchers. A task whose
//! marker exists is skipped; its predecessors must be done. `datamill run` on the folder
//! finishes the run (it skips every done task and writes `stats.json`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use datamill_exec::pipeline::ByteSize;
use datamill_exec::plan::Task;
use datamill_exec::task::run_task;

use crate::fail;

/// Arguments of `datamill task`.
#[derive(Args)]
pub struct TaskArgs {
    /// The output folder holding the plan.
    output: PathBuf,
    /// The task, as `datamill plan` prints it: `pass:K:UNIT`, `decide:K` or `report:K`.
    task: String,
    /// Memory budget for a decide task, e.g. `2GB` (default: unbounded).
    #[arg(long)]
    memory: Option<String>,
}

/// Runs `datamill task`: exit code 2 for a bad task, a missing plan or missing predecessors.
pub fn run(args: &TaskArgs) -> ExitCode {
    let task: Task = match args.task.parse() {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    let memory = match args.memory.as_deref().map(ByteSize::parse).transpose() {
        Ok(m) => m.map(|b| b.0),
        Err(e) => return fail(format!("--memory: {e}")),
    };
    match run_task(&args.output, task, memory) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}
