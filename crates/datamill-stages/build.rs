//! Extracts each stage file's `//!` documentation so `datamill stages NAME` can print the
//! stage's own doc, written once, beside its code. Stage files sit in family folders
//! (`src/filter/length.rs`); a file's key is its path under `src/` without `.rs`
//! (`filter/length`), which the registry looks up. The datatrove rule filters are stages whose
//! file is in `datamill-filters` (`../datamill-filters/src/filters/gopher_quality.rs`, re-exported
//! as `filter::gopher_quality`): their key is `filter/<file stem>`.

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

/// Folders of other crates whose files are stage modules re-exported into a family here.
const REEXPORTED: &[(&str, &str)] = &[("../datamill-filters/src/filters", "filter")];

/// The leading `//!` lines of a file, without the `//! ` prefix.
fn module_doc(p: &Path) -> String {
    let src = std::fs::read_to_string(p).expect("readable");
    let doc: Vec<&str> = src
        .lines()
        .take_while(|l| l.starts_with("//!"))
        .map(|l| {
            l.strip_prefix("//! ")
                .unwrap_or(l.strip_prefix("//!").unwrap_or(l))
        })
        .collect();
    doc.join("\n")
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
    let mut keys = std::collections::BTreeMap::new();
    for p in files {
        println!("cargo:rerun-if-changed={}", p.display());
        let rel = p.strip_prefix(dir).expect("below src").with_extension("");
        let key: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().to_string())
            .collect();
        let key = key.join("/");
        if key != "lib" {
            keys.insert(key, module_doc(&p));
        }
    }
    for (folder, family) in REEXPORTED {
        println!("cargo:rerun-if-changed={folder}");
        let mut files = Vec::new();
        rust_files(Path::new(folder), &mut files);
        for p in files {
            println!("cargo:rerun-if-changed={}", p.display());
            let stem = p.file_stem().expect("a file").to_string_lossy().to_string();
            if stem == "mod" {
                continue;
            }
            let key = format!("{family}/{stem}");
            let clash = keys.insert(key.clone(), module_doc(&p));
            assert!(
                clash.is_none(),
                "{key} is both a stage file here and in {folder}"
            );
        }
    }
    for (key, doc) in &keys {
        writeln!(out, "        {key:?} => {doc:?},").unwrap();
    }
    out.push_str("        _ => \"\",\n    }\n}\n");
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("stage_docs.rs");
    std::fs::write(dest, out).unwrap();
    println!("cargo:rerun-if-changed=src");
}
