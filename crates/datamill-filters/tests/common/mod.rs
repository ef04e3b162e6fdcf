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
