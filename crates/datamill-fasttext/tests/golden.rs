//! Parity with C++ fastText 0.9.2 (the `fasttext-numpy2-wheel` binding): golden files written
//! by `tests/golden/make_golden.py`.

mod common;

use std::collections::HashMap;

use datamill_fasttext::FastText;

const TOL: f64 = 1e-5;

struct Stats {
    docs: usize,
    preds: usize,
    max_prob_diff: f64,
    max_vec_diff: f64,
    exact: usize,
}

fn compare(
    name: &str,
    model: &FastText,
    text: &str,
    k: i64,
    thr: f32,
    rec: &serde_json::Value,
    st: &mut Stats,
) {
    let k = if k < 0 { usize::MAX } else { k as usize };
    let got = model.predict(text, k, thr);
    let labels: Vec<&str> = rec["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let probs: Vec<f64> = rec["probs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let got_labels: Vec<&str> = got.iter().map(|p| p.0).collect();
    assert_eq!(
        got_labels,
        labels,
        "{name}: labels differ for text {text:?} (k={k}, threshold={thr})\n got probs {:?}\nwant probs {probs:?}",
        got.iter().map(|p| p.1).collect::<Vec<_>>()
    );
    let mut exact = true;
    for ((_, p), want) in got.iter().zip(&probs) {
        let d = (f64::from(*p) - want).abs();
        exact &= *p == *want as f32;
        st.max_prob_diff = st.max_prob_diff.max(d);
        assert!(d <= TOL, "{name}: prob {p} vs {want} for {text:?}");
    }
    st.exact += usize::from(exact);
    st.docs += 1;
    st.preds += got.len();
    if let Some(vec) = rec.get("vector") {
        let v = model.sentence_vector(text);
        let want: Vec<f64> = vec
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        assert_eq!(v.len(), want.len());
        for (a, b) in v.iter().zip(&want) {
            let d = (f64::from(*a) - b).abs();
            st.max_vec_diff = st.max_vec_diff.max(d);
            assert!(d <= TOL, "{name}: sentence vector {a} vs {b} for {text:?}");
        }
    }
}

fn check_small(name: &str) {
    let path = common::small_model(name);
    let model = FastText::load(&path).unwrap();
    let mut st = Stats {
        docs: 0,
        preds: 0,
        max_prob_diff: 0.0,
        max_vec_diff: 0.0,
        exact: 0,
    };
    for rec in common::golden(name) {
        let text = rec["text"].as_str().unwrap();
        let k = rec["k"].as_i64().unwrap();
        let thr = rec["threshold"].as_f64().unwrap() as f32;
        compare(name, &model, text, k, thr, &rec, &mut st);
    }
    assert!(st.docs > 300);
    println!(
        "{name}: {} texts, {} predictions, labels identical, bit-exact probs on {} texts, max |prob diff| {:.3e}, max |vector diff| {:.3e}",
        st.docs, st.preds, st.exact, st.max_prob_diff, st.max_vec_diff
    );
}

#[test]
fn softmax_dense() {
    check_small("sm");
}

#[test]
fn hierarchical_softmax_dense() {
    check_small("hs");
}

#[test]
fn one_vs_all_word_bigrams() {
    check_small("ova");
}

#[test]
fn softmax_word_bigrams_no_char_ngrams() {
    check_small("sm_ng2");
}

#[test]
fn negative_sampling() {
    check_small("ns");
}

#[test]
fn softmax_many_labels() {
    check_small("lang");
}

#[test]
fn quantized_pruned_qnorm() {
    check_small("sm_q");
}

#[test]
fn quantized_hs_unpruned_uneven_subquantizers() {
    check_small("hs_q");
}

#[test]
fn quantized_pruned_word_bigrams() {
    check_small("ova_q");
}

#[test]
fn quantized_output_matrix() {
    check_small("lang_q");
}

#[test]
fn lid176_multilingual_sample() {
    let Some(model_path) = common::lid176() else {
        return;
    };
    let Some(sample) = common::sample("multilingual_sample.jsonl") else {
        return;
    };
    let t0 = std::time::Instant::now();
    let model = FastText::load(&model_path).unwrap();
    println!("lid.176.ftz loaded in {:?}", t0.elapsed());
    let mut texts: HashMap<String, String> = HashMap::new();
    for line in std::fs::read_to_string(sample).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        texts.insert(
            v["id"].as_str().unwrap().to_string(),
            common::prep(v["text"].as_str().unwrap()),
        );
    }
    let mut st = Stats {
        docs: 0,
        preds: 0,
        max_prob_diff: 0.0,
        max_vec_diff: 0.0,
        exact: 0,
    };
    for rec in common::golden("lid176_multilingual") {
        let id = rec["id"].as_str().unwrap();
        let text = &texts[id];
        assert_eq!(
            text.len() as u64,
            rec["text_bytes"].as_u64().unwrap(),
            "sample text {id} changed"
        );
        compare("lid176", &model, text, 5, 0.0, &rec, &mut st);
    }
    assert_eq!(st.docs, 4455);
    println!(
        "lid.176.ftz: {} docs, {} predictions (k=5): all labels identical, bit-exact probs on {} docs, max |prob diff| {:.3e}",
        st.docs, st.preds, st.exact, st.max_prob_diff
    );
}

#[test]
fn lid176_readme_examples() {
    let Some(model_path) = common::lid176() else {
        return;
    };
    let model = FastText::load(&model_path).unwrap();
    // Values from fasttext-numpy2-wheel 0.9.2: model.predict(text, k=2)
    let de = model.predict(
        "Der schnelle braune Fuchs springt über den faulen Hund.",
        2,
        0.0,
    );
    assert_eq!(de[0].0, "__label__de");
    assert_eq!(de[1].0, "__label__en");
    assert!((de[0].1 - 0.944_703_6).abs() < 1e-6 && (de[1].1 - 0.018_875_56).abs() < 1e-6);
    let fr = model.predict(
        "Le renard brun rapide saute par-dessus le chien paresseux.\nDeuxième ligne.",
        2,
        0.0,
    );
    assert_eq!(fr[0].0, "__label__fr");
    assert!((fr[0].1 - 0.951_442_8).abs() < 1e-6);
    assert_eq!(datamill_fasttext::strip_label_prefix(fr[0].0), "fr");
}
