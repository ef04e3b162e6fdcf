//! Task plumbing: the output folder's layout, atomic writes and the worker pool.
//!
//! The mixer runs two passes of tasks: *count* tasks (one per work unit of each source:
//! read, tokenize, store the unit's documents and token ids under `.datamill-mix/index/`) and
//! *write* tasks (one per part of the training sequence: copy the part's documents and
//! tokens into every output format). Every task has a deterministic input slice, writes its
//! files under temporary names and renames them, and writes its completion marker last; a
//! rerun skips tasks with a marker and redoes the others from the start.

use crate::error::MixError;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Where everything goes in the output folder.
#[derive(Clone, Debug)]
pub struct Layout {
    out: PathBuf,
}

impl Layout {
    /// The layout of output folder `out`.
    pub fn new(out: impl Into<PathBuf>) -> Layout {
        Layout { out: out.into() }
    }
    /// The output folder.
    pub fn out(&self) -> &Path {
        &self.out
    }
    /// Hidden state: fingerprints, the index, markers.
    pub fn state_dir(&self) -> PathBuf {
        self.out.join(".datamill-mix")
    }
    /// The fingerprints of the run.
    pub fn state_file(&self) -> PathBuf {
        self.state_dir().join("state.json")
    }
    /// The counting pass's files for source `name`.
    pub fn index_dir(&self, name: &str) -> PathBuf {
        self.state_dir().join("index").join(name)
    }
    /// File `{unit}.{ext}` of source `name`'s index.
    pub fn index_file(&self, name: &str, unit: usize, ext: &str) -> PathBuf {
        self.index_dir(name).join(format!("{unit:05}.{ext}"))
    }
    /// Markers of the write pass.
    pub fn parts_dir(&self) -> PathBuf {
        self.state_dir().join("parts")
    }
    /// The marker of part `k`.
    pub fn part_marker(&self, k: usize) -> PathBuf {
        self.parts_dir().join(format!("{k:05}.done"))
    }
    /// Quarantined records of one unit of a source.
    pub fn quarantine(&self, name: &str, unit: usize) -> PathBuf {
        self.out
            .join("quarantine")
            .join(name)
            .join(format!("{unit:05}.jsonl"))
    }
    /// A folder of the output (`documents`, `megatron`, ...).
    pub fn output_dir(&self, what: &str) -> PathBuf {
        self.out.join(what)
    }
    /// The manifest.
    pub fn manifest(&self) -> PathBuf {
        self.out.join("manifest.json")
    }

    /// Removes every file the mixer writes (for `--force`); `keep_index` keeps the counting
    /// pass.
    pub fn wipe(&self, keep_index: bool) -> Result<(), MixError> {
        let mut dirs: Vec<PathBuf> = ["documents", "megatron", "datatrove", "numpy", "dd"]
            .iter()
            .map(|d| self.output_dir(d))
            .collect();
        dirs.push(self.parts_dir());
        if !keep_index {
            dirs.push(self.state_dir());
            dirs.push(self.out.join("quarantine"));
        }
        for d in dirs {
            if d.exists() {
                std::fs::remove_dir_all(&d).map_err(|e| MixError::io(&d, e))?;
            }
        }
        for f in [self.manifest(), self.out.join("manifest.json.tmp")] {
            if f.exists() {
                std::fs::remove_file(&f).map_err(|e| MixError::io(&f, e))?;
            }
        }
        Ok(())
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), MixError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| MixError::io(dir, e))?;
    }
    let tmp = tmp_path(path);
    std::fs::write(&tmp, bytes).map_err(|e| MixError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| MixError::io(path, e))
}

/// `path` with `.tmp` appended.
pub fn tmp_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".tmp");
    PathBuf::from(s)
}

/// Removes the files in `dir` whose name starts with `prefix` (an unfinished task's
/// leftovers).
pub fn clean(dir: &Path, prefix: &str) -> Result<(), MixError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with(prefix) && e.path().is_file() {
            std::fs::remove_file(e.path()).map_err(|err| MixError::io(e.path(), err))?;
        }
    }
    Ok(())
}

/// Runs `f(i)` for every task `i` in `0..sizes.len()` on `workers` threads, largest first;
/// results come back in task order. The first error (in task order) stops the pool.
///
/// The same scheduler as the executor's pool (`datamill-exec`), generic over the error type
/// until that one is public.
pub fn parallel<T: Send>(
    sizes: &[u64],
    workers: usize,
    stop: &AtomicBool,
    f: impl Fn(usize) -> Result<T, MixError> + Sync,
) -> Result<Vec<T>, MixError> {
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by(|&a, &b| sizes[b].cmp(&sizes[a]).then(a.cmp(&b)));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..sizes.len()).map(|_| None).collect());
    let first_err: Mutex<Option<(usize, MixError)>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..workers.max(1).min(sizes.len().max(1)) {
            s.spawn(|| {
                loop {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&task) = order.get(k) else {
                        return;
                    };
                    match f(task) {
                        Ok(v) => results.lock().expect("results lock")[task] = Some(v),
                        Err(e) => {
                            stop.store(true, Ordering::Relaxed);
                            let mut fe = first_err.lock().expect("error lock");
                            if fe.as_ref().is_none_or(|(t, _)| task < *t) {
                                *fe = Some((task, e));
                            }
                            return;
                        }
                    }
                }
            });
        }
    });
    if let Some((_, e)) = first_err.into_inner().expect("error lock") {
        return Err(e);
    }
    results
        .into_inner()
        .expect("results lock")
        .into_iter()
        .map(|r| r.ok_or(MixError::Interrupted))
        .collect()
}
