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
use std::time::{Duration, Instant};

/// Says how much of this process's share of the pass tasks an earlier run has done.
fn say_resuming(r: &Runner, units: &[usize]) {
    let passes = r.plan().passes.len();
    let total = units.len() * passes;
    let done = (0..passes)
        .flat_map(|k| units.iter().map(move |&u| Task::Pass { pass: k, unit: u }))
        .filter(|&t| r.is_done(t))
        .count();
    if done > 0 {
        r.progress()
            .say(format!("resuming: {done} of {total} tasks already done"));
    }
}

/// Runs every task of the plan in this process, pass tasks on `workers` threads.
pub fn local(r: &Runner, workers: usize, stop: &AtomicBool) -> Result<(), RunError> {
    let units: Vec<usize> = (0..r.plan().units.len()).collect();
    say_resuming(r, &units);
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

/// How a rank waits for the others.
#[derive(Clone, Copy, Debug)]
pub struct Waiting {
    /// Give up (with [`RunError::Timeout`]) after waiting this long for one wave.
    pub timeout: Duration,
    /// Say which tasks are missing after this long, and again every `every`.
    pub first_notice: Duration,
    /// See `first_notice`.
    pub every: Duration,
}

impl Default for Waiting {
    fn default() -> Self {
        Waiting {
            timeout: Duration::from_secs(24 * 3600),
            first_notice: Duration::from_secs(2),
            every: Duration::from_secs(60),
        }
    }
}

/// Runs rank `rank`'s share of the plan's tasks (see the module documentation).
pub fn ranks(
    r: &Runner,
    rank: u32,
    world: u32,
    workers: usize,
    waiting: Waiting,
    stop: &AtomicBool,
) -> Result<(), RunError> {
    let n = r.plan().units.len();
    let mine: Vec<usize> = (0..n).filter(|u| *u as u32 % world == rank).collect();
    say_resuming(r, &mine);
    let wait_for = |tasks: &[Task]| wait_for(r, world, waiting, stop, tasks);
    for wave in r.plan().waves() {
        if stop.load(Ordering::Relaxed) {
            return Err(RunError::Interrupted);
        }
        match wave {
            Wave::Pass(k) => {
                run_pass(r, k, &mine, workers, stop)?;
                wait_for(&r.plan().tasks(wave))?;
                if k > 0 {
                    r.drop_hand_over(k - 1);
                }
            }
            Wave::Decide(k) if rank == 0 => decide(r, k)?,
            Wave::Decide(k) => wait_for(&[Task::Decide { pass: k }])?,
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

/// The rank that runs `task` among `world`.
fn owner(task: Task, world: u32) -> u32 {
    match task {
        Task::Pass { unit, .. } => unit as u32 % world,
        Task::Decide { .. } | Task::Report { .. } | Task::Schema => 0,
    }
}

/// `rank 1 (2 tasks: pass:0:1, pass:0:3), rank 2 (…)`, at most 5 tasks named per rank.
fn describe_missing(tasks: &[Task], world: u32) -> String {
    let mut by_rank: std::collections::BTreeMap<u32, Vec<Task>> = Default::default();
    for &t in tasks {
        by_rank.entry(owner(t, world)).or_default().push(t);
    }
    by_rank
        .iter()
        .map(|(rank, ts)| {
            let mut names: Vec<String> = ts.iter().take(5).map(|t| t.to_string()).collect();
            if ts.len() > 5 {
                names.push(format!("and {} more", ts.len() - 5));
            }
            format!(
                "rank {rank} ({} task{}: {})",
                ts.len(),
                if ts.len() == 1 { "" } else { "s" },
                names.join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

/// Waits until every task of `tasks` is done (by other processes), saying which are missing
/// now and then, and giving up after `waiting.timeout`.
fn wait_for(
    r: &Runner,
    world: u32,
    waiting: Waiting,
    stop: &AtomicBool,
    tasks: &[Task],
) -> Result<(), RunError> {
    let mut pending: Vec<Task> = tasks.to_vec();
    let start = Instant::now();
    let mut next_notice = waiting.first_notice;
    loop {
        pending.retain(|&t| !r.is_done(t));
        if pending.is_empty() {
            return Ok(());
        }
        if stop.load(Ordering::Relaxed) {
            return Err(RunError::Interrupted);
        }
        let waited = start.elapsed();
        if waited >= waiting.timeout {
            return Err(RunError::Timeout {
                waited: human(waited),
                missing: describe_missing(&pending, world),
            });
        }
        if waited >= next_notice {
            r.progress().say(format!(
                "waiting for {} ({} so far; giving up after {})",
                describe_missing(&pending, world),
                human(waited),
                human(waiting.timeout)
            ));
            next_notice = waited + waiting.every;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_tasks_are_named_by_rank() {
        let t: Vec<Task> = (0..9)
            .map(|u| Task::Pass { pass: 1, unit: u })
            .filter(|t| owner(*t, 3) != 0)
            .chain([Task::Decide { pass: 0 }])
            .collect();
        assert_eq!(
            describe_missing(&t, 3),
            "rank 0 (1 task: decide:0), rank 1 (3 tasks: pass:1:1, pass:1:4, pass:1:7), \
             rank 2 (3 tasks: pass:1:2, pass:1:5, pass:1:8)"
        );
        let many: Vec<Task> = (0..14)
            .map(|u| Task::Pass {
                pass: 0,
                unit: u * 2 + 1,
            })
            .collect();
        assert!(describe_missing(&many, 2).ends_with("pass:0:9, and 9 more)"));
        assert_eq!(human(Duration::from_secs(3725)), "1h02m");
        assert_eq!(human(Duration::from_secs(75)), "1m15s");
    }
}
