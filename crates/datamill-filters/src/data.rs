//! Where the tokenizers' data (dictionaries and models copied out of registry packages by the
//! crate's fetch scripts) is looked for. Nothing is downloaded at run time.

use std::path::PathBuf;

/// The folders that may hold tokenizer data `name` (`jieba`, `pythainlp`), first existing wins:
/// `$DATAMILL_TOKENIZER_DATA/<name>`, then `models/<name>` in one of the three folders above
/// the running program (so a `datamill` or test binary built in the repository's `target/`
/// finds `target/models/<name>`, where the fetch scripts write).
pub fn dirs(name: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(d) = std::env::var_os("DATAMILL_TOKENIZER_DATA") {
        out.push(PathBuf::from(d).join(name));
    }
    if let Ok(exe) = std::env::current_exe() {
        for a in exe.ancestors().skip(1).take(3) {
            out.push(a.join("models").join(name));
        }
    }
    out
}
