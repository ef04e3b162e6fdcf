//! Golden tests of the dedup stages' `compat` presets against their references, on slices of
//! real text committed in `tests/golden/dedup_parity/` (see the README there: the slices,
//! the scripts that ran the references, and their pinned versions).

use crate::testing::{self, Fate};
use crate::{BuildCx, StageConfig, Step};
use datamill_core::{DecideCx, Doc};
use std::io::Read;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/dedup_parity/");

/// The slices the goldens were made on.
pub(crate) const SLICES: [&str; 2] = ["debian", "changelogs"];

/// The rows of a gzipped JSONL file of the golden folder.
pub(crate) fn rows(name: &str) -> Vec<serde_json::Value> {
    let mut s = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(format!("{DIR}{name}")).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    s.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The documents of a slice.
pub(crate) fn docs(slice: &str) -> Vec<Doc> {
    rows(&format!("{slice}.jsonl.gz"))
        .into_iter()
        .map(|v| Doc::from_json(v.to_string(), &Default::default(), || unreachable!()).unwrap())
        .collect()
}

/// Runs the stage `toml` (without `type`, given as `kind`) over `docs` cut into units of
/// `per_unit`, with a memory budget; returns every document's fate.
pub(crate) fn run(
    kind: &str,
    toml_src: &str,
    docs: Vec<Doc>,
    per_unit: usize,
    budget: Option<u64>,
) -> Vec<Fate> {
    let cfg: StageConfig = toml::from_str(&format!("type = \"{kind}\"\n{toml_src}")).unwrap();
    let Ok(Step::Global(g)) = cfg.build(&BuildCx::default()) else {
        panic!("a global stage")
    };
    let dir = tempfile::tempdir().unwrap();
    let cx = DecideCx {
        report: datamill_core::ReportSink::memory(),
        work_dir: dir.path().join("work"),
        memory_budget: budget,
        workers: 1,
    };
    testing::run(&*g, docs, per_unit, &cx).0
}

/// `line_dedup` with `compat = "ccnet"` keeps exactly the lines cc_net's `dedup.py` keeps,
/// in both modes, and drops the same documents (`make_golden_ccnet.py`).
#[test]
fn line_dedup_ccnet_matches_cc_net() {
    for slice in SLICES {
        for (mode, cfg) in [("one_pass", "keep_first = true"), ("two_pass", "")] {
            let golden = rows(&format!("ccnet_{mode}.{slice}.jsonl.gz"));
            let input = docs(slice);
            assert_eq!(golden.len(), input.len());
            let texts: Vec<String> = input.iter().map(|d| d.text().to_string()).collect();
            // Several work units, and a budget small enough to spill.
            for (per_unit, budget) in [(usize::MAX, None), (97, Some(64 << 10))] {
                let fates = run(
                    "line_dedup",
                    &format!("compat = \"ccnet\"\n{cfg}"),
                    docs(slice),
                    per_unit,
                    budget,
                );
                let (mut dropped, mut differ) = (0, Vec::new());
                for ((g, f), text) in golden.iter().zip(&fates).zip(&texts) {
                    let want = g["line_ids"].as_array().map(|ids| {
                        let lines: Vec<&str> = text.split('\n').collect();
                        ids.iter()
                            .map(|i| lines[i.as_u64().unwrap() as usize])
                            .collect::<Vec<_>>()
                            .join("\n")
                    });
                    let got = f.doc().map(|d| d.text().to_string());
                    if want.is_none() {
                        dropped += 1;
                        assert_eq!(f.reason(), Some("empty_after_dedup"), "{}", g["id"]);
                    }
                    if got != want {
                        differ.push(g["id"].to_string());
                    }
                }
                assert!(
                    differ.is_empty(),
                    "{slice} {mode}: {} documents differ from cc_net, first {:?}",
                    differ.len(),
                    &differ[..differ.len().min(5)]
                );
                assert!(dropped > 0, "{slice} {mode}: the golden drops documents");
            }
        }
    }
}
