//! External sort of fixed-size records under a memory budget.
//!
//! A [`Sorter`] keeps records in memory until they would exceed the budget, then sorts them
//! and writes them to a *run* file in the work folder. [`Sorter::finish`] returns all records
//! in ascending order: straight from memory when nothing was spilled, otherwise by a k-way
//! merge of the runs (runs are first merged 64 at a time when there are more, so open files
//! stay bounded). Records are compared with their `Ord`, which the dedup stages make total
//! (hash, then input position), so the order — and every decision taken from it — is the
//! same with or without a budget.
//!
//! [`Merge`] is the one k-way merge of sorted run files: the [`Sorter`] uses it, and so does
//! MinHash's band store (`minhash_dedup/bands.rs`), whose records have a run-time width.

use super::io_err;
use datamill_core::StageError;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// A record of fixed encoded size.
pub trait Record: Ord + Copy {
    /// Encoded size in bytes.
    const SIZE: usize;
    /// Encodes into `out` (exactly `SIZE` bytes).
    fn encode(&self, out: &mut [u8]);
    /// Decodes from `b` (exactly `SIZE` bytes).
    fn decode(b: &[u8]) -> Self;
}

/// Fewest records held before a spill, so a tiny budget does not make one file per record.
const MIN_RECORDS: usize = 64;
/// Most runs merged at once.
const FAN_IN: usize = 64;

/// Collects records, spilling sorted runs to disk when over budget.
pub struct Sorter<T: Record> {
    buf: Vec<T>,
    cap: usize,
    dir: PathBuf,
    name: String,
    runs: Vec<PathBuf>,
    next_run: usize,
    spilled_records: u64,
}

impl<T: Record> Sorter<T> {
    /// A sorter holding at most `budget` bytes of records in memory (`None`: unbounded),
    /// spilling to `dir/<name>-<n>.run`.
    pub fn new(name: &str, budget: Option<u64>, dir: &Path) -> Sorter<T> {
        let cap = match budget {
            None => usize::MAX,
            Some(b) => ((b / std::mem::size_of::<T>().max(1) as u64) as usize).max(MIN_RECORDS),
        };
        Sorter {
            buf: if cap == usize::MAX {
                Vec::new()
            } else {
                Vec::with_capacity(cap.min(1 << 24))
            },
            cap,
            dir: dir.to_path_buf(),
            name: name.to_string(),
            runs: Vec::new(),
            next_run: 0,
            spilled_records: 0,
        }
    }

    /// Adds a record.
    pub fn push(&mut self, r: T) -> Result<(), StageError> {
        self.buf.push(r);
        if self.buf.len() >= self.cap {
            self.spill()?;
        }
        Ok(())
    }

    /// Runs written so far.
    pub fn runs(&self) -> usize {
        self.runs.len()
    }

    /// Records written to runs so far.
    pub fn spilled_records(&self) -> u64 {
        self.spilled_records
    }

    /// Bytes of records held in memory now.
    pub fn memory(&self) -> u64 {
        (self.buf.capacity() * std::mem::size_of::<T>()) as u64
    }

    fn run_path(&mut self) -> PathBuf {
        let p = self
            .dir
            .join(format!("{}-{}.run", self.name, self.next_run));
        self.next_run += 1;
        p
    }

    fn spill(&mut self) -> Result<(), StageError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| io_err(&self.dir, e))?;
        self.buf.sort_unstable();
        let path = self.run_path();
        let f = File::create(&path).map_err(|e| io_err(&path, e))?;
        let mut w = BufWriter::new(f);
        let mut b = vec![0u8; T::SIZE];
        for r in &self.buf {
            r.encode(&mut b);
            w.write_all(&b).map_err(|e| io_err(&path, e))?;
        }
        w.flush().map_err(|e| io_err(&path, e))?;
        self.spilled_records += self.buf.len() as u64;
        self.buf.clear();
        self.runs.push(path);
        Ok(())
    }

    /// All records in ascending order.
    pub fn finish(mut self) -> Result<Sorted<T>, StageError> {
        if self.runs.is_empty() {
            let mut buf = std::mem::take(&mut self.buf);
            buf.sort_unstable();
            return Ok(Sorted::Memory(buf.into_iter()));
        }
        self.spill()?;
        self.buf = Vec::new();
        while self.runs.len() > FAN_IN {
            let group: Vec<PathBuf> = self.runs.drain(..FAN_IN).collect();
            let path = self.run_path();
            let mut merged = Merge::open(group, T::SIZE, T::decode)?;
            let f = File::create(&path).map_err(|e| io_err(&path, e))?;
            let mut w = BufWriter::new(f);
            let mut b = vec![0u8; T::SIZE];
            while let Some(r) = merged.next_record()? {
                r.encode(&mut b);
                w.write_all(&b).map_err(|e| io_err(&path, e))?;
            }
            w.flush().map_err(|e| io_err(&path, e))?;
            self.runs.push(path);
        }
        Ok(Sorted::Runs(Merge::open(
            std::mem::take(&mut self.runs),
            T::SIZE,
            T::decode,
        )?))
    }
}

impl<T: Record> Drop for Sorter<T> {
    fn drop(&mut self) {
        for p in &self.runs {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Records in ascending order, from memory or merged from runs.
pub enum Sorted<T: Record> {
    /// Nothing was spilled.
    Memory(std::vec::IntoIter<T>),
    /// A k-way merge of run files.
    Runs(Merge<T>),
}

impl<T: Record> Sorted<T> {
    /// The next record, `None` at the end.
    pub fn next_record(&mut self) -> Result<Option<T>, StageError> {
        match self {
            Sorted::Memory(it) => Ok(it.next()),
            Sorted::Runs(m) => m.next_record(),
        }
    }
}

/// Read buffer of each run file in a merge.
const RUN_BUFFER: usize = 64 << 10;

/// A k-way merge of sorted run files of fixed-size records (the files are deleted when the
/// merge is dropped). Equal records come out in run order.
pub struct Merge<T: Ord> {
    readers: Vec<BufReader<File>>,
    paths: Vec<PathBuf>,
    heap: BinaryHeap<Reverse<(T, usize)>>,
    b: Vec<u8>,
    decode: fn(&[u8]) -> T,
}

impl<T: Ord> Merge<T> {
    /// Merges the runs `paths`: each a file of `size`-byte records, ascending as `decode`
    /// reads them.
    pub fn open(
        paths: Vec<PathBuf>,
        size: usize,
        decode: fn(&[u8]) -> T,
    ) -> Result<Merge<T>, StageError> {
        let mut m = Merge {
            readers: Vec::with_capacity(paths.len()),
            paths,
            heap: BinaryHeap::new(),
            b: vec![0u8; size],
            decode,
        };
        for p in &m.paths {
            let f = File::open(p).map_err(|e| io_err(p, e))?;
            m.readers.push(BufReader::with_capacity(RUN_BUFFER, f));
        }
        for i in 0..m.readers.len() {
            if let Some(r) = m.read(i)? {
                m.heap.push(Reverse((r, i)));
            }
        }
        Ok(m)
    }

    fn read(&mut self, i: usize) -> Result<Option<T>, StageError> {
        match self.readers[i].read_exact(&mut self.b) {
            Ok(()) => Ok(Some((self.decode)(&self.b))),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
            Err(e) => Err(io_err(&self.paths[i], e)),
        }
    }

    /// The next record, `None` at the end.
    pub fn next_record(&mut self) -> Result<Option<T>, StageError> {
        let Some(Reverse((r, i))) = self.heap.pop() else {
            return Ok(None);
        };
        if let Some(n) = self.read(i)? {
            self.heap.push(Reverse((n, i)));
        }
        Ok(Some(r))
    }
}

impl<T: Ord> Drop for Merge<T> {
    fn drop(&mut self) {
        for p in &self.paths {
            let _ = std::fs::remove_file(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
    struct R(u64, u32);
    impl Record for R {
        const SIZE: usize = 12;
        fn encode(&self, out: &mut [u8]) {
            out[..8].copy_from_slice(&self.0.to_le_bytes());
            out[8..].copy_from_slice(&self.1.to_le_bytes());
        }
        fn decode(b: &[u8]) -> Self {
            R(
                u64::from_le_bytes(b[..8].try_into().unwrap()),
                u32::from_le_bytes(b[8..].try_into().unwrap()),
            )
        }
    }

    fn collect(mut s: Sorted<R>) -> Vec<R> {
        let mut v = Vec::new();
        while let Some(r) = s.next_record().unwrap() {
            v.push(r);
        }
        v
    }

    #[test]
    fn spilled_merge_equals_in_memory_sort() {
        let dir = tempfile::tempdir().unwrap();
        let recs: Vec<R> = (0..20_000u32)
            .map(|i| R(xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes()) % 997, i))
            .collect();
        let mut mem = Sorter::new("m", None, dir.path());
        // 64 records per run: 313 runs, so the cascade (64 at a time) is exercised.
        let mut disk = Sorter::new("d", Some(64 * 16), dir.path());
        for &r in &recs {
            mem.push(r).unwrap();
            disk.push(r).unwrap();
        }
        assert_eq!(mem.runs(), 0);
        assert!(disk.runs() > FAN_IN, "{}", disk.runs());
        let a = collect(mem.finish().unwrap());
        let b = collect(disk.finish().unwrap());
        let mut want = recs.clone();
        want.sort();
        assert_eq!(a, want);
        assert_eq!(b, want);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "runs are removed"
        );
    }
}
