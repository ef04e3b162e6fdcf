//! Splitting multi-frame Zstandard streams into work units.
//!
//! A `.zst` file written as a sequence of independent frames (`zstd --block-size`, `pzstd`,
//! the seekable format, or simply concatenated shards) can be decompressed from any frame
//! start. Frame boundaries are found by walking frame and block headers (a few bytes read per
//! 128 KiB block); one decompression pass then counts each frame's lines, so units keep exact
//! `file:line` locations. Lines may cross frame boundaries: a unit owns the lines that *start*
//! in its frames, skips the tail of a line begun in the previous unit, and reads on into the
//! next frames to finish its last line — the same rule as byte ranges of plain files.

use crate::error::{IoError, Result};
use crate::plan::{InputFile, Span};
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

const MAGIC: u32 = 0xFD2F_B528;

fn corrupt(path: &Path, at: u64, message: impl Into<String>) -> IoError {
    IoError::Malformed {
        path: path.to_path_buf(),
        codec: "zstd",
        message: format!("at byte {at}: {}", message.into()),
    }
}

/// Byte ranges `(offset, length)` of the data frames of a zstd file (skippable frames are
/// left out). Fails on a truncated or malformed header.
pub fn frames(path: &Path) -> Result<Vec<(u64, u64)>> {
    let f = File::open(path).map_err(|e| IoError::io(path, e))?;
    let size = f.metadata().map_err(|e| IoError::io(path, e))?.len();
    let mut r = BufReader::with_capacity(1 << 16, f);
    let mut pos = 0u64;
    let mut out = Vec::new();
    let read = |r: &mut BufReader<File>, buf: &mut [u8], pos: &mut u64| -> Result<()> {
        r.read_exact(buf)
            .map_err(|_| corrupt(path, *pos, "truncated frame header"))?;
        *pos += buf.len() as u64;
        Ok(())
    };
    while pos < size {
        let start = pos;
        let mut b4 = [0u8; 4];
        read(&mut r, &mut b4, &mut pos)?;
        let magic = u32::from_le_bytes(b4);
        if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
            read(&mut r, &mut b4, &mut pos)?;
            let n = u32::from_le_bytes(b4) as u64;
            if pos + n > size {
                return Err(corrupt(path, pos, "truncated skippable frame"));
            }
            r.seek_relative(n as i64)
                .map_err(|e| IoError::io(path, e))?;
            pos += n;
            continue;
        }
        if magic != MAGIC {
            return Err(corrupt(path, start, "not a zstd frame"));
        }
        let mut fhd = [0u8; 1];
        read(&mut r, &mut fhd, &mut pos)?;
        let fhd = fhd[0];
        let single = (fhd >> 5) & 1 == 1;
        let checksum = (fhd >> 2) & 1 == 1;
        let dict = [0u64, 1, 2, 4][(fhd & 3) as usize];
        let fcs = match fhd >> 6 {
            0 => u64::from(single),
            1 => 2,
            2 => 4,
            _ => 8,
        };
        let skip = u64::from(!single) + dict + fcs;
        r.seek_relative(skip as i64)
            .map_err(|e| IoError::io(path, e))?;
        pos += skip;
        loop {
            let mut h = [0u8; 3];
            read(&mut r, &mut h, &mut pos)?;
            let h = u32::from(h[0]) | u32::from(h[1]) << 8 | u32::from(h[2]) << 16;
            let last = h & 1 == 1;
            let n = match (h >> 1) & 3 {
                0 | 2 => u64::from(h >> 3),
                1 => 1,
                _ => return Err(corrupt(path, pos - 3, "reserved block type")),
            };
            if pos + n > size {
                return Err(corrupt(path, pos, "truncated block"));
            }
            r.seek_relative(n as i64)
                .map_err(|e| IoError::io(path, e))?;
            pos += n;
            if last {
                break;
            }
        }
        if checksum {
            if pos + 4 > size {
                return Err(corrupt(path, pos, "truncated checksum"));
            }
            r.seek_relative(4).map_err(|e| IoError::io(path, e))?;
            pos += 4;
        }
        out.push((start, pos - start));
    }
    Ok(out)
}

/// What one decompression pass learns about a frame.
struct FrameFacts {
    offset: u64,
    len: u64,
    dec_len: u64,
    newlines: u64,
    ends_with_newline: bool,
}

fn scan(path: &Path, offset: u64, len: u64) -> Result<FrameFacts> {
    let mut f = File::open(path).map_err(|e| IoError::io(path, e))?;
    f.seek(SeekFrom::Start(offset))
        .map_err(|e| IoError::io(path, e))?;
    let mut d = zstd::stream::read::Decoder::new(f.take(len)).map_err(|e| IoError::io(path, e))?;
    let mut buf = vec![0u8; 1 << 17];
    let (mut dec_len, mut newlines, mut last) = (0u64, 0u64, b'\n');
    loop {
        let n = match d.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(corrupt(path, offset, e.to_string())),
        };
        dec_len += n as u64;
        newlines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        last = buf[n - 1];
    }
    Ok(FrameFacts {
        offset,
        len,
        dec_len,
        newlines,
        ends_with_newline: last == b'\n',
    })
}

/// Plans a zstd file: one unit if it has a single frame, otherwise groups of frames of about
/// `unit_bytes` decompressed bytes.
pub fn plan(file: &InputFile, unit_bytes: u64) -> Result<Vec<(Span, u64)>> {
    let fr = frames(&file.path)?;
    if fr.len() < 2 {
        return Ok(vec![(Span::Whole, file.size)]);
    }
    let facts = fr
        .iter()
        .map(|&(o, l)| scan(&file.path, o, l))
        .collect::<Result<Vec<_>>>()?;
    let mut out = Vec::new();
    let mut newlines_before = 0u64;
    let mut prev_ends_nl = true;
    let mut i = 0;
    while i < facts.len() {
        let first = &facts[i];
        let (start, skip_first) = (first.offset, !prev_ends_nl);
        let unit_newlines_before = newlines_before;
        let (mut size, mut dec_len) = (0u64, 0u64);
        // Units are measured in decompressed bytes, like byte ranges of plain files.
        while i < facts.len() && (size == 0 || dec_len < unit_bytes) {
            size += facts[i].len;
            dec_len += facts[i].dec_len;
            newlines_before += facts[i].newlines;
            if facts[i].dec_len > 0 {
                prev_ends_nl = facts[i].ends_with_newline;
            }
            i += 1;
        }
        out.push((
            Span::Frames {
                start,
                dec_len,
                first_line: unit_newlines_before + 1 + u64::from(skip_first),
                skip_first,
            },
            size,
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{describe, plan_file};
    use crate::read::{ReadOptions, Record, open_unit};
    use std::sync::Arc;

    /// Compresses `text` as independent frames of `chunk` bytes each (cutting mid-line).
    fn multi_frame(text: &[u8], chunk: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for c in text.chunks(chunk) {
            out.extend(zstd::encode_all(c, 3).unwrap());
        }
        // A skippable frame in the middle must be ignored.
        let mut skip = vec![0x50, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 1, 2, 3];
        skip.extend(zstd::encode_all(&b""[..], 1).unwrap());
        out.extend(skip);
        out
    }

    fn read_ids(path: &Path, unit_bytes: u64) -> (usize, Vec<String>) {
        let f = describe(path.to_path_buf(), "f.jsonl.zst".into(), None).unwrap();
        let units = plan_file(&f, 0, unit_bytes, "text").unwrap();
        let mut ids = Vec::new();
        for u in &units {
            let mut r = open_unit(&f, u, &ReadOptions::default(), Arc::default()).unwrap();
            while let Some(rec) = r.next_record().unwrap() {
                match rec {
                    Record::Doc(d, _) => ids.push(d.id().to_string()),
                    Record::Bad(b) => ids.push(format!("bad {}", b.location)),
                    Record::Blank => ids.push("blank".into()),
                }
            }
        }
        (units.len(), ids)
    }

    #[test]
    fn frames_split_into_units_with_exact_lines() {
        let mut text = String::new();
        for i in 0..3000 {
            if i % 97 == 0 {
                text.push_str("broken {\n");
            } else if i % 89 == 0 {
                text.push('\n');
            } else {
                text.push_str(&format!(
                    "{{\"text\":\"document {i} {}\"}}\n",
                    "w ".repeat(i % 40)
                ));
            }
        }
        let d = tempfile::tempdir().unwrap();
        let single = d.path().join("one.jsonl.zst");
        std::fs::write(&single, zstd::encode_all(text.as_bytes(), 3).unwrap()).unwrap();
        let (n, want) = read_ids(&single, 1);
        assert_eq!(n, 1);
        for chunk in [7, 100, 4096, 50_000] {
            let p = d.path().join(format!("multi{chunk}.jsonl.zst"));
            std::fs::write(&p, multi_frame(text.as_bytes(), chunk)).unwrap();
            assert!(frames(&p).unwrap().len() >= 2);
            for unit in [1, 500, 10_000, 1 << 30] {
                let (n, got) = read_ids(&p, unit);
                assert_eq!(got, want, "chunk {chunk} unit {unit} ({n} units)");
                if unit == 1 {
                    assert!(n > 1);
                }
            }
        }
    }

    /// `pzstd` output: a skippable frame (holding the next frame's size) before every frame,
    /// so the file starts with a skippable frame, not the zstd magic.
    #[test]
    fn pzstd_files_are_zstd_and_split() {
        let text: String = (0..2000)
            .map(|i| format!("{{\"text\":\"doc {i} {}\"}}\n", "x ".repeat(i % 30)))
            .collect();
        let d = tempfile::tempdir().unwrap();
        let single = d.path().join("one.jsonl.zst");
        std::fs::write(&single, zstd::encode_all(text.as_bytes(), 3).unwrap()).unwrap();
        let (_, want) = read_ids(&single, 1 << 30);
        let mut body = Vec::new();
        for c in text.as_bytes().chunks(5000) {
            let frame = zstd::encode_all(c, 3).unwrap();
            body.extend([0x50, 0x2A, 0x4D, 0x18, 4, 0, 0, 0]);
            body.extend((frame.len() as u32).to_le_bytes());
            body.extend(frame);
        }
        let p = d.path().join("p.jsonl.zst");
        std::fs::write(&p, body).unwrap();
        let f = describe(p.clone(), "p".into(), None).unwrap();
        assert_eq!(f.compression, crate::Compression::Zstd);
        let (n, got) = read_ids(&p, 10_000);
        assert!(n > 1, "{n} units");
        assert_eq!(got, want);
    }

    #[test]
    fn truncated_headers_are_errors() {
        let d = tempfile::tempdir().unwrap();
        let body = multi_frame(b"{\"text\":\"a\"}\n{\"text\":\"b\"}\n", 5);
        for cut in 1..body.len() - 1 {
            let p = d.path().join("t.zst");
            std::fs::write(&p, &body[..cut]).unwrap();
            // Either a clean error, or (cut at a frame boundary) a shorter valid stream.
            let _ = frames(&p);
        }
        let p = d.path().join("bad.zst");
        std::fs::write(&p, b"\x28\xb5\x2f\xfd\xff\xff").unwrap();
        assert!(frames(&p).is_err());
    }
}
