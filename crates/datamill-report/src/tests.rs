//! Tests over a small hand-written run folder.

use super::*;
use serde_json::json;
use std::fs;

const PIPELINE: &str = "version = 1\n[input]\npaths = [\"x.jsonl\"]\n\n[[stage]]\ntype = \"length\"\nmin_words = 3\n\n[[stage]]\ntype = \"regex\"\npattern = \"(?i)table of contents\"\nreason = \"toc\"\n\n[[stage]]\ntype = \"exact_dedup\"\n";

const EVIL: &str = "<script>document.title='pwned'</script><img src=x onerror=\"alert(1)\"> Table of Contents & more";

fn stats() -> serde_json::Value {
    json!({
        "input_docs": 10, "input_bytes": 1000, "output_docs": 5, "output_bytes": 500,
        "output_file_bytes": 200, "output_files": 1, "quarantined": 1,
        "quarantine": {"invalid_json": 1}, "blank_lines": 0,
        "stages": [
            {"type": "length", "in": 9, "kept": 8, "dropped": {"min_words": 1}, "seconds": 0.5},
            {"type": "regex", "in": 8, "kept": 6, "dropped": {"toc": 2}, "seconds": 0.25},
            {"type": "exact_dedup", "in": 6, "kept": 5, "dropped": {"duplicate": 1}, "seconds": 0.1}
        ],
        "work_units": 1, "workers": 2, "wall_seconds": 1.5
    })
}

fn run_folder() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let out = t.path();
    fs::write(
        out.join("stats.json"),
        serde_json::to_vec_pretty(&stats()).unwrap(),
    )
    .unwrap();
    fs::create_dir_all(out.join(".datamill/decision0")).unwrap();
    fs::write(
        out.join(".datamill/plan.json"),
        serde_json::to_vec(&json!({
            "datamill": "0.1.0",
            "pipeline": {"path": "p<1>.toml", "base_dir": ".", "text": PIPELINE, "hash": "ab"},
            "unit_size": 1048576,
            "files": [{"path": "x.jsonl", "label": "x.jsonl", "format": "jsonl",
                       "compression": "none", "size": 1000, "mtime": 1}],
            "units": [{"index": 0, "file": 0, "span": {"kind": "whole"}, "size": 1000}],
            "passes": [{}, {}],
            "decisions": [{"stage": 2, "kind": "exact_dedup", "report": "exact_dedup"}]
        }))
        .unwrap(),
    )
    .unwrap();
    fs::write(
        out.join(".datamill/decision0/decision.json"),
        r#"{"stage":"exact_dedup","reasons":["duplicate"],"counts":[6],"seconds":0.02}"#,
    )
    .unwrap();
    fs::create_dir_all(out.join("excluded")).unwrap();
    let line = |id: &str, text: &str, stage: &str, reason: &str| {
        format!(
            "{}\n",
            json!({"id": id, "text": text, "excluded_by": {"stage": stage, "reason": reason}})
        )
    };
    let mut ex = String::new();
    ex += &line("short-1", "too short", "length", "min_words");
    ex += &line("toc-<b>1</b>", EVIL, "regex", "toc");
    ex += &line("toc-2", "Contents: TABLE OF CONTENTS here", "regex", "toc");
    // A dedup stage that records the partner in the document itself (exact and MinHash dedup
    // since issue 14.11).
    ex += &format!(
        "{}\n",
        json!({"id": "dup-2", "text": "same", "excluded_by":
               {"stage": "exact_dedup", "reason": "duplicate", "duplicate_of": "kept-<2>"}})
    );
    fs::write(out.join("excluded/00000-000.jsonl"), ex).unwrap();
    let enc = zstd::encode_all(
        line("dup-1", "same text", "exact_dedup", "duplicate").as_bytes(),
        1,
    )
    .unwrap();
    fs::write(out.join("excluded/00000-p1-000.jsonl.zst"), enc).unwrap();
    fs::create_dir_all(out.join("reports/exact_dedup")).unwrap();
    fs::write(
        out.join("reports/exact_dedup/clusters.jsonl"),
        "{\"cluster\":\"00\",\"kept\":\"orig-<1>\",\"members\":[\"orig-<1>\",\"dup-1\"],\"in_index\":false}\n",
    )
    .unwrap();
    fs::create_dir_all(out.join("quarantine")).unwrap();
    fs::write(
        out.join("quarantine/00000.jsonl"),
        "{\"location\":\"x.jsonl:4\",\"reason\":\"invalid_json\",\"message\":\"expected value <here>\",\"raw\":\"{\"}\n",
    )
    .unwrap();
    t
}

/// Every `data-stat="key" data-v="value"` pair on the page.
fn stat_cells(html: &str) -> Vec<(String, String)> {
    let re = regex::Regex::new(r#"data-stat="([^"]*)" data-v="([^"]*)""#).unwrap();
    re.captures_iter(html)
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect()
}

fn lookup<'a>(v: &'a serde_json::Value, key: &str) -> &'a serde_json::Value {
    key.split('.').fold(v, |v, k| match k.parse::<usize>() {
        Ok(i) if v.is_array() => &v[i],
        _ => &v[k],
    })
}

#[test]
fn corpus_text_is_escaped_never_markup() {
    let t = run_folder();
    let html = build(t.path(), &Options::default()).unwrap();
    // The page has no script element at all, and the corpus' markup appears only escaped.
    assert!(!html.to_lowercase().contains("<script"), "{html}");
    assert!(!html.contains("<img"));
    assert!(html.contains("&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;"));
    assert!(html.contains("onerror=&quot;alert(1)&quot;"));
    // Ids, partners and pipeline paths are escaped too.
    assert!(html.contains("toc-&lt;b&gt;1&lt;/b&gt;"));
    assert!(html.contains("duplicate of orig-&lt;1&gt;"));
    assert!(html.contains("duplicate of kept-&lt;2&gt;"));
    assert!(html.contains("p&lt;1&gt;.toml"));
    assert!(html.contains("expected value &lt;here&gt;"));
    // Scripts are also refused by the page's policy.
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
}

#[test]
fn numbers_equal_stats_json() {
    let t = run_folder();
    let html = build(t.path(), &Options::default()).unwrap();
    let cells = stat_cells(&html);
    let keys: Vec<&str> = cells.iter().map(|(k, _)| k.as_str()).collect();
    for k in [
        "input_docs",
        "output_docs",
        "quarantined",
        "stages.0.in",
        "stages.2.kept",
        "stages.1.dropped.toc",
        "quarantine.invalid_json",
        "wall_seconds",
    ] {
        assert!(keys.contains(&k), "{k} not on the page: {keys:?}");
    }
    let s = stats();
    for (k, v) in cells {
        let want = lookup(&s, &k);
        assert_eq!(want.to_string(), v, "{k}");
    }
}

#[test]
fn examples_highlight_the_match_and_name_the_partner() {
    let t = run_folder();
    let html = build(t.path(), &Options::default()).unwrap();
    assert!(html.contains("<mark>Table of Contents</mark>"));
    assert!(html.contains("<mark>TABLE OF CONTENTS</mark>"));
    assert!(html.contains("id=\"ex-1-toc\""));
    assert!(html.contains("excluded/00000-000.jsonl:2"));
    // The zstd file of pass 1 is read too.
    assert!(html.contains("dup-1"));
    assert!(!html.contains("What is missing"), "no problem expected");
    // A dedup stage's clusters.jsonl gone: named.
    std::fs::remove_file(t.path().join("reports/exact_dedup/clusters.jsonl")).unwrap();
    let html = build(t.path(), &Options::default()).unwrap();
    assert!(html.contains("<code>reports/exact_dedup/clusters.jsonl</code>: missing"));
}

#[test]
fn deterministic_bounded_sample() {
    let t = run_folder();
    let mut ex = String::new();
    for i in 0..100 {
        ex += &format!(
            "{}\n",
            json!({"id": format!("d{i}"), "text": "x".repeat(10_000),
                   "excluded_by": {"stage": "length", "reason": "min_words"}})
        );
    }
    fs::write(t.path().join("excluded/00001-000.jsonl"), ex).unwrap();
    let names = datamill_core::FieldNames::default();
    let a = samples::sample(t.path(), &names, 5, u64::MAX);
    let list = &a.by_reason[&("length".to_string(), "min_words".to_string())];
    assert_eq!(list.len(), 5);
    assert_eq!(
        a.seen[&("length".to_string(), "min_words".to_string())],
        101
    );
    assert!(list.iter().all(|e| e.text.len() <= samples::MAX_TEXT));
    // The same documents, whatever the order of the files.
    fs::rename(
        t.path().join("excluded/00001-000.jsonl"),
        t.path().join("excluded/0-first.jsonl"),
    )
    .unwrap();
    let b = samples::sample(t.path(), &names, 5, u64::MAX);
    let ids = |s: &samples::Samples| -> Vec<String> {
        s.by_reason[&("length".to_string(), "min_words".to_string())]
            .iter()
            .map(|e| e.id.clone())
            .collect()
    };
    assert_eq!(ids(&a), ids(&b));
}

#[test]
fn missing_and_truncated_files_are_named_and_the_rest_shown() {
    // Truncated stats.json: the page says so and still shows examples and facts.
    let t = run_folder();
    let s = fs::read(t.path().join("stats.json")).unwrap();
    fs::write(t.path().join("stats.json"), &s[..s.len() / 2]).unwrap();
    fs::remove_dir_all(t.path().join("reports/exact_dedup")).unwrap();
    let html = build(t.path(), &Options::default()).unwrap();
    assert!(html.contains("What is missing"));
    assert!(html.contains("<code>stats.json</code>: unreadable"));
    // (stats.json unreadable: a missing stage report is not flagged for an unfinished run.)
    assert!(html.contains("<mark>Table of Contents</mark>"));
    assert!(html.contains("Pipeline"));

    // A truncated excluded file: the documents before the cut are still sampled.
    let t = run_folder();
    let enc = fs::read(t.path().join("excluded/00000-p1-000.jsonl.zst")).unwrap();
    fs::write(
        t.path().join("excluded/00000-p1-000.jsonl.zst"),
        &enc[..enc.len() - 4],
    )
    .unwrap();
    fs::remove_file(t.path().join("stats.json")).unwrap();
    let html = build(t.path(), &Options::default()).unwrap();
    assert!(html.contains("<code>stats.json</code>: missing"), "{html}");
    assert!(html.contains("excluded/00000-p1-000.jsonl.zst"));
    assert!(html.contains("short-1"));
    // An older folder (run.json, no plan): the page still renders.
    let t = run_folder();
    fs::remove_file(t.path().join(".datamill/plan.json")).unwrap();
    fs::write(t.path().join(".datamill/run.json"), "{}").unwrap();
    let html = build(t.path(), &Options::default()).unwrap();
    assert!(html.contains("before the plan layout"));
    assert!(html.contains("data-stat=\"input_docs\" data-v=\"10\""));
    // Not a folder at all.
    assert!(matches!(
        build(&t.path().join("nope"), &Options::default()),
        Err(ReportError::NotARun(_))
    ));
}

#[test]
fn unfinished_run_shows_the_markers_sum() {
    let t = run_folder();
    fs::remove_file(t.path().join("stats.json")).unwrap();
    fs::create_dir_all(t.path().join(".datamill/pass0")).unwrap();
    let mut s = stats();
    s["stages"][2]["in"] = json!(0);
    s["stages"][2]["kept"] = json!(0);
    s["stages"][2]["dropped"] = json!({});
    fs::write(
        t.path().join(".datamill/pass0/00000.done"),
        serde_json::to_vec(&json!({"stats": s, "passed": 6})).unwrap(),
    )
    .unwrap();
    let html = build(t.path(), &Options::default()).unwrap();
    assert!(html.contains("Unfinished run"), "{html}");
    assert!(html.contains("data-v=\"10\""));
}

/// A real run (through the executor) of two filters that overlap, a rewriting stage and a
/// global stage, on `docs`.
fn real_run(docs: &[(&str, &str)], units: usize) -> (tempfile::TempDir, std::path::PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    fs::create_dir_all(dir.join("in")).unwrap();
    let per = docs.len().div_ceil(units);
    for (f, chunk) in docs.chunks(per).enumerate() {
        let mut s = String::new();
        for (id, text) in chunk {
            s += &format!("{}\n", json!({"id": id, "text": text}));
        }
        fs::write(dir.join(format!("in/{f}.jsonl")), s).unwrap();
    }
    let src = "version = 1\n[input]\npaths = [\"in/*.jsonl\"]\n\n\
               [[stage]]\ntype = \"normalize\"\n\n\
               [[stage]]\ntype = \"length\"\nmin_words = 5\n\n\
               [[stage]]\ntype = \"exact_dedup\"\n\n\
               [[stage]]\ntype = \"regex\"\npattern = \"(?i)table of contents\"\nreason = \"toc\"\n\n\
               [output]\ndir = \"out\"\nexcluded = true\n";
    fs::write(dir.join("p.toml"), src).unwrap();
    let p = datamill_exec::pipeline::Pipeline::load(&dir.join("p.toml")).unwrap();
    let opts = datamill_exec::run::RunOptions {
        workers: 2,
        ..Default::default()
    };
    datamill_exec::run::run(
        &p,
        &opts,
        &datamill_exec::progress::Progress::default(),
        &std::sync::atomic::AtomicBool::new(false),
    )
    .unwrap();
    let out = dir.join("out");
    (t, out)
}

const OVERLAP_DOCS: &[(&str, &str)] = &[
    ("short", "too short"),
    ("short-toc", "Table of Contents"),
    (
        "long-toc",
        "the table of contents of a long enough document",
    ),
    ("long-toc-2", "TABLE OF CONTENTS: one two three four five"),
    ("ok-1", "a perfectly ordinary document with enough words"),
    ("ok-2", "another ordinary document with enough words in it"),
    ("dup", "a perfectly ordinary document with enough words"),
    ("<b>short</b>", "<script>x</script>"),
    (
        "nfc<i>",
        "a document with cafe\u{301} and enough words\r\nsecond <b>line</b>",
    ),
];

#[test]
fn overlap_replays_every_filter_on_every_sampled_document() {
    let (_t, out) = real_run(OVERLAP_DOCS, 2);
    let d = RunData::load(&out).unwrap();
    let mut problems = Vec::new();
    let o = replay::replay(&d, 1000, &mut problems).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert!(o.whole_input);
    assert_eq!(o.docs(), OVERLAP_DOCS.len());
    let kinds: Vec<&str> = o.stages.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(kinds, ["normalize", "length", "regex"]);
    assert_eq!(o.skipped.len(), 1, "exact_dedup is global");
    // Alone: length drops the 3 short ones, regex the 3 with a table of contents.
    assert_eq!(o.alone(), [0, 3, 3]);
    // The run only records the first: regex sees 2 of them (short-toc went to length).
    assert_eq!(o.first(), [0, 3, 2]);
    assert_eq!(o.only(), [0, 2, 2]);
    assert_eq!(
        o.intersections(),
        [(vec![1], 2), (vec![2], 2), (vec![1, 2], 1)]
    );
    // The replay agrees with what the run recorded for the stages before any global one.
    let stats: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("stats.json")).unwrap()).unwrap();
    assert_eq!(
        stats["stages"][1]["dropped"]["min_words"],
        json!(o.first()[1])
    );
    let html = build(&out, &Options::default()).unwrap();
    assert!(html.contains("id=\"overlap\""));
    assert!(html.contains("data-overlap-docs=\"9\""), "{html}");
    assert!(html.contains("data-alone=\"3\""));
    assert!(html.contains("<div class=\"upset\"><svg"));
    assert!(html.contains("2 length + 4 regex"), "{html}");
    // Bounded: a smaller sample reads the first documents of each unit, deterministically.
    let a = replay::replay(&d, 4, &mut problems).unwrap();
    let b = replay::replay(&d, 4, &mut problems).unwrap();
    assert_eq!(a.docs(), 4);
    assert!(!a.whole_input);
    assert_eq!(a.drops, b.drops);
    // Turned off.
    assert!(replay::replay(&d, 0, &mut problems).is_none());
}

#[test]
fn before_after_shows_what_a_rewriting_stage_changed() {
    let (_t, out) = real_run(OVERLAP_DOCS, 2);
    let d = RunData::load(&out).unwrap();
    let mut problems = Vec::new();
    let c = rewrites::load(&d, &mut problems);
    assert!(problems.is_empty(), "{problems:?}");
    // Only normalize (stage 0) changed a text, of exactly one document.
    assert_eq!(c.stages.keys().collect::<Vec<_>>(), [&0]);
    let ex = &c.stages[&0];
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].id, "nfc<i>");
    assert!(ex[0].before.contains("cafe\u{301}") && ex[0].after.contains("caf\u{e9}"));
    let html = build(&out, &Options::default()).unwrap();
    assert!(html.contains("data-rewrite-stage=\"0\""), "{html}");
    assert!(html.contains("<code>nfc&lt;i&gt;</code>"));
    assert!(html.contains("&lt;b&gt;line&lt;/b&gt;") && !html.contains("<b>line</b>"));
    assert!(html.contains("<del>") && html.contains("<ins>"));
}

#[test]
fn time_and_memory_per_phase_from_the_markers() {
    let (_t, out) = real_run(OVERLAP_DOCS, 2);
    let d = RunData::load(&out).unwrap();
    let ph = phases::phases(&d);
    let names: Vec<&str> = ph.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["pass 1", "decide exact_dedup", "pass 2"]);
    assert_eq!(ph[0].tasks, 2);
    assert_eq!(ph[1].tasks, 1);
    for p in &ph {
        assert_eq!(p.measured, p.tasks, "{p:?}");
        assert!(p.wall >= 0.0 && p.cpu >= 0.0, "{p:?}");
        #[cfg(target_os = "linux")]
        assert!(p.peak > 1 << 20, "{p:?}");
    }
    assert_eq!(ph[2].stages, ["exact_dedup (applied)", "regex"]);
    let html = build(&out, &Options::default()).unwrap();
    assert!(
        html.contains("<tr data-phase=\"decide exact_dedup\""),
        "{html}"
    );
    // A marker from an older datamill (no resources): shown as not recorded.
    let m = out.join(".datamill/pass0/00000.done");
    let mut v: serde_json::Value = serde_json::from_slice(&fs::read(&m).unwrap()).unwrap();
    v.as_object_mut().unwrap().remove("resources");
    fs::write(&m, serde_json::to_vec(&v).unwrap()).unwrap();
    let ph = phases::phases(&RunData::load(&out).unwrap());
    assert_eq!((ph[0].tasks, ph[0].measured), (2, 1));
    let html = build(&out, &Options::default()).unwrap();
    assert!(html.contains("–: not recorded"));
}

#[test]
fn scaling_figures_are_embedded_and_titles_escaped() {
    let (_t, out) = real_run(OVERLAP_DOCS, 1);
    let html = build(&out, &Options::default()).unwrap();
    assert!(html.contains("No scaling law given"));
    let opts = Options {
        figures: vec![Figure {
            title: "law <b>x</b>".into(),
            caption: "datamill scaling plot <x>".into(),
            svg: "<svg id=\"fig\"></svg>".into(),
        }],
        ..Default::default()
    };
    let html = build(&out, &opts).unwrap();
    assert!(
        html.contains("<h3>law &lt;b&gt;x&lt;/b&gt;</h3><svg id=\"fig\"></svg>"),
        "{html}"
    );
    assert!(html.contains("datamill scaling plot &lt;x&gt;"));
}
