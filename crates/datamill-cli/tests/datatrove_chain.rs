//! The FineWeb-style chain gopher_quality → gopher_repetition → c4_quality → fineweb_quality,
//! run through the real engine on the en_prose sample, takes datatrove 0.10.1's decision on
//! every document: the same documents kept (with C4's rewritten text), the same stage and
//! reason for every drop. Golden file: crates/datamill-filters/tests/golden/ (script, versions).

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

#[test]
fn chain_matches_datatrove_document_for_document() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let golden = root.join("crates/datamill-filters/tests/golden/filters.jsonl.zst");
    let golden = zstd::decode_all(std::fs::File::open(golden).unwrap()).unwrap();
    let mut want: HashMap<String, serde_json::Value> = HashMap::new();
    for l in String::from_utf8(golden).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        want.insert(v["id"].as_str().unwrap().to_string(), v);
    }
    let d = tempfile::tempdir().unwrap();
    let sample = root.join("../shared/data/samples/en_prose_sample.jsonl");
    let p = d.path().join("p.toml");
    std::fs::write(
        &p,
        format!(
            "version = 1\n[input]\npaths = [\"{}\"]\nunit_size = \"512KB\"\n\
             [[stage]]\ntype = \"gopher_quality\"\n[[stage]]\ntype = \"gopher_repetition\"\n\
             [[stage]]\ntype = \"c4_quality\"\n[[stage]]\ntype = \"fineweb_quality\"\n\
             [output]\ndir = \"out\"\ncompression = \"none\"\nexcluded = true\n",
            sample.display()
        ),
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_datamill"))
        .args(["run", p.to_str().unwrap(), "-q"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = d.path().join("out");
    let mut seen = 0;
    let mut read = |dir: &Path, excluded: bool| {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
            .collect();
        names.sort();
        for f in names {
            for l in std::fs::read_to_string(&f).unwrap().lines() {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                let id = v["id"].as_str().unwrap();
                let g = &want[id];
                let chain = g["chain"].as_str().unwrap();
                if excluded {
                    let by = &v["excluded_by"];
                    let got = format!(
                        "{}:{}",
                        by["stage"].as_str().unwrap(),
                        by["reason"].as_str().unwrap()
                    );
                    assert_eq!(got, chain, "{id}");
                } else {
                    assert_eq!(chain, "kept", "{id}");
                    let text = g
                        .get("chain_text")
                        .and_then(|t| t.as_str())
                        .map(str::to_string);
                    if let Some(t) = text {
                        assert_eq!(v["text"].as_str().unwrap(), t, "{id}: rewritten text");
                    }
                }
                seen += 1;
            }
        }
    };
    read(&out, false);
    read(&out.join("excluded"), true);
    assert_eq!(seen, want.len());
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("stats.json")).unwrap()).unwrap();
    assert_eq!(stats["output_docs"], 79);
    assert_eq!(
        stats["stages"][0]["dropped"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>(),
        1633
    );
}
