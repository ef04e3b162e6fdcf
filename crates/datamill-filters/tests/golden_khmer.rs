//! Khmer: khmer-nltk 1.6's words and sentences as datatrove 0.10.1's `KhmerTokenizer` returns
//! them, `split_into_sentences`, and the four word-based filters with `language = "khm_Khmr"`,
//! against goldens written by Python (`tests/golden/make_golden_khmer.py`) on the multilingual
//! sample's Khmer documents, 60 documents of Debian's Khmer messages (`tests/golden/docs_km.txt`)
//! and 2,000 synthetic strings.
//!
//! Needs khmer-nltk's data (`crates/datamill-filters/fetch-khmernltk.sh`, into
//! `target/models/khmernltk`, or `DATAMILL_TOKENIZER_DATA`): skipped with a notice when absent, a
//! failure under `DATAMILL_REQUIRE_MODELS=1`.

mod common;

use datamill_filters::khmer::Khmer;
use datamill_filters::{
    C4QualityFilter, Filter, FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter,
    WordTokenizer, word_tokenizer,
};

fn khmer() -> Option<&'static Khmer> {
    let dir = common::tokenizer_data("khmernltk", "word_crf.crfsuite", "fetch-khmernltk.sh")?;
    Some(Box::leak(Box::new(
        Khmer::load(&dir).expect("khmer-nltk data loads"),
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
fn khmer_words_and_sentences_match_khmer_nltk() {
    let Some(t) = khmer() else { return };
    let sample = common::ml_sample();
    let docs = common::golden_docs("docs_km.txt");
    let wt = WordTokenizer::Khmer(t);
    let (mut n, mut bad) = (0usize, Vec::new());
    let (mut words_total, mut sents_total) = (0usize, 0usize);
    for g in common::golden_rows("khmer.jsonl.zst") {
        let Some((label, text)) = common::row_text(&g, &sample, &docs, "docs_km.txt") else {
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
                "{label}: words at {k}: ours {:?} khmer-nltk {:?}",
                &words[k.saturating_sub(2)..(k + 3).min(words.len())],
                &gold[k.saturating_sub(2)..(k + 3).min(gold.len())]
            ));
        }
        let sents = t.sent_tokenize(text);
        sents_total += sents.len();
        if sents != strs(&g["sents"]) {
            bad.push(format!(
                "{label}: sentences ours {} khmer-nltk {}",
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
    assert!(n >= 2060, "{n}");
    assert!(
        bad.is_empty(),
        "{} of {n} texts differ:\n{}",
        bad.len(),
        bad[..bad.len().min(20)].join("\n")
    );
    eprintln!("khmer: {n} texts, {words_total} words, {sents_total} sentences equal");
}

#[test]
fn khmer_filters_match_datatrove() {
    let Some(_) = khmer() else { return };
    let sample = common::ml_sample();
    let docs = common::golden_docs("docs_km.txt");
    let lang = "khm_Khmr";
    match word_tokenizer(lang) {
        Ok(WordTokenizer::Khmer(_)) => {}
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
    for g in common::golden_rows("khmer.jsonl.zst") {
        if g.get("gopher_quality").is_none() {
            continue;
        }
        let Some((label, text)) = common::row_text(&g, &sample, &docs, "docs_km.txt") else {
            continue;
        };
        n += 1;
        common::check_filters(&g, &label, text, &runs, &mut counts, &mut bad);
    }
    assert!(n >= 60, "{n}");
    assert!(
        counts.0 > 0 && counts.1 > 0,
        "kept {} dropped {}: the test would not see a wrong decision",
        counts.0,
        counts.1
    );
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
