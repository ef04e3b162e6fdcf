//! The write pass: the training sequence is cut into parts of about `part_tokens` tokens;
//! each part is one task that copies its documents and tokens, in order, from the counting
//! pass's index into every output:
//!
//! * `documents/part-NNNNN-MMM.jsonl.zst` (or `.parquet`): the documents, each with
//!   `"mix": {"source", "phase", "epoch"}` unless `annotate = false`;
//! * `megatron/part-NNNNN.{bin,idx}`, `datatrove/NNNNN_unshuffled.ds{,.index,.metadata}`,
//!   `numpy/part-NNNNN.{bin,doc_offsets.npy}`;
//! * `dd/D_k/part-NNNNN.bin`: Dataset Decomposition chunks of `2^k + 1` tokens.
//!
//! A part's files are written under temporary names and renamed, then its marker
//! (`.datamill-mix/parts/NNNNN.done`, the part's counts) is written last.

use crate::config::{DocumentsFormat, MixConfig, TokenizedFormat};
use crate::dd;
use crate::error::MixError;
use crate::formats::{DatatroveWriter, MegatronWriter, NumpyWriter, RowWriter};
use crate::sample::Mixture;
use crate::tasks::{Layout, clean, write_atomic};
use datamill_io::write::{ShardWriter, WriteOptions};
use datamill_io::{Compression, Format};
use datamill_npsort::random::Pcg64;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// A contiguous range of the training sequence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// First draw.
    pub first_doc: u64,
    /// One past the last draw.
    pub end_doc: u64,
    /// First token.
    pub start_token: u64,
    /// One past the last token.
    pub end_token: u64,
}

/// Cuts the sequence into parts that close once they hold `part_tokens` tokens.
pub fn cut_parts(m: &Mixture, part_tokens: u64) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut cur = Part {
        first_doc: 0,
        end_doc: 0,
        start_token: 0,
        end_token: 0,
    };
    for (i, &l) in m.lens.iter().enumerate() {
        cur.end_doc = i as u64 + 1;
        cur.end_token += l as u64;
        if cur.end_token - cur.start_token >= part_tokens {
            parts.push(cur.clone());
            cur = Part {
                first_doc: cur.end_doc,
                end_doc: cur.end_doc,
                start_token: cur.end_token,
                end_token: cur.end_token,
            };
        }
    }
    if cur.end_doc > cur.first_doc {
        parts.push(cur);
    }
    parts
}

/// Where a source's drawable documents are in its index.
#[derive(Clone, Debug, Default)]
pub struct SourceIndex {
    /// The source's name.
    pub name: String,
    /// Drawable document index of each unit's first document (units + 1 entries).
    pub unit_first: Vec<u64>,
    /// Token prefix sums over the source's drawable documents (docs + 1 entries).
    pub prefix: Vec<u64>,
}

impl SourceIndex {
    /// Builds the index from the units' token counts.
    pub fn new(name: &str, unit_lens: &[Vec<u32>]) -> SourceIndex {
        let mut unit_first = vec![0u64];
        let mut prefix = vec![0u64];
        for l in unit_lens {
            for &x in l {
                prefix.push(prefix.last().expect("non-empty") + x as u64);
            }
            unit_first.push(prefix.len() as u64 - 1);
        }
        SourceIndex {
            name: name.to_string(),
            unit_first,
            prefix,
        }
    }

    /// The unit holding drawable document `d` and `d`'s position in it.
    pub fn locate(&self, d: u64) -> (usize, u64) {
        let u = self.unit_first.partition_point(|&f| f <= d) - 1;
        (u, d - self.unit_first[u])
    }
}

struct UnitFiles {
    tok: Option<(File, PathBuf)>,
    doc: Option<(File, PathBuf)>,
    off: Option<(File, PathBuf)>,
}

/// Reads documents and tokens from the index by position, keeping a few units open.
struct Fetcher<'a> {
    layout: &'a Layout,
    sources: &'a [SourceIndex],
    open: HashMap<(usize, usize), UnitFiles>,
    lru: VecDeque<(usize, usize)>,
    bytes: Vec<u8>,
}

const OPEN_UNITS: usize = 64;

fn read_at(f: &File, path: &Path, buf: &mut [u8], at: u64) -> Result<(), MixError> {
    f.read_exact_at(buf, at).map_err(|e| MixError::io(path, e))
}

impl Fetcher<'_> {
    fn unit(&mut self, s: usize, u: usize, tok: bool, doc: bool) -> Result<&UnitFiles, MixError> {
        if !self.open.contains_key(&(s, u)) {
            if self.open.len() >= OPEN_UNITS
                && let Some(old) = self.lru.pop_front()
            {
                self.open.remove(&old);
            }
            let name = &self.sources[s].name;
            let open = |ext: &str| -> Result<(File, PathBuf), MixError> {
                let p = self.layout.index_file(name, u, ext);
                Ok((File::open(&p).map_err(|e| MixError::io(&p, e))?, p))
            };
            let files = UnitFiles {
                tok: if tok { Some(open("tok")?) } else { None },
                doc: if doc { Some(open("doc")?) } else { None },
                off: if doc { Some(open("off")?) } else { None },
            };
            self.open.insert((s, u), files);
            self.lru.push_back((s, u));
        }
        Ok(&self.open[&(s, u)])
    }

    fn tokens(&mut self, s: usize, d: u64, docs: bool, out: &mut Vec<u32>) -> Result<(), MixError> {
        let (u, _) = self.sources[s].locate(d);
        let src = &self.sources[s];
        let first = src.unit_first[u] as usize;
        let start = src.prefix[d as usize] - src.prefix[first];
        let len = (src.prefix[d as usize + 1] - src.prefix[d as usize]) as usize;
        let mut bytes = std::mem::take(&mut self.bytes);
        bytes.resize(len * 4, 0);
        let f = self.unit(s, u, true, docs)?;
        let (file, path) = f.tok.as_ref().expect("opened");
        read_at(file, path, &mut bytes, start * 4)?;
        out.clear();
        out.extend(
            bytes
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        );
        self.bytes = bytes;
        Ok(())
    }

    fn doc(&mut self, s: usize, d: u64, toks: bool, out: &mut Vec<u8>) -> Result<(), MixError> {
        let (u, k) = self.sources[s].locate(d);
        let f = self.unit(s, u, toks, true)?;
        let mut o = [0u8; 16];
        let (file, path) = f.off.as_ref().expect("opened");
        read_at(file, path, &mut o, k * 8)?;
        let a = u64::from_le_bytes(o[..8].try_into().expect("8 bytes"));
        let b = u64::from_le_bytes(o[8..].try_into().expect("8 bytes"));
        out.clear();
        out.resize((b - a) as usize, 0);
        let (file, path) = f.doc.as_ref().expect("opened");
        read_at(file, path, out, a)
    }
}

/// What a part wrote: the content of its marker.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PartDone {
    /// Documents.
    pub docs: u64,
    /// Tokens.
    pub tokens: u64,
    /// Files written (path relative to the output folder) and their sizes.
    pub files: BTreeMap<String, u64>,
    /// Document shards: uncompressed JSON bytes.
    pub document_bytes: u64,
    /// Dataset Decomposition: sequences per bucket k.
    pub dd_sequences: BTreeMap<u32, u64>,
    /// Dataset Decomposition: tokens dropped at document ends.
    pub dd_dropped_tokens: u64,
}

/// Everything a write task needs.
pub struct WriteCtx<'a> {
    /// The mixture configuration.
    pub config: &'a MixConfig,
    /// The output folder.
    pub layout: &'a Layout,
    /// The training sequence.
    pub mixture: &'a Mixture,
    /// Per source, where its documents are.
    pub sources: &'a [SourceIndex],
    /// Phase label of each phase (for annotations).
    pub phase_labels: &'a [String],
    /// The tokenizer's vocabulary size and name, when tokenized outputs are written.
    pub vocab: Option<(usize, String)>,
}

/// The file-name stem of part `k`.
pub fn part_stem(k: usize) -> String {
    format!("part-{k:05}")
}

fn rel(layout: &Layout, p: &Path) -> String {
    p.strip_prefix(layout.out())
        .unwrap_or(p)
        .to_string_lossy()
        .into_owned()
}

/// Writes part `k` (a task).
pub fn write_part(cx: &WriteCtx, k: usize, part: &Part) -> Result<PartDone, MixError> {
    let c = cx.config;
    let o = &c.output;
    let stem = part_stem(k);
    let l = cx.layout;
    let want = |f: TokenizedFormat| o.tokenized.contains(&f);
    // Remove what an interrupted attempt left.
    for d in ["documents", "megatron", "numpy"] {
        clean(&l.output_dir(d), &format!("{stem}."))?;
        clean(&l.output_dir(d), &format!("{stem}-"))?;
    }
    let dt_name = format!("{k:05}_unshuffled.ds");
    clean(&l.output_dir("datatrove"), &dt_name)?;
    let dd_cfg = o.dd.as_ref();
    if let Some(dd) = dd_cfg {
        for b in dd.min_log2..=dd.max_log2 {
            clean(
                &l.output_dir("dd").join(format!("D_{b}")),
                &format!("{stem}."),
            )?;
        }
    }
    let docs_out = o.documents != DocumentsFormat::None;
    let need_tokens = !o.tokenized.is_empty() || dd_cfg.is_some();
    let vocab = cx.vocab.as_ref().map(|v| v.0).unwrap_or(0);
    let mut meg = if want(TokenizedFormat::Megatron) {
        Some(MegatronWriter::create(
            &l.output_dir("megatron").join(&stem),
            vocab,
        )?)
    } else {
        None
    };
    let mut dt = if want(TokenizedFormat::Datatrove) {
        let name = cx.vocab.as_ref().map(|v| v.1.as_str()).unwrap_or("");
        Some(DatatroveWriter::create(
            &l.output_dir("datatrove").join(&dt_name),
            vocab,
            name,
        )?)
    } else {
        None
    };
    let mut np = if want(TokenizedFormat::Numpy) {
        Some(NumpyWriter::create(
            &l.output_dir("numpy").join(&stem),
            vocab,
        )?)
    } else {
        None
    };
    let mut dd_rows: Vec<RowWriter> = match dd_cfg {
        Some(dd) => (dd.min_log2..=dd.max_log2)
            .map(|b| {
                RowWriter::new(
                    l.output_dir("dd")
                        .join(format!("D_{b}"))
                        .join(format!("{stem}.bin")),
                    vocab,
                )
            })
            .collect(),
        None => Vec::new(),
    };
    let mut shards = if docs_out {
        let dir = l.output_dir("documents");
        ShardWriter::clean(&dir, &stem)?;
        let format = match o.documents {
            DocumentsFormat::Parquet => Format::Parquet,
            _ => Format::Jsonl,
        };
        let level = o.level.unwrap_or(match o.compression {
            Compression::Gzip => 6,
            _ => 3,
        });
        Some(ShardWriter::new(
            &dir,
            &stem,
            WriteOptions {
                format,
                compression: o.compression,
                level,
                max_shard_bytes: o.max_shard_bytes.0,
                ..Default::default()
            },
        ))
    } else {
        None
    };
    let mut fetch = Fetcher {
        layout: l,
        sources: cx.sources,
        open: HashMap::new(),
        lru: VecDeque::new(),
        bytes: Vec::new(),
    };
    let m = cx.mixture;
    let mut done = PartDone::default();
    let mut toks: Vec<u32> = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    let mut phase = m
        .phases
        .partition_point(|p| p.end_doc <= part.first_doc)
        .min(m.phases.len().saturating_sub(1));
    for i in part.first_doc..part.end_doc {
        while m.phases[phase].end_doc <= i {
            phase += 1;
        }
        let d = m.draws[i as usize];
        let s = d.source();
        if need_tokens {
            fetch.tokens(s, d.doc(), docs_out, &mut toks)?;
            if let Some(w) = meg.as_mut() {
                w.add(&toks)?;
            }
            if let Some(w) = dt.as_mut() {
                w.add(&toks)?;
            }
            if let Some(w) = np.as_mut() {
                w.add(&toks)?;
            }
            if let Some(dd) = dd_cfg {
                let mut rng = dd
                    .randomize
                    .then(|| Pcg64::from_entropy(&[c.seed, 0xDD, i]));
                let (chunks, dropped) =
                    dd::decompose(toks.len(), dd.min_log2, dd.max_log2, rng.as_mut());
                for ch in chunks {
                    dd_rows[(ch.k - dd.min_log2) as usize]
                        .add(&toks[ch.start..ch.start + ch.len()])?;
                }
                done.dd_dropped_tokens += dropped as u64;
            }
        }
        if let Some(w) = shards.as_mut() {
            fetch.doc(s, d.doc(), need_tokens, &mut line)?;
            if o.annotate {
                annotate(
                    &mut line,
                    &cx.sources[s].name,
                    &cx.phase_labels[phase],
                    d.epoch(),
                );
            }
            w.write_json(&line)?;
        }
        done.docs += 1;
        done.tokens += m.lens[i as usize] as u64;
    }
    let mut files: Vec<(PathBuf, u64)> = Vec::new();
    if let Some(w) = meg {
        files.extend(w.finish()?);
    }
    if let Some(w) = dt {
        files.extend(w.finish()?);
    }
    if let Some(w) = np {
        files.extend(w.finish()?);
    }
    if let Some(dd) = dd_cfg {
        for (b, w) in (dd.min_log2..).zip(dd_rows) {
            if w.rows > 0 {
                done.dd_sequences.insert(b, w.rows);
            }
            files.extend(w.finish()?);
        }
    }
    if let Some(w) = shards {
        let st = w.finish()?;
        done.document_bytes = st.bytes;
        // The shard writer names its files STEM-NNN.EXT.
        let dir = l.output_dir("documents");
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                if n.starts_with(&format!("{stem}-")) && !n.ends_with(".tmp") {
                    let len = e.metadata().map(|m| m.len()).unwrap_or(0);
                    files.push((e.path(), len));
                }
            }
        }
    }
    for (p, len) in files {
        done.files.insert(rel(l, &p), len);
    }
    let bytes = serde_json::to_vec(&done).map_err(|e| MixError::state(l.parts_dir(), e))?;
    write_atomic(&l.part_marker(k), &bytes)?;
    Ok(done)
}

/// Appends `"mix": {...}` to a JSON object line (which has no `mix` key: the counting pass
/// removed it).
fn annotate(line: &mut Vec<u8>, source: &str, phase: &str, epoch: u64) {
    debug_assert_eq!(line.last(), Some(&b'}'));
    line.pop();
    let sep = if line.len() > 1 { "," } else { "" };
    // Source and phase names are restricted to [A-Za-z0-9_.-#]: no escaping needed.
    line.extend_from_slice(
        format!(r#"{sep}"mix":{{"source":"{source}","phase":"{phase}","epoch":{epoch}}}}}"#)
            .as_bytes(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotation_is_valid_json() {
        let mut l = br#"{"id":"a","text":"x"}"#.to_vec();
        annotate(&mut l, "web", "main#2", 3);
        let v: serde_json::Value = serde_json::from_slice(&l).unwrap();
        assert_eq!(v["mix"]["phase"], "main#2");
        assert_eq!(v["mix"]["epoch"], 3);
    }

    #[test]
    fn locate_and_parts() {
        let si = SourceIndex::new("a", &[vec![1, 2], vec![], vec![3]]);
        assert_eq!(si.unit_first, [0, 2, 2, 3]);
        assert_eq!(si.locate(0), (0, 0));
        assert_eq!(si.locate(1), (0, 1));
        assert_eq!(si.locate(2), (2, 0));
        assert_eq!(si.prefix, [0, 1, 3, 6]);
        let m = Mixture {
            lens: vec![5, 5, 5, 5, 1],
            ..Default::default()
        };
        let p = cut_parts(&m, 10);
        assert_eq!(p.len(), 3);
        assert_eq!((p[0].first_doc, p[0].end_doc), (0, 2));
        assert_eq!((p[2].first_doc, p[2].end_doc, p[2].end_token), (4, 5, 21));
    }
}
