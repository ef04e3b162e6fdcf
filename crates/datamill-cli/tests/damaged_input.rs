//! Damaged input (issue 14.8, 14.9): quarantine keeps the exact bytes of a line that is not
//! UTF-8, `invalid_utf8 = "replace"` repairs and keeps it, `on_file_error = "quarantine"` keeps
//! what a truncated stream held and goes on, and a failed task leaves no temporary file.
//! Tokens (issue 14.7): counted in and out of every stage after `token_count`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn datamill(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_datamill"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn pipeline(dir: &Path, name: &str, paths: &str, input: &str, stages: &str) -> String {
    let p = dir.join(format!("{name}.toml"));
    std::fs::write(
        &p,
        format!(
            "version = 1\n[input]\npaths = [{paths}]\n{input}\n{stages}[output]\ndir = \"{name}\"\n"
        ),
    )
    .unwrap();
    p.to_string_lossy().into_owned()
}

fn stats(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("stats.json")).unwrap()).unwrap()
}

fn quarantine(out: &Path) -> Vec<serde_json::Value> {
    let mut recs = Vec::new();
    let dir = out.join("quarantine");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        for l in std::fs::read_to_string(f).unwrap().lines() {
            recs.push(serde_json::from_str(l).unwrap());
        }
    }
    recs
}

/// Every file under `dir`, recursively.
fn all_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path().to_string_lossy().into_owned());
            }
        }
    }
    out
}

const BAD_UTF8: &[u8] = b"{\"id\":\"a\",\"text\":\"fine text here\"}\n\
    {\"id\":\"b\",\"text\":\"caf\xe9 latin-1 \xff bytes\"}\n\
    {\"id\":\"c\",\"text\":\"also fine\"}\n";

#[test]
fn invalid_utf8_is_quarantined_with_its_exact_bytes() {
    use base64::Engine;
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("in.jsonl"), BAD_UTF8).unwrap();
    let p = pipeline(d.path(), "q", "\"in.jsonl\"", "", "");
    ok(&datamill(&["run", &p, "--quiet"]));
    let out = d.path().join("q");
    let q = quarantine(&out);
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!(q[0]["reason"], "invalid_utf8");
    let exact = base64::engine::general_purpose::STANDARD
        .decode(q[0]["raw_base64"].as_str().expect("raw_base64"))
        .unwrap();
    assert_eq!(exact, BAD_UTF8.split(|&b| b == b'\n').nth(1).unwrap());
    assert_eq!(stats(&out)["output_docs"], 2);
}

#[test]
fn invalid_utf8_replace_repairs_keeps_and_counts() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("in.jsonl"), BAD_UTF8).unwrap();
    let p = pipeline(
        d.path(),
        "r",
        "\"in.jsonl\"",
        "invalid_utf8 = \"replace\"",
        "",
    );
    ok(&datamill(&["run", &p, "--quiet"]));
    let out = d.path().join("r");
    let s = stats(&out);
    assert_eq!(s["output_docs"], 3, "{s}");
    assert_eq!(s["quarantined"], 0, "{s}");
    assert_eq!(s["invalid_utf8_replaced"], 1, "{s}");
    let shard = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".jsonl.zst"))
        .unwrap();
    let text =
        String::from_utf8(zstd::decode_all(std::fs::File::open(shard).unwrap()).unwrap()).unwrap();
    assert!(
        text.contains("caf\u{fffd} latin-1 \u{fffd} bytes"),
        "{text}"
    );
}

fn truncated_gz(dir: &Path) {
    let body: String = (0..5000)
        .map(|i| format!("{{\"text\":\"doc {i} words here\"}}\n"))
        .collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, body.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    std::fs::write(dir.join("t.jsonl.gz"), &gz[..gz.len() / 2]).unwrap();
    std::fs::write(dir.join("ok.jsonl"), "{\"text\":\"a fine document\"}\n").unwrap();
}

#[test]
fn a_truncated_stream_is_quarantined_and_the_run_goes_on() {
    let d = tempfile::tempdir().unwrap();
    truncated_gz(d.path());
    let p = pipeline(
        d.path(),
        "fq",
        "\"t.jsonl.gz\", \"ok.jsonl\"",
        "on_file_error = \"quarantine\"",
        "[[stage]]\ntype = \"length\"\nmin_words = 2\n",
    );
    ok(&datamill(&["run", &p, "--quiet"]));
    let out = d.path().join("fq");
    let s = stats(&out);
    let kept = s["output_docs"].as_u64().unwrap();
    // The documents before the damage (about half of 5000) and the other file's one.
    assert!(kept > 1000 && kept < 5000, "{s}");
    assert_eq!(s["quarantine"]["file_error"], 1, "{s}");
    assert_eq!(
        s["input_docs"].as_u64().unwrap(),
        kept + s["quarantined"].as_u64().unwrap(),
        "{s}"
    );
    let q = quarantine(&out);
    let fe = q.iter().find(|r| r["reason"] == "file_error").unwrap();
    assert_eq!(fe["location"], "t.jsonl.gz");
    assert!(fe["message"].as_str().unwrap().contains("gzip"), "{fe}");
    // Rerun: nothing to do, same stats.
    ok(&datamill(&["run", &p, "--quiet"]));
    assert_eq!(stats(&out)["output_docs"], kept);
}

#[test]
fn a_failed_task_leaves_no_temporary_file() {
    let d = tempfile::tempdir().unwrap();
    truncated_gz(d.path());
    let p = pipeline(d.path(), "stop", "\"t.jsonl.gz\"", "", "");
    let o = datamill(&["run", &p, "--quiet", "--workers", "1"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let left: Vec<String> = all_files(&d.path().join("stop"))
        .into_iter()
        .filter(|f| f.ends_with(".tmp") || f.contains("00000-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn tokens_are_counted_in_and_out_of_every_stage_after_token_count() {
    let tok = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/models/gpt2__tokenizer.json");
    if !tok.exists() {
        if std::env::var("DATAMILL_REQUIRE_MODELS").is_ok_and(|v| v == "1") {
            panic!("DATAMILL_REQUIRE_MODELS=1 but {} is missing", tok.display());
        }
        eprintln!("SKIPPED: {} is missing", tok.display());
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let mut body = String::new();
    for i in 0..50 {
        let words = if i % 5 == 0 {
            "short"
        } else {
            "a longer document with several words"
        };
        body.push_str(&format!("{{\"id\":\"{i}\",\"text\":\"{words} {i}\"}}\n"));
    }
    std::fs::write(d.path().join("in.jsonl"), body).unwrap();
    let p = pipeline(
        d.path(),
        "tok",
        "\"in.jsonl\"",
        "",
        &format!(
            "[[stage]]\ntype = \"token_count\"\ntokenizer = \"{}\"\n\
             [[stage]]\ntype = \"length\"\nmin_words = 3\n\
             [[stage]]\ntype = \"exact_dedup\"\n",
            tok.display()
        ),
    );
    ok(&datamill(&["run", &p, "--quiet"]));
    let s = stats(&d.path().join("tok"));
    let st = &s["stages"];
    let c = |i: usize, k: &str| st[i]["counters"][k].as_u64().unwrap_or(0);
    assert_eq!(c(0, "tokens_out"), c(0, "tokens"), "{s}");
    assert_eq!(c(1, "tokens_in"), c(0, "tokens_out"), "{s}");
    assert!(c(1, "tokens_out") < c(1, "tokens_in"), "{s}");
    // The global stage (applied in the next pass) too.
    assert_eq!(c(2, "tokens_in"), c(1, "tokens_out"), "{s}");
    assert!(
        c(2, "tokens_out") > 0 && c(2, "tokens_out") <= c(2, "tokens_in"),
        "{s}"
    );
}
