//! Scores every document of a JSONL file with CCNet's per-line perplexity on one thread and
//! prints documents per second (the `perplexity` stage's work without the pipeline's I/O):
//! `cargo run --release -p datamill-lm --example bench_score -- FILE.jsonl MODEL.arpa [REPEAT]`.

use datamill_lm::Model;
use datamill_lm::ccnet::{self, DocOptions};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (path, arpa) = (&args[1], &args[2]);
    let repeat: usize = args.get(3).map_or(1, |r| r.parse().expect("REPEAT"));
    let t = Instant::now();
    let model = Model::from_arpa_file(std::path::Path::new(arpa)).expect("model");
    let load = t.elapsed().as_secs_f64();
    let texts: Vec<String> = std::fs::read_to_string(path)
        .expect("input")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            v["text"].as_str().expect("text").to_string()
        })
        .collect();
    let t = Instant::now();
    let mut sum = 0.0;
    for _ in 0..repeat {
        for text in &texts {
            let s = ccnet::score_doc(
                &model,
                text,
                DocOptions::default(),
                &ccnet::whitespace_tokens,
            );
            sum += ccnet::round1(s.perplexity());
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let docs = texts.len() * repeat;
    let bytes: usize = texts.iter().map(String::len).sum::<usize>() * repeat;
    println!(
        "RESULT datamill_lm_score docs={docs} secs={secs:.3} docs_per_s={:.0} mb_per_s={:.1} load_s={load:.3} checksum={sum:.1}",
        docs as f64 / secs,
        bytes as f64 / secs / 1e6
    );
}
