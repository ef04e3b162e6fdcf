//! The local executor: plans work units, runs them on worker threads, decides global stages,
//! resumes after a crash and writes `stats.json`.
//!
//! # Segments
//! The stage list is cut at each global stage. Segment 0 reads the input, runs the
//! per-document stages before the first global stage and, if there is one, writes the
//! surviving documents and their summaries to `.datamill/seg0/`. The global stage then
//! decides once over all summaries in input order. Segment 1 reads segment 0's documents
//! (or, when segment 0 has no per-document stage, the input itself again: a copy of the
//! input would cost more to write and read than to parse twice), applies those verdicts,
//! runs the next per-document stages, and so on; the last segment writes the output shards.
//! Every (segment, unit) pair is a task with a deterministic input, deterministic outputs
//! named after the unit, and a completion marker written last, so a rerun skips finished
//! tasks and redoes the rest from the start of the unit.

use crate::pipeline::{ConfigError, Pipeline};
use datamill_core::stats::{RunStats, StageStats};
use datamill_core::{DecideCx, Doc, DocRef, Stage, StageCx, Verdict, Verdicts};
use datamill_io::plan::{InputFile, Span, WorkUnit, describe, plan_file};
use datamill_io::read::{ReadOptions, Record, open_unit};
use datamill_io::write::{ShardWriter, WriteOptions};
use datamill_io::{Compression, Format, IoError};
use datamill_stages::Step;
use serde::{Deserialize, Serialize};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use thiserror::Error;

/// Why a run stopped.
#[derive(Debug, Error)]
pub enum RunError {
    /// The pipeline file is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// An input or output file is unusable.
    #[error(transparent)]
    Io(#[from] IoError),
    /// A stage failed.
    #[error("stage {index} (`{kind}`): {message}")]
    Stage {
        /// 1-based position of the stage.
        index: usize,
        /// The stage's type.
        kind: String,
        /// What went wrong.
        message: String,
    },
    /// The output folder holds a run of another pipeline or of changed inputs.
    #[error(
        "{dir} holds the output of a different pipeline or of changed inputs ({what}); \
         rerun with --force to delete it and start over, or choose another --output"
    )]
    Mismatch {
        /// The output folder.
        dir: PathBuf,
        /// What differs.
        what: String,
    },
    /// Internal bookkeeping files are unreadable.
    #[error("{path}: {message}")]
    State {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The run was interrupted.
    #[error("interrupted")]
    Interrupted,
}

/// Shared counters a progress display can poll.
#[derive(Debug, Default)]
pub struct Progress {
    /// Input file bytes consumed in the current phase.
    pub bytes: Arc<AtomicU64>,
    /// Total input file bytes of the current phase.
    pub total_bytes: AtomicU64,
    /// Documents read in the current phase.
    pub docs: AtomicU64,
    /// Work units finished in the current phase.
    pub units_done: AtomicU64,
    /// Work units in the current phase.
    pub units_total: AtomicU64,
    /// The phase, for display (`"read"`, `"dedup 2/3"`, ...).
    pub phase: Mutex<String>,
}

impl Progress {
    fn start_phase(&self, name: String, total_bytes: u64, units: u64) {
        *self.phase.lock().expect("progress lock") = name;
        self.bytes.store(0, Ordering::Relaxed);
        self.docs.store(0, Ordering::Relaxed);
        self.units_done.store(0, Ordering::Relaxed);
        self.total_bytes.store(total_bytes, Ordering::Relaxed);
        self.units_total.store(units, Ordering::Relaxed);
    }
}

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Output folder (overrides the pipeline's `output.dir`).
    pub output: Option<PathBuf>,
    /// Worker threads.
    pub workers: usize,
    /// Delete a previous run of another pipeline in the output folder.
    pub force: bool,
    /// Memory budget for global stages' deciders, in bytes (`None`: unbounded).
    pub memory: Option<u64>,
    /// Run as task `rank` of `world` (`Some((rank, world))`): this process takes the units
    /// whose index modulo `world` is `rank`, in every pass; between passes it waits for the
    /// other tasks' completion markers in the shared output folder. Rank 0 decides global
    /// stages and writes `stats.json`. The same output as one local run, byte for byte.
    pub shard: Option<(u32, u32)>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            output: None,
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            force: false,
            memory: None,
            shard: None,
        }
    }
}

/// What a finished run reports.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// The merged statistics (also in `OUT/stats.json`).
    pub stats: RunStats,
    /// The output folder.
    pub out_dir: PathBuf,
    /// Tasks skipped because a previous run had finished them.
    pub resumed_tasks: u64,
    /// Tasks run now.
    pub ran_tasks: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Advice about the input (see [`planning_notes`]).
    pub notes: Vec<String>,
}

/// The run's identity, stored in `.datamill/run.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
struct RunState {
    datamill: String,
    pipeline_hash: String,
    files: Vec<InputFile>,
    units: Vec<WorkUnit>,
}

/// What a finished task recorded in its marker.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct TaskDone {
    stats: RunStats,
    /// Documents passed to the next segment (the global stage's inputs).
    passed: u32,
}

/// `stats.json`: the merged statistics plus run facts.
#[derive(Serialize)]
struct StatsFile<'a> {
    #[serde(flatten)]
    stats: &'a RunStats,
    work_units: usize,
    workers: usize,
    wall_seconds: f64,
}

enum SegEnd {
    Summarize(usize),
    Output,
}

struct Segment {
    apply: Option<usize>,
    maps: Vec<usize>,
    end: SegEnd,
    /// Reads the input units (segment 0, and segment 1 when segment 0 changes nothing), not
    /// the previous segment's documents.
    reads_input: bool,
    /// Writes its documents for the next segment (false when the next one reads the input).
    passes_docs: bool,
}

fn segments(p: &Pipeline) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut cur = Segment {
        apply: None,
        maps: Vec::new(),
        end: SegEnd::Output,
        reads_input: true,
        passes_docs: true,
    };
    for (i, (_, step)) in p.steps.iter().enumerate() {
        match step {
            Step::Map(_) => cur.maps.push(i),
            Step::Global(_) => {
                cur.end = SegEnd::Summarize(i);
                // A first segment without per-document stages would write a copy of the
                // input: the next segment reads the input again instead.
                let replay = out.is_empty() && cur.maps.is_empty();
                cur.passes_docs = !replay;
                out.push(cur);
                cur = Segment {
                    apply: Some(i),
                    maps: Vec::new(),
                    end: SegEnd::Output,
                    reads_input: replay,
                    passes_docs: true,
                };
            }
        }
    }
    out.push(cur);
    out
}

fn state_err(path: &Path, e: impl std::fmt::Display) -> RunError {
    RunError::State {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RunError> {
    // A per-process temporary name: several tasks may write the same (identical) file.
    let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| IoError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| IoError::io(path, e))?;
    Ok(())
}

/// True for names of files a run writes at the top of its output folder.
fn is_ours(name: &str) -> bool {
    let b = name.as_bytes();
    (b.len() > 10
        && b[..5].iter().all(u8::is_ascii_digit)
        && b[5] == b'-'
        && b[6..9].iter().all(u8::is_ascii_digit)
        && b[9] == b'.')
        || name == "stats.json"
        || name == "stats.tmp"
}

fn wipe(out: &Path) -> Result<(), RunError> {
    for sub in [".datamill", "excluded", "quarantine"] {
        let p = out.join(sub);
        if p.exists() {
            std::fs::remove_dir_all(&p).map_err(|e| IoError::io(&p, e))?;
        }
    }
    if let Ok(entries) = std::fs::read_dir(out) {
        for e in entries.flatten() {
            if is_ours(&e.file_name().to_string_lossy()) {
                std::fs::remove_file(e.path()).map_err(|err| IoError::io(e.path(), err))?;
            }
        }
    }
    Ok(())
}

/// Plans the work units of a pipeline's input (also used by `datamill validate`).
pub fn plan_input(p: &Pipeline) -> Result<(Vec<InputFile>, Vec<WorkUnit>), RunError> {
    let files = describe_input(p)?;
    let units = plan_units(p, &files)?;
    Ok((files, units))
}

/// Advice about a plan: every compressed JSONL file larger than `unit_size` that still forms
/// a single work unit (a gzip stream, a single zstd frame) runs on one core, whatever
/// `--workers` says.
pub fn planning_notes(p: &Pipeline, files: &[InputFile], units: &[WorkUnit]) -> Vec<String> {
    let unit = p.config.input.unit_size.0;
    let mut per_file = vec![0usize; files.len()];
    for u in units {
        per_file[u.file as usize] += 1;
    }
    files
        .iter()
        .zip(&per_file)
        .filter(|(f, n)| {
            **n == 1
                && f.format == Format::Jsonl
                && f.compression != Compression::None
                && f.size > unit
        })
        .map(|(f, _)| {
            let what = match f.compression {
                Compression::Gzip => "a gzip stream",
                _ => "a single zstd frame",
            };
            format!(
                "{} ({:.1} MB) is one work unit: {what} cannot be split, so it runs on one core; \
                 recompressed as multi-frame zstd (e.g. `pzstd`, or zstd's seekable format) it \
                 would split into units of `unit_size`",
                f.label,
                f.size as f64 / 1e6
            )
        })
        .collect()
}

/// Finds and describes the input files (sizes, codecs, modification times).
pub fn describe_input(p: &Pipeline) -> Result<Vec<InputFile>, RunError> {
    let paths = datamill_io::discover::discover(&p.base_dir, &p.config.input.paths)?;
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let label = path
            .strip_prefix(&p.base_dir)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        files.push(describe(path, label, p.config.input.format)?);
    }
    Ok(files)
}

/// Cuts described input files into work units (reads Parquet footers and zstd frame headers,
/// counts lines at unit boundaries).
pub fn plan_units(p: &Pipeline, files: &[InputFile]) -> Result<Vec<WorkUnit>, RunError> {
    // Files are planned in parallel (planning may decompress a multi-frame file to count its
    // lines); units are numbered afterwards, in input order.
    let tasks: Vec<(usize, u64)> = files.iter().enumerate().map(|(i, f)| (i, f.size)).collect();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_file = parallel(&tasks, workers, &AtomicBool::new(false), |i| {
        Ok(plan_file(
            &files[i],
            i as u32,
            p.config.input.unit_size.0,
            &p.config.input.text_field,
        )?)
    })?;
    let mut units = Vec::new();
    for file_units in per_file {
        for mut u in file_units {
            u.index = units.len() as u32;
            units.push(u);
        }
    }
    Ok(units)
}

/// Runs `f(unit)` over `tasks` (unit, size) on `workers` threads, largest first; returns
/// results in the order of `tasks`.
fn parallel<T: Send>(
    tasks: &[(usize, u64)],
    workers: usize,
    stop: &AtomicBool,
    f: impl Fn(usize) -> Result<T, RunError> + Sync,
) -> Result<Vec<T>, RunError> {
    // (position, size, unit), largest first, ties in input order.
    let mut order: Vec<(usize, u64, usize)> = tasks
        .iter()
        .enumerate()
        .map(|(i, &(u, size))| (i, size, u))
        .collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..tasks.len()).map(|_| None).collect());
    let first_err: Mutex<Option<(usize, RunError)>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..workers.max(1).min(tasks.len().max(1)) {
            s.spawn(|| {
                loop {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(task, _, unit)) = order.get(k) else {
                        return;
                    };
                    match f(unit) {
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
        .map(|r| r.ok_or(RunError::Interrupted))
        .collect()
}

/// Everything a task needs, shared by the workers.
struct Ctx<'a> {
    p: &'a Pipeline,
    out: PathBuf,
    state_dir: PathBuf,
    files: &'a [InputFile],
    units: &'a [WorkUnit],
    read: ReadOptions,
    write: WriteOptions,
    progress: &'a Progress,
}

fn stem(unit: usize) -> String {
    format!("{unit:05}")
}

struct QuarantineWriter {
    path: PathBuf,
    tmp: PathBuf,
    w: Option<BufWriter<std::fs::File>>,
}

impl QuarantineWriter {
    fn write(&mut self, rec: &datamill_io::read::BadRecord) -> Result<(), RunError> {
        if self.w.is_none() {
            let dir = self.path.parent().expect("quarantine dir");
            std::fs::create_dir_all(dir).map_err(|e| IoError::io(dir, e))?;
            let f = std::fs::File::create(&self.tmp).map_err(|e| IoError::io(&self.tmp, e))?;
            self.w = Some(BufWriter::new(f));
        }
        let w = self.w.as_mut().expect("opened");
        #[derive(Serialize)]
        struct Q<'a> {
            location: &'a str,
            reason: &'a str,
            message: &'a str,
            raw: &'a str,
        }
        serde_json::to_writer(
            &mut *w,
            &Q {
                location: &rec.location,
                reason: rec.reason,
                message: &rec.message,
                raw: &rec.raw,
            },
        )
        .map_err(|e| state_err(&self.tmp, e))?;
        w.write_all(b"\n").map_err(|e| IoError::io(&self.tmp, e))?;
        Ok(())
    }

    fn finish(self) -> Result<(), RunError> {
        if let Some(w) = self.w {
            let f = w
                .into_inner()
                .map_err(|e| IoError::io(&self.tmp, e.into_error()))?;
            f.sync_all().map_err(|e| IoError::io(&self.tmp, e))?;
            std::fs::rename(&self.tmp, &self.path).map_err(|e| IoError::io(&self.path, e))?;
        }
        Ok(())
    }
}

impl Ctx<'_> {
    fn seg_dir(&self, k: usize) -> PathBuf {
        self.state_dir.join(format!("seg{k}"))
    }

    /// Removes the documents pass `k` handed to the next one. Its markers stay, and so do its
    /// summaries: a rerun re-decides a global stage with a transform from them.
    fn drop_pass_data(&self, k: usize) {
        let Ok(entries) = std::fs::read_dir(self.seg_dir(k)) else {
            return;
        };
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().contains(".jsonl") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }

    /// The documents segment `k` passes on from `unit`.
    fn seg_file(&self, k: usize, unit: usize) -> PathBuf {
        let ext = self.p.config.output.intermediate.suffix();
        self.seg_dir(k)
            .join(format!("{}-000.jsonl{ext}", stem(unit)))
    }

    fn marker(&self, k: usize, unit: usize) -> PathBuf {
        self.seg_dir(k).join(format!("{}.done", stem(unit)))
    }

    fn stage_err(&self, i: usize, e: impl std::fmt::Display) -> RunError {
        RunError::Stage {
            index: i + 1,
            kind: self.p.steps[i].0.to_string(),
            message: e.to_string(),
        }
    }

    /// Runs segment `k` on one unit, or loads its marker if a previous run finished it.
    fn run_task(
        &self,
        k: usize,
        seg: &Segment,
        unit: usize,
        verdicts: Option<&Verdicts>,
        transform: Option<&dyn Stage>,
        resumed: &AtomicU64,
    ) -> Result<TaskDone, RunError> {
        let marker = self.marker(k, unit);
        if let Ok(bytes) = std::fs::read(&marker)
            && let Ok(done) = serde_json::from_slice::<TaskDone>(&bytes)
        {
            resumed.fetch_add(1, Ordering::Relaxed);
            self.progress.units_done.fetch_add(1, Ordering::Relaxed);
            self.progress
                .bytes
                .fetch_add(self.task_size(k, seg, unit), Ordering::Relaxed);
            return Ok(done);
        }
        let s = stem(unit);
        let mut stats = RunStats {
            stages: self
                .p
                .steps
                .iter()
                .map(|(kind, _)| StageStats::new(kind))
                .collect(),
            ..Default::default()
        };
        let last = matches!(seg.end, SegEnd::Output);
        // Clean what an interrupted attempt may have left.
        let excluded_dir = self.out.join("excluded");
        let excluded_stem = if k == 0 {
            s.clone()
        } else {
            format!("{s}-s{k}")
        };
        let seg_dir = self.seg_dir(k);
        if last {
            ShardWriter::clean(&self.out, &s)?;
        } else {
            ShardWriter::clean(&seg_dir, &s)?;
        }
        if self.p.config.output.excluded {
            ShardWriter::clean(&excluded_dir, &excluded_stem)?;
        }
        let mut out = if last {
            ShardWriter::new(&self.out, &s, self.write.clone())
        } else {
            ShardWriter::new(
                &seg_dir,
                &s,
                WriteOptions {
                    format: Format::Jsonl,
                    compression: self.p.config.output.intermediate,
                    level: 1,
                    max_shard_bytes: u64::MAX,
                    ..Default::default()
                },
            )
        };
        let mut excluded = self.p.config.output.excluded.then(|| {
            ShardWriter::new(
                &excluded_dir,
                &excluded_stem,
                WriteOptions {
                    format: Format::Jsonl,
                    ..self.write.clone()
                },
            )
        });
        let mut quarantine = QuarantineWriter {
            path: self.out.join("quarantine").join(format!("{s}.jsonl")),
            tmp: self.out.join("quarantine").join(format!("{s}.jsonl.tmp")),
            w: None,
        };
        let summ_path = seg_dir.join(format!("{s}.summ"));
        let summ_tmp = seg_dir.join(format!("{s}.summ.tmp"));
        let mut summ = match seg.end {
            SegEnd::Summarize(_) => {
                std::fs::create_dir_all(&seg_dir).map_err(|e| IoError::io(&seg_dir, e))?;
                Some(BufWriter::new(
                    std::fs::File::create(&summ_tmp).map_err(|e| IoError::io(&summ_tmp, e))?,
                ))
            }
            SegEnd::Output => None,
        };
        // A later segment that reads the input again skips what segment 0 already counted.
        let replay = k > 0 && seg.reads_input;
        let mut reader = if seg.reads_input {
            let u = &self.units[unit];
            open_unit(
                &self.files[u.file as usize],
                u,
                &self.read,
                self.progress.bytes.clone(),
            )?
        } else {
            let path = self.seg_file(k - 1, unit);
            if !path.exists() {
                // The previous segment passed nothing on from this unit.
                Box::new(Empty) as Box<dyn datamill_io::read::RecordReader>
            } else {
                let f = InputFile {
                    label: format!("{}", path.display()),
                    format: Format::Jsonl,
                    compression: self.p.config.output.intermediate,
                    size: std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
                    mtime: 0,
                    path,
                };
                let u = WorkUnit {
                    index: unit as u32,
                    file: 0,
                    span: Span::Whole,
                    size: f.size,
                };
                open_unit(&f, &u, &self.read, self.progress.bytes.clone())?
            }
        };
        let mut cx = StageCx::default();
        let mut buf = Vec::new();
        let mut index: u32 = 0;
        let mut passed: u32 = 0;
        let drop_doc = |doc: &mut Doc,
                        i: usize,
                        reason: &str,
                        stats: &mut RunStats,
                        excluded: &mut Option<ShardWriter>|
         -> Result<(), RunError> {
            *stats.stages[i]
                .dropped
                .entry(reason.to_string())
                .or_default() += 1;
            if let Some(x) = excluded {
                doc.set(
                    "excluded_by",
                    &serde_json::json!({"stage": self.p.steps[i].0, "reason": reason}),
                );
                x.write(doc)?;
            }
            Ok(())
        };
        'records: while let Some(rec) = reader.next_record()? {
            let (mut doc, bytes) = match rec {
                Record::Blank | Record::Bad(_) if replay => continue,
                Record::Blank => {
                    stats.blank_lines += 1;
                    continue;
                }
                Record::Bad(b) => {
                    stats.input_docs += 1;
                    stats.input_bytes += b.bytes;
                    stats.quarantined += 1;
                    *stats.quarantine.entry(b.reason.to_string()).or_default() += 1;
                    quarantine.write(&b)?;
                    continue;
                }
                Record::Doc(d, bytes) => (d, bytes),
            };
            self.progress.docs.fetch_add(1, Ordering::Relaxed);
            if k == 0 {
                stats.input_docs += 1;
                stats.input_bytes += bytes;
            }
            if let (Some(g), Some(v)) = (seg.apply, verdicts) {
                let at = DocRef {
                    unit: unit as u32,
                    index,
                };
                index += 1;
                stats.stages[g].input += 1;
                if let Some(reason) = v.get(at) {
                    let reason = reason.to_string();
                    drop_doc(&mut doc, g, &reason, &mut stats, &mut excluded)?;
                    continue;
                }
                if let Some(t) = transform {
                    let start = Instant::now();
                    cx.set_doc_ref(Some(at));
                    let verdict = t
                        .process(&mut doc, &mut cx)
                        .map_err(|e| self.stage_err(g, format!("document {}: {e}", doc.id())))?;
                    cx.set_doc_ref(None);
                    let st = &mut stats.stages[g];
                    st.seconds += start.elapsed().as_secs_f64();
                    for (name, n) in cx.take_counters() {
                        *st.counters.entry(name.to_string()).or_default() += n;
                    }
                    if let Verdict::Drop(reason) = verdict {
                        drop_doc(&mut doc, g, &reason, &mut stats, &mut excluded)?;
                        continue;
                    }
                }
                stats.stages[g].kept += 1;
            }
            for &i in &seg.maps {
                let Step::Map(stage) = &self.p.steps[i].1 else {
                    unreachable!("segments hold map stages")
                };
                let t = Instant::now();
                let verdict = stage
                    .process(&mut doc, &mut cx)
                    .map_err(|e| self.stage_err(i, format!("document {}: {e}", doc.id())))?;
                let st = &mut stats.stages[i];
                st.seconds += t.elapsed().as_secs_f64();
                st.input += 1;
                for (name, n) in cx.take_counters() {
                    *st.counters.entry(name.to_string()).or_default() += n;
                }
                match verdict {
                    Verdict::Keep => st.kept += 1,
                    Verdict::Drop(reason) => {
                        drop_doc(&mut doc, i, &reason, &mut stats, &mut excluded)?;
                        continue 'records;
                    }
                }
            }
            match seg.end {
                SegEnd::Summarize(g) => {
                    let Step::Global(stage) = &self.p.steps[g].1 else {
                        unreachable!("segment ends at a global stage")
                    };
                    let t = Instant::now();
                    buf.clear();
                    stage
                        .summarize(&doc, &mut buf)
                        .map_err(|e| self.stage_err(g, format!("document {}: {e}", doc.id())))?;
                    stats.stages[g].seconds += t.elapsed().as_secs_f64();
                    let w = summ.as_mut().expect("summary writer");
                    w.write_all(&(buf.len() as u32).to_le_bytes())
                        .and_then(|_| w.write_all(&buf))
                        .map_err(|e| IoError::io(&summ_tmp, e))?;
                    if seg.passes_docs {
                        out.write(&doc)?;
                    }
                    passed += 1;
                }
                SegEnd::Output => {
                    out.write(&doc)?;
                }
            }
        }
        let ws = out.finish()?;
        if last {
            stats.output_docs = ws.docs;
            stats.output_bytes = ws.bytes;
            stats.output_files = ws.files;
            stats.output_file_bytes = ws.file_bytes;
        }
        if let Some(x) = excluded {
            x.finish()?;
        }
        quarantine.finish()?;
        if let Some(w) = summ {
            let f = w
                .into_inner()
                .map_err(|e| IoError::io(&summ_tmp, e.into_error()))?;
            f.sync_all().map_err(|e| IoError::io(&summ_tmp, e))?;
            std::fs::rename(&summ_tmp, &summ_path).map_err(|e| IoError::io(&summ_path, e))?;
        }
        let done = TaskDone { stats, passed };
        let dir = self.seg_dir(k);
        std::fs::create_dir_all(&dir).map_err(|e| IoError::io(&dir, e))?;
        write_atomic(
            &marker,
            &serde_json::to_vec(&done).map_err(|e| state_err(&marker, e))?,
        )?;
        self.progress.units_done.fetch_add(1, Ordering::Relaxed);
        Ok(done)
    }

    fn task_size(&self, k: usize, seg: &Segment, unit: usize) -> u64 {
        if seg.reads_input {
            self.units[unit].size
        } else {
            std::fs::metadata(self.seg_file(k - 1, unit))
                .map(|m| m.len())
                .unwrap_or(0)
        }
    }

    /// Waits until every unit's marker of pass `k` exists, then reads them all.
    fn wait_for_markers(
        &self,
        k: usize,
        units: usize,
        stop: &AtomicBool,
    ) -> Result<Vec<TaskDone>, RunError> {
        let mut out = Vec::with_capacity(units);
        for u in 0..units {
            let m = self.marker(k, u);
            self.wait_for_file(&m, stop)?;
            let bytes = std::fs::read(&m).map_err(|e| IoError::io(&m, e))?;
            out.push(serde_json::from_slice(&bytes).map_err(|e| state_err(&m, e))?);
        }
        Ok(out)
    }

    /// Polls for a file written (atomically) by another task.
    fn wait_for_file(&self, path: &Path, stop: &AtomicBool) -> Result<(), RunError> {
        while !path.exists() {
            if stop.load(Ordering::Relaxed) {
                return Err(RunError::Interrupted);
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        Ok(())
    }

    /// Runs the decider of global stage `g` over segment `k`'s summaries (or loads its
    /// stored verdicts).
    #[allow(clippy::type_complexity)]
    fn decide(
        &self,
        k: usize,
        g: usize,
        passed: &[u32],
        memory: Option<u64>,
        workers: usize,
        rank: u32,
    ) -> Result<(Verdicts, Option<Box<dyn Stage>>, f64), RunError> {
        let bin = self.state_dir.join(format!("decide{k}.bin"));
        let meta = self.state_dir.join(format!("decide{k}.json"));
        #[derive(Serialize, Deserialize)]
        struct Meta {
            reasons: Vec<String>,
            counts: Vec<u32>,
            seconds: f64,
            transform: bool,
        }
        if let (Ok(m), Ok(codes)) = (std::fs::read(&meta), std::fs::read(&bin))
            && let Ok(m) = serde_json::from_slice::<Meta>(&m)
            && m.counts == passed
            && !m.transform
        {
            let mut units = Vec::with_capacity(passed.len());
            let mut off = 0usize;
            for &n in passed {
                units.push(codes[off..off + n as usize].to_vec());
                off += n as usize;
            }
            return Ok((Verdicts::from_parts(units, m.reasons), None, m.seconds));
        }
        let t = Instant::now();
        let Step::Global(stage) = &self.p.steps[g].1 else {
            unreachable!("decide on a global stage")
        };
        let mut verdicts = Verdicts::new(passed);
        let kind = self.p.steps[g].0;
        let same_kind_before = self.p.steps[..g].iter().filter(|s| s.0 == kind).count();
        let report_name = if same_kind_before == 0 {
            kind.to_string()
        } else {
            format!("{kind}-{}", same_kind_before + 1)
        };
        // Only rank 0 writes reports and stored verdicts; another rank re-deciding (for a
        // stage with a transform) works in a private folder.
        let (report_dir, work_dir) = if rank == 0 {
            (
                self.out.join("dedup").join(report_name),
                self.state_dir.join(format!("work{k}")),
            )
        } else {
            let private = self.state_dir.join(format!("rank{rank}"));
            (
                private.join("dedup").join(report_name),
                private.join(format!("work{k}")),
            )
        };
        let dcx = DecideCx {
            report_dir,
            work_dir,
            memory_budget: memory,
            workers,
        };
        let mut decider = stage.decider(&dcx).map_err(|e| self.stage_err(g, e))?;
        let mut buf = Vec::new();
        for (unit, &n) in passed.iter().enumerate() {
            let path = self.seg_dir(k).join(format!("{}.summ", stem(unit)));
            let f = std::fs::File::open(&path).map_err(|e| IoError::io(&path, e))?;
            let mut r = BufReader::new(f);
            for index in 0..n {
                let mut len = [0u8; 4];
                r.read_exact(&mut len).map_err(|e| IoError::io(&path, e))?;
                buf.resize(u32::from_le_bytes(len) as usize, 0);
                r.read_exact(&mut buf).map_err(|e| IoError::io(&path, e))?;
                decider
                    .observe(
                        DocRef {
                            unit: unit as u32,
                            index,
                        },
                        &buf,
                        &mut verdicts,
                    )
                    .map_err(|e| self.stage_err(g, e))?;
            }
            self.progress.units_done.fetch_add(1, Ordering::Relaxed);
        }
        let transform = decider
            .finish(&mut verdicts)
            .map_err(|e| self.stage_err(g, e))?;
        drop(decider);
        let seconds = t.elapsed().as_secs_f64();
        let mut codes = Vec::new();
        for u in 0..passed.len() {
            codes.extend_from_slice(verdicts.unit_codes(u));
        }
        if rank != 0 {
            return Ok((verdicts, transform, seconds));
        }
        write_atomic(&bin, &codes)?;
        let m = Meta {
            reasons: verdicts.reasons().to_vec(),
            counts: passed.to_vec(),
            seconds,
            transform: transform.is_some(),
        };
        write_atomic(
            &meta,
            &serde_json::to_vec(&m).map_err(|e| state_err(&meta, e))?,
        )?;
        Ok((verdicts, transform, seconds))
    }
}

struct Empty;
impl datamill_io::read::RecordReader for Empty {
    fn next_record(&mut self) -> datamill_io::error::Result<Option<Record>> {
        Ok(None)
    }
}

/// `a/b/../c` → `a/c`, `./a` → `a` (lexically; for display and stable paths).
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            c => out.push(c),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// The output folder a pipeline writes to under `opts`.
pub fn output_dir(p: &Pipeline, opts: &RunOptions) -> Result<PathBuf, RunError> {
    match (&opts.output, &p.config.output.dir) {
        (Some(o), _) => Ok(o.clone()),
        (None, Some(d)) => Ok(normalize(&p.base_dir.join(d))),
        (None, None) => Err(RunError::Config(ConfigError::Invalid {
            path: p.path.clone(),
            line: 0,
            message: "no output folder: set `dir` in [output] or pass --output".into(),
        })),
    }
}

/// Runs a pipeline. `stop` can be set from another thread to interrupt at the next unit.
pub fn run(
    p: &Pipeline,
    opts: &RunOptions,
    progress: &Progress,
    stop: &AtomicBool,
) -> Result<RunReport, RunError> {
    let started = Instant::now();
    let out = output_dir(p, opts)?;
    let files = describe_input(p)?;
    let run_json = out.join(".datamill").join("run.json");
    let old: Option<RunState> = std::fs::read(&run_json)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let pipeline_hash = format!("{:032x}", xxhash_rust::xxh3::xxh3_128(p.source.as_bytes()));
    // Same pipeline, same files: reuse the stored plan (planning may scan every file).
    let units = match &old {
        Some(o) if o.pipeline_hash == pipeline_hash && o.files == files => o.units.clone(),
        _ => plan_units(p, &files)?,
    };
    #[cfg(feature = "parquet")]
    let schema_hint = if p.config.output.format == Format::Parquet {
        files
            .iter()
            .find(|f| f.format == Format::Parquet)
            .map(datamill_io::parquet::schema)
            .transpose()?
    } else {
        None
    };
    let state_dir = out.join(".datamill");
    let state = RunState {
        datamill: env!("CARGO_PKG_VERSION").to_string(),
        pipeline_hash: format!("{:032x}", xxhash_rust::xxh3::xxh3_128(p.source.as_bytes())),
        files: files.clone(),
        units: units.clone(),
    };
    let run_json = state_dir.join("run.json");
    if let Ok(bytes) = std::fs::read(&run_json) {
        let old: Option<RunState> = serde_json::from_slice(&bytes).ok();
        let what = match &old {
            None => Some("unreadable run.json".to_string()),
            Some(o) if o.pipeline_hash != state.pipeline_hash => {
                Some("the pipeline file changed".into())
            }
            Some(o) if o.files != state.files => Some("the input files changed".into()),
            Some(o) if o.units != state.units => Some("the work units changed".into()),
            _ => None,
        };
        if let Some(what) = what {
            if !opts.force {
                return Err(RunError::Mismatch {
                    dir: out.clone(),
                    what,
                });
            }
            wipe(&out)?;
        }
    } else if opts.force {
        wipe(&out)?;
    }
    std::fs::create_dir_all(&state_dir).map_err(|e| IoError::io(&state_dir, e))?;
    write_atomic(
        &run_json,
        &serde_json::to_vec_pretty(&state).map_err(|e| state_err(&run_json, e))?,
    )?;
    // Leftover temporary files of an interrupted run (with several tasks sharing the folder,
    // each task cleans its own units instead).
    if let (None, Ok(entries)) = (opts.shard, std::fs::read_dir(&out)) {
        for e in entries.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.ends_with(".tmp") && is_ours(n.trim_end_matches(".tmp")) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }

    let ctx = Ctx {
        p,
        out: out.clone(),
        state_dir,
        files: &files,
        units: &units,
        read: ReadOptions {
            names: datamill_core::FieldNames {
                text: p.config.input.text_field.clone(),
                id: p.config.input.id_field.clone(),
            },
            max_line_bytes: p.config.input.max_line_bytes.0 as usize,
        },
        write: WriteOptions {
            format: p.config.output.format,
            compression: p.config.output.compression,
            level: p
                .config
                .output
                .level
                .unwrap_or(match p.config.output.compression {
                    Compression::Gzip => 6,
                    _ => 3,
                }),
            max_shard_bytes: p.config.output.max_shard_bytes.0,
            #[cfg(feature = "parquet")]
            schema_hint,
        },
        progress,
    };
    let segs = segments(p);
    let resumed = AtomicU64::new(0);
    let mut ran = 0u64;
    let mut total = RunStats {
        stages: p.steps.iter().map(|(k, _)| StageStats::new(k)).collect(),
        ..Default::default()
    };
    let mut verdicts: Option<Verdicts> = None;
    let mut transform: Option<Box<dyn Stage>> = None;
    let nseg = segs.len();
    for (k, seg) in segs.iter().enumerate() {
        let tasks: Vec<(usize, u64)> = (0..units.len())
            .filter(|&u| opts.shard.is_none_or(|(r, w)| u as u32 % w == r))
            .map(|u| (u, ctx.task_size(k, seg, u)))
            .collect();
        let phase = if nseg == 1 {
            "run".to_string()
        } else {
            format!("pass {}/{}", k + 1, nseg)
        };
        progress.start_phase(phase, tasks.iter().map(|t| t.1).sum(), tasks.len() as u64);
        let before = resumed.load(Ordering::Relaxed);
        let done = parallel(&tasks, opts.workers, stop, |u| {
            ctx.run_task(k, seg, u, verdicts.as_ref(), transform.as_deref(), &resumed)
        })?;
        ran += tasks.len() as u64 - (resumed.load(Ordering::Relaxed) - before);
        // With several tasks, wait for the others' markers and read every unit's result.
        let done = match opts.shard {
            None => done,
            Some(_) => ctx.wait_for_markers(k, units.len(), stop)?,
        };
        for d in &done {
            total += &d.stats;
        }
        // Every task of pass k is done: the documents pass k − 1 passed on are no longer
        // needed; its markers stay, so a rerun still skips it.
        if k > 0 && !stop.load(Ordering::Relaxed) {
            ctx.drop_pass_data(k - 1);
        }
        if let SegEnd::Summarize(g) = seg.end {
            if stop.load(Ordering::Relaxed) {
                return Err(RunError::Interrupted);
            }
            let passed: Vec<u32> = done.iter().map(|d| d.passed).collect();
            // A rerun whose next pass is already complete needs neither the verdicts nor the
            // transform: deciding again would only rewrite the stage's report without what
            // the transform added to it.
            let stored = std::fs::read(ctx.state_dir.join(format!("decide{k}.json")))
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
            if let Some(meta) = &stored
                && (0..units.len()).all(|u| ctx.marker(k + 1, u).exists())
            {
                total.stages[g].seconds += meta["seconds"].as_f64().unwrap_or(0.0);
                verdicts = Some(Verdicts::new(&passed));
                transform = None;
                continue;
            }
            progress.start_phase(format!("decide {}", p.steps[g].0), 0, passed.len() as u64);
            let decider_rank = opts.shard.map_or(0, |(r, _)| r);
            if decider_rank != 0 {
                ctx.wait_for_file(&ctx.state_dir.join(format!("decide{k}.json")), stop)?;
            }
            let (v, t, secs) =
                ctx.decide(k, g, &passed, opts.memory, opts.workers, decider_rank)?;
            total.stages[g].seconds += secs;
            verdicts = Some(v);
            transform = t;
        }
    }
    if stop.load(Ordering::Relaxed) {
        return Err(RunError::Interrupted);
    }
    total
        .check_invariant()
        .map_err(|e| state_err(&out, format!("accounting error (a bug): {e}")))?;
    let seconds = started.elapsed().as_secs_f64();
    let sf = StatsFile {
        stats: &total,
        work_units: units.len(),
        workers: opts.workers,
        wall_seconds: seconds,
    };
    let stats_path = out.join("stats.json");
    let mut json = serde_json::to_vec_pretty(&sf).map_err(|e| state_err(&stats_path, e))?;
    json.push(b'\n');
    if opts.shard.is_none_or(|(r, _)| r == 0) {
        write_atomic(&stats_path, &json)?;
    }
    Ok(RunReport {
        notes: planning_notes(p, &files, &units),
        stats: total,
        out_dir: out,
        resumed_tasks: resumed.load(Ordering::Relaxed),
        ran_tasks: ran,
        seconds,
    })
}
