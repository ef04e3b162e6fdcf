//! Per-band LSH keys: appended in document order, spilled to scratch files when the memory
//! budget is exceeded, then read back band by band in sorted `(key, doc)` order (in memory
//! when the band fits the budget, otherwise by sorted runs and the dedup family's k-way
//! [`Merge`]).

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::PathBuf;

use datamill_core::StageError;

use crate::dedup::io_err;
use crate::dedup::spill::Merge;

/// The keys of every band, for documents `0..len()` (a key is `width` u64 words).
pub struct BandStore {
    width: usize,
    /// Per band, the keys of documents `flushed..len`.
    mem: Vec<Vec<u64>>,
    len: usize,
    flushed: usize,
    dir: PathBuf,
    writers: Vec<Option<BufWriter<File>>>,
    buffer_limit: Option<usize>,
    /// How many times the buffers were spilled to disk.
    pub spills: u64,
    /// How many sorted runs were written by [`BandStore::scan`] (external sorts).
    pub runs: std::sync::atomic::AtomicU64,
}

impl BandStore {
    /// An empty store for `bands` bands of `width`-word keys; buffers spill to `dir` once they
    /// exceed `buffer_limit` bytes.
    pub fn new(bands: usize, width: usize, dir: PathBuf, buffer_limit: Option<usize>) -> Self {
        BandStore {
            width,
            mem: vec![Vec::new(); bands],
            len: 0,
            flushed: 0,
            dir,
            writers: (0..bands).map(|_| None).collect(),
            buffer_limit,
            spills: 0,
            runs: Default::default(),
        }
    }

    fn band_path(&self, band: usize) -> PathBuf {
        self.dir.join(format!("band{band:03}.keys"))
    }

    /// Appends one document's keys (`bands × width` words, band after band).
    pub fn push(&mut self, keys: &[u64]) -> io::Result<()> {
        for (b, k) in keys.chunks_exact(self.width).enumerate() {
            self.mem[b].extend_from_slice(k);
        }
        self.len += 1;
        if let Some(limit) = self.buffer_limit {
            let bytes = (self.len - self.flushed) * keys.len() * 8;
            if bytes > limit {
                self.spill()?;
            }
        }
        Ok(())
    }

    fn spill(&mut self) -> io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        for b in 0..self.mem.len() {
            if self.writers[b].is_none() {
                self.writers[b] = Some(BufWriter::new(File::create(self.band_path(b))?));
            }
            let w = self.writers[b].as_mut().expect("writer");
            for &x in &self.mem[b] {
                w.write_all(&x.to_le_bytes())?;
            }
            self.mem[b] = Vec::new();
        }
        self.flushed = self.len;
        self.spills += 1;
        Ok(())
    }

    /// Ends the writing phase (flushes the spill files).
    pub fn seal(&mut self) -> io::Result<()> {
        for w in self.writers.iter_mut().flatten() {
            w.flush()?;
        }
        self.writers.clear();
        Ok(())
    }

    /// Calls `f(key, doc)` for every document of `band`, in ascending `(key, doc)` order, using
    /// at most about `limit` bytes (unbounded when `None`).
    pub fn scan(
        &self,
        band: usize,
        limit: Option<usize>,
        mut f: impl FnMut(&[u64], u32),
    ) -> Result<(), StageError> {
        let w = self.width;
        let sort_bytes = if w == 1 { 16 } else { 4 };
        let need = self.len * sort_bytes
            + if self.flushed > 0 {
                self.len * 8 * w
            } else {
                0
            };
        let spilled = self.band_path(band);
        if limit.is_none_or(|l| need <= l) {
            if self.flushed == 0 {
                sort_scan(&self.mem[band], w, 0, &mut f);
            } else {
                let mut keys = Vec::with_capacity(self.len * w);
                let mut r = BufReader::new(File::open(&spilled).map_err(|e| io_err(&spilled, e))?);
                read_words(&mut r, self.flushed * w, &mut keys).map_err(|e| io_err(&spilled, e))?;
                keys.extend_from_slice(&self.mem[band]);
                sort_scan(&keys, w, 0, &mut f);
            }
            return Ok(());
        }
        // External sort: sorted runs of `chunk` records, then a k-way merge.
        let chunk = (limit.unwrap_or(usize::MAX) / (8 * w + sort_bytes)).max(1024);
        let mut runs = Vec::new();
        let mut file = if self.flushed > 0 {
            Some(BufReader::new(
                File::open(&spilled).map_err(|e| io_err(&spilled, e))?,
            ))
        } else {
            None
        };
        let mut start = 0usize;
        let mut keys = Vec::with_capacity(chunk * w);
        while start < self.len {
            keys.clear();
            let end = (start + chunk).min(self.len);
            // records [start, end): the part below `flushed` comes from the file
            if start < self.flushed {
                let from_file = end.min(self.flushed) - start;
                read_words(file.as_mut().expect("spill file"), from_file * w, &mut keys)
                    .map_err(|e| io_err(&spilled, e))?;
            }
            if end > self.flushed {
                let lo = start.max(self.flushed) - self.flushed;
                let hi = end - self.flushed;
                keys.extend_from_slice(&self.mem[band][lo * w..hi * w]);
            }
            let path = self.dir.join(format!("band{band:03}.run{:05}", runs.len()));
            self.write_run(&path, &keys, start as u32)
                .map_err(|e| io_err(&path, e))?;
            runs.push(path);
            self.runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            start = end;
        }
        drop(keys);
        // A run record is the key's `w` words, then the document.
        let mut merge = Merge::open(runs, 8 * (w + 1), decode_words)?;
        while let Some(rec) = merge.next_record()? {
            f(&rec[..w], rec[w] as u32);
        }
        Ok(())
    }

    /// Writes the keys of documents `base..` sorted by `(key, doc)` as one run file.
    fn write_run(&self, path: &std::path::Path, keys: &[u64], base: u32) -> io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let mut out = BufWriter::new(File::create(path)?);
        let mut err = None;
        sort_scan(keys, self.width, base, &mut |k, s| {
            if err.is_none() {
                let r = k
                    .iter()
                    .try_for_each(|x| out.write_all(&x.to_le_bytes()))
                    .and_then(|_| out.write_all(&(s as u64).to_le_bytes()));
                if let Err(e) = r {
                    err = Some(e);
                }
            }
        });
        if let Some(e) = err {
            return Err(e);
        }
        out.flush()
    }

    /// Removes the spill files.
    pub fn cleanup(&self) {
        for b in 0..self.mem.len() {
            let _ = std::fs::remove_file(self.band_path(b));
        }
    }
}

fn read_words(r: &mut impl Read, n: usize, out: &mut Vec<u64>) -> io::Result<()> {
    let mut buf = [0u8; 8];
    for _ in 0..n {
        r.read_exact(&mut buf)?;
        out.push(u64::from_le_bytes(buf));
    }
    Ok(())
}

/// A run record (little-endian `u64` words) as words.
fn decode_words(b: &[u8]) -> Vec<u64> {
    b.chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect()
}

/// Sorts the `width`-word keys (document `base + i` owns key `i`) by `(key, doc)` and calls
/// `f` in that order.
fn sort_scan(keys: &[u64], w: usize, base: u32, f: &mut impl FnMut(&[u64], u32)) {
    if w == 1 {
        let mut v: Vec<u128> = keys
            .iter()
            .enumerate()
            .map(|(i, &k)| ((k as u128) << 32) | (base + i as u32) as u128)
            .collect();
        v.sort_unstable();
        for x in v {
            f(&[(x >> 32) as u64], x as u32);
        }
    } else {
        let n = keys.len() / w;
        let mut idx: Vec<u32> = (0..n as u32).collect();
        idx.sort_unstable_by(|&a, &b| {
            let (a, b) = (a as usize, b as usize);
            keys[a * w..a * w + w]
                .cmp(&keys[b * w..b * w + w])
                .then(a.cmp(&b))
        });
        for i in idx {
            let i = i as usize;
            f(&keys[i * w..i * w + w], base + i as u32);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(s: &BandStore, band: usize, limit: Option<usize>) -> Vec<(Vec<u64>, u32)> {
        let mut v = Vec::new();
        s.scan(band, limit, |k, d| v.push((k.to_vec(), d))).unwrap();
        v
    }

    #[test]
    fn spilled_and_external_scans_equal_the_in_memory_one() {
        let dir = tempfile::tempdir().unwrap();
        for width in [1usize, 3] {
            let mut a = BandStore::new(2, width, dir.path().join("a"), None);
            let mut b = BandStore::new(2, width, dir.path().join(format!("b{width}")), Some(4096));
            let mut x = 88172645463325252u64;
            for _ in 0..5000 {
                let mut keys = Vec::new();
                for _ in 0..2 * width {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    keys.push(x % 50); // many equal keys
                }
                a.push(&keys).unwrap();
                b.push(&keys).unwrap();
            }
            a.seal().unwrap();
            b.seal().unwrap();
            assert!(b.spills > 0);
            for band in 0..2 {
                let want = collect(&a, band, None);
                assert!(want.windows(2).all(|p| p[0] <= p[1]));
                assert_eq!(want.len(), 5000);
                assert_eq!(collect(&b, band, None), want);
                assert_eq!(collect(&b, band, Some(20_000)), want);
                assert_eq!(collect(&a, band, Some(20_000)), want);
            }
            assert!(b.runs.load(std::sync::atomic::Ordering::Relaxed) > 0);
        }
    }
}
