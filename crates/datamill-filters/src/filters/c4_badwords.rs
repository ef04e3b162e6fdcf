//! C4's bad-words rule as datatrove 0.10.1's C4BadWordsFilter: drops documents containing a
//! word of the LDNOOBW list of their language.
//!
//! The language is the document's `language` metadata (as written by the `language` stage),
//! else `default_language`. The English list ships with datamill (the revision datatrove uses,
//! CC BY 4.0); lists for other languages are read from `badwords_dir` (files named as in the
//! LDNOOBW repository, e.g. `de`), resolved against the pipeline file's folder — datatrove
//! downloads them at run time, datamill never does. With `keep_fraction > 0`, a matching
//! document is kept when `xxh3_64(id, seed) / 2^64 < keep_fraction` — deterministic whatever
//! the worker count (datatrove draws from a random generator instead, so which documents are
//! kept differs; the default, 0, is exact).
//!
//! Parameters: `keep_fraction` (0), `fail_on_missing_language` (true), `seed` (the
//! pipeline's), `default_language` ("en"), `badwords_dir`.
//!
//! Drop reason: `document_removed_with_badwords`.
//!
//! ```toml
//! [[stage]]
//! type = "c4_badwords"
//! default_language = "en"
//! ```

// The `//!` comment above is the `c4_badwords` stage's user documentation (`datamill stages
// c4_badwords`, extracted by crates/datamill-stages/build.rs): this one file owns the stage's
// docs, parameters and defaults (a test checks that the documented defaults are the real
// ones). Port of datatrove 0.10.1's `pipeline/filters/c4_filters.py`.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use regex::Regex;
use serde::Deserialize;

use super::{FilterResult, ParamError};
use crate::{pystr, pytables};

/// Languages datatrove has an LDNOOBW list for (`_BADWORDS_LANGS`).
pub const BADWORDS_LANGS: [&str; 28] = [
    "ar",
    "cs",
    "da",
    "de",
    "en",
    "eo",
    "es",
    "fa",
    "fi",
    "fil",
    "fr",
    "fr-CA-u-sd-caqc",
    "hi",
    "hu",
    "it",
    "ja",
    "kab",
    "ko",
    "nl",
    "no",
    "pl",
    "pt",
    "ru",
    "sv",
    "th",
    "tlh",
    "tr",
    "zh",
];

/// Words removed from every list (`_BADWORDS_ALLOWLIST`, all languages' entries).
const ALLOWLIST: [&str; 4] = ["sm", "グロ", "女の子", "性"];

/// The English LDNOOBW list at the revision datatrove 0.10.1 downloads
/// (`25e679f03d96baa721cde20db9944649e8d0a844`), shipped with the crate (CC BY 4.0, see
/// `assets/ldnoobw/LICENSE.md`).
pub const EN_BADWORDS: &str = include_str!("../../assets/ldnoobw/en");

/// C4's bad-words filter, as datatrove 0.10.1: drop a document whose lower-cased text contains a
/// listed word or phrase flanked by non-word characters (Python `re` `\W`) or the text ends
/// (no flanking needed for `ja`, `th`, `zh`) \[`document_removed_with_badwords`\].
///
/// datatrove downloads the lists at run time; the English list is shipped here, other languages
/// are read from `badwords_dir/<lang>` (files of the LDNOOBW repository revision
/// `5faf2ba42d7b1c0977169ec3611df25a3c08eb13`). Use [`C4BadWordsFilter::filter_lang`] to pass a
/// document's language (datatrove reads `doc.metadata["language"]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct C4BadWordsFilter {
    /// Fraction of bad-word documents kept at random (default 0.0).
    pub keep_fraction: f64,
    /// Error on a language without a list (default true); false = keep such documents.
    pub fail_on_missing_language: bool,
    /// Seed of the random keep decision (default `null` = seeded from the clock). The random
    /// stream is not numpy's, so which documents are kept at `keep_fraction > 0` differs from
    /// datatrove.
    pub seed: Option<u64>,
    /// Language of documents without one (default `"en"`).
    pub default_language: String,
    /// Directory with LDNOOBW list files named by language code (not a datatrove parameter:
    /// datatrove downloads them). Not needed for English.
    pub badwords_dir: Option<PathBuf>,
    #[serde(skip)]
    cache: RwLock<HashMap<String, Arc<Regex>>>,
    #[serde(skip)]
    rng: Mutex<Option<u64>>,
}

impl Default for C4BadWordsFilter {
    fn default() -> Self {
        C4BadWordsFilter {
            keep_fraction: 0.0,
            fail_on_missing_language: true,
            seed: None,
            default_language: "en".to_string(),
            badwords_dir: None,
            cache: RwLock::new(HashMap::new()),
            rng: Mutex::new(None),
        }
    }
}

impl Clone for C4BadWordsFilter {
    fn clone(&self) -> Self {
        C4BadWordsFilter {
            keep_fraction: self.keep_fraction,
            fail_on_missing_language: self.fail_on_missing_language,
            seed: self.seed,
            default_language: self.default_language.clone(),
            badwords_dir: self.badwords_dir.clone(),
            cache: RwLock::new(HashMap::new()),
            rng: Mutex::new(None),
        }
    }
}

/// Python `re` `\W` as a Rust regex class.
fn non_word_class() -> String {
    let mut s = String::from("[^");
    for &(a, b) in pytables::WORD {
        if a == b {
            s.push_str(&format!("\\x{{{a:x}}}"));
        } else {
            s.push_str(&format!("\\x{{{a:x}}}-\\x{{{b:x}}}"));
        }
    }
    s.push(']');
    s
}

/// Build the matcher for a word list as datatrove does.
fn compile(lang: &str, list: &str) -> Result<Regex, String> {
    let mut words: BTreeSet<&str> = list.lines().map(pystr::strip).collect();
    // `line.strip() for line in f`: a blank line would add "" (matching everywhere), as in datatrove
    for a in ALLOWLIST {
        words.remove(a);
    }
    let alt = words
        .iter()
        .map(|w| regex::escape(w))
        .collect::<Vec<_>>()
        .join("|");
    let pattern = if matches!(lang, "ja" | "th" | "zh") {
        alt
    } else {
        let nw = non_word_class();
        format!("(?:{nw}|^)(?:{alt})(?:{nw}|$)")
    };
    regex::RegexBuilder::new(&pattern)
        .size_limit(256 << 20)
        .dfa_size_limit(64 << 20)
        .build()
        .map_err(|e| format!("bad-words list for {lang}: {e}"))
}

impl C4BadWordsFilter {
    /// Check the parameters.
    pub fn validate(&self) -> Result<(), ParamError> {
        if !(0.0..=1.0).contains(&self.keep_fraction) {
            return Err(ParamError::new(
                "keep_fraction",
                format!(
                    "keep_fraction must be in [0, 1], got {}",
                    self.keep_fraction
                ),
            ));
        }
        if !BADWORDS_LANGS.contains(&self.default_language.as_str())
            && self.fail_on_missing_language
        {
            return Err(ParamError::new(
                "default_language",
                format!(
                    "default_language {:?} has no bad-words list",
                    self.default_language
                ),
            ));
        }
        Ok(())
    }

    fn regex_for(&self, lang: &str) -> Result<Option<Arc<Regex>>, String> {
        if let Some(r) = self.cache.read().expect("lock").get(lang) {
            return Ok(Some(r.clone()));
        }
        if !BADWORDS_LANGS.contains(&lang) {
            if self.fail_on_missing_language {
                return Err(format!(
                    "There is not badwords list available for \"{lang}\". Set fail_on_missing_language=False to continue anyway."
                ));
            }
            return Ok(None);
        }
        let list: String = if lang == "en" {
            EN_BADWORDS.to_string()
        } else {
            let dir = self.badwords_dir.as_ref().ok_or_else(|| {
                format!("no bad-words list for {lang:?} is shipped: set badwords_dir to a directory with LDNOOBW files")
            })?;
            let p = dir.join(lang);
            std::fs::read_to_string(&p).map_err(|e| format!("read {}: {e}", p.display()))?
        };
        let rx = Arc::new(compile(lang, &list)?);
        self.cache
            .write()
            .expect("lock")
            .insert(lang.to_string(), rx.clone());
        Ok(Some(rx))
    }

    fn uniform(&self) -> f64 {
        let mut st = self.rng.lock().expect("lock");
        let s = st.get_or_insert_with(|| {
            self.seed.unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64)
            })
        });
        // SplitMix64
        *s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Decide on a document in `language` (`None` = `default_language`). `Err` where datatrove
    /// raises: an unknown language with `fail_on_missing_language`, or a list that cannot be read.
    pub fn filter_lang(&self, text: &str, language: Option<&str>) -> Result<FilterResult, String> {
        let lang = language.unwrap_or(&self.default_language);
        let Some(rx) = self.regex_for(lang)? else {
            return Ok(FilterResult::Keep);
        };
        if rx.is_match(&pystr::lower(text)) {
            if self.keep_fraction > 0.0 && self.uniform() < self.keep_fraction {
                return Ok(FilterResult::Keep);
            }
            return Ok(FilterResult::drop("document_removed_with_badwords"));
        }
        Ok(FilterResult::Keep)
    }

    /// Decide on a document in `default_language`. A language error (see
    /// [`filter_lang`](Self::filter_lang)) drops the document with reason `error:<message>`.
    pub fn filter(&self, text: &str) -> FilterResult {
        self.filter_lang(text, None)
            .unwrap_or_else(|e| FilterResult::Drop(format!("error:{e}").into()))
    }
}

impl super::Filter for C4BadWordsFilter {
    fn name(&self) -> &'static str {
        "c4_badwords"
    }
    fn validate(&self) -> Result<(), ParamError> {
        C4BadWordsFilter::validate(self)
    }
    fn filter(&self, text: &str) -> FilterResult {
        C4BadWordsFilter::filter(self, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_list() {
        assert_eq!(EN_BADWORDS.lines().count(), 377);
        let f = C4BadWordsFilter::default();
        assert!(f.validate().is_ok());
        let drop = FilterResult::drop("document_removed_with_badwords");
        assert_eq!(f.filter("What the HELL, this is Bullshit!"), drop);
        assert_eq!(f.filter("a classic bullshitter"), FilterResult::Keep);
        assert_eq!(f.filter("Scunthorpe and assassin"), FilterResult::Keep);
        assert_eq!(f.filter("g-spot"), drop);
        assert_eq!(f.filter("x_ass"), FilterResult::Keep); // '_' is a word character
        assert_eq!(f.filter("é ass"), drop);
        assert!(f.filter_lang("x", Some("xx")).is_err());
        let lenient = C4BadWordsFilter {
            fail_on_missing_language: false,
            ..Default::default()
        };
        assert_eq!(
            lenient.filter_lang("ass", Some("xx")),
            Ok(FilterResult::Keep)
        );
        assert!(
            f.filter_lang("x", Some("de"))
                .unwrap_err()
                .contains("badwords_dir")
        );
    }

    #[test]
    fn keep_fraction_one_keeps() {
        let f = C4BadWordsFilter {
            keep_fraction: 1.0,
            seed: Some(1),
            ..Default::default()
        };
        assert_eq!(f.filter("ass"), FilterResult::Keep);
        assert!(
            serde_json::from_str::<C4BadWordsFilter>(r#"{"keep_fraction": 0.5, "seed": 3}"#)
                .is_ok()
        );
    }
}
