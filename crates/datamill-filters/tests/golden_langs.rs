//! Every spaCy language class datatrove 0.10.1 tokenizes with spaCy's rule-based tokenizer:
//! tokens (whitespace tokens and trailing-space flags included) and sentencizer sentence counts
//! against goldens written by spaCy 3.8.18 through datatrove (`tests/golden/make_golden_langs.py`),
//! and the generic pattern engine run with spaCy's English rules against the English goldens.

mod common;

use std::collections::BTreeMap;

use datamill_filters::tokenizer::{Tokenizer, spacy_languages};

/// Compare one text; `Some(message)` on a difference.
fn diff(t: &Tokenizer, label: &str, text: &str, g: &serde_json::Value) -> Option<String> {
    let toks = t.tokenize(text);
    let mine: Vec<&str> = toks.iter().map(|x| x.text).collect();
    let gold: Vec<&str> = g["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .map(|x| x.as_str().expect("str"))
        .collect();
    if mine != gold {
        let k = mine
            .iter()
            .zip(&gold)
            .position(|(a, b)| a != b)
            .unwrap_or(mine.len().min(gold.len()));
        let lo = k.saturating_sub(3);
        return Some(format!(
            "{label}: token {k}: ours {:?} spaCy {:?}",
            &mine[lo..(k + 4).min(mine.len())],
            &gold[lo..(k + 4).min(gold.len())]
        ));
    }
    let space: String = toks
        .iter()
        .map(|x| if x.space_after { '1' } else { '0' })
        .collect();
    if space != g["space"].as_str().expect("space") {
        return Some(format!("{label}: trailing-space flags differ"));
    }
    let sents = if toks.is_empty() {
        0
    } else {
        t.sentence_count(text)
    };
    if sents as u64 != g["sents"].as_u64().expect("sents") {
        return Some(format!(
            "{label}: sentences ours {sents} spaCy {}",
            g["sents"]
        ));
    }
    None
}

#[test]
fn every_spacy_language_matches_spacy() {
    let sample = common::ml_sample();
    let rows = common::golden_rows("tokens_langs.jsonl.zst");
    let mut per_lang: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut bad = Vec::new();
    let mut skipped = 0usize;
    for g in &rows {
        let lang = g["lang"].as_str().expect("lang");
        let t = Tokenizer::spacy(lang).unwrap_or_else(|| panic!("no tokenizer for {lang}"));
        let (label, text) = match (g.get("id"), g.get("text")) {
            (_, Some(serde_json::Value::String(s))) => {
                (format!("{lang} synthetic {s:?}"), s.as_str())
            }
            (Some(id), _) => {
                let id = id.as_str().expect("id");
                match sample.as_ref() {
                    Some(m) => (format!("{lang} {id}"), m[id].as_str()),
                    None => {
                        skipped += 1;
                        continue;
                    }
                }
            }
            _ => panic!("row without id or text"),
        };
        let e = per_lang.entry(lang.to_string()).or_default();
        e.0 += 1;
        if let Some(d) = diff(t, &label, text, g) {
            e.1 += 1;
            bad.push(d);
        }
    }
    assert_eq!(
        per_lang.len(),
        spacy_languages().len(),
        "every bundled language has goldens"
    );
    if skipped > 0 {
        eprintln!("{skipped} sample rows skipped (no ../shared)");
    }
    let summary: Vec<String> = per_lang
        .iter()
        .filter(|(_, (_, b))| *b > 0)
        .map(|(l, (n, b))| format!("{l}: {b}/{n}"))
        .collect();
    assert!(
        bad.is_empty(),
        "{} of {} texts differ ({}):\n{}",
        bad.len(),
        rows.len(),
        summary.join(", "),
        bad.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn generic_engine_with_english_rules_matches_spacy() {
    let t = Tokenizer::from_spacy_rules("en").expect("en rules are bundled");
    let mut bad = Vec::new();
    for g in common::golden_rows("tokens_synth.jsonl.zst") {
        let text = g["text"].as_str().expect("text");
        if let Some(d) = diff(&t, &format!("synthetic {text:?}"), text, &g) {
            bad.push(d);
        }
    }
    if let Ok(data) = std::fs::read_to_string(common::SAMPLE) {
        let gold = common::golden_by_id("tokens.jsonl.zst");
        for l in data.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            let id = match &v["id"] {
                serde_json::Value::String(s) => s.clone(),
                o => o.to_string(),
            };
            let text = v["text"].as_str().expect("text");
            if let Some(d) = diff(&t, &id, text, &gold[&id]) {
                bad.push(d);
            }
        }
    } else {
        assert!(
            std::env::var("DATAMILL_REQUIRE_MODELS").as_deref() != Ok("1"),
            "{} missing",
            common::SAMPLE
        );
        eprintln!("skipping the en_prose sample: {} missing", common::SAMPLE);
    }
    assert!(
        bad.is_empty(),
        "{} differ:\n{}",
        bad.len(),
        bad.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// `split_into_words` and `split_into_sentences` of every sample document datatrove tokenizes
/// with spaCy rules or its whitespace tokenizer, with the document's own language code.
#[test]
fn words_and_sentences_per_language() {
    let Some(sample) = common::ml_sample() else {
        return;
    };
    let mut bad = Vec::new();
    let rows = common::golden_rows("words_langs.jsonl.zst");
    for g in &rows {
        let id = g["id"].as_str().expect("id");
        let lang = g["language"].as_str().expect("language");
        let text = sample[id].as_str();
        let t = datamill_filters::word_tokenizer(lang).unwrap_or_else(|e| panic!("{e}"));
        let words = t.words(text);
        let gw: Vec<&str> = g["words"]
            .as_array()
            .expect("words")
            .iter()
            .map(|x| x.as_str().expect("str"))
            .collect();
        if words != gw {
            let k = words.iter().zip(&gw).position(|(a, b)| a != b).unwrap_or(0);
            bad.push(format!(
                "{id} ({lang}): word {k}: ours {:?} datatrove {:?}",
                words.get(k),
                gw.get(k)
            ));
            continue;
        }
        let sents = t.sentences(text);
        let gs: Vec<&str> = g["sentences"]
            .as_array()
            .expect("sentences")
            .iter()
            .map(|x| x.as_str().expect("str"))
            .collect();
        if sents != gs {
            bad.push(format!(
                "{id} ({lang}): {} sentences, datatrove {}",
                sents.len(),
                gs.len()
            ));
        } else if t.sentence_count(text) != gs.len() {
            bad.push(format!("{id} ({lang}): sentence_count differs"));
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {} differ:\n{}",
        bad.len(),
        rows.len(),
        bad.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// gopher_quality, gopher_repetition, fineweb_quality and c4_quality with datatrove defaults and
/// each document's language, decision (and C4's rewritten text) for decision.
#[test]
fn filters_per_language_match_datatrove() {
    use datamill_filters::{
        C4QualityFilter, Filter, FilterResult, FineWebQualityFilter, GopherQualityFilter,
        GopherRepetitionFilter,
    };
    let Some(sample) = common::ml_sample() else {
        return;
    };
    let rows = common::golden_rows("filters_langs.jsonl.zst");
    let mut bad = Vec::new();
    let mut agree: BTreeMap<&str, usize> = BTreeMap::new();
    for g in &rows {
        let id = g["id"].as_str().expect("id");
        let lang = g["language"].as_str().expect("language").to_string();
        let text = sample[id].as_str();
        let gq = GopherQualityFilter {
            language: lang.clone(),
            ..Default::default()
        };
        let gr = GopherRepetitionFilter {
            language: lang.clone(),
            ..Default::default()
        };
        let fw = FineWebQualityFilter {
            language: lang.clone(),
            ..Default::default()
        };
        let c4 = C4QualityFilter {
            language: lang.clone(),
            ..Default::default()
        };
        let runs: [(&str, &dyn Filter); 4] = [
            ("gopher_quality", &gq),
            ("gopher_repetition", &gr),
            ("fineweb_quality", &fw),
            ("c4_quality", &c4),
        ];
        for (run, f) in runs {
            f.validate().unwrap_or_else(|e| panic!("{lang}: {e}"));
            let r = f.filter(text);
            let (decision, new_text) = match &r {
                FilterResult::Keep => ("kept".to_string(), None),
                FilterResult::Rewrite(t) => ("kept".to_string(), Some(t.as_str())),
                FilterResult::Drop(reason) => (reason.to_string(), None),
            };
            let gd = g[run].as_str().expect("decision");
            let gt = g.get(format!("{run}_text")).and_then(|v| v.as_str());
            if decision == gd && new_text == gt {
                *agree.entry(run).or_default() += 1;
            } else {
                bad.push(format!(
                    "{id} ({lang}) {run}: ours {decision} datatrove {gd}{}",
                    if decision == gd {
                        " (text differs)"
                    } else {
                        ""
                    }
                ));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "agreement {agree:?} of {} documents; differences:\n{}",
        rows.len(),
        bad.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// FineWeb-2's per-language settings (`preset = "fineweb2"`), each filter alone and FineWeb-2's
/// chain (repetition -> FineWeb quality -> Gopher quality), against datatrove configured as
/// `fineweb-2-pipeline.py` does (`tests/golden/make_golden_fineweb2.py`).
#[test]
fn fineweb2_presets_match_datatrove() {
    use datamill_filters::{
        Filter, FilterResult, FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter,
        run_chain,
    };
    let Some(sample) = common::ml_sample() else {
        return;
    };
    let rows = common::golden_rows("filters_fineweb2.jsonl.zst");
    assert!(rows.len() > 1000, "{} rows", rows.len());
    let mut bad = Vec::new();
    for g in &rows {
        let id = g["id"].as_str().expect("id");
        let lang = g["language"].as_str().expect("language");
        let text = sample[id].as_str();
        let table = serde_json::json!({"preset": "fineweb2", "language": lang});
        let gr: GopherRepetitionFilter = serde_json::from_value(table.clone()).expect("preset");
        let fw: FineWebQualityFilter = serde_json::from_value(table.clone()).expect("preset");
        let gq: GopherQualityFilter = serde_json::from_value(table).expect("preset");
        let runs: [(&str, &dyn Filter); 3] = [
            ("gopher_repetition", &gr),
            ("fineweb_quality", &fw),
            ("gopher_quality", &gq),
        ];
        let decision = |r: FilterResult| match r {
            FilterResult::Drop(reason) => reason.to_string(),
            _ => "kept".to_string(),
        };
        for (run, f) in runs {
            f.validate().unwrap_or_else(|e| panic!("{lang}: {e}"));
            let d = decision(f.filter(text));
            if d != g[run].as_str().expect("decision") {
                bad.push(format!(
                    "{id} ({lang}) {run}: ours {d} datatrove {}",
                    g[run]
                ));
            }
        }
        let d = decision(run_chain(&[&gr, &fw, &gq], text));
        if d != g["chain"].as_str().expect("chain") {
            bad.push(format!(
                "{id} ({lang}) chain: ours {d} datatrove {}",
                g["chain"]
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "{} differences over {} documents:\n{}",
        bad.len(),
        rows.len(),
        bad.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn presets_fill_only_what_is_not_given() {
    use datamill_filters::{C4QualityFilter, GopherQualityFilter};
    let g: GopherQualityFilter = serde_json::from_value(serde_json::json!({
        "preset": "fineweb2", "language": "deu", "max_avg_word_length": 12
    }))
    .expect("preset");
    assert_eq!(g.language, "deu_Latn");
    assert_eq!(g.max_avg_word_length, Some(12.0), "explicit parameters win");
    assert_eq!(g.max_non_alpha_words_ratio, Some(0.774));
    assert_eq!(g.stop_words.as_ref().map(|s| s[0].as_str()), Some("der"));
    assert_eq!(
        g.min_doc_words,
        Some(50),
        "untouched parameters keep datatrove's default"
    );
    let e =
        serde_json::from_value::<GopherQualityFilter>(serde_json::json!({"preset": "fineweb2"}))
            .unwrap_err()
            .to_string();
    assert!(e.contains("language"), "{e}");
    let e = serde_json::from_value::<C4QualityFilter>(
        serde_json::json!({"preset": "fineweb2", "language": "deu_Latn"}),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("gopher_repetition, fineweb_quality and gopher_quality"),
        "{e}"
    );
    let e = serde_json::from_value::<GopherQualityFilter>(
        serde_json::json!({"preset": "fineweb3", "language": "deu_Latn"}),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("unknown preset") && e.contains("fineweb2"),
        "{e}"
    );
}
