//! The training arguments stored in a model header (fastText's `Args::save` layout).

use crate::error::FormatError;
use crate::reader::Reader;

/// The loss a model was trained with; it decides how probabilities are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    /// Hierarchical softmax over a Huffman tree of the labels (`-loss hs`, e.g. lid.176).
    HierarchicalSoftmax,
    /// Negative sampling (`-loss ns`); prediction uses one sigmoid per label.
    NegativeSampling,
    /// Plain softmax (`-loss softmax`, the default for supervised models).
    Softmax,
    /// One-vs-all (`-loss ova`): an independent sigmoid per label.
    OneVsAll,
}

/// The model architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// Unsupervised CBOW word vectors.
    Cbow,
    /// Unsupervised skip-gram word vectors.
    SkipGram,
    /// Supervised classifier (the only kind this crate predicts with).
    Supervised,
}

/// Training arguments stored in the model header, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Args {
    /// Dimension of the word vectors / hidden layer.
    pub dim: i32,
    /// Context window size (training only).
    pub ws: i32,
    /// Training epochs.
    pub epoch: i32,
    /// Minimum word count kept in the dictionary.
    pub min_count: i32,
    /// Negatives sampled (training only).
    pub neg: i32,
    /// Max length of word n-grams (1 = unigrams only).
    pub word_ngrams: i32,
    /// Loss function.
    pub loss: Loss,
    /// Model architecture.
    pub model: ModelKind,
    /// Number of hash buckets for char and word n-grams.
    pub bucket: i32,
    /// Minimum char n-gram length.
    pub minn: i32,
    /// Maximum char n-gram length (0 = no char n-grams).
    pub maxn: i32,
    /// Learning-rate update rate (training only).
    pub lr_update_rate: i32,
    /// Sampling threshold (training only).
    pub t: f64,
}

impl Args {
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, FormatError> {
        let dim = r.i32("args.dim")?;
        let ws = r.i32("args.ws")?;
        let epoch = r.i32("args.epoch")?;
        let min_count = r.i32("args.minCount")?;
        let neg = r.i32("args.neg")?;
        let word_ngrams = r.i32("args.wordNgrams")?;
        let loss = match r.i32("args.loss")? {
            1 => Loss::HierarchicalSoftmax,
            2 => Loss::NegativeSampling,
            3 => Loss::Softmax,
            4 => Loss::OneVsAll,
            v => return Err(r.invalid("args.loss", format!("unknown loss code {v}"))),
        };
        let model = match r.i32("args.model")? {
            1 => ModelKind::Cbow,
            2 => ModelKind::SkipGram,
            3 => ModelKind::Supervised,
            v => return Err(r.invalid("args.model", format!("unknown model code {v}"))),
        };
        let bucket = r.i32("args.bucket")?;
        let minn = r.i32("args.minn")?;
        let maxn = r.i32("args.maxn")?;
        let lr_update_rate = r.i32("args.lrUpdateRate")?;
        let t = r.f64("args.t")?;
        let args = Args {
            dim,
            ws,
            epoch,
            min_count,
            neg,
            word_ngrams,
            loss,
            model,
            bucket,
            minn,
            maxn,
            lr_update_rate,
            t,
        };
        if dim <= 0 {
            return Err(r.invalid("args.dim", format!("dimension {dim} must be positive")));
        }
        if bucket < 0 || minn < 0 || maxn < 0 {
            return Err(r.invalid(
                "args",
                format!("negative bucket/minn/maxn ({bucket}/{minn}/{maxn})"),
            ));
        }
        Ok(args)
    }
}
