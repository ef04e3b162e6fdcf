//! `datamill`: the command-line tool. It only parses arguments, shows progress and prints
//! results; everything else lives in the library crates. One file per subcommand in
//! [`cmd`]: its clap arguments and the glue that calls the libraries.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cmd;
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
    Run(cmd::run::RunArgs),
    /// Check a pipeline file and its inputs without running it.
    Validate(cmd::validate::ValidateArgs),
    /// Plan a run without running it: store the plan in the output folder and print its
    /// tasks, one wave (tasks that may run at once) per line.
    Plan(cmd::plan::PlanArgs),
    /// Write a run's report: one self-contained HTML page (funnel, examples of dropped
    /// documents, run facts) from its output folder.
    Report(cmd::report::ReportArgs),
    /// Run one task of a planned run (as `datamill plan` prints it) from any process.
    Task(cmd::task::TaskArgs),
    /// Write (and with --submit, submit) sbatch scripts running a pipeline on a Slurm
    /// cluster: one job array per pass, chained with --dependency=afterok.
    Slurm(cmd::slurm::SlurmArgs),
    /// List the stages, or show one stage's documentation.
    Stages(cmd::stages::StagesArgs),
    /// Fit scaling laws and plan data, epochs and model size.
    #[command(subcommand)]
    Scaling(cmd::scaling::ScalingCommand),
    /// Find label errors with confident learning (cleanlab's find_label_issues).
    LabelIssues(cmd::label_issues::LabelIssuesArgs),
    /// Train a fastText-compatible supervised classifier (a quality filter) from labeled JSONL.
    TrainClassifier(cmd::train_classifier::TrainClassifierArgs),
    /// Plan and write a token-budgeted mixture of sources (MIX.toml): weights, phases, epochs,
    /// document shards and Megatron/datatrove/numpy token files with a manifest.
    Mix(cmd::mix::MixArgs),
    /// Learn mixture weights from proxy runs (RegMix, the data mixing law) into a weights file.
    MixWeights(cmd::mix_weights::MixWeightsArgs),
}

/// Exit code for bad pipelines, bad input files and refused runs.
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Run(args) => cmd::run::run(args),
        Command::Validate(args) => cmd::validate::run(&args),
        Command::Plan(args) => cmd::plan::run(args),
        Command::Task(args) => cmd::task::run(&args),
        Command::Slurm(args) => cmd::slurm::run(args),
        Command::Report(args) => cmd::report::run(&args),
        Command::Stages(args) => cmd::stages::run(&args),
        Command::Scaling(c) => or_fail(cmd::scaling::run(&c, &mut Stdout::default())),
        Command::LabelIssues(args) => {
            or_fail(cmd::label_issues::run(&args, &mut Stdout::default()))
        }
        Command::TrainClassifier(args) => {
            or_fail(cmd::train_classifier::run(&args, &mut Stdout::default()))
        }
        Command::Mix(args) => cmd::mix::run(&args),
        Command::MixWeights(args) => or_fail(cmd::mix_weights::run(&args, &mut Stdout::default())),
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

/// Prints `error: MSG` and returns [`EXIT_USAGE`].
fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(EXIT_USAGE)
}

/// Success, or the error reported as [`fail`] does.
fn or_fail<E: std::fmt::Display>(r: Result<(), E>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}
