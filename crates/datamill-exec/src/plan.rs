//! The plan of a run, as a value: its input files, their work units, the passes the stage
//! list is cut into, the decisions between passes, and the tasks that do the work.
//!
//! A plan is computed once, stored in `OUT/.datamill/plan.json`, and is all an executor
//! needs: the local thread pool, ranks sharing the folder (Slurm arrays), or another
//! process loading it with [`Plan::load`] and running single tasks with
//! [`crate::task::run_task`]. Nothing in it depends on the worker count.
//!
//! # Passes
//! The stage list is cut at each global stage. Pass 0 reads the input, runs the per-document
//! stages before the first global stage and, if there is one, writes each surviving document's
//! summary and hands the documents over to pass 1. The decision after pass 0 sees every
//! summary once, in input order. Pass 1 reads pass 0's documents, applies that decision
//! (verdicts, then its transform), runs the next per-document stages, and so on; the last pass
//! writes the output shards. When pass 0 has no per-document stage, it writes only the
//! summaries and pass 1 reads the input again (a copy of the input would cost more to write
//! and read than parsing it twice).
//!
//! # Tasks
//! Every (pass, unit) pair is a task; after each pass but the last comes one decide task;
//! after a pass that applied a decision comes that decision's report task (it completes the
//! stage's report from what the transform noted). [`Plan::waves`] lists them in order; tasks
//! of one wave are independent. Every task has a deterministic input, writes its outputs
//! under temporary names, and writes its completion marker last ([`Plan::task_io`] says which
//! files), so running a task again after a crash gives the same files.

use crate::error::RunError;
use crate::layout::{Layout, stem};
use crate::pipeline::Pipeline;
use crate::pool::parallel;
use datamill_io::plan::{InputFile, WorkUnit, describe, plan_file};
use datamill_io::{Compression, Format};
use datamill_stages::Step;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// Units are never cut smaller than this (unless `unit_size` asks for less).
pub const MIN_UNIT_BYTES: u64 = 1 << 20;

/// An input is cut into about this many units when `unit_size` allows it.
pub const TARGET_UNITS: u64 = 64;

/// The size work units are cut to: `configured` (`[input] unit_size`) at most, and small
/// enough that `total_input` bytes of input make about [`TARGET_UNITS`] units, but not
/// smaller than [`MIN_UNIT_BYTES`]. It depends on the input alone, never on the worker
/// count, so output names (which follow units) do not either; and a single 23 MB file
/// still gives 22 units to share between workers.
pub fn unit_size(configured: u64, total_input: u64) -> u64 {
    let wanted = total_input.div_ceil(TARGET_UNITS).max(MIN_UNIT_BYTES);
    configured.min(wanted).max(1)
}

/// The pipeline file a plan was made from, so that another process can build the same
/// stages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineSource {
    /// The file, as given.
    pub path: PathBuf,
    /// The folder relative paths resolve against (absolute).
    pub base_dir: PathBuf,
    /// Its text.
    pub text: String,
    /// xxh3-128 of the text, hex.
    pub hash: String,
}

/// What a pass's tasks read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The input work units.
    Input,
    /// The documents the previous pass handed over.
    HandOver,
}

/// How a pass ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum End {
    /// At global stage `stage`: summaries for its decider; the documents are handed over to
    /// the next pass when `hand_over` (else the next pass reads the input again).
    Summarize {
        /// The global stage (index into the pipeline's stages).
        stage: usize,
        /// Whether the documents are written for the next pass.
        hand_over: bool,
    },
    /// By writing the output shards.
    Output,
}

/// One pass over every work unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pass {
    /// What its tasks read.
    pub reads: Source,
    /// The global stage whose decision it applies first (made after the previous pass).
    pub applies: Option<usize>,
    /// The per-document stages it runs, in order (indexes into the pipeline's stages).
    pub stages: Vec<usize>,
    /// How it ends.
    pub end: End,
}

/// The decision made between pass `k` and pass `k + 1` (`k` = its index in
/// [`Plan::decisions`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The global stage (index into the pipeline's stages).
    pub stage: usize,
    /// Its type.
    pub kind: String,
    /// Its report folder's name under `OUT/reports/` (`<type>`, or `<type>-<n>` for the
    /// n-th stage of that type).
    pub report: String,
}

/// One task of a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Pass `pass` over work unit `unit`.
    Pass {
        /// The pass.
        pass: usize,
        /// The work unit.
        unit: usize,
    },
    /// The decision after pass `pass`, over all its summaries.
    Decide {
        /// The pass it follows.
        pass: usize,
    },
    /// The report step of decision `decision`, after pass `decision + 1` applied it.
    Report {
        /// The decision.
        decision: usize,
    },
    /// The last step: one schema for the output. Merges the fields every output shard
    /// recorded (in the last pass's markers) into the run-wide schema, writes
    /// `schema.json` and the dataset card, and rewrites the shards that do not follow it.
    Schema,
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Task::Pass { pass, unit } => write!(f, "pass:{pass}:{unit}"),
            Task::Decide { pass } => write!(f, "decide:{pass}"),
            Task::Report { decision } => write!(f, "report:{decision}"),
            Task::Schema => write!(f, "schema"),
        }
    }
}

impl std::str::FromStr for Task {
    type Err = String;
    /// Parses `pass:K:U`, `decide:K`, `report:K` or `schema`.
    fn from_str(s: &str) -> Result<Task, String> {
        let parts: Vec<&str> = s.split(':').collect();
        let num = |x: &str| {
            x.parse::<usize>()
                .map_err(|_| format!("`{x}` in task `{s}` is not a number"))
        };
        match parts.as_slice() {
            ["pass", k, u] => Ok(Task::Pass {
                pass: num(k)?,
                unit: num(u)?,
            }),
            ["decide", k] => Ok(Task::Decide { pass: num(k)? }),
            ["report", k] => Ok(Task::Report { decision: num(k)? }),
            ["schema"] => Ok(Task::Schema),
            _ => Err(format!(
                "task `{s}`: expected pass:K:UNIT, decide:K, report:K or schema"
            )),
        }
    }
}

/// A group of independent tasks; each wave starts when the previous one is complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wave {
    /// Every unit's task of pass `k`.
    Pass(usize),
    /// The decide task after pass `k`.
    Decide(usize),
    /// The report task of decision `k`.
    Report(usize),
    /// The schema task, last.
    Schema,
}

/// The files one task reads and writes, relative to the output folder (`*` stands for the
/// shard part numbers and extensions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskIo {
    /// What it reads (`input:<file label>` for an input work unit).
    pub reads: Vec<String>,
    /// What it writes, the marker excepted.
    pub writes: Vec<String>,
    /// Its completion marker, written last.
    pub marker: String,
}

/// The plan of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The datamill version that made it.
    pub datamill: String,
    /// The pipeline.
    pub pipeline: PipelineSource,
    /// The unit size used ([`unit_size`]).
    pub unit_size: u64,
    /// The input files.
    pub files: Vec<InputFile>,
    /// The work units, in input order.
    pub units: Vec<WorkUnit>,
    /// The passes.
    pub passes: Vec<Pass>,
    /// The decisions; decision `k` follows pass `k`.
    pub decisions: Vec<Decision>,
}

/// xxh3-128 of a pipeline's text, hex: the pipeline's identity in a plan.
pub fn pipeline_hash(source: &str) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(source.as_bytes()))
}

/// Cuts a stage list (`true` = global stage) into passes and decisions' stages.
pub fn passes(global: &[bool]) -> Vec<Pass> {
    let mut out = Vec::new();
    let mut cur = Pass {
        reads: Source::Input,
        applies: None,
        stages: Vec::new(),
        end: End::Output,
    };
    for (i, &g) in global.iter().enumerate() {
        if !g {
            cur.stages.push(i);
            continue;
        }
        // A first pass without per-document stages would hand over a copy of the input:
        // the next pass reads the input again instead.
        let replay = out.is_empty() && cur.stages.is_empty();
        cur.end = End::Summarize {
            stage: i,
            hand_over: !replay,
        };
        out.push(cur);
        cur = Pass {
            reads: if replay {
                Source::Input
            } else {
                Source::HandOver
            },
            applies: Some(i),
            stages: Vec::new(),
            end: End::Output,
        };
    }
    out.push(cur);
    out
}

impl Plan {
    /// Plans a run of `p` over `files` (described with [`describe_input`]).
    pub fn new(p: &Pipeline, files: Vec<InputFile>) -> Result<Plan, RunError> {
        let unit = unit_size(
            p.config.input.unit_size.0,
            files.iter().map(|f| f.size).sum(),
        );
        let units = plan_units(p, &files, unit)?;
        let global: Vec<bool> = p
            .steps
            .iter()
            .map(|(_, s)| matches!(s, Step::Global(_)))
            .collect();
        let passes = passes(&global);
        let decisions = passes
            .iter()
            .filter_map(|pass| match pass.end {
                End::Summarize { stage, .. } => Some(stage),
                End::Output => None,
            })
            .map(|g| {
                let kind = p.steps[g].0;
                let before = p.steps[..g].iter().filter(|s| s.0 == kind).count();
                Decision {
                    stage: g,
                    kind: kind.to_string(),
                    report: if before == 0 {
                        kind.to_string()
                    } else {
                        format!("{kind}-{}", before + 1)
                    },
                }
            })
            .collect();
        let base_dir = std::path::absolute(&p.base_dir).unwrap_or_else(|_| p.base_dir.clone());
        Ok(Plan {
            datamill: env!("CARGO_PKG_VERSION").to_string(),
            pipeline: PipelineSource {
                path: p.path.clone(),
                base_dir,
                text: p.source.clone(),
                hash: pipeline_hash(&p.source),
            },
            unit_size: unit,
            files,
            units,
            passes,
            decisions,
        })
    }

    /// Builds the plan's pipeline (stages included) from the stored text.
    pub fn pipeline(&self) -> Result<Pipeline, RunError> {
        Ok(Pipeline::from_source(
            &self.pipeline.path,
            &self.pipeline.text,
            &self.pipeline.base_dir,
        )?)
    }

    /// Reads the plan stored in output folder `out`.
    pub fn load(out: &Path) -> Result<Plan, RunError> {
        let path = Layout::new(out).plan();
        let bytes = std::fs::read(&path).map_err(|e| RunError::State {
            path: path.clone(),
            message: format!("no plan ({e}): run the pipeline on this folder first"),
        })?;
        serde_json::from_slice(&bytes).map_err(|e| RunError::State {
            path,
            message: e.to_string(),
        })
    }

    /// Stores the plan in output folder `out` (atomically).
    pub fn save(&self, out: &Path) -> Result<(), RunError> {
        let l = Layout::new(out);
        let dir = l.state_dir();
        std::fs::create_dir_all(&dir).map_err(|e| datamill_io::IoError::io(&dir, e))?;
        let json = serde_json::to_vec_pretty(self).expect("a plan serializes");
        crate::task::write_atomic(&l.plan(), &json)
    }

    /// The waves of tasks, in order: pass 0, decide 0, pass 1, report 0, decide 1, ...,
    /// the last pass, its report, then the schema task.
    pub fn waves(&self) -> Vec<Wave> {
        let mut w = Vec::new();
        for k in 0..self.passes.len() {
            w.push(Wave::Pass(k));
            if k > 0 {
                w.push(Wave::Report(k - 1));
            }
            if k < self.decisions.len() {
                w.push(Wave::Decide(k));
            }
        }
        w.push(Wave::Schema);
        w
    }

    /// The tasks of a wave.
    pub fn tasks(&self, wave: Wave) -> Vec<Task> {
        match wave {
            Wave::Pass(k) => (0..self.units.len())
                .map(|unit| Task::Pass { pass: k, unit })
                .collect(),
            Wave::Decide(k) => vec![Task::Decide { pass: k }],
            Wave::Report(k) => vec![Task::Report { decision: k }],
            Wave::Schema => vec![Task::Schema],
        }
    }

    /// Checks that `task` belongs to this plan.
    pub fn check(&self, task: Task) -> Result<(), String> {
        let ok = match task {
            Task::Pass { pass, unit } => pass < self.passes.len() && unit < self.units.len(),
            Task::Decide { pass } | Task::Report { decision: pass } => pass < self.decisions.len(),
            Task::Schema => true,
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "task {task} is not part of this plan ({} passes, {} units, {} decisions)",
                self.passes.len(),
                self.units.len(),
                self.decisions.len()
            ))
        }
    }

    /// The files `task` reads and writes (`intermediate`: the hand-over codec's suffix,
    /// e.g. `.zst`; `excluded`: whether dropped documents are written).
    pub fn task_io(&self, task: Task, intermediate: &str, excluded: bool) -> TaskIo {
        let l = Layout::new("");
        let s = |p: PathBuf| p.to_string_lossy().into_owned();
        let (mut reads, mut writes) = (Vec::new(), Vec::new());
        let marker = match task {
            Task::Pass { pass: k, unit: u } => {
                let pass = &self.passes[k];
                match pass.reads {
                    Source::Input => {
                        let f = &self.files[self.units[u].file as usize];
                        reads.push(format!("input:{}", f.label));
                    }
                    Source::HandOver => reads.push(s(l.hand_over(k - 1, u, intermediate))),
                }
                if pass.applies.is_some() {
                    reads.push(s(l.verdicts(k - 1)));
                    reads.push(s(l.details(k - 1)));
                    reads.push(s(l.transform(k - 1)));
                    writes.push(s(l.notes(k, u)));
                }
                match pass.end {
                    End::Summarize { hand_over, .. } => {
                        writes.push(s(l.summaries(k, u)));
                        if hand_over {
                            writes.push(s(l.hand_over(k, u, intermediate)));
                        }
                    }
                    End::Output => writes.push(format!("{}-*", stem(u))),
                }
                if k == 0 {
                    writes.push(s(l.quarantine(u)));
                }
                if excluded {
                    writes.push(format!("excluded/{}-*", l.excluded_stem(k, u)));
                }
                s(l.marker(k, u))
            }
            Task::Decide { pass: k } => {
                reads.push(format!(".datamill/pass{k}/*.done"));
                reads.push(format!(".datamill/pass{k}/*.summ"));
                writes.push(s(l.verdicts(k)));
                writes.push(s(l.details(k)));
                writes.push(s(l.transform(k)));
                writes.push(format!("{}/*", s(l.report_dir(&self.decisions[k].report))));
                s(l.decision(k))
            }
            Task::Report { decision: k } => {
                reads.push(s(l.transform(k)));
                reads.push(format!(".datamill/pass{}/*.notes", k + 1));
                writes.push(format!("{}/*", s(l.report_dir(&self.decisions[k].report))));
                s(l.report_done(k))
            }
            Task::Schema => {
                let last = self.passes.len() - 1;
                reads.push(format!(".datamill/pass{last}/*.done"));
                reads.push("*-* (the output shards)".into());
                writes.push("*-* (shards that do not follow the schema)".into());
                writes.push(s(l.schema_file()));
                writes.push(s(l.dataset_card()));
                s(l.schema_done())
            }
        };
        TaskIo {
            reads,
            writes,
            marker,
        }
    }
}

/// Plans the work units of a pipeline's input (also used by `datamill validate`).
pub fn plan_input(p: &Pipeline) -> Result<Plan, RunError> {
    Plan::new(p, describe_input(p)?)
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

/// Cuts described input files into work units of about `unit` bytes (reads Parquet footers
/// and zstd frame headers, counts lines at unit boundaries).
pub fn plan_units(p: &Pipeline, files: &[InputFile], unit: u64) -> Result<Vec<WorkUnit>, RunError> {
    // Files are planned in parallel (planning may decompress a multi-frame file to count its
    // lines); units are numbered afterwards, in input order.
    let tasks: Vec<(usize, u64)> = files.iter().enumerate().map(|(i, f)| (i, f.size)).collect();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_file = parallel(&tasks, workers, &AtomicBool::new(false), |i| {
        Ok(plan_file(
            &files[i],
            i as u32,
            unit,
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

/// Advice about a plan: every compressed JSONL file larger than the unit size that still
/// forms a single work unit (a gzip stream, a single zstd frame) runs on one core, whatever
/// `--workers` says.
pub fn planning_notes(plan: &Plan) -> Vec<String> {
    let mut per_file = vec![0usize; plan.files.len()];
    for u in &plan.units {
        per_file[u.file as usize] += 1;
    }
    plan.files
        .iter()
        .zip(&per_file)
        .filter(|(f, n)| {
            **n == 1
                && f.format == Format::Jsonl
                && f.compression != Compression::None
                && f.size > plan.unit_size
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_size_follows_the_input_not_the_workers() {
        const MB: u64 = 1 << 20;
        // A 23 MB file under the default 64 MiB unit: 1 MiB units, 23 of them.
        assert_eq!(unit_size(64 * MB, 23 * MB), MB);
        // Small inputs stay one unit.
        assert_eq!(unit_size(64 * MB, 300_000), MB);
        // Large inputs: about TARGET_UNITS units...
        assert_eq!(unit_size(64 * MB, 640 * MB), 10 * MB);
        // ...never larger than unit_size.
        assert_eq!(unit_size(64 * MB, 100_000 * MB), 64 * MB);
        // An explicit small unit_size is kept.
        assert_eq!(unit_size(256_000, 23 * MB), 256_000);
        assert_eq!(unit_size(0, 0), 1);
    }

    #[test]
    fn a_small_plain_file_is_cut_into_units_of_one_mib() {
        let d = tempfile::tempdir().unwrap();
        let line = format!("{{\"text\": \"{}\"}}\n", "word ".repeat(200));
        let n = (3 << 20) / line.len() + 1;
        std::fs::write(d.path().join("in.jsonl"), line.repeat(n)).unwrap();
        let p = Pipeline::from_source(
            Path::new("p.toml"),
            "version = 1\n[input]\npaths = [\"in.jsonl\"]\n",
            d.path(),
        )
        .unwrap();
        let plan = plan_input(&p).unwrap();
        assert_eq!(plan.unit_size, MIN_UNIT_BYTES);
        // 3 MiB and a line: units end at the first line end past 1 MiB.
        assert_eq!(plan.units.len(), 3);
        assert!(
            plan.units
                .iter()
                .all(|u| u.size <= MIN_UNIT_BYTES + 2 * line.len() as u64)
        );
    }

    fn shape(global: &[bool]) -> Vec<(Source, Option<usize>, Vec<usize>, End)> {
        passes(global)
            .into_iter()
            .map(|p| (p.reads, p.applies, p.stages, p.end))
            .collect()
    }

    #[test]
    fn passes_cut_at_global_stages() {
        use End::*;
        use Source::*;
        // No global stage: one pass.
        assert_eq!(
            shape(&[false, false]),
            vec![(Input, None, vec![0, 1], Output)]
        );
        assert_eq!(shape(&[]), vec![(Input, None, vec![], Output)]);
        // map, global, map, global: three passes, two decisions.
        assert_eq!(
            shape(&[false, true, false, true]),
            vec![
                (
                    Input,
                    None,
                    vec![0],
                    Summarize {
                        stage: 1,
                        hand_over: true
                    }
                ),
                (
                    HandOver,
                    Some(1),
                    vec![2],
                    Summarize {
                        stage: 3,
                        hand_over: true
                    }
                ),
                (HandOver, Some(3), vec![], Output),
            ]
        );
        // A leading global stage: pass 1 reads the input again; later passes hand over.
        assert_eq!(
            shape(&[true, true]),
            vec![
                (
                    Input,
                    None,
                    vec![],
                    Summarize {
                        stage: 0,
                        hand_over: false
                    }
                ),
                (
                    Input,
                    Some(0),
                    vec![],
                    Summarize {
                        stage: 1,
                        hand_over: true
                    }
                ),
                (HandOver, Some(1), vec![], Output),
            ]
        );
    }

    fn plan(npasses: usize, units: usize) -> Plan {
        let global: Vec<bool> = (0..npasses.saturating_sub(1)).map(|_| true).collect();
        let passes = passes(&[vec![false], global].concat());
        let decisions = (0..passes.len() - 1)
            .map(|k| Decision {
                stage: k + 1,
                kind: "exact_dedup".into(),
                report: if k == 0 {
                    "exact_dedup".into()
                } else {
                    format!("exact_dedup-{}", k + 1)
                },
            })
            .collect();
        Plan {
            datamill: "test".into(),
            pipeline: PipelineSource {
                path: "p.toml".into(),
                base_dir: "/".into(),
                text: String::new(),
                hash: String::new(),
            },
            unit_size: 1,
            files: vec![InputFile {
                path: "/in.jsonl".into(),
                label: "in.jsonl".into(),
                format: Format::Jsonl,
                compression: Compression::None,
                size: 10,
                mtime: 0,
            }],
            units: (0..units)
                .map(|i| WorkUnit {
                    index: i as u32,
                    file: 0,
                    span: datamill_io::plan::Span::Whole,
                    size: 1,
                })
                .collect(),
            passes,
            decisions,
        }
    }

    #[test]
    fn waves_order_decisions_and_reports_after_the_passes_they_need() {
        let p = plan(3, 2);
        assert_eq!(
            p.waves(),
            vec![
                Wave::Pass(0),
                Wave::Decide(0),
                Wave::Pass(1),
                Wave::Report(0),
                Wave::Decide(1),
                Wave::Pass(2),
                Wave::Report(1),
                Wave::Schema,
            ]
        );
        assert_eq!(plan(1, 2).waves(), vec![Wave::Pass(0), Wave::Schema]);
        assert_eq!(p.tasks(Wave::Pass(1)).len(), 2);
        assert!(p.check(Task::Pass { pass: 2, unit: 1 }).is_ok());
        assert!(p.check(Task::Pass { pass: 3, unit: 0 }).is_err());
        assert!(p.check(Task::Decide { pass: 2 }).is_err());
    }

    #[test]
    fn tasks_parse_print_and_name_their_files() {
        for t in [
            Task::Pass { pass: 1, unit: 7 },
            Task::Decide { pass: 0 },
            Task::Report { decision: 2 },
            Task::Schema,
        ] {
            assert_eq!(t.to_string().parse::<Task>().unwrap(), t);
        }
        assert!("pass:x:1".parse::<Task>().is_err());
        assert!("run:1".parse::<Task>().is_err());
        let p = plan(2, 3);
        let io = p.task_io(Task::Pass { pass: 1, unit: 2 }, ".zst", true);
        assert_eq!(io.marker, ".datamill/pass1/00002.done");
        assert_eq!(
            io.reads,
            [
                ".datamill/pass0/00002-000.jsonl.zst",
                ".datamill/decision0/verdicts.bin",
                ".datamill/decision0/details.bin",
                ".datamill/decision0/transform.bin"
            ]
        );
        assert_eq!(
            io.writes,
            [
                ".datamill/pass1/00002.notes",
                "00002-*",
                "excluded/00002-p1-*"
            ]
        );
        let io = p.task_io(Task::Pass { pass: 0, unit: 0 }, "", false);
        assert_eq!(io.reads, ["input:in.jsonl"]);
        assert_eq!(
            io.writes,
            [
                ".datamill/pass0/00000.summ",
                ".datamill/pass0/00000-000.jsonl",
                "quarantine/00000.jsonl"
            ]
        );
        let io = p.task_io(Task::Decide { pass: 0 }, "", false);
        assert_eq!(io.marker, ".datamill/decision0/decision.json");
        assert!(io.writes.contains(&"reports/exact_dedup/*".to_string()));
    }

    #[test]
    fn a_plan_round_trips_through_json() {
        let p = plan(3, 4);
        let back: Plan = serde_json::from_slice(&serde_json::to_vec(&p).unwrap()).unwrap();
        assert_eq!(back, p);
    }
}
