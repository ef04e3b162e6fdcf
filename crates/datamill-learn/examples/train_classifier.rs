//! `cargo run -p datamill-learn --example train_classifier -- --input X.jsonl --output m.bin ...`:
//! the `datamill train-classifier` runner without the CLI crate (used by the golden script).

use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: datamill_learn::TrainClassifierArgs,
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = datamill_learn::run_train_classifier(&cli.args, &mut std::io::stdout()) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
