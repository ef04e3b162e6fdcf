//! Turns the pipeline's `paths` (files, directories, glob patterns) into a sorted,
//! de-duplicated list of input files.

use crate::error::{IoError, Result};
use crate::format::is_data_file;
use std::path::{Path, PathBuf};

/// Expands `patterns` relative to `base`. Directories are walked recursively for data files
/// (`.jsonl`, `.json`, `.ndjson` with optional `.gz`/`.zst`, `.parquet`); globs must match at
/// least one file; plain paths must exist. The result is sorted by path, so the input order
/// (and with it shard names and document order) depends only on the files.
pub fn discover(base: &Path, patterns: &[String]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for pat in patterns {
        let full = if Path::new(pat).is_absolute() {
            PathBuf::from(pat)
        } else {
            base.join(pat)
        };
        let full_str = full.to_string_lossy().to_string();
        if pat.contains(['*', '?', '[']) {
            let paths = glob::glob(&full_str).map_err(|e| IoError::BadPattern {
                pattern: pat.clone(),
                message: e.to_string(),
            })?;
            let mut n = 0;
            for p in paths {
                let p = p.map_err(|e| IoError::io(e.path().to_path_buf(), e.into()))?;
                if p.is_dir() {
                    n += walk(&p, &mut out)?;
                } else {
                    out.push(p);
                    n += 1;
                }
            }
            if n == 0 {
                return Err(IoError::NoMatch(pat.clone()));
            }
        } else if full.is_dir() {
            if walk(&full, &mut out)? == 0 {
                return Err(IoError::NoMatch(pat.clone()));
            }
        } else if full.is_file() {
            out.push(full);
        } else {
            return Err(IoError::NotFound(full));
        }
    }
    out.sort();
    out.dedup();
    if out.is_empty() {
        return Err(IoError::NoInput);
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<usize> {
    let mut n = 0;
    let entries = std::fs::read_dir(dir).map_err(|e| IoError::io(dir, e))?;
    for e in entries {
        let e = e.map_err(|e| IoError::io(dir, e))?;
        let p = e.path();
        if p.is_dir() {
            n += walk(&p, out)?;
        } else if is_data_file(&p) {
            out.push(p);
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_dirs_and_files() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("sub")).unwrap();
        for f in ["b.jsonl", "a.jsonl.zst", "sub/c.parquet", "sub/notes.txt"] {
            std::fs::write(d.path().join(f), "").unwrap();
        }
        let got = discover(
            d.path(),
            &["*.jsonl*".into(), "sub".into(), "b.jsonl".into()],
        )
        .unwrap();
        let names: Vec<_> = got
            .iter()
            .map(|p| {
                p.strip_prefix(d.path())
                    .unwrap()
                    .to_string_lossy()
                    .to_string()
            })
            .collect();
        assert_eq!(names, ["a.jsonl.zst", "b.jsonl", "sub/c.parquet"]);
        assert!(matches!(
            discover(d.path(), &["*.csv".into()]),
            Err(IoError::NoMatch(_))
        ));
        assert!(matches!(
            discover(d.path(), &["missing.jsonl".into()]),
            Err(IoError::NotFound(_))
        ));
    }
}
