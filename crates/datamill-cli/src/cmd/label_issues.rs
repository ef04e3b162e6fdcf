//! `datamill label-issues`: reads labels and out-of-fold predicted probabilities, finds label
//! issues with `datamill_learn::label_issues` (cleanlab's `find_label_issues`), writes the
//! flagged examples in rank order and prints a summary.

use std::io::Write;
use std::path::{Path, PathBuf};

use datamill_learn::LearnError;
use datamill_learn::io::{encode_labels, read_classes, read_labels, read_pred_probs};
use datamill_learn::label_issues::{
    FilterBy, FindOptions, RankBy, find_label_issues, label_quality_scores, num_label_issues,
    order_label_issues,
};

use super::stdout_err;

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

fn write_out(path: &Path, body: &[u8]) -> Result<(), LearnError> {
    let mut f = std::fs::File::create(path).map_err(|e| LearnError::io(path, e))?;
    f.write_all(body)
        .and_then(|_| f.flush())
        .map_err(|e| LearnError::io(path, e))
}

/// Runs `datamill label-issues`: writes the flagged examples and a summary to `out`.
pub fn run(args: &LabelIssuesArgs, out: &mut dyn std::io::Write) -> Result<(), LearnError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const SAMPLE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/samples/labeled_sample.jsonl"
    );

    /// datamill-learn's folder, which holds the digits test data and cleanlab's golden output.
    fn learn_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../datamill-learn")
    }

    #[test]
    fn label_issues_writes_ranked_jsonl() {
        let dir = tempfile::tempdir().unwrap();
        let labels = dir.path().join("digits.jsonl");
        let rows: String = std::fs::read_to_string(SAMPLE)
            .unwrap()
            .lines()
            .filter(|l| l.contains("\"dataset\": \"digits_noisy\""))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&labels, rows).unwrap();
        let out = dir.path().join("issues.jsonl");
        let args = LabelIssuesArgs {
            labels,
            label_field: "label".into(),
            id_field: "id".into(),
            pred_probs: learn_dir().join("tests/data/digits_noisy.pred_probs.npy"),
            probs_field: "pred_probs".into(),
            classes: None,
            filter_by: FilterBy::PruneByNoiseRate,
            rank_by: RankArg::SelfConfidence,
            frac_noise: 1.0,
            num_to_remove_per_class: None,
            min_examples_per_class: 1,
            output: out.clone(),
        };
        run(&args, &mut std::io::sink()).unwrap();
        let g: Value = serde_json::from_str(
            &std::fs::read_to_string(learn_dir().join("tests/golden/digits_noisy.cleanlab.json"))
                .unwrap(),
        )
        .unwrap();
        let want: Vec<u64> = g["peer_ranked_self_confidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect();
        let recs: Vec<Value> = std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(recs.len(), want.len());
        let got: Vec<u64> = recs.iter().map(|r| r["index"].as_u64().unwrap()).collect();
        assert_eq!(got, want);
        let r0 = &recs[0];
        assert_eq!(r0["rank"], 1);
        assert!(
            r0["id"]
                .as_str()
                .unwrap()
                .starts_with("sklearn-digits-noisy:"),
            "{r0}"
        );
        assert_ne!(r0["given_label"], r0["predicted_label"]);
        let q: Vec<f64> = recs
            .iter()
            .map(|r| r["label_quality"].as_f64().unwrap())
            .collect();
        assert!(q.windows(2).all(|w| w[0] <= w[1]));

        // a label that is not a pred_probs column is an error naming the row
        let bad = dir.path().join("bad.jsonl");
        std::fs::write(&bad, "{\"label\": 3}\n{\"label\": 12}\n").unwrap();
        let p = dir.path().join("p.csv");
        std::fs::write(&p, "0.5,0.5\n0.5,0.5\n").unwrap();
        let e = run(
            &LabelIssuesArgs {
                labels: bad,
                pred_probs: p,
                ..args
            },
            &mut std::io::sink(),
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("row 0") || e.to_string().contains("label 3"),
            "{e}"
        );
    }
}
