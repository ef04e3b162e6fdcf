//! Writing shards: each shard is written under a temporary name (`*.tmp`) and renamed when
//! complete, so a reader never sees a half-written shard and a crashed run leaves only
//! temporary files, which the next run removes.

use crate::error::{IoError, Result};
use crate::format::{Compression, Format};
use crate::schema::Fields;
use datamill_core::Doc;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// How shards are written.
#[derive(Clone, Debug)]
pub struct WriteOptions {
    /// Record format.
    pub format: Format,
    /// Codec (for Parquet: the column compression).
    pub compression: Compression,
    /// Codec level (zstd 1–22, gzip 0–9).
    pub level: i32,
    /// A shard is closed once this many uncompressed record bytes were written to it.
    pub max_shard_bytes: u64,
    /// For Parquet output: the input's schema, which types the columns whose values fit it.
    #[cfg(feature = "parquet")]
    pub schema_hint: Option<arrow_schema::SchemaRef>,
    /// Record the fields and types of every shard ([`WriteStats::shards`]), for the run-wide
    /// schema.
    pub track_schema: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            format: Format::Jsonl,
            compression: Compression::Zstd,
            level: 3,
            max_shard_bytes: 256 << 20,
            #[cfg(feature = "parquet")]
            schema_hint: None,
            track_schema: false,
        }
    }
}

impl WriteOptions {
    /// The file-name extension of shards, e.g. `.jsonl.zst` or `.parquet`.
    pub fn extension(&self) -> String {
        match self.format {
            Format::Jsonl => format!(".jsonl{}", self.compression.suffix()),
            Format::Parquet => ".parquet".into(),
        }
    }
}

/// What a writer wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteStats {
    /// Documents written.
    pub docs: u64,
    /// Uncompressed JSON bytes of those documents (newlines included).
    pub bytes: u64,
    /// Shard files completed.
    pub files: u64,
    /// Bytes of those files on disk.
    pub file_bytes: u64,
    /// Each shard written, with its fields (when [`WriteOptions::track_schema`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<ShardInfo>,
}

/// One shard a writer completed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// Its file name (in the writer's folder).
    pub name: String,
    /// Uncompressed JSON bytes of its documents (for Parquet: of the documents given to it,
    /// rows a schema change moved to the next shard included).
    pub bytes: u64,
    /// Its size on disk.
    pub file_bytes: u64,
    /// Its documents' fields (for Parquet, as for `bytes`).
    pub fields: Fields,
}

enum Enc {
    Plain(BufWriter<File>),
    Gzip(flate2::write::GzEncoder<BufWriter<File>>),
    Zstd(zstd::stream::write::Encoder<'static, BufWriter<File>>),
}

impl Enc {
    fn writer(&mut self) -> &mut dyn Write {
        match self {
            Enc::Plain(w) => w,
            Enc::Gzip(w) => w,
            Enc::Zstd(w) => w,
        }
    }

    fn finish(self) -> std::io::Result<File> {
        let bw = match self {
            Enc::Plain(w) => w,
            Enc::Gzip(w) => w.finish()?,
            Enc::Zstd(w) => w.finish()?,
        };
        bw.into_inner().map_err(|e| e.into_error())
    }
}

#[allow(clippy::large_enum_variant)] // one per open shard
enum Part {
    Jsonl(Enc),
    #[cfg(feature = "parquet")]
    Parquet(Box<crate::parquet::ParquetPart>),
}

struct Open {
    part: Part,
    tmp: PathBuf,
    dest: PathBuf,
    bytes: u64,
    fields: Fields,
}

/// Writes the documents of one work unit to `DIR/STEM-NNN.EXT` shards (NNN counts from
/// 000), rolling to a new shard after `max_shard_bytes`. No file is created until the first
/// document arrives.
pub struct ShardWriter {
    dir: PathBuf,
    stem: String,
    opts: WriteOptions,
    next_part: u32,
    open: Option<Open>,
    stats: WriteStats,
    line: Vec<u8>,
}

impl ShardWriter {
    /// A writer for shards named after `stem` in `dir` (created if missing).
    pub fn new(dir: &Path, stem: &str, opts: WriteOptions) -> ShardWriter {
        ShardWriter {
            dir: dir.to_path_buf(),
            stem: stem.to_string(),
            opts,
            next_part: 0,
            open: None,
            stats: WriteStats::default(),
            line: Vec::with_capacity(1 << 16),
        }
    }

    /// Removes shards and temporary files a previous, interrupted attempt at this unit left.
    pub fn clean(dir: &Path, stem: &str) -> Result<()> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(());
        };
        let prefix = format!("{stem}-");
        for e in entries {
            let e = e.map_err(|e| IoError::io(dir, e))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(&prefix) && e.path().is_file() {
                std::fs::remove_file(e.path()).map_err(|err| IoError::io(e.path(), err))?;
            }
        }
        Ok(())
    }

    fn start_part(&mut self) -> Result<()> {
        std::fs::create_dir_all(&self.dir).map_err(|e| IoError::io(&self.dir, e))?;
        let name = format!(
            "{}-{:03}{}",
            self.stem,
            self.next_part,
            self.opts.extension()
        );
        self.next_part += 1;
        let dest = self.dir.join(&name);
        let tmp = self.dir.join(format!("{name}.tmp"));
        let part = match self.opts.format {
            Format::Jsonl => Part::Jsonl(encoder(&tmp, self.opts.compression, self.opts.level)?),
            #[cfg(feature = "parquet")]
            Format::Parquet => Part::Parquet(Box::new(crate::parquet::ParquetPart::create(
                &tmp,
                self.opts.compression,
                self.opts.level,
                self.opts.schema_hint.clone(),
                None,
            )?)),
            #[cfg(not(feature = "parquet"))]
            Format::Parquet => {
                return Err(IoError::Unsupported {
                    path: dest,
                    message: "this datamill was built without the `parquet` feature".into(),
                });
            }
        };
        self.open = Some(Open {
            part,
            tmp,
            dest,
            bytes: 0,
            fields: Fields::default(),
        });
        Ok(())
    }

    /// Writes one document.
    pub fn write(&mut self, doc: &Doc) -> Result<()> {
        self.line.clear();
        doc.write_json(&mut self.line);
        if self.open.is_none() {
            self.start_part()?;
        }
        if self.opts.track_schema {
            let open = self.open.as_mut().expect("opened above");
            open.fields.observe(doc.raw_fields());
        }
        self.write_json_line_buf()
    }

    /// Writes one document already serialized as a JSON object (no newline).
    pub fn write_json(&mut self, json: &[u8]) -> Result<()> {
        self.line.clear();
        self.line.extend_from_slice(json);
        if self.open.is_none() {
            self.start_part()?;
        }
        if self.opts.track_schema {
            let open = self.open.as_mut().expect("opened above");
            open.fields.observe_line(json);
        }
        self.write_json_line_buf()
    }

    fn write_json_line_buf(&mut self) -> Result<()> {
        if self.open.is_none() {
            self.start_part()?;
        }
        let n = self.line.len() as u64 + 1;
        let open = self.open.as_mut().expect("opened above");
        match &mut open.part {
            Part::Jsonl(enc) => {
                self.line.push(b'\n');
                enc.writer()
                    .write_all(&self.line)
                    .map_err(|e| IoError::io(&open.tmp, e))?;
            }
            #[cfg(feature = "parquet")]
            Part::Parquet(p) => {
                if !p.write_line(&self.line)? {
                    self.roll_parquet()?;
                }
            }
        }
        self.stats.docs += 1;
        self.stats.bytes += n;
        let open = self.open.as_mut().expect("still open");
        open.bytes += n;
        if open.bytes >= self.opts.max_shard_bytes {
            self.close_part()?;
        }
        Ok(())
    }

    /// Buffered Parquet rows do not fit the part's schema: close the part with what it has
    /// and move the rows to a new part whose schema is inferred from them.
    #[cfg(feature = "parquet")]
    fn roll_parquet(&mut self) -> Result<()> {
        let open = self.open.take().expect("open part");
        let Part::Parquet(p) = open.part else {
            unreachable!("roll_parquet on a JSONL part")
        };
        let mut p = *p;
        let buf = p.take_buffer();
        p.close()?;
        self.commit(open.tmp, open.dest, open.bytes, open.fields.clone())?;
        self.start_part()?;
        if let Some(o) = &mut self.open {
            // The moved rows' fields (the old part's count them too: types are what matter
            // for Parquet parts).
            o.fields = open.fields;
        }
        let Some(Open {
            part: Part::Parquet(np),
            ..
        }) = &mut self.open
        else {
            unreachable!()
        };
        for line in buf.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            if !np.write_line(line)? {
                return Err(IoError::Parquet {
                    path: self.dir.clone(),
                    message: "documents do not fit any Parquet schema".into(),
                });
            }
        }
        Ok(())
    }

    fn commit(&mut self, tmp: PathBuf, dest: PathBuf, bytes: u64, fields: Fields) -> Result<()> {
        std::fs::rename(&tmp, &dest).map_err(|e| IoError::io(&dest, e))?;
        let file_bytes = std::fs::metadata(&dest)
            .map_err(|e| IoError::io(&dest, e))?
            .len();
        self.stats.files += 1;
        self.stats.file_bytes += file_bytes;
        if self.opts.track_schema {
            self.stats.shards.push(ShardInfo {
                name: dest
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
                bytes,
                file_bytes,
                fields,
            });
        }
        Ok(())
    }

    fn close_part(&mut self) -> Result<()> {
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        match open.part {
            Part::Jsonl(enc) => {
                let f = enc.finish().map_err(|e| IoError::io(&open.tmp, e))?;
                f.sync_all().map_err(|e| IoError::io(&open.tmp, e))?;
            }
            #[cfg(feature = "parquet")]
            Part::Parquet(p) => {
                if let Err((p, buf)) = (*p).finish()? {
                    p.close()?;
                    self.commit(open.tmp, open.dest, open.bytes, open.fields.clone())?;
                    self.start_part()?;
                    if let Some(o) = &mut self.open {
                        o.fields = open.fields;
                    }
                    for line in buf.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                        self.line.clear();
                        self.line.extend_from_slice(line);
                        let Some(Open {
                            part: Part::Parquet(np),
                            ..
                        }) = &mut self.open
                        else {
                            unreachable!()
                        };
                        np.write_line(&self.line)?;
                    }
                    return self.close_part();
                }
            }
        }
        self.commit(open.tmp, open.dest, open.bytes, open.fields)
    }

    /// Closes the last shard and returns what was written.
    pub fn finish(mut self) -> Result<WriteStats> {
        self.close_part()?;
        Ok(self.stats)
    }
}

fn encoder(tmp: &Path, compression: Compression, level: i32) -> Result<Enc> {
    let f = File::create(tmp).map_err(|e| IoError::io(tmp, e))?;
    let bw = BufWriter::with_capacity(1 << 17, f);
    Ok(match compression {
        Compression::None => Enc::Plain(bw),
        Compression::Gzip => Enc::Gzip(flate2::write::GzEncoder::new(
            bw,
            flate2::Compression::new(level.clamp(0, 9) as u32),
        )),
        Compression::Zstd => Enc::Zstd(
            zstd::stream::write::Encoder::new(bw, level).map_err(|e| IoError::io(tmp, e))?,
        ),
    })
}

/// Rewrites the JSONL shard at `path` (written with `compression` at `level`) line by line:
/// `f` returns a line's replacement, or `None` to keep it. The result is written under a
/// temporary name and renamed over the shard. Returns the uncompressed bytes (newlines
/// included) and the file bytes of the result.
pub fn rewrite_jsonl(
    path: &Path,
    compression: Compression,
    level: i32,
    mut f: impl FnMut(&[u8]) -> Result<Option<Vec<u8>>>,
) -> Result<(u64, u64)> {
    use std::io::BufRead;
    let file = File::open(path).map_err(|e| IoError::io(path, e))?;
    let buffered = std::io::BufReader::with_capacity(1 << 16, file);
    let mut reader: Box<dyn BufRead> = match compression {
        Compression::None => Box::new(buffered),
        Compression::Gzip => Box::new(std::io::BufReader::new(flate2::read::MultiGzDecoder::new(
            buffered,
        ))),
        Compression::Zstd => Box::new(std::io::BufReader::new(
            zstd::stream::read::Decoder::with_buffer(buffered).map_err(|e| IoError::io(path, e))?,
        )),
    };
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = path.with_file_name(format!("{name}.tmp"));
    let mut enc = encoder(&tmp, compression, level)?;
    let (mut line, mut bytes) = (Vec::new(), 0u64);
    loop {
        line.clear();
        if reader
            .read_until(b'\n', &mut line)
            .map_err(|e| IoError::io(path, e))?
            == 0
        {
            break;
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        let new = f(&line)?;
        let out = new.as_deref().unwrap_or(&line);
        let w = enc.writer();
        w.write_all(out)
            .and_then(|_| w.write_all(b"\n"))
            .map_err(|e| IoError::io(&tmp, e))?;
        bytes += out.len() as u64 + 1;
    }
    let file = enc.finish().map_err(|e| IoError::io(&tmp, e))?;
    file.sync_all().map_err(|e| IoError::io(&tmp, e))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(|e| IoError::io(path, e))?;
    let file_bytes = std::fs::metadata(path)
        .map_err(|e| IoError::io(path, e))?
        .len();
    Ok((bytes, file_bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{describe, plan_file};
    use crate::read::{ReadOptions, Record, open_unit};
    use datamill_core::FieldNames;
    use std::sync::Arc;

    fn docs(n: usize) -> Vec<Doc> {
        (0..n)
            .map(|i| {
                let line = format!(
                    r#"{{"id":"d{i}","text":"text {i}","n":{i},"f":1.50,"o":{{"a":[1,null]}},"z":null}}"#
                );
                Doc::from_json(line, &FieldNames::default(), || unreachable!()).unwrap()
            })
            .collect()
    }

    fn read_back(path: &Path) -> Vec<String> {
        let f = describe(path.to_path_buf(), "x".into(), None).unwrap();
        let mut out = Vec::new();
        for u in plan_file(&f, 0, 1 << 30, "text").unwrap() {
            let mut r = open_unit(&f, &u, &ReadOptions::default(), Arc::default()).unwrap();
            while let Some(rec) = r.next_record().unwrap() {
                let Record::Doc(d, _) = rec else { panic!() };
                let mut v = Vec::new();
                d.write_json(&mut v);
                out.push(String::from_utf8(v).unwrap());
            }
        }
        out
    }

    fn shards(dir: &Path) -> Vec<String> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn jsonl_codecs_round_trip_and_roll() {
        let ds = docs(50);
        for c in [Compression::None, Compression::Gzip, Compression::Zstd] {
            let d = tempfile::tempdir().unwrap();
            let opts = WriteOptions {
                compression: c,
                max_shard_bytes: 1000,
                ..Default::default()
            };
            let mut w = ShardWriter::new(d.path(), "00007", opts.clone());
            for doc in &ds {
                w.write(doc).unwrap();
            }
            let st = w.finish().unwrap();
            assert_eq!(st.docs, 50);
            let names = shards(d.path());
            assert!(names.len() > 1, "{names:?}");
            assert_eq!(st.files as usize, names.len());
            assert!(
                names
                    .iter()
                    .all(|n| n.starts_with("00007-") && n.ends_with(&opts.extension()))
            );
            let mut back = Vec::new();
            for n in &names {
                back.extend(read_back(&d.path().join(n)));
            }
            let want: Vec<String> = ds
                .iter()
                .map(|d| {
                    let mut v = Vec::new();
                    d.write_json(&mut v);
                    String::from_utf8(v).unwrap()
                })
                .collect();
            assert_eq!(back, want);
        }
    }

    #[test]
    fn nothing_written_means_no_file() {
        let d = tempfile::tempdir().unwrap();
        let w = ShardWriter::new(d.path(), "00000", WriteOptions::default());
        assert_eq!(w.finish().unwrap(), WriteStats::default());
        assert!(shards(d.path()).is_empty());
    }

    #[test]
    fn clean_removes_a_units_leftovers_only() {
        let d = tempfile::tempdir().unwrap();
        for n in [
            "00001-000.jsonl.zst",
            "00001-001.jsonl.zst.tmp",
            "00002-000.jsonl.zst",
        ] {
            std::fs::write(d.path().join(n), "").unwrap();
        }
        ShardWriter::clean(d.path(), "00001").unwrap();
        assert_eq!(shards(d.path()), ["00002-000.jsonl.zst"]);
    }

    #[cfg(feature = "parquet")]
    #[test]
    fn parquet_round_trip_keeps_values_and_order() {
        let ds = docs(30);
        let d = tempfile::tempdir().unwrap();
        let opts = WriteOptions {
            format: Format::Parquet,
            ..Default::default()
        };
        let mut w = ShardWriter::new(d.path(), "00000", opts);
        for doc in &ds {
            w.write(doc).unwrap();
        }
        w.finish().unwrap();
        let back = read_back(&d.path().join("00000-000.parquet"));
        assert_eq!(back.len(), 30);
        assert_eq!(
            back[3],
            r#"{"id":"d3","text":"text 3","n":3,"f":1.5,"o":{"a":[1,null]},"z":null}"#
        );
    }

    #[cfg(feature = "parquet")]
    #[test]
    fn parquet_schema_change_rolls_to_a_new_shard() {
        let d = tempfile::tempdir().unwrap();
        let opts = WriteOptions {
            format: Format::Parquet,
            ..Default::default()
        };
        let mut w = ShardWriter::new(d.path(), "00000", opts);
        let names = FieldNames::default();
        let mk = |l: &str| Doc::from_json(l.into(), &names, || unreachable!()).unwrap();
        w.write(&mk(r#"{"id":"a","text":"x","k":1}"#)).unwrap();
        w.write(&mk(r#"{"id":"b","text":"y","k":2}"#)).unwrap();
        if let Some(Open {
            part: Part::Parquet(p),
            ..
        }) = &mut w.open
        {
            p.row_group_rows = 2;
        }
        w.write(&mk(r#"{"id":"c","text":"z","k":3}"#)).unwrap();
        w.write(&mk(r#"{"id":"d","text":"w","k":"str","new":[1]}"#))
            .unwrap();
        let st = w.finish().unwrap();
        assert_eq!(st.docs, 4);
        let files = shards(d.path());
        let mut all = Vec::new();
        for f in &files {
            all.extend(read_back(&d.path().join(f)));
        }
        assert_eq!(all.len(), 4, "{files:?}");
        assert!(all[3].contains(r#""new":[1]"#), "{all:?}");
    }
}
