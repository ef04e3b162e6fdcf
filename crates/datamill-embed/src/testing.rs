//! Test support shared by this crate's tests and the semantic stages' tests: where the
//! all-MiniLM-L6-v2 folder is, the skip-or-fail rule for a missing model, and a tiny synthetic
//! BERT written on the fly for tests that need a model but not a download.

use std::path::{Path, PathBuf};

/// The shipped samples' MiniLM embeddings (sentence-transformers 6.2.0, stored as float16 in
/// this crate's `tests/golden/minilm_samples.npy`): values, rows, dim.
pub fn samples_matrix() -> (Vec<f32>, usize, usize) {
    read_f16_npy(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/minilm_samples.npy"))
}

/// Whether missing external inputs are failures (`DATAMILL_REQUIRE_MODELS=1`, as CI sets).
pub fn required() -> bool {
    std::env::var("DATAMILL_REQUIRE_MODELS").is_ok_and(|v| v == "1")
}

/// The all-MiniLM-L6-v2 folder: `$DATAMILL_MINILM` or `<repo>/target/models/all-MiniLM-L6-v2`
/// (where `crates/datamill-embed/fetch-minilm.sh` puts it). `None` after a loud skip banner
/// when it is absent.
///
/// # Panics
/// When it is absent and [`required`].
pub fn minilm() -> Option<PathBuf> {
    let p = std::env::var_os("DATAMILL_MINILM")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/models/all-MiniLM-L6-v2")
        });
    if p.join("model.safetensors").is_file() {
        return Some(p);
    }
    let msg = format!("all-MiniLM-L6-v2 not found at {}", p.display());
    assert!(!required(), "DATAMILL_REQUIRE_MODELS=1 but {msg}");
    let bang = "!".repeat(72);
    let banner = format!(
        "\n{bang}\n!!! SKIPPED: {msg}\n!!! run crates/datamill-embed/fetch-minilm.sh or set \
         DATAMILL_MINILM; DATAMILL_REQUIRE_MODELS=1 makes this a failure\n{bang}\n\n"
    );
    let _ = std::io::Write::write_all(&mut std::io::stderr(), banner.as_bytes());
    None
}

/// A WordPiece tokenizer.json over 13 tokens (`[PAD] [UNK] [CLS] [SEP] the cat sat on mat a
/// dog . ##s`).
pub const TINY_TOKENIZER: &str = r###"{"version":"1.0","truncation":null,"padding":null,
"added_tokens":[
 {"id":0,"content":"[PAD]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
 {"id":1,"content":"[UNK]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
 {"id":2,"content":"[CLS]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
 {"id":3,"content":"[SEP]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],
"normalizer":{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true},
"pre_tokenizer":{"type":"BertPreTokenizer"},
"post_processor":{"type":"TemplateProcessing",
 "single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}}],
 "pair":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}},{"Sequence":{"id":"B","type_id":1}},{"SpecialToken":{"id":"[SEP]","type_id":1}}],
 "special_tokens":{"[CLS]":{"id":"[CLS]","ids":[2],"tokens":["[CLS]"]},"[SEP]":{"id":"[SEP]","ids":[3],"tokens":["[SEP]"]}}},
"decoder":null,
"model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100,
 "vocab":{"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3,"the":4,"cat":5,"sat":6,"on":7,"mat":8,"a":9,"dog":10,".":11,"##s":12}}}"###;

/// Vocabulary of the tiny model.
pub const VOCAB: usize = 13;
/// Width of the tiny model.
pub const D: usize = 8;
/// Feed-forward width of the tiny model.
pub const INTER: usize = 16;
/// Longest sequence of the tiny model.
pub const MAX_POS: usize = 16;

/// A tiny BERT `config.json` (2 layers, 2 heads).
pub fn tiny_config(hidden: usize, vocab: usize, act: &str) -> String {
    format!(
        r#"{{"model_type":"bert","hidden_size":{hidden},"num_hidden_layers":2,"num_attention_heads":2,
        "intermediate_size":{INTER},"max_position_embeddings":{MAX_POS},"type_vocab_size":2,
        "vocab_size":{vocab},"layer_norm_eps":1e-12,"hidden_act":"{act}"}}"#
    )
}

/// Deterministic pseudo-random float32 weights of the tiny BERT with `layers` layers.
pub fn tiny_weights(layers: usize) -> Vec<u8> {
    let mut tensors: Vec<(String, Vec<usize>)> = vec![
        ("embeddings.word_embeddings.weight".into(), vec![VOCAB, D]),
        (
            "embeddings.position_embeddings.weight".into(),
            vec![MAX_POS, D],
        ),
        ("embeddings.token_type_embeddings.weight".into(), vec![2, D]),
        ("embeddings.LayerNorm.weight".into(), vec![D]),
        ("embeddings.LayerNorm.bias".into(), vec![D]),
    ];
    for l in 0..layers {
        for (n, s) in [
            ("attention.self.query.weight", vec![D, D]),
            ("attention.self.query.bias", vec![D]),
            ("attention.self.key.weight", vec![D, D]),
            ("attention.self.key.bias", vec![D]),
            ("attention.self.value.weight", vec![D, D]),
            ("attention.self.value.bias", vec![D]),
            ("attention.output.dense.weight", vec![D, D]),
            ("attention.output.dense.bias", vec![D]),
            ("attention.output.LayerNorm.weight", vec![D]),
            ("attention.output.LayerNorm.bias", vec![D]),
            ("intermediate.dense.weight", vec![INTER, D]),
            ("intermediate.dense.bias", vec![INTER]),
            ("output.dense.weight", vec![D, INTER]),
            ("output.dense.bias", vec![D]),
            ("output.LayerNorm.weight", vec![D]),
            ("output.LayerNorm.bias", vec![D]),
        ] {
            tensors.push((format!("encoder.layer.{l}.{n}"), s));
        }
    }
    let data: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .into_iter()
        .enumerate()
        .map(|(t, (name, shape))| {
            let n: usize = shape.iter().product();
            let bytes = (0..n)
                .flat_map(|i| {
                    let x = ((i * 7919 + t * 104_729) as f32 * 0.618).sin() * 0.5;
                    let x = if name.contains("LayerNorm.weight") {
                        1.0 + x * 0.2
                    } else {
                        x
                    };
                    x.to_le_bytes()
                })
                .collect();
            (name, shape, bytes)
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = data
        .iter()
        .map(|(n, s, b)| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b)
                    .unwrap(),
            )
        })
        .collect();
    safetensors::tensor::serialize(views, None).unwrap()
}

/// Writes a tiny BERT (config.json, model.safetensors, tokenizer.json) into `dir`, for
/// tests that need a model but not a download.
pub fn write_tiny_model(dir: &Path) {
    std::fs::write(dir.join("config.json"), tiny_config(D, VOCAB, "gelu")).unwrap();
    std::fs::write(dir.join("tokenizer.json"), TINY_TOKENIZER).unwrap();
    std::fs::write(dir.join("model.safetensors"), tiny_weights(2)).unwrap();
}

/// A float16 `.npy` matrix (as the embedding goldens are stored) as f32 rows: values, rows,
/// columns.
///
/// # Panics
/// If the file is missing or not a 2-D float16 `.npy`.
pub fn read_f16_npy(path: &Path) -> (Vec<f32>, usize, usize) {
    let raw = std::fs::read(path).unwrap();
    assert_eq!(&raw[..6], b"\x93NUMPY");
    let hlen = u16::from_le_bytes([raw[8], raw[9]]) as usize;
    let header = std::str::from_utf8(&raw[10..10 + hlen]).unwrap();
    assert!(header.contains("'<f2'"), "{header}");
    let shape = &header[header.find("'shape': (").unwrap() + 10..];
    let shape = &shape[..shape.find(')').unwrap()];
    let dims: Vec<usize> = shape
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    let data = &raw[10 + hlen..];
    assert_eq!(data.len(), dims[0] * dims[1] * 2);
    let v = data
        .chunks_exact(2)
        .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
        .collect();
    (v, dims[0], dims[1])
}

/// IEEE half to single precision.
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let frac = (h & 0x3ff) as f32;
    match exp {
        0 => sign * frac * 2f32.powi(-24),
        31 => f32::NAN,
        e => sign * (1.0 + frac / 1024.0) * 2f32.powi(e - 15),
    }
}
