//! Self-supervised prototype pruning (Sorscher et al. 2022, "Beyond neural scaling laws"):
//! k-means over the documents' embeddings, a document's difficulty is its distance to its
//! nearest centroid (the prototype), and the stage keeps the hardest (farthest) or easiest
//! (nearest) `fraction` of the documents, over all documents (`scope = "global"`, the paper)
//! or inside each cluster (`scope = "per_cluster"`, DeepCore's `SelfSupervisedPrototypes`,
//! the one users run; also D4's last step).
//!
//! Embeddings come from a store, as for `semantic_dedup` (`embeddings = "embed"`: this run's
//! `embed` stage; or a store folder); vectors are L2-normalized on read. Steps:
//!
//! 1. k-means exactly as `semantic_dedup` runs it (NeMo's cuVS loop on the unit vectors;
//!    `n_clusters`, `max_iter`, `tol`, `seed`, `init`, `init_sample`, `kmeans_sample`): after
//!    a `semantic_dedup` stage this *re-clusters* the survivors, as D4 does;
//! 2. distance to the assigned centroid, float64: `distance = "cosine"` (`1 - x.c/(|x||c|)`,
//!    scipy's `distance.cosine` as DeepCore computes it) or `"l2"` (`|x - c|`);
//! 3. documents in input order (per cluster: the cluster's members in input order) sorted by
//!    distance with a stable sort, farthest first for `keep = "hard"`, nearest first for
//!    `"easy"`; the first `round(count * fraction)` are kept (Python's `round`: half to even,
//!    as DeepCore), the rest dropped with reason `prototype_pruned`.
//!
//! Identical kept sets to a Python reference of DeepCore's rule and of the paper's global
//! rule, given the same embeddings and initial centroids (golden test,
//! `tests/golden/prototype_prune/make_golden.py`).
//!
//! Which to keep: the paper's theory says keep **hard** examples when data is abundant (the
//! usual case for pre-training corpora) and **easy** ones when it is scarce.
//!
//! Reports in `OUT/reports/prototype_prune/`: `decisions.jsonl` (input order: `id`,
//! `cluster`, `distance`, `kept`) and `summary.json` (parameters, k-means iterations and stop
//! reason, per-cluster sizes and kept counts).
//!
//! Memory: about 20 bytes per document plus its id; vectors are streamed from the store.
//!
//! Parameters: `embeddings` (required), `fraction` (required: the share kept, in (0, 1]),
//! `keep` (`"hard"`), `scope` (`"global"`), `distance` (`"cosine"`), `n_clusters` (100),
//! `max_iter` (300), `tol` (1e-4), `seed` (42), `init` (`"k-means++"`), `init_sample`
//! (20,000), `kmeans_sample` (all).
//!
//! ```toml
//! [[stage]]
//! type = "prototype_prune"
//! embeddings = "embed"
//! fraction = 0.5
//! keep = "hard"
//! scope = "per_cluster"
//! n_clusters = 1000
//! ```

use crate::dedup::semantic_dedup::Distance;
use crate::semantic::{
    Clustered, Gathered, Init, KMeansSpec, StoreRef, centroid_distances, summarize_id, summary_id,
};
use crate::{BuildCx, StageSpec, Step};
use datamill_core::{DecideCx, Decider, Doc, DocRef, GlobalStage, StageError, Verdicts};
use serde::Deserialize;

/// Which end of the distance ranking is kept.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Keep {
    /// Farthest from the prototype first (abundant data).
    #[default]
    Hard,
    /// Nearest to the prototype first (scarce data).
    Easy,
}

/// Where the `fraction` applies.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// One ranking of all documents (the paper).
    #[default]
    Global,
    /// `round(size * fraction)` of every cluster (DeepCore, D4).
    PerCluster,
}

/// The `prototype_prune` stage's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrototypePrune {
    /// The embedding store: an `embed` stage's name or a folder.
    pub embeddings: String,
    /// Share of the documents kept, in (0, 1].
    pub fraction: f64,
    /// Keep the hardest (farthest) or easiest (nearest) documents.
    #[serde(default)]
    pub keep: Keep,
    /// Rank all documents at once or inside each cluster.
    #[serde(default)]
    pub scope: Scope,
    /// Distance to the centroid.
    #[serde(default)]
    pub distance: Distance,
    /// k-means clusters.
    #[serde(default = "default_k")]
    pub n_clusters: usize,
    /// k-means iteration limit.
    #[serde(default = "default_max_iter")]
    pub max_iter: usize,
    /// k-means tolerance.
    #[serde(default = "default_tol")]
    pub tol: f64,
    /// Seed of the samples and the initialization.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// `"k-means++"`, `"random"` or a `.npy` file of centroids.
    #[serde(default = "default_init")]
    pub init: String,
    /// Documents k-means++ chooses from.
    #[serde(default = "default_init_sample")]
    pub init_sample: usize,
    /// Documents k-means trains on (default: all).
    pub kmeans_sample: Option<usize>,
}

fn default_k() -> usize {
    100
}
fn default_max_iter() -> usize {
    300
}
fn default_tol() -> f64 {
    1e-4
}
fn default_seed() -> u64 {
    42
}
fn default_init() -> String {
    "k-means++".into()
}
fn default_init_sample() -> usize {
    20_000
}

impl StageSpec for PrototypePrune {
    fn build(&self, cx: &BuildCx) -> Result<Step, StageError> {
        let store = StoreRef::parse(cx, &self.embeddings)?;
        if !(self.fraction > 0.0 && self.fraction <= 1.0) {
            return Err(StageError::config(
                "fraction",
                format!(
                    "{} must be in (0, 1]: the share of documents kept",
                    self.fraction
                ),
            ));
        }
        let init = KMeansSpec::check(
            cx,
            self.n_clusters,
            self.max_iter,
            self.tol,
            &self.init,
            self.init_sample,
            self.kmeans_sample,
        )?;
        Ok(Step::Global(Box::new(Built {
            c: self.clone(),
            store,
            init,
        })))
    }
}

struct Built {
    c: PrototypePrune,
    store: StoreRef,
    init: Init,
}

impl GlobalStage for Built {
    fn summarize(&self, doc: &Doc, out: &mut Vec<u8>) -> Result<(), StageError> {
        summarize_id(doc, out);
        Ok(())
    }

    fn decider(&self, cx: &DecideCx) -> Result<Box<dyn Decider + '_>, StageError> {
        Ok(Box::new(ProtoDecider {
            b: self,
            cx: cx.clone(),
            ids: Vec::new(),
            refs: Vec::new(),
        }))
    }
}

struct ProtoDecider<'a> {
    b: &'a Built,
    cx: DecideCx,
    ids: Vec<String>,
    refs: Vec<DocRef>,
}

/// `round(len * fraction)` with Python's rounding (half to even), as DeepCore counts.
fn quota(len: usize, fraction: f64) -> usize {
    (len as f64 * fraction).round_ties_even() as usize
}

/// The first `quota` of `rows` (input order) after a stable sort by distance, farthest first
/// for `hard`.
fn pick(rows: &mut [u32], dist: &[f64], keep: Keep, fraction: f64) -> usize {
    match keep {
        Keep::Hard => rows.sort_by(|&a, &b| dist[b as usize].total_cmp(&dist[a as usize])),
        Keep::Easy => rows.sort_by(|&a, &b| dist[a as usize].total_cmp(&dist[b as usize])),
    }
    quota(rows.len(), fraction)
}

impl Decider for ProtoDecider<'_> {
    fn observe(&mut self, at: DocRef, summary: &[u8], _: &mut Verdicts) -> Result<(), StageError> {
        self.ids
            .push(summary_id("prototype_prune", summary)?.to_string());
        self.refs.push(at);
        Ok(())
    }

    fn finish(&mut self, v: &mut Verdicts) -> Result<Option<Vec<u8>>, StageError> {
        if self.ids.is_empty() {
            return Ok(None);
        }
        let c = &self.b.c;
        let dir = self.b.store.dir(&self.cx)?;
        let g = Gathered::open(&dir, &self.ids)?;
        let spec = KMeansSpec {
            n_clusters: c.n_clusters,
            max_iter: c.max_iter,
            tol: c.tol,
            seed: c.seed,
            init: self.b.init.clone(),
            init_sample: c.init_sample,
            kmeans_sample: c.kmeans_sample,
            threads: self.cx.workers.max(1),
            stage: "prototype_prune",
        };
        let Clustered {
            km,
            labels,
            trained_on,
        } = spec.cluster(&g, &self.ids)?;
        let dist = centroid_distances(&g, &km.centroids, &labels, c.distance == Distance::Cosine)?;
        let n = self.ids.len();
        let mut kept = vec![false; n];
        let k = km.k();
        let mut sizes = vec![0u64; k];
        let mut kept_per = vec![0u64; k];
        match c.scope {
            Scope::Global => {
                let mut rows: Vec<u32> = (0..n as u32).collect();
                let q = pick(&mut rows, &dist, c.keep, c.fraction);
                for &r in &rows[..q] {
                    kept[r as usize] = true;
                }
            }
            Scope::PerCluster => {
                let mut members: Vec<Vec<u32>> = vec![Vec::new(); k];
                for (i, &l) in labels.iter().enumerate() {
                    members[l as usize].push(i as u32);
                }
                for m in &mut members {
                    let q = pick(m, &dist, c.keep, c.fraction);
                    for &r in &m[..q] {
                        kept[r as usize] = true;
                    }
                }
            }
        }
        let mut dec = self.cx.report.jsonl("decisions.jsonl")?;
        for i in 0..n {
            let l = labels[i] as usize;
            sizes[l] += 1;
            if kept[i] {
                kept_per[l] += 1;
            } else {
                v.drop(self.refs[i], "prototype_pruned");
            }
            dec.write(&serde_json::json!({
                "id": self.ids[i],
                "cluster": l,
                "distance": dist[i],
                "kept": kept[i],
            }))?;
        }
        dec.finish()?;
        let summary = serde_json::json!({
            "documents": n,
            "kept": kept.iter().filter(|&&k| k).count(),
            "store": dir,
            "params": {
                "fraction": c.fraction,
                "keep": format!("{:?}", c.keep).to_lowercase(),
                "scope": if c.scope == Scope::Global { "global" } else { "per_cluster" },
                "distance": format!("{:?}", c.distance).to_lowercase(),
                "n_clusters": c.n_clusters, "max_iter": c.max_iter, "tol": c.tol,
                "seed": c.seed, "init": c.init, "kmeans_sample": trained_on,
            },
            "kmeans": {"n_iter": km.n_iter, "stop": km.stop},
            "clusters": sizes.iter().zip(&kept_per)
                .map(|(s, k)| serde_json::json!({"size": s, "kept": k}))
                .collect::<Vec<_>>(),
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
    use std::path::{Path, PathBuf};

    fn golden() -> serde_json::Value {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden/prototype_prune/prototype_prune_samples.json");
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    }

    fn init_centroids() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/semantic_dedup/init_centroids.npy")
    }

    /// A store of `x` (`dim` wide) with ids `d0000`, `d0001`, ...
    fn store(dir: &Path, x: &[f32], dim: usize) -> Vec<String> {
        let mut w = StoreWriter::create(dir, dim, serde_json::Value::Null, false).unwrap();
        let ids: Vec<String> = (0..x.len() / dim).map(|i| format!("d{i:04}")).collect();
        for (id, r) in ids.iter().zip(x.chunks_exact(dim)) {
            w.push(id, r).unwrap();
        }
        w.finish().unwrap();
        ids
    }

    fn stage(src: &str) -> Box<dyn GlobalStage> {
        let c: PrototypePrune = toml::from_str(src).unwrap();
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

    fn kept_rows(d: &crate::testing::Decided) -> Vec<u64> {
        d.reasons()
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_none())
            .map(|(i, _)| i as u64)
            .collect()
    }

    #[test]
    fn same_kept_sets_as_the_deepcore_and_global_reference_on_the_samples() {
        let (x, _, d) = datamill_embed::testing::samples_matrix();
        let tmp = tempfile::tempdir().unwrap();
        let ids = store(&tmp.path().join("store"), &x, d);
        let summaries: Vec<Vec<u8>> = ids.iter().map(|i| i.as_bytes().to_vec()).collect();
        let g = golden();
        let runs = g["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 24);
        // The stage runs once per (scope, keep, distance), fractions taking turns (k-means
        // dominates the cost); every golden run is then checked on the reported clusters and
        // distances with the stage's own ranking rule.
        let mut reported: std::collections::HashMap<
            (String, String, String),
            Vec<serde_json::Value>,
        > = Default::default();
        for (n, run) in runs.iter().enumerate() {
            let key = (
                run["scope"].to_string(),
                run["keep"].to_string(),
                run["distance"].to_string(),
            );
            let want: Vec<u64> = run["kept"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .collect();
            let label = format!("{} {} {} {}", key.0, key.1, key.2, run["fraction"]);
            if !reported.contains_key(&key) && n % 3 == (n / 3) % 3 {
                let st = stage(&format!(
                    "embeddings = {:?}\nn_clusters = 24\ninit = {:?}\nkeep = {}\nscope = {}\n\
                     distance = {}\nfraction = {}",
                    tmp.path().join("store").display().to_string(),
                    init_centroids().display().to_string(),
                    run["keep"],
                    run["scope"],
                    run["distance"],
                    run["fraction"],
                ));
                let out = tmp.path().join(format!("run{n}"));
                let dec = decide(st.as_ref(), &summaries, 1000, &cx(&out));
                assert_eq!(kept_rows(&dec), want, "{label}");
                assert!(
                    dec.reasons()
                        .iter()
                        .flatten()
                        .all(|r| r == "prototype_pruned")
                );
                // Clusters and distances as the reference computed them.
                let rows: Vec<serde_json::Value> =
                    std::fs::read_to_string(out.join("report/decisions.jsonl"))
                        .unwrap()
                        .lines()
                        .map(|l| serde_json::from_str(l).unwrap())
                        .collect();
                let metric = run["distance"].as_str().unwrap();
                for (i, r) in rows.iter().enumerate() {
                    assert_eq!(r["cluster"], g["labels"][i], "doc {i}");
                    let (a, b) = (
                        r["distance"].as_f64().unwrap(),
                        g[metric][i].as_f64().unwrap(),
                    );
                    assert!((a - b).abs() < 1e-12, "doc {i}: {a} vs {b}");
                    assert_eq!(r["kept"], want.binary_search(&(i as u64)).is_ok());
                }
                reported.insert(key.clone(), rows);
            }
        }
        assert_eq!(reported.len(), 8);
        for run in runs {
            let key = (
                run["scope"].to_string(),
                run["keep"].to_string(),
                run["distance"].to_string(),
            );
            let rows = &reported[&key];
            let dist: Vec<f64> = rows
                .iter()
                .map(|r| r["distance"].as_f64().unwrap())
                .collect();
            let keep = if run["keep"] == "hard" {
                Keep::Hard
            } else {
                Keep::Easy
            };
            let fraction = run["fraction"].as_f64().unwrap();
            let mut groups: Vec<Vec<u32>> = if run["scope"] == "global" {
                vec![(0..rows.len() as u32).collect()]
            } else {
                let mut m = vec![Vec::new(); 24];
                for (i, r) in rows.iter().enumerate() {
                    m[r["cluster"].as_u64().unwrap() as usize].push(i as u32);
                }
                m
            };
            let mut kept: Vec<u64> = Vec::new();
            for m in &mut groups {
                let q = pick(m, &dist, keep, fraction);
                kept.extend(m[..q].iter().map(|&r| r as u64));
            }
            kept.sort_unstable();
            let want: Vec<u64> = run["kept"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .collect();
            assert_eq!(kept, want, "{key:?} {fraction}");
        }
    }

    #[test]
    fn the_quota_rounds_half_to_even_like_python() {
        assert_eq!(quota(5, 0.5), 2);
        assert_eq!(quota(7, 0.5), 4);
        assert_eq!(quota(3, 1.0), 3);
        assert_eq!(quota(1, 0.4), 0);
        // A stable sort: equal distances keep input order at both ends.
        let dist = [0.5, 0.1, 0.5, 0.9, 0.1];
        let mut r: Vec<u32> = (0..5).collect();
        assert_eq!(pick(&mut r, &dist, Keep::Hard, 0.6), 3);
        assert_eq!(r, [3, 0, 2, 1, 4]);
        let mut r: Vec<u32> = (0..5).collect();
        pick(&mut r, &dist, Keep::Easy, 0.6);
        assert_eq!(r, [1, 4, 0, 2, 3]);
    }

    #[test]
    fn bad_stores_and_parameters_are_clear_errors() {
        let tmp = tempfile::tempdir().unwrap();
        // NaN in a stored embedding: an error naming the document.
        let ids = store(&tmp.path().join("s"), &[1.0, 0.0, f32::NAN, 1.0], 2);
        let st = stage(&format!(
            "embeddings = {:?}\nn_clusters = 1\nfraction = 0.5",
            tmp.path().join("s").display().to_string()
        ));
        let mut d = st.decider(&cx(tmp.path())).unwrap();
        let (refs, counts) = crate::testing::refs(2, 10);
        let mut v = Verdicts::new(&counts);
        for (id, &at) in ids.iter().zip(&refs) {
            d.observe(at, id.as_bytes(), &mut v).unwrap();
        }
        let e = d.finish(&mut v).err().unwrap().to_string();
        assert!(e.contains("d0001"), "{e}");

        // Initial centroids of the wrong dimension (384 wide, the store is 2 wide).
        let ids = store(&tmp.path().join("s2"), &[1.0, 0.0, 0.0, 1.0], 2);
        let st = stage(&format!(
            "embeddings = {:?}\nn_clusters = 2\nfraction = 0.5\ninit = {:?}",
            tmp.path().join("s2").display().to_string(),
            init_centroids().display().to_string()
        ));
        let mut d = st.decider(&cx(tmp.path())).unwrap();
        for (id, &at) in ids.iter().zip(&refs) {
            d.observe(at, id.as_bytes(), &mut v).unwrap();
        }
        let e = d.finish(&mut v).err().unwrap().to_string();
        assert!(
            e.contains("init") && e.contains("init_centroids.npy"),
            "{e}"
        );

        // More clusters than documents.
        let st = stage(&format!(
            "embeddings = {:?}\nn_clusters = 3\nfraction = 0.5",
            tmp.path().join("s2").display().to_string()
        ));
        let mut d = st.decider(&cx(tmp.path())).unwrap();
        for (id, &at) in ids.iter().zip(&refs) {
            d.observe(at, id.as_bytes(), &mut v).unwrap();
        }
        let e = d.finish(&mut v).err().unwrap().to_string();
        assert!(e.contains("n_clusters"), "{e}");

        for (bad, param) in [
            ("embeddings = \"e\"\nfraction = 0", "fraction"),
            ("embeddings = \"e\"\nfraction = 1.5", "fraction"),
            ("embeddings = \"e\"\nfraction = nan", "fraction"),
            ("embeddings = \"\"\nfraction = 0.5", "embeddings"),
            (
                "embeddings = \"e\"\nfraction = 0.5\nn_clusters = 0",
                "n_clusters",
            ),
            (
                "embeddings = \"e\"\nfraction = 0.5\ninit_sample = 3\nn_clusters = 4",
                "init_sample",
            ),
        ] {
            let e = toml::from_str::<PrototypePrune>(bad)
                .unwrap()
                .build(&BuildCx::default())
                .err()
                .unwrap()
                .to_string();
            assert!(e.contains(param), "{bad}: {e}");
        }
        assert!(toml::from_str::<PrototypePrune>("embeddings = \"e\"").is_err());
    }
}
