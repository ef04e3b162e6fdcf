//! A deterministic sample of excluded documents per (stage, reason): the `k` documents with
//! the smallest xxh3 hash of their id, whatever the order the files are read in. Memory is
//! bounded by `k` documents per reason (each text cut to [`MAX_TEXT`] bytes); reading stops
//! after `max_bytes` of excluded files (the page says so).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use datamill_core::FieldNames;
use datamill_io::plan::{Span, WorkUnit, describe};
use datamill_io::read::{ReadOptions, Record, open_unit};

use crate::load::Problem;

/// Longest text kept per example, in bytes (cut at a character boundary).
pub const MAX_TEXT: usize = 4000;

/// One excluded document kept as an example.
#[derive(Clone, Debug)]
pub struct Example {
    /// Its id.
    pub id: String,
    /// Its text, cut to [`MAX_TEXT`] bytes.
    pub text: String,
    /// Its full text length in bytes.
    pub len: usize,
    /// The excluded file and line (1-based) it was read from.
    pub at: String,
    /// The kept document it duplicates, when its stage recorded one
    /// (`excluded_by.duplicate_of`).
    pub duplicate_of: Option<String>,
    hash: u64,
}

/// Examples per `(stage type, reason)` plus what reading them met.
#[derive(Debug, Default)]
pub struct Samples {
    /// Examples, smallest id hash first.
    pub by_reason: BTreeMap<(String, String), Vec<Example>>,
    /// Excluded documents seen per `(stage type, reason)`.
    pub seen: BTreeMap<(String, String), u64>,
    /// Excluded files found.
    pub files: usize,
    /// Files read completely.
    pub files_read: usize,
    /// Whether reading stopped at the byte budget.
    pub capped: bool,
    /// Files that could not be read (whole or in part).
    pub problems: Vec<Problem>,
    /// Numeric values of the excluded documents, per field.
    pub values: Values,
}

/// Values kept per field and side: the [`MAX_VALUES`] of smallest id hash.
pub const MAX_VALUES: usize = 20_000;

/// Most fields tracked (the first met, in document order).
pub const MAX_FIELDS: usize = 40;

/// The words of a text as the `length` stage counts them.
pub const WORDS: &str = "words";
/// The characters of a text as the `length` stage counts them.
pub const CHARS: &str = "characters";

/// A bounded, deterministic sample of the numeric fields of many documents: per field, the
/// values of the [`MAX_VALUES`] documents with the smallest id hash; text length in
/// characters and words included.
#[derive(Debug, Default, Clone)]
pub struct Values {
    fields: BTreeMap<String, (Vec<(u64, f64)>, u64)>,
    order: Vec<String>,
}

impl Values {
    /// Adds the numeric values of `doc` (its id hashed as `hash`).
    pub fn add(&mut self, doc: &datamill_core::Doc, hash: u64) {
        let text = doc.text();
        self.push(CHARS, hash, text.chars().count() as f64);
        self.push(WORDS, hash, text.split_whitespace().count() as f64);
        let keys: Vec<String> = doc.keys().map(str::to_string).collect();
        for k in keys {
            if k == "excluded_by" {
                continue;
            }
            let Some(raw) = doc.get_raw(&k) else { continue };
            let first = raw.as_bytes().first().copied().unwrap_or(b' ');
            if !(first.is_ascii_digit() || first == b'-') {
                continue;
            }
            if let Ok(v) = raw.parse::<f64>()
                && v.is_finite()
            {
                self.push(&k, hash, v);
            }
        }
    }

    fn push(&mut self, field: &str, hash: u64, v: f64) {
        if !self.fields.contains_key(field) {
            if self.fields.len() >= MAX_FIELDS {
                return;
            }
            self.order.push(field.to_string());
        }
        let (list, seen) = self.fields.entry(field.to_string()).or_default();
        *seen += 1;
        list.push((hash, v));
        if list.len() >= 2 * MAX_VALUES {
            list.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
            list.truncate(MAX_VALUES);
        }
    }

    /// The fields, in the order they were first met.
    pub fn fields(&self) -> &[String] {
        &self.order
    }

    /// The sampled values of `field` (at most [`MAX_VALUES`]) and how many documents had it.
    pub fn get(&self, field: &str) -> (Vec<f64>, u64) {
        match self.fields.get(field) {
            Some((list, seen)) => {
                let mut l = list.clone();
                l.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
                l.truncate(MAX_VALUES);
                (l.into_iter().map(|x| x.1).collect(), *seen)
            }
            None => (Vec::new(), 0),
        }
    }
}

/// Numeric values of the kept documents: read from the output shards in name order, at most
/// `max_bytes` of them (file sizes on disk).
#[derive(Debug, Default)]
pub struct KeptValues {
    /// The values.
    pub values: Values,
    /// Output files found / read completely.
    pub files: usize,
    /// Output files read completely.
    pub files_read: usize,
    /// Documents read.
    pub docs: u64,
    /// Whether reading stopped at the byte budget.
    pub capped: bool,
}

/// The output shards of run folder `out` (`NNNNN-NNN.<ext>` at its top), sorted.
pub fn output_files(out: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(out)
        .map(|r| {
            r.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    let n = p.file_name().unwrap_or_default().to_string_lossy();
                    let b = n.as_bytes();
                    b.len() > 10
                        && b[..5].iter().all(u8::is_ascii_digit)
                        && b[5] == b'-'
                        && !n.ends_with(".tmp")
                        && p.is_file()
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Reads the numeric fields of the kept documents (see [`KeptValues`]).
pub fn kept_values(out: &Path, names: &FieldNames, max_bytes: u64) -> KeptValues {
    let mut k = KeptValues::default();
    let files = output_files(out);
    k.files = files.len();
    let opts = ReadOptions {
        names: names.clone(),
        ..Default::default()
    };
    let mut budget = max_bytes;
    for path in files {
        let Ok(file) = describe(path.clone(), String::new(), None) else {
            continue;
        };
        if file.size > budget {
            k.capped = true;
            break;
        }
        budget -= file.size;
        let unit = WorkUnit {
            index: 0,
            file: 0,
            span: Span::Whole,
            size: file.size,
        };
        let Ok(mut reader) = open_unit(&file, &unit, &opts, Arc::new(AtomicU64::new(0))) else {
            continue;
        };
        let complete = loop {
            match reader.next_record() {
                Ok(None) => break true,
                Ok(Some(Record::Doc(doc, _))) => {
                    k.docs += 1;
                    let hash = xxhash_rust::xxh3::xxh3_64(doc.id().as_bytes());
                    k.values.add(&doc, hash);
                }
                Ok(Some(_)) => {}
                Err(_) => break false,
            }
        };
        if complete {
            k.files_read += 1;
        }
    }
    k
}

fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut e = max;
    while !s.is_char_boundary(e) {
        e -= 1;
    }
    &s[..e]
}

/// The excluded files of run folder `out`, sorted by name.
pub fn excluded_files(out: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(out.join("excluded"))
        .map(|r| {
            r.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    let n = p.file_name().unwrap_or_default().to_string_lossy();
                    !n.starts_with('.') && !n.ends_with(".tmp") && p.is_file()
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Samples up to `k` documents per reason from the excluded files of `out`, reading at most
/// `max_bytes` of them (file sizes on disk).
pub fn sample(out: &Path, names: &FieldNames, k: usize, max_bytes: u64) -> Samples {
    let mut s = Samples::default();
    let files = excluded_files(out);
    s.files = files.len();
    let opts = ReadOptions {
        names: names.clone(),
        ..Default::default()
    };
    let mut budget = max_bytes;
    for path in files {
        let rel = format!(
            "excluded/{}",
            path.file_name().unwrap_or_default().to_string_lossy()
        );
        let file = match describe(path.clone(), rel.clone(), None) {
            Ok(f) => f,
            Err(e) => {
                s.problems.push(Problem {
                    file: rel,
                    message: format!("cannot be read ({e}); its documents are not sampled"),
                });
                continue;
            }
        };
        if file.size > budget {
            s.capped = true;
            break;
        }
        budget -= file.size;
        let unit = WorkUnit {
            index: 0,
            file: 0,
            span: Span::Whole,
            size: file.size,
        };
        let mut reader = match open_unit(&file, &unit, &opts, Arc::new(AtomicU64::new(0))) {
            Ok(r) => r,
            Err(e) => {
                s.problems.push(Problem {
                    file: rel,
                    message: format!("cannot be opened ({e}); its documents are not sampled"),
                });
                continue;
            }
        };
        let mut line = 0u64;
        let mut bad = 0u64;
        let complete = loop {
            match reader.next_record() {
                Ok(None) => break true,
                Ok(Some(Record::Blank)) => line += 1,
                Ok(Some(Record::Bad(_))) => {
                    line += 1;
                    bad += 1;
                }
                Ok(Some(Record::Doc(doc, _))) => {
                    line += 1;
                    let by = doc.get_value("excluded_by").unwrap_or_default();
                    let stage = by["stage"].as_str().unwrap_or("?").to_string();
                    let reason = by["reason"].as_str().unwrap_or("?").to_string();
                    let key = (stage, reason);
                    *s.seen.entry(key.clone()).or_default() += 1;
                    let hash = xxhash_rust::xxh3::xxh3_64(doc.id().as_bytes());
                    s.values.add(&doc, hash);
                    let list = s.by_reason.entry(key).or_default();
                    if list.len() < k || list.last().is_some_and(|e| hash < e.hash) {
                        let ex = Example {
                            id: doc.id().to_string(),
                            text: cut(doc.text(), MAX_TEXT).to_string(),
                            len: doc.text().len(),
                            at: format!("{rel}:{line}"),
                            duplicate_of: by["duplicate_of"].as_str().map(str::to_string),
                            hash,
                        };
                        let pos = list.partition_point(|e| (e.hash, &e.id) < (hash, &ex.id));
                        list.insert(pos, ex);
                        list.truncate(k);
                    }
                }
                Err(e) => {
                    s.problems.push(Problem {
                        file: rel.clone(),
                        message: format!(
                            "read stopped after {line} lines ({e}); the examples sample what \
                             came before"
                        ),
                    });
                    break false;
                }
            }
        };
        if bad > 0 {
            s.problems.push(Problem {
                file: rel.clone(),
                message: format!("{bad} lines are not documents (skipped in the examples)"),
            });
        }
        if complete {
            s.files_read += 1;
        }
    }
    s
}
