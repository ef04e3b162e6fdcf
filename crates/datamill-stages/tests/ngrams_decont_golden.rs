//! `ngrams_decont` against datatrove 0.10.1's NGramsDecontIndexer + NGramsDecontFilter,
//! document for document (`tests/golden/ngrams_decont/make_golden.py`): datatrove's own
//! test documents (whose expected results hold), crafted and real text, six configurations.

use datamill_core::{Doc, FieldNames, StageCx, Verdict};
use datamill_stages::{BuildCx, StageConfig, Step};
use serde_json::Value;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read_docs(path: &Path) -> Vec<String> {
    use datamill_io::read::{ReadOptions, Record, open_unit};
    let file =
        datamill_io::plan::describe(path.to_path_buf(), path.display().to_string(), None).unwrap();
    let opts = ReadOptions {
        names: FieldNames::default(),
        ..Default::default()
    };
    let mut out = Vec::new();
    for unit in datamill_io::plan::plan_file(&file, 0, u64::MAX, "text").unwrap() {
        let mut r = open_unit(&file, &unit, &opts, Arc::default()).unwrap();
        while let Some(rec) = r.next_record().unwrap() {
            if let Record::Doc(d, _) = rec {
                out.push(d.text().to_string());
            }
        }
    }
    out
}

fn golden() -> Value {
    let mut s = String::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(format!("{ROOT}/tests/golden/ngrams_decont/golden.json.gz")).unwrap(),
    )
    .read_to_string(&mut s)
    .unwrap();
    serde_json::from_str(&s).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

fn stage(cfg: &Value, mode: &str) -> Box<dyn datamill_core::Stage> {
    let mut src = format!(
        "type = \"ngrams_decont\"\nbenchmarks = [\"tests/golden/ngrams_decont/bench.jsonl\"]\nmode = \"{mode}\"\n"
    );
    for (k, v) in cfg.as_object().unwrap() {
        src.push_str(&format!("{k} = {v}\n"));
    }
    let c: StageConfig = toml::from_str(&src).unwrap();
    match c
        .build(&BuildCx {
            seed: 0,
            base_dir: ROOT.into(),
        })
        .unwrap()
    {
        Step::Map(s) => s,
        Step::Global(_) => panic!("a map stage"),
    }
}

#[test]
fn equals_datatrove_on_its_tests_crafted_and_real_text() {
    let g = golden();
    let data = Path::new(ROOT).join("../../examples/data");
    let mut texts = strings(&g["test_docs"]);
    texts.extend(strings(&g["crafted"]));
    texts.extend(read_docs(&data.join("en_prose_sample.jsonl.zst")));
    texts.extend(read_docs(&data.join("neardup_sample.jsonl.gz")));
    let cases = g["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 6);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let want = case["out"].as_array().unwrap();
        assert_eq!(want.len(), texts.len(), "{name}");
        let s = stage(&case["config"], "drop");
        let mut found = 0;
        for (i, (t, w)) in texts.iter().zip(want).enumerate() {
            let mut d = Doc::new(i.to_string(), t.as_str());
            let v = s.process(&mut d, &mut StageCx::default()).unwrap();
            let got = (v != Verdict::Keep).then(|| {
                assert_eq!(v, Verdict::drop("contaminated"));
                serde_json::json!([
                    d.get_str("contaminated_ngram").unwrap(),
                    d.get_str("contaminated_task").unwrap()
                ])
            });
            assert_eq!(
                got.as_ref().unwrap_or(&Value::Null),
                w,
                "{name}: document {i}"
            );
            if got.is_some() {
                found += 1;
                assert!(d.get_str("contaminated_doc").is_some());
            }
        }
        assert!(found > 100, "{name}: {found}");
    }
}

#[test]
fn datatrove_test_expectations() {
    // datatrove's test_ngrams_decont: which of its 7 documents survive, per configuration
    let g = golden();
    let texts = strings(&g["test_docs"]);
    for (cfg, kept) in [
        (
            serde_json::json!({"find_query_ngrams": false, "find_overlap_ngrams": false}),
            vec![0, 2, 3, 4, 5, 6],
        ),
        (
            serde_json::json!({"find_query_ngrams": true, "find_overlap_ngrams": false}),
            vec![2, 3, 5, 6],
        ),
        (
            serde_json::json!({"find_query_ngrams": false, "find_overlap_ngrams": true}),
            vec![0, 3, 4, 5, 6],
        ),
    ] {
        for mode in ["drop", "label"] {
            let s = stage(&cfg, mode);
            let got: Vec<usize> = (0..texts.len())
                .filter(|&i| {
                    let mut d = Doc::new(i.to_string(), texts[i].as_str());
                    let v = s.process(&mut d, &mut StageCx::default()).unwrap();
                    if mode == "label" {
                        assert_eq!(v, Verdict::Keep);
                        return d.get_str("contaminated_ngram").is_none();
                    }
                    v == Verdict::Keep
                })
                .collect();
            assert_eq!(got, kept, "{cfg} {mode}");
        }
    }
    // the item named: document 1's label is item hs-1's answer
    let s = stage(&serde_json::json!({}), "label");
    let mut d = Doc::new("1", texts[1].as_str());
    s.process(&mut d, &mut StageCx::default()).unwrap();
    assert_eq!(d.get_str("contaminated_doc").unwrap(), "hs-1");
    assert_eq!(
        d.get_str("contaminated_task").unwrap(),
        "leaderboard|hellaswag|10"
    );
}
