//! The encoder on a tiny synthetic BERT (written by the test; no download): batch
//! invariance, truncation, and every model-file mismatch as a clear error.

use datamill_embed::testing::{
    D, MAX_POS, VOCAB, tiny_config as config, tiny_weights as weights,
    write_tiny_model as write_model,
};
use datamill_embed::{EmbedError, Encoder, EncoderOptions};
use std::path::Path;

fn load(dir: &Path) -> Result<Encoder, EmbedError> {
    Encoder::load(dir, &EncoderOptions::default())
}

#[test]
fn batches_do_not_change_a_documents_vector() {
    let dir = tempfile::tempdir().unwrap();
    write_model(dir.path());
    let enc = load(dir.path()).unwrap();
    assert_eq!((enc.dim(), enc.max_length()), (D, MAX_POS));
    let texts = [
        "the cat sat on the mat.",
        "a dog",
        "cats",
        "the dog sat on a cat . the end",
        "",
    ];
    let (batched, toks) = enc.embed(&texts, 1000).unwrap();
    for (i, t) in texts.iter().enumerate() {
        let (one, _) = enc.embed(&[t], 1000).unwrap();
        assert_eq!(&batched[i * D..(i + 1) * D], &one[..], "text {i}");
        let norm: f32 = one.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "text {i}: norm {norm}");
    }
    // Small token budgets cut the same texts into several batches: same vectors.
    let (small, _) = enc.embed(&texts, 3).unwrap();
    assert_eq!(batched, small);
    assert_eq!(toks[2].ids, vec![2, 5, 12, 3], "cats = cat ##s");
    assert_eq!(toks[4].ids, vec![2, 3], "empty text = [CLS] [SEP]");
    assert_eq!(
        toks[3].ids.iter().filter(|&&i| i == 1).count(),
        1,
        "'end' is [UNK]"
    );
    // Different texts give different vectors.
    assert_ne!(&batched[..D], &batched[D..2 * D]);
}

#[test]
fn long_texts_are_truncated_and_flagged() {
    let dir = tempfile::tempdir().unwrap();
    write_model(dir.path());
    let enc = Encoder::load(
        dir.path(),
        &EncoderOptions {
            max_length: Some(6),
            ..Default::default()
        },
    )
    .unwrap();
    let t = enc.tokenize("the cat sat on the mat").unwrap();
    assert_eq!(t.ids, vec![2, 4, 5, 6, 7, 3]);
    assert!(t.truncated);
    let t = enc.tokenize("  the cat sat on  ").unwrap();
    assert_eq!(t.ids, vec![2, 4, 5, 6, 7, 3]);
    assert!(!t.truncated);
    // A very long text is tokenized from a prefix: same first tokens, flagged.
    let long = "the cat sat on the mat. ".repeat(2000);
    let t = enc.tokenize(&long).unwrap();
    assert_eq!(t.ids, vec![2, 4, 5, 6, 7, 3]);
    assert!(t.truncated);
    let e = Encoder::load(
        dir.path(),
        &EncoderOptions {
            max_length: Some(MAX_POS + 1),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("max_position_embeddings 16"), "{e}");
}

#[test]
fn mismatched_model_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    write_model(p);
    let err = |p: &Path| load(p).unwrap_err().to_string();

    std::fs::write(p.join("config.json"), config(12, VOCAB, "gelu")).unwrap();
    let e = err(p);
    assert!(
        e.contains("model.safetensors")
            && e.contains("embeddings.word_embeddings.weight")
            && e.contains("[13, 8]")
            && e.contains("[13, 12]"),
        "{e}"
    );

    std::fs::write(p.join("config.json"), config(D, 10, "gelu")).unwrap();
    let e = err(p);
    assert!(
        e.contains("tokenizer.json") && e.contains("vocab_size is 10"),
        "{e}"
    );

    std::fs::write(p.join("config.json"), config(D, VOCAB, "relu")).unwrap();
    let e = err(p);
    assert!(e.contains("config.json") && e.contains("relu"), "{e}");

    std::fs::write(p.join("config.json"), "{not json").unwrap();
    assert!(err(p).contains("config.json"));

    std::fs::write(p.join("config.json"), config(D, VOCAB, "gelu")).unwrap();
    std::fs::write(p.join("model.safetensors"), weights(1)).unwrap();
    let e = err(p);
    assert!(
        e.contains("encoder.layer.1.") && e.contains("missing"),
        "{e}"
    );

    std::fs::write(p.join("model.safetensors"), b"garbage").unwrap();
    assert!(err(p).contains("model.safetensors"));

    std::fs::write(p.join("model.safetensors"), weights(2)).unwrap();
    std::fs::remove_file(p.join("tokenizer.json")).unwrap();
    let e = err(p);
    assert!(e.contains("tokenizer.json") && e.contains("missing"), "{e}");

    std::fs::remove_file(p.join("config.json")).unwrap();
    let e = err(p);
    assert!(e.contains("config.json") && e.contains("missing"), "{e}");
}

#[test]
fn deeper_weights_than_the_config_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_model(dir.path());
    std::fs::write(dir.path().join("model.safetensors"), weights(3)).unwrap();
    let e = load(dir.path()).unwrap_err().to_string();
    assert!(e.contains("more layers"), "{e}");
}
