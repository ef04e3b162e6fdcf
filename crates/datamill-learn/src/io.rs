//! Reading labels and predicted probabilities: JSONL, CSV and NPY (header parsed here;
//! little-endian `f4`/`f8`/`i1..i8`/`u1..u8`/`b1`, C or Fortran order).

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::error::LearnError;
use crate::label_issues::PredProbs;

/// A label as read from a file: an integer class index or a class name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum RawLabel {
    /// An integer (used directly as the class index / pred_probs column).
    Int(i64),
    /// A class name (mapped to a column through the class list).
    Str(String),
}

impl std::fmt::Display for RawLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RawLabel::Int(i) => write!(f, "{i}"),
            RawLabel::Str(s) => f.write_str(s),
        }
    }
}

/// Labels (and ids when the file has them) in file order.
#[derive(Debug, Clone, Default)]
pub struct LabelFile {
    /// One label per example.
    pub labels: Vec<RawLabel>,
    /// The id of each example (JSONL `id` field), if present.
    pub ids: Vec<Option<String>>,
}

/// Class indices for the labels plus the class names (column order).
#[derive(Debug, Clone)]
pub struct EncodedLabels {
    /// Column index of each example's label.
    pub labels: Vec<usize>,
    /// Name of each column.
    pub classes: Vec<String>,
}

fn ext(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let name = name
        .strip_suffix(".gz")
        .or_else(|| name.strip_suffix(".zst"))
        .unwrap_or(&name)
        .to_string();
    name.rsplit_once('.')
        .map(|(_, e)| e.to_string())
        .unwrap_or_default()
}

fn read_string(path: &Path) -> Result<String, LearnError> {
    std::fs::read_to_string(path).map_err(|e| LearnError::io(path, e))
}

/// A parsed `.npy` array, values widened to `f64`.
#[derive(Debug, Clone)]
pub struct NpyArray {
    /// The shape.
    pub shape: Vec<usize>,
    /// Values in C (row-major) order.
    pub data: Vec<f64>,
    /// The dtype descriptor as written (`<f8`, `<f4`, `<i8`, ...).
    pub descr: String,
}

fn header_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let pat1 = format!("'{key}':");
    let pat2 = format!("\"{key}\":");
    let start = header
        .find(&pat1)
        .map(|i| i + pat1.len())
        .or_else(|| header.find(&pat2).map(|i| i + pat2.len()))?;
    Some(header[start..].trim_start())
}

/// Parses a `.npy` file held in memory; `path` is used in error messages.
pub fn parse_npy(bytes: &[u8], path: &Path) -> Result<NpyArray, LearnError> {
    let bad = |m: &str| LearnError::format(path, format!("not a valid .npy file: {m}"));
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("missing the \\x93NUMPY magic"));
    }
    let major = bytes[6];
    let (hlen, hstart) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10usize),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err(bad("truncated header"));
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        v => return Err(bad(&format!("unsupported format version {v}"))),
    };
    let hend = hstart
        .checked_add(hlen)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| bad("truncated header"))?;
    let header =
        std::str::from_utf8(&bytes[hstart..hend]).map_err(|_| bad("header is not text"))?;
    let descr_v = header_value(header, "descr").ok_or_else(|| bad("no 'descr' in header"))?;
    let q = descr_v.chars().next().ok_or_else(|| bad("empty descr"))?;
    let descr: String = descr_v[1..].chars().take_while(|&c| c != q).collect();
    let fortran = header_value(header, "fortran_order")
        .ok_or_else(|| bad("no 'fortran_order' in header"))?
        .starts_with("True");
    let shape_v = header_value(header, "shape").ok_or_else(|| bad("no 'shape' in header"))?;
    let close = shape_v.find(')').ok_or_else(|| bad("unterminated shape"))?;
    let shape: Vec<usize> = shape_v[1..close]
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| bad(&format!("bad shape entry '{s}'")))
        })
        .collect::<Result<_, _>>()?;
    let count = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| bad("shape overflows"))?;
    let (endian, kind, size) = {
        let mut c = descr.chars();
        let e = c.next().ok_or_else(|| bad("empty descr"))?;
        let kind = c.next().ok_or_else(|| bad("short descr"))?;
        let size: usize = c
            .as_str()
            .parse()
            .map_err(|_| bad(&format!("unsupported dtype '{descr}'")))?;
        (e, kind, size)
    };
    if endian == '>' && size > 1 {
        return Err(LearnError::format(
            path,
            format!("big-endian dtype '{descr}' is not supported (save little-endian)"),
        ));
    }
    let body = &bytes[hend..];
    let need = count
        .checked_mul(size)
        .ok_or_else(|| bad("data size overflows"))?;
    if body.len() < need {
        return Err(LearnError::format(
            path,
            format!(
                "truncated data: shape {shape:?} of '{descr}' needs {need} bytes, file has {}",
                body.len()
            ),
        ));
    }
    let conv: fn(&[u8]) -> f64 = match (kind, size) {
        ('f', 8) => |b| f64::from_le_bytes(b.try_into().unwrap_or([0; 8])),
        ('f', 4) => |b| f32::from_le_bytes(b.try_into().unwrap_or([0; 4])) as f64,
        ('i', 8) => |b| i64::from_le_bytes(b.try_into().unwrap_or([0; 8])) as f64,
        ('i', 4) => |b| i32::from_le_bytes(b.try_into().unwrap_or([0; 4])) as f64,
        ('i', 2) => |b| i16::from_le_bytes(b.try_into().unwrap_or([0; 2])) as f64,
        ('i', 1) => |b| b[0] as i8 as f64,
        ('u', 8) => |b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])) as f64,
        ('u', 4) => |b| u32::from_le_bytes(b.try_into().unwrap_or([0; 4])) as f64,
        ('u', 2) => |b| u16::from_le_bytes(b.try_into().unwrap_or([0; 2])) as f64,
        ('u', 1) | ('b', 1) => |b| b[0] as f64,
        _ => {
            return Err(LearnError::format(
                path,
                format!("unsupported dtype '{descr}' (need float32/float64 or integers)"),
            ));
        }
    };
    let mut data: Vec<f64> = body[..need].chunks_exact(size).map(conv).collect();
    if fortran && shape.len() == 2 {
        let (r, c) = (shape[0], shape[1]);
        let mut t = vec![0f64; data.len()];
        for j in 0..c {
            for i in 0..r {
                t[i * c + j] = data[j * r + i];
            }
        }
        data = t;
    } else if fortran && shape.len() > 2 {
        return Err(LearnError::format(
            path,
            "Fortran-ordered arrays with more than 2 dimensions are not supported",
        ));
    }
    Ok(NpyArray { shape, data, descr })
}

/// Reads a `.npy` file.
pub fn read_npy(path: &Path) -> Result<NpyArray, LearnError> {
    let bytes = std::fs::read(path).map_err(|e| LearnError::io(path, e))?;
    parse_npy(&bytes, path)
}

fn parse_f64(path: &Path, row: usize, field: &str, s: &str) -> Result<f64, LearnError> {
    s.trim()
        .parse::<f64>()
        .map_err(|_| LearnError::parse(path, row, field, format!("'{}' is not a number", s.trim())))
}

/// Parses a JSON array of numbers exactly (Rust's `f64::from_str` on each literal; serde_json's
/// default float parser may be off by one ulp).
fn json_probs(path: &Path, row: usize, field: &str, raw: &str) -> Result<Vec<f64>, LearnError> {
    let items: Vec<&serde_json::value::RawValue> = serde_json::from_str(raw)
        .map_err(|_| LearnError::parse(path, row, field, "expected an array of probabilities"))?;
    items
        .iter()
        .enumerate()
        .map(|(j, x)| {
            x.get().trim().parse::<f64>().map_err(|_| {
                LearnError::parse(
                    path,
                    row,
                    format!("{field}[{j}]"),
                    format!("{} is not a number", x.get()),
                )
            })
        })
        .collect()
}

/// Reads predicted probabilities (`N x K`) from `.npy` (2-D, float or int), `.csv`/`.tsv`
/// (one row per example; a non-numeric first line is taken as a header) or `.jsonl`/`.json`
/// (one array per line, or an object whose `field` is the array).
pub fn read_pred_probs(path: &Path, field: &str) -> Result<PredProbs, LearnError> {
    match ext(path).as_str() {
        "npy" => {
            let a = read_npy(path)?;
            if a.shape.len() != 2 {
                return Err(LearnError::format(
                    path,
                    format!("pred_probs must be 2-D (N x K), shape is {:?}", a.shape),
                ));
            }
            PredProbs::new(a.shape[0], a.shape[1], a.data)
        }
        "csv" | "tsv" | "txt" => {
            let text = read_string(path)?;
            let sep = if ext(path) == "tsv" { '\t' } else { ',' };
            let mut rows: Vec<Vec<f64>> = Vec::new();
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let cells: Vec<&str> = line.split(sep).collect();
                if i == 0 && cells.iter().any(|c| c.trim().parse::<f64>().is_err()) {
                    continue; // header
                }
                let row = cells
                    .iter()
                    .enumerate()
                    .map(|(j, c)| parse_f64(path, i + 1, &format!("column {}", j + 1), c))
                    .collect::<Result<Vec<_>, _>>()?;
                rows.push(row);
            }
            rows_to_probs(path, rows)
        }
        "jsonl" | "json" | "ndjson" => {
            let text = read_string(path)?;
            let mut rows = Vec::new();
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let probs = if line.trim_start().starts_with('[') {
                    json_probs(path, i + 1, field, line)?
                } else {
                    let obj: std::collections::HashMap<String, Box<serde_json::value::RawValue>> =
                        serde_json::from_str(line).map_err(|e| {
                            LearnError::parse(
                                path,
                                i + 1,
                                field,
                                format!("invalid JSON object: {e}"),
                            )
                        })?;
                    let f = obj
                        .get(field)
                        .ok_or_else(|| LearnError::parse(path, i + 1, field, "missing field"))?;
                    json_probs(path, i + 1, field, f.get())?
                };
                rows.push(probs);
            }
            rows_to_probs(path, rows)
        }
        e => Err(LearnError::format(
            path,
            format!("unknown pred_probs format '.{e}' (use .npy, .csv or .jsonl)"),
        )),
    }
}

fn rows_to_probs(path: &Path, rows: Vec<Vec<f64>>) -> Result<PredProbs, LearnError> {
    let k = rows.first().map(Vec::len).unwrap_or(0);
    if let Some((i, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != k) {
        return Err(LearnError::parse(
            path,
            i + 1,
            "pred_probs",
            format!("{} values, expected {k} like the first row", r.len()),
        ));
    }
    let n = rows.len();
    PredProbs::new(n, k, rows.into_iter().flatten().collect())
}

fn json_label(path: &Path, row: usize, field: &str, v: &Value) -> Result<RawLabel, LearnError> {
    match v {
        Value::Number(x) => x.as_i64().map(RawLabel::Int).ok_or_else(|| {
            LearnError::parse(path, row, field, format!("{x} is not an integer label"))
        }),
        Value::String(s) => Ok(RawLabel::Str(s.clone())),
        Value::Bool(b) => Ok(RawLabel::Int(i64::from(*b))),
        other => Err(LearnError::parse(
            path,
            row,
            field,
            format!("expected an integer or a string, got {other}"),
        )),
    }
}

/// Reads labels: JSONL (`field`, plus `id_field` when present), CSV (the column named `field`,
/// else the first column; a non-numeric first line is a header only when it contains `field`),
/// NPY (1-D integers) or a plain text file with one label per line.
pub fn read_labels(path: &Path, field: &str, id_field: &str) -> Result<LabelFile, LearnError> {
    let mut out = LabelFile::default();
    match ext(path).as_str() {
        "npy" => {
            let a = read_npy(path)?;
            if a.shape.len() != 1 && !(a.shape.len() == 2 && a.shape[1] == 1) {
                return Err(LearnError::format(
                    path,
                    format!("labels must be 1-D, shape is {:?}", a.shape),
                ));
            }
            for (i, v) in a.data.iter().enumerate() {
                if v.fract() != 0.0 {
                    return Err(LearnError::parse(
                        path,
                        i + 1,
                        "label",
                        format!("{v} is not an integer"),
                    ));
                }
                out.labels.push(RawLabel::Int(*v as i64));
                out.ids.push(None);
            }
        }
        "jsonl" | "json" | "ndjson" => {
            let text = read_string(path)?;
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let v: Value = serde_json::from_str(line).map_err(|e| {
                    LearnError::parse(path, i + 1, field, format!("invalid JSON: {e}"))
                })?;
                let l = v
                    .get(field)
                    .ok_or_else(|| LearnError::parse(path, i + 1, field, "missing field"))?;
                out.labels.push(json_label(path, i + 1, field, l)?);
                out.ids.push(v.get(id_field).map(|x| match x {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                }));
            }
        }
        e => {
            let sep = if e == "tsv" { '\t' } else { ',' };
            let text = read_string(path)?;
            let mut col = 0usize;
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let cells: Vec<&str> = line.split(sep).map(str::trim).collect();
                if i == 0
                    && let Some(j) = cells.iter().position(|c| *c == field)
                {
                    col = j;
                    continue;
                }
                let cell = cells.get(col).ok_or_else(|| {
                    LearnError::parse(path, i + 1, field, format!("no column {}", col + 1))
                })?;
                out.labels.push(match cell.parse::<i64>() {
                    Ok(v) => RawLabel::Int(v),
                    Err(_) => RawLabel::Str(cell.to_string()),
                });
                out.ids.push(None);
            }
        }
    }
    Ok(out)
}

/// Reads a JSON list of class names (the pred_probs column order), e.g. cleanlab_issues.py's
/// `classes.json`.
pub fn read_classes(path: &Path) -> Result<Vec<String>, LearnError> {
    let text = read_string(path)?;
    let v: Vec<Value> = serde_json::from_str(&text).map_err(|e| {
        LearnError::format(path, format!("expected a JSON list of class names: {e}"))
    })?;
    Ok(v.into_iter()
        .map(|x| match x {
            Value::String(s) => s,
            other => other.to_string(),
        })
        .collect())
}

/// Maps labels to pred_probs columns. With `classes`, names (or integers printed as names) are
/// looked up in that list; without, integer labels are the column index and string labels are
/// sorted (byte order, = Python `sorted` / sklearn's `classes_`).
pub fn encode_labels(
    labels: &[RawLabel],
    classes: Option<&[String]>,
) -> Result<EncodedLabels, LearnError> {
    if let Some(classes) = classes {
        let idx: std::collections::HashMap<&str, usize> = classes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.as_str(), i))
            .collect();
        let enc = labels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let s = l.to_string();
                idx.get(s.as_str()).copied().ok_or_else(|| {
                    LearnError::invalid(format!(
                        "label '{s}' of row {} is not in the class list",
                        i + 1
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(EncodedLabels {
            labels: enc,
            classes: classes.to_vec(),
        });
    }
    if labels.iter().all(|l| matches!(l, RawLabel::Int(_))) {
        let mut out = Vec::with_capacity(labels.len());
        let mut max = 0usize;
        for (i, l) in labels.iter().enumerate() {
            if let RawLabel::Int(v) = l {
                let v = usize::try_from(*v).map_err(|_| {
                    LearnError::invalid(format!("label {v} of row {} is negative", i + 1))
                })?;
                max = max.max(v);
                out.push(v);
            }
        }
        return Ok(EncodedLabels {
            labels: out,
            classes: (0..=max).map(|i| i.to_string()).collect(),
        });
    }
    let set: BTreeSet<String> = labels.iter().map(|l| l.to_string()).collect();
    let classes: Vec<String> = set.into_iter().collect();
    encode_labels(labels, Some(&classes))
}

/// Reads `(label, text)` pairs from JSONL (`label_field` may hold a string, a number, or a list
/// of labels — several labels are joined by spaces as fastText's multi-label lines).
pub fn read_labeled_texts(
    path: &Path,
    text_field: &str,
    label_field: &str,
) -> Result<Vec<(Vec<String>, String)>, LearnError> {
    let text = read_string(path)?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|e| {
            LearnError::parse(path, i + 1, text_field, format!("invalid JSON: {e}"))
        })?;
        let t = match v.get(text_field) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                return Err(LearnError::parse(
                    path,
                    i + 1,
                    text_field,
                    format!("expected a string, got {other}"),
                ));
            }
            None => return Err(LearnError::parse(path, i + 1, text_field, "missing field")),
        };
        let one = |x: &Value| -> Result<String, LearnError> {
            match x {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                Value::Bool(b) => Ok(b.to_string()),
                other => Err(LearnError::parse(
                    path,
                    i + 1,
                    label_field,
                    format!("expected a string or number label, got {other}"),
                )),
            }
        };
        let labels = match v.get(label_field) {
            Some(Value::Array(a)) => a.iter().map(one).collect::<Result<Vec<_>, _>>()?,
            Some(x) => vec![one(x)?],
            None => return Err(LearnError::parse(path, i + 1, label_field, "missing field")),
        };
        for l in &labels {
            if l.is_empty() || l.chars().any(|c| c.is_whitespace()) {
                return Err(LearnError::parse(
                    path,
                    i + 1,
                    label_field,
                    format!(
                        "label '{l}' is empty or contains whitespace (fastText labels are single tokens)"
                    ),
                ));
            }
        }
        out.push((labels, t));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, shape: &str, fortran: bool, body: &[u8]) -> Vec<u8> {
        let mut h = format!(
            "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
            if fortran { "True" } else { "False" }
        );
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(h.len() as u16).to_le_bytes());
        b.extend_from_slice(h.as_bytes());
        b.extend_from_slice(body);
        b
    }

    #[test]
    fn npy_float32_and_fortran() {
        let body: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let a = parse_npy(&npy("<f4", "(2, 3)", false, &body), Path::new("x.npy")).unwrap();
        assert_eq!(a.shape, vec![2, 3]);
        assert_eq!(a.data, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let a = parse_npy(&npy("<f4", "(2, 3)", true, &body), Path::new("x.npy")).unwrap();
        assert_eq!(a.data, vec![1.0, 3.0, 5.0, 2.0, 4.0, 6.0]);
        let e = parse_npy(&npy("<f8", "(2, 3)", false, &body), Path::new("x.npy")).unwrap_err();
        assert!(
            e.to_string().contains("x.npy") && e.to_string().contains("truncated"),
            "{e}"
        );
        let e = parse_npy(&npy("<c16", "(1,)", false, &[0; 16]), Path::new("y.npy")).unwrap_err();
        assert!(e.to_string().contains("unsupported dtype"), "{e}");
    }

    #[test]
    fn labels_encoding() {
        let raw = vec![
            RawLabel::Str("b".into()),
            RawLabel::Str("a".into()),
            RawLabel::Str("c".into()),
        ];
        let e = encode_labels(&raw, None).unwrap();
        assert_eq!(e.labels, vec![1, 0, 2]);
        assert_eq!(e.classes, vec!["a", "b", "c"]);
        let raw = vec![RawLabel::Int(2), RawLabel::Int(0)];
        assert_eq!(encode_labels(&raw, None).unwrap().labels, vec![2, 0]);
        assert!(encode_labels(&[RawLabel::Int(-1)], None).is_err());
    }

    #[test]
    fn errors_name_file_row_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.jsonl");
        std::fs::write(&p, "{\"label\": 1}\n{\"lab\": 2}\n").unwrap();
        let e = read_labels(&p, "label", "id").unwrap_err().to_string();
        assert!(
            e.contains("l.jsonl") && e.contains("row 2") && e.contains("`label`"),
            "{e}"
        );
        let p = dir.path().join("p.csv");
        std::fs::write(&p, "0.5,0.5\n0.2,x\n").unwrap();
        let e = read_pred_probs(&p, "pred_probs").unwrap_err().to_string();
        assert!(
            e.contains("p.csv") && e.contains("row 2") && e.contains("column 2"),
            "{e}"
        );
    }
}
