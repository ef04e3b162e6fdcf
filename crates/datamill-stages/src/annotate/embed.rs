//! Embeds every document with a BERT-family sentence encoder (all-MiniLM-L6-v2 and the like)
//! and stores the vectors beside the run, for the semantic stages and for users.
//!
//! The model is a local folder holding `config.json`, `model.safetensors` (float32) and
//! `tokenizer.json`, plus sentence-transformers' optional `sentence_bert_config.json`
//! (`max_seq_length`) and `1_Pooling/config.json`; `crates/datamill-embed/fetch-minilm.sh`
//! fetches all-MiniLM-L6-v2 into `target/models/all-MiniLM-L6-v2`. The vector is what
//! sentence-transformers' `encode` returns, to cosine >= 0.99999 (golden test over 3,909
//! documents): the text is stripped, tokenized with `[CLS]`/`[SEP]`, cut at `max_length`
//! tokens (default: the model's `max_seq_length`, 256 for MiniLM), run through the encoder
//! in float32, mean-pooled over its tokens and L2-normalized. Nothing is downloaded; the model
//! is loaded when the stage first runs, and a model whose files disagree (shapes against
//! `config.json`, a tokenizer larger than the vocabulary, a missing file) stops the run with
//! an error naming the file and tensor.
//!
//! A global stage: each document is embedded in parallel (the summary is its vector), then
//! the vectors are written in input order to the store `OUT/embeddings/<stage>/`
//! (`embed`, or `embed-2` for a second embed stage):
//!
//! * `embeddings.npy`: float32, shape (N, dim), row i = the i-th kept document;
//! * `ids.jsonl`: the N document ids, one JSON string per line;
//! * `meta.json`: count, dim, model folder, max_length, pooling (written last).
//!
//! `numpy.load(".../embeddings.npy", mmap_mode="r")` reads it. The semantic stages take the
//! store by stage name (`embeddings = "embed"`) or by path, so a store made by another run or
//! another tool (same layout) is reused without recomputing.
//!
//! Drops: `empty_text` (nothing but whitespace: the vector of `[CLS] [SEP]` says nothing
//! about the document). A document longer than `max_length` tokens is embedded from its
//! first tokens and counted; the report `OUT/reports/<stage>/embed.json` gives documents,
//! tokens, truncated and empty counts.
//!
//! Parameters: `model` (required, a folder relative to the pipeline file), `max_length`
//! (tokens, special tokens included; at most the model's `max_position_embeddings`),
//! `pooling` (`"mean"` or `"cls"`; default from the model folder, else mean).
//!
//! ```toml
//! [[stage]]
//! type = "embed"
//! model = "models/all-MiniLM-L6-v2"
//! ```

use crate::semantic::{LazyEncoder, run_output_dir, run_store_dir, stage_name};
use crate::{BuildCx, StageSpec, Step};
use datamill_core::{
    DecideCx, Decider, Doc, DocRef, GlobalStage, ReportSink, StageError, Verdicts,
};
use datamill_embed::store::StoreWriter;
use datamill_embed::{EncoderOptions, Pooling};
use serde::Deserialize;

/// The `embed` stage's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Embed {
    /// The model folder.
    pub model: String,
    /// Tokens per document, special tokens included.
    pub max_length: Option<usize>,
    /// `"mean"` or `"cls"`.
    pub pooling: Option<String>,
}

impl StageSpec for Embed {
    fn build(&self, cx: &BuildCx) -> Result<Step, StageError> {
        let pooling = match self.pooling.as_deref() {
            None => None,
            Some("mean") => Some(Pooling::Mean),
            Some("cls") => Some(Pooling::Cls),
            Some(p) => {
                return Err(StageError::config(
                    "pooling",
                    format!("{p:?}: use \"mean\" or \"cls\""),
                ));
            }
        };
        if self.max_length.is_some_and(|m| m < 2) {
            return Err(StageError::config(
                "max_length",
                "must be at least 2 ([CLS] and [SEP])",
            ));
        }
        let enc = LazyEncoder::new(
            cx,
            &self.model,
            EncoderOptions {
                max_length: self.max_length,
                pooling,
                normalize: Some(true),
            },
        )?;
        Ok(Step::Global(Box::new(Built { enc })))
    }
}

struct Built {
    enc: LazyEncoder,
}

const TRUNCATED: u8 = 1;
const EMPTY: u8 = 2;

/// Summary: flags (u8), token count (u32), id length (u32), id, then `dim` f32 (absent for
/// an empty text); little-endian.
impl GlobalStage for Built {
    fn summarize(&self, doc: &Doc, out: &mut Vec<u8>) -> Result<(), StageError> {
        let enc = self.enc.get()?;
        let id = doc.id().as_bytes();
        let empty = doc.text().trim().is_empty();
        let toks = if empty {
            None
        } else {
            Some(
                enc.tokenize(doc.text())
                    .map_err(|e| StageError::Other(e.to_string()))?,
            )
        };
        let flags = if empty {
            EMPTY
        } else if toks.as_ref().is_some_and(|t| t.truncated) {
            TRUNCATED
        } else {
            0
        };
        out.push(flags);
        out.extend_from_slice(&(toks.as_ref().map_or(0, |t| t.ids.len()) as u32).to_le_bytes());
        out.extend_from_slice(&(id.len() as u32).to_le_bytes());
        out.extend_from_slice(id);
        if let Some(t) = toks {
            let mut v = vec![0f32; enc.dim()];
            enc.embed_tokens(&[&t.ids], &mut v);
            for x in v {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
        Ok(())
    }

    fn decider(&self, cx: &DecideCx) -> Result<Box<dyn Decider + '_>, StageError> {
        let enc = self.enc.get()?;
        let store = match (run_output_dir(cx), stage_name(cx)) {
            (Some(out), Some(name)) => {
                let dir = run_store_dir(out, &name);
                let model = serde_json::json!({
                    "dir": self.enc.dir(),
                    "max_length": enc.max_length(),
                    "pooling": format!("{:?}", enc.pooling()).to_lowercase(),
                });
                Some(
                    StoreWriter::create(&dir, enc.dim(), model, true)
                        .map_err(|e| StageError::Other(e.to_string()))?,
                )
            }
            _ => None,
        };
        Ok(Box::new(EmbedDecider {
            dim: enc.dim(),
            store,
            report: cx.report.clone(),
            counts: Counts::default(),
        }))
    }
}

#[derive(Default, serde::Serialize)]
struct Counts {
    documents: u64,
    embedded: u64,
    empty_text: u64,
    truncated: u64,
    tokens: u64,
}

struct EmbedDecider {
    dim: usize,
    store: Option<StoreWriter>,
    report: ReportSink,
    counts: Counts,
}

/// A decoded summary of the `embed` stage.
pub(crate) struct Summary<'a> {
    pub flags: u8,
    pub tokens: u32,
    pub id: &'a str,
    pub vector: &'a [u8],
}

pub(crate) fn decode(s: &[u8]) -> Result<Summary<'_>, StageError> {
    let bad = || StageError::Other("embed: corrupt summary".into());
    if s.len() < 9 {
        return Err(bad());
    }
    let tokens = u32::from_le_bytes(s[1..5].try_into().expect("4 bytes"));
    let n = u32::from_le_bytes(s[5..9].try_into().expect("4 bytes")) as usize;
    let id = s.get(9..9 + n).ok_or_else(bad)?;
    Ok(Summary {
        flags: s[0],
        tokens,
        id: std::str::from_utf8(id).map_err(|_| bad())?,
        vector: &s[9 + n..],
    })
}

impl Decider for EmbedDecider {
    fn observe(&mut self, at: DocRef, summary: &[u8], v: &mut Verdicts) -> Result<(), StageError> {
        let s = decode(summary)?;
        self.counts.documents += 1;
        if s.flags & EMPTY != 0 {
            self.counts.empty_text += 1;
            v.drop(at, "empty_text");
            return Ok(());
        }
        if s.vector.len() != self.dim * 4 {
            return Err(StageError::Other(format!(
                "embed: summary of {:?} has {} bytes of vector, expected {}",
                s.id,
                s.vector.len(),
                self.dim * 4
            )));
        }
        self.counts.embedded += 1;
        self.counts.tokens += u64::from(s.tokens);
        self.counts.truncated += u64::from(s.flags & TRUNCATED != 0);
        if let Some(w) = &mut self.store {
            let row: Vec<f32> = s
                .vector
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            w.push(s.id, &row)
                .map_err(|e| StageError::Other(e.to_string()))?;
        }
        Ok(())
    }

    fn finish(&mut self, _: &mut Verdicts) -> Result<Option<Vec<u8>>, StageError> {
        let mut report = serde_json::to_value(&self.counts).expect("counts serialize");
        if let Some(w) = self.store.take() {
            let dir = w.dir().to_path_buf();
            w.finish().map_err(|e| StageError::Other(e.to_string()))?;
            report["store"] = serde_json::json!(dir);
        }
        self.report.json("embed.json", &report)?;
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fate, run};
    use datamill_embed::store::Store;
    use datamill_embed::testing::{minilm, write_tiny_model};

    fn stage(model: &std::path::Path, extra: &str) -> Box<dyn GlobalStage> {
        let cfg: Embed =
            toml::from_str(&format!("model = {:?}\n{extra}", model.display())).unwrap();
        match cfg.build(&BuildCx::default()).unwrap() {
            Step::Global(g) => g,
            Step::Map(_) => unreachable!(),
        }
    }

    fn cx(out: &std::path::Path) -> DecideCx {
        DecideCx {
            report: ReportSink::dir(out.join("reports").join("embed")),
            work_dir: out.join(".work"),
            memory_budget: None,
            workers: 1,
        }
    }

    fn docs(texts: &[&str]) -> Vec<Doc> {
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| Doc::new(format!("d{i}"), t.to_string()))
            .collect()
    }

    #[test]
    fn stores_vectors_in_input_order_and_drops_empty_texts() {
        let m = tempfile::tempdir().unwrap();
        write_tiny_model(m.path());
        let out = tempfile::tempdir().unwrap();
        let g = stage(m.path(), "max_length = 5");
        let texts = ["the cat sat", "  \n ", "a dog sat on the mat", "cats"];
        let (fates, _) = run(g.as_ref(), docs(&texts), 2, &cx(out.path()));
        let reasons: Vec<_> = fates.iter().map(Fate::reason).collect();
        assert_eq!(reasons, [None, Some("empty_text"), None, None]);
        let store = Store::open(&out.path().join("embeddings/embed")).unwrap();
        assert_eq!(store.ids(), &["d0", "d2", "d3"]);
        assert_eq!(store.meta().dim, 8);
        // Row i is the encoder's vector of that text.
        let enc = datamill_embed::Encoder::load(
            m.path(),
            &EncoderOptions {
                max_length: Some(5),
                ..Default::default()
            },
        )
        .unwrap();
        let (want, _) = enc.embed(&[texts[2]], 100).unwrap();
        let mut row = Vec::new();
        store.read_rows(1, 1, &mut row).unwrap();
        assert_eq!(row, want);
        let report: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.path().join("reports/embed/embed.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(report["documents"], 4);
        assert_eq!(report["embedded"], 3);
        assert_eq!(report["empty_text"], 1);
        assert_eq!(report["truncated"], 1, "a dog sat on the mat > 5 tokens");
        assert_eq!(report["tokens"], 5 + 5 + 4);
    }

    #[test]
    fn bad_parameters_and_model_files_are_errors() {
        let e = toml::from_str::<Embed>("model = \"m\"\npooling = \"max\"")
            .unwrap()
            .build(&BuildCx::default())
            .err()
            .unwrap();
        assert!(e.to_string().contains("pooling"), "{e}");
        let e = toml::from_str::<Embed>("model = \"\"")
            .unwrap()
            .build(&BuildCx::default())
            .err()
            .unwrap();
        assert!(e.to_string().contains("model"), "{e}");
        // A folder without a model fails when the stage runs, naming the file.
        let dir = tempfile::tempdir().unwrap();
        let g = stage(dir.path(), "");
        let mut out = Vec::new();
        let e = g.summarize(&Doc::new("x", "hi"), &mut out).unwrap_err();
        assert!(e.to_string().contains("config.json"), "{e}");
    }

    #[test]
    fn minilm_vectors_match_sentence_transformers_examples() {
        let Some(model) = minilm() else { return };
        let out = tempfile::tempdir().unwrap();
        let g = stage(&model, "");
        let texts = [
            "A man is eating food.",
            "A man is eating a piece of bread.",
            "The weather is lovely today.",
        ];
        run(g.as_ref(), docs(&texts), 1, &cx(out.path()));
        let store = Store::open(&out.path().join("embeddings/embed")).unwrap();
        let mut v = Vec::new();
        store.read_rows(0, 3, &mut v).unwrap();
        let cos =
            |a: usize, b: usize| -> f32 { (0..384).map(|j| v[a * 384 + j] * v[b * 384 + j]).sum() };
        // sentence-transformers' documentation: 0.7553 for the first pair.
        assert!((cos(0, 1) - 0.7553).abs() < 1e-4, "{}", cos(0, 1));
        // /work/shared/data/models/reference_embeddings.jsonl (numpy forward pass): first value.
        assert!((v[2 * 384] - 0.019196).abs() < 2e-6, "{}", v[2 * 384]);
    }
}
