//! Parity with cleanlab 2.9.0 on `digits_noisy` and `debian_sections` (see tests/golden/README.md).

use std::path::PathBuf;

use datamill_learn::io::{encode_labels, read_classes, read_labels, read_pred_probs};
use datamill_learn::label_issues::{
    FilterBy, FindOptions, PredProbs, RankBy, compute_confident_joint, confident_thresholds,
    find_label_issues, keep_at_least_n_per_class, label_quality_scores, num_label_issues,
    order_label_issues,
};
use serde_json::Value;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/samples/labeled_sample.jsonl"
);

fn golden(name: &str) -> Value {
    let p = crate_dir().join(format!("tests/golden/{name}.cleanlab.json"));
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

fn ints(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

fn matrix(v: &Value) -> Vec<Vec<i64>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_i64().unwrap())
                .collect()
        })
        .collect()
}

fn filter(s: &str) -> FilterBy {
    match s {
        "prune_by_noise_rate" => FilterBy::PruneByNoiseRate,
        "prune_by_class" => FilterBy::PruneByClass,
        "both" => FilterBy::Both,
        "confident_learning" => FilterBy::ConfidentLearning,
        "predicted_neq_given" => FilterBy::PredictedNeqGiven,
        "low_self_confidence" => FilterBy::LowSelfConfidence,
        "low_normalized_margin" => FilterBy::LowNormalizedMargin,
        o => panic!("unknown filter {o}"),
    }
}

fn rank(s: &str) -> RankBy {
    match s {
        "self_confidence" => RankBy::SelfConfidence,
        "normalized_margin" => RankBy::NormalizedMargin,
        "confidence_weighted_entropy" => RankBy::ConfidenceWeightedEntropy,
        o => panic!("unknown rank {o}"),
    }
}

/// Labels of the data set read from the shared sample (through the crate's JSONL reader and the
/// committed class list), checked against the labels cleanlab saw.
fn labels_from_sample(name: &str, g: &Value) -> Vec<usize> {
    let tmp = tempfile::tempdir().unwrap();
    let subset = tmp.path().join("subset.jsonl");
    let text = std::fs::read_to_string(SAMPLE).unwrap();
    let rows: String = text
        .lines()
        .filter(|l| l.contains(&format!("\"dataset\": \"{name}\"")))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&subset, rows).unwrap();
    let lf = read_labels(&subset, "label", "id").unwrap();
    let classes =
        read_classes(&crate_dir().join(format!("tests/data/{name}.classes.json"))).unwrap();
    let enc = encode_labels(&lf.labels, Some(&classes)).unwrap();
    assert_eq!(
        enc.labels,
        ints(&g["labels"]),
        "{name}: labels from the sample"
    );
    assert!(lf.ids.iter().all(Option::is_some));
    enc.labels
}

fn check(name: &str) -> usize {
    let g = golden(name);
    let labels = labels_from_sample(name, &g);
    let p: PredProbs = read_pred_probs(
        &crate_dir().join(format!("tests/data/{name}.pred_probs.npy")),
        "",
    )
    .unwrap();
    assert_eq!(p.n(), g["n"].as_u64().unwrap() as usize);
    assert_eq!(p.k(), g["k"].as_u64().unwrap() as usize);

    // thresholds: same float64 values (numpy pairwise mean)
    let t = confident_thresholds(&labels, &p);
    let gt: Vec<f64> = g["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(t, gt, "{name}: thresholds");

    let (cj_u, off) = compute_confident_joint(&labels, &p, false);
    assert_eq!(
        cj_u,
        matrix(&g["confident_joint_uncalibrated"]),
        "{name}: uncalibrated joint"
    );
    assert_eq!(
        off,
        ints(&g["off_diagonal_indices"]),
        "{name}: off-diagonal indices"
    );
    let (cj, _) = compute_confident_joint(&labels, &p, true);
    assert_eq!(
        cj,
        matrix(&g["confident_joint"]),
        "{name}: calibrated joint"
    );
    let k = p.k();
    let cjt: Vec<Vec<i64>> = (0..k).map(|i| (0..k).map(|j| cj[j][i]).collect()).collect();
    assert_eq!(
        keep_at_least_n_per_class(&cjt, 1, 1.0),
        matrix(&g["prune_count_matrix"]),
        "{name}: prune count matrix"
    );
    assert_eq!(
        num_label_issues(&labels, &p),
        g["num_label_issues"].as_u64().unwrap() as usize
    );

    for (m, gs) in g["scores"].as_object().unwrap() {
        let s = label_quality_scores(&labels, &p, rank(m), false).unwrap();
        for (i, (a, b)) in s.iter().zip(gs.as_array().unwrap()).enumerate() {
            let b = b.as_f64().unwrap();
            assert!(
                (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                "{name} {m} row {i}: {a} vs {b}"
            );
        }
    }
    for (m, gs) in g["scores_adjusted"].as_object().unwrap() {
        let s = label_quality_scores(&labels, &p, rank(m), true).unwrap();
        for (i, (a, b)) in s.iter().zip(gs.as_array().unwrap()).enumerate() {
            let b = b.as_f64().unwrap();
            assert!(
                (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                "{name} adjusted {m} row {i}: {a} vs {b}"
            );
        }
    }

    let mut n_cases = 0;
    let mut tie_swaps = 0usize;
    for c in g["cases"].as_array().unwrap() {
        let opts = FindOptions {
            filter_by: filter(c["filter_by"].as_str().unwrap()),
            frac_noise: c.get("frac_noise").and_then(Value::as_f64).unwrap_or(1.0),
            num_to_remove_per_class: c.get("num_to_remove_per_class").map(|v| {
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_i64().unwrap())
                    .collect()
            }),
            min_examples_per_class: c
                .get("min_examples_per_class")
                .and_then(Value::as_u64)
                .unwrap_or(1) as usize,
        };
        let mask = find_label_issues(&labels, &p, &opts).unwrap();
        let got: Vec<usize> = match c["rank_by"].as_str() {
            None => (0..mask.len()).filter(|&i| mask[i]).collect(),
            Some(r) => order_label_issues(&mask, &labels, &p, rank(r)).unwrap(),
        };
        let want = ints(&c["indices"]);
        let label = format!(
            "{name}: {} ranked by {:?} {c}",
            c["filter_by"],
            c["rank_by"],
            c = {
                let mut c = c.clone();
                c.as_object_mut().unwrap().remove("indices");
                c
            }
        );
        assert_eq!(got, want, "{label}");
        if let Some(r) = c["rank_by"].as_str() {
            // How many ranked positions a stable sort would get wrong: the order numpy gives
            // exactly equal scores (duplicate documents) is part of what is checked above.
            let sc = label_quality_scores(&labels, &p, rank(r), false).unwrap();
            let mut stable = want.clone();
            stable.sort_by(|&a, &b| sc[a].total_cmp(&sc[b]).then(a.cmp(&b)));
            tie_swaps += stable.iter().zip(&want).filter(|(a, b)| a != b).count();
        }
        n_cases += 1;
    }
    assert!(n_cases >= 20);
    eprintln!(
        "{name}: {n_cases} cases identical; a stable sort would misplace {tie_swaps} ranked positions"
    );
    tie_swaps
}

#[test]
fn digits_noisy_matches_cleanlab() {
    // digits: no exact ties at all
    assert_eq!(check("digits_noisy"), 0);
    // ...and the peer script's own ranked output (same pred_probs, float64 as produced).
    let g = golden("digits_noisy");
    let default = &g["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["filter_by"] == "prune_by_noise_rate"
                && c["rank_by"] == "self_confidence"
                && c.get("frac_noise").is_none()
                && c.get("min_examples_per_class").is_none()
                && c.get("num_to_remove_per_class").is_none()
        })
        .unwrap()["indices"];
    assert_eq!(ints(default), ints(&g["peer_ranked_self_confidence"]));
}

#[test]
fn debian_sections_matches_cleanlab() {
    // Debian: duplicate package descriptions give identical pred_probs rows, which cleanlab
    // ranks in the order of numpy's (unstable) argsort; reproduced exactly (`sort::np_argsort`).
    let swaps = check("debian_sections");
    assert!(swaps > 0, "the Debian cases no longer exercise ties");
}

#[test]
fn npy_csv_jsonl_give_the_same_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let p = read_pred_probs(
        &crate_dir().join("tests/data/digits_noisy.pred_probs.npy"),
        "",
    )
    .unwrap();
    let csv: String = (0..p.n())
        .map(|i| {
            p.row(i)
                .iter()
                .map(|v| format!("{v:?}"))
                .collect::<Vec<_>>()
                .join(",")
                + "\n"
        })
        .collect();
    let jsonl: String = (0..p.n())
        .map(|i| serde_json::json!({ "pred_probs": p.row(i) }).to_string() + "\n")
        .collect();
    std::fs::write(dir.path().join("p.csv"), csv).unwrap();
    std::fs::write(dir.path().join("p.jsonl"), jsonl).unwrap();
    assert_eq!(
        read_pred_probs(&dir.path().join("p.csv"), "pred_probs").unwrap(),
        p
    );
    assert_eq!(
        read_pred_probs(&dir.path().join("p.jsonl"), "pred_probs").unwrap(),
        p
    );
}
