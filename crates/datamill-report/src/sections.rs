//! The page's sections: pure functions from what was read ([`RunData`], [`Samples`]) to HTML.
//! Every string that comes from the run (corpus text, ids, reasons, paths, pipeline text) is
//! escaped with [`esc`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::io::BufRead;

use serde_json::Value;

use crate::html::{bytes, esc, int, num_cell, pct};
use crate::load::{Problem, RunData};
use crate::samples::{Example, Samples};

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

/// "What is missing": every problem met while reading, with what is shown instead.
pub fn problems(list: &[Problem]) -> String {
    let mut h = String::from("<ul>");
    for p in list {
        let _ = write!(
            h,
            "<li><code>{}</code>: {}</li>",
            esc(&p.file),
            esc(&p.message)
        );
    }
    h.push_str("</ul>");
    h
}

/// The funnel: documents (and bytes) entering and leaving each stage, by reason, as bars
/// and a table, then the quarantine by reason.
pub fn funnel(d: &RunData) -> String {
    let mut h = String::new();
    let (stats, partial) = match (&d.stats, d.marker_stats()) {
        (Some(s), _) => (s.clone(), None),
        (None, Some((k, s))) => (s, Some(k)),
        (None, None) => {
            return "<p class=\"muted\">No statistics: <code>stats.json</code> is missing and \
                    no task has finished.</p>"
                .into();
        }
    };
    if let Some(k) = partial {
        let _ = write!(
            h,
            "<p><b>Unfinished run</b>: the numbers below sum the {} finished task(s) of pass {k} \
             (of {} passes); stages after that pass have not seen their documents yet.</p>",
            d.markers.get(k).copied().unwrap_or(0),
            d.markers.len()
        );
    }
    let key = |k: &str| partial.is_none().then(|| k.to_string());
    let input = u(&stats["input_docs"]);
    let quarantined = u(&stats["quarantined"]);
    h.push_str("<table class=\"totals\"><tr><th></th><th class=\"n\">documents</th><th class=\"n\">bytes</th><th class=\"n\"></th></tr>");
    let _ = write!(
        h,
        "<tr><td>input</td>{}{}<td class=\"n\">{}</td></tr>",
        num_cell(input, key("input_docs").as_deref()),
        num_cell(u(&stats["input_bytes"]), key("input_bytes").as_deref()),
        bytes(u(&stats["input_bytes"]))
    );
    let _ = write!(
        h,
        "<tr><td>quarantined</td>{}<td></td><td class=\"n\">{}</td></tr>",
        num_cell(quarantined, key("quarantined").as_deref()),
        pct(quarantined, input)
    );
    let _ = write!(
        h,
        "<tr><td>dropped by stages</td>{}<td></td><td class=\"n\">{}</td></tr>",
        num_cell(dropped_total(&stats), None),
        pct(dropped_total(&stats), input)
    );
    if partial.is_none() {
        let _ = write!(
            h,
            "<tr><td>output</td>{}{}<td class=\"n\">{} ({} on disk in {} files)</td></tr>",
            num_cell(u(&stats["output_docs"]), key("output_docs").as_deref()),
            num_cell(u(&stats["output_bytes"]), key("output_bytes").as_deref()),
            pct(u(&stats["output_docs"]), input),
            bytes(u(&stats["output_file_bytes"])),
            int(u(&stats["output_files"]))
        );
    }
    h.push_str("</table>\n");
    let empty = Vec::new();
    let stages = stats["stages"].as_array().unwrap_or(&empty);
    h.push_str(
        "<h3>Stage by stage</h3><p class=\"key\"><span class=\"kept\"></span>kept \
         <span class=\"drop\"></span>dropped by the stage \
         <span class=\"quar\"></span>lost before the stage (quarantine, earlier stages)</p>",
    );
    h.push_str(
        "<table class=\"funnel\"><tr><th>#</th><th>stage</th><th></th><th class=\"n\">in</th>\
         <th class=\"n\">kept</th><th class=\"n\">dropped</th><th>reasons</th>\
         <th class=\"n\">dropped / in</th><th class=\"n\">dropped / input</th></tr>",
    );
    for (i, s) in stages.iter().enumerate() {
        let sin = u(&s["in"]);
        let kept = u(&s["kept"]);
        let drop: u64 = s["dropped"]
            .as_object()
            .map_or(0, |m| m.values().map(u).sum());
        let w = |n: u64| {
            if input == 0 {
                0.0
            } else {
                100.0 * n as f64 / input as f64
            }
        };
        let bar = format!(
            "<div class=\"bar\" title=\"kept {} / dropped {} of {} input documents\">\
             <span class=\"kept\" style=\"width:{:.3}%\"></span>\
             <span class=\"drop\" style=\"width:{:.3}%\"></span>\
             <span class=\"quar\" style=\"width:{:.3}%\"></span></div>",
            int(kept),
            int(drop),
            int(input),
            w(kept),
            w(drop),
            w(input.saturating_sub(sin))
        );
        let mut reasons = String::new();
        if let Some(m) = s["dropped"].as_object() {
            for (r, n) in m {
                let _ = write!(
                    reasons,
                    "<div><a href=\"#ex-{i}-{}\">{}</a>: <span {}data-v=\"{}\">{}</span></div>",
                    esc(&anchor(r)),
                    esc(r),
                    key(&format!("stages.{i}.dropped.{r}"))
                        .map(|k| format!("data-stat=\"{}\" ", esc(&k)))
                        .unwrap_or_default(),
                    u(n),
                    int(u(n))
                );
            }
        }
        let counters = s["counters"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{}: {}", esc(k), int(u(v))))
                    .collect::<Vec<_>>()
                    .join("<br>")
            })
            .unwrap_or_default();
        if !counters.is_empty() {
            let _ = write!(reasons, "<div class=\"muted\">{counters}</div>");
        }
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{bar}</td>{}{}{}<td>{reasons}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            i + 1,
            esc(s["type"].as_str().unwrap_or("?")),
            num_cell(sin, key(&format!("stages.{i}.in")).as_deref()),
            num_cell(kept, key(&format!("stages.{i}.kept")).as_deref()),
            num_cell(drop, None),
            pct(drop, sin),
            pct(drop, input)
        );
    }
    h.push_str("</table>\n");
    h.push_str(&quarantine(d, &stats));
    h
}

fn dropped_total(stats: &Value) -> u64 {
    stats["stages"].as_array().map_or(0, |st| {
        st.iter()
            .map(|s| {
                s["dropped"]
                    .as_object()
                    .map_or(0, |m| m.values().map(u).sum::<u64>())
            })
            .sum()
    })
}

/// An id-safe form of a reason for anchors.
fn anchor(r: &str) -> String {
    r.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Quarantine by reason, with the first records' input locations.
fn quarantine(d: &RunData, stats: &Value) -> String {
    let mut h = String::new();
    let Some(q) = stats["quarantine"].as_object().filter(|m| !m.is_empty()) else {
        h.push_str("<h3>Quarantine</h3><p class=\"muted\">No record was quarantined.</p>");
        return h;
    };
    h.push_str("<h3>Quarantine</h3><table><tr><th>reason</th><th class=\"n\">records</th><th>first records (input file:line — message)</th></tr>");
    let mut firsts: BTreeMap<String, Vec<(String, String, String)>> = BTreeMap::new();
    let mut files: Vec<_> = std::fs::read_dir(d.out.join("quarantine"))
        .map(|r| r.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    'files: for f in files {
        let Ok(file) = std::fs::File::open(&f) else {
            continue;
        };
        let rel = d.rel(&f);
        for line in std::io::BufReader::new(file).lines().take(10_000) {
            let Ok(line) = line else { continue 'files };
            let Ok(v) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            let reason = v["reason"].as_str().unwrap_or("?").to_string();
            let e = firsts.entry(reason).or_default();
            if e.len() < 5 {
                e.push((
                    v["location"].as_str().unwrap_or("?").to_string(),
                    v["message"].as_str().unwrap_or("").to_string(),
                    rel.clone(),
                ));
            }
        }
    }
    for (r, n) in q {
        let mut list = String::new();
        for (loc, msg, file) in firsts.get(r).map(Vec::as_slice).unwrap_or(&[]) {
            let _ = write!(
                list,
                "<div><code>{}</code> — {} <span class=\"muted\">(in <a href=\"{}\">{}</a>)</span></div>",
                esc(loc),
                esc(msg),
                esc(file),
                esc(file)
            );
        }
        let _ = write!(
            h,
            "<tr><td>{}</td>{}<td>{list}</td></tr>",
            esc(r),
            num_cell(u(n), Some(&format!("quarantine.{r}"))),
        );
    }
    h.push_str("</table>");
    h
}

/// What the report can point at in an excluded document: byte ranges of its (cut) text, and
/// a note (e.g. the duplicate's partner).
#[derive(Default)]
struct Explain {
    marks: Vec<(usize, usize)>,
    note: Option<String>,
}

/// `text` escaped, with `marks` (sorted, byte ranges) wrapped in `<mark>`.
pub fn highlight(text: &str, marks: &[(usize, usize)]) -> String {
    let mut h = String::new();
    let mut at = 0;
    for &(s, e) in marks {
        if s < at || e > text.len() || !text.is_char_boundary(s) || !text.is_char_boundary(e) {
            continue;
        }
        h.push_str(&esc(&text[at..s]));
        h.push_str("<mark>");
        h.push_str(&esc(&text[s..e]));
        h.push_str("</mark>");
        at = e;
    }
    h.push_str(&esc(&text[at..]));
    h
}

/// Partners of sampled duplicates: `id -> kept id`, read from a dedup stage's
/// `clusters.jsonl` (streamed; only sampled ids are kept).
fn partners(d: &RunData, report: &str, wanted: &BTreeSet<&str>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let path = d.out.join("reports").join(report).join("clusters.jsonl");
    let Ok(f) = std::fs::File::open(&path) else {
        return out;
    };
    for line in std::io::BufReader::new(f).lines() {
        let Ok(line) = line else { break };
        let Ok(v) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let kept = v["kept"].as_str();
        if let Some(members) = v["members"].as_array() {
            for m in members.iter().filter_map(Value::as_str) {
                if wanted.contains(m) && Some(m) != kept {
                    out.insert(
                        m.to_string(),
                        kept.map_or("a document of the saved index".into(), |k| {
                            format!("duplicate of {k}")
                        }),
                    );
                }
            }
        }
        if out.len() == wanted.len() {
            break;
        }
    }
    out
}

/// Examples: per stage and reason, a deterministic sample of excluded documents with what
/// triggered the rule highlighted where the report knows it (the matched pattern, the
/// duplicate's partner).
pub fn examples(d: &RunData, s: &Samples, k: usize) -> String {
    let mut h = String::new();
    if s.files == 0 {
        h.push_str(
            "<p class=\"muted\">No excluded documents were written (set <code>[output] \
             excluded = true</code> in the pipeline to see examples of dropped documents).</p>",
        );
        return h;
    }
    let _ = write!(
        h,
        "<p class=\"muted\">Up to {k} documents per reason: those whose id has the smallest \
         xxh3 hash (the same sample on every run). Read {} of {} excluded files{}.</p>",
        s.files_read,
        s.files,
        if s.capped {
            " (stopped at the byte budget)"
        } else {
            ""
        }
    );
    // Stage order: the pipeline's, then anything else met in the files.
    let mut order: Vec<(Option<usize>, String)> = d
        .stages
        .iter()
        .enumerate()
        .map(|(i, st)| (Some(i), st.kind.clone()))
        .collect();
    for (stage, _) in s.by_reason.keys() {
        if !order.iter().any(|(_, k)| k == stage) {
            order.push((None, stage.clone()));
        }
    }
    let mut shown = BTreeSet::new();
    for (idx, kind) in order {
        if !shown.insert(kind.clone()) {
            continue; // a second stage of the same type: its drops are listed with the first
        }
        let info = idx.and_then(|i| d.stages.get(i));
        let re = info
            .and_then(|i| i.params.as_ref())
            .filter(|_| kind == "regex")
            .and_then(|p| p.get("pattern").and_then(|v| v.as_str()))
            .and_then(|p| regex::Regex::new(p).ok());
        for ((stage, reason), list) in s.by_reason.range((kind.clone(), String::new())..) {
            if *stage != kind {
                break;
            }
            let wanted: BTreeSet<&str> = list.iter().map(|e| e.id.as_str()).collect();
            let partner = info
                .and_then(|i| i.report.as_deref())
                .filter(|_| kind.contains("dedup"))
                .map(|r| partners(d, r, &wanted))
                .unwrap_or_default();
            let _ = write!(
                h,
                "<h3 id=\"ex-{}-{}\">{} — {} <span class=\"muted\">({} excluded seen, {} shown)</span></h3>",
                idx.map_or("x".into(), |i| i.to_string()),
                esc(&anchor(reason)),
                esc(stage),
                esc(reason),
                int(s
                    .seen
                    .get(&(stage.clone(), reason.clone()))
                    .copied()
                    .unwrap_or(0)),
                list.len()
            );
            for (n, e) in list.iter().enumerate() {
                let mut ex = Explain::default();
                if let Some(re) = &re {
                    ex.marks = re
                        .find_iter(&e.text)
                        .map(|m| (m.start(), m.end()))
                        .collect();
                }
                ex.note = match &e.duplicate_of {
                    Some(k) => Some(format!("duplicate of {k}")),
                    None => partner.get(&e.id).cloned(),
                };
                h.push_str(&example(e, &ex, n < 3));
            }
        }
    }
    h
}

fn example(e: &Example, ex: &Explain, open: bool) -> String {
    let cut = if e.text.len() < e.len {
        format!(
            " <span class=\"muted\">(first {} of {} bytes)</span>",
            int(e.text.len() as u64),
            int(e.len as u64)
        )
    } else {
        String::new()
    };
    let note = ex
        .note
        .as_ref()
        .map(|n| format!("<div class=\"meta\"><b>{}</b></div>", esc(n)))
        .unwrap_or_default();
    format!(
        "<details class=\"doc\"{}><summary><code>{}</code> <span class=\"meta\">{}</span>{cut}</summary>{note}<pre>{}</pre></details>\n",
        if open { " open" } else { "" },
        esc(&e.id),
        esc(&e.at),
        highlight(&e.text, &ex.marks)
    )
}

/// Run facts: version, pipeline, inputs, workers, times (and what they measure).
pub fn facts(d: &RunData) -> String {
    let mut h = String::from("<table>");
    let row = |h: &mut String, k: &str, v: String| {
        let _ = write!(h, "<tr><th>{}</th><td>{v}</td></tr>", esc(k));
    };
    row(
        &mut h,
        "output folder",
        format!("<code>{}</code>", esc(&d.out.to_string_lossy())),
    );
    if let Some(p) = &d.plan {
        row(
            &mut h,
            "datamill version",
            esc(p["datamill"].as_str().unwrap_or("?")),
        );
        row(
            &mut h,
            "pipeline file",
            format!(
                "<code>{}</code> (hash <code>{}</code>)",
                esc(p
                    .pointer("/pipeline/path")
                    .and_then(Value::as_str)
                    .unwrap_or("?")),
                esc(p
                    .pointer("/pipeline/hash")
                    .and_then(Value::as_str)
                    .unwrap_or("?"))
            ),
        );
        row(
            &mut h,
            "work units",
            format!(
                "{} (unit size {})",
                int(p["units"].as_array().map_or(0, Vec::len) as u64),
                bytes(u(&p["unit_size"]))
            ),
        );
    }
    if let Some(s) = &d.stats {
        if let Some(w) = s["workers"].as_u64() {
            row(&mut h, "workers", int(w));
        }
        if let Some(w) = s["wall_seconds"].as_f64() {
            row(
                &mut h,
                "wall time",
                format!("<span data-stat=\"wall_seconds\" data-v=\"{w}\">{w:.2} s</span>"),
            );
        }
        if let Some(p) = s["peak_rss_bytes"].as_u64() {
            row(&mut h, "peak memory (resident)", bytes(p));
        }
    }
    h.push_str("</table>");
    if let Some(st) = d.stats.as_ref().and_then(|s| s["stages"].as_array()) {
        h.push_str(
            "<h3>Time per stage</h3><p class=\"muted\">A stage's seconds are the time its \
             per-document work took, summed over all workers (CPU-like time: with 8 workers \
             they can reach 8x the wall time). A global stage's decision is timed once, on \
             one thread, and shown apart.</p><table><tr><th>#</th><th>stage</th>\
             <th class=\"n\">seconds (all workers)</th><th class=\"n\">decision seconds</th></tr>",
        );
        for (i, s) in st.iter().enumerate() {
            let dec = d
                .decisions
                .iter()
                .flatten()
                .find(|v| v["stage"].as_str() == s["type"].as_str() && i == stage_of(d, v))
                .and_then(|v| v["seconds"].as_f64())
                .map(|x| format!("{x:.3}"))
                .unwrap_or_default();
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{:.3}</td><td class=\"n\">{dec}</td></tr>",
                i + 1,
                esc(s["type"].as_str().unwrap_or("?")),
                s["seconds"].as_f64().unwrap_or(0.0)
            );
        }
        h.push_str("</table>");
    }
    h.push_str(&crate::phases::table(&crate::phases::phases(d)));
    if let Some(files) = d.plan.as_ref().and_then(|p| p["files"].as_array()) {
        h.push_str(
            "<h3>Input files</h3><table><tr><th>file</th><th>format</th><th>codec</th>\
             <th class=\"n\">bytes</th><th class=\"n\">modified (s since epoch)</th></tr>",
        );
        for f in files {
            let _ = write!(
                h,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td>{}<td class=\"n\">{}</td></tr>",
                esc(f["label"].as_str().or(f["path"].as_str()).unwrap_or("?")),
                esc(f["format"].as_str().unwrap_or("?")),
                esc(f["compression"].as_str().unwrap_or("")),
                num_cell(u(&f["size"]), None),
                u(&f["mtime"])
            );
        }
        h.push_str("</table>");
    }
    if let Some(t) = &d.pipeline_text {
        let _ = write!(h, "<h3>Pipeline</h3><pre class=\"src\">{}</pre>", esc(t));
    }
    if !d.reports.is_empty() {
        h.push_str("<h3>Stage reports</h3><ul>");
        for (dir, files) in &d.reports {
            let list: Vec<String> = files
                .iter()
                .map(|(f, n)| format!("<code>{}</code> ({})", esc(f), bytes(*n)))
                .collect();
            let _ = write!(
                h,
                "<li><code>reports/{}/</code>: {}</li>",
                esc(dir),
                list.join(", ")
            );
        }
        h.push_str("</ul>");
    }
    h
}

/// The pipeline position of a decision's stage (decision files name the stage type; the plan
/// knows its index).
fn stage_of(d: &RunData, decision: &Value) -> usize {
    let k = d
        .decisions
        .iter()
        .position(|x| x.as_ref() == Some(decision));
    k.and_then(|k| {
        d.plan
            .as_ref()
            .and_then(|p| p["decisions"][k]["stage"].as_u64())
    })
    .map_or(usize::MAX, |s| s as usize)
}

/// Thresholds the pipeline sets on a field: `(field, value, label)`. Known: `length` bounds
/// (characters, words), a stage's `min`/`max`/`threshold` on its `field` (`score_select`),
/// `language_threshold` on `language_score`.
pub fn thresholds(d: &RunData) -> Vec<(String, f64, String)> {
    let mut out = Vec::new();
    for (i, s) in d.stages.iter().enumerate() {
        let Some(p) = &s.params else { continue };
        let num = |k: &str| {
            p.get(k)
                .and_then(|v| v.as_float().or_else(|| v.as_integer().map(|i| i as f64)))
        };
        let label = |k: &str| format!("{} {k} (stage {})", s.kind, i + 1);
        match s.kind.as_str() {
            "length" => {
                for (k, f) in [
                    ("min_chars", crate::samples::CHARS),
                    ("max_chars", crate::samples::CHARS),
                    ("min_words", crate::samples::WORDS),
                    ("max_words", crate::samples::WORDS),
                ] {
                    if let Some(v) = num(k) {
                        out.push((f.to_string(), v, label(k)));
                    }
                }
            }
            "language" => {
                if let Some(v) = num("language_threshold") {
                    out.push(("language_score".into(), v, label("language_threshold")));
                }
            }
            _ => {
                if let Some(f) = p.get("field").and_then(|v| v.as_str()) {
                    for k in ["min", "max", "threshold", "min_score", "max_score"] {
                        if let Some(v) = num(k) {
                            out.push((f.to_string(), v, label(k)));
                        }
                    }
                }
            }
        }
    }
    out
}

/// Distributions: a histogram per numeric field, kept vs dropped, thresholds drawn in.
pub fn distributions(
    d: &RunData,
    dropped: &crate::samples::Values,
    kept: &crate::samples::KeptValues,
) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<p class=\"muted\">Kept: {} documents read from {} of {} output files{}; dropped: the \
         excluded documents read for the examples. Per field at most {} values of each side \
         (the documents of smallest id hash). Bins: 40 between the 0.5th and 99.5th \
         percentile (outliers counted in the end bins). A document dropped before the stage \
         that writes a field has no value for it.</p>",
        int(kept.docs),
        kept.files_read,
        kept.files,
        if kept.capped {
            " (stopped at the byte budget)"
        } else {
            ""
        },
        int(crate::samples::MAX_VALUES as u64)
    );
    let th = thresholds(d);
    let mut fields: Vec<String> = kept.values.fields().to_vec();
    for f in dropped.fields() {
        if !fields.contains(f) {
            fields.push(f.clone());
        }
    }
    if fields.is_empty() {
        h.push_str("<p class=\"muted\">No numeric field found.</p>");
        return h;
    }
    for f in fields {
        let (k, kn) = kept.values.get(&f);
        let (x, xn) = dropped.get(&f);
        // A field that never varies says nothing.
        let distinct = k
            .iter()
            .chain(&x)
            .any(|v| Some(v) != k.first().or(x.first()));
        if !distinct {
            continue;
        }
        let lines: Vec<(f64, String)> = th
            .iter()
            .filter(|t| t.0 == f)
            .map(|t| (t.1, t.2.clone()))
            .collect();
        let svg = crate::charts::histogram(&crate::charts::Histogram {
            field: &f,
            kept: &k,
            dropped: &x,
            thresholds: &lines,
        });
        let _ = write!(
            h,
            "<div class=\"hist\" data-field=\"{}\"><h3>{} <span class=\"muted\">(kept: {} documents, dropped: {})</span></h3>{}</div>",
            esc(&f),
            esc(&f),
            int(kn),
            int(xn),
            match svg {
                Ok(s) => s,
                Err(e) => format!("<p class=\"muted\">not drawn: {}</p>", esc(&e.0)),
            }
        );
    }
    h
}

/// Dedup: per dedup stage with a `clusters.jsonl`, the cluster-size distribution, the
/// largest clusters, and the stage's summary numbers.
pub fn dedup(d: &RunData, s: &Samples) -> String {
    let mut h = String::new();
    let mut any = false;
    for (dir, files) in &d.reports {
        if !files.iter().any(|(f, _)| f == "clusters.jsonl") {
            continue;
        }
        any = true;
        let path = d.out.join("reports").join(dir).join("clusters.jsonl");
        let mut sizes: BTreeMap<u64, u64> = BTreeMap::new();
        let mut largest: Vec<(u64, String, Vec<String>)> = Vec::new();
        let mut bad = 0u64;
        if let Ok(f) = std::fs::File::open(&path) {
            for line in std::io::BufReader::new(f).lines() {
                let Ok(line) = line else { break };
                let Ok(v) = serde_json::from_str::<Value>(&line) else {
                    bad += 1;
                    continue;
                };
                let members = v["members"].as_array();
                let n = v["size"]
                    .as_u64()
                    .or(members.map(|m| m.len() as u64))
                    .unwrap_or(0);
                if n == 0 {
                    continue;
                }
                *sizes.entry(n).or_default() += 1;
                if largest.len() < 5 || largest.last().is_some_and(|l| n > l.0) {
                    let kept = v["kept"].as_str().unwrap_or("").to_string();
                    let m: Vec<String> = members
                        .map(|m| {
                            m.iter()
                                .filter_map(Value::as_str)
                                .take(4)
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default();
                    let pos = largest.partition_point(|l| l.0 >= n);
                    largest.insert(pos, (n, kept, m));
                    largest.truncate(5);
                }
            }
        }
        let clusters: u64 = sizes.values().sum();
        let docs: u64 = sizes.iter().map(|(k, v)| k * v).sum();
        let _ = write!(
            h,
            "<h3>{} <span class=\"muted\">(reports/{}/clusters.jsonl)</span></h3>\
             <p><span data-dedup-clusters=\"{clusters}\">{}</span> clusters of two or more \
             documents holding {} documents; {} removed as duplicates of a kept member.</p>",
            esc(dir),
            esc(dir),
            int(clusters),
            int(docs),
            int(docs.saturating_sub(clusters))
        );
        if bad > 0 {
            let _ = write!(
                h,
                "<p class=\"muted\">{} lines are not JSON (truncated file?).</p>",
                int(bad)
            );
        }
        h.push_str("<table><tr><th>cluster size</th><th class=\"n\">clusters</th><th class=\"n\">documents</th></tr>");
        let buckets: [(u64, u64, &str); 6] = [
            (2, 2, "2"),
            (3, 3, "3"),
            (4, 4, "4"),
            (5, 9, "5–9"),
            (10, 99, "10–99"),
            (100, u64::MAX, "100+"),
        ];
        for (lo, hi, name) in buckets {
            let (c, n) = sizes
                .range(lo..=hi)
                .fold((0, 0), |(c, n), (k, v)| (c + v, n + k * v));
            if c > 0 {
                let _ = write!(
                    h,
                    "<tr><td>{name}</td>{}{}</tr>",
                    num_cell(c, None),
                    num_cell(n, None)
                );
            }
        }
        h.push_str("</table>");
        if !largest.is_empty() {
            h.push_str("<h3>Largest clusters</h3><table><tr><th class=\"n\">size</th><th>kept</th><th>members (first four)</th></tr>");
            for (n, kept, m) in &largest {
                let _ = write!(
                    h,
                    "<tr><td class=\"n\">{}</td><td><code>{}</code></td><td>{}</td></tr>",
                    int(*n),
                    esc(kept),
                    m.iter()
                        .map(|x| format!("<code>{}</code>", esc(x)))
                        .collect::<Vec<_>>()
                        .join("<br>")
                );
            }
            h.push_str("</table>");
        }
        // A pair side by side: a sampled duplicate next to its kept partner's id.
        let pair = s
            .by_reason
            .iter()
            .filter(|((st, _), _)| st.contains("dedup"))
            .flat_map(|(_, l)| l.iter())
            .find(|e| e.duplicate_of.is_some());
        if let Some(e) = pair {
            let _ = write!(
                h,
                "<p class=\"muted\">Example: <code>{}</code> was removed as a duplicate of \
                 <code>{}</code>; its text is under Examples.</p>",
                esc(&e.id),
                esc(e.duplicate_of.as_deref().unwrap_or(""))
            );
        }
        if let Some(sum) = files
            .iter()
            .find(|(f, _)| f == "summary.json")
            .and_then(|_| std::fs::read(d.out.join("reports").join(dir).join("summary.json")).ok())
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        {
            let _ = write!(
                h,
                "<details><summary>summary.json</summary><pre class=\"src\">{}</pre></details>",
                esc(&serde_json::to_string_pretty(&sum).unwrap_or_default())
            );
        }
    }
    if !any {
        h.push_str("<p class=\"muted\">No dedup stage wrote clusters in this run.</p>");
    }
    h
}

/// Overlap: which per-document stages would drop the same documents, from the replay of a
/// sample ([`crate::replay`]): a table per stage, an UpSet chart and the intersections.
pub fn overlap(o: Option<&crate::replay::Overlap>) -> String {
    let Some(o) = o else {
        return "<p class=\"muted\">Not evaluated: the run folder holds no plan \
                (<code>.datamill/plan.json</code>) to rebuild its stages from, or the overlap \
                sample is turned off.</p>"
            .into();
    };
    let mut h = String::new();
    let _ = write!(
        h,
        "<p>Every per-document stage evaluated on every document of a sample of the input \
         (<b data-overlap-docs=\"{}\">{}</b> documents: the first of {} of {} work units{}), \
         whether or not an earlier stage would drop it; each stage sees the text as the \
         earlier stages rewrote it. A stage's verdict is its first failing rule, as in the \
         run: the sets are stages, not the rules inside one stage. Made when the report is \
         made: a run is not slowed.</p>",
        o.docs(),
        int(o.docs() as u64),
        o.units.0,
        o.units.1,
        if o.whole_input {
            " — the whole input"
        } else {
            ""
        }
    );
    if !o.skipped.is_empty() {
        h.push_str("<p class=\"muted\">Not evaluated: ");
        let list: Vec<String> = o
            .skipped
            .iter()
            .map(|(i, k, why)| format!("{} <code>{}</code> ({})", i + 1, esc(k), esc(why)))
            .collect();
        h.push_str(&list.join("; "));
        h.push_str(". Documents pass them unchanged.</p>");
    }
    if o.errors > 0 {
        let _ = write!(
            h,
            "<p class=\"muted\">{} stage errors on sampled documents (counted as kept).</p>",
            int(o.errors)
        );
    }
    if o.stages.is_empty() || o.docs() == 0 {
        h.push_str("<p class=\"muted\">No per-document stage, or no document, to evaluate.</p>");
        return h;
    }
    let (alone, first, only) = (o.alone(), o.first(), o.only());
    let n = o.docs() as u64;
    h.push_str(
        "<table class=\"overlap\"><tr><th>#</th><th>stage</th><th class=\"n\">would drop alone</th>\
         <th class=\"n\"></th><th class=\"n\">first in pipeline order</th>\
         <th class=\"n\">dropped by no other stage</th><th>reasons (sample)</th></tr>",
    );
    for (s, st) in o.stages.iter().enumerate() {
        let mut reasons: BTreeMap<&str, u64> = BTreeMap::new();
        for d in &o.drops {
            if let Some(r) = &d[s] {
                *reasons.entry(r).or_default() += 1;
            }
        }
        let rs: Vec<String> = reasons
            .iter()
            .map(|(r, c)| format!("{}: {}", esc(r), int(*c)))
            .collect();
        let _ = write!(
            h,
            "<tr data-stage=\"{}\"><td>{}</td><td>{}</td><td class=\"n\" data-alone=\"{}\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\" data-first=\"{}\">{}</td>\
             <td class=\"n\" data-only=\"{}\">{}</td><td>{}</td></tr>",
            st.index,
            st.index + 1,
            esc(&st.kind),
            alone[s],
            int(alone[s] as u64),
            pct(alone[s] as u64, n),
            first[s],
            int(first[s] as u64),
            only[s],
            int(only[s] as u64),
            rs.join(", ")
        );
    }
    h.push_str("</table>\n");
    let inter = o.intersections();
    if inter.is_empty() {
        h.push_str("<p class=\"muted\">No stage would drop a sampled document.</p>");
        return h;
    }
    // The chart's rows: the stages that drop something.
    let rows: Vec<usize> = (0..o.stages.len()).filter(|&s| alone[s] > 0).collect();
    let names: Vec<String> = rows
        .iter()
        .map(|&s| format!("{} {}", o.stages[s].index + 1, o.stages[s].kind))
        .collect();
    let sizes: Vec<usize> = rows.iter().map(|&s| alone[s]).collect();
    const COLS: usize = 24;
    let columns: Vec<(Vec<usize>, usize)> = inter
        .iter()
        .take(COLS)
        .map(|(set, c)| {
            (
                set.iter()
                    .filter_map(|s| rows.iter().position(|r| r == s))
                    .collect(),
                *c,
            )
        })
        .collect();
    match crate::charts::upset(&crate::charts::UpSet {
        sets: &names,
        sizes: &sizes,
        columns: &columns,
    }) {
        Ok(svg) => {
            let _ = write!(h, "<div class=\"upset\">{svg}</div>");
        }
        Err(e) => {
            let _ = write!(h, "<p class=\"muted\">not drawn: {}</p>", esc(&e.0));
        }
    }
    let _ = write!(
        h,
        "<details><summary>All {} intersections</summary><table class=\"intersections\">\
         <tr><th>dropped by exactly</th><th class=\"n\">documents</th><th class=\"n\"></th></tr>",
        inter.len()
    );
    for (set, c) in &inter {
        let label: Vec<String> = set
            .iter()
            .map(|&s| format!("{} {}", o.stages[s].index + 1, esc(&o.stages[s].kind)))
            .collect();
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"n\" data-v=\"{c}\">{}</td><td class=\"n\">{}</td></tr>",
            label.join(" + "),
            int(*c as u64),
            pct(*c as u64, n)
        );
    }
    h.push_str("</table></details>");
    h
}

/// Scaling: the figures given (`datamill report OUT --law LAW [--runs CSV]`).
pub fn scaling(figures: &[crate::Figure]) -> String {
    if figures.is_empty() {
        return "<p class=\"muted\">No scaling law given: <code>datamill report OUT --law \
                FILE|builtin:NAME [--runs runs.csv]</code> embeds <code>datamill scaling \
                plot</code>'s figure here.</p>"
            .into();
    }
    let mut h = String::new();
    for f in figures {
        let _ = write!(
            h,
            "<div class=\"figure\" data-figure=\"{}\"><h3>{}</h3>{}<p class=\"muted\"><code>{}</code></p></div>",
            esc(&f.title),
            esc(&f.title),
            f.svg,
            esc(&f.caption)
        );
    }
    h
}
