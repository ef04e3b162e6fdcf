//! `datamill report OUT_DIR`: the run's report as one self-contained HTML page.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::fail;

/// Arguments of `datamill report`.
#[derive(Args)]
pub struct ReportArgs {
    /// The run's output folder.
    out: PathBuf,
    /// Where to write the page (default: `OUT_DIR/report.html`).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Examples shown per drop reason.
    #[arg(long, default_value_t = 20)]
    examples: usize,
    /// Input documents sampled to replay the per-document stages for the overlap of the drop
    /// rules (0: no overlap section).
    #[arg(long, default_value_t = 2000)]
    overlap_docs: usize,
    /// Open the page in the desktop's browser once written (`xdg-open` / `open`).
    #[arg(long)]
    open: bool,
}

/// The default place of a run's report.
pub fn default_path(out: &Path) -> PathBuf {
    out.join("report.html")
}

/// Runs `datamill report`: exit code 2 when the folder is not a run or the page cannot be
/// written.
pub fn run(args: &ReportArgs) -> ExitCode {
    let dest = args
        .output
        .clone()
        .unwrap_or_else(|| default_path(&args.out));
    let opts = datamill_report::Options {
        examples: args.examples,
        overlap_docs: args.overlap_docs,
        ..Default::default()
    };
    if let Err(e) = datamill_report::write(&args.out, &dest, &opts) {
        return fail(e);
    }
    println!("{}", dest.display());
    if args.open {
        let opener = if cfg!(target_os = "macos") {
            "open"
        } else {
            "xdg-open"
        };
        // The path is one argument of a program, never a shell word.
        if let Err(e) = std::process::Command::new(opener).arg(&dest).status() {
            eprintln!("warning: could not run {opener}: {e}");
        }
    }
    ExitCode::SUCCESS
}
