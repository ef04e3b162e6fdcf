//! Before/after: the documents the stages that rewrite text changed (normalize, pii,
//! symbol_lines, the transforms of line_dedup and substring_dedup, ...), as a diff.
//!
//! The run keeps, per task and stage, the few changed documents of smallest id hash
//! (`datamill_exec::changes`, in `.datamill/pass<k>/<unit>.changes.json`); merged here they
//! are the run's [`K`] smallest per stage — the same examples whatever the thread count.

use std::fmt::Write;
use std::time::Duration;

use datamill_exec::changes::{Change, Changes, K, MAX_TEXT};
use datamill_exec::layout::Layout;
use similar::{ChangeTag, TextDiff};

use crate::html::{bytes, esc};
use crate::load::{Problem, RunData};

/// The merged examples of every task of the run in `d`.
pub fn load(d: &RunData, problems: &mut Vec<Problem>) -> Changes {
    let l = Layout::new(&d.out);
    let mut all = Changes::default();
    for k in 0..d.markers.len() {
        let Ok(rd) = std::fs::read_dir(l.pass_dir(k)) else {
            continue;
        };
        let mut files: Vec<_> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with(".changes.json"))
            .collect();
        files.sort();
        for f in files {
            match std::fs::read(&f)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice::<Changes>(&b).map_err(|e| e.to_string()))
            {
                Ok(c) => all.merge(c),
                Err(e) => problems.push(Problem {
                    file: d.rel(&f),
                    message: format!("unreadable ({e}); its before/after examples are not shown"),
                }),
            }
        }
    }
    all
}

/// Whitespace made visible inside a changed part of a line.
fn visible(s: &str) -> String {
    esc(s)
        .replace(' ', "·")
        .replace('\t', "→")
        .replace('\u{a0}', "⍽")
        .replace('\n', "↵\n")
}

/// A line diff of `before` and `after`, the changed parts of changed lines emphasized, two
/// lines of context around each change.
pub fn diff(before: &str, after: &str) -> String {
    let d = TextDiff::configure()
        .timeout(Duration::from_millis(200))
        .diff_lines(before, after);
    let mut h = String::from("<pre class=\"diff\">");
    for (gi, group) in d.grouped_ops(2).iter().enumerate() {
        if gi > 0 {
            h.push_str("<span class=\"gap\">⋯\n</span>");
        }
        for op in group {
            for c in d.iter_inline_changes(op) {
                let (class, sign, tag) = match c.tag() {
                    ChangeTag::Delete => ("d", "-", "del"),
                    ChangeTag::Insert => ("i", "+", "ins"),
                    ChangeTag::Equal => ("e", " ", ""),
                };
                let _ = write!(h, "<span class=\"{class}\">{sign} ");
                for (emph, v) in c.iter_strings_lossy() {
                    if emph && !tag.is_empty() {
                        let _ = write!(h, "<{tag}>{}</{tag}>", visible(&v));
                    } else {
                        h.push_str(&esc(&v));
                    }
                }
                if c.missing_newline() {
                    h.push('\n');
                }
                h.push_str("</span>");
            }
        }
    }
    h.push_str("</pre>");
    h
}

fn example(c: &Change, open: bool) -> String {
    let cut = c.offset + c.before.len() < c.len.0 || c.offset + c.after.len() < c.len.1;
    format!(
        "<details class=\"doc rewrite\"{}><summary><code>{}</code> <span class=\"meta\">{} → {}{}{}</span></summary>{}</details>",
        if open { " open" } else { "" },
        esc(&c.id),
        bytes(c.len.0 as u64),
        bytes(c.len.1 as u64),
        if c.offset > 0 {
            format!("; shown from byte {} (unchanged before)", c.offset)
        } else {
            String::new()
        },
        if cut {
            format!("; cut at {MAX_TEXT} bytes")
        } else {
            String::new()
        },
        diff(&c.before, &c.after)
    )
}

/// The section: per stage that changed documents, its examples as diffs.
pub fn section(d: &RunData, c: &Changes) -> String {
    let mut h = format!(
        "<p class=\"muted\">Per stage that rewrote text, the {K} changed documents of smallest id \
         hash (the same whatever the thread count), as a line diff: <span class=\"d\">removed</span> \
         and <span class=\"i\">added</span> lines, the changed characters emphasized (spaces · \
         tabs → no-break spaces ⍽ line ends ↵ made visible), two lines of context.</p>"
    );
    if c.is_empty() {
        h.push_str(
            "<p class=\"muted\">No stage changed the text of a kept document (or the run is \
             from a datamill that did not record it).</p>",
        );
        return h;
    }
    for (s, list) in &c.stages {
        let kind = d.stages.get(*s).map_or("?", |x| x.kind.as_str());
        let counters = d
            .stats
            .as_ref()
            .and_then(|st| st["stages"][*s]["counters"].as_object())
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{}: {}", esc(k), v.as_u64().unwrap_or(0)))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        let _ = write!(
            h,
            "<h3 data-rewrite-stage=\"{s}\">{} <code>{}</code> <span class=\"muted\">{} example(s){}</span></h3>",
            s + 1,
            esc(kind),
            list.len(),
            if counters.is_empty() {
                String::new()
            } else {
                format!(" — {counters}")
            }
        );
        for (j, e) in list.iter().enumerate() {
            h.push_str(&example(e, j == 0));
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_marks_changed_lines_and_escapes() {
        let before = "keep\nhello  world\n<script>x</script>\nsame\n";
        let after = "keep\nhello world\nsame\n";
        let h = diff(before, after);
        assert!(
            h.contains("<span class=\"d\">- hello<del>··</del>world\n"),
            "{h}"
        );
        assert!(
            h.contains("<span class=\"i\">+ hello<ins>·</ins>world\n"),
            "{h}"
        );
        assert!(
            h.contains("<span class=\"d\">- <del>&lt;script&gt;x&lt;/script&gt;</del>"),
            "{h}"
        );
        assert!(!h.contains("<script>"));
        assert!(h.contains("<span class=\"e\">  keep"));
        // Identical texts: nothing but the frame.
        assert_eq!(diff("a\n", "a\n"), "<pre class=\"diff\"></pre>");
    }
}
