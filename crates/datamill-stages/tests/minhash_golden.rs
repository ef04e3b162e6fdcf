//! `minhash_dedup` with `compat = "datatrove"` removes exactly the documents datatrove 0.10.1's
//! 4-stage MinHash removes, and finds the same clusters (golden outputs made by
//! `tests/golden/minhash/make_golden.sh`, see the README there).

use datamill_core::{DecideCx, Doc, DocRef, Verdicts};
use datamill_stages::{BuildCx, StageConfig, Step};
use std::collections::BTreeSet;

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/samples/");
const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/minhash/");

/// Runs the stage over a sample cut into `units` work units; returns the ids in input order,
/// the removed ids and the cluster member sets of the report.
fn run(
    sample: &str,
    units: usize,
    workers: usize,
) -> (BTreeSet<String>, BTreeSet<BTreeSet<String>>) {
    let cfg: StageConfig =
        toml::from_str("type = \"minhash_dedup\"\ncompat = \"datatrove\"").unwrap();
    let Ok(Step::Global(stage)) = cfg.build(&BuildCx::default()) else {
        panic!("global stage expected")
    };
    let text = std::fs::read_to_string(format!("{SAMPLES}{sample}.jsonl")).unwrap();
    let docs: Vec<Doc> = text
        .lines()
        .map(|l| Doc::from_json(l.to_string(), &Default::default(), || unreachable!()).unwrap())
        .collect();
    let per = docs.len().div_ceil(units);
    let counts: Vec<u32> = docs.chunks(per).map(|c| c.len() as u32).collect();
    let dir = tempfile::tempdir().unwrap();
    let cx = DecideCx {
        report: datamill_core::ReportSink::memory(),
        work_dir: dir.path().join("work"),
        memory_budget: None,
        workers,
    };
    let mut v = Verdicts::new(&counts);
    let mut refs = Vec::new();
    {
        let mut d = stage.decider(&cx).unwrap();
        for (u, chunk) in docs.chunks(per).enumerate() {
            for (i, doc) in chunk.iter().enumerate() {
                let mut s = Vec::new();
                stage.summarize(doc, &mut s).unwrap();
                let at = DocRef {
                    unit: u as u32,
                    index: i as u32,
                };
                refs.push(at);
                d.observe(at, &s, &mut v).unwrap();
            }
        }
        d.finish(&mut v).unwrap();
    }
    let removed = docs
        .iter()
        .zip(&refs)
        .filter(|(_, r)| v.get(**r) == Some("duplicate"))
        .map(|(d, _)| d.id().to_string())
        .collect();
    let report = String::from_utf8(cx.report.get("clusters.jsonl").unwrap()).unwrap();
    (removed, clusters(&report))
}

fn clusters(jsonl: &str) -> BTreeSet<BTreeSet<String>> {
    jsonl
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_str().unwrap().to_string())
                .collect()
        })
        .collect()
}

fn check(sample: &str, units: usize, workers: usize) {
    let want: BTreeSet<String> = std::fs::read_to_string(format!("{GOLDEN}{sample}.removed.txt"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let want_clusters =
        clusters(&std::fs::read_to_string(format!("{GOLDEN}{sample}.clusters.jsonl")).unwrap());
    let (removed, got_clusters) = run(sample, units, workers);
    let missing: Vec<_> = want.difference(&removed).take(5).collect();
    let extra: Vec<_> = removed.difference(&want).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{sample}: {} removed, datatrove {}; missing {missing:?}, extra {extra:?}",
        removed.len(),
        want.len()
    );
    assert_eq!(got_clusters, want_clusters, "{sample}: clusters differ");
}

#[test]
fn datatrove_compat_removes_what_datatrove_removes_on_neardup() {
    check("neardup_sample", 3, 2);
}

#[test]
fn datatrove_compat_removes_what_datatrove_removes_on_en_prose() {
    check("en_prose_sample", 1, 1);
}

/// `save_cluster_id` / `save_cluster_size`: every kept document carries datatrove's
/// `minhash_cluster_id` / `minhash_cluster_size` (its `.clusters` file, the golden's `cluster`
/// and `size`; -1 and 1 outside clusters).
#[test]
fn cluster_fields_equal_datatrove() {
    for sample in ["neardup_sample", "en_prose_sample"] {
        let cfg: StageConfig = toml::from_str(
            "type = \"minhash_dedup\"\ncompat = \"datatrove\"\nsave_cluster_id = true\nsave_cluster_size = true",
        )
        .unwrap();
        let Ok(Step::Global(stage)) = cfg.build(&BuildCx::default()) else {
            panic!("global stage expected")
        };
        let text = std::fs::read_to_string(format!("{SAMPLES}{sample}.jsonl")).unwrap();
        let docs: Vec<Doc> = text
            .lines()
            .map(|l| Doc::from_json(l.to_string(), &Default::default(), || unreachable!()).unwrap())
            .collect();
        let cx = DecideCx::default();
        let mut v = Verdicts::new(&[docs.len() as u32]);
        let state = {
            let mut d = stage.decider(&cx).unwrap();
            for (i, doc) in docs.iter().enumerate() {
                let mut s = Vec::new();
                stage.summarize(doc, &mut s).unwrap();
                let at = DocRef {
                    unit: 0,
                    index: i as u32,
                };
                d.observe(at, &s, &mut v).unwrap();
            }
            d.finish(&mut v).unwrap().expect("a transform state")
        };
        let t = stage.transform(&state).unwrap();
        let mut want = std::collections::HashMap::new();
        for l in std::fs::read_to_string(format!("{GOLDEN}{sample}.clusters.jsonl"))
            .unwrap()
            .lines()
        {
            let r: serde_json::Value = serde_json::from_str(l).unwrap();
            want.insert(
                r["kept"].as_str().unwrap().to_string(),
                (r["cluster"].as_i64().unwrap(), r["size"].as_u64().unwrap()),
            );
        }
        let mut in_clusters = 0;
        for (i, doc) in docs.iter().enumerate() {
            let at = DocRef {
                unit: 0,
                index: i as u32,
            };
            if v.get(at).is_some() {
                continue;
            }
            let mut d = doc.clone();
            let mut scx = datamill_core::StageCx::default();
            scx.set_doc_ref(Some(at));
            t.process(&mut d, &mut scx).unwrap();
            let got = (
                d.get_value("minhash_cluster_id").unwrap().as_i64().unwrap(),
                d.get_value("minhash_cluster_size")
                    .unwrap()
                    .as_u64()
                    .unwrap(),
            );
            let w = want.get(d.id()).copied().unwrap_or((-1, 1));
            in_clusters += usize::from(w.0 >= 0);
            assert_eq!(got, w, "{sample} {}", d.id());
        }
        assert_eq!(in_clusters, want.len(), "{sample}");
    }
}

/// `hash_precision = 32`: datatrove's `HashConfig(precision=32)` (golden
/// `neardup_sample.p32.*`, made by `make_golden_32.py` on the repository's copy of the sample).
#[test]
fn precision_32_equals_datatrove() {
    let cfg: StageConfig =
        toml::from_str("type = \"minhash_dedup\"\ncompat = \"datatrove\"\nhash_precision = 32")
            .unwrap();
    let Ok(Step::Global(stage)) = cfg.build(&BuildCx::default()) else {
        panic!("global stage expected")
    };
    let mut text = String::new();
    use std::io::Read;
    flate2::read::GzDecoder::new(
        std::fs::File::open(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/data/neardup_sample.jsonl.gz"
        ))
        .unwrap(),
    )
    .read_to_string(&mut text)
    .unwrap();
    let docs: Vec<Doc> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Doc::from_json(l.to_string(), &Default::default(), || unreachable!()).unwrap())
        .collect();
    let cx = DecideCx {
        report: datamill_core::ReportSink::memory(),
        ..Default::default()
    };
    let mut v = Verdicts::new(&[docs.len() as u32]);
    {
        let mut d = stage.decider(&cx).unwrap();
        for (i, doc) in docs.iter().enumerate() {
            let mut s = Vec::new();
            stage.summarize(doc, &mut s).unwrap();
            let at = DocRef {
                unit: 0,
                index: i as u32,
            };
            d.observe(at, &s, &mut v).unwrap();
        }
        d.finish(&mut v).unwrap();
    }
    let removed: BTreeSet<String> = docs
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            v.get(DocRef {
                unit: 0,
                index: *i as u32,
            })
            .is_some()
        })
        .map(|(_, d)| d.id().to_string())
        .collect();
    let want: BTreeSet<String> =
        std::fs::read_to_string(format!("{GOLDEN}neardup_sample.p32.removed.txt"))
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
    assert_eq!(removed, want);
    let got = clusters(&String::from_utf8(cx.report.get("clusters.jsonl").unwrap()).unwrap());
    let golden = clusters(
        &std::fs::read_to_string(format!("{GOLDEN}neardup_sample.p32.clusters.jsonl")).unwrap(),
    );
    assert_eq!(got, golden);
    // Not the 64-bit result: the precision changes which documents collide.
    let want64: BTreeSet<String> =
        std::fs::read_to_string(format!("{GOLDEN}neardup_sample.removed.txt"))
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
    assert_ne!(removed, want64);
}
