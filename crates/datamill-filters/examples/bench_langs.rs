//! Speed of the multilingual filter chain, one thread, per script group.
//!
//! ```text
//! cargo run --release -p datamill-filters --example bench_langs -- FILE.jsonl [REPEATS]
//! ```
//! FILE has one JSON object per line with `text`, `language` (a datatrove code) and `group`
//! (`bench/langs.sh` writes it from the multilingual sample). For each group: the chain
//! GopherRepetition -> GopherQuality -> C4Quality (`filter_no_terminal_punct = false`) ->
//! FineWebQuality with each document's language, best of REPEATS (default 3) runs; one line
//! `RESULT group=<g> docs=<n> bytes=<b> seconds=<s> docs_per_s=<x> kept=<k> words_docs_per_s=<w>`
//! per group (`words_docs_per_s`: datatrove's `split_into_words` alone). With `BENCH_EACH=1`,
//! also each filter alone.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use datamill_filters::{
    C4QualityFilter, Filter, FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter,
    run_chain,
};

struct Chain {
    gr: GopherRepetitionFilter,
    gq: GopherQualityFilter,
    c4: C4QualityFilter,
    fw: FineWebQualityFilter,
}

impl Chain {
    fn new(language: &str) -> Self {
        let c = Chain {
            gr: GopherRepetitionFilter {
                language: language.into(),
                ..Default::default()
            },
            gq: GopherQualityFilter {
                language: language.into(),
                ..Default::default()
            },
            c4: C4QualityFilter {
                language: language.into(),
                filter_no_terminal_punct: false,
                ..Default::default()
            },
            fw: FineWebQualityFilter {
                language: language.into(),
                ..Default::default()
            },
        };
        for f in c.filters() {
            f.validate().unwrap_or_else(|e| panic!("{language}: {e}"));
        }
        c
    }

    fn filters(&self) -> [&dyn Filter; 4] {
        [&self.gr, &self.gq, &self.c4, &self.fw]
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: bench_langs FILE.jsonl [REPEATS]");
    let repeats: usize = args.next().map_or(3, |r| r.parse().expect("REPEATS"));
    let data = std::fs::read_to_string(&path).expect("read input");
    let mut groups: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for l in data.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(l).expect("json");
        groups
            .entry(v["group"].as_str().expect("group").to_string())
            .or_default()
            .push((
                v["language"].as_str().expect("language").to_string(),
                v["text"].as_str().expect("text").to_string(),
            ));
    }
    let mut chains: HashMap<String, Chain> = HashMap::new();
    for docs in groups.values() {
        for (lang, _) in docs {
            chains
                .entry(lang.clone())
                .or_insert_with(|| Chain::new(lang));
        }
    }
    // build every language's rules before timing (datatrove's warm-up does the same)
    for c in chains.values() {
        let _ = run_chain(&c.filters(), "warm up.");
    }
    for (group, docs) in &groups {
        let bytes: usize = docs.iter().map(|(_, t)| t.len()).sum();
        let mut best = f64::INFINITY;
        let mut kept = 0usize;
        for _ in 0..repeats {
            let t0 = Instant::now();
            kept = 0;
            for (lang, text) in docs {
                if run_chain(&chains[lang].filters(), text).is_kept() {
                    kept += 1;
                }
            }
            best = best.min(t0.elapsed().as_secs_f64());
        }
        if std::env::var("BENCH_EACH").is_ok() {
            for k in 0..4 {
                let t0 = Instant::now();
                for (lang, text) in docs {
                    std::hint::black_box(chains[lang].filters()[k].filter(text));
                }
                println!(
                    "  {group} filter {k}: {:.0} docs/s",
                    docs.len() as f64 / t0.elapsed().as_secs_f64()
                );
            }
        }
        // the word tokenizer alone (datatrove's split_into_words), for the record
        let mut best_words = f64::INFINITY;
        for _ in 0..repeats {
            let t0 = Instant::now();
            let mut n = 0usize;
            for (lang, text) in docs {
                n += datamill_filters::word_tokenizer(lang)
                    .expect("validated")
                    .words(text)
                    .len();
            }
            std::hint::black_box(n);
            best_words = best_words.min(t0.elapsed().as_secs_f64());
        }
        println!(
            "RESULT group={group} docs={} bytes={bytes} seconds={best:.4} docs_per_s={:.0} kept={kept} words_docs_per_s={:.0}",
            docs.len(),
            docs.len() as f64 / best,
            docs.len() as f64 / best_words
        );
    }
}
