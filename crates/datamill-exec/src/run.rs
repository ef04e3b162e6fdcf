//! Running a pipeline: plan (or load the stored plan), check the output folder, hand the
//! plan to an executor, sum the statistics from the tasks' files and write `stats.json`.
//! See [`crate::plan`] for passes and tasks, [`crate::task`] for what a task does and
//! [`crate::schedule`] for the executors.

pub use crate::error::RunError;
use crate::error::state_err;
use crate::layout::Layout;
use crate::pipeline::{ConfigError, Pipeline};
use crate::plan::{Plan, describe_input, pipeline_hash, planning_notes};
pub use crate::progress::Progress;
use crate::task::{Runner, write_atomic};
use datamill_core::stats::RunStats;
use datamill_io::IoError;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Output folder (overrides the pipeline's `output.dir`).
    pub output: Option<PathBuf>,
    /// Worker threads.
    pub workers: usize,
    /// Delete a previous run of another pipeline in the output folder.
    pub force: bool,
    /// Memory budget for global stages' deciders, in bytes (`None`: unbounded).
    pub memory: Option<u64>,
    /// Run as task `rank` of `world` (`Some((rank, world))`): this process takes the units
    /// whose index modulo `world` is `rank`, in every pass; between passes it waits for the
    /// other tasks' completion markers in the shared output folder. Rank 0 decides global
    /// stages and writes `stats.json`. The same output as one local run, byte for byte.
    pub shard: Option<(u32, u32)>,
    /// With `shard`: how long to wait for the other ranks' tasks, and how often to say which
    /// are missing.
    pub waiting: crate::schedule::Waiting,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            output: None,
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            force: false,
            memory: None,
            shard: None,
            waiting: Default::default(),
        }
    }
}

/// What a finished run reports.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// The merged statistics (also in `OUT/stats.json`).
    pub stats: RunStats,
    /// The output folder.
    pub out_dir: PathBuf,
    /// Tasks skipped because a previous run had finished them.
    pub resumed_tasks: u64,
    /// Tasks run now.
    pub ran_tasks: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Advice about the input (see [`planning_notes`]).
    pub notes: Vec<String>,
}

/// `stats.json`: the merged statistics plus run facts.
#[derive(Serialize)]
struct StatsFile<'a> {
    #[serde(flatten)]
    stats: &'a RunStats,
    work_units: usize,
    workers: usize,
    wall_seconds: f64,
}

/// `a/b/../c` → `a/c`, `./a` → `a` (lexically; for display and stable paths).
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            c => out.push(c),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// The output folder a pipeline writes to under `opts`.
pub fn output_dir(p: &Pipeline, opts: &RunOptions) -> Result<PathBuf, RunError> {
    match (&opts.output, &p.config.output.dir) {
        (Some(o), _) => Ok(o.clone()),
        (None, Some(d)) => Ok(normalize(&p.base_dir.join(d))),
        (None, None) => Err(RunError::Config(ConfigError::Invalid {
            path: p.path.clone(),
            line: 0,
            message: "no output folder: set `dir` in [output] or pass --output".into(),
        })),
    }
}

/// Plans a run of `p` (or reuses the plan stored in the output folder if the pipeline and the
/// input files are unchanged), refuses an output folder holding another run unless
/// `opts.force`, and stores the plan. Returns the plan and the output folder; any executor can
/// then run its tasks (see [`crate::task::run_task`]).
pub fn prepare(p: &Pipeline, opts: &RunOptions) -> Result<(Plan, PathBuf), RunError> {
    let out = output_dir(p, opts)?;
    let layout = Layout::new(&out);
    let files = describe_input(p)?;
    let hash = pipeline_hash(&p.source);
    let old: Option<Result<Plan, String>> = std::fs::read(layout.plan())
        .ok()
        .map(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()));
    // Same pipeline, same files: reuse the stored plan (planning may scan every file).
    let plan = match &old {
        Some(Ok(o)) if o.pipeline.hash == hash && o.files == files => o.clone(),
        _ => Plan::new(p, files)?,
    };
    let mismatch = match &old {
        Some(Err(e)) => Some(format!("unreadable plan.json: {e}")),
        Some(Ok(o)) if o.pipeline.hash != plan.pipeline.hash => {
            Some("the pipeline file changed".into())
        }
        Some(Ok(o)) if o.files != plan.files => Some("the input files changed".into()),
        Some(Ok(o)) if o.units != plan.units => Some("the work units changed".into()),
        Some(Ok(o)) if o.passes != plan.passes || o.decisions != plan.decisions => {
            Some("the passes changed".into())
        }
        Some(Ok(_)) => None,
        None if layout.legacy_run().exists() => {
            Some("it was written by an earlier datamill, whose layout differs".into())
        }
        None => None,
    };
    if let Some(what) = mismatch {
        if !opts.force {
            return Err(RunError::Mismatch {
                dir: out.clone(),
                what,
            });
        }
        layout.wipe().map_err(|e| IoError::io(&out, e))?;
    } else if opts.force {
        layout.wipe().map_err(|e| IoError::io(&out, e))?;
    }
    plan.save(&out)?;
    Ok((plan, out))
}

/// Runs a pipeline. `stop` can be set from another thread to interrupt at the next task.
pub fn run(
    p: &Pipeline,
    opts: &RunOptions,
    progress: &Progress,
    stop: &AtomicBool,
) -> Result<RunReport, RunError> {
    let started = Instant::now();
    let (plan, out) = prepare(p, opts)?;
    let layout = Layout::new(&out);
    // Leftover temporary files of an interrupted run (with several tasks sharing the folder,
    // each task cleans its own units instead).
    if opts.shard.is_none() {
        layout.remove_stale_tmp();
    }
    let runner = Runner::new(&plan, p, &out, progress, opts.memory, opts.workers)?;
    match opts.shard {
        None => crate::schedule::local(&runner, opts.workers, stop)?,
        Some((rank, world)) => {
            crate::schedule::ranks(&runner, rank, world, opts.workers, opts.waiting, stop)?
        }
    }
    let total = runner.collect_stats()?;
    total
        .check_invariant()
        .map_err(|e| state_err(&out, format!("accounting error (a bug): {e}")))?;
    let seconds = started.elapsed().as_secs_f64();
    if opts.shard.is_none_or(|(r, _)| r == 0) {
        write_stats(&layout, &total, plan.units.len(), opts.workers, seconds)?;
    }
    let (ran, resumed) = runner.counts();
    Ok(RunReport {
        notes: planning_notes(&plan),
        stats: total,
        out_dir: out,
        resumed_tasks: resumed,
        ran_tasks: ran,
        seconds,
    })
}

fn write_stats(
    layout: &Layout,
    total: &RunStats,
    units: usize,
    workers: usize,
    seconds: f64,
) -> Result<(), RunError> {
    let sf = StatsFile {
        stats: total,
        work_units: units,
        workers,
        wall_seconds: seconds,
    };
    let path = layout.stats();
    let mut json = serde_json::to_vec_pretty(&sf).map_err(|e| state_err(&path, e))?;
    json.push(b'\n');
    write_atomic(&path, &json)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn go(p: &Pipeline, out: &Path, force: bool) -> Result<RunReport, RunError> {
        let opts = RunOptions {
            output: Some(out.to_path_buf()),
            workers: 2,
            force,
            ..Default::default()
        };
        run(p, &opts, &Progress::default(), &AtomicBool::new(false))
    }

    fn pipeline(dir: &Path, stages: &str) -> Pipeline {
        let src = format!("version = 1\n[input]\npaths = [\"in.jsonl\"]\n{stages}");
        Pipeline::from_source(&dir.join("p.toml"), &src, dir).unwrap()
    }

    fn mismatch(r: Result<RunReport, RunError>) -> String {
        match r {
            Err(RunError::Mismatch { what, .. }) => what,
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn another_run_in_the_folder_is_refused_unless_forced_and_force_clears_it() {
        let d = tempfile::tempdir().unwrap();
        let input = d.path().join("in.jsonl");
        std::fs::write(&input, "{\"text\": \"a b\"}\n{\"text\": \"a b\"}\n").unwrap();
        let out = d.path().join("o");
        let dedup = pipeline(d.path(), "[[stage]]\ntype = \"exact_dedup\"\n");
        go(&dedup, &out, false).unwrap();
        assert!(out.join("reports/exact_dedup/clusters.jsonl").exists());
        // The same run again: fine, nothing to do.
        assert_eq!(go(&dedup, &out, false).unwrap().ran_tasks, 0);
        // Changed input files.
        std::fs::write(
            &input,
            "{\"text\": \"a b\"}\n{\"text\": \"c\"}\n{\"text\": \"d\"}\n",
        )
        .unwrap();
        assert_eq!(mismatch(go(&dedup, &out, false)), "the input files changed");
        // A changed pipeline; forced, it leaves nothing of the old run behind.
        let plain = pipeline(d.path(), "");
        assert_eq!(
            mismatch(go(&plain, &out, false)),
            "the pipeline file changed"
        );
        let r = go(&plain, &out, true).unwrap();
        assert_eq!(r.stats.output_docs, 3);
        assert!(!out.join("reports").exists(), "the old run's reports stay");
        assert!(!out.join(".datamill/decision0").exists());
        // A folder written by a datamill before plans (`.datamill/run.json`, `seg<k>/`).
        let old = d.path().join("old");
        std::fs::create_dir_all(old.join(".datamill/seg0")).unwrap();
        std::fs::write(old.join(".datamill/run.json"), "{}").unwrap();
        assert!(mismatch(go(&plain, &old, false)).contains("earlier datamill"));
        go(&plain, &old, true).unwrap();
        assert!(!old.join(".datamill/seg0").exists());
    }
}
