//! Excluded duplicates say what they duplicate (issue 14.11): exact and MinHash dedup write
//! `duplicate_of` (the kept document's id) and `cluster` into `excluded_by`; exact dedup keeps
//! the member of highest `priority_field` (datatrove's `document_priority`) and writes the
//! cluster size to `count_field`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn run(dir: &Path, stages: &str) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let p = dir.join("p.toml");
    std::fs::write(
        &p,
        format!(
            "version = 1\n[input]\npaths = [\"in.jsonl\"]\n{stages}[output]\ndir = \"out\"\n\
             excluded = true\ncompression = \"none\"\n"
        ),
    )
    .unwrap();
    let _ = std::fs::remove_dir_all(dir.join("out"));
    let o = Command::new(env!("CARGO_BIN_EXE_datamill"))
        .args(["run", p.to_str().unwrap(), "--quiet"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let read = |d: &Path| -> Vec<serde_json::Value> {
        let mut files: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".jsonl"))
            .collect();
        files.sort();
        files
            .iter()
            .flat_map(|f| {
                std::fs::read_to_string(f)
                    .unwrap()
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let out = dir.join("out");
    (read(&out), read(&out.join("excluded")))
}

#[test]
fn exact_dedup_keeps_the_highest_priority_counts_and_explains() {
    let d = tempfile::tempdir().unwrap();
    let docs = [
        ("a", "the same text", "0.2"),
        ("b", "other text", "0.5"),
        ("c", "The  same text", "0.9"),
        ("d", "the same text", "0.9"),
        ("e", "other text", "null"),
    ];
    let body: String = docs
        .iter()
        .map(|(id, t, q)| format!("{{\"id\":\"{id}\",\"text\":\"{t}\",\"q\":{q}}}\n"))
        .collect();
    std::fs::write(d.path().join("in.jsonl"), body).unwrap();
    let (kept, excluded) = run(
        d.path(),
        "[[stage]]\ntype = \"exact_dedup\"\npriority_field = \"q\"\ncount_field = \"dups\"\n",
    );
    let kept: BTreeMap<&str, u64> = kept
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r["dups"].as_u64().unwrap()))
        .collect();
    // c and d tie at 0.9: the first in input order (c) wins; e has no number, b wins.
    assert_eq!(kept, BTreeMap::from([("b", 2), ("c", 3)]));
    let by: BTreeMap<&str, &serde_json::Value> = excluded
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), &r["excluded_by"]))
        .collect();
    assert_eq!(by.len(), 3);
    for (id, of) in [("a", "c"), ("d", "c"), ("e", "b")] {
        assert_eq!(by[id]["duplicate_of"], of, "{id}: {}", by[id]);
        assert_eq!(by[id]["reason"], "duplicate");
        assert_eq!(by[id]["stage"], "exact_dedup");
        assert_eq!(by[id]["cluster"].as_str().unwrap().len(), 32);
    }
    assert_eq!(by["a"]["cluster"], by["d"]["cluster"]);
    assert_ne!(by["a"]["cluster"], by["e"]["cluster"]);
}

#[test]
fn minhash_dedup_excluded_documents_name_the_kept_one() {
    let d = tempfile::tempdir().unwrap();
    let base = "the quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat \
                and the bird sings a long song about the morning sun rising over green hills";
    let mut body = String::new();
    body.push_str(&format!("{{\"id\":\"k\",\"text\":\"{base}\"}}\n"));
    body.push_str(&format!("{{\"id\":\"x\",\"text\":\"{base} today\"}}\n"));
    body.push_str("{\"id\":\"u\",\"text\":\"an unrelated document about compilers and parsers and code generation for stack machines\"}\n");
    std::fs::write(d.path().join("in.jsonl"), body).unwrap();
    let (kept, excluded) = run(d.path(), "[[stage]]\ntype = \"minhash_dedup\"\n");
    let ids: Vec<&str> = kept.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["k", "u"]);
    assert_eq!(excluded.len(), 1);
    let by = &excluded[0]["excluded_by"];
    assert_eq!(by["duplicate_of"], "k", "{by}");
    assert_eq!(by["cluster"], 0, "{by}");
    assert_eq!(by["reason"], "duplicate");
}
