//! Drops (or keeps only) documents whose text or a metadata field matches a regular expression.
//!
//! The pattern uses Rust's `regex` syntax (like Python's `re` without look-around or
//! backreferences; `\w`, `\d`, `\s` are Unicode-aware). With `field`, the pattern is matched
//! against that metadata field (the decoded value of a string, the JSON text of anything
//! else); a document without the field never matches. `action = "drop"` (default) drops
//! matching documents, `action = "keep"` drops the others. The drop reason is `reason`
//! (default `"regex"`).
//!
//! Parameters: `pattern` (required), `field` (default: the text), `action` (`"drop"` or
//! `"keep"`), `reason`, `case_insensitive` (default false).
//!
//! ```toml
//! [[stage]]
//! type = "regex"
//! pattern = "(?m)^lorem ipsum"
//! case_insensitive = true
//! reason = "lorem_ipsum"
//!
//! [[stage]]
//! type = "regex"
//! field = "url"
//! pattern = "^https://"
//! action = "keep"
//! ```

use crate::{BuildCx, StageSpec, Step};
use datamill_core::{Doc, Stage, StageCx, StageError, Verdict};
use serde::Deserialize;
use std::borrow::Cow;

/// What to do with matching documents.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Drop documents that match.
    #[default]
    Drop,
    /// Keep only documents that match.
    Keep,
}

/// The `regex` stage's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegexMatch {
    /// The regular expression.
    pub pattern: String,
    /// A metadata field to match instead of the text.
    pub field: Option<String>,
    /// Drop matches, or keep only matches.
    #[serde(default)]
    pub action: Action,
    /// The drop reason.
    pub reason: Option<String>,
    /// Match without regard to case.
    #[serde(default)]
    pub case_insensitive: bool,
}

struct Built {
    re: regex::Regex,
    field: Option<String>,
    action: Action,
    reason: Cow<'static, str>,
}

impl StageSpec for RegexMatch {
    fn build(&self, _: &BuildCx) -> Result<Step, StageError> {
        let re = regex::RegexBuilder::new(&self.pattern)
            .case_insensitive(self.case_insensitive)
            .build()
            .map_err(|e| StageError::config("pattern", e.to_string()))?;
        Ok(Step::Map(Box::new(Built {
            re,
            field: self.field.clone(),
            action: self.action,
            reason: Cow::Owned(self.reason.clone().unwrap_or_else(|| "regex".into())),
        })))
    }
}

impl Stage for Built {
    fn process(&self, doc: &mut Doc, _: &mut StageCx) -> Result<Verdict, StageError> {
        let matched = match &self.field {
            None => self.re.is_match(doc.text()),
            Some(f) => doc.get_str(f).is_some_and(|v| self.re.is_match(&v)),
        };
        let drop = match self.action {
            Action::Drop => matched,
            Action::Keep => !matched,
        };
        Ok(if drop {
            Verdict::Drop(self.reason.clone())
        } else {
            Verdict::Keep
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(toml_src: &str) -> Box<dyn Stage> {
        let c: RegexMatch = toml::from_str(toml_src).unwrap();
        match c.build(&BuildCx::default()).unwrap() {
            Step::Map(s) => s,
            Step::Global(_) => unreachable!(),
        }
    }

    fn verdict(s: &dyn Stage, line: &str) -> Verdict {
        let mut d = Doc::from_json(line.into(), &Default::default(), || "x".into()).unwrap();
        s.process(&mut d, &mut StageCx::default()).unwrap()
    }

    #[test]
    fn drop_on_text_match() {
        let s = stage("pattern = \"(?m)^lorem\"\ncase_insensitive = true");
        assert_eq!(
            verdict(&*s, r#"{"text":"a\nLorem ipsum"}"#),
            Verdict::drop("regex")
        );
        assert_eq!(verdict(&*s, r#"{"text":"a lorem"}"#), Verdict::Keep);
    }

    #[test]
    fn keep_on_field_match() {
        let s = stage(
            "pattern = \"^https://\"\nfield = \"url\"\naction = \"keep\"\nreason = \"not_https\"",
        );
        assert_eq!(
            verdict(&*s, r#"{"text":"t","url":"https://a"}"#),
            Verdict::Keep
        );
        assert_eq!(
            verdict(&*s, r#"{"text":"t","url":"http://a"}"#),
            Verdict::drop("not_https")
        );
        assert_eq!(verdict(&*s, r#"{"text":"t"}"#), Verdict::drop("not_https"));
    }

    #[test]
    fn bad_pattern_names_the_parameter() {
        let c: RegexMatch = toml::from_str("pattern = \"(\"").unwrap();
        let e = c.build(&BuildCx::default()).err().unwrap().to_string();
        assert!(e.contains("`pattern`"), "{e}");
    }
}
