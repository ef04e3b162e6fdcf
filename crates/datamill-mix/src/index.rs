//! The counting pass: every work unit of every source is read once; each document's tokens
//! are counted (by the tokenizer, or read from a metadata field), and what the write pass
//! needs is stored under `.datamill-mix/index/<source>/`:
//!
//! * `NNNNN.len`: the token count of each drawable document (u32, little-endian);
//! * `NNNNN.tok`: their token ids, concatenated (u32), when a tokenized output is asked for;
//! * `NNNNN.doc` + `NNNNN.off`: their JSON lines and the byte offset of each (u64, n + 1
//!   entries), when documents are written;
//! * `NNNNN.done`: the unit's counts, written last (the task's completion marker).
//!
//! Documents without a token (empty text and no `eos`) are counted, never drawn. Records that
//! cannot be read (invalid JSON, missing text, a missing or non-integer token count) are
//! quarantined to `quarantine/<source>/NNNNN.jsonl` and counted.

use crate::config::{MixFile, SourceConfig};
use crate::error::MixError;
use crate::tasks::{Layout, clean, tmp_path, write_atomic};
use crate::tokenize::Tok;
use datamill_core::FieldNames;
use datamill_io::plan::{InputFile, WorkUnit, describe, plan_file};
use datamill_io::read::{BadRecord, ReadOptions, Record, open_unit};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A source's input: its files and work units.
#[derive(Clone, Debug)]
pub struct SourceInput {
    /// The source's files, sorted.
    pub files: Vec<InputFile>,
    /// Its work units, numbered from 0 in input order.
    pub units: Vec<WorkUnit>,
    /// How records are read.
    pub read: ReadOptions,
    /// The metadata field holding token counts (no tokenizer).
    pub token_field: Option<String>,
}

/// What the counting pass stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Store {
    /// Token ids (for tokenized outputs).
    pub tokens: bool,
    /// Document JSON lines (for document shards).
    pub docs: bool,
    /// Drop an input field named `mix` (it is replaced by the annotation).
    pub annotate: bool,
}

/// A unit's counts: the content of its `.done` marker.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitCounts {
    /// Documents read.
    pub read: u64,
    /// Drawable documents (at least one token).
    pub docs: u64,
    /// Documents without a token.
    pub empty: u64,
    /// Quarantined records.
    pub quarantined: u64,
    /// Blank lines.
    pub blank: u64,
    /// Tokens of the drawable documents.
    pub tokens: u64,
    /// The longest drawable document, in tokens.
    pub max_doc_tokens: u64,
    /// Record bytes read.
    pub bytes: u64,
    /// xxh3-128 of the unit's documents (id, text and token count of each, in order), hex.
    pub digest: String,
}

/// Expands a source's `paths`. A folder holding a `stats.json` is a `datamill run` output: only
/// its shards (the data files directly inside) are taken, not `excluded/` or `quarantine/`.
pub fn source_files(base: &Path, s: &SourceConfig) -> Result<Vec<PathBuf>, MixError> {
    let mut plain = Vec::new();
    let mut out = Vec::new();
    for p in &s.paths {
        let full = base.join(p);
        if full.is_dir() && full.join("stats.json").is_file() {
            let mut n = 0;
            let entries = std::fs::read_dir(&full).map_err(|e| MixError::io(&full, e))?;
            for e in entries.flatten() {
                let path = e.path();
                if path.is_file() && datamill_io::format::is_data_file(&path) {
                    out.push(path);
                    n += 1;
                }
            }
            if n == 0 {
                return Err(MixError::Io(datamill_io::IoError::NoMatch(p.clone())));
            }
        } else {
            plain.push(p.clone());
        }
    }
    if !plain.is_empty() {
        out.extend(datamill_io::discover::discover(base, &plain)?);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Finds, describes and plans every source's input (errors name the source and the path).
pub fn describe_sources(f: &MixFile) -> Result<Vec<SourceInput>, MixError> {
    let c = &f.config;
    let mut out = Vec::new();
    for (i, s) in c.sources.iter().enumerate() {
        let at = |e: MixError| {
            f.err(
                "source",
                Some(i),
                "paths",
                format!("source `{}`: {e}", s.name),
            )
        };
        let paths = source_files(&f.base_dir, s).map_err(at)?;
        let mut files = Vec::new();
        let mut units = Vec::new();
        for (k, path) in paths.into_iter().enumerate() {
            let label = path
                .strip_prefix(&f.base_dir)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            let file = describe(path, label, s.format).map_err(|e| at(e.into()))?;
            for mut u in plan_file(&file, k as u32, s.unit_size.0, &s.text_field)
                .map_err(|e| at(e.into()))?
            {
                u.index = units.len() as u32;
                units.push(u);
            }
            files.push(file);
        }
        out.push(SourceInput {
            files,
            units,
            read: ReadOptions {
                names: FieldNames {
                    text: s.text_field.clone(),
                    id: s.id_field.clone(),
                },
                max_line_bytes: s.max_line_bytes.0 as usize,
                replace_invalid_utf8: false,
            },
            token_field: s.token_field.clone().or_else(|| c.token_field.clone()),
        });
    }
    Ok(out)
}

struct Quarantine {
    path: PathBuf,
    w: Option<BufWriter<File>>,
}

impl Quarantine {
    fn write(&mut self, rec: &BadRecord) -> Result<(), MixError> {
        if self.w.is_none() {
            let dir = self.path.parent().expect("quarantine dir");
            std::fs::create_dir_all(dir).map_err(|e| MixError::io(dir, e))?;
            let tmp = tmp_path(&self.path);
            let f = File::create(&tmp).map_err(|e| MixError::io(&tmp, e))?;
            self.w = Some(BufWriter::new(f));
        }
        let w = self.w.as_mut().expect("opened");
        #[derive(Serialize)]
        struct Q<'a> {
            location: &'a str,
            reason: &'a str,
            message: &'a str,
            raw: &'a str,
        }
        let q = Q {
            location: &rec.location,
            reason: rec.reason,
            message: &rec.message,
            raw: &rec.raw,
        };
        serde_json::to_writer(&mut *w, &q).map_err(|e| MixError::state(&self.path, e))?;
        w.write_all(b"\n").map_err(|e| MixError::io(&self.path, e))
    }

    fn finish(self) -> Result<(), MixError> {
        if let Some(w) = self.w {
            let tmp = tmp_path(&self.path);
            let f = w
                .into_inner()
                .map_err(|e| MixError::io(&tmp, e.into_error()))?;
            f.sync_all().map_err(|e| MixError::io(&tmp, e))?;
            std::fs::rename(&tmp, &self.path).map_err(|e| MixError::io(&self.path, e))?;
        }
        Ok(())
    }
}

struct Out {
    path: PathBuf,
    w: BufWriter<File>,
}

impl Out {
    fn create(path: PathBuf) -> Result<Out, MixError> {
        let tmp = tmp_path(&path);
        let f = File::create(&tmp).map_err(|e| MixError::io(&tmp, e))?;
        Ok(Out {
            path,
            w: BufWriter::with_capacity(1 << 18, f),
        })
    }
    fn put(&mut self, b: &[u8]) -> Result<(), MixError> {
        self.w.write_all(b).map_err(|e| MixError::io(&self.path, e))
    }
    fn finish(self) -> Result<(), MixError> {
        let tmp = tmp_path(&self.path);
        let f = self
            .w
            .into_inner()
            .map_err(|e| MixError::io(&tmp, e.into_error()))?;
        f.sync_all().map_err(|e| MixError::io(&tmp, e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| MixError::io(&self.path, e))
    }
}

/// Is unit `unit` of source `name` counted already?
pub fn is_done(layout: &Layout, name: &str, unit: usize) -> bool {
    layout.index_file(name, unit, "done").is_file()
}

/// Reads a finished unit's counts.
pub fn read_done(layout: &Layout, name: &str, unit: usize) -> Result<UnitCounts, MixError> {
    let p = layout.index_file(name, unit, "done");
    let b = std::fs::read(&p).map_err(|e| MixError::io(&p, e))?;
    serde_json::from_slice(&b).map_err(|e| MixError::state(&p, e))
}

/// Counts one unit of source `si` (a task): reads it, tokenizes, stores, writes the marker.
pub fn count_unit(
    layout: &Layout,
    name: &str,
    input: &SourceInput,
    unit: usize,
    tok: Option<&Tok>,
    store: Store,
) -> Result<UnitCounts, MixError> {
    let dir = layout.index_dir(name);
    std::fs::create_dir_all(&dir).map_err(|e| MixError::io(&dir, e))?;
    let stem = format!("{unit:05}.");
    clean(&dir, &stem)?;
    let qpath = layout.quarantine(name, unit);
    if let Some(qdir) = qpath.parent() {
        clean(qdir, &stem)?;
    }
    let u = &input.units[unit];
    let file = &input.files[u.file as usize];
    let mut reader = open_unit(file, u, &input.read, Arc::default())?;
    let mut q = Quarantine {
        path: qpath,
        w: None,
    };
    let mut lens = Out::create(layout.index_file(name, unit, "len"))?;
    let mut toks = if store.tokens {
        Some(Out::create(layout.index_file(name, unit, "tok"))?)
    } else {
        None
    };
    let mut docs = if store.docs {
        Some((
            Out::create(layout.index_file(name, unit, "doc"))?,
            Out::create(layout.index_file(name, unit, "off"))?,
        ))
    } else {
        None
    };
    if let Some((_, off)) = docs.as_mut() {
        off.put(&0u64.to_le_bytes())?;
    }
    let mut n = UnitCounts::default();
    let mut ids: Vec<u32> = Vec::new();
    let mut bytes: Vec<u8> = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    let mut doc_end = 0u64;
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    while let Some(rec) = reader.next_record()? {
        let (mut doc, size) = match rec {
            Record::Doc(d, size) => (d, size),
            Record::Bad(b) => {
                n.quarantined += 1;
                q.write(&b)?;
                continue;
            }
            Record::Blank => {
                n.blank += 1;
                continue;
            }
        };
        ids.clear();
        let count: u64 = match (tok, &input.token_field) {
            (Some(t), _) => {
                t.encode(doc.text(), &mut ids)
                    .map_err(|e| MixError::Tokenizer {
                        path: t.path.clone(),
                        message: format!("{}: document {}: {e}", file.label, doc.id()),
                    })?;
                ids.len() as u64
            }
            (None, Some(field)) => match doc.get_raw(field).map(|r| r.trim().parse::<u64>()) {
                Some(Ok(v)) if v <= u32::MAX as u64 => v,
                found => {
                    let message = match found {
                        None => format!("no token count: field `{field}` is missing"),
                        Some(_) => format!(
                            "field `{field}` = {} is not a token count (an integer in 0..2^32)",
                            doc.get_raw(field).unwrap_or_default()
                        ),
                    };
                    n.quarantined += 1;
                    line.clear();
                    doc.write_json(&mut line);
                    q.write(&BadRecord {
                        location: format!("{}: document {}", file.label, doc.id()),
                        reason: "bad_token_count",
                        message,
                        raw: String::from_utf8_lossy(&line[..line.len().min(4096)]).into_owned(),
                        raw_bytes: None,
                        bytes: size,
                    })?;
                    continue;
                }
            },
            (None, None) => unreachable!("checked when loading"),
        };
        n.read += 1;
        n.bytes += size;
        hasher.update(doc.id().as_bytes());
        hasher.update(&[0]);
        hasher.update(doc.text().as_bytes());
        hasher.update(&count.to_le_bytes());
        if count == 0 {
            n.empty += 1;
            continue;
        }
        if count > u32::MAX as u64 {
            return Err(MixError::Record {
                location: format!("{}: document {}", file.label, doc.id()),
                message: format!("{count} tokens: more than 2^32 in one document"),
            });
        }
        n.docs += 1;
        n.tokens += count;
        n.max_doc_tokens = n.max_doc_tokens.max(count);
        lens.put(&(count as u32).to_le_bytes())?;
        if let Some(t) = toks.as_mut() {
            bytes.clear();
            for &id in &ids {
                bytes.extend_from_slice(&id.to_le_bytes());
            }
            t.put(&bytes)?;
        }
        if let Some((d, off)) = docs.as_mut() {
            if store.annotate {
                doc.remove("mix");
            }
            line.clear();
            doc.write_json(&mut line);
            d.put(&line)?;
            doc_end += line.len() as u64;
            off.put(&doc_end.to_le_bytes())?;
        }
    }
    n.digest = format!("{:032x}", hasher.digest128());
    lens.finish()?;
    if let Some(t) = toks {
        t.finish()?;
    }
    if let Some((d, off)) = docs {
        d.finish()?;
        off.finish()?;
    }
    q.finish()?;
    let done = serde_json::to_vec(&n).map_err(|e| MixError::state(&dir, e))?;
    write_atomic(&layout.index_file(name, unit, "done"), &done)?;
    Ok(n)
}

/// Reads the token counts of a finished unit.
pub fn read_lens(layout: &Layout, name: &str, unit: usize) -> Result<Vec<u32>, MixError> {
    let p = layout.index_file(name, unit, "len");
    let b = std::fs::read(&p).map_err(|e| MixError::io(&p, e))?;
    if b.len() % 4 != 0 {
        return Err(MixError::state(&p, "truncated token counts"));
    }
    Ok(b.chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}
