//! The READMEs tell the truth about the command line: every `datamill ...` command they show
//! exists (its `--help` succeeds), and the top-level README says how to install the binary.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The subcommand path of a command line shown in a README: the words after `datamill` up to
/// the first argument (a flag, a file, a placeholder, `...`). `a|b` alternatives expand.
fn subcommands(line: &str) -> Vec<Vec<String>> {
    let mut paths: Vec<Vec<String>> = vec![Vec::new()];
    for word in line.split_whitespace().skip(1) {
        let is_word = |w: &str| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-' || c == '_')
                && !w.starts_with('-')
        };
        let alts: Vec<&str> = word.split('|').collect();
        if !alts.iter().all(|w| is_word(w)) {
            break;
        }
        // Only the first word or two are subcommands; a third lowercase word is an argument
        // (`datamill stages gopher_quality`) unless a subcommand group takes it (`dcpt`).
        paths = paths
            .into_iter()
            .flat_map(|p| {
                alts.iter().map(move |w| {
                    let mut q = p.clone();
                    q.push(w.to_string());
                    q
                })
            })
            .collect();
    }
    paths
}

/// Every command line shown in the code blocks of `file`: lines starting with `datamill `
/// or `$ datamill `.
fn shown_commands(file: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut in_code = false;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        let l = line.trim_start().trim_start_matches("$ ");
        if in_code && l.starts_with("datamill ") {
            out.push((i + 1, l.to_string()));
        }
    }
    out
}

/// Whether `datamill <path> --help` succeeds; a trailing word that is an argument, not a
/// subcommand (`stages gopher_quality`), is tried without.
fn exists(path: &[String]) -> bool {
    let bin = env!("CARGO_BIN_EXE_datamill");
    let mut p = path.to_vec();
    while !p.is_empty() {
        let o = Command::new(bin)
            .args(&p)
            .arg("--help")
            .output()
            .expect("datamill runs");
        if o.status.success() {
            // `datamill stages --help` succeeds for `stages gopher_quality`, but
            // `datamill scaling --help` must not vouch for `scaling nonsense`: a group of
            // subcommands lists its children, so the next word must be one of them.
            if p.len() < path.len() {
                let help = String::from_utf8_lossy(&o.stdout);
                let next = &path[p.len()];
                if help.contains("Commands:") && !help.contains(&format!("  {next} ")) {
                    return false;
                }
            }
            return true;
        }
        p.pop();
    }
    false
}

#[test]
fn every_command_the_readmes_show_exists() {
    let mut files = vec![root().join("README.md")];
    for e in std::fs::read_dir(root().join("crates")).unwrap() {
        let readme = e.unwrap().path().join("README.md");
        if readme.exists() {
            files.push(readme);
        }
    }
    let mut checked = 0;
    let mut missing = Vec::new();
    for f in &files {
        for (line, cmd) in shown_commands(f) {
            // `datamill --help`, `datamill --version`: no subcommand to check.
            for path in subcommands(&cmd).into_iter().filter(|p| !p.is_empty()) {
                checked += 1;
                if !exists(&path) {
                    missing.push(format!(
                        "{}:{line}: `datamill {}` does not exist ({cmd})",
                        f.display(),
                        path.join(" ")
                    ));
                }
            }
        }
    }
    assert!(checked >= 10, "only {checked} commands found");
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn a_made_up_subcommand_is_caught() {
    assert!(!exists(&["scaling".into(), "plan".into()]));
    assert!(!exists(&["nonsense".into()]));
    assert!(exists(&["scaling".into(), "fit".into()]));
    assert!(exists(&["stages".into(), "gopher_quality".into()]));
    assert_eq!(
        subcommands("datamill scaling fit|predict RUNS.csv --law x"),
        [["scaling", "fit"], ["scaling", "predict"]]
    );
}

#[test]
fn the_readme_says_how_to_install_the_binary() {
    let text = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        text.contains("cargo install --path crates/datamill-cli"),
        "README.md has no install step"
    );
}
