//! Khmer word and sentence segmentation as datatrove 0.10.1's `KhmerTokenizer` does it with
//! khmer-nltk 1.6 (`khm`, `khm_Khmr`, `km`, `km_Khmr`, `cmo_Khmr`).
//!
//! * Words: `word_tokenize(text, return_tokens=True)`, stripped, empty ones dropped. khmer-nltk
//!   cleans the text (`cleanup_str`: strips, `"  "` → `" "`, wraps spaces in U+200B, its 195
//!   `mistokenized_dict` corrections in order, drops U+2028, U+200A and newlines), cuts it into
//!   Khmer character clusters (`seg_kcc`), labels each cluster with a CRF over cluster n-grams and
//!   types in a ±3 window (`kcc_to_features`; python-crfsuite turns a string feature `k: v` into
//!   the attribute `k:v` and a boolean into `k` with weight 1 or 0) and starts a word at each
//!   cluster labelled `1`. Words are built from the cleaned text, so they are owned strings.
//! * Sentences: `sentence_tokenize(text)` = `re.split("(?<=[SEPARATORS])\s*", text)` without a
//!   final empty piece, then datatrove's `strip_strings` and `simple_span_tokenize`.
//!
//! **Data** (not committed, ~18 MB): the CRFsuite model inside khmer-nltk's pickled
//! `sklearn_crf_ner_10000.sav` and its correction table, written by
//! `crates/datamill-filters/fetch-khmernltk.sh` into `target/models/khmernltk/`; looked up as
//! the other tokenizers' data ([`crate::data::dirs`]).

use std::path::Path;
use std::sync::OnceLock;

use crate::pystr;

/// khmer-nltk 1.6's word CRF and corrections.
pub struct Khmer {
    tagger: crfs::Tagger<'static>,
    /// `mistokenized_dict`, in order.
    corrections: Vec<(String, String)>,
}

impl std::fmt::Debug for Khmer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Khmer")
            .field("corrections", &self.corrections.len())
            .finish_non_exhaustive()
    }
}

/// The shared tokenizer, loaded on first use from the first of
/// [`crate::data::dirs`]`("khmernltk")` that holds the data; `Err` says where it looked and how
/// to fetch it.
pub fn shared() -> Result<&'static Khmer, String> {
    static K: OnceLock<Result<Khmer, String>> = OnceLock::new();
    K.get_or_init(|| {
        let dirs = crate::data::dirs("khmernltk");
        match dirs.iter().find(|d| d.join("word_crf.crfsuite").is_file()) {
            Some(d) => Khmer::load(d),
            None => Err(format!(
                "khmer-nltk 1.6's model is not installed: run \
                 crates/datamill-filters/fetch-khmernltk.sh DIR/khmernltk and set \
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

/// `SEPARATOR`.
const SEP: char = '\u{200b}';

fn in_set(c: char, set: &str) -> bool {
    set.contains(c)
}
const KHCONST: &str = "កខគឃងចឆជឈញដឋឌឍណតថទធនបផពភមយរលវឝឞសហឡអឣឤឥឦឧឨឩឪឫឬឭឮឯឰឱឲឳ";
const KHVOWEL: &str = "឴឵ាិីឹឺុូួើឿៀេែៃោៅ\u{17c6}\u{17c7}\u{17c8}";
const KHSUB: &str = "្";
const KHDIAC: &str = "\u{17c9}\u{17ca}\u{17cb}\u{17cc}\u{17cd}\u{17ce}\u{17cf}\u{17d0}";
const KHSYM: &str = "៕។៛ៗ៚៙៘,.? ";
const KHNUMBER: &str = "០១២៣៤៥៦៧៨៩0123456789";
const EN: &str = "abcdefghijklmnopqrstuvwxyz0123456789";
/// khmer-nltk's `SENTENCE_SEPARATOR` as a character class (its `"◌៓"` entry puts ◌ and ៓ in).
const SENT_SEP: &str = "◌៓។៕៖ៗ៘៙៚៛ៜ៝?!";

fn is_khmer_char(c: char) -> bool {
    ('\u{1780}'..='\u{17ff}').contains(&c)
        || in_set(c, KHSYM)
        || ('\u{19e0}'..='\u{19ff}').contains(&c)
}

fn is_start_of_kcc(c: char) -> bool {
    if is_khmer_char(c) {
        in_set(c, KHCONST)
            || in_set(c, KHSYM)
            || in_set(c, KHNUMBER)
            || ('\u{19e0}'..='\u{19ff}').contains(&c)
    } else {
        true
    }
}

/// `get_type(char)`.
fn get_type(c: char) -> &'static str {
    let lower = pystr::lower(c.encode_utf8(&mut [0; 4]));
    let mut l = lower.chars();
    if let (Some(x), None) = (l.next(), l.next())
        && in_set(x, EN)
    {
        return "NS";
    }
    if in_set(c, KHCONST) {
        "C"
    } else if in_set(c, KHVOWEL) {
        "W"
    } else if in_set(c, KHNUMBER) {
        "NS"
    } else if in_set(c, KHSUB) {
        "S"
    } else if in_set(c, KHDIAC) {
        "D"
    } else {
        "NS"
    }
}

impl Khmer {
    /// Loads `word_crf.crfsuite` and `corrections.json` from `dir` (as written by
    /// `fetch-khmernltk.sh`).
    pub fn load(dir: &Path) -> Result<Khmer, String> {
        let path = dir.join("word_crf.crfsuite");
        let bytes = std::fs::read(&path)
            .map_err(|e| format!("khmer-nltk model {}: {e}", path.display()))?;
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        let model: &'static crfs::Model<'static> =
            Box::leak(Box::new(crfs::Model::new(bytes).map_err(|e| {
                format!("{}: not a CRFsuite model: {e}", path.display())
            })?));
        let tagger = model
            .tagger()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let cpath = dir.join("corrections.json");
        let corrections: Vec<(String, String)> = std::fs::read(&cpath)
            .map_err(|e| format!("khmer-nltk data {}: {e}", cpath.display()))
            .and_then(|b| {
                serde_json::from_slice(&b).map_err(|e| format!("{}: {e}", cpath.display()))
            })?;
        Ok(Khmer {
            tagger,
            corrections,
        })
    }

    /// `cleanup_str(text)`.
    fn cleanup(&self, text: &str) -> String {
        let t = pystr::strip(text.trim_matches(SEP));
        let mut t = t.replace("  ", " ").replace(' ', "\u{200b} \u{200b}");
        t = t.replace("\u{200b}\u{200b}", "\u{200b}");
        t = t.replace("\u{200b}\u{200b}", "\u{200b}");
        for (from, to) in &self.corrections {
            if t.contains(from.as_str()) {
                t = t.replace(from.as_str(), to);
            }
        }
        let t = t.replace(['\u{2028}', '\u{200a}'], "");
        pystr::strip(&t).replace('\n', "").replace("  ", " ")
    }

    /// datatrove's `KhmerTokenizer.word_tokenize(text)`.
    pub fn words(&self, text: &str) -> Vec<String> {
        let clean = self.cleanup(text);
        let kccs = seg_kcc(&clean);
        if kccs.is_empty() {
            return Vec::new();
        }
        let feats: Vec<Vec<crfs::Attribute>> =
            (0..kccs.len()).map(|i| kcc_features(&kccs, i)).collect();
        let labels = self
            .tagger
            .tag(&feats)
            .expect("the CRF model's features are well formed");
        let mut tokens: Vec<String> = Vec::new();
        for (i, (k, l)) in kccs.iter().zip(labels).enumerate() {
            match tokens.last_mut() {
                Some(last) if !(l == "1" || i == 0) => last.push_str(k),
                _ => tokens.push((*k).to_string()),
            }
        }
        tokens
            .into_iter()
            .filter_map(|t| {
                let s = pystr::strip(&t);
                (!s.is_empty()).then(|| s.to_string())
            })
            .collect()
    }

    /// datatrove's `KhmerTokenizer.sent_tokenize(text)`: khmer-nltk's `sentence_tokenize`,
    /// stripped, empty pieces dropped.
    pub fn sent_tokenize<'t>(&self, text: &'t str) -> Vec<&'t str> {
        // re.split("(?<=[SEP])\s*", text): cut after every separator character, the cut
        // swallowing the whitespace that follows (an empty match also cuts: between two
        // separators, or a separator at the end)
        let mut pieces: Vec<&str> = Vec::new();
        let mut start = 0usize;
        let mut prev: Option<char> = None;
        let mut i = 0usize;
        while i <= text.len() {
            if prev.is_some_and(|p| in_set(p, SENT_SEP)) {
                // a match at i: \s* greedy
                let mut e = i;
                for c in text[i..].chars() {
                    if pystr::is_space(c) {
                        e += c.len_utf8();
                    } else {
                        break;
                    }
                }
                pieces.push(&text[start..i]);
                start = e;
                // the scan resumes at e; an empty match at e is not allowed right after
                // an empty match at the same place, and the char before e is a space or
                // the separator itself (i == e): the lookbehind sees the char before e
                if e == i {
                    // empty match: next position
                    match text[i..].chars().next() {
                        Some(c) => {
                            prev = Some(c);
                            i += c.len_utf8();
                        }
                        None => break,
                    }
                } else {
                    prev = text[..e].chars().next_back();
                    i = e;
                }
                continue;
            }
            match text[i..].chars().next() {
                Some(c) => {
                    prev = Some(c);
                    i += c.len_utf8();
                }
                None => break,
            }
        }
        pieces.push(&text[start..]);
        if pieces.last().is_some_and(|p| p.is_empty()) {
            pieces.pop();
        }
        pieces
            .into_iter()
            .map(pystr::strip)
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// `seg_kcc(text)`.
fn seg_kcc(text: &str) -> Vec<&str> {
    let mut segs = Vec::new();
    for word in text.split(SEP) {
        let chars: Vec<(usize, char)> = word.char_indices().collect();
        let mut cur_start = 0usize;
        for (j, &(i, c)) in chars.iter().enumerate() {
            let end = i + c.len_utf8();
            let next = chars.get(j + 1).map(|&(_, n)| n);
            if !is_khmer_char(c) && next.is_some_and(|n| n != ' ' && !is_khmer_char(n)) {
                continue;
            }
            if in_set(c, KHNUMBER) && next.is_some_and(|n| in_set(n, KHNUMBER)) {
                continue;
            }
            if !is_khmer_char(c)
                || next.is_none_or(|n| n == ' ')
                || (next.is_some_and(is_start_of_kcc) && !in_set(c, KHSUB))
            {
                segs.push(&word[cur_start..end]);
                cur_start = end;
            }
        }
    }
    segs
}

/// `kcc_type(k)`.
fn kcc_type(k: &str) -> String {
    let mut it = k.chars();
    match (it.next(), it.next()) {
        (Some(c), None) => get_type(c).to_string(),
        _ => format!("K{}", k.chars().count()),
    }
}

/// `is_no_space(k)`.
fn is_no_space(k: &str) -> bool {
    k.chars().next().is_some_and(|c| get_type(c) == "NS")
}

/// `kcc_to_features(kccs, i)` as python-crfsuite passes a feature dict to CRFsuite.
fn kcc_features(k: &[&str], i: usize) -> Vec<crfs::Attribute> {
    let n = k.len();
    let mut f = Vec::with_capacity(32);
    let s = |f: &mut Vec<crfs::Attribute>, key: &str, v: &str| {
        f.push(crfs::Attribute::new(format!("{key}:{v}"), 1.0));
    };
    let b = |f: &mut Vec<crfs::Attribute>, key: &str, v: bool| {
        f.push(crfs::Attribute::new(key, if v { 1.0 } else { 0.0 }));
    };
    let cat = |parts: &[&str]| parts.concat();
    s(&mut f, "kcc", k[i]);
    s(&mut f, "t", &kcc_type(k[i]));
    b(&mut f, "ns", is_no_space(k[i]));
    if i >= 1 {
        s(&mut f, "kcc[-1]", k[i - 1]);
        s(&mut f, "kcc[-1]t", &kcc_type(k[i - 1]));
        s(&mut f, "kcc[-1:0]", &cat(&[k[i - 1], k[i]]));
        b(&mut f, "ns-1", is_no_space(k[i - 1]));
    } else {
        b(&mut f, "BOS", true);
    }
    if i >= 2 {
        s(&mut f, "kcc[-2]", k[i - 2]);
        s(&mut f, "kcc[-2]t", &kcc_type(k[i - 2]));
        s(&mut f, "kcc[-2:-1]", &cat(&[k[i - 2], k[i - 1]]));
        s(&mut f, "kcc[-2:0]", &cat(&[k[i - 2], k[i - 1], k[i]]));
    }
    if i >= 3 {
        s(&mut f, "kcc[-3]", k[i - 3]);
        s(&mut f, "kcc[-3]t", &kcc_type(k[i - 3]));
        s(
            &mut f,
            "kcc[-3:0]",
            &cat(&[k[i - 3], k[i - 2], k[i - 1], k[i]]),
        );
        s(&mut f, "kcc[-3:-1]", &cat(&[k[i - 3], k[i - 2], k[i - 1]]));
        s(&mut f, "kcc[-3:-2]", &cat(&[k[i - 3], k[i - 2]]));
    }
    if i + 1 < n {
        s(&mut f, "kcc[+1]", k[i + 1]);
        s(&mut f, "kcc[+1]t", &kcc_type(k[i + 1]));
        s(&mut f, "kcc[+1:0]", &cat(&[k[i], k[i + 1]]));
        b(&mut f, "ns+1", is_no_space(k[i + 1]));
    } else {
        b(&mut f, "EOS", true);
    }
    if i + 2 < n {
        s(&mut f, "kcc[+2]", k[i + 2]);
        s(&mut f, "kcc[+2]t", &kcc_type(k[i + 2]));
        s(&mut f, "kcc[+1:+2]", &cat(&[k[i + 1], k[i + 2]]));
        s(&mut f, "kcc[0:+2]", &cat(&[k[i], k[i + 1], k[i + 2]]));
        b(&mut f, "ns+2", is_no_space(k[i + 2]));
    }
    if i + 3 < n {
        s(&mut f, "kcc[+3]", k[i + 3]);
        s(&mut f, "kcc[+3]t", &kcc_type(k[i + 3]));
        s(&mut f, "kcc[+2:+3]", &cat(&[k[i + 2], k[i + 3]]));
        s(&mut f, "kcc[+1:+3]", &cat(&[k[i + 1], k[i + 2], k[i + 3]]));
        s(
            &mut f,
            "kcc[0:+3]",
            &cat(&[k[i], k[i + 1], k[i + 2], k[i + 3]]),
        );
    }
    f
}
