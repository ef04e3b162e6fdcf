//! Bad input never panics: missing files, foreign files, wrong versions, truncated and
//! corrupted models all give a descriptive error naming the file.

mod common;

use datamill_fasttext::{Error, FastText, FormatError};

const MODELS: [&str; 10] = [
    "sm", "hs", "ova", "sm_ng2", "ns", "lang", "sm_q", "hs_q", "ova_q", "lang_q",
];

#[test]
fn missing_file_is_an_io_error_naming_the_file() {
    let err = FastText::load("/nonexistent/dir/model.ftz").unwrap_err();
    assert!(matches!(err, Error::Io { .. }));
    let msg = err.to_string();
    assert!(msg.contains("/nonexistent/dir/model.ftz"), "{msg}");
}

#[test]
fn foreign_file_is_rejected_by_magic() {
    let path = common::crate_dir().join("Cargo.toml");
    let err = FastText::load(&path).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("Cargo.toml") && msg.contains("not a fastText"),
        "{msg}"
    );
    assert!(matches!(
        err,
        Error::Format {
            kind: FormatError::BadMagic { .. },
            ..
        }
    ));
    // empty and tiny inputs
    for bytes in [&b""[..], b"\xba", b"\xba\x16\x4f\x2f"] {
        let err = FastText::from_bytes(bytes).unwrap_err();
        assert!(err.to_string().contains("<memory>"), "{err}");
    }
}

#[test]
fn wrong_version_is_rejected() {
    let mut bytes = std::fs::read(common::small_model("sm")).unwrap();
    bytes[4..8].copy_from_slice(&13i32.to_le_bytes());
    let err = FastText::from_bytes_named(&bytes, "v13.bin").unwrap_err();
    assert!(matches!(
        err,
        Error::Format {
            kind: FormatError::UnsupportedVersion { found: 13 },
            ..
        }
    ));
    assert!(err.to_string().contains("v13.bin"), "{err}");
}

#[test]
fn version_11_supervised_models_ignore_char_ngrams() {
    // fastText forces maxn = 0 for version-11 supervised models; such a file still loads.
    let mut bytes = std::fs::read(common::small_model("sm")).unwrap();
    bytes[4..8].copy_from_slice(&11i32.to_le_bytes());
    let m = FastText::from_bytes(&bytes).unwrap();
    assert_eq!(m.args().maxn, 0);
    assert!(!m.predict("python module", 1, 0.0).is_empty());
}

/// Offsets at which to cut `len` bytes: every offset in the first 2 KiB, then ~120 spread out.
fn cut_points(len: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..len.min(2048)).collect();
    let step = (len / 120).max(1);
    v.extend((2048..len).step_by(step));
    v.extend([
        len.saturating_sub(1),
        len.saturating_sub(4),
        len.saturating_sub(5),
    ]);
    v.sort_unstable();
    v.dedup();
    v.retain(|&c| c < len);
    v
}

#[test]
fn truncated_models_error_at_every_offset() {
    for name in MODELS {
        let path = common::small_model(name);
        let bytes = std::fs::read(&path).unwrap();
        assert!(FastText::from_bytes(&bytes).is_ok());
        let cuts = cut_points(bytes.len());
        for &cut in &cuts {
            let err = FastText::from_bytes_named(&bytes[..cut], &path)
                .expect_err(&format!("{name} truncated at {cut} loaded"));
            let msg = err.to_string();
            assert!(msg.contains(&*path.to_string_lossy()), "{msg}");
            assert!(
                matches!(
                    err,
                    Error::Format {
                        kind: FormatError::Truncated { .. } | FormatError::BadMagic { .. },
                        ..
                    }
                ),
                "{name} cut at {cut}: {msg}"
            );
        }
        println!("{name}: {} truncation points, all rejected", cuts.len());
    }
}

#[test]
fn truncated_lid176_errors() {
    let Some(path) = common::lid176() else { return };
    let bytes = std::fs::read(&path).unwrap();
    let mut cuts = cut_points(bytes.len());
    cuts.retain(|c| c % 7 == 0 || *c > bytes.len() - 8);
    for cut in cuts {
        let err = FastText::from_bytes_named(&bytes[..cut], &path).unwrap_err();
        assert!(err.to_string().contains("lid.176.ftz"), "{err}");
    }
}

/// Tiny deterministic PRNG (xorshift64*), so the corruption test needs no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[test]
fn corrupted_models_never_panic() {
    let texts = [
        "",
        "python perl library",
        "é 日本 </s> x",
        "a b c d e f g h i j k l m n o p",
    ];
    let mut rng = Rng(0x5eed);
    let mut loaded = 0;
    let mut rejected = 0;
    for name in ["sm_q", "ova_q", "lang_q", "hs_q", "sm_ng2"] {
        let orig = std::fs::read(common::small_model(name)).unwrap();
        for round in 0..150 {
            let mut bytes = orig.clone();
            // Concentrate on the header and dictionary, where values drive allocation and indexing.
            let span = if round % 2 == 0 {
                orig.len().min(4096)
            } else {
                orig.len()
            };
            for _ in 0..1 + rng.next() % 4 {
                let pos = (rng.next() % span as u64) as usize;
                bytes[pos] = match rng.next() % 4 {
                    0 => 0xff,
                    1 => 0,
                    2 => bytes[pos] ^ 0x80,
                    _ => rng.next() as u8,
                };
            }
            match FastText::from_bytes(&bytes) {
                Ok(m) => {
                    loaded += 1;
                    for t in texts {
                        let _ = m.predict(t, 5, 0.0);
                        let _ = m.predict(t, usize::MAX, 0.0);
                        let _ = m.sentence_vector(t);
                    }
                }
                Err(e) => {
                    rejected += 1;
                    assert!(!e.to_string().is_empty());
                }
            }
        }
    }
    println!("corruption: {loaded} corrupted models loaded and predicted, {rejected} rejected");
}

#[test]
fn odd_inputs_do_not_panic() {
    for name in MODELS {
        let m = FastText::load(common::small_model(name)).unwrap();
        let long = "x".repeat(100_000);
        let many = "word ".repeat(20_000);
        for t in ["", " ", "\n\n", "\0", "</s>", "__label__libs", &long, &many] {
            let _ = m.predict(t, 3, 0.0);
            let _ = m.sentence_vector(t);
        }
        let _ = m.predict_bytes(b"\xff\xfe invalid \xc3 utf8 \x80\x80", 3, 0.0);
        assert!(m.predict("python", 0, 0.0).is_empty());
        assert!(m.predict("python", 5, 1.5).is_empty());
        let all = m.predict("python library", usize::MAX, 0.0);
        assert!(!all.is_empty());
        assert!(all.windows(2).all(|w| w[0].1 >= w[1].1));
    }
}

#[test]
fn newlines_are_spaces() {
    let m = FastText::load(common::small_model("sm")).unwrap();
    assert_eq!(
        m.predict("perl module\nfor parsing\r\nhtml", 3, 0.0),
        m.predict("perl module for parsing  html", 3, 0.0)
    );
}
