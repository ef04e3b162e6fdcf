//! Keeps (or drops) documents by a metadata field: equal to one of a list of values, above,
//! below or inside a range, or containing a value — the tests datatrove pipelines write as
//! `LambdaFilter(lambda doc: ...)` on `doc.metadata`.
//!
//! A document *matches* when its field passes every condition given (at least one):
//!
//! * `values`: equals one of them (Python `doc.metadata[field] in values`). Values are compared
//!   as JSON: strings exactly, numbers by value (`1` equals `1.0`), `true`, `false`, arrays and
//!   tables structurally.
//! * `gt`, `ge`, `lt`, `le`: `>`, `>=`, `<`, `<=` a bound (a range is two of them, as Python's
//!   `lo <= x < hi`). Numbers compare by value (integers exactly, as Python compares `int`s),
//!   strings by code point (Python's `str` order), booleans as 0 and 1 (Python's `bool` is an
//!   `int`). A field of another type than its bound (a string against a number, an array, a
//!   table) is not comparable: Python raises
//!   `TypeError` there and the datatrove pipeline stops; datamill drops the document with
//!   reason `metadata_not_comparable` (counted, whatever `action` says).
//! * `contains`: the field holds the value (Python `value in doc.metadata[field]`): an array
//!   with an element equal to it, a string containing it as a substring (the value must then
//!   be a string), a table with it as a key; any other field is not comparable.
//!
//! With `action = "keep"` (default) a document is dropped with reason `metadata_mismatch` when
//! it does not match; with `action = "drop"` it is dropped with reason `metadata_match` when it
//! matches. A document without the field (or with `null`) is dropped with reason
//! `metadata_missing` unless `missing = "keep"`. Checked against datatrove 0.10.1's
//! `LambdaFilter` with the same Python expressions (`tests/golden/datatrove_steps/`).
//!
//! Parameters: `field` (required), `values` (a non-empty list), `gt`, `ge`, `lt`, `le` (a number
//! or a string each), `contains`, `action` (`"keep"` or `"drop"`), `missing` (`"drop"` or
//! `"keep"`).
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
//!
//! [[stage]]
//! type = "metadata"
//! field = "score"
//! ge = 0.5
//! lt = 2
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
    #[serde(default)]
    pub values: Vec<toml::Value>,
    /// The field must be above this.
    pub gt: Option<toml::Value>,
    /// The field must be at least this.
    pub ge: Option<toml::Value>,
    /// The field must be below this.
    pub lt: Option<toml::Value>,
    /// The field must be at most this.
    pub le: Option<toml::Value>,
    /// The field (array, string or table) must hold this.
    pub contains: Option<toml::Value>,
    /// Keep matches or drop matches.
    #[serde(default)]
    pub action: Action,
    /// What to do when the field is absent or null.
    #[serde(default)]
    pub missing: Missing,
}

struct Built {
    field: String,
    values: Option<Vec<Value>>,
    /// Bounds: (the bound, which orderings pass).
    bounds: Vec<(Value, Pass)>,
    contains: Option<Value>,
    action: Action,
    missing: Missing,
}

use std::cmp::Ordering;

/// Which orderings of the field against a bound pass (`Ordering::is_gt`, ...).
type Pass = fn(Ordering) -> bool;

impl StageSpec for Metadata {
    fn build(&self, _: &BuildCx) -> Result<Step, StageError> {
        let json = |name: &str, v: &toml::Value| {
            serde_json::to_value(v).map_err(|e| StageError::config(name, e.to_string()))
        };
        let mut bounds = Vec::new();
        let ops: [(&str, &Option<toml::Value>, Pass); 4] = [
            ("gt", &self.gt, Ordering::is_gt),
            ("ge", &self.ge, Ordering::is_ge),
            ("lt", &self.lt, Ordering::is_lt),
            ("le", &self.le, Ordering::is_le),
        ];
        for (name, bound, pass) in ops {
            if let Some(b) = bound {
                let b = json(name, b)?;
                if !matches!(b, Value::Number(_) | Value::String(_)) {
                    return Err(StageError::config(name, "must be a number or a string"));
                }
                bounds.push((b, pass));
            }
        }
        let contains = self
            .contains
            .as_ref()
            .map(|v| json("contains", v))
            .transpose()?;
        let values = if self.values.is_empty() {
            None
        } else {
            Some(
                self.values
                    .iter()
                    .map(|v| json("values", v))
                    .collect::<Result<_, _>>()?,
            )
        };
        if values.is_none() && bounds.is_empty() && contains.is_none() {
            return Err(StageError::config(
                "values",
                "give a condition: values (a non-empty list), gt, ge, lt, le or contains",
            ));
        }
        Ok(Step::Map(Box::new(Built {
            field: self.field.clone(),
            values,
            bounds,
            contains,
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

/// Python's `a <op> b` ordering of a field and a bound: numbers by value (integers exactly),
/// strings by code point; `None` when Python would raise `TypeError`.
fn py_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    // Python's `bool` is an `int`: `True > 0`.
    let int = |v: &Value| match v {
        Value::Bool(x) => Value::from(i64::from(*x)),
        v => v.clone(),
    };
    let (a, b) = (&int(a), &int(b));
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
                Some(x.cmp(&y))
            } else if let (Some(x), Some(y)) = (x.as_u64(), y.as_u64()) {
                Some(x.cmp(&y))
            } else {
                x.as_f64()?.partial_cmp(&y.as_f64()?)
            }
        }
        // UTF-8 byte order is code point order.
        (Value::String(x), Value::String(y)) => Some(x.as_str().cmp(y.as_str())),
        _ => None,
    }
}

/// Python's `needle in haystack`; `None` when Python would raise `TypeError`.
fn py_contains(haystack: &Value, needle: &Value) -> Option<bool> {
    match haystack {
        Value::Array(a) => Some(a.iter().any(|x| {
            // Python's `==`: `True == 1`.
            json_eq(x, needle) || py_cmp(x, needle) == Some(Ordering::Equal)
        })),
        Value::String(s) => match needle {
            Value::String(n) => Some(s.contains(n.as_str())),
            _ => None,
        },
        Value::Object(o) => match needle {
            Value::String(k) => Some(o.contains_key(k)),
            // Keys of a JSON object are strings: another hashable value is never one.
            Value::Number(_) | Value::Bool(_) | Value::Null => Some(false),
            _ => None,
        },
        _ => None,
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
        let mut matched = self
            .values
            .as_ref()
            .is_none_or(|vs| vs.iter().any(|v| json_eq(v, &value)));
        for (bound, pass) in &self.bounds {
            match py_cmp(&value, bound) {
                Some(o) => matched &= pass(o),
                None => return Ok(Verdict::drop("metadata_not_comparable")),
            }
        }
        if let Some(needle) = &self.contains {
            match py_contains(&value, needle) {
                Some(c) => matched &= c,
                None => return Ok(Verdict::drop("metadata_not_comparable")),
            }
        }
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
    fn comparisons_ranges_and_contains() {
        let range = "field = \"s\"\nge = 0.5\nlt = 2";
        let v = |cfg, x: &str| verdict(cfg, &format!("{{\"text\":\"\",\"s\":{x}}}"));
        assert_eq!(v(range, "0.5"), Verdict::Keep);
        assert_eq!(v(range, "1"), Verdict::Keep);
        assert_eq!(v(range, "2"), Verdict::drop("metadata_mismatch"));
        assert_eq!(v(range, "0.49"), Verdict::drop("metadata_mismatch"));
        assert_eq!(v(range, "\"1\""), Verdict::drop("metadata_not_comparable"));
        assert_eq!(v(range, "true"), Verdict::Keep); // Python: 0.5 <= True < 2
        assert_eq!(v(range, "[1]"), Verdict::drop("metadata_not_comparable"));
        // Integers compare exactly (2^53 + 1 > 2^53 although both are the same f64).
        let big = "field = \"s\"\ngt = 9007199254740992";
        assert_eq!(v(big, "9007199254740993"), Verdict::Keep);
        let s = "field = \"s\"\ngt = \"b\"\naction = \"drop\"";
        assert_eq!(v(s, "\"c\""), Verdict::drop("metadata_match"));
        assert_eq!(v(s, "\"b\""), Verdict::Keep);
        assert_eq!(v(s, "\"é\""), Verdict::drop("metadata_match"));
        let c = "field = \"s\"\ncontains = \"x\"";
        assert_eq!(v(c, "[\"a\", \"x\"]"), Verdict::Keep);
        assert_eq!(v(c, "\"abxc\""), Verdict::Keep);
        assert_eq!(v(c, "{\"x\": 1}"), Verdict::Keep);
        assert_eq!(v(c, "[\"a\"]"), Verdict::drop("metadata_mismatch"));
        assert_eq!(v(c, "3"), Verdict::drop("metadata_not_comparable"));
        let both = "field = \"s\"\nvalues = [1, 5]\ngt = 2";
        assert_eq!(v(both, "5"), Verdict::Keep);
        assert_eq!(v(both, "1"), Verdict::drop("metadata_mismatch"));
        let c: Metadata = toml::from_str("field = \"a\"\ngt = [1]").unwrap();
        assert!(c.build(&BuildCx::default()).is_err());
    }

    #[test]
    fn empty_values_refused() {
        let c: Metadata = toml::from_str("field = \"a\"\nvalues = []").unwrap();
        assert!(c.build(&BuildCx::default()).is_err());
    }
}
