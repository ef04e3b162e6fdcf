//! The run report in a real browser: headless Chromium (Debian's `chromium`, installed by
//! `.ci/run`) opens the `report.html` that `datamill run` writes for the quickstart and for
//! `examples/select.toml`, and the test checks what the browser built from it: no console
//! message at all (no script error, no blocked request), every section present, every number
//! marked with `data-stat` equal to `stats.json`, and corpus markup (`<script>` in a dropped
//! document) shown as text, never turned into an element. A screenshot of each page is
//! written to `target/tmp/report-*.png` for people to look at (not compared).
//!
//! Without Chromium the tests print a notice and pass, unless `DATAMILL_REQUIRE_BROWSER` is
//! set (CI sets it): then they fail. `DATAMILL_CHROMIUM` names another binary.

use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    let name = std::env::var_os("DATAMILL_CHROMIUM").unwrap_or_else(|| "chromium".into());
    let found = Command::new(&name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some(PathBuf::from(name));
    }
    if std::env::var_os("DATAMILL_REQUIRE_BROWSER").is_some() {
        panic!(
            "DATAMILL_REQUIRE_BROWSER is set but {} cannot be run (apt-get install -y chromium)",
            name.to_string_lossy()
        );
    }
    eprintln!(
        "SKIPPED: the report browser test needs headless Chromium ({} not found; \
         apt-get install -y chromium, or set DATAMILL_CHROMIUM); set DATAMILL_REQUIRE_BROWSER=1 \
         to make this a failure",
        name.to_string_lossy()
    );
    None
}

/// What the browser made of a page: its DOM after loading, and its console messages.
struct Loaded {
    dom: String,
    console: Vec<String>,
}

fn open(chrome: &Path, page: &Path, screenshot: Option<&Path>) -> Loaded {
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let mut cmd = Command::new(chrome);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1280,2400",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()));
    let o = cmd
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(
        o.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let console = String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    if let Some(png) = screenshot {
        let o = Command::new(chrome)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--window-size=1280,2400",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("--screenshot={}", png.display()))
            .arg(&url)
            .output()
            .expect("chromium runs");
        assert!(o.status.success() && png.exists(), "no screenshot");
    }
    Loaded {
        dom: String::from_utf8_lossy(&o.stdout).into_owned(),
        console,
    }
}

fn run_pipeline(pipeline: &Path, out: &Path) {
    let o = Command::new(env!("CARGO_BIN_EXE_datamill"))
        .arg("run")
        .arg(pipeline)
        .arg("--output")
        .arg(out)
        .arg("--quiet")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        out.join("report.html").is_file(),
        "datamill run wrote no report"
    );
}

/// `stats.json` value at a dotted path (`stages.1.dropped.toc`).
fn lookup<'a>(v: &'a serde_json::Value, key: &str) -> &'a serde_json::Value {
    // Reasons may hold dots: after `dropped.` / `quarantine.` the rest is one key.
    let mut cur = v;
    let mut parts = key.splitn(64, '.').peekable();
    while let Some(p) = parts.next() {
        cur = match p.parse::<usize>() {
            Ok(i) if cur.is_array() => &cur[i],
            _ => &cur[p],
        };
        if p == "dropped" || p == "quarantine" {
            let rest: Vec<&str> = parts.by_ref().collect();
            return &cur[rest.join(".")];
        }
    }
    cur
}

/// Every `(data-stat, data-v)` pair of the DOM.
fn stat_cells(dom: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = dom;
    while let Some(i) = rest.find("data-stat=\"") {
        rest = &rest[i + 11..];
        let key = &rest[..rest.find('"').unwrap()];
        let v = rest.find("data-v=\"").unwrap();
        let after = &rest[v + 8..];
        out.push((
            key.to_string(),
            after[..after.find('"').unwrap()].to_string(),
        ));
    }
    out
}

fn check_report(chrome: &Path, pipeline: &str, name: &str) -> String {
    let d = tempfile::tempdir().unwrap();
    let ex = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(pipeline);
    run_pipeline(&ex, d.path());
    let png = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("report-{name}.png"));
    let page = open(chrome, &d.path().join("report.html"), Some(&png));
    assert!(page.console.is_empty(), "console: {:#?}", page.console);
    for id in [
        "funnel",
        "examples",
        "rewrites",
        "overlap",
        "distributions",
        "dedup",
        "facts",
    ] {
        assert!(
            page.dom.contains(&format!("<section id=\"{id}\"")),
            "section {id} missing"
        );
    }
    assert!(
        !page.dom.contains("<section id=\"problems\""),
        "a finished run has no problems"
    );
    let stats: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path().join("stats.json")).unwrap()).unwrap();
    let cells = stat_cells(&page.dom);
    // Every count of stats.json is on the page, and equal.
    let mut want = vec![
        "input_docs".to_string(),
        "output_docs".into(),
        "quarantined".into(),
    ];
    for (i, s) in stats["stages"].as_array().unwrap().iter().enumerate() {
        want.push(format!("stages.{i}.in"));
        want.push(format!("stages.{i}.kept"));
        for r in s["dropped"].as_object().unwrap().keys() {
            want.push(format!("stages.{i}.dropped.{r}"));
        }
    }
    for w in &want {
        assert!(cells.iter().any(|(k, _)| k == w), "{w} is not on the page");
    }
    for (k, v) in &cells {
        assert_eq!(&lookup(&stats, k).to_string(), v, "{k}");
    }
    // One example list per drop reason.
    for (i, s) in stats["stages"].as_array().unwrap().iter().enumerate() {
        for r in s["dropped"].as_object().unwrap().keys() {
            assert!(
                page.dom.contains(&format!("id=\"ex-{i}-{r}\"")),
                "no examples for {r}"
            );
        }
    }
    assert!(!page.dom.contains("<script"), "the report holds no script");
    // Overlap: the per-document stages replayed on a sample, drawn as an UpSet chart; when the
    // sample is the whole input, the first stage's count is the run's.
    assert!(
        page.dom.contains("data-overlap-docs=\""),
        "no overlap sample"
    );
    if page.dom.contains(" — the whole input") {
        let first = stats["stages"][0]["dropped"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>();
        assert!(
            page.dom.contains("<tr data-stage=\"0\">")
                && page.dom.contains(&format!("data-first=\"{first}\"")),
            "the overlap's first stage does not drop what the run did ({first})"
        );
    }
    // Distributions: text length in characters and words, kept vs dropped, as SVG charts.
    for f in ["characters", "words"] {
        let at = page
            .dom
            .find(&format!("data-field=\"{f}\""))
            .unwrap_or_else(|| panic!("no histogram of {f}"));
        assert!(page.dom[at..].contains("<svg"), "{f}: no chart");
    }
    page.dom
}

#[test]
fn quickstart_report_in_a_browser() {
    let Some(chrome) = chromium() else { return };
    let dom = check_report(&chrome, "quickstart.toml", "quickstart");
    assert!(
        dom.contains("data-dedup-clusters=\""),
        "no exact_dedup clusters"
    );
    // The overlap of the quickstart's filters, as an UpSet chart.
    assert!(dom.contains("<div class=\"upset\"><svg"), "no UpSet chart");
}

#[test]
fn select_report_in_a_browser() {
    let Some(chrome) = chromium() else { return };
    let dom = check_report(&chrome, "select.toml", "select");
    // The scores the stages write, and MinHash's clusters.
    for f in ["perplexity", "dsir_log_weight"] {
        assert!(
            dom.contains(&format!("data-field=\"{f}\"")),
            "no histogram of {f}"
        );
    }
    assert!(dom.contains("data-dedup-clusters=\""), "no dedup clusters");
}

#[test]
fn corpus_script_in_a_dropped_document_does_not_run() {
    let Some(chrome) = chromium() else { return };
    let d = tempfile::tempdir().unwrap();
    let evil = "<script>document.body.setAttribute('data-pwned','1');console.error('pwned')</script>\
                <img src=x onerror=\"document.body.setAttribute('data-pwned','2')\"> EVIL marker";
    let docs = [
        serde_json::json!({"id": "<b>evil</b>", "text": evil}),
        serde_json::json!({"id": "fine", "text": "a harmless document\nshared line here"}),
        // Rewritten (normalize: line ends; line_dedup: the shared line), not dropped.
        serde_json::json!({"id": "<i>rewritten</i>", "text":
            "<script>document.body.setAttribute('data-pwned','3')</script>\r\nshared line here\r\n"}),
    ];
    let input: String = docs.iter().map(|v| format!("{v}\n")).collect();
    std::fs::write(d.path().join("in.jsonl"), input).unwrap();
    std::fs::write(
        d.path().join("p.toml"),
        "version = 1\n[input]\npaths = [\"in.jsonl\"]\n[[stage]]\ntype = \"normalize\"\n\
         [[stage]]\ntype = \"regex\"\npattern = \"EVIL\"\nreason = \"evil\"\n\
         [[stage]]\ntype = \"line_dedup\"\nkeep_first = true\nmin_chars = 5\n\
         [output]\nexcluded = true\n",
    )
    .unwrap();
    let out = d.path().join("out");
    run_pipeline(&d.path().join("p.toml"), &out);
    let page = open(&chrome, &out.join("report.html"), None);
    assert!(page.console.is_empty(), "console: {:#?}", page.console);
    assert!(!page.dom.contains("<script"), "a script element was built");
    assert!(!page.dom.contains("<img"), "an img element was built");
    assert!(!page.dom.contains("data-pwned=\""), "a corpus script ran");
    // The text is there, as text, with the match highlighted.
    assert!(
        page.dom
            .contains("&lt;script&gt;document.body.setAttribute")
    );
    assert!(page.dom.contains("<mark>EVIL</mark>"));
    assert!(page.dom.contains("&lt;b&gt;evil&lt;/b&gt;"));
    // Before/after of both rewriting stages, as text.
    for s in [0, 2] {
        assert!(
            page.dom.contains(&format!("data-rewrite-stage=\"{s}\"")),
            "no before/after for stage {s}"
        );
    }
    assert!(
        page.dom
            .contains("<code>&lt;i&gt;rewritten&lt;/i&gt;</code>")
    );
    assert!(
        page.dom.contains("<span class=\"d\">- shared line here"),
        "{}",
        page.dom
    );

    // Control: the same text pasted unescaped does build elements and reach the console, so
    // the checks above can fail.
    let raw = d.path().join("raw.html");
    std::fs::write(&raw, format!("<html><body><pre>{evil}</pre></body></html>")).unwrap();
    let page = open(&chrome, &raw, None);
    assert!(page.dom.contains("data-pwned=\""), "{}", page.dom);
    assert!(!page.console.is_empty());
}

/// `datamill report --law [--runs]` embeds `datamill scaling plot`'s figure (no browser
/// needed); a bad law is an error naming it.
#[test]
fn report_embeds_a_scaling_law() {
    let d = tempfile::tempdir().unwrap();
    let ex = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/quickstart.toml");
    let out = d.path().join("out");
    run_pipeline(&ex, &out);
    let runs = d.path().join("runs.csv");
    let mut csv = String::from("N,D,loss\n");
    for (n, dd) in [(1e8, 2e9), (2e8, 4e9), (4e8, 8e9), (8e8, 1.6e10)] {
        let loss = 1.69 + 406.4 / f64::powf(n, 0.34) + 410.7 / f64::powf(dd, 0.28);
        csv += &format!("{n},{dd},{loss}\n");
    }
    std::fs::write(&runs, csv).unwrap();
    let page = d.path().join("r.html");
    let o = Command::new(env!("CARGO_BIN_EXE_datamill"))
        .args([
            "report",
            out.to_str().unwrap(),
            "-o",
            page.to_str().unwrap(),
        ])
        .args([
            "--law",
            "builtin:hoffmann",
            "--runs",
            runs.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(&page).unwrap();
    let at = html
        .find("<section id=\"scaling\"")
        .expect("scaling section");
    let sec = &html[at..at + html[at..].find("</section>").unwrap()];
    assert!(
        sec.contains("data-figure=\"scaling law builtin:hoffmann\""),
        "{sec}"
    );
    assert!(
        sec.contains("<svg") && sec.contains("<circle"),
        "no runs drawn"
    );
    assert!(!html.contains("<script"));
    let o = Command::new(env!("CARGO_BIN_EXE_datamill"))
        .args([
            "report",
            out.to_str().unwrap(),
            "-o",
            page.to_str().unwrap(),
        ])
        .args(["--law", "builtin:nope"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nope"));
}
