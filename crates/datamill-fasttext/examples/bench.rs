//! Load and predict throughput.
//!
//! ```text
//! cargo run --release -p datamill-fasttext --example bench [MODEL] [SAMPLE_JSONL]
//! ```
//! MODEL defaults to `$DATAMILL_LID176` or `target/models/lid.176.ftz`; SAMPLE_JSONL to
//! `/work/shared/data/samples/multilingual_sample.jsonl`. Documents are 100 consecutive words
//! of the sample's texts (newlines replaced by spaces). Single thread.

use std::time::Instant;

use datamill_fasttext::FastText;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let model_path = args.next().unwrap_or_else(|| {
        std::env::var("DATAMILL_LID176").unwrap_or_else(|_| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../target/models/lid.176.ftz"
            )
            .to_string()
        })
    });
    let sample = args
        .next()
        .unwrap_or_else(|| "/work/shared/data/samples/multilingual_sample.jsonl".to_string());

    // Load time: best and mean of 20 loads (file read + parse + n-gram tables).
    let mut times = Vec::new();
    let mut model = None;
    for _ in 0..20 {
        let t = Instant::now();
        model = Some(FastText::load(&model_path)?);
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let model = model.unwrap();
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    let best = times.iter().cloned().fold(f64::INFINITY, f64::min);
    println!("model {model_path}");
    println!(
        "  {} words, {} labels, dim {}, loss {:?}, quantized {}",
        model.nwords(),
        model.labels().len(),
        model.dim(),
        model.args().loss,
        model.is_quantized()
    );
    println!("load: best {best:.2} ms, mean {mean:.2} ms (20 loads)");

    // 100-word documents from the sample (a crude JSON "text" extraction keeps this example
    // dependency-free: the texts are re-joined words, escapes do not matter for timing).
    let raw = std::fs::read_to_string(&sample)?;
    let mut words: Vec<&str> = Vec::new();
    for line in raw.lines() {
        if let Some(start) = line.find("\"text\": \"") {
            let rest = &line[start + 9..];
            let end = rest.find("\", \"").unwrap_or(rest.len());
            words.extend(rest[..end].split("\\n").flat_map(|s| s.split_whitespace()));
        }
    }
    let docs: Vec<String> = words.chunks_exact(100).map(|c| c.join(" ")).collect();
    let n_words: usize = docs.iter().map(|d| d.split(' ').count()).sum();
    println!("{} docs of 100 words ({} words)", docs.len(), n_words);

    for (k, thr) in [(1usize, 0.0f32), (5, 0.0)] {
        // warm-up
        let mut sink = 0.0f32;
        for d in docs.iter().take(200) {
            sink += model.predict(d, k, thr).first().map_or(0.0, |p| p.1);
        }
        let reps = 3;
        let t = Instant::now();
        for _ in 0..reps {
            for d in &docs {
                sink += model.predict(d, k, thr).first().map_or(0.0, |p| p.1);
            }
        }
        let secs = t.elapsed().as_secs_f64();
        let n = (docs.len() * reps) as f64;
        println!(
            "predict k={k}: {:.0} docs/s, {:.1} µs/doc, {:.2} M words/s (1 thread) [checksum {sink:.3}]",
            n / secs,
            secs / n * 1e6,
            n * 100.0 / secs / 1e6
        );
    }
    Ok(())
}
