//! Reading a work unit: a stream of [`Record`]s — documents, quarantined records and blank
//! lines — with every per-record problem turned into a quarantined record and every
//! file-level problem into an [`IoError`].

use crate::error::{IoError, Result};
use crate::format::{Compression, Format};
use crate::plan::{InputFile, Span, WorkUnit};
use datamill_core::{Doc, FieldNames};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// How records are read.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Which fields hold the text and the id.
    pub names: FieldNames,
    /// Lines longer than this (in bytes, newline excluded) are quarantined as
    /// `line_too_long` without being held in memory.
    pub max_line_bytes: usize,
    /// Repair lines that are not valid UTF-8 (each bad sequence becomes U+FFFD) and read
    /// them as documents, counted by [`RecordReader::repaired`], instead of quarantining them.
    pub replace_invalid_utf8: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            names: FieldNames::default(),
            max_line_bytes: 64 << 20,
            replace_invalid_utf8: false,
        }
    }
}

/// A record that cannot become a document; it goes to the quarantine.
#[derive(Clone, Debug, PartialEq)]
pub struct BadRecord {
    /// `file:line` (JSONL, lines from 1) or `file:row` (Parquet, rows from 0).
    pub location: String,
    /// A short stable reason: `invalid_json`, `invalid_utf8`, `line_too_long`,
    /// `not_an_object`, `missing_text`, `text_not_string`, `invalid_id`, `duplicate_field`.
    pub reason: &'static str,
    /// A human explanation naming the field or byte offset.
    pub message: String,
    /// The record as read (lossily decoded; cut at 4 KiB for over-long lines).
    pub raw: String,
    /// The record's exact bytes when `raw` is not them (invalid UTF-8), so it can be
    /// recovered.
    pub raw_bytes: Option<Vec<u8>>,
    /// Size of the record in bytes.
    pub bytes: u64,
}

/// One item read from a unit.
#[derive(Debug)]
pub enum Record {
    /// A document and the size of its record in bytes.
    Doc(Doc, u64),
    /// A record that goes to the quarantine.
    Bad(BadRecord),
    /// A blank line (not a record; counted separately).
    Blank,
}

/// A source of records for one unit.
pub trait RecordReader: Send {
    /// The next record, `None` at the end of the unit.
    fn next_record(&mut self) -> Result<Option<Record>>;

    /// Documents read so far from lines repaired to valid UTF-8
    /// ([`ReadOptions::replace_invalid_utf8`]).
    fn repaired(&self) -> u64 {
        0
    }
}

/// Counts bytes read from the underlying file into a shared counter (for progress bars).
struct Counting<R> {
    inner: R,
    counter: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Opens the records of one unit. `progress` receives the number of file bytes consumed.
pub fn open_unit(
    file: &InputFile,
    unit: &WorkUnit,
    opts: &ReadOptions,
    progress: Arc<AtomicU64>,
) -> Result<Box<dyn RecordReader>> {
    match file.format {
        Format::Parquet => crate::parquet::open(file, unit, opts, progress),
        Format::Jsonl => {
            let mut f = File::open(&file.path).map_err(|e| IoError::io(&file.path, e))?;
            let (mut dec_limit, mut skip_first) = (None, false);
            let (limit, first_line) = match unit.span {
                Span::Bytes {
                    start,
                    end,
                    first_line,
                } => {
                    f.seek(SeekFrom::Start(start))
                        .map_err(|e| IoError::io(&file.path, e))?;
                    (Some(end - start), first_line)
                }
                Span::Frames {
                    start,
                    dec_len,
                    first_line,
                    skip_first: skip,
                } => {
                    f.seek(SeekFrom::Start(start))
                        .map_err(|e| IoError::io(&file.path, e))?;
                    dec_limit = Some(dec_len);
                    skip_first = skip;
                    (None, first_line)
                }
                _ => (None, 1),
            };
            let counted = Counting {
                inner: f,
                counter: progress,
            };
            let inner: Box<dyn BufRead + Send> = match file.compression {
                Compression::None => Box::new(BufReader::with_capacity(
                    1 << 18,
                    counted.take(limit.unwrap_or(u64::MAX)),
                )),
                Compression::Gzip => Box::new(BufReader::with_capacity(
                    1 << 18,
                    flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 16, counted)),
                )),
                Compression::Zstd => {
                    let d = zstd::stream::read::Decoder::new(counted)
                        .map_err(|e| IoError::io(&file.path, e))?;
                    Box::new(BufReader::with_capacity(1 << 18, d))
                }
            };
            Ok(Box::new(JsonlReader {
                inner,
                file: file.clone(),
                line: first_line,
                opts: opts.clone(),
                buf: Vec::with_capacity(1 << 16),
                dec_pos: 0,
                dec_limit,
                skip_first,
                repaired: 0,
            }))
        }
    }
}

struct JsonlReader {
    inner: Box<dyn BufRead + Send>,
    file: InputFile,
    line: u64,
    opts: ReadOptions,
    buf: Vec<u8>,
    /// Decompressed bytes consumed so far.
    dec_pos: u64,
    /// Lines starting at or after this decompressed offset belong to the next unit.
    dec_limit: Option<u64>,
    /// Discard the tail of a line begun in the previous unit before the first record.
    skip_first: bool,
    repaired: u64,
}

const RAW_KEEP: usize = 4096;

impl JsonlReader {
    fn err(&self, e: std::io::Error) -> IoError {
        match self.file.compression {
            Compression::None => IoError::io(&self.file.path, e),
            c => IoError::Corrupt {
                path: self.file.path.clone(),
                codec: if c == Compression::Gzip {
                    "gzip"
                } else {
                    "zstd"
                },
                line: self.line.saturating_sub(1),
                message: e.to_string(),
            },
        }
    }

    /// Reads one line into `buf` (without its newline), keeping at most `max + 1` bytes.
    /// Returns the bytes consumed (0 at end of input).
    fn read_line(&mut self, max: usize) -> Result<usize> {
        self.buf.clear();
        let mut consumed = 0usize;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.err(e)),
            };
            if chunk.is_empty() {
                return Ok(consumed);
            }
            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            let room = (max + 1).saturating_sub(self.buf.len());
            let body = if done { take - 1 } else { take };
            self.buf.extend_from_slice(&chunk[..body.min(room)]);
            self.inner.consume(take);
            consumed += take;
            if done {
                return Ok(consumed);
            }
        }
    }
}

impl RecordReader for JsonlReader {
    fn repaired(&self) -> u64 {
        self.repaired
    }

    fn next_record(&mut self) -> Result<Option<Record>> {
        let max = self.opts.max_line_bytes;
        if self.skip_first {
            self.skip_first = false;
            self.dec_pos += self.read_line(0)? as u64;
        }
        if self.dec_limit.is_some_and(|lim| self.dec_pos >= lim) {
            return Ok(None);
        }
        let n = self.read_line(max)?;
        self.dec_pos += n as u64;
        if n == 0 {
            return Ok(None);
        }
        let line_no = self.line;
        self.line += 1;
        let location = || format!("{}:{line_no}", self.file.label);
        if self.buf.len() > max {
            return Ok(Some(Record::Bad(BadRecord {
                location: location(),
                reason: "line_too_long",
                message: format!("line of {n} bytes exceeds max_line_bytes = {max}"),
                raw: String::from_utf8_lossy(&self.buf[..RAW_KEEP.min(self.buf.len())])
                    .into_owned(),
                raw_bytes: None,
                bytes: n as u64,
            })));
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        // A UTF-8 byte-order mark opening the file (Windows tools write one) is not part of
        // the first record.
        if line_no == 1 && self.buf.starts_with(b"\xEF\xBB\xBF") {
            self.buf.drain(..3);
        }
        if self.buf.iter().all(u8::is_ascii_whitespace) {
            return Ok(Some(Record::Blank));
        }
        let bytes = std::mem::take(&mut self.buf);
        let (text, exact) = match String::from_utf8(bytes) {
            Ok(t) => (t, None),
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let bytes = e.into_bytes();
                let lossy = String::from_utf8_lossy(&bytes).into_owned();
                if !self.opts.replace_invalid_utf8 {
                    let rec = BadRecord {
                        location: location(),
                        reason: "invalid_utf8",
                        message: format!("invalid UTF-8 at byte {at} of the line"),
                        raw: lossy,
                        raw_bytes: Some(bytes.clone()),
                        bytes: n as u64,
                    };
                    self.buf = bytes;
                    return Ok(Some(Record::Bad(rec)));
                }
                (lossy, Some(bytes))
            }
        };
        let label = &self.file.label;
        match Doc::from_json_or_line(text, &self.opts.names, || format!("{label}:{line_no}")) {
            Ok(doc) => {
                self.repaired += u64::from(exact.is_some());
                Ok(Some(Record::Doc(doc, n as u64)))
            }
            // The whole line goes to quarantine, so it can be mended and read again.
            Err((p, line)) => Ok(Some(Record::Bad(BadRecord {
                location: location(),
                reason: p.reason,
                message: p.message,
                raw: line,
                raw_bytes: exact,
                bytes: n as u64,
            }))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_order_mark_opening_the_file_is_ignored() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("bom.jsonl");
        std::fs::write(
            &p,
            "\u{feff}{\"id\":\"a\",\"text\":\"x\"}\n{\"id\":\"b\",\"text\":\"\u{feff}y\"}\n\u{feff}{}\n",
        )
        .unwrap();
        let recs = read_all(&p, 1 << 20, &ReadOptions::default()).unwrap();
        let s = summary(&recs);
        assert_eq!(s.len(), 3, "{s:?}");
        assert!(s[0].contains('a') && !s[0].starts_with("bad"), "{s:?}");
        assert!(s[1].contains('b') && !s[1].starts_with("bad"), "{s:?}");
        // Only the file's first line: a mark further on is data (here, invalid JSON).
        assert!(s[2].starts_with("bad"), "{s:?}");
    }
    use crate::plan::{describe, plan_file};
    use std::io::Write;

    fn read_all(
        path: &std::path::Path,
        unit_bytes: u64,
        opts: &ReadOptions,
    ) -> Result<Vec<Record>> {
        let f = describe(path.to_path_buf(), "in.jsonl".into(), None)?;
        let mut out = Vec::new();
        for u in plan_file(&f, 0, unit_bytes, "text")? {
            let mut r = open_unit(&f, &u, opts, Arc::default())?;
            while let Some(rec) = r.next_record()? {
                out.push(rec);
            }
        }
        Ok(out)
    }

    fn summary(recs: &[Record]) -> Vec<String> {
        recs.iter()
            .map(|r| match r {
                Record::Doc(d, _) => format!("doc {}", d.id()),
                Record::Bad(b) => format!("bad {} {}", b.location, b.reason),
                Record::Blank => "blank".into(),
            })
            .collect()
    }

    const MIXED: &[u8] = b"{\"text\":\"a\"}\n\
        not json\n\
        \n\
        {\"text\":5}\n\
        {\"id\":\"x\",\"text\":\"b\"}\r\n\
        {\"text\":\"\xff\"}\n\
        {\"text\":\"last\"}";

    #[test]
    fn per_record_problems_are_located() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("in.jsonl");
        std::fs::write(&p, MIXED).unwrap();
        let expect = [
            "doc in.jsonl:1",
            "bad in.jsonl:2 invalid_json",
            "blank",
            "bad in.jsonl:4 text_not_string",
            "doc x",
            "bad in.jsonl:6 invalid_utf8",
            "doc in.jsonl:7",
        ];
        // Same records whatever the unit size.
        for unit in [1, 5, 20, 1 << 20] {
            let recs = read_all(&p, unit, &ReadOptions::default()).unwrap();
            assert_eq!(summary(&recs), expect, "unit {unit}");
        }
    }

    #[test]
    fn invalid_utf8_keeps_its_exact_bytes_or_is_repaired() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("in.jsonl");
        std::fs::write(&p, MIXED).unwrap();
        let recs = read_all(&p, 1 << 20, &ReadOptions::default()).unwrap();
        let Record::Bad(b) = &recs[5] else {
            panic!("{:?}", summary(&recs))
        };
        assert_eq!(b.raw_bytes.as_deref(), Some(&b"{\"text\":\"\xff\"}"[..]));
        assert!(b.raw.contains('\u{fffd}'));
        // Repaired: read as a document, counted.
        let opts = ReadOptions {
            replace_invalid_utf8: true,
            ..Default::default()
        };
        let f = describe(p.clone(), "in.jsonl".into(), None).unwrap();
        let u = &plan_file(&f, 0, 1 << 20, "text").unwrap()[0];
        let mut r = open_unit(&f, u, &opts, Arc::default()).unwrap();
        let mut got = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            got.push(rec);
        }
        assert_eq!(summary(&got)[5], "doc in.jsonl:6");
        let Record::Doc(doc, _) = &got[5] else {
            unreachable!()
        };
        assert_eq!(doc.text(), "\u{fffd}");
        assert_eq!(r.repaired(), 1);
    }

    #[test]
    fn compressed_inputs_read_the_same() {
        let d = tempfile::tempdir().unwrap();
        let gz = d.path().join("in.jsonl.gz");
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(MIXED).unwrap();
        std::fs::write(&gz, e.finish().unwrap()).unwrap();
        let zs = d.path().join("in.jsonl.zst");
        std::fs::write(&zs, zstd::encode_all(MIXED, 3).unwrap()).unwrap();
        let plain = d.path().join("in.jsonl");
        std::fs::write(&plain, MIXED).unwrap();
        let want = summary(&read_all(&plain, 1 << 20, &ReadOptions::default()).unwrap());
        for p in [&gz, &zs] {
            let got = summary(&read_all(p, 1 << 20, &ReadOptions::default()).unwrap());
            assert_eq!(got, want);
        }
    }

    #[test]
    fn truncated_streams_are_file_errors() {
        let body: Vec<u8> = (0..2000)
            .flat_map(|i| {
                format!("{{\"text\":\"document number {i} with some words\"}}\n").into_bytes()
            })
            .collect();
        let d = tempfile::tempdir().unwrap();
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&body).unwrap();
        let gz = e.finish().unwrap();
        let zs = zstd::encode_all(&body[..], 3).unwrap();
        for (name, data) in [("t.jsonl.gz", gz), ("t.jsonl.zst", zs)] {
            let p = d.path().join(name);
            std::fs::write(&p, &data[..data.len() * 2 / 3]).unwrap();
            let err = read_all(&p, 1 << 20, &ReadOptions::default()).unwrap_err();
            let msg = err.to_string();
            assert!(
                matches!(err, IoError::Corrupt { .. } | IoError::Malformed { .. }),
                "{name}: {msg}"
            );
            assert!(msg.contains(name) && msg.contains("truncated"), "{msg}");
            if name.ends_with(".gz") {
                assert!(msg.contains("after line"), "{msg}");
            }
        }
    }

    #[test]
    fn long_lines_are_quarantined_without_buffering() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("in.jsonl");
        let long = format!("{{\"text\":\"{}\"}}\n", "y".repeat(100_000));
        std::fs::write(
            &p,
            format!("{{\"text\":\"a\"}}\n{long}{{\"text\":\"b\"}}\n"),
        )
        .unwrap();
        let opts = ReadOptions {
            max_line_bytes: 1000,
            ..Default::default()
        };
        let recs = read_all(&p, 1 << 20, &opts).unwrap();
        assert_eq!(
            summary(&recs),
            [
                "doc in.jsonl:1",
                "bad in.jsonl:2 line_too_long",
                "doc in.jsonl:3"
            ]
        );
        let Record::Bad(b) = &recs[1] else { panic!() };
        assert!(b.raw.len() <= RAW_KEEP);
        assert_eq!(b.bytes, long.len() as u64);
    }
}
