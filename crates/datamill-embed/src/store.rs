//! The embedding store: a folder other stages, later runs and users read embeddings from.
//!
//! ```text
//! STORE/
//!   embeddings.npy   float32, little-endian, C order, shape (N, dim): row i = document i
//!   ids.jsonl        N lines, each the JSON string of document i's id
//!   meta.json        {"format": "datamill-embeddings", "version": 1, "count": N, "dim": dim,
//!                     "model": ..., ...}  (written last: its presence marks a complete store)
//! ```
//!
//! `numpy.load("embeddings.npy", mmap_mode="r")` reads the matrix; rows are in the order the
//! documents reached the stage that wrote the store (input order). A store computed by
//! another tool is usable if it follows this layout: only `embeddings.npy`, `ids.jsonl` and
//! the `count`/`dim` of `meta.json` are required.

use crate::error::{EmbedError, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Bytes of the `.npy` header this crate writes (fixed, so the row count can be patched).
const NPY_HEADER: usize = 128;

/// The store's `meta.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StoreMeta {
    /// Always `"datamill-embeddings"`.
    #[serde(default = "format_name")]
    pub format: String,
    /// Layout version (1).
    #[serde(default = "one")]
    pub version: u32,
    /// Rows.
    pub count: u64,
    /// Floats per row.
    pub dim: usize,
    /// Where the vectors came from (model folder and settings), free-form.
    #[serde(default)]
    pub model: serde_json::Value,
    /// Whether every row has L2 norm 1.
    #[serde(default)]
    pub normalized: bool,
}

fn format_name() -> String {
    "datamill-embeddings".into()
}
fn one() -> u32 {
    1
}

fn npy_header(rows: u64, dim: usize) -> Vec<u8> {
    let dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {dim}), }}");
    let mut h = Vec::with_capacity(NPY_HEADER);
    h.extend_from_slice(b"\x93NUMPY\x01\x00");
    h.extend_from_slice(&((NPY_HEADER - 10) as u16).to_le_bytes());
    h.extend_from_slice(dict.as_bytes());
    while h.len() < NPY_HEADER - 1 {
        h.push(b' ');
    }
    h.push(b'\n');
    h
}

/// Writes a store row by row; files get their final names in [`StoreWriter::finish`].
#[derive(Debug)]
pub struct StoreWriter {
    dir: PathBuf,
    npy: BufWriter<File>,
    ids: BufWriter<File>,
    meta: StoreMeta,
    buf: Vec<u8>,
}

fn tmp(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.tmp"))
}

impl StoreWriter {
    /// Starts a store in `dir` (created; an older store there is replaced on finish).
    pub fn create(
        dir: &Path,
        dim: usize,
        model: serde_json::Value,
        normalized: bool,
    ) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| EmbedError::io(dir, e))?;
        let _ = std::fs::remove_file(dir.join("meta.json"));
        let open = |name: &str| {
            let p = tmp(dir, name);
            File::create(&p)
                .map(BufWriter::new)
                .map_err(|e| EmbedError::io(&p, e))
        };
        let mut npy = open("embeddings.npy")?;
        npy.write_all(&npy_header(0, dim))
            .map_err(|e| EmbedError::io(tmp(dir, "embeddings.npy"), e))?;
        Ok(StoreWriter {
            dir: dir.to_path_buf(),
            npy,
            ids: open("ids.jsonl")?,
            meta: StoreMeta {
                format: format_name(),
                version: 1,
                count: 0,
                dim,
                model,
                normalized,
            },
            buf: Vec::new(),
        })
    }

    /// Appends one row.
    ///
    /// # Errors
    /// A row of the wrong width, or a write failure.
    pub fn push(&mut self, id: &str, row: &[f32]) -> Result<()> {
        if row.len() != self.meta.dim {
            return Err(EmbedError::Invalid(format!(
                "embedding of document {id:?} has {} values, the store holds {}",
                row.len(),
                self.meta.dim
            )));
        }
        self.buf.clear();
        for x in row {
            self.buf.extend_from_slice(&x.to_le_bytes());
        }
        self.npy
            .write_all(&self.buf)
            .map_err(|e| EmbedError::io(tmp(&self.dir, "embeddings.npy"), e))?;
        serde_json::to_writer(&mut self.ids, id)
            .map_err(|e| EmbedError::io(tmp(&self.dir, "ids.jsonl"), e.into()))?;
        self.ids
            .write_all(b"\n")
            .map_err(|e| EmbedError::io(tmp(&self.dir, "ids.jsonl"), e))?;
        self.meta.count += 1;
        Ok(())
    }

    /// The store's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Rows written so far.
    pub fn count(&self) -> u64 {
        self.meta.count
    }

    /// Completes the store: patches the header, syncs, renames, writes `meta.json` last.
    pub fn finish(self) -> Result<StoreMeta> {
        let npy_tmp = tmp(&self.dir, "embeddings.npy");
        let mut f = self
            .npy
            .into_inner()
            .map_err(|e| EmbedError::io(&npy_tmp, e.into_error()))?;
        f.seek(SeekFrom::Start(0))
            .and_then(|_| f.write_all(&npy_header(self.meta.count, self.meta.dim)))
            .and_then(|_| f.sync_all())
            .map_err(|e| EmbedError::io(&npy_tmp, e))?;
        let ids_tmp = tmp(&self.dir, "ids.jsonl");
        self.ids
            .into_inner()
            .map_err(|e| EmbedError::io(&ids_tmp, e.into_error()))?
            .sync_all()
            .map_err(|e| EmbedError::io(&ids_tmp, e))?;
        for name in ["embeddings.npy", "ids.jsonl"] {
            let to = self.dir.join(name);
            std::fs::rename(tmp(&self.dir, name), &to).map_err(|e| EmbedError::io(&to, e))?;
        }
        let meta_tmp = tmp(&self.dir, "meta.json");
        let bytes = serde_json::to_vec_pretty(&self.meta).expect("meta serializes");
        std::fs::write(&meta_tmp, bytes).map_err(|e| EmbedError::io(&meta_tmp, e))?;
        let meta = self.dir.join("meta.json");
        std::fs::rename(&meta_tmp, &meta).map_err(|e| EmbedError::io(&meta, e))?;
        Ok(self.meta)
    }
}

/// A complete store opened for reading rows by index or by document id.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    meta: StoreMeta,
    file: File,
    data_offset: u64,
    ids: Vec<String>,
}

/// Parses an `.npy` header: `(shape, header length)`; only 2-D little-endian float32 C-order.
fn parse_npy_header(path: &Path, head: &[u8]) -> Result<((u64, usize), usize)> {
    let bad = |m: &str| Err(EmbedError::store(path, m.to_string()));
    if head.len() < 10 || &head[..6] != b"\x93NUMPY" {
        return bad("not an .npy file (bad magic)");
    }
    let (len, start) = match head[6] {
        1 => (u16::from_le_bytes([head[8], head[9]]) as usize, 10),
        2 | 3 if head.len() >= 12 => (
            u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as usize,
            12,
        ),
        v => return bad(&format!("unsupported .npy version {v}")),
    };
    let Some(dict) = head.get(start..start + len) else {
        return bad("truncated .npy header");
    };
    let dict = String::from_utf8_lossy(dict);
    let compact: String = dict.chars().filter(|c| !c.is_whitespace()).collect();
    if !compact.contains("'descr':'<f4'") {
        return bad(&format!(
            "dtype must be little-endian float32 ('<f4'): {}",
            dict.trim()
        ));
    }
    if !compact.contains("'fortran_order':False") {
        return bad("fortran_order arrays are not supported (save with C order)");
    }
    let Some(s) = compact.find("'shape':(") else {
        return bad("no shape in header");
    };
    let rest = &compact[s + 9..];
    let inner = &rest[..rest.find(')').unwrap_or(0)];
    let dims: Vec<&str> = inner.split(',').filter(|x| !x.is_empty()).collect();
    if dims.len() != 2 {
        return bad(&format!("shape ({inner}) is not 2-D (rows, dim)"));
    }
    let rows: u64 = dims[0]
        .parse()
        .map_err(|_| EmbedError::store(path, "bad shape"))?;
    let dim: usize = dims[1]
        .parse()
        .map_err(|_| EmbedError::store(path, "bad shape"))?;
    Ok(((rows, dim), start + len))
}

impl Store {
    /// Opens a complete store and checks that its three files agree.
    pub fn open(dir: &Path) -> Result<Store> {
        let meta_path = dir.join("meta.json");
        let bytes = std::fs::read(&meta_path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                EmbedError::store(
                    &meta_path,
                    "missing: not an embedding store, or not complete",
                )
            } else {
                EmbedError::io(&meta_path, e)
            }
        })?;
        let meta: StoreMeta = serde_json::from_slice(&bytes)
            .map_err(|e| EmbedError::store(&meta_path, e.to_string()))?;
        let npy = dir.join("embeddings.npy");
        let mut file = File::open(&npy).map_err(|e| EmbedError::io(&npy, e))?;
        let mut head = vec![0u8; 4096];
        let n = read_up_to(&mut file, &mut head).map_err(|e| EmbedError::io(&npy, e))?;
        let ((rows, dim), data_offset) = parse_npy_header(&npy, &head[..n])?;
        if rows != meta.count || dim != meta.dim {
            return Err(EmbedError::store(
                &npy,
                format!(
                    "shape ({rows}, {dim}) disagrees with meta.json (count {}, dim {})",
                    meta.count, meta.dim
                ),
            ));
        }
        let want = data_offset as u64 + rows * dim as u64 * 4;
        let size = file.metadata().map_err(|e| EmbedError::io(&npy, e))?.len();
        if size != want {
            return Err(EmbedError::store(
                &npy,
                format!("{size} bytes, expected {want} for shape ({rows}, {dim})"),
            ));
        }
        let ids_path = dir.join("ids.jsonl");
        let f = File::open(&ids_path).map_err(|e| EmbedError::io(&ids_path, e))?;
        let mut ids = Vec::with_capacity(rows as usize);
        for (i, line) in BufReader::new(f).lines().enumerate() {
            let line = line.map_err(|e| EmbedError::io(&ids_path, e))?;
            let id: String = serde_json::from_str(&line).map_err(|e| {
                EmbedError::store(&ids_path, format!("line {}: not a JSON string: {e}", i + 1))
            })?;
            ids.push(id);
        }
        if ids.len() as u64 != rows {
            return Err(EmbedError::store(
                &ids_path,
                format!("{} ids for {rows} embeddings", ids.len()),
            ));
        }
        Ok(Store {
            dir: dir.to_path_buf(),
            meta,
            file,
            data_offset: data_offset as u64,
            ids,
        })
    }

    /// The store's metadata.
    pub fn meta(&self) -> &StoreMeta {
        &self.meta
    }

    /// Rows.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the store has no rows.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The ids, in row order.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// A map from id to row. Two rows with the same id are an error unless their vectors are
    /// identical (the same document stored twice).
    pub fn id_index(&self) -> Result<HashMap<&str, u64>> {
        let mut map = HashMap::with_capacity(self.ids.len());
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for (i, id) in self.ids.iter().enumerate() {
            if let Some(&j) = map.get(id.as_str()) {
                self.read_rows(j, 1, &mut a)?;
                self.read_rows(i as u64, 1, &mut b)?;
                if a != b {
                    return Err(EmbedError::store(
                        self.dir.join("ids.jsonl"),
                        format!(
                            "id {id:?} appears on lines {} and {} with different embeddings",
                            j + 1,
                            i + 1
                        ),
                    ));
                }
                continue;
            }
            map.insert(id.as_str(), i as u64);
        }
        Ok(map)
    }

    /// Reads `n` rows starting at `row` into `out` (resized), checking for NaN/infinity.
    pub fn read_rows(&self, row: u64, n: usize, out: &mut Vec<f32>) -> Result<()> {
        use std::os::unix::fs::FileExt;
        let d = self.meta.dim;
        let path = self.dir.join("embeddings.npy");
        if row + n as u64 > self.meta.count {
            return Err(EmbedError::store(
                &path,
                format!(
                    "rows {row}..{} past the end ({})",
                    row + n as u64,
                    self.meta.count
                ),
            ));
        }
        let mut bytes = vec![0u8; n * d * 4];
        self.file
            .read_exact_at(&mut bytes, self.data_offset + row * d as u64 * 4)
            .map_err(|e| EmbedError::io(&path, e))?;
        out.clear();
        out.extend(
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        );
        if let Some(p) = out.iter().position(|x| !x.is_finite()) {
            let r = row as usize + p / d;
            return Err(EmbedError::store(
                &path,
                format!(
                    "row {r} (id {:?}) holds {} at column {}",
                    self.ids[r],
                    out[p],
                    p % d
                ),
            ));
        }
        Ok(())
    }
}

/// Reads a 2-D float32 `.npy` file whose rows have `dim` values (centroids, say), checking
/// shape and values.
pub fn read_npy_f32(path: &Path, dim: usize) -> Result<Vec<f32>> {
    let raw = std::fs::read(path).map_err(|e| EmbedError::io(path, e))?;
    let ((rows, d), off) = parse_npy_header(path, &raw[..raw.len().min(4096)])?;
    if d != dim {
        return Err(EmbedError::store(
            path,
            format!("rows have {d} values, the embeddings {dim}"),
        ));
    }
    let want = off as u64 + rows * d as u64 * 4;
    if raw.len() as u64 != want {
        return Err(EmbedError::store(
            path,
            format!("{} bytes, expected {want}", raw.len()),
        ));
    }
    let v: Vec<f32> = raw[off..]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    if let Some(p) = v.iter().position(|x| !x.is_finite()) {
        return Err(EmbedError::store(
            path,
            format!("row {} holds a non-finite value", p / d),
        ));
    }
    Ok(v)
}

fn read_up_to(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    use std::io::Read;
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_header() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = StoreWriter::create(dir.path(), 3, serde_json::json!("m"), false).unwrap();
        w.push("a", &[1.0, 2.0, 3.0]).unwrap();
        w.push("b\n\"x", &[4.0, 5.0, 6.0]).unwrap();
        assert!(w.push("c", &[1.0]).is_err());
        let meta = w.finish().unwrap();
        assert_eq!(meta.count, 2);
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.ids(), &["a".to_string(), "b\n\"x".to_string()]);
        let mut v = Vec::new();
        s.read_rows(1, 1, &mut v).unwrap();
        assert_eq!(v, vec![4.0, 5.0, 6.0]);
        assert_eq!(s.id_index().unwrap()["b\n\"x"], 1);
        let raw = std::fs::read(dir.path().join("embeddings.npy")).unwrap();
        assert_eq!(raw.len(), NPY_HEADER + 24);
        assert_eq!(raw[NPY_HEADER - 1], b'\n');
        assert!(String::from_utf8_lossy(&raw[10..NPY_HEADER]).contains("'shape': (2, 3)"));
        assert!(s.read_rows(1, 2, &mut v).is_err());
    }

    #[test]
    fn bad_stores_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let e = Store::open(dir.path()).unwrap_err().to_string();
        assert!(e.contains("meta.json") && e.contains("missing"), "{e}");
        let mut w = StoreWriter::create(dir.path(), 2, serde_json::Value::Null, false).unwrap();
        w.push("a", &[1.0, f32::NAN]).unwrap();
        w.push("a", &[1.0, 2.0]).unwrap();
        w.finish().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let mut v = Vec::new();
        let e = s.read_rows(0, 1, &mut v).unwrap_err().to_string();
        assert!(e.contains("row 0") && e.contains("NaN"), "{e}");
        // Wrong dimension in meta.json versus the file.
        let m = dir.path().join("meta.json");
        let t = std::fs::read_to_string(&m)
            .unwrap()
            .replace("\"dim\": 2", "\"dim\": 3");
        std::fs::write(&m, t).unwrap();
        let e = Store::open(dir.path()).unwrap_err().to_string();
        assert!(e.contains("disagrees"), "{e}");
    }

    #[test]
    fn duplicate_ids_with_different_rows_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = StoreWriter::create(dir.path(), 1, serde_json::Value::Null, false).unwrap();
        w.push("a", &[1.0]).unwrap();
        w.push("a", &[1.0]).unwrap();
        w.push("b", &[2.0]).unwrap();
        w.push("b", &[3.0]).unwrap();
        w.finish().unwrap();
        let e = Store::open(dir.path())
            .unwrap()
            .id_index()
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"b\"") && e.contains("lines 3 and 4"), "{e}");
    }
}
