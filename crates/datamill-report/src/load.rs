//! Reading a run's output folder: `stats.json`, the stored plan, decisions and the stage
//! reports' file list. Everything is read loosely (JSON values, not the executor's types), so a
//! folder written by an older or newer datamill, or by a run that has not finished, still gives
//! whatever it holds; what is missing or unreadable becomes a [`Problem`] the page lists.

use std::path::{Path, PathBuf};

use datamill_exec::layout::Layout;
use serde_json::Value;

/// Something the report could not show, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// The file concerned (relative to the output folder where possible).
    pub file: String,
    /// What is wrong and what the page shows instead.
    pub message: String,
}

/// One stage as the report knows it.
#[derive(Clone, Debug, Default)]
pub struct StageInfo {
    /// The stage's type (`length`, `exact_dedup`, ...).
    pub kind: String,
    /// Its parameters as written in the pipeline file (a TOML table), when known.
    pub params: Option<toml::Table>,
    /// Its report folder name under `reports/`, for a global stage.
    pub report: Option<String>,
}

/// What the report reads from a run's folder (small: no document is held here).
#[derive(Debug, Default)]
pub struct RunData {
    /// The output folder.
    pub out: PathBuf,
    /// `stats.json`, when present and whole.
    pub stats: Option<Value>,
    /// `.datamill/plan.json`, when present and whole.
    pub plan: Option<Value>,
    /// The pipeline file's text (from the plan).
    pub pipeline_text: Option<String>,
    /// The stages, in pipeline order (from the plan's pipeline, else from `stats.json`).
    pub stages: Vec<StageInfo>,
    /// Decision `k`'s `decision.json`, in order (`None`: not written yet or unreadable).
    pub decisions: Vec<Option<Value>>,
    /// Report folders under `reports/` with their files (name, size), sorted.
    pub reports: Vec<(String, Vec<(String, u64)>)>,
    /// Field holding the text in the input (and excluded) documents.
    pub text_field: String,
    /// Field holding the id.
    pub id_field: String,
    /// Completion markers present per pass (`pass<k>/*.done`), for unfinished runs.
    pub markers: Vec<usize>,
    /// Whatever could not be read.
    pub problems: Vec<Problem>,
}

fn read_json(path: &Path, rel: &str, problems: &mut Vec<Problem>, why: &str) -> Option<Value> {
    match std::fs::read(path) {
        Ok(b) => match serde_json::from_slice::<Value>(&b) {
            Ok(v) => Some(v),
            Err(e) => {
                problems.push(Problem {
                    file: rel.into(),
                    message: format!(
                        "unreadable ({e}; {} bytes: truncated or not JSON) — {why}",
                        b.len()
                    ),
                });
                None
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            problems.push(Problem {
                file: rel.into(),
                message: format!("missing — {why}"),
            });
            None
        }
        Err(e) => {
            problems.push(Problem {
                file: rel.into(),
                message: format!("cannot be read ({e}) — {why}"),
            });
            None
        }
    }
}

impl RunData {
    /// Reads what folder `out` holds. Fails only when `out` is not a folder; everything else
    /// that is missing is recorded in [`RunData::problems`].
    pub fn load(out: &Path) -> Result<RunData, crate::ReportError> {
        if !out.is_dir() {
            return Err(crate::ReportError::NotARun(out.to_path_buf()));
        }
        let l = Layout::new(out);
        let mut d = RunData {
            out: out.to_path_buf(),
            text_field: "text".into(),
            id_field: "id".into(),
            ..Default::default()
        };
        let mut problems = Vec::new();
        d.stats = read_json(
            &l.stats(),
            "stats.json",
            &mut problems,
            "the run has not finished (or was written elsewhere): the funnel shows what the \
             completed tasks' markers hold",
        );
        if d.stats.is_none() && !l.state_dir().is_dir() {
            problems.push(Problem {
                file: ".datamill/".into(),
                message: "missing: this folder holds no datamill run state".into(),
            });
        }
        if l.state_dir().is_dir() {
            d.plan = read_json(
                &l.plan(),
                ".datamill/plan.json",
                &mut problems,
                if l.legacy_run().exists() {
                    "the folder was written by a datamill from before the plan layout \
                     (.datamill/run.json): pipeline, input files and stage reports are not shown"
                } else {
                    "pipeline and input files are not shown"
                },
            );
        }
        if let Some(plan) = &d.plan
            && let Some(text) = plan.pointer("/pipeline/text").and_then(Value::as_str)
        {
            d.pipeline_text = Some(text.to_string());
        }
        let pipeline: Option<toml::Table> = d.pipeline_text.as_deref().and_then(|t| {
            t.parse::<toml::Table>()
                .map_err(|e| {
                    problems.push(Problem {
                        file: ".datamill/plan.json".into(),
                        message: format!("its pipeline text does not parse ({e})"),
                    })
                })
                .ok()
        });
        if let Some(p) = &pipeline {
            if let Some(input) = p.get("input").and_then(|v| v.as_table()) {
                if let Some(t) = input.get("text_field").and_then(|v| v.as_str()) {
                    d.text_field = t.into();
                }
                if let Some(t) = input.get("id_field").and_then(|v| v.as_str()) {
                    d.id_field = t.into();
                }
            }
            if let Some(stages) = p.get("stage").and_then(|v| v.as_array()) {
                for s in stages {
                    let t = s.as_table().cloned().unwrap_or_default();
                    d.stages.push(StageInfo {
                        kind: t
                            .get("type")
                            .and_then(|v| v.as_str())
                            .unwrap_or("?")
                            .to_string(),
                        params: Some(t),
                        report: None,
                    });
                }
            }
        }
        if d.stages.is_empty()
            && let Some(st) = d.stats.as_ref().and_then(|s| s["stages"].as_array())
        {
            for s in st {
                d.stages.push(StageInfo {
                    kind: s["type"].as_str().unwrap_or("?").to_string(),
                    ..Default::default()
                });
            }
        }
        if let Some(decs) = d.plan.as_ref().and_then(|p| p["decisions"].as_array()) {
            for (k, dec) in decs.iter().enumerate() {
                let stage = dec["stage"].as_u64().map(|s| s as usize);
                let report = dec["report"].as_str().map(str::to_string);
                if let (Some(s), Some(r)) = (stage, report)
                    && let Some(info) = d.stages.get_mut(s)
                {
                    info.report = Some(r);
                }
                let path = l.decision(k);
                d.decisions.push(if path.exists() {
                    read_json(
                        &path,
                        &format!(".datamill/decision{k}/decision.json"),
                        &mut problems,
                        "that decision's timing is not shown",
                    )
                } else {
                    None
                });
            }
            if let Some(passes) = d.plan.as_ref().and_then(|p| p["passes"].as_array()) {
                for k in 0..passes.len() {
                    let n = std::fs::read_dir(l.pass_dir(k))
                        .map(|r| {
                            r.flatten()
                                .filter(|e| e.file_name().to_string_lossy().ends_with(".done"))
                                .count()
                        })
                        .unwrap_or(0);
                    d.markers.push(n);
                }
            }
        }
        if let Ok(rd) = std::fs::read_dir(out.join("reports")) {
            let mut dirs: Vec<_> = rd.flatten().filter(|e| e.path().is_dir()).collect();
            dirs.sort_by_key(|e| e.file_name());
            for e in dirs {
                let mut files: Vec<(String, u64)> = std::fs::read_dir(e.path())
                    .map(|r| {
                        r.flatten()
                            .filter(|f| !f.file_name().to_string_lossy().starts_with('.'))
                            .map(|f| {
                                (
                                    f.file_name().to_string_lossy().into_owned(),
                                    f.metadata().map(|m| m.len()).unwrap_or(0),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                files.sort();
                d.reports
                    .push((e.file_name().to_string_lossy().into_owned(), files));
            }
        }
        for s in &d.stages {
            // The report file a finished stage of this kind always writes.
            let expected = match s.kind.as_str() {
                "exact_dedup" | "minhash_dedup" | "line_dedup" | "bloom_dedup"
                | "substring_dedup" => Some("clusters.jsonl"),
                "dsir" => Some("dsir.json"),
                _ => None,
            };
            if let (Some(r), Some(f)) = (&s.report, expected)
                && d.stats.is_some()
                && !d
                    .reports
                    .iter()
                    .any(|(n, files)| n == r && files.iter().any(|x| x.0 == f))
            {
                problems.push(Problem {
                    file: format!("reports/{r}/{f}"),
                    message: format!("missing — the {} stage's report is not shown", s.kind),
                });
            }
        }
        d.problems = problems;
        Ok(d)
    }

    /// Sums the statistics held by the completion markers of the last pass that has any
    /// (an unfinished run's funnel so far), or `None`.
    pub fn marker_stats(&self) -> Option<(usize, Value)> {
        let l = Layout::new(&self.out);
        let k = self.markers.iter().rposition(|&n| n > 0)?;
        let mut sum: Option<datamill_core::stats::RunStats> = None;
        let mut rd: Vec<_> = std::fs::read_dir(l.pass_dir(k)).ok()?.flatten().collect();
        rd.sort_by_key(|e| e.file_name());
        for e in rd {
            if !e.file_name().to_string_lossy().ends_with(".done") {
                continue;
            }
            let Ok(b) = std::fs::read(e.path()) else {
                continue;
            };
            let Ok(v) = serde_json::from_slice::<Value>(&b) else {
                continue;
            };
            let Ok(s) =
                serde_json::from_value::<datamill_core::stats::RunStats>(v["stats"].clone())
            else {
                continue;
            };
            match &mut sum {
                Some(t) => *t += &s,
                None => sum = Some(s),
            }
        }
        let s = sum?;
        Some((k, serde_json::to_value(s).ok()?))
    }

    /// A path relative to the output folder, for messages.
    pub fn rel(&self, p: &Path) -> String {
        p.strip_prefix(&self.out)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned()
    }
}
