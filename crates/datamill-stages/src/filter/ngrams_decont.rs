//! Drops (or labels) documents that contain an n-gram of a benchmark: datatrove 0.10.1's
//! `NGramsDecontIndexer` + `NGramsDecontFilter`, with the index built from local files.
//!
//! Index: every document of the `benchmarks` files (JSONL or Parquet, read once when the
//! stage is built) is a benchmark item as datatrove's indexer takes its input documents: the
//! text field (`text_field`) is the answer/gold (datatrove's "label"), the optional field
//! `query_field` the prompt, the optional field `task_field` the task name (`"input"` when
//! absent, as datatrove). Texts are normalized with datatrove's `simplify_text` and split into
//! words by datatrove's word tokenizer for `language`; the index holds the hashes of the
//! label's `n_grams`-grams (words joined with a space), plus with `find_query_ngrams` those of
//! the query, plus with `find_overlap_ngrams` the n-grams that span the end of the query and the
//! start of the label.
//!
//! Each document's text is normalized and tokenized the same way; its first n-gram (in text
//! order) whose hash is in the index contaminates it: the document gets metadata
//! `contaminated_ngram` (the n-gram), `contaminated_task` (the task, spaces written `_`, as
//! datatrove names it from its index file) and, datamill's addition, `contaminated_doc` (the
//! id of the benchmark item it came from: its `id` field, else the reader's id) and
//! `contaminated_file` (the benchmark file). With `mode = "drop"` (default, datatrove) the
//! document is dropped with reason `contaminated` (`excluded/` shows the fields); with
//! `mode = "label"` it is kept with the fields. Counter: `contaminated`.
//!
//! An n-gram found in several tasks names the task datatrove would name: the last in the
//! order of its index file names (`<task>.index.hashes`, sorted); within a task, the first
//! benchmark item (in file order) that has it.
//!
//! Parameters (datatrove's `NGramsDecontConfig` names and defaults): `n_grams` (12),
//! `find_query_ngrams` (false), `find_overlap_ngrams` (true), `hash_precision` (64) and `hash_fc`
//! (`"xxhash"`) (its `hash_config`), `language` (`"en"`); datamill's: `benchmarks` (files,
//! required), `text_field` (`"text"`), `query_field` (`"query"`), `task_field` (`"task"`),
//! `mode` (`"drop"`).
//!
//! Differences a datatrove user sees (checked document for document against datatrove 0.10.1,
//! `tests/golden/ngrams_decont/`): no lighteval task download (no network: export the
//! benchmark to a local file first); a benchmark item without a query is accepted (datatrove's
//! indexer refuses it unless `find_query_ngrams`); the stat is `contaminated` (datatrove counts
//! `contaminated_<task>`: the task is in each document's `contaminated_task`).
//!
//! Memory: the index, about 40 bytes per distinct n-gram hash.
//!
//! ```toml
//! [[stage]]
//! type = "ngrams_decont"
//! benchmarks = ["benchmarks/mmlu_test.jsonl"]
//! n_grams = 12
//! mode = "label"
//! ```

use crate::dedup::resolve;
use crate::dedup::text::datatrove::{HashConfig, simplify_text};
use crate::{BuildCx, StageSpec, Step};
use datamill_core::{Doc, Stage, StageCx, StageError, Verdict};
use datamill_filters::lang::WordTokenizer;
use serde::Deserialize;
use std::collections::HashMap;

fn twelve() -> usize {
    12
}
fn sixty_four() -> u32 {
    64
}
fn xxhash() -> String {
    "xxhash".into()
}
fn en() -> String {
    "en".into()
}
fn text() -> String {
    "text".into()
}
fn query() -> String {
    "query".into()
}
fn task() -> String {
    "task".into()
}

/// What happens to a contaminated document.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Drop it (reason `contaminated`), as datatrove.
    #[default]
    Drop,
    /// Keep it with the `contaminated_*` fields.
    Label,
}

/// The `ngrams_decont` stage's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NgramsDecont {
    /// Benchmark files (JSONL or Parquet).
    pub benchmarks: Vec<String>,
    /// Words per n-gram.
    #[serde(default = "twelve")]
    pub n_grams: usize,
    /// Also index the n-grams of the query alone.
    #[serde(default)]
    pub find_query_ngrams: bool,
    /// Also index the n-grams spanning query and label.
    #[serde(default = "crate::yes")]
    pub find_overlap_ngrams: bool,
    /// Hash width, 32 or 64 bits.
    #[serde(default = "sixty_four")]
    pub hash_precision: u32,
    /// `"xxhash"` or `"sha1"`.
    #[serde(default = "xxhash")]
    pub hash_fc: String,
    /// The language whose datatrove word tokenizer splits words.
    #[serde(default = "en")]
    pub language: String,
    /// The benchmark items' label (answer) field.
    #[serde(default = "text")]
    pub text_field: String,
    /// The benchmark items' query (prompt) field.
    #[serde(default = "query")]
    pub query_field: String,
    /// The benchmark items' task field.
    #[serde(default = "task")]
    pub task_field: String,
    /// `"drop"` or `"label"`.
    #[serde(default)]
    pub mode: Mode,
}

/// One benchmark item an n-gram came from.
#[derive(Clone, Copy)]
struct Origin {
    task: u32,
    item: u32,
}

struct Built {
    cfg: NgramsDecont,
    hash: HashConfig,
    tok: WordTokenizer,
    /// Task names (spaces as `_`).
    tasks: Vec<String>,
    /// Benchmark items: (id, file).
    items: Vec<(String, u32)>,
    files: Vec<String>,
    index: HashMap<u64, Origin, foldhash::fast::FixedState>,
}

impl Built {
    fn tokens(&self, text: &str) -> Vec<String> {
        let s = simplify_text(text);
        self.tok.words(&s).into_iter().map(String::from).collect()
    }

    /// datatrove's `NGramsDecontIndexer.compute_hashes(label, query)`.
    fn item_hashes(&self, label: &str, query: Option<&str>) -> Vec<u64> {
        let n = self.cfg.n_grams;
        let l = self.tokens(label);
        let mut grams: Vec<String> = l.windows(n).map(|w| w.join(" ")).collect();
        if let Some(q) = query {
            let q = self.tokens(q);
            if self.cfg.find_query_ngrams {
                grams.extend(q.windows(n).map(|w| w.join(" ")));
            }
            if self.cfg.find_overlap_ngrams {
                for i in 0..n - 1 {
                    if q.len() >= n - 1 - i && l.len() > i {
                        let mut g: Vec<&str> = q[q.len() - (n - 1 - i)..]
                            .iter()
                            .map(String::as_str)
                            .collect();
                        g.extend(l[..=i].iter().map(String::as_str));
                        grams.push(g.join(" "));
                    }
                }
            }
        }
        grams.iter().map(|g| self.hash.hash(g)).collect()
    }
}

impl StageSpec for NgramsDecont {
    fn build(&self, cx: &BuildCx) -> Result<Step, StageError> {
        if self.n_grams == 0 {
            return Err(StageError::config("n_grams", "must be at least 1"));
        }
        if self.benchmarks.is_empty() {
            return Err(StageError::config(
                "benchmarks",
                "name at least one local file of benchmark items (JSONL or Parquet)",
            ));
        }
        let hash = HashConfig::new(self.hash_precision, &self.hash_fc)?;
        let tok = datamill_filters::lang::word_tokenizer(&self.language)
            .map_err(|e| StageError::config("language", e.to_string()))?;
        let mut b = Built {
            cfg: self.clone(),
            hash,
            tok,
            tasks: Vec::new(),
            items: Vec::new(),
            files: self.benchmarks.clone(),
            index: HashMap::default(),
        };
        // per task: hash -> first item that has it
        let mut per_task: Vec<HashMap<u64, u32, foldhash::fast::FixedState>> = Vec::new();
        for (f, p) in self.benchmarks.iter().enumerate() {
            let path = resolve(&cx.base_dir, p);
            crate::reference::for_each_doc(path, &self.text_field, "id", &mut |d| {
                let task = d
                    .get_str(&self.task_field)
                    .map(|t| t.replace(' ', "_"))
                    .unwrap_or_else(|| "input".into());
                let t = match b.tasks.iter().position(|x| *x == task) {
                    Some(t) => t,
                    None => {
                        b.tasks.push(task);
                        per_task.push(HashMap::default());
                        b.tasks.len() - 1
                    }
                };
                let item = b.items.len() as u32;
                b.items.push((d.id().to_string(), f as u32));
                let q = d.get_str(&self.query_field);
                for h in b.item_hashes(d.text(), q.as_deref()) {
                    per_task[t].entry(h).or_insert(item);
                }
                Ok(())
            })
            .map_err(|e| StageError::config("benchmarks", e))?;
        }
        // datatrove loads the index files in sorted name order, a later task overwriting
        let mut order: Vec<usize> = (0..b.tasks.len()).collect();
        order.sort_by(|&x, &y| {
            format!("{}.index.hashes", b.tasks[x]).cmp(&format!("{}.index.hashes", b.tasks[y]))
        });
        for t in order {
            for (&h, &item) in &per_task[t] {
                b.index.insert(
                    h,
                    Origin {
                        task: t as u32,
                        item,
                    },
                );
            }
        }
        Ok(Step::Map(Box::new(b)))
    }
}

impl Stage for Built {
    fn process(&self, doc: &mut Doc, cx: &mut StageCx) -> Result<Verdict, StageError> {
        let n = self.cfg.n_grams;
        let toks = self.tokens(doc.text());
        for w in toks.windows(n) {
            let gram = w.join(" ");
            if let Some(o) = self.index.get(&self.hash.hash(&gram)) {
                let (id, file) = &self.items[o.item as usize];
                doc.set("contaminated_ngram", &gram);
                doc.set("contaminated_task", &self.tasks[o.task as usize]);
                doc.set("contaminated_doc", id);
                doc.set("contaminated_file", &self.files[*file as usize]);
                cx.count("contaminated", 1);
                return Ok(match self.cfg.mode {
                    Mode::Drop => Verdict::drop("contaminated"),
                    Mode::Label => Verdict::Keep,
                });
            }
        }
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(src: &str, dir: &std::path::Path) -> Result<Step, StageError> {
        let c: NgramsDecont = toml::from_str(src).unwrap();
        c.build(&BuildCx {
            seed: 0,
            base_dir: dir.to_path_buf(),
        })
    }

    fn stage(src: &str, dir: &std::path::Path) -> Box<dyn Stage> {
        match build(src, dir).unwrap() {
            Step::Map(s) => s,
            Step::Global(_) => panic!("a map stage"),
        }
    }

    #[test]
    fn names_the_task_and_item_and_labels_or_drops() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("b.jsonl"),
            concat!(
                "{\"id\": \"q1\", \"task\": \"my task\", \"query\": \"The cat sat on\", \"text\": \"the mat today\"}\n",
                "{\"id\": \"q2\", \"task\": \"zzz\", \"text\": \"Alpha beta gamma delta.\"}\n",
                "{\"id\": \"q3\", \"task\": \"aaa\", \"text\": \"alpha, BETA gamma delta\"}\n",
            ),
        )
        .unwrap();
        let src = "benchmarks = [\"b.jsonl\"]\nn_grams = 3";
        let s = stage(src, dir.path());
        let mut d = Doc::new("x", "Yesterday: on the MAT, today!");
        let v = s.process(&mut d, &mut StageCx::default()).unwrap();
        assert_eq!(v, Verdict::drop("contaminated"));
        // an overlap n-gram (query end + label start)
        assert_eq!(d.get_str("contaminated_ngram").unwrap(), "on the mat");
        assert_eq!(d.get_str("contaminated_task").unwrap(), "my_task");
        assert_eq!(d.get_str("contaminated_doc").unwrap(), "q1");
        // both zzz and aaa have "alpha beta gamma": datatrove's index order names zzz
        let mut d = Doc::new("y", "alpha beta gamma");
        s.process(&mut d, &mut StageCx::default()).unwrap();
        assert_eq!(d.get_str("contaminated_task").unwrap(), "zzz");
        assert_eq!(d.get_str("contaminated_doc").unwrap(), "q2");
        // the query alone is indexed only with find_query_ngrams
        let mut d = Doc::new("z", "the cat sat");
        assert_eq!(
            s.process(&mut d, &mut StageCx::default()).unwrap(),
            Verdict::Keep
        );
        let s = stage(
            &format!("{src}\nfind_query_ngrams = true\nmode = \"label\""),
            dir.path(),
        );
        let mut d = Doc::new("z", "the cat sat");
        assert_eq!(
            s.process(&mut d, &mut StageCx::default()).unwrap(),
            Verdict::Keep
        );
        assert_eq!(d.get_str("contaminated_doc").unwrap(), "q1");
    }

    #[test]
    fn bad_parameters_are_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bad.jsonl"), "{\"text\": 3}\n").unwrap();
        for (src, param) in [
            ("benchmarks = []", "benchmarks"),
            ("benchmarks = [\"missing.jsonl\"]", "missing.jsonl"),
            ("benchmarks = [\"bad.jsonl\"]", "bad.jsonl"),
            ("benchmarks = [\"bad.jsonl\"]\nn_grams = 0", "n_grams"),
            (
                "benchmarks = [\"bad.jsonl\"]\nhash_precision = 8",
                "hash_precision",
            ),
            (
                "benchmarks = [\"bad.jsonl\"]\nlanguage = \"no_Such\"",
                "language",
            ),
        ] {
            let e = build(src, dir.path()).err().expect(src).to_string();
            assert!(e.contains(param), "{src}: {e}");
        }
    }
}
