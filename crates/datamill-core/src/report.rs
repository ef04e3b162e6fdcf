//! Where global stages write their reports: one [`ReportSink`] per stage, handed over by the
//! executor in [`DecideCx`](crate::DecideCx). A stage never opens report files itself.
//!
//! Every report file is written under a temporary name and renamed into place when complete,
//! so a report is either absent or whole, whatever moment a run is killed at; writing it again
//! (a resumed run) replaces it with the same bytes.
//!
//! ```
//! use datamill_core::ReportSink;
//! let sink = ReportSink::memory();
//! let mut f = sink.jsonl("clusters.jsonl").unwrap();
//! f.write(&serde_json::json!({"cluster": 1})).unwrap();
//! f.finish().unwrap();
//! sink.json("summary.json", &serde_json::json!({"docs": 3})).unwrap();
//! assert_eq!(sink.get("clusters.jsonl").unwrap(), b"{\"cluster\":1}\n");
//! ```

use crate::error::StageError;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The place a global stage writes its report files to: a folder (what the executor gives,
/// `OUT/reports/<stage>/`), or memory (tests, and stages run outside an executor).
#[derive(Clone, Debug)]
pub struct ReportSink {
    to: To,
}

#[derive(Clone, Debug)]
enum To {
    Dir(PathBuf),
    Memory(Arc<Mutex<BTreeMap<String, Vec<u8>>>>),
}

impl Default for ReportSink {
    /// An in-memory sink.
    fn default() -> Self {
        ReportSink::memory()
    }
}

fn io_err(path: &Path, e: std::io::Error) -> StageError {
    StageError::Io {
        context: format!("writing report {}", path.display()),
        source: e,
    }
}

impl ReportSink {
    /// A sink writing into folder `dir` (created when the first file is written).
    pub fn dir(dir: impl Into<PathBuf>) -> ReportSink {
        ReportSink {
            to: To::Dir(dir.into()),
        }
    }

    /// A sink keeping its files in memory; read them back with [`ReportSink::get`].
    pub fn memory() -> ReportSink {
        ReportSink {
            to: To::Memory(Arc::default()),
        }
    }

    /// The folder, for a sink writing to one.
    pub fn folder(&self) -> Option<&Path> {
        match &self.to {
            To::Dir(d) => Some(d),
            To::Memory(_) => None,
        }
    }

    /// Starts report file `name`, written one JSON value per line.
    pub fn jsonl(&self, name: &str) -> Result<ReportFile, StageError> {
        let out = match &self.to {
            To::Memory(m) => Out::Memory(m.clone(), name.to_string(), Vec::new()),
            To::Dir(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
                let path = dir.join(name);
                let tmp = dir.join(format!(".{name}.tmp"));
                let f = std::fs::File::create(&tmp).map_err(|e| io_err(&tmp, e))?;
                Out::File(std::io::BufWriter::new(f), tmp, path)
            }
        };
        Ok(ReportFile { out })
    }

    /// Writes report file `name` holding `value`, pretty-printed (no final newline).
    pub fn json(&self, name: &str, value: &serde_json::Value) -> Result<(), StageError> {
        let bytes = serde_json::to_vec_pretty(value).expect("a JSON value serializes");
        let mut f = self.jsonl(name)?;
        f.raw(&bytes)?;
        f.finish()
    }

    /// The bytes of finished report file `name` (read from the folder for a folder sink).
    pub fn get(&self, name: &str) -> Option<Vec<u8>> {
        match &self.to {
            To::Dir(d) => std::fs::read(d.join(name)).ok(),
            To::Memory(m) => m.lock().expect("report lock").get(name).cloned(),
        }
    }
}

enum Out {
    File(std::io::BufWriter<std::fs::File>, PathBuf, PathBuf),
    Memory(Arc<Mutex<BTreeMap<String, Vec<u8>>>>, String, Vec<u8>),
}

/// One report file being written; it appears under its name only once
/// [`finish`](ReportFile::finish)ed.
pub struct ReportFile {
    out: Out,
}

impl ReportFile {
    fn raw(&mut self, bytes: &[u8]) -> Result<(), StageError> {
        match &mut self.out {
            Out::File(w, tmp, _) => w.write_all(bytes).map_err(|e| io_err(tmp, e)),
            Out::Memory(_, _, v) => {
                v.extend_from_slice(bytes);
                Ok(())
            }
        }
    }

    /// Appends one JSON line.
    pub fn write(&mut self, v: &serde_json::Value) -> Result<(), StageError> {
        let mut line = serde_json::to_vec(v).expect("a JSON value serializes");
        line.push(b'\n');
        self.raw(&line)
    }

    /// Completes the file: flushes it and renames it into place.
    pub fn finish(self) -> Result<(), StageError> {
        match self.out {
            Out::File(w, tmp, path) => {
                let f = w.into_inner().map_err(|e| io_err(&tmp, e.into_error()))?;
                f.sync_all().map_err(|e| io_err(&tmp, e))?;
                drop(f);
                std::fs::rename(&tmp, &path).map_err(|e| io_err(&path, e))
            }
            Out::Memory(m, name, v) => {
                m.lock().expect("report lock").insert(name, v);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_report_appears_only_when_finished() {
        let d = std::env::temp_dir().join(format!("datamill-report-{}", std::process::id()));
        let sink = ReportSink::dir(d.join("r"));
        let mut f = sink.jsonl("a.jsonl").unwrap();
        f.write(&serde_json::json!({"x": 1})).unwrap();
        assert!(sink.get("a.jsonl").is_none(), "visible before finish");
        f.finish().unwrap();
        assert_eq!(sink.get("a.jsonl").unwrap(), b"{\"x\":1}\n");
        sink.json("b.json", &serde_json::json!({"y": [1]})).unwrap();
        assert_eq!(
            sink.get("b.json").unwrap(),
            serde_json::to_vec_pretty(&serde_json::json!({"y": [1]})).unwrap()
        );
        let names: Vec<String> = std::fs::read_dir(d.join("r"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
