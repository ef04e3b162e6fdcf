//! C4's bad-words rule as datatrove 0.10.1's C4BadWordsFilter: drops documents containing a
//! word of the LDNOOBW list of their language.
//!
//! The language is the document's `language` metadata (as written by the `language` stage),
//! else `default_language`. The English list ships with datamill (the revision datatrove uses,
//! CC BY 4.0); lists for other languages are read from `badwords_dir` (files named as in the
//! LDNOOBW repository, e.g. `de`), resolved against the pipeline file's folder — datatrove
//! downloads them at run time, datamill never does. With `keep_fraction > 0`, a matching
//! document is kept when `xxh3_64(id, seed) / 2^64 < keep_fraction` — deterministic whatever
//! the worker count (datatrove draws from a random generator instead, so which documents are
//! kept differs; the default, 0, is exact).
//!
//! Parameters: `keep_fraction` (0), `fail_on_missing_language` (true), `seed` (the
//! pipeline's), `default_language` ("en"), `badwords_dir`.
//!
//! Drop reason: `document_removed_with_badwords`.
//!
//! ```toml
//! [[stage]]
//! type = "c4_badwords"
//! default_language = "en"
//! ```

use super::datatrove::apply;
use crate::{BuildCx, StageSpec, Step};
use datamill_core::{Doc, Stage, StageCx, StageError, Verdict};
pub use datamill_filters::C4BadWordsFilter;
use datamill_filters::FilterResult;

struct Built {
    f: C4BadWordsFilter,
    keep_fraction: f64,
    seed: u64,
}

impl StageSpec for C4BadWordsFilter {
    fn build(&self, cx: &BuildCx) -> Result<Step, StageError> {
        let mut f = self.clone();
        f.validate()
            .map_err(|m| StageError::config("keep_fraction", m))?;
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
        Ok(Step::Map(Box::new(Built {
            seed: self.seed.unwrap_or(cx.seed),
            f,
            keep_fraction,
        })))
    }
}

impl Stage for Built {
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
