//! Exact-substring deduplication after Lee et al. 2022 ("Deduplicating Training Data Makes
//! Language Models Better", google-research/deduplicate-text-datasets), over a corpus file
//! that may not fit in memory.
//!
//! The corpus is one byte file: every document's UTF-8 text followed by one [`SEP`] byte
//! (0xFF, which never occurs in UTF-8), written by [`CorpusWriter`]. A *window* is the
//! `min_length` bytes starting at some position; it is a *duplicate* when
//!
//! - (default) the same bytes occur at another position of the corpus, as in the Google
//!   tool's `self-similar` (every member of a suffix-array group sharing its first
//!   `min_length` bytes), or
//! - (`keep_first`) the same bytes occur at an earlier position (input order), so the first
//!   occurrence of every repeated window survives.
//!
//! Windows never cross a document boundary (a window holding a separator is never a
//! duplicate; the Google tool's 6-byte separators can in rare cases be part of a match).
//! The removed spans of a document are the union of its duplicate windows, where a window
//! starting at or before the end of the previous span extends it (the Google tool's
//! `collect`: overlapping *and touching* windows merge), each span then shrunk inward to
//! UTF-8 character boundaries.
//!
//! Memory: [`find_spans`] suffix-sorts the whole corpus at once when no budget is given or
//! when it fits ([`memory_estimate`]: about 5.1 bytes per corpus byte, 9.1 above 2 GiB).
//! Otherwise the corpus is cut at document boundaries into `k` partitions of at most
//! `budget / 12` bytes and every *pair* of partitions is suffix-sorted together (Google's
//! `across-similar` idea without its on-disk merge): `k (k - 1) / 2` suffix arrays of at most
//! `budget / 6` bytes each, total work about `k` times the corpus. The duplicate-window marks
//! (one bit per corpus byte) live on disk per partition. The result is identical to the
//! in-memory one: a window is a duplicate iff an equal window exists in the same or another
//! partition, and every pair of partitions is compared once.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The document separator in a corpus file (never part of UTF-8 text).
pub const SEP: u8 = 0xFF;

/// Estimated bytes of memory per corpus byte while suffix-sorting a text of at most 2 GiB
/// (text 1, `i32` suffix array 4, marks 1/8, and slack).
const PER_BYTE_32: u64 = 6;
/// The same above 2 GiB (`i64` suffix array).
const PER_BYTE_64: u64 = 10;

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum SuffixError {
    /// Reading or writing a work file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// libsais refused the input.
    #[error("suffix array construction failed: {0}")]
    Sais(String),
    /// A document holds the separator byte (it is not UTF-8 text).
    #[error("document {0} contains a 0xFF byte, which cannot occur in UTF-8 text")]
    Separator(usize),
}

fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> SuffixError + '_ {
    move |source| SuffixError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes a corpus file, document by document.
pub struct CorpusWriter {
    path: PathBuf,
    out: BufWriter<File>,
    starts: Vec<u64>,
    len: u64,
}

impl CorpusWriter {
    /// Creates (truncates) the corpus file at `path`.
    pub fn create(path: &Path) -> Result<CorpusWriter, SuffixError> {
        let f = File::create(path).map_err(io_at(path))?;
        Ok(CorpusWriter {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(1 << 20, f),
            starts: Vec::new(),
            len: 0,
        })
    }

    /// Appends one document's text (it must not contain [`SEP`]).
    pub fn push(&mut self, text: &[u8]) -> Result<(), SuffixError> {
        if memchr::memchr(SEP, text).is_some() {
            return Err(SuffixError::Separator(self.starts.len()));
        }
        self.starts.push(self.len);
        self.out
            .write_all(text)
            .and_then(|_| self.out.write_all(&[SEP]))
            .map_err(io_at(&self.path))?;
        self.len += text.len() as u64 + 1;
        Ok(())
    }

    /// Flushes the file.
    pub fn finish(mut self) -> Result<Corpus, SuffixError> {
        self.out.flush().map_err(io_at(&self.path))?;
        Ok(Corpus {
            path: self.path,
            starts: self.starts,
            len: self.len,
        })
    }
}

/// A written corpus file: where each document starts.
#[derive(Clone, Debug)]
pub struct Corpus {
    path: PathBuf,
    starts: Vec<u64>,
    len: u64,
}

impl Corpus {
    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of documents.
    pub fn docs(&self) -> usize {
        self.starts.len()
    }

    /// Size of the file in bytes (text plus one separator per document).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the corpus holds no byte.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The byte range of document `i`'s text in the file (its separator excluded).
    pub fn doc_range(&self, i: usize) -> Range<u64> {
        let end = self.starts.get(i + 1).copied().unwrap_or(self.len) - 1;
        self.starts[i]..end
    }

    fn read(&self, r: Range<u64>, buf: &mut Vec<u8>) -> Result<(), SuffixError> {
        let mut f = File::open(&self.path).map_err(io_at(&self.path))?;
        f.seek(SeekFrom::Start(r.start))
            .map_err(io_at(&self.path))?;
        let start = buf.len();
        buf.resize(start + (r.end - r.start) as usize, 0);
        f.read_exact(&mut buf[start..]).map_err(io_at(&self.path))
    }
}

/// How [`find_spans`] runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Window length in bytes (at least 1).
    pub min_length: usize,
    /// Keep the first occurrence of every repeated window (input order).
    pub keep_first: bool,
    /// Memory budget in bytes (`None`: suffix-sort the whole corpus at once).
    pub memory: Option<u64>,
    /// Folder for the per-partition mark files (created if needed).
    pub work_dir: PathBuf,
}

/// What [`find_spans`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Partitions the corpus was cut into.
    pub partitions: usize,
    /// Suffix arrays built.
    pub suffix_arrays: usize,
    /// Bytes suffix-sorted, summed over the arrays.
    pub sorted_bytes: u64,
    /// Duplicate windows (positions) found.
    pub windows: u64,
}

/// Estimated peak memory of suffix-sorting `len` bytes at once.
pub fn memory_estimate(len: u64) -> u64 {
    len * if len > i32::MAX as u64 {
        PER_BYTE_64
    } else {
        PER_BYTE_32
    }
}

/// Finds the removable spans of every document. Calls `each(doc, text, spans)` once per
/// document in corpus order, with the document's text and its spans (sorted, disjoint,
/// non-touching byte ranges on character boundaries; empty when nothing repeats).
pub fn find_spans<E: From<SuffixError>>(
    corpus: &Corpus,
    opts: &Options,
    mut each: impl FnMut(usize, &[u8], &[(u32, u32)]) -> Result<(), E>,
) -> Result<Stats, E> {
    let l = opts.min_length.max(1);
    let parts = plan(corpus, opts.memory);
    let mut stats = Stats {
        partitions: parts.len(),
        ..Stats::default()
    };
    let byte_range = |p: &Range<usize>| -> Range<u64> {
        if p.is_empty() {
            0..0
        } else {
            corpus.starts[p.start]..corpus.doc_range(p.end - 1).end + 1
        }
    };
    if parts.len() <= 1 {
        let mut text = Vec::new();
        corpus.read(0..corpus.len, &mut text)?;
        let mut bits = Bits::new(text.len());
        mark_text(&text, l, opts.keep_first, |p| bits.set(p))?;
        if !text.is_empty() {
            stats.suffix_arrays = 1;
            stats.sorted_bytes = text.len() as u64;
        }
        stats.windows = bits.count();
        emit(corpus, &text, 0, &bits, 0..corpus.docs(), l, &mut each)?;
        return Ok(stats);
    }
    let dir = &opts.work_dir;
    std::fs::create_dir_all(dir).map_err(io_at(dir))?;
    let mark_path = |i: usize| dir.join(format!("substring-marks-{i}.bin"));
    let ranges: Vec<Range<u64>> = parts.iter().map(byte_range).collect();
    for (i, r) in ranges.iter().enumerate() {
        Bits::new((r.end - r.start) as usize).save(&mark_path(i), true)?;
    }
    let mut text = Vec::new();
    for i in 0..parts.len() {
        text.clear();
        corpus.read(ranges[i].clone(), &mut text)?;
        let li = text.len();
        let mut bi = Bits::load(&mark_path(i), li)?;
        for (j, rj) in ranges.iter().enumerate().skip(i + 1) {
            text.truncate(li);
            corpus.read(rj.clone(), &mut text)?;
            let mut bj = Bits::load(&mark_path(j), text.len() - li)?;
            mark_text(&text, l, opts.keep_first, |p| {
                if p < li { bi.set(p) } else { bj.set(p - li) }
            })?;
            stats.suffix_arrays += 1;
            stats.sorted_bytes += text.len() as u64;
            bj.save(&mark_path(j), false)?;
        }
        bi.save(&mark_path(i), false)?;
    }
    for (i, p) in parts.iter().enumerate() {
        text.clear();
        corpus.read(ranges[i].clone(), &mut text)?;
        let bits = Bits::load(&mark_path(i), text.len())?;
        stats.windows += bits.count();
        emit(
            corpus,
            &text,
            ranges[i].start,
            &bits,
            p.clone(),
            l,
            &mut each,
        )?;
        let _ = std::fs::remove_file(mark_path(i));
    }
    Ok(stats)
}

/// Cuts the corpus into document ranges that fit the budget (one range when it all fits).
#[allow(clippy::single_range_in_vec_init)]
fn plan(corpus: &Corpus, memory: Option<u64>) -> Vec<Range<usize>> {
    let n = corpus.docs();
    let Some(budget) = memory else {
        return vec![0..n];
    };
    if memory_estimate(corpus.len) <= budget || n <= 1 {
        return vec![0..n];
    }
    let mut part = budget / (2 * PER_BYTE_32);
    if 2 * part > i32::MAX as u64 {
        part = budget / (2 * PER_BYTE_64);
    }
    let part = part.max(1);
    let mut out = Vec::new();
    let mut first = 0;
    let mut size = 0u64;
    for d in 0..n {
        let r = corpus.doc_range(d);
        let len = r.end - r.start + 1;
        if d > first && size + len > part {
            out.push(first..d);
            first = d;
            size = 0;
        }
        size += len;
    }
    out.push(first..n);
    out
}

/// Builds the suffix array of `text` and marks the start of every duplicate window.
fn mark_text(
    text: &[u8],
    l: usize,
    keep_first: bool,
    mark: impl FnMut(usize),
) -> Result<(), SuffixError> {
    if text.is_empty() {
        return Ok(());
    }
    if text.len() <= i32::MAX as usize {
        let sa = suffix_array_32(text)?;
        scan(text, sa.len(), |i| sa[i] as usize, l, keep_first, mark);
    } else {
        let sa = suffix_array_64(text)?;
        scan(text, sa.len(), |i| sa[i] as usize, l, keep_first, mark);
    }
    Ok(())
}

/// The suffix array of a text of at most `i32::MAX` bytes (libsais, single-threaded).
pub fn suffix_array_32(text: &[u8]) -> Result<Vec<i32>, SuffixError> {
    Ok(libsais::SuffixArrayConstruction::for_text(text)
        .in_owned_buffer32()
        .single_threaded()
        .run()
        .map_err(|e| SuffixError::Sais(format!("{e:?}")))?
        .into_vec())
}

/// The suffix array of a text of any size (libsais, single-threaded, `i64` entries).
pub fn suffix_array_64(text: &[u8]) -> Result<Vec<i64>, SuffixError> {
    Ok(libsais::SuffixArrayConstruction::for_text(text)
        .in_owned_buffer64()
        .single_threaded()
        .run()
        .map_err(|e| SuffixError::Sais(format!("{e:?}")))?
        .into_vec())
}

/// Walks the suffix array (`pos(i)` is its `i`-th entry): suffixes whose first `l` bytes are
/// equal (and hold no separator) form a group of consecutive entries; marks every member of
/// a group of two or more, or all but the smallest position with `keep_first`.
fn scan(
    text: &[u8],
    n: usize,
    pos: impl Fn(usize) -> usize,
    l: usize,
    keep_first: bool,
    mut mark: impl FnMut(usize),
) {
    let len = text.len();
    let same = |a: usize, b: usize| {
        a + l <= len
            && b + l <= len
            && text[a..a + l] == text[b..b + l]
            && memchr::memchr(SEP, &text[a..a + l]).is_none()
    };
    let mut start = 0;
    for i in 1..=n {
        if i < n && same(pos(i - 1), pos(i)) {
            continue;
        }
        if i - start >= 2 {
            let keep = if keep_first {
                (start..i).map(&pos).min()
            } else {
                None
            };
            for t in start..i {
                let p = pos(t);
                if Some(p) != keep {
                    mark(p);
                }
            }
        }
        start = i;
    }
}

/// Turns the marks of a run of documents into spans and hands them out.
fn emit<E: From<SuffixError>>(
    corpus: &Corpus,
    text: &[u8],
    base: u64,
    bits: &Bits,
    docs: Range<usize>,
    l: usize,
    each: &mut impl FnMut(usize, &[u8], &[(u32, u32)]) -> Result<(), E>,
) -> Result<(), E> {
    let mut spans: Vec<(u32, u32)> = Vec::new();
    for d in docs {
        let r = corpus.doc_range(d);
        let (s, e) = ((r.start - base) as usize, (r.end - base) as usize);
        let doc = &text[s..e];
        spans.clear();
        let mut cur: Option<(usize, usize)> = None;
        let push = |c: (usize, usize), spans: &mut Vec<(u32, u32)>| {
            let (a, b) = shrink(doc, c.0, c.1);
            if a < b {
                spans.push((a as u32, b as u32));
            }
        };
        bits.for_ones(s, e, |p| {
            let (a, b) = (p - s, p - s + l);
            cur = match cur {
                Some((cs, ce)) if a <= ce => Some((cs, ce.max(b))),
                Some(c) => {
                    push(c, &mut spans);
                    Some((a, b))
                }
                None => Some((a, b)),
            };
        });
        if let Some(c) = cur {
            push(c, &mut spans);
        }
        each(d, doc, &spans)?;
    }
    Ok(())
}

/// Shrinks `[a, b)` inward to UTF-8 character boundaries of `doc`.
fn shrink(doc: &[u8], mut a: usize, mut b: usize) -> (usize, usize) {
    let cont = |i: usize| i < doc.len() && doc[i] & 0xC0 == 0x80;
    while a < b && cont(a) {
        a += 1;
    }
    while b > a && cont(b) {
        b -= 1;
    }
    (a, b)
}

/// One bit per byte of a partition.
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Bits {
        Bits(vec![0; n.div_ceil(64)])
    }

    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    fn count(&self) -> u64 {
        self.0.iter().map(|w| u64::from(w.count_ones())).sum()
    }

    /// Calls `f` with every set bit in `[s, e)`, ascending.
    fn for_ones(&self, s: usize, e: usize, mut f: impl FnMut(usize)) {
        if s >= e {
            return;
        }
        for w in s / 64..e.div_ceil(64) {
            let mut x = self.0[w];
            while x != 0 {
                let i = w * 64 + x.trailing_zeros() as usize;
                x &= x - 1;
                if i >= s && i < e {
                    f(i);
                }
            }
        }
    }

    /// Writes the marks; `fresh` truncates the file first (later saves rewrite it in place:
    /// a mark file keeps its size, and truncating makes the file system wait for its journal).
    fn save(&self, path: &Path, fresh: bool) -> Result<(), SuffixError> {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(fresh)
            .open(path)
            .map_err(io_at(path))?;
        let mut out = BufWriter::new(f);
        for w in &self.0 {
            out.write_all(&w.to_le_bytes()).map_err(io_at(path))?;
        }
        out.flush().map_err(io_at(path))
    }

    fn load(path: &Path, n: usize) -> Result<Bits, SuffixError> {
        let raw = std::fs::read(path).map_err(io_at(path))?;
        let words: Vec<u64> = raw
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
        if words.len() != n.div_ceil(64) {
            return Err(SuffixError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::other("mark file has the wrong size"),
            });
        }
        Ok(Bits(words))
    }
}

/// A slow, independent reference for tests: the spans [`find_spans`] reports for `docs`,
/// from a hash table of every window and a per-byte "covered" array.
pub fn reference_spans(
    docs: &[&[u8]],
    min_length: usize,
    keep_first: bool,
) -> Vec<Vec<(u32, u32)>> {
    use std::collections::HashMap;
    let l = min_length.max(1);
    let mut seen: HashMap<&[u8], usize> = HashMap::new();
    for d in docs {
        for w in d.windows(l) {
            *seen.entry(w).or_default() += 1;
        }
    }
    let mut first: HashMap<&[u8], ()> = HashMap::new();
    docs.iter()
        .map(|d| {
            let mut covered = vec![false; d.len()];
            for (o, w) in d.windows(l).enumerate() {
                let dup = if keep_first {
                    first.insert(w, ()).is_some()
                } else {
                    seen[w] >= 2
                };
                if dup {
                    covered[o..o + l].iter_mut().for_each(|c| *c = true);
                }
            }
            let mut out = Vec::new();
            let mut i = 0;
            while i < d.len() {
                if !covered[i] {
                    i += 1;
                    continue;
                }
                let mut j = i;
                while j < d.len() && covered[j] {
                    j += 1;
                }
                let (mut a, mut b) = (i, j);
                while a < b && d[a] & 0xC0 == 0x80 {
                    a += 1;
                }
                while b > a && b < d.len() && d[b] & 0xC0 == 0x80 {
                    b -= 1;
                }
                if a < b {
                    out.push((a as u32, b as u32));
                }
                i = j;
            }
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64*: reproducible random inputs without a dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    #[test]
    fn libsais_matches_a_naive_sort_on_random_texts() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for case in 0..300 {
            let len = rng.below(if case < 200 { 40 } else { 2000 }) as usize;
            let alphabet = [2, 3, 4, 256][case % 4];
            let text: Vec<u8> = (0..len).map(|_| rng.below(alphabet) as u8).collect();
            let mut naive: Vec<usize> = (0..len).collect();
            naive.sort_by(|&a, &b| text[a..].cmp(&text[b..]));
            let sa32: Vec<usize> = suffix_array_32(&text)
                .unwrap()
                .into_iter()
                .map(|x| x as usize)
                .collect();
            assert_eq!(sa32, naive, "i32, case {case}: {text:?}");
            let sa64: Vec<usize> = suffix_array_64(&text)
                .unwrap()
                .into_iter()
                .map(|x| x as usize)
                .collect();
            assert_eq!(sa64, naive, "i64, case {case}");
        }
    }

    /// Random documents over a small alphabet with multi-byte characters and planted
    /// repeats (copies of pieces of earlier documents).
    fn random_docs(rng: &mut Rng, n: usize) -> Vec<String> {
        let alphabet = ["a", "b", " ", "é", "€", "😀", "\n"];
        let mut docs: Vec<String> = Vec::new();
        for _ in 0..n {
            let mut d = String::new();
            let len = rng.below(60) as usize;
            while d.len() < len {
                if !docs.is_empty() && rng.below(4) == 0 {
                    let src = &docs[rng.below(docs.len() as u64) as usize];
                    let chars: Vec<char> = src.chars().collect();
                    if !chars.is_empty() {
                        let a = rng.below(chars.len() as u64) as usize;
                        let b = a + rng.below((chars.len() - a) as u64 + 1) as usize;
                        d.extend(&chars[a..b]);
                        continue;
                    }
                }
                d.push_str(alphabet[rng.below(alphabet.len() as u64) as usize]);
            }
            docs.push(d);
        }
        docs
    }

    fn run(
        docs: &[String],
        l: usize,
        keep_first: bool,
        memory: Option<u64>,
    ) -> (Vec<Vec<(u32, u32)>>, Stats) {
        let dir = tempfile::tempdir().unwrap();
        let mut w = CorpusWriter::create(&dir.path().join("corpus.bin")).unwrap();
        for d in docs {
            w.push(d.as_bytes()).unwrap();
        }
        let corpus = w.finish().unwrap();
        let mut out = Vec::new();
        let stats = find_spans::<SuffixError>(
            &corpus,
            &Options {
                min_length: l,
                keep_first,
                memory,
                work_dir: dir.path().join("work"),
            },
            |d, text, spans| {
                assert_eq!(d, out.len());
                assert_eq!(text, docs[d].as_bytes());
                out.push(spans.to_vec());
                Ok(())
            },
        )
        .unwrap();
        (out, stats)
    }

    #[test]
    fn spans_match_the_reference_on_random_corpora_with_and_without_partitions() {
        let mut rng = Rng(42);
        for case in 0..40 {
            let n = 1 + rng.below(25) as usize;
            let docs = random_docs(&mut rng, n);
            let refs: Vec<&[u8]> = docs.iter().map(|d| d.as_bytes()).collect();
            let l = 1 + rng.below(12) as usize;
            for keep_first in [false, true] {
                let want = reference_spans(&refs, l, keep_first);
                let (got, st) = run(&docs, l, keep_first, None);
                assert_eq!(got, want, "case {case} l={l} keep_first={keep_first}");
                assert_eq!(st.partitions, 1);
                // Partitions of 1 to 100 bytes: one to a few documents each.
                let budget = 12 * (1 + rng.below(100));
                let (parted, st) = run(&docs, l, keep_first, Some(budget));
                assert_eq!(parted, want, "case {case} l={l} budget={budget}");
                if docs.len() > 3
                    && memory_estimate(refs.iter().map(|d| d.len() as u64 + 1).sum()) > budget
                {
                    assert!(st.partitions > 1, "{st:?}");
                }
            }
        }
    }

    #[test]
    fn google_collect_semantics_on_a_hand_made_example() {
        // L = 4. "abcdef" occurs twice: windows abcd, bcde, cdef are duplicates in both
        // documents and merge into [0, 6); "xy" is too short; "wxyz" touches nothing.
        let docs = ["abcdefQwxyz".to_string(), "--abcdef--".to_string()];
        let (got, _) = run(&docs, 4, false, None);
        assert_eq!(got, [vec![(0, 6)], vec![(2, 8)]]);
        // keep_first: the first document keeps everything.
        let (got, _) = run(&docs, 4, true, None);
        assert_eq!(got, [vec![], vec![(2, 8)]]);
        // Touching windows merge (collect's `data_pointer <= prev_end`): "abcdWXYZ" where
        // both "abcd" and "WXYZ" repeat elsewhere but not together.
        let docs = [
            "abcdWXYZ".to_string(),
            "abcd".to_string(),
            "WXYZ".to_string(),
        ];
        let (got, _) = run(&docs, 4, false, None);
        assert_eq!(got, [vec![(0, 8)], vec![(0, 4)], vec![(0, 4)]]);
        // A window never spans two documents: "ab" + "cd" is not "abcd".
        let docs = ["xxab".to_string(), "cdyy".to_string(), "abcd".to_string()];
        let (got, _) = run(&docs, 4, false, None);
        assert_eq!(got, [vec![], vec![], vec![]]);
    }

    #[test]
    fn spans_shrink_to_character_boundaries() {
        // "é" = c3 a9 and "©" = c2 a9 share their continuation byte: with L = 2 the
        // repeated window a9 31 starts mid-character, and the span shrinks to "1".
        let docs = ["xé1".to_string(), "y©1".to_string()];
        let (got, _) = run(&docs, 2, false, None);
        assert_eq!(got, [vec![(3, 4)], vec![(3, 4)]]);
        // "12é" / "12è" (c3 a9 / c3 a8): the window "12\xc3" ends mid-character.
        let docs = ["12é".to_string(), "12è".to_string()];
        let (got, _) = run(&docs, 3, false, None);
        assert_eq!(got, [vec![(0, 2)], vec![(0, 2)]]);
        // Whole multi-byte characters repeated stay whole.
        let docs = ["xé€y".to_string(), "zé€w".to_string()];
        let (got, _) = run(&docs, 3, false, None);
        assert_eq!(got, [vec![(1, 6)], vec![(1, 6)]]);
        for l in 1..5 {
            let refs: Vec<&[u8]> = docs.iter().map(|d| d.as_bytes()).collect();
            assert_eq!(
                reference_spans(&refs, l, false),
                run(&docs, l, false, None).0
            );
        }
    }

    #[test]
    fn a_separator_byte_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = CorpusWriter::create(&dir.path().join("c")).unwrap();
        w.push(b"fine").unwrap();
        assert!(matches!(w.push(b"bad\xff"), Err(SuffixError::Separator(1))));
    }
}
