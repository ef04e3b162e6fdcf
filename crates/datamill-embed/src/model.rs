//! A BERT-family sentence encoder loaded from local files, computing what
//! sentence-transformers computes for models such as all-MiniLM-L6-v2: the encoder's last
//! hidden states, mean-pooled over the tokens (special tokens included, as the attention mask
//! does), then L2-normalized.
//!
//! Files read from the model folder:
//! * `config.json`: the BERT hyper-parameters (`model_type` `bert`, absolute positions,
//!   `hidden_act` `gelu`);
//! * `model.safetensors`: float32 weights, names with or without a `bert.` prefix;
//! * `tokenizer.json`: the Hugging Face tokenizer;
//! * optional sentence-transformers files: `sentence_bert_config.json` (`max_seq_length`),
//!   `1_Pooling/config.json` (mean or CLS pooling), `modules.json` (whether a `Normalize`
//!   module follows).
//!
//! Documents are packed, not padded: every sequence of a batch is laid end to end, the dense
//! layers run over all their tokens at once and only attention works per sequence. The result
//! for one text does not depend on the other texts of its batch.

use crate::error::{EmbedError, Result};
use crate::kernels::{Mat, gelu, gemm, layer_norm, softmax};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use tokenizers::Tokenizer;

/// The hyper-parameters read from `config.json`.
#[derive(Clone, Debug, Deserialize)]
pub struct BertConfig {
    /// Width of the hidden states (384 for MiniLM-L6).
    pub hidden_size: usize,
    /// Transformer layers.
    pub num_hidden_layers: usize,
    /// Attention heads per layer.
    pub num_attention_heads: usize,
    /// Width of the feed-forward layer.
    pub intermediate_size: usize,
    /// Rows of the position embedding table (the longest sequence the model takes).
    pub max_position_embeddings: usize,
    /// Rows of the token-type table.
    #[serde(default = "two")]
    pub type_vocab_size: usize,
    /// Rows of the word embedding table.
    pub vocab_size: usize,
    /// LayerNorm epsilon.
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    /// Activation; only `gelu` (the erf form) is supported.
    #[serde(default = "default_act")]
    pub hidden_act: String,
    /// Only `absolute` is supported.
    #[serde(default = "default_pos")]
    pub position_embedding_type: String,
    /// `bert` (also accepted: other names whose weights follow BERT's layout).
    #[serde(default)]
    pub model_type: String,
}

fn two() -> usize {
    2
}
fn default_eps() -> f64 {
    1e-12
}
fn default_act() -> String {
    "gelu".into()
}
fn default_pos() -> String {
    "absolute".into()
}

/// How token states become one vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pooling {
    /// Mean over every token of the sequence (sentence-transformers' `pooling_mode_mean_tokens`).
    Mean,
    /// The first token (`[CLS]`).
    Cls,
}

/// Options of [`Encoder::load`]; `None` fields come from the model's own files.
#[derive(Clone, Debug, Default)]
pub struct EncoderOptions {
    /// Tokens per sequence, special tokens included (default: sentence-transformers'
    /// `max_seq_length`, else `max_position_embeddings`).
    pub max_length: Option<usize>,
    /// Pooling (default: `1_Pooling/config.json`, else mean).
    pub pooling: Option<Pooling>,
    /// L2-normalize the pooled vector (default: true; semantic methods assume unit vectors).
    pub normalize: Option<bool>,
}

struct Layer {
    qkv_w: Vec<f32>, // [3d, d]
    qkv_b: Vec<f32>, // [3d]
    out_w: Vec<f32>, // [d, d]
    out_b: Vec<f32>,
    ln1_g: Vec<f32>,
    ln1_b: Vec<f32>,
    inter_w: Vec<f32>, // [I, d]
    inter_b: Vec<f32>,
    down_w: Vec<f32>, // [d, I]
    down_b: Vec<f32>,
    ln2_g: Vec<f32>,
    ln2_b: Vec<f32>,
}

/// A tokenized text, ready for [`Encoder::embed_tokens`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tokens {
    /// Token ids, special tokens included, at most `max_length`.
    pub ids: Vec<u32>,
    /// Whether the text was longer than `max_length` tokens and was cut.
    pub truncated: bool,
}

/// A loaded sentence encoder. Immutable and `Sync`: share it between threads.
pub struct Encoder {
    cfg: BertConfig,
    dir: PathBuf,
    tokenizer: Tokenizer,
    max_length: usize,
    pooling: Pooling,
    normalize: bool,
    word: Vec<f32>,
    pos: Vec<f32>,
    type0: Vec<f32>,
    emb_ln_g: Vec<f32>,
    emb_ln_b: Vec<f32>,
    layers: Vec<Layer>,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("dir", &self.dir)
            .field("dim", &self.cfg.hidden_size)
            .field("layers", &self.cfg.num_hidden_layers)
            .field("max_length", &self.max_length)
            .field("pooling", &self.pooling)
            .field("normalize", &self.normalize)
            .finish()
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|e| EmbedError::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| EmbedError::model(path, e.to_string()))
}

impl Encoder {
    /// Loads a model folder; every mismatch between `config.json`, the weights and the
    /// tokenizer is an error naming the file and the tensor.
    pub fn load(dir: &Path, opts: &EncoderOptions) -> Result<Encoder> {
        let cfg_path = dir.join("config.json");
        if !cfg_path.is_file() {
            return Err(EmbedError::model(
                &cfg_path,
                "missing (a model folder holds config.json, model.safetensors and tokenizer.json)",
            ));
        }
        let cfg: BertConfig = read_json(&cfg_path)?;
        let bad = |m: String| Err(EmbedError::model(&cfg_path, m));
        if cfg.hidden_act != "gelu" {
            return bad(format!(
                "hidden_act {:?} is not supported (only \"gelu\")",
                cfg.hidden_act
            ));
        }
        if cfg.position_embedding_type != "absolute" {
            return bad(format!(
                "position_embedding_type {:?} is not supported (only \"absolute\")",
                cfg.position_embedding_type
            ));
        }
        if cfg.num_attention_heads == 0
            || cfg.hidden_size == 0
            || !cfg.hidden_size.is_multiple_of(cfg.num_attention_heads)
        {
            return bad(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                cfg.hidden_size, cfg.num_attention_heads
            ));
        }
        if cfg.type_vocab_size == 0 {
            return bad("type_vocab_size is 0".into());
        }

        let tok_path = dir.join("tokenizer.json");
        if !tok_path.is_file() {
            return Err(EmbedError::model(&tok_path, "missing"));
        }
        let mut tokenizer = Tokenizer::from_file(&tok_path)
            .map_err(|e| EmbedError::model(&tok_path, e.to_string()))?;
        let vocab = tokenizer.get_vocab_size(true);
        if vocab > cfg.vocab_size {
            return Err(EmbedError::model(
                &tok_path,
                format!(
                    "has {vocab} tokens but config.json's vocab_size is {}: tokenizer and model do not match",
                    cfg.vocab_size
                ),
            ));
        }

        let st_cfg = dir.join("sentence_bert_config.json");
        let st_max = if st_cfg.is_file() {
            #[derive(Deserialize)]
            struct St {
                max_seq_length: Option<usize>,
            }
            read_json::<St>(&st_cfg)?.max_seq_length
        } else {
            None
        };
        let max_length = opts
            .max_length
            .or(st_max)
            .unwrap_or(cfg.max_position_embeddings);
        if max_length < 2 || max_length > cfg.max_position_embeddings {
            return Err(EmbedError::Invalid(format!(
                "max_length {max_length} must be between 2 and the model's max_position_embeddings {}",
                cfg.max_position_embeddings
            )));
        }
        tokenizer
            .with_truncation(Some(tokenizers::TruncationParams {
                max_length,
                ..Default::default()
            }))
            .map_err(|e| EmbedError::model(&tok_path, e.to_string()))?;
        tokenizer.with_padding(None);

        let pool_path = dir.join("1_Pooling").join("config.json");
        let file_pooling = if pool_path.is_file() {
            #[derive(Deserialize)]
            struct P {
                #[serde(default)]
                pooling_mode_cls_token: bool,
                #[serde(default)]
                pooling_mode_mean_tokens: bool,
                #[serde(default)]
                pooling_mode_max_tokens: bool,
                #[serde(default)]
                pooling_mode_mean_sqrt_len_tokens: bool,
            }
            let p: P = read_json(&pool_path)?;
            match (
                p.pooling_mode_mean_tokens,
                p.pooling_mode_cls_token,
                p.pooling_mode_max_tokens || p.pooling_mode_mean_sqrt_len_tokens,
            ) {
                (true, false, false) => Some(Pooling::Mean),
                (false, true, false) => Some(Pooling::Cls),
                _ => {
                    return Err(EmbedError::model(
                        &pool_path,
                        "only one of pooling_mode_mean_tokens or pooling_mode_cls_token is supported",
                    ));
                }
            }
        } else {
            None
        };
        let pooling = opts.pooling.or(file_pooling).unwrap_or(Pooling::Mean);
        let normalize = opts.normalize.unwrap_or(true);

        let w_path = dir.join("model.safetensors");
        let bytes = std::fs::read(&w_path).map_err(|e| EmbedError::io(&w_path, e))?;
        let st = safetensors::SafeTensors::deserialize(&bytes)
            .map_err(|e| EmbedError::model(&w_path, e.to_string()))?;
        let names: Vec<String> = st.names().into_iter().map(String::from).collect();
        let prefix = if names.iter().any(|n| n.starts_with("bert.embeddings.")) {
            "bert."
        } else {
            ""
        };
        let get = |name: &str, shape: &[usize]| -> Result<Vec<f32>> {
            let full = format!("{prefix}{name}");
            let t = st
                .tensor(&full)
                .map_err(|_| EmbedError::model(&w_path, format!("tensor {full} is missing")))?;
            if t.dtype() != safetensors::Dtype::F32 {
                return Err(EmbedError::model(
                    &w_path,
                    format!(
                        "tensor {full} is {:?}; only F32 weights are supported",
                        t.dtype()
                    ),
                ));
            }
            if t.shape() != shape {
                return Err(EmbedError::model(
                    &w_path,
                    format!(
                        "tensor {full} has shape {:?} but config.json implies {shape:?}",
                        t.shape()
                    ),
                ));
            }
            Ok(t.data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect())
        };
        let d = cfg.hidden_size;
        let inter = cfg.intermediate_size;
        let word = get("embeddings.word_embeddings.weight", &[cfg.vocab_size, d])?;
        let pos = get(
            "embeddings.position_embeddings.weight",
            &[cfg.max_position_embeddings, d],
        )?;
        let mut type0 = get(
            "embeddings.token_type_embeddings.weight",
            &[cfg.type_vocab_size, d],
        )?;
        type0.truncate(d);
        let emb_ln_g = get("embeddings.LayerNorm.weight", &[d])?;
        let emb_ln_b = get("embeddings.LayerNorm.bias", &[d])?;
        let mut layers = Vec::with_capacity(cfg.num_hidden_layers);
        for l in 0..cfg.num_hidden_layers {
            let p = format!("encoder.layer.{l}.");
            let g = |n: &str, s: &[usize]| get(&format!("{p}{n}"), s);
            let mut qkv_w = g("attention.self.query.weight", &[d, d])?;
            qkv_w.extend(g("attention.self.key.weight", &[d, d])?);
            qkv_w.extend(g("attention.self.value.weight", &[d, d])?);
            let mut qkv_b = g("attention.self.query.bias", &[d])?;
            qkv_b.extend(g("attention.self.key.bias", &[d])?);
            qkv_b.extend(g("attention.self.value.bias", &[d])?);
            layers.push(Layer {
                qkv_w,
                qkv_b,
                out_w: g("attention.output.dense.weight", &[d, d])?,
                out_b: g("attention.output.dense.bias", &[d])?,
                ln1_g: g("attention.output.LayerNorm.weight", &[d])?,
                ln1_b: g("attention.output.LayerNorm.bias", &[d])?,
                inter_w: g("intermediate.dense.weight", &[inter, d])?,
                inter_b: g("intermediate.dense.bias", &[inter])?,
                down_w: g("output.dense.weight", &[d, inter])?,
                down_b: g("output.dense.bias", &[d])?,
                ln2_g: g("output.LayerNorm.weight", &[d])?,
                ln2_b: g("output.LayerNorm.bias", &[d])?,
            });
        }
        let extra = format!("{prefix}encoder.layer.{}.", cfg.num_hidden_layers);
        if names.iter().any(|n| n.starts_with(&extra)) {
            return Err(EmbedError::model(
                &w_path,
                format!(
                    "has more layers than config.json's num_hidden_layers {}",
                    cfg.num_hidden_layers
                ),
            ));
        }
        Ok(Encoder {
            cfg,
            dir: dir.to_path_buf(),
            tokenizer,
            max_length,
            pooling,
            normalize,
            word,
            pos,
            type0,
            emb_ln_g,
            emb_ln_b,
            layers,
        })
    }

    /// The embedding width.
    pub fn dim(&self) -> usize {
        self.cfg.hidden_size
    }

    /// The longest token sequence, special tokens included.
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// The model's hyper-parameters.
    pub fn config(&self) -> &BertConfig {
        &self.cfg
    }

    /// The pooling in use.
    pub fn pooling(&self) -> Pooling {
        self.pooling
    }

    /// Whether vectors are L2-normalized.
    pub fn normalizes(&self) -> bool {
        self.normalize
    }

    /// Tokenizes one text as sentence-transformers does (leading and trailing whitespace
    /// stripped, special tokens added, cut at `max_length` tokens).
    pub fn tokenize(&self, text: &str) -> Result<Tokens> {
        let text = text.trim();
        let tok_err = |e: tokenizers::Error| EmbedError::Tokenize {
            path: self.dir.join("tokenizer.json"),
            message: e.to_string(),
        };
        // A long text is tokenized from a prefix cut at whitespace: BERT's pre-tokenizer
        // splits there, so the prefix's tokens are the text's first tokens. If the prefix
        // does not fill max_length, the whole text is tokenized.
        let budget = self.max_length * 64;
        if text.len() > budget {
            let mut cut = budget;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            if let Some(ws) = text[..cut].rfind(char::is_whitespace) {
                let enc = self.tokenizer.encode(&text[..ws], true).map_err(tok_err)?;
                if !enc.get_overflowing().is_empty() {
                    return Ok(Tokens {
                        ids: enc.get_ids().to_vec(),
                        truncated: true,
                    });
                }
            }
        }
        let enc = self.tokenizer.encode(text, true).map_err(tok_err)?;
        let ids = enc.get_ids().to_vec();
        if let Some(&bad) = ids.iter().find(|&&i| i as usize >= self.cfg.vocab_size) {
            return Err(EmbedError::model(
                self.dir.join("tokenizer.json"),
                format!("token id {bad} is outside the model's vocabulary"),
            ));
        }
        Ok(Tokens {
            truncated: !enc.get_overflowing().is_empty(),
            ids,
        })
    }

    /// Embeds tokenized sequences (each non-empty, at most `max_length` long), writing
    /// `dim()` floats per sequence into `out`, in order.
    ///
    /// # Panics
    /// If a sequence is empty or too long, or `out` is not `seqs.len() * dim()` long.
    pub fn embed_tokens(&self, seqs: &[&[u32]], out: &mut [f32]) {
        let d = self.cfg.hidden_size;
        assert_eq!(out.len(), seqs.len() * d, "output length");
        let total: usize = seqs.iter().map(|s| s.len()).sum();
        for s in seqs {
            assert!(
                !s.is_empty() && s.len() <= self.max_length,
                "sequence length"
            );
        }
        let heads = self.cfg.num_attention_heads;
        let dh = d / heads;
        let inter = self.cfg.intermediate_size;
        let eps = self.cfg.layer_norm_eps as f32;
        let longest = seqs.iter().map(|s| s.len()).max().unwrap_or(0);

        // Embeddings.
        let mut h = vec![0f32; total * d];
        let mut t = 0;
        for s in seqs {
            for (p, &id) in s.iter().enumerate() {
                let row = &mut h[t * d..(t + 1) * d];
                let w = &self.word[id as usize * d..(id as usize + 1) * d];
                let pe = &self.pos[p * d..(p + 1) * d];
                for j in 0..d {
                    row[j] = w[j] + pe[j] + self.type0[j];
                }
                t += 1;
            }
        }
        layer_norm(&mut h, &self.emb_ln_g, &self.emb_ln_b, eps);

        let mut qkv = vec![0f32; total * 3 * d];
        let mut ctx = vec![0f32; total * d];
        let mut tmp = vec![0f32; total * d];
        let mut mid = vec![0f32; total * inter];
        let mut scores = vec![0f32; longest * longest];
        let scale = 1.0 / (dh as f32).sqrt();
        for layer in &self.layers {
            // qkv = h Wqkv^T + b
            fill_rows(&mut qkv, &layer.qkv_b);
            gemm(
                1.0,
                Mat::rows(&h, total, d, d),
                Mat::rows(&layer.qkv_w, 3 * d, d, d).t(),
                1.0,
                &mut qkv,
                3 * d,
            );
            // Attention, per sequence and head.
            let mut off = 0;
            for s in seqs {
                let l = s.len();
                let base = off * 3 * d;
                for hd in 0..heads {
                    let q = Mat::rows(&qkv[base + hd * dh..], l, dh, 3 * d);
                    let k = Mat::rows(&qkv[base + d + hd * dh..], l, dh, 3 * d);
                    let v = Mat::rows(&qkv[base + 2 * d + hd * dh..], l, dh, 3 * d);
                    let sc = &mut scores[..l * l];
                    gemm(scale, q, k.t(), 0.0, sc, l);
                    for row in sc.chunks_exact_mut(l) {
                        softmax(row);
                    }
                    gemm(
                        1.0,
                        Mat::rows(sc, l, l, l),
                        v,
                        0.0,
                        &mut ctx[off * d + hd * dh..],
                        d,
                    );
                }
                off += l;
            }
            // Output projection, residual, LayerNorm.
            fill_rows(&mut tmp, &layer.out_b);
            gemm(
                1.0,
                Mat::rows(&ctx, total, d, d),
                Mat::rows(&layer.out_w, d, d, d).t(),
                1.0,
                &mut tmp,
                d,
            );
            for (a, b) in h.iter_mut().zip(&tmp) {
                *a += b;
            }
            layer_norm(&mut h, &layer.ln1_g, &layer.ln1_b, eps);
            // Feed-forward.
            fill_rows(&mut mid, &layer.inter_b);
            gemm(
                1.0,
                Mat::rows(&h, total, d, d),
                Mat::rows(&layer.inter_w, inter, d, d).t(),
                1.0,
                &mut mid,
                inter,
            );
            gelu(&mut mid);
            fill_rows(&mut tmp, &layer.down_b);
            gemm(
                1.0,
                Mat::rows(&mid, total, inter, inter),
                Mat::rows(&layer.down_w, d, inter, inter).t(),
                1.0,
                &mut tmp,
                d,
            );
            for (a, b) in h.iter_mut().zip(&tmp) {
                *a += b;
            }
            layer_norm(&mut h, &layer.ln2_g, &layer.ln2_b, eps);
        }

        // Pooling and normalization.
        let mut off = 0;
        for (s, o) in seqs.iter().zip(out.chunks_exact_mut(d)) {
            let l = s.len();
            match self.pooling {
                Pooling::Cls => o.copy_from_slice(&h[off * d..(off + 1) * d]),
                Pooling::Mean => {
                    o.fill(0.0);
                    for row in h[off * d..(off + l) * d].chunks_exact(d) {
                        for (a, b) in o.iter_mut().zip(row) {
                            *a += b;
                        }
                    }
                    let inv = 1.0 / l as f32;
                    o.iter_mut().for_each(|x| *x *= inv);
                }
            }
            if self.normalize {
                normalize(o);
            }
            off += l;
        }
    }

    /// Embeds texts: tokenizes each, then runs batches of about `batch_tokens` tokens,
    /// longest texts first. Returns one row of `dim()` floats per text, in input order, and
    /// the tokenization of each text.
    pub fn embed(&self, texts: &[&str], batch_tokens: usize) -> Result<(Vec<f32>, Vec<Tokens>)> {
        let d = self.dim();
        let toks = texts
            .iter()
            .map(|t| self.tokenize(t))
            .collect::<Result<Vec<_>>>()?;
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(toks[i].ids.len()));
        let mut out = vec![0f32; texts.len() * d];
        let mut buf = Vec::new();
        let mut i = 0;
        while i < order.len() {
            let mut j = i;
            let mut n = 0;
            while j < order.len() && (j == i || n + toks[order[j]].ids.len() <= batch_tokens) {
                n += toks[order[j]].ids.len();
                j += 1;
            }
            let seqs: Vec<&[u32]> = order[i..j].iter().map(|&k| &toks[k].ids[..]).collect();
            buf.resize(seqs.len() * d, 0.0);
            self.embed_tokens(&seqs, &mut buf);
            for (r, &k) in order[i..j].iter().enumerate() {
                out[k * d..(k + 1) * d].copy_from_slice(&buf[r * d..(r + 1) * d]);
            }
            i = j;
        }
        Ok((out, toks))
    }
}

/// Fills every row of `m` with `row` (a bias, before a `beta = 1` GEMM).
fn fill_rows(m: &mut [f32], row: &[f32]) {
    for r in m.chunks_exact_mut(row.len()) {
        r.copy_from_slice(row);
    }
}

/// Scales `v` to L2 norm 1 (as `torch.nn.functional.normalize`: a zero vector stays zero).
pub fn normalize(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let inv = 1.0 / n.max(1e-12);
    v.iter_mut().for_each(|x| *x *= inv);
}
