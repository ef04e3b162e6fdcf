//! Drops documents without enough long paragraphs: mC4's paragraph filter, as datatrove 0.10.1's
//! `C4ParagraphFilter`.
//!
//! The text is split on `line_delimiter` (Python's `str.split`, empty lines included); a
//! document is kept when it has at least `min_paragraphs` lines and its `min_paragraphs`
//! longest lines each have at least `min_paragraph_len` characters (Unicode scalar values, as
//! Python's `len`). Drop reason: `too_few_paragraphs` (datatrove writes `"< 3 paragraphs"`).
//!
//! Parameters (datatrove's attribute names and values): `min_paragraphs` (3),
//! `min_paragraph_len` (200), `line_delimiter` ("\n"). datatrove has no constructor argument for
//! them and always takes the 3 longest lines (`heapq.nlargest(3, ...)`); with another
//! `min_paragraphs` datamill takes that many, as mC4's `c4_utils.paragraph_filter` does. Checked
//! document for document against datatrove (`tests/golden/datatrove_steps/`).
//!
//! ```toml
//! [[stage]]
//! type = "c4_paragraph"
//! min_paragraphs = 3
//! min_paragraph_len = 200
//! ```

use crate::{BuildCx, StageSpec, Step};
use datamill_core::{Doc, Stage, StageCx, StageError, Verdict};
use serde::Deserialize;

fn default_min_paragraphs() -> usize {
    3
}
fn default_min_paragraph_len() -> usize {
    200
}
fn default_delimiter() -> String {
    "\n".into()
}

/// mC4's paragraph rule.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct C4Paragraph {
    /// Lines needed, and how many of the longest must be long enough.
    #[serde(default = "default_min_paragraphs")]
    pub min_paragraphs: usize,
    /// Characters a paragraph needs.
    #[serde(default = "default_min_paragraph_len")]
    pub min_paragraph_len: usize,
    /// What separates paragraphs.
    #[serde(default = "default_delimiter")]
    pub line_delimiter: String,
}

impl StageSpec for C4Paragraph {
    fn build(&self, _: &BuildCx) -> Result<Step, StageError> {
        if self.min_paragraphs == 0 {
            return Err(StageError::config("min_paragraphs", "must be at least 1"));
        }
        if self.line_delimiter.is_empty() {
            return Err(StageError::config("line_delimiter", "must not be empty"));
        }
        Ok(Step::Map(Box::new(self.clone())))
    }
}

impl C4Paragraph {
    /// Whether `text` has enough long paragraphs.
    pub fn keeps(&self, text: &str) -> bool {
        let k = self.min_paragraphs;
        // The k longest lengths seen so far, shortest first.
        let mut top: Vec<usize> = Vec::with_capacity(k + 1);
        let mut lines = 0usize;
        for line in text.split(self.line_delimiter.as_str()) {
            lines += 1;
            let n = line.chars().count();
            if top.len() < k {
                let at = top.partition_point(|&x| x < n);
                top.insert(at, n);
            } else if n > top[0] {
                top.remove(0);
                let at = top.partition_point(|&x| x < n);
                top.insert(at, n);
            }
        }
        lines >= k && top.first().is_some_and(|&m| m >= self.min_paragraph_len)
    }
}

impl Stage for C4Paragraph {
    fn process(&self, doc: &mut Doc, _: &mut StageCx) -> Result<Verdict, StageError> {
        Ok(if self.keeps(doc.text()) {
            Verdict::Keep
        } else {
            Verdict::drop("too_few_paragraphs")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f() -> C4Paragraph {
        toml::from_str("").unwrap()
    }

    #[test]
    fn three_long_lines_needed() {
        let long = "x".repeat(200);
        let short = "y".repeat(199);
        assert!(f().keeps(&format!("{long}\n{long}\n{long}")));
        assert!(f().keeps(&format!("a\n{long}\n\n{long}\nb\n{long}")));
        assert!(!f().keeps(&format!("{long}\n{long}\n{short}")));
        assert!(!f().keeps(&format!("{long}\n{long}")));
        assert!(!f().keeps(""));
        // Characters, not bytes.
        let e = "é".repeat(200);
        assert!(f().keeps(&format!("{e}\n{e}\n{e}")));
        let e = "é".repeat(199);
        assert!(!f().keeps(&format!("{e}\n{long}\n{long}")));
        // "\r\n" is not a delimiter of its own: the "\r" stays in the line.
        let l = "z".repeat(199);
        assert!(f().keeps(&format!("{l}\r\n{l}\r\n{l}\r\n")));
        let two: C4Paragraph = toml::from_str("min_paragraphs = 2\nmin_paragraph_len = 3").unwrap();
        assert!(two.keeps("abc\nabcd"));
        assert!(!two.keeps("abc\nab\n"));
        let p: C4Paragraph = toml::from_str("line_delimiter = \"||\"").unwrap();
        assert!(p.keeps(&format!("{long}||{long}||{long}")));
        assert!(p.build(&BuildCx::default()).is_ok());
        let bad: C4Paragraph = toml::from_str("min_paragraphs = 0").unwrap();
        assert!(bad.build(&BuildCx::default()).is_err());
    }
}
