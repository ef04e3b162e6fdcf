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
    /// A scaling law (a law file or `builtin:NAME`): the page embeds `datamill scaling plot`'s
    /// figure of it.
    #[arg(long)]
    law: Option<String>,
    /// Runs (CSV) drawn as points on the scaling figure (with `--law`).
    #[arg(long, requires = "law")]
    runs: Option<PathBuf>,
    /// Columns, filters and outlier rule for --runs (as `datamill scaling plot`).
    #[command(flatten)]
    input: crate::cmd::scaling::InputArgs,
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
    let mut figures = Vec::new();
    if let Some(law) = &args.law {
        let plot = crate::cmd::scaling::PlotArgs {
            law: law.clone(),
            runs: args.runs.clone(),
            input: args.input.clone(),
            out: PathBuf::new(),
            max_compute: None,
            title: None,
            n: None,
            d: None,
            max_general_increase: None,
            general_baseline: None,
            k_general: None,
            k_domain: None,
            params: Vec::new(),
            bits: Vec::new(),
            max_increase: None,
        };
        match crate::cmd::scaling::plot_svg(&plot) {
            Ok(svg) => figures.push(datamill_report::Figure {
                title: format!("scaling law {law}"),
                caption: match &args.runs {
                    Some(r) => format!(
                        "datamill scaling plot {law} --runs {} (the runs as points)",
                        r.display()
                    ),
                    None => format!("datamill scaling plot {law}"),
                },
                svg,
            }),
            Err(e) => return fail(e),
        }
    }
    let opts = datamill_report::Options {
        figures,
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
