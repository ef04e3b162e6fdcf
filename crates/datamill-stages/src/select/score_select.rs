//! Selects documents by a numeric metadata field (a classifier score, a perplexity, a reward):
//! a threshold, the top k or a top fraction, percentile buckets, per stratum, within a token
//! budget.
//!
//! A global stage: the score of every document is collected, then one `mode` decides.
//! Documents are ranked best first: by descending score with `higher_is_better = true` (the
//! default), ascending otherwise (perplexities); equal scores keep their input order, so the
//! result is deterministic whatever the worker count.
//!
//! * `mode = "threshold"`: keeps `min <= score <= max` (give one or both). Drops:
//!   `score_below_min`, `score_above_max`.
//! * `mode = "top_k"`: keeps the `k` best. With `stratify_by`, the `k` best *of each stratum*.
//! * `mode = "top_fraction"`: keeps the best `floor(fraction × n)` documents, n being the number
//!   of scored documents; with `stratify_by`, of each stratum (proportional selection).
//!   Drops of both: `score_not_selected`.
//! * `mode = "buckets"`: labels every document with its percentile bucket, CCNet style. The
//!   cutoffs are the `buckets` percentiles (numbers in 0..100, increasing) of the scores, taken
//!   in ranking order (best first) with numpy's default (linear) interpolation; a document goes
//!   to the first bucket whose cutoff it beats strictly, else to the last. `buckets = [30, 60]`
//!   with `higher_is_better = false` on a perplexity gives CCNet's head (best 30 %), middle and
//!   tail. With `stratify_by`, cutoffs are computed per stratum (CCNet's are per language). The
//!   label (`bucket_labels`, default `["head", "middle", "tail"]` for two cutoffs, else `"0"`,
//!   `"1"`, ...) goes to metadata field `bucket_field` (default `"<field>_bucket"`);
//!   `keep_buckets` optionally keeps only some labels (others dropped as `score_bucket`).
//! * `mode` left out: every scored document is a candidate (for a pure `token_budget`).
//!
//! `token_budget` (with `token_field`, default `"token_count"`; see the `token_count` stage)
//! then keeps the candidates best first while their summed tokens fit the budget, over all
//! strata together; the first candidate that does not fit ends the selection (drops:
//! `token_budget`; candidates without a numeric token field: `tokens_missing`).
//!
//! A document whose `field` is missing or not a JSON number is dropped as `score_missing`
//! (`missing = "keep"` passes it through untouched, outside every quota). A document without
//! the `stratify_by` field belongs to a stratum of its own (the "missing" stratum).
//!
//! Parameters: `field` (required), `mode`, `min`, `max`, `k`, `fraction`, `higher_is_better`
//! (default true), `stratify_by`, `buckets`, `bucket_labels`, `bucket_field`, `keep_buckets`,
//! `token_budget`, `token_field` (default `"token_count"`), `missing` (`"drop"`, the default,
//! or `"keep"`).
//!
//! Memory: about 40 bytes per document while deciding.
//!
//! ```toml
//! [[stage]]
//! type = "score_select"
//! field = "quality_score"
//! mode = "top_fraction"
//! fraction = 0.3
//! stratify_by = "lang"
//!
//! [[stage]]
//! type = "score_select"
//! field = "perplexity"
//! mode = "buckets"
//! buckets = [30, 60]
//! higher_is_better = false
//! stratify_by = "lang"
//! keep_buckets = ["head", "middle"]
//!
//! [[stage]]
//! type = "score_select"
//! field = "reward"
//! mode = "threshold"
//! min = 0.5
//! token_budget = 1_000_000_000
//! ```

use crate::{BuildCx, StageSpec, Step};
use datamill_core::codec::{Dec, Enc};
use datamill_core::{
    DecideCx, Decider, Doc, DocRef, GlobalStage, Stage, StageCx, StageError, Verdict, Verdicts,
};
use datamill_npsort::percentile;
use serde::Deserialize;
use std::collections::HashMap;

fn default_token_field() -> String {
    "token_count".into()
}

/// How the documents are chosen.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// `min <= score <= max`.
    Threshold,
    /// The `k` best (per stratum).
    TopK,
    /// The best `fraction` (per stratum).
    TopFraction,
    /// Percentile buckets written to metadata.
    Buckets,
}

/// What happens to documents without a numeric score.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Missing {
    /// Drop them (`score_missing`).
    #[default]
    Drop,
    /// Pass them through.
    Keep,
}

/// The `score_select` stage's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreSelect {
    /// The numeric metadata field.
    pub field: String,
    /// The selection mode.
    pub mode: Option<Mode>,
    /// Lowest kept score (threshold mode).
    pub min: Option<f64>,
    /// Highest kept score (threshold mode).
    pub max: Option<f64>,
    /// Documents to keep (top_k mode), per stratum.
    pub k: Option<u64>,
    /// Fraction to keep (top_fraction mode), per stratum.
    pub fraction: Option<f64>,
    /// Whether a higher score is better.
    #[serde(default = "crate::yes")]
    pub higher_is_better: bool,
    /// A metadata field whose values define strata.
    pub stratify_by: Option<String>,
    /// Percentile cutoffs (buckets mode).
    pub buckets: Option<Vec<f64>>,
    /// Bucket labels, one more than cutoffs.
    pub bucket_labels: Option<Vec<String>>,
    /// Metadata field receiving the bucket label.
    pub bucket_field: Option<String>,
    /// Keep only these bucket labels.
    pub keep_buckets: Option<Vec<String>>,
    /// Token budget of the selection.
    pub token_budget: Option<u64>,
    /// Metadata field holding token counts.
    #[serde(default = "default_token_field")]
    pub token_field: String,
    /// What to do with documents without a numeric score.
    #[serde(default)]
    pub missing: Missing,
}

#[derive(Clone, Debug)]
struct Buckets {
    percentiles: Vec<f64>,
    labels: Vec<String>,
    field: String,
    keep: Option<Vec<String>>,
}

#[derive(Clone, Debug)]
struct Built {
    field: String,
    mode: Option<Mode>,
    min: f64,
    max: f64,
    k: u64,
    fraction: f64,
    higher: bool,
    stratify: Option<String>,
    buckets: Option<Buckets>,
    budget: Option<u64>,
    token_field: String,
    missing: Missing,
}

impl StageSpec for ScoreSelect {
    fn build(&self, _: &BuildCx) -> Result<Step, StageError> {
        let cfg = |p: &str, m: &str| Err(StageError::config(p, m));
        if self.field.is_empty() {
            return cfg("field", "must not be empty");
        }
        let used = |name: &str, set: bool, ok: bool| -> Result<(), StageError> {
            if set && !ok {
                return Err(StageError::config(
                    name,
                    format!("has no effect with mode {:?}", self.mode),
                ));
            }
            Ok(())
        };
        let m = self.mode;
        used("min", self.min.is_some(), m == Some(Mode::Threshold))?;
        used("max", self.max.is_some(), m == Some(Mode::Threshold))?;
        used("k", self.k.is_some(), m == Some(Mode::TopK))?;
        used(
            "fraction",
            self.fraction.is_some(),
            m == Some(Mode::TopFraction),
        )?;
        let is_b = m == Some(Mode::Buckets);
        used("buckets", self.buckets.is_some(), is_b)?;
        used("bucket_labels", self.bucket_labels.is_some(), is_b)?;
        used("bucket_field", self.bucket_field.is_some(), is_b)?;
        used("keep_buckets", self.keep_buckets.is_some(), is_b)?;
        used(
            "stratify_by",
            self.stratify_by.is_some(),
            matches!(m, Some(Mode::TopK | Mode::TopFraction | Mode::Buckets)),
        )?;
        let mut buckets = None;
        match m {
            None if self.token_budget.is_none() => {
                return cfg(
                    "mode",
                    "give a `mode` (threshold, top_k, top_fraction, buckets) or a `token_budget`",
                );
            }
            None => {}
            Some(Mode::Threshold) => {
                if self.min.is_none() && self.max.is_none() {
                    return cfg("min", "threshold mode needs `min`, `max` or both");
                }
                if let (Some(a), Some(b)) = (self.min, self.max)
                    && a > b
                {
                    return cfg("max", "must not be below `min`");
                }
                if self.min.is_some_and(f64::is_nan) || self.max.is_some_and(f64::is_nan) {
                    return cfg("min", "must be a number");
                }
            }
            Some(Mode::TopK) if self.k.is_none() => {
                return cfg("k", "top_k mode needs `k`");
            }
            Some(Mode::TopK) => {}
            Some(Mode::TopFraction) => match self.fraction {
                Some(f) if (0.0..=1.0).contains(&f) => {}
                Some(f) => return cfg("fraction", &format!("must be between 0 and 1, got {f}")),
                None => return cfg("fraction", "top_fraction mode needs `fraction`"),
            },
            Some(Mode::Buckets) => {
                let Some(p) = &self.buckets else {
                    return cfg(
                        "buckets",
                        "buckets mode needs `buckets` (percentiles, e.g. [30, 60])",
                    );
                };
                if p.is_empty()
                    || p.iter().any(|x| !(0.0..=100.0).contains(x))
                    || p.windows(2).any(|w| w[0] >= w[1])
                {
                    return cfg(
                        "buckets",
                        "must be increasing percentiles between 0 and 100",
                    );
                }
                let labels = match &self.bucket_labels {
                    Some(l) => {
                        if l.len() != p.len() + 1 {
                            return cfg(
                                "bucket_labels",
                                &format!(
                                    "needs {} labels (one more than `buckets`), got {}",
                                    p.len() + 1,
                                    l.len()
                                ),
                            );
                        }
                        l.clone()
                    }
                    None if p.len() == 2 => vec!["head".into(), "middle".into(), "tail".into()],
                    None => (0..=p.len()).map(|i| i.to_string()).collect(),
                };
                if let Some(keep) = &self.keep_buckets
                    && let Some(bad) = keep.iter().find(|k| !labels.contains(k))
                {
                    return cfg(
                        "keep_buckets",
                        &format!("{bad:?} is not a bucket label ({labels:?})"),
                    );
                }
                buckets = Some(Buckets {
                    percentiles: p.clone(),
                    labels,
                    field: self
                        .bucket_field
                        .clone()
                        .unwrap_or_else(|| format!("{}_bucket", self.field)),
                    keep: self.keep_buckets.clone(),
                });
            }
        }
        if self.token_budget.is_some() && self.token_field.is_empty() {
            return cfg("token_field", "must not be empty");
        }
        Ok(Step::Global(Box::new(Built {
            field: self.field.clone(),
            mode: m,
            min: self.min.unwrap_or(f64::NEG_INFINITY),
            max: self.max.unwrap_or(f64::INFINITY),
            k: self.k.unwrap_or(0),
            fraction: self.fraction.unwrap_or(0.0),
            higher: self.higher_is_better,
            stratify: self.stratify_by.clone(),
            buckets,
            budget: self.token_budget,
            token_field: self.token_field.clone(),
            missing: self.missing,
        })))
    }
}

fn number(doc: &Doc, field: &str) -> Option<f64> {
    let raw = doc.get_raw(field)?;
    match raw.as_bytes().first() {
        Some(b'-' | b'0'..=b'9') => raw.parse::<f64>().ok().filter(|x| x.is_finite()),
        _ => None,
    }
}

fn stratum(doc: &Doc, field: &Option<String>) -> Option<String> {
    field
        .as_ref()
        .and_then(|f| doc.get_str(f).map(|s| s.into_owned()))
}

// Summary: flags byte (1 = score, 2 = tokens), score f64, tokens u64, stratum bytes (rest).
impl GlobalStage for Built {
    fn summarize(&self, doc: &Doc, out: &mut Vec<u8>) -> Result<(), StageError> {
        let score = number(doc, &self.field);
        let tokens = if self.budget.is_some() {
            number(doc, &self.token_field).filter(|t| *t >= 0.0)
        } else {
            None
        };
        out.push(u8::from(score.is_some()) | (u8::from(tokens.is_some()) << 1));
        out.extend_from_slice(&score.unwrap_or(0.0).to_le_bytes());
        out.extend_from_slice(&(tokens.unwrap_or(0.0) as u64).to_le_bytes());
        match stratum(doc, &self.stratify) {
            Some(s) => {
                out.push(1);
                out.extend_from_slice(s.as_bytes());
            }
            None => out.push(0),
        }
        Ok(())
    }

    fn transform(&self, state: &[u8]) -> Result<Box<dyn Stage + '_>, StageError> {
        let mut d = Dec::new(state, "score_select decision");
        let n = d.len(9)?;
        let mut cutoffs = HashMap::with_capacity(n);
        for _ in 0..n {
            let name = match d.u8()? {
                0 => None,
                _ => Some(d.str()?),
            };
            let m = d.len(8)?;
            let c = (0..m).map(|_| d.f64()).collect::<Result<Vec<_>, _>>()?;
            cutoffs.insert(name, c);
        }
        d.end()?;
        Ok(Box::new(Label { b: self, cutoffs }))
    }

    fn decider(&self, _: &DecideCx) -> Result<Box<dyn Decider + '_>, StageError> {
        Ok(Box::new(Select {
            b: self,
            docs: Vec::new(),
            strata: HashMap::new(),
            names: Vec::new(),
        }))
    }
}

struct Entry {
    at: DocRef,
    /// The score, negated when lower is better: higher is always better here.
    key: f64,
    tokens: Option<u64>,
    stratum: u32,
}

struct Select<'a> {
    b: &'a Built,
    docs: Vec<Entry>,
    strata: HashMap<Option<String>, u32>,
    names: Vec<Option<String>>,
}

impl Decider for Select<'_> {
    fn observe(&mut self, at: DocRef, s: &[u8], v: &mut Verdicts) -> Result<(), StageError> {
        if s.len() < 18 {
            return Err(StageError::Other("score_select: corrupt summary".into()));
        }
        if s[0] & 1 == 0 {
            if self.b.missing == Missing::Drop {
                v.drop(at, "score_missing");
            }
            return Ok(());
        }
        let score = f64::from_le_bytes(s[1..9].try_into().expect("8 bytes"));
        let tokens =
            (s[0] & 2 != 0).then(|| u64::from_le_bytes(s[9..17].try_into().expect("8 bytes")));
        let name = (s[17] == 1).then(|| String::from_utf8_lossy(&s[18..]).into_owned());
        let next = self.names.len() as u32;
        let id = *self.strata.entry(name.clone()).or_insert_with(|| next);
        if id == next {
            self.names.push(name);
        }
        self.docs.push(Entry {
            at,
            key: if self.b.higher { score } else { -score },
            tokens,
            stratum: id,
        });
        Ok(())
    }

    fn finish(&mut self, v: &mut Verdicts) -> Result<Option<Vec<u8>>, StageError> {
        let b = self.b;
        // Ranking: best first, ties by input order (docs are in input order).
        let mut order: Vec<usize> = (0..self.docs.len()).collect();
        order.sort_by(|&x, &y| {
            self.docs[y]
                .key
                .total_cmp(&self.docs[x].key)
                .then(x.cmp(&y))
        });
        let mut candidate = vec![true; self.docs.len()];
        let mut transform: Option<Vec<u8>> = None;
        match b.mode {
            None => {}
            Some(Mode::Threshold) => {
                for (i, e) in self.docs.iter().enumerate() {
                    let score = if b.higher { e.key } else { -e.key };
                    if score < b.min {
                        v.drop(e.at, "score_below_min");
                        candidate[i] = false;
                    } else if score > b.max {
                        v.drop(e.at, "score_above_max");
                        candidate[i] = false;
                    }
                }
            }
            Some(m @ (Mode::TopK | Mode::TopFraction)) => {
                let mut size = vec![0u64; self.names.len()];
                for e in &self.docs {
                    size[e.stratum as usize] += 1;
                }
                let quota: Vec<u64> = size
                    .iter()
                    .map(|&n| match m {
                        Mode::TopK => b.k,
                        _ => (b.fraction * n as f64).floor() as u64,
                    })
                    .collect();
                let mut taken = vec![0u64; self.names.len()];
                for &i in &order {
                    let e = &self.docs[i];
                    let s = e.stratum as usize;
                    if taken[s] < quota[s] {
                        taken[s] += 1;
                    } else {
                        v.drop(e.at, "score_not_selected");
                        candidate[i] = false;
                    }
                }
            }
            Some(Mode::Buckets) => {
                let bk = b.buckets.as_ref().expect("validated");
                // Cutoffs per stratum over the keys (higher = better), best first.
                let mut keys: Vec<Vec<f64>> = vec![Vec::new(); self.names.len()];
                for e in &self.docs {
                    keys[e.stratum as usize].push(-e.key);
                }
                let mut cutoffs: HashMap<Option<String>, Vec<f64>> = HashMap::new();
                for (s, mut k) in keys.into_iter().enumerate() {
                    k.sort_by(f64::total_cmp);
                    let c = bk.percentiles.iter().map(|&p| percentile(&k, p)).collect();
                    cutoffs.insert(self.names[s].clone(), c);
                }
                let label_of =
                    |key: f64, c: &[f64]| c.iter().position(|&x| -key < x).unwrap_or(c.len());
                if let Some(keep) = &bk.keep {
                    for (i, e) in self.docs.iter().enumerate() {
                        let c = &cutoffs[&self.names[e.stratum as usize]];
                        if !keep.contains(&bk.labels[label_of(e.key, c)]) {
                            v.drop(e.at, "score_bucket");
                            candidate[i] = false;
                        }
                    }
                }
                // The transform's state: every stratum's cutoffs, strata sorted.
                let mut strata: Vec<(&Option<String>, &Vec<f64>)> = cutoffs.iter().collect();
                strata.sort_by(|a, b| a.0.cmp(b.0));
                let mut e = Enc::default();
                e.len(strata.len());
                for (name, c) in strata {
                    match name {
                        None => e.u8(0),
                        Some(n) => {
                            e.u8(1);
                            e.str(n);
                        }
                    }
                    e.len(c.len());
                    for &x in c {
                        e.f64(x);
                    }
                }
                transform = Some(e.finish());
            }
        }
        if let Some(budget) = b.budget {
            let mut spent = 0u64;
            let mut full = false;
            for &i in &order {
                if !candidate[i] {
                    continue;
                }
                let e = &self.docs[i];
                match e.tokens {
                    None => v.drop(e.at, "tokens_missing"),
                    Some(t) if !full && spent + t <= budget => spent += t,
                    Some(_) => {
                        full = true;
                        v.drop(e.at, "token_budget");
                    }
                }
            }
        }
        Ok(transform)
    }
}

/// Writes the bucket label of a kept document (buckets mode).
struct Label<'a> {
    b: &'a Built,
    cutoffs: HashMap<Option<String>, Vec<f64>>,
}

impl Stage for Label<'_> {
    fn process(&self, doc: &mut Doc, _: &mut StageCx) -> Result<Verdict, StageError> {
        let bk = self.b.buckets.as_ref().expect("buckets mode");
        let Some(score) = number(doc, &self.b.field) else {
            return Ok(Verdict::Keep); // missing = "keep": no label
        };
        let s = stratum(doc, &self.b.stratify);
        let Some(c) = self.cutoffs.get(&s) else {
            return Err(StageError::Other(format!(
                "score_select: document {} has a stratum the decision did not see",
                doc.id()
            )));
        };
        let key = if self.b.higher { -score } else { score };
        let i = c.iter().position(|&x| key < x).unwrap_or(c.len());
        doc.set(&bk.field, &bk.labels[i]);
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the stage on docs built from (score json, stratum, tokens); returns each doc's
    /// verdict (None = kept) and the kept docs after the transform.
    fn run(
        cfg: &str,
        docs: &[(&str, Option<&str>, Option<u64>)],
    ) -> (Vec<Option<String>>, Vec<Doc>) {
        let c: ScoreSelect = toml::from_str(cfg).unwrap();
        let Step::Global(g) = c.build(&BuildCx::default()).unwrap() else {
            panic!()
        };
        let docs: Vec<Doc> = docs
            .iter()
            .enumerate()
            .map(|(i, (score, st, tok))| {
                let mut line = format!("{{\"id\":\"{i}\",\"text\":\"t\"");
                if !score.is_empty() {
                    line += &format!(",\"s\":{score}");
                }
                if let Some(st) = st {
                    line += &format!(",\"lang\":\"{st}\"");
                }
                if let Some(t) = tok {
                    line += &format!(",\"token_count\":{t}");
                }
                line.push('}');
                Doc::from_json(line, &Default::default(), || "x".into()).unwrap()
            })
            .collect();
        let (fates, _) = crate::testing::run(&*g, docs, usize::MAX, &DecideCx::default());
        crate::testing::split(fates)
    }

    fn kept_ids(v: &[Option<String>]) -> Vec<usize> {
        v.iter()
            .enumerate()
            .filter(|(_, x)| x.is_none())
            .map(|(i, _)| i)
            .collect()
    }

    #[test]
    fn threshold_and_missing() {
        let docs = [
            ("0.2", None, None),
            ("0.9", None, None),
            ("", None, None),
            ("\"0.7\"", None, None),
            ("0.5", None, None),
        ];
        let (v, _) = run(
            "field = \"s\"\nmode = \"threshold\"\nmin = 0.5\nmax = 0.8",
            &docs,
        );
        assert_eq!(v[0].as_deref(), Some("score_below_min"));
        assert_eq!(v[1].as_deref(), Some("score_above_max"));
        assert_eq!(v[2].as_deref(), Some("score_missing"));
        assert_eq!(v[3].as_deref(), Some("score_missing")); // a string is not a number
        assert_eq!(v[4], None); // bounds are inclusive
        let (v, _) = run(
            "field = \"s\"\nmode = \"threshold\"\nmin = 0.5\nmissing = \"keep\"",
            &docs,
        );
        assert_eq!(kept_ids(&v), [1, 2, 3, 4]);
    }

    #[test]
    fn top_k_and_fraction_with_ties_and_strata() {
        let docs = [
            ("1", Some("en"), None),
            ("3", Some("en"), None),
            ("3", Some("de"), None),
            ("2", Some("en"), None),
            ("3", Some("en"), None),
            ("0", None, None),
        ];
        // Ties by input order: docs 1, 2 (score 3) before doc 4.
        let (v, _) = run("field = \"s\"\nmode = \"top_k\"\nk = 2", &docs);
        assert_eq!(kept_ids(&v), [1, 2]);
        assert_eq!(v[4].as_deref(), Some("score_not_selected"));
        let (v, _) = run(
            "field = \"s\"\nmode = \"top_k\"\nk = 2\nhigher_is_better = false",
            &docs,
        );
        assert_eq!(kept_ids(&v), [0, 5]);
        // Per stratum: en {0,1,3,4} -> best 2 = 1,4; de {2}; missing {5}.
        let (v, _) = run(
            "field = \"s\"\nmode = \"top_k\"\nk = 2\nstratify_by = \"lang\"",
            &docs,
        );
        assert_eq!(kept_ids(&v), [1, 2, 4, 5]);
        // Fraction 0.5 per stratum: en 2 of 4, de floor(0.5) = 0, missing 0.
        let (v, _) = run(
            "field = \"s\"\nmode = \"top_fraction\"\nfraction = 0.5\nstratify_by = \"lang\"",
            &docs,
        );
        assert_eq!(kept_ids(&v), [1, 4]);
        let (v, _) = run(
            "field = \"s\"\nmode = \"top_fraction\"\nfraction = 0.5",
            &docs,
        );
        assert_eq!(kept_ids(&v), [1, 2, 4]);
    }

    #[test]
    fn token_budget_takes_the_best_while_they_fit() {
        let docs = [
            ("0.9", None, Some(50)),
            ("0.8", None, Some(40)),
            ("0.7", None, None),
            ("0.95", None, Some(30)),
            ("0.1", None, Some(5)),
        ];
        let (v, _) = run("field = \"s\"\ntoken_budget = 100", &docs);
        // Ranking 3 (30), 0 (50) = 80; 1 (40) does not fit: stop; 4 is dropped too.
        assert_eq!(kept_ids(&v), [0, 3]);
        assert_eq!(v[1].as_deref(), Some("token_budget"));
        assert_eq!(v[4].as_deref(), Some("token_budget"));
        assert_eq!(v[2].as_deref(), Some("tokens_missing"));
        let (v, _) = run(
            "field = \"s\"\nmode = \"threshold\"\nmax = 0.9\ntoken_budget = 100",
            &docs,
        );
        assert_eq!(kept_ids(&v), [0, 1, 4]);
    }

    #[test]
    fn ccnet_style_buckets() {
        // Perplexities 10..=100 (10 docs); lower is better. Percentiles (linear) of the
        // perplexities: p30 = 37, p60 = 64. head < 37, middle < 64, tail otherwise.
        let scores: Vec<String> = (1..=10).map(|i| (i * 10).to_string()).collect();
        let docs: Vec<(&str, Option<&str>, Option<u64>)> =
            scores.iter().map(|s| (s.as_str(), None, None)).collect();
        let (v, kept) = run(
            "field = \"s\"\nmode = \"buckets\"\nbuckets = [30, 60]\nhigher_is_better = false",
            &docs,
        );
        assert!(v.iter().all(Option::is_none));
        let labels: Vec<String> = kept
            .iter()
            .map(|d| d.get_str("s_bucket").unwrap().into_owned())
            .collect();
        assert_eq!(
            labels,
            [
                "head", "head", "head", "middle", "middle", "middle", "tail", "tail", "tail",
                "tail"
            ]
        );
        // Higher is better: head is the best 30 % (the highest scores).
        let (_, kept) = run(
            "field = \"s\"\nmode = \"buckets\"\nbuckets = [30, 60]\nbucket_field = \"q\"",
            &docs,
        );
        let labels: Vec<String> = kept
            .iter()
            .map(|d| d.get_str("q").unwrap().into_owned())
            .collect();
        assert_eq!(
            labels,
            [
                "tail", "tail", "tail", "tail", "middle", "middle", "middle", "head", "head",
                "head"
            ]
        );
        // keep_buckets drops the rest; strata get their own cutoffs.
        let mut docs2 = docs.clone();
        for d in docs2.iter_mut().take(5) {
            d.1 = Some("de");
        }
        let (v, kept) = run(
            "field = \"s\"\nmode = \"buckets\"\nbuckets = [50]\nhigher_is_better = false\nstratify_by = \"lang\"\nkeep_buckets = [\"0\"]",
            &docs2,
        );
        // de: 10..50, p50 = 30 -> 10, 20 kept; missing stratum: 60..100, p50 = 80 -> 60, 70.
        assert_eq!(kept_ids(&v), [0, 1, 5, 6]);
        assert_eq!(v[2].as_deref(), Some("score_bucket"));
        assert!(kept.iter().all(|d| d.get_str("s_bucket").unwrap() == "0"));
    }

    #[test]
    fn parameter_errors() {
        let err = |s: &str| match toml::from_str::<ScoreSelect>(s)
            .unwrap()
            .build(&BuildCx::default())
        {
            Err(StageError::Config { param, .. }) => param,
            _ => panic!("{s} should fail"),
        };
        assert_eq!(err("field = \"s\""), "mode");
        assert_eq!(err("field = \"s\"\nmode = \"top_k\""), "k");
        assert_eq!(
            err("field = \"s\"\nmode = \"top_k\"\nk = 1\nmin = 0.0"),
            "min"
        );
        assert_eq!(
            err("field = \"s\"\nmode = \"top_fraction\"\nfraction = 1.5"),
            "fraction"
        );
        assert_eq!(err("field = \"s\"\nmode = \"threshold\""), "min");
        assert_eq!(
            err("field = \"s\"\nmode = \"threshold\"\nmin = 2.0\nmax = 1.0"),
            "max"
        );
        assert_eq!(
            err("field = \"s\"\nmode = \"buckets\"\nbuckets = [60, 30]"),
            "buckets"
        );
        assert_eq!(
            err("field = \"s\"\nmode = \"buckets\"\nbuckets = [30]\nbucket_labels = [\"a\"]"),
            "bucket_labels"
        );
        assert_eq!(
            err("field = \"s\"\nmode = \"buckets\"\nbuckets = [30, 60]\nkeep_buckets = [\"top\"]"),
            "keep_buckets"
        );
        assert_eq!(
            err("field = \"s\"\nmode = \"threshold\"\nmin = 1.0\nstratify_by = \"lang\""),
            "stratify_by"
        );
        assert!(toml::from_str::<ScoreSelect>("field = \"s\"\nmode = \"best\"").is_err());
    }
}
