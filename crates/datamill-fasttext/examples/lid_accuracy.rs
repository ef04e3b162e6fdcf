//! Per-language top-1 accuracy of lid.176.ftz on the multilingual sample (`lang_base` field),
//! printed as a Markdown table (the table in this crate's README).
//!
//! ```text
//! cargo run --release -p datamill-fasttext --example lid_accuracy [MODEL] [SAMPLE_JSONL]
//! ```
//! Text is prepared as datatrove does (newlines -> spaces); a document counts as correct when the
//! top-1 label equals `lang_base`. Also shows how many documents pass datatrove's 0.65 threshold.

use std::collections::{BTreeMap, HashMap};

use datamill_fasttext::{FastText, strip_label_prefix};

#[derive(Default)]
struct Row {
    docs: usize,
    correct: usize,
    correct_065: usize,
    predicted: HashMap<String, usize>,
}

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
    let model = FastText::load(&model_path)?;
    let known: std::collections::HashSet<&str> = model
        .labels()
        .iter()
        .map(|l| strip_label_prefix(l))
        .collect();

    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    for line in std::fs::read_to_string(&sample)?.lines() {
        let v: serde_json::Value = serde_json::from_str(line)?;
        let lang = v["lang_base"].as_str().unwrap_or("?").to_string();
        let text = v["text"].as_str().unwrap_or("").replace('\n', " ");
        let pred = model.predict(&text, 1, 0.0);
        let (label, prob) = pred
            .first()
            .map(|&(l, p)| (strip_label_prefix(l).to_string(), p))
            .unwrap_or_else(|| ("(none)".to_string(), 0.0));
        let row = rows.entry(lang.clone()).or_default();
        row.docs += 1;
        if label == lang {
            row.correct += 1;
            if prob >= 0.65 {
                row.correct_065 += 1;
            }
        }
        *row.predicted.entry(label).or_default() += 1;
    }

    let (mut sup_docs, mut sup_ok, mut sup_ok65, mut sup_langs) = (0, 0, 0, 0);
    let (mut uns_docs, mut uns_langs) = (0, 0);
    println!(
        "| lang_base | docs | top-1 correct | accuracy | correct & p≥0.65 | most frequent prediction |"
    );
    println!("|---|---:|---:|---:|---:|---|");
    for (lang, r) in &rows {
        if !known.contains(lang.as_str()) {
            uns_docs += r.docs;
            uns_langs += 1;
            continue;
        }
        sup_docs += r.docs;
        sup_ok += r.correct;
        sup_ok65 += r.correct_065;
        sup_langs += 1;
        let (top, n) = r
            .predicted
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(l, n)| (l.as_str(), *n))
            .unwrap_or(("-", 0));
        println!(
            "| {lang} | {} | {} | {:.1}% | {} | {top} ({n}) |",
            r.docs,
            r.correct,
            100.0 * r.correct as f64 / r.docs as f64,
            r.correct_065
        );
    }
    println!(
        "| **all {sup_langs} languages lid.176 knows** | **{sup_docs}** | **{sup_ok}** | **{:.1}%** | **{sup_ok65}** | |",
        100.0 * sup_ok as f64 / sup_docs.max(1) as f64
    );
    println!();
    println!(
        "{uns_docs} more documents in {uns_langs} `lang_base` values that are not lid.176 labels (e.g. `und`, languages outside its 176) are left out."
    );
    Ok(())
}
