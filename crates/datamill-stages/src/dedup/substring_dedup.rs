//! Removes every span of text made of windows of at least `min_length` bytes that occur
//! elsewhere in the corpus: exact-substring dedup after Lee et al. 2022, with suffix arrays.
//!
//! A global stage, following google-research/deduplicate-text-datasets (`self-similar` then
//! `collect`): every document's text goes into one corpus byte file; a suffix array of it
//! (libsais, single-threaded) brings equal suffixes together, and every position whose next
//! `min_length` bytes (a *window*) also occur at another position is a duplicate. The
//! removed spans of a document are the union of its duplicate windows (a window starting at
//! or before the end of the previous span extends it, as `collect` merges them), each span
//! shrunk inward to UTF-8 character boundaries so no character is cut. Windows never cross
//! documents. With the Google tool's defaults *every* occurrence of a repeated span goes,
//! the first one included; `keep_first = true` instead only treats a window as a duplicate
//! when it occurred earlier in input order, so its first occurrence stays.
//!
//! Each span is replaced by `replacement` (default `""`: deleted, as the Google tool does).
//! The number of bytes removed is written to metadata field `count_field` (default
//! `substring_dedup_bytes_removed`; `""` writes nothing) and counted in the stage counters
//! `bytes_removed` and `spans_removed`. A document left with no non-blank text is dropped
//! with reason `empty_after_dedup`; with `min_doc_chars > 0`, an edited document left with
//! fewer characters is dropped with reason `too_short_after_dedup` (untouched documents are
//! never dropped).
//!
//! Units: `min_length` counts bytes of UTF-8 text (the paper's 50 GPT-2 tokens are about
//! 100 bytes of English, hence the default 100). Lee et al. ran the removal twice, because
//! removing spans can create new repeats; add the stage twice to do the same.
//!
//! Memory and disk: the summary of a document is its id and text, so the stage stores the
//! corpus text twice on disk (summaries, then the corpus file in the work folder, one 0xFF
//! separator per document). Suffix-sorting takes about 5.1 bytes of memory per text byte
//! (9.1 above 2 GiB). With a budget (`memory`, else the run's `--memory`) smaller than that,
//! the corpus is cut at document boundaries into partitions of `budget / 12` bytes and every
//! pair of partitions is suffix-sorted together (k partitions: k(k−1)/2 arrays, about k
//! times the work); the duplicate marks (one bit per byte) stay on disk per partition. The
//! result is the same as in memory. Besides that, the decider holds 24 bytes per document,
//! and the transform 24 bytes per edited document plus 8 per span.
//!
//! Report: `OUT/reports/substring_dedup/clusters.jsonl`, one row per distinct removed span
//! text for the `report_top` (default 1000) that removed the most bytes: `cluster` (xxh3-64
//! of the span, hex), `length` (bytes), `occurrences` (spans with that exact text removed),
//! `bytes_removed`, `example` (the span, cut at 500 characters) and `example_id` (the first
//! document it was removed from); and `summary.json` (partitions, suffix arrays, duplicate
//! windows, spans, bytes). Rows are sorted by bytes removed, then cluster.
//!
//! Parameters: `min_length` (100), `keep_first` (false), `replacement` (`""`),
//! `min_doc_chars` (0), `count_field` (`"substring_dedup_bytes_removed"`), `memory` (size,
//! e.g. `"4GB"`), `report_top` (1000). Needs the `suffix` feature (on by default).
//!
//! ```toml
//! [[stage]]
//! type = "substring_dedup"
//!
//! [[stage]]
//! type = "substring_dedup"
//! min_length = 200
//! keep_first = true
//! replacement = " "
//! min_doc_chars = 50
//! memory = "2GB"
//! ```

#[cfg(feature = "suffix")]
#[path = "substring_dedup/engine.rs"]
mod engine;

use crate::{BuildCx, StageSpec, Step};
use datamill_core::ByteSize;
use datamill_core::StageError;
use serde::Deserialize;

fn default_min_length() -> usize {
    100
}
fn default_field() -> String {
    "substring_dedup_bytes_removed".into()
}
fn default_top() -> usize {
    1000
}

/// The `substring_dedup` stage's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubstringDedup {
    /// Window length in bytes: repeats shorter than this are kept.
    #[serde(default = "default_min_length")]
    pub min_length: usize,
    /// Keep the first occurrence (input order) of every repeated window.
    #[serde(default)]
    pub keep_first: bool,
    /// Text put in place of each removed span.
    #[serde(default)]
    pub replacement: String,
    /// Edited documents left with fewer characters are dropped.
    #[serde(default)]
    pub min_doc_chars: usize,
    /// Metadata field receiving the number of bytes removed (`""`: none).
    #[serde(default = "default_field")]
    pub count_field: String,
    /// Memory budget of the decider (overrides `--memory`).
    pub memory: Option<ByteSize>,
    /// Rows of the cluster report.
    #[serde(default = "default_top")]
    pub report_top: usize,
}

impl StageSpec for SubstringDedup {
    fn build(&self, _cx: &BuildCx) -> Result<Step, StageError> {
        if self.min_length == 0 {
            return Err(StageError::config(
                "min_length",
                "must be at least 1 (bytes)",
            ));
        }
        if self.memory.is_some_and(|m| m.0 < 12) {
            return Err(StageError::config("memory", "must be at least 12 bytes"));
        }
        #[cfg(feature = "suffix")]
        {
            Ok(Step::Global(Box::new(engine::Built { cfg: self.clone() })))
        }
        #[cfg(not(feature = "suffix"))]
        {
            Err(StageError::config(
                "type",
                "substring_dedup needs datamill built with the `suffix` feature (libsais)",
            ))
        }
    }
}

#[cfg(all(test, feature = "suffix"))]
mod tests {
    use super::*;
    use datamill_core::{DecideCx, Doc};

    /// Runs the stage over documents split into units of `per_unit` documents; returns the
    /// resulting texts (`None`: dropped) and the metadata counts.
    fn run_with(
        toml_src: &str,
        docs: &[&str],
        per_unit: usize,
        budget: Option<u64>,
        dir: &std::path::Path,
    ) -> Vec<Option<(String, u64)>> {
        let cfg: SubstringDedup = toml::from_str(toml_src).unwrap();
        let Step::Global(g) = cfg.build(&BuildCx::default()).unwrap() else {
            panic!("global")
        };
        let cx = DecideCx {
            report: datamill_core::ReportSink::dir(dir.join("report")),
            work_dir: dir.join("work"),
            memory_budget: budget,
            workers: 1,
        };
        let docs = docs
            .iter()
            .enumerate()
            .map(|(i, t)| Doc::new(format!("d{i}"), *t))
            .collect();
        let (fates, decided) = crate::testing::run(&*g, docs, per_unit, &cx);
        assert!(decided.transform.is_some(), "a transform");
        fates
            .iter()
            .map(|f| match f {
                crate::testing::Fate::Kept(doc) => {
                    let n = doc
                        .get_value("substring_dedup_bytes_removed")
                        .and_then(|v| v.as_u64())
                        .unwrap_or(u64::MAX);
                    Some((doc.text().to_string(), n))
                }
                crate::testing::Fate::Dropped(r) => {
                    assert!(r == "empty_after_dedup" || r == "too_short_after_dedup");
                    None
                }
            })
            .collect()
    }

    fn k(t: &str, n: u64) -> Option<(String, u64)> {
        Some((t.to_string(), n))
    }

    const BOILER: &str = "Subscribe to our newsletter for the latest updates!";

    #[test]
    fn removes_every_occurrence_of_a_repeated_span_and_reports_it() {
        let dir = tempfile::tempdir().unwrap();
        let a = format!("First article. {BOILER}");
        let b = format!("{BOILER} Second one.");
        let c = BOILER.to_string();
        let got = run_with(
            "min_length = 20",
            &[&a, &b, &c, "nothing shared here at all"],
            2,
            None,
            dir.path(),
        );
        let n = BOILER.len() as u64;
        assert_eq!(
            got,
            [
                k("First article. ", n),
                k(" Second one.", n),
                None,
                k("nothing shared here at all", 0)
            ]
        );
        let report = std::fs::read_to_string(dir.path().join("report/clusters.jsonl")).unwrap();
        let rows: Vec<serde_json::Value> = report
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(rows.len(), 1, "{report}");
        assert_eq!(rows[0]["example"], BOILER);
        assert_eq!(rows[0]["example_id"], "d0");
        assert_eq!(rows[0]["occurrences"], 3);
        assert_eq!(rows[0]["length"], n);
        assert_eq!(rows[0]["bytes_removed"], 3 * n);
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("report/summary.json")).unwrap())
                .unwrap();
        assert_eq!(summary["spans"], 3);
        assert_eq!(summary["partitions"], 1);
    }

    #[test]
    fn keep_first_replacement_and_min_doc_chars() {
        let dir = tempfile::tempdir().unwrap();
        let a = format!("First article. {BOILER}");
        let b = format!("{BOILER} Second one, a bit longer.");
        let c = format!("x {BOILER}");
        let docs = [a.as_str(), b.as_str(), c.as_str()];
        let n = BOILER.len() as u64;
        let got = run_with(
            "min_length = 20\nkeep_first = true\nreplacement = \"[…]\"",
            &docs,
            1,
            None,
            dir.path(),
        );
        assert_eq!(
            got,
            [
                k(&a, 0),
                k("[…] Second one, a bit longer.", n),
                k("x[…]", n + 1)
            ]
        );
        let got = run_with(
            "min_length = 20\nmin_doc_chars = 10",
            &docs,
            1,
            None,
            dir.path(),
        );
        assert_eq!(
            got,
            // " Subscribe…" also repeats (after "article." and "x"), the space with it.
            [
                k("First article.", n + 1),
                k(" Second one, a bit longer.", n),
                None
            ]
        );
    }

    #[test]
    fn cuts_only_at_character_boundaries() {
        let dir = tempfile::tempdir().unwrap();
        // The shared bytes start inside "é" (c3 a9) / "©" (c2 a9): the span keeps it.
        let got = run_with(
            "min_length = 4",
            &["xé-shared-tail", "y©-shared-tail"],
            1,
            None,
            dir.path(),
        );
        assert_eq!(got, [k("xé", 12), k("y©", 12)]);
    }

    /// Pseudo-random documents of words, with sentences repeated across the corpus.
    fn corpus(n: usize) -> Vec<String> {
        let words = [
            "data", "mill", "token", "suffix", "array", "déjà", "vu", "naïve", "€", "🦀", "the",
            "of", "and",
        ];
        let h = |x: u64| xxhash_rust::xxh3::xxh3_64(&x.to_le_bytes());
        let sentence = |seed: u64| {
            (0..8)
                .map(|j| words[(h(seed * 16 + j) % words.len() as u64) as usize])
                .collect::<Vec<_>>()
                .join(" ")
        };
        (0..n as u64)
            .map(|i| {
                (0..5)
                    .map(|j| {
                        let x = h(i * 7 + j);
                        if x % 3 == 0 {
                            sentence(1_000_000 + x % 40)
                        } else {
                            sentence(i * 10 + j)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(". ")
            })
            .collect()
    }

    #[test]
    fn a_small_budget_gives_the_in_memory_result() {
        let docs = corpus(150);
        let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
        for cfg in ["min_length = 30", "min_length = 30\nkeep_first = true"] {
            let a = tempfile::tempdir().unwrap();
            let b = tempfile::tempdir().unwrap();
            let mem = run_with(cfg, &refs, 40, None, a.path());
            // ~35 KB of text, budget 24 KB: partitions of 2 KB, many pairs.
            let disk = run_with(cfg, &refs, 40, Some(24_000), b.path());
            assert_eq!(mem, disk, "{cfg}");
            assert!(
                mem.iter().flatten().filter(|d| d.1 > 0).count() > 20,
                "{cfg}"
            );
            let ra = std::fs::read(a.path().join("report/clusters.jsonl")).unwrap();
            let rb = std::fs::read(b.path().join("report/clusters.jsonl")).unwrap();
            assert_eq!(ra, rb);
            let s: serde_json::Value = serde_json::from_slice(
                &std::fs::read(b.path().join("report/summary.json")).unwrap(),
            )
            .unwrap();
            assert!(s["partitions"].as_u64().unwrap() >= 10, "{s}");
        }
    }

    #[test]
    fn bad_parameters_are_refused() {
        let cfg: SubstringDedup = toml::from_str("min_length = 0").unwrap();
        let e = cfg.build(&BuildCx::default()).err().unwrap();
        assert!(e.to_string().contains("min_length"), "{e}");
        assert!(toml::from_str::<SubstringDedup>("min_lenght = 3").is_err());
    }
}
