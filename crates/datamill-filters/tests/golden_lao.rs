//! Lao: LaoNLP 1.3.0's words and sentences as datatrove 0.10.1's `LaoTokenizer` returns them,
//! `split_into_sentences`, and the four word-based filters with `language = "lao_Laoo"`, against
//! goldens written by Python (`tests/golden/make_golden_lao.py`) on the multilingual sample's Lao
//! documents, 8 documents of Debian's Lao messages (`tests/golden/docs_lo.txt`) and 2,000
//! synthetic strings.
//!
//! Needs LaoNLP's word list (`crates/datamill-filters/fetch-laonlp.sh`, into
//! `target/models/laonlp`, or `DATAMILL_TOKENIZER_DATA`): skipped with a notice when absent, a
//! failure under `DATAMILL_REQUIRE_MODELS=1`.

mod common;

use datamill_filters::lao::Lao;
use datamill_filters::{
    C4QualityFilter, Filter, FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter,
    WordTokenizer, word_tokenizer,
};

fn lao() -> Option<&'static Lao> {
    let dir = common::tokenizer_data("laonlp", "lao_words.json", "fetch-laonlp.sh")?;
    Some(Box::leak(Box::new(
        Lao::load(&dir).expect("LaoNLP data loads"),
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
fn lao_words_and_sentences_match_laonlp() {
    let Some(t) = lao() else { return };
    let sample = common::ml_sample();
    let docs = common::golden_docs("docs_lo.txt");
    let wt = WordTokenizer::Lao(t);
    let (mut n, mut bad) = (0usize, Vec::new());
    let (mut words_total, mut sents_total) = (0usize, 0usize);
    for g in common::golden_rows("lao.jsonl.zst") {
        let Some((label, text)) = common::row_text(&g, &sample, &docs, "docs_lo.txt") else {
            continue;
        };
        n += 1;
        let words: Vec<String> = wt.words(text).into_iter().map(|w| w.into_owned()).collect();
        let gold = strs(&g["words"]);
        words_total += gold.len();
        if words != gold {
            let k = words
                .iter()
                .zip(&gold)
                .position(|(a, b)| a != b)
                .unwrap_or(words.len().min(gold.len()));
            bad.push(format!(
                "{label}: words at {k}: ours {:?} LaoNLP {:?}",
                &words[k.saturating_sub(2)..(k + 3).min(words.len())],
                &gold[k.saturating_sub(2)..(k + 3).min(gold.len())]
            ));
        }
        let sents = t.sent_tokenize(text);
        sents_total += sents.len();
        if sents != strs(&g["sents"]) {
            bad.push(format!(
                "{label}: sentences ours {} LaoNLP {}",
                sents.len(),
                g["sents"].as_array().expect("sents").len()
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
        if wt.sentence_count(text) != glens.len().max(1) {
            bad.push(format!("{label}: sentence count differs"));
        }
    }
    assert!(n >= 2010, "{n}");
    assert!(
        bad.is_empty(),
        "{} of {n} texts differ:\n{}",
        bad.len(),
        bad[..bad.len().min(20)].join("\n")
    );
    eprintln!("lao: {n} texts, {words_total} words, {sents_total} sentences equal");
}

#[test]
fn lao_filters_match_datatrove() {
    let Some(_) = lao() else { return };
    let sample = common::ml_sample();
    let docs = common::golden_docs("docs_lo.txt");
    let lang = "lao_Laoo";
    match word_tokenizer(lang) {
        Ok(WordTokenizer::Lao(_)) => {}
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
    let c4s = C4QualityFilter {
        language: lang.into(),
        split_paragraph: false,
        ..Default::default()
    };
    let runs: [(&str, &dyn Filter); 5] = [
        ("gopher_quality", &gq),
        ("gopher_repetition", &gr),
        ("fineweb_quality", &fw),
        ("c4_quality", &c4),
        ("c4_quality_sentences", &c4s),
    ];
    let (mut n, mut counts, mut bad) = (0usize, (0usize, 0usize), Vec::new());
    for g in common::golden_rows("lao.jsonl.zst") {
        if g.get("gopher_quality").is_none() {
            continue;
        }
        let Some((label, text)) = common::row_text(&g, &sample, &docs, "docs_lo.txt") else {
            continue;
        };
        n += 1;
        common::check_filters(&g, &label, text, &runs, &mut counts, &mut bad);
    }
    assert!(n >= 12, "{n}");
    assert!(
        counts.0 > 0 && counts.1 > 0,
        "kept {} dropped {}: the test would not see a wrong decision",
        counts.0,
        counts.1
    );
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
