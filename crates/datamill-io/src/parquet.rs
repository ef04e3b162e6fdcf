//! Parquet input and output through arrow-rs.
//!
//! Rows are converted to JSON objects (arrow-json, nulls explicit) and then parsed like JSONL
//! lines, so every stage sees the same [`Doc`](datamill_core::Doc) whatever the input format,
//! and a row written back to Parquet with the input's schema comes out with the same values.

#[cfg(feature = "parquet")]
pub use imp::*;
#[cfg(not(feature = "parquet"))]
pub use stub::*;

#[cfg(feature = "parquet")]
mod imp {
    use crate::error::{IoError, Result};
    use crate::format::Compression;
    use crate::plan::{InputFile, Span, WorkUnit};
    use crate::read::{BadRecord, ReadOptions, Record, RecordReader};
    use crate::schema::{Fields, arrow_schema, conform_line};
    use arrow_array::RecordBatch;
    use arrow_schema::{DataType, Schema, SchemaRef};
    use datamill_core::Doc;
    use parquet::arrow::ArrowWriter;
    use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
    use parquet::basic::{Compression as PqCompression, GzipLevel, ZstdLevel};
    use parquet::file::properties::WriterProperties;
    use std::fs::File;
    use std::path::{Path, PathBuf};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn pq_err(path: &Path, e: impl std::fmt::Display) -> IoError {
        IoError::Parquet {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }

    fn builder(file: &InputFile) -> Result<ParquetRecordBatchReaderBuilder<File>> {
        let f = File::open(&file.path).map_err(|e| IoError::io(&file.path, e))?;
        ParquetRecordBatchReaderBuilder::try_new(f)
            .map_err(|e| pq_err(&file.path, format!("not a readable Parquet file: {e}")))
    }

    /// Checks the schema and groups row groups into units of about `unit_bytes`.
    pub fn plan(file: &InputFile, unit_bytes: u64, text_field: &str) -> Result<Vec<(Span, u64)>> {
        let b = builder(file)?;
        match b.schema().field_with_name(text_field) {
            Ok(f)
                if matches!(
                    f.data_type(),
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                ) => {}
            Ok(f) => {
                return Err(pq_err(
                    &file.path,
                    format!(
                        "column `{text_field}` must be a string column, it is {}",
                        f.data_type()
                    ),
                ));
            }
            Err(_) => {
                return Err(pq_err(
                    &file.path,
                    format!("no column `{text_field}` (the text field)"),
                ));
            }
        }
        let mut out = Vec::new();
        let (mut start, mut size, mut first_row, mut row) = (0usize, 0u64, 0u64, 0u64);
        let groups = b.metadata().row_groups();
        for (i, rg) in groups.iter().enumerate() {
            size += rg.compressed_size().max(0) as u64;
            row += rg.num_rows().max(0) as u64;
            if size >= unit_bytes || i + 1 == groups.len() {
                out.push((
                    Span::RowGroups {
                        start,
                        end: i + 1,
                        first_row,
                    },
                    size,
                ));
                start = i + 1;
                size = 0;
                first_row = row;
            }
        }
        Ok(out)
    }

    /// The Arrow schema of a Parquet file (used as the output schema for Parquet outputs).
    pub fn schema(file: &InputFile) -> Result<SchemaRef> {
        Ok(builder(file)?.schema().clone())
    }

    /// Opens the rows of one unit.
    pub fn open(
        file: &InputFile,
        unit: &WorkUnit,
        opts: &ReadOptions,
        progress: Arc<AtomicU64>,
    ) -> Result<Box<dyn RecordReader>> {
        let Span::RowGroups {
            start,
            end,
            first_row,
        } = unit.span
        else {
            return Err(pq_err(
                &file.path,
                "internal: Parquet unit without row groups",
            ));
        };
        let b = builder(file)?;
        let rows: u64 = b.metadata().row_groups()[start..end]
            .iter()
            .map(|r| r.num_rows().max(0) as u64)
            .sum();
        let reader = b
            .with_row_groups((start..end).collect())
            .with_batch_size(1024)
            .build()
            .map_err(|e| pq_err(&file.path, e))?;
        Ok(Box::new(PqReader {
            reader,
            file: file.clone(),
            row: first_row,
            lines: Vec::new(),
            cursor: 0,
            opts: opts.clone(),
            progress,
            bytes_per_row: unit.size as f64 / rows.max(1) as f64,
        }))
    }

    struct PqReader {
        reader: ParquetRecordBatchReader,
        file: InputFile,
        row: u64,
        lines: Vec<u8>,
        cursor: usize,
        opts: ReadOptions,
        progress: Arc<AtomicU64>,
        bytes_per_row: f64,
    }

    impl RecordReader for PqReader {
        fn next_record(&mut self) -> Result<Option<Record>> {
            while self.cursor >= self.lines.len() {
                let Some(batch) = self.reader.next() else {
                    return Ok(None);
                };
                let batch = batch.map_err(|e| {
                    pq_err(
                        &self.file.path,
                        format!("corrupt data after row {}: {e}", self.row),
                    )
                })?;
                self.progress.fetch_add(
                    (batch.num_rows() as f64 * self.bytes_per_row) as u64,
                    Ordering::Relaxed,
                );
                self.lines.clear();
                self.cursor = 0;
                let mut w = arrow_json::WriterBuilder::new()
                    .with_explicit_nulls(true)
                    .build::<_, arrow_json::writer::LineDelimited>(&mut self.lines);
                w.write(&batch).map_err(|e| {
                    pq_err(
                        &self.file.path,
                        format!("rows from {}: cannot convert to JSON: {e}", self.row),
                    )
                })?;
                w.finish().map_err(|e| pq_err(&self.file.path, e))?;
            }
            let rest = &self.lines[self.cursor..];
            let len = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
            let line = String::from_utf8_lossy(&rest[..len]).into_owned();
            self.cursor += len + 1;
            let row = self.row;
            self.row += 1;
            let label = &self.file.label;
            Ok(Some(
                match Doc::from_json_or_line(line, &self.opts.names, || format!("{label}:{row}")) {
                    Ok(doc) => Record::Doc(doc, len as u64 + 1),
                    Err((p, line)) => Record::Bad(BadRecord {
                        location: format!("{label}:{row}"),
                        reason: p.reason,
                        message: format!("row {row}: {}", p.message),
                        // The row as JSON, to mend and read again.
                        raw: line,
                        raw_bytes: None,
                        bytes: len as u64 + 1,
                    }),
                },
            ))
        }
    }

    /// Buffers JSON lines and writes them as Parquet row groups. The schema is given, or
    /// inferred from the first row group's documents ([`arrow_schema()`]: their JSON types,
    /// typed by a hint, the input's schema, where the values fit it).
    pub struct ParquetPart {
        path: PathBuf,
        file: Option<File>,
        writer: Option<ArrowWriter<File>>,
        schema: Option<SchemaRef>,
        /// The JSON types of `schema`'s fields (rows are made to fit them before decoding).
        fields: Option<Fields>,
        hint: Option<SchemaRef>,
        props: WriterProperties,
        buf: Vec<u8>,
        rows: usize,
        /// Rows per row group.
        pub row_group_rows: usize,
        /// Buffered bytes that trigger a row group.
        pub row_group_bytes: usize,
    }

    impl ParquetPart {
        /// Starts a part at `path` (the file is created at once), with a `schema` and its JSON
        /// types if given, else inferred from the first rows.
        pub fn create(
            path: &Path,
            compression: Compression,
            level: i32,
            hint: Option<SchemaRef>,
            schema: Option<(SchemaRef, Fields)>,
        ) -> Result<Self> {
            let codec = match compression {
                Compression::None => PqCompression::UNCOMPRESSED,
                Compression::Gzip => PqCompression::GZIP(
                    GzipLevel::try_new(level.clamp(0, 9) as u32).unwrap_or_default(),
                ),
                Compression::Zstd => {
                    PqCompression::ZSTD(ZstdLevel::try_new(level).unwrap_or_default())
                }
            };
            let props = WriterProperties::builder().set_compression(codec).build();
            let file = File::create(path).map_err(|e| IoError::io(path, e))?;
            let (schema, fields) = schema.map_or((None, None), |(s, f)| (Some(s), Some(f)));
            Ok(ParquetPart {
                path: path.to_path_buf(),
                file: Some(file),
                writer: None,
                schema,
                fields,
                hint,
                props,
                buf: Vec::new(),
                rows: 0,
                row_group_rows: 16_384,
                row_group_bytes: 64 << 20,
            })
        }

        /// Buffers one JSON object. Returns `false` if buffered rows no longer fit this
        /// part's schema: the caller must then [`take_buffer`](Self::take_buffer), finish the
        /// part and start a new one.
        pub fn write_line(&mut self, line: &[u8]) -> Result<bool> {
            self.buf.extend_from_slice(line);
            self.buf.push(b'\n');
            self.rows += 1;
            if self.rows >= self.row_group_rows || self.buf.len() >= self.row_group_bytes {
                return self.flush();
            }
            Ok(true)
        }

        /// The rows buffered and not yet written.
        pub fn take_buffer(&mut self) -> Vec<u8> {
            self.rows = 0;
            std::mem::take(&mut self.buf)
        }

        /// Whether any row was written to the file.
        pub fn is_empty(&self) -> bool {
            self.writer.is_none()
        }

        /// Makes the buffered rows fit the part's JSON types (numbers where floats are
        /// expected, values where strings are, missing fields).
        fn conform_buffer(&mut self) -> Result<()> {
            let Some(fields) = &self.fields else {
                return Ok(());
            };
            let mut out: Option<Vec<u8>> = None;
            let mut at = 0;
            for line in self.buf.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                // Rows that are not objects fail to decode below, with Arrow's message.
                if let Ok(Some(new)) = conform_line(line, fields) {
                    let o = out.get_or_insert_with(|| Vec::with_capacity(self.buf.len()));
                    // Everything before this line, unchanged.
                    let start = line.as_ptr() as usize - self.buf.as_ptr() as usize;
                    o.extend_from_slice(&self.buf[at..start]);
                    o.extend_from_slice(&new);
                    at = start + line.len();
                }
            }
            if let Some(mut o) = out {
                o.extend_from_slice(&self.buf[at..]);
                self.buf = o;
            }
            Ok(())
        }

        fn decode(&self, schema: &SchemaRef) -> std::result::Result<Vec<RecordBatch>, String> {
            let mut d = arrow_json::ReaderBuilder::new(schema.clone())
                .with_strict_mode(true)
                .with_batch_size(self.rows.max(1))
                .build_decoder()
                .map_err(|e| e.to_string())?;
            let mut out = Vec::new();
            let mut rest = &self.buf[..];
            while !rest.is_empty() {
                let n = d.decode(rest).map_err(|e| e.to_string())?;
                rest = &rest[n..];
                if let Some(b) = d.flush().map_err(|e| e.to_string())? {
                    out.push(b);
                }
                if n == 0 {
                    break;
                }
            }
            if let Some(b) = d.flush().map_err(|e| e.to_string())? {
                out.push(b);
            }
            Ok(out)
        }

        /// Writes buffered rows as a row group; `false` if they do not fit the schema.
        pub fn flush(&mut self) -> Result<bool> {
            if self.rows == 0 {
                return Ok(true);
            }
            let first = self.writer.is_none();
            if self.schema.is_none() {
                let mut f = Fields::default();
                for line in self.buf.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                    f.observe_line(line);
                }
                self.schema = Some(Arc::new(arrow_schema(&f, self.hint.as_deref())));
                self.fields = Some(f);
            }
            self.conform_buffer()?;
            let schema = self.schema.clone().expect("set above");
            let batches = match self.decode(&schema) {
                Ok(b) => b,
                Err(_) if !first => return Ok(false),
                Err(e) => {
                    return Err(pq_err(
                        &self.path,
                        format!("cannot convert documents to Parquet: {e}"),
                    ));
                }
            };
            if first {
                let file = self
                    .file
                    .take()
                    .expect("file present until the first row group");
                self.writer = Some(
                    ArrowWriter::try_new(file, schema, Some(self.props.clone()))
                        .map_err(|e| pq_err(&self.path, e))?,
                );
            }
            let w = self.writer.as_mut().expect("writer created above");
            for b in &batches {
                w.write(b).map_err(|e| pq_err(&self.path, e))?;
            }
            w.flush().map_err(|e| pq_err(&self.path, e))?;
            self.buf.clear();
            self.rows = 0;
            Ok(true)
        }

        /// Writes the footer and syncs the file; returns `false` if the last buffered rows did
        /// not fit (the caller then moves them to a new part).
        pub fn finish(mut self) -> Result<std::result::Result<(), (Self, Vec<u8>)>> {
            if !self.flush()? {
                let buf = self.take_buffer();
                return Ok(Err((self, buf)));
            }
            self.close()?;
            Ok(Ok(()))
        }

        /// Closes the part without flushing the buffer.
        pub fn close(mut self) -> Result<()> {
            let file = match self.writer.take() {
                Some(w) => w.into_inner().map_err(|e| pq_err(&self.path, e))?,
                None => {
                    // No row at all: still a valid Parquet file, with the given schema or
                    // the hint's.
                    let schema = self
                        .schema
                        .clone()
                        .or_else(|| self.hint.clone())
                        .unwrap_or_else(|| Arc::new(Schema::empty()));
                    let file = self.file.take().expect("file present");
                    let w = ArrowWriter::try_new(file, schema, Some(self.props.clone()))
                        .map_err(|e| pq_err(&self.path, e))?;
                    w.into_inner().map_err(|e| pq_err(&self.path, e))?
                }
            };
            file.sync_all().map_err(|e| IoError::io(&self.path, e))
        }
    }

    /// Makes the Parquet shard at `path` follow the run-wide `schema` (whose JSON types are
    /// `run`): unless its schema already is `schema`, its rows are read, made to fit
    /// ([`conform_line`]) and written again, one row group per row group, under a temporary
    /// name renamed over the shard. Rewriting a shard that fits gives the same file. Returns
    /// whether the shard was rewritten.
    pub fn conform_shard(
        path: &Path,
        run: &Fields,
        schema: &SchemaRef,
        compression: Compression,
        level: i32,
    ) -> Result<bool> {
        let open = || -> Result<ParquetRecordBatchReaderBuilder<File>> {
            let f = File::open(path).map_err(|e| IoError::io(path, e))?;
            ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| pq_err(path, e))
        };
        let b = open()?;
        if b.schema().fields() == schema.fields() {
            return Ok(false);
        }
        let groups = b.metadata().num_row_groups();
        drop(b);
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let tmp = path.with_file_name(format!("{name}.tmp"));
        let mut part = ParquetPart::create(
            &tmp,
            compression,
            level,
            None,
            Some((schema.clone(), run.clone())),
        )?;
        part.row_group_rows = usize::MAX;
        part.row_group_bytes = usize::MAX;
        let mut lines = Vec::new();
        for g in 0..groups {
            let reader = open()?
                .with_row_groups(vec![g])
                .build()
                .map_err(|e| pq_err(path, e))?;
            for batch in reader {
                let batch = batch.map_err(|e| pq_err(path, e))?;
                lines.clear();
                let mut w = arrow_json::WriterBuilder::new()
                    .with_explicit_nulls(true)
                    .build::<_, arrow_json::writer::LineDelimited>(&mut lines);
                w.write(&batch).map_err(|e| pq_err(path, e))?;
                w.finish().map_err(|e| pq_err(path, e))?;
                for line in lines.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                    let fixed = conform_line(line, run).map_err(|e| pq_err(path, e))?;
                    part.write_line(fixed.as_deref().unwrap_or(line))?;
                }
            }
            if !part.flush()? {
                return Err(pq_err(path, "rows do not fit the run-wide schema"));
            }
        }
        match part.finish()? {
            Ok(()) => {}
            Err(_) => return Err(pq_err(path, "rows do not fit the run-wide schema")),
        }
        std::fs::rename(&tmp, path).map_err(|e| IoError::io(path, e))?;
        Ok(true)
    }
}

#[cfg(not(feature = "parquet"))]
mod stub {
    use crate::error::{IoError, Result};
    use crate::plan::{InputFile, Span, WorkUnit};
    use crate::read::{ReadOptions, RecordReader};
    use std::sync::Arc;
    use std::sync::atomic::AtomicU64;

    fn off(file: &InputFile) -> IoError {
        IoError::Unsupported {
            path: file.path.clone(),
            message: "this datamill was built without the `parquet` feature".into(),
        }
    }

    /// Refuses: Parquet support is not compiled in.
    pub fn plan(file: &InputFile, _: u64, _: &str) -> Result<Vec<(Span, u64)>> {
        Err(off(file))
    }

    /// Refuses: Parquet support is not compiled in.
    pub fn open(
        file: &InputFile,
        _: &WorkUnit,
        _: &ReadOptions,
        _: Arc<AtomicU64>,
    ) -> Result<Box<dyn RecordReader>> {
        Err(off(file))
    }
}

#[cfg(all(test, feature = "parquet"))]
mod tests {
    use super::*;
    use crate::plan::{describe, plan_file};
    use crate::read::{ReadOptions, Record, open_unit};
    use crate::{Compression, Format};
    use std::sync::Arc;

    #[test]
    fn row_groups_become_units_with_row_locations() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("x.parquet");
        let mut part = ParquetPart::create(&path, Compression::Zstd, 3, None, None).unwrap();
        part.row_group_rows = 7;
        for i in 0..50 {
            let line = if i == 13 {
                r#"{"text":null,"n":13}"#.to_string()
            } else {
                format!(r#"{{"text":"doc {i}","n":{i}}}"#)
            };
            assert!(part.write_line(line.as_bytes()).unwrap());
        }
        assert!(matches!(part.finish().unwrap(), Ok(())));
        let f = describe(path.clone(), "x.parquet".into(), None).unwrap();
        assert_eq!(f.format, Format::Parquet);
        for unit_bytes in [1, 300, 1 << 30] {
            let units = plan_file(&f, 0, unit_bytes, "text").unwrap();
            if unit_bytes == 1 {
                assert_eq!(units.len(), 8); // 50 rows in groups of 7
            }
            let mut got = Vec::new();
            for u in &units {
                let mut r = open_unit(&f, u, &ReadOptions::default(), Arc::default()).unwrap();
                while let Some(rec) = r.next_record().unwrap() {
                    got.push(match rec {
                        Record::Doc(doc, _) => format!("{} {}", doc.id(), doc.text()),
                        Record::Bad(b) => format!("bad {} {}", b.location, b.reason),
                        Record::Blank => "blank".into(),
                    });
                }
            }
            assert_eq!(got.len(), 50);
            assert_eq!(got[0], "x.parquet:0 doc 0");
            assert_eq!(got[13], "bad x.parquet:13 missing_text");
            assert_eq!(got[49], "x.parquet:49 doc 49");
        }
        // A text column that is not a string is refused at planning time.
        let p2 = d.path().join("y.parquet");
        let mut part = ParquetPart::create(&p2, Compression::None, 0, None, None).unwrap();
        part.write_line(br#"{"text":5}"#).unwrap();
        assert!(matches!(part.finish().unwrap(), Ok(())));
        let f2 = describe(p2, "y.parquet".into(), None).unwrap();
        let e = plan_file(&f2, 0, 1, "text").unwrap_err().to_string();
        assert!(e.contains("y.parquet") && e.contains("string"), "{e}");
        let e = plan_file(&f, 0, 1, "body").unwrap_err().to_string();
        assert!(e.contains("no column `body`"), "{e}");
    }
}
