//! Diversity selection by facility location (INGENIOUS, Renduchintala et al. 2023; submodlib):
//! inside each partition P of the documents, choose S greedily to maximize
//! `f(S) = sum_{i in P} max(0, max_{j in S} cos(i, j))` — every document of the partition
//! should have a selected document that resembles it — and keep S.
//!
//! - **Greedy** is Minoux's lazy greedy: stale gains are upper bounds (submodularity), so a
//!   candidate whose gain was recomputed after the last pick and still leads is the argmax.
//!   The picks are exactly naive greedy's (ties: the later input position, as submodlib's
//!   `NaiveGreedy` breaks them), with its
//!   `(1 - 1/e)` guarantee. Gains are float64 on the L2-normalized vectors; every document's
//!   nearest similarity starts at 0 (submodlib's convention: negative similarities add
//!   nothing). Same picks and gains as submodlib's `FacilityLocationFunction` +
//!   `NaiveGreedy` on the samples (golden test, `tests/golden/diversity_select/make_golden.py`;
//!   submodlib's float32 kernel flips one near-tie, gains 1.77310874 vs 1.77310873).
//! - **Partitions** (for scale: a partition's kernel is |P|^2 float64): `partition =
//!   "kmeans"` (the default; k-means exactly as `semantic_dedup` runs it, `n_clusters`
//!   clusters), `"random"` (INGENIOUS's random partitions: documents ordered by a seeded hash of
//!   their id, cut into `n_clusters` parts of equal size ±1) or `"none"` (one partition). A
//!   partition whose kernel exceeds `memory` (else the run's `--memory`, else 4 GiB) is an
//!   error that names it: raise `n_clusters`.
//! - **Budget**, exactly one of: `documents` (a count), `fraction` (of the documents), or
//!   `token_budget` (summed `token_field`, default `"token_count"`: see the `token_count`
//!   stage; documents without a numeric field are dropped as `tokens_missing`). It is shared by
//!   the partitions in proportion to their size (documents) or tokens: `floor(B |P| / N)` each,
//!   the remainder one by one to the largest remainders (lower partition first on ties). With
//!   a token budget, a partition's greedy picks stop at the first that does not fit.
//!
//! Documents not selected are dropped as `diversity_not_selected`. Reports in
//! `OUT/reports/diversity_select/`: `decisions.jsonl` (input order: `id`, `partition`,
//! `selected`, `order` = position in its partition's greedy order, `gain` = marginal gain
//! when picked) and `summary.json` (parameters, per partition size, quota, picks, objective
//! `f(S)`).
//!
//! Parameters: `embeddings` (required), one of `documents` / `fraction` / `token_budget`,
//! `token_field` (`"token_count"`), `partition` (`"kmeans"`), `n_clusters` (100), `max_iter`
//! (300), `tol` (1e-4), `seed` (42), `init` (`"k-means++"`), `init_sample` (20,000),
//! `kmeans_sample` (all), `memory`.
//!
//! ```toml
//! [[stage]]
//! type = "diversity_select"
//! embeddings = "embed"
//! fraction = 0.25
//! n_clusters = 1000
//!
//! [[stage]]
//! type = "diversity_select"
//! embeddings = "embed"
//! token_budget = 1000000
//! partition = "random"
//! n_clusters = 5000
//! ```

use crate::semantic::{
    Budget, Clustered, Gathered, Init, KMeansSpec, StoreRef, emb_err, read_normalized,
    split_summary,
};
use crate::{BuildCx, StageSpec, Step};
use datamill_core::{ByteSize, DecideCx, Decider, Doc, DocRef, GlobalStage, StageError, Verdicts};
use serde::Deserialize;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// How documents are partitioned before the greedy selection.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Partition {
    /// k-means clusters.
    #[default]
    Kmeans,
    /// Seeded random parts of equal size.
    Random,
    /// One partition of every document.
    None,
}

/// The `diversity_select` stage's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiversitySelect {
    /// The embedding store: an `embed` stage's name or a folder.
    pub embeddings: String,
    /// Budget: documents kept.
    pub documents: Option<u64>,
    /// Budget: share of the documents kept, in (0, 1].
    pub fraction: Option<f64>,
    /// Budget: summed tokens kept.
    pub token_budget: Option<u64>,
    /// Metadata field holding token counts.
    #[serde(default = "default_token_field")]
    pub token_field: String,
    /// Partitions.
    #[serde(default)]
    pub partition: Partition,
    /// Partitions: k-means clusters or random parts.
    #[serde(default = "default_k")]
    pub n_clusters: usize,
    /// k-means iteration limit.
    #[serde(default = "default_max_iter")]
    pub max_iter: usize,
    /// k-means tolerance.
    #[serde(default = "default_tol")]
    pub tol: f64,
    /// Seed of the samples, the initialization and the random partitions.
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
    /// Largest kernel of one partition (overrides `--memory`).
    pub memory: Option<ByteSize>,
}

fn default_token_field() -> String {
    "token_count".into()
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

impl StageSpec for DiversitySelect {
    fn build(&self, cx: &BuildCx) -> Result<Step, StageError> {
        let store = StoreRef::parse(cx, &self.embeddings)?;
        let budget = Budget::parse(
            self.documents,
            self.fraction,
            self.token_budget,
            &self.token_field,
        )?;
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
            budget,
        })))
    }
}

struct Built {
    c: DiversitySelect,
    store: StoreRef,
    init: Init,
    budget: Budget,
}

impl GlobalStage for Built {
    /// The token count (f64 little-endian; NaN = missing), then the id.
    fn summarize(&self, doc: &Doc, out: &mut Vec<u8>) -> Result<(), StageError> {
        self.budget.summarize_tokens(doc, &self.c.token_field, out);
        out.extend_from_slice(doc.id().as_bytes());
        Ok(())
    }

    fn decider(&self, cx: &DecideCx) -> Result<Box<dyn Decider + '_>, StageError> {
        Ok(Box::new(DivDecider {
            b: self,
            cx: cx.clone(),
            ids: Vec::new(),
            tokens: Vec::new(),
            refs: Vec::new(),
        }))
    }
}

struct DivDecider<'a> {
    b: &'a Built,
    cx: DecideCx,
    ids: Vec<String>,
    tokens: Vec<f64>,
    refs: Vec<DocRef>,
}

/// Shares `budget` among parts of the given `weights` (sizes or tokens): `floor(B w / W)`
/// each, the remainder one unit at a time to the largest remainders, lower part first.
pub(crate) fn shares(weights: &[u64], budget: u64) -> Vec<u64> {
    let total: u128 = weights.iter().map(|&w| w as u128).sum();
    if total == 0 {
        return vec![0; weights.len()];
    }
    if budget as u128 >= total {
        return weights.to_vec();
    }
    let b = budget as u128;
    let mut out: Vec<u64> = weights
        .iter()
        .map(|&w| (b * w as u128 / total) as u64)
        .collect();
    let given: u64 = out.iter().sum();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&p| (std::cmp::Reverse(b * weights[p] as u128 % total), p));
    for &p in order.iter().take((budget - given) as usize) {
        out[p] += 1;
    }
    out
}

/// A candidate in the lazy-greedy queue: larger gain first, then the later position (as
/// submodlib breaks ties).
struct Cand {
    gain: f64,
    pos: u32,
    /// Picks made when `gain` was computed.
    stamp: u32,
}

impl PartialEq for Cand {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Cand {}
impl PartialOrd for Cand {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Cand {
    fn cmp(&self, o: &Self) -> Ordering {
        self.gain
            .total_cmp(&o.gain)
            .then_with(|| self.pos.cmp(&o.pos))
    }
}

/// Lazy greedy facility location over the `n x n` similarity `kernel` (row-major,
/// symmetric): picks positions while `more(position)` allows (it is asked before each pick
/// and may refuse, which ends the selection), returning `(position, gain)` in greedy order.
pub(crate) fn lazy_greedy(
    kernel: &[f64],
    n: usize,
    mut more: impl FnMut(usize) -> bool,
) -> Vec<(usize, f64)> {
    let gain = |j: usize, cur: &[f64]| -> f64 {
        kernel[j * n..(j + 1) * n]
            .iter()
            .zip(cur)
            .map(|(&s, &c)| (s - c).max(0.0))
            .sum()
    };
    let mut cur = vec![0f64; n];
    let mut heap: BinaryHeap<Cand> = (0..n)
        .map(|j| Cand {
            gain: gain(j, &cur),
            pos: j as u32,
            stamp: 0,
        })
        .collect();
    let mut picked = Vec::new();
    while let Some(top) = heap.pop() {
        if top.stamp as usize == picked.len() {
            let j = top.pos as usize;
            if !more(j) {
                break;
            }
            for (c, &s) in cur.iter_mut().zip(&kernel[j * n..(j + 1) * n]) {
                *c = c.max(s);
            }
            picked.push((j, top.gain));
        } else {
            let j = top.pos as usize;
            heap.push(Cand {
                gain: gain(j, &cur),
                pos: top.pos,
                stamp: picked.len() as u32,
            });
        }
    }
    picked
}

impl Decider for DivDecider<'_> {
    fn observe(&mut self, at: DocRef, summary: &[u8], v: &mut Verdicts) -> Result<(), StageError> {
        let (t, id) = split_summary("diversity_select", summary)?;
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
        let c = &self.b.c;
        let n = self.ids.len();
        let dir = self.b.store.dir(&self.cx)?;
        let g = Gathered::open(&dir, &self.ids)?;
        let d = g.store.meta().dim;
        // Partitions: members in input order.
        let (parts, kmeans): (Vec<Vec<u32>>, Option<serde_json::Value>) = match c.partition {
            Partition::None => (vec![(0..n as u32).collect()], None),
            Partition::Random => {
                let k = c.n_clusters.min(n);
                let mut order: Vec<(u64, u32)> = self
                    .ids
                    .iter()
                    .enumerate()
                    .map(|(i, id)| {
                        (
                            xxhash_rust::xxh3::xxh3_64_with_seed(id.as_bytes(), c.seed),
                            i as u32,
                        )
                    })
                    .collect();
                order.sort_unstable();
                let mut parts = Vec::with_capacity(k);
                let mut s = 0;
                for p in 0..k {
                    let len = n / k + usize::from(p < n % k);
                    let mut m: Vec<u32> = order[s..s + len].iter().map(|x| x.1).collect();
                    m.sort_unstable();
                    parts.push(m);
                    s += len;
                }
                (parts, None)
            }
            Partition::Kmeans => {
                let spec = KMeansSpec {
                    n_clusters: c.n_clusters,
                    max_iter: c.max_iter,
                    tol: c.tol,
                    seed: c.seed,
                    init: self.b.init.clone(),
                    init_sample: c.init_sample,
                    kmeans_sample: c.kmeans_sample,
                    threads: self.cx.workers.max(1),
                    stage: "diversity_select",
                };
                let Clustered {
                    km,
                    labels,
                    trained_on,
                } = spec.cluster(&g, &self.ids)?;
                let mut parts = vec![Vec::new(); km.k()];
                for (i, &l) in labels.iter().enumerate() {
                    parts[l as usize].push(i as u32);
                }
                let info = serde_json::json!({
                    "n_iter": km.n_iter, "stop": km.stop, "kmeans_sample": trained_on,
                });
                (parts, Some(info))
            }
        };
        // Quotas.
        let (weights, budget): (Vec<u64>, u64) = match self.b.budget {
            Budget::Documents(k) => (parts.iter().map(|p| p.len() as u64).collect(), k),
            Budget::Fraction(f) => (
                parts.iter().map(|p| p.len() as u64).collect(),
                (n as f64 * f).round() as u64,
            ),
            Budget::Tokens(t) => (
                parts
                    .iter()
                    .map(|p| p.iter().map(|&i| self.tokens[i as usize] as u64).sum())
                    .collect(),
                t,
            ),
        };
        let quota = shares(&weights, budget);
        let limit = c
            .memory
            .map(|m| m.0)
            .or(self.cx.memory_budget)
            .unwrap_or(4 << 30);
        let mut order = vec![u32::MAX; n];
        let mut gains = vec![f64::NAN; n];
        let mut part_of = vec![0u32; n];
        let mut rows_report = Vec::with_capacity(parts.len());
        let mut buf = Vec::new();
        for (p, m) in parts.iter().enumerate() {
            for &i in m {
                part_of[i as usize] = p as u32;
            }
            let len = m.len();
            let need = (len as u64) * (len as u64) * 8 + (len * d * 8) as u64;
            if quota[p] > 0 && need > limit {
                return Err(StageError::Other(format!(
                    "diversity_select: partition {p} holds {len} documents: its similarity \
                     kernel needs {} MiB, over the memory budget of {} MiB; raise n_clusters \
                     (or memory)",
                    need >> 20,
                    limit >> 20
                )));
            }
            let picks = if quota[p] == 0 || len == 0 {
                Vec::new()
            } else {
                let rows: Vec<u64> = m.iter().map(|&i| g.rows[i as usize]).collect();
                read_normalized(&g.store, &rows, &mut buf).map_err(emb_err)?;
                let x: Vec<f64> = buf.iter().map(|&v| v as f64).collect();
                let mut kernel = vec![0f64; len * len];
                datamill_embed::kmeans::dot_rows(&x, len, d, &x, len, &mut kernel);
                let q = quota[p];
                let mut taken = 0u64;
                match self.b.budget {
                    Budget::Tokens(_) => lazy_greedy(&kernel, len, |j| {
                        let t = self.tokens[m[j] as usize] as u64;
                        if taken + t <= q {
                            taken += t;
                            true
                        } else {
                            false
                        }
                    }),
                    _ => lazy_greedy(&kernel, len, |_| {
                        taken += 1;
                        taken <= q
                    }),
                }
            };
            let objective: f64 = picks.iter().map(|x| x.1).sum();
            for (r, &(j, gain)) in picks.iter().enumerate() {
                order[m[j] as usize] = r as u32;
                gains[m[j] as usize] = gain;
            }
            rows_report.push(serde_json::json!({
                "size": len, "quota": quota[p], "selected": picks.len(), "objective": objective,
            }));
        }
        let mut dec = self.cx.report.jsonl("decisions.jsonl")?;
        let mut kept = 0u64;
        for i in 0..n {
            let sel = order[i] != u32::MAX;
            if sel {
                kept += 1;
            } else {
                v.drop(self.refs[i], "diversity_not_selected");
            }
            dec.write(&serde_json::json!({
                "id": self.ids[i],
                "partition": part_of[i],
                "selected": sel,
                "order": if sel { Some(order[i]) } else { None },
                "gain": if sel { Some(gains[i]) } else { None },
            }))?;
        }
        dec.finish()?;
        let summary = serde_json::json!({
            "documents": n,
            "selected": kept,
            "store": dir,
            "params": {
                "budget": match self.b.budget {
                    Budget::Documents(k) => serde_json::json!({"documents": k}),
                    Budget::Fraction(f) => serde_json::json!({"fraction": f, "documents": budget}),
                    Budget::Tokens(t) => serde_json::json!({"tokens": t, "token_field": c.token_field}),
                },
                "partition": format!("{:?}", c.partition).to_lowercase(),
                "n_clusters": c.n_clusters, "seed": c.seed, "init": c.init,
            },
            "kmeans": kmeans,
            "partitions": rows_report,
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
            .join("tests/golden/diversity_select/diversity_select_samples.json");
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    }

    fn init_centroids() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/semantic_dedup/init_centroids.npy")
    }

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
        let c: DiversitySelect = toml::from_str(src).unwrap();
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

    fn rows_of(dir: &Path) -> Vec<serde_json::Value> {
        std::fs::read_to_string(dir.join("report/decisions.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Golden picks `[(row, gain)]` against the report's picks of the same rows, in order.
    /// submodlib's kernel is float32: where two candidates' gains are within its rounding
    /// (a near-tie), its pick may differ from the float64 one. Then the gains at that step
    /// must agree to 5e-5 and the objectives (sums of gains) to 5e-5 relative; returns
    /// whether that happened.
    fn same_picks(want: &serde_json::Value, got: &[(usize, f64)], what: &str) -> bool {
        let want: Vec<(usize, f64)> = want
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_u64().unwrap() as usize, p[1].as_f64().unwrap()))
            .collect();
        assert_eq!(got.len(), want.len(), "{what}: picks");
        let close = |a: f64, b: f64| (a - b).abs() <= 5e-5 * b.abs().max(1.0);
        for (step, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(
                close(g.1, w.1),
                "{what} step {step}: gain {} vs {}",
                g.1,
                w.1
            );
            if g.0 != w.0 {
                let (a, b): (f64, f64) = (
                    got.iter().map(|p| p.1).sum(),
                    want.iter().map(|p| p.1).sum(),
                );
                assert!(close(a, b), "{what}: objective {a} vs {b}");
                return true;
            }
        }
        false
    }

    /// The report's picks of the rows `members`, in greedy order.
    fn picks(
        rows: &[serde_json::Value],
        members: impl Iterator<Item = usize>,
    ) -> Vec<(usize, f64)> {
        let mut p: Vec<(u64, usize, f64)> = members
            .filter(|&i| rows[i]["selected"] == true)
            .map(|i| {
                (
                    rows[i]["order"].as_u64().unwrap(),
                    i,
                    rows[i]["gain"].as_f64().unwrap(),
                )
            })
            .collect();
        p.sort_by_key(|x| x.0);
        p.into_iter().map(|x| (x.1, x.2)).collect()
    }

    #[test]
    fn same_picks_as_submodlib_naive_greedy_on_the_samples() {
        let (x, _, d) = datamill_embed::testing::samples_matrix();
        let g = golden();
        let tmp = tempfile::tempdir().unwrap();

        // One partition of the first 600 documents, 60 picks.
        let whole = &g["runs"][0];
        let ids = store(&tmp.path().join("s600"), &x[..600 * d], d);
        let st = stage(&format!(
            "embeddings = {:?}\npartition = \"none\"\ndocuments = 60",
            tmp.path().join("s600").display().to_string()
        ));
        let out = tmp.path().join("whole");
        let dec = decide(st.as_ref(), &summaries(&ids, None), 250, &cx(&out));
        let rows = rows_of(&out);
        assert!(
            !same_picks(
                &whole["partitions"][0]["selected"],
                &picks(&rows, 0..600),
                "whole",
            ),
            "whole: same greedy order"
        );
        assert_eq!(dec.reasons().iter().filter(|r| r.is_none()).count(), 60);

        // k-means partitions of all documents, 391 picks shared by size.
        let km = &g["runs"][1];
        let ids = store(&tmp.path().join("all"), &x, d);
        let st = stage(&format!(
            "embeddings = {:?}\nn_clusters = 24\ninit = {:?}\ndocuments = 391",
            tmp.path().join("all").display().to_string(),
            init_centroids().display().to_string(),
        ));
        let out = tmp.path().join("kmeans");
        let dec = decide(st.as_ref(), &summaries(&ids, None), 1000, &cx(&out));
        let rows = rows_of(&out);
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(r["partition"], km["labels"][i], "doc {i}");
        }
        for (p, part) in km["partitions"].as_array().unwrap().iter().enumerate() {
            let members = (0..rows.len()).filter(|&i| rows[i]["partition"] == p);
            same_picks(
                &part["selected"],
                &picks(&rows, members),
                &format!("partition {p}"),
            );
        }
        assert_eq!(dec.reasons().iter().filter(|r| r.is_none()).count(), 391);
        assert!(
            dec.reasons()
                .iter()
                .flatten()
                .all(|r| r == "diversity_not_selected")
        );
    }

    /// Lazy greedy = naive greedy (last position on ties), on a random kernel with ties.
    #[test]
    fn lazy_greedy_picks_what_naive_greedy_picks() {
        let n = 40;
        let d = 5;
        let mut h = 7u64;
        let mut x: Vec<f64> = (0..n * d)
            .map(|_| {
                h = h
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((h >> 33) as f64 / (1u64 << 31) as f64) - 0.5
            })
            .collect();
        // Two exact duplicates make ties.
        for k in 0..d {
            x[7 * d + k] = x[3 * d + k];
            x[20 * d + k] = x[3 * d + k];
        }
        let mut kern = vec![0f64; n * n];
        datamill_embed::kmeans::dot_rows(&x, n, d, &x, n, &mut kern);
        let lazy = lazy_greedy(&kern, n, |_| true);
        let mut cur = vec![0f64; n];
        let mut taken = vec![false; n];
        for (step, &(j, g)) in lazy.iter().enumerate() {
            let mut best = (f64::NEG_INFINITY, 0);
            for c in 0..n {
                if taken[c] {
                    continue;
                }
                let gc: f64 = (0..n).map(|i| (kern[c * n + i] - cur[i]).max(0.0)).sum();
                if gc >= best.0 {
                    best = (gc, c);
                }
            }
            assert_eq!((j, g), (best.1, best.0), "step {step}");
            taken[j] = true;
            for i in 0..n {
                cur[i] = cur[i].max(kern[j * n + i]);
            }
        }
        assert_eq!(lazy.len(), n);
    }

    #[test]
    fn budgets_are_shared_by_largest_remainder() {
        assert_eq!(shares(&[5, 3, 2], 5), [3, 1, 1]);
        assert_eq!(shares(&[1, 1, 1], 2), [1, 1, 0]);
        assert_eq!(shares(&[4, 0], 10), [4, 0]);
        assert_eq!(shares(&[], 3), Vec::<u64>::new());
        assert_eq!(shares(&[10, 10], 7).iter().sum::<u64>(), 7);
    }

    #[test]
    fn a_token_budget_stops_at_the_first_pick_that_does_not_fit() {
        let (x, _, d) = datamill_embed::testing::samples_matrix();
        let tmp = tempfile::tempdir().unwrap();
        let ids = store(&tmp.path().join("s"), &x[..200 * d], d);
        let mut tokens: Vec<f64> = (0..200).map(|i| (10 + i % 50) as f64).collect();
        tokens[5] = f64::NAN;
        let st = stage(&format!(
            "embeddings = {:?}\npartition = \"random\"\nn_clusters = 4\ntoken_budget = 2000",
            tmp.path().join("s").display().to_string()
        ));
        let dec = decide(
            st.as_ref(),
            &summaries(&ids, Some(&tokens)),
            64,
            &cx(tmp.path()),
        );
        let r = dec.reasons();
        assert_eq!(r[5].as_deref(), Some("tokens_missing"));
        let spent: f64 = (0..200)
            .filter(|&i| r[i].is_none())
            .map(|i| tokens[i])
            .sum();
        assert!(spent <= 2000.0 && spent > 1500.0, "{spent}");
        let summary: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(tmp.path().join("report/summary.json")).unwrap(),
        )
        .unwrap();
        let parts = summary["partitions"].as_array().unwrap();
        assert_eq!(parts.len(), 4);
        assert_eq!(
            parts
                .iter()
                .map(|p| p["size"].as_u64().unwrap())
                .sum::<u64>(),
            199
        );
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        let tmp = tempfile::tempdir().unwrap();
        let ids = store(&tmp.path().join("s"), &[1.0, 0.0, f32::NAN, 1.0], 2);
        let st = stage(&format!(
            "embeddings = {:?}\npartition = \"none\"\ndocuments = 1",
            tmp.path().join("s").display().to_string()
        ));
        let mut d = st.decider(&cx(tmp.path())).unwrap();
        let (refs, counts) = crate::testing::refs(2, 10);
        let mut v = Verdicts::new(&counts);
        for (s, &at) in summaries(&ids, None).iter().zip(&refs) {
            d.observe(at, s, &mut v).unwrap();
        }
        let e = d.finish(&mut v).err().unwrap().to_string();
        assert!(e.contains("d0001"), "{e}");

        // A partition too large for the memory budget names itself and the fix.
        let ids = store(&tmp.path().join("s2"), &[1.0, 0.0, 0.0, 1.0], 2);
        let st = stage(&format!(
            "embeddings = {:?}\npartition = \"none\"\ndocuments = 1\nmemory = \"16B\"",
            tmp.path().join("s2").display().to_string()
        ));
        let mut d = st.decider(&cx(tmp.path())).unwrap();
        for (s, &at) in summaries(&ids, None).iter().zip(&refs) {
            d.observe(at, s, &mut v).unwrap();
        }
        let e = d.finish(&mut v).err().unwrap().to_string();
        assert!(e.contains("partition 0") && e.contains("n_clusters"), "{e}");

        for (bad, param) in [
            ("embeddings = \"e\"", "budget"),
            (
                "embeddings = \"e\"\ndocuments = 3\nfraction = 0.5",
                "budget",
            ),
            ("embeddings = \"e\"\nfraction = 0", "fraction"),
            (
                "embeddings = \"e\"\ntoken_budget = 9\ntoken_field = \"\"",
                "token_field",
            ),
            (
                "embeddings = \"e\"\ndocuments = 3\nn_clusters = 0",
                "n_clusters",
            ),
        ] {
            let e = toml::from_str::<DiversitySelect>(bad)
                .unwrap()
                .build(&BuildCx::default())
                .err()
                .unwrap()
                .to_string();
            assert!(e.contains(param), "{bad}: {e}");
        }
    }
}
