//! Drops documents whose words are rare: the mean unigram log-probability of their words,
//! from a local word-frequency file, as datatrove 0.10.1's `UnigramLogProbFilter` computes it
//! (an idea of peS2o).
//!
//! The file is a CSV with a header and the columns `word` and `count` (datatrove downloads
//! Google's 1T unigram counts, `unigram_freq.csv`, from a fixed URL; datamill never downloads:
//! give that file, or any file of that shape, as `unigram_file`, relative to the pipeline
//! file). A word's probability is its count over the sum of all counts (a word listed twice
//! keeps its last count, the sum counts both, as datatrove's dict does). The text is cut into
//! words by datatrove's word tokenizer for `language` (spaCy's rules, as the other datatrove
//! filters), each word is lowercased (Python's `str.lower`) and looked up, `1e-9` when absent;
//! the score is `Σ ln(p) / words` (summed in order, as Python's `sum`), 0 for a document
//! without words. A document is kept when its score is above `logprobs_threshold`; else it is
//! dropped with reason `low_unigram_logprob`. With `score_field` set, kept documents get their
//! score in that metadata field.
//!
//! Parameters (datatrove's names and defaults): `logprobs_threshold` (-10.0), `language`
//! ("eng"); datamill's: `unigram_file` (required), `score_field` (none). Checked document for
//! document against datatrove with the same file (`tests/golden/datatrove_steps/`).
//!
//! ```toml
//! [[stage]]
//! type = "unigram_logprob"
//! unigram_file = "unigram_freq.csv"
//! logprobs_threshold = -10.0
//! ```

use crate::{BuildCx, StageSpec, Step};
use datamill_core::{Doc, Stage, StageCx, StageError, Verdict};
use datamill_filters::lang::{WordTokenizer, word_tokenizer};
use datamill_filters::pystr;
use serde::Deserialize;
use std::collections::HashMap;

fn default_threshold() -> f64 {
    -10.0
}
fn default_language() -> String {
    "eng".into()
}

/// The `unigram_logprob` stage's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnigramLogProb {
    /// The word-frequency CSV (`word,count` with a header).
    pub unigram_file: String,
    /// The minimum mean log-probability to keep a document (exclusive).
    #[serde(default = "default_threshold")]
    pub logprobs_threshold: f64,
    /// datatrove's language code (selects the word tokenizer).
    #[serde(default = "default_language")]
    pub language: String,
    /// Metadata field for the score of kept documents.
    pub score_field: Option<String>,
}

struct Built {
    freqs: HashMap<String, f64>,
    threshold: f64,
    tokenizer: WordTokenizer,
    score_field: Option<String>,
}

/// Splits one CSV record (RFC 4180 quoting, as Python's `csv` reads it by default).
fn csv_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (false, '"') if cur.is_empty() => quoted = true,
            (false, ',') => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Reads `word,count` rows: each word's probability, as datatrove computes it.
pub fn read_frequencies(text: &str, file: &str) -> Result<HashMap<String, f64>, StageError> {
    let bad = |line: usize, msg: String| {
        StageError::config("unigram_file", format!("{file}, line {line}: {msg}"))
    };
    let mut lines = text.lines().enumerate();
    let header = match lines.next() {
        Some((_, h)) => csv_fields(h.trim_end_matches('\r')),
        None => return Err(bad(1, "empty file (expected a header `word,count`)".into())),
    };
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(wi), Some(ci)) = (col("word"), col("count")) else {
        return Err(bad(
            1,
            format!("the header must name `word` and `count`, got {header:?}"),
        ));
    };
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut total: u128 = 0;
    for (i, line) in lines {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue; // Python's csv skips blank lines
        }
        let f = csv_fields(line);
        let (Some(w), Some(c)) = (f.get(wi), f.get(ci)) else {
            return Err(bad(i + 1, "missing `word` or `count`".into()));
        };
        let c: u64 = c
            .trim()
            .parse()
            .map_err(|_| bad(i + 1, format!("`count` is not an integer: {c:?}")))?;
        total += u128::from(c);
        counts.insert(w.clone(), c);
    }
    if total == 0 {
        return Err(bad(1, "the counts sum to 0".into()));
    }
    if total >= 1 << 53 {
        return Err(bad(
            1,
            "the counts sum to 2^53 or more: probabilities would not be exact".into(),
        ));
    }
    let t = total as f64;
    Ok(counts.into_iter().map(|(w, c)| (w, c as f64 / t)).collect())
}

impl StageSpec for UnigramLogProb {
    fn build(&self, cx: &BuildCx) -> Result<Step, StageError> {
        if !self.logprobs_threshold.is_finite() {
            return Err(StageError::config(
                "logprobs_threshold",
                "must be a finite number",
            ));
        }
        let tokenizer = word_tokenizer(&self.language)
            .map_err(|e| StageError::config("language", e.to_string()))?;
        let path = cx.base_dir.join(&self.unigram_file);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            StageError::config("unigram_file", format!("reading {}: {e}", path.display()))
        })?;
        let freqs = read_frequencies(&text, &path.display().to_string())?;
        Ok(Step::Map(Box::new(Built {
            freqs,
            threshold: self.logprobs_threshold,
            tokenizer,
            score_field: self.score_field.clone().filter(|f| !f.is_empty()),
        })))
    }
}

impl Built {
    /// datatrove's `get_logprob`.
    fn logprob(&self, text: &str) -> f64 {
        let words = self.tokenizer.words(text);
        if words.is_empty() {
            return 0.0;
        }
        let mut sum = 0.0;
        for w in &words {
            let lower = pystr::lower(w);
            sum += self.freqs.get(&lower).copied().unwrap_or(1e-9).ln();
        }
        sum / words.len() as f64
    }
}

impl Stage for Built {
    fn process(&self, doc: &mut Doc, _: &mut StageCx) -> Result<Verdict, StageError> {
        let score = self.logprob(doc.text());
        if score > self.threshold {
            if let Some(f) = &self.score_field {
                doc.set(f, &score);
            }
            Ok(Verdict::Keep)
        } else {
            Ok(Verdict::drop("low_unigram_logprob"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_probabilities() {
        let f = read_frequencies("word,count\r\nthe,3\r\n\"a,b\",1\r\n\nthe,6\n", "f").unwrap();
        // "the" keeps its last count; the total counts every row (3 + 1 + 6).
        assert_eq!(f["the"], 0.6);
        assert_eq!(f["a,b"], 0.1);
        assert!(read_frequencies("w,c\nx,1", "f").is_err());
        assert!(read_frequencies("word,count\nx,one", "f").is_err());
        assert_eq!(csv_fields("a,\"b \"\"q\"\"\",c"), ["a", "b \"q\"", "c"]);
    }

    #[test]
    fn mean_log_probability() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("u.csv"), "word,count\nthe,1\ncat,1\n").unwrap();
        let c: UnigramLogProb =
            toml::from_str("unigram_file = \"u.csv\"\nlogprobs_threshold = -5").unwrap();
        let cx = BuildCx {
            base_dir: tmp.path().to_path_buf(),
            ..Default::default()
        };
        let Step::Map(s) = c.build(&cx).unwrap() else {
            panic!()
        };
        let run = |t: &str| {
            s.process(&mut Doc::new("x", t), &mut StageCx::default())
                .unwrap()
        };
        // ln(0.5) for each word: kept.
        assert_eq!(run("The cat"), Verdict::Keep);
        // (ln 0.5 + ln 1e-9) / 2 ≈ -10.7: dropped.
        assert_eq!(run("the dog"), Verdict::drop("low_unigram_logprob"));
        assert_eq!(run(""), Verdict::Keep);
        let missing: UnigramLogProb = toml::from_str("unigram_file = \"nope.csv\"").unwrap();
        let e = missing.build(&cx).err().unwrap().to_string();
        assert!(e.contains("unigram_file") && e.contains("nope.csv"), "{e}");
    }
}
