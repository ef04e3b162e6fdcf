//! [`Doc`]: one document — an id, a text and ordered metadata — as it flows through a pipeline.
//!
//! Metadata is kept as raw JSON, in the order it was read, so a document that no stage
//! changed is written back byte for byte (numbers keep their spelling, nested objects and
//! nulls survive, key order is unchanged). A document read from a JSON line keeps that line
//! and only records where each field sits in it: parsing costs one validating pass and no
//! allocation per field, which is what lets a pass-through run approach the speed of the
//! decompressor. The first change (new text, a new or removed field) switches the document
//! to its rewritten form.

use serde::Serialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

/// Where a field's key or value lives: a byte range of the original line, or owned.
#[derive(Clone, Debug)]
enum Key {
    Span(Range<usize>),
    Owned(Box<str>),
}

#[derive(Clone, Debug)]
enum Val {
    Span(Range<usize>),
    Owned(Box<RawValue>),
    /// The position of the text field; its value is [`Doc::text`].
    Text,
}

#[derive(Clone, Debug)]
struct Field {
    key: Key,
    val: Val,
}

/// One document: an id, a UTF-8 text and ordered, raw-JSON metadata.
#[derive(Clone, Debug)]
pub struct Doc {
    id: String,
    text: String,
    /// The JSON object this document was parsed from, if any.
    raw: Option<String>,
    fields: Vec<Field>,
    /// True once the document differs from `raw`.
    dirty: bool,
    text_key: Box<str>,
    /// Whether [`Doc::set_text`] keeps the text it replaces (see [`Doc::keep_earlier_text`]).
    keep_earlier: bool,
    /// The text before the first change since `keep_earlier` was set.
    earlier: Option<String>,
}

/// Why a JSON line could not become a [`Doc`]; the reader quarantines the line with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseProblem {
    /// A short, stable reason: `invalid_json`, `not_an_object`, `missing_text`,
    /// `text_not_string`, `invalid_id` or `duplicate_field`.
    pub reason: &'static str,
    /// A human explanation naming the field and, for JSON errors, the column.
    pub message: String,
}

impl ParseProblem {
    fn new(reason: &'static str, message: impl Into<String>) -> Self {
        ParseProblem {
            reason,
            message: message.into(),
        }
    }
}

/// Which fields of a JSON object hold the text and the id.
#[derive(Clone, Debug)]
pub struct FieldNames {
    /// The field holding the text (`"text"` by default).
    pub text: String,
    /// The field holding the id (`"id"` by default).
    pub id: String,
}

impl Default for FieldNames {
    fn default() -> Self {
        FieldNames {
            text: "text".into(),
            id: "id".into(),
        }
    }
}

impl Doc {
    /// A new document with an id, a text and no other metadata. It is written as
    /// `{"id": ..., "text": ...}`.
    pub fn new(id: impl Into<String>, text: impl Into<String>) -> Doc {
        let id = id.into();
        let fields = vec![
            Field {
                key: Key::Owned("id".into()),
                val: Val::Owned(to_raw(&id)),
            },
            Field {
                key: Key::Owned("text".into()),
                val: Val::Text,
            },
        ];
        Doc {
            id,
            text: text.into(),
            raw: None,
            fields,
            dirty: true,
            text_key: "text".into(),
            keep_earlier: false,
            earlier: None,
        }
    }

    /// Parses one JSON object (a JSONL line without its newline).
    ///
    /// `default_id` is called when the object has no id field (or a null one); its result
    /// becomes the id and is added as the first field, named `names.id`.
    pub fn from_json(
        line: String,
        names: &FieldNames,
        default_id: impl FnOnce() -> String,
    ) -> Result<Doc, ParseProblem> {
        Doc::from_json_or_line(line, names, default_id).map_err(|(p, _)| p)
    }

    /// [`Doc::from_json`], handing a rejected line back with its problem (so a reader can
    /// quarantine it whole).
    pub fn from_json_or_line(
        line: String,
        names: &FieldNames,
        default_id: impl FnOnce() -> String,
    ) -> Result<Doc, (ParseProblem, String)> {
        let parsed = {
            let mut de = serde_json::Deserializer::from_str(&line);
            let seed = ObjectSeed {
                base: line.as_ptr() as usize,
            };
            let parsed = seed.deserialize(&mut de).map_err(|e| {
                if e.to_string().contains(NOT_OBJECT) {
                    ParseProblem::new("not_an_object", "the line is JSON but not an object")
                } else {
                    ParseProblem::new("invalid_json", format!("invalid JSON: {e}"))
                }
            });
            match parsed {
                Ok(p) => de
                    .end()
                    .map(|()| p)
                    .map_err(|e| ParseProblem::new("invalid_json", format!("invalid JSON: {e}"))),
                Err(e) => Err(e),
            }
        };
        let parsed = match parsed {
            Ok(p) => p,
            Err(p) => return Err((p, line)),
        };
        let mut fields = Vec::with_capacity(parsed.len() + 1);
        let mut text: Option<String> = None;
        let mut id: Option<String> = None;
        for (key, val) in parsed {
            let k: &str = match &key {
                Key::Span(r) => &line[r.clone()],
                Key::Owned(s) => s,
            };
            if k == names.text {
                if text.is_some() {
                    return Err((
                        ParseProblem::new(
                            "duplicate_field",
                            format!("field `{}` appears twice", names.text),
                        ),
                        line,
                    ));
                }
                let raw = &line[val.clone()];
                text = Some(match decode_string(raw) {
                    Some(Ok(s)) => s,
                    Some(Err(e)) => {
                        return Err((
                            ParseProblem::new(
                                "invalid_json",
                                format!("field `{}`: {e}", names.text),
                            ),
                            line,
                        ));
                    }
                    None if raw == "null" => {
                        return Err((
                            ParseProblem::new(
                                "missing_text",
                                format!("field `{}` is null", names.text),
                            ),
                            line,
                        ));
                    }
                    None => {
                        return Err((
                            ParseProblem::new(
                                "text_not_string",
                                format!(
                                    "field `{}` is not a string (it is {})",
                                    names.text,
                                    json_kind(raw)
                                ),
                            ),
                            line,
                        ));
                    }
                });
                fields.push(Field {
                    key,
                    val: Val::Text,
                });
                continue;
            }
            if k == names.id && id.is_none() {
                let raw = &line[val.clone()];
                match decode_string(raw) {
                    Some(Ok(s)) => id = Some(s),
                    Some(Err(e)) => {
                        return Err((
                            ParseProblem::new("invalid_json", format!("field `{}`: {e}", names.id)),
                            line,
                        ));
                    }
                    None => match raw.as_bytes().first() {
                        Some(b'-' | b'0'..=b'9') => id = Some(raw.to_string()),
                        _ if raw == "null" => {}
                        _ => {
                            return Err((
                                ParseProblem::new(
                                    "invalid_id",
                                    format!(
                                        "field `{}` must be a string or a number, not {}",
                                        names.id,
                                        json_kind(raw)
                                    ),
                                ),
                                line,
                            ));
                        }
                    },
                }
            }
            fields.push(Field {
                key,
                val: Val::Span(val),
            });
        }
        let Some(text) = text else {
            return Err((
                ParseProblem::new("missing_text", format!("no field `{}`", names.text)),
                line,
            ));
        };
        let mut dirty = false;
        let id = match id {
            Some(id) => id,
            None => {
                let id = default_id();
                // A null id is replaced, an absent one added in front.
                if let Some(pos) = fields
                    .iter()
                    .position(|f| key_str(&line, &f.key) == names.id)
                {
                    fields[pos].val = Val::Owned(to_raw(&id));
                } else {
                    fields.insert(
                        0,
                        Field {
                            key: Key::Owned(names.id.as_str().into()),
                            val: Val::Owned(to_raw(&id)),
                        },
                    );
                }
                dirty = true;
                id
            }
        };
        Ok(Doc {
            id,
            text,
            raw: Some(line),
            fields,
            dirty,
            text_key: names.text.as_str().into(),
            keep_earlier: false,
            earlier: None,
        })
    }

    /// The document's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The document's text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Replaces the text.
    pub fn set_text(&mut self, text: String) {
        if text != self.text {
            let old = std::mem::replace(&mut self.text, text);
            if self.keep_earlier && self.earlier.is_none() {
                self.earlier = Some(old);
            }
            self.dirty = true;
        }
    }

    /// From now on, the first [`Doc::set_text`] that changes the text keeps the text it
    /// replaced (moved, not copied) until [`Doc::take_earlier_text`]. The executor asks this
    /// of a few documents per stage for the report's before/after examples.
    pub fn keep_earlier_text(&mut self) {
        self.keep_earlier = true;
        self.earlier = None;
    }

    /// The text as it was when [`Doc::keep_earlier_text`] was called, if it has changed since
    /// (`None`: unchanged, or not asked); stops keeping.
    pub fn take_earlier_text(&mut self) -> Option<String> {
        self.keep_earlier = false;
        self.earlier.take()
    }

    /// True when the document differs from the JSON it was read from (or was not read from
    /// JSON at all).
    pub fn is_modified(&self) -> bool {
        self.dirty || self.raw.is_none()
    }

    /// The raw JSON of metadata field `key` (`"en"` with its quotes, `0.93`, `{...}`), or
    /// `None` if absent. The text field is not metadata and is not returned here.
    pub fn get_raw(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| self.key(f) == key && !matches!(f.val, Val::Text))
            .map(|f| self.val(f))
    }

    /// Metadata field `key` as a string: the decoded value of a JSON string, or the raw JSON
    /// of any other value.
    pub fn get_str(&self, key: &str) -> Option<Cow<'_, str>> {
        let raw = self.get_raw(key)?;
        match decode_string(raw) {
            Some(Ok(s)) => Some(Cow::Owned(s)),
            _ => Some(Cow::Borrowed(raw)),
        }
    }

    /// Metadata field `key` parsed as a JSON value.
    pub fn get_value(&self, key: &str) -> Option<serde_json::Value> {
        self.get_raw(key).and_then(|r| serde_json::from_str(r).ok())
    }

    /// Sets metadata field `key` to `value`, replacing it in place or appending it.
    ///
    /// # Panics
    /// Never for values that serialize to JSON; a value that fails to serialize (a map with
    /// non-string keys) is stored as `null`.
    pub fn set<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) {
        let val = Val::Owned(to_raw(value));
        self.dirty = true;
        if let Some(i) = self
            .fields
            .iter()
            .position(|f| self.key(f) == key && !matches!(f.val, Val::Text))
        {
            self.fields[i].val = val;
        } else {
            self.fields.push(Field {
                key: Key::Owned(key.into()),
                val,
            });
        }
    }

    /// Removes metadata field `key`; returns whether it was present.
    pub fn remove(&mut self, key: &str) -> bool {
        let before = self.fields.len();
        let raw = self.raw.as_deref().unwrap_or("");
        self.fields
            .retain(|f| key_str(raw, &f.key) != key || matches!(f.val, Val::Text));
        let removed = self.fields.len() != before;
        self.dirty |= removed;
        removed
    }

    /// Every field in order, as its key and raw JSON value; the text field's value is `None`
    /// (it is [`Doc::text`]).
    pub fn raw_fields(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.fields.iter().map(|f| {
            let v = match f.val {
                Val::Text => None,
                _ => Some(self.val(f)),
            };
            (self.key(f), v)
        })
    }

    /// Renames field `from` (metadata or the text field) to `to`, keeping its place; returns
    /// whether it was present. A field already named `to` is replaced.
    pub fn rename(&mut self, from: &str, to: &str) -> bool {
        if from == to {
            return self.keys().any(|k| k == from);
        }
        let Some(i) = self.fields.iter().position(|f| self.key(f) == from) else {
            return false;
        };
        if let Some(j) = self.fields.iter().position(|f| self.key(f) == to) {
            self.fields.remove(j);
        }
        let i = if self.fields.get(i).is_some_and(|f| self.key(f) == from) {
            i
        } else {
            i - 1
        };
        self.fields[i].key = Key::Owned(to.into());
        if matches!(self.fields[i].val, Val::Text) {
            self.text_key = to.into();
        }
        self.dirty = true;
        true
    }

    /// Every field's key in order, the text field included.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| self.key(f))
    }

    /// Appends the document as one JSON object (no newline) to `out`: the original bytes if
    /// nothing changed, otherwise the fields in their order with compact separators.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        if let (false, Some(raw)) = (self.dirty, &self.raw) {
            out.extend_from_slice(raw.as_bytes());
            return;
        }
        out.push(b'{');
        for (i, f) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match &f.key {
                Key::Span(r) => {
                    out.push(b'"');
                    out.extend_from_slice(self.raw.as_deref().unwrap_or("")[r.clone()].as_bytes());
                    out.push(b'"');
                }
                Key::Owned(k) => write_json_string(out, k),
            }
            out.push(b':');
            match &f.val {
                Val::Text => write_json_string(out, &self.text),
                _ => out.extend_from_slice(self.val(f).as_bytes()),
            }
        }
        out.push(b'}');
    }

    /// The name of the field that holds the text.
    pub fn text_key(&self) -> &str {
        &self.text_key
    }

    fn key<'a>(&'a self, f: &'a Field) -> &'a str {
        key_str(self.raw.as_deref().unwrap_or(""), &f.key)
    }

    fn val<'a>(&'a self, f: &'a Field) -> &'a str {
        match &f.val {
            Val::Span(r) => &self.raw.as_deref().unwrap_or("")[r.clone()],
            Val::Owned(v) => v.get(),
            Val::Text => "",
        }
    }
}

fn key_str<'a>(raw: &'a str, key: &'a Key) -> &'a str {
    match key {
        Key::Span(r) => &raw[r.clone()],
        Key::Owned(s) => s,
    }
}

fn to_raw<T: Serialize + ?Sized>(value: &T) -> Box<RawValue> {
    serde_json::value::to_raw_value(value)
        .unwrap_or_else(|_| RawValue::from_string("null".into()).expect("null is JSON"))
}

/// Writes `s` as a JSON string literal.
pub fn write_json_string(out: &mut Vec<u8>, s: &str) {
    // serde_json's escaping: `"`, `\`, and control characters; everything else verbatim.
    serde_json::to_writer(&mut *out, s).expect("writing to a Vec cannot fail");
}

/// Decodes a raw JSON value if it is a string: `None` if it is not a string.
fn decode_string(raw: &str) -> Option<Result<String, serde_json::Error>> {
    if !raw.starts_with('"') {
        return None;
    }
    if !raw.contains('\\') {
        return Some(Ok(raw[1..raw.len() - 1].to_string()));
    }
    Some(serde_json::from_str::<String>(raw))
}

fn json_kind(raw: &str) -> &'static str {
    match raw.as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        Some(b'"') => "a string",
        _ => "a number",
    }
}

const NOT_OBJECT: &str = "datamill: not an object";

/// Deserializes a JSON object into (key location, value byte range) pairs.
struct ObjectSeed {
    base: usize,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed {
    type Value = Vec<(Key, Range<usize>)>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed {
    type Value = Vec<(Key, Range<usize>)>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(NOT_OBJECT)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(8);
        while let Some(key) = map.next_key_seed(KeySeed { base: self.base })? {
            let v: &'de RawValue = map.next_value()?;
            let start = v.get().as_ptr() as usize - self.base;
            out.push((key, start..start + v.get().len()));
        }
        Ok(out)
    }
}

struct KeySeed {
    base: usize,
}

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key, E> {
        let start = v.as_ptr() as usize - self.base;
        Ok(Key::Span(start..start + v.len()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(Key::Owned(v.into()))
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn earlier_text_is_kept_only_when_asked_and_changed() {
        let mut d = Doc::new("a", "one");
        d.set_text("two".into());
        assert_eq!(d.take_earlier_text(), None, "not asked");
        d.keep_earlier_text();
        d.set_text("two".into());
        assert_eq!(d.take_earlier_text(), None, "unchanged");
        d.keep_earlier_text();
        d.set_text("three".into());
        d.set_text("four".into());
        assert_eq!(
            d.take_earlier_text().as_deref(),
            Some("two"),
            "the first text kept"
        );
        d.set_text("five".into());
        assert_eq!(d.take_earlier_text(), None, "stopped keeping");
        assert_eq!(d.text(), "five");
    }
    use super::*;

    fn parse(line: &str) -> Result<Doc, ParseProblem> {
        Doc::from_json(line.to_string(), &FieldNames::default(), || "f:1".into())
    }

    fn json(d: &Doc) -> String {
        let mut v = Vec::new();
        d.write_json(&mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn rename_keeps_the_place_and_follows_the_text() {
        let mut d = parse(r#"{"id":"a","text":"t","lang":"en","language":"x"}"#).unwrap();
        assert!(d.rename("lang", "language"));
        assert_eq!(json(&d), r#"{"id":"a","text":"t","language":"en"}"#);
        assert!(d.rename("text", "content"));
        assert_eq!(d.text_key(), "content");
        assert_eq!(json(&d), r#"{"id":"a","content":"t","language":"en"}"#);
        assert!(!d.rename("nope", "x"));
        let f: Vec<_> = d.raw_fields().collect();
        assert_eq!(
            f,
            [
                ("id", Some("\"a\"")),
                ("content", None),
                ("language", Some("\"en\""))
            ]
        );
    }

    #[test]
    fn unmodified_round_trip_is_byte_identical() {
        let line = r#"{"id": 7, "text":"a\nb \u00e9", "n": 1.50, "x": {"y":[1, null]}, "z": null}"#;
        let d = parse(line).unwrap();
        assert_eq!(d.id(), "7");
        assert_eq!(d.text(), "a\nb é");
        assert!(!d.is_modified());
        assert_eq!(json(&d), line);
    }

    #[test]
    fn modified_doc_keeps_key_order_and_raw_values() {
        let line = r#"{"a": 1.50, "text": "t", "id": "x", "b": {"c" : [1,2]}}"#;
        let mut d = parse(line).unwrap();
        d.set_text("new\ttext".into());
        d.set("score", &0.5);
        assert_eq!(
            json(&d),
            r#"{"a":1.50,"text":"new\ttext","id":"x","b":{"c" : [1,2]},"score":0.5}"#
        );
        assert_eq!(d.get_raw("a"), Some("1.50"));
        assert_eq!(d.get_str("id").as_deref(), Some("x"));
        assert_eq!(d.get_raw("text"), None);
        assert!(d.remove("a"));
        assert!(!d.remove("text"));
        assert_eq!(d.keys().collect::<Vec<_>>(), ["text", "id", "b", "score"]);
    }

    #[test]
    fn absent_or_null_id_is_synthesized() {
        let d = parse(r#"{"text": "t", "k": 1}"#).unwrap();
        assert_eq!(d.id(), "f:1");
        assert_eq!(json(&d), r#"{"id":"f:1","text":"t","k":1}"#);
        let d = parse(r#"{"text": "t", "id": null}"#).unwrap();
        assert_eq!(json(&d), r#"{"text":"t","id":"f:1"}"#);
    }

    #[test]
    fn escaped_keys_survive() {
        let d = parse(r#"{"te\u0078t": "t", "k\"ey": 1}"#).unwrap();
        assert_eq!(d.text(), "t");
        assert_eq!(d.get_raw("k\"ey"), Some("1"));
        let mut d = d;
        d.set("n", "v");
        assert_eq!(json(&d), r#"{"id":"f:1","text":"t","k\"ey":1,"n":"v"}"#);
    }

    #[test]
    fn problems_have_reasons() {
        let reason = |l: &str| parse(l).unwrap_err().reason;
        assert_eq!(reason("{\"text\": \"a\""), "invalid_json");
        assert_eq!(reason("{\"text\": \"a\"} x"), "invalid_json");
        assert_eq!(reason("[1,2]"), "not_an_object");
        assert_eq!(reason("\"s\""), "not_an_object");
        assert_eq!(reason("{\"id\": 1}"), "missing_text");
        assert_eq!(reason("{\"text\": null}"), "missing_text");
        assert_eq!(reason("{\"text\": 5}"), "text_not_string");
        assert_eq!(
            reason("{\"text\": \"a\", \"text\": \"b\"}"),
            "duplicate_field"
        );
        assert_eq!(reason("{\"text\": \"a\", \"id\": [1]}"), "invalid_id");
        assert_eq!(reason("{\"text\": \"\\ud800\"}"), "invalid_json");
        let p = parse("{\"text\": 5}").unwrap_err();
        assert!(p.message.contains("`text`"), "{}", p.message);
    }

    #[test]
    fn custom_field_names() {
        let names = FieldNames {
            text: "content".into(),
            id: "doc_id".into(),
        };
        let d = Doc::from_json(
            r#"{"doc_id":"a","content":"c","text":1}"#.into(),
            &names,
            || unreachable!(),
        )
        .unwrap();
        assert_eq!(d.id(), "a");
        assert_eq!(d.text(), "c");
        assert_eq!(d.text_key(), "content");
        assert_eq!(d.get_raw("text"), Some("1"));
    }
}
