//! The two stage traits: [`Stage`] (a per-document decision) and [`GlobalStage`] (a decision
//! over the whole corpus), and the values they exchange with the executor.

use crate::doc::Doc;
use crate::error::StageError;
use crate::report::ReportSink;
use std::borrow::Cow;

/// What a stage decided about one document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Keep the document (possibly modified) and pass it to the next stage.
    Keep,
    /// Drop the document, with a short stable reason such as `"min_words"`.
    Drop(Cow<'static, str>),
}

impl Verdict {
    /// A drop verdict with the given reason.
    pub fn drop(reason: impl Into<Cow<'static, str>>) -> Verdict {
        Verdict::Drop(reason.into())
    }
}

/// Per-call context handed to a stage: a place for counters that end up in the stage's
/// statistics (for example, how many e-mail addresses a PII stage replaced).
#[derive(Debug, Default)]
pub struct StageCx {
    counters: Vec<(&'static str, u64)>,
    at: Option<DocRef>,
    notes: Vec<Vec<u8>>,
}

impl StageCx {
    /// Where the current document sits in the input of the global stage whose
    /// [`Decider::finish`] transform is running (the same [`DocRef`] the decider saw), so a
    /// transform can apply a per-position decision such as "keep the first occurrence".
    /// `None` for ordinary per-document stages.
    pub fn doc_ref(&self) -> Option<DocRef> {
        self.at
    }

    /// Sets the position returned by [`StageCx::doc_ref`] (the executor does this around a
    /// transform call).
    pub fn set_doc_ref(&mut self, at: Option<DocRef>) {
        self.at = at;
    }

    /// Adds `n` to counter `name` of the current stage.
    pub fn count(&mut self, name: &'static str, n: u64) {
        if let Some(c) = self.counters.iter_mut().find(|c| c.0 == name) {
            c.1 += n;
        } else {
            self.counters.push((name, n));
        }
    }

    /// Takes the counters accumulated so far, leaving none.
    pub fn take_counters(&mut self) -> Vec<(&'static str, u64)> {
        std::mem::take(&mut self.counters)
    }

    /// Leaves a note for the report of the global stage whose transform is running (see
    /// [`GlobalStage::finish_report`]): the executor stores each task's notes beside its
    /// outputs and hands all of them, in input order, to the report step once every task
    /// of the pass is done. Notes are for small things (a report's examples).
    pub fn note(&mut self, bytes: Vec<u8>) {
        self.notes.push(bytes);
    }

    /// Takes the notes left so far, leaving none.
    pub fn take_notes(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.notes)
    }
}

/// A per-document stage: looks at one document, may modify it, returns a [`Verdict`].
///
/// A stage knows nothing of files, threads or statistics. It must be deterministic: the
/// same document and configuration give the same verdict, whatever thread runs it.
pub trait Stage: Send + Sync {
    /// Decides about one document.
    fn process(&self, doc: &mut Doc, cx: &mut StageCx) -> Result<Verdict, StageError>;
}

/// Identifies a document inside a global stage's input: work unit, then position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DocRef {
    /// The work unit's index.
    pub unit: u32,
    /// The document's position among the unit's documents that reached this stage.
    pub index: u32,
}

/// A stage that decides over the whole corpus, in two passes.
///
/// 1. [`summarize`](GlobalStage::summarize) runs on every document, in parallel, and
///    returns a compact summary (a hash, a signature, a score);
/// 2. a [`Decider`] sees every summary once, in input order (unit by unit, document by
///    document), marks the documents to drop, writes the stage's report and may return the
///    state of a per-document transform (bytes);
/// 3. the executor stores the verdicts and that state, and every task of the next pass
///    drops the marked documents and runs [`transform`](GlobalStage::transform) (built from
///    the stored state) on the others;
/// 4. if the transform left notes ([`StageCx::note`]), the executor hands them all to
///    [`finish_report`](GlobalStage::finish_report) once that pass is done.
///
/// Summaries, decisions and notes are bytes so that the executor can spill them to disk,
/// resume after a crash and move them between processes and machines without knowing what
/// they mean: no step depends on state kept in memory between steps.
pub trait GlobalStage: Send + Sync {
    /// Appends the summary of `doc` to `out` (which is empty on entry).
    fn summarize(&self, doc: &Doc, out: &mut Vec<u8>) -> Result<(), StageError>;

    /// A fresh decider for one run.
    fn decider(&self, cx: &DecideCx) -> Result<Box<dyn Decider + '_>, StageError>;

    /// Builds the per-document transform from the state [`Decider::finish`] returned. Only
    /// called for a state the decider returned; the default refuses.
    fn transform(&self, state: &[u8]) -> Result<Box<dyn Stage + '_>, StageError> {
        let _ = state;
        Err(StageError::Other(
            "this stage's decision has no transform (a bug)".into(),
        ))
    }

    /// Completes the stage's report from the notes its transform left ([`StageCx::note`]),
    /// all of them, in input order (unit, then document). Called once the pass applying the
    /// transform is complete; it may be called again after a crash and must then write the
    /// same files. The default does nothing.
    fn finish_report(
        &self,
        state: &[u8],
        notes: &[Vec<u8>],
        report: &ReportSink,
    ) -> Result<(), StageError> {
        let _ = (state, notes, report);
        Ok(())
    }
}

/// What a [`Decider`] may use besides the summaries.
#[derive(Clone, Debug, Default)]
pub struct DecideCx {
    /// Where the stage writes its report (`OUT/reports/<type>/` in a run, with a `-<n>`
    /// suffix when the pipeline has several stages of that type; memory by default).
    pub report: ReportSink,
    /// Scratch space for spilling (empty by default: the stage picks a temporary folder).
    /// The executor empties it before deciding and removes it afterwards.
    pub work_dir: std::path::PathBuf,
    /// Memory the decider may use for its in-memory state, in bytes (`None`: unbounded).
    pub memory_budget: Option<u64>,
    /// Worker threads the decider may use.
    pub workers: usize,
}

/// The deciding half of a [`GlobalStage`].
pub trait Decider {
    /// Called before the summaries of work unit `unit`, which was cut from input file `file`
    /// (its index in the run's input list). Units come in input order, so the units of a file
    /// are consecutive and their documents, in order, are the file's documents that reached
    /// the stage. For stages whose decision depends on input files (DSIR splits its fit per
    /// raw file, as data-selection does); the default ignores it.
    fn begin_unit(&mut self, unit: u32, file: u32) {
        let _ = (unit, file);
    }

    /// Sees one summary; documents arrive in input order. May mark drops immediately.
    fn observe(
        &mut self,
        at: DocRef,
        summary: &[u8],
        verdicts: &mut Verdicts,
    ) -> Result<(), StageError>;

    /// Called once after the last summary; marks any remaining drops and writes the report.
    ///
    /// It may also return the state of a per-document transform (for example "remove these
    /// lines", for line dedup), as bytes ([`crate::codec`]): the executor stores it with the
    /// verdicts, and every task of the next pass builds the transform from it with
    /// [`GlobalStage::transform`] and runs it on every kept document, so a resumed run or
    /// another process never decides again.
    fn finish(&mut self, verdicts: &mut Verdicts) -> Result<Option<Vec<u8>>, StageError> {
        let _ = verdicts;
        Ok(None)
    }
}

/// The decisions of a global stage: one code per document, 0 for keep, `i + 1` for the
/// `i`-th drop reason; and, when the executor wants them (dropped documents are written to
/// `excluded/`), details of a drop that go into the document's `excluded_by` (a dedup
/// stage's `duplicate_of` and cluster).
#[derive(Clone, Debug, Default)]
pub struct Verdicts {
    units: Vec<Vec<u8>>,
    reasons: Vec<String>,
    want_details: bool,
    details: Vec<(DocRef, Box<str>)>,
}

impl Verdicts {
    /// All-keep verdicts for units holding `counts[u]` documents each.
    pub fn new(counts: &[u32]) -> Verdicts {
        Verdicts {
            units: counts.iter().map(|&n| vec![0; n as usize]).collect(),
            reasons: Vec::new(),
            want_details: false,
            details: Vec::new(),
        }
    }

    /// Asks for drop details ([`Verdicts::drop_with`] records them only then): the executor
    /// does when dropped documents are written to `excluded/`.
    pub fn want_details(&mut self, yes: bool) {
        self.want_details = yes;
    }

    /// Whether drop details are wanted (a decider may skip the work of finding them).
    pub fn wants_details(&self) -> bool {
        self.want_details
    }

    /// [`Verdicts::drop`], with details for the document's `excluded_by`: the fields of the
    /// JSON object `detail` (e.g. `{"duplicate_of": "doc-7", "cluster": "3f2a..."}`),
    /// recorded when details are wanted and this drop is the document's first.
    pub fn drop_with(&mut self, at: DocRef, reason: &str, detail: &serde_json::Value) {
        let first = self.units[at.unit as usize][at.index as usize] == 0;
        self.drop(at, reason);
        if first && self.want_details && detail.is_object() {
            self.details.push((at, detail.to_string().into_boxed_str()));
        }
    }

    /// The drop details recorded, in document order (unit, then index).
    pub fn take_details(&mut self) -> Vec<(DocRef, Box<str>)> {
        let mut d = std::mem::take(&mut self.details);
        d.sort_by_key(|(at, _)| (at.unit, at.index));
        d
    }

    /// Marks a document as dropped for `reason` (the first reason marked wins).
    ///
    /// # Panics
    /// If `at` is outside the units given to [`Verdicts::new`], or more than 255 distinct
    /// reasons are used.
    pub fn drop(&mut self, at: DocRef, reason: &str) {
        let code = match self.reasons.iter().position(|r| r == reason) {
            Some(i) => i + 1,
            None => {
                self.reasons.push(reason.to_string());
                self.reasons.len()
            }
        };
        let code = u8::try_from(code).expect("at most 255 drop reasons per global stage");
        let slot = &mut self.units[at.unit as usize][at.index as usize];
        if *slot == 0 {
            *slot = code;
        }
    }

    /// The verdict for one document.
    pub fn get(&self, at: DocRef) -> Option<&str> {
        match self.units[at.unit as usize][at.index as usize] {
            0 => None,
            c => Some(&self.reasons[c as usize - 1]),
        }
    }

    /// The codes of one unit (0 keep, `i + 1` reason `i`), for storage.
    pub fn unit_codes(&self, unit: usize) -> &[u8] {
        &self.units[unit]
    }

    /// The reason table, for storage.
    pub fn reasons(&self) -> &[String] {
        &self.reasons
    }

    /// Rebuilds verdicts from stored codes and reasons.
    pub fn from_parts(units: Vec<Vec<u8>>, reasons: Vec<String>) -> Verdicts {
        Verdicts {
            units,
            reasons,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_first_reason_wins() {
        let mut v = Verdicts::new(&[2, 1]);
        let a = DocRef { unit: 0, index: 1 };
        v.drop(a, "duplicate");
        v.drop(a, "other");
        assert_eq!(v.get(a), Some("duplicate"));
        assert_eq!(v.get(DocRef { unit: 1, index: 0 }), None);
        assert_eq!(v.unit_codes(0), &[0, 1]);
        let back = Verdicts::from_parts(
            vec![v.unit_codes(0).to_vec(), vec![0]],
            v.reasons().to_vec(),
        );
        assert_eq!(back.get(a), Some("duplicate"));
    }

    #[test]
    fn drop_details_only_when_wanted_and_first() {
        let mut v = Verdicts::new(&[3]);
        let a = DocRef { unit: 0, index: 2 };
        let b = DocRef { unit: 0, index: 0 };
        v.drop_with(a, "duplicate", &serde_json::json!({"duplicate_of": "x"}));
        assert!(v.take_details().is_empty());
        let mut v = Verdicts::new(&[3]);
        v.want_details(true);
        v.drop_with(a, "duplicate", &serde_json::json!({"duplicate_of": "x"}));
        v.drop_with(a, "other", &serde_json::json!({"duplicate_of": "y"}));
        v.drop_with(b, "duplicate", &serde_json::json!({"cluster": 1}));
        let d = v.take_details();
        assert_eq!(d.len(), 2);
        assert_eq!((d[0].0, &*d[0].1), (b, r#"{"cluster":1}"#));
        assert_eq!(&*d[1].1, r#"{"duplicate_of":"x"}"#);
    }

    #[test]
    fn counters_accumulate() {
        let mut cx = StageCx::default();
        cx.count("emails", 2);
        cx.count("emails", 3);
        cx.count("ips", 1);
        assert_eq!(cx.take_counters(), vec![("emails", 5), ("ips", 1)]);
        assert!(cx.take_counters().is_empty());
    }
}
