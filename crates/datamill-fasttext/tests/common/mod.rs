//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `crates/datamill-fasttext`.
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A committed small test model: `tests/data/<name>.bin` or `.ftz`.
pub fn small_model(name: &str) -> PathBuf {
    let d = crate_dir().join("tests").join("data");
    let bin = d.join(format!("{name}.bin"));
    if bin.exists() {
        bin
    } else {
        d.join(format!("{name}.ftz"))
    }
}

/// Reads a committed golden JSONL file.
pub fn golden(name: &str) -> Vec<serde_json::Value> {
    let p = crate_dir()
        .join("tests")
        .join("golden")
        .join(format!("{name}.jsonl"));
    let s = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    s.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Whether external inputs must be present (`DATAMILL_REQUIRE_MODELS=1`).
pub fn required() -> bool {
    std::env::var("DATAMILL_REQUIRE_MODELS").is_ok_and(|v| v == "1")
}

/// Returns `path` if it exists; otherwise fails (when required) or prints a loud skip message.
pub fn external(path: PathBuf, what: &str, hint: &str) -> Option<PathBuf> {
    if path.exists() {
        return Some(path);
    }
    let msg = format!("{what} not found at {} ({hint})", path.display());
    if required() {
        panic!("DATAMILL_REQUIRE_MODELS=1 but {msg}");
    }
    // Written to the stderr handle directly (not eprintln!), so libtest's output capture does not
    // hide the banner of a passing test.
    let bang = "!".repeat(72);
    let banner = format!(
        "\n{bang}\n!!! SKIPPED: {msg}\n!!! set DATAMILL_REQUIRE_MODELS=1 to make this a failure\n{bang}\n\n"
    );
    let _ = std::io::Write::write_all(&mut std::io::stderr(), banner.as_bytes());
    None
}

/// lid.176.ftz: `$DATAMILL_LID176` or `<repo>/target/models/lid.176.ftz`.
pub fn lid176() -> Option<PathBuf> {
    let p = std::env::var_os("DATAMILL_LID176")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate_dir().join("../../target/models/lid.176.ftz"));
    external(
        p,
        "lid.176.ftz",
        "run crates/datamill-fasttext/fetch-lid176.sh or set DATAMILL_LID176",
    )
}

/// The shared sample files: `$DATAMILL_SAMPLES` or `../shared/data/samples` beside the repository.
pub fn sample(file: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("DATAMILL_SAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/samples")
        });
    external(dir.join(file), file, "set DATAMILL_SAMPLES")
}

/// Text prepared as datatrove does before language identification.
pub fn prep(text: &str) -> String {
    text.replace('\n', " ")
}
