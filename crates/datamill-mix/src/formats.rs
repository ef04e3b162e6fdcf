//! Tokenized output formats, written under temporary names and renamed when complete.
//!
//! * [`MegatronWriter`]: Megatron-LM's indexed dataset as megatron-core 0.16.1's
//!   `IndexedDatasetBuilder` writes it with one sequence per document (what
//!   `tools/preprocess_data.py` writes without sentence splitting): `PREFIX.bin` holds the
//!   tokens (`uint16` when the vocabulary has fewer than 65,500 entries, else `int32`:
//!   `DType.optimal_dtype`), `PREFIX.idx` holds `MMIDIDX\0\0`, version 1 (u64), the dtype code
//!   (u8: 8 = uint16, 4 = int32), the sequence count and the document count (u64), the sequence
//!   lengths (int32), their byte pointers into `.bin` (int64) and the document indices
//!   `0, 1, …, n` (int64).
//! * [`DatatroveWriter`]: datatrove 0.10.1's `TokenizedFile` as `DocumentTokenizer` writes it
//!   with `shuffle_documents=False`: `NAME.ds` (the tokens, little-endian `uint16`, or `uint32`
//!   when the vocabulary has more than 65,536 entries), `NAME.ds.index` (each document's end, in
//!   tokens, u64) and `NAME.ds.metadata` (`tokenizer|token_size`, the token count, and the
//!   count as `humanize.metric(count, "T")`).
//! * [`NumpyWriter`]: a flat token file as nanoGPT and OLMo memory-map it (raw little-endian
//!   `uint16`, or `uint32` past 65,536 entries; no header: `np.memmap(path, dtype)`), and
//!   `NAME.doc_offsets.npy`, a real `.npy` (`np.load`) of the n + 1 document start offsets in
//!   tokens (`uint64`).

use crate::error::MixError;
use crate::tasks::tmp_path;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Token width in bytes for a vocabulary: 2 up to 65,536 entries, else 4 (datatrove's rule:
/// `4 if vocab_size > np.iinfo(np.uint16).max + 1 else 2`).
pub fn token_width(vocab_size: usize) -> usize {
    if vocab_size > 65536 { 4 } else { 2 }
}

/// A file written through `NAME.tmp`.
struct TmpFile {
    path: PathBuf,
    w: BufWriter<File>,
}

impl TmpFile {
    fn create(path: PathBuf) -> Result<TmpFile, MixError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| MixError::io(dir, e))?;
        }
        let tmp = tmp_path(&path);
        let f = File::create(&tmp).map_err(|e| MixError::io(&tmp, e))?;
        Ok(TmpFile {
            path,
            w: BufWriter::with_capacity(1 << 20, f),
        })
    }

    fn put(&mut self, b: &[u8]) -> Result<(), MixError> {
        self.w.write_all(b).map_err(|e| MixError::io(&self.path, e))
    }

    /// Flushes and syncs; the file keeps its temporary name until [`commit`].
    fn close(self) -> Result<PathBuf, MixError> {
        let tmp = tmp_path(&self.path);
        let f = self
            .w
            .into_inner()
            .map_err(|e| MixError::io(&tmp, e.into_error()))?;
        f.sync_all().map_err(|e| MixError::io(&tmp, e))?;
        Ok(self.path)
    }
}

/// Renames closed temporary files to their names; returns their sizes.
fn commit(paths: &[PathBuf]) -> Result<Vec<(PathBuf, u64)>, MixError> {
    let mut out = Vec::new();
    for p in paths {
        let tmp = tmp_path(p);
        std::fs::rename(&tmp, p).map_err(|e| MixError::io(p, e))?;
        let len = std::fs::metadata(p).map_err(|e| MixError::io(p, e))?.len();
        out.push((p.clone(), len));
    }
    Ok(out)
}

fn put_tokens(out: &mut Vec<u8>, tokens: &[u32], width: usize) {
    out.clear();
    if width == 2 {
        for &t in tokens {
            out.extend_from_slice(&(t as u16).to_le_bytes());
        }
    } else {
        for &t in tokens {
            out.extend_from_slice(&t.to_le_bytes());
        }
    }
}

/// A Megatron `.bin`/`.idx` pair.
pub struct MegatronWriter {
    bin: TmpFile,
    idx: PathBuf,
    wide: bool,
    lengths: Vec<u32>,
    buf: Vec<u8>,
}

impl MegatronWriter {
    /// Writes `prefix.bin` and `prefix.idx` for a vocabulary of `vocab_size` entries.
    pub fn create(prefix: &Path, vocab_size: usize) -> Result<MegatronWriter, MixError> {
        let mut bin = prefix.as_os_str().to_owned();
        bin.push(".bin");
        let mut idx = prefix.as_os_str().to_owned();
        idx.push(".idx");
        Ok(MegatronWriter {
            bin: TmpFile::create(bin.into())?,
            idx: idx.into(),
            wide: vocab_size >= 65500,
            lengths: Vec::new(),
            buf: Vec::new(),
        })
    }

    /// Adds one document (one sequence).
    pub fn add(&mut self, tokens: &[u32]) -> Result<(), MixError> {
        if tokens.len() > i32::MAX as usize {
            return Err(MixError::state(
                &self.idx,
                "a document longer than 2^31 tokens does not fit Megatron's int32 lengths",
            ));
        }
        put_tokens(&mut self.buf, tokens, if self.wide { 4 } else { 2 });
        self.bin.put(&self.buf)?;
        self.lengths.push(tokens.len() as u32);
        Ok(())
    }

    /// Writes the index and renames both files.
    pub fn finish(self) -> Result<Vec<(PathBuf, u64)>, MixError> {
        let bin = self.bin.close()?;
        let mut idx = TmpFile::create(self.idx)?;
        let n = self.lengths.len() as u64;
        let (code, size) = if self.wide { (4u8, 4i64) } else { (8u8, 2i64) };
        let mut h = Vec::with_capacity(34);
        h.extend_from_slice(b"MMIDIDX\x00\x00");
        h.extend_from_slice(&1u64.to_le_bytes());
        h.push(code);
        h.extend_from_slice(&n.to_le_bytes());
        h.extend_from_slice(&(n + 1).to_le_bytes());
        idx.put(&h)?;
        let mut buf = Vec::with_capacity(self.lengths.len() * 8);
        for &l in &self.lengths {
            buf.extend_from_slice(&(l as i32).to_le_bytes());
        }
        idx.put(&buf)?;
        buf.clear();
        let mut ptr = 0i64;
        for &l in &self.lengths {
            buf.extend_from_slice(&ptr.to_le_bytes());
            ptr += l as i64 * size;
        }
        idx.put(&buf)?;
        buf.clear();
        for i in 0..=n as i64 {
            buf.extend_from_slice(&i.to_le_bytes());
        }
        idx.put(&buf)?;
        let idx = idx.close()?;
        commit(&[bin, idx])
    }
}

/// `humanize.metric(value, unit, precision=3)` (humanize 4.17.0) for a non-negative integer,
/// as datatrove writes token counts into `.ds.metadata`.
pub fn humanize_metric(value: u64, unit: &str) -> String {
    let precision = 3i64;
    let mut v = value as f64;
    let mut exponent: i64 = if value == 0 {
        0
    } else {
        v.log10().floor() as i64
    };
    if exponent >= 33 {
        // humanize falls back to scientific notation; counts never get there.
        return format!("{v:.2e} {unit}");
    }
    let old_bucket = exponent.div_euclid(3) * 3;
    v /= 10f64.powi(old_bucket as i32);
    let mut digits = (precision - exponent.rem_euclid(3) - 1).max(0);
    if exponent < 30 && py_round(v, digits) >= 10f64.powi((exponent.rem_euclid(3) + 1) as i32) {
        exponent += 1;
        let new_bucket = exponent.div_euclid(3) * 3;
        v /= 10f64.powi((new_bucket - old_bucket) as i32);
        digits = (precision - exponent.rem_euclid(3) - 1).max(0);
    }
    let ordinal = if exponent >= 3 {
        let k = (exponent / 3 - 1) as usize;
        &"kMGTPEZYRQ"[k..k + 1]
    } else {
        ""
    };
    let value = format!("{v:.prec$}", prec = digits as usize);
    let space = if unit.is_empty() && ordinal.is_empty() {
        ""
    } else {
        " "
    };
    format!("{value}{space}{ordinal}{unit}")
}

/// Python's `round(x, n)` for `n >= 0`: the correctly rounded decimal, ties to even (as
/// Rust's formatting rounds).
fn py_round(x: f64, n: i64) -> f64 {
    format!("{x:.prec$}", prec = n as usize)
        .parse()
        .expect("formatted float parses")
}

/// A datatrove `.ds` file with its `.ds.index` and `.ds.metadata`.
pub struct DatatroveWriter {
    ds: TmpFile,
    width: usize,
    ends: Vec<u64>,
    written: u64,
    tokenizer_name: String,
    buf: Vec<u8>,
}

impl DatatroveWriter {
    /// Writes `path` (e.g. `00000_unshuffled.ds`) for a vocabulary of `vocab_size` entries;
    /// `tokenizer_name` is the tokenizer path as given to datatrove.
    pub fn create(
        path: &Path,
        vocab_size: usize,
        tokenizer_name: &str,
    ) -> Result<DatatroveWriter, MixError> {
        Ok(DatatroveWriter {
            ds: TmpFile::create(path.to_path_buf())?,
            width: token_width(vocab_size),
            ends: Vec::new(),
            written: 0,
            tokenizer_name: tokenizer_name.to_string(),
            buf: Vec::new(),
        })
    }

    /// Adds one document.
    pub fn add(&mut self, tokens: &[u32]) -> Result<(), MixError> {
        put_tokens(&mut self.buf, tokens, self.width);
        self.ds.put(&self.buf)?;
        self.written += tokens.len() as u64;
        self.ends.push(self.written);
        Ok(())
    }

    /// Writes the index and metadata and renames the three files.
    pub fn finish(self) -> Result<Vec<(PathBuf, u64)>, MixError> {
        let ds = self.ds.close()?;
        let base = ds.as_os_str().to_owned();
        let mut index = base.clone();
        index.push(".index");
        let mut meta = base;
        meta.push(".metadata");
        let mut idx = TmpFile::create(index.into())?;
        let mut buf = Vec::with_capacity(self.ends.len() * 8);
        for &e in &self.ends {
            buf.extend_from_slice(&e.to_le_bytes());
        }
        idx.put(&buf)?;
        let idx = idx.close()?;
        let mut m = TmpFile::create(meta.into())?;
        m.put(
            format!(
                "{}|{}\n{}\n{}",
                self.tokenizer_name,
                self.width,
                self.written,
                humanize_metric(self.written, "T")
            )
            .as_bytes(),
        )?;
        let m = m.close()?;
        commit(&[ds, idx, m])
    }
}

/// The header of a `.npy` file (format 1.0) of a one-dimensional array, as `np.save` writes
/// it: the dictionary padded with spaces so that the data starts at a multiple of 64 bytes.
pub fn npy_header(descr: &str, len: u64) -> Vec<u8> {
    let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({len},), }}");
    let unpadded = 10 + dict.len() + 1;
    let pad = (64 - unpadded % 64) % 64;
    let header_len = dict.len() + pad + 1;
    let mut h = Vec::with_capacity(10 + header_len);
    h.extend_from_slice(b"\x93NUMPY\x01\x00");
    h.extend_from_slice(&(header_len as u16).to_le_bytes());
    h.extend_from_slice(dict.as_bytes());
    h.extend(std::iter::repeat_n(b' ', pad));
    h.push(b'\n');
    h
}

/// A flat token file and its document offsets.
pub struct NumpyWriter {
    tokens: TmpFile,
    offsets_path: PathBuf,
    width: usize,
    starts: Vec<u64>,
    written: u64,
    buf: Vec<u8>,
}

impl NumpyWriter {
    /// Writes `prefix.bin` and `prefix.doc_offsets.npy`.
    pub fn create(prefix: &Path, vocab_size: usize) -> Result<NumpyWriter, MixError> {
        let mut t = prefix.as_os_str().to_owned();
        t.push(".bin");
        let mut o = prefix.as_os_str().to_owned();
        o.push(".doc_offsets.npy");
        Ok(NumpyWriter {
            tokens: TmpFile::create(t.into())?,
            offsets_path: o.into(),
            width: token_width(vocab_size),
            starts: vec![0],
            written: 0,
            buf: Vec::new(),
        })
    }

    /// The numpy dtype of the token file (`"uint16"` or `"uint32"`).
    pub fn dtype(vocab_size: usize) -> &'static str {
        if token_width(vocab_size) == 2 {
            "uint16"
        } else {
            "uint32"
        }
    }

    /// Adds one document.
    pub fn add(&mut self, tokens: &[u32]) -> Result<(), MixError> {
        put_tokens(&mut self.buf, tokens, self.width);
        self.tokens.put(&self.buf)?;
        self.written += tokens.len() as u64;
        self.starts.push(self.written);
        Ok(())
    }

    /// Writes the offsets and renames both files.
    pub fn finish(self) -> Result<Vec<(PathBuf, u64)>, MixError> {
        let t = self.tokens.close()?;
        let mut o = TmpFile::create(self.offsets_path)?;
        o.put(&npy_header("<u8", self.starts.len() as u64))?;
        let mut buf = Vec::with_capacity(self.starts.len() * 8);
        for &s in &self.starts {
            buf.extend_from_slice(&s.to_le_bytes());
        }
        o.put(&buf)?;
        let o = o.close()?;
        commit(&[t, o])
    }
}

/// Fixed-length rows of tokens (Dataset Decomposition buckets): a raw file of `uint16` or
/// `uint32` tokens, `row` tokens per sequence.
pub struct RowWriter {
    file: Option<TmpFile>,
    path: PathBuf,
    width: usize,
    /// Rows written.
    pub rows: u64,
    buf: Vec<u8>,
}

impl RowWriter {
    /// A writer for `path`; nothing is created until the first row.
    pub fn new(path: PathBuf, vocab_size: usize) -> RowWriter {
        RowWriter {
            file: None,
            path,
            width: token_width(vocab_size),
            rows: 0,
            buf: Vec::new(),
        }
    }

    /// Adds one row.
    pub fn add(&mut self, tokens: &[u32]) -> Result<(), MixError> {
        if self.file.is_none() {
            self.file = Some(TmpFile::create(self.path.clone())?);
        }
        put_tokens(&mut self.buf, tokens, self.width);
        self.file.as_mut().expect("opened").put(&self.buf)?;
        self.rows += 1;
        Ok(())
    }

    /// Renames the file (if any row was written).
    pub fn finish(self) -> Result<Vec<(PathBuf, u64)>, MixError> {
        match self.file {
            Some(f) => commit(&[f.close()?]),
            None => Ok(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn humanize_matches_python() {
        // humanize 4.17.0: metric(n, "T").
        for (n, s) in [
            (0u64, "0.00 T"),
            (1, "1.00 T"),
            (12, "12.0 T"),
            (999, "999 T"),
            (1000, "1.00 kT"),
            (1234, "1.23 kT"),
            (9995, "9.99 kT"),
            (99_999, "100 kT"),
            (123_456, "123 kT"),
            (999_999, "1.00 MT"),
            (1_500_000, "1.50 MT"),
            (2_000_000_000, "2.00 GT"),
        ] {
            assert_eq!(humanize_metric(n, "T"), s, "{n}");
        }
    }

    #[test]
    fn npy_header_is_64_byte_aligned() {
        for n in [0u64, 1, 5, 12345, u64::MAX / 3] {
            let h = npy_header("<u8", n);
            assert_eq!(h.len() % 64, 0);
            assert_eq!(*h.last().unwrap(), b'\n');
        }
    }

    #[test]
    fn megatron_index_layout() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x");
        let mut w = MegatronWriter::create(&p, 50257).unwrap();
        w.add(&[1, 2, 3]).unwrap();
        w.add(&[65000]).unwrap();
        let files = w.finish().unwrap();
        assert_eq!(files.len(), 2);
        let bin = std::fs::read(d.path().join("x.bin")).unwrap();
        assert_eq!(bin, [1, 0, 2, 0, 3, 0, 0xe8, 0xfd]);
        let idx = std::fs::read(d.path().join("x.idx")).unwrap();
        assert_eq!(&idx[..9], b"MMIDIDX\x00\x00");
        assert_eq!(idx[17], 8);
        assert_eq!(idx.len(), 34 + 2 * 4 + 2 * 8 + 3 * 8);
        assert!(!d.path().join("x.bin.tmp").exists());
    }
}
