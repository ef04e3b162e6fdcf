//! Token files and Dataset Decomposition against the reference tools
//! (`tests/golden/make_golden_mix.py` wrote `mix.golden.json` with datatrove 0.10.1,
//! megatron-core 0.16.1, apple/ml-dataset-decomposition at 9a23939205bd, humanize 4.17.0 and
//! numpy 2.4.6): byte-identical files, identical buckets.

use datamill_mix::dd;
use datamill_mix::formats::{DatatroveWriter, MegatronWriter, humanize_metric, npy_header};
use datamill_mix::tokenize::{Tok, hex};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn golden() -> Value {
    serde_json::from_str(include_str!("golden/mix.golden.json")).unwrap()
}

fn sha(p: &Path) -> String {
    hex(&Sha256::digest(std::fs::read(p).unwrap()))
}

fn fnv(seq: &[u32]) -> String {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for &x in seq {
        for b in x.to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

fn texts(n_prose: usize) -> Vec<String> {
    let raw = std::fs::read(repo().join("examples/data/en_prose_sample.jsonl.zst")).unwrap();
    let text = String::from_utf8(zstd::stream::decode_all(&raw[..]).unwrap()).unwrap();
    let mut out: Vec<String> = text
        .lines()
        .take(n_prose)
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let tricky = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tricky.jsonl"),
    )
    .unwrap();
    for l in tricky.lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        out.push(v["text"].as_str().unwrap().to_string());
    }
    out
}

fn ids(g: &Value, eos: Option<&str>) -> Vec<Vec<u32>> {
    let docs = texts(g["n_prose"].as_u64().unwrap() as usize);
    assert_eq!(docs.len() as u64, g["documents"].as_u64().unwrap());
    let tok = Tok::load(
        &repo().join("examples/models/gpt2-tokenizer.json.zst"),
        g["tokenizer_name"].as_str().unwrap(),
        eos,
    )
    .unwrap();
    assert_eq!(tok.vocab_size as u64, g["vocab_size"].as_u64().unwrap());
    docs.iter()
        .map(|t| {
            let mut v = Vec::new();
            tok.encode(t, &mut v).unwrap();
            v
        })
        .collect()
}

fn u32s(v: &Value) -> Vec<Vec<u32>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as u32)
                .collect()
        })
        .collect()
}

#[test]
fn datatrove_and_megatron_files_are_byte_identical() {
    let g = golden();
    let d = tempfile::tempdir().unwrap();
    for (key, eos) in [("eos", Some("<|endoftext|>")), ("noeos", None)] {
        let seqs = ids(&g, eos);
        // Tokenization itself equals the Python library's.
        let counts: Vec<u64> = seqs.iter().map(|s| s.len() as u64).collect();
        let want: Vec<u64> = g["token_counts"][key]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect();
        assert_eq!(counts, want, "{key}");
        for (i, s) in seqs.iter().enumerate() {
            assert_eq!(
                fnv(s),
                g["token_fnv"][key][i].as_str().unwrap(),
                "{key} doc {i}"
            );
        }
        // datatrove.
        let dir = d.path().join(format!("dt-{key}"));
        let mut w = DatatroveWriter::create(
            &dir.join("00000_unshuffled.ds"),
            50257,
            g["tokenizer_name"].as_str().unwrap(),
        )
        .unwrap();
        for s in &seqs {
            w.add(s).unwrap();
        }
        w.finish().unwrap();
        let want = g["datatrove"][key].as_object().unwrap();
        assert_eq!(want.len(), 3);
        for (name, h) in want {
            assert_eq!(&sha(&dir.join(name)), h.as_str().unwrap(), "{key} {name}");
        }
        // Megatron.
        let prefix = d.path().join(format!("meg-{key}"));
        let mut w = MegatronWriter::create(&prefix, 50257).unwrap();
        for s in &seqs {
            w.add(s).unwrap();
        }
        w.finish().unwrap();
        let m = &g["megatron"][key];
        assert_eq!(m["dtype"], "uint16");
        assert_eq!(
            sha(&prefix.with_extension("bin")),
            m["bin"].as_str().unwrap()
        );
        assert_eq!(
            sha(&prefix.with_extension("idx")),
            m["idx"].as_str().unwrap()
        );
    }
}

#[test]
fn wide_token_ids() {
    let g = golden();
    let seqs = u32s(&g["synthetic_ids"]);
    assert!(seqs.iter().flatten().any(|&x| x > 65535));
    let d = tempfile::tempdir().unwrap();
    let mut w = DatatroveWriter::create(&d.path().join("u32.ds"), 100_000, "synthetic").unwrap();
    for s in &seqs {
        w.add(s).unwrap();
    }
    w.finish().unwrap();
    for (name, h) in g["datatrove_u32"].as_object().unwrap() {
        assert_eq!(&sha(&d.path().join(name)), h.as_str().unwrap(), "{name}");
    }
    let prefix = d.path().join("meg");
    let mut w = MegatronWriter::create(&prefix, 100_000).unwrap();
    for s in &seqs {
        w.add(s).unwrap();
    }
    w.finish().unwrap();
    let m = &g["megatron"]["synthetic_int32"];
    assert_eq!(m["dtype"], "int32");
    assert_eq!(
        sha(&prefix.with_extension("bin")),
        m["bin"].as_str().unwrap()
    );
    assert_eq!(
        sha(&prefix.with_extension("idx")),
        m["idx"].as_str().unwrap()
    );
}

fn buckets(seq: &[u32], lo: u32, hi: u32) -> BTreeMap<String, Vec<(u64, String)>> {
    let (chunks, _) = dd::decompose(seq.len(), lo, hi, None);
    let mut m: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
    for c in chunks {
        let s = &seq[c.start..c.start + c.len()];
        m.entry(c.k.to_string())
            .or_default()
            .push((s.len() as u64, fnv(s)));
    }
    m
}

fn golden_buckets(v: &Value) -> BTreeMap<String, Vec<(u64, String)>> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, list)| {
            (
                k.clone(),
                list.as_array()
                    .unwrap()
                    .iter()
                    .map(|p| (p[0].as_u64().unwrap(), p[1].as_str().unwrap().to_string()))
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn dataset_decomposition_buckets_are_the_references() {
    let g = golden();
    let lengths = g["dd_lengths"].as_array().unwrap();
    let want = g["dd_synthetic"].as_array().unwrap();
    let mut chunks = 0;
    for (n, w) in lengths.iter().zip(want) {
        let seq: Vec<u32> = (0..n.as_u64().unwrap() as u32).collect();
        let got = buckets(&seq, 8, 13);
        chunks += got.values().map(Vec::len).sum::<usize>();
        assert_eq!(got, golden_buckets(w), "length {n}");
    }
    assert!(chunks > 100);
    let docs = ids(&g, Some("<|endoftext|>"));
    for (key, lo, hi, least) in [("dd_documents", 8, 13, 5), ("dd_documents_4_7", 4, 7, 250)] {
        let mut nonempty = 0;
        for (i, (s, w)) in docs.iter().zip(g[key].as_array().unwrap()).enumerate() {
            let got = buckets(s, lo, hi);
            nonempty += usize::from(!got.is_empty());
            assert_eq!(got, golden_buckets(w), "{key}: document {i}");
        }
        assert!(nonempty >= least, "{key}: {nonempty}");
    }
}

#[test]
fn humanize_and_npy_match_python() {
    let g = golden();
    for row in g["humanize"].as_array().unwrap() {
        let n = row[0].as_u64().unwrap();
        assert_eq!(humanize_metric(n, "T"), row[1].as_str().unwrap(), "{n}");
    }
    for (n, h) in g["npy"].as_object().unwrap() {
        let n: u64 = n.parse().unwrap();
        let mut b = npy_header("<u8", n);
        for i in 0..n {
            b.extend_from_slice(&i.to_le_bytes());
        }
        assert_eq!(hex(&Sha256::digest(&b)), h.as_str().unwrap(), "{n}");
    }
}
