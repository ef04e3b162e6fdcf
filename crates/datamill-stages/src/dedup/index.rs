//! Saved dedup indexes: a small versioned file format shared by the dedup stages, so a later
//! run can dedup new data against what an earlier run saw without rereading it
//! (`save_index = "path"` writes one, `against = ["path", ...]` reads them).
//!
//! Layout (all integers little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `DMILLIDX` |
//! | 4 | format version, `u32` (this is version 1) |
//! | 4 | header length `h`, `u32` |
//! | h | header, UTF-8 JSON: `kind`, `record_bytes`, `params`, `datamill` (version) |
//! | n × record_bytes | body: fixed-size records, meaning given by `kind` |
//! | 8 | number of records `n`, `u64` |
//! | 8 | xxh3-64 of the body, `u64` |
//!
//! `params` holds every setting that changes what a record means (normalization, unit,
//! n-gram length, filter geometry); a stage refuses an index whose `params` differ from its
//! own, naming the parameter. Kinds defined so far:
//!
//! - `exact_dedup`: 16-byte records, the `u128` xxh3 hashes of the documents, ascending and
//!   distinct;
//! - `line_dedup`: 16-byte records, `u64` unit hash then `u64` occurrence count, ascending by
//!   hash and distinct;
//! - `bloom_dedup`: 8-byte records, the `u64` words of the Bloom filter's bit vector
//!   (`params.num_bits`, `params.num_hashes`, `params.layout` = the filter implementation
//!   whose bit positions the words follow);
//! - `minhash`: `record_bytes` 1 (a byte stream): one entry per signed document of the run,
//!   `u32` length then the stage's summary of the document (id, length, band keys, and the
//!   shingle set with `verify`), in input order (`params`: the signature settings).
//!
//! Sorted kinds are read as streams ([`Cursor`]) and merge-joined with the stage's own sorted
//! keys, so checking against an index costs no memory beyond a read buffer.

use super::io_err;
use datamill_core::StageError;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use xxhash_rust::xxh3::Xxh3;

/// The file's first bytes.
pub const MAGIC: &[u8; 8] = b"DMILLIDX";
/// The format version written by this code.
pub const FORMAT_VERSION: u32 = 1;

/// An index file's JSON header.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Header {
    /// What the records are (`exact_dedup`, `line_dedup`, `bloom_dedup`, `minhash`).
    pub kind: String,
    /// Size of one record in bytes.
    pub record_bytes: u32,
    /// The settings that give the records their meaning.
    pub params: serde_json::Value,
    /// The datamill version that wrote the file.
    pub datamill: String,
}

/// Writes an index file (to a temporary name, renamed by [`IndexWriter::finish`]).
pub struct IndexWriter {
    w: BufWriter<File>,
    tmp: PathBuf,
    path: PathBuf,
    hasher: Xxh3,
    records: u64,
    record_bytes: usize,
}

impl IndexWriter {
    /// Starts an index of `kind` at `path`.
    pub fn create(
        path: &Path,
        kind: &str,
        record_bytes: u32,
        params: serde_json::Value,
    ) -> Result<IndexWriter, StageError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        }
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".tmp");
        let tmp = path.with_file_name(name);
        let f = File::create(&tmp).map_err(|e| io_err(&tmp, e))?;
        let mut w = BufWriter::new(f);
        let header = Header {
            kind: kind.to_string(),
            record_bytes,
            params,
            datamill: env!("CARGO_PKG_VERSION").to_string(),
        };
        let h = serde_json::to_vec(&header).map_err(|e| StageError::Other(e.to_string()))?;
        (|| {
            w.write_all(MAGIC)?;
            w.write_all(&FORMAT_VERSION.to_le_bytes())?;
            w.write_all(&(h.len() as u32).to_le_bytes())?;
            w.write_all(&h)
        })()
        .map_err(|e| io_err(&tmp, e))?;
        Ok(IndexWriter {
            w,
            tmp,
            path: path.to_path_buf(),
            hasher: Xxh3::new(),
            records: 0,
            record_bytes: record_bytes as usize,
        })
    }

    /// Appends one record (or, for byte-stream kinds, any whole number of records).
    pub fn write(&mut self, rec: &[u8]) -> Result<(), StageError> {
        debug_assert_eq!(rec.len() % self.record_bytes, 0);
        self.hasher.update(rec);
        self.records += (rec.len() / self.record_bytes) as u64;
        self.w.write_all(rec).map_err(|e| io_err(&self.tmp, e))
    }

    /// Writes the trailer and renames the file into place; returns the record count.
    pub fn finish(mut self) -> Result<u64, StageError> {
        let sum = self.hasher.digest();
        (|| {
            self.w.write_all(&self.records.to_le_bytes())?;
            self.w.write_all(&sum.to_le_bytes())?;
            self.w.flush()?;
            self.w.get_ref().sync_all()
        })()
        .map_err(|e| io_err(&self.tmp, e))?;
        std::fs::rename(&self.tmp, &self.path).map_err(|e| io_err(&self.path, e))?;
        Ok(self.records)
    }
}

/// The `against` parameter of a dedup stage: its paths resolved against the pipeline's folder,
/// each checked at build time to be a readable index of `kind` (and, given `params`, saved
/// with those settings), so `datamill validate` reports a bad one as an `against` error.
pub fn resolve_against(
    base: &Path,
    paths: &[String],
    kind: &str,
    params: Option<&serde_json::Value>,
) -> Result<Vec<PathBuf>, StageError> {
    let paths: Vec<PathBuf> = paths.iter().map(|p| super::resolve(base, p)).collect();
    for p in &paths {
        let r =
            IndexReader::open(p, kind).map_err(|e| StageError::config("against", e.to_string()))?;
        if let Some(want) = params {
            r.expect_params(want, "against")?;
        }
    }
    Ok(paths)
}

/// Reads an index file's records in order, checking the checksum at the end.
pub struct IndexReader {
    r: BufReader<File>,
    path: PathBuf,
    header: Header,
    records: u64,
    read: u64,
    sum: u64,
    hasher: Xxh3,
}

impl IndexReader {
    /// Opens an index, checking the magic, version and that it is of `kind`.
    pub fn open(path: &Path, kind: &str) -> Result<IndexReader, StageError> {
        let bad = |m: String| StageError::Other(format!("{}: {m}", path.display()));
        let mut f = File::open(path).map_err(|e| io_err(path, e))?;
        let len = f.metadata().map_err(|e| io_err(path, e))?.len();
        let mut head = [0u8; 16];
        if len < 32 || f.read_exact(&mut head).is_err() || &head[..8] != MAGIC {
            return Err(bad("not a datamill dedup index".into()));
        }
        let version = u32::from_le_bytes(head[8..12].try_into().expect("4 bytes"));
        if version != FORMAT_VERSION {
            return Err(bad(format!(
                "index format version {version}; this datamill reads version {FORMAT_VERSION}"
            )));
        }
        let hlen = u64::from(u32::from_le_bytes(
            head[12..16].try_into().expect("4 bytes"),
        ));
        if 16 + hlen + 16 > len {
            return Err(bad("truncated index".into()));
        }
        let mut h = vec![0u8; hlen as usize];
        f.read_exact(&mut h).map_err(|e| io_err(path, e))?;
        let header: Header =
            serde_json::from_slice(&h).map_err(|e| bad(format!("bad index header: {e}")))?;
        if header.kind != kind {
            return Err(bad(format!(
                "an index of `{}`, not of `{kind}`",
                header.kind
            )));
        }
        let mut trailer = [0u8; 16];
        f.seek(SeekFrom::End(-16)).map_err(|e| io_err(path, e))?;
        f.read_exact(&mut trailer).map_err(|e| io_err(path, e))?;
        let records = u64::from_le_bytes(trailer[..8].try_into().expect("8 bytes"));
        let sum = u64::from_le_bytes(trailer[8..].try_into().expect("8 bytes"));
        let body = len - 16 - hlen - 16;
        if header.record_bytes == 0
            || records.checked_mul(u64::from(header.record_bytes)) != Some(body)
        {
            return Err(bad("truncated or corrupt index (body size)".into()));
        }
        f.seek(SeekFrom::Start(16 + hlen))
            .map_err(|e| io_err(path, e))?;
        Ok(IndexReader {
            r: BufReader::with_capacity(64 << 10, f),
            path: path.to_path_buf(),
            header,
            records,
            read: 0,
            sum,
            hasher: Xxh3::new(),
        })
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Number of records.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the next record into `buf` (`record_bytes` long); false at the end, after
    /// checking the checksum.
    pub fn next_into(&mut self, buf: &mut [u8]) -> Result<bool, StageError> {
        if self.read == self.records {
            if self.hasher.digest() != self.sum {
                return Err(StageError::Other(format!(
                    "{}: corrupt index (checksum mismatch)",
                    self.path.display()
                )));
            }
            self.read += 1; // check once
            return Ok(false);
        }
        if self.read > self.records {
            return Ok(false);
        }
        self.r.read_exact(buf).map_err(|e| io_err(&self.path, e))?;
        self.hasher.update(buf);
        self.read += 1;
        Ok(true)
    }

    /// Fills `buf` with the next `buf.len() / record_bytes` records (byte-stream kinds read
    /// their entries this way); an error if fewer are left.
    pub fn read_records(&mut self, buf: &mut [u8]) -> Result<(), StageError> {
        let rb = u64::from(self.header.record_bytes);
        let n = buf.len() as u64 / rb;
        if !(buf.len() as u64).is_multiple_of(rb) || self.read.saturating_add(n) > self.records {
            return Err(StageError::Other(format!(
                "{}: corrupt index (an entry runs past the end)",
                self.path.display()
            )));
        }
        self.r.read_exact(buf).map_err(|e| io_err(&self.path, e))?;
        self.hasher.update(buf);
        self.read += n;
        Ok(())
    }

    /// True once every record was read (the checksum is then checked).
    pub fn at_end(&mut self) -> Result<bool, StageError> {
        if self.read < self.records {
            return Ok(false);
        }
        self.next_into(&mut [])?;
        Ok(true)
    }

    /// Refuses the index unless its `params` equal `want`, naming the first differing
    /// parameter (reported as a config error of `param`).
    pub fn expect_params(&self, want: &serde_json::Value, param: &str) -> Result<(), StageError> {
        if &self.header.params == want {
            return Ok(());
        }
        let mut diff = Vec::new();
        if let (Some(have), Some(want)) = (self.header.params.as_object(), want.as_object()) {
            for (k, w) in want {
                let h = have.get(k).unwrap_or(&serde_json::Value::Null);
                if h != w {
                    diff.push(format!("{k} = {h} in the index, {w} here"));
                }
            }
        }
        Err(StageError::config(
            param,
            format!(
                "{} was saved with other settings ({}); dedup against it needs the same",
                self.path.display(),
                if diff.is_empty() {
                    "params differ".to_string()
                } else {
                    diff.join(", ")
                }
            ),
        ))
    }
}

/// A sorted index read as a stream of keys, for merge-joins with keys in ascending order.
pub struct Cursor<T> {
    r: IndexReader,
    cur: Option<T>,
    dec: fn(&[u8]) -> T,
    buf: Vec<u8>,
}

impl<T: Copy + Ord> Cursor<T> {
    /// Starts reading `r`, whose records decode with `dec` into ascending values.
    pub fn new(r: IndexReader, dec: fn(&[u8]) -> T) -> Result<Cursor<T>, StageError> {
        let buf = vec![0u8; r.header.record_bytes as usize];
        let mut c = Cursor {
            r,
            cur: None,
            dec,
            buf,
        };
        c.advance()?;
        Ok(c)
    }

    fn advance(&mut self) -> Result<(), StageError> {
        let prev = self.cur;
        self.cur = if self.r.next_into(&mut self.buf)? {
            Some((self.dec)(&self.buf))
        } else {
            None
        };
        if let (Some(p), Some(c)) = (prev, self.cur)
            && c <= p
        {
            return Err(StageError::Other(format!(
                "{}: corrupt index (records out of order)",
                self.r.path.display()
            )));
        }
        Ok(())
    }

    /// Skips records whose key (by `key`) is below `k`; returns the record with key `k`, if
    /// any. Successive calls must pass non-decreasing keys.
    pub fn seek<K: Ord>(&mut self, k: &K, key: impl Fn(&T) -> K) -> Result<Option<T>, StageError> {
        while let Some(c) = self.cur {
            match key(&c).cmp(k) {
                std::cmp::Ordering::Less => self.advance()?,
                std::cmp::Ordering::Equal => return Ok(Some(c)),
                std::cmp::Ordering::Greater => return Ok(None),
            }
        }
        Ok(None)
    }

    /// The index file's path.
    pub fn path(&self) -> &Path {
        self.r.path()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/x.idx");
        let params = serde_json::json!({"lowercase": true});
        let mut w = IndexWriter::create(&p, "exact_dedup", 16, params.clone()).unwrap();
        for k in [3u128, 7, 9] {
            w.write(&k.to_le_bytes()).unwrap();
        }
        assert_eq!(w.finish().unwrap(), 3);
        let r = IndexReader::open(&p, "exact_dedup").unwrap();
        r.expect_params(&params, "against").unwrap();
        let e = r
            .expect_params(&serde_json::json!({"lowercase": false}), "against")
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("lowercase = true in the index, false here"),
            "{e}"
        );
        let dec = |b: &[u8]| u128::from_le_bytes(b.try_into().unwrap());
        let mut c = Cursor::new(r, dec).unwrap();
        assert_eq!(c.seek(&1, |x| *x).unwrap(), None);
        assert_eq!(c.seek(&7, |x| *x).unwrap(), Some(7));
        assert_eq!(c.seek(&8, |x| *x).unwrap(), None);
        assert_eq!(c.seek(&9, |x| *x).unwrap(), Some(9));
        assert_eq!(c.seek(&10, |x| *x).unwrap(), None);
        assert!(
            IndexReader::open(&p, "line_dedup")
                .err()
                .unwrap()
                .to_string()
                .contains("not of")
        );
        // Flip one body byte: the checksum catches it at the end of the stream.
        let mut bytes = std::fs::read(&p).unwrap();
        let n = bytes.len();
        bytes[n - 20] ^= 1;
        std::fs::write(&p, &bytes).unwrap();
        let mut c = Cursor::new(IndexReader::open(&p, "exact_dedup").unwrap(), dec).unwrap();
        let e = c.seek(&u128::MAX, |x| *x).unwrap_err();
        assert!(e.to_string().contains("checksum"), "{e}");
    }
}
