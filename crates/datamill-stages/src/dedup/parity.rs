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

/// The byte spans bff removed (`make_golden_bff.py`), and its text: the input without them.
fn without(text: &str, spans: &[(usize, usize)]) -> String {
    let mut out = String::new();
    let mut last = 0;
    for &(a, b) in spans {
        out.push_str(&text[last..a]);
        last = b;
    }
    out.push_str(&text[last..]);
    out
}

/// `bloom_dedup` with `compat = "bff"` removes exactly the lines bff removes (paragraph
/// mode, and `--whole-paragraphs` as `by = "paragraph"`), and empties exactly the documents
/// bff empties (`--whole-document`, as `remove = "document"`), with bff's bytes.
#[test]
fn bloom_dedup_bff_matches_bff() {
    // A filter with false positives below 1e-20 on these slices, as the golden's.
    let filter = "expected_items = 1000000\nfalse_positive_rate = 1e-9";
    for slice in SLICES {
        for (mode, cfg) in [
            ("paragraph", ""),
            ("document", "remove = \"document\""),
            ("whole_paragraphs", "by = \"paragraph\""),
        ] {
            let golden = rows(&format!("bff_{mode}.{slice}.jsonl.gz"));
            let input = docs(slice);
            let texts: Vec<String> = input.iter().map(|d| d.text().to_string()).collect();
            let fates = run(
                "bloom_dedup",
                &format!("compat = \"bff\"\n{filter}\n{cfg}"),
                input,
                300,
                None,
            );
            let mut differ = Vec::new();
            let mut removed = 0;
            for ((g, f), text) in golden.iter().zip(&fates).zip(&texts) {
                let spans: Vec<(usize, usize)> = g["spans"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| {
                        (
                            s[0].as_u64().unwrap() as usize,
                            s[1].as_u64().unwrap() as usize,
                        )
                    })
                    .collect();
                removed += spans.len();
                let want = without(text, &spans);
                let got = f.doc().map(|d| d.text().to_string());
                if got.as_deref() != Some(want.as_str()) {
                    differ.push(g["id"].to_string());
                }
            }
            assert!(
                differ.is_empty(),
                "{slice} {mode}: {} documents differ from bff, first {:?}",
                differ.len(),
                &differ[..differ.len().min(5)]
            );
            assert!(removed > 0, "{slice} {mode}: bff removed something");
        }
    }
}

/// `bloom_dedup` with `compat = "dolma"` finds exactly the spans `dolma dedupe` writes (its
/// character offsets), and leaves exactly the text `dolma mix` leaves after removing them;
/// in document mode it drops exactly the documents dolma marks (`make_golden_dolma.py`).
#[test]
fn bloom_dedup_dolma_matches_dolma() {
    use sha1::Digest;
    let filter = "expected_items = 1000000\nfalse_positive_rate = 1e-9";
    for slice in SLICES {
        for (mode, cfg) in [
            ("ngram", "by = \"ngram\""),
            ("paragraph", "by = \"paragraph\""),
            ("document", "remove = \"document\""),
        ] {
            let golden = rows(&format!("dolma_{mode}.{slice}.jsonl.gz"));
            let input = docs(slice);
            let cfg_src = format!("compat = \"dolma\"\n{filter}\n{cfg}");
            // The spans, from the decision's units.
            let stage: super::bloom_dedup::BloomDedup = toml::from_str(&cfg_src).unwrap();
            let fates = run("bloom_dedup", &cfg_src, input.clone(), 300, None);
            let (mut differ, mut spans_total) = (Vec::new(), 0);
            for ((g, f), d) in golden.iter().zip(&fates).zip(&input) {
                let want: Vec<(u64, u64)> = g["spans"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| (s[0].as_u64().unwrap(), s[1].as_u64().unwrap()))
                    .collect();
                spans_total += want.len();
                if mode == "document" {
                    if f.reason().is_some() == want.is_empty() {
                        differ.push(g["id"].to_string());
                    }
                    continue;
                }
                let got = f.doc().map(|d| {
                    let h = sha1::Sha1::digest(d.text().as_bytes());
                    h[..8]
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect::<String>()
                });
                if got.as_deref() != g["text_sha1"].as_str() {
                    differ.push(format!("{} (spans {want:?}, units {:?})", g["id"], {
                        stage
                            .dolma_units_for_test(d.text())
                            .into_iter()
                            .take(6)
                            .collect::<Vec<_>>()
                    }));
                }
            }
            assert!(
                differ.is_empty(),
                "{slice} {mode}: {} documents differ from dolma, first {:?}",
                differ.len(),
                &differ[..differ.len().min(3)]
            );
            // (No two debian descriptions are the same text.)
            assert!(
                spans_total > 0 || (slice, mode) == ("debian", "document"),
                "{slice} {mode}: dolma found duplicates"
            );
        }
    }
}
