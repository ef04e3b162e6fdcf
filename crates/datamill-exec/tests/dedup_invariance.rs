//! The dedup stages through the executor: the same output, reports and saved indexes whatever
//! the worker count and with a memory budget far below the in-memory footprint; and dedup of
//! new data against saved indexes equals deduping old and new data together.

use datamill_exec::pipeline::Pipeline;
use datamill_exec::run::{Progress, RunOptions, run};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// `n` spelled with letters.
fn word(n: u64) -> String {
    n.to_string()
        .bytes()
        .map(|b| (b - b'0' + b'a') as char)
        .collect()
}

/// Writes 8 input files of 60 documents with repeated lines, paragraphs and documents.
fn write_input(dir: &Path) {
    std::fs::create_dir_all(dir.join("in")).unwrap();
    let mut n = 0u64;
    for f in 0..8 {
        let mut s = String::new();
        for _ in 0..60 {
            let x = xxhash_rust::xxh3::xxh3_64(&n.to_le_bytes());
            let text = if x.is_multiple_of(7) {
                // An exact duplicate of an earlier-style document.
                format!("Repeated document number {}.\nIt has two lines.", x % 5)
            } else {
                let mut t = String::new();
                for j in 0..8u64 {
                    let y = xxhash_rust::xxh3::xxh3_64(&(n * 16 + j).to_le_bytes());
                    match y % 5 {
                        0 => t.push_str(&format!("Menu | Home | Contact {}", y % 3)),
                        1 => t.push_str(&format!(
                            "A sentence shared by a few pages: {}.",
                            word(y % 300)
                        )),
                        // Digits would all normalize to 0 (CCNet): spell the numbers.
                        _ => t.push_str(&format!(
                            "Original content of document {}, line {}.",
                            word(n),
                            word(j)
                        )),
                    }
                    t.push('\n');
                }
                t
            };
            s.push_str(&serde_json::json!({"id": format!("doc{n}"), "text": text}).to_string());
            s.push('\n');
            n += 1;
        }
        std::fs::write(dir.join(format!("in/a{f}.jsonl")), s).unwrap();
    }
}

fn pipeline(dir: &Path, paths: &str, extra: &str) -> Pipeline {
    let src = format!(
        r#"
version = 1
[input]
paths = ["{paths}"]
unit_size = "4KB"

[[stage]]
type = "exact_dedup"
{extra_exact}

[[stage]]
type = "line_dedup"
keep_first = true
max_occurrences = 3
{extra_line}

[[stage]]
type = "bloom_dedup"
expected_items = 20000
memory = "1MB"
{extra_bloom}

[output]
compression = "none"
excluded = true
"#,
        extra_exact = extra.replace("KIND", "exact"),
        extra_line = extra.replace("KIND", "line"),
        extra_bloom = extra.replace("KIND", "bloom"),
    );
    Pipeline::from_source(&dir.join("p.toml"), &src, dir).unwrap()
}

/// Every output and excluded line, and every dedup report, by relative path.
fn snapshot(out: &Path) -> Vec<(String, String)> {
    fn walk(base: &Path, d: &Path, acc: &mut Vec<(String, String)>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
            if rel.starts_with(".datamill") || rel.ends_with("stats.json") {
                continue;
            }
            if p.is_dir() {
                walk(base, &p, acc);
            } else if rel.ends_with(".jsonl") {
                acc.push((rel, std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    let mut acc = Vec::new();
    walk(out, out, &mut acc);
    acc.sort();
    acc
}

fn run_into(
    p: &Pipeline,
    out: PathBuf,
    workers: usize,
    memory: Option<u64>,
) -> Vec<(String, String)> {
    let opts = RunOptions {
        output: Some(out.clone()),
        workers,
        force: true,
        memory,
        ..Default::default()
    };
    run(p, &opts, &Progress::default(), &AtomicBool::new(false)).unwrap();
    snapshot(&out)
}

#[test]
fn same_result_whatever_the_workers_and_the_memory_budget() {
    let dir = tempfile::tempdir().unwrap();
    write_input(dir.path());
    let p = pipeline(dir.path(), "in/*.jsonl", "");
    let base = run_into(&p, dir.path().join("o1"), 1, None);
    // 480 documents: exact_dedup holds ~23 KB of entries, line_dedup ~90 KB of occurrences;
    // a 2 KB budget is more than 10x smaller than either.
    for (i, (workers, memory)) in [(4, None), (3, Some(2048)), (1, Some(2048))]
        .into_iter()
        .enumerate()
    {
        let got = run_into(&p, dir.path().join(format!("o{}", i + 2)), workers, memory);
        assert_eq!(got.len(), base.len());
        for (a, b) in base.iter().zip(&got) {
            assert_eq!(
                a, b,
                "{} differs with {workers} workers, memory {memory:?}",
                a.0
            );
        }
    }
    let names: Vec<&str> = base.iter().map(|f| f.0.as_str()).collect();
    for r in [
        "reports/exact_dedup/clusters.jsonl",
        "reports/line_dedup/clusters.jsonl",
        "reports/bloom_dedup/clusters.jsonl",
    ] {
        let f = base
            .iter()
            .find(|f| f.0 == r)
            .unwrap_or_else(|| panic!("no {r} in {names:?}"));
        assert!(!f.1.is_empty(), "{r} is empty");
    }
    let stats: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("o1/stats.json")).unwrap()).unwrap();
    let s = stats.to_string();
    let st = &stats["stages"];
    assert!(st[0]["dropped"]["duplicate"].as_u64().unwrap() > 20, "{s}");
    assert!(
        st[1]["counters"]["lines_removed"].as_u64().unwrap() > 100,
        "{s}"
    );
    assert!(
        st[2]["counters"]["paragraphs_removed"].as_u64().unwrap() > 10,
        "{s}"
    );
}

/// The kept documents (id → text) of a snapshot's outputs.
fn kept(snap: &[(String, String)]) -> std::collections::BTreeMap<String, String> {
    let mut m = std::collections::BTreeMap::new();
    for (name, body) in snap {
        if name.starts_with("reports") || name.starts_with("excluded") {
            continue;
        }
        for l in body.lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            m.insert(
                v["id"].as_str().unwrap().to_string(),
                v["text"].as_str().unwrap().to_string(),
            );
        }
    }
    m
}

#[test]
fn new_data_against_saved_indexes_equals_deduping_everything_together() {
    let dir = tempfile::tempdir().unwrap();
    write_input(dir.path());
    let together = kept(&run_into(
        &pipeline(dir.path(), "in/a*.jsonl", ""),
        dir.path().join("all"),
        2,
        None,
    ));
    let save = "save_index = \"idx/KIND.idx\"";
    run_into(
        &pipeline(dir.path(), "in/a[0-4].jsonl", save),
        dir.path().join("old"),
        2,
        None,
    );
    let against = "against = [\"idx/KIND.idx\"]";
    let new = kept(&run_into(
        &pipeline(dir.path(), "in/a[5-7].jsonl", against),
        dir.path().join("new"),
        2,
        Some(2048),
    ));
    let first_new = 5 * 60;
    let want: std::collections::BTreeMap<String, String> = together
        .into_iter()
        .filter(|(id, _)| id[3..].parse::<usize>().unwrap() >= first_new)
        .collect();
    assert!(want.len() > 50, "{}", want.len());
    assert_eq!(new, want);
}
