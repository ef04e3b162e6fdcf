//! Stand-alone runner for the `datamill scaling` subcommands, equivalent to
//! `datamill scaling ...` once the main binary mounts [`ScalingCommand`]:
//!
//! ```text
//! cargo run --release -p datamill-scaling --example scaling -- fit RUNS.csv --law chinchilla
//! ```

use clap::Parser;
use datamill_scaling::{ScalingCommand, run};

/// Scaling-law fitting and data planning.
#[derive(Parser)]
#[command(name = "datamill scaling")]
struct Cli {
    #[command(subcommand)]
    cmd: ScalingCommand,
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(&cli.cmd, &mut std::io::stdout()) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
