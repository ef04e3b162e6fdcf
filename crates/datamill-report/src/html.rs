//! HTML building blocks: escaping (a corpus is untrusted: every text, id, reason, path and
//! pipeline string goes through [`esc`]), number formatting and the page skeleton.
//!
//! The page carries a Content-Security-Policy that forbids scripts and every network request,
//! so even a bug in escaping could not run a corpus' script or fetch anything.

use std::fmt::Write;

/// Escapes `s` for HTML text and double-quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab and newline cannot appear in HTML text.
            c if c.is_control() && c != '\n' && c != '\t' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// `n` with thousands separators (`1,234,567`).
pub fn int(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `part` as a percentage of `whole` (one decimal; `–` when `whole` is 0).
pub fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        "–".into()
    } else {
        format!("{:.1}%", 100.0 * part as f64 / whole as f64)
    }
}

/// A byte count in KB/MB/GB (powers of 1000).
pub fn bytes(n: u64) -> String {
    let f = n as f64;
    match n {
        0..1_000 => format!("{n} B"),
        1_000..1_000_000 => format!("{:.1} kB", f / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", f / 1e6),
        _ => format!("{:.2} GB", f / 1e9),
    }
}

/// A table cell holding a count: shown with separators, the exact value in `data-v` and,
/// when `key` is given, the `stats.json` path of the value in `data-stat` (the browser test
/// compares them with `stats.json`).
pub fn num_cell(n: u64, key: Option<&str>) -> String {
    match key {
        Some(k) => format!(
            "<td class=\"n\" data-stat=\"{}\" data-v=\"{n}\">{}</td>",
            esc(k),
            int(n)
        ),
        None => format!("<td class=\"n\" data-v=\"{n}\">{}</td>", int(n)),
    }
}

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
header{background:#1d2b3a;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;color:#c8d2dc}
nav{padding:6px 24px;background:#e9edf1;font-size:13px}
nav a{margin-right:14px;color:#1d4f91}
main{padding:8px 24px 40px;max-width:1200px}
section{background:#fff;border:1px solid #dde2e7;border-radius:6px;padding:6px 18px 14px;margin:16px 0}
h2{font-size:17px;margin:10px 0}
h3{font-size:15px;margin:14px 0 6px}
table{border-collapse:collapse;margin:6px 0;font-size:13px}
th,td{border-bottom:1px solid #e4e7eb;padding:3px 10px;text-align:left;vertical-align:top}
th{background:#f1f3f5}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.bar{display:flex;height:14px;min-width:220px;background:#eef0f2;border-radius:2px;overflow:hidden}
.bar span{display:block;height:100%}
.kept{background:#3c7dd9}.drop{background:#e07b39}.quar{background:#b34a9c}
.key span{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px;vertical-align:-1px}
.problems{border-color:#e0b23a;background:#fffaf0}
.problems li{margin:2px 0}
.doc{border:1px solid #e4e7eb;border-radius:4px;margin:6px 0;padding:4px 8px;background:#fbfbfc}
.doc .meta{color:#5c6670;font-size:12px}
.doc pre{white-space:pre-wrap;word-break:break-word;margin:4px 0;font:12px/1.4 ui-monospace,Menlo,Consolas,monospace;max-height:18em;overflow:auto}
mark{background:#ffe066;padding:0 1px}
.muted{color:#6b7580}
pre.src{background:#f4f5f7;padding:8px;overflow:auto;font-size:12px}
details>summary{cursor:pointer;margin:4px 0}
pre.diff{white-space:pre-wrap;word-break:break-word;margin:4px 0;font:12px/1.4 ui-monospace,Menlo,Consolas,monospace;max-height:24em;overflow:auto}
pre.diff span{display:block}
.d{background:#fdecea}.i{background:#e6f4ea}.gap{color:#8a939c}
del{background:#f3aaa2;text-decoration:none}ins{background:#97d5a8;text-decoration:none}
svg text{font-family:system-ui,sans-serif}
"#;

/// A whole page: `title` (escaped here), a navigation bar over `sections` (`(id, title,
/// body html)`), and the bodies.
pub fn page(title: &str, subtitle: &str, sections: &[(String, String, String)]) -> String {
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
    h.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; img-src data:\">\n",
    );
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(h, "<title>{}</title>", esc(title));
    let _ = writeln!(h, "<style>{STYLE}</style></head><body>");
    let _ = writeln!(
        h,
        "<header><h1>{}</h1><p>{}</p></header>",
        esc(title),
        esc(subtitle)
    );
    h.push_str("<nav>");
    for (id, t, _) in sections {
        let _ = write!(h, "<a href=\"#{}\">{}</a>", esc(id), esc(t));
    }
    h.push_str("</nav>\n<main>\n");
    for (id, t, body) in sections {
        let class = if id == "problems" {
            " class=\"problems\""
        } else {
            ""
        };
        let _ = writeln!(
            h,
            "<section id=\"{}\"{class}><h2>{}</h2>\n{body}</section>",
            esc(id),
            esc(t)
        );
    }
    h.push_str("</main></body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<script>alert(\"x\")</script>&'"),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"
        );
        assert_eq!(esc("a\u{0}b\nc"), "a\\u{0}b\nc");
    }

    #[test]
    fn formats_numbers() {
        assert_eq!(int(0), "0");
        assert_eq!(int(999), "999");
        assert_eq!(int(1000), "1,000");
        assert_eq!(int(1234567), "1,234,567");
        assert_eq!(pct(1, 3), "33.3%");
        assert_eq!(pct(1, 0), "–");
        assert_eq!(bytes(8976629), "9.0 MB");
    }
}
