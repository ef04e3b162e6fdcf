//! Executors: small schedulers of a plan's tasks. They decide which tasks run in this
//! process and when; the work itself is [`Runner::run`], the same for every executor.
//!
//! * [`local`]: every task, on a pool of worker threads, wave after wave.
//! * [`ranks`]: `world` processes (a Slurm array, or any launcher) share the output folder;
//!   rank `r` runs the pass tasks of the units whose index modulo `world` is `r`, waits for
//!   the other ranks' markers between passes, rank 0 runs the decide and report tasks and
//!   the others wait for the decision's marker. The same output as one local run, byte for
//!   byte, since a task's outputs do not depend on where it ran.

use crate::error::RunError;
use crate::plan::{Task, Wave};
use crate::pool::parallel;
use crate::task::Runner;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Runs every task of the plan in this process, pass tasks on `workers` threads.
pub fn local(r: &Runner, workers: usize, stop: &AtomicBool) -> Result<(), RunError> {
    let units: Vec<usize> = (0..r.plan().units.len()).collect();
    for wave in r.plan().waves() {
        if stop.load(Ordering::Relaxed) {
            return Err(RunError::Interrupted);
        }
        match wave {
            Wave::Pass(k) => {
                run_pass(r, k, &units, workers, stop)?;
                if k > 0 {
                    r.drop_hand_over(k - 1);
                }
            }
            Wave::Decide(k) => decide(r, k)?,
            Wave::Report(k) => {
                r.run(Task::Report { decision: k })?;
            }
            Wave::Schema => schema(r)?,
        }
    }
    Ok(())
}

/// Runs rank `rank`'s share of the plan's tasks (see the module documentation).
pub fn ranks(
    r: &Runner,
    rank: u32,
    world: u32,
    workers: usize,
    stop: &AtomicBool,
) -> Result<(), RunError> {
    let n = r.plan().units.len();
    let mine: Vec<usize> = (0..n).filter(|u| *u as u32 % world == rank).collect();
    for wave in r.plan().waves() {
        if stop.load(Ordering::Relaxed) {
            return Err(RunError::Interrupted);
        }
        match wave {
            Wave::Pass(k) => {
                run_pass(r, k, &mine, workers, stop)?;
                let all = r.plan().tasks(wave);
                wait_for(r, stop, &all)?;
                if k > 0 {
                    r.drop_hand_over(k - 1);
                }
            }
            Wave::Decide(k) if rank == 0 => decide(r, k)?,
            Wave::Decide(k) => wait_for(r, stop, &[Task::Decide { pass: k }])?,
            Wave::Report(k) if rank == 0 => {
                r.run(Task::Report { decision: k })?;
            }
            Wave::Report(_) => {}
            // Rank 0 finishes the run (schema, then stats.json).
            Wave::Schema if rank == 0 => schema(r)?,
            Wave::Schema => {}
        }
    }
    Ok(())
}

fn run_pass(
    r: &Runner,
    k: usize,
    units: &[usize],
    workers: usize,
    stop: &AtomicBool,
) -> Result<(), RunError> {
    let tasks: Vec<(usize, u64)> = units.iter().map(|&u| (u, r.task_size(k, u))).collect();
    let npasses = r.plan().passes.len();
    let phase = if npasses == 1 {
        "run".to_string()
    } else {
        format!("pass {}/{npasses}", k + 1)
    };
    r.progress()
        .start_phase(phase, tasks.iter().map(|t| t.1).sum(), tasks.len() as u64);
    parallel(&tasks, workers, stop, |u| {
        r.run(Task::Pass { pass: k, unit: u })
    })?;
    Ok(())
}

fn decide(r: &Runner, k: usize) -> Result<(), RunError> {
    let d = &r.plan().decisions[k];
    r.progress()
        .start_phase(format!("decide {}", d.kind), 0, r.plan().units.len() as u64);
    r.run(Task::Decide { pass: k })?;
    Ok(())
}

fn schema(r: &Runner) -> Result<(), RunError> {
    r.progress().start_phase("schema".to_string(), 0, 0);
    r.run(Task::Schema)?;
    Ok(())
}

/// Waits until every task of `tasks` is done (by another process).
fn wait_for(r: &Runner, stop: &AtomicBool, tasks: &[Task]) -> Result<(), RunError> {
    let mut pending: Vec<Task> = tasks.to_vec();
    loop {
        pending.retain(|&t| !r.is_done(t));
        if pending.is_empty() {
            return Ok(());
        }
        if stop.load(Ordering::Relaxed) {
            return Err(RunError::Interrupted);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
