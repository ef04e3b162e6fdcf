//! Burmese: pyidaungsu 0.1.4's CRF words as datatrove 0.10.1's `BurmeseTokenizer` returns them,
//! and the four word-based filters with `language = "mya_Mymr"`, against goldens written by
//! Python (`tests/golden/make_golden_burmese.py`) on the multilingual sample's Burmese, Mon and
//! Shan documents, 60 documents of Debian's Burmese messages (`tests/golden/docs_my.txt`) and
//! 2,000 synthetic strings. (Its sentences are the whitespace tokenizer's, tested in
//! golden_langs.)
//!
//! Needs pyidaungsu's model (`crates/datamill-filters/fetch-pyidaungsu.sh`, into
//! `target/models/pyidaungsu`, or `DATAMILL_TOKENIZER_DATA`): skipped with a notice when absent,
//! a failure under `DATAMILL_REQUIRE_MODELS=1`.

mod common;

use datamill_filters::burmese::Burmese;
use datamill_filters::{
    C4QualityFilter, Filter, FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter,
    WordTokenizer, word_tokenizer,
};

fn burmese() -> Option<&'static Burmese> {
    let dir = common::tokenizer_data("pyidaungsu", "tokenizer.crfsuite", "fetch-pyidaungsu.sh")?;
    Some(Box::leak(Box::new(
        Burmese::load(&dir).expect("pyidaungsu model loads"),
    )))
}

#[test]
fn burmese_words_match_pyidaungsu() {
    let Some(b) = burmese() else { return };
    let sample = common::ml_sample();
    let docs = common::golden_docs("docs_my.txt");
    let wt = WordTokenizer::Burmese(b);
    let (mut n, mut words_total, mut owned, mut bad) = (0usize, 0usize, 0usize, Vec::new());
    for g in common::golden_rows("burmese.jsonl.zst") {
        let Some((label, text)) = common::row_text(&g, &sample, &docs, "docs_my.txt") else {
            continue;
        };
        n += 1;
        let words = wt.words(text);
        owned += words
            .iter()
            .filter(|w| matches!(w, std::borrow::Cow::Owned(_)))
            .count();
        let gold: Vec<&str> = g["words"]
            .as_array()
            .expect("words")
            .iter()
            .map(|x| x.as_str().expect("str"))
            .collect();
        words_total += gold.len();
        if words != gold {
            let k = words
                .iter()
                .zip(&gold)
                .position(|(a, b)| a != b)
                .unwrap_or(words.len().min(gold.len()));
            bad.push(format!(
                "{label}: words at {k}: ours {:?} pyidaungsu {:?}",
                &words[k.saturating_sub(2)..(k + 3).min(words.len())],
                &gold[k.saturating_sub(2)..(k + 3).min(gold.len())]
            ));
        }
    }
    assert!(n >= 2060, "{n}");
    assert!(
        owned > 0,
        "no word spans a removed space: that path is untested"
    );
    assert!(
        bad.is_empty(),
        "{} of {n} texts differ:\n{}",
        bad.len(),
        bad[..bad.len().min(20)].join("\n")
    );
    eprintln!("burmese: {n} texts, {words_total} words equal ({owned} joined across a space)");
}

#[test]
fn burmese_filters_match_datatrove() {
    let Some(_) = burmese() else { return };
    let sample = common::ml_sample();
    let docs = common::golden_docs("docs_my.txt");
    let lang = "mya_Mymr";
    match word_tokenizer(lang) {
        Ok(WordTokenizer::Burmese(_)) => {}
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
    let (mut n, mut counts, mut bad) = (0usize, (0usize, 0usize), Vec::new());
    for g in common::golden_rows("burmese.jsonl.zst") {
        if g.get("gopher_quality").is_none() {
            continue;
        }
        let Some((label, text)) = common::row_text(&g, &sample, &docs, "docs_my.txt") else {
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
