//! Every filter alone and the two chains, document for document, against datatrove 0.10.1 on
//! the en_prose sample (goldens written by `tests/golden/make_golden.py`).

mod common;

use datamill_filters::{
    C4BadWordsFilter, C4QualityFilter, Filter, FilterResult, FineWebQualityFilter,
    GopherQualityFilter, GopherRepetitionFilter, run_chain,
};

/// Known, explained differences `(document id, run)`; see the crate README. A difference not in
/// this list fails the test, and so does a listed one that no longer differs.
const EXPECTED_DIFFERENCES: &[(&str, &str)] = &[];

fn as_golden(r: &FilterResult) -> (String, Option<&str>) {
    match r {
        FilterResult::Keep => ("kept".to_string(), None),
        FilterResult::Rewrite(t) => ("kept".to_string(), Some(t.as_str())),
        FilterResult::Drop(reason) => (reason.to_string(), None),
    }
}

/// Per-run agreement counts and the differences `(id, run, detail)`.
type Comparison = (
    std::collections::BTreeMap<&'static str, usize>,
    Vec<(String, String, String)>,
);

/// All runs on `docs` against `gold`.
fn compare(
    docs: &[(String, String)],
    gold: &std::collections::HashMap<String, serde_json::Value>,
) -> Comparison {
    let gq = GopherQualityFilter::default();
    let gr = GopherRepetitionFilter::default();
    let c4 = C4QualityFilter::default();
    let c4np = C4QualityFilter {
        filter_no_terminal_punct: false,
        ..Default::default()
    };
    let bw = C4BadWordsFilter::default();
    let fw = FineWebQualityFilter::default();
    let singles: [(&str, &dyn Filter); 6] = [
        ("gopher_quality", &gq),
        ("gopher_repetition", &gr),
        ("c4_quality", &c4),
        ("c4_quality_nopunct", &c4np),
        ("c4_badwords", &bw),
        ("fineweb_quality", &fw),
    ];
    let chain: [&dyn Filter; 4] = [&gq, &gr, &c4, &fw];
    let chain_fineweb: [&dyn Filter; 4] = [&gr, &gq, &c4np, &fw];

    let mut diffs: Vec<(String, String, String)> = Vec::new();
    let mut agree: std::collections::BTreeMap<&'static str, usize> = Default::default();
    let mut check = |id: &str, run: &'static str, res: &FilterResult, g: &serde_json::Value| {
        let (decision, text) = as_golden(res);
        let gd = g[run].as_str().expect("decision");
        let gt = g.get(format!("{run}_text")).and_then(|v| v.as_str());
        if decision == gd && text == gt {
            *agree.entry(run).or_default() += 1;
        } else {
            let detail = if decision != gd {
                format!("ours {decision:?}, datatrove {gd:?}")
            } else {
                format!(
                    "rewritten text differs (ours {} chars, datatrove {:?} chars)",
                    text.map_or(0, |t| t.len()),
                    gt.map(|t| t.len())
                )
            };
            diffs.push((id.to_string(), run.to_string(), detail));
        }
    };
    for (id, text) in docs {
        let g = &gold[id];
        for (run, f) in singles {
            check(id, run, &f.filter(text), g);
        }
        check(id, "chain", &run_chain(&chain, text), g);
        check(id, "chain_fineweb", &run_chain(&chain_fineweb, text), g);
    }
    (agree, diffs)
}

#[test]
fn filters_and_chains_match_datatrove() {
    let docs = common::sample_docs();
    let gold = common::golden_by_id("filters.jsonl.zst");
    assert_eq!(gold.len(), docs.len(), "golden rows");
    let (agree, diffs) = compare(&docs, &gold);
    eprintln!("agreement on {} docs: {agree:?}", docs.len());
    let unexpected: Vec<_> = diffs
        .iter()
        .filter(|(id, run, _)| !EXPECTED_DIFFERENCES.contains(&(id.as_str(), run.as_str())))
        .collect();
    let fixed: Vec<_> = EXPECTED_DIFFERENCES
        .iter()
        .filter(|(id, run)| !diffs.iter().any(|(i, r, _)| i == id && r == run))
        .collect();
    assert!(
        unexpected.is_empty() && fixed.is_empty(),
        "{} unexpected differences:\n{}\nlisted but no longer different: {fixed:?}",
        unexpected.len(),
        unexpected
            .iter()
            .map(|(i, r, d)| format!("{i} [{r}]: {d}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn crafted_documents_match_datatrove() {
    let rows = common::golden_rows("filters_crafted.jsonl.zst");
    let docs: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["id"].as_str().expect("id").to_string(),
                r["text"].as_str().expect("text").to_string(),
            )
        })
        .collect();
    let gold = rows
        .into_iter()
        .map(|r| (r["id"].as_str().expect("id").to_string(), r))
        .collect();
    let (_, diffs) = compare(&docs, &gold);
    assert!(
        diffs.is_empty(),
        "{} differences on crafted documents:\n{}",
        diffs.len(),
        diffs
            .iter()
            .map(|(i, r, d)| format!("{i} [{r}]: {d}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
