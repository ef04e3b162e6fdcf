//! Tasks: the only place where work happens. An executor only decides which tasks to run
//! where and when; [`Runner::run`] (or [`run_task`] from another process) does each one.
//!
//! Every task is idempotent: it starts by removing what an interrupted attempt may have
//! left, writes its outputs under temporary names and renames them into place, and writes
//! its completion marker last. A task whose marker exists is skipped. Everything a later
//! task needs (statistics, the number of documents passed on, verdicts, a transform's state,
//! report notes) is in files, never in an executor's memory, so any process that can read the
//! output folder can run any task whose predecessors are done.

use crate::error::{RunError, state_err};
use crate::fault;
use crate::layout::{Layout, stem};
use crate::pipeline::Pipeline;
use crate::plan::{End, Plan, Source, Task};
use crate::progress::Progress;
use datamill_core::codec::{Dec, Enc};
use datamill_core::stats::{RunStats, StageStats};
use datamill_core::{
    DecideCx, Doc, DocRef, GlobalStage, ReportSink, Stage, StageCx, Verdict, Verdicts,
};
use datamill_io::plan::{InputFile, Span, WorkUnit};
use datamill_io::read::{ReadOptions, Record, open_unit};
use datamill_io::schema::{Fields, conform_line};
use datamill_io::write::{ShardInfo, ShardWriter, WriteOptions, rewrite_jsonl};
use datamill_io::{Compression, Format, IoError};
use datamill_stages::Step;
use serde::{Deserialize, Serialize};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Writes `bytes` to `path` under a temporary name (`<name>.<pid>.tmp`: several processes
/// may write the same, identical file) and renames it into place.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RunError> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = path.with_file_name(format!("{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| IoError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| IoError::io(path, e))?;
    Ok(())
}

/// What a finished pass task records in its marker.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TaskDone {
    /// The task's statistics (the stages of its pass; input counts in pass 0).
    pub stats: RunStats,
    /// Documents it passed to the decider after its pass.
    pub passed: u32,
    /// The output shards it wrote (last pass), with their fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<ShardInfo>,
    /// What the task used (time, CPU, peak memory), for the report; absent in markers of
    /// an older datamill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<crate::resources::Resources>,
}

/// What the schema task changed, in its marker: the statistics of rewritten shards differ
/// from what the last pass's markers recorded by these amounts.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SchemaDone {
    /// Output fields in the run-wide schema.
    pub fields: usize,
    /// Shards rewritten to follow it.
    pub rewritten: u64,
    /// Change of the output's uncompressed JSON bytes (JSONL: fields added as `null`, numbers
    /// written as floats).
    pub output_bytes_delta: i64,
    /// Change of the output's bytes on disk.
    pub output_file_bytes_delta: i64,
}

/// `decision.json`: what a decide task stored (written last: its completion marker).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DecisionInfo {
    /// The global stage's type.
    pub stage: String,
    /// The drop reasons; verdict code `i + 1` is reason `i`.
    pub reasons: Vec<String>,
    /// Documents per unit (the verdict codes of unit `u` follow those of units before it).
    pub counts: Vec<u32>,
    /// Seconds the decider took.
    pub seconds: f64,
    /// Whether the decision has a transform (`transform.bin`).
    pub transform: bool,
    /// What the decide step used (time, CPU of the whole process, its own peak memory);
    /// absent in decisions of an older datamill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<crate::resources::Resources>,
}

/// A decision loaded for the pass that applies it.
struct Applied<'a> {
    verdicts: Verdicts,
    transform: Option<Box<dyn Stage + 'a>>,
    /// Drop details (fields for `excluded_by`) by document, when excluded documents are
    /// written.
    details: std::collections::HashMap<DocRef, Box<str>>,
}

/// Runs the tasks of one plan in this process.
pub struct Runner<'a> {
    plan: &'a Plan,
    p: &'a Pipeline,
    layout: Layout,
    read: ReadOptions,
    write: WriteOptions,
    progress: &'a Progress,
    memory: Option<u64>,
    workers: usize,
    /// The first `token_count` stage and its field: tokens are counted in and out of every
    /// later stage (counters `tokens_in`, `tokens_out`).
    tokens: Option<(usize, String)>,
    /// For Parquet output: the input Parquet files' schemas merged (first file first).
    #[cfg(feature = "parquet")]
    hint: Option<datamill_io::arrow_schema::SchemaRef>,
    /// The decision applied by the pass that ran last here (pass index, decision).
    applied: Mutex<Option<(usize, Arc<Applied<'a>>)>>,
    ran: AtomicU64,
    skipped: AtomicU64,
}

/// Runs one task of the plan stored in output folder `out` (see [`Plan::load`]), from any
/// process: the entry point of cluster executors. Its predecessors must be done; it is
/// skipped if its marker exists. Returns whether it ran now.
pub fn run_task(out: &Path, task: Task, memory: Option<u64>) -> Result<bool, RunError> {
    let plan = Plan::load(out)?;
    plan.check(task).map_err(|m| state_err(out, m))?;
    let p = plan.pipeline()?;
    let progress = Progress::default();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    Runner::new(&plan, &p, out, &progress, memory, workers)?.run(task)
}

fn stage_err(p: &Pipeline, i: usize, e: impl std::fmt::Display) -> RunError {
    RunError::Stage {
        index: i + 1,
        kind: p.steps[i].0.to_string(),
        message: e.to_string(),
    }
}

impl<'a> Runner<'a> {
    /// A runner for `plan` (built into `p`) writing to `out`; deciders may use `memory`
    /// bytes and `workers` threads.
    pub fn new(
        plan: &'a Plan,
        p: &'a Pipeline,
        out: &Path,
        progress: &'a Progress,
        memory: Option<u64>,
        workers: usize,
    ) -> Result<Runner<'a>, RunError> {
        #[cfg(feature = "parquet")]
        let schema_hint = if p.config.output.format == Format::Parquet {
            input_schema(&plan.files, &p.config.output)?
        } else {
            None
        };
        let out_cfg = &p.config.output;
        Ok(Runner {
            plan,
            p,
            layout: Layout::new(out),
            read: ReadOptions {
                names: datamill_core::FieldNames {
                    text: p.config.input.text_field.clone(),
                    id: p.config.input.id_field.clone(),
                },
                max_line_bytes: p.config.input.max_line_bytes.0 as usize,
                replace_invalid_utf8: p.config.input.invalid_utf8
                    == crate::pipeline::InvalidUtf8::Replace,
            },
            write: WriteOptions {
                format: out_cfg.format,
                compression: out_cfg.compression,
                level: out_cfg.level.unwrap_or(match out_cfg.compression {
                    Compression::Gzip => 6,
                    _ => 3,
                }),
                max_shard_bytes: out_cfg.max_shard_bytes.0,
                #[cfg(feature = "parquet")]
                schema_hint: schema_hint.clone(),
                track_schema: false,
            },
            progress,
            memory,
            workers,
            tokens: p.token_field(),
            #[cfg(feature = "parquet")]
            hint: schema_hint,
            applied: Mutex::new(None),
            ran: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
        })
    }

    /// The plan.
    pub fn plan(&self) -> &Plan {
        self.plan
    }

    /// The output folder's layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The progress counters.
    pub fn progress(&self) -> &Progress {
        self.progress
    }

    /// Pass tasks run and pass tasks skipped (already done) so far by this runner.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.ran.load(Ordering::Relaxed),
            self.skipped.load(Ordering::Relaxed),
        )
    }

    /// Runs `task` unless its marker exists; returns whether it ran now.
    pub fn run(&self, task: Task) -> Result<bool, RunError> {
        match task {
            Task::Pass { pass, unit } => {
                let ran = self.run_pass(pass, unit)?;
                let c = if ran { &self.ran } else { &self.skipped };
                c.fetch_add(1, Ordering::Relaxed);
                Ok(ran)
            }
            Task::Decide { pass } => self.decide(pass),
            Task::Report { decision } => self.report(decision),
            Task::Schema => self.schema(),
        }
    }

    /// Whether `task`'s completion marker exists.
    pub fn is_done(&self, task: Task) -> bool {
        match task {
            Task::Pass { pass, unit } => self.layout.marker(pass, unit).exists(),
            Task::Decide { pass } => self.layout.decision(pass).exists(),
            Task::Report { decision } => {
                self.layout.report_done(decision).exists()
                    || self.decision_info(decision).is_ok_and(|d| !d.transform)
            }
            Task::Schema => self.layout.schema_done().exists(),
        }
    }

    /// Bytes task (`k`, `unit`) reads (for scheduling, largest first, and progress).
    pub fn task_size(&self, k: usize, unit: usize) -> u64 {
        match self.plan.passes[k].reads {
            Source::Input => self.plan.units[unit].size,
            Source::HandOver => std::fs::metadata(self.hand_over(k - 1, unit))
                .map(|m| m.len())
                .unwrap_or(0),
        }
    }

    fn hand_over(&self, k: usize, unit: usize) -> PathBuf {
        let suffix = self.p.config.output.intermediate.suffix();
        self.layout.hand_over(k, unit, suffix)
    }

    /// Reads the markers of every task of pass `k`; an error names the first missing one.
    pub fn pass_results(&self, k: usize) -> Result<Vec<TaskDone>, RunError> {
        (0..self.plan.units.len())
            .map(|u| {
                let m = self.layout.marker(k, u);
                let bytes = std::fs::read(&m).map_err(|e| {
                    state_err(
                        &m,
                        format!("task {} is not done ({e})", Task::Pass { pass: k, unit: u }),
                    )
                })?;
                serde_json::from_slice(&bytes).map_err(|e| state_err(&m, e))
            })
            .collect()
    }

    /// Reads `decision.json` of decision `k`.
    pub fn decision_info(&self, k: usize) -> Result<DecisionInfo, RunError> {
        let path = self.layout.decision(k);
        let bytes = std::fs::read(&path)
            .map_err(|e| state_err(&path, format!("decision {k} is not made yet ({e})")))?;
        serde_json::from_slice(&bytes).map_err(|e| state_err(&path, e))
    }

    /// The run's statistics, summed from every task's marker and every decision's file.
    pub fn collect_stats(&self) -> Result<RunStats, RunError> {
        let mut total = RunStats {
            stages: self
                .p
                .steps
                .iter()
                .map(|(k, _)| StageStats::new(k))
                .collect(),
            ..Default::default()
        };
        for k in 0..self.plan.passes.len() {
            for d in self.pass_results(k)? {
                total += &d.stats;
            }
        }
        for (k, d) in self.plan.decisions.iter().enumerate() {
            total.stages[d.stage].seconds += self.decision_info(k)?.seconds;
        }
        if let Ok(bytes) = std::fs::read(self.layout.schema_done()) {
            let path = self.layout.schema_done();
            let d: SchemaDone = serde_json::from_slice(&bytes).map_err(|e| state_err(&path, e))?;
            total.output_bytes = total
                .output_bytes
                .saturating_add_signed(d.output_bytes_delta);
            total.output_file_bytes = total
                .output_file_bytes
                .saturating_add_signed(d.output_file_bytes_delta);
        }
        Ok(total)
    }

    /// Removes the documents pass `k` handed over (once pass `k + 1` is complete); its
    /// markers stay, so a rerun still skips it.
    pub fn drop_hand_over(&self, k: usize) {
        self.remove_in_pass_dir(k, ".jsonl");
    }

    fn remove_in_pass_dir(&self, k: usize, needle: &str) {
        let Ok(entries) = std::fs::read_dir(self.layout.pass_dir(k)) else {
            return;
        };
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().contains(needle) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }

    fn global(&self, g: usize) -> &'a dyn GlobalStage {
        let Step::Global(stage) = &self.p.steps[g].1 else {
            unreachable!("a decision belongs to a global stage")
        };
        &**stage
    }

    /// The decision pass `k` applies, loaded once per pass and process.
    fn applied(&self, k: usize) -> Result<Arc<Applied<'a>>, RunError> {
        let mut slot = self.applied.lock().expect("decision lock");
        if let Some((kk, a)) = &*slot
            && *kk == k
        {
            return Ok(a.clone());
        }
        *slot = None;
        let d = k - 1;
        let info = self.decision_info(d)?;
        let path = self.layout.verdicts(d);
        let codes = std::fs::read(&path).map_err(|e| IoError::io(&path, e))?;
        let total: usize = info.counts.iter().map(|&n| n as usize).sum();
        if codes.len() != total {
            return Err(state_err(
                &path,
                format!("{} verdicts for {total} documents", codes.len()),
            ));
        }
        let mut units = Vec::with_capacity(info.counts.len());
        let mut off = 0usize;
        for &n in &info.counts {
            units.push(codes[off..off + n as usize].to_vec());
            off += n as usize;
        }
        let g = self.plan.decisions[d].stage;
        let transform = if info.transform {
            let path = self.layout.transform(d);
            let state = std::fs::read(&path).map_err(|e| IoError::io(&path, e))?;
            Some(
                self.global(g)
                    .transform(&state)
                    .map_err(|e| stage_err(self.p, g, e))?,
            )
        } else {
            None
        };
        let mut details = std::collections::HashMap::new();
        let path = self.layout.details(d);
        if self.p.config.output.excluded
            && let Ok(bytes) = std::fs::read(&path)
        {
            let mut dec = Dec::new(&bytes, "drop details");
            while !dec.is_empty() {
                let at = DocRef {
                    unit: dec.u32().map_err(|e| state_err(&path, e))?,
                    index: dec.u32().map_err(|e| state_err(&path, e))?,
                };
                let detail = dec.str().map_err(|e| state_err(&path, e))?;
                details.insert(at, detail.into_boxed_str());
            }
        }
        let a = Arc::new(Applied {
            verdicts: Verdicts::from_parts(units, info.reasons),
            transform,
            details,
        });
        *slot = Some((k, a.clone()));
        Ok(a)
    }

    /// Runs pass `k` on one unit, unless its marker exists. A failed attempt leaves nothing
    /// behind: its shards, temporary files, summaries and notes are removed.
    fn run_pass(&self, k: usize, unit: usize) -> Result<bool, RunError> {
        let r = self.try_pass(k, unit);
        if r.is_err() {
            self.clean_pass(k, unit);
        }
        r
    }

    /// Removes what a failed attempt at pass `k`, unit `unit` wrote (best effort: the error
    /// being reported matters more).
    fn clean_pass(&self, k: usize, unit: usize) {
        let l = &self.layout;
        let s = stem(unit);
        let last = matches!(self.plan.passes[k].end, End::Output);
        if last {
            let _ = ShardWriter::clean(l.out(), &s);
        } else {
            let _ = ShardWriter::clean(&l.pass_dir(k), &s);
        }
        let _ = ShardWriter::clean(&l.excluded_dir(), &l.excluded_stem(k, unit));
        let summ = l.summaries(k, unit);
        for p in [
            summ.with_extension("summ.tmp"),
            summ,
            l.notes(k, unit),
            l.quarantine(unit).with_extension("jsonl.tmp"),
        ] {
            let _ = std::fs::remove_file(p);
        }
    }

    fn try_pass(&self, k: usize, unit: usize) -> Result<bool, RunError> {
        let l = &self.layout;
        let marker = l.marker(k, unit);
        if marker.exists() {
            let size = self.task_size(k, unit);
            self.progress.units_done.fetch_add(1, Ordering::Relaxed);
            self.progress.bytes.fetch_add(size, Ordering::Relaxed);
            self.progress
                .reused_bytes
                .fetch_add(size, Ordering::Relaxed);
            return Ok(false);
        }
        let meter = crate::resources::Meter::start(false);
        let pass = &self.plan.passes[k];
        let p = self.p;
        let s = stem(unit);
        let mut stats = RunStats {
            stages: p
                .steps
                .iter()
                .map(|(kind, _)| StageStats::new(kind))
                .collect(),
            ..Default::default()
        };
        let last = matches!(pass.end, End::Output);
        let excluded_on = p.config.output.excluded;
        // Clean what an interrupted attempt may have left.
        let excluded_dir = l.excluded_dir();
        let excluded_stem = l.excluded_stem(k, unit);
        let pass_dir = l.pass_dir(k);
        std::fs::create_dir_all(&pass_dir).map_err(|e| IoError::io(&pass_dir, e))?;
        if last {
            ShardWriter::clean(l.out(), &s)?;
        } else {
            ShardWriter::clean(&pass_dir, &s)?;
        }
        if excluded_on {
            ShardWriter::clean(&excluded_dir, &excluded_stem)?;
        }
        let notes_path = l.notes(k, unit);
        remove_if_present(&notes_path)?;
        let mut quarantine = QuarantineWriter::new(l.quarantine(unit));
        if k == 0 {
            remove_if_present(&quarantine.path)?;
        }
        let mut out = if last {
            ShardWriter::new(
                l.out(),
                &s,
                WriteOptions {
                    track_schema: true,
                    ..self.write.clone()
                },
            )
        } else {
            ShardWriter::new(
                &pass_dir,
                &s,
                WriteOptions {
                    format: Format::Jsonl,
                    compression: p.config.output.intermediate,
                    level: 1,
                    max_shard_bytes: u64::MAX,
                    ..Default::default()
                },
            )
        };
        let mut excluded = excluded_on.then(|| {
            ShardWriter::new(
                &excluded_dir,
                &excluded_stem,
                WriteOptions {
                    format: Format::Jsonl,
                    ..self.write.clone()
                },
            )
        });
        let summ_path = l.summaries(k, unit);
        let summ_tmp = summ_path.with_extension("summ.tmp");
        let mut summ = match pass.end {
            End::Summarize { .. } => Some(BufWriter::new(
                std::fs::File::create(&summ_tmp).map_err(|e| IoError::io(&summ_tmp, e))?,
            )),
            End::Output => None,
        };
        let applied = match pass.applies {
            Some(_) => Some(self.applied(k)?),
            None => None,
        };
        let mut notes = Enc::default();
        let mut has_notes = false;
        let mut changes = crate::changes::Changes::default();
        // A later pass that reads the input again skips what pass 0 already counted.
        let replay = k > 0 && pass.reads == Source::Input;
        let mut reader = match pass.reads {
            Source::Input => {
                let u = &self.plan.units[unit];
                open_unit(
                    &self.plan.files[u.file as usize],
                    u,
                    &self.read,
                    self.progress.bytes.clone(),
                )?
            }
            Source::HandOver => {
                let path = self.hand_over(k - 1, unit);
                if !path.exists() {
                    // The previous pass passed nothing on from this unit.
                    Box::new(Empty) as Box<dyn datamill_io::read::RecordReader>
                } else {
                    let f = InputFile {
                        label: format!("{}", path.display()),
                        format: Format::Jsonl,
                        compression: p.config.output.intermediate,
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
            }
        };
        let mut cx = StageCx::default();
        let mut buf = Vec::new();
        let mut index: u32 = 0;
        let mut passed: u32 = 0;
        let drop_doc = |doc: &mut Doc,
                        i: usize,
                        reason: &str,
                        detail: Option<&str>,
                        stats: &mut RunStats,
                        excluded: &mut Option<ShardWriter>|
         -> Result<(), RunError> {
            *stats.stages[i]
                .dropped
                .entry(reason.to_string())
                .or_default() += 1;
            if let Some(x) = excluded {
                let mut by = serde_json::json!({"stage": p.steps[i].0, "reason": reason});
                // A global stage's details (`duplicate_of`, `cluster`, ...) follow.
                if let Some(serde_json::Value::Object(m)) =
                    detail.and_then(|d| serde_json::from_str(d).ok())
                {
                    by.as_object_mut().expect("an object").extend(m);
                }
                doc.set("excluded_by", &by);
                x.write(doc)?;
            }
            Ok(())
        };
        let file_errors = p.config.input.on_file_error == crate::pipeline::OnFileError::Quarantine
            && pass.reads == Source::Input;
        'records: loop {
            let rec = match reader.next_record() {
                Ok(Some(rec)) => rec,
                Ok(None) => break,
                // The records read so far stay; the rest of the unit is one quarantined
                // record (counted once: a pass reading the input again stops at the same
                // place).
                Err(e) if file_errors => {
                    if !replay {
                        let u = &self.plan.units[unit];
                        let b = datamill_io::read::BadRecord {
                            location: self.plan.files[u.file as usize].label.clone(),
                            reason: "file_error",
                            message: format!("the rest of work unit {unit} is unreadable: {e}"),
                            raw: String::new(),
                            raw_bytes: None,
                            bytes: 0,
                        };
                        stats.input_docs += 1;
                        stats.quarantined += 1;
                        *stats.quarantine.entry(b.reason.to_string()).or_default() += 1;
                        quarantine.write(&b)?;
                    }
                    break;
                }
                Err(e) => return Err(e.into()),
            };
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
            let id_hash = crate::changes::id_hash(&doc);
            if k == 0 {
                stats.input_docs += 1;
                stats.input_bytes += bytes;
            }
            if let (Some(g), Some(a)) = (pass.applies, &applied) {
                let at = DocRef {
                    unit: unit as u32,
                    index,
                };
                index += 1;
                stats.stages[g].input += 1;
                let tokens_in = self.doc_tokens(g, &doc);
                count_tokens(&mut stats.stages[g], "tokens_in", tokens_in);
                if let Some(reason) = a.verdicts.get(at) {
                    let reason = reason.to_string();
                    let detail = a.details.get(&at).map(|d| &**d);
                    drop_doc(&mut doc, g, &reason, detail, &mut stats, &mut excluded)?;
                    continue;
                }
                if let Some(t) = &a.transform {
                    let start = Instant::now();
                    cx.set_doc_ref(Some(at));
                    let track = changes.wants(g, id_hash);
                    if track {
                        doc.keep_earlier_text();
                    }
                    let verdict = t
                        .process(&mut doc, &mut cx)
                        .map_err(|e| stage_err(p, g, format!("document {}: {e}", doc.id())))?;
                    let earlier = if track { doc.take_earlier_text() } else { None };
                    cx.set_doc_ref(None);
                    let st = &mut stats.stages[g];
                    st.seconds += start.elapsed().as_secs_f64();
                    for (name, n) in cx.take_counters() {
                        *st.counters.entry(name.to_string()).or_default() += n;
                    }
                    for n in cx.take_notes() {
                        notes.bytes(&n);
                        has_notes = true;
                    }
                    if let Verdict::Drop(reason) = verdict {
                        drop_doc(&mut doc, g, &reason, None, &mut stats, &mut excluded)?;
                        continue;
                    }
                    if let Some(before) = earlier {
                        changes.offer(g, id_hash, &doc, &before);
                    }
                }
                stats.stages[g].kept += 1;
                let tokens_out = self.doc_tokens(g, &doc);
                count_tokens(&mut stats.stages[g], "tokens_out", tokens_out);
            }
            for &i in &pass.stages {
                let Step::Map(stage) = &p.steps[i].1 else {
                    unreachable!("passes list per-document stages")
                };
                let tokens_in = self.doc_tokens(i, &doc);
                let t = Instant::now();
                let track = changes.wants(i, id_hash);
                if track {
                    doc.keep_earlier_text();
                }
                let verdict = stage
                    .process(&mut doc, &mut cx)
                    .map_err(|e| stage_err(p, i, format!("document {}: {e}", doc.id())))?;
                let earlier = if track { doc.take_earlier_text() } else { None };
                let st = &mut stats.stages[i];
                st.seconds += t.elapsed().as_secs_f64();
                st.input += 1;
                for (name, n) in cx.take_counters() {
                    *st.counters.entry(name.to_string()).or_default() += n;
                }
                count_tokens(st, "tokens_in", tokens_in);
                match verdict {
                    Verdict::Keep => {
                        st.kept += 1;
                        if let Some(before) = earlier {
                            changes.offer(i, id_hash, &doc, &before);
                        }
                        // The token_count stage itself: its count, now written.
                        count_tokens(st, "tokens_out", self.doc_tokens(i + 1, &doc));
                    }
                    Verdict::Drop(reason) => {
                        drop_doc(&mut doc, i, &reason, None, &mut stats, &mut excluded)?;
                        continue 'records;
                    }
                }
            }
            match pass.end {
                End::Summarize {
                    stage: g,
                    hand_over,
                } => {
                    let t = Instant::now();
                    buf.clear();
                    self.global(g)
                        .summarize(&doc, &mut buf)
                        .map_err(|e| stage_err(p, g, format!("document {}: {e}", doc.id())))?;
                    stats.stages[g].seconds += t.elapsed().as_secs_f64();
                    let w = summ.as_mut().expect("summary writer");
                    w.write_all(&(buf.len() as u32).to_le_bytes())
                        .and_then(|_| w.write_all(&buf))
                        .map_err(|e| IoError::io(&summ_tmp, e))?;
                    if hand_over {
                        out.write(&doc)?;
                    }
                    passed += 1;
                }
                End::Output => {
                    shape_fields(&mut doc, &p.config.output);
                    out.write(&doc)?
                }
            }
        }
        if k == 0 {
            stats.invalid_utf8_replaced += reader.repaired();
        }
        let mut ws = out.finish()?;
        let shards = std::mem::take(&mut ws.shards);
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
        if has_notes {
            write_atomic(&notes_path, &notes.finish())?;
        }
        if !changes.is_empty() {
            let path = l.changes(k, unit);
            let json = serde_json::to_vec(&changes).map_err(|e| state_err(&path, e))?;
            write_atomic(&path, &json)?;
        }
        let done = TaskDone {
            stats,
            passed,
            shards,
            resources: Some(meter.finish()),
        };
        let json = serde_json::to_vec(&done).map_err(|e| state_err(&marker, e))?;
        let mut guard = fault::serialize();
        fault::check("outputs", k, guard.as_mut());
        write_atomic(&marker, &json)?;
        fault::check("marker", k, guard.as_mut());
        drop(guard);
        self.progress.units_done.fetch_add(1, Ordering::Relaxed);
        Ok(true)
    }

    /// Makes the decision after pass `k` over all its summaries and stores it, unless it is
    /// stored already. Needs every task of pass `k` done.
    fn decide(&self, k: usize) -> Result<bool, RunError> {
        let l = &self.layout;
        if l.decision(k).exists() {
            // The summaries served their purpose (an earlier attempt may have stopped
            // before removing them).
            self.remove_in_pass_dir(k, ".summ");
            return Ok(false);
        }
        let passed: Vec<u32> = self.pass_results(k)?.iter().map(|d| d.passed).collect();
        let dec = &self.plan.decisions[k];
        let g = dec.stage;
        let p = self.p;
        let work = l.work(k);
        if work.exists() {
            std::fs::remove_dir_all(&work).map_err(|e| IoError::io(&work, e))?;
        }
        std::fs::create_dir_all(&work).map_err(|e| IoError::io(&work, e))?;
        let dcx = DecideCx {
            report: ReportSink::dir(l.report_dir(&dec.report)),
            work_dir: work.clone(),
            memory_budget: self.memory,
            workers: self.workers,
        };
        // The decide step's peak memory is its own (and the next pass's starts afresh).
        crate::resources::reset_peak_rss();
        let meter = crate::resources::Meter::start(true);
        let t = Instant::now();
        let mut verdicts = Verdicts::new(&passed);
        verdicts.want_details(p.config.output.excluded);
        let mut decider = self
            .global(g)
            .decider(&dcx)
            .map_err(|e| stage_err(p, g, e))?;
        let mut buf = Vec::new();
        for (unit, &n) in passed.iter().enumerate() {
            decider.begin_unit(unit as u32, self.plan.units[unit].file);
            let path = l.summaries(k, unit);
            let f = std::fs::File::open(&path).map_err(|e| IoError::io(&path, e))?;
            let mut r = BufReader::new(f);
            for index in 0..n {
                let mut len = [0u8; 4];
                r.read_exact(&mut len).map_err(|e| IoError::io(&path, e))?;
                buf.resize(u32::from_le_bytes(len) as usize, 0);
                r.read_exact(&mut buf).map_err(|e| IoError::io(&path, e))?;
                let at = DocRef {
                    unit: unit as u32,
                    index,
                };
                decider
                    .observe(at, &buf, &mut verdicts)
                    .map_err(|e| stage_err(p, g, e))?;
            }
            self.progress.units_done.fetch_add(1, Ordering::Relaxed);
        }
        let state = decider
            .finish(&mut verdicts)
            .map_err(|e| stage_err(p, g, e))?;
        drop(decider);
        let seconds = t.elapsed().as_secs_f64();
        let mut codes = Vec::with_capacity(passed.iter().map(|&n| n as usize).sum());
        for u in 0..passed.len() {
            codes.extend_from_slice(verdicts.unit_codes(u));
        }
        write_atomic(&l.verdicts(k), &codes)?;
        let details = verdicts.take_details();
        if details.is_empty() {
            remove_if_present(&l.details(k))?;
        } else {
            let mut e = Enc::default();
            for (at, d) in &details {
                e.u32(at.unit);
                e.u32(at.index);
                e.str(d);
            }
            write_atomic(&l.details(k), &e.finish())?;
        }
        match &state {
            Some(s) => write_atomic(&l.transform(k), s)?,
            None => remove_if_present(&l.transform(k))?,
        }
        let info = DecisionInfo {
            stage: dec.kind.clone(),
            reasons: verdicts.reasons().to_vec(),
            counts: passed,
            seconds,
            transform: state.is_some(),
            resources: Some(meter.finish()),
        };
        crate::resources::reset_peak_rss();
        let path = l.decision(k);
        write_atomic(
            &path,
            &serde_json::to_vec_pretty(&info).map_err(|e| state_err(&path, e))?,
        )?;
        fault::check("decision", k, None);
        let _ = std::fs::remove_dir_all(&work);
        self.remove_in_pass_dir(k, ".summ");
        Ok(true)
    }

    /// Completes the report of decision `k` from the notes its transform left during pass
    /// `k + 1` (every task of which must be done), unless done already.
    fn report(&self, k: usize) -> Result<bool, RunError> {
        let l = &self.layout;
        if l.report_done(k).exists() {
            return Ok(false);
        }
        let info = self.decision_info(k)?;
        if !info.transform {
            return Ok(false);
        }
        let units = self.plan.units.len();
        for u in 0..units {
            let m = l.marker(k + 1, u);
            if !m.exists() {
                return Err(state_err(
                    &m,
                    format!(
                        "task {} is not done",
                        Task::Pass {
                            pass: k + 1,
                            unit: u
                        }
                    ),
                ));
            }
        }
        let path = l.transform(k);
        let state = std::fs::read(&path).map_err(|e| IoError::io(&path, e))?;
        let mut notes = Vec::new();
        for u in 0..units {
            let path = l.notes(k + 1, u);
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let mut d = Dec::new(&bytes, "report notes");
            while !d.is_empty() {
                notes.push(d.bytes().map_err(|e| state_err(&path, e))?.to_vec());
            }
        }
        let dec = &self.plan.decisions[k];
        let report = ReportSink::dir(l.report_dir(&dec.report));
        self.global(dec.stage)
            .finish_report(&state, &notes, &report)
            .map_err(|e| stage_err(self.p, dec.stage, e))?;
        write_atomic(&l.report_done(k), b"")?;
        fault::check("report", k, None);
        Ok(true)
    }
}

impl Runner<'_> {
    /// The tokens of `doc` as stage `i` sees it, when a `token_count` stage before `i` wrote
    /// them.
    fn doc_tokens(&self, i: usize, doc: &Doc) -> Option<u64> {
        let (from, field) = self.tokens.as_ref()?;
        if i <= *from {
            return None;
        }
        let raw = doc.get_raw(field)?;
        raw.parse::<u64>()
            .ok()
            .or_else(|| raw.parse::<f64>().ok().map(|x| x.max(0.0) as u64))
    }

    /// The schema task: merges the fields of every output shard (recorded in the last pass's
    /// markers, in unit and part order) into the run-wide schema, rewrites the shards that do
    /// not follow it, writes `schema.json` and the dataset card, then its marker. A rerun after
    /// a crash redoes it: rewriting a shard that already follows the schema gives the same
    /// file.
    fn schema(&self) -> Result<bool, RunError> {
        let l = &self.layout;
        if l.schema_done().exists() {
            return Ok(false);
        }
        let last = self.plan.passes.len() - 1;
        let results = self.pass_results(last)?;
        let shards: Vec<&ShardInfo> = results.iter().flat_map(|d| &d.shards).collect();
        let mut run = Fields::default();
        for s in &shards {
            run.merge(&s.fields);
        }
        let cfg = &self.p.config.output;
        let level = self.write.level;
        #[cfg(feature = "parquet")]
        let arrow = std::sync::Arc::new(datamill_io::schema::arrow_schema(
            &run,
            self.hint.as_deref(),
        ));
        let tasks: Vec<(usize, u64)> = shards
            .iter()
            .enumerate()
            .map(|(i, s)| (i, s.file_bytes))
            .collect();
        let never = std::sync::atomic::AtomicBool::new(false);
        // Per shard: rewritten now, uncompressed bytes after.
        let done = crate::pool::parallel(&tasks, self.workers, &never, |i| {
            let s = shards[i];
            let path = l.out().join(&s.name);
            match cfg.format {
                Format::Jsonl if s.fields.conforms_to(&run) => Ok((false, s.bytes)),
                Format::Jsonl => {
                    let (bytes, _) = rewrite_jsonl(&path, cfg.compression, level, |line| {
                        conform_line(line, &run).map_err(|e| IoError::Unsupported {
                            path: path.clone(),
                            message: format!("not a JSON object ({e})"),
                        })
                    })?;
                    Ok((true, bytes))
                }
                #[cfg(feature = "parquet")]
                Format::Parquet => {
                    let rewritten = datamill_io::parquet::conform_shard(
                        &path,
                        &run,
                        &arrow,
                        cfg.compression,
                        level,
                    )?;
                    Ok((rewritten, s.bytes))
                }
                #[cfg(not(feature = "parquet"))]
                Format::Parquet => Ok((false, s.bytes)),
            }
        })?;
        let mut info = SchemaDone {
            fields: run.fields.len(),
            ..Default::default()
        };
        for (s, (rewritten, bytes)) in shards.iter().zip(&done) {
            info.rewritten += u64::from(*rewritten);
            info.output_bytes_delta += *bytes as i64 - s.bytes as i64;
            let path = l.out().join(&s.name);
            let now = std::fs::metadata(&path)
                .map_err(|e| IoError::io(&path, e))?
                .len();
            info.output_file_bytes_delta += now as i64 - s.file_bytes as i64;
        }
        let (pattern, features) = match cfg.format {
            Format::Jsonl => (format!("*-*.jsonl{}", cfg.compression.suffix()), true),
            // Parquet shards carry their (identical) schema.
            Format::Parquet => ("*-*.parquet".to_string(), false),
        };
        let schema_json = serde_json::json!({
            "format": match cfg.format { Format::Jsonl => "jsonl", Format::Parquet => "parquet" },
            "documents": run.rows,
            "fields": run.fields.iter().map(|f| serde_json::json!({
                "name": f.name,
                "type": f.ty,
                "present": f.present,
            })).collect::<Vec<_>>(),
        });
        let path = l.schema_file();
        write_atomic(
            &path,
            &serde_json::to_vec_pretty(&schema_json).map_err(|e| state_err(&path, e))?,
        )?;
        write_atomic(
            &l.dataset_card(),
            run.dataset_card(&pattern, features).as_bytes(),
        )?;
        let path = l.schema_done();
        write_atomic(
            &path,
            &serde_json::to_vec_pretty(&info).map_err(|e| state_err(&path, e))?,
        )?;
        Ok(true)
    }
}

/// Adds a document's tokens (if known) to counter `name` of a stage.
fn count_tokens(st: &mut StageStats, name: &str, tokens: Option<u64>) {
    if let Some(n) = tokens {
        *st.counters.entry(name.to_string()).or_default() += n;
    }
}

/// The `[output]` field options applied to a document about to be written: `keep` (only
/// these fields and the text), `drop`, then `rename`.
fn shape_fields(doc: &mut Doc, cfg: &crate::pipeline::OutputConfig) {
    if let Some(keep) = &cfg.keep {
        let text = doc.text_key().to_string();
        let gone: Vec<String> = doc
            .keys()
            .filter(|k| *k != text && !keep.iter().any(|x| x == k))
            .map(str::to_string)
            .collect();
        for k in gone {
            doc.remove(&k);
        }
    }
    for k in &cfg.drop {
        doc.remove(k);
    }
    for (from, to) in &cfg.rename {
        doc.rename(from, to);
    }
}

/// The schema of the Parquet input files, merged: each column as the first file that has
/// it types it (the output's columns take these types where their values fit).
#[cfg(feature = "parquet")]
fn input_schema(
    files: &[InputFile],
    cfg: &crate::pipeline::OutputConfig,
) -> Result<Option<datamill_io::arrow_schema::SchemaRef>, RunError> {
    let mut fields: Vec<datamill_io::arrow_schema::FieldRef> = Vec::new();
    let mut any = false;
    for f in files.iter().filter(|f| f.format == Format::Parquet) {
        any = true;
        for field in datamill_io::parquet::schema(f)?.fields() {
            // A renamed column keeps its type under its new name.
            let field = match cfg.rename.get(field.name()) {
                Some(to) => std::sync::Arc::new(field.as_ref().clone().with_name(to)),
                None => field.clone(),
            };
            if !fields.iter().any(|g| g.name() == field.name()) {
                fields.push(field);
            }
        }
    }
    Ok(any.then(|| std::sync::Arc::new(datamill_io::arrow_schema::Schema::new(fields))))
}

fn remove_if_present(path: &Path) -> Result<(), RunError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(IoError::io(path, e).into()),
        _ => Ok(()),
    }
}

/// A unit's quarantine file, created with the first bad record, renamed into place at the
/// end.
struct QuarantineWriter {
    path: PathBuf,
    tmp: PathBuf,
    w: Option<BufWriter<std::fs::File>>,
}

impl QuarantineWriter {
    fn new(path: PathBuf) -> QuarantineWriter {
        let tmp = path.with_extension("jsonl.tmp");
        QuarantineWriter { path, tmp, w: None }
    }

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
            /// The exact bytes, when `raw` is not them (invalid UTF-8).
            #[serde(skip_serializing_if = "Option::is_none")]
            raw_base64: Option<String>,
        }
        serde_json::to_writer(
            &mut *w,
            &Q {
                location: &rec.location,
                reason: rec.reason,
                message: &rec.message,
                raw: &rec.raw,
                raw_base64: rec.raw_bytes.as_ref().map(|b| {
                    use base64::Engine;
                    base64::engine::general_purpose::STANDARD.encode(b)
                }),
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

struct Empty;
impl datamill_io::read::RecordReader for Empty {
    fn next_record(&mut self) -> datamill_io::error::Result<Option<Record>> {
        Ok(None)
    }
}
