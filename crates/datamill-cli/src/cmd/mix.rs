//! `datamill mix MIX.toml`: plan and write a token-budgeted mixture (datamill-mix).

use crate::{EXIT_USAGE, Stdout};
use datamill_mix::MixError;
use datamill_mix::config::MixFile;
use datamill_mix::run::{MixOptions, MixProgress};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Arguments of `datamill mix`.
#[derive(clap::Args)]
pub struct MixArgs {
    /// The mixture file (TOML).
    pub mixture: PathBuf,
    /// Output folder (default: `[output].dir` of the mixture, relative to its file).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Worker threads (default: the number of cores).
    #[arg(short, long)]
    pub workers: Option<usize>,
    /// No plan, progress or summary.
    #[arg(short, long)]
    pub quiet: bool,
    /// Delete another mixture's output in the output folder.
    #[arg(long)]
    pub force: bool,
    /// Count the sources and print the plan; write no output.
    #[arg(long)]
    pub dry_run: bool,
}

fn progress_line(p: &MixProgress, finished: &AtomicBool) {
    let start = Instant::now();
    while !finished.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(200));
        let what = match p.pass.load(Ordering::Relaxed) {
            1 => "counting",
            2 => "writing",
            _ => continue,
        };
        eprint!(
            "\r{what}: {}/{} tasks  {:.1} s   ",
            p.done.load(Ordering::Relaxed),
            p.total.load(Ordering::Relaxed),
            start.elapsed().as_secs_f64()
        );
    }
    eprint!("\r{:60}\r", "");
}

/// Runs `datamill mix`: the plan on stdout, progress on a terminal, exit 2 on bad input.
pub fn run(args: &MixArgs) -> ExitCode {
    let fail = |e: &dyn std::fmt::Display| {
        eprintln!("error: {e}");
        ExitCode::from(EXIT_USAGE)
    };
    let f = match MixFile::load(&args.mixture) {
        Ok(f) => f,
        Err(e) => return fail(&e),
    };
    let opts = MixOptions {
        output: args.output.clone(),
        workers: args.workers.unwrap_or(0),
        force: args.force,
        dry_run: args.dry_run,
    };
    let show = !args.quiet && std::io::stderr().is_terminal();
    let progress = MixProgress::default();
    let stop = AtomicBool::new(false);
    let finished = AtomicBool::new(false);
    let started = Instant::now();
    let mut out = Stdout::default();
    let quiet = args.quiet;
    let result = std::thread::scope(|s| {
        if show {
            s.spawn(|| progress_line(&progress, &finished));
        }
        let r = datamill_mix::run::run(&f, &opts, &progress, &stop, &mut |plan| {
            if !quiet {
                let _ = write!(out, "{}", plan.render());
            }
        });
        finished.store(true, Ordering::Relaxed);
        r
    });
    match result {
        Ok(report) => {
            if !args.quiet {
                match &report.manifest {
                    Some(m) => {
                        let _ = writeln!(
                            out,
                            "wrote {} documents, {} tokens to {} in {:.2} s (manifest.json){}",
                            m["documents"],
                            m["tokens"],
                            report.out.display(),
                            started.elapsed().as_secs_f64(),
                            if report.resumed != (0, 0) {
                                format!(
                                    "; resumed: {} counting and {} writing task(s) were done",
                                    report.resumed.0, report.resumed.1
                                )
                            } else {
                                String::new()
                            }
                        );
                    }
                    None => {
                        let _ = writeln!(out, "dry run: nothing written");
                    }
                }
            }
            ExitCode::SUCCESS
        }
        Err(e @ MixError::Interrupted) => {
            eprintln!("error: {e}");
            ExitCode::from(130)
        }
        Err(e) => fail(&e),
    }
}
