//! The tokenizer, set up as datatrove 0.10.1's `DocumentTokenizer` sets it up: the
//! `tokenizer.json` loaded by `token_count`'s loader (padding and truncation off), and, when an
//! `eos` token is given, the post-processor replaced by `TemplateProcessing("$A <EOS>")` so
//! every document ends with it. Documents are encoded with special tokens, as
//! `Tokenizer.encode_batch` does by default.

use crate::error::MixError;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A loaded tokenizer.
pub struct Tok {
    #[cfg(feature = "tokenizers")]
    tok: tokenizers::Tokenizer,
    /// The path as written in the mixture file (datatrove records it in `.ds.metadata`).
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// SHA-256 of the tokenizer.json (decompressed when stored as `.zst`), hex.
    pub sha256: String,
    /// Vocabulary size, added tokens included.
    pub vocab_size: usize,
    /// The `eos` token and its id.
    pub eos: Option<(String, u32)>,
}

impl Tok {
    /// Loads `path` (`name` is the path as written); `eos` is the text of the end-of-document
    /// token, which must be in the vocabulary.
    pub fn load(path: &Path, name: &str, eos: Option<&str>) -> Result<Tok, MixError> {
        let err = |message: String| MixError::Tokenizer {
            path: path.to_path_buf(),
            message,
        };
        let bytes = std::fs::read(path).map_err(|e| err(format!("cannot read: {e}")))?;
        // The hash of the tokenizer.json itself, whether or not it is stored compressed.
        let sha256 = if path.extension().is_some_and(|e| e == "zst") {
            let raw = zstd::stream::decode_all(&bytes[..])
                .map_err(|e| err(format!("not a zstd file: {e}")))?;
            hex(&Sha256::digest(&raw))
        } else {
            hex(&Sha256::digest(&bytes))
        };
        imp::load(path, name, eos, sha256, &err)
    }

    /// Appends the ids of `text` to `out`.
    pub fn encode(&self, text: &str, out: &mut Vec<u32>) -> Result<(), String> {
        imp::encode(self, text, out)
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(feature = "tokenizers")]
mod imp {
    use super::*;
    use tokenizers::processors::template::TemplateProcessing;

    pub(super) fn load(
        path: &Path,
        name: &str,
        eos: Option<&str>,
        sha256: String,
        err: &dyn Fn(String) -> MixError,
    ) -> Result<Tok, MixError> {
        let mut tok = datamill_stages::annotate::token_count::load_tokenizer(path).map_err(err)?;
        let vocab_size = tok.get_vocab_size(true);
        let eos = match eos {
            None => None,
            Some(e) => {
                let id = tok.token_to_id(e).ok_or_else(|| {
                    err(format!("the `eos` token {e:?} is not in the vocabulary"))
                })?;
                let tp = TemplateProcessing::builder()
                    .try_single("$A <EOS>")
                    .map_err(|e| err(e.to_string()))?
                    .special_tokens(vec![("<EOS>", id)])
                    .build()
                    .map_err(|e| err(e.to_string()))?;
                tok.with_post_processor(Some(tp));
                Some((e.to_string(), id))
            }
        };
        Ok(Tok {
            tok,
            name: name.to_string(),
            path: path.to_path_buf(),
            sha256,
            vocab_size,
            eos,
        })
    }

    pub(super) fn encode(t: &Tok, text: &str, out: &mut Vec<u32>) -> Result<(), String> {
        let enc = t.tok.encode_fast(text, true).map_err(|e| e.to_string())?;
        out.extend_from_slice(enc.get_ids());
        Ok(())
    }
}

#[cfg(not(feature = "tokenizers"))]
mod imp {
    use super::*;

    pub(super) fn load(
        _: &Path,
        _: &str,
        _: Option<&str>,
        _: String,
        err: &dyn Fn(String) -> MixError,
    ) -> Result<Tok, MixError> {
        Err(err(
            "this datamill was built without the `tokenizers` feature of datamill-mix".into(),
        ))
    }

    pub(super) fn encode(_: &Tok, _: &str, _: &mut Vec<u32>) -> Result<(), String> {
        unreachable!("no tokenizer can be loaded without the feature")
    }
}
