//! Extracts each stage file's `//!` documentation so `datamill stages NAME` can print the
//! stage's own doc, written once, beside its code.

use std::fmt::Write;

fn main() {
    let dir = std::path::Path::new("src");
    let mut out = String::from(
        "/// The `//!` documentation of stage module `module`.\n\
         pub fn module_doc(module: &str) -> &'static str {\n    match module {\n",
    );
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src exists")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    entries.sort();
    for p in entries {
        println!("cargo:rerun-if-changed={}", p.display());
        let name = p.file_stem().unwrap().to_string_lossy().to_string();
        if name == "lib" {
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
        writeln!(out, "        {:?} => {:?},", name, doc.join("\n")).unwrap();
    }
    out.push_str("        _ => \"\",\n    }\n}\n");
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("stage_docs.rs");
    std::fs::write(dest, out).unwrap();
    println!("cargo:rerun-if-changed=src");
}
