//! Input formats and compression codecs. The codec is read from the file's magic bytes, not
//! its name; the format from the name (`.parquet` / `.pq`) unless the pipeline says otherwise.

use crate::error::{IoError, Result};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// A record format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// JSON Lines: one JSON object per line.
    Jsonl,
    /// Apache Parquet with a string text column.
    Parquet,
}

/// A compression codec for JSONL files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Uncompressed.
    None,
    /// gzip (multi-member streams are read to the end).
    Gzip,
    /// Zstandard (multi-frame streams are read to the end).
    Zstd,
}

impl Compression {
    /// The file-name suffix used when writing (`""`, `".gz"`, `".zst"`).
    pub fn suffix(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Gzip => ".gz",
            Compression::Zstd => ".zst",
        }
    }
}

impl Format {
    /// The format a file name implies.
    pub fn from_path(path: &Path) -> Format {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if name.ends_with(".parquet") || name.ends_with(".pq") {
            Format::Parquet
        } else {
            Format::Jsonl
        }
    }
}

/// Reads the first bytes of `path` to find its codec.
pub fn sniff_compression(path: &Path) -> Result<Compression> {
    let mut f = File::open(path).map_err(|e| IoError::io(path, e))?;
    let mut magic = [0u8; 4];
    let mut n = 0;
    while n < 4 {
        match f.read(&mut magic[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(IoError::io(path, e)),
        }
    }
    Ok(match &magic[..n] {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [0x28, 0xb5, 0x2f, 0xfd] => Compression::Zstd,
        // A zstd skippable frame first (`pzstd` writes one before every frame).
        [m, 0x2a, 0x4d, 0x18] if m & 0xf0 == 0x50 => Compression::Zstd,
        _ => Compression::None,
    })
}

/// True if a file name looks like an input record file (used when a directory is given).
pub fn is_data_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    [
        ".jsonl",
        ".json",
        ".ndjson",
        ".jsonl.gz",
        ".json.gz",
        ".ndjson.gz",
        ".jsonl.zst",
        ".json.zst",
        ".ndjson.zst",
        ".jsonl.zstd",
        ".parquet",
        ".pq",
    ]
    .iter()
    .any(|s| name.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_names() {
        assert_eq!(Format::from_path(Path::new("a/b.parquet")), Format::Parquet);
        assert_eq!(Format::from_path(Path::new("a/b.jsonl.zst")), Format::Jsonl);
        assert!(is_data_file(Path::new("x.JSONL.GZ")));
        assert!(!is_data_file(Path::new("x.txt")));
    }

    #[test]
    fn sniffs_magic() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x");
        std::fs::write(&p, [0x28, 0xb5, 0x2f, 0xfd, 0]).unwrap();
        assert_eq!(sniff_compression(&p).unwrap(), Compression::Zstd);
        std::fs::write(&p, [0x1f, 0x8b]).unwrap();
        assert_eq!(sniff_compression(&p).unwrap(), Compression::Gzip);
        std::fs::write(&p, b"{}").unwrap();
        assert_eq!(sniff_compression(&p).unwrap(), Compression::None);
        std::fs::write(&p, b"").unwrap();
        assert_eq!(sniff_compression(&p).unwrap(), Compression::None);
    }
}
