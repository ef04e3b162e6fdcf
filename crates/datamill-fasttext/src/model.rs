//! The loaded model and prediction (fastText's `FastText::loadModel`, `Model::predict` and the
//! `Loss::predict` implementations).

use std::path::{Path, PathBuf};

use crate::args::{Args, Loss, ModelKind};
use crate::dictionary::{Dictionary, LineScratch};
use crate::error::{Error, FormatError};
use crate::heap::{self, Pair};
use crate::matrix::Matrix;
use crate::reader::Reader;

/// fastText's `FASTTEXT_FILEFORMAT_MAGIC_INT32`.
pub const MAGIC: u32 = 793_712_314;
/// The file-format version fastText 0.9.x writes.
pub const VERSION: i32 = 12;

const SIGMOID_TABLE_SIZE: usize = 512;
const MAX_SIGMOID: f32 = 8.0;
/// Huffman-tree placeholder count for not-yet-built internal nodes.
const HS_UNBUILT: i64 = 1_000_000_000_000_000;

#[derive(Debug, Clone, Copy)]
struct Node {
    left: i32,
    right: i32,
}

#[derive(Debug)]
enum Output {
    Softmax,
    /// One sigmoid per label (`ova` and `ns`), through fastText's 512-entry lookup table.
    Sigmoid(Box<[f32; SIGMOID_TABLE_SIZE + 1]>),
    /// Hierarchical softmax; `tree[i]` for `i < nlabels` are the leaves.
    Hierarchical(Vec<Node>),
}

/// A loaded supervised fastText model (`.bin` or quantized `.ftz`).
///
/// Immutable after loading, `Send + Sync`: share one instance between threads.
#[derive(Debug)]
pub struct FastText {
    args: Args,
    dict: Dictionary,
    input: Matrix,
    output: Matrix,
    out: Output,
    quantized: bool,
    version: i32,
}

/// `std_log`: `std::log(x + 1e-5)` evaluated in double, argument and result in `f32`.
#[inline(always)]
fn std_log(x: f32) -> f32 {
    ((x as f64) + 1e-5).ln() as f32
}

impl FastText {
    /// Loads a model from a file (`.bin` or `.ftz`).
    ///
    /// Errors name the file: [`Error::Io`] if it cannot be read, [`Error::Format`] if the bytes
    /// are not a valid supported model.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes_named(&bytes, path)
    }

    /// Parses a model held in memory; errors name it `<memory>`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        Self::from_bytes_named(bytes, "<memory>")
    }

    /// Parses a model held in memory; errors name it `name`.
    pub fn from_bytes_named(bytes: &[u8], name: impl AsRef<Path>) -> Result<Self, Error> {
        Self::parse(bytes).map_err(|kind| Error::Format {
            path: PathBuf::from(name.as_ref()),
            kind,
        })
    }

    fn parse(bytes: &[u8]) -> Result<Self, FormatError> {
        let mut r = Reader::new(bytes);
        let magic = r.u32("magic number")?;
        if magic != MAGIC {
            return Err(FormatError::BadMagic {
                found: magic,
                expected: MAGIC,
            });
        }
        let version = r.i32("format version")?;
        if version != 11 && version != VERSION {
            return Err(FormatError::UnsupportedVersion { found: version });
        }
        let mut args = Args::read(&mut r)?;
        if version == 11 && args.model == ModelKind::Supervised {
            // fastText: old supervised models did not use char n-grams.
            args.maxn = 0;
        }
        if args.model != ModelKind::Supervised {
            return Err(FormatError::Unsupported(format!(
                "{:?} word-vector model: only supervised classifiers can predict labels",
                args.model
            )));
        }
        if args.bucket == 0 && (args.maxn > 0 || args.word_ngrams > 1) {
            return Err(r.invalid(
                "args.bucket",
                format!(
                    "0 buckets but maxn {} / wordNgrams {} need n-gram buckets",
                    args.maxn, args.word_ngrams
                ),
            ));
        }
        if (args.dim as u64) * 4 > bytes.len() as u64 {
            // A real model holds at least one dim-sized row (or dim * 256 centroids).
            return Err(r.invalid(
                "args.dim",
                format!("dimension {} is larger than the file can hold", args.dim),
            ));
        }
        let dict = Dictionary::read(&mut r, &args)?;
        if dict.nlabels() == 0 {
            return Err(r.invalid("dictionary", "the model has no labels"));
        }
        let quant_input = r.bool("quant_input flag")?;
        let input = Matrix::read(&mut r, quant_input)?;
        if !quant_input && dict.is_pruned() {
            return Err(r.invalid(
                "input matrix",
                "pruned dictionary with a dense input matrix (fastText rejects this too)",
            ));
        }
        let qout = r.bool("qout flag")?;
        let output = Matrix::read(&mut r, quant_input && qout)?;

        let dim = args.dim as usize;
        if input.cols() != dim || output.cols() != dim {
            return Err(r.invalid(
                "matrix shape",
                format!(
                    "input has {} columns and output {} but dim is {dim}",
                    input.cols(),
                    output.cols()
                ),
            ));
        }
        dict.check_rows(input.rows() as u64)
            .map_err(|d| r.invalid("input matrix", d))?;
        let nlabels = dict.nlabels();
        let need_out = match args.loss {
            Loss::HierarchicalSoftmax => nlabels - 1,
            _ => nlabels,
        };
        if output.rows() < need_out {
            return Err(r.invalid(
                "output matrix",
                format!("{} rows for {nlabels} labels", output.rows()),
            ));
        }
        let out = match args.loss {
            Loss::Softmax => Output::Softmax,
            Loss::OneVsAll | Loss::NegativeSampling => Output::Sigmoid(sigmoid_table()),
            Loss::HierarchicalSoftmax => Output::Hierarchical(
                build_tree(dict.label_counts()).map_err(|d| r.invalid("label counts", d))?,
            ),
        };
        Ok(FastText {
            args,
            dict,
            input,
            output,
            out,
            quantized: quant_input,
            version,
        })
    }

    /// The training arguments stored in the file.
    pub fn args(&self) -> &Args {
        &self.args
    }

    /// The file-format version (11 or 12).
    pub fn version(&self) -> i32 {
        self.version
    }

    /// Whether the input matrix is product-quantized (a `.ftz` model).
    pub fn is_quantized(&self) -> bool {
        self.quantized
    }

    /// Dimension of the hidden layer / sentence vectors.
    pub fn dim(&self) -> usize {
        self.args.dim as usize
    }

    /// Number of words in the dictionary.
    pub fn nwords(&self) -> usize {
        self.dict.nwords()
    }

    /// The labels, as stored (with their `__label__` prefix), indexed by label id.
    pub fn labels(&self) -> &[String] {
        self.dict.labels()
    }

    /// Predicts the `k` most likely labels of `text` whose probability is at least `threshold`,
    /// most likely first, exactly as fastText's Python `model.predict(text, k, threshold)`.
    ///
    /// `text` is one line: newlines count as spaces (what datatrove does before predicting; the
    /// Python binding refuses text with `\n`), and the end of the text adds the `</s>` token the
    /// binding's appended `"\n"` produces. Labels keep their `__label__` prefix (see
    /// [`crate::strip_label_prefix`]). Returns an empty vector if `k == 0` or the text has no
    /// known words or n-grams (fastText returns no prediction then either).
    pub fn predict(&self, text: &str, k: usize, threshold: f32) -> Vec<(&str, f32)> {
        self.predict_bytes(text.as_bytes(), k, threshold)
    }

    /// [`FastText::predict`] on raw bytes (fastText itself works on bytes, not on characters).
    pub fn predict_bytes(&self, text: &[u8], k: usize, threshold: f32) -> Vec<(&str, f32)> {
        self.predict_ids(text, k, threshold)
            .into_iter()
            .map(|(id, p)| (self.dict.labels()[id].as_str(), p))
            .collect()
    }

    /// Like [`FastText::predict_bytes`] but returns label ids (indices into
    /// [`FastText::labels`]) instead of names.
    pub fn predict_ids(&self, text: &[u8], k: usize, threshold: f32) -> Vec<(usize, f32)> {
        let mut scratch = LineScratch::default();
        let mut hidden = vec![0.0f32; self.dim()];
        if k == 0 || !self.hidden(text, &mut scratch, &mut hidden) {
            return Vec::new();
        }
        let mut heap: Vec<Pair> = Vec::with_capacity(k.min(self.dict.nlabels()) + 1);
        match &self.out {
            Output::Softmax => {
                let out = self.softmax(&hidden);
                find_k_best(&out, k, threshold, &mut heap);
            }
            Output::Sigmoid(table) => {
                let out: Vec<f32> = (0..self.dict.nlabels())
                    .map(|i| sigmoid(table, self.output.dot_row(&hidden, i)))
                    .collect();
                find_k_best(&out, k, threshold, &mut heap);
            }
            Output::Hierarchical(tree) => self.hs_dfs(tree, &hidden, k, threshold, &mut heap),
        }
        heap::sort_heap(&mut heap);
        heap.into_iter()
            .map(|(score, id)| (id as usize, score.exp()))
            .collect()
    }

    /// The sentence vector of `text` (fastText's `get_sentence_vector` for supervised models:
    /// the average of the input rows of its words, char n-grams and word n-grams; all zeros if
    /// there are none). Same text handling as [`FastText::predict`].
    pub fn sentence_vector(&self, text: &str) -> Vec<f32> {
        let mut hidden = vec![0.0f32; self.dim()];
        self.hidden(text.as_bytes(), &mut LineScratch::default(), &mut hidden);
        hidden
    }

    /// `Model::computeHidden`; returns false if the line has no input rows.
    fn hidden(&self, text: &[u8], s: &mut LineScratch, hidden: &mut [f32]) -> bool {
        self.dict.line_ids(text, s);
        if s.ids.is_empty() {
            return false;
        }
        for &id in &s.ids {
            self.input.add_row_to(hidden, id as usize);
        }
        let a = (1.0f64 / s.ids.len() as f64) as f32;
        for h in hidden.iter_mut() {
            *h *= a;
        }
        true
    }

    /// `SoftmaxLoss::computeOutput`.
    fn softmax(&self, hidden: &[f32]) -> Vec<f32> {
        let n = self.dict.nlabels();
        let mut out: Vec<f32> = (0..n).map(|i| self.output.dot_row(hidden, i)).collect();
        let mut max = out[0];
        for &v in &out {
            // std::max(output[i], max)
            if max < v {
                max = v;
            }
        }
        let mut z = 0.0f32;
        for v in out.iter_mut() {
            *v = ((*v - max) as f64).exp() as f32;
            z += *v;
        }
        for v in out.iter_mut() {
            *v /= z;
        }
        out
    }

    /// `HierarchicalSoftmaxLoss::dfs`, iteratively (same visiting order as the recursion).
    fn hs_dfs(
        &self,
        tree: &[Node],
        hidden: &[f32],
        k: usize,
        threshold: f32,
        heap: &mut Vec<Pair>,
    ) {
        let osz = self.dict.nlabels();
        let log_threshold = std_log(threshold);
        let mut stack: Vec<(usize, f32)> = vec![(2 * osz - 2, 0.0)];
        while let Some((node, score)) = stack.pop() {
            if score < log_threshold {
                continue;
            }
            if heap.len() == k && score < heap[0].0 {
                continue;
            }
            let n = tree[node];
            if n.left == -1 && n.right == -1 {
                heap::push_bounded(heap, (score, node as i32), k);
                continue;
            }
            let f = self.output.dot_row(hidden, node - osz);
            let e = (-f).exp();
            let f = (1.0f64 / f64::from(1.0f32 + e)) as f32;
            let left = score + std_log((1.0f64 - f64::from(f)) as f32);
            let right = score + std_log(f);
            // Visit left first, then right.
            stack.push((n.right as usize, right));
            stack.push((n.left as usize, left));
        }
    }
}

/// `Loss::findKBest`.
fn find_k_best(out: &[f32], k: usize, threshold: f32, heap: &mut Vec<Pair>) {
    for (i, &p) in out.iter().enumerate() {
        if p < threshold {
            continue;
        }
        let s = std_log(p);
        if heap.len() == k && s < heap[0].0 {
            continue;
        }
        heap::push_bounded(heap, (s, i as i32), k);
    }
}

/// fastText's sigmoid lookup table.
fn sigmoid_table() -> Box<[f32; SIGMOID_TABLE_SIZE + 1]> {
    let mut t = Box::new([0.0f32; SIGMOID_TABLE_SIZE + 1]);
    for (i, v) in t.iter_mut().enumerate() {
        let x =
            ((i as i64 * 2 * MAX_SIGMOID as i64) as f32) / SIGMOID_TABLE_SIZE as f32 - MAX_SIGMOID;
        *v = (1.0f64 / (1.0f64 + f64::from((-x).exp()))) as f32;
    }
    t
}

/// `Loss::sigmoid` (table lookup).
#[inline]
fn sigmoid(t: &[f32; SIGMOID_TABLE_SIZE + 1], x: f32) -> f32 {
    if x < -MAX_SIGMOID {
        0.0
    } else if x > MAX_SIGMOID {
        1.0
    } else {
        let i = ((x + MAX_SIGMOID) * SIGMOID_TABLE_SIZE as f32 / MAX_SIGMOID / 2.0) as i64;
        t[i.clamp(0, SIGMOID_TABLE_SIZE as i64) as usize]
    }
}

/// `HierarchicalSoftmaxLoss::buildTree`: the Huffman tree built from the label counts, which
/// fastText stores sorted by decreasing count.
fn build_tree(counts: &[i64]) -> Result<Vec<Node>, String> {
    let osz = counts.len();
    if osz == 0 {
        return Err("no labels".into());
    }
    if let Some(c) = counts.iter().find(|&&c| c >= HS_UNBUILT) {
        return Err(format!("label count {c} is too large for the Huffman tree"));
    }
    let total = 2 * osz - 1;
    let mut tree = vec![
        Node {
            left: -1,
            right: -1
        };
        total
    ];
    let mut count = vec![HS_UNBUILT; total];
    count[..osz].copy_from_slice(counts);
    let mut leaf = osz as i64 - 1;
    let mut node = osz;
    for i in osz..total {
        let mut mini = [0usize; 2];
        for m in &mut mini {
            if leaf >= 0 && count[leaf as usize] < count[node] {
                *m = leaf as usize;
                leaf -= 1;
            } else {
                *m = node;
                node += 1;
            }
        }
        // With counts below HS_UNBUILT the children are always leaves or finished nodes.
        if mini[0] >= i || mini[1] >= i {
            return Err("inconsistent Huffman tree".into());
        }
        tree[i] = Node {
            left: mini[0] as i32,
            right: mini[1] as i32,
        };
        count[i] = count[mini[0]].wrapping_add(count[mini[1]]);
    }
    Ok(tree)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huffman_tree_matches_fasttext_construction() {
        // counts sorted descending, as in a fastText dictionary
        let tree = build_tree(&[10, 5, 3, 1]).unwrap();
        assert_eq!(tree.len(), 7);
        // first merge: the two rarest leaves (3 and 2 -> counts 1 and 3)
        assert_eq!((tree[4].left, tree[4].right), (3, 2));
        // then leaf 1 (5) vs node 4 (4): node 4 is smaller, then leaf 1
        assert_eq!((tree[5].left, tree[5].right), (4, 1));
        assert_eq!((tree[6].left, tree[6].right), (5, 0));
        let one = build_tree(&[7]).unwrap();
        assert_eq!(one.len(), 1);
        assert!(build_tree(&[HS_UNBUILT, 1]).is_err());
    }

    #[test]
    fn sigmoid_table_is_fasttexts() {
        let t = sigmoid_table();
        assert_eq!(t[256], 0.5);
        assert!(t[0] < 0.001 && t[512] > 0.999);
        assert_eq!(sigmoid(&t, -9.0), 0.0);
        assert_eq!(sigmoid(&t, 9.0), 1.0);
        assert_eq!(sigmoid(&t, 0.0), 0.5);
        assert_eq!(sigmoid(&t, 8.0), t[512]);
    }

    #[test]
    fn std_log_is_computed_in_double() {
        assert_eq!(std_log(1.0), (1.00001f64).ln() as f32);
        assert!(std_log(0.0) < -11.5);
    }
}
