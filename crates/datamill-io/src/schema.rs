//! One schema per output: the JSON type of every field of the documents a shard holds
//! ([`Fields`]), merged over every shard of a run into the run-wide schema, and what it takes
//! to make a record, or a whole shard, follow it.
//!
//! Types form a small lattice, as Arrow's JSON inference and pyarrow's do: `null` fits every
//! type; an integer and a float make a float; lists merge their items; objects merge their
//! fields (union, in first-seen order); anything else that disagrees (a string here, a number
//! there) makes a string, and the values that are not strings are written as their compact
//! JSON text. The merge is associative and its field order depends only on the order shards
//! are merged in (unit, then part), so the run-wide schema is deterministic.
//!
//! A record *conforms* to a schema when it has every field, its numbers are floats where the
//! schema says float, its objects have every field of their struct, and its values are strings
//! where the schema says string. [`conform_line`] makes it so, changing nothing else (a value
//! that already fits keeps its bytes); applying it twice gives what applying it once gave.

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// The type of a JSON value, as a columnar reader would infer it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ty {
    /// Only nulls seen.
    Null,
    /// `true` / `false`.
    Bool,
    /// Integers that fit an `i64`.
    Int,
    /// Numbers, some of them not integers (or beyond `i64`).
    Float,
    /// Strings (or, after a conflict, any value written as its JSON text).
    Str,
    /// Arrays, with the merged type of their items.
    List(Box<Ty>),
    /// Objects, with their fields' types in first-seen order.
    Struct(Vec<(String, Ty)>),
}

impl Ty {
    /// The least type both `self` and `other` fit (see the module documentation).
    pub fn merge(&self, other: &Ty) -> Ty {
        match (self, other) {
            (Ty::Null, t) | (t, Ty::Null) => t.clone(),
            (a, b) if a == b => a.clone(),
            (Ty::Int, Ty::Float) | (Ty::Float, Ty::Int) => Ty::Float,
            (Ty::List(a), Ty::List(b)) => Ty::List(Box::new(a.merge(b))),
            (Ty::Struct(a), Ty::Struct(b)) => {
                let mut out = a.clone();
                for (name, t) in b {
                    match out.iter_mut().find(|(n, _)| n == name) {
                        Some((_, u)) => *u = u.merge(t),
                        None => out.push((name.clone(), t.clone())),
                    }
                }
                Ty::Struct(out)
            }
            _ => Ty::Str,
        }
    }

    /// The type of a parsed JSON value.
    pub fn of_value(v: &Value) -> Ty {
        match v {
            Value::Null => Ty::Null,
            Value::Bool(_) => Ty::Bool,
            Value::Number(n) if n.is_i64() => Ty::Int,
            Value::Number(_) => Ty::Float,
            Value::String(_) => Ty::Str,
            Value::Array(a) => Ty::List(Box::new(
                a.iter().fold(Ty::Null, |t, x| t.merge(&Ty::of_value(x))),
            )),
            Value::Object(m) => Ty::Struct(
                m.iter()
                    .map(|(k, x)| (k.clone(), Ty::of_value(x)))
                    .collect(),
            ),
        }
    }

    /// The type of one raw JSON value (scalars are typed without parsing them into a tree).
    pub fn of_raw(raw: &str) -> Ty {
        let raw = raw.trim();
        match raw.as_bytes().first() {
            Some(b'"') => Ty::Str,
            Some(b'n') => Ty::Null,
            Some(b't' | b'f') => Ty::Bool,
            Some(b'-' | b'0'..=b'9') => {
                if raw.parse::<i64>().is_ok() {
                    Ty::Int
                } else {
                    Ty::Float
                }
            }
            _ => serde_json::from_str::<Value>(raw).map_or(Ty::Str, |v| Ty::of_value(&v)),
        }
    }

    /// Whether a value of type `self` must be rewritten to fit `target` (a type it merged
    /// into): integers under a float, values under a string, objects missing fields.
    pub fn needs_change(&self, target: &Ty) -> bool {
        match (self, target) {
            (Ty::Null, _) => false,
            (a, b) if a == b => false,
            (Ty::List(a), Ty::List(b)) => a.needs_change(b),
            (Ty::Struct(a), Ty::Struct(b)) => {
                a.len() != b.len()
                    || a.iter().any(|(n, t)| {
                        b.iter()
                            .find(|(m, _)| m == n)
                            .is_none_or(|(_, u)| t.needs_change(u))
                    })
            }
            _ => true,
        }
    }

    /// `v` made to fit this type (see [`Ty::needs_change`]); values that fit are returned as
    /// they are.
    pub fn conform(&self, v: Value) -> Value {
        match (self, v) {
            (_, Value::Null) => Value::Null,
            (Ty::Str, Value::String(s)) => Value::String(s),
            (Ty::Str, v) => Value::String(v.to_string()),
            (Ty::Float, Value::Number(n)) if !n.is_f64() => n
                .as_f64()
                .and_then(serde_json::Number::from_f64)
                .map_or(Value::Number(n), Value::Number),
            (Ty::List(t), Value::Array(a)) => {
                Value::Array(a.into_iter().map(|x| t.conform(x)).collect())
            }
            (Ty::Struct(fields), Value::Object(mut m)) => {
                let mut out = serde_json::Map::new();
                for (name, t) in fields {
                    out.insert(
                        name.clone(),
                        t.conform(m.remove(name).unwrap_or(Value::Null)),
                    );
                }
                // Fields the schema does not know (none, when the schema was merged from
                // these documents) keep their place at the end.
                out.extend(m);
                Value::Object(out)
            }
            (_, v) => v,
        }
    }

    /// The Hugging Face `datasets` feature of this type, as the YAML of a dataset card
    /// (`dtype: string`, `list: ...`, `struct: [...]`), indented by `indent` spaces.
    pub fn hf_feature(&self, out: &mut String, indent: usize) {
        let pad = " ".repeat(indent);
        match self {
            Ty::List(t) => match &**t {
                Ty::List(_) => {
                    out.push_str(&format!("{pad}list:\n"));
                    t.hf_feature(out, indent + 2);
                }
                // A list of structs lists the struct's fields under `list:`.
                Ty::Struct(fields) => {
                    out.push_str(&format!("{pad}list:\n"));
                    hf_fields(fields, out, indent);
                }
                t => out.push_str(&format!("{pad}list: {}\n", t.hf_dtype())),
            },
            Ty::Struct(fields) => {
                out.push_str(&format!("{pad}struct:\n"));
                hf_fields(fields, out, indent);
            }
            t => out.push_str(&format!("{pad}dtype: {}\n", t.hf_dtype())),
        }
    }

    fn hf_dtype(&self) -> &'static str {
        match self {
            // Quoted: a bare `null` is YAML's null.
            Ty::Null => "'null'",
            Ty::Bool => "bool",
            Ty::Int => "int64",
            Ty::Float => "float64",
            _ => "string",
        }
    }
}

/// The `- name: ...` entries of a struct's fields in a dataset card.
fn hf_fields(fields: &[(String, Ty)], out: &mut String, indent: usize) {
    let pad = " ".repeat(indent);
    for (name, t) in fields {
        out.push_str(&format!("{pad}- name: {}\n", yaml_str(name)));
        t.hf_feature(out, indent + 2);
    }
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn yaml_str(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

/// One top-level field of a shard's documents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldInfo {
    /// Its key.
    pub name: String,
    /// Its type over every document.
    pub ty: Ty,
    /// Documents that have it.
    pub present: u64,
}

/// The fields of a set of documents (a shard, a run), in first-seen order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fields {
    /// Documents observed.
    pub rows: u64,
    /// Their fields.
    pub fields: Vec<FieldInfo>,
}

impl Fields {
    fn add(&mut self, name: &str, ty: Ty, present: u64) {
        match self.fields.iter_mut().find(|f| f.name == name) {
            Some(f) => {
                f.ty = f.ty.merge(&ty);
                f.present += present;
            }
            None => self.fields.push(FieldInfo {
                name: name.to_string(),
                ty,
                present,
            }),
        }
    }

    /// Records one document given as its fields: key and raw JSON value (`None` for the text,
    /// a string).
    pub fn observe<'a>(&mut self, fields: impl Iterator<Item = (&'a str, Option<&'a str>)>) {
        self.rows += 1;
        for (k, raw) in fields {
            let ty = raw.map_or(Ty::Str, Ty::of_raw);
            self.add(k, ty, 1);
        }
    }

    /// Records one document given as a JSON object; `false` if it is not one.
    pub fn observe_line(&mut self, line: &[u8]) -> bool {
        let Ok(obj) = parse_object(line) else {
            return false;
        };
        self.observe(obj.iter().map(|(k, v)| (k.as_ref(), Some(v.get()))));
        true
    }

    /// Adds another set's documents (its new fields go after this set's).
    pub fn merge(&mut self, other: &Fields) {
        self.rows += other.rows;
        for f in &other.fields {
            self.add(&f.name, f.ty.clone(), f.present);
        }
    }

    /// The type of field `name`.
    pub fn ty(&self, name: &str) -> Option<&Ty> {
        self.fields.iter().find(|f| f.name == name).map(|f| &f.ty)
    }

    /// Whether every document of `self` (a shard's) already conforms to `run` (the run-wide
    /// schema it was merged into): every field in every document, no value to rewrite.
    pub fn conforms_to(&self, run: &Fields) -> bool {
        self.rows == 0
            || run.fields.iter().all(|r| {
                self.fields.iter().any(|f| {
                    f.name == r.name && f.present == self.rows && !f.ty.needs_change(&r.ty)
                })
            })
    }

    /// The Hugging Face dataset card (`README.md`) of an output with this schema, whose shards
    /// match `pattern` (e.g. `*.jsonl.zst`): `datasets.load_dataset(OUT)` then reads every
    /// shard with these features, even a shard where a field is null throughout.
    pub fn dataset_card(&self, pattern: &str, with_features: bool) -> String {
        let mut s = String::from("---\nconfigs:\n- config_name: default\n  data_files:\n");
        s.push_str(&format!(
            "  - split: train\n    path: {}\n",
            yaml_str(pattern)
        ));
        if with_features {
            s.push_str("dataset_info:\n  features:\n");
            for f in &self.fields {
                s.push_str(&format!("  - name: {}\n", yaml_str(&f.name)));
                f.ty.hf_feature(&mut s, 4);
            }
        }
        s.push_str("---\n\n");
        s.push_str(
            "Written by datamill. Every shard of this folder follows one schema (`schema.json`):\n\
             load it with `datasets.load_dataset(\"<this folder>\")`, or with pyarrow's\n\
             dataset API over the shards.\n",
        );
        s
    }
}

/// A JSON object's fields as keys and raw values, in order (borrowing from `line`).
pub fn parse_object(line: &[u8]) -> Result<Vec<(Cow<'_, str>, &RawValue)>, serde_json::Error> {
    struct Obj;
    impl<'de> Visitor<'de> for Obj {
        type Value = Vec<(Cow<'de, str>, &'de RawValue)>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(k) = m.next_key::<Key<'de>>()? {
                out.push((k.0, m.next_value::<&'de RawValue>()?));
            }
            Ok(out)
        }
    }
    struct Key<'a>(Cow<'a, str>);
    impl<'de> Deserialize<'de> for Key<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct K;
            impl<'de> Visitor<'de> for K {
                type Value = Key<'de>;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a key")
                }
                fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                    Ok(Key(Cow::Borrowed(v)))
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                    Ok(Key(Cow::Owned(v.to_string())))
                }
            }
            d.deserialize_str(K)
        }
    }
    let mut de = serde_json::Deserializer::from_slice(line);
    let v = de.deserialize_map(Obj)?;
    de.end()?;
    Ok(v)
}

/// One JSON object made to conform to `run` (see the module documentation): `None` when it
/// already does. Fields keep their order and, when they fit, their bytes; missing fields are
/// appended as `null` in the schema's order.
pub fn conform_line(line: &[u8], run: &Fields) -> Result<Option<Vec<u8>>, serde_json::Error> {
    let obj = parse_object(line)?;
    let mut changed = Vec::new();
    for (i, (k, raw)) in obj.iter().enumerate() {
        let Some(t) = run.ty(k) else { continue };
        if Ty::of_raw(raw.get()).needs_change(t) {
            let v: Value = serde_json::from_str(raw.get())?;
            changed.push((i, serde_json::to_string(&t.conform(v))?));
        }
    }
    let missing: Vec<&str> = run
        .fields
        .iter()
        .map(|f| f.name.as_str())
        .filter(|n| !obj.iter().any(|(k, _)| k == n))
        .collect();
    if changed.is_empty() && missing.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(line.len() + 16 * missing.len());
    out.push(b'{');
    let mut first = true;
    let mut sep = |out: &mut Vec<u8>| {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
    };
    for (i, (k, raw)) in obj.iter().enumerate() {
        sep(&mut out);
        datamill_core::doc::write_json_string(&mut out, k);
        out.push(b':');
        match changed.iter().find(|c| c.0 == i) {
            Some((_, v)) => out.extend_from_slice(v.as_bytes()),
            None => out.extend_from_slice(raw.get().as_bytes()),
        }
    }
    for n in missing {
        sep(&mut out);
        datamill_core::doc::write_json_string(&mut out, n);
        out.extend_from_slice(b":null");
    }
    out.push(b'}');
    Ok(Some(out))
}

#[cfg(feature = "parquet")]
pub use arrow_types::*;

#[cfg(feature = "parquet")]
mod arrow_types {
    use super::{Fields, Ty};
    use arrow_schema::{DataType, Field, Schema};
    use std::sync::Arc;

    /// The Arrow type datamill writes for a JSON type.
    pub fn to_arrow(t: &Ty) -> DataType {
        match t {
            Ty::Null => DataType::Null,
            Ty::Bool => DataType::Boolean,
            Ty::Int => DataType::Int64,
            Ty::Float => DataType::Float64,
            Ty::Str => DataType::Utf8,
            Ty::List(t) => DataType::List(Arc::new(Field::new("item", to_arrow(t), true))),
            Ty::Struct(fields) => DataType::Struct(
                fields
                    .iter()
                    .map(|(n, t)| Field::new(n, to_arrow(t), true))
                    .collect(),
            ),
        }
    }

    /// The JSON type an Arrow column's values have once written as JSON (dates, times and
    /// decimals as arrow-json writes them).
    pub fn natural(d: &DataType) -> Ty {
        use DataType::*;
        match d {
            Null => Ty::Null,
            Boolean => Ty::Bool,
            Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 => Ty::Int,
            Float16 | Float32 | Float64 => Ty::Float,
            List(f) | LargeList(f) | FixedSizeList(f, _) | ListView(f) | LargeListView(f) => {
                Ty::List(Box::new(natural(f.data_type())))
            }
            Struct(fs) => Ty::Struct(
                fs.iter()
                    .map(|f| (f.name().clone(), natural(f.data_type())))
                    .collect(),
            ),
            Dictionary(_, v) => natural(v),
            _ => Ty::Str,
        }
    }

    /// The Arrow schema of documents with `fields`: each field's type from the input's Parquet
    /// schema `hint` when its values fit it (so Parquet → Parquet keeps `list<string>`,
    /// `int32`, timestamps, even in a shard where the column is null throughout), else from
    /// its JSON type. Every field is nullable.
    pub fn arrow_schema(fields: &Fields, hint: Option<&Schema>) -> Schema {
        Schema::new(
            fields
                .fields
                .iter()
                .map(|f| {
                    let hinted = hint
                        .and_then(|h| h.field_with_name(&f.name).ok())
                        .map(|h| h.data_type())
                        .filter(|d| natural(d).merge(&f.ty) == natural(d));
                    let dt = hinted.cloned().unwrap_or_else(|| to_arrow(&f.ty));
                    Field::new(&f.name, dt, true)
                })
                .collect::<Vec<_>>(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(lines: &[&str]) -> Fields {
        let mut f = Fields::default();
        for l in lines {
            assert!(f.observe_line(l.as_bytes()));
        }
        f
    }

    #[test]
    fn types_merge_as_columnar_readers_infer() {
        let f = fields(&[
            r#"{"a":1,"b":null,"c":[],"d":{"x":1},"e":"s","g":true}"#,
            r#"{"a":1.5,"b":"x","c":["t"],"d":{"y":[1]},"e":3,"g":null}"#,
        ]);
        let t: Vec<(&str, &Ty)> = f.fields.iter().map(|f| (f.name.as_str(), &f.ty)).collect();
        assert_eq!(
            t,
            [
                ("a", &Ty::Float),
                ("b", &Ty::Str),
                ("c", &Ty::List(Box::new(Ty::Str))),
                (
                    "d",
                    &Ty::Struct(vec![
                        ("x".into(), Ty::Int),
                        ("y".into(), Ty::List(Box::new(Ty::Int)))
                    ])
                ),
                ("e", &Ty::Str),
                ("g", &Ty::Bool),
            ]
        );
        assert_eq!(Ty::of_raw("12345678901234567890"), Ty::Float);
        assert_eq!(Ty::of_raw("-3"), Ty::Int);
        assert_eq!(Ty::of_raw("1e3"), Ty::Float);
    }

    #[test]
    fn merge_is_order_independent_in_types_and_first_seen_in_order() {
        let a = fields(&[r#"{"id":"1","n":1}"#]);
        let b = fields(&[r#"{"id":"2","lang":"en","n":2.5}"#]);
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab.ty("n"), ba.ty("n"));
        assert_eq!(ab.rows, 2);
        let names: Vec<&str> = ab.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["id", "n", "lang"]);
        assert!(!a.conforms_to(&ab)); // lacks lang, n must become float
        assert!(b.conforms_to(&ab)); // every field, n already a float
    }

    #[test]
    fn conform_fills_promotes_and_is_idempotent() {
        let run = fields(&[
            r#"{"id":"1","text":"t","n":1.5,"tags":["a"],"m":{"x":1,"y":"z"},"k":"s"}"#,
            r#"{"id":"2","text":"t","n":1,"k":{"deep":[1]}}"#,
        ]);
        assert_eq!(run.ty("k"), Some(&Ty::Str));
        let line = br#"{"id":"2","text":"t","n":1,"k":{"deep":[1]},"m":{"x":2}}"#;
        let once = conform_line(line, &run).unwrap().unwrap();
        assert_eq!(
            String::from_utf8(once.clone()).unwrap(),
            r#"{"id":"2","text":"t","n":1.0,"k":"{\"deep\":[1]}","m":{"x":2,"y":null},"tags":null}"#
        );
        assert_eq!(conform_line(&once, &run).unwrap(), None);
        // A record that fits keeps its bytes, number spelling included.
        let fits = br#"{"id":"1","text":"t","n":1.50,"tags":["a"],"m":{"x":1,"y":"z"},"k":"s"}"#;
        assert_eq!(conform_line(fits, &run).unwrap(), None);
        let shard = fields(&[std::str::from_utf8(fits).unwrap()]);
        assert!(shard.conforms_to(&run));
        let shard = fields(&[std::str::from_utf8(line).unwrap()]);
        assert!(!shard.conforms_to(&run));
    }

    #[test]
    fn dataset_card_lists_features() {
        let run = fields(&[r#"{"id":"1","tags":["a"],"m":{"x":1},"f":null,"s":"a\"b"}"#]);
        let card = run.dataset_card("*.jsonl.zst", true);
        assert!(card.contains("    path: \"*.jsonl.zst\"\n"), "{card}");
        assert!(
            card.contains("  - name: \"tags\"\n    list: string\n"),
            "{card}"
        );
        assert!(
            card.contains("  - name: \"m\"\n    struct:\n    - name: \"x\"\n      dtype: int64\n"),
            "{card}"
        );
        assert!(
            card.contains("  - name: \"f\"\n    dtype: 'null'\n"),
            "{card}"
        );
    }

    #[cfg(feature = "parquet")]
    #[test]
    fn a_hint_types_columns_its_values_fit() {
        use arrow_schema::{DataType, Field, Schema};
        use std::sync::Arc;
        let list = DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)));
        let hint = Schema::new(vec![
            Field::new("tags", list.clone(), true),
            Field::new("n", DataType::Int32, true),
            Field::new("gone", DataType::Utf8, true),
        ]);
        // tags null throughout, n a float now: tags keeps list<string>, n becomes float64,
        // and a hinted column no document has is not added.
        let f = fields(&[r#"{"tags":null,"n":1.5}"#, r#"{"tags":[],"n":2}"#]);
        let s = arrow_schema(&f, Some(&hint));
        assert_eq!(s.field(0).data_type(), &list);
        assert_eq!(s.field(1).data_type(), &DataType::Float64);
        assert_eq!(s.fields().len(), 2);
        let f = fields(&[r#"{"tags":["a"],"n":2}"#]);
        let s = arrow_schema(&f, Some(&hint));
        assert_eq!(s.field(1).data_type(), &DataType::Int32);
    }
}
