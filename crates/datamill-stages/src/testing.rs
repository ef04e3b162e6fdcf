//! Test support: runs a global stage the way the executor does (summaries in input order,
//! one decider, its verdicts, then its transform on the kept documents), in memory.

use datamill_core::{DecideCx, Doc, DocRef, GlobalStage, Stage, StageCx, Verdict, Verdicts};

/// `DocRef`s of `n` documents cut into work units of `per_unit`, and the per-unit counts.
pub(crate) fn refs(n: usize, per_unit: usize) -> (Vec<DocRef>, Vec<u32>) {
    let per_unit = per_unit.max(1);
    let refs: Vec<DocRef> = (0..n)
        .map(|i| DocRef {
            unit: (i / per_unit) as u32,
            index: (i % per_unit) as u32,
        })
        .collect();
    let counts = (0..n.div_ceil(per_unit))
        .map(|u| (n - u * per_unit).min(per_unit) as u32)
        .collect();
    (refs, counts)
}

/// What a decider concluded.
pub(crate) struct Decided {
    /// Every document's place.
    pub refs: Vec<DocRef>,
    /// The drops it decided.
    pub verdicts: Verdicts,
    /// The transform for the kept documents, if the stage has one.
    pub transform: Option<Box<dyn Stage>>,
}

impl Decided {
    /// The drop reason of every document (`None` = kept by the decision).
    pub fn reasons(&self) -> Vec<Option<String>> {
        self.refs
            .iter()
            .map(|&r| self.verdicts.get(r).map(String::from))
            .collect()
    }
}

/// Feeds precomputed `summaries` (input order, units of `per_unit`) to `g`'s decider.
pub(crate) fn decide(
    g: &dyn GlobalStage,
    summaries: &[Vec<u8>],
    per_unit: usize,
    cx: &DecideCx,
) -> Decided {
    let (refs, counts) = refs(summaries.len(), per_unit);
    let mut verdicts = Verdicts::new(&counts);
    let mut d = g.decider(cx).unwrap();
    for (s, &at) in summaries.iter().zip(&refs) {
        d.observe(at, s, &mut verdicts).unwrap();
    }
    let transform = d.finish(&mut verdicts).unwrap();
    Decided {
        refs,
        verdicts,
        transform,
    }
}

/// `g`'s summary of every document.
pub(crate) fn summaries(g: &dyn GlobalStage, docs: &[Doc]) -> Vec<Vec<u8>> {
    docs.iter()
        .map(|d| {
            let mut s = Vec::new();
            g.summarize(d, &mut s).unwrap();
            s
        })
        .collect()
}

/// A document's fate after a global stage.
#[derive(Debug)]
pub(crate) enum Fate {
    /// Dropped, by the decision or by the transform, for this reason.
    Dropped(String),
    /// Kept, as the transform left it.
    Kept(Doc),
}

impl Fate {
    /// The drop reason, if dropped.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Fate::Dropped(r) => Some(r),
            Fate::Kept(_) => None,
        }
    }

    /// The kept document, if kept.
    pub fn doc(&self) -> Option<&Doc> {
        match self {
            Fate::Kept(d) => Some(d),
            Fate::Dropped(_) => None,
        }
    }
}

/// A whole global stage over `docs` (units of `per_unit`): summarize, decide, apply.
pub(crate) fn run(
    g: &dyn GlobalStage,
    docs: Vec<Doc>,
    per_unit: usize,
    cx: &DecideCx,
) -> (Vec<Fate>, Decided) {
    let decided = decide(g, &summaries(g, &docs), per_unit, cx);
    let fates = apply(&decided, docs);
    (fates, decided)
}

/// Applies a decision (verdicts, then the transform) to the documents it was made on.
pub(crate) fn apply(decided: &Decided, docs: Vec<Doc>) -> Vec<Fate> {
    docs.into_iter()
        .zip(&decided.refs)
        .map(|(mut doc, &at)| {
            if let Some(r) = decided.verdicts.get(at) {
                return Fate::Dropped(r.to_string());
            }
            let Some(t) = &decided.transform else {
                return Fate::Kept(doc);
            };
            let mut cx = StageCx::default();
            cx.set_doc_ref(Some(at));
            match t.process(&mut doc, &mut cx).unwrap() {
                Verdict::Keep => Fate::Kept(doc),
                Verdict::Drop(r) => Fate::Dropped(r.to_string()),
            }
        })
        .collect()
}

/// Each document's drop reason (`None` = kept), and the kept documents.
pub(crate) fn split(fates: Vec<Fate>) -> (Vec<Option<String>>, Vec<Doc>) {
    let reasons = fates.iter().map(|f| f.reason().map(String::from)).collect();
    let kept = fates
        .into_iter()
        .filter_map(|f| match f {
            Fate::Kept(d) => Some(d),
            Fate::Dropped(_) => None,
        })
        .collect();
    (reasons, kept)
}
