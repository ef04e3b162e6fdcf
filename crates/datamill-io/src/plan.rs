//! Work units: the deterministic slices of the input that workers process independently.
//!
//! A plain JSONL file is cut into byte ranges of about `unit_bytes`, each starting at a line
//! start, with the number of the range's first line counted once at planning time (so ids
//! and error messages can say `file:line`). A Parquet file is cut into groups of row groups.
//! A compressed JSONL stream is one unit. Units are numbered in input order; their
//! boundaries depend only on the files and `unit_bytes`, never on the worker count.

use crate::error::{IoError, Result};
use crate::format::{Compression, Format, sniff_compression};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;

/// One input file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    /// Where it is.
    pub path: PathBuf,
    /// How it is named in ids and messages (the path relative to the pipeline file's folder).
    pub label: String,
    /// Its record format.
    pub format: Format,
    /// Its codec (JSONL only).
    pub compression: Compression,
    /// Its size in bytes.
    pub size: u64,
    /// Its modification time (seconds since the epoch), to detect changed inputs on resume.
    pub mtime: u64,
}

/// Which part of a file a unit covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Span {
    /// The whole (compressed) stream.
    Whole,
    /// Bytes `start..end` of an uncompressed JSONL file; `first_line` is 1-based.
    Bytes {
        /// First byte (a line start).
        start: u64,
        /// One past the last byte (a line start or the end of the file).
        end: u64,
        /// Number of the first line, counting from 1.
        first_line: u64,
    },
    /// Frames of a multi-frame zstd file, from compressed byte `start` on: the unit owns the
    /// lines starting in the first `dec_len` decompressed bytes.
    Frames {
        /// Compressed offset of the unit's first frame.
        start: u64,
        /// Decompressed bytes in the unit's frames.
        dec_len: u64,
        /// Number of the first line starting in the unit, counting from 1.
        first_line: u64,
        /// The first frame starts inside a line begun in the previous unit.
        skip_first: bool,
    },
    /// Row groups `start..end` of a Parquet file; `first_row` counts from 0.
    RowGroups {
        /// First row group.
        start: usize,
        /// One past the last row group.
        end: usize,
        /// Index of the first row in the file.
        first_row: u64,
    },
}

/// A slice of the input processed by one worker at a time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkUnit {
    /// Position in input order, from 0; names the unit's outputs.
    pub index: u32,
    /// Index of the file in the input list.
    pub file: u32,
    /// The part of the file.
    pub span: Span,
    /// Bytes of the file this unit reads (for scheduling and progress).
    pub size: u64,
}

/// Describes `path` (format, codec, size) for planning.
pub fn describe(path: PathBuf, label: String, format: Option<Format>) -> Result<InputFile> {
    let meta = std::fs::metadata(&path).map_err(|e| IoError::io(&path, e))?;
    let format = format.unwrap_or_else(|| Format::from_path(&path));
    let compression = match format {
        Format::Jsonl => sniff_compression(&path)?,
        Format::Parquet => Compression::None,
    };
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Ok(InputFile {
        path,
        label,
        format,
        compression,
        size: meta.len(),
        mtime,
    })
}

/// Plans the units of one file (numbered from 0; the caller renumbers them globally).
///
/// For Parquet this reads the footer and checks that `text_field` is a string column, so a
/// broken file is reported before anything is written.
pub fn plan_file(
    file: &InputFile,
    file_index: u32,
    unit_bytes: u64,
    text_field: &str,
) -> Result<Vec<WorkUnit>> {
    let unit_bytes = unit_bytes.max(1);
    let spans: Vec<(Span, u64)> = match (file.format, file.compression) {
        (Format::Jsonl, Compression::None) => split_lines(file, unit_bytes)?,
        (Format::Jsonl, Compression::Zstd) => crate::zstd_frames::plan(file, unit_bytes)?,
        (Format::Jsonl, _) => vec![(Span::Whole, file.size)],
        (Format::Parquet, _) => crate::parquet::plan(file, unit_bytes, text_field)?,
    };
    Ok(spans
        .into_iter()
        .map(|(span, size)| WorkUnit {
            index: 0,
            file: file_index,
            span,
            size,
        })
        .collect())
}

/// Cuts a plain file into ranges of about `unit_bytes` ending at line ends, counting lines.
fn split_lines(file: &InputFile, unit_bytes: u64) -> Result<Vec<(Span, u64)>> {
    if file.size <= unit_bytes {
        return Ok(vec![(
            Span::Bytes {
                start: 0,
                end: file.size,
                first_line: 1,
            },
            file.size,
        )]);
    }
    let mut f = File::open(&file.path).map_err(|e| IoError::io(&file.path, e))?;
    let mut buf = vec![0u8; 1 << 20];
    let mut out = Vec::new();
    let (mut start, mut first_line) = (0u64, 1u64);
    let mut lines = 0u64; // newlines seen before the cursor
    let mut pos = 0u64; // file offset of buf[0]
    let mut target = unit_bytes; // cut at the first line end at or after this offset
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(IoError::io(&file.path, e)),
        };
        let chunk = &buf[..n];
        let mut i = 0usize;
        while i < n {
            let abs = pos + i as u64;
            if abs < target {
                let stop = n.min(i + (target - abs) as usize);
                lines += memchr::memchr_iter(b'\n', &chunk[i..stop]).count() as u64;
                i = stop;
                continue;
            }
            match memchr::memchr(b'\n', &chunk[i..]) {
                Some(k) => {
                    let end = pos + (i + k + 1) as u64;
                    lines += 1;
                    out.push((
                        Span::Bytes {
                            start,
                            end,
                            first_line,
                        },
                        end - start,
                    ));
                    start = end;
                    first_line = lines + 1;
                    target = end + unit_bytes;
                    i += k + 1;
                }
                None => i = n,
            }
        }
        pos += n as u64;
    }
    if start < pos {
        out.push((
            Span::Bytes {
                start,
                end: pos,
                first_line,
            },
            pos - start,
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_text(text: &str, unit: u64) -> Vec<Span> {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.jsonl");
        std::fs::write(&p, text).unwrap();
        let f = describe(p, "a.jsonl".into(), None).unwrap();
        plan_file(&f, 0, unit, "text")
            .unwrap()
            .into_iter()
            .map(|u| u.span)
            .collect()
    }

    #[test]
    fn ranges_end_at_line_ends_and_count_lines() {
        let text = "aaaa\nbb\ncccccc\nd\n";
        let spans = plan_text(text, 3);
        // Every range starts at a line start; the ranges tile the file.
        let mut expect_start = 0;
        let mut lines_seen = 1;
        for s in &spans {
            let Span::Bytes {
                start,
                end,
                first_line,
            } = s.clone()
            else {
                panic!()
            };
            assert_eq!(start, expect_start);
            assert_eq!(first_line, lines_seen);
            assert!(start == 0 || text.as_bytes()[start as usize - 1] == b'\n');
            lines_seen += text[start as usize..end as usize].matches('\n').count() as u64;
            expect_start = end;
        }
        assert_eq!(expect_start, text.len() as u64);
    }

    #[test]
    fn ranges_on_many_sizes() {
        let text: String = (0..500)
            .map(|i| format!("{}\n", "x".repeat(i % 37)))
            .collect();
        for unit in [1, 2, 7, 64, 100, 1000, 100_000] {
            let spans = plan_text(&text, unit);
            let mut expect = 0;
            let mut line = 1;
            for s in &spans {
                let Span::Bytes {
                    start,
                    end,
                    first_line,
                } = s.clone()
                else {
                    panic!()
                };
                assert_eq!((start, first_line), (expect, line), "unit {unit}");
                line += text[start as usize..end as usize].matches('\n').count() as u64;
                expect = end;
            }
            assert_eq!(expect, text.len() as u64);
        }
    }

    #[test]
    fn no_trailing_newline() {
        let spans = plan_text("ab\ncd", 1);
        assert_eq!(
            spans,
            [
                Span::Bytes {
                    start: 0,
                    end: 3,
                    first_line: 1
                },
                Span::Bytes {
                    start: 3,
                    end: 5,
                    first_line: 2
                }
            ]
        );
    }
}
