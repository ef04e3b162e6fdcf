//! The datatrove steps added for issue 15.2, document for document against datatrove 0.10.1
//! (`tests/golden/datatrove_steps/make_golden.py`), and datatrove's own unit tests translated.

use datamill_core::{Doc, FieldNames, StageCx, Verdict};
use datamill_stages::{BuildCx, StageConfig, Step};
use serde_json::Value;
use sha2::Digest;
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

/// The golden file and the texts it was made from, in its order.
fn golden() -> (Value, Vec<String>) {
    let mut s = String::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(format!("{ROOT}/tests/golden/datatrove_steps/steps.json.gz")).unwrap(),
    )
    .read_to_string(&mut s)
    .unwrap();
    let g: Value = serde_json::from_str(&s).unwrap();
    let data = Path::new(ROOT).join("../../examples/data");
    let mut texts = read_docs(&data.join("en_prose_sample.jsonl.zst"));
    texts.extend(read_docs(&data.join("neardup_sample.jsonl.gz")));
    for c in g["crafted"].as_array().unwrap() {
        texts.push(c.as_str().unwrap().to_string());
    }
    assert_eq!(texts.len() as u64, g["docs"].as_u64().unwrap());
    (g, texts)
}

fn stage(cfg: &str) -> Box<dyn datamill_core::Stage> {
    let c: StageConfig = toml::from_str(cfg).unwrap();
    match c.build(&BuildCx::default()).unwrap() {
        Step::Map(s) => s,
        Step::Global(_) => panic!("a map stage"),
    }
}

/// Runs a map stage: its verdict and the text it leaves.
fn run(s: &dyn datamill_core::Stage, text: &str) -> (Verdict, String) {
    let mut d = Doc::new("x", text);
    let v = s.process(&mut d, &mut StageCx::default()).unwrap();
    (v, d.text().to_string())
}

#[test]
fn c4_paragraph_equals_datatrove() {
    let (g, texts) = golden();
    let s = stage("type = \"c4_paragraph\"");
    let want: Vec<usize> = g["c4_paragraph_dropped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect();
    let got: Vec<usize> = (0..texts.len())
        .filter(|&i| run(&*s, &texts[i]).0 != Verdict::Keep)
        .collect();
    assert_eq!(got, want);
    assert!(want.len() > 100 && want.len() < texts.len() - 50);
    // datatrove's tests/pipeline/filters/test_filters.py::TestC4ParagraphFilter.
    let para = "x".repeat(250);
    assert_eq!(
        run(&*s, &format!("{para}\n{para}\n{para}")).0,
        Verdict::Keep
    );
    assert_eq!(
        run(&*s, "short\nshort\nshort").0,
        Verdict::drop("too_few_paragraphs")
    );
}

#[test]
fn symbol_lines_equal_datatrove() {
    let (g, texts) = golden();
    for (key, cfg) in [
        ("symbol_lines", "type = \"symbol_lines\""),
        (
            "symbol_lines_nl",
            "type = \"symbol_lines\"\nreplace_char = \"\\n\"",
        ),
    ] {
        let s = stage(cfg);
        let want = g[key].as_object().unwrap();
        let mut changed = 0;
        for (i, t) in texts.iter().enumerate() {
            let (v, out) = run(&*s, t);
            assert_eq!(v, Verdict::Keep);
            match want.get(&i.to_string()) {
                Some(h) => {
                    let got = format!("{:x}", sha2::Sha256::digest(out.as_bytes()));
                    assert_eq!(got, h.as_str().unwrap(), "{key} doc {i}: {out:?}");
                    changed += 1;
                }
                None => assert_eq!(&out, t, "{key} doc {i}"),
            }
        }
        assert_eq!(changed, want.len());
    }
    // datatrove's tests/pipeline/filters/test_symbollines.py.
    let input = "-\n-\n-\n>> Harold Brantley is a 6-2, 283-pound Defensive Tackle from Hershey, PA. He is ranked No. 1385 in the country by 247Sports.\n\n\n>> Brantley is the No. 45 recruit in Pennsylvania (PA) and is the No. 89 Defensive Tackle in the nation.\n\n>> Brantley has a 247Sports rating of 80, making him a 3-star prospect.\n|\n|\n|\nhello ehehe -\n|\n- oi mate\n|\n\nbye";
    let want = ">> Harold Brantley is a 6-2, 283-pound Defensive Tackle from Hershey, PA. He is ranked No. 1385 in the country by 247Sports.\n\n\n>> Brantley is the No. 45 recruit in Pennsylvania (PA) and is the No. 89 Defensive Tackle in the nation.\n\n>> Brantley has a 247Sports rating of 80, making him a 3-star prospect.\nhello ehehe -\n- oi mate\n\nbye";
    assert_eq!(run(&*stage("type = \"symbol_lines\""), input).1, want);
}

/// `metadata` comparisons give what datatrove's `LambdaFilter` with the same Python expression
/// gives (`True`, `False` or `TypeError` = `metadata_not_comparable`); `None` is datamill's
/// missing field, left out.
#[test]
fn metadata_comparisons_equal_lambda_filters() {
    let (g, _) = golden();
    let mut n = 0;
    for case in g["metadata"].as_array().unwrap() {
        let (v, op, b, r) = (&case[0], case[1].as_str().unwrap(), &case[2], &case[3]);
        if v.is_null() {
            continue;
        }
        let s = stage(&format!("type = \"metadata\"\nfield = \"v\"\n{op} = {b}"));
        let mut d = Doc::from_json(
            serde_json::json!({"text": "", "v": v}).to_string(),
            &Default::default(),
            || "x".into(),
        )
        .unwrap();
        let got = s.process(&mut d, &mut StageCx::default()).unwrap();
        let want = match r {
            Value::Bool(true) => Verdict::Keep,
            Value::Bool(false) => Verdict::drop("metadata_mismatch"),
            _ => Verdict::drop("metadata_not_comparable"),
        };
        assert_eq!(got, want, "{v} {op} {b}");
        n += 1;
    }
    assert_eq!(n, 112);
}

/// `unigram_logprob` scores and decisions equal datatrove's `UnigramLogProbFilter` with the
/// same local frequency file (bit for bit).
#[test]
fn unigram_logprob_equals_datatrove() {
    let (g, texts) = golden();
    let c: StageConfig = toml::from_str(
        "type = \"unigram_logprob\"\nunigram_file = \"unigram_freq_sample.csv\"\nscore_field = \"s\"\nlogprobs_threshold = -1000",
    )
    .unwrap();
    let cx = BuildCx {
        base_dir: Path::new(ROOT).join("tests/golden/datatrove_steps"),
        ..Default::default()
    };
    let Step::Map(s) = c.build(&cx).unwrap() else {
        panic!()
    };
    let want = g["unigram_logprob"].as_array().unwrap();
    for (i, t) in texts.iter().enumerate() {
        let mut d = Doc::new("x", t);
        assert_eq!(
            s.process(&mut d, &mut StageCx::default()).unwrap(),
            Verdict::Keep
        );
        let got: f64 = d.get_raw("s").unwrap().parse().unwrap();
        let w: f64 = want[i].as_str().unwrap().parse().unwrap();
        assert_eq!(got.to_bits(), w.to_bits(), "doc {i}: {got} vs {w}");
    }
    let c: StageConfig =
        toml::from_str("type = \"unigram_logprob\"\nunigram_file = \"unigram_freq_sample.csv\"")
            .unwrap();
    let Step::Map(s) = c.build(&cx).unwrap() else {
        panic!()
    };
    let kept: Vec<u64> = (0..texts.len())
        .filter(|&i| run(&*s, &texts[i]).0 == Verdict::Keep)
        .map(|i| i as u64)
        .collect();
    let want: Vec<u64> = g["unigram_kept_minus10"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect();
    assert_eq!(kept, want);
}
