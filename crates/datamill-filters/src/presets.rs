//! Named parameter presets: `preset = "fineweb2"` with a `language` fills a filter's parameters
//! the way a published pipeline set them for that language; parameters given explicitly win.
//!
//! **`fineweb2`** — FineWeb-2 (Penedo et al. 2025), from its repository
//! `huggingface/fineweb-2` at commit `d0defb24` (2025-10-27): the per-language thresholds and
//! stop words of `configs/<lang>_<Script>.yml` (1,929 languages; `tools/gen_fineweb2.py` packs
//! them into `src/presets/fineweb2.zst`, 180 KB), combined as its `fineweb-2-pipeline.py` does:
//!
//! | filter | preset parameters |
//! | --- | --- |
//! | `gopher_repetition` | `dup_line_frac`, `top_n_grams`, `dup_n_grams` from the config; `dup_para_frac`, `dup_para_char_frac`, `dup_line_char_frac` = 0 (disabled) |
//! | `fineweb_quality` | `line_punct_thr`, `new_line_ratio` from the config (`line_punct_thr` -1 disables the rule); `short_line_thr` = 999 (disabled), `char_duplicates_ratio` = 0.1 |
//! | `gopher_quality` | `max_avg_word_length`, `min_avg_word_length` (0 disables), `max_non_alpha_words_ratio`, `stop_words` (the config's `stopwords`) from the config; `min_stop_words` = 2 |
//! | `c4_quality` | none: FineWeb-2 does not run C4's filters (an error) |
//!
//! Every other parameter keeps datatrove's default. FineWeb-2 ran its filters in the order
//! gopher_repetition → fineweb_quality → gopher_quality, after MinHash deduplication, on
//! documents whose GlotLID `language_score` reached the config's `language_score`
//! ([`FineWeb2Settings::language_score`]). `language` is FineWeb-2's code, ISO 639-3 + script
//! (`deu_Latn`); a bare `deu` is accepted when FineWeb-2 has exactly one script for it.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

static FINEWEB2: &[u8] = include_bytes!("presets/fineweb2.zst");

/// The preset names.
pub const PRESETS: &[&str] = &["fineweb2"];

/// FineWeb-2's settings for one language (its `configs/<lang>_<Script>.yml`).
#[derive(Debug, Clone, PartialEq)]
pub struct FineWeb2Settings {
    /// The config's name (`deu_Latn`), also the tokenizer language FineWeb-2 used.
    pub language: String,
    /// Minimum GlotLID `language_score` of the documents FineWeb-2 kept for this language.
    pub language_score: f64,
    /// GopherRepetitionFilter `dup_line_frac`.
    pub dup_line_frac: f64,
    /// GopherRepetitionFilter `top_n_grams`.
    pub top_n_grams: Vec<(usize, f64)>,
    /// GopherRepetitionFilter `dup_n_grams`.
    pub dup_n_grams: Vec<(usize, f64)>,
    /// FineWebQualityFilter `line_punct_thr` (-1: rule off).
    pub line_punct_thr: f64,
    /// FineWebQualityFilter `new_line_ratio`.
    pub new_line_ratio: f64,
    /// GopherQualityFilter `max_avg_word_length`.
    pub max_avg_word_length: f64,
    /// GopherQualityFilter `min_avg_word_length` (0: rule off).
    pub min_avg_word_length: f64,
    /// GopherQualityFilter `max_non_alpha_words_ratio`.
    pub max_non_alpha_words_ratio: f64,
    /// GopherQualityFilter `stop_words`.
    pub stop_words: Vec<String>,
}

/// Every FineWeb-2 config as raw JSON, by name.
fn configs() -> &'static BTreeMap<&'static str, &'static str> {
    static C: OnceLock<BTreeMap<&'static str, &'static str>> = OnceLock::new();
    C.get_or_init(|| {
        let raw = zstd::decode_all(FINEWEB2).expect("the generated FineWeb-2 presets are zstd");
        let raw: &'static str = Box::leak(
            String::from_utf8(raw)
                .expect("the generated FineWeb-2 presets are UTF-8")
                .into_boxed_str(),
        );
        raw.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('\t'))
            .collect()
    })
}

/// FineWeb-2's language codes (`aai_Latn` … `zza_Latn`), sorted.
pub fn fineweb2_languages() -> Vec<&'static str> {
    configs().keys().copied().collect()
}

fn pairs(v: &Value) -> Vec<(usize, f64)> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| Some((p[0].as_u64()? as usize, p[1].as_f64()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// FineWeb-2's settings for `language` (`deu_Latn`, or `deu` when it has one script there).
pub fn fineweb2(language: &str) -> Result<FineWeb2Settings, String> {
    let all = configs();
    let name: &str = if all.contains_key(language) {
        language
    } else {
        let prefix = format!("{language}_");
        let cands: Vec<&str> = all
            .keys()
            .copied()
            .filter(|k| k.starts_with(&prefix))
            .collect();
        match cands.as_slice() {
            [one] => one,
            [] => {
                return Err(format!(
                    "preset \"fineweb2\": FineWeb-2 has no settings for language {language:?} \
                     (it names languages ISO 639-3 + script, e.g. \"deu_Latn\", \"rus_Cyrl\", \
                     \"cmn_Hani\"; {} languages)",
                    all.len()
                ));
            }
            many => {
                return Err(format!(
                    "preset \"fineweb2\": language {language:?} has several scripts in FineWeb-2: \
                     {}",
                    many.join(", ")
                ));
            }
        }
    };
    let v: Value = serde_json::from_str(all[name]).expect("generated FineWeb-2 config is JSON");
    let f = |k: &str| v[k].as_f64().expect("generated FineWeb-2 config numbers");
    Ok(FineWeb2Settings {
        language: name.to_string(),
        language_score: f("language_score"),
        dup_line_frac: f("dup_line_frac"),
        top_n_grams: pairs(&v["top_n_grams"]),
        dup_n_grams: pairs(&v["dup_n_grams"]),
        line_punct_thr: f("line_punct_thr"),
        new_line_ratio: f("new_line_ratio"),
        max_avg_word_length: f("max_avg_word_length"),
        min_avg_word_length: f("min_avg_word_length"),
        max_non_alpha_words_ratio: f("max_non_alpha_words_ratio"),
        stop_words: v["stopwords"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|w| w.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

fn pairs_json(p: &[(usize, f64)]) -> Value {
    Value::Array(
        p.iter()
            .map(|&(n, f)| Value::Array(vec![Value::from(n), Value::from(f)]))
            .collect(),
    )
}

/// The parameters a preset sets for `filter` (`gopher_quality`, ...) and `language`.
pub fn preset_parameters(
    preset: &str,
    filter: &str,
    language: &str,
) -> Result<Map<String, Value>, String> {
    if preset != "fineweb2" {
        return Err(format!(
            "unknown preset {preset:?} (known: {})",
            PRESETS.join(", ")
        ));
    }
    let s = fineweb2(language)?;
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    put("language", Value::from(s.language.clone()));
    match filter {
        "gopher_repetition" => {
            put("dup_para_frac", Value::from(0));
            put("dup_line_char_frac", Value::from(0));
            put("dup_para_char_frac", Value::from(0));
            put("dup_line_frac", Value::from(s.dup_line_frac));
            put("top_n_grams", pairs_json(&s.top_n_grams));
            put("dup_n_grams", pairs_json(&s.dup_n_grams));
        }
        "fineweb_quality" => {
            put("short_line_thr", Value::from(999.0));
            put("char_duplicates_ratio", Value::from(0.1));
            put("line_punct_thr", Value::from(s.line_punct_thr));
            put("new_line_ratio", Value::from(s.new_line_ratio));
        }
        "gopher_quality" => {
            put("max_avg_word_length", Value::from(s.max_avg_word_length));
            put("min_avg_word_length", Value::from(s.min_avg_word_length));
            put("stop_words", Value::from(s.stop_words.clone()));
            put(
                "max_non_alpha_words_ratio",
                Value::from(s.max_non_alpha_words_ratio),
            );
            put("min_stop_words", Value::from(2));
        }
        other => {
            return Err(format!(
                "preset \"fineweb2\" has no settings for {other}: FineWeb-2 ran \
                 gopher_repetition, fineweb_quality and gopher_quality only"
            ));
        }
    }
    Ok(m)
}

/// Deserialize a filter's parameter table, first filling what `preset` (if any) sets and the
/// table does not.
pub(crate) fn expand<'de, D: serde::Deserializer<'de>>(
    filter: &str,
    d: D,
) -> Result<Value, D::Error> {
    use serde::Deserialize;
    use serde::de::Error;
    let mut m = Map::<String, Value>::deserialize(d)?;
    let Some(preset) = m.remove("preset") else {
        return Ok(Value::Object(m));
    };
    let preset = preset
        .as_str()
        .ok_or_else(|| D::Error::custom("preset must be a string"))?
        .to_string();
    let language = match m.get("language") {
        Some(Value::String(l)) => l.clone(),
        _ => {
            return Err(D::Error::custom(format!(
                "preset {preset:?} needs a `language` (e.g. language = \"deu_Latn\")"
            )));
        }
    };
    let defaults = preset_parameters(&preset, filter, &language).map_err(D::Error::custom)?;
    for (k, v) in defaults {
        if k == "language" {
            // the preset's resolved code (deu -> deu_Latn) unless given with a script already
            m.insert(k, v);
        } else {
            m.entry(k).or_insert(v);
        }
    }
    Ok(Value::Object(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fineweb2_configs_are_fineweb2_s() {
        assert_eq!(configs().len(), 1929);
        let de = fineweb2("deu_Latn").unwrap();
        // configs/deu_Latn.yml at d0defb24
        assert_eq!(de.dup_line_frac, 0.263);
        assert_eq!(de.top_n_grams, vec![(2, 0.169), (3, 0.153), (4, 0.137)]);
        assert_eq!(de.dup_n_grams[5], (10, 0.098));
        assert_eq!(de.line_punct_thr, 0.0);
        assert_eq!(de.max_avg_word_length, 15.0);
        assert_eq!(de.min_avg_word_length, 0.0);
        assert_eq!(de.max_non_alpha_words_ratio, 0.774);
        assert_eq!(de.new_line_ratio, 0.152);
        assert_eq!(de.language_score, 0.821);
        assert_eq!(de.stop_words.len(), 15);
        assert_eq!(de.stop_words[0], "der");
        assert!(de.stop_words.contains(&"für".to_string()));
        assert_eq!(fineweb2("deu").unwrap().language, "deu_Latn");
        let th = fineweb2("tha_Thai").unwrap();
        assert_eq!(th.stop_words[0], "ใน");
        assert!(fineweb2("xx_Yyyy").unwrap_err().contains("deu_Latn"));
    }
}
