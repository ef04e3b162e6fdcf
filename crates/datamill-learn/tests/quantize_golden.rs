//! fastText parity of `quantize` (see tests/golden/README.md): datamill retrains the committed
//! `debian_small.bin` (byte-identical to fastText's training, tests/train_golden.rs), quantizes
//! it with each configuration of `golden/fasttext_quantize.json` (one retrains the pruned model
//! on the training lines) and writes fastText's `.ftz`
//! byte for byte (the pruned-bucket map as the same set of pairs: fastText writes it in
//! `std::unordered_map` order); datamill-fasttext loads it and predicts.

use std::path::PathBuf;

use datamill_learn::quantize::{QuantizeOptions, quantize};
use datamill_learn::train::{Model, TrainOptions, fasttext_line};
use serde_json::Value;

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/samples/labeled_sample.jsonl"
);

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fnv64(b: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &x in b {
        h = (h ^ u64::from(x)).wrapping_mul(0x100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The "small" model of tests/golden/fasttext_train.json, retrained (= debian_small.bin), and
/// its training lines.
fn small_model() -> (Model, Vec<String>) {
    let text = std::fs::read_to_string(SAMPLE).unwrap();
    let mut train = Vec::new();
    for (i, line) in text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["dataset"] == "debian_sections")
        .enumerate()
    {
        if i % 5 != 0 {
            let label = line["label"].as_str().unwrap().to_string();
            train.push(fasttext_line(
                &[label],
                line["text"].as_str().unwrap(),
                false,
            ));
        }
    }
    let opts = TrainOptions {
        epoch: 2,
        lr: 0.4,
        dim: 4,
        word_ngrams: 3,
        bucket: 2000,
        min_count: 2,
        minn: 3,
        maxn: 4,
        seed: 0,
        ..Default::default()
    };
    let (model, _) = Model::train(&train, &opts).unwrap();
    let bin = std::fs::read(crate_dir().join("tests/data/debian_small.bin")).unwrap();
    assert!(
        model.to_bytes() == bin,
        "the retrained model is debian_small.bin"
    );
    (model, train)
}

/// Splits an `.ftz` at its pruned-bucket map: (bytes before, the pairs, bytes after).
fn split_pruneidx(b: &[u8]) -> (&[u8], Vec<(i32, i32)>, &[u8]) {
    // magic, version, 12 args (i32) + t (f64), then size, nwords, nlabels (i32), ntokens, pruneidx_size (i64)
    let mut p = 8 + 12 * 4 + 8;
    let size = i32::from_le_bytes(b[p..p + 4].try_into().unwrap()) as usize;
    p += 12 + 8;
    let prune = i64::from_le_bytes(b[p..p + 8].try_into().unwrap());
    p += 8;
    for _ in 0..size {
        p += b[p..].iter().position(|&c| c == 0).unwrap() + 1 + 8 + 1;
    }
    let n = prune.max(0) as usize;
    let mut pairs: Vec<(i32, i32)> = (0..n)
        .map(|k| {
            let q = p + 8 * k;
            (
                i32::from_le_bytes(b[q..q + 4].try_into().unwrap()),
                i32::from_le_bytes(b[q + 4..q + 8].try_into().unwrap()),
            )
        })
        .collect();
    pairs.sort_unstable();
    (&b[..p], pairs, &b[p + 8 * n..])
}

#[test]
fn quantize_writes_fasttexts_ftz() {
    let g: Value = serde_json::from_str(
        &std::fs::read_to_string(crate_dir().join("tests/golden/fasttext_quantize.json")).unwrap(),
    )
    .unwrap();
    let (model, train) = small_model();
    let mut checked = 0;
    for (name, c) in g["configs"].as_object().unwrap() {
        let p = &c["params"];
        let q = QuantizeOptions {
            cutoff: p["cutoff"].as_u64().unwrap_or(0) as usize,
            dsub: p["dsub"].as_u64().unwrap_or(2) as usize,
            qnorm: p["qnorm"].as_bool().unwrap_or(false),
            qout: p["qout"].as_bool().unwrap_or(false),
            retrain: p["retrain"].as_bool().unwrap_or(false),
            epoch: p["epoch"].as_u64().map(|e| e as usize),
            lr: p["lr"].as_f64(),
        };
        let got = quantize(&model, &q, &train);
        if let Some(e) = c["error"].as_str() {
            let msg = got.unwrap_err().to_string();
            let want = e.trim_start_matches("ValueError: ");
            assert!(msg.contains(want), "{name}: {msg} vs fastText's {e}");
            checked += 1;
            continue;
        }
        let got = got.unwrap().bytes;
        assert_eq!(got.len() as u64, c["ftz_bytes"].as_u64().unwrap(), "{name}");
        match c["file"].as_str() {
            None => assert_eq!(fnv64(&got), c["ftz_fnv1a64"], "{name}"),
            Some(f) => {
                let want = std::fs::read(crate_dir().join("tests/data").join(f)).unwrap();
                assert_eq!(fnv64(&want), c["ftz_fnv1a64"], "{name}: the committed file");
                let (a, pa, z) = split_pruneidx(&got);
                let (b, pb, y) = split_pruneidx(&want);
                assert!(a == b, "{name}: args and dictionary");
                assert_eq!(pa, pb, "{name}: pruned buckets");
                assert!(z == y, "{name}: matrices");
                // datamill-fasttext reads the .ftz and predicts as from fastText's file.
                let ours = datamill_fasttext::FastText::from_bytes(&got).unwrap();
                let theirs = datamill_fasttext::FastText::from_bytes(&want).unwrap();
                assert!(ours.is_quantized());
                for t in [
                    "a python library for parsing",
                    "font glyphs",
                    "kernel module",
                ] {
                    assert_eq!(ours.predict(t, 2, 0.0), theirs.predict(t, 2, 0.0), "{t}");
                }
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 6);
    // Retraining changes the model (the retrain golden differs from the plain cutoff one).
    let c = &g["configs"];
    assert_ne!(
        c["cutoff"]["ftz_fnv1a64"],
        c["cutoff_retrain"]["ftz_fnv1a64"]
    );
    let e = quantize(
        &model,
        &QuantizeOptions {
            cutoff: 1000,
            retrain: true,
            ..Default::default()
        },
        &[],
    )
    .unwrap_err();
    assert!(e.to_string().contains("training lines"), "{e}");
}
