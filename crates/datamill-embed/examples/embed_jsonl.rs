//! Embeds the `text` field of a JSONL file with one thread and prints the throughput.
//!
//! `cargo run --release -p datamill-embed --example embed_jsonl -- MODEL_DIR FILE.jsonl [LIMIT] [BATCH] [OUT.f32]`
//! BATCH is the number of documents per batch (longest first, as sentence-transformers
//! sorts); OUT.f32 receives the raw little-endian float32 rows in input order.

use datamill_embed::{Encoder, EncoderOptions};
use std::io::{BufRead, Write};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let model = std::path::Path::new(&args[1]);
    let file = std::fs::File::open(&args[2]).expect("input");
    let limit: usize = args
        .get(3)
        .map(|s| s.parse().unwrap())
        .unwrap_or(usize::MAX);
    let batch: usize = args.get(4).map(|s| s.parse().unwrap()).unwrap_or(32);
    let t0 = Instant::now();
    let enc = Encoder::load(model, &EncoderOptions::default()).expect("model");
    let load = t0.elapsed().as_secs_f64();
    let texts: Vec<String> = std::io::BufReader::new(file)
        .lines()
        .take(limit)
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(&l.unwrap()).unwrap();
            v["text"].as_str().unwrap().to_string()
        })
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let t = Instant::now();
    let cpu0 = cpu_seconds();
    let mut out = Vec::new();
    let mut tokens = 0usize;
    let mut truncated = 0usize;
    // Batches of BATCH documents in input order, each sorted longest first inside
    // Encoder::embed (token budget = the batch's own tokens, so one packed batch).
    for chunk in refs.chunks(batch) {
        let (e, toks) = enc.embed(chunk, usize::MAX).expect("embed");
        tokens += toks.iter().map(|t| t.ids.len()).sum::<usize>();
        truncated += toks.iter().filter(|t| t.truncated).count();
        out.extend(e);
    }
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    println!(
        "RESULT datamill docs={} tokens={} truncated={} load_s={:.2} wall_s={:.2} cpu_s={:.2} docs_per_cpu_s={:.1} tokens_per_cpu_s={:.0}",
        refs.len(),
        tokens,
        truncated,
        load,
        secs,
        cpu,
        refs.len() as f64 / cpu,
        tokens as f64 / cpu
    );
    if let Some(path) = args.get(5) {
        let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
        for x in out {
            f.write_all(&x.to_le_bytes()).unwrap();
        }
    }
}

/// User + system CPU seconds of this process (from /proc/self/stat; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let after = &s[s.rfind(')').map_or(0, |i| i + 2)..];
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f[11].parse::<f64>().unwrap_or(0.0) + f[12].parse::<f64>().unwrap_or(0.0);
    ticks / 100.0
}
