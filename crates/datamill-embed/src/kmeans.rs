//! k-means for the semantic stages: Lloyd iterations in float64 over float32 vectors,
//! deterministic for a seed and whatever the thread count, trained in memory on a sample and
//! then assigning every vector by streaming them in chunks (so the full set never has to fit
//! in memory).
//!
//! Two stopping rules:
//! * [`StopRule::Cuvs`] (NeMo Curator's semantic dedup, through cuML/cuVS): after iteration t
//!   stop if the summed squared centroid shift is below `tol`, or if t > 1 and the cost ratio
//!   `cost_t / cost_{t-1}` exceeds `1 - tol`; an empty cluster keeps its centroid. The
//!   reference is `shared/tools/peers/semdedup_reference.py`.
//! * [`StopRule::Sklearn`] (scikit-learn's `KMeans(algorithm="lloyd")`): stop when the labels
//!   do not change, or when the squared shift is at most `tol x mean(var(X, axis=0))`; then
//!   labels are recomputed for the final centroids. (scikit-learn moves an empty cluster to a
//!   far point; here it keeps its centroid, so parity holds while no cluster empties.)
//!
//! Distances are `|x|^2 + |c|^2 - 2 x.c` in float64 (as the reference computes them), ties go
//! to the lowest centroid index, centroids are stored as float32 (the mean computed in float64,
//! then rounded), and sums are taken in fixed chunks of [`CHUNK`] rows reduced in order, so
//! the result does not depend on the number of threads.

use crate::error::{EmbedError, Result};
use crate::kernels::dgemm;

/// Rows per work chunk (fixed: partial sums are reduced in chunk order).
pub const CHUNK: usize = 2048;

/// A source of float32 rows, read in chunks (a slice in memory, or a store on disk).
pub trait Rows: Sync {
    /// Number of rows.
    fn len(&self) -> usize;
    /// Whether there are no rows.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Floats per row.
    fn dim(&self) -> usize;
    /// Reads rows `start..start + n` into `out` (resized to `n * dim`).
    fn read(&self, start: usize, n: usize, out: &mut Vec<f32>) -> Result<()>;
}

/// Rows held in memory, row-major.
#[derive(Clone, Copy, Debug)]
pub struct MemRows<'a> {
    /// The values, `len * dim`.
    pub data: &'a [f32],
    /// Floats per row.
    pub dim: usize,
}

impl Rows for MemRows<'_> {
    fn len(&self) -> usize {
        self.data.len() / self.dim
    }
    fn dim(&self) -> usize {
        self.dim
    }
    fn read(&self, start: usize, n: usize, out: &mut Vec<f32>) -> Result<()> {
        out.clear();
        out.extend_from_slice(&self.data[start * self.dim..(start + n) * self.dim]);
        Ok(())
    }
}

/// When Lloyd iterations stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopRule {
    /// cuVS / NeMo Curator: centroid shift below `tol`, or cost ratio above `1 - tol`.
    Cuvs,
    /// scikit-learn: labels unchanged, or shift at most `tol` times the mean feature variance.
    Sklearn,
}

/// k-means settings.
#[derive(Clone, Copy, Debug)]
pub struct KMeansParams {
    /// Iteration limit.
    pub max_iter: usize,
    /// Tolerance of the stopping rule.
    pub tol: f64,
    /// Which stopping rule.
    pub stop: StopRule,
    /// Threads for assignment.
    pub threads: usize,
}

/// One Lloyd iteration's figures.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Iteration {
    /// Sum of squared distances to the centroids the iteration started from.
    pub cost: f64,
    /// Summed squared movement of the centroids.
    pub shift: f64,
    /// Clusters that received no point.
    pub empty: usize,
}

/// A fitted model.
#[derive(Clone, Debug)]
pub struct KMeans {
    /// `k x dim` float32 centroids, row = cluster number.
    pub centroids: Vec<f32>,
    /// Floats per centroid.
    pub dim: usize,
    /// Iterations run.
    pub n_iter: usize,
    /// Why it stopped: `"centroid_shift"`, `"inertia_ratio"`, `"labels_unchanged"` or
    /// `"max_iter"`.
    pub stop: &'static str,
    /// Per-iteration figures.
    pub trace: Vec<Iteration>,
}

impl KMeans {
    /// Number of clusters.
    pub fn k(&self) -> usize {
        self.centroids.len() / self.dim
    }
}

fn check_rows(x: &dyn Rows, centroids: &[f32]) -> Result<()> {
    let d = x.dim();
    if d == 0 || centroids.is_empty() || !centroids.len().is_multiple_of(d) {
        return Err(EmbedError::Invalid(format!(
            "centroids ({} values) do not fit dimension {d}",
            centroids.len()
        )));
    }
    if let Some(i) = centroids.iter().position(|v| !v.is_finite()) {
        return Err(EmbedError::Invalid(format!(
            "centroid {} holds a non-finite value",
            i / d
        )));
    }
    Ok(())
}

/// Nearest centroid of every row (first index on ties) and the squared distance; also the
/// per-cluster float64 sums and counts when `sums` is given. Streams `x` in chunks.
fn assign_impl(
    x: &dyn Rows,
    centroids: &[f32],
    threads: usize,
    mut sums: Option<(&mut [f64], &mut [u64])>,
    labels: &mut Vec<u32>,
    dist: &mut Vec<f64>,
) -> Result<()> {
    let d = x.dim();
    let k = centroids.len() / d;
    let c64: Vec<f64> = centroids.iter().map(|&v| v as f64).collect();
    let cc: Vec<f64> = c64
        .chunks_exact(d)
        .map(|c| c.iter().map(|v| v * v).sum())
        .collect();
    let n = x.len();
    labels.clear();
    labels.resize(n, 0);
    dist.clear();
    dist.resize(n, 0.0);
    let chunks = n.div_ceil(CHUNK);
    let threads = threads.clamp(1, chunks.max(1));
    let want_sums = sums.is_some();
    // Each thread takes chunks t, t + threads, ...; partial sums per chunk are reduced in
    // chunk order afterwards.
    type Part = (usize, Vec<u32>, Vec<f64>, Option<(Vec<f64>, Vec<u64>)>);
    let parts: Vec<Result<Vec<Part>>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                let c64 = &c64;
                let cc = &cc;
                s.spawn(move || -> Result<Vec<Part>> {
                    let mut out = Vec::new();
                    let mut buf = Vec::new();
                    let mut dots = Vec::new();
                    let mut ci = t;
                    while ci < chunks {
                        let start = ci * CHUNK;
                        let m = CHUNK.min(n - start);
                        x.read(start, m, &mut buf)?;
                        if let Some(p) = buf.iter().position(|v| !v.is_finite()) {
                            return Err(EmbedError::Invalid(format!(
                                "row {} holds a non-finite value",
                                start + p / d
                            )));
                        }
                        let x64: Vec<f64> = buf.iter().map(|&v| v as f64).collect();
                        dots.clear();
                        dots.resize(m * k, 0.0);
                        dgemm(&x64, m, d, c64, k, &mut dots);
                        let mut lab = vec![0u32; m];
                        let mut dd = vec![0f64; m];
                        let mut part = want_sums.then(|| (vec![0f64; k * d], vec![0u64; k]));
                        for i in 0..m {
                            let xi = &x64[i * d..(i + 1) * d];
                            let xx: f64 = xi.iter().map(|v| v * v).sum();
                            let row = &dots[i * k..(i + 1) * k];
                            let (mut best, mut bd) = (0usize, f64::INFINITY);
                            for (j, (&dot, &c2)) in row.iter().zip(cc.iter()).enumerate() {
                                let v = xx + c2 - 2.0 * dot;
                                if v < bd {
                                    bd = v;
                                    best = j;
                                }
                            }
                            lab[i] = best as u32;
                            dd[i] = bd;
                            if let Some((s, c)) = &mut part {
                                for (a, b) in s[best * d..(best + 1) * d].iter_mut().zip(xi) {
                                    *a += b;
                                }
                                c[best] += 1;
                            }
                        }
                        out.push((ci, lab, dd, part));
                        ci += threads;
                    }
                    Ok(out)
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| h.join().expect("k-means thread"))
            .collect()
    });
    let mut all: Vec<Part> = Vec::with_capacity(chunks);
    for p in parts {
        all.extend(p?);
    }
    all.sort_by_key(|p| p.0);
    for (ci, lab, dd, part) in all {
        let start = ci * CHUNK;
        labels[start..start + lab.len()].copy_from_slice(&lab);
        dist[start..start + dd.len()].copy_from_slice(&dd);
        if let (Some((s, c)), Some((ps, pc))) = (&mut sums, part) {
            for (a, b) in s.iter_mut().zip(&ps) {
                *a += b;
            }
            for (a, b) in c.iter_mut().zip(&pc) {
                *a += b;
            }
        }
    }
    Ok(())
}

/// Nearest centroid of every row of `x` and its squared Euclidean distance.
pub fn assign(x: &dyn Rows, centroids: &[f32], threads: usize) -> Result<(Vec<u32>, Vec<f64>)> {
    check_rows(x, centroids)?;
    let (mut l, mut d) = (Vec::new(), Vec::new());
    assign_impl(x, centroids, threads, None, &mut l, &mut d)?;
    Ok((l, d))
}

/// Lloyd iterations from `init` (`k x dim` float32) over `x`.
pub fn fit(x: &dyn Rows, init: &[f32], p: &KMeansParams) -> Result<KMeans> {
    check_rows(x, init)?;
    let d = x.dim();
    let k = init.len() / d;
    if x.len() < k {
        return Err(EmbedError::Invalid(format!(
            "k-means with {k} clusters needs at least {k} vectors, got {}",
            x.len()
        )));
    }
    let tol = match p.stop {
        StopRule::Cuvs => p.tol,
        StopRule::Sklearn => p.tol * mean_variance(x)?,
    };
    let mut c = init.to_vec();
    let mut trace = Vec::new();
    let (mut labels, mut dist) = (Vec::new(), Vec::new());
    let mut old_labels: Vec<u32> = Vec::new();
    let mut prior_cost = 0.0f64;
    let mut stop = "max_iter";
    let mut n_iter = 0;
    let mut sums = vec![0f64; k * d];
    let mut counts = vec![0u64; k];
    for it in 1..=p.max_iter.max(1) {
        n_iter = it;
        sums.fill(0.0);
        counts.fill(0);
        assign_impl(
            x,
            &c,
            p.threads,
            Some((&mut sums, &mut counts)),
            &mut labels,
            &mut dist,
        )?;
        let cost: f64 = dist.iter().sum();
        let mut new = c.clone();
        for j in 0..k {
            if counts[j] > 0 {
                let inv = counts[j] as f64;
                for t in 0..d {
                    new[j * d + t] = (sums[j * d + t] / inv) as f32;
                }
            }
        }
        let shift: f64 = new
            .iter()
            .zip(&c)
            .map(|(a, b)| (*a as f64 - *b as f64).powi(2))
            .sum();
        c = new;
        trace.push(Iteration {
            cost,
            shift,
            empty: counts.iter().filter(|&&n| n == 0).count(),
        });
        match p.stop {
            StopRule::Cuvs => {
                let ratio_stop = cost != 0.0
                    && it > 1
                    && (if prior_cost > 0.0 {
                        cost / prior_cost
                    } else {
                        f64::INFINITY
                    }) > 1.0 - p.tol;
                prior_cost = cost;
                let shift_stop = shift < tol;
                if shift_stop || ratio_stop {
                    stop = if shift_stop {
                        "centroid_shift"
                    } else {
                        "inertia_ratio"
                    };
                    break;
                }
            }
            StopRule::Sklearn => {
                if labels == old_labels {
                    stop = "labels_unchanged";
                    break;
                }
                if shift <= tol {
                    stop = "centroid_shift";
                    break;
                }
                std::mem::swap(&mut old_labels, &mut labels);
            }
        }
    }
    Ok(KMeans {
        centroids: c,
        dim: d,
        n_iter,
        stop,
        trace,
    })
}

/// `mean(var(X, axis=0))` in float64 (scikit-learn's tolerance scale).
fn mean_variance(x: &dyn Rows) -> Result<f64> {
    let d = x.dim();
    let n = x.len();
    let mut mean = vec![0f64; d];
    let mut buf = Vec::new();
    for s in (0..n).step_by(CHUNK) {
        let m = CHUNK.min(n - s);
        x.read(s, m, &mut buf)?;
        for r in buf.chunks_exact(d) {
            for (a, &b) in mean.iter_mut().zip(r) {
                *a += b as f64;
            }
        }
    }
    mean.iter_mut().for_each(|v| *v /= n as f64);
    let mut var = vec![0f64; d];
    for s in (0..n).step_by(CHUNK) {
        let m = CHUNK.min(n - s);
        x.read(s, m, &mut buf)?;
        for r in buf.chunks_exact(d) {
            for ((a, &b), mu) in var.iter_mut().zip(r).zip(&mean) {
                *a += (b as f64 - mu).powi(2);
            }
        }
    }
    Ok(var.iter().map(|v| v / n as f64).sum::<f64>() / d as f64)
}

/// k-means++ seeding (greedy, `2 + ln k` candidates per step, as scikit-learn's
/// `kmeans_plusplus`), deterministic for `seed`: the uniform draws are xxh3 hashes of
/// `(seed, draw number)`, so the centroids depend only on the data, `k` and the seed.
pub fn kmeans_plusplus(x: &dyn Rows, k: usize, seed: u64) -> Result<Vec<f32>> {
    let n = x.len();
    let d = x.dim();
    if k == 0 || n < k {
        return Err(EmbedError::Invalid(format!(
            "k-means++ with {k} clusters needs at least {k} vectors, got {n}"
        )));
    }
    let mut draws = 0u64;
    let mut uniform = || {
        draws += 1;
        let h = xxhash_rust::xxh3::xxh3_64_with_seed(&draws.to_le_bytes(), seed);
        (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    };
    let mut all = Vec::new();
    x.read(0, n, &mut all)?;
    let row = |i: usize| &all[i * d..(i + 1) * d];
    let sq = |a: &[f32], b: &[f32]| -> f64 {
        a.iter()
            .zip(b)
            .map(|(p, q)| (*p as f64 - *q as f64).powi(2))
            .sum()
    };
    let first = ((uniform() * n as f64) as usize).min(n - 1);
    let mut centers: Vec<f32> = row(first).to_vec();
    let mut closest: Vec<f64> = (0..n).map(|i| sq(row(i), row(first))).collect();
    let trials = 2 + (k as f64).ln() as usize;
    for _ in 1..k {
        let pot: f64 = closest.iter().sum();
        let mut cum = Vec::with_capacity(n);
        let mut acc = 0.0;
        for &v in &closest {
            acc += v;
            cum.push(acc);
        }
        let mut best: Option<(f64, usize, Vec<f64>)> = None;
        for _ in 0..trials {
            let r = uniform() * pot;
            let cand = cum.partition_point(|&c| c < r).min(n - 1);
            let next: Vec<f64> = (0..n)
                .map(|i| closest[i].min(sq(row(i), row(cand))))
                .collect();
            let p: f64 = next.iter().sum();
            if best.as_ref().is_none_or(|b| p < b.0) {
                best = Some((p, cand, next));
            }
        }
        let (_, cand, next) = best.expect("at least one trial");
        centers.extend_from_slice(row(cand));
        closest = next;
    }
    Ok(centers)
}

/// `out = x * c^T` in float64: `x` is `m x d`, `c` is `k x d`, both row-major; `out` is
/// `m x k` (the dot products of every pair of rows).
///
/// # Panics
/// If a slice is shorter than its shape.
pub fn dot_rows(x: &[f64], m: usize, d: usize, c: &[f64], k: usize, out: &mut [f64]) {
    dgemm(x, m, d, c, k, out)
}
