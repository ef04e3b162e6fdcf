//! Shared helpers of the golden tests: the sample, the golden files.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Read;

/// The en_prose sample, relative to the repository root (`../shared/...`).
pub const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/samples/en_prose_sample.jsonl"
);

/// Path of a golden file.
pub fn golden_path(name: &str) -> String {
    format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// `(id, text)` of every sample document, in file order.
pub fn sample_docs() -> Vec<(String, String)> {
    let data = std::fs::read_to_string(SAMPLE).unwrap_or_else(|e| panic!("read {SAMPLE}: {e}"));
    data.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json line");
            let id = match &v["id"] {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (id, v["text"].as_str().expect("text").to_string())
        })
        .collect()
}

/// Rows of a zstd-compressed JSONL golden file.
pub fn golden_rows(name: &str) -> Vec<serde_json::Value> {
    let f = std::fs::File::open(golden_path(name)).unwrap_or_else(|e| panic!("open {name}: {e}"));
    let mut s = String::new();
    zstd::Decoder::new(f)
        .expect("zstd")
        .read_to_string(&mut s)
        .expect("read");
    s.lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect()
}

/// Golden rows by id.
pub fn golden_by_id(name: &str) -> HashMap<String, serde_json::Value> {
    golden_rows(name)
        .into_iter()
        .map(|r| (r["id"].as_str().expect("id").to_string(), r))
        .collect()
}

/// The multilingual sample, relative to the repository root (`../shared/...`).
pub const ML_SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/samples/multilingual_sample.jsonl"
);

/// Texts of the multilingual sample by id, or `None` (with a printed notice) when `../shared`
/// is absent; with `DATAMILL_REQUIRE_MODELS=1` (CI) absence fails the test.
pub fn ml_sample() -> Option<HashMap<String, String>> {
    let data = match std::fs::read_to_string(ML_SAMPLE) {
        Ok(d) => d,
        Err(e) => {
            if std::env::var("DATAMILL_REQUIRE_MODELS").as_deref() == Ok("1") {
                panic!("{ML_SAMPLE}: {e} (DATAMILL_REQUIRE_MODELS=1)");
            }
            eprintln!("skipping: {ML_SAMPLE} not readable ({e})");
            return None;
        }
    };
    Some(
        data.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("json line");
                let id = match &v["id"] {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (id, v["text"].as_str().expect("text").to_string())
            })
            .collect(),
    )
}

/// The folder of tokenizer data `name` (`$DATAMILL_TOKENIZER_DATA/<name>`, else
/// `target/models/<name>`) when it holds `file`; else `None` with a printed notice naming the
/// fetch script, or a failure under `DATAMILL_REQUIRE_MODELS=1` (CI).
pub fn tokenizer_data(name: &str, file: &str, fetch: &str) -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("DATAMILL_TOKENIZER_DATA")
        .map(|d| std::path::PathBuf::from(d).join(name))
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/models")
                .join(name)
        });
    if dir.join(file).is_file() {
        return Some(dir);
    }
    let msg = format!("{name} data not found at {}", dir.display());
    assert!(
        std::env::var("DATAMILL_REQUIRE_MODELS").as_deref() != Ok("1"),
        "DATAMILL_REQUIRE_MODELS=1 but {msg}"
    );
    eprintln!("SKIPPED: {msg}; run crates/datamill-filters/{fetch}");
    None
}

/// The text of a golden row of the Thai/Burmese goldens: a multilingual-sample document
/// (`None` when ../shared is absent), a document of a `docs_*.txt` file (`"doc"`) or a
/// synthetic string (`"text"`); with a label for messages.
pub fn row_text<'a>(
    g: &'a serde_json::Value,
    sample: &'a Option<HashMap<String, String>>,
    docs: &'a [String],
    docs_name: &str,
) -> Option<(String, &'a str)> {
    if let Some(t) = g.get("text").and_then(|t| t.as_str()) {
        return Some((format!("{t:?}"), t));
    }
    if let Some(i) = g.get("doc").and_then(|d| d.as_u64()) {
        return Some((format!("{docs_name} #{i}"), docs[i as usize].as_str()));
    }
    let id = g["id"].as_str().expect("id");
    sample.as_ref().map(|s| (id.to_string(), s[id].as_str()))
}

/// A `docs_*.txt` golden input: one JSON string per line.
pub fn golden_docs(name: &str) -> Vec<String> {
    std::fs::read_to_string(golden_path(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .lines()
        .map(|l| serde_json::from_str(l).expect("json string"))
        .collect()
}

/// Runs `runs` (name, filter) on `text` and compares with the golden row's decisions
/// (`"kept"` or the reason) and rewritten texts (`<name>_text`); counts kept / dropped.
pub fn check_filters(
    g: &serde_json::Value,
    label: &str,
    text: &str,
    runs: &[(&str, &dyn datamill_filters::Filter)],
    counts: &mut (usize, usize),
    bad: &mut Vec<String>,
) {
    use datamill_filters::FilterResult;
    for &(run, f) in runs {
        f.validate().expect("valid");
        let (decision, new_text) = match f.filter(text) {
            FilterResult::Keep => ("kept".to_string(), None),
            FilterResult::Rewrite(t) => ("kept".to_string(), Some(t)),
            FilterResult::Drop(r) => (r.to_string(), None),
        };
        if decision == "kept" {
            counts.0 += 1;
        } else {
            counts.1 += 1;
        }
        let gd = g[run].as_str().expect("decision");
        let gt = g.get(format!("{run}_text")).and_then(|v| v.as_str());
        if decision != gd || new_text.as_deref() != gt {
            bad.push(format!("{label} {run}: ours {decision} datatrove {gd}"));
        }
    }
}
