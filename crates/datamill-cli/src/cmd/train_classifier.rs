//! `datamill train-classifier`: trains a fastText-compatible supervised classifier
//! (`datamill_learn::train`) on labeled JSONL, writes the `.bin` and prints a summary (and the
//! held-out accuracy with `--validation`); with `--cv K`, writes out-of-fold predicted
//! probabilities (`datamill_learn::cv`) in the format `datamill label-issues` reads.

use std::path::{Path, PathBuf};

use datamill_learn::LearnError;
use datamill_learn::io::{encode_labels, read_labeled_texts, read_labels};
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
    /// Output model (fastText `.bin`), trained on all of `--input` (optional with `--cv`).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// K-fold cross-validation: K models, each trained on the other folds (stratified by
    /// label, seeded by `--seed`), give every example's out-of-fold class probabilities,
    /// written to `--pred-probs` — the input of `datamill label-issues`.
    #[arg(long, value_name = "K", requires = "pred_probs")]
    pub cv: Option<usize>,
    /// With `--cv`: out-of-fold probabilities, JSONL in input order
    /// `{"id", "label", "fold", "pred_probs": [..]}`; columns are the classes in the order
    /// `label-issues` assumes (integer labels: 0..max; names: sorted), also listed in
    /// `FILE.classes.json`.
    #[arg(long, value_name = "FILE", requires = "cv")]
    pub pred_probs: Option<PathBuf>,
    /// JSONL field with the example id (copied to `--pred-probs`).
    #[arg(long, default_value = "id")]
    pub id_field: String,
    /// Also write the model quantized as fastText's `quantize` does, to `--output` with the
    /// extension `.ftz` (same bytes as fastText for the same model and options).
    #[arg(long, requires = "output")]
    pub quantize: bool,
    /// With `--quantize`: keep this many input rows (words and n-grams) of largest norm,
    /// pruning the dictionary (0 = all; fastText's `-cutoff`).
    #[arg(long, default_value_t = 0, requires = "quantize")]
    pub cutoff: usize,
    /// With `--quantize`: values per sub-quantizer (fastText's `-dsub`).
    #[arg(long, default_value_t = 2, requires = "quantize")]
    pub dsub: usize,
    /// With `--quantize`: quantize the row norms separately (fastText's `-qnorm`).
    #[arg(long, requires = "quantize")]
    pub qnorm: bool,
    /// With `--quantize`: quantize the output matrix too (needs ≥ 256 labels; `-qout`).
    #[arg(long, requires = "quantize")]
    pub qout: bool,
    /// With `--quantize --cutoff`: train the pruned model again on `--input` before
    /// quantizing (fastText's `-retrain`), for `--retrain-epoch` epochs at `--retrain-lr`.
    #[arg(long, requires = "quantize")]
    pub retrain: bool,
    /// Epochs of `--retrain` (default: `--epoch`).
    #[arg(long, requires = "retrain")]
    pub retrain_epoch: Option<usize>,
    /// Learning rate of `--retrain` (default: `--lr`).
    #[arg(long, requires = "retrain")]
    pub retrain_lr: Option<f64>,
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
/// held-out accuracy with `--validation`) to `out`; with `--cv`, first the out-of-fold
/// probabilities.
pub fn run(args: &TrainClassifierArgs, out: &mut dyn std::io::Write) -> Result<(), LearnError> {
    if args.output.is_none() && args.cv.is_none() {
        return Err(LearnError::invalid(
            "give --output FILE (the model) and/or --cv K --pred-probs FILE",
        ));
    }
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
    if let (Some(k), Some(path)) = (args.cv, &args.pred_probs) {
        cross_validate(args, &data, k, &opts, path, out)?;
    }
    let Some(output) = &args.output else {
        return Ok(());
    };
    let t0 = std::time::Instant::now();
    let (model, s) = Model::train(&lines, &opts)?;
    let secs = t0.elapsed().as_secs_f64();
    model.save(output)?;
    let ftz = if args.quantize {
        let q = datamill_learn::quantize::quantize(
            &model,
            &datamill_learn::quantize::QuantizeOptions {
                cutoff: args.cutoff,
                dsub: args.dsub,
                qnorm: args.qnorm,
                qout: args.qout,
                retrain: args.retrain,
                epoch: args.retrain_epoch,
                lr: args.retrain_lr,
            },
            &lines,
        )?;
        let path = output.with_extension("ftz");
        write_atomic(&path, &q.bytes)?;
        Some((path, q))
    } else {
        None
    };
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
        output.display()
    )
    .map_err(stdout_err)?;
    if let Some((path, q)) = &ftz {
        writeln!(
            out,
            "quantize: {} of {} input rows ({} of {} words), {} bytes (the .bin: {} bytes); wrote {}",
            q.rows.1,
            q.rows.0,
            q.words.1,
            q.words.0,
            q.bytes.len(),
            std::fs::metadata(output).map_or(0, |m| m.len()),
            path.display()
        )
        .map_err(stdout_err)?;
    }
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

/// `--cv K`: the out-of-fold probabilities of `data` (the texts of `--input`, in order),
/// written to `path` (+ `path.classes.json`) through temporary names.
fn cross_validate(
    args: &TrainClassifierArgs,
    data: &[(Vec<String>, String)],
    k: usize,
    opts: &TrainOptions,
    path: &Path,
    out: &mut dyn std::io::Write,
) -> Result<(), LearnError> {
    // The labels as `label-issues` reads them from the same file, so the columns agree.
    let lf = read_labels(&args.input, &args.label_field, &args.id_field)?;
    if let Some(i) = data.iter().position(|(l, _)| l.len() != 1) {
        return Err(LearnError::invalid(format!(
            "{}: row {}: --cv needs exactly one label per example, found {}",
            args.input.display(),
            i + 1,
            data[i].0.len()
        )));
    }
    let enc = encode_labels(&lf.labels, None)?;
    if enc.labels.len() != data.len() {
        return Err(LearnError::invalid(format!(
            "{}: {} labels for {} texts",
            args.input.display(),
            enc.labels.len(),
            data.len()
        )));
    }
    let texts: Vec<String> = data.iter().map(|(_, t)| t.clone()).collect();
    let t0 = std::time::Instant::now();
    let cv = datamill_learn::cv::cross_val_probs(&texts, &enc.labels, &enc.classes, k, opts)?;
    let mut body = Vec::new();
    let mut correct = 0usize;
    for (i, row) in cv.probs.iter().enumerate() {
        let top = (0..row.len()).fold(0, |b, j| if row[j] > row[b] { j } else { b });
        correct += usize::from(top == enc.labels[i]);
        let rec = serde_json::json!({
            "id": lf.ids.get(i).cloned().flatten(),
            "label": enc.classes[enc.labels[i]],
            "fold": cv.fold[i],
            "pred_probs": row,
        });
        body.extend_from_slice(rec.to_string().as_bytes());
        body.push(b'\n');
    }
    write_atomic(path, &body)?;
    let classes = classes_path(path);
    write_atomic(
        &classes,
        serde_json::json!(enc.classes).to_string().as_bytes(),
    )?;
    writeln!(
        out,
        "cv: {k} folds over {} examples, {} classes in {:.2}s; out-of-fold accuracy {:.4}{}; \
         wrote {} and {}\nnext: datamill label-issues --labels {} --label-field {} --pred-probs {} \
         --output issues.jsonl",
        texts.len(),
        enc.classes.len(),
        t0.elapsed().as_secs_f64(),
        correct as f64 / texts.len() as f64,
        if cv.unknown_text > 0 {
            format!(
                " ({} texts with no known word got the class frequencies)",
                cv.unknown_text
            )
        } else {
            String::new()
        },
        path.display(),
        classes.display(),
        args.input.display(),
        args.label_field,
        path.display()
    )
    .map_err(stdout_err)
}

/// `FILE.classes.json` beside `FILE`.
fn classes_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".classes.json");
    path.with_file_name(name)
}

/// [`datamill_exec::task::write_atomic`] (temporary name, then rename), as a [`LearnError`].
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), LearnError> {
    datamill_exec::task::write_atomic(path, bytes)
        .map_err(|e| LearnError::io(path, std::io::Error::other(e.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cv_then_label_issues_finds_the_flipped_labels() {
        // Three classes with their own words; one example in 12 of each class has a wrong
        // label.
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("data.jsonl");
        let words = [
            ("perl", "perl module cpan regex script"),
            ("python", "python library pip wheel interpreter"),
            ("fonts", "truetype font family glyphs typeface"),
        ];
        let mut s = String::new();
        let mut flipped = Vec::new();
        for i in 0..360 {
            let (mut label, text) = words[i % 3];
            if (i / 3) % 12 == 5 {
                label = words[(i + 1) % 3].0;
                flipped.push(format!("doc{i}"));
            }
            let text = format!("{text} variant{i} {}", ["alpha", "beta", "gamma"][i % 2]);
            s.push_str(
                &serde_json::json!({"id": format!("doc{i}"), "text": text, "label": label})
                    .to_string(),
            );
            s.push('\n');
        }
        std::fs::write(&input, &s).unwrap();
        let probs = dir.path().join("oof.jsonl");
        let cmd = |extra: &[&str]| {
            let mut v = vec!["datamill", "train-classifier", "--input"];
            v.push(input.to_str().unwrap());
            v.extend_from_slice(&["--dim", "8", "--lr", "0.5", "--epoch", "10"]);
            v.extend_from_slice(extra);
            match <crate::Cli as clap::Parser>::try_parse_from(v).map(|c| c.command) {
                Ok(crate::Command::TrainClassifier(a)) => Ok(a),
                Ok(_) => unreachable!(),
                Err(e) => Err(e.to_string()),
            }
        };
        // --cv needs --pred-probs, and one of --output / --cv is needed.
        assert!(cmd(&["--cv", "5"]).unwrap_err().contains("--pred-probs"));
        let e = run(&cmd(&[]).unwrap(), &mut std::io::sink()).unwrap_err();
        assert!(e.to_string().contains("--cv K"), "{e}");
        let a = cmd(&["--cv", "5", "--pred-probs", probs.to_str().unwrap()]).unwrap();
        let mut said = Vec::new();
        run(&a, &mut said).unwrap();
        let said = String::from_utf8(said).unwrap();
        assert!(said.contains("next: datamill label-issues"), "{said}");
        let rows: Vec<serde_json::Value> = std::fs::read_to_string(&probs)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(rows.len(), 360);
        assert_eq!(rows[7]["id"], "doc7");
        assert_eq!(rows[7]["pred_probs"].as_array().unwrap().len(), 3);
        let classes = std::fs::read_to_string(dir.path().join("oof.jsonl.classes.json")).unwrap();
        assert_eq!(classes, r#"["fonts","perl","python"]"#);
        // Deterministic for a seed.
        let again = dir.path().join("oof2.jsonl");
        run(
            &cmd(&["--cv", "5", "--pred-probs", again.to_str().unwrap()]).unwrap(),
            &mut std::io::sink(),
        )
        .unwrap();
        assert_eq!(
            std::fs::read(&probs).unwrap(),
            std::fs::read(&again).unwrap()
        );

        // The second command, on the same file.
        let issues = dir.path().join("issues.jsonl");
        let v = vec![
            "datamill",
            "label-issues",
            "--labels",
            input.to_str().unwrap(),
            "--pred-probs",
            probs.to_str().unwrap(),
            "--output",
            issues.to_str().unwrap(),
        ];
        let Ok(crate::Command::LabelIssues(li)) =
            <crate::Cli as clap::Parser>::try_parse_from(v).map(|c| c.command)
        else {
            panic!("label-issues arguments")
        };
        crate::cmd::label_issues::run(&li, &mut std::io::sink()).unwrap();
        let found: Vec<String> = std::fs::read_to_string(&issues)
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["id"].as_str().unwrap().to_string()
            })
            .collect();
        let hits = found.iter().filter(|id| flipped.contains(id)).count();
        assert!(
            hits >= flipped.len() * 9 / 10,
            "{hits} of {} flipped found",
            flipped.len()
        );
        assert!(
            hits * 10 >= found.len() * 9,
            "{hits} of {} flagged are flipped",
            found.len()
        );
    }

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
            output: Some(output.clone()),
            cv: None,
            pred_probs: None,
            id_field: "id".into(),
            quantize: true,
            cutoff: 300,
            dsub: 2,
            qnorm: true,
            qout: false,
            retrain: true,
            retrain_epoch: Some(1),
            retrain_lr: None,
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
        // --quantize: the .ftz beside it, pruned to 300 rows, which datamill-fasttext reads.
        let ftz = datamill_fasttext::FastText::load(dir.path().join("m.ftz")).unwrap();
        assert!(ftz.is_quantized());
        assert!(ftz.nwords() <= 300, "{}", ftz.nwords());
        assert_eq!(ftz.predict("a perl module", 1, 0.0)[0].0, "__label__perl");
        assert!(
            std::fs::metadata(dir.path().join("m.ftz")).unwrap().len() * 2
                < std::fs::metadata(&output).unwrap().len()
        );

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
