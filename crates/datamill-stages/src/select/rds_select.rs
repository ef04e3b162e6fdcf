//! RDS+ selection (Ivison et al. 2025, "Large-Scale Data Selection for Instruction Tuning"):
//! keep the documents most similar to examples of the target tasks, taking turns between
//! tasks so that no task's score scale dominates.
//!
//! As hamishivi/automated-instruction-selection does it with the README's RDS+ settings
//! (`get_top_aggregated_influences.py --selection_method max`, round-robin across tasks —
//! called `minmax` in the script; its *default* `--selection_method min` is not RDS+):
//!
//! 1. `score(q, x)` = cosine of the L2-normalized embeddings of a target example `q` and a
//!    document `x` (float64);
//! 2. per task `t`, `a_t(x)` = the max over the task's examples; the documents sorted by
//!    `a_t` descending, stable (ties: input order);
//! 3. tasks take turns in the order of `targets`, each taking its best remaining document; a
//!    document another task already took does not count again (its score becomes the smaller
//!    of the two) and the task's turn is spent; a task with nothing left is skipped;
//! 4. until the budget: `documents`, `fraction` of the documents, or `token_budget` (summed
//!    `token_field`, default `"token_count"`; the first new document that does not fit ends
//!    the selection; documents without a numeric field are dropped as `tokens_missing`).
//!
//! Same selection, in the same order, as a Python port of that script on the samples (golden
//! test, `tests/golden/rds_select/make_golden.py`).
//!
//! Embeddings: the documents' store (`embeddings`: this run's `embed` stage or a folder), and
//! one store per task (`targets`, folders, in task order; the task is named after its folder):
//! embed each task's examples with the same model, e.g. by a run of `embed` over them. The
//! paper pools a Llama-2 model's last hidden states with position-weighted mean pooling; any
//! store of the right dimension works here. Dimension mismatches and NaN are errors naming the
//! store and row.
//!
//! Documents not selected are dropped as `rds_not_selected`. Reports in
//! `OUT/reports/rds_select/`: `decisions.jsonl` (input order: `id`, `selected`, `order` in the
//! selection, `score` = RDS score kept, `task` that took it, `scores` = `a_t` per task) and
//! `summary.json` (tasks with their example counts and documents taken, budget).
//!
//! Parameters: `embeddings` (required), `targets` (required, list of store folders), one of
//! `documents` / `fraction` / `token_budget`, `token_field` (`"token_count"`).
//!
//! ```toml
//! [[stage]]
//! type = "rds_select"
//! embeddings = "embed"
//! targets = ["stores/gsm8k", "stores/mmlu", "stores/codex"]
//! documents = 320000
//! ```

use crate::dedup::resolve;
use crate::semantic::{Budget, Gathered, StoreRef, max_similarity, open_reference, split_summary};
use crate::{BuildCx, StageSpec, Step};
use datamill_core::{DecideCx, Decider, Doc, DocRef, GlobalStage, StageError, Verdicts};
use serde::Deserialize;
use std::path::PathBuf;

/// The `rds_select` stage's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RdsSelect {
    /// The documents' embedding store: an `embed` stage's name or a folder.
    pub embeddings: String,
    /// One store of target-example embeddings per task, in task order.
    pub targets: Vec<String>,
    /// Budget: documents kept.
    pub documents: Option<u64>,
    /// Budget: share of the documents kept, in (0, 1].
    pub fraction: Option<f64>,
    /// Budget: summed tokens kept.
    pub token_budget: Option<u64>,
    /// Metadata field holding token counts.
    #[serde(default = "default_token_field")]
    pub token_field: String,
}

fn default_token_field() -> String {
    "token_count".into()
}

impl StageSpec for RdsSelect {
    fn build(&self, cx: &BuildCx) -> Result<Step, StageError> {
        let store = StoreRef::parse(cx, &self.embeddings)?;
        let budget = Budget::parse(
            self.documents,
            self.fraction,
            self.token_budget,
            &self.token_field,
        )?;
        if self.targets.is_empty() {
            return Err(StageError::config(
                "targets",
                "required: one embedding store folder per target task",
            ));
        }
        let mut targets = Vec::new();
        for t in &self.targets {
            if t.is_empty() {
                return Err(StageError::config("targets", "an empty folder name"));
            }
            targets.push(resolve(&cx.base_dir, t));
        }
        Ok(Step::Global(Box::new(Built {
            c: self.clone(),
            store,
            targets,
            budget,
        })))
    }
}

struct Built {
    c: RdsSelect,
    store: StoreRef,
    targets: Vec<PathBuf>,
    budget: Budget,
}

impl GlobalStage for Built {
    /// Token count (f64 LE, NaN = missing), then the id.
    fn summarize(&self, doc: &Doc, out: &mut Vec<u8>) -> Result<(), StageError> {
        self.budget.summarize_tokens(doc, &self.c.token_field, out);
        out.extend_from_slice(doc.id().as_bytes());
        Ok(())
    }

    fn decider(&self, cx: &DecideCx) -> Result<Box<dyn Decider + '_>, StageError> {
        Ok(Box::new(RdsDecider {
            b: self,
            cx: cx.clone(),
            ids: Vec::new(),
            tokens: Vec::new(),
            refs: Vec::new(),
        }))
    }
}

struct RdsDecider<'a> {
    b: &'a Built,
    cx: DecideCx,
    ids: Vec<String>,
    tokens: Vec<f64>,
    refs: Vec<DocRef>,
}

/// One selected document.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Pick {
    /// Input position.
    pub doc: usize,
    /// The smallest score any task took it with.
    pub score: f64,
    /// The task that took it first.
    pub task: usize,
}

/// RDS+ round-robin over tasks: `scores[t][doc]` = task t's aggregated score. `fits(doc)` is
/// asked before a new document is added and may refuse, which ends the selection; `limit`
/// bounds the number of documents.
pub(crate) fn round_robin(
    scores: &[Vec<f64>],
    limit: usize,
    mut fits: impl FnMut(usize) -> bool,
) -> Vec<Pick> {
    let n = scores.first().map_or(0, Vec::len);
    let orders: Vec<Vec<u32>> = scores
        .iter()
        .map(|s| {
            let mut o: Vec<u32> = (0..n as u32).collect();
            o.sort_by(|&a, &b| s[b as usize].total_cmp(&s[a as usize]));
            o
        })
        .collect();
    let mut next = vec![0usize; scores.len()];
    let mut at: Vec<Option<usize>> = vec![None; n];
    let mut picks: Vec<Pick> = Vec::new();
    'outer: while picks.len() < limit {
        let mut any = false;
        for t in 0..scores.len() {
            if picks.len() >= limit {
                break 'outer;
            }
            let Some(&doc) = orders[t].get(next[t]) else {
                continue;
            };
            any = true;
            next[t] += 1;
            let doc = doc as usize;
            let s = scores[t][doc];
            match at[doc] {
                Some(p) => picks[p].score = picks[p].score.min(s),
                None => {
                    if !fits(doc) {
                        break 'outer;
                    }
                    at[doc] = Some(picks.len());
                    picks.push(Pick {
                        doc,
                        score: s,
                        task: t,
                    });
                }
            }
        }
        if !any {
            break;
        }
    }
    picks
}

impl Decider for RdsDecider<'_> {
    fn observe(&mut self, at: DocRef, summary: &[u8], v: &mut Verdicts) -> Result<(), StageError> {
        let (t, id) = split_summary("rds_select", summary)?;
        let Some(t) = t else {
            v.drop(at, "tokens_missing");
            return Ok(());
        };
        self.ids.push(id.to_string());
        self.tokens.push(t);
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
        let mut scores = Vec::new();
        let mut tasks = Vec::new();
        for t in &self.b.targets {
            let r = open_reference(t, d, "targets")?;
            let (best, _) = max_similarity(&g, &r)?;
            scores.push(best);
            tasks.push((
                t.file_name()
                    .map_or_else(|| t.display().to_string(), |f| f.to_string_lossy().into()),
                r.len(),
            ));
        }
        let picks = match self.b.budget {
            Budget::Documents(k) => round_robin(&scores, k as usize, |_| true),
            Budget::Fraction(f) => round_robin(&scores, (n as f64 * f).round() as usize, |_| true),
            Budget::Tokens(budget) => {
                let mut spent = 0f64;
                round_robin(&scores, n, |doc| {
                    let t = self.tokens[doc];
                    if spent + t <= budget as f64 {
                        spent += t;
                        true
                    } else {
                        false
                    }
                })
            }
        };
        let mut pos: Vec<Option<usize>> = vec![None; n];
        let mut taken = vec![0u64; tasks.len()];
        for (r, p) in picks.iter().enumerate() {
            pos[p.doc] = Some(r);
            taken[p.task] += 1;
        }
        let mut dec = self.cx.report.jsonl("decisions.jsonl")?;
        for i in 0..n {
            let p = pos[i].map(|r| picks[r]);
            if p.is_none() {
                v.drop(self.refs[i], "rds_not_selected");
            }
            dec.write(&serde_json::json!({
                "id": self.ids[i],
                "selected": p.is_some(),
                "order": pos[i],
                "score": p.map(|p| p.score),
                "task": p.map(|p| &tasks[p.task].0),
                "scores": scores.iter().map(|s| s[i]).collect::<Vec<_>>(),
            }))?;
        }
        dec.finish()?;
        let summary = serde_json::json!({
            "documents": n,
            "selected": picks.len(),
            "store": dir,
            "tasks": tasks.iter().zip(&taken).zip(&self.b.targets).map(|(((name, q), k), p)| {
                serde_json::json!({"task": name, "store": p, "examples": q, "taken": k})
            }).collect::<Vec<_>>(),
            "budget": match self.b.budget {
                Budget::Documents(k) => serde_json::json!({"documents": k}),
                Budget::Fraction(f) => serde_json::json!({"fraction": f}),
                Budget::Tokens(t) => serde_json::json!({"tokens": t, "token_field": self.b.c.token_field}),
            },
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

    fn store_rows(dir: &Path, x: &[f32], dim: usize, rows: &[usize], prefix: &str) -> Vec<String> {
        let mut w = StoreWriter::create(dir, dim, serde_json::Value::Null, false).unwrap();
        let mut ids = Vec::new();
        for &r in rows {
            let id = format!("{prefix}{r:04}");
            w.push(&id, &x[r * dim..(r + 1) * dim]).unwrap();
            ids.push(id);
        }
        w.finish().unwrap();
        ids
    }

    fn stage(src: &str) -> Box<dyn GlobalStage> {
        let c: RdsSelect = toml::from_str(src).unwrap();
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

    fn summaries(ids: &[String], tokens: Option<&[f64]>) -> Vec<Vec<u8>> {
        ids.iter()
            .enumerate()
            .map(|(i, id)| {
                let mut s = tokens.map_or(0.0, |t| t[i]).to_le_bytes().to_vec();
                s.extend_from_slice(id.as_bytes());
                s
            })
            .collect()
    }

    #[test]
    fn same_selection_as_the_rds_plus_script_on_the_samples() {
        let (x, n, d) = datamill_embed::testing::samples_matrix();
        let tmp = tempfile::tempdir().unwrap();
        let ids = store_rows(
            &tmp.path().join("pool"),
            &x,
            d,
            &(0..n).collect::<Vec<_>>(),
            "d",
        );
        let g: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/golden/rds_select/rds_select_samples.json"),
            )
            .unwrap(),
        )
        .unwrap();
        for (name, rows) in g["tasks"].as_object().unwrap() {
            let rows: Vec<usize> = rows
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect();
            store_rows(&tmp.path().join(name), &x, d, &rows, "q");
        }
        for (k, run) in g["runs"].as_array().unwrap().iter().enumerate() {
            let targets: Vec<String> = run["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| tmp.path().join(t.as_str().unwrap()).display().to_string())
                .collect();
            let st = stage(&format!(
                "embeddings = {:?}\ntargets = {targets:?}\ndocuments = {}",
                tmp.path().join("pool").display().to_string(),
                run["output_size"]
            ));
            let out = tmp.path().join(format!("run{k}"));
            let dec = decide(st.as_ref(), &summaries(&ids, None), 1000, &cx(&out));
            let rows: Vec<serde_json::Value> =
                std::fs::read_to_string(out.join("report/decisions.jsonl"))
                    .unwrap()
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect();
            let mut got: Vec<(u64, usize, f64)> = rows
                .iter()
                .enumerate()
                .filter(|(_, r)| r["selected"] == true)
                .map(|(i, r)| {
                    (
                        r["order"].as_u64().unwrap(),
                        i,
                        r["score"].as_f64().unwrap(),
                    )
                })
                .collect();
            got.sort_by_key(|p| p.0);
            let want = run["selected"].as_array().unwrap();
            assert_eq!(got.len(), want.len());
            for ((_, i, s), w) in got.iter().zip(want) {
                assert_eq!(
                    *i as u64,
                    w[0].as_u64().unwrap(),
                    "run {k}: selection order"
                );
                assert!((s - w[1].as_f64().unwrap()).abs() < 1e-9, "run {k}: score");
            }
            let kept = dec.reasons().iter().filter(|r| r.is_none()).count();
            assert_eq!(kept as u64, run["output_size"].as_u64().unwrap());
        }
    }

    #[test]
    fn round_robin_counts_a_repeat_once_and_keeps_the_smaller_score() {
        // Task 0 prefers 0 then 1; task 1 prefers 0 then 2.
        let scores = vec![vec![0.9, 0.8, 0.1, 0.0], vec![0.7, 0.1, 0.6, 0.0]];
        let p = round_robin(&scores, 3, |_| true);
        let docs: Vec<usize> = p.iter().map(|p| p.doc).collect();
        // t0 takes 0; t1 pops 0 again (repeat: no count, score min(0.9, 0.7)); t0 takes 1;
        // t1 takes 2.
        assert_eq!(docs, [0, 1, 2]);
        assert_eq!(p[0].score, 0.7);
        assert_eq!((p[0].task, p[2].task), (0, 1));
        // Ties keep input order; exhausted pools end the selection.
        let p = round_robin(&[vec![0.5, 0.5, 0.5]], 10, |_| true);
        assert_eq!(p.iter().map(|p| p.doc).collect::<Vec<_>>(), [0, 1, 2]);
        // A refusal ends it.
        let p = round_robin(&scores, 4, |d| d != 1);
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn bad_targets_and_budgets_are_clear_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let x: Vec<f32> = vec![1.0, 0.0, 0.0, 1.0, 0.5, 0.5];
        let ids = store_rows(&tmp.path().join("pool"), &x, 2, &[0, 1, 2], "d");
        // A target store of another dimension.
        let wide: Vec<f32> = vec![1.0, 0.0, 0.0];
        store_rows(&tmp.path().join("wide"), &wide, 3, &[0], "q");
        // A target store holding NaN.
        store_rows(&tmp.path().join("nan"), &[f32::NAN, 1.0], 2, &[0], "q");
        for (target, want) in [
            ("wide", "3-dimensional"),
            ("nan", "q0000"),
            ("missing", "missing"),
        ] {
            let st = stage(&format!(
                "embeddings = {:?}\ntargets = [{:?}]\ndocuments = 1",
                tmp.path().join("pool").display().to_string(),
                tmp.path().join(target).display().to_string()
            ));
            let mut dc = st.decider(&cx(tmp.path())).unwrap();
            let (refs, counts) = crate::testing::refs(3, 10);
            let mut v = Verdicts::new(&counts);
            for (s, &at) in summaries(&ids, None).iter().zip(&refs) {
                dc.observe(at, s, &mut v).unwrap();
            }
            let e = dc.finish(&mut v).err().unwrap().to_string();
            assert!(e.contains(want), "{target}: {e}");
        }
        for (bad, param) in [
            ("embeddings = \"e\"\ntargets = []\ndocuments = 1", "targets"),
            ("embeddings = \"e\"\ntargets = [\"t\"]", "budget"),
            (
                "embeddings = \"e\"\ntargets = [\"t\"]\nfraction = 2.0",
                "fraction",
            ),
        ] {
            let e = toml::from_str::<RdsSelect>(bad)
                .unwrap()
                .build(&BuildCx::default())
                .err()
                .unwrap()
                .to_string();
            assert!(e.contains(param), "{bad}: {e}");
        }
    }
}
