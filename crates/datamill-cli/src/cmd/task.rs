//! `datamill task OUT TASK`: runs one task of the plan stored in an output folder (see
//! `datamill plan`), from any process: the entry point of cluster launchers. A task whose
//! marker exists is skipped; its predecessors must be done. `datamill run` on the folder
//! finishes the run (it skips every done task and writes `stats.json`).
//!
//! `datamill task OUT pass:K --rank R --world-size N` runs rank R's share of pass K (the
//! units whose index modulo N is R) on `--workers` threads: one task of a Slurm array per pass
//! (see `datamill slurm`), building the stages once for all its units.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use clap::Args;
use datamill_exec::pipeline::ByteSize;
use datamill_exec::plan::{Plan, Task};
use datamill_exec::pool::parallel;
use datamill_exec::run::{Progress, RunError};
use datamill_exec::task::{Runner, run_task};

use crate::fail;

/// Arguments of `datamill task`.
#[derive(Args)]
pub struct TaskArgs {
    /// The output folder holding the plan.
    output: PathBuf,
    /// The task, as `datamill plan` prints it: `pass:K:UNIT`, `decide:K` or `report:K`; or
    /// `pass:K` with --rank/--world-size for a share of a whole pass.
    task: String,
    /// Memory budget for a decide task, e.g. `2GB` (default: unbounded).
    #[arg(long)]
    memory: Option<String>,
    /// With `pass:K`: run the units whose index modulo --world-size is RANK.
    #[arg(long, requires = "world_size")]
    rank: Option<u32>,
    /// With `pass:K`: the number of ranks sharing the pass.
    #[arg(long, requires = "rank")]
    world_size: Option<u32>,
    /// Worker threads for the units of a `pass:K` share (default: the number of cores).
    #[arg(short, long)]
    workers: Option<usize>,
}

/// Runs rank `rank`'s units of pass `k`.
fn run_share(
    out: &std::path::Path,
    k: usize,
    rank: u32,
    world: u32,
    workers: usize,
    memory: Option<u64>,
) -> Result<(), RunError> {
    let plan = Plan::load(out)?;
    if k >= plan.passes.len() {
        return Err(RunError::State {
            path: out.to_path_buf(),
            message: format!(
                "pass {k} is not part of this plan ({} passes)",
                plan.passes.len()
            ),
        });
    }
    let p = plan.pipeline()?;
    let progress = Progress::default();
    let r = Runner::new(&plan, &p, out, &progress, memory, workers)?;
    let tasks: Vec<(usize, u64)> = (0..plan.units.len())
        .filter(|u| *u as u32 % world == rank)
        .map(|u| (u, r.task_size(k, u)))
        .collect();
    parallel(&tasks, workers, &AtomicBool::new(false), |u| {
        r.run(Task::Pass { pass: k, unit: u })
    })?;
    Ok(())
}

/// Runs `datamill task`: exit code 2 for a bad task, a missing plan or missing predecessors.
pub fn run(args: &TaskArgs) -> ExitCode {
    let memory = match args.memory.as_deref().map(ByteSize::parse).transpose() {
        Ok(m) => m.map(|b| b.0),
        Err(e) => return fail(format!("--memory: {e}")),
    };
    if let (Some(rank), Some(world)) = (args.rank, args.world_size) {
        let k = match args.task.strip_prefix("pass:").map(str::parse::<usize>) {
            Some(Ok(k)) => k,
            _ => {
                return fail(format!(
                    "with --rank/--world-size the task is a whole pass, `pass:K`, not `{}`",
                    args.task
                ));
            }
        };
        if world == 0 || rank >= world {
            return fail(format!("--rank {rank} must be below --world-size {world}"));
        }
        let workers = args
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1);
        return match run_share(&args.output, k, rank, world, workers, memory) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(e),
        };
    }
    let task: Task = match args.task.parse() {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    match run_task(&args.output, task, memory) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}
