//! `datamill validate PIPELINE`: parses the pipeline file, builds every stage and plans the
//! input without running anything.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use datamill_exec::pipeline::Pipeline;

use crate::{Stdout, fail};

/// Arguments of `datamill validate`.
#[derive(Args)]
pub struct ValidateArgs {
    /// The pipeline file (TOML).
    pipeline: PathBuf,
}

/// Runs `datamill validate`.
pub fn run(args: &ValidateArgs) -> ExitCode {
    let pipeline = &args.pipeline;
    let p = match Pipeline::load(pipeline) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    match datamill_exec::plan::plan_input(&p) {
        Ok(plan) => {
            let mut out = Stdout::default();
            let _ = writeln!(
                out,
                "{}: ok — {} stage(s), {} input file(s), {} work unit(s), {} pass(es)",
                pipeline.display(),
                p.steps.len(),
                plan.files.len(),
                plan.units.len(),
                plan.passes.len()
            );
            for n in datamill_exec::plan::planning_notes(&plan) {
                let _ = writeln!(out, "note: {n}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}
