//! The mixture file (TOML, version 1). The configuration *is* these structs: unknown keys are
//! refused, and every error names the line and the source or phase it concerns.
//!
//! ```toml
//! version = 1
//! seed = 0
//! budget = "2M"                          # tokens in the whole mixture ("all" = every unique token once)
//! tokenizer = "models/gpt2.json.zst"     # exact counts and tokenized outputs (or token_field = "...")
//! eos = "<|endoftext|>"                  # appended to every document (counted)
//!
//! [[source]]
//! name = "web"
//! paths = ["data/web/*.jsonl.zst"]
//! max_epochs = 2                         # cap over the whole run
//!
//! [[source]]
//! name = "code"
//! paths = ["data/code.parquet"]
//!
//! [weights]                              # the default weights of every phase
//! method = "unimax"                      # manual | proportional | temperature | unimax
//! max_epochs = 4                         # UniMax's N; the default cap of every source
//!
//! [[phase]]
//! name = "main"
//! fraction = 0.9
//!
//! [[phase]]
//! name = "anneal"
//! fraction = 0.1
//! fixed = { code = 0.3 }                 # a fixed share; the rest by the method
//!
//! [output]
//! dir = "out/mix"
//! tokenized = ["megatron", "datatrove", "numpy"]
//! ```

use datamill_core::ByteSize;
use datamill_io::{Compression, Format};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::MixError;

/// A number of tokens: an integer, or a string such as `"2M"`, `"2.5B"`, `"250e9"`, `"1_000"`
/// (decimal suffixes K, M, B or G, T), or `"all"` for the budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum TokenAmount {
    /// This many tokens.
    Tokens(u64),
    /// Every unique token of the sources once (budget only).
    All,
}

impl TokenAmount {
    /// Parses `"2M"`, `"2.5B"`, `"1e9"`, `"all"`.
    pub fn parse(s: &str) -> Result<TokenAmount, String> {
        let t = s.trim().replace('_', "");
        if t.eq_ignore_ascii_case("all") {
            return Ok(TokenAmount::All);
        }
        let bad = || {
            format!(
                "`{s}` is not a token count (examples: 1000000, \"2M\", \"2.5B\", \"1e9\", \"all\")"
            )
        };
        let (num, mult) = match t.chars().last() {
            Some(c) if c.is_ascii_alphabetic() && !t.ends_with(['e', 'E']) => {
                let mult: f64 = match c.to_ascii_uppercase() {
                    'K' => 1e3,
                    'M' => 1e6,
                    'B' | 'G' => 1e9,
                    'T' => 1e12,
                    _ => return Err(bad()),
                };
                (&t[..t.len() - 1], mult)
            }
            _ => (t.as_str(), 1.0),
        };
        let v: f64 = num.trim().parse().map_err(|_| bad())?;
        let v = v * mult;
        if !(v.is_finite() && (0.0..1.8e19).contains(&v)) {
            return Err(bad());
        }
        Ok(TokenAmount::Tokens(v.round() as u64))
    }
}

impl<'de> Deserialize<'de> for TokenAmount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u64),
            F(f64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => Ok(TokenAmount::Tokens(n)),
            Raw::F(f) if f.is_finite() && f >= 0.0 => Ok(TokenAmount::Tokens(f.round() as u64)),
            Raw::F(f) => Err(serde::de::Error::custom(format!(
                "`{f}` is not a token count"
            ))),
            Raw::S(s) => TokenAmount::parse(&s).map_err(serde::de::Error::custom),
        }
    }
}

/// How a phase's weights are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// The shares given (`weight` per source, or the phase's `weights` table).
    Manual,
    /// Proportional to each source's unique tokens.
    Proportional,
    /// `p ∝ n^(1/τ)` (mT5's temperature sampling), capped by the epoch limits.
    Temperature,
    /// UniMax (Chung et al. 2023): uniform, each source capped at `max_epochs` epochs.
    Unimax,
}

impl Method {
    /// The method's name as written in the file.
    pub fn name(self) -> &'static str {
        match self {
            Method::Manual => "manual",
            Method::Proportional => "proportional",
            Method::Temperature => "temperature",
            Method::Unimax => "unimax",
        }
    }
}

fn default_text() -> String {
    "text".into()
}
fn default_id() -> String {
    "id".into()
}
fn default_max_line() -> ByteSize {
    ByteSize(64 << 20)
}
fn default_unit() -> ByteSize {
    ByteSize(64 << 20)
}

/// `[[source]]`: a named set of documents.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// The source's name (letters, digits, `_`, `-`, `.`; unique).
    pub name: String,
    /// Files, folders or globs (relative to the mixture file): JSONL (plain, .gz, .zst) or
    /// Parquet, e.g. the output folder of a `datamill run`.
    pub paths: Vec<String>,
    /// `"jsonl"` or `"parquet"`; by default from each file's extension.
    pub format: Option<Format>,
    /// The field holding the text.
    #[serde(default = "default_text")]
    pub text_field: String,
    /// The field holding the id.
    #[serde(default = "default_id")]
    pub id_field: String,
    /// JSONL lines longer than this are quarantined.
    #[serde(default = "default_max_line")]
    pub max_line_bytes: ByteSize,
    /// Target size of a counting task (see `datamill run`'s `unit_size`).
    #[serde(default = "default_unit")]
    pub unit_size: ByteSize,
    /// A metadata field holding each document's token count (when no `tokenizer` is given;
    /// overrides the top-level `token_field`).
    pub token_field: Option<String>,
    /// The share of this source under `method = "manual"`.
    pub weight: Option<f64>,
    /// At most this many epochs over the whole run (default: `[weights].max_epochs`).
    pub max_epochs: Option<f64>,
}

/// `[weights]` or a phase's weight settings.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WeightsConfig {
    /// The method (default: `manual` when sources have a `weight`, else `proportional`).
    pub method: Option<Method>,
    /// Temperature τ for `method = "temperature"` (τ = 1 is proportional; mT5 used 3.33).
    pub tau: Option<f64>,
    /// UniMax's N, and the default epoch cap of every source.
    pub max_epochs: Option<f64>,
    /// Fixed shares of named sources (replay of an old corpus, end-of-training upsampling);
    /// the other sources share the rest by the method.
    #[serde(default)]
    pub fixed: BTreeMap<String, f64>,
    /// Manual weights read from a JSON file (`datamill mix-weights` output, or an object of
    /// source → share), relative to the mixture file; implies `method = "manual"`.
    pub weights_file: Option<String>,
}

/// `[[phase]]`: a part of the budget with its own weights.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseConfig {
    /// The phase's name.
    pub name: String,
    /// Its share of the budget; the shares of all phases sum to 1.
    pub fraction: f64,
    /// The method in this phase (default: `[weights].method`, or `manual` with `weights`).
    pub method: Option<Method>,
    /// Temperature in this phase.
    pub tau: Option<f64>,
    /// Manual shares of this phase (sources not named get 0); implies `method = "manual"`.
    pub weights: Option<BTreeMap<String, f64>>,
    /// Fixed shares in this phase (replaces `[weights].fixed`).
    pub fixed: Option<BTreeMap<String, f64>>,
    /// This phase's manual weights from a JSON file (see [`WeightsConfig::weights_file`]).
    pub weights_file: Option<String>,
}

/// `[repetition]`: how repeated data is valued.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RepetitionConfig {
    /// Warn about sources drawn for more epochs than this (Muennighoff et al. 2023: up to ~4
    /// epochs are worth almost as much as fresh data).
    #[serde(default = "default_warn")]
    pub warn_epochs: f64,
    /// The data-constrained law whose R_D* values repeated tokens: `builtin:datablations`
    /// (the published R_D* = 15.39) or a law file written by `datamill scaling fit --law
    /// data-constrained` (relative to the mixture file).
    #[serde(default = "default_law")]
    pub law: String,
}

fn default_warn() -> f64 {
    4.0
}
fn default_law() -> String {
    "builtin:datablations".into()
}

impl Default for RepetitionConfig {
    fn default() -> Self {
        RepetitionConfig {
            warn_epochs: default_warn(),
            law: default_law(),
        }
    }
}

/// The format of the documents written in training order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentsFormat {
    /// JSON Lines (compressed by `compression`).
    Jsonl,
    /// Parquet.
    Parquet,
    /// No document shards (tokenized outputs only).
    None,
}

/// A tokenized output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenizedFormat {
    /// Megatron-LM's indexed dataset (`.bin` + `.idx`, megatron-core's `IndexedDataset`).
    Megatron,
    /// datatrove 0.10.1 `DocumentTokenizer` files (`.ds`, `.ds.index`, `.ds.metadata`), for
    /// nanotron.
    Datatrove,
    /// A flat token file (raw little-endian uint16/uint32, `np.memmap`-able as nanoGPT and
    /// OLMo read them) and a `.npy` of document start offsets.
    Numpy,
}

/// `[output.dd]`: Dataset Decomposition buckets (Pouransari et al. 2024).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DdConfig {
    /// log2 of the shortest kept sequence (chunks are 2^k + 1 tokens).
    #[serde(default = "default_min_log2")]
    pub min_log2: u32,
    /// log2 of the longest sequence.
    #[serde(default = "default_max_log2")]
    pub max_log2: u32,
    /// Curriculum odds per bucket from `min_log2` up (default Grow-P2: 2^(max−k)).
    pub odds: Option<Vec<f64>>,
    /// Split over-long documents at random bucket sizes (p(k) ∝ 2^(max−k)), seeded, as the
    /// reference's default does; `false` (the default) keeps the longest chunks, as
    /// `get_binary(randomize=False)`.
    #[serde(default)]
    pub randomize: bool,
}

fn default_min_log2() -> u32 {
    8
}
fn default_max_log2() -> u32 {
    13
}

/// `[output]`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// The output folder, relative to the mixture file (`--output` overrides it).
    pub dir: Option<String>,
    /// Documents in training order: `"jsonl"` (default), `"parquet"` or `"none"`.
    #[serde(default = "default_docs")]
    pub documents: DocumentsFormat,
    /// Codec of JSONL document shards: `"zstd"` (default), `"gzip"`, `"none"`.
    #[serde(default = "default_compression")]
    pub compression: Compression,
    /// Codec level (default: zstd 3, gzip 6).
    pub level: Option<i32>,
    /// A document shard is closed after this many uncompressed bytes.
    #[serde(default = "default_shard")]
    pub max_shard_bytes: ByteSize,
    /// Tokenized outputs (need `tokenizer`).
    #[serde(default)]
    pub tokenized: Vec<TokenizedFormat>,
    /// The training sequence is cut into parts of about this many tokens; each part is one
    /// task and one file per format (default 1G tokens).
    #[serde(default = "default_part")]
    pub part_tokens: TokenAmount,
    /// Add `"mix": {"source", "phase", "epoch"}` to every written document.
    #[serde(default = "default_true")]
    pub annotate: bool,
    /// Dataset Decomposition buckets of the tokenized mixture.
    pub dd: Option<DdConfig>,
}

fn default_docs() -> DocumentsFormat {
    DocumentsFormat::Jsonl
}
fn default_compression() -> Compression {
    Compression::Zstd
}
fn default_shard() -> ByteSize {
    ByteSize(256 * 1_000_000)
}
fn default_part() -> TokenAmount {
    TokenAmount::Tokens(1_000_000_000)
}
fn default_true() -> bool {
    true
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            dir: None,
            documents: default_docs(),
            compression: default_compression(),
            level: None,
            max_shard_bytes: default_shard(),
            tokenized: Vec::new(),
            part_tokens: default_part(),
            annotate: true,
            dd: None,
        }
    }
}

/// A whole mixture file.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MixConfig {
    /// The file format version; must be 1.
    pub version: u32,
    /// Seed of every epoch order.
    #[serde(default)]
    pub seed: u64,
    /// Tokens in the whole mixture.
    pub budget: TokenAmount,
    /// A Hugging Face tokenizer.json (or .json.zst), relative to the mixture file: exact
    /// token counts and tokenized outputs.
    pub tokenizer: Option<String>,
    /// Without a tokenizer: the metadata field holding each document's token count.
    pub token_field: Option<String>,
    /// A token appended to every document (its text, e.g. `"<|endoftext|>"`), as datatrove's
    /// `eos_token` does.
    pub eos: Option<String>,
    /// Repeat the phase list this many times (a cyclical schedule), each phase's fraction
    /// divided by the count.
    #[serde(default = "default_cycles")]
    pub cycles: u32,
    /// The sources.
    #[serde(default, rename = "source")]
    pub sources: Vec<SourceConfig>,
    /// The default weights.
    #[serde(default)]
    pub weights: WeightsConfig,
    /// The phases (default: one phase, `main`, with the whole budget).
    #[serde(default, rename = "phase")]
    pub phases: Vec<PhaseConfig>,
    /// How repetition is valued.
    #[serde(default)]
    pub repetition: RepetitionConfig,
    /// The outputs.
    #[serde(default)]
    pub output: OutputConfig,
}

fn default_cycles() -> u32 {
    1
}

/// A parsed mixture file.
#[derive(Clone, Debug)]
pub struct MixFile {
    /// The configuration.
    pub config: MixConfig,
    /// The file.
    pub path: PathBuf,
    /// The folder relative paths resolve against.
    pub base_dir: PathBuf,
    /// The file's text.
    pub source: String,
}

/// Line (1-based) of byte offset `at` in `src`.
fn line_of(src: &str, at: usize) -> usize {
    src[..at.min(src.len())].matches('\n').count() + 1
}

/// The line of `key` inside the `i`-th `[[table]]` (or `[table]` when `i` is `None`), the
/// table's header line when the key is absent, 0 when the table is absent.
pub fn key_line(src: &str, table: &str, i: Option<usize>, key: &str) -> usize {
    let mut count = 0usize;
    let mut inside = table.is_empty();
    let mut header = 0;
    for (n, l) in src.lines().enumerate() {
        let t = l.trim();
        if t.starts_with('[') {
            let name = t
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim();
            let is_array = t.starts_with("[[");
            inside = false;
            if name == table {
                match (i, is_array) {
                    (Some(want), true) => {
                        inside = count == want;
                        count += 1;
                    }
                    (None, false) => inside = true,
                    _ => {}
                }
                if inside {
                    header = n + 1;
                }
            }
            continue;
        }
        if inside
            && let Some(rest) = t.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            return n + 1;
        }
    }
    header
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && !s.starts_with('.')
}

impl MixFile {
    /// Reads and parses a mixture file and checks everything that does not need the data.
    pub fn load(path: &Path) -> Result<MixFile, MixError> {
        let source = std::fs::read_to_string(path).map_err(|e| MixError::Config {
            path: path.to_path_buf(),
            line: 0,
            message: format!("cannot read: {e}"),
        })?;
        let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        MixFile::from_source(path, &source, &base_dir)
    }

    /// Parses mixture text; `path` is used in messages.
    pub fn from_source(path: &Path, source: &str, base_dir: &Path) -> Result<MixFile, MixError> {
        let config: MixConfig = toml::from_str(source).map_err(|e| MixError::Config {
            path: path.to_path_buf(),
            line: e.span().map(|s| line_of(source, s.start)).unwrap_or(0),
            message: e.message().trim().to_string(),
        })?;
        let mut f = MixFile {
            config,
            path: path.to_path_buf(),
            base_dir: base_dir.to_path_buf(),
            source: source.to_string(),
        };
        f.read_weight_files()?;
        f.check()?;
        Ok(f)
    }

    /// Reads a weights file: an object with a `weights` object (what `datamill mix-weights`
    /// writes) or an object of source → share.
    fn weights_from(&self, file: &str) -> Result<BTreeMap<String, f64>, String> {
        let p = self.resolve(file);
        let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))?;
        let obj = v
            .get("weights")
            .unwrap_or(&v)
            .as_object()
            .ok_or_else(|| format!("{}: not an object of source -> share", p.display()))?;
        let mut out = BTreeMap::new();
        for (k, x) in obj {
            let share = x
                .as_f64()
                .ok_or_else(|| format!("{}: the share of `{k}` is not a number", p.display()))?;
            out.insert(k.clone(), share);
        }
        Ok(out)
    }

    /// Turns `weights_file`s into the manual weights they hold.
    fn read_weight_files(&mut self) -> Result<(), MixError> {
        if let Some(file) = self.config.weights.weights_file.clone() {
            let w = self
                .weights_from(&file)
                .map_err(|m| self.err("weights", None, "weights_file", m))?;
            for (i, s) in self.config.sources.iter().enumerate() {
                if s.weight.is_some() {
                    return Err(self.err(
                        "source",
                        Some(i),
                        "weight",
                        format!(
                            "source `{}` has a `weight` and `[weights].weights_file` gives weights too: keep one",
                            s.name
                        ),
                    ));
                }
            }
            for name in w.keys() {
                if self.source_index(name).is_none() {
                    return Err(self.err(
                        "weights",
                        None,
                        "weights_file",
                        format!(
                            "{file}: `{name}` is not a source (sources: {})",
                            self.names()
                        ),
                    ));
                }
            }
            if self
                .config
                .weights
                .method
                .is_some_and(|m| m != Method::Manual)
            {
                return Err(self.err(
                    "weights",
                    None,
                    "weights_file",
                    "`weights_file` gives manual weights: drop `method`".into(),
                ));
            }
            for s in &mut self.config.sources {
                s.weight = Some(w.get(&s.name).copied().unwrap_or(0.0));
            }
            self.config.weights.method = Some(Method::Manual);
        }
        for i in 0..self.config.phases.len() {
            if let Some(file) = self.config.phases[i].weights_file.clone() {
                if self.config.phases[i].weights.is_some() {
                    return Err(self.err(
                        "phase",
                        Some(i),
                        "weights_file",
                        "give `weights` or `weights_file`, not both".into(),
                    ));
                }
                let w = self
                    .weights_from(&file)
                    .map_err(|m| self.err("phase", Some(i), "weights_file", m))?;
                self.config.phases[i].weights = Some(w);
            }
        }
        Ok(())
    }

    /// An error at `key` of the `i`-th `[[table]]` (or `[table]`).
    pub fn err(&self, table: &str, i: Option<usize>, key: &str, message: String) -> MixError {
        MixError::Config {
            path: self.path.clone(),
            line: key_line(&self.source, table, i, key),
            message,
        }
    }

    /// Index of the source named `name`.
    pub fn source_index(&self, name: &str) -> Option<usize> {
        self.config.sources.iter().position(|s| s.name == name)
    }

    fn check_shares(
        &self,
        table: &str,
        i: Option<usize>,
        key: &str,
        what: &str,
        shares: &BTreeMap<String, f64>,
    ) -> Result<(), MixError> {
        for (name, &v) in shares {
            if self.source_index(name).is_none() {
                return Err(self.err(
                    table,
                    i,
                    key,
                    format!(
                        "{what}: `{name}` is not a source (sources: {})",
                        self.names()
                    ),
                ));
            }
            if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
                return Err(self.err(
                    table,
                    i,
                    key,
                    format!("{what}: the share of `{name}` is {v}, not in [0, 1]"),
                ));
            }
        }
        Ok(())
    }

    fn names(&self) -> String {
        let v: Vec<&str> = self
            .config
            .sources
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        v.join(", ")
    }

    fn check(&self) -> Result<(), MixError> {
        let c = &self.config;
        if c.version != 1 {
            return Err(self.err(
                "",
                None,
                "version",
                format!(
                    "unsupported mixture version {} (this datamill reads version 1)",
                    c.version
                ),
            ));
        }
        if c.sources.is_empty() {
            return Err(self.err(
                "",
                None,
                "budget",
                "no `[[source]]`: a mixture needs at least one source".into(),
            ));
        }
        if c.budget == TokenAmount::Tokens(0) {
            return Err(self.err("", None, "budget", "`budget` is 0 tokens".into()));
        }
        if c.cycles == 0 {
            return Err(self.err("", None, "cycles", "`cycles` must be at least 1".into()));
        }
        match (&c.tokenizer, &c.token_field) {
            (Some(_), Some(_)) => {
                return Err(self.err(
                    "",
                    None,
                    "token_field",
                    "give either `tokenizer` (exact counts) or `token_field`, not both".into(),
                ));
            }
            (None, None) if c.sources.iter().any(|s| s.token_field.is_none()) => {
                let i = c.sources.iter().position(|s| s.token_field.is_none());
                return Err(self.err(
                    "source",
                    i,
                    "name",
                    format!(
                        "source `{}`: no token counts: give `tokenizer` (a tokenizer.json) or \
                         `token_field` (a metadata field holding counts)",
                        c.sources[i.unwrap_or(0)].name
                    ),
                ));
            }
            _ => {}
        }
        if c.eos.is_some() && c.tokenizer.is_none() {
            return Err(self.err("", None, "eos", "`eos` needs a `tokenizer`".into()));
        }
        if (!c.output.tokenized.is_empty() || c.output.dd.is_some()) && c.tokenizer.is_none() {
            return Err(self.err(
                "output",
                None,
                "tokenized",
                "tokenized outputs (`tokenized`, `dd`) need a `tokenizer`".into(),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        let default_cap = c.weights.max_epochs;
        for (i, s) in c.sources.iter().enumerate() {
            if !valid_name(&s.name) {
                return Err(self.err(
                    "source",
                    Some(i),
                    "name",
                    format!(
                        "source name `{}` must be 1-64 letters, digits, `_`, `-` or `.`, not \
                         starting with `.`",
                        s.name.escape_debug()
                    ),
                ));
            }
            if !seen.insert(s.name.as_str()) {
                return Err(self.err(
                    "source",
                    Some(i),
                    "name",
                    format!("source `{}` is defined twice", s.name),
                ));
            }
            if s.paths.is_empty() {
                return Err(self.err(
                    "source",
                    Some(i),
                    "paths",
                    format!("source `{}`: `paths` is empty", s.name),
                ));
            }
            if s.token_field.is_some() && c.tokenizer.is_some() {
                return Err(self.err(
                    "source",
                    Some(i),
                    "token_field",
                    format!(
                        "source `{}`: `token_field` cannot be used with `tokenizer` (counts \
                         come from the tokenizer)",
                        s.name
                    ),
                ));
            }
            if let Some(w) = s.weight
                && !(w.is_finite() && (0.0..=1.0).contains(&w))
            {
                return Err(self.err(
                    "source",
                    Some(i),
                    "weight",
                    format!("source `{}`: `weight` = {w} is not in [0, 1]", s.name),
                ));
            }
            if let Some(m) = s.max_epochs.or(default_cap)
                && !(m.is_finite() && m > 0.0)
            {
                return Err(self.err(
                    "source",
                    Some(i),
                    "max_epochs",
                    format!("source `{}`: `max_epochs` = {m} must be positive", s.name),
                ));
            }
        }
        // Default weights.
        let w = &c.weights;
        if let Some(t) = w.tau
            && !(t.is_finite() && t > 0.0)
        {
            return Err(self.err(
                "weights",
                None,
                "tau",
                format!("`tau` = {t} must be positive"),
            ));
        }
        self.check_shares("weights", None, "fixed", "`[weights].fixed`", &w.fixed)?;
        let any_weight = c.sources.iter().any(|s| s.weight.is_some());
        let method = w.method.unwrap_or(if any_weight {
            Method::Manual
        } else {
            Method::Proportional
        });
        if method == Method::Manual {
            let phase_tables = !c.phases.is_empty() && c.phases.iter().all(|p| p.weights.is_some());
            if !phase_tables {
                self.check_manual_sources()?;
            }
        }
        if method == Method::Temperature && w.tau.is_none() {
            return Err(self.err(
                "weights",
                None,
                "method",
                "`method = \"temperature\"` needs `tau`".into(),
            ));
        }
        if method == Method::Unimax && w.max_epochs.is_none() {
            return Err(self.err(
                "weights",
                None,
                "method",
                "`method = \"unimax\"` needs `max_epochs` (UniMax's N)".into(),
            ));
        }
        // Phases.
        let mut total = 0.0;
        let mut names = std::collections::HashSet::new();
        for (i, p) in c.phases.iter().enumerate() {
            if !valid_name(&p.name) {
                return Err(self.err(
                    "phase",
                    Some(i),
                    "name",
                    format!(
                        "phase name `{}` must be 1-64 letters, digits, `_`, `-` or `.`",
                        p.name.escape_debug()
                    ),
                ));
            }
            if !names.insert(p.name.as_str()) {
                return Err(self.err(
                    "phase",
                    Some(i),
                    "name",
                    format!("phase `{}` is defined twice", p.name),
                ));
            }
            if !(p.fraction.is_finite() && p.fraction > 0.0 && p.fraction <= 1.0) {
                return Err(self.err(
                    "phase",
                    Some(i),
                    "fraction",
                    format!(
                        "phase `{}`: `fraction` = {} is not in (0, 1]",
                        p.name, p.fraction
                    ),
                ));
            }
            total += p.fraction;
            if let Some(t) = p.tau
                && !(t.is_finite() && t > 0.0)
            {
                return Err(self.err(
                    "phase",
                    Some(i),
                    "tau",
                    format!("phase `{}`: `tau` = {t} must be positive", p.name),
                ));
            }
            let what = format!("phase `{}`", p.name);
            if let Some(ws) = &p.weights {
                if p.method.is_some_and(|m| m != Method::Manual) {
                    return Err(self.err(
                        "phase",
                        Some(i),
                        "weights",
                        format!("{what}: `weights` are manual shares; drop `method` or `weights`"),
                    ));
                }
                self.check_shares("phase", Some(i), "weights", &what, ws)?;
                let sum: f64 = ws.values().sum();
                if (sum - 1.0).abs() > 1e-6 {
                    return Err(self.err(
                        "phase",
                        Some(i),
                        "weights",
                        format!("{what}: `weights` sum to {sum}, not 1"),
                    ));
                }
            }
            if let Some(fx) = &p.fixed {
                self.check_shares("phase", Some(i), "fixed", &what, fx)?;
            }
            let pm = p
                .method
                .or(p.weights.as_ref().map(|_| Method::Manual))
                .unwrap_or(method);
            if pm == Method::Manual && p.weights.is_none() {
                self.check_manual_sources()?;
            }
            if pm == Method::Temperature && p.tau.or(w.tau).is_none() {
                return Err(self.err(
                    "phase",
                    Some(i),
                    "method",
                    format!("{what}: `method = \"temperature\"` needs `tau`"),
                ));
            }
            if pm == Method::Unimax && w.max_epochs.is_none() {
                return Err(self.err(
                    "phase",
                    Some(i),
                    "method",
                    format!("{what}: `method = \"unimax\"` needs `[weights].max_epochs`"),
                ));
            }
        }
        if !c.phases.is_empty() && (total - 1.0).abs() > 1e-9 {
            return Err(self.err(
                "phase",
                Some(0),
                "fraction",
                format!(
                    "the phases cover {total} of the budget, not 1: their `fraction`s must sum \
                     to 1"
                ),
            ));
        }
        // Outputs.
        let o = &c.output;
        if o.max_shard_bytes.0 == 0 {
            return Err(self.err(
                "output",
                None,
                "max_shard_bytes",
                "`max_shard_bytes` must be positive".into(),
            ));
        }
        match o.part_tokens {
            TokenAmount::Tokens(0) | TokenAmount::All => {
                return Err(self.err(
                    "output",
                    None,
                    "part_tokens",
                    "`part_tokens` must be a positive number of tokens".into(),
                ));
            }
            _ => {}
        }
        if o.documents == DocumentsFormat::None && o.tokenized.is_empty() && o.dd.is_none() {
            return Err(self.err(
                "output",
                None,
                "documents",
                "nothing to write: `documents = \"none\"` and no `tokenized` output or `dd`".into(),
            ));
        }
        if let Some(dd) = &o.dd {
            if !(1..=30).contains(&dd.min_log2) || dd.max_log2 < dd.min_log2 || dd.max_log2 > 30 {
                return Err(self.err(
                    "output.dd",
                    None,
                    "max_log2",
                    format!(
                        "`min_log2` = {} and `max_log2` = {} must satisfy 1 <= min <= max <= 30",
                        dd.min_log2, dd.max_log2
                    ),
                ));
            }
            if let Some(odds) = &dd.odds {
                let n = (dd.max_log2 - dd.min_log2 + 1) as usize;
                if odds.len() != n || odds.iter().any(|&x| !(x.is_finite() && x >= 0.0)) {
                    return Err(self.err(
                        "output.dd",
                        None,
                        "odds",
                        format!(
                            "`odds` needs {n} non-negative numbers (one per bucket from \
                             min_log2 to max_log2)"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn check_manual_sources(&self) -> Result<(), MixError> {
        let c = &self.config;
        if let Some(i) = c.sources.iter().position(|s| s.weight.is_none()) {
            return Err(self.err(
                "source",
                Some(i),
                "name",
                format!(
                    "source `{}` has no `weight` (method \"manual\" needs one per source, or \
                     `weights` tables in every phase)",
                    c.sources[i].name
                ),
            ));
        }
        let sum: f64 = c.sources.iter().filter_map(|s| s.weight).sum();
        if (sum - 1.0).abs() > 1e-6 {
            return Err(self.err(
                "source",
                Some(0),
                "weight",
                format!("the sources' `weight`s sum to {sum}, not 1"),
            ));
        }
        Ok(())
    }

    /// The default method of phases (see [`WeightsConfig::method`]).
    pub fn default_method(&self) -> Method {
        let c = &self.config;
        c.weights
            .method
            .unwrap_or(if c.sources.iter().any(|s| s.weight.is_some()) {
                Method::Manual
            } else {
                Method::Proportional
            })
    }

    /// Resolves a path written in the file.
    pub fn resolve(&self, p: &str) -> PathBuf {
        self.base_dir.join(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(src: &str) -> Result<MixFile, MixError> {
        MixFile::from_source(Path::new("m.toml"), src, Path::new("."))
    }

    fn err(src: &str) -> (usize, String) {
        match load(src) {
            Err(MixError::Config { line, message, .. }) => (line, message),
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("accepted:\n{src}"),
        }
    }

    const HEAD: &str = "version = 1\nbudget = \"2M\"\ntoken_field = \"n\"\n";
    const SRC: &str = "[[source]]\nname = \"a\"\npaths = [\"a.jsonl\"]\n[[source]]\nname = \"b\"\npaths = [\"b.jsonl\"]\n";

    #[test]
    fn token_amounts() {
        assert_eq!(TokenAmount::parse("2M"), Ok(TokenAmount::Tokens(2_000_000)));
        assert_eq!(
            TokenAmount::parse("2.5B"),
            Ok(TokenAmount::Tokens(2_500_000_000))
        );
        assert_eq!(
            TokenAmount::parse("250e9"),
            Ok(TokenAmount::Tokens(250_000_000_000))
        );
        assert_eq!(TokenAmount::parse("1_000"), Ok(TokenAmount::Tokens(1000)));
        assert_eq!(TokenAmount::parse("all"), Ok(TokenAmount::All));
        assert!(TokenAmount::parse("2X").is_err());
        assert!(TokenAmount::parse("-5").is_err());
    }

    #[test]
    fn a_full_file_parses() {
        let f = load(&format!(
            "{HEAD}seed = 3\ncycles = 2\n{SRC}max_epochs = 3\n[weights]\nmethod = \"unimax\"\n\
             max_epochs = 4\n[[phase]]\nname = \"main\"\nfraction = 0.75\n[[phase]]\n\
             name = \"end\"\nfraction = 0.25\nfixed = {{ b = 0.5 }}\n[output]\ndocuments = \"none\"\n\
             tokenized = []\ndd = {{ min_log2 = 4, max_log2 = 6 }}\n"
        ));
        // dd without tokenizer is refused.
        let Err(MixError::Config { message, .. }) = f else {
            panic!()
        };
        assert!(message.contains("tokenizer"), "{message}");
        let f = load(&format!(
            "{HEAD}seed = 3\ncycles = 2\n{SRC}max_epochs = 3\n[weights]\nmethod = \"unimax\"\n\
             max_epochs = 4\n[[phase]]\nname = \"main\"\nfraction = 0.75\n[[phase]]\n\
             name = \"end\"\nfraction = 0.25\nfixed = {{ b = 0.5 }}\n"
        ))
        .unwrap();
        assert_eq!(f.config.sources[1].max_epochs, Some(3.0));
        assert_eq!(f.config.phases.len(), 2);
        assert_eq!(f.default_method(), Method::Unimax);
    }

    #[test]
    fn bad_input_names_the_line_and_parameter() {
        let (line, msg) = err(&format!("{HEAD}{SRC}bogus = 1\n"));
        assert_eq!(line, 10, "{msg}");
        assert!(msg.contains("bogus"), "{msg}");
        // Weights that do not sum to one.
        let (line, msg) = err(&format!(
            "{HEAD}[[source]]\nname = \"a\"\npaths = [\"a\"]\nweight = 0.5\n[[source]]\nname = \"b\"\n\
             paths = [\"b\"]\nweight = 0.4\n"
        ));
        assert!(msg.contains("sum to 0.9"), "{msg}");
        assert_eq!(line, 7, "{msg}");
        // A phase list that does not cover the budget.
        let (line, msg) = err(&format!(
            "{HEAD}{SRC}[[phase]]\nname = \"x\"\nfraction = 0.5\n[[phase]]\nname = \"y\"\nfraction = 0.3\n"
        ));
        assert!(msg.contains("cover 0.8"), "{msg}");
        assert_eq!(line, 12, "{msg}");
        // Unknown source in a phase.
        let (line, msg) = err(&format!(
            "{HEAD}{SRC}[[phase]]\nname = \"x\"\nfraction = 1\nweights = {{ a = 0.5, c = 0.5 }}\n"
        ));
        assert!(msg.contains("`c` is not a source"), "{msg}");
        assert_eq!(line, 13, "{msg}");
        let (_, msg) = err(&format!("{HEAD}{SRC}[weights]\nmethod = \"unimax\"\n"));
        assert!(msg.contains("max_epochs"), "{msg}");
        let (_, msg) = err(&format!("{HEAD}{SRC}[weights]\nmethod = \"temperature\"\n"));
        assert!(msg.contains("tau"), "{msg}");
        let (line, msg) = err(&format!(
            "{HEAD}{SRC}[[source]]\nname = \"a\"\npaths = [\"c\"]\n"
        ));
        assert!(msg.contains("defined twice"), "{msg}");
        assert_eq!(line, 11);
        let (_, msg) = err("version = 1\nbudget = 5\n[[source]]\nname = \"a\"\npaths = [\"a\"]\n");
        assert!(msg.contains("no token counts"), "{msg}");
        let (_, msg) = err(&format!(
            "{HEAD}{SRC}[output]\ntokenized = [\"megatron\"]\n"
        ));
        assert!(msg.contains("need a `tokenizer`"), "{msg}");
        let (_, msg) = err(&format!("{HEAD}{SRC}[output]\ntokenized = [\"hdf5\"]\n"));
        assert!(msg.contains("megatron"), "{msg}");
        let (_, msg) = err(&format!("{HEAD}{SRC}max_epochs = 0\n"));
        assert!(
            msg.contains("source `b`") && msg.contains("max_epochs"),
            "{msg}"
        );
        let (_, msg) = err(&format!(
            "{HEAD}[[source]]\nname = \"../x\"\npaths = [\"a\"]\n"
        ));
        assert!(msg.contains("source name"), "{msg}");
    }

    #[test]
    fn key_lines() {
        let src =
            "a = 1\n[[source]]\nname = \"x\"\n[[source]]\nname = \"y\"\nw = 2\n[output]\nw = 3\n";
        assert_eq!(key_line(src, "source", Some(1), "w"), 6);
        assert_eq!(key_line(src, "source", Some(0), "w"), 2);
        assert_eq!(key_line(src, "output", None, "w"), 8);
        assert_eq!(key_line(src, "", None, "a"), 1);
    }
}
