//! fastText parity of `train` (see tests/golden/README.md): same accuracy (and same bytes) as
//! fastText's train_supervised; fastText loads datamill's .bin and predicts what datamill-fasttext
//! predicts; training is deterministic.

use std::path::PathBuf;

use datamill_learn::train::{Model, TrainOptions, fasttext_line};
use serde_json::Value;

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/samples/labeled_sample.jsonl"
);

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// (train lines, held-out (id, label, text)) split as the golden script does.
fn debian() -> (Vec<String>, Vec<(String, String, String)>) {
    let text = std::fs::read_to_string(SAMPLE).unwrap();
    let mut train = Vec::new();
    let mut held = Vec::new();
    let mut i = 0;
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        if v["dataset"] != "debian_sections" {
            continue;
        }
        let label = v["label"].as_str().unwrap().to_string();
        let t = v["text"].as_str().unwrap();
        if i % 5 == 0 {
            held.push((
                v["id"].as_str().unwrap().to_string(),
                label,
                t.replace('\n', " "),
            ));
        } else {
            train.push(fasttext_line(&[label], t, false));
        }
        i += 1;
    }
    (train, held)
}

fn fnv64(b: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &x in b {
        h = (h ^ u64::from(x)).wrapping_mul(0x100_0000_01b3);
    }
    format!("{h:016x}")
}

fn opts(p: &Value) -> TrainOptions {
    let u = |k: &str| p[k].as_u64().unwrap() as usize;
    TrainOptions {
        epoch: u("epoch"),
        lr: p["lr"].as_f64().unwrap(),
        dim: u("dim"),
        word_ngrams: u("wordNgrams"),
        bucket: u("bucket"),
        min_count: p["minCount"].as_i64().unwrap(),
        minn: u("minn"),
        maxn: u("maxn"),
        seed: 0,
        ..Default::default()
    }
}

fn golden() -> Value {
    let p = crate_dir().join("tests/golden/fasttext_train.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn held_out_accuracy_matches_fasttext_train_supervised() {
    let g = golden();
    let cfg = &g["configs"]["proof"];
    let (train, held) = debian();
    assert_eq!(train.len() as u64, g["train_rows"].as_u64().unwrap());
    assert_eq!(held.len() as u64, g["held_out_rows"].as_u64().unwrap());
    let (model, summary) = Model::train(&train, &opts(&cfg["params"])).unwrap();
    assert_eq!(summary.nwords as u64, cfg["words"].as_u64().unwrap());
    assert_eq!(summary.nlabels as u64, cfg["labels"].as_u64().unwrap());
    let labels = model.labels();
    let correct = held
        .iter()
        .filter(|(_, l, t)| {
            model
                .predict(t)
                .is_some_and(|(top, _)| labels[top] == format!("__label__{l}"))
        })
        .count();
    let acc = correct as f64 / held.len() as f64;
    let ft = cfg["fasttext_accuracy"].as_f64().unwrap();
    eprintln!("held-out accuracy: datamill {acc:.4}, fastText {ft:.4}");
    assert!((acc - ft).abs() <= 0.01, "datamill {acc} vs fastText {ft}");
    // In fact the whole model is the same: fastText's .bin has the same bytes.
    let bytes = model.to_bytes();
    assert_eq!(bytes.len() as u64, cfg["bin_bytes"].as_u64().unwrap());
    assert_eq!(fnv64(&bytes), cfg["bin_fnv1a64"].as_str().unwrap());
    assert_eq!(correct as u64, cfg["fasttext_correct"].as_u64().unwrap());
}

#[test]
fn committed_bin_is_reproduced_and_predicts_like_fasttext() {
    let g = golden();
    let cfg = &g["configs"]["small"];
    let (train, held) = debian();
    let committed = std::fs::read(crate_dir().join("tests/data/debian_small.bin")).unwrap();
    // (b) determinism: training again gives the committed file byte for byte; it is also the
    // file fastText's own train_supervised writes for these hyperparameters.
    let (model, _) = Model::train(&train, &opts(&cfg["params"])).unwrap();
    let bytes = model.to_bytes();
    assert!(
        bytes == committed,
        "retrained model differs from tests/data/debian_small.bin"
    );
    assert_eq!(fnv64(&committed), cfg["bin_fnv1a64"].as_str().unwrap());

    // (a) datamill-fasttext loads it and predicts what fastText predicted with it.
    let ft = datamill_fasttext::FastText::from_bytes(&committed).unwrap();
    let preds =
        std::fs::read_to_string(crate_dir().join("tests/golden/debian_small.fasttext.jsonl"))
            .unwrap();
    let mut n = 0;
    let mut same_as_train_predict = 0;
    for (line, (id, _, text)) in preds.lines().zip(&held) {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["id"].as_str().unwrap(), id);
        let got = ft.predict(text, 2, 0.0);
        let want: Vec<&str> = v["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect();
        let got_labels: Vec<&str> = got.iter().map(|x| x.0).collect();
        assert_eq!(got_labels, want, "{id}");
        for ((_, p), q) in got.iter().zip(v["probs"].as_array().unwrap()) {
            assert!((f64::from(*p) - q.as_f64().unwrap()).abs() <= 1e-6, "{id}");
        }
        // the trainer's own predict agrees on the top label
        if let Some((top, _)) = model.predict(text)
            && model.labels()[top] == want[0]
        {
            same_as_train_predict += 1;
        }
        n += 1;
    }
    assert_eq!(n, held.len());
    assert_eq!(same_as_train_predict, n);
}
