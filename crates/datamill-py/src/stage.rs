//! `datamill.Stage`: one per-document stage applied to Arrow record batches (the shape Ray
//! Data's `map_batches` hands over), with the executor's accounting: documents in, kept,
//! dropped by reason, rows quarantined (no string text), and the stage's counters.
//!
//! A row becomes a [`Doc`] through its JSON form (arrow-json, nulls explicit), exactly as a
//! Parquet row does in a run; kept documents go back to Arrow with the batch's schema, plus
//! the fields the stage added (types inferred), so a stage sees and does the same thing in a
//! batch as in a pipeline.

use crate::run_err;
use arrow_array::RecordBatch;
use arrow_pyarrow::PyArrowType;
use arrow_schema::{Field, Schema, SchemaRef};
use datamill_core::stats::StageStats;
use datamill_core::{Doc, FieldNames, StageCx, Verdict};
use datamill_exec::error::RunError;
use datamill_stages::{BuildCx, StageConfig, Step};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// What a stage did over every batch it was given.
#[derive(Default)]
struct Tally {
    stats: StageStats,
    quarantined: BTreeMap<String, u64>,
}

/// A per-document stage (`datamill.Stage("gopher_quality", ...)`), built once (models are
/// loaded here) and applied to any number of batches, from any number of threads.
#[pyclass(frozen, module = "datamill._datamill")]
pub struct Stage {
    name: &'static str,
    stage: Box<dyn datamill_core::Stage>,
    names: FieldNames,
    tally: Mutex<Tally>,
}

fn arrow_err(what: &str, e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(format!("{what}: {e}"))
}

/// One batch, processed: kept rows as JSON lines, dropped rows with their reason.
struct Outcome {
    kept: Vec<u8>,
    kept_rows: usize,
    dropped: Vec<u8>,
    dropped_rows: usize,
}

impl Stage {
    fn apply(&self, batch: &RecordBatch, keep_dropped: bool) -> PyResult<Outcome> {
        let mut lines = Vec::new();
        {
            let mut w = arrow_json::WriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, arrow_json::writer::LineDelimited>(&mut lines);
            w.write(batch)
                .map_err(|e| arrow_err("cannot convert the batch to documents", e))?;
            w.finish()
                .map_err(|e| arrow_err("cannot convert the batch to documents", e))?;
        }
        let has_id = batch.schema().field_with_name(&self.names.id).is_ok();
        let mut out = Outcome {
            kept: Vec::new(),
            kept_rows: 0,
            dropped: Vec::new(),
            dropped_rows: 0,
        };
        let mut local = Tally {
            stats: StageStats::new(self.name),
            ..Default::default()
        };
        let mut cx = StageCx::default();
        let excluded = |doc: &mut Doc, stage: &str, reason: &str, out: &mut Outcome| {
            if keep_dropped {
                doc.set(
                    "excluded_by",
                    &serde_json::json!({"stage": stage, "reason": reason}),
                );
                doc.write_json(&mut out.dropped);
                out.dropped.push(b'\n');
                out.dropped_rows += 1;
            }
        };
        for (row, line) in lines.split(|&b| b == b'\n').enumerate() {
            if line.is_empty() {
                continue;
            }
            let line = String::from_utf8_lossy(line).into_owned();
            let mut doc = match Doc::from_json_or_line(line, &self.names, || row.to_string()) {
                Ok(d) => d,
                Err((p, line)) => {
                    *local.quarantined.entry(p.reason.to_string()).or_default() += 1;
                    if keep_dropped {
                        // The row as it came, with the reason (it is a JSON object: arrow-json
                        // wrote it).
                        let mut obj: serde_json::Map<String, serde_json::Value> =
                            serde_json::from_str(&line).unwrap_or_default();
                        obj.insert(
                            "excluded_by".into(),
                            serde_json::json!({"stage": "<input>", "reason": p.reason}),
                        );
                        out.dropped.extend_from_slice(
                            serde_json::Value::Object(obj).to_string().as_bytes(),
                        );
                        out.dropped.push(b'\n');
                        out.dropped_rows += 1;
                    }
                    continue;
                }
            };
            let t = std::time::Instant::now();
            let verdict = self.stage.process(&mut doc, &mut cx).map_err(|e| {
                run_err(RunError::Stage {
                    index: 1,
                    kind: self.name.to_string(),
                    message: format!("document {}: {e}", doc.id()),
                })
            })?;
            let st = &mut local.stats;
            st.seconds += t.elapsed().as_secs_f64();
            st.input += 1;
            for (name, n) in cx.take_counters() {
                *st.counters.entry(name.to_string()).or_default() += n;
            }
            if !has_id {
                // The id was made up from the row number: the batch had no id column.
                doc.remove(&self.names.id);
            }
            match verdict {
                Verdict::Keep => {
                    st.kept += 1;
                    doc.write_json(&mut out.kept);
                    out.kept.push(b'\n');
                    out.kept_rows += 1;
                }
                Verdict::Drop(reason) => {
                    *st.dropped.entry(reason.to_string()).or_default() += 1;
                    excluded(&mut doc, self.name, &reason, &mut out);
                }
            }
        }
        let mut t = self.tally.lock().expect("stage tally");
        t.stats += &local.stats;
        for (k, v) in local.quarantined {
            *t.quarantined.entry(k).or_default() += v;
        }
        Ok(out)
    }
}

/// The batch's schema (every field nullable) extended by the fields found in `lines`.
fn schema_for(lines: &[u8], hint: &SchemaRef) -> PyResult<SchemaRef> {
    let mut fields: Vec<Field> = hint
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_nullable(true))
        .collect();
    if !lines.is_empty() {
        let (inferred, _) = arrow_json::reader::infer_json_schema(lines, None)
            .map_err(|e| arrow_err("cannot infer the types of new fields", e))?;
        for f in inferred.fields() {
            if !fields.iter().any(|g| g.name() == f.name()) {
                fields.push(f.as_ref().clone().with_nullable(true));
            }
        }
    }
    Ok(Arc::new(Schema::new(fields)))
}

/// JSON lines back to one record batch of `schema`.
fn to_batch(lines: &[u8], rows: usize, schema: SchemaRef) -> PyResult<RecordBatch> {
    if rows == 0 {
        return Ok(RecordBatch::new_empty(schema));
    }
    let mut d = arrow_json::ReaderBuilder::new(schema.clone())
        .with_batch_size(rows)
        .build_decoder()
        .map_err(|e| arrow_err("cannot build the output batch", e))?;
    let mut rest = lines;
    while !rest.is_empty() {
        let n = d
            .decode(rest)
            .map_err(|e| arrow_err("cannot build the output batch", e))?;
        if n == 0 {
            break;
        }
        rest = &rest[n..];
    }
    let mut batches = Vec::new();
    while let Some(b) = d
        .flush()
        .map_err(|e| arrow_err("cannot build the output batch", e))?
    {
        batches.push(b);
    }
    arrow_select_concat(&schema, &batches)
}

fn arrow_select_concat(schema: &SchemaRef, batches: &[RecordBatch]) -> PyResult<RecordBatch> {
    match batches {
        [] => Ok(RecordBatch::new_empty(schema.clone())),
        [one] => Ok(one.clone()),
        _ => Err(PyValueError::new_err(
            "internal: the output batch was decoded in pieces",
        )),
    }
}

#[pymethods]
impl Stage {
    /// Builds stage `name` from its parameters (a JSON object, as `datamill stages NAME`
    /// documents them). `base_dir` resolves relative model paths; `seed` is the pipeline seed.
    #[new]
    #[pyo3(signature = (name, params_json, text_field="text".to_string(), id_field="id".to_string(), base_dir=None, seed=0))]
    fn new(
        py: Python<'_>,
        name: &str,
        params_json: &str,
        text_field: String,
        id_field: String,
        base_dir: Option<PathBuf>,
        seed: u64,
    ) -> PyResult<Stage> {
        let Some(info) = datamill_stages::info(name) else {
            let known: Vec<&str> = datamill_stages::registry().iter().map(|i| i.name).collect();
            return Err(PyValueError::new_err(format!(
                "unknown stage `{name}`; stages: {}",
                known.join(", ")
            )));
        };
        if info.global {
            return Err(PyValueError::new_err(format!(
                "`{name}` decides over the whole corpus (a global stage), so it cannot run \
                 batch by batch: put it in a pipeline and use datamill.run (or datamill.ray.run)"
            )));
        }
        let text = crate::source::stage_toml(name, params_json).map_err(PyValueError::new_err)?;
        let config: StageConfig = toml::from_str(&text).map_err(|e| {
            PyValueError::new_err(format!("stage `{name}`: {}", e.message().trim()))
        })?;
        let cx = BuildCx {
            seed,
            base_dir: base_dir.unwrap_or_else(|| std::env::current_dir().unwrap_or_default()),
        };
        let step = py
            .detach(|| config.build(&cx))
            .map_err(|e| PyValueError::new_err(format!("stage `{name}`: {e}")))?;
        let Step::Map(stage) = step else {
            unreachable!("checked above: a per-document stage");
        };
        Ok(Stage {
            name: info.name,
            stage,
            names: FieldNames {
                text: text_field,
                id: id_field,
            },
            tally: Mutex::new(Tally {
                stats: StageStats::new(info.name),
                ..Default::default()
            }),
        })
    }

    /// The stage's type.
    #[getter]
    fn name(&self) -> &'static str {
        self.name
    }

    /// Applies the stage to a `pyarrow.RecordBatch`; returns the kept rows as a record batch
    /// (the input's columns plus the fields the stage added) and, with `keep_dropped`, the
    /// dropped and quarantined rows with an `excluded_by` column (`{"stage", "reason"}`).
    #[pyo3(signature = (batch, keep_dropped=false))]
    #[allow(clippy::type_complexity)]
    fn process_batch(
        &self,
        py: Python<'_>,
        batch: PyArrowType<RecordBatch>,
        keep_dropped: bool,
    ) -> PyResult<(PyArrowType<RecordBatch>, Option<PyArrowType<RecordBatch>>)> {
        let batch = batch.0;
        let (kept, dropped) = py.detach(|| -> PyResult<_> {
            let o = self.apply(&batch, keep_dropped)?;
            let hint = batch.schema();
            let kept = to_batch(&o.kept, o.kept_rows, schema_for(&o.kept, &hint)?)?;
            let dropped = if keep_dropped {
                Some(to_batch(
                    &o.dropped,
                    o.dropped_rows,
                    schema_for(&o.dropped, &hint)?,
                )?)
            } else {
                None
            };
            Ok((kept, dropped))
        })?;
        Ok((PyArrowType(kept), dropped.map(PyArrowType)))
    }

    /// The accounting so far, as JSON: `{"type", "in", "kept", "dropped": {reason: n},
    /// "seconds", "counters", "quarantined": {reason: n}}`; `in == kept + Σ dropped`.
    fn stats_json(&self) -> String {
        let t = self.tally.lock().expect("stage tally");
        let mut v = serde_json::to_value(&t.stats).expect("stats serialize");
        v["quarantined"] = serde_json::to_value(&t.quarantined).expect("counts serialize");
        if v.get("counters").is_none() {
            v["counters"] = serde_json::json!({});
        }
        v.to_string()
    }

    /// Forgets the accounting.
    fn reset_stats(&self) {
        let mut t = self.tally.lock().expect("stage tally");
        *t = Tally {
            stats: StageStats::new(self.name),
            ..Default::default()
        };
    }

    /// The stage's documentation.
    fn doc(&self) -> &'static str {
        datamill_stages::info(self.name).map_or("", |i| i.doc)
    }
}
