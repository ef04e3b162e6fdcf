//! Speed of the filters on a JSONL file (default: the en_prose sample), one thread.
//!
//! ```text
//! CARGO_TARGET_DIR=target-filters cargo run --release -p datamill-filters --example bench_filters [FILE.jsonl] [REPEATS]
//! ```
//! Prints docs/s per core for the tokenizer alone, each filter alone and the 4-filter chain
//! (GopherQuality -> GopherRepetition -> C4Quality -> FineWebQuality).

use std::time::Instant;

use datamill_filters::tokenizer::Tokenizer;
use datamill_filters::{
    C4BadWordsFilter, C4QualityFilter, Filter, FineWebQualityFilter, GopherQualityFilter,
    GopherRepetitionFilter, run_chain,
};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/samples/en_prose_sample.jsonl"
        )
        .to_string()
    });
    let repeats: usize = args.next().map_or(5, |r| r.parse().expect("REPEATS"));
    let data = std::fs::read_to_string(&path).expect("read input");
    let texts: Vec<String> = data
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("json")["text"]
                .as_str()
                .expect("text")
                .to_string()
        })
        .collect();
    let bytes: usize = texts.iter().map(|t| t.len()).sum();
    println!(
        "input {path}: {} docs, {:.1} MB, best of {repeats} runs, 1 thread",
        texts.len(),
        bytes as f64 / 1e6
    );

    let tok = Tokenizer::english();
    tok.words("warm up https://example.com");
    let time = |name: &str, f: &dyn Fn(&str) -> bool| {
        let mut best = f64::INFINITY;
        let mut kept = 0;
        for _ in 0..repeats {
            let t0 = Instant::now();
            kept = texts.iter().filter(|t| f(t)).count();
            best = best.min(t0.elapsed().as_secs_f64());
        }
        println!(
            "{name:<28} {:>9.0} docs/s  {:>7.1} MB/s  ({:.3} s, kept {kept})",
            texts.len() as f64 / best,
            bytes as f64 / 1e6 / best,
            best
        );
    };
    time("spacy_en_tokenizer (words)", &|t| !tok.words(t).is_empty());
    let gq = GopherQualityFilter::default();
    let gr = GopherRepetitionFilter::default();
    let c4 = C4QualityFilter::default();
    let bw = C4BadWordsFilter::default();
    let fw = FineWebQualityFilter::default();
    time("gopher_quality", &|t| gq.filter(t).is_kept());
    time("gopher_repetition", &|t| gr.filter(t).is_kept());
    time("c4_quality", &|t| c4.filter(t).is_kept());
    time("c4_badwords", &|t| bw.filter(t).is_kept());
    time("fineweb_quality", &|t| fw.filter(t).is_kept());
    let chain: [&dyn Filter; 4] = [&gq, &gr, &c4, &fw];
    time("chain (4 filters)", &|t| run_chain(&chain, t).is_kept());
}
