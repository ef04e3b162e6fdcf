//! `datamill stages [NAME]`: lists the stages with their one-line summaries, or prints one
//! stage's documentation (its file's `//!` comment, see `datamill_stages::registry`).

use std::io::Write;
use std::process::ExitCode;

use clap::Args;

use crate::fail;

/// Arguments of `datamill stages`.
#[derive(Args)]
pub struct StagesArgs {
    /// A stage type.
    name: Option<String>,
}

/// Runs `datamill stages`.
pub fn run(args: &StagesArgs) -> ExitCode {
    let reg = datamill_stages::registry();
    match args.name.as_deref() {
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
