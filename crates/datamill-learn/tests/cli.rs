//! The `run_*` entry points end to end on temporary files.

use std::path::PathBuf;

use datamill_learn::cli::RankArg;
use datamill_learn::label_issues::FilterBy;
use datamill_learn::{
    LabelIssuesArgs, TrainClassifierArgs, run_label_issues, run_train_classifier,
};
use serde_json::Value;

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/samples/labeled_sample.jsonl"
);

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn label_issues_writes_ranked_jsonl() {
    let dir = tempfile::tempdir().unwrap();
    let labels = dir.path().join("digits.jsonl");
    let rows: String = std::fs::read_to_string(SAMPLE)
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"dataset\": \"digits_noisy\""))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&labels, rows).unwrap();
    let out = dir.path().join("issues.jsonl");
    let args = LabelIssuesArgs {
        labels,
        label_field: "label".into(),
        id_field: "id".into(),
        pred_probs: crate_dir().join("tests/data/digits_noisy.pred_probs.npy"),
        probs_field: "pred_probs".into(),
        classes: None,
        filter_by: FilterBy::PruneByNoiseRate,
        rank_by: RankArg::SelfConfidence,
        frac_noise: 1.0,
        num_to_remove_per_class: None,
        min_examples_per_class: 1,
        output: out.clone(),
    };
    run_label_issues(&args, &mut std::io::sink()).unwrap();
    let g: Value = serde_json::from_str(
        &std::fs::read_to_string(crate_dir().join("tests/golden/digits_noisy.cleanlab.json"))
            .unwrap(),
    )
    .unwrap();
    let want: Vec<u64> = g["peer_ranked_self_confidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect();
    let recs: Vec<Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recs.len(), want.len());
    let got: Vec<u64> = recs.iter().map(|r| r["index"].as_u64().unwrap()).collect();
    assert_eq!(got, want);
    let r0 = &recs[0];
    assert_eq!(r0["rank"], 1);
    assert!(
        r0["id"]
            .as_str()
            .unwrap()
            .starts_with("sklearn-digits-noisy:"),
        "{r0}"
    );
    assert_ne!(r0["given_label"], r0["predicted_label"]);
    let q: Vec<f64> = recs
        .iter()
        .map(|r| r["label_quality"].as_f64().unwrap())
        .collect();
    assert!(q.windows(2).all(|w| w[0] <= w[1]));

    // a label that is not a pred_probs column is an error naming the row
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"label\": 3}\n{\"label\": 12}\n").unwrap();
    let p = dir.path().join("p.csv");
    std::fs::write(&p, "0.5,0.5\n0.5,0.5\n").unwrap();
    let e = run_label_issues(
        &LabelIssuesArgs {
            labels: bad,
            pred_probs: p,
            ..args
        },
        &mut std::io::sink(),
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("row 0") || e.to_string().contains("label 3"),
        "{e}"
    );
}

#[test]
fn train_classifier_writes_a_model_fasttext_reads() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("train.jsonl");
    let mut s = String::new();
    for i in 0..300 {
        let (l, t) = if i % 3 == 0 {
            ("perl", "perl module for cpan parsing")
        } else if i % 3 == 1 {
            ("python", "python library module for pip")
        } else {
            ("fonts", "truetype font family glyphs")
        };
        s.push_str(
            &serde_json::json!({"text": format!("{t}\nvariant {i}"), "label": l}).to_string(),
        );
        s.push('\n');
    }
    std::fs::write(&input, &s).unwrap();
    let output = dir.path().join("m.bin");
    let args = TrainClassifierArgs {
        input: input.clone(),
        text_field: "text".into(),
        label_field: "label".into(),
        output: output.clone(),
        validation: Some(input),
        lowercase: false,
        epoch: 5,
        lr: 0.5,
        dim: 8,
        word_ngrams: 2,
        bucket: 1000,
        min_count: 1,
        minn: 0,
        maxn: 0,
        seed: 1,
    };
    run_train_classifier(&args, &mut std::io::sink()).unwrap();
    let ft = datamill_fasttext::FastText::load(&output).unwrap();
    assert_eq!(ft.labels().len(), 3);
    assert_eq!(ft.predict("a perl module", 1, 0.0)[0].0, "__label__perl");
    assert_eq!(ft.predict("font glyphs", 1, 0.0)[0].0, "__label__fonts");
    assert_eq!(ft.dim(), 8);

    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"text\": \"x\", \"label\": \"a\"}\n{\"text\": 5, \"label\": \"b\"}\n",
    )
    .unwrap();
    let e = run_train_classifier(
        &TrainClassifierArgs {
            input: bad,
            validation: None,
            ..args
        },
        &mut std::io::sink(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("bad.jsonl") && e.contains("row 2") && e.contains("`text`"),
        "{e}"
    );
}
