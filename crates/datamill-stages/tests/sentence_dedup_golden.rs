//! `sentence_dedup` against datatrove 0.10.1's SentenceDedup (one task), document for
//! document: datatrove's own test corpus, crafted texts and real text, with several
//! configurations and an index (`tests/golden/sentence_dedup/make_golden.py`).

use datamill_core::{DecideCx, Doc, DocRef, FieldNames, StageCx, Verdict, Verdicts};
use datamill_stages::{BuildCx, StageConfig, Step};
use serde_json::Value;
use sha2::Digest;
use std::io::{Read, Write};
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
        std::fs::File::open(format!("{ROOT}/tests/golden/sentence_dedup/golden.json.gz")).unwrap(),
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

/// Runs the stage over `texts` in work units of `per_unit` documents: per document, its
/// output text or `None` (dropped).
fn run(cfg: &str, base: &Path, texts: &[String], per_unit: usize) -> Vec<Option<String>> {
    let c: StageConfig = toml::from_str(cfg).unwrap();
    let Step::Global(g) = c
        .build(&BuildCx {
            seed: 0,
            base_dir: base.to_path_buf(),
        })
        .unwrap()
    else {
        panic!("a global stage")
    };
    let at = |i: usize| DocRef {
        unit: (i / per_unit) as u32,
        index: (i % per_unit) as u32,
    };
    let counts: Vec<u32> = texts.chunks(per_unit).map(|c| c.len() as u32).collect();
    let mut v = Verdicts::new(&counts);
    let mut d = g.decider(&DecideCx::default()).unwrap();
    for (i, t) in texts.iter().enumerate() {
        let mut s = Vec::new();
        g.summarize(&Doc::new(i.to_string(), t.as_str()), &mut s)
            .unwrap();
        d.observe(at(i), &s, &mut v).unwrap();
    }
    let state = d.finish(&mut v).unwrap().expect("a transform");
    drop(d);
    let t = g.transform(&state).unwrap();
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            assert!(v.get(at(i)).is_none(), "the decision drops nothing");
            let mut doc = Doc::new(i.to_string(), text.as_str());
            let mut cx = StageCx::default();
            cx.set_doc_ref(Some(at(i)));
            match t.process(&mut doc, &mut cx).unwrap() {
                Verdict::Keep => Some(doc.text().to_string()),
                Verdict::Drop(_) => None,
            }
        })
        .collect()
}

fn toml_of(cfg: &Value) -> String {
    let mut s = String::from("type = \"sentence_dedup\"\n");
    for (k, v) in cfg.as_object().unwrap() {
        s.push_str(&format!("{k} = {v}\n"));
    }
    s
}

fn sha(t: &str) -> String {
    hex(&sha2::Sha256::digest(t.as_bytes()))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn equals_datatrove_on_its_tests_crafted_and_real_text() {
    let g = golden();
    let test_docs = strings(&g["test_docs"]);
    let data = Path::new(ROOT).join("../../examples/data");
    let mut real = read_docs(&data.join("en_prose_sample.jsonl.zst"));
    real.extend(read_docs(&data.join("neardup_sample.jsonl.gz")));
    let corpus = |name: &str| -> Vec<String> {
        match name {
            "test" => test_docs[..6].to_vec(),
            "test2" => test_docs.clone(),
            "crafted" => strings(&g["crafted"]),
            "real" => real.clone(),
            "real_a" => real.iter().step_by(2).cloned().collect(),
            "real_b" => real.iter().skip(1).step_by(2).cloned().collect(),
            other => panic!("corpus {other}"),
        }
    };
    let dir = tempfile::tempdir().unwrap();
    // the index files: one JSONL per corpus that serves as an index
    for name in ["real_a"] {
        let mut f = std::fs::File::create(dir.path().join(format!("{name}.jsonl"))).unwrap();
        for (i, t) in corpus(name).iter().enumerate() {
            writeln!(
                f,
                "{}",
                serde_json::json!({"id": format!("i{i}"), "text": t})
            )
            .unwrap();
        }
    }
    let cases = g["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 12);
    let mut checked = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let texts = corpus(case["corpus"].as_str().unwrap());
        let mut cfg = toml_of(&case["config"]);
        if let Some(ix) = case["index"].as_str() {
            cfg.push_str(&format!("index = [\"{ix}.jsonl\"]\n"));
        }
        let want = case["out"].as_array().unwrap();
        assert_eq!(want.len(), texts.len(), "{name}");
        // small work units for the small corpora, larger ones for real text
        let per_unit = if texts.len() > 100 { 97 } else { 4 };
        let got = run(&cfg, dir.path(), &texts, per_unit);
        let mut bad = Vec::new();
        for (i, (w, o)) in want.iter().zip(&got).enumerate() {
            let ok = match (w.as_str(), o) {
                (None, None) => true,
                (Some("="), Some(o)) => *o == texts[i],
                (Some(h), Some(o)) => h == sha(o),
                _ => false,
            };
            if !ok {
                bad.push(i);
            }
        }
        assert!(
            bad.is_empty(),
            "{name}: {} documents differ from datatrove, first {:?}: {:?} -> {:?}",
            bad.len(),
            bad[0],
            texts[bad[0]].chars().take(300).collect::<String>(),
            got[bad[0]]
                .as_deref()
                .map(|s| s.chars().take(300).collect::<String>())
        );
        checked += texts.len();
    }
    assert!(checked > 20_000);
}

#[test]
fn datatrove_test_sd_targets() {
    // datatrove's test_sd expectations (document 3 aside: see make_golden.py)
    let g = golden();
    let docs = strings(&g["test_docs"])[..6].to_vec();
    let want = strings(&g["test_sd_targets"]);
    let got = run(
        "type = \"sentence_dedup\"\nmin_doc_words = 0\nmin_num_sentences = 0",
        Path::new("."),
        &docs,
        2,
    );
    for i in [0, 1, 2, 4, 5] {
        assert_eq!(got[i].as_deref(), Some(want[i].as_str()), "document {i}");
    }
    // LOTR (document 4) stays whole, its copy in document 5 goes: first occurrence wins
    assert_ne!(got[5].as_deref(), Some(docs[5].as_str()));
}
