//! Keeps (or drops) documents whose metadata field equals one of the given values.
//!
//! Values are compared as JSON: strings exactly, numbers by value (`1` equals `1.0`), `true`,
//! `false`, arrays and tables structurally. With `action = "keep"` (default) a document is
//! dropped with reason `metadata_mismatch` when its field matches none of `values`; with
//! `action = "drop"` it is dropped with reason `metadata_match` when it matches one. A
//! document without the field (or with `null`) is dropped with reason `metadata_missing`
//! unless `missing = "keep"`.
//!
//! Parameters: `field` (required), `values` (required, a non-empty list), `action`
//! (`"keep"` or `"drop"`), `missing` (`"drop"` or `"keep"`).
//!
//! ```toml
//! [[stage]]
//! type = "metadata"
//! field = "lang"
//! values = ["en", "de"]
//!
//! [[stage]]
//! type = "metadata"
//! field = "section"
//! values = ["oldlibs", "debug"]
//! action = "drop"
//! missing = "keep"
//! ```

use crate::{BuildCx, StageSpec, Step};
use datamill_core::{Doc, Stage, StageCx, StageError, Verdict};
use serde::Deserialize;
use serde_json::Value;

/// What to do with a document whose field matches.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Keep documents that match, drop the others.
    #[default]
    Keep,
    /// Drop documents that match.
    Drop,
}

/// What to do with a document that lacks the field.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Missing {
    /// Drop it (reason `metadata_missing`).
    #[default]
    Drop,
    /// Keep it.
    Keep,
}

/// The `metadata` stage's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// The metadata field to look at.
    pub field: String,
    /// The accepted (or rejected) values.
    pub values: Vec<toml::Value>,
    /// Keep matches or drop matches.
    #[serde(default)]
    pub action: Action,
    /// What to do when the field is absent or null.
    #[serde(default)]
    pub missing: Missing,
}

struct Built {
    field: String,
    values: Vec<Value>,
    action: Action,
    missing: Missing,
}

impl StageSpec for Metadata {
    fn build(&self, _: &BuildCx) -> Result<Step, StageError> {
        if self.values.is_empty() {
            return Err(StageError::config("values", "needs at least one value"));
        }
        let values = self
            .values
            .iter()
            .map(|v| {
                serde_json::to_value(v).map_err(|e| StageError::config("values", e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        Ok(Step::Map(Box::new(Built {
            field: self.field.clone(),
            values,
            action: self.action,
            missing: self.missing,
        })))
    }
}

fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

impl Stage for Built {
    fn process(&self, doc: &mut Doc, _: &mut StageCx) -> Result<Verdict, StageError> {
        let value = match doc.get_value(&self.field) {
            None | Some(Value::Null) => {
                return Ok(match self.missing {
                    Missing::Drop => Verdict::drop("metadata_missing"),
                    Missing::Keep => Verdict::Keep,
                });
            }
            Some(v) => v,
        };
        let matched = self.values.iter().any(|v| json_eq(v, &value));
        Ok(match (self.action, matched) {
            (Action::Keep, false) => Verdict::drop("metadata_mismatch"),
            (Action::Drop, true) => Verdict::drop("metadata_match"),
            _ => Verdict::Keep,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(cfg: &str, line: &str) -> Verdict {
        let c: Metadata = toml::from_str(cfg).unwrap();
        let Step::Map(s) = c.build(&BuildCx::default()).unwrap() else {
            unreachable!()
        };
        let mut d = Doc::from_json(line.into(), &Default::default(), || "x".into()).unwrap();
        s.process(&mut d, &mut StageCx::default()).unwrap()
    }

    #[test]
    fn keep_listed_values() {
        let cfg = "field = \"lang\"\nvalues = [\"en\", 2]";
        assert_eq!(verdict(cfg, r#"{"text":"","lang":"en"}"#), Verdict::Keep);
        assert_eq!(verdict(cfg, r#"{"text":"","lang":2.0}"#), Verdict::Keep);
        assert_eq!(
            verdict(cfg, r#"{"text":"","lang":"fr"}"#),
            Verdict::drop("metadata_mismatch")
        );
        assert_eq!(
            verdict(cfg, r#"{"text":"","lang":null}"#),
            Verdict::drop("metadata_missing")
        );
    }

    #[test]
    fn drop_listed_values_and_keep_missing() {
        let cfg = "field = \"s\"\nvalues = [{a = [1]}]\naction = \"drop\"\nmissing = \"keep\"";
        assert_eq!(
            verdict(cfg, r#"{"text":"","s":{"a":[1.0]}}"#),
            Verdict::drop("metadata_match")
        );
        assert_eq!(verdict(cfg, r#"{"text":"","s":{"a":[2]}}"#), Verdict::Keep);
        assert_eq!(verdict(cfg, r#"{"text":""}"#), Verdict::Keep);
    }

    #[test]
    fn empty_values_refused() {
        let c: Metadata = toml::from_str("field = \"a\"\nvalues = []").unwrap();
        assert!(c.build(&BuildCx::default()).is_err());
    }
}
