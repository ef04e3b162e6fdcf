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
