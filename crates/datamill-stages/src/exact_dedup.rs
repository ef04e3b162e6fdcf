//! Drops a document whose normalized text (or field) was seen before; the first occurrence in
//! input order wins.
//!
//! A global stage: every document is summarized by the 128-bit xxh3 hash of its normalized
//! content, one pass over the summaries in input order keeps the first document of each hash
//! and drops the others with reason `duplicate`. The result does not depend on the worker
//! count. Normalization (both on by default): `lowercase` lowercases (Unicode), and
//! `collapse_whitespace` trims the text and turns every run of whitespace into one space, so
//! documents differing only in case or spacing count as duplicates. With `field`, the value
//! of that metadata field is hashed instead of the text (URL dedup, say); documents without
//! the field are never duplicates.
//!
//! Memory: 16 bytes of summary per document on disk and about 32 bytes per distinct document
//! in memory while deciding.
//!
//! Parameters: `field`, `lowercase` (default true), `collapse_whitespace` (default true).
//!
//! ```toml
//! [[stage]]
//! type = "exact_dedup"
//!
//! [[stage]]
//! type = "exact_dedup"
//! field = "url"
//! lowercase = false
//! ```

use crate::{BuildCx, StageSpec, Step};
use datamill_core::{DecideCx, Decider, Doc, DocRef, GlobalStage, StageError, Verdicts};
use serde::Deserialize;
use std::collections::HashSet;

fn yes() -> bool {
    true
}

/// The `exact_dedup` stage's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExactDedup {
    /// Hash this metadata field instead of the text.
    pub field: Option<String>,
    /// Lowercase before hashing.
    #[serde(default = "yes")]
    pub lowercase: bool,
    /// Trim and collapse whitespace before hashing.
    #[serde(default = "yes")]
    pub collapse_whitespace: bool,
}

impl StageSpec for ExactDedup {
    fn build(&self, _: &BuildCx) -> Result<Step, StageError> {
        Ok(Step::Global(Box::new(self.clone())))
    }
}

impl ExactDedup {
    /// The normalized form of `s` that is hashed.
    pub fn normalize<'a>(&self, s: &'a str) -> std::borrow::Cow<'a, str> {
        let mut s = std::borrow::Cow::Borrowed(s);
        if self.collapse_whitespace {
            s = std::borrow::Cow::Owned(s.split_whitespace().collect::<Vec<_>>().join(" "));
        }
        if self.lowercase {
            s = std::borrow::Cow::Owned(s.to_lowercase());
        }
        s
    }
}

impl GlobalStage for ExactDedup {
    fn summarize(&self, doc: &Doc, out: &mut Vec<u8>) -> Result<(), StageError> {
        let content = match &self.field {
            None => std::borrow::Cow::Borrowed(doc.text()),
            Some(f) => match doc.get_str(f) {
                Some(v) => v,
                None => return Ok(()), // empty summary: never a duplicate
            },
        };
        let h = xxhash_rust::xxh3::xxh3_128(self.normalize(&content).as_bytes());
        out.extend_from_slice(&h.to_le_bytes());
        Ok(())
    }

    fn decider(&self, _: &DecideCx) -> Result<Box<dyn Decider + '_>, StageError> {
        Ok(Box::new(FirstWins {
            seen: HashSet::with_hasher(foldhash::fast::FixedState::default()),
        }))
    }
}

struct FirstWins {
    seen: HashSet<u128, foldhash::fast::FixedState>,
}

impl Decider for FirstWins {
    fn observe(&mut self, at: DocRef, summary: &[u8], v: &mut Verdicts) -> Result<(), StageError> {
        let Ok(bytes) = <[u8; 16]>::try_from(summary) else {
            return if summary.is_empty() {
                Ok(())
            } else {
                Err(StageError::Other(format!("exact_dedup: corrupt summary of {} bytes", summary.len())))
            };
        };
        if !self.seen.insert(u128::from_le_bytes(bytes)) {
            v.drop(at, "duplicate");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stage: &ExactDedup, lines: &[&str]) -> Vec<Option<String>> {
        let mut v = Verdicts::new(&[lines.len() as u32]);
        let mut d = stage.decider(&DecideCx::default()).unwrap();
        for (i, l) in lines.iter().enumerate() {
            let doc = Doc::from_json(l.to_string(), &Default::default(), || "x".into()).unwrap();
            let mut s = Vec::new();
            stage.summarize(&doc, &mut s).unwrap();
            d.observe(DocRef { unit: 0, index: i as u32 }, &s, &mut v).unwrap();
        }
        d.finish(&mut v).unwrap();
        (0..lines.len())
            .map(|i| v.get(DocRef { unit: 0, index: i as u32 }).map(String::from))
            .collect()
    }

    #[test]
    fn first_occurrence_wins_after_normalization() {
        let s: ExactDedup = toml::from_str("").unwrap();
        let got = run(
            &s,
            &[
                r#"{"text":"Hello  World"}"#,
                r#"{"text":"hello world "}"#,
                r#"{"text":"hello there"}"#,
                r#"{"text":"HELLO\nWORLD"}"#,
            ],
        );
        let dup = Some("duplicate".to_string());
        assert_eq!(got, [None, dup.clone(), None, dup]);
    }

    #[test]
    fn raw_mode_and_field_mode() {
        let s: ExactDedup = toml::from_str("lowercase = false\ncollapse_whitespace = false").unwrap();
        let got = run(&s, &[r#"{"text":"a b"}"#, r#"{"text":"a  b"}"#, r#"{"text":"a b"}"#]);
        assert_eq!(got, [None, None, Some("duplicate".into())]);
        let s: ExactDedup = toml::from_str("field = \"url\"").unwrap();
        let got = run(
            &s,
            &[
                r#"{"text":"1","url":"HTTP://a"}"#,
                r#"{"text":"2"}"#,
                r#"{"text":"3"}"#,
                r#"{"text":"4","url":"http://a"}"#,
            ],
        );
        assert_eq!(got, [None, None, None, Some("duplicate".into())]);
    }
}
