//! Pipeline files: version 1, TOML. The configuration *is* these structs; unknown keys are
//! refused, and every error names the line it comes from.

use datamill_io::{Compression, Format};
use datamill_stages::{BuildCx, StageConfig, Step};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// A problem with a pipeline file.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Read {
        /// The pipeline file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not a valid pipeline; the message names the line.
    #[error("{path}:{line}: {message}")]
    Invalid {
        /// The pipeline file.
        path: PathBuf,
        /// 1-based line of the offending key or table (0 if unknown).
        line: usize,
        /// What is wrong and what is allowed.
        message: String,
    },
}

pub use datamill_core::ByteSize;

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
fn default_shard() -> ByteSize {
    ByteSize(256 * 1_000_000)
}
fn default_compression() -> Compression {
    Compression::Zstd
}
fn default_format() -> Format {
    Format::Jsonl
}

/// `[input]`: where documents come from.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InputConfig {
    /// Files, directories or glob patterns, relative to the pipeline file's folder.
    pub paths: Vec<String>,
    /// `"jsonl"` or `"parquet"`; by default from each file's extension.
    pub format: Option<Format>,
    /// The field holding the text.
    #[serde(default = "default_text")]
    pub text_field: String,
    /// The field holding the id; an absent id becomes `<file>:<line>` (`<file>:<row>`).
    #[serde(default = "default_id")]
    pub id_field: String,
    /// JSONL lines longer than this are quarantined as `line_too_long`.
    #[serde(default = "default_max_line")]
    pub max_line_bytes: ByteSize,
    /// Target size of a work unit (plain JSONL byte ranges, Parquet row-group groups).
    #[serde(default = "default_unit")]
    pub unit_size: ByteSize,
    /// A JSONL line that is not valid UTF-8: `"quarantine"` (default; its exact bytes are
    /// kept, base64) or `"replace"` (each bad sequence becomes U+FFFD and the document is
    /// read, counted in `stats.json` as `invalid_utf8_replaced`).
    #[serde(default)]
    pub invalid_utf8: InvalidUtf8,
    /// A file that turns out damaged while it is read (a truncated gzip/zstd stream, a
    /// corrupt Parquet row group): `"stop"` (default: the run stops, exit code 2) or
    /// `"quarantine"` (the records read before the damage are kept, the rest of the unit is
    /// quarantined as one record with the reason, `file_error`, and the run goes on).
    #[serde(default)]
    pub on_file_error: OnFileError,
}

/// `[input] invalid_utf8`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InvalidUtf8 {
    /// Quarantine the line with its exact bytes.
    #[default]
    Quarantine,
    /// Repair it (U+FFFD) and read the document.
    Replace,
}

/// `[input] on_file_error`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFileError {
    /// Stop the run.
    #[default]
    Stop,
    /// Keep what was read, quarantine the rest of the unit as one record, go on.
    Quarantine,
}

/// `[output]`: where kept documents go.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// The output folder, relative to the pipeline file's folder (`--output` overrides it).
    pub dir: Option<String>,
    /// `"jsonl"` (default) or `"parquet"`.
    #[serde(default = "default_format")]
    pub format: Format,
    /// `"zstd"` (default), `"gzip"` or `"none"`.
    #[serde(default = "default_compression")]
    pub compression: Compression,
    /// Codec level (default: zstd 3, gzip 6).
    pub level: Option<i32>,
    /// A shard is closed after this many uncompressed bytes.
    #[serde(default = "default_shard")]
    pub max_shard_bytes: ByteSize,
    /// Also write dropped documents under `excluded/`, each with `excluded_by`.
    #[serde(default)]
    pub excluded: bool,
    /// How documents passed between passes (before and after a global stage) are stored
    /// under `.datamill/`: `"zstd"` (default, level 1: about a quarter of the disk) or
    /// `"none"` (plain JSONL: no compression CPU, the full size on disk).
    #[serde(default = "default_intermediate")]
    pub intermediate: Compression,
    /// Write only these fields of the output documents (the text is always written).
    pub keep: Option<Vec<String>>,
    /// Do not write these fields (not with `keep`; never the text).
    #[serde(default)]
    pub drop: Vec<String>,
    /// Write field `old` under name `new` (`rename = { lang = "language" }`), after `keep`
    /// and `drop`, which name fields as the stages saw them.
    #[serde(default)]
    pub rename: std::collections::BTreeMap<String, String>,
}

fn default_intermediate() -> Compression {
    Compression::Zstd
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            dir: None,
            format: default_format(),
            compression: default_compression(),
            level: None,
            max_shard_bytes: default_shard(),
            excluded: false,
            intermediate: default_intermediate(),
            keep: None,
            drop: Vec::new(),
            rename: Default::default(),
        }
    }
}

/// A whole pipeline file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    /// The file format version; must be 1.
    pub version: u32,
    /// Seed for every random decision (stages may override it).
    #[serde(default)]
    pub seed: u64,
    /// The input.
    pub input: InputConfig,
    /// The stages, in order.
    #[serde(default)]
    pub stage: Vec<StageConfig>,
    /// The output.
    #[serde(default)]
    pub output: OutputConfig,
}

/// A parsed, validated pipeline with its stages built.
pub struct Pipeline {
    /// The configuration as written.
    pub config: PipelineConfig,
    /// The built stages, in order, with their type names.
    pub steps: Vec<(&'static str, Step)>,
    /// The folder relative paths resolve against.
    pub base_dir: PathBuf,
    /// The pipeline file's text (part of the run's fingerprint).
    pub source: String,
    /// The pipeline file.
    pub path: PathBuf,
}

/// Line (1-based) of byte offset `at` in `src`.
fn line_of(src: &str, at: usize) -> usize {
    src[..at.min(src.len())].matches('\n').count() + 1
}

/// Byte offsets of each `[[stage]]` header.
fn stage_headers(src: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut off = 0;
    for l in src.split_inclusive('\n') {
        let t = l.trim();
        if t.starts_with("[[") && t.trim_start_matches('[').trim_start().starts_with("stage") {
            let inner = t.trim_start_matches('[').trim_end_matches(']').trim();
            if inner == "stage" {
                out.push(off);
            }
        }
        off += l.len();
    }
    out
}

/// The line of key `key` inside stage `i`'s table, or the table's header line.
fn stage_key_line(src: &str, i: usize, key: &str) -> usize {
    let heads = stage_headers(src);
    let Some(&start) = heads.get(i) else { return 0 };
    let end = heads.get(i + 1).copied().unwrap_or(src.len());
    let mut off = start;
    for l in src[start..end].split_inclusive('\n') {
        let t = l.trim_start();
        if let Some(rest) = t.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            return line_of(src, off);
        }
        off += l.len();
    }
    line_of(src, start)
}

/// An error inside a `[[stage]]` table is reported by serde at the table, or at the whole
/// array of stages (the first stage's header) when the value that fails is in a later stage:
/// parse the stage tables alone, each as its stage type, the one at `at` first, to find the
/// stage, the exact key and its line.
fn refine_stage_error(src: &str, at: usize) -> Option<(usize, String)> {
    let heads = stage_headers(src);
    let first = heads.iter().rposition(|&h| h <= at)?;
    std::iter::once(first)
        .chain((0..heads.len()).filter(|&i| i != first))
        .find_map(|i| refine_in_stage(src, &heads, i))
}

/// The error of stage `i`'s table parsed alone (see [`refine_stage_error`]), if it has one.
fn refine_in_stage(src: &str, heads: &[usize], i: usize) -> Option<(usize, String)> {
    let start = heads[i];
    let body_start = start + src[start..].find('\n')? + 1;
    // The table ends at the next header of any kind.
    let mut end = src.len();
    let mut off = body_start;
    for l in src[body_start..].split_inclusive('\n') {
        if l.trim_start().starts_with('[') {
            end = off;
            break;
        }
        off += l.len();
    }
    let body = &src[body_start..end];
    let table: toml::Table = toml::from_str(body).ok()?;
    let kind = table.get("type")?.as_str()?.to_string();
    // Blank the `type` line with spaces so offsets in the body stay offsets in the file.
    let blanked: String = body
        .split_inclusive('\n')
        .map(|l| {
            let t = l.trim_start();
            if t.starts_with("type") && t["type".len()..].trim_start().starts_with('=') {
                let n = l.trim_end_matches('\n').len();
                format!("{}{}", " ".repeat(n), &l[n..])
            } else {
                l.to_string()
            }
        })
        .collect();
    let e = datamill_stages::check_table(&kind, &blanked)?;
    if let Some(span) = e.span().filter(|s| s.start > 0) {
        let line = line_of(src, body_start + span.start);
        let msg = e.message().trim();
        let key = src
            .lines()
            .nth(line - 1)
            .and_then(|l| l.split_once('='))
            .map(|(k, _)| k.trim().trim_matches('"'))
            .filter(|k| !k.is_empty() && !msg.contains(&format!("`{k}`")));
        let what = key.map_or(String::new(), |k| format!("parameter `{k}`: "));
        return Some((line, format!("stage {} (`{kind}`): {what}{msg}", i + 1)));
    }
    // No precise span: find the key whose value alone fails to parse.
    for (key, value) in table.iter().filter(|(k, _)| *k != "type") {
        let mut one = toml::Table::new();
        one.insert(key.clone(), value.clone());
        let Ok(text) = toml::to_string(&one) else {
            continue;
        };
        if let Some(e1) = datamill_stages::check_table(&kind, &text)
            && !e1.message().contains("missing field")
        {
            return Some((
                stage_key_line(src, i, key),
                format!(
                    "stage {} (`{kind}`): parameter `{key}`: {}",
                    i + 1,
                    e1.message().trim()
                ),
            ));
        }
    }
    Some((
        line_of(src, start),
        format!("stage {} (`{kind}`): {}", i + 1, e.message().trim()),
    ))
}

/// Checks `[output]`'s `keep`, `drop` and `rename`: the text field is always written, `keep`
/// and `drop` exclude each other, no field is renamed twice over or onto another's new name.
fn check_fields(c: &PipelineConfig) -> Option<String> {
    let o = &c.output;
    let text = &c.input.text_field;
    if o.keep.is_some() && !o.drop.is_empty() {
        return Some("give `keep` or `drop`, not both".into());
    }
    if let Some(keep) = &o.keep
        && keep.is_empty()
    {
        return Some(format!(
            "`keep` is empty: list the fields to write (the text field `{text}` always is)"
        ));
    }
    if o.drop.iter().any(|d| d == text) {
        return Some(format!(
            "`drop` names the text field `{text}`: the text is always written"
        ));
    }
    let mut targets = std::collections::BTreeSet::new();
    for (from, to) in &o.rename {
        if to.is_empty() {
            return Some(format!("`rename`: field `{from}` renamed to an empty name"));
        }
        if o.rename.contains_key(to) && to != from {
            return Some(format!(
                "`rename`: `{to}` is both a new name and renamed itself: rename in one step"
            ));
        }
        if !targets.insert(to) {
            return Some(format!("`rename`: two fields renamed to `{to}`"));
        }
    }
    None
}

impl Pipeline {
    /// The first `token_count` stage and the field it writes, if the pipeline has one: from
    /// that stage on, the executor counts tokens in and out of every stage.
    pub fn token_field(&self) -> Option<(usize, String)> {
        let i = self.steps.iter().position(|s| s.0 == "token_count")?;
        let table: toml::Table = toml::from_str(&self.source).ok()?;
        let field = table
            .get("stage")
            .and_then(|s| s.as_array())
            .and_then(|a| a.get(i))
            .and_then(|t| t.get("field"))
            .and_then(|f| f.as_str())
            .unwrap_or("token_count");
        Some((i, field.to_string()))
    }

    /// Reads, parses and validates a pipeline file, building every stage.
    pub fn load(path: &Path) -> Result<Pipeline, ConfigError> {
        let source = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.to_path_buf(),
            source: e,
        })?;
        let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Pipeline::from_source(path, &source, &base_dir)
    }

    /// Parses and validates pipeline text; `path` is used in messages.
    pub fn from_source(
        path: &Path,
        source: &str,
        base_dir: &Path,
    ) -> Result<Pipeline, ConfigError> {
        let invalid = |line: usize, message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            line,
            message,
        };
        let config: PipelineConfig = toml::from_str(source).map_err(|e| {
            let at = e.span().map(|s| s.start);
            if let Some((line, msg)) = at.and_then(|at| refine_stage_error(source, at)) {
                return invalid(line, msg);
            }
            let line = at.map(|a| line_of(source, a)).unwrap_or(0);
            invalid(line, e.message().trim().to_string())
        })?;
        if config.version != 1 {
            let line = source
                .lines()
                .position(|l| l.trim_start().starts_with("version"))
                .map_or(0, |i| i + 1);
            return Err(invalid(
                line,
                format!(
                    "unsupported pipeline version {} (this datamill reads version 1)",
                    config.version
                ),
            ));
        }
        if config.input.paths.is_empty() {
            let line = source
                .lines()
                .position(|l| l.trim_start().starts_with("paths"))
                .map_or(0, |i| i + 1);
            return Err(invalid(
                line,
                "`input.paths` is empty: give at least one file, folder or pattern".into(),
            ));
        }
        if let Some(message) = check_fields(&config) {
            let key = ["keep", "drop", "rename"]
                .into_iter()
                .find(|k| message.contains(&format!("`{k}`")))
                .unwrap_or("keep");
            let line = source
                .lines()
                .position(|l| {
                    l.trim_start()
                        .strip_prefix(key)
                        .is_some_and(|r| r.trim_start().starts_with('='))
                })
                .map_or(0, |i| i + 1);
            return Err(invalid(line, format!("[output] {message}")));
        }
        if config.output.max_shard_bytes.0 == 0 {
            return Err(invalid(
                0,
                "`output.max_shard_bytes` must be positive".into(),
            ));
        }
        let cx = BuildCx {
            seed: config.seed,
            base_dir: base_dir.to_path_buf(),
        };
        let mut steps = Vec::new();
        for (i, s) in config.stage.iter().enumerate() {
            let step = s.build(&cx).map_err(|e| {
                let line = match &e {
                    datamill_core::StageError::Config { param, .. } => {
                        stage_key_line(source, i, param)
                    }
                    _ => stage_key_line(source, i, "type"),
                };
                invalid(line, format!("stage {} (`{}`): {e}", i + 1, s.type_name()))
            })?;
            steps.push((s.type_name(), step));
        }
        Ok(Pipeline {
            config,
            steps,
            base_dir: base_dir.to_path_buf(),
            source: source.to_string(),
            path: path.to_path_buf(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(src: &str) -> Result<Pipeline, ConfigError> {
        Pipeline::from_source(Path::new("p.toml"), src, Path::new("."))
    }

    fn err(src: &str) -> (usize, String) {
        match load(src) {
            Err(ConfigError::Invalid { line, message, .. }) => (line, message),
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("accepted:\n{src}"),
        }
    }

    const HEAD: &str = "version = 1\n[input]\npaths = [\"x.jsonl\"]\n";

    #[test]
    fn full_file_parses() {
        let p = load(&format!(
            "{HEAD}text_field = \"content\"\nunit_size = \"8MB\"\n[[stage]]\ntype = \"length\"\nmin_words = 3\n\
             [[stage]]\ntype = \"exact_dedup\"\n[output]\ndir = \"out\"\nformat = \"parquet\"\n\
             compression = \"gzip\"\nmax_shard_bytes = \"1GiB\"\nexcluded = true\n"
        ))
        .unwrap();
        assert_eq!(p.steps.len(), 2);
        assert_eq!(p.config.input.unit_size, ByteSize(8_000_000));
        assert_eq!(p.config.output.max_shard_bytes, ByteSize(1 << 30));
        assert!(p.config.output.excluded);
    }

    /// A bad value in a later stage: serde places the error at the array of stages (the first
    /// stage's header); the message must name the stage and the key's own line.
    #[test]
    fn a_bad_value_in_the_second_stage_names_that_stage_and_line() {
        let (line, msg) = err(&format!(
            "{HEAD}[[stage]]\ntype = \"length\"\nmin_words = 3\n\
             [[stage]]\ntype = \"gopher_quality\"\nmin_doc_words = \"fifty\"\n"
        ));
        assert_eq!(line, 9, "{msg}");
        assert!(msg.contains("stage 2 (`gopher_quality`)"), "{msg}");
        assert!(msg.contains("min_doc_words"), "{msg}");
        // Same for the third of three stages and a wrong type of value.
        let (line, msg) = err(&format!(
            "{HEAD}[[stage]]\ntype = \"length\"\n[[stage]]\ntype = \"regex\"\npattern = \"x\"\n\
             [[stage]]\ntype = \"sample\"\nfraction = [1]\n"
        ));
        assert_eq!(line, 11, "{msg}");
        assert!(
            msg.contains("stage 3 (`sample`)") && msg.contains("fraction"),
            "{msg}"
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_name_their_line() {
        let (line, msg) = err(&format!(
            "{HEAD}[[stage]]\ntype = \"length\"\nmin_wrds = 3\n"
        ));
        assert!(
            msg.contains("min_wrds") && msg.contains("min_words"),
            "{msg}"
        );
        assert!((4..=6).contains(&line), "line {line}: {msg}");
        let (line, msg) = err(&format!("{HEAD}[[stage]]\ntype = \"lenght\"\n"));
        assert!(
            msg.contains("lenght") && msg.contains("exact_dedup"),
            "{msg}"
        );
        assert!((4..=5).contains(&line), "line {line}");
        let (line, msg) = err(&format!(
            "{HEAD}[[stage]]\ntype = \"sample\"\nfraction = 1.5\n"
        ));
        assert_eq!(line, 6, "{msg}");
        assert!(msg.contains("fraction"), "{msg}");
        let (line, msg) = err(&format!("{HEAD}[output]\ncompression = \"lz5\"\n"));
        assert_eq!(line, 5, "{msg}");
        assert!(msg.contains("zstd"), "{msg}");
        let (_, msg) = err(&format!(
            "{HEAD}[[stage]]\ntype = \"length\"\nmin_words = \"many\"\n"
        ));
        assert!(
            msg.contains("many") || msg.contains("invalid type"),
            "{msg}"
        );
        let (line, msg) = err("version = 2\n[input]\npaths = [\"x\"]\n");
        assert_eq!(line, 1, "{msg}");
        let (_, msg) = err(&format!("{HEAD}unit_size = \"12 parsecs\"\n"));
        assert!(msg.contains("parsecs"), "{msg}");
        let (_, msg) = err("version = 1\n[input]\npaths = []\n");
        assert!(msg.contains("empty"), "{msg}");
        let (_, msg) = err(&format!("{HEAD}bogus = 1\n"));
        assert!(msg.contains("bogus"), "{msg}");
    }
}
