//! Running a mixture: check everything that can be checked without the data, count (task
//! pass 1), plan and sample, write (task pass 2), and write `manifest.json` last.
//!
//! Errors in the mixture file, missing inputs, an unknown tokenizer or law stop the run before
//! anything is written. Errors that need the token counts (an empty source, a budget the
//! epoch caps cannot meet) stop it after the counting pass, before any output or manifest is
//! written; the counts are kept under `.datamill-mix/` so that the corrected mixture does not
//! count again. A rerun after a crash skips finished tasks and gives the same bytes.

use crate::config::{DocumentsFormat, MixFile};
use crate::error::MixError;
use crate::index::{self, SourceInput, Store, UnitCounts};
use crate::plan::{self, Plan, SourceCounts};
use crate::sample::{self, Mixture, SampleError};
use crate::tasks::{Layout, parallel, write_atomic};
use crate::tokenize::Tok;
use crate::write::{self, Part, PartDone, SourceIndex, WriteCtx};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// How to run.
#[derive(Clone, Debug, Default)]
pub struct MixOptions {
    /// Output folder (overrides `[output].dir`).
    pub output: Option<PathBuf>,
    /// Worker threads (0: the number of cores).
    pub workers: usize,
    /// Delete another mixture's output in the folder.
    pub force: bool,
    /// Stop after printing the plan (only the counting pass writes, under `.datamill-mix/`).
    pub dry_run: bool,
}

/// Progress counters a display can poll.
#[derive(Debug, Default)]
pub struct MixProgress {
    /// Tasks finished in the current pass.
    pub done: AtomicU64,
    /// Tasks in the current pass.
    pub total: AtomicU64,
    /// 1 while counting, 2 while writing.
    pub pass: AtomicU64,
}

/// What a run produced.
#[derive(Debug)]
pub struct MixReport {
    /// The plan.
    pub plan: Plan,
    /// The output folder.
    pub out: PathBuf,
    /// The manifest (absent for a dry run).
    pub manifest: Option<Value>,
    /// Tasks skipped because a previous run finished them (count, write).
    pub resumed: (usize, usize),
}

#[derive(Serialize, Deserialize, PartialEq, Debug)]
struct State {
    format: String,
    index: String,
    mix: String,
}

fn sha_hex(b: &[u8]) -> String {
    crate::tokenize::hex(&Sha256::digest(b))
}

/// The output folder of a mixture.
pub fn output_dir(f: &MixFile, opts: &MixOptions) -> Result<PathBuf, MixError> {
    match (&opts.output, &f.config.output.dir) {
        (Some(o), _) => Ok(o.clone()),
        (None, Some(d)) => Ok(f.resolve(d)),
        (None, None) => Err(f.err(
            "output",
            None,
            "dir",
            "no output folder: set `[output].dir` or pass --output".into(),
        )),
    }
}

fn store(f: &MixFile) -> Store {
    let o = &f.config.output;
    Store {
        tokens: !o.tokenized.is_empty() || o.dd.is_some(),
        docs: o.documents != DocumentsFormat::None,
        annotate: o.annotate,
    }
}

/// Fingerprint of what the counting pass depends on: the sources, their files, the
/// tokenizer and what is stored.
fn index_fingerprint(f: &MixFile, inputs: &[SourceInput], tok: Option<&Tok>) -> String {
    let c = &f.config;
    let files: Vec<Value> = inputs
        .iter()
        .map(|i| {
            json!(
                i.files
                    .iter()
                    .map(|x| json!([x.label, x.size, x.mtime]))
                    .collect::<Vec<_>>()
            )
        })
        .collect();
    let v = json!({
        "sources": c.sources.iter().map(|s| json!({
            "name": s.name, "paths": s.paths, "format": s.format, "text": s.text_field,
            "id": s.id_field, "max_line": s.max_line_bytes.0, "unit": s.unit_size.0,
            "token_field": s.token_field,
        })).collect::<Vec<_>>(),
        "files": files,
        "token_field": c.token_field,
        "tokenizer": tok.map(|t| t.sha256.clone()),
        "eos": c.eos,
        "store": store(f),
    });
    sha_hex(v.to_string().as_bytes())
}

fn mix_fingerprint(f: &MixFile, index: &str) -> String {
    sha_hex(format!("{index}\n{}", f.source).as_bytes())
}

/// Checks the output folder against the fingerprints; wipes it with `force`.
fn check_state(layout: &Layout, want: &State, force: bool) -> Result<(), MixError> {
    let path = layout.state_file();
    if let Ok(b) = std::fs::read(&path) {
        let have: State = serde_json::from_slice(&b).map_err(|e| MixError::state(&path, e))?;
        if have.index != want.index {
            if !force {
                return Err(MixError::Mismatch {
                    dir: layout.out().to_path_buf(),
                    what: "its sources, input files or tokenizer differ".into(),
                });
            }
            layout.wipe(false)?;
        } else if have.mix != want.mix {
            if !force {
                return Err(MixError::Mismatch {
                    dir: layout.out().to_path_buf(),
                    what: "the mixture file differs (the token counts would be reused)".into(),
                });
            }
            layout.wipe(true)?;
        }
    }
    let b = serde_json::to_vec_pretty(want).map_err(|e| MixError::state(&path, e))?;
    write_atomic(&path, &b)
}

/// Runs the counting pass; returns per-source unit counts and token counts.
#[allow(clippy::type_complexity)]
fn count(
    f: &MixFile,
    layout: &Layout,
    inputs: &[SourceInput],
    tok: Option<&Tok>,
    workers: usize,
    progress: &MixProgress,
    stop: &AtomicBool,
) -> Result<(Vec<Vec<UnitCounts>>, Vec<Vec<Vec<u32>>>, usize), MixError> {
    let c = &f.config;
    let st = store(f);
    let mut tasks: Vec<(usize, usize)> = Vec::new();
    let mut sizes = Vec::new();
    let mut resumed = 0;
    for (s, inp) in inputs.iter().enumerate() {
        for u in 0..inp.units.len() {
            if index::is_done(layout, &c.sources[s].name, u) {
                resumed += 1;
            } else {
                tasks.push((s, u));
                sizes.push(inp.units[u].size);
            }
        }
    }
    progress.pass.store(1, Ordering::Relaxed);
    progress.done.store(0, Ordering::Relaxed);
    progress.total.store(tasks.len() as u64, Ordering::Relaxed);
    parallel(&sizes, workers, stop, |t| {
        let (s, u) = tasks[t];
        let r = index::count_unit(layout, &c.sources[s].name, &inputs[s], u, tok, st);
        progress.done.fetch_add(1, Ordering::Relaxed);
        r
    })?;
    if stop.load(Ordering::Relaxed) {
        return Err(MixError::Interrupted);
    }
    let mut counts = Vec::new();
    let mut lens = Vec::new();
    for (s, inp) in inputs.iter().enumerate() {
        let name = &c.sources[s].name;
        let mut cs = Vec::new();
        let mut ls = Vec::new();
        for u in 0..inp.units.len() {
            cs.push(index::read_done(layout, name, u)?);
            ls.push(index::read_lens(layout, name, u)?);
        }
        counts.push(cs);
        lens.push(ls);
    }
    Ok((counts, lens, resumed))
}

fn source_counts(units: &[UnitCounts]) -> SourceCounts {
    let mut s = SourceCounts::default();
    for u in units {
        s.docs += u.docs;
        s.tokens += u.tokens;
        s.empty_docs += u.empty;
        s.quarantined += u.quarantined;
        s.max_doc_tokens = s.max_doc_tokens.max(u.max_doc_tokens);
    }
    s
}

/// Plans and writes a mixture.
pub fn run(
    f: &MixFile,
    opts: &MixOptions,
    progress: &MixProgress,
    stop: &AtomicBool,
    on_plan: &mut dyn FnMut(&Plan),
) -> Result<MixReport, MixError> {
    let c = &f.config;
    let out = output_dir(f, opts)?;
    // Everything checkable without the data, before anything is written.
    let inputs = index::describe_sources(f)?;
    let tok = match &c.tokenizer {
        Some(t) => Some(
            Tok::load(&f.resolve(t), t, c.eos.as_deref())
                .map_err(|e| f.err("", None, "tokenizer", format!("`tokenizer`: {e}")))?,
        ),
        None => None,
    };
    plan::load_law(f)?;
    let workers = if opts.workers == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        opts.workers
    };
    let layout = Layout::new(&out);
    let ifp = index_fingerprint(f, &inputs, tok.as_ref());
    let state = State {
        format: "datamill-mix/1".into(),
        mix: mix_fingerprint(f, &ifp),
        index: ifp,
    };
    check_state(&layout, &state, opts.force)?;

    // Pass 1: count.
    let (unit_counts, unit_lens, resumed_count) =
        count(f, &layout, &inputs, tok.as_ref(), workers, progress, stop)?;
    let counts: Vec<SourceCounts> = unit_counts.iter().map(|u| source_counts(u)).collect();
    let plan = plan::plan(f, &counts)?;
    on_plan(&plan);
    if opts.dry_run {
        return Ok(MixReport {
            plan,
            out,
            manifest: None,
            resumed: (resumed_count, 0),
        });
    }
    let lens: Vec<Vec<u32>> = unit_lens.iter().map(|u| u.concat()).collect();
    let mixture = sample::sample(&plan, &lens).map_err(|e| match e {
        SampleError::TooManyEpochs(s) => MixError::Plan(format!(
            "source `{}` would be drawn for more than {} epochs",
            c.sources[s].name,
            sample::MAX_EPOCHS
        )),
        SampleError::TooManyDocs(s) => MixError::Plan(format!(
            "source `{}` has more than 2^40 documents",
            c.sources[s].name
        )),
        SampleError::TooManySources => {
            MixError::Plan(format!("more than {} sources", sample::MAX_SOURCES))
        }
    })?;
    drop(lens);
    let sources: Vec<SourceIndex> = c
        .sources
        .iter()
        .zip(&unit_lens)
        .map(|(s, u)| SourceIndex::new(&s.name, u))
        .collect();
    drop(unit_lens);
    let labels: Vec<String> = plan.phases.iter().map(|p| p.label(plan.cycles)).collect();
    let part_tokens = match c.output.part_tokens {
        crate::config::TokenAmount::Tokens(t) => t,
        crate::config::TokenAmount::All => u64::MAX,
    };
    let parts = write::cut_parts(&mixture, part_tokens);

    // Pass 2: write.
    let cx = WriteCtx {
        config: c,
        layout: &layout,
        mixture: &mixture,
        sources: &sources,
        phase_labels: &labels,
        vocab: tok.as_ref().map(|t| (t.vocab_size, t.name.clone())),
    };
    let todo: Vec<usize> = (0..parts.len())
        .filter(|&k| !layout.part_marker(k).is_file())
        .collect();
    let resumed_write = parts.len() - todo.len();
    let sizes: Vec<u64> = todo
        .iter()
        .map(|&k| parts[k].end_token - parts[k].start_token)
        .collect();
    progress.pass.store(2, Ordering::Relaxed);
    progress.done.store(0, Ordering::Relaxed);
    progress.total.store(todo.len() as u64, Ordering::Relaxed);
    parallel(&sizes, workers, stop, |t| {
        let k = todo[t];
        let r = write::write_part(&cx, k, &parts[k]);
        progress.done.fetch_add(1, Ordering::Relaxed);
        r
    })?;
    if stop.load(Ordering::Relaxed) {
        return Err(MixError::Interrupted);
    }
    let mut done = Vec::new();
    for k in 0..parts.len() {
        let p = layout.part_marker(k);
        let b = std::fs::read(&p).map_err(|e| MixError::io(&p, e))?;
        let d: PartDone = serde_json::from_slice(&b).map_err(|e| MixError::state(&p, e))?;
        done.push(d);
    }
    let manifest = manifest(
        f,
        &inputs,
        tok.as_ref(),
        &plan,
        &unit_counts,
        &mixture,
        &parts,
        &done,
    );
    let mut text =
        serde_json::to_vec_pretty(&manifest).map_err(|e| MixError::state(layout.manifest(), e))?;
    text.push(b'\n');
    write_atomic(&layout.manifest(), &text)?;
    Ok(MixReport {
        plan,
        out,
        manifest: Some(manifest),
        resumed: (resumed_count, resumed_write),
    })
}

#[allow(clippy::too_many_arguments)]
fn manifest(
    f: &MixFile,
    inputs: &[SourceInput],
    tok: Option<&Tok>,
    plan: &Plan,
    unit_counts: &[Vec<UnitCounts>],
    m: &Mixture,
    parts: &[Part],
    done: &[PartDone],
) -> Value {
    let c = &f.config;
    let names: Vec<&str> = c.sources.iter().map(|s| s.name.as_str()).collect();
    let by_name = |v: &[u64]| -> Value {
        Value::Object(
            names
                .iter()
                .zip(v)
                .map(|(n, x)| (n.to_string(), json!(x)))
                .collect(),
        )
    };
    let law = datamill_scaling::laws::DataConstrained {
        rd_star: plan.rd_star,
        ..datamill_scaling::laws::DataConstrained::muennighoff()
    };
    let sources: Vec<Value> = c
        .sources
        .iter()
        .enumerate()
        .map(|(s, sc)| {
            let units = &unit_counts[s];
            let sum = |g: fn(&UnitCounts) -> u64| units.iter().map(g).sum::<u64>();
            let mut h = Sha256::new();
            for u in units {
                h.update(u.digest.as_bytes());
            }
            let p = &plan.sources[s];
            let r = &m.sources[s];
            let realized_epochs = r.tokens as f64 / p.unique_tokens as f64;
            json!({
                "name": sc.name,
                "paths": sc.paths,
                "files": inputs[s].files.iter().map(|x| json!({
                    "path": x.label, "bytes": x.size, "mtime": x.mtime,
                })).collect::<Vec<_>>(),
                "fingerprint": crate::tokenize::hex(&h.finalize()),
                "documents_read": sum(|u| u.read),
                "drawable_documents": p.docs,
                "empty_documents": sum(|u| u.empty),
                "quarantined_records": sum(|u| u.quarantined),
                "blank_lines": sum(|u| u.blank),
                "unique_tokens": p.unique_tokens,
                "max_epochs": p.max_epochs,
                "planned": {
                    "tokens": p.tokens,
                    "epochs": p.epochs,
                    "effective_tokens": p.effective_tokens,
                },
                "realized": {
                    "documents": r.draws,
                    "tokens": r.tokens,
                    "epochs": realized_epochs,
                    "full_epochs": r.full_epochs,
                    "partial_epoch_documents": r.partial_docs,
                    "effective_tokens": if r.tokens > 0 {
                        law.effective_data(r.tokens as f64, (p.unique_tokens as f64).min(r.tokens as f64))
                    } else { 0.0 },
                },
            })
        })
        .collect();
    let max_doc = unit_counts
        .iter()
        .flatten()
        .map(|u| u.max_doc_tokens)
        .max()
        .unwrap_or(0);
    let phases: Vec<Value> = plan
        .phases
        .iter()
        .zip(&m.phases)
        .map(|(p, r)| {
            json!({
                "name": p.name,
                "cycle": p.cycle,
                "fraction": p.fraction,
                "method": p.method,
                "tau": p.tau,
                "fixed": p.fixed,
                "weights": Value::Object(names.iter().zip(&p.weights)
                    .map(|(n, w)| (n.to_string(), json!(w))).collect()),
                "planned": {
                    "start_token": p.start,
                    "end_token": p.end,
                    "tokens": p.budget(),
                    "tokens_by_source": Value::Object(names.iter().zip(&p.tokens)
                        .map(|(n, t)| (n.to_string(), json!(t))).collect()),
                },
                "realized": {
                    "start_token": r.start_token,
                    "end_token": r.end_token,
                    "tokens": r.end_token - r.start_token,
                    "first_document": r.first_doc,
                    "end_document": r.end_doc,
                    "documents_by_source": by_name(&r.docs),
                    "tokens_by_source": by_name(&r.tokens),
                },
                "end_token_error": r.end_token as i64 - p.end as i64,
            })
        })
        .collect();
    let mut files = serde_json::Map::new();
    for d in done {
        for (k, v) in &d.files {
            files.insert(k.clone(), json!(v));
        }
    }
    let o = &c.output;
    let mut outputs = serde_json::Map::new();
    if o.documents != DocumentsFormat::None {
        outputs.insert(
            "documents".into(),
            json!({
                "format": o.documents,
                "compression": o.compression,
                "annotate": o.annotate,
                "uncompressed_bytes": done.iter().map(|d| d.document_bytes).sum::<u64>(),
            }),
        );
    }
    if let Some(t) = tok {
        let w = crate::formats::token_width(t.vocab_size);
        for fmt in &o.tokenized {
            let v = match fmt {
                crate::config::TokenizedFormat::Megatron => json!({
                    "dtype": if t.vocab_size < 65500 { "uint16" } else { "int32" },
                    "prefixes": (0..parts.len()).map(|k| format!("megatron/{}", write::part_stem(k))).collect::<Vec<_>>(),
                }),
                crate::config::TokenizedFormat::Datatrove => json!({
                    "token_size": w,
                    "files": (0..parts.len()).map(|k| format!("datatrove/{k:05}_unshuffled.ds")).collect::<Vec<_>>(),
                }),
                crate::config::TokenizedFormat::Numpy => json!({
                    "dtype": crate::formats::NumpyWriter::dtype(t.vocab_size),
                    "files": (0..parts.len()).map(|k| format!("numpy/{}.bin", write::part_stem(k))).collect::<Vec<_>>(),
                }),
            };
            outputs.insert(
                serde_json::to_value(fmt)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                v,
            );
        }
    }
    let dd = o.dd.as_ref().map(|dd| {
        let odds = dd
            .odds
            .clone()
            .unwrap_or_else(|| crate::dd::grow_p2(dd.min_log2, dd.max_log2));
        let seqs: Vec<u64> = (dd.min_log2..=dd.max_log2)
            .map(|k| {
                done.iter()
                    .map(|d| d.dd_sequences.get(&k).copied().unwrap_or(0))
                    .sum()
            })
            .collect();
        let first_tokens = seqs
            .iter()
            .zip(dd.min_log2..)
            .map(|(&n, k)| n * (1u64 << k))
            .find(|&t| t > 0)
            .unwrap_or(0);
        json!({
            "min_log2": dd.min_log2,
            "max_log2": dd.max_log2,
            "randomize": dd.randomize,
            "dropped_tokens": done.iter().map(|d| d.dd_dropped_tokens).sum::<u64>(),
            "buckets": (dd.min_log2..=dd.max_log2).zip(&seqs).zip(&odds).map(|((k, &n), &odd)| {
                let tokens = n * (1u64 << k);
                json!({
                    "k": k,
                    "sequence_length": 1u64 << k,
                    "stored_tokens_per_sequence": (1u64 << k) + 1,
                    "sequences": n,
                    "tokens": tokens,
                    "batch_mult": 1u64 << (dd.max_log2 - k),
                    "curriculum_odds": odd,
                    "sampling_weight": if first_tokens > 0 {
                        tokens as f64 / first_tokens as f64 * odd
                    } else { 0.0 },
                    "files": format!("dd/D_{k}/part-*.bin"),
                })
            }).collect::<Vec<_>>(),
        })
    });
    json!({
        "format": "datamill-mix/1",
        "mixture_file": f.path.file_name().map(|n| n.to_string_lossy().into_owned()),
        "mixture_sha256": sha_hex(f.source.as_bytes()),
        "seed": c.seed,
        "budget": plan.budget,
        "tokens": m.tokens(),
        "documents": m.draws.len(),
        "tokenizer": tok.map(|t| json!({
            "path": t.name, "sha256": t.sha256, "vocab_size": t.vocab_size,
            "eos": t.eos.as_ref().map(|e| e.0.clone()), "eos_id": t.eos.as_ref().map(|e| e.1),
        })),
        "token_field": c.token_field,
        "repetition": {"law": plan.law, "rd_star": plan.rd_star, "warn_epochs": c.repetition.warn_epochs},
        "epoch_order": "epoch e of source s (from 0, in file order) = numpy.random.default_rng([seed, s, e]).permutation(drawable documents)",
        "accounting": {
            "phase_boundaries": "each phase ends at the first document reaching its planned end token, so realized boundaries are within one document (the longest has max_document_tokens) of the plan",
            "max_document_tokens": max_doc,
        },
        "sources": sources,
        "phases": phases,
        "parts": parts.iter().zip(done).map(|(p, d)| json!({
            "first_document": p.first_doc, "end_document": p.end_doc,
            "start_token": p.start_token, "end_token": p.end_token, "documents": d.docs, "tokens": d.tokens,
        })).collect::<Vec<_>>(),
        "outputs": Value::Object(outputs),
        "dd": dd,
        "files": Value::Object(files),
        "warnings": plan.warnings,
    })
}
