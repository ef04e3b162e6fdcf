//! Scores each document's perplexity under an n-gram language model (KenLM ARPA, or trained
//! here with modified Kneser-Ney), as CCNet does, into a metadata field.
//!
//! The model is either read from a KenLM ARPA file (`model`) or trained when the stage starts
//! from reference text (`train_from`, with `order`): an interpolated modified Kneser-Ney
//! estimate with KenLM `lmplz`'s discounts (no pruning; see the `datamill-lm` crate). Scores
//! are exactly those of the `kenlm` Python package's `Model.score(sentence)` (log10, `<s>`
//! and `</s>` added, unknown words scored as `<unk>`, backoffs of unseen contexts; sums in
//! 32-bit floats as KenLM does: verified bit for bit on every document of the en_prose
//! sample).
//!
//! The perplexity is CCNet's (`cc_net/perplexity.py`, `DocLM`): with `per_line = true` each
//! `"\n"` line is a sentence, `perplexity = 10 ** (-Σ log10 p(line) / Σ (words(line) + 1))`;
//! with `per_line = false` the whole text is one sentence. `normalize = true` first applies
//! CCNet's `text_normalizer.normalize` to each sentence (strip, lowercase, accents removed,
//! digits to `0`, unicode punctuation to ASCII, control characters removed). The value is
//! rounded to one decimal as CCNet stores it (`round = false` keeps full precision). A
//! document with an empty text gets no field (as in CCNet).
//!
//! Tokenization: `tokenizer = "whitespace"` (the only one so far) scores the words between
//! whitespace. CCNet applies a SentencePiece model after normalizing and scores the pieces
//! with a 5-gram model trained on SentencePiece-tokenized Wikipedia; no SentencePiece model
//! is available here. The ARPA model must match the tokenization (and the normalization) it
//! is used with: a model trained on pieces gives meaningless scores on words. Note also that
//! CCNet's production pipeline normalizes the whole document before SentencePiece, which
//! deletes the newlines (control characters) and glues the lines together; `normalize =
//! true` with `per_line = false` reproduces that.
//!
//! Parameters:
//! * `model`: ARPA file (relative to the pipeline file), or
//! * `train_from`: files, directories or globs of reference text to train on: `.txt` files
//!   are one sentence per line, anything else is read as documents (JSONL or Parquet,
//!   compressed or not) whose `train_text_field` (default `"text"`) is split into `"\n"`
//!   lines; each line is normalized (if `normalize`) and tokenized like the scored text.
//!   `order` (default 5, at most 8) is the n-gram order.
//! * `field` (default `"perplexity"`): the metadata field written.
//! * `normalize` (default true), `per_line` (default true), `tokenizer` (default
//!   `"whitespace"`), `round` (default true).
//! * `max_perplexity`: drop documents above it (reason `perplexity_too_high`; data-juicer's
//!   `perplexity_filter` uses 1500 with CCNet's models).
//!
//! The model is read or trained when the first document arrives (a missing file is reported
//! then, as a `model` or `train_from` error). Memory: about 40 bytes per n-gram.
//!
//! CCNet's head/middle/tail buckets need percentiles of the whole data: use the global
//! `perplexity_buckets` stage (same parameters, plus the buckets), or this stage followed by
//! `score_select` with `mode = "buckets"` and `higher_is_better = false`.
//!
//! ```toml
//! [[stage]]
//! type = "perplexity"
//! train_from = ["reference/wiki_sample.jsonl"]
//! order = 5
//! max_perplexity = 1500
//!
//! [[stage]]
//! type = "perplexity"
//! model = "models/en.arpa"
//! field = "ccnet_perplexity"
//! per_line = false
//! round = false
//! ```

use crate::{BuildCx, StageSpec, Step};
use datamill_core::{Doc, Stage, StageCx, StageError, Verdict};
use datamill_lm::ccnet::{self, DocOptions};
use datamill_lm::train::{TrainOptions, Trainer};
use datamill_lm::{MAX_ORDER, Model, kenlm_words};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

fn default_field() -> String {
    "perplexity".into()
}
fn default_text_field() -> String {
    "text".into()
}

/// How sentences are split into the model's tokens.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Tokenizer {
    /// Words between whitespace (KenLM's own split).
    #[default]
    Whitespace,
}

/// The `perplexity` stage's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Perplexity {
    /// ARPA model file.
    pub model: Option<String>,
    /// Reference text to train a model on.
    pub train_from: Option<Vec<String>>,
    /// Order of the trained model (default 5).
    pub order: Option<usize>,
    /// Text field of the reference documents.
    #[serde(default = "default_text_field")]
    pub train_text_field: String,
    /// Metadata field receiving the perplexity.
    #[serde(default = "default_field")]
    pub field: String,
    /// Apply CCNet's normalization.
    #[serde(default = "crate::yes")]
    pub normalize: bool,
    /// Score each line as a sentence.
    #[serde(default = "crate::yes")]
    pub per_line: bool,
    /// The tokenizer.
    #[serde(default)]
    pub tokenizer: Tokenizer,
    /// Round to one decimal, as CCNet.
    #[serde(default = "crate::yes")]
    pub round: bool,
    /// Drop documents above this perplexity.
    pub max_perplexity: Option<f64>,
}

/// Where the model comes from.
#[derive(Clone, Debug)]
enum Source {
    Arpa(PathBuf),
    Train {
        base: PathBuf,
        files: Vec<String>,
        order: usize,
        text_field: String,
    },
}

/// The scoring half shared by `perplexity` and `perplexity_buckets`: a lazily loaded model
/// and the CCNet options.
pub(crate) struct Scoring {
    source: Source,
    opts: DocOptions,
    round: bool,
    model: OnceLock<Result<Arc<Model>, (&'static str, String)>>,
}

impl Scoring {
    /// Validates the model and scoring parameters.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        cx: &BuildCx,
        model: &Option<String>,
        train_from: &Option<Vec<String>>,
        order: Option<usize>,
        train_text_field: &str,
        normalize: bool,
        per_line: bool,
        round: bool,
    ) -> Result<Scoring, StageError> {
        let source = match (model, train_from) {
            (Some(_), Some(_)) => {
                return Err(StageError::config(
                    "model",
                    "give either `model` or `train_from`, not both",
                ));
            }
            (None, None) => {
                return Err(StageError::config(
                    "model",
                    "give `model` (an ARPA file) or `train_from` (reference text)",
                ));
            }
            (Some(m), None) => {
                if m.is_empty() {
                    return Err(StageError::config("model", "must not be empty"));
                }
                if order.is_some() {
                    return Err(StageError::config(
                        "order",
                        "only applies to `train_from` (an ARPA file has its own order)",
                    ));
                }
                Source::Arpa(cx.base_dir.join(m))
            }
            (None, Some(files)) => {
                if files.is_empty() || files.iter().any(String::is_empty) {
                    return Err(StageError::config(
                        "train_from",
                        "give at least one file, directory or glob",
                    ));
                }
                let order = order.unwrap_or(5);
                if order == 0 || order > MAX_ORDER {
                    return Err(StageError::config(
                        "order",
                        format!("must be between 1 and {MAX_ORDER}, got {order}"),
                    ));
                }
                if train_text_field.is_empty() {
                    return Err(StageError::config("train_text_field", "must not be empty"));
                }
                Source::Train {
                    base: cx.base_dir.clone(),
                    files: files.clone(),
                    order,
                    text_field: train_text_field.to_string(),
                }
            }
        };
        Ok(Scoring {
            source,
            opts: DocOptions {
                normalize,
                per_line,
            },
            round,
            model: OnceLock::new(),
        })
    }

    fn model(&self) -> Result<&Model, StageError> {
        match self.model.get_or_init(|| self.load().map(Arc::new)) {
            Ok(m) => Ok(m),
            Err((p, m)) => Err(StageError::config(*p, m.clone())),
        }
    }

    fn load(&self) -> Result<Model, (&'static str, String)> {
        match &self.source {
            Source::Arpa(path) => Model::from_arpa_file(path).map_err(|e| ("model", e.to_string())),
            Source::Train {
                base,
                files,
                order,
                text_field,
            } => {
                let err = |e: String| ("train_from", e);
                let mut t =
                    Trainer::new(TrainOptions::new(*order)).map_err(|e| err(e.to_string()))?;
                let mut add = |line: &str| {
                    if self.opts.normalize {
                        t.add_sentence(kenlm_words(&ccnet::normalize(line)));
                    } else {
                        t.add_sentence(kenlm_words(line));
                    }
                };
                let paths =
                    datamill_io::discover::discover(base, files).map_err(|e| err(e.to_string()))?;
                for path in paths {
                    if path.extension().is_some_and(|e| e == "txt") {
                        let text = std::fs::read_to_string(&path)
                            .map_err(|e| err(format!("{}: {e}", path.display())))?;
                        text.lines().for_each(&mut add);
                        continue;
                    }
                    crate::reference::for_each_doc(path, text_field, "id", &mut |d| {
                        d.text().split('\n').for_each(&mut add);
                        Ok(())
                    })
                    .map_err(err)?;
                }
                let trained = t.finish().map_err(|e| err(e.to_string()))?;
                Model::from_arpa_str(&trained.arpa).map_err(|e| err(e.to_string()))
            }
        }
    }

    /// The document's perplexity (`None` for an empty text).
    pub(crate) fn perplexity(&self, doc: &Doc) -> Result<Option<f64>, StageError> {
        let model = self.model()?;
        let text = doc.text();
        if text.is_empty() {
            return Ok(None);
        }
        let s = ccnet::score_doc(model, text, self.opts, &ccnet::whitespace_tokens);
        let pp = s.perplexity();
        Ok(Some(if self.round { ccnet::round1(pp) } else { pp }))
    }
}

struct Built {
    scoring: Scoring,
    field: String,
    max: Option<f64>,
}

impl StageSpec for Perplexity {
    fn build(&self, cx: &BuildCx) -> Result<Step, StageError> {
        let scoring = Scoring::new(
            cx,
            &self.model,
            &self.train_from,
            self.order,
            &self.train_text_field,
            self.normalize,
            self.per_line,
            self.round,
        )?;
        if self.field.is_empty() {
            return Err(StageError::config("field", "must not be empty"));
        }
        if let Some(m) = self.max_perplexity
            && (m.is_nan() || m <= 0.0)
        {
            return Err(StageError::config(
                "max_perplexity",
                format!("must be a positive number, got {m}"),
            ));
        }
        Ok(Step::Map(Box::new(Built {
            scoring,
            field: self.field.clone(),
            max: self.max_perplexity,
        })))
    }
}

impl Stage for Built {
    fn process(&self, doc: &mut Doc, _: &mut StageCx) -> Result<Verdict, StageError> {
        let Some(pp) = self.scoring.perplexity(doc)? else {
            return Ok(Verdict::Keep);
        };
        doc.set(&self.field, &pp);
        if self.max.is_some_and(|m| pp > m) {
            return Ok(Verdict::drop("perplexity_too_high"));
        }
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARPA: &str = "../datamill-lm/tests/golden/en_prose_o5.arpa";

    fn build(cfg: &str) -> Result<Step, StageError> {
        toml::from_str::<Perplexity>(cfg).unwrap().build(&BuildCx {
            base_dir: env!("CARGO_MANIFEST_DIR").into(),
            ..Default::default()
        })
    }

    fn run(cfg: &str, text: &str) -> (Verdict, Doc) {
        let Ok(Step::Map(s)) = build(cfg) else {
            panic!("{cfg}")
        };
        let mut d = Doc::new("x", text);
        let v = s.process(&mut d, &mut StageCx::default()).unwrap();
        (v, d)
    }

    #[test]
    fn scores_as_ccnet_with_an_arpa_model() {
        let text = "OpenStack Telemetry (Ceilometer) Alarming - expirer\n\nThis package contains the documentation.";
        let cfg = format!("model = \"{ARPA}\"");
        let (v, d) = run(&cfg, text);
        assert_eq!(v, Verdict::Keep);
        let m =
            Model::from_arpa_file(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(ARPA)).unwrap();
        let want = ccnet::score_doc(&m, text, DocOptions::default(), &ccnet::whitespace_tokens);
        let pp: f64 = d.get_raw("perplexity").unwrap().parse().unwrap();
        assert_eq!(pp, ccnet::round1(want.perplexity()));
        assert!(pp > 1.0 && pp < 1000.0, "{pp}");
        // Unrounded, whole text, other field; the threshold drops.
        let (v, d) = run(
            &format!(
                "model = \"{ARPA}\"\nfield = \"pp\"\nround = false\nper_line = false\nmax_perplexity = 1.5"
            ),
            text,
        );
        assert_eq!(v, Verdict::drop("perplexity_too_high"));
        let opts = DocOptions {
            normalize: true,
            per_line: false,
        };
        let want = ccnet::score_doc(&m, text, opts, &ccnet::whitespace_tokens).perplexity();
        assert_eq!(d.get_raw("pp").unwrap().parse::<f64>().unwrap(), want);
        // Gibberish is less likely than prose.
        let (_, g) = run(&cfg, "zebra quantum toaster umbrella the of of");
        let gp: f64 = g.get_raw("perplexity").unwrap().parse().unwrap();
        assert!(gp > pp, "{gp} vs {pp}");
        // Empty text: no field.
        let (v, e) = run(&cfg, "");
        assert_eq!(v, Verdict::Keep);
        assert!(e.get_raw("perplexity").is_none());
    }

    #[test]
    fn trains_from_reference_text() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("ref.jsonl"),
            "{\"text\":\"the cat sat on the mat\\nthe dog sat on the log\"}\n{\"text\":\"a cat and a dog\"}\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("more.txt"), "the cat ate the fish\n").unwrap();
        let cfg: Perplexity =
            toml::from_str("train_from = [\"ref.jsonl\", \"more.txt\"]\norder = 3\nround = false")
                .unwrap();
        let Ok(Step::Map(s)) = cfg.build(&BuildCx {
            base_dir: dir.path().into(),
            ..Default::default()
        }) else {
            panic!()
        };
        let score = |t: &str| {
            let mut d = Doc::new("x", t);
            s.process(&mut d, &mut StageCx::default()).unwrap();
            d.get_raw("perplexity").unwrap().parse::<f64>().unwrap()
        };
        assert!(score("The cat sat on the mat.") < score("mat the on sat cat the"));
        assert!(score("the cat ate the fish") < score("the fish ate the cat"));
        // A missing reference file is a train_from error when the first document arrives.
        let cfg: Perplexity = toml::from_str("train_from = [\"nope.jsonl\"]").unwrap();
        let Ok(Step::Map(s)) = cfg.build(&BuildCx {
            base_dir: dir.path().into(),
            ..Default::default()
        }) else {
            panic!()
        };
        let e = s
            .process(&mut Doc::new("x", "a"), &mut StageCx::default())
            .unwrap_err();
        assert!(
            matches!(e, StageError::Config { ref param, .. } if param == "train_from"),
            "{e}"
        );
    }

    #[test]
    fn parameter_errors() {
        let param = |s: &str| match build(s) {
            Err(StageError::Config { param, .. }) => param,
            _ => panic!("{s} should fail"),
        };
        assert_eq!(param(""), "model");
        assert_eq!(param("model = \"a\"\ntrain_from = [\"b\"]"), "model");
        assert_eq!(param("model = \"a\"\norder = 3"), "order");
        assert_eq!(param("train_from = [\"b\"]\norder = 9"), "order");
        assert_eq!(param("train_from = []"), "train_from");
        assert_eq!(
            param("model = \"a\"\nmax_perplexity = -1.0"),
            "max_perplexity"
        );
        assert_eq!(param("model = \"a\"\nfield = \"\""), "field");
        assert!(toml::from_str::<Perplexity>("model = \"a\"\ntokenizer = \"spm\"").is_err());
        // A missing model is reported as a `model` error at the first document.
        let Ok(Step::Map(s)) = build("model = \"missing.arpa\"") else {
            panic!()
        };
        let e = s
            .process(&mut Doc::new("x", "a"), &mut StageCx::default())
            .unwrap_err();
        assert!(
            matches!(e, StageError::Config { ref param, .. } if param == "model"),
            "{e}"
        );
    }
}
