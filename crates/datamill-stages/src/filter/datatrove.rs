//! The stages of the `datamill_filters` rule filters (datatrove 0.10.1 ports): a filter is a
//! per-document stage that keeps, keeps with rewritten text, or drops with datatrove's reason.
//! Their docs, parameters and defaults live in `datamill_filters::filters::<name>`; this file
//! only wraps them (and adds `c4_badwords`' per-document language and deterministic
//! `keep_fraction`).

use crate::{BuildCx, StageSpec, Step};
use datamill_core::{Doc, Stage, StageCx, StageError, Verdict};
use datamill_filters::{C4BadWordsFilter, Filter, FilterResult};

/// A datatrove filter as a stage.
pub struct FilterStage<F: Filter>(pub F);

impl<F: Filter> Stage for FilterStage<F> {
    fn process(&self, doc: &mut Doc, cx: &mut StageCx) -> Result<Verdict, StageError> {
        Ok(apply(self.0.filter(doc.text()), doc, cx))
    }
}

/// Applies a filter result to a document.
pub fn apply(r: FilterResult, doc: &mut Doc, cx: &mut StageCx) -> Verdict {
    match r {
        FilterResult::Keep => Verdict::Keep,
        FilterResult::Rewrite(t) => {
            cx.count("rewritten", 1);
            doc.set_text(t);
            Verdict::Keep
        }
        FilterResult::Drop(reason) => Verdict::Drop(reason),
    }
}

/// Validates a filter and wraps it.
pub fn build<F: Filter + Clone + 'static>(f: &F) -> Result<Step, StageError> {
    f.validate()
        .map_err(|e| StageError::config(e.param, e.message))?;
    Ok(Step::Map(Box::new(FilterStage(f.clone()))))
}

/// `c4_badwords` at run time: the filter (with `keep_fraction` taken out) and the
/// deterministic keep draw.
struct C4BadWordsStage {
    f: C4BadWordsFilter,
    keep_fraction: f64,
    seed: u64,
}

impl StageSpec for C4BadWordsFilter {
    fn build(&self, cx: &BuildCx) -> Result<Step, StageError> {
        let mut f = self.clone();
        f.validate()
            .map_err(|e| StageError::config(e.param, e.message))?;
        if let Some(d) = &f.badwords_dir {
            let d = cx.base_dir.join(d);
            if !d.is_dir() {
                return Err(StageError::config(
                    "badwords_dir",
                    format!("{} is not a folder", d.display()),
                ));
            }
            f.badwords_dir = Some(d);
        }
        let keep_fraction = f.keep_fraction;
        f.keep_fraction = 0.0;
        Ok(Step::Map(Box::new(C4BadWordsStage {
            seed: self.seed.unwrap_or(cx.seed),
            f,
            keep_fraction,
        })))
    }
}

impl Stage for C4BadWordsStage {
    fn process(&self, doc: &mut Doc, cx: &mut StageCx) -> Result<Verdict, StageError> {
        let lang = doc.get_str("language");
        let r = self
            .f
            .filter_lang(doc.text(), lang.as_deref())
            .map_err(StageError::Other)?;
        if let FilterResult::Drop(_) = &r
            && self.keep_fraction > 0.0
        {
            let h = xxhash_rust::xxh3::xxh3_64_with_seed(doc.id().as_bytes(), self.seed);
            if (h as f64) < self.keep_fraction * 2f64.powi(64) {
                return Ok(Verdict::Keep);
            }
        }
        Ok(apply(r, doc, cx))
    }
}
