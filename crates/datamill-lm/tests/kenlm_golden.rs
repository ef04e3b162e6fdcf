//! Scores of every en_prose sample document against the `kenlm` Python package's, for the
//! same ARPA model (tests/golden/README.md says how the golden file was made).

use datamill_lm::ccnet::{self, DocOptions};
use datamill_lm::train::{TrainOptions, Trainer};
use datamill_lm::{Model, kenlm_words};
use serde_json::Value;

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/samples/en_prose_sample.jsonl"
);
const ARPA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/en_prose_o5.arpa");
const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/golden/kenlm_golden.jsonl"
);

fn docs() -> Vec<Value> {
    std::fs::read_to_string(SAMPLE)
        .expect("shared/ sample next to the repository")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-4 * b.abs().max(1.0)
}

#[test]
fn every_document_scores_as_kenlm() {
    let model = Model::from_arpa_file(std::path::Path::new(ARPA)).unwrap();
    assert_eq!(model.order(), 5);
    let golden: Vec<Value> = std::fs::read_to_string(GOLDEN)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let docs = docs();
    assert_eq!(docs.len(), golden.len());
    assert!(docs.len() > 2000);
    let ident = ccnet::whitespace_tokens;
    let (mut exact, mut full_checked) = (0, 0);
    for (d, g) in docs.iter().zip(&golden) {
        assert_eq!(d["id"], g["id"]);
        let text = d["text"].as_str().unwrap();
        let id = g["id"].as_str().unwrap();

        let raw = model.score(text, true, true);
        let want = g["raw"].as_f64().unwrap();
        assert!(close(f64::from(raw), want), "{id}: raw {raw} vs {want}");
        // (f32 values: the f64 parse of their JSON text rounds back to the same f32)
        exact += usize::from(raw == want as f32);

        let c = ccnet::score_doc(&model, text, DocOptions::default(), &ident);
        let gc = &g["ccnet"];
        assert_eq!(c.length, gc["length"].as_u64().unwrap(), "{id}");
        assert!(
            close(c.log10, gc["log"].as_f64().unwrap()),
            "{id}: {c:?} {gc}"
        );
        let pp = c.perplexity();
        assert!(close(pp, gc["pp"].as_f64().unwrap()), "{id}: {pp} {gc}");
        assert_eq!(ccnet::round1(pp), gc["pp1"].as_f64().unwrap(), "{id}");
        exact +=
            usize::from((c.log10 - gc["log"].as_f64().unwrap()).abs() <= 1e-12 * c.log10.abs());

        let opts = DocOptions {
            normalize: true,
            per_line: false,
        };
        let w = ccnet::score_doc(&model, text, opts, &ident);
        let gd = &g["doc"];
        assert_eq!(w.length, gd["length"].as_u64().unwrap(), "{id}");
        assert!(close(w.log10, gd["log"].as_f64().unwrap()), "{id}");
        assert!(close(w.perplexity(), gd["pp"].as_f64().unwrap()), "{id}");

        if let Some(f) = g.get("full") {
            let line = f["line"].as_str().unwrap();
            let ours = model.full_scores(line, true, true);
            let theirs = f["scores"].as_array().unwrap();
            assert_eq!(ours.len(), theirs.len(), "{id}");
            for (o, t) in ours.iter().zip(theirs) {
                assert_eq!(o.prob, t[0].as_f64().unwrap() as f32, "{id}: {line}");
                assert_eq!(u64::from(o.ngram_length), t[1].as_u64().unwrap(), "{id}");
                assert_eq!(o.oov, t[2].as_bool().unwrap(), "{id}");
            }
            full_checked += 1;
        }
    }
    assert_eq!(full_checked, 40);
    // The sums are done in f32 in KenLM's order, so the scores are bit-identical.
    assert_eq!(exact, 2 * docs.len());
}

/// The committed model is exactly what the trainer makes from the first 120 documents.
#[test]
fn committed_model_is_the_trainers_output() {
    let mut t = Trainer::new(TrainOptions::new(5)).unwrap();
    for d in docs().iter().take(120) {
        for l in d["text"].as_str().unwrap().split('\n') {
            let n = ccnet::normalize(l);
            t.add_sentence(kenlm_words(&n));
        }
    }
    let trained = t.finish().unwrap();
    let committed = std::fs::read_to_string(ARPA).unwrap();
    assert!(trained.arpa == committed, "the trainer's output changed");
    assert_eq!(trained.fallback, [false, false, true, true, false]);
}
