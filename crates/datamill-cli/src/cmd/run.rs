//! `datamill run PIPELINE`: runs a pipeline locally, or as task `--rank` of `--world-size`
//! sharing the output folder, with a progress bar and a summary on a terminal (plain progress
//! lines and the summary otherwise); or, with `--executor ray`, on a Ray cluster through the
//! Python package's driver (`python -m datamill.ray`), every task of the plan a Ray task.
//! SIGINT (Ctrl-C) or SIGTERM stops a local run cleanly: the running tasks finish, no new one
//! starts, and it exits with code 130 saying how to resume; a second signal stops at once (the
//! rerun redoes the tasks that were running).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use clap::{Args, ValueEnum};
use datamill_exec::pipeline::{ByteSize, Pipeline};
use datamill_exec::run::{Progress, RunError, RunOptions, run as run_pipeline};

use crate::{fail, summary};

/// Arguments of `datamill run`.
#[derive(Args)]
pub struct RunArgs {
    /// The pipeline file (TOML).
    pipeline: PathBuf,
    /// Output folder (default: `output.dir` of the pipeline, relative to its file).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Worker threads (default: the number of cores).
    #[arg(short, long)]
    workers: Option<usize>,
    /// No progress bar and no summary.
    #[arg(short, long)]
    quiet: bool,
    /// Delete a previous run of a different pipeline in the output folder.
    #[arg(long)]
    force: bool,
    /// Memory budget for dedup and selection decisions, e.g. `2GB` (default: unbounded).
    #[arg(long)]
    memory: Option<String>,
    /// Run as task RANK of --world-size tasks sharing the output folder (a Slurm array:
    /// `--rank $SLURM_ARRAY_TASK_ID --world-size $SLURM_ARRAY_TASK_COUNT`).
    #[arg(long, requires = "world_size")]
    rank: Option<u32>,
    /// Number of tasks sharing the run (see --rank).
    #[arg(long, requires = "rank")]
    world_size: Option<u32>,
    /// Do not write the run's report (`OUT/report.html`, see `datamill report`) at the end.
    #[arg(long)]
    no_report: bool,
    /// Where the tasks run: `local` (this process's threads) or `ray` (a Ray cluster, through
    /// the `datamill` Python package's driver, `python -m datamill.ray`, found in
    /// `$DATAMILL_PYTHON` or `python3`).
    #[arg(long, value_enum, default_value_t = Executor::Local)]
    executor: Executor,
    /// The Ray cluster (`HOST:PORT`, `ray://HOST:PORT`, `auto`; with --executor ray; default:
    /// a local Ray). An unreachable address fails at once.
    #[arg(long)]
    address: Option<String>,
    /// CPUs each Ray task reserves (with --executor ray).
    #[arg(long, default_value_t = 1.0)]
    ray_num_cpus: f64,
    /// With --rank: give up after waiting this long for the other ranks' tasks between two
    /// passes, e.g. `90s`, `30m`, `2h` (the missing tasks are named while waiting).
    #[arg(long, default_value = "24h", value_parser = parse_duration)]
    wait_timeout: Duration,
}

/// Where `datamill run` runs the tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Executor {
    /// This process: a pool of --workers threads.
    Local,
    /// A Ray cluster (--address), every task of the plan a Ray task.
    Ray,
}

/// `--executor ray`: hands the run to the Python package's Ray driver and returns its exit
/// code (2 with one line when the package or Ray is missing, or the cluster unreachable).
fn run_on_ray(args: &RunArgs) -> ExitCode {
    let python = std::env::var_os("DATAMILL_PYTHON").unwrap_or_else(|| "python3".into());
    let shown = PathBuf::from(&python).display().to_string();
    let check = std::process::Command::new(&python)
        .args(["-c", "import datamill.ray"])
        .output();
    match check {
        Err(e) => {
            return fail(format!(
                "--executor ray runs the datamill Python package's driver, but {shown} cannot \
                 be started ({e}); set DATAMILL_PYTHON"
            ));
        }
        Ok(o) if !o.status.success() => {
            let why = String::from_utf8_lossy(&o.stderr);
            let why = why.trim().lines().last().unwrap_or("").to_string();
            return fail(format!(
                "--executor ray needs the datamill Python package (pip install 'datamill[ray]') \
                 in {shown}: {why}"
            ));
        }
        Ok(_) => {}
    }
    let mut cmd = std::process::Command::new(&python);
    cmd.args(["-m", "datamill.ray"]).arg(&args.pipeline);
    if let Some(a) = &args.address {
        cmd.args(["--address", a]);
    }
    if let Some(o) = &args.output {
        cmd.arg("--output").arg(o);
    }
    if let Some(m) = &args.memory {
        cmd.args(["--memory", m]);
    }
    if args.force {
        cmd.arg("--force");
    }
    if args.quiet {
        cmd.arg("--quiet");
    }
    if args.no_report {
        cmd.arg("--no-report");
    }
    cmd.args(["--num-cpus", &args.ray_num_cpus.to_string()]);
    match cmd.status() {
        Ok(s) => match s.code() {
            Some(c) => ExitCode::from(c.clamp(0, 255) as u8),
            None => ExitCode::from(130),
        },
        Err(e) => fail(format!("cannot start {shown}: {e}")),
    }
}

/// `90`, `90s`, `30m`, `2h`, `1d`.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}`: expected a number of seconds or e.g. 90s, 30m, 2h"))?;
    let mult = match unit.trim() {
        "" | "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86400,
        u => return Err(format!("`{s}`: unknown unit `{u}` (s, m, h, d)")),
    };
    Ok(Duration::from_secs(n * mult))
}

/// Plain progress lines (without a terminal) every this often.
const LINE_EVERY: Duration = Duration::from_secs(30);

/// Runs `datamill run`: exit code 2 for a refused run or a bad pipeline or input, 130 when
/// interrupted.
pub fn run(args: RunArgs) -> ExitCode {
    if args.executor == Executor::Ray {
        if args.rank.is_some() || args.workers.is_some() {
            return fail(
                "--executor ray schedules every task itself: drop --rank/--world-size and --workers (see --ray-num-cpus)",
            );
        }
        return run_on_ray(&args);
    }
    if args.address.is_some() {
        return fail("--address needs --executor ray");
    }
    let RunArgs {
        pipeline,
        output,
        workers,
        quiet,
        force,
        memory,
        rank,
        world_size,
        no_report,
        wait_timeout,
        ..
    } = args;
    let shard = match (rank, world_size) {
        (Some(r), Some(w)) if w == 0 || r >= w => {
            return fail(format!("--rank {r} must be below --world-size {w}"));
        }
        (Some(_), Some(_)) if force => {
            return fail("--force cannot be combined with --rank/--world-size");
        }
        (Some(r), Some(w)) => Some((r, w)),
        _ => None,
    };
    let memory = match memory.as_deref().map(ByteSize::parse).transpose() {
        Ok(m) => m.map(|b| b.0),
        Err(e) => return fail(format!("--memory: {e}")),
    };
    let p = match Pipeline::load(&pipeline) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let mut opts = RunOptions {
        output,
        force,
        memory,
        shard,
        ..Default::default()
    };
    if let Some(w) = workers {
        opts.workers = w.max(1);
    }
    opts.waiting.timeout = wait_timeout;
    let terminal = std::io::stderr().is_terminal();
    let progress = Progress::default();
    let stop = AtomicBool::new(false);
    let finished = AtomicBool::new(false);
    let signals = AtomicU32::new(0);
    let result = std::thread::scope(|s| {
        // The handler only counts signals; a watcher thread turns them into `stop`.
        if let Err(e) = ctrlc::set_handler(on_signal) {
            eprintln!("warning: cannot handle Ctrl-C ({e}); it will stop the run abruptly");
        }
        let watcher = s.spawn(|| {
            while !finished.load(Ordering::Relaxed) {
                let n = SIGNALS.load(Ordering::Relaxed);
                if n > signals.load(Ordering::Relaxed) {
                    signals.store(n, Ordering::Relaxed);
                    stop.store(true, Ordering::Relaxed);
                    if n == 1 {
                        progress.say(
                            "interrupted: finishing the running tasks (interrupt again to stop \
                             at once)"
                                .into(),
                        );
                    }
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        if !quiet {
            if terminal {
                s.spawn(|| summary::progress_bar(&progress, &finished));
            } else {
                s.spawn(|| summary::progress_lines(&progress, &finished, LINE_EVERY));
            }
        }
        let r = run_pipeline(&p, &opts, &progress, &stop);
        finished.store(true, Ordering::Relaxed);
        let _ = watcher.join();
        r
    });
    match result {
        Ok(report) => {
            // The HTML report (rank 0 only: the other ranks finish at the same state).
            if !no_report && shard.is_none_or(|(r, _)| r == 0) {
                let dest = super::report::default_path(&report.out_dir);
                let opts = datamill_report::Options::default();
                if let Err(e) = datamill_report::write(&report.out_dir, &dest, &opts) {
                    eprintln!("warning: the run finished but its report was not written: {e}");
                }
            }
            if !quiet {
                std::thread::sleep(Duration::from_millis(1));
                eprint!("{}", summary::render(&report));
            }
            ExitCode::SUCCESS
        }
        Err(RunError::Interrupted) => {
            eprintln!(
                "datamill: stopped; finished tasks are kept: rerun the same command to resume"
            );
            ExitCode::from(130)
        }
        Err(e) => fail(e),
    }
}

/// Signals received (SIGINT, SIGTERM, SIGHUP).
static SIGNALS: AtomicU32 = AtomicU32::new(0);

/// The signal handler: counts; a second signal ends the process at once (the tasks it was
/// running leave no finished-looking file: their outputs are temporary until renamed and
/// their markers come last).
fn on_signal() {
    if SIGNALS.fetch_add(1, Ordering::Relaxed) >= 1 {
        eprintln!("datamill: stopped at once; rerun the same command to resume");
        std::process::exit(130);
    }
}
