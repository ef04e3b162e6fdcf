//! End-to-end runs of a mixture on the sample data shipped in `examples/data`: accounting
//! invariants, the same bytes for 1 and 2 workers, resume, the formats agreeing with each
//! other and with a reader that follows megatron-core's `_IndexReader`.

use datamill_mix::config::MixFile;
use datamill_mix::run::{MixOptions, MixProgress, run};
use datamill_mix::tokenize::Tok;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The first `n` lines of a shipped sample.
fn sample_lines(rel: &str, n: usize) -> String {
    let raw = std::fs::read(repo().join("examples/data").join(rel)).unwrap();
    let text = if rel.ends_with(".zst") {
        zstd::stream::decode_all(&raw[..]).unwrap()
    } else {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&raw[..]), &mut v)
            .unwrap();
        v
    };
    let text = String::from_utf8(text).unwrap();
    let mut out: String = text.lines().take(n).collect::<Vec<_>>().join("\n");
    out.push('\n');
    out
}

/// A small mixture over slices of the shipped samples (prose: 1,500 short documents as plain
/// JSONL cut into several units; licenses: 120 as zstd; manpages: 40, ~59k tokens, as plain
/// JSONL): three sources, two phases with an end-of-run upsampling of manpages, small parts
/// so that every pass has several tasks.
fn mixture(dir: &Path, extra: &str) -> PathBuf {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("prose.jsonl"),
        sample_lines("en_prose_sample.jsonl.zst", 1500),
    )
    .unwrap();
    let lic = sample_lines("neardup_sample.jsonl.gz", 120);
    std::fs::write(
        data.join("licenses.jsonl.zst"),
        zstd::stream::encode_all(lic.as_bytes(), 3).unwrap(),
    )
    .unwrap();
    std::fs::write(
        data.join("man.jsonl"),
        sample_lines("target/manpages.jsonl.zst", 40),
    )
    .unwrap();
    let ex = repo().join("examples");
    let text = format!(
        r#"version = 1
seed = 7
budget = 300000
tokenizer = "{ex}/models/gpt2-tokenizer.json.zst"
eos = "<|endoftext|>"

[[source]]
name = "prose"
paths = ["data/prose.jsonl"]
unit_size = "200KB"

[[source]]
name = "licenses"
paths = ["data/licenses.jsonl.zst"]

[[source]]
name = "manpages"
paths = ["data/man.jsonl"]
max_epochs = 3

[weights]
method = "temperature"
tau = 100.0

[[phase]]
name = "main"
fraction = 0.75

[[phase]]
name = "anneal"
fraction = 0.25
fixed = {{ manpages = 0.5 }}

[output]
tokenized = ["megatron", "datatrove", "numpy"]
part_tokens = 60000
dd = {{ min_log2 = 6, max_log2 = 9 }}
{extra}
"#,
        ex = ex.display()
    );
    let p = dir.join("mix.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn go(p: &Path, out: &Path, workers: usize) -> Value {
    let f = MixFile::load(p).unwrap();
    let opts = MixOptions {
        output: Some(out.to_path_buf()),
        workers,
        ..Default::default()
    };
    let r = run(
        &f,
        &opts,
        &MixProgress::default(),
        &AtomicBool::new(false),
        &mut |_| {},
    )
    .unwrap();
    r.manifest.unwrap()
}

/// Every file under `dir` except the hidden state, by relative path.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if rel.starts_with(".datamill-mix") {
                continue;
            }
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut m = BTreeMap::new();
    walk(dir, dir, &mut m);
    m
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a u64: {v}"))
}

/// megatron-core 0.16.1 `_IndexReader` / `IndexedDataset.__getitem__`, step by step: header,
/// version, dtype code, counts, lengths, pointers, document indices; sequence i is `length`
/// items of the dtype at byte `pointer` of the `.bin`.
fn read_megatron(prefix: &Path) -> Vec<Vec<u32>> {
    let idx = std::fs::read(prefix.with_extension("idx")).unwrap();
    let bin = std::fs::read(prefix.with_extension("bin")).unwrap();
    assert_eq!(&idx[..9], b"MMIDIDX\x00\x00", "bad header");
    let r8 = |at: usize| u64::from_le_bytes(idx[at..at + 8].try_into().unwrap());
    assert_eq!(r8(9), 1, "bad version");
    let code = idx[17];
    let size = match code {
        8 => 2,
        4 => 4,
        c => panic!("dtype code {c}"),
    };
    let n = r8(18) as usize;
    let docs = r8(26) as usize;
    let mut off = 34;
    let lengths: Vec<i32> = (0..n)
        .map(|i| i32::from_le_bytes(idx[off + 4 * i..off + 4 * i + 4].try_into().unwrap()))
        .collect();
    off += 4 * n;
    let pointers: Vec<i64> = (0..n).map(|i| r8(off + 8 * i) as i64).collect();
    off += 8 * n;
    let doc_idx: Vec<i64> = (0..docs).map(|i| r8(off + 8 * i) as i64).collect();
    off += 8 * docs;
    assert_eq!(off, idx.len(), "trailing bytes in the index");
    // IndexedDataset.__init__'s checks.
    assert_eq!(*doc_idx.last().unwrap() as usize, n);
    assert_eq!(doc_idx, (0..=n as i64).collect::<Vec<_>>());
    (0..n)
        .map(|i| {
            let p = pointers[i] as usize;
            (0..lengths[i] as usize)
                .map(|j| {
                    let at = p + j * size;
                    if size == 2 {
                        u16::from_le_bytes([bin[at], bin[at + 1]]) as u32
                    } else {
                        i32::from_le_bytes(bin[at..at + 4].try_into().unwrap()) as u32
                    }
                })
                .collect()
        })
        .collect()
}

fn read_u16(b: &[u8]) -> Vec<u32> {
    b.chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]) as u32)
        .collect()
}

#[test]
fn mixture_accounting_formats_and_worker_independence() {
    let d = tempfile::tempdir().unwrap();
    let p = mixture(d.path(), "");
    let out1 = d.path().join("w1");
    let m = go(&p, &out1, 1);
    let out2 = d.path().join("w2");
    let m2 = go(&p, &out2, 2);
    assert_eq!(m, m2);
    let t1 = tree(&out1);
    assert!(t1 == tree(&out2), "1 and 2 workers differ");

    // Accounting: phases tile the sequence; per-source tokens add up; the budget is met up to
    // one document; every read document is drawable, empty or counted elsewhere.
    let budget = u(&m["budget"]);
    let tokens = u(&m["tokens"]);
    let max_doc = u(&m["accounting"]["max_document_tokens"]);
    assert!(tokens >= budget && tokens < budget + max_doc);
    let phases = m["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 2);
    let mut next_tok = 0;
    let mut next_doc = 0;
    for ph in phases {
        let r = &ph["realized"];
        assert_eq!(u(&r["start_token"]), next_tok);
        assert_eq!(u(&r["first_document"]), next_doc);
        let by: u64 = r["tokens_by_source"]
            .as_object()
            .unwrap()
            .values()
            .map(u)
            .sum();
        assert_eq!(by, u(&r["tokens"]));
        let docs: u64 = r["documents_by_source"]
            .as_object()
            .unwrap()
            .values()
            .map(u)
            .sum();
        assert_eq!(docs, u(&r["end_document"]) - u(&r["first_document"]));
        // The phase ends within one document of its planned end.
        let err = ph["end_token_error"].as_i64().unwrap();
        assert!(err >= 0 && (err as u64) < max_doc, "{err}");
        // Each source got its planned share of the phase up to one document.
        for (name, planned) in ph["planned"]["tokens_by_source"].as_object().unwrap() {
            let got = u(&r["tokens_by_source"][name]) as f64;
            let planned = planned.as_f64().unwrap();
            assert!(
                (got - planned).abs() <= max_doc as f64,
                "{name}: {got} vs {planned}"
            );
        }
        next_tok = u(&r["end_token"]);
        next_doc = u(&r["end_document"]);
    }
    assert_eq!(next_tok, tokens);
    assert_eq!(next_doc, u(&m["documents"]));
    let mut drawn = 0;
    for s in m["sources"].as_array().unwrap() {
        assert_eq!(
            u(&s["documents_read"]),
            u(&s["drawable_documents"]) + u(&s["empty_documents"])
        );
        let r = &s["realized"];
        assert_eq!(
            u(&r["documents"]),
            u(&r["full_epochs"]) * u(&s["drawable_documents"]) + u(&r["partial_epoch_documents"])
        );
        drawn += u(&r["documents"]);
        if let Some(cap) = s["max_epochs"].as_f64() {
            assert!(s["planned"]["epochs"].as_f64().unwrap() <= cap + 1e-9);
        }
    }
    assert_eq!(drawn, u(&m["documents"]));
    // manpages is repeated (small, fixed share at the end): more than one epoch.
    let man = &m["sources"][2];
    assert!(u(&man["realized"]["full_epochs"]) >= 1, "{man}");

    // Several parts; the formats agree with each other and with the documents.
    let parts = m["parts"].as_array().unwrap();
    assert!(parts.len() >= 4, "{}", parts.len());
    let tok = Tok::load(
        &repo().join("examples/models/gpt2-tokenizer.json.zst"),
        "x",
        Some("<|endoftext|>"),
    )
    .unwrap();
    let mut all_docs = 0;
    for (k, part) in parts.iter().enumerate() {
        let stem = format!("part-{k:05}");
        let meg = read_megatron(&out1.join("megatron").join(&stem));
        assert_eq!(meg.len() as u64, u(&part["documents"]));
        let flat: Vec<u32> = meg.concat();
        assert_eq!(flat.len() as u64, u(&part["tokens"]));
        let ds = read_u16(&t1[&format!("datatrove/{k:05}_unshuffled.ds")]);
        assert_eq!(ds, flat);
        let np = read_u16(&t1[&format!("numpy/{stem}.bin")]);
        assert_eq!(np, flat);
        let offs = &t1[&format!("numpy/{stem}.doc_offsets.npy")];
        let offs: Vec<u64> = offs[128..]
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(offs.len(), meg.len() + 1);
        for (i, doc) in meg.iter().enumerate() {
            assert_eq!((offs[i + 1] - offs[i]) as usize, doc.len());
        }
        // Documents in training order, re-tokenized, are the token files' sequences.
        let shard = &t1[&format!("documents/{stem}-000.jsonl.zst")];
        let text = String::from_utf8(zstd::stream::decode_all(&shard[..]).unwrap()).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), meg.len());
        for (doc, want) in lines.iter().zip(&meg) {
            let mut ids = Vec::new();
            tok.encode(doc["text"].as_str().unwrap(), &mut ids).unwrap();
            assert_eq!(&ids, want);
            assert_eq!(*ids.last().unwrap(), 50256);
            assert!(doc["mix"]["source"].is_string() && doc["mix"]["epoch"].is_u64());
        }
        all_docs += lines.len();
    }
    assert_eq!(all_docs as u64, u(&m["documents"]));
    // Dataset Decomposition: rows of 2^k + 1 tokens, tokens conserved.
    let dd = &m["dd"];
    let mut dd_tokens = u(&dd["dropped_tokens"]);
    for b in dd["buckets"].as_array().unwrap() {
        let k = u(&b["k"]);
        let n = u(&b["sequences"]);
        let bytes: usize = t1
            .iter()
            .filter(|(name, _)| name.starts_with(&format!("dd/D_{k}/")))
            .map(|(_, v)| v.len())
            .sum();
        assert_eq!(bytes as u64, n * ((1 << k) + 1) * 2);
        dd_tokens += n * ((1 << k) + 1);
    }
    assert_eq!(dd_tokens, tokens);

    // A finished run reruns as a no-op with the same bytes.
    let again = go(&p, &out1, 2);
    assert_eq!(again, m);
    assert!(tree(&out1) == t1);
}

#[test]
fn resume_redoes_unfinished_tasks_only_and_gives_the_same_bytes() {
    let d = tempfile::tempdir().unwrap();
    let p = mixture(d.path(), "");
    let out = d.path().join("o");
    go(&p, &out, 2);
    let reference = tree(&out);
    // Simulate a crash: one count task and two write tasks without markers, leftovers of
    // half-written files, and no manifest.
    let state = out.join(".datamill-mix");
    std::fs::remove_file(state.join("index/prose/00001.done")).unwrap();
    std::fs::write(state.join("index/prose/00001.tok.tmp"), b"garbage").unwrap();
    std::fs::remove_file(state.join("parts/00001.done")).unwrap();
    std::fs::remove_file(state.join("parts/00003.done")).unwrap();
    std::fs::write(out.join("megatron/part-00001.bin.tmp"), b"junk").unwrap();
    std::fs::remove_file(out.join("megatron/part-00003.idx")).unwrap();
    std::fs::remove_file(out.join("manifest.json")).unwrap();
    let f = MixFile::load(&p).unwrap();
    let r = run(
        &f,
        &MixOptions {
            output: Some(out.clone()),
            workers: 2,
            ..Default::default()
        },
        &MixProgress::default(),
        &AtomicBool::new(false),
        &mut |_| {},
    )
    .unwrap();
    let parts = r.manifest.as_ref().unwrap()["parts"]
        .as_array()
        .unwrap()
        .len();
    let units: usize = std::fs::read_dir(state.join("index"))
        .unwrap()
        .map(|d| {
            std::fs::read_dir(d.unwrap().path())
                .unwrap()
                .filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .path()
                        .extension()
                        .is_some_and(|x| x == "done")
                })
                .count()
        })
        .sum();
    assert_eq!(r.resumed, (units - 1, parts - 2));
    assert!(tree(&out) == reference, "resumed output differs");
}

#[test]
fn a_changed_mixture_is_refused_unless_forced_and_reuses_the_counts() {
    let d = tempfile::tempdir().unwrap();
    let p = mixture(d.path(), "");
    let out = d.path().join("o");
    go(&p, &out, 2);
    let p2 = mixture(d.path(), "annotate = false");
    let f = MixFile::load(&p2).unwrap();
    let opts = MixOptions {
        output: Some(out.clone()),
        workers: 2,
        ..Default::default()
    };
    let e = run(
        &f,
        &opts,
        &MixProgress::default(),
        &AtomicBool::new(false),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("--force"), "{e}");
    let r = run(
        &f,
        &MixOptions {
            force: true,
            ..opts
        },
        &MixProgress::default(),
        &AtomicBool::new(false),
        &mut |_| {},
    )
    .unwrap();
    // `annotate` changes what the counting pass stores, so the counts are redone: nothing
    // resumed. The documents no longer carry the annotation.
    assert_eq!(r.resumed.0, 0);
    let shard = std::fs::read(out.join("documents/part-00000-000.jsonl.zst")).unwrap();
    let text = String::from_utf8(zstd::stream::decode_all(&shard[..]).unwrap()).unwrap();
    assert!(!text.contains("\"mix\""));
}

#[test]
fn errors_that_need_counts_come_before_any_output() {
    let d = tempfile::tempdir().unwrap();
    // 600k tokens, manpages (~59k unique tokens, capped at 3 epochs) given 95 % of the
    // anneal phase: about 5 epochs.
    let p = mixture(d.path(), "");
    let text = std::fs::read_to_string(&p)
        .unwrap()
        .replace("fixed = { manpages = 0.5 }", "fixed = { manpages = 0.95 }")
        .replace("budget = 300000", "budget = 600000");
    std::fs::write(&p, text).unwrap();
    let out = d.path().join("o");
    let f = MixFile::load(&p).unwrap();
    let e = run(
        &f,
        &MixOptions {
            output: Some(out.clone()),
            ..Default::default()
        },
        &MixProgress::default(),
        &AtomicBool::new(false),
        &mut |_| {},
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("source `manpages`") && msg.contains("max_epochs"),
        "{msg}"
    );
    // Only the hidden counting state exists: no shard, no token file, no manifest.
    assert!(
        tree(&out).is_empty(),
        "{:?}",
        tree(&out).keys().collect::<Vec<_>>()
    );
}
