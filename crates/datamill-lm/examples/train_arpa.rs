//! Trains a modified Kneser-Ney model on the first documents of a JSONL file and prints it as
//! ARPA: `cargo run -p datamill-lm --example train_arpa -- FILE.jsonl DOCS ORDER > model.arpa`.
//! Each `"\n"` line of a document's `text` is one sentence, normalized as CCNet does and split
//! on whitespace (the golden model under `tests/golden/` was made this way).

use datamill_lm::train::{TrainOptions, Trainer};
use datamill_lm::{ccnet, kenlm_words};
use std::io::BufRead;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, path, docs, order] = &args[..] else {
        eprintln!("usage: train_arpa FILE.jsonl DOCS ORDER");
        std::process::exit(2);
    };
    let docs: usize = docs.parse().expect("DOCS is a number");
    let order: usize = order.parse().expect("ORDER is a number");
    let f = std::io::BufReader::new(std::fs::File::open(path).expect("readable input"));
    let mut t = Trainer::new(TrainOptions::new(order)).expect("valid order");
    for line in f.lines().take(docs) {
        let v: serde_json::Value = serde_json::from_str(&line.expect("utf-8")).expect("json");
        let text = v["text"].as_str().expect("a text field");
        for l in text.split('\n') {
            let n = ccnet::normalize(l);
            t.add_sentence(kenlm_words(&n));
        }
    }
    let m = t.finish().expect("trained");
    eprintln!(
        "{} sentences; discounts {:?}; fallback {:?}",
        m.sentences, m.discounts, m.fallback
    );
    print!("{}", m.arpa);
}
