//! spaCy token lists (whitespace tokens and trailing-space flags included) and sentencizer
//! sentence counts, against goldens written by spaCy 3.8.18 through datatrove 0.10.1.

mod common;

use datamill_filters::tokenizer::Tokenizer;

fn check(rows: &[(String, String, serde_json::Value)]) -> Vec<String> {
    let t = Tokenizer::english();
    let mut bad = Vec::new();
    for (id, text, g) in rows {
        let toks = t.tokenize(text);
        let mine: Vec<&str> = toks.iter().map(|x| x.text).collect();
        let gold: Vec<&str> = g["tokens"]
            .as_array()
            .expect("tokens")
            .iter()
            .map(|x| x.as_str().expect("str"))
            .collect();
        let space: String = toks
            .iter()
            .map(|x| if x.space_after { '1' } else { '0' })
            .collect();
        if mine != gold {
            let k = mine
                .iter()
                .zip(&gold)
                .position(|(a, b)| a != b)
                .unwrap_or(mine.len().min(gold.len()));
            let lo = k.saturating_sub(3);
            bad.push(format!(
                "{id}: token {k}: ours {:?} spaCy {:?}",
                &mine[lo..(k + 4).min(mine.len())],
                &gold[lo..(k + 4).min(gold.len())]
            ));
            continue;
        }
        if space != g["space"].as_str().expect("space") {
            bad.push(format!("{id}: trailing-space flags differ"));
            continue;
        }
        let sents = if toks.is_empty() {
            0
        } else {
            t.sentence_count(text)
        };
        if sents as u64 != g["sents"].as_u64().expect("sents") {
            bad.push(format!("{id}: sentences ours {sents} spaCy {}", g["sents"]));
        }
    }
    bad
}

#[test]
fn sample_tokens_match_spacy() {
    let docs = common::sample_docs();
    let gold = common::golden_by_id("tokens.jsonl.zst");
    assert_eq!(gold.len(), docs.len());
    let rows: Vec<_> = docs
        .into_iter()
        .map(|(id, text)| {
            let g = gold[&id].clone();
            (id, text, g)
        })
        .collect();
    let bad = check(&rows);
    assert!(
        bad.is_empty(),
        "{} of {} docs differ:\n{}",
        bad.len(),
        rows.len(),
        bad.join("\n")
    );
}

#[test]
fn synthetic_tokens_match_spacy() {
    let rows: Vec<_> = common::golden_rows("tokens_synth.jsonl.zst")
        .into_iter()
        .map(|g| {
            (
                g["id"].as_str().expect("id").to_string(),
                g["text"].as_str().expect("text").to_string(),
                g,
            )
        })
        .collect();
    let bad = check(&rows);
    assert!(
        bad.is_empty(),
        "{} of {} strings differ:\n{}",
        bad.len(),
        rows.len(),
        bad.join("\n")
    );
}
