//! Overlap of the drop rules: the pipeline's per-document stages evaluated side by side
//! ("annotate mode") on a bounded, deterministic sample of the input, so the report can say
//! which documents several stages would drop — the run itself only records the first.
//!
//! The replay happens when the report is made, never during a run, so it does not slow one
//! down. What is evaluated, and how:
//! - the sample: the first documents of up to [`MAX_UNITS`] work units spread evenly over the
//!   input (all units when there are fewer), `docs / units` from each — a few megabytes read,
//!   whatever the input's size, and the same documents every time;
//! - every per-document stage runs on every sampled document, in pipeline order, whether or
//!   not an earlier stage would have dropped it; each sees the document as the earlier stages
//!   left it (a rewriting stage's change is kept, a dropping stage's is undone);
//! - a stage's verdict is its first failing rule, as in a run: the rules inside one stage
//!   (Gopher's, C4's) stop at the first that fails, so the sets are stages, not rules;
//! - global stages (dedup, selection) decide over the whole corpus: they are not replayed on
//!   a sample, and documents pass them unchanged (a later stage sees the text before a
//!   line/substring dedup's transform).

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use datamill_core::{Doc, FieldNames, StageCx, Verdict};
use datamill_exec::pipeline::PipelineConfig;
use datamill_exec::plan::Plan;
use datamill_io::read::{ReadOptions, Record, open_unit};
use datamill_stages::{BuildCx, Step};

use crate::load::{Problem, RunData};

/// Most work units the sample is read from.
pub const MAX_UNITS: usize = 64;

/// One replayed stage.
#[derive(Clone, Debug, PartialEq)]
pub struct Replayed {
    /// Its position in the pipeline (0-based).
    pub index: usize,
    /// Its type.
    pub kind: String,
}

/// The replay's result.
#[derive(Debug, Default)]
pub struct Overlap {
    /// The per-document stages evaluated, in pipeline order.
    pub stages: Vec<Replayed>,
    /// Stages not evaluated: (position, type, why).
    pub skipped: Vec<(usize, String, String)>,
    /// Per sampled document, per evaluated stage: the drop reason, if it would drop it.
    pub drops: Vec<Vec<Option<String>>>,
    /// Work units read / in the plan.
    pub units: (usize, usize),
    /// Whether the sample is the whole input (every unit read to its end).
    pub whole_input: bool,
    /// Stage errors met (a document a stage failed on counts as kept by it).
    pub errors: u64,
}

impl Overlap {
    /// Sampled documents.
    pub fn docs(&self) -> usize {
        self.drops.len()
    }

    /// Per evaluated stage, how many sampled documents it would drop on its own.
    pub fn alone(&self) -> Vec<usize> {
        (0..self.stages.len())
            .map(|s| self.drops.iter().filter(|d| d[s].is_some()).count())
            .collect()
    }

    /// Per evaluated stage, how many sampled documents the run would attribute to it (the
    /// first stage, in pipeline order, that drops them).
    pub fn first(&self) -> Vec<usize> {
        let mut c = vec![0; self.stages.len()];
        for d in &self.drops {
            if let Some(s) = d.iter().position(Option::is_some) {
                c[s] += 1;
            }
        }
        c
    }

    /// Per evaluated stage, how many sampled documents no other stage would drop.
    pub fn only(&self) -> Vec<usize> {
        let mut c = vec![0; self.stages.len()];
        for d in &self.drops {
            let mut it = d.iter().enumerate().filter(|x| x.1.is_some());
            if let (Some((s, _)), None) = (it.next(), it.next()) {
                c[s] += 1;
            }
        }
        c
    }

    /// The intersections: each set of stages that would drop some document (a bit per
    /// evaluated stage), with how many sampled documents exactly that set drops; largest
    /// first, ties in set order.
    pub fn intersections(&self) -> Vec<(Vec<usize>, usize)> {
        let mut m: std::collections::BTreeMap<Vec<usize>, usize> = Default::default();
        for d in &self.drops {
            let set: Vec<usize> = (0..d.len()).filter(|&s| d[s].is_some()).collect();
            if !set.is_empty() {
                *m.entry(set).or_default() += 1;
            }
        }
        let mut v: Vec<_> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }
}

/// Replays the per-document stages of the run in `d` on a sample of about `docs` input
/// documents (see the module doc). `None` when the run has no stored plan or no
/// per-document stage; whatever cannot be evaluated is named in [`Overlap::skipped`] or
/// `problems`.
pub fn replay(d: &RunData, docs: usize, problems: &mut Vec<Problem>) -> Option<Overlap> {
    if docs == 0 {
        return None;
    }
    let plan: Plan = serde_json::from_value(d.plan.clone()?).ok()?;
    let cfg: PipelineConfig = toml::from_str(&plan.pipeline.text).ok()?;
    let cx = BuildCx {
        seed: cfg.seed,
        base_dir: plan.pipeline.base_dir.clone(),
    };
    let mut o = Overlap::default();
    let mut built = Vec::new();
    for (i, s) in cfg.stage.iter().enumerate() {
        let kind = s.type_name().to_string();
        if datamill_stages::info(&kind).is_some_and(|x| x.global) {
            o.skipped.push((
                i,
                kind,
                "decides over the whole corpus: not replayed on a sample".into(),
            ));
            continue;
        }
        match s.build(&cx) {
            Ok(Step::Map(stage)) => {
                o.stages.push(Replayed { index: i, kind });
                built.push(stage);
            }
            Ok(Step::Global(_)) => o.skipped.push((
                i,
                kind,
                "decides over the whole corpus: not replayed on a sample".into(),
            )),
            Err(e) => o
                .skipped
                .push((i, kind, format!("cannot be built here ({e})"))),
        }
    }
    if o.stages.is_empty() {
        return Some(o);
    }
    let opts = ReadOptions {
        names: FieldNames {
            text: cfg.input.text_field.clone(),
            id: cfg.input.id_field.clone(),
        },
        max_line_bytes: cfg.input.max_line_bytes.0 as usize,
        replace_invalid_utf8: cfg.input.invalid_utf8
            == datamill_exec::pipeline::InvalidUtf8::Replace,
    };
    let n = plan.units.len();
    let chosen: Vec<usize> = if n <= MAX_UNITS {
        (0..n).collect()
    } else {
        (0..MAX_UNITS).map(|i| i * n / MAX_UNITS).collect()
    };
    o.units = (0, n);
    let per_unit = docs.div_ceil(chosen.len().max(1));
    let mut whole = n <= MAX_UNITS;
    let mut scx = StageCx::default();
    for u in chosen {
        let unit = &plan.units[u];
        let Some(file) = plan.files.get(unit.file as usize) else {
            continue;
        };
        let mut reader = match open_unit(file, unit, &opts, Arc::new(AtomicU64::new(0))) {
            Ok(r) => r,
            Err(e) => {
                problems.push(Problem {
                    file: file.label.clone(),
                    message: format!(
                        "cannot be opened for the overlap sample ({e}); its documents are \
                         not in it"
                    ),
                });
                whole = false;
                continue;
            }
        };
        o.units.0 += 1;
        let mut taken = 0;
        loop {
            if taken == per_unit || o.drops.len() == docs {
                // Stopped early: the sample may not be the whole input.
                if !matches!(reader.next_record(), Ok(None)) {
                    whole = false;
                }
                break;
            }
            match reader.next_record() {
                Ok(Some(Record::Doc(doc, _))) => {
                    taken += 1;
                    o.drops.push(evaluate(doc, &built, &mut scx, &mut o.errors));
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => {
                    problems.push(Problem {
                        file: file.label.clone(),
                        message: format!(
                            "read stopped in work unit {u} ({e}); the overlap sample holds \
                             what came before"
                        ),
                    });
                    whole = false;
                    break;
                }
            }
        }
    }
    o.whole_input = whole;
    Some(o)
}

/// Every stage's verdict on one document (see the module doc).
fn evaluate(
    mut doc: Doc,
    stages: &[Box<dyn datamill_core::Stage>],
    cx: &mut StageCx,
    errors: &mut u64,
) -> Vec<Option<String>> {
    let mut out = Vec::with_capacity(stages.len());
    for s in stages {
        let before = doc.clone();
        let v = s.process(&mut doc, cx);
        cx.take_counters();
        cx.take_notes();
        match v {
            Ok(Verdict::Keep) => out.push(None),
            Ok(Verdict::Drop(r)) => {
                out.push(Some(r.into_owned()));
                doc = before;
            }
            Err(_) => {
                *errors += 1;
                out.push(None);
                doc = before;
            }
        }
    }
    out
}
