//! fastText 0.9.2 supervised training (`fasttext supervised` / Python `train_supervised`) with
//! `thread = 1`, re-implemented step by step so that the same data and hyperparameters give the
//! **same model bytes** as C++ fastText run in a fresh process:
//!
//! * dictionary: fastText's `readWord` tokenization (space, `\t`, `\n`, `\v`, `\f`, `\r`, NUL),
//!   `</s>` per line, `__label__` tokens as labels, `threshold` with libstdc++'s (unstable)
//!   `std::sort` reproduced exactly (words before labels, by count descending), `minCount`;
//! * input matrix `(nwords + bucket) x dim`: `DenseMatrix::uniform(1/dim, thread=1, seed)` —
//!   `std::minstd_rand(seed)` and libstdc++'s `uniform_real_distribution<double>` — which in
//!   fastText 0.9.2 fills only the first tenth of the entries (one of ten blocks per thread); the
//!   rest is fresh (zeroed) memory. Output matrix `nlabels x dim`, zeros;
//! * per line: word ids, char n-grams (`minn..maxn`, FNV-1a over signed bytes), word n-grams
//!   (`h * 116049371 + hash`, sign-extended), one target label drawn with
//!   `uniform_int_distribution(0, nlabels_in_line - 1)` from `minstd_rand(seed)`;
//! * softmax loss, hidden = mean of the input rows, gradient normalized by the number of rows,
//!   learning rate `lr * (1 - progress)` with progress updated every `lrUpdateRate` tokens, all
//!   arithmetic in `f32` in fastText's order (`exp` in `f64` as `::exp(double)`);
//! * the `.bin` layout of `FastText::saveModel` (magic, version 12, args, dictionary, dense
//!   matrices).

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use datamill_fasttext::hashing::{EOS, hash, is_separator, subword_hashes, word_ngram_hashes};
use datamill_fasttext::{MAGIC, VERSION};

use crate::error::LearnError;

/// fastText's label prefix.
pub use datamill_fasttext::LABEL_PREFIX;

/// Training hyperparameters (fastText's names in brackets). `Default` = the `fasttext supervised`
/// defaults, with `thread = 1`.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    /// Learning rate (`lr`, default 0.1).
    pub lr: f64,
    /// Hidden dimension (`dim`, default 100).
    pub dim: usize,
    /// Epochs (`epoch`, default 5).
    pub epoch: usize,
    /// Minimum word count (`minCount`, default 1).
    pub min_count: i64,
    /// Minimum label count (`minCountLabel`, default 0).
    pub min_count_label: i64,
    /// Max word n-gram length (`wordNgrams`, default 1).
    pub word_ngrams: usize,
    /// Hash buckets for word and char n-grams (`bucket`, default 2,000,000).
    pub bucket: usize,
    /// Min char n-gram length (`minn`, default 0).
    pub minn: usize,
    /// Max char n-gram length (`maxn`, default 0 = none).
    pub maxn: usize,
    /// Progress/learning-rate update interval in tokens (`lrUpdateRate`, default 100).
    pub lr_update_rate: usize,
    /// Random seed (`seed`, default 0).
    pub seed: i32,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            lr: 0.1,
            dim: 100,
            epoch: 5,
            min_count: 1,
            min_count_label: 0,
            word_ngrams: 1,
            bucket: 2_000_000,
            minn: 0,
            maxn: 0,
            lr_update_rate: 100,
            seed: 0,
        }
    }
}

impl TrainOptions {
    fn validate(&self) -> Result<(), LearnError> {
        let bad = |m: String| Err(LearnError::invalid(m));
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad(format!("lr must be > 0, got {}", self.lr));
        }
        if self.dim == 0 || self.dim > 100_000 {
            return bad(format!("dim must be in 1..=100000, got {}", self.dim));
        }
        if self.epoch == 0 {
            return bad("epoch must be >= 1".into());
        }
        if self.word_ngrams == 0 {
            return bad("word_ngrams must be >= 1".into());
        }
        if self.maxn > 0 && self.minn == 0 {
            return bad("minn must be >= 1 when maxn > 0".into());
        }
        if self.maxn > 0 && self.minn > self.maxn {
            return bad(format!("minn {} > maxn {}", self.minn, self.maxn));
        }
        if (self.word_ngrams > 1 || self.maxn > 0) && self.bucket == 0 {
            return bad("bucket must be > 0 with word_ngrams > 1 or char n-grams".into());
        }
        if self.bucket > i32::MAX as usize {
            return bad(format!(
                "bucket {} does not fit fastText's int32",
                self.bucket
            ));
        }
        if self.lr_update_rate == 0 {
            return bad("lr_update_rate must be >= 1".into());
        }
        Ok(())
    }
}

/// `std::minstd_rand`.
#[derive(Debug, Clone)]
pub(crate) struct MinStd(u64);

impl MinStd {
    const M: u64 = 2_147_483_647;
    pub(crate) fn new(seed: i64) -> Self {
        // linear_congruential_engine::seed: s mod m (of the value as unsigned long), 0 -> 1.
        let s = (seed as u64) % Self::M;
        MinStd(if s == 0 { 1 } else { s })
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0 * 48_271 % Self::M;
        self.0
    }
    /// `std::generate_canonical<double, 53>` (two draws).
    pub(crate) fn canonical(&mut self) -> f64 {
        let r = 2_147_483_646.0f64;
        let mut sum = 0.0f64;
        let mut tmp = 1.0f64;
        for _ in 0..2 {
            sum += (self.next() - 1) as f64 * tmp;
            tmp *= r;
        }
        let ret = sum / tmp;
        if ret >= 1.0 {
            1.0 - f64::EPSILON / 2.0
        } else {
            ret
        }
    }
    /// `std::uniform_int_distribution<int>(0, hi)` (libstdc++'s rejection method).
    pub(crate) fn uniform_int(&mut self, hi: u64) -> u64 {
        let urngrange = 2_147_483_646u64 - 1;
        let uerange = hi + 1;
        let scaling = urngrange / uerange;
        let past = uerange * scaling;
        loop {
            let r = self.next() - 1;
            if r < past {
                return r / scaling;
            }
        }
    }
}

/// Tokens of one line as fastText's `readWord` yields them, ending with `</s>`.
fn tokens(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.split(|&c| is_separator(c))
        .filter(|t| !t.is_empty())
        .chain(std::iter::once(EOS))
}

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) word: Vec<u8>,
    pub(crate) count: i64,
    pub(crate) label: bool,
}

/// A trained (or training) fastText supervised model.
#[derive(Debug, Clone)]
pub struct Model {
    pub(crate) opts: TrainOptions,
    pub(crate) entries: Vec<Entry>,
    pub(crate) nwords: usize,
    pub(crate) ntokens: i64,
    pub(crate) word2id: HashMap<Vec<u8>, usize>,
    /// Input rows of each word (`[id, char n-grams...]`).
    pub(crate) subwords: Vec<Vec<u32>>,
    /// A pruned dictionary's n-gram buckets → their rows after the words (`pruneidx`, see
    /// [`crate::quantize`]); `None` = every bucket has its row.
    pub(crate) pruneidx: Option<HashMap<u32, u32>>,
    pub(crate) input: Vec<f32>,
    pub(crate) output: Vec<f32>,
}

/// Summary of a training run.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSummary {
    /// Number of training lines.
    pub lines: usize,
    /// Words in the dictionary.
    pub nwords: usize,
    /// Labels in the dictionary.
    pub nlabels: usize,
    /// Tokens in the training data (fastText's `ntokens`).
    pub ntokens: i64,
    /// Updates made (examples seen over all epochs).
    pub updates: u64,
    /// Average training loss (`-log p(target)`) over all updates.
    pub avg_loss: f64,
}

/// One fastText training line: `__label__a __label__b word word ...` (no newline).
pub fn fasttext_line(labels: &[String], text: &str, lowercase: bool) -> String {
    let mut s = String::with_capacity(text.len() + 16 * labels.len());
    for l in labels {
        s.push_str(LABEL_PREFIX);
        s.push_str(l);
        s.push(' ');
    }
    for c in text.chars() {
        if c == '\n' {
            s.push(' ');
        } else if lowercase {
            s.extend(c.to_lowercase());
        } else {
            s.push(c);
        }
    }
    s
}

impl Model {
    fn compute_subwords(&self, word: &[u8], out: &mut Vec<u32>) {
        compute_subwords(&self.opts, self.nwords, self.pruneidx.as_ref(), word, out);
    }

    /// `getLine`: input rows and label ids of a line; returns the number of tokens read.
    fn line(
        &self,
        line: &[u8],
        words: &mut Vec<u32>,
        labels: &mut Vec<usize>,
        hashes: &mut Vec<i32>,
    ) -> usize {
        words.clear();
        labels.clear();
        hashes.clear();
        let mut n = 0;
        let mut buf = Vec::new();
        for tok in tokens(line) {
            n += 1;
            let h = hash(tok);
            match self.word2id.get(tok) {
                Some(&id) if id < self.nwords => {
                    if self.opts.maxn == 0 {
                        words.push(id as u32);
                    } else {
                        words.extend_from_slice(&self.subwords[id]);
                    }
                    hashes.push(h as i32);
                }
                Some(&id) => labels.push(id - self.nwords),
                None => {
                    if !tok.starts_with(LABEL_PREFIX.as_bytes()) {
                        if tok != EOS {
                            buf.clear();
                            buf.push(b'<');
                            buf.extend_from_slice(tok);
                            buf.push(b'>');
                            self.compute_subwords(&buf, words);
                        }
                        hashes.push(h as i32);
                    }
                }
            }
        }
        let ng = self.opts.word_ngrams;
        if ng > 1 {
            let b = self.opts.bucket as u64;
            word_ngram_hashes(hashes, ng, |h| {
                push_hash(self.nwords, self.pruneidx.as_ref(), (h % b) as u32, words)
            });
        }
        n
    }

    /// Trains on fastText-format lines (`__label__x text`, see [`fasttext_line`]).
    pub fn train(
        lines: &[String],
        opts: &TrainOptions,
    ) -> Result<(Model, TrainSummary), LearnError> {
        opts.validate()?;
        let mut opts = opts.clone();
        if opts.word_ngrams <= 1 && opts.maxn == 0 {
            // as `fasttext supervised` (Args::parseArgs): no n-gram rows needed
            opts.bucket = 0;
        }
        // readFromFile
        let mut entries: Vec<Entry> = Vec::new();
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut ntokens = 0i64;
        for line in lines {
            for tok in tokens(line.as_bytes()) {
                ntokens += 1;
                match index.get(tok) {
                    Some(&i) => entries[i].count += 1,
                    None => {
                        index.insert(tok.to_vec(), entries.len());
                        entries.push(Entry {
                            word: tok.to_vec(),
                            count: 1,
                            label: tok.starts_with(LABEL_PREFIX.as_bytes()),
                        });
                    }
                }
            }
        }
        // threshold
        crate::sort::std_sort(&mut entries, &|a: &Entry, b: &Entry| {
            if a.label != b.label {
                !a.label & b.label
            } else {
                a.count > b.count
            }
        });
        entries.retain(|e| {
            if e.label {
                e.count >= opts.min_count_label
            } else {
                e.count >= opts.min_count
            }
        });
        let nwords = entries.iter().filter(|e| !e.label).count();
        let nlabels = entries.len() - nwords;
        if nwords == 0 {
            return Err(LearnError::invalid(
                "empty vocabulary: try a smaller min_count",
            ));
        }
        if nlabels == 0 {
            return Err(LearnError::invalid(
                "no labels in the training data (lines need a __label__ token)",
            ));
        }
        let word2id: HashMap<Vec<u8>, usize> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.word.clone(), i))
            .collect();
        let mut subwords = Vec::with_capacity(nwords);
        for e in &entries[..nwords] {
            let mut s = vec![subwords.len() as u32];
            if e.word != EOS {
                let mut w = Vec::with_capacity(e.word.len() + 2);
                w.push(b'<');
                w.extend_from_slice(&e.word);
                w.push(b'>');
                compute_subwords(&opts, nwords, None, &w, &mut s);
            }
            subwords.push(s);
        }
        let dim = opts.dim;
        let rows = nwords + opts.bucket;
        let total = rows
            .checked_mul(dim)
            .filter(|&t| t <= (isize::MAX as usize) / 4)
            .ok_or_else(|| LearnError::invalid("input matrix too large"))?;
        let mut input = vec![0f32; total];
        {
            // DenseMatrix::uniform(1.0 / dim, thread = 1, seed): block 0 of 10.
            let a = (1.0f64 / dim as f64) as f32;
            let (lo, hi) = (f64::from(-a), f64::from(a));
            let mut rng = MinStd::new(i64::from(opts.seed));
            let block = total / 10;
            for v in input.iter_mut().take(block) {
                *v = (rng.canonical() * (hi - lo) + lo) as f32;
            }
        }
        let output = vec![0f32; nlabels * dim];
        let mut model = Model {
            opts,
            entries,
            nwords,
            ntokens,
            word2id,
            subwords,
            pruneidx: None,
            input,
            output,
        };
        let summary = model.run_sgd(lines);
        Ok((model, summary))
    }

    /// The SGD loop of `FastText::trainThread` (one thread) over `lines`, `opts.epoch` times
    /// the dictionary's tokens.
    pub(crate) fn run_sgd(&mut self, lines: &[String]) -> TrainSummary {
        let dim = self.opts.dim;
        let nlabels = self.entries.len() - self.nwords;
        let mut rng = MinStd::new(i64::from(self.opts.seed));
        let total_tokens = self.opts.epoch as i64 * self.ntokens;
        let mut token_count = 0i64;
        let mut local = 0i64;
        let (mut words, mut labels, mut hashes) = (Vec::new(), Vec::new(), Vec::new());
        let mut hidden = vec![0f32; dim];
        let mut grad = vec![0f32; dim];
        let mut out = vec![0f32; nlabels];
        let mut updates = 0u64;
        let mut loss_sum = 0f64;
        let mut li = 0usize;
        while token_count < total_tokens {
            let progress = token_count as f32 / total_tokens as f32;
            let lr = (self.opts.lr * (1.0 - f64::from(progress))) as f32;
            if li == lines.len() {
                li = 0; // the empty read at end of file: no tokens, no update
                continue;
            }
            let n = self.line(lines[li].as_bytes(), &mut words, &mut labels, &mut hashes);
            li += 1;
            local += n as i64;
            if !labels.is_empty() && !words.is_empty() {
                let t = rng.uniform_int(labels.len() as u64 - 1) as usize;
                let target = labels[t];
                // computeHidden
                hidden.iter_mut().for_each(|h| *h = 0.0);
                for &w in &words {
                    let row = &self.input[w as usize * dim..(w as usize + 1) * dim];
                    for (h, &x) in hidden.iter_mut().zip(row) {
                        *h += x;
                    }
                }
                let inv = (1.0f64 / words.len() as f64) as f32;
                hidden.iter_mut().for_each(|h| *h *= inv);
                grad.iter_mut().for_each(|g| *g = 0.0);
                softmax(&self.output, &hidden, &mut out);
                for (i, &o) in out.iter().enumerate() {
                    let label = if i == target { 1.0f32 } else { 0.0 };
                    let alpha = lr * (label - o);
                    let row = &mut self.output[i * dim..(i + 1) * dim];
                    for j in 0..dim {
                        grad[j] += alpha * row[j];
                    }
                    for j in 0..dim {
                        row[j] += alpha * hidden[j];
                    }
                }
                loss_sum += -f64::from(((f64::from(out[target])) + 1e-5).ln() as f32);
                updates += 1;
                grad.iter_mut().for_each(|g| *g *= inv);
                for &w in &words {
                    let row = &mut self.input[w as usize * dim..(w as usize + 1) * dim];
                    for (x, &g) in row.iter_mut().zip(&grad) {
                        *x += g;
                    }
                }
            }
            if local > self.opts.lr_update_rate as i64 {
                token_count += local;
                local = 0;
            }
        }
        TrainSummary {
            lines: lines.len(),
            nwords: self.nwords,
            nlabels,
            ntokens: self.ntokens,
            updates,
            avg_loss: if updates > 0 {
                loss_sum / updates as f64
            } else {
                0.0
            },
        }
    }

    /// Labels (with the `__label__` prefix), in output-matrix order.
    pub fn labels(&self) -> Vec<String> {
        self.entries[self.nwords..]
            .iter()
            .map(|e| String::from_utf8_lossy(&e.word).into_owned())
            .collect()
    }

    /// Number of dictionary words.
    pub fn nwords(&self) -> usize {
        self.nwords
    }

    /// The options used (after fastText's `bucket = 0` rule).
    pub fn options(&self) -> &TrainOptions {
        &self.opts
    }

    /// Top label (index into [`Model::labels`]) and its probability for a text (one line;
    /// newlines are separators), or `None` when no word or n-gram of the text is known.
    pub fn predict(&self, text: &str) -> Option<(usize, f32)> {
        let out = self.probabilities(text)?;
        let mut best = 0;
        for (i, &p) in out.iter().enumerate() {
            if p > out[best] {
                best = i;
            }
        }
        Some((best, out[best]))
    }

    /// The softmax probability of every label (in [`Model::labels`] order) for a text, or
    /// `None` when no word or n-gram of the text is known.
    pub fn probabilities(&self, text: &str) -> Option<Vec<f32>> {
        let (mut words, mut labels, mut hashes) = (Vec::new(), Vec::new(), Vec::new());
        self.line(text.as_bytes(), &mut words, &mut labels, &mut hashes);
        if words.is_empty() {
            return None;
        }
        let dim = self.opts.dim;
        let mut hidden = vec![0f32; dim];
        for &w in &words {
            let row = &self.input[w as usize * dim..(w as usize + 1) * dim];
            for (h, &x) in hidden.iter_mut().zip(row) {
                *h += x;
            }
        }
        let inv = (1.0f64 / words.len() as f64) as f32;
        hidden.iter_mut().for_each(|h| *h *= inv);
        let mut out = vec![0f32; self.entries.len() - self.nwords];
        softmax(&self.output, &hidden, &mut out);
        Some(out)
    }

    /// The model in fastText's `.bin` format (`FastText::saveModel`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(64 + 4 * (self.input.len() + self.output.len()));
        self.write_args_and_dictionary(&mut b, &self.entries, self.nwords, None);
        b.push(0); // quant_input
        let dim = self.opts.dim as i64;
        b.extend_from_slice(&((self.input.len() as i64) / dim).to_le_bytes());
        b.extend_from_slice(&dim.to_le_bytes());
        for v in &self.input {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.push(0); // qout
        write_dense(&mut b, &self.output, self.opts.dim);
        b
    }

    /// The magic, version, `Args::save` and `Dictionary::save` of fastText's model file, with
    /// these dictionary entries (`nwords` words, then labels) and, for a pruned dictionary,
    /// the bucket → row map of the n-grams kept (`Dictionary::prune`).
    pub(crate) fn write_args_and_dictionary(
        &self,
        b: &mut Vec<u8>,
        entries: &[Entry],
        nwords: usize,
        pruneidx: Option<&[(i32, i32)]>,
    ) {
        let o = &self.opts;
        let i32s = |b: &mut Vec<u8>, v: i32| b.extend_from_slice(&v.to_le_bytes());
        i32s(b, MAGIC as i32);
        i32s(b, VERSION);
        // Args::save
        for v in [
            o.dim as i32,
            5, // ws
            o.epoch as i32,
            o.min_count as i32,
            5, // neg
            o.word_ngrams as i32,
            3, // loss: softmax
            3, // model: supervised
            o.bucket as i32,
            o.minn as i32,
            o.maxn as i32,
            o.lr_update_rate as i32,
        ] {
            i32s(b, v);
        }
        b.extend_from_slice(&1e-4f64.to_le_bytes()); // t
        // Dictionary::save
        i32s(b, entries.len() as i32);
        i32s(b, nwords as i32);
        i32s(b, (entries.len() - nwords) as i32);
        b.extend_from_slice(&self.ntokens.to_le_bytes());
        let prune_size = pruneidx.map_or(-1, |p| p.len() as i64);
        b.extend_from_slice(&prune_size.to_le_bytes());
        for e in entries {
            b.extend_from_slice(&e.word);
            b.push(0);
            b.extend_from_slice(&e.count.to_le_bytes());
            b.push(u8::from(e.label));
        }
        for &(k, v) in pruneidx.unwrap_or_default() {
            i32s(b, k);
            i32s(b, v);
        }
    }

    /// Writes the `.bin` file.
    pub fn save(&self, path: &Path) -> Result<(), LearnError> {
        let mut f = std::fs::File::create(path).map_err(|e| LearnError::io(path, e))?;
        f.write_all(&self.to_bytes())
            .and_then(|_| f.flush())
            .map_err(|e| LearnError::io(path, e))
    }
}

/// `Dictionary::pushHash`: the row of n-gram bucket `id` — `nwords + id`, or in a pruned
/// dictionary its mapped row (none when the bucket was pruned, or no bucket was kept).
fn push_hash(nwords: usize, prune: Option<&HashMap<u32, u32>>, id: u32, out: &mut Vec<u32>) {
    match prune {
        None => out.push(nwords as u32 + id),
        Some(map) => {
            if let Some(&j) = map.get(&id) {
                out.push(nwords as u32 + j);
            }
        }
    }
}

/// `computeSubwords` on a word wrapped in `<` `>`: char n-gram rows (see [`push_hash`]).
pub(crate) fn compute_subwords(
    o: &TrainOptions,
    nwords: usize,
    prune: Option<&HashMap<u32, u32>>,
    word: &[u8],
    out: &mut Vec<u32>,
) {
    if o.maxn == 0 || o.bucket == 0 {
        return;
    }
    subword_hashes(word, o.minn, o.maxn, |h| {
        push_hash(nwords, prune, h % o.bucket as u32, out)
    });
}

/// `SoftmaxLoss::computeOutput`.
fn softmax(output: &[f32], hidden: &[f32], out: &mut [f32]) {
    let dim = hidden.len();
    for (i, o) in out.iter_mut().enumerate() {
        let row = &output[i * dim..(i + 1) * dim];
        let mut d = 0f32;
        for (a, b) in row.iter().zip(hidden) {
            d += a * b;
        }
        *o = d;
    }
    let mut max = out[0];
    for &v in out.iter() {
        if max < v {
            max = v;
        }
    }
    let mut z = 0f32;
    for v in out.iter_mut() {
        *v = (f64::from(*v - max)).exp() as f32;
        z += *v;
    }
    for v in out.iter_mut() {
        *v /= z;
    }
}

/// A dense matrix as `DenseMatrix::save`: rows, columns (i64), the values.
pub(crate) fn write_dense(b: &mut Vec<u8>, values: &[f32], dim: usize) {
    b.extend_from_slice(&((values.len() / dim) as i64).to_le_bytes());
    b.extend_from_slice(&(dim as i64).to_le_bytes());
    for v in values {
        b.extend_from_slice(&v.to_le_bytes());
    }
}

/// Accuracy (top label equals one of the given labels) of `model` on `(labels, text)` pairs.
pub fn accuracy(model: &Model, data: &[(Vec<String>, String)]) -> f64 {
    let labels = model.labels();
    let mut ok = 0usize;
    for (l, t) in data {
        if let Some((top, _)) = model.predict(t) {
            let name = labels[top]
                .strip_prefix(LABEL_PREFIX)
                .unwrap_or(&labels[top]);
            if l.iter().any(|x| x == name) {
                ok += 1;
            }
        }
    }
    if data.is_empty() {
        0.0
    } else {
        ok as f64 / data.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minstd_and_canonical_match_libstdcxx() {
        // std::minstd_rand(1): 48271, 182605794, ...
        let mut r = MinStd::new(0);
        assert_eq!(r.next(), 48_271);
        assert_eq!(r.next(), 182_605_794);
        // First input-matrix values fastText 0.9.2 writes for dim 10, seed 0.
        let mut r = MinStd::new(0);
        let a = (1.0f64 / 10.0) as f32;
        let v: Vec<f32> = (0..3)
            .map(|_| (r.canonical() * (f64::from(a) * 2.0) - f64::from(a)) as f32)
            .collect();
        let v: Vec<f64> = v.into_iter().map(f64::from).collect();
        assert_eq!(
            v,
            vec![
                -0.082_993_514_835_834_5,
                0.078_322_254_121_303_56,
                -0.062_062_047_421_932_22
            ]
        );
    }

    #[test]
    fn learns_a_toy_task_and_is_deterministic() {
        let mut lines = Vec::new();
        for i in 0..200 {
            let (l, t) = if i % 2 == 0 {
                ("pos", "good great fine nice")
            } else {
                ("neg", "bad awful poor ugly")
            };
            lines.push(fasttext_line(&[l.to_string()], &format!("{t} w{i}"), false));
        }
        let opts = TrainOptions {
            dim: 8,
            epoch: 5,
            lr: 0.5,
            word_ngrams: 2,
            bucket: 1000,
            ..Default::default()
        };
        let (m, s) = Model::train(&lines, &opts).unwrap();
        assert_eq!(s.nlabels, 2);
        let labels = m.labels();
        let (top, _) = m.predict("great nice").unwrap();
        assert_eq!(labels[top], "__label__pos");
        let (top, _) = m.predict("awful ugly").unwrap();
        assert_eq!(labels[top], "__label__neg");
        let (m2, _) = Model::train(&lines, &opts).unwrap();
        assert_eq!(m.to_bytes(), m2.to_bytes());
        assert!(Model::train(&["no labels here".to_string()], &opts).is_err());
    }
}
