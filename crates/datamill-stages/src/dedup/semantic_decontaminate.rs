//! Embedding-based decontamination: drops every document whose cosine similarity to some
//! document of a benchmark / test set is at least `threshold`, and names the test document it
//! matched. It catches paraphrases and reformatted copies that n-gram decontamination misses
//! (datatrove #310 declined it; this stage is datamill's own design).
//!
//! Embeddings: the documents' store (`embeddings`: this run's `embed` stage or a folder), and
//! one store per test set (`test_sets`, folders; the set is named after its folder): embed the
//! test sets with the *same model* (a run of `embed` over them). Vectors are L2-normalized;
//! the similarity is their dot product in float64, the match the test document with the
//! largest one (the first on ties, test sets in the order given). Dimension mismatches and NaN
//! are errors naming the store and row.
//!
//! Documents dropped: reason `contaminated`. Reports in
//! `OUT/reports/semantic_decontaminate/`: `decisions.jsonl` (input order: `id`, `max_sim`,
//! `test_set`, `test_id` of the best match, `removed`) so the threshold can be re-chosen
//! without recomputing, and `summary.json` (test sets with their sizes and documents removed
//! because of them, and for every `threshold_list` value the documents that would be
//! removed).
//!
//! `threshold` (0.9) is datamill's default, not a standard: with all-MiniLM-L6-v2, exact and
//! lightly edited copies score above 0.95 and paraphrases 0.8-0.95; look at the table in
//! `summary.json` before settling on one.
//!
//! Parameters: `embeddings` (required), `test_sets` (required, list of store folders),
//! `threshold` (0.9), `threshold_list` (`[0.8, 0.85, 0.9, 0.95, 0.99]`).
//!
//! ```toml
//! [[stage]]
//! type = "semantic_decontaminate"
//! embeddings = "embed"
//! test_sets = ["stores/mmlu-test", "stores/gsm8k-test"]
//! threshold = 0.9
//! ```

use crate::dedup::resolve;
use crate::semantic::{
    Gathered, StoreRef, max_similarity, open_reference, summarize_id, summary_id,
};
use crate::{BuildCx, StageSpec, Step};
use datamill_core::{DecideCx, Decider, Doc, DocRef, GlobalStage, StageError, Verdicts};
use serde::Deserialize;
use std::path::PathBuf;

/// The `semantic_decontaminate` stage's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SemanticDecontaminate {
    /// The documents' embedding store: an `embed` stage's name or a folder.
    pub embeddings: String,
    /// One embedding store per test set.
    pub test_sets: Vec<String>,
    /// Drop at cosine similarity `>= threshold`.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    /// Thresholds of the report's table.
    #[serde(default = "default_threshold_list")]
    pub threshold_list: Vec<f64>,
}

fn default_threshold() -> f64 {
    0.9
}
fn default_threshold_list() -> Vec<f64> {
    vec![0.8, 0.85, 0.9, 0.95, 0.99]
}

impl StageSpec for SemanticDecontaminate {
    fn build(&self, cx: &BuildCx) -> Result<Step, StageError> {
        let store = StoreRef::parse(cx, &self.embeddings)?;
        for (name, v) in std::iter::once(("threshold", self.threshold))
            .chain(self.threshold_list.iter().map(|&t| ("threshold_list", t)))
        {
            if !(-1.0..=1.0).contains(&v) {
                return Err(StageError::config(
                    name,
                    format!("{v} must be a cosine similarity in [-1, 1]"),
                ));
            }
        }
        if self.test_sets.is_empty() {
            return Err(StageError::config(
                "test_sets",
                "required: one embedding store folder per test set",
            ));
        }
        let mut sets = Vec::new();
        for t in &self.test_sets {
            if t.is_empty() {
                return Err(StageError::config("test_sets", "an empty folder name"));
            }
            sets.push(resolve(&cx.base_dir, t));
        }
        Ok(Step::Global(Box::new(Built {
            c: self.clone(),
            store,
            sets,
        })))
    }
}

struct Built {
    c: SemanticDecontaminate,
    store: StoreRef,
    sets: Vec<PathBuf>,
}

impl GlobalStage for Built {
    fn summarize(&self, doc: &Doc, out: &mut Vec<u8>) -> Result<(), StageError> {
        summarize_id(doc, out);
        Ok(())
    }

    fn decider(&self, cx: &DecideCx) -> Result<Box<dyn Decider + '_>, StageError> {
        Ok(Box::new(DecontDecider {
            b: self,
            cx: cx.clone(),
            ids: Vec::new(),
            refs: Vec::new(),
        }))
    }
}

struct DecontDecider<'a> {
    b: &'a Built,
    cx: DecideCx,
    ids: Vec<String>,
    refs: Vec<DocRef>,
}

impl Decider for DecontDecider<'_> {
    fn observe(&mut self, at: DocRef, summary: &[u8], _: &mut Verdicts) -> Result<(), StageError> {
        self.ids
            .push(summary_id("semantic_decontaminate", summary)?.to_string());
        self.refs.push(at);
        Ok(())
    }

    fn finish(&mut self, v: &mut Verdicts) -> Result<Option<Vec<u8>>, StageError> {
        if self.ids.is_empty() {
            return Ok(None);
        }
        let n = self.ids.len();
        let dir = self.b.store.dir(&self.cx)?;
        let g = Gathered::open(&dir, &self.ids)?;
        let d = g.store.meta().dim;
        let mut best = vec![f64::NEG_INFINITY; n];
        let mut set_of = vec![0usize; n];
        let mut test_id: Vec<String> = vec![String::new(); n];
        let mut sets = Vec::new();
        for (k, p) in self.b.sets.iter().enumerate() {
            let r = open_reference(p, d, "test_sets")?;
            let (m, arg) = max_similarity(&g, &r)?;
            for i in 0..n {
                if m[i] > best[i] {
                    best[i] = m[i];
                    set_of[i] = k;
                    test_id[i] = r.ids()[arg[i] as usize].clone();
                }
            }
            sets.push((
                p.file_name()
                    .map_or_else(|| p.display().to_string(), |f| f.to_string_lossy().into()),
                r.len(),
            ));
        }
        let thr = self.b.c.threshold;
        let mut removed_by = vec![0u64; sets.len()];
        let mut dec = self.cx.report.jsonl("decisions.jsonl")?;
        for i in 0..n {
            let r = best[i] >= thr;
            if r {
                v.drop(self.refs[i], "contaminated");
                removed_by[set_of[i]] += 1;
            }
            dec.write(&serde_json::json!({
                "id": self.ids[i],
                "max_sim": best[i],
                "test_set": sets[set_of[i]].0,
                "test_id": test_id[i],
                "removed": r,
            }))?;
        }
        dec.finish()?;
        let table: Vec<_> = self
            .b
            .c
            .threshold_list
            .iter()
            .map(|&t| {
                serde_json::json!({"threshold": t, "removed": best.iter().filter(|&&s| s >= t).count()})
            })
            .collect();
        let summary = serde_json::json!({
            "documents": n,
            "removed": removed_by.iter().sum::<u64>(),
            "threshold": thr,
            "store": dir,
            "test_sets": sets.iter().zip(&removed_by).zip(&self.b.sets).map(|(((name, size), k), p)| {
                serde_json::json!({"test_set": name, "store": p, "documents": size, "removed": k})
            }).collect::<Vec<_>>(),
            "threshold_table": table,
        });
        self.cx.report.json("summary.json", &summary)?;
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::decide;
    use datamill_embed::store::StoreWriter;
    use std::path::Path;

    fn store(dir: &Path, rows: &[(&str, Vec<f32>)]) {
        let dim = rows[0].1.len();
        let mut w = StoreWriter::create(dir, dim, serde_json::Value::Null, false).unwrap();
        for (id, r) in rows {
            w.push(id, r).unwrap();
        }
        w.finish().unwrap();
    }

    fn stage(src: &str) -> Box<dyn GlobalStage> {
        let c: SemanticDecontaminate = toml::from_str(src).unwrap();
        match c.build(&BuildCx::default()).unwrap() {
            Step::Global(g) => g,
            Step::Map(_) => unreachable!(),
        }
    }

    fn cx(dir: &Path) -> DecideCx {
        DecideCx {
            report: datamill_core::ReportSink::dir(dir.join("report")),
            work_dir: dir.join("work"),
            memory_budget: None,
            workers: 2,
        }
    }

    #[test]
    fn drops_documents_near_a_test_document_and_names_it() {
        let tmp = tempfile::tempdir().unwrap();
        // Unit-length vectors with known dot products: e0 . e0 = 1, (0.6, 0.8) . e1 = 0.8,
        // (0.96, 0.28) . e0 = 0.96.
        store(
            &tmp.path().join("pool"),
            &[
                ("p0", vec![1.0, 0.0, 0.0]),
                ("p1", vec![0.0, 0.6, 0.8]),
                ("p2", vec![0.96, 0.28, 0.0]),
                ("p3", vec![0.0, 0.0, -1.0]),
            ],
        );
        store(
            &tmp.path().join("mmlu"),
            &[("m0", vec![0.0, 1.0, 0.0]), ("m1", vec![1.0, 0.0, 0.0])],
        );
        store(&tmp.path().join("gsm8k"), &[("g0", vec![0.0, 0.0, 1.0])]);
        let st = stage(&format!(
            "embeddings = {:?}\ntest_sets = [{:?}, {:?}]\nthreshold = 0.9",
            tmp.path().join("pool").display().to_string(),
            tmp.path().join("mmlu").display().to_string(),
            tmp.path().join("gsm8k").display().to_string(),
        ));
        let ids: Vec<Vec<u8>> = ["p0", "p1", "p2", "p3"]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect();
        let dec = decide(st.as_ref(), &ids, 10, &cx(tmp.path()));
        let r = dec.reasons();
        assert_eq!(
            r,
            [
                Some("contaminated".to_string()),
                None,
                Some("contaminated".to_string()),
                None
            ]
        );
        let rows: Vec<serde_json::Value> =
            std::fs::read_to_string(tmp.path().join("report/decisions.jsonl"))
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
        assert_eq!(
            (&rows[0]["test_set"], &rows[0]["test_id"]),
            (&"mmlu".into(), &"m1".into())
        );
        assert_eq!(
            (&rows[1]["test_set"], &rows[1]["test_id"]),
            (&"gsm8k".into(), &"g0".into())
        );
        assert!((rows[1]["max_sim"].as_f64().unwrap() - 0.8).abs() < 1e-6);
        assert!((rows[2]["max_sim"].as_f64().unwrap() - 0.96).abs() < 1e-6);
        assert!(rows[3]["max_sim"].as_f64().unwrap().abs() < 1e-9);
        let s: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(tmp.path().join("report/summary.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(s["test_sets"][0]["removed"], 2);
        assert_eq!(s["test_sets"][1]["removed"], 0);
        let table: Vec<u64> = s["threshold_table"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["removed"].as_u64().unwrap())
            .collect();
        assert_eq!(table, [3, 2, 2, 2, 1]);
    }

    #[test]
    fn bad_test_sets_and_parameters_are_clear_errors() {
        let tmp = tempfile::tempdir().unwrap();
        store(&tmp.path().join("pool"), &[("p0", vec![1.0, 0.0])]);
        store(&tmp.path().join("wide"), &[("w0", vec![1.0, 0.0, 0.0])]);
        store(&tmp.path().join("nan"), &[("n0", vec![f32::NAN, 0.0])]);
        for (set, want) in [
            ("wide", "3-dimensional"),
            ("nan", "n0"),
            ("absent", "absent"),
        ] {
            let st = stage(&format!(
                "embeddings = {:?}\ntest_sets = [{:?}]",
                tmp.path().join("pool").display().to_string(),
                tmp.path().join(set).display().to_string()
            ));
            let mut d = st.decider(&cx(tmp.path())).unwrap();
            let (refs, counts) = crate::testing::refs(1, 10);
            let mut v = Verdicts::new(&counts);
            d.observe(refs[0], b"p0", &mut v).unwrap();
            let e = d.finish(&mut v).err().unwrap().to_string();
            assert!(e.contains(want), "{set}: {e}");
        }
        for (bad, param) in [
            ("embeddings = \"e\"\ntest_sets = []", "test_sets"),
            (
                "embeddings = \"e\"\ntest_sets = [\"t\"]\nthreshold = 1.5",
                "threshold",
            ),
            (
                "embeddings = \"e\"\ntest_sets = [\"t\"]\nthreshold_list = [nan]",
                "threshold_list",
            ),
        ] {
            let e = toml::from_str::<SemanticDecontaminate>(bad)
                .unwrap()
                .build(&BuildCx::default())
                .err()
                .unwrap()
                .to_string();
            assert!(e.contains(param), "{bad}: {e}");
        }
    }
}
