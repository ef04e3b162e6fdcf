//! `datamill train-classifier`: trains a fastText-compatible supervised classifier
//! (`datamill_learn::train`) on labeled JSONL, writes the `.bin` and prints a summary (and the
//! held-out accuracy with `--validation`).

use std::path::{Path, PathBuf};

use datamill_learn::LearnError;
use datamill_learn::io::read_labeled_texts;
use datamill_learn::train::{Model, TrainOptions, accuracy, fasttext_line};

use super::stdout_err;

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

/// Runs `datamill train-classifier`: trains, writes the `.bin`, writes a summary (and the
/// held-out accuracy with `--validation`) to `out`.
pub fn run(args: &TrainClassifierArgs, out: &mut dyn std::io::Write) -> Result<(), LearnError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn train_classifier_writes_a_model_fasttext_reads() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("train.jsonl");
        let mut s = String::new();
        for i in 0..300 {
            let (l, t) = if i % 3 == 0 {
                ("perl", "perl module for cpan parsing")
            } else if i % 3 == 1 {
                ("python", "python library module for pip")
            } else {
                ("fonts", "truetype font family glyphs")
            };
            s.push_str(
                &serde_json::json!({"text": format!("{t}\nvariant {i}"), "label": l}).to_string(),
            );
            s.push('\n');
        }
        std::fs::write(&input, &s).unwrap();
        let output = dir.path().join("m.bin");
        let args = TrainClassifierArgs {
            input: input.clone(),
            text_field: "text".into(),
            label_field: "label".into(),
            output: output.clone(),
            validation: Some(input),
            lowercase: false,
            epoch: 5,
            lr: 0.5,
            dim: 8,
            word_ngrams: 2,
            bucket: 1000,
            min_count: 1,
            minn: 0,
            maxn: 0,
            seed: 1,
        };
        run(&args, &mut std::io::sink()).unwrap();
        let ft = datamill_fasttext::FastText::load(&output).unwrap();
        assert_eq!(ft.labels().len(), 3);
        assert_eq!(ft.predict("a perl module", 1, 0.0)[0].0, "__label__perl");
        assert_eq!(ft.predict("font glyphs", 1, 0.0)[0].0, "__label__fonts");
        assert_eq!(ft.dim(), 8);

        let bad = dir.path().join("bad.jsonl");
        std::fs::write(
            &bad,
            "{\"text\": \"x\", \"label\": \"a\"}\n{\"text\": 5, \"label\": \"b\"}\n",
        )
        .unwrap();
        let e = run(
            &TrainClassifierArgs {
                input: bad,
                validation: None,
                ..args
            },
            &mut std::io::sink(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("bad.jsonl") && e.contains("row 2") && e.contains("`text`"),
            "{e}"
        );
    }
}
