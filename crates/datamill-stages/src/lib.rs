//! The built-in stages and the registry that names them.
//!
//! Stages are grouped by family, a folder each, as the README's stage table: [`filter`]
//! (keep or drop by a rule), [`annotate`] (rewrite the text or add a model's verdict to the
//! metadata), [`dedup`] (the dedup stages and their spill, index and text machinery) and
//! [`select`] (sampling, DSIR, score and perplexity selection).
//!
//! A stage is one file in its family's folder: a `//!` doc (its user documentation, printed by
//! `datamill stages NAME`, with a TOML example that a test parses), a config struct that
//! derives `Deserialize` with `deny_unknown_fields`, an implementation of
//! [`StageSpec`] that validates the config and builds a [`Step`], and its tests. Adding a
//! stage means adding that file, its `pub mod` line in the family's `mod.rs`, and one line to
//! the `registry!` invocation below.
//!
//! ```
//! use datamill_stages::{StageConfig, BuildCx};
//! let cfg: StageConfig = toml::from_str("type = \"length\"\nmin_words = 5").unwrap();
//! assert_eq!(cfg.type_name(), "length");
//! let step = cfg.build(&BuildCx::default()).unwrap();
//! ```

use datamill_core::{GlobalStage, Stage, StageError};
use serde::Deserialize;
use std::path::PathBuf;

include!(concat!(env!("OUT_DIR"), "/stage_docs.rs"));

pub mod annotate;
pub mod dedup;
pub mod filter;
mod reference;
pub mod select;
mod semantic;
#[cfg(test)]
mod testing;

/// `#[serde(default = "crate::yes")]`: a flag that is on unless the config turns it off.
fn yes() -> bool {
    true
}

/// A built stage, ready to run.
pub enum Step {
    /// A per-document stage.
    Map(Box<dyn Stage>),
    /// A stage deciding over the whole corpus.
    Global(Box<dyn GlobalStage>),
}

/// What building a stage may need from the pipeline.
#[derive(Clone, Debug, Default)]
pub struct BuildCx {
    /// The pipeline's seed (stages may override it with their own `seed`).
    pub seed: u64,
    /// The folder of the pipeline file; relative paths in stage configs resolve against it.
    pub base_dir: PathBuf,
}

/// A stage's configuration: validates itself and builds the stage.
pub trait StageSpec {
    /// Checks the parameters and builds the stage; errors name the parameter.
    fn build(&self, cx: &BuildCx) -> Result<Step, StageError>;
}

/// Registry entry of one stage type.
#[derive(Clone, Copy, Debug)]
pub struct StageInfo {
    /// The `type` written in pipeline files.
    pub name: &'static str,
    /// The stage's documentation (its file's `//!` comment).
    pub doc: &'static str,
    /// Whether it decides over the whole corpus.
    pub global: bool,
}

impl StageInfo {
    /// The first paragraph of the documentation, on one line.
    pub fn summary(&self) -> String {
        let para: Vec<&str> = self
            .doc
            .lines()
            .take_while(|l| !l.trim().is_empty())
            .map(str::trim)
            .collect();
        para.join(" ")
    }

    /// The TOML example in the documentation (the first ```toml block).
    pub fn example(&self) -> Option<String> {
        let start = self.doc.find("```toml")? + "```toml".len();
        let end = start + self.doc[start..].find("```")?;
        Some(self.doc[start..end].trim().to_string())
    }
}

macro_rules! registry {
    ($($name:literal => $family:ident :: $module:ident :: $ty:ident, $global:literal;)*) => {

        /// One stage's configuration, selected by its `type`.
        #[derive(Clone, Debug, Deserialize)]
        #[serde(tag = "type")]
        #[allow(missing_docs)]
        pub enum StageConfig {
            $(#[serde(rename = $name)] $ty($family::$module::$ty),)*
        }

        impl StageConfig {
            /// The stage's `type`.
            pub fn type_name(&self) -> &'static str {
                match self { $(StageConfig::$ty(_) => $name,)* }
            }

            /// Validates and builds the stage.
            pub fn build(&self, cx: &BuildCx) -> Result<Step, StageError> {
                match self { $(StageConfig::$ty(c) => StageSpec::build(c, cx),)* }
            }
        }

        /// Parses a stage table's body (its `type` line blanked out) as stage `name`, to point
        /// an error at the exact key; `None` if it parses or the type is unknown.
        pub fn check_table(name: &str, body: &str) -> Option<toml::de::Error> {
            match name {
                $($name => toml::from_str::<$family::$module::$ty>(body).err(),)*
                _ => None,
            }
        }

        /// Every stage type, in the order `datamill stages` lists them.
        pub fn registry() -> Vec<StageInfo> {
            vec![$(StageInfo {
                name: $name,
                doc: module_doc(concat!(stringify!($family), "/", stringify!($module))),
                global: $global,
            },)*]
        }
    };
}

registry! {
    "length" => filter::length::Length, false;
    "regex" => filter::regex_match::RegexMatch, false;
    "metadata" => filter::metadata::Metadata, false;
    "sample" => select::sample::Sample, false;
    "exact_dedup" => dedup::exact_dedup::ExactDedup, true;
    "minhash_dedup" => dedup::minhash_dedup::MinhashDedup, true;
    "line_dedup" => dedup::line_dedup::LineDedup, true;
    "bloom_dedup" => dedup::bloom_dedup::BloomDedup, true;
    "sentence_dedup" => dedup::sentence_dedup::SentenceDedup, true;
    "ngrams_decont" => filter::ngrams_decont::NgramsDecont, false;
    "gopher_quality" => filter::gopher_quality::GopherQualityFilter, false;
    "gopher_repetition" => filter::gopher_repetition::GopherRepetitionFilter, false;
    "c4_quality" => filter::c4_quality::C4QualityFilter, false;
    "c4_badwords" => filter::c4_badwords::C4BadWordsFilter, false;
    "fineweb_quality" => filter::fineweb_quality::FineWebQualityFilter, false;
    "c4_paragraph" => filter::c4_paragraph::C4Paragraph, false;
    "symbol_lines" => annotate::symbol_lines::SymbolLines, false;
    "unigram_logprob" => filter::unigram_logprob::UnigramLogProb, false;
    "language" => annotate::language::Language, false;
    "pii" => annotate::pii::Pii, false;
    "normalize" => annotate::normalize::Normalize, false;
    "url_filter" => filter::url_filter::UrlFilter, false;
    "fasttext_classifier" => annotate::fasttext_classifier::FasttextClassifier, false;
    "dsir" => select::dsir::Dsir, true;
    "token_count" => annotate::token_count::TokenCount, false;
    "score_select" => select::score_select::ScoreSelect, true;
    "perplexity" => annotate::perplexity::Perplexity, false;
    "perplexity_buckets" => select::perplexity_buckets::PerplexityBuckets, true;
    "substring_dedup" => dedup::substring_dedup::SubstringDedup, true;
    "embed" => annotate::embed::Embed, true;
    "semantic_dedup" => dedup::semantic_dedup::SemanticDedup, true;
    "prototype_prune" => select::prototype_prune::PrototypePrune, true;
    "diversity_select" => select::diversity_select::DiversitySelect, true;
    "rds_select" => select::rds_select::RdsSelect, true;
    "semantic_decontaminate" => dedup::semantic_decontaminate::SemanticDecontaminate, true;
}

/// Looks a stage type up by name.
pub fn info(name: &str) -> Option<StageInfo> {
    registry().into_iter().find(|i| i.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_documents_itself_with_an_example_that_builds() {
        for info in registry() {
            assert!(!info.summary().is_empty(), "{} has no doc", info.name);
            let ex = info
                .example()
                .unwrap_or_else(|| panic!("{} has no ```toml example", info.name));
            #[derive(Deserialize)]
            struct File {
                stage: Vec<StageConfig>,
            }
            let f: File = toml::from_str(&ex)
                .unwrap_or_else(|e| panic!("{}'s example does not parse: {e}\n{ex}", info.name));
            assert!(!f.stage.is_empty());
            for s in &f.stage {
                assert_eq!(s.type_name(), info.name);
                let global = matches!(s.build(&BuildCx::default()), Ok(Step::Global(_)));
                assert_eq!(global, info.global, "{}", info.name);
            }
        }
    }

    #[test]
    fn unknown_fields_and_types_are_refused() {
        let e = toml::from_str::<StageConfig>("type = \"length\"\nmin_wrds = 3").unwrap_err();
        assert!(e.to_string().contains("min_wrds"), "{e}");
        let e = toml::from_str::<StageConfig>("type = \"lenght\"").unwrap_err();
        assert!(e.to_string().contains("lenght"), "{e}");
    }

    /// `(name, value)` for every "`name` (value" in a doc, the value running to the first `;`
    /// or unbalanced `)` (brackets and quotes may nest).
    fn documented_values(doc: &str) -> Vec<(String, String)> {
        let doc = doc.replace('\n', " ");
        let mut out = Vec::new();
        let mut rest = doc.as_str();
        while let Some(i) = rest.find('`') {
            rest = &rest[i + 1..];
            let Some(j) = rest.find('`') else { break };
            let name = &rest[..j];
            let after = &rest[j + 1..];
            rest = after;
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            let Some(v) = after.strip_prefix(" (") else {
                continue;
            };
            let (mut depth, mut quoted, mut end) = (0i32, false, None);
            for (k, c) in v.char_indices() {
                match c {
                    '"' => quoted = !quoted,
                    '[' | '(' if !quoted => depth += 1,
                    ']' if !quoted => depth -= 1,
                    ')' if !quoted && depth == 0 => {
                        end = Some(k);
                        break;
                    }
                    ')' if !quoted => depth -= 1,
                    ';' if !quoted && depth == 0 => {
                        end = Some(k);
                        break;
                    }
                    _ => {}
                }
            }
            if let Some(k) = end {
                out.push((name.to_string(), v[..k].trim().to_string()));
            }
        }
        out
    }

    #[test]
    fn documented_defaults_are_the_real_defaults() {
        // A doc states defaults as "`name` (value)"; where the value is a TOML literal, the
        // stage's example without `name` must build the same config as with `name = value`.
        let mut checked = 0;
        let mut wrong = Vec::new();
        for info in registry() {
            let ex = info.example().unwrap();
            let file: toml::Table = toml::from_str(&ex).unwrap();
            let base = file["stage"].as_array().unwrap()[0]
                .as_table()
                .unwrap()
                .clone();
            for (name, value) in documented_values(info.doc) {
                let Ok(v) = toml::from_str::<toml::Table>(&format!("v = {value}")) else {
                    continue; // prose ("datatrove's list", "the pipeline's")
                };
                let mut without = base.clone();
                without.remove(&name);
                let Ok(default) = toml::Value::Table(without.clone()).try_into::<StageConfig>()
                else {
                    continue; // a required parameter
                };
                let mut with = without;
                with.insert(name.clone(), v["v"].clone());
                match toml::Value::Table(with).try_into::<StageConfig>() {
                    Ok(c) if format!("{c:?}") == format!("{default:?}") => checked += 1,
                    Ok(_) => wrong.push(format!(
                        "{}: `{name}` ({value}) is not the default",
                        info.name
                    )),
                    Err(e) => wrong.push(format!("{}: `{name}` ({value}): {e}", info.name)),
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "docs and defaults disagree:\n{}",
            wrong.join("\n")
        );
        assert!(checked >= 50, "only {checked} documented defaults checked");
    }
}
