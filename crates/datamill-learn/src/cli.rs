//! `datamill label-issues` and `datamill train-classifier`: clap argument structs and the
//! functions that run them (read files, compute, write outputs, print a summary).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::LearnError;
use crate::io::{encode_labels, read_classes, read_labeled_texts, read_labels, read_pred_probs};
use crate::label_issues::{
    FilterBy, FindOptions, RankBy, find_label_issues, label_quality_scores, num_label_issues,
    order_label_issues,
};
use crate::train::{Model, TrainOptions, fasttext_line};

/// Order of the flagged examples in the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[clap(rename_all = "snake_case")]
pub enum RankArg {
    /// Lowest self-confidence first (cleanlab's default `return_indices_ranked_by`).
    SelfConfidence,
    /// Lowest normalized margin first.
    NormalizedMargin,
    /// Lowest confidence-weighted entropy score first.
    ConfidenceWeightedEntropy,
    /// Input order (cleanlab's boolean mask); `label_quality` is then self-confidence.
    Index,
}

/// Arguments of `datamill label-issues`.
#[derive(Debug, Clone, clap::Args)]
pub struct LabelIssuesArgs {
    /// Labels: JSONL (field `--label-field`, ids from `--id-field`), CSV (column
    /// `--label-field` or the first), NPY (1-D integers) or text (one per line).
    #[arg(long, value_name = "FILE")]
    pub labels: PathBuf,
    /// Field / column holding the label.
    #[arg(long, default_value = "label")]
    pub label_field: String,
    /// JSONL field with the example id (copied to the output when present).
    #[arg(long, default_value = "id")]
    pub id_field: String,
    /// Out-of-fold predicted probabilities, N x K: `.npy` (float32/float64), `.csv`
    /// (one row per example) or `.jsonl` (an array per line, or `--probs-field`).
    #[arg(long, value_name = "FILE")]
    pub pred_probs: PathBuf,
    /// JSONL field with the probability array.
    #[arg(long, default_value = "pred_probs")]
    pub probs_field: String,
    /// JSON list of class names in pred_probs column order (e.g. cleanlab_issues.py's
    /// classes.json). Default: integer labels are column indices, string labels are sorted.
    #[arg(long, value_name = "FILE")]
    pub classes: Option<PathBuf>,
    /// cleanlab `filter_by`.
    #[arg(long, value_enum, default_value_t = FilterBy::PruneByNoiseRate)]
    pub filter_by: FilterBy,
    /// Ranking of the flagged examples (cleanlab `return_indices_ranked_by`).
    #[arg(long, value_enum, default_value_t = RankArg::SelfConfidence)]
    pub rank_by: RankArg,
    /// Fraction of the estimated noise to flag (prune methods only).
    #[arg(long, default_value_t = 1.0)]
    pub frac_noise: f64,
    /// Flag this many examples per class (prune methods only; one value, or one per class
    /// separated by commas).
    #[arg(long, value_delimiter = ',')]
    pub num_to_remove_per_class: Option<Vec<i64>>,
    /// Classes with at most this many examples are not pruned.
    #[arg(long, default_value_t = 1)]
    pub min_examples_per_class: usize,
    /// Output JSONL, one flagged example per line in rank order:
    /// `{"rank","index","id","given_label","predicted_label","label_quality","given_prob","predicted_prob"}`.
    #[arg(long, value_name = "FILE")]
    pub output: PathBuf,
}

/// Arguments of `datamill train-classifier`.
#[derive(Debug, Clone, clap::Args)]
pub struct TrainClassifierArgs {
    /// Labeled JSONL training data.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Field with the text (newlines become spaces).
    #[arg(long, default_value = "text")]
    pub text_field: String,
    /// Field with the label (a string/number, or a list for multi-label lines).
    #[arg(long, default_value = "label")]
    pub label_field: String,
    /// Output model (fastText `.bin`).
    #[arg(long, value_name = "FILE")]
    pub output: PathBuf,
    /// Held-out JSONL (same fields): prints accuracy of the top label.
    #[arg(long, value_name = "FILE")]
    pub validation: Option<PathBuf>,
    /// Lowercase texts before training (and validation).
    #[arg(long)]
    pub lowercase: bool,
    /// Epochs.
    #[arg(long, default_value_t = 5)]
    pub epoch: usize,
    /// Learning rate.
    #[arg(long, default_value_t = 0.1)]
    pub lr: f64,
    /// Hidden dimension.
    #[arg(long, default_value_t = 100)]
    pub dim: usize,
    /// Max word n-gram length.
    #[arg(long, default_value_t = 1)]
    pub word_ngrams: usize,
    /// Hash buckets for n-grams (forced to 0 when word_ngrams = 1 and maxn = 0, as fastText).
    #[arg(long, default_value_t = 2_000_000)]
    pub bucket: usize,
    /// Minimum word count.
    #[arg(long, default_value_t = 1)]
    pub min_count: i64,
    /// Min char n-gram length.
    #[arg(long, default_value_t = 0)]
    pub minn: usize,
    /// Max char n-gram length (0 = no char n-grams).
    #[arg(long, default_value_t = 0)]
    pub maxn: usize,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    pub seed: i32,
}

fn write_out(path: &Path, body: &[u8]) -> Result<(), LearnError> {
    let mut f = std::fs::File::create(path).map_err(|e| LearnError::io(path, e))?;
    f.write_all(body)
        .and_then(|_| f.flush())
        .map_err(|e| LearnError::io(path, e))
}

/// Runs `datamill label-issues`: writes the flagged examples and a summary to `out`.
pub fn run_label_issues(
    args: &LabelIssuesArgs,
    out: &mut dyn std::io::Write,
) -> Result<(), LearnError> {
    let lf = read_labels(&args.labels, &args.label_field, &args.id_field)?;
    let probs = read_pred_probs(&args.pred_probs, &args.probs_field)?;
    let classes = args.classes.as_deref().map(read_classes).transpose()?;
    let enc = encode_labels(&lf.labels, classes.as_deref())?;
    if enc.labels.len() != probs.n() {
        return Err(LearnError::invalid(format!(
            "{} has {} labels but {} has {} rows",
            args.labels.display(),
            enc.labels.len(),
            args.pred_probs.display(),
            probs.n()
        )));
    }
    let k = probs.k();
    let nrem = args.num_to_remove_per_class.as_ref().map(|v| {
        if v.len() == 1 {
            vec![v[0]; k]
        } else {
            v.clone()
        }
    });
    let opts = FindOptions {
        filter_by: args.filter_by,
        frac_noise: args.frac_noise,
        num_to_remove_per_class: nrem,
        min_examples_per_class: args.min_examples_per_class,
    };
    let mask = find_label_issues(&enc.labels, &probs, &opts)?;
    let method = match args.rank_by {
        RankArg::SelfConfidence | RankArg::Index => RankBy::SelfConfidence,
        RankArg::NormalizedMargin => RankBy::NormalizedMargin,
        RankArg::ConfidenceWeightedEntropy => RankBy::ConfidenceWeightedEntropy,
    };
    let order = if args.rank_by == RankArg::Index {
        (0..mask.len()).filter(|&i| mask[i]).collect()
    } else {
        order_label_issues(&mask, &enc.labels, &probs, method)?
    };
    let scores = label_quality_scores(&enc.labels, &probs, method, false)?;
    let name = |c: usize| enc.classes.get(c).cloned().unwrap_or_else(|| c.to_string());
    let mut body = Vec::new();
    for (rank, &i) in order.iter().enumerate() {
        let row = probs.row(i);
        let mut pred = 0;
        for (j, &v) in row.iter().enumerate() {
            if v > row[pred] {
                pred = j;
            }
        }
        let given = enc.labels[i];
        let rec = serde_json::json!({
            "rank": rank + 1,
            "index": i,
            "id": lf.ids.get(i).cloned().flatten(),
            "given_label": name(given),
            "predicted_label": name(pred),
            "label_quality": scores[i],
            "given_prob": row[given],
            "predicted_prob": row[pred],
        });
        body.extend_from_slice(rec.to_string().as_bytes());
        body.push(b'\n');
    }
    write_out(&args.output, &body)?;
    let est = num_label_issues(&enc.labels, &probs);
    let mut per_class = vec![0usize; k];
    for &i in &order {
        per_class[enc.labels[i]] += 1;
    }
    let mut top: Vec<(usize, usize)> = per_class
        .iter()
        .copied()
        .enumerate()
        .filter(|x| x.1 > 0)
        .collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    writeln!(
        out,
        "label-issues: {} examples, {} classes, filter_by {}: {} flagged ({:.2}%), ranked by {:?}; \
         num_label_issues estimate {}",
        probs.n(),
        k,
        args.filter_by.as_str(),
        order.len(),
        100.0 * order.len() as f64 / probs.n() as f64,
        args.rank_by,
        est
    )
    .map_err(stdout_err)?;
    let shown: Vec<String> = top
        .iter()
        .take(10)
        .map(|(c, n)| format!("{}={n}", name(*c)))
        .collect();
    if !shown.is_empty() {
        writeln!(
            out,
            "flagged per given label (top 10): {}",
            shown.join(", ")
        )
        .map_err(stdout_err)?;
    }
    writeln!(out, "wrote {}", args.output.display()).map_err(stdout_err)?;
    Ok(())
}

fn read_lines(
    path: &Path,
    text_field: &str,
    label_field: &str,
    lowercase: bool,
) -> Result<Vec<(Vec<String>, String)>, LearnError> {
    Ok(read_labeled_texts(path, text_field, label_field)?
        .into_iter()
        .map(|(l, t)| {
            let line = fasttext_line(&[], &t, lowercase);
            (l, line)
        })
        .collect())
}

/// Accuracy (top label equals one of the given labels) of `model` on `(labels, text)` pairs.
pub fn accuracy(model: &Model, data: &[(Vec<String>, String)]) -> f64 {
    let labels = model.labels();
    let mut ok = 0usize;
    for (l, t) in data {
        if let Some((top, _)) = model.predict(t) {
            let name = labels[top]
                .strip_prefix(crate::train::LABEL_PREFIX)
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

/// Runs `datamill train-classifier`: trains, writes the `.bin`, writes a summary (and the
/// held-out accuracy with `--validation`) to `out`.
pub fn run_train_classifier(
    args: &TrainClassifierArgs,
    out: &mut dyn std::io::Write,
) -> Result<(), LearnError> {
    let data = read_lines(
        &args.input,
        &args.text_field,
        &args.label_field,
        args.lowercase,
    )?;
    if data.is_empty() {
        return Err(LearnError::invalid(format!(
            "{}: no training examples",
            args.input.display()
        )));
    }
    let lines: Vec<String> = data
        .iter()
        .map(|(l, t)| fasttext_line(l, t, false))
        .collect();
    let opts = TrainOptions {
        lr: args.lr,
        dim: args.dim,
        epoch: args.epoch,
        min_count: args.min_count,
        word_ngrams: args.word_ngrams,
        bucket: args.bucket,
        minn: args.minn,
        maxn: args.maxn,
        seed: args.seed,
        ..Default::default()
    };
    let t0 = std::time::Instant::now();
    let (model, s) = Model::train(&lines, &opts)?;
    let secs = t0.elapsed().as_secs_f64();
    model.save(&args.output)?;
    writeln!(
        out,
        "train-classifier: {} lines, {} words, {} labels, {} tokens, {} epochs, {} updates in {:.2}s; \
         avg loss {:.4}; wrote {}",
        s.lines,
        s.nwords,
        s.nlabels,
        s.ntokens,
        opts.epoch,
        s.updates,
        secs,
        s.avg_loss,
        args.output.display()
    )
    .map_err(stdout_err)?;
    if let Some(v) = &args.validation {
        let val = read_lines(v, &args.text_field, &args.label_field, args.lowercase)?;
        let acc = accuracy(&model, &val);
        writeln!(
            out,
            "validation: {} examples, accuracy {:.4}",
            val.len(),
            acc
        )
        .map_err(stdout_err)?;
    }
    Ok(())
}

/// A failed write of the command's report.
fn stdout_err(e: std::io::Error) -> LearnError {
    LearnError::Io {
        path: "<stdout>".into(),
        source: e,
    }
}
