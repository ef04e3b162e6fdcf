//! Scores documents (or paragraphs) with any fastText supervised model and keeps or removes them by label score, as datatrove's `FastTextClassifierFilter`.
//!
//! The model is a local fastText `.bin`/`.ftz` file (a quality classifier, a topic classifier,
//! ...), read by datamill's pure-Rust fastText with the `fasttext` Python package's exact
//! probabilities. As datatrove 0.10.1 (`filters/fasttext_filter.py`):
//!
//! * the text is cut into units by `filter_mode`: `"DOCUMENT"` (default: one unit) or
//!   `"PARAGRAPH"` (Python's `str.splitlines()` lines, so also split at `\r`, `\x0b`, `\x0c`,
//!   `\x1c`-`\x1e`, U+0085, U+2028 and U+2029; each empty or blank line glued to the line
//!   before it, blank lines at the start forming a unit of their own; lines re-joined with `\n`,
//!   the last one without); `"SENTENCE"` needs datatrove's spaCy sentence splitter and is
//!   refused;
//! * each unit is stripped (Python's `str.strip()`: Unicode whitespace and `\x1c`-`\x1f`), its
//!   `\n` replaced by `newline_replacement` (default `""`, as datatrove: lines are glued
//!   together; a stripped paragraph holds no `\n`, so this only matters in `"DOCUMENT"` mode),
//!   and every label is scored (`k = -1`);
//! * a unit is kept when, with `keep_labels` (a list of `[label, min_score]`), *any* listed label
//!   scores `>= min_score`; with `remove_labels`, when *no* listed label scores `>= min_score`;
//!   with neither, always (annotate only: the documented datatrove behaviour, although
//!   datatrove 0.10.1 itself raises a `TypeError` when given neither). Only one of the two may
//!   be given;
//! * the text becomes the kept units joined (in `"DOCUMENT"` mode: unchanged or nothing; in
//!   `"PARAGRAPH"` mode line breaks become `\n` and a final line break goes, even when every
//!   unit is kept), and the document is dropped (reason `fasttext_classifier`; datatrove gives
//!   none) when that is empty or blank (`str.strip()`). A dropped document keeps its original
//!   text here (datatrove empties it);
//! * with `save_labels_in_metadata` (default `true`), every label's score, averaged over the
//!   units as `numpy.mean` does (pairwise float64 sum), is written to metadata under the full
//!   label name (`__label__hq`), kept and dropped documents alike.
//!
//! Counters: `kept_span`, `removed_span` (datatrove's stats).
//!
//! Keep/drop decisions, texts, counters and every score are checked bit for bit against
//! datatrove 0.10.1 on real documents and edge cases (`tests/golden/fasttext_classifier/`).
//!
//! Parameters: `model` (required; path relative to the pipeline file; missing or not a fastText
//! model → configuration error), `keep_labels` / `remove_labels` (one `[label, score]` pair or a
//! list of them; labels without `__label__`, each must be a model label, scores in `[0, 1]`),
//! `save_labels_in_metadata` (default `true`), `newline_replacement` (default `""`),
//! `filter_mode` (default `"DOCUMENT"`).
//!
//! ```toml
//! [[stage]]
//! type = "fasttext_classifier"
//! model = "models/quality.bin"
//! keep_labels = [["hq", 0.5]]
//!
//! [[stage]]
//! type = "fasttext_classifier"
//! model = "models/topics.ftz"
//! remove_labels = [["spam", 0.9], ["adult", 0.5]]
//! filter_mode = "PARAGRAPH"
//! newline_replacement = " "
//! ```

use crate::annotate::language::{check_labels, check_unit, load_model};
use crate::{BuildCx, StageSpec, Step};
use datamill_core::{Doc, Stage, StageCx, StageError, Verdict};
use datamill_fasttext::{FastText, strip_label_prefix};
use datamill_filters::pystr;
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;

/// One `[label, min_score]` pair or a list of them.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum LabelScores {
    /// A single pair.
    One((String, f64)),
    /// Several pairs.
    Many(Vec<(String, f64)>),
}

impl LabelScores {
    fn to_vec(&self) -> Vec<(String, f64)> {
        match self {
            LabelScores::One(p) => vec![p.clone()],
            LabelScores::Many(v) => v.clone(),
        }
    }
}

/// How the text is cut into scored units.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "UPPERCASE")]
pub enum FilterMode {
    /// The whole document.
    #[default]
    Document,
    /// Paragraphs (lines, blank lines glued to the previous one).
    Paragraph,
    /// Sentences (not supported).
    Sentence,
}

fn default_true() -> bool {
    true
}

/// The `fasttext_classifier` stage's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FasttextClassifier {
    /// Path of the model.
    pub model: Option<PathBuf>,
    /// Keep units where any of these labels scores at least this much.
    pub keep_labels: Option<LabelScores>,
    /// Remove units where any of these labels scores at least this much.
    pub remove_labels: Option<LabelScores>,
    /// Write the averaged label scores to metadata.
    #[serde(default = "default_true")]
    pub save_labels_in_metadata: bool,
    /// What `\n` becomes before predicting.
    #[serde(default)]
    pub newline_replacement: String,
    /// Units to score.
    #[serde(default)]
    pub filter_mode: FilterMode,
}

impl StageSpec for FasttextClassifier {
    fn build(&self, cx: &BuildCx) -> Result<Step, StageError> {
        if self.keep_labels.is_some() && self.remove_labels.is_some() {
            return Err(StageError::config(
                "remove_labels",
                "give only one of `keep_labels` and `remove_labels` (use two stages for both)",
            ));
        }
        if self.filter_mode == FilterMode::Sentence {
            return Err(StageError::config(
                "filter_mode",
                "\"SENTENCE\" needs datatrove's spaCy sentence splitter, which datamill does not have; use \"DOCUMENT\" or \"PARAGRAPH\"",
            ));
        }
        let (param, rules, keep) = match (&self.keep_labels, &self.remove_labels) {
            (Some(k), _) => ("keep_labels", k.to_vec(), true),
            (None, Some(r)) => ("remove_labels", r.to_vec(), false),
            (None, None) => ("keep_labels", Vec::new(), true),
        };
        for (l, s) in &rules {
            if !(0.0..=1.0).contains(s) {
                check_unit(param, *s).map_err(|_| {
                    StageError::config(
                        param,
                        format!("score {s} for label \"{l}\" must be between 0 and 1"),
                    )
                })?;
            }
        }
        let model = load_model("model", self.model.as_deref(), cx)?;
        let labels: Vec<&str> = model
            .labels()
            .iter()
            .map(|l| strip_label_prefix(l))
            .collect();
        let names: Vec<String> = rules.iter().map(|r| r.0.clone()).collect();
        check_labels(param, &names, &labels, "label")?;
        let rules = rules
            .iter()
            .map(|(l, s)| (labels.iter().position(|x| x == l).unwrap_or(0), *s))
            .collect();
        Ok(Step::Map(Box::new(ClassifierStage {
            model,
            rules,
            keep,
            save: self.save_labels_in_metadata,
            newline: self.newline_replacement.clone(),
            paragraphs: self.filter_mode == FilterMode::Paragraph,
        })))
    }
}

/// The built `fasttext_classifier` stage.
pub struct ClassifierStage {
    model: Arc<FastText>,
    /// (label id, min score).
    rules: Vec<(usize, f64)>,
    /// `keep_labels` (true) or `remove_labels` (false).
    keep: bool,
    save: bool,
    newline: String,
    paragraphs: bool,
}

/// datatrove's `split_into_parts(text, "PARAGRAPH")`.
fn paragraphs(text: &str) -> Vec<String> {
    let lines = pystr::splitlines(text);
    let mut out = Vec::new();
    let mut next = String::new();
    let mut has = false;
    for (i, line) in lines.iter().enumerate() {
        if !pystr::strip(line).is_empty() && has {
            out.push(std::mem::take(&mut next));
        }
        next.push_str(line);
        has = true;
        if i != lines.len() - 1 {
            next.push('\n');
        }
    }
    if has {
        out.push(next);
    }
    out
}

impl Stage for ClassifierStage {
    fn process(&self, doc: &mut Doc, cx: &mut StageCx) -> Result<Verdict, StageError> {
        let units: Vec<String> = if self.paragraphs {
            paragraphs(doc.text())
        } else {
            vec![doc.text().to_string()]
        };
        let nlabels = self.model.labels().len();
        // Scores per label id, in first-seen order (Python dict insertion order).
        let mut order: Vec<usize> = Vec::new();
        let mut scores: Vec<Vec<f64>> = vec![Vec::new(); nlabels];
        let mut kept = String::new();
        let (mut kept_n, mut removed_n) = (0u64, 0u64);
        for unit in &units {
            let prepared = pystr::strip(unit).replace('\n', &self.newline);
            let preds = self.model.predict_ids(prepared.as_bytes(), usize::MAX, 0.0);
            if self.save {
                for &(id, p) in &preds {
                    if scores[id].is_empty() {
                        order.push(id);
                    }
                    scores[id].push(f64::from(p));
                }
            }
            let score = |id: usize| {
                preds
                    .iter()
                    .find(|p| p.0 == id)
                    .map_or(-9e9, |p| f64::from(p.1))
            };
            let hit = self.rules.iter().any(|&(id, min)| score(id) >= min);
            let keep = if self.keep {
                self.rules.is_empty() || hit
            } else {
                !hit
            };
            if keep {
                kept.push_str(unit);
                kept_n += 1;
            } else {
                removed_n += 1;
            }
        }
        if kept_n > 0 {
            cx.count("kept_span", kept_n);
        }
        if removed_n > 0 {
            cx.count("removed_span", removed_n);
        }
        if self.save {
            for id in order {
                let v = &scores[id];
                let mean = datamill_npsort::np_sum(v) / v.len() as f64;
                doc.set(&self.model.labels()[id], &mean);
            }
        }
        if pystr::strip(&kept).is_empty() {
            return Ok(Verdict::drop("fasttext_classifier"));
        }
        if self.paragraphs {
            doc.set_text(kept);
        }
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::annotate::language::testing::small_model;

    fn build(extra: &str) -> Result<Step, StageError> {
        let m = small_model("sm.bin");
        let c: FasttextClassifier =
            toml::from_str(&format!("model = {:?}\n{extra}", m.display().to_string())).unwrap();
        c.build(&BuildCx::default())
    }

    fn stage(extra: &str) -> Box<dyn Stage> {
        match build(extra).unwrap() {
            Step::Map(s) => s,
            Step::Global(_) => unreachable!(),
        }
    }

    fn model() -> FastText {
        FastText::load(small_model("sm.bin")).unwrap()
    }

    const DOC: &str = "Python bindings for the library\n\nThis package contains the Python 3 module.\n\n\nDocumentation and examples for the Rust compiler";

    #[test]
    fn document_mode_scores_and_thresholds() {
        let m = model();
        let preds = m.predict(&DOC.trim().replace('\n', ""), 2, 0.0);
        let (top, p) = (strip_label_prefix(preds[0].0).to_string(), preds[0].1);
        let s = stage("");
        let mut d = Doc::new("a", DOC);
        let mut cx = StageCx::default();
        assert_eq!(s.process(&mut d, &mut cx).unwrap(), Verdict::Keep);
        let got: f64 = d.get_raw(preds[0].0).unwrap().parse().unwrap();
        assert_eq!(got, f64::from(p));
        assert_eq!(
            d.keys().filter(|k| k.starts_with("__label__")).count(),
            m.labels().len()
        );
        assert_eq!(d.text(), DOC);

        let keep = stage(&format!("keep_labels = [[{top:?}, {}]]", f64::from(p)));
        assert_eq!(
            keep.process(&mut Doc::new("a", DOC), &mut cx).unwrap(),
            Verdict::Keep
        );
        let keep = stage(&format!(
            "keep_labels = [{top:?}, {}]\nsave_labels_in_metadata = false",
            f64::from(p) + 1e-9
        ));
        let mut d = Doc::new("a", DOC);
        assert_eq!(
            keep.process(&mut d, &mut cx).unwrap(),
            Verdict::drop("fasttext_classifier")
        );
        assert_eq!(d.keys().count(), 2, "no metadata written");
        let remove = stage(&format!("remove_labels = [[{top:?}, 0.0]]"));
        assert_eq!(
            remove.process(&mut Doc::new("a", DOC), &mut cx).unwrap(),
            Verdict::drop("fasttext_classifier")
        );
    }

    #[test]
    fn paragraph_mode_keeps_matching_paragraphs_and_averages() {
        let m = model();
        let paras = paragraphs(DOC);
        assert_eq!(
            paras,
            vec![
                "Python bindings for the library\n\n",
                "This package contains the Python 3 module.\n\n\n",
                "Documentation and examples for the Rust compiler"
            ]
        );
        let tops: Vec<(String, f32)> = paras
            .iter()
            .map(|p| {
                let r = m.predict(&p.trim().replace('\n', ""), 1, 0.0);
                (strip_label_prefix(r[0].0).to_string(), r[0].1)
            })
            .collect();
        // Keep the paragraphs whose own top label is the first paragraph's top label.
        let (label, _) = &tops[0];
        let min = tops
            .iter()
            .filter(|t| &t.0 == label)
            .map(|t| t.1)
            .fold(f32::INFINITY, f32::min);
        let s = stage(&format!(
            "keep_labels = [[{label:?}, {}]]\nfilter_mode = \"PARAGRAPH\"",
            f64::from(min)
        ));
        let mut d = Doc::new("a", DOC);
        let mut cx = StageCx::default();
        assert_eq!(s.process(&mut d, &mut cx).unwrap(), Verdict::Keep);
        let expected: String = paras
            .iter()
            .filter(|p| {
                let r = m.predict(&p.trim().replace('\n', ""), usize::MAX, 0.0);
                r.iter()
                    .any(|(l, sc)| strip_label_prefix(l) == label && *sc >= min)
            })
            .cloned()
            .collect();
        assert_eq!(d.text(), expected);
        let counters = cx.take_counters();
        assert_eq!(counters.iter().map(|c| c.1).sum::<u64>(), 3);
        // Metadata: the mean over the three paragraphs.
        let lab = format!("__label__{label}");
        let vals: Vec<f64> = paras
            .iter()
            .map(|p| {
                let r = m.predict(&p.trim().replace('\n', ""), usize::MAX, 0.0);
                f64::from(r.iter().find(|x| x.0 == lab).unwrap().1)
            })
            .collect();
        let got: f64 = d.get_raw(&lab).unwrap().parse().unwrap();
        assert_eq!(got, (vals[0] + vals[1] + vals[2]) / 3.0);
    }

    fn sha256_16(bytes: &[u8]) -> String {
        use sha2::{Digest, Sha256};
        Sha256::digest(bytes)[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// One document of the golden file (see its README).
    #[derive(Deserialize)]
    struct GoldenDoc {
        file: String,
        id: String,
        /// Per configuration: (kept, kept_span, removed_span).
        result: std::collections::HashMap<String, (bool, u64, u64)>,
        /// Per configuration whose kept text differs from the input.
        #[serde(default)]
        text: std::collections::HashMap<String, GoldenText>,
        /// Per score group: `None` when datatrove wrote no scores.
        scores: std::collections::HashMap<String, Option<GoldenScores>>,
    }

    #[derive(Deserialize)]
    struct GoldenText {
        sha256: String,
        text: Option<String>,
    }

    #[derive(Deserialize)]
    struct GoldenScores {
        sha256: String,
        /// Raw JSON numbers, parsed with `str::parse` (correctly rounded; serde_json's own
        /// float parser without `float_roundtrip` can be one ulp off).
        values: Option<Vec<Box<serde_json::value::RawValue>>>,
    }

    /// Parity with datatrove 0.10.1's `FastTextClassifierFilter` (one filter per configuration)
    /// on the Debian-section rows of the labeled sample, 300 en_prose documents and hand-made
    /// edge cases, over seven configurations; see `tests/golden/fasttext_classifier/README.md`.
    /// Checks per document and configuration: the keep/drop decision, the `kept_span` /
    /// `removed_span` counts, the text of kept documents (byte for byte, through its SHA-256
    /// where the golden stores no explicit text) and every label score bit for bit (through the
    /// SHA-256 of all 55 float64 scores, and value by value where the golden lists them).
    #[test]
    fn golden_datatrove_fasttext_filter() {
        use serde_json::Value;
        use std::collections::HashMap;
        use std::io::Read;

        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/golden/fasttext_classifier/"
        );
        let mut golden = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(format!("{dir}golden.jsonl.gz")).unwrap())
            .read_to_string(&mut golden)
            .unwrap();
        let mut lines = golden.lines();
        let header: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
        let labels: Vec<&str> = header["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        assert_eq!(labels.len(), 55);
        let bcx = BuildCx {
            base_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            ..BuildCx::default()
        };
        // (name, stage, score group)
        let mut configs: Vec<(String, Box<dyn Stage>, Option<String>)> = Vec::new();
        for (name, c) in header["configs"].as_object().unwrap() {
            let mut params = c["params"].clone();
            params["model"] = header["model"].clone();
            let spec: FasttextClassifier = serde_json::from_value(params).unwrap();
            let Step::Map(s) = spec.build(&bcx).unwrap() else {
                unreachable!()
            };
            configs.push((name.clone(), s, c["scores"].as_str().map(String::from)));
        }
        assert_eq!(configs.len(), 7);

        let samples = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/samples/");
        let mut inputs: HashMap<(String, String), String> = HashMap::new();
        for (file, path) in [
            (
                "labeled_sample.jsonl",
                format!("{samples}labeled_sample.jsonl"),
            ),
            (
                "en_prose_sample.jsonl",
                format!("{samples}en_prose_sample.jsonl"),
            ),
            ("cases.jsonl", format!("{dir}cases.jsonl")),
        ] {
            let src = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            for l in src.lines() {
                let v: Value = serde_json::from_str(l).unwrap();
                let id = v["id"].as_str().unwrap().to_string();
                inputs.insert((file.to_string(), id), v["text"].as_str().unwrap().into());
            }
        }

        let mut failures: Vec<String> = Vec::new();
        let mut fail = |msg: String| {
            if failures.len() < 20 {
                failures.push(msg);
            }
        };
        let (mut docs, mut explicit_scores, mut explicit_texts) = (0, 0, 0);
        let mut kept_count: HashMap<&str, usize> = HashMap::new();
        for l in lines {
            let g: GoldenDoc = serde_json::from_str(l).unwrap();
            let text = &inputs[&(g.file.clone(), g.id.clone())];
            docs += 1;
            for (name, stage, group) in &configs {
                let at = format!("{} {} {name}", g.file, g.id);
                let mut doc = Doc::new(g.id.as_str(), text.as_str());
                let mut cx = StageCx::default();
                let verdict = stage.process(&mut doc, &mut cx).unwrap();
                let (want_kept, want_k, want_r) = g.result[name];
                let kept = verdict == Verdict::Keep;
                if kept != want_kept {
                    fail(format!("{at}: kept {kept}, datatrove {want_kept}"));
                }
                *kept_count.entry(name).or_default() += usize::from(kept);
                if !kept {
                    assert_eq!(verdict, Verdict::drop("fasttext_classifier"), "{at}");
                }
                let counters: HashMap<_, _> = cx.take_counters().into_iter().collect();
                let spans = [
                    counters.get("kept_span").copied().unwrap_or(0),
                    counters.get("removed_span").copied().unwrap_or(0),
                ];
                if spans != [want_k, want_r] {
                    fail(format!(
                        "{at}: spans {spans:?}, datatrove {:?}",
                        [want_k, want_r]
                    ));
                }
                // Text: datatrove empties a dropped document, datamill keeps it unchanged.
                match g.text.get(name) {
                    Some(gt) if kept => {
                        if let Some(t) = &gt.text {
                            explicit_texts += 1;
                            if doc.text() != t {
                                fail(format!("{at}: text {:?}, datatrove {t:?}", doc.text()));
                            }
                        }
                        if sha256_16(doc.text().as_bytes()) != gt.sha256 {
                            fail(format!("{at}: text digest differs: {:?}", doc.text()));
                        }
                    }
                    _ => {
                        if doc.text() != text {
                            fail(format!("{at}: text changed to {:?}", doc.text()));
                        }
                    }
                }
                // Scores, bit for bit.
                let ours: Vec<f64> = labels
                    .iter()
                    .filter_map(|lab| doc.get_raw(lab).map(|r| r.parse().unwrap()))
                    .collect();
                let n_meta = doc.keys().filter(|k| k.starts_with("__label__")).count();
                assert_eq!(n_meta, ours.len(), "{at}: unknown metadata labels");
                let Some(gs) = group.as_ref().and_then(|gr| g.scores[gr].as_ref()) else {
                    if !ours.is_empty() {
                        fail(format!("{at}: scores written, datatrove wrote none"));
                    }
                    continue;
                };
                if ours.len() != labels.len() {
                    fail(format!("{at}: {} scores", ours.len()));
                    continue;
                }
                if let Some(vals) = &gs.values {
                    explicit_scores += 1;
                    for ((lab, o), v) in labels.iter().zip(&ours).zip(vals) {
                        let v: f64 = v.get().parse().unwrap();
                        if o.to_bits() != v.to_bits() {
                            fail(format!("{at}: {lab} {o:e}, datatrove {v:e}"));
                        }
                    }
                }
                let bits: Vec<u8> = ours.iter().flat_map(|v| v.to_le_bytes()).collect();
                if sha256_16(&bits) != gs.sha256 {
                    fail(format!("{at}: score digest differs: {ours:?}"));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert_eq!(docs, 3059 + 300 + 28);
        assert!(
            explicit_scores > 200 && explicit_texts > 50,
            "{explicit_scores} {explicit_texts}"
        );
        // Both decisions are exercised in every configuration.
        for (name, _, _) in &configs {
            let k = kept_count[name.as_str()];
            assert!(k > 0 && k < docs, "{name}: {k} of {docs} kept");
        }
    }

    #[test]
    fn bad_parameters() {
        let e = build("keep_labels = [[\"nosuchlabel\", 0.5]]")
            .err()
            .unwrap();
        assert!(
            e.to_string().contains("keep_labels") && e.to_string().contains("nosuchlabel"),
            "{e}"
        );
        let e = build("keep_labels = [[\"x\", 0.5]]\nremove_labels = [[\"y\", 0.5]]")
            .err()
            .unwrap();
        assert!(e.to_string().contains("remove_labels"), "{e}");
        let e = build("remove_labels = [[\"x\", -0.5]]").err().unwrap();
        assert!(e.to_string().contains("remove_labels"), "{e}");
        let e = build("filter_mode = \"SENTENCE\"").err().unwrap();
        assert!(e.to_string().contains("filter_mode"), "{e}");
        let c: FasttextClassifier = toml::from_str("keep_labels = [[\"x\", 0.5]]").unwrap();
        let e = c.build(&BuildCx::default()).err().unwrap();
        assert!(e.to_string().contains("`model`"), "{e}");
    }
}
