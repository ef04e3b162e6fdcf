//! Chinese: jieba 0.42.1's `cut`, spaCy's Chinese tokenizer on it, datatrove's sentences and the
//! four word-based filters with `language = "cmn_Hani"`, against goldens written by Python jieba
//! 0.42.1 + spaCy 3.8.18 + datatrove 0.10.1 (`tests/golden/make_golden_jieba.py`) on every
//! multilingual-sample document with a CJK ideograph and 3,000 synthetic strings.
//!
//! Needs jieba's data (`crates/datamill-filters/fetch-jieba.sh`, into `target/models/jieba`, or
//! `DATAMILL_TOKENIZER_DATA`): skipped with a notice when absent, a failure under
//! `DATAMILL_REQUIRE_MODELS=1`.

mod common;

use std::path::PathBuf;

use datamill_filters::jieba::Jieba;
use datamill_filters::{
    C4QualityFilter, Filter, FilterResult, FineWebQualityFilter, GopherQualityFilter,
    GopherRepetitionFilter, WordTokenizer, word_tokenizer,
};

fn jieba() -> Option<&'static Jieba> {
    let dir = std::env::var_os("DATAMILL_TOKENIZER_DATA")
        .map(|d| PathBuf::from(d).join("jieba"))
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/models/jieba")
        });
    if !dir.join("dict.txt").is_file() {
        let msg = format!("jieba data not found at {}", dir.display());
        assert!(
            std::env::var("DATAMILL_REQUIRE_MODELS").as_deref() != Ok("1"),
            "DATAMILL_REQUIRE_MODELS=1 but {msg}"
        );
        eprintln!("SKIPPED: {msg}; run crates/datamill-filters/fetch-jieba.sh");
        return None;
    }
    Some(Box::leak(Box::new(
        Jieba::load(&dir).expect("jieba data loads"),
    )))
}

fn strs(v: &serde_json::Value) -> Vec<&str> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_str().expect("str"))
        .collect()
}

#[test]
fn jieba_cut_tokens_and_sentences_match_python() {
    let Some(j) = jieba() else { return };
    let sample = common::ml_sample();
    let rows = common::golden_rows("jieba.jsonl.zst");
    let wt = WordTokenizer::Jieba(j);
    let (mut docs, mut synth, mut bad) = (0usize, 0usize, Vec::new());
    for g in &rows {
        let (label, text) = match g.get("text").and_then(|t| t.as_str()) {
            Some(t) => {
                synth += 1;
                (format!("{t:?}"), t)
            }
            None => {
                let Some(sample) = &sample else { continue };
                let id = g["id"].as_str().expect("id");
                docs += 1;
                (id.to_string(), sample[id].as_str())
            }
        };
        let cut = j.cut(text);
        if cut != strs(&g["cut"]) {
            let gold = strs(&g["cut"]);
            let k = cut.iter().zip(&gold).position(|(a, b)| a != b).unwrap_or(0);
            bad.push(format!(
                "{label}: cut at {k}: ours {:?} jieba {:?}",
                &cut[k.saturating_sub(2)..(k + 3).min(cut.len())],
                &gold[k.saturating_sub(2)..(k + 3).min(gold.len())]
            ));
            continue;
        }
        let toks = j.spacy_tokens(text);
        let texts: Vec<&str> = toks.iter().map(|t| t.text).collect();
        let space: String = toks
            .iter()
            .map(|t| if t.space_after { '1' } else { '0' })
            .collect();
        if texts != strs(&g["tokens"]) || space != g["space"].as_str().expect("space") {
            bad.push(format!("{label}: spaCy tokens differ"));
            continue;
        }
        let words: Vec<&str> = texts
            .iter()
            .map(|w| datamill_filters::pystr::strip(w))
            .filter(|w| !w.is_empty())
            .collect();
        if wt.words(text) != words {
            bad.push(format!("{label}: words differ"));
        }
        let sents = if toks.is_empty() {
            0
        } else {
            wt.sentence_count(text)
        };
        if sents as u64 != g["sents"].as_u64().expect("sents") {
            bad.push(format!(
                "{label}: sentences ours {sents} spaCy {}",
                g["sents"]
            ));
        }
        let lens: Vec<u64> = wt
            .sentences(text)
            .iter()
            .map(|s| s.chars().count() as u64)
            .collect();
        let glens: Vec<u64> = g["sent_lens"]
            .as_array()
            .expect("sent_lens")
            .iter()
            .map(|x| x.as_u64().expect("len"))
            .collect();
        if lens != glens {
            bad.push(format!("{label}: split_into_sentences differs"));
        }
    }
    assert!(synth >= 3000, "{synth}");
    assert!(
        bad.is_empty(),
        "{} of {} texts differ:\n{}",
        bad.len(),
        docs + synth,
        bad[..bad.len().min(20)].join("\n")
    );
    eprintln!("jieba: {docs} sample docs + {synth} synthetic strings equal");
}

#[test]
fn chinese_filters_match_datatrove() {
    let Some(_) = jieba() else { return };
    let Some(sample) = common::ml_sample() else {
        return;
    };
    // The shared segmenter is found beside the test binary (target/models/jieba) or through
    // DATAMILL_TOKENIZER_DATA.
    let lang = "cmn_Hani";
    match word_tokenizer(lang) {
        Ok(WordTokenizer::Jieba(_)) => {}
        other => panic!("{lang}: {other:?}"),
    }
    let gq = GopherQualityFilter {
        language: lang.into(),
        ..Default::default()
    };
    let gr = GopherRepetitionFilter {
        language: lang.into(),
        ..Default::default()
    };
    let fw = FineWebQualityFilter {
        language: lang.into(),
        ..Default::default()
    };
    let c4 = C4QualityFilter {
        language: lang.into(),
        ..Default::default()
    };
    let runs: [(&str, &dyn Filter); 4] = [
        ("gopher_quality", &gq),
        ("gopher_repetition", &gr),
        ("fineweb_quality", &fw),
        ("c4_quality", &c4),
    ];
    let (mut n, mut kept, mut bad) = (0usize, 0usize, Vec::new());
    for g in common::golden_rows("jieba.jsonl.zst") {
        let Some(id) = g.get("id").and_then(|v| v.as_str()) else {
            continue;
        };
        let text = sample[id].as_str();
        n += 1;
        for (run, f) in runs {
            f.validate().expect("valid");
            let (decision, new_text) = match f.filter(text) {
                FilterResult::Keep => ("kept".to_string(), None),
                FilterResult::Rewrite(t) => ("kept".to_string(), Some(t)),
                FilterResult::Drop(r) => (r.to_string(), None),
            };
            kept += usize::from(decision == "kept");
            let gd = g[run].as_str().expect("decision");
            let gt = g.get(format!("{run}_text")).and_then(|v| v.as_str());
            if decision != gd || new_text.as_deref() != gt {
                bad.push(format!("{id} {run}: ours {decision} datatrove {gd}"));
            }
        }
    }
    assert!(n > 200, "{n}");
    assert!(
        kept > 0,
        "every document dropped: the test would not see a wrong keep"
    );
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
