//! Counts each document's tokens with a Hugging Face `tokenizer.json` and writes the count to
//! metadata, so that later stages can state budgets in tokens.
//!
//! The tokenizer is the Hugging Face `tokenizers` library's own Rust crate (0.23, the version of
//! the Python package `tokenizers` 0.23.3), so counts equal `len(Tokenizer.from_file(path)
//! .encode(text, add_special_tokens=...).ids)` for any tokenizer.json: byte-level BPE (GPT-2,
//! Llama 3, GPT-4o's o200k), WordPiece (BERT, MiniLM), Unigram (T5). Padding and truncation
//! settings stored in the file are switched off (the MiniLM tokenizer.json pads and truncates
//! to 128), so the count is the document's full length. The stage never drops a document.
//!
//! Parameters: `tokenizer` (required: path of a tokenizer.json, relative to the pipeline file),
//! `field` (default `"token_count"`), `add_special_tokens` (default false: count the text's
//! tokens only; true adds e.g. BERT's `[CLS]`/`[SEP]`). Counter: `tokens` (the total).
//!
//! A `tokenizer.json.zst` (zstd-compressed) is read as well. Needs the `tokenizers` cargo
//! feature of `datamill-stages` (on by default); without it the stage is still known but
//! refuses to build. [`load_tokenizer`] is the loader the mixer (`datamill mix`) shares.
//!
//! ```toml
//! [[stage]]
//! type = "token_count"
//! tokenizer = "models/gpt2/tokenizer.json"
//!
//! [[stage]]
//! type = "token_count"
//! tokenizer = "models/all-MiniLM-L6-v2/tokenizer.json"
//! field = "bert_tokens"
//! add_special_tokens = true
//! ```

use crate::{BuildCx, StageSpec, Step};
use datamill_core::StageError;
#[cfg(feature = "tokenizers")]
use datamill_core::{Doc, Stage, StageCx, Verdict};
use serde::Deserialize;
use std::path::PathBuf;

fn default_field() -> String {
    "token_count".into()
}

/// The `token_count` stage's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenCount {
    /// Path of the tokenizer.json (relative to the pipeline file).
    pub tokenizer: PathBuf,
    /// Metadata field receiving the count.
    #[serde(default = "default_field")]
    pub field: String,
    /// Count the special tokens the tokenizer's post-processor adds.
    #[serde(default)]
    pub add_special_tokens: bool,
}

impl StageSpec for TokenCount {
    fn build(&self, cx: &BuildCx) -> Result<Step, StageError> {
        if self.field.is_empty() {
            return Err(StageError::config("field", "must not be empty"));
        }
        let path = cx.base_dir.join(&self.tokenizer);
        if !path.is_file() {
            return Err(StageError::config(
                "tokenizer",
                format!("tokenizer file '{}' does not exist", path.display()),
            ));
        }
        imp::build(self, &path)
    }
}

#[cfg(feature = "tokenizers")]
mod imp {
    use super::*;

    pub(super) struct Built {
        pub(super) tok: tokenizers::Tokenizer,
        pub(super) field: String,
        pub(super) special: bool,
    }

    pub(super) fn build(c: &TokenCount, path: &std::path::Path) -> Result<Step, StageError> {
        let tok = load_tokenizer(path).map_err(|e| StageError::config("tokenizer", e))?;
        Ok(Step::Map(Box::new(Built {
            tok,
            field: c.field.clone(),
            special: c.add_special_tokens,
        })))
    }

    impl Built {
        pub(super) fn count(&self, text: &str) -> Result<usize, StageError> {
            self.tok
                .encode_fast(text, self.special)
                .map(|e| e.get_ids().len())
                .map_err(|e| StageError::Other(format!("token_count: {e}")))
        }
    }

    impl Stage for Built {
        fn process(&self, doc: &mut Doc, cx: &mut StageCx) -> Result<Verdict, StageError> {
            let n = self.count(doc.text())?;
            doc.set(&self.field, &n);
            cx.count("tokens", n as u64);
            Ok(Verdict::Keep)
        }
    }
}

/// Loads a Hugging Face `tokenizer.json` (or a zstd-compressed `tokenizer.json.zst`) with the
/// padding and truncation stored in the file switched off, so that encodings have the whole
/// text's tokens. The error names the file.
#[cfg(feature = "tokenizers")]
pub fn load_tokenizer(path: &std::path::Path) -> Result<tokenizers::Tokenizer, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read '{}': {e}", path.display()))?;
    let bytes = if path.extension().is_some_and(|e| e == "zst") {
        zstd::stream::decode_all(&bytes[..])
            .map_err(|e| format!("'{}' is not a zstd file: {e}", path.display()))?
    } else {
        bytes
    };
    let mut tok = tokenizers::Tokenizer::from_bytes(&bytes)
        .map_err(|e| format!("'{}' is not a usable tokenizer.json: {e}", path.display()))?;
    tok.with_padding(None);
    tok.with_truncation(None).map_err(|e| e.to_string())?;
    Ok(tok)
}

#[cfg(not(feature = "tokenizers"))]
mod imp {
    use super::*;

    pub(super) fn build(_: &TokenCount, _: &std::path::Path) -> Result<Step, StageError> {
        Err(StageError::config(
            "tokenizer",
            "this datamill was built without the `tokenizers` feature of datamill-stages",
        ))
    }
}

#[cfg(all(test, feature = "tokenizers"))]
mod tests {
    use super::*;
    use serde_json::Value;

    const MODELS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/models");
    const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/samples");

    fn stage(file: &str, special: bool) -> Box<dyn Stage> {
        let c = TokenCount {
            tokenizer: file.into(),
            field: "n".into(),
            add_special_tokens: special,
        };
        match c
            .build(&BuildCx {
                seed: 0,
                base_dir: MODELS.into(),
            })
            .unwrap()
        {
            Step::Map(s) => s,
            Step::Global(_) => unreachable!(),
        }
    }

    fn count(s: &dyn Stage, text: &str) -> u64 {
        let mut d = Doc::new("x", text);
        let mut cx = StageCx::default();
        assert_eq!(s.process(&mut d, &mut cx).unwrap(), Verdict::Keep);
        let n = d.get_value("n").unwrap().as_u64().unwrap();
        assert_eq!(cx.take_counters(), vec![("tokens", n)]);
        n
    }

    #[test]
    fn gpt2_counts_equal_the_reference_ids() {
        let s = stage("gpt2__tokenizer.json", false);
        let rows = std::fs::read_to_string(format!("{MODELS}/reference_tokens.jsonl")).unwrap();
        let mut n = 0;
        for l in rows.lines() {
            let r: Value = serde_json::from_str(l).unwrap();
            let text = r["text"].as_str().unwrap();
            assert_eq!(
                count(&*s, text),
                r["gpt2_ids"].as_array().unwrap().len() as u64,
                "{text:?}"
            );
            n += 1;
        }
        assert_eq!(n, 80);
    }

    #[test]
    fn counts_equal_the_python_library() {
        // tests/golden/token_count/counts.jsonl, from tokenizers 0.23.3 (make_golden.py).
        let golden = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/golden/token_count/counts.jsonl"
        ))
        .unwrap();
        let mut texts = std::collections::HashMap::new();
        let refs = std::fs::read_to_string(format!("{MODELS}/reference_tokens.jsonl")).unwrap();
        for (i, l) in refs.lines().enumerate() {
            let r: Value = serde_json::from_str(l).unwrap();
            texts.insert(
                ("reference".to_string(), i.to_string()),
                r["text"].as_str().unwrap().to_string(),
            );
        }
        for src in ["en_prose", "multilingual"] {
            let s = std::fs::read_to_string(format!("{DATA}/{src}_sample.jsonl")).unwrap();
            for l in s.lines().take(300) {
                let r: Value = serde_json::from_str(l).unwrap();
                texts.insert(
                    (src.to_string(), r["id"].as_str().unwrap().to_string()),
                    r["text"].as_str().unwrap().to_string(),
                );
            }
        }
        let stages = [
            ("gpt2", stage("gpt2__tokenizer.json", false)),
            ("gpt2_special", stage("gpt2__tokenizer.json", true)),
            ("minilm", stage("all-MiniLM-L6-v2__tokenizer.json", false)),
            (
                "minilm_special",
                stage("all-MiniLM-L6-v2__tokenizer.json", true),
            ),
        ];
        let mut rows = 0;
        let mut long = 0;
        for l in golden.lines() {
            let r: Value = serde_json::from_str(l).unwrap();
            let key = match &r["key"] {
                Value::String(s) => s.clone(),
                v => v.to_string(),
            };
            let text = &texts[&(r["src"].as_str().unwrap().to_string(), key.clone())];
            for (name, s) in &stages {
                // Special tokens add a constant: checked on the reference rows only (speed).
                if name.ends_with("_special") && r["src"] != "reference" {
                    continue;
                }
                let got = count(&**s, text);
                assert_eq!(got, r[*name].as_u64().unwrap(), "{name} {key}");
                if *name == "minilm" && got > 128 {
                    long += 1;
                }
            }
            rows += 1;
        }
        assert_eq!(rows, 580);
        assert!(
            long > 10,
            "padding/truncation must be off: {long} docs over 128 tokens"
        );
    }

    #[test]
    fn bad_parameters() {
        let c = TokenCount {
            tokenizer: "nope.json".into(),
            field: "n".into(),
            add_special_tokens: false,
        };
        let e = c.build(&BuildCx::default()).err().unwrap();
        assert!(e.to_string().contains("`tokenizer`"), "{e}");
        let c = TokenCount {
            tokenizer: concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml").into(),
            field: "n".into(),
            add_special_tokens: false,
        };
        let e = c.build(&BuildCx::default()).err().unwrap();
        assert!(e.to_string().contains("not a usable tokenizer.json"), "{e}");
    }
}
