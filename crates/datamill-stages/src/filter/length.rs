//! Drops documents whose length in characters or words is out of bounds.
//!
//! Characters are Unicode scalar values (what Python's `len(str)` counts); words are runs of
//! non-whitespace separated by Unicode whitespace (Python's `str.split()`). Every bound is
//! optional; a document is dropped by the first bound it violates, in the order
//! `min_chars`, `max_chars`, `min_words`, `max_words`, and the drop reason is that bound's
//! name.
//!
//! Parameters: `min_chars`, `max_chars`, `min_words`, `max_words` (integers, default: no bound).
//!
//! ```toml
//! [[stage]]
//! type = "length"
//! min_words = 50
//! max_chars = 100000
//! ```

use crate::{BuildCx, StageSpec, Step};
use datamill_core::{Doc, Stage, StageCx, StageError, Verdict};
use serde::Deserialize;

/// Bounds on characters and words.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Length {
    /// Minimum number of characters.
    pub min_chars: Option<u64>,
    /// Maximum number of characters.
    pub max_chars: Option<u64>,
    /// Minimum number of words.
    pub min_words: Option<u64>,
    /// Maximum number of words.
    pub max_words: Option<u64>,
}

impl StageSpec for Length {
    fn build(&self, _: &BuildCx) -> Result<Step, StageError> {
        for (lo, hi, name) in [
            (self.min_chars, self.max_chars, "chars"),
            (self.min_words, self.max_words, "words"),
        ] {
            if let (Some(lo), Some(hi)) = (lo, hi)
                && lo > hi
            {
                return Err(StageError::config(
                    format!("min_{name}"),
                    format!("min_{name} = {lo} is larger than max_{name} = {hi}"),
                ));
            }
        }
        Ok(Step::Map(Box::new(self.clone())))
    }
}

impl Stage for Length {
    fn process(&self, doc: &mut Doc, _: &mut StageCx) -> Result<Verdict, StageError> {
        let text = doc.text();
        if self.min_chars.is_some() || self.max_chars.is_some() {
            let n = text.chars().count() as u64;
            if self.min_chars.is_some_and(|m| n < m) {
                return Ok(Verdict::drop("min_chars"));
            }
            if self.max_chars.is_some_and(|m| n > m) {
                return Ok(Verdict::drop("max_chars"));
            }
        }
        if self.min_words.is_some() || self.max_words.is_some() {
            let n = text.split_whitespace().count() as u64;
            if self.min_words.is_some_and(|m| n < m) {
                return Ok(Verdict::drop("min_words"));
            }
            if self.max_words.is_some_and(|m| n > m) {
                return Ok(Verdict::drop("max_words"));
            }
        }
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(l: &Length, text: &str) -> Verdict {
        l.process(&mut Doc::new("x", text), &mut StageCx::default())
            .unwrap()
    }

    #[test]
    fn bounds_and_reasons() {
        let l = Length {
            min_chars: Some(3),
            max_chars: Some(20),
            min_words: Some(2),
            max_words: Some(3),
        };
        assert_eq!(run(&l, "ab"), Verdict::drop("min_chars"));
        assert_eq!(run(&l, "ééé"), Verdict::drop("min_words"));
        assert_eq!(run(&l, "a\u{3000}b"), Verdict::Keep); // ideographic space splits words
        assert_eq!(run(&l, "a b c d"), Verdict::drop("max_words"));
        assert_eq!(run(&l, &"x ".repeat(11)), Verdict::drop("max_chars"));
        assert_eq!(run(&Length::default(), ""), Verdict::Keep);
    }

    #[test]
    fn inverted_bounds_are_refused() {
        let l = Length {
            min_words: Some(5),
            max_words: Some(2),
            ..Default::default()
        };
        let e = l.build(&BuildCx::default()).err().unwrap();
        assert!(e.to_string().contains("min_words"), "{e}");
    }
}
