//! Removes lines made only of symbols (separator rows like `-----`, `* * *`, `>>>`): datatrove
//! 0.10.1's `SymbolLinesFormatter`.
//!
//! The text is cut with Python's `str.splitlines()` (every Unicode line boundary, `\r\n` as
//! one); a line is a symbol line when it is not blank (after Python's `strip()`) and every
//! character is in `symbols_to_remove` or is a space `' '` (only U+0020: a tab makes the line
//! a text line). A run of consecutive symbol lines is removed, replaced by one
//! `replace_char` if that is not empty; the lines left are joined by `"\n"` (so line endings
//! become `"\n"` and a final line break is dropped, as in datatrove, even when nothing was
//! removed). Blank lines are kept. The stage counts `lines_removed` and `docs_changed`; it
//! never drops a document.
//!
//! Parameters (datatrove's names): `symbols_to_remove` (default: datatrove's `PUNCTUATION_SET`,
//! ASCII and CJK punctuation plus the control characters; a list of one-character strings),
//! `replace_char` (""). Checked document for document against datatrove
//! (`tests/golden/datatrove_steps/`).
//!
//! ```toml
//! [[stage]]
//! type = "symbol_lines"
//! replace_char = ""
//! ```

use crate::{BuildCx, StageSpec, Step};
use datamill_core::{Doc, Stage, StageCx, StageError, Verdict};
use datamill_filters::pystr;
use serde::Deserialize;
use std::collections::HashSet;

/// Symbol-line removal.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymbolLines {
    /// The symbols (one character each); datatrove's punctuation set when absent.
    pub symbols_to_remove: Option<Vec<String>>,
    /// What replaces a run of removed lines (`"\n"` for a paragraph break; `""`: nothing).
    #[serde(default)]
    pub replace_char: String,
}

struct Built {
    symbols: HashSet<char>,
    replace: String,
}

impl StageSpec for SymbolLines {
    fn build(&self, _: &BuildCx) -> Result<Step, StageError> {
        let symbols: HashSet<char> = match &self.symbols_to_remove {
            None => punctuation_set(),
            Some(list) => {
                let mut set = HashSet::new();
                for s in list {
                    let mut cs = s.chars();
                    match (cs.next(), cs.next()) {
                        (Some(c), None) => {
                            set.insert(c);
                        }
                        _ => {
                            return Err(StageError::config(
                                "symbols_to_remove",
                                format!("each entry must be one character, got {s:?}"),
                            ));
                        }
                    }
                }
                set
            }
        };
        Ok(Step::Map(Box::new(Built {
            symbols,
            replace: self.replace_char.clone(),
        })))
    }
}

/// datatrove's `PUNCTUATION_SET`: `set(PUNCTUATION) | TERMINAL_PUNCTUATION`.
fn punctuation_set() -> HashSet<char> {
    use datamill_filters::dt_text::{PUNCTUATION, TERMINAL_PUNCTUATION};
    PUNCTUATION
        .chars()
        .chain(TERMINAL_PUNCTUATION.iter().copied())
        .collect()
}

impl Built {
    /// The formatted text and the number of lines removed.
    fn format(&self, text: &str) -> (String, u64) {
        let mut out: Vec<&str> = Vec::new();
        let mut in_removed = false;
        let mut removed = 0;
        for line in pystr::splitlines(text) {
            let symbol_line = !pystr::strip(line).is_empty()
                && line.chars().all(|c| c == ' ' || self.symbols.contains(&c));
            if symbol_line {
                removed += 1;
                if !in_removed && !self.replace.is_empty() {
                    out.push(&self.replace);
                }
                in_removed = true;
            } else {
                out.push(line);
                in_removed = false;
            }
        }
        (out.join("\n"), removed)
    }
}

impl Stage for Built {
    fn process(&self, doc: &mut Doc, cx: &mut StageCx) -> Result<Verdict, StageError> {
        let (text, removed) = self.format(doc.text());
        if text != doc.text() {
            cx.count("lines_removed", removed);
            cx.count("docs_changed", 1);
            doc.set_text(text);
        }
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built(cfg: &str) -> Built {
        let c: SymbolLines = toml::from_str(cfg).unwrap();
        let Step::Map(_) = c.build(&BuildCx::default()).unwrap() else {
            panic!()
        };
        Built {
            symbols: match &c.symbols_to_remove {
                None => punctuation_set(),
                Some(l) => l.iter().flat_map(|s| s.chars()).collect(),
            },
            replace: c.replace_char,
        }
    }

    #[test]
    fn removes_runs_of_symbol_lines() {
        let b = built("");
        assert_eq!(b.format("Title\n-----\n\nText.\n").0, "Title\n\nText.");
        assert_eq!(b.format("a\n* * *\n---\nb").0, "a\nb");
        // A tab is not a space here; blank lines stay; CRLF becomes LF.
        assert_eq!(b.format("a\r\n-\t-\r\n   \r\nb").0, "a\n-\t-\n   \nb");
        assert_eq!(b.format("a\n-\n\n-\nb"), ("a\n\nb".to_string(), 2));
        let r = built("replace_char = \"\\n\"");
        assert_eq!(r.format("a\n-\n=\nb\n~~\nc").0, "a\n\n\nb\n\n\nc");
        let own = built("symbols_to_remove = [\"#\"]");
        assert_eq!(own.format("# #\n---\nx").0, "---\nx");
        let bad: SymbolLines = toml::from_str("symbols_to_remove = [\"ab\"]").unwrap();
        assert!(bad.build(&BuildCx::default()).is_err());
    }
}
