//! Test support: runs a global stage the way the executor does (summaries in input order,
//! one decider, its verdicts; then the transform, built from the state the decider returned,
//! on the kept documents; then the report step over the transform's notes), in memory.

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
pub(crate) struct Decided<'g> {
    /// Every document's place.
    pub refs: Vec<DocRef>,
    /// The drops it decided.
    pub verdicts: Verdicts,
    /// The transform's state, as the executor stores it.
    pub state: Option<Vec<u8>>,
    /// The transform for the kept documents, built from `state`, if the stage has one.
    pub transform: Option<Box<dyn Stage + 'g>>,
}

impl Decided<'_> {
    /// The drop reason of every document (`None` = kept by the decision).
    pub fn reasons(&self) -> Vec<Option<String>> {
        self.refs
            .iter()
            .map(|&r| self.verdicts.get(r).map(String::from))
            .collect()
    }
}

/// Feeds precomputed `summaries` (input order, units of `per_unit`) to `g`'s decider, and
/// builds the transform from the state it returns.
pub(crate) fn decide<'g>(
    g: &'g dyn GlobalStage,
    summaries: &[Vec<u8>],
    per_unit: usize,
    cx: &DecideCx,
) -> Decided<'g> {
    let (refs, counts) = refs(summaries.len(), per_unit);
    let units: Vec<(u32, u32)> = counts.iter().map(|&c| (0, c)).collect();
    decide_units(g, summaries, &units, cx, refs)
}

/// [`decide`] over explicit work units: `(input file, documents)` per unit, in input order
/// (each unit's file is told to the decider with
/// [`Decider::begin_unit`](datamill_core::Decider::begin_unit), as the executor does).
pub(crate) fn decide_files<'g>(
    g: &'g dyn GlobalStage,
    summaries: &[Vec<u8>],
    units: &[(u32, u32)],
    cx: &DecideCx,
) -> Decided<'g> {
    let refs = units
        .iter()
        .enumerate()
        .flat_map(|(u, &(_, n))| {
            (0..n).map(move |index| DocRef {
                unit: u as u32,
                index,
            })
        })
        .collect();
    decide_units(g, summaries, units, cx, refs)
}

fn decide_units<'g>(
    g: &'g dyn GlobalStage,
    summaries: &[Vec<u8>],
    units: &[(u32, u32)],
    cx: &DecideCx,
    refs: Vec<DocRef>,
) -> Decided<'g> {
    assert_eq!(refs.len(), summaries.len());
    let counts: Vec<u32> = units.iter().map(|u| u.1).collect();
    let mut verdicts = Verdicts::new(&counts);
    // As the executor does when excluded documents are written.
    verdicts.want_details(true);
    let mut d = g.decider(cx).unwrap();
    let mut next = 0;
    for (u, &(file, n)) in units.iter().enumerate() {
        d.begin_unit(u as u32, file);
        for (s, &at) in summaries[next..next + n as usize]
            .iter()
            .zip(&refs[next..next + n as usize])
        {
            d.observe(at, s, &mut verdicts).unwrap();
        }
        next += n as usize;
    }
    let state = d.finish(&mut verdicts).unwrap();
    drop(d);
    let transform = state.as_deref().map(|s| g.transform(s).unwrap());
    Decided {
        refs,
        verdicts,
        state,
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

/// A whole global stage over `docs` (units of `per_unit`): summarize, decide, apply, and
/// complete the report from the transform's notes.
pub(crate) fn run<'g>(
    g: &'g dyn GlobalStage,
    docs: Vec<Doc>,
    per_unit: usize,
    cx: &DecideCx,
) -> (Vec<Fate>, Decided<'g>) {
    let decided = decide(g, &summaries(g, &docs), per_unit, cx);
    let (fates, notes) = apply_noting(&decided, docs);
    if let Some(state) = &decided.state {
        g.finish_report(state, &notes, &cx.report).unwrap();
    }
    (fates, decided)
}

/// Applies a decision (verdicts, then the transform) to the documents it was made on.
pub(crate) fn apply(decided: &Decided, docs: Vec<Doc>) -> Vec<Fate> {
    apply_noting(decided, docs).0
}

/// [`apply`], also returning the notes the transform left, in input order.
pub(crate) fn apply_noting(decided: &Decided, docs: Vec<Doc>) -> (Vec<Fate>, Vec<Vec<u8>>) {
    let mut notes = Vec::new();
    let fates = docs
        .into_iter()
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
            let v = t.process(&mut doc, &mut cx).unwrap();
            notes.extend(cx.take_notes());
            match v {
                Verdict::Keep => Fate::Kept(doc),
                Verdict::Drop(r) => Fate::Dropped(r.to_string()),
            }
        })
        .collect();
    (fates, notes)
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
