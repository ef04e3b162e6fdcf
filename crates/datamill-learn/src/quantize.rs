//! fastText's `quantize` (`FastText::quantize`, 0.9.2) of a trained supervised model: the
//! `.ftz` that `fasttext quantize` / `model.quantize(...)` writes, for the same options.
//!
//! * `cutoff` (> 0 and below the input rows): keep the `cutoff` input rows of largest L2 norm
//!   (`</s>` always first, then by norm, in libstdc++ `std::sort` order), prune the
//!   dictionary to the words kept (in dictionary order) and map the n-gram buckets kept to
//!   their new rows (`Dictionary::prune`: the map is written in bucket order here, in
//!   `std::unordered_map` order by fastText — same pairs).
//! * the input matrix becomes product-quantized (`QuantMatrix`): `dsub` values per code byte,
//!   256 centroids per sub-quantizer by 25 k-means iterations (`ProductQuantizer`, its own
//!   `minstd_rand(1234)`, libstdc++ `std::shuffle`, at most 65,536 training rows); `qnorm`
//!   quantizes each row's norm separately (the rows are divided by it); `qout` quantizes the
//!   output matrix too (dsub 2; it needs 256 labels or more, as in fastText).
//! * `retrain` (with a cutoff): the pruned model is trained again on the training lines,
//!   `epoch` times at learning rate `lr` (default: the model's), before quantizing, as
//!   fastText's one-thread training does with the pruned dictionary (n-grams of pruned
//!   buckets are skipped) and seed 0 (a loaded model's: `Args::save` does not keep the seed).
//!
//! Same model + same options ⇒ the same bytes as fastText (tested against
//! `fasttext-numpy2-wheel` 0.9.2 in `tests/quantize_golden.rs`).

use crate::error::LearnError;
use crate::train::{Entry, MinStd, Model, write_dense};
use datamill_fasttext::hashing::EOS;

/// `quantize` options (fastText's names and defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizeOptions {
    /// Keep this many input rows (words and n-grams) of largest norm (0 = all).
    pub cutoff: usize,
    /// Values per sub-quantizer (`dsub`, default 2).
    pub dsub: usize,
    /// Quantize the row norms separately (`qnorm`).
    pub qnorm: bool,
    /// Quantize the output matrix too (`qout`).
    pub qout: bool,
    /// Train the pruned model again on the training lines (`retrain`; only with a cutoff).
    pub retrain: bool,
    /// Epochs of the retraining (`epoch`; default: the model's).
    pub epoch: Option<usize>,
    /// Learning rate of the retraining (`lr`; default: the model's).
    pub lr: Option<f64>,
}

impl Default for QuantizeOptions {
    fn default() -> Self {
        QuantizeOptions {
            cutoff: 0,
            dsub: 2,
            qnorm: false,
            qout: false,
            retrain: false,
            epoch: None,
            lr: None,
        }
    }
}

/// What quantizing kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantized {
    /// The `.ftz` bytes.
    pub bytes: Vec<u8>,
    /// Input rows before and after the cutoff.
    pub rows: (usize, usize),
    /// Words kept of the dictionary's.
    pub words: (usize, usize),
}

/// Centroids per sub-quantizer (8-bit codes).
const KSUB: usize = 256;
/// Rows a sub-quantizer's k-means sees at most (256 per centroid).
const MAX_POINTS: usize = 256 * KSUB;
const SEED: i64 = 1234;
const NITER: usize = 25;
const EPS: f32 = 1e-7;

/// Quantizes `model` as fastText's `quantize` does; `train` are the training lines (fastText
/// lines, see [`crate::train::fasttext_line`]), read only to retrain.
pub fn quantize(
    model: &Model,
    q: &QuantizeOptions,
    train: &[String],
) -> Result<Quantized, LearnError> {
    if q.retrain && train.is_empty() {
        return Err(LearnError::invalid(
            "quantize --retrain needs the training lines",
        ));
    }
    if q.dsub == 0 {
        return Err(LearnError::invalid("dsub must be at least 1"));
    }
    let dim = model.opts.dim;
    let rows = model.input.len() / dim;
    let mut input = model.input.clone();
    let mut output = model.output.clone();
    let mut entries: Vec<Entry> = model.entries.clone();
    let mut nwords = model.nwords;
    let mut pruneidx = None;
    let mut retrained = None;
    let mut kept_rows = rows;
    if q.cutoff > 0 && q.cutoff < rows {
        let norms: Vec<f32> = (0..rows)
            .map(|i| l2_norm(&model.input[i * dim..(i + 1) * dim]))
            .collect();
        let eos = model.entries[..model.nwords]
            .iter()
            .position(|e| e.word == EOS && !e.label);
        let mut idx: Vec<usize> = (0..rows).collect();
        datamill_npsort::std_sort(&mut idx, &|&a: &usize, &b: &usize| {
            let (a_eos, b_eos) = (Some(a) == eos, Some(b) == eos);
            if a_eos && b_eos {
                return false;
            }
            a_eos || (!b_eos && norms[a] > norms[b])
        });
        idx.truncate(q.cutoff);
        // Dictionary::prune.
        let mut words: Vec<usize> = idx.iter().copied().filter(|&i| i < nwords).collect();
        let ngrams: Vec<usize> = idx.iter().copied().filter(|&i| i >= nwords).collect();
        words.sort_unstable();
        let mut map: Vec<(i32, i32)> = ngrams
            .iter()
            .enumerate()
            .map(|(j, &g)| ((g - nwords) as i32, j as i32))
            .collect();
        map.sort_unstable();
        pruneidx = Some(map);
        let order: Vec<usize> = words.iter().chain(&ngrams).copied().collect();
        input = Vec::with_capacity(order.len() * dim);
        for &r in &order {
            input.extend_from_slice(&model.input[r * dim..(r + 1) * dim]);
        }
        entries = words
            .iter()
            .map(|&w| model.entries[w].clone())
            .chain(model.entries[model.nwords..].iter().cloned())
            .collect();
        nwords = words.len();
        kept_rows = order.len();
        if q.retrain {
            let map: std::collections::HashMap<u32, u32> = ngrams
                .iter()
                .enumerate()
                .map(|(j, &g)| ((g - model.nwords) as u32, j as u32))
                .collect();
            let mut m = retrain(model, q, train, &entries, nwords, map, input)?;
            input = std::mem::take(&mut m.input);
            output = std::mem::take(&mut m.output);
            retrained = Some(m);
        }
    }
    let mut b = Vec::new();
    // The arguments saved: the retraining's epoch count when retrained (as fastText).
    retrained
        .as_ref()
        .unwrap_or(model)
        .write_args_and_dictionary(&mut b, &entries, nwords, pruneidx.as_deref());
    b.push(1); // quant_input
    quant_matrix(&mut b, input, dim, q.dsub, q.qnorm)?;
    b.push(u8::from(q.qout));
    if q.qout {
        quant_matrix(&mut b, output, dim, 2, q.qnorm)?;
    } else {
        write_dense(&mut b, &output, dim);
    }
    Ok(Quantized {
        bytes: b,
        rows: (rows, kept_rows),
        words: (model.nwords, nwords),
    })
}

/// The pruned model (its dictionary `entries`, `nwords` words, bucket map `prune`, input rows
/// `input`, the model's output matrix) trained again on `train`.
fn retrain(
    model: &Model,
    q: &QuantizeOptions,
    train: &[String],
    entries: &[Entry],
    nwords: usize,
    prune: std::collections::HashMap<u32, u32>,
    input: Vec<f32>,
) -> Result<Model, LearnError> {
    let mut opts = model.opts.clone();
    opts.epoch = q.epoch.unwrap_or(opts.epoch);
    opts.lr = q.lr.unwrap_or(opts.lr);
    opts.seed = 0;
    if opts.epoch == 0 || opts.lr.is_nan() || opts.lr <= 0.0 {
        return Err(LearnError::invalid(
            "retrain: epoch and lr must be positive",
        ));
    }
    let word2id = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.word.clone(), i))
        .collect();
    // Dictionary::initNgrams on the pruned dictionary.
    let subwords = entries[..nwords]
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut s = vec![i as u32];
            if e.word != EOS {
                let mut w = Vec::with_capacity(e.word.len() + 2);
                w.push(b'<');
                w.extend_from_slice(&e.word);
                w.push(b'>');
                crate::train::compute_subwords(&opts, nwords, Some(&prune), &w, &mut s);
            }
            s
        })
        .collect();
    let mut m = Model {
        opts,
        entries: entries.to_vec(),
        nwords,
        ntokens: model.ntokens,
        word2id,
        subwords,
        pruneidx: Some(prune),
        input,
        output: model.output.clone(),
    };
    m.run_sgd(train);
    Ok(m)
}

/// `DenseMatrix::l2NormRow`: f32 squares summed in f64, the root as f32.
fn l2_norm(row: &[f32]) -> f32 {
    let mut norm = 0.0f64;
    for &x in row {
        norm += f64::from(x * x);
    }
    norm.sqrt() as f32
}

/// `QuantMatrix(DenseMatrix&&, dsub, qnorm)` then `QuantMatrix::save`.
fn quant_matrix(
    b: &mut Vec<u8>,
    mut mat: Vec<f32>,
    dim: usize,
    dsub: usize,
    qnorm: bool,
) -> Result<(), LearnError> {
    let m = mat.len() / dim;
    let mut pq = Pq::new(dim, dsub);
    let mut norm_part = None;
    if qnorm {
        let norms: Vec<f32> = (0..m)
            .map(|i| l2_norm(&mat[i * dim..(i + 1) * dim]))
            .collect();
        for (i, &n) in norms.iter().enumerate() {
            if n != 0.0 {
                mat[i * dim..(i + 1) * dim].iter_mut().for_each(|x| *x /= n);
            }
        }
        let mut npq = Pq::new(1, 1);
        npq.train(m, &norms)?;
        let codes = npq.codes(&norms, m);
        norm_part = Some((codes, npq));
    }
    pq.train(m, &mat)?;
    let codes = pq.codes(&mat, m);
    b.push(u8::from(qnorm));
    b.extend_from_slice(&(m as i64).to_le_bytes());
    b.extend_from_slice(&(dim as i64).to_le_bytes());
    b.extend_from_slice(&(codes.len() as i32).to_le_bytes());
    b.extend_from_slice(&codes);
    pq.save(b);
    if let Some((codes, npq)) = norm_part {
        b.extend_from_slice(&codes);
        npq.save(b);
    }
    Ok(())
}

/// fastText's `ProductQuantizer`.
struct Pq {
    dim: usize,
    nsubq: usize,
    dsub: usize,
    lastdsub: usize,
    centroids: Vec<f32>,
    rng: MinStd,
}

impl Pq {
    fn new(dim: usize, dsub: usize) -> Pq {
        let mut nsubq = dim / dsub;
        let mut lastdsub = dim % dsub;
        if lastdsub == 0 {
            lastdsub = dsub;
        } else {
            nsubq += 1;
        }
        Pq {
            dim,
            nsubq,
            dsub,
            lastdsub,
            centroids: vec![0.0; dim * KSUB],
            rng: MinStd::new(SEED),
        }
    }

    /// Offset of centroid `i` of sub-quantizer `m` (`get_centroids`).
    fn offset(&self, m: usize, i: usize) -> usize {
        if m == self.nsubq - 1 {
            m * KSUB * self.dsub + i * self.lastdsub
        } else {
            (m * KSUB + i) * self.dsub
        }
    }

    fn train(&mut self, n: usize, x: &[f32]) -> Result<(), LearnError> {
        if n < KSUB {
            return Err(LearnError::invalid(format!(
                "Matrix too small for quantization, must have at least {KSUB} rows (has {n})"
            )));
        }
        let mut perm: Vec<usize> = (0..n).collect();
        let mut d = self.dsub;
        let np = n.min(MAX_POINTS);
        let mut xslice = vec![0f32; np * self.dsub];
        for m in 0..self.nsubq {
            if m == self.nsubq - 1 {
                d = self.lastdsub;
            }
            if np != n {
                shuffle(&mut perm, &mut self.rng);
            }
            for j in 0..np {
                let src = perm[j] * self.dim + m * self.dsub;
                xslice[j * d..(j + 1) * d].copy_from_slice(&x[src..src + d]);
            }
            let off = self.offset(m, 0);
            let c = &mut self.centroids[off..off + KSUB * d];
            kmeans(&xslice[..np * d], c, np, d, &mut self.rng);
        }
        Ok(())
    }

    /// `compute_codes`: one byte per sub-quantizer per row.
    fn codes(&self, x: &[f32], n: usize) -> Vec<u8> {
        let mut out = vec![0u8; n * self.nsubq];
        for i in 0..n {
            let mut d = self.dsub;
            for m in 0..self.nsubq {
                if m == self.nsubq - 1 {
                    d = self.lastdsub;
                }
                let xs = &x[i * self.dim + m * self.dsub..][..d];
                let off = self.offset(m, 0);
                out[i * self.nsubq + m] = assign(xs, &self.centroids[off..off + KSUB * d], d);
            }
        }
        out
    }

    fn save(&self, b: &mut Vec<u8>) {
        for v in [self.dim, self.nsubq, self.dsub, self.lastdsub] {
            b.extend_from_slice(&(v as i32).to_le_bytes());
        }
        for c in &self.centroids {
            b.extend_from_slice(&c.to_le_bytes());
        }
    }
}

/// `distL2` in f32, in order.
fn dist_l2(x: &[f32], y: &[f32]) -> f32 {
    let mut dist = 0f32;
    for (a, b) in x.iter().zip(y) {
        let t = a - b;
        dist += t * t;
    }
    dist
}

/// `assign_centroid`: the first nearest centroid.
fn assign(x: &[f32], c: &[f32], d: usize) -> u8 {
    let mut dis = dist_l2(x, &c[..d]);
    let mut code = 0u8;
    for j in 1..KSUB {
        let dij = dist_l2(x, &c[j * d..(j + 1) * d]);
        if dij < dis {
            code = j as u8;
            dis = dij;
        }
    }
    code
}

/// `ProductQuantizer::kmeans`: centroids from a shuffled pick, then 25 E and M steps.
fn kmeans(x: &[f32], c: &mut [f32], n: usize, d: usize, rng: &mut MinStd) {
    let mut perm: Vec<usize> = (0..n).collect();
    shuffle(&mut perm, rng);
    for i in 0..KSUB {
        c[i * d..(i + 1) * d].copy_from_slice(&x[perm[i] * d..(perm[i] + 1) * d]);
    }
    let mut codes = vec![0u8; n];
    for _ in 0..NITER {
        for i in 0..n {
            codes[i] = assign(&x[i * d..(i + 1) * d], c, d);
        }
        m_step(x, c, &codes, d, n, rng);
    }
}

/// `ProductQuantizer::MStep`: means, and an empty centroid split off a populous one.
fn m_step(x: &[f32], c: &mut [f32], codes: &[u8], d: usize, n: usize, rng: &mut MinStd) {
    let mut nelts = [0i32; KSUB];
    c.fill(0.0);
    for i in 0..n {
        let k = codes[i] as usize;
        for j in 0..d {
            c[k * d + j] += x[i * d + j];
        }
        nelts[k] += 1;
    }
    for k in 0..KSUB {
        let z = nelts[k] as f32;
        if z != 0.0 {
            c[k * d..(k + 1) * d].iter_mut().for_each(|v| *v /= z);
        }
    }
    for k in 0..KSUB {
        if nelts[k] == 0 {
            let mut m = 0;
            while rng.canonical() * ((n - KSUB) as f64) >= f64::from(nelts[m] - 1) {
                m = (m + 1) % KSUB;
            }
            c.copy_within(m * d..(m + 1) * d, k * d);
            for j in 0..d {
                let sign = ((j % 2) as i32 * 2 - 1) as f32;
                c[k * d + j] += sign * EPS;
                c[m * d + j] -= sign * EPS;
            }
            nelts[k] = nelts[m] / 2;
            nelts[m] -= nelts[k];
        }
    }
}

/// libstdc++'s `std::shuffle` with `minstd_rand`: two swap positions from one draw while the
/// generator's range covers the square of the length, else one draw per position.
fn shuffle(v: &mut [usize], g: &mut MinStd) {
    let n = v.len();
    if n < 2 {
        return;
    }
    let urngrange: u64 = 2_147_483_646 - 1;
    let urange = n as u64;
    if urngrange / urange >= urange {
        let mut i = 1;
        if urange.is_multiple_of(2) {
            let j = g.uniform_int(1) as usize;
            v.swap(i, j);
            i += 1;
        }
        while i != n {
            let r = i as u64 + 1;
            let x = g.uniform_int(r * (r + 1) - 1);
            v.swap(i, (x / (r + 1)) as usize);
            i += 1;
            v.swap(i, (x % (r + 1)) as usize);
            i += 1;
        }
    } else {
        for i in 1..n {
            let j = g.uniform_int(i as u64) as usize;
            v.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_quantizer_shapes() {
        let pq = Pq::new(10, 3);
        assert_eq!((pq.nsubq, pq.lastdsub), (4, 1));
        assert_eq!(pq.offset(3, 2), 3 * 256 * 3 + 2);
        let pq = Pq::new(4, 2);
        assert_eq!((pq.nsubq, pq.lastdsub), (2, 2));
    }

    #[test]
    fn shuffle_is_a_seeded_permutation() {
        for n in [2, 7, 300, 50_000] {
            let mut v: Vec<usize> = (0..n).collect();
            shuffle(&mut v, &mut MinStd::new(SEED));
            let mut w: Vec<usize> = (0..n).collect();
            shuffle(&mut w, &mut MinStd::new(SEED));
            assert_eq!(v, w);
            let mut s = v.clone();
            s.sort_unstable();
            assert_eq!(s, (0..n).collect::<Vec<_>>());
            if n > 7 {
                assert_ne!(v, (0..n).collect::<Vec<_>>());
            }
        }
    }
}
