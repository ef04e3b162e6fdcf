//! `datamill`: the command-line tool. It only parses arguments, shows progress and prints
//! results; everything else lives in the library crates.

use anyhow::Result;
use clap::{Parser, Subcommand};
use datamill_exec::pipeline::{ByteSize, Pipeline};
use datamill_exec::run::{Progress, RunError, RunOptions, run};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

mod summary;

/// Turns raw text corpora into training datasets.
#[derive(Parser)]
#[command(name = "datamill", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a pipeline.
    Run {
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
    },
    /// Check a pipeline file and its inputs without running it.
    Validate {
        /// The pipeline file (TOML).
        pipeline: PathBuf,
    },
    /// List the stages, or show one stage's documentation.
    Stages {
        /// A stage type.
        name: Option<String>,
    },
    /// Fit scaling laws and plan data, epochs and model size.
    #[command(subcommand)]
    Scaling(datamill_scaling::ScalingCommand),
    /// Find label errors with confident learning (cleanlab's find_label_issues).
    LabelIssues(datamill_learn::LabelIssuesArgs),
    /// Train a fastText-compatible supervised classifier (a quality filter) from labeled JSONL.
    TrainClassifier(datamill_learn::TrainClassifierArgs),
}

/// Exit code for bad pipelines, bad input files and refused runs.
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match real_main(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Standard output for reports: once the reader is gone (`datamill ... | head`), further output
/// is discarded instead of failing the command; other write errors are reported.
#[derive(Default)]
struct Stdout {
    closed: bool,
}

impl std::io::Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        match std::io::stdout().lock().write(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(buf.len())
            }
            r => r,
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.closed {
            return Ok(());
        }
        match std::io::stdout().lock().flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            r => r,
        }
    }
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(EXIT_USAGE)
}

fn real_main(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Stages { name } => Ok(stages(name.as_deref())),
        Command::Scaling(cmd) => match datamill_scaling::run(&cmd, &mut Stdout::default()) {
            Ok(()) => Ok(ExitCode::SUCCESS),
            Err(e) => Ok(fail(e)),
        },
        Command::LabelIssues(args) => {
            match datamill_learn::run_label_issues(&args, &mut Stdout::default()) {
                Ok(()) => Ok(ExitCode::SUCCESS),
                Err(e) => Ok(fail(e)),
            }
        }
        Command::TrainClassifier(args) => {
            match datamill_learn::run_train_classifier(&args, &mut Stdout::default()) {
                Ok(()) => Ok(ExitCode::SUCCESS),
                Err(e) => Ok(fail(e)),
            }
        }
        Command::Validate { pipeline } => {
            let p = match Pipeline::load(&pipeline) {
                Ok(p) => p,
                Err(e) => return Ok(fail(e)),
            };
            match datamill_exec::run::plan_input(&p) {
                Ok((files, units)) => {
                    let mut out = Stdout::default();
                    let _ = writeln!(
                        out,
                        "{}: ok — {} stage(s), {} input file(s), {} work unit(s)",
                        pipeline.display(),
                        p.steps.len(),
                        files.len(),
                        units.len()
                    );
                    for n in datamill_exec::run::planning_notes(&p, &files, &units) {
                        let _ = writeln!(out, "note: {n}");
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => Ok(fail(e)),
            }
        }
        Command::Run {
            pipeline,
            output,
            workers,
            quiet,
            force,
            memory,
            rank,
            world_size,
        } => {
            let shard = match (rank, world_size) {
                (Some(r), Some(w)) if w == 0 || r >= w => {
                    return Ok(fail(format!("--rank {r} must be below --world-size {w}")));
                }
                (Some(_), Some(_)) if force => {
                    return Ok(fail("--force cannot be combined with --rank/--world-size"));
                }
                (Some(r), Some(w)) => Some((r, w)),
                _ => None,
            };
            let memory = match memory.as_deref().map(ByteSize::parse).transpose() {
                Ok(m) => m.map(|b| b.0),
                Err(e) => return Ok(fail(format!("--memory: {e}"))),
            };
            let p = match Pipeline::load(&pipeline) {
                Ok(p) => p,
                Err(e) => return Ok(fail(e)),
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
            let show = !quiet && std::io::stderr().is_terminal();
            let progress = Progress::default();
            let stop = AtomicBool::new(false);
            let finished = AtomicBool::new(false);
            let result = std::thread::scope(|s| {
                if show {
                    s.spawn(|| summary::progress_bar(&progress, &finished));
                }
                let r = run(&p, &opts, &progress, &stop);
                finished.store(true, Ordering::Relaxed);
                r
            });
            match result {
                Ok(report) => {
                    if show {
                        std::thread::sleep(Duration::from_millis(1));
                        eprint!("{}", summary::render(&report));
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e @ RunError::Interrupted) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(130))
                }
                Err(e) => Ok(fail(e)),
            }
        }
    }
}

fn stages(name: Option<&str>) -> ExitCode {
    let reg = datamill_stages::registry();
    match name {
        None => {
            let w = reg.iter().map(|i| i.name.len()).max().unwrap_or(0);
            let mut out = std::io::stdout().lock();
            for i in &reg {
                // A closed pipe (`datamill stages | head`) is not an error.
                if writeln!(out, "{:w$}  {}", i.name, i.summary()).is_err() {
                    break;
                }
            }
            ExitCode::SUCCESS
        }
        Some(n) => match datamill_stages::info(n) {
            Some(i) => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(
                    out,
                    "{}{}\n\n{}",
                    i.name,
                    if i.global { " (global)" } else { "" },
                    i.doc
                );
                ExitCode::SUCCESS
            }
            None => fail(format!(
                "unknown stage `{n}`; stages: {}",
                reg.iter().map(|i| i.name).collect::<Vec<_>>().join(", ")
            )),
        },
    }
}
