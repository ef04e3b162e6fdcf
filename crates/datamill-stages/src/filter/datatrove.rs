//! Shared wrapper that turns a `datamill_filters` rule filter (a datatrove 0.10.1 port) into a
//! per-document stage: keep, keep with rewritten text, or drop with datatrove's reason.

use crate::{BuildCx, StageSpec, Step};
use datamill_core::{Doc, Stage, StageCx, StageError, Verdict};
use datamill_filters::{Filter, FilterResult};

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
    f.validate().map_err(|m| {
        let param = m
            .split('`')
            .nth(1)
            .filter(|p| !p.contains(' '))
            .unwrap_or("parameters")
            .to_string();
        StageError::config(param, m)
    })?;
    Ok(Step::Map(Box::new(FilterStage(f.clone()))))
}

macro_rules! filter_spec {
    ($ty:ty) => {
        impl StageSpec for $ty {
            fn build(&self, _: &BuildCx) -> Result<Step, StageError> {
                build(self)
            }
        }
    };
}

filter_spec!(datamill_filters::GopherQualityFilter);
filter_spec!(datamill_filters::GopherRepetitionFilter);
filter_spec!(datamill_filters::C4QualityFilter);
filter_spec!(datamill_filters::FineWebQualityFilter);
