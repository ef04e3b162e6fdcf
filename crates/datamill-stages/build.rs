//! Extracts each stage file's `//!` documentation so `datamill stages NAME` can print the
//! stage's own doc, written once, beside its code. Stage files sit in family folders
//! (`src/filter/length.rs`); a file's key is its path under `src/` without `.rs`
//! (`filter/length`), which the registry looks up.

use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Every `.rs` file below `dir`, in sorted order.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src exists")
        .map(|e| e.expect("readable").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            println!("cargo:rerun-if-changed={}", p.display());
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

fn main() {
    let dir = Path::new("src");
    let mut out = String::from(
        "/// The `//!` documentation of stage module `module` (its file's path under `src/`\n\
         /// without `.rs`, e.g. `filter/length`).\n\
         pub fn module_doc(module: &str) -> &'static str {\n    match module {\n",
    );
    let mut files = Vec::new();
    rust_files(dir, &mut files);
    for p in files {
        println!("cargo:rerun-if-changed={}", p.display());
        let rel = p.strip_prefix(dir).expect("below src").with_extension("");
        let key: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().to_string())
            .collect();
        let key = key.join("/");
        if key == "lib" {
            continue;
        }
        let src = std::fs::read_to_string(&p).expect("readable");
        let doc: Vec<&str> = src
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .map(|l| {
                l.strip_prefix("//! ")
                    .unwrap_or(l.strip_prefix("//!").unwrap_or(l))
            })
            .collect();
        writeln!(out, "        {:?} => {:?},", key, doc.join("\n")).unwrap();
    }
    out.push_str("        _ => \"\",\n    }\n}\n");
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("stage_docs.rs");
    std::fs::write(dest, out).unwrap();
    println!("cargo:rerun-if-changed=src");
}
