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
pub mod select;
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
    "gopher_quality" => filter::gopher_quality::GopherQualityFilter, false;
    "gopher_repetition" => filter::gopher_repetition::GopherRepetitionFilter, false;
    "c4_quality" => filter::c4_quality::C4QualityFilter, false;
    "c4_badwords" => filter::c4_badwords::C4BadWordsFilter, false;
    "fineweb_quality" => filter::fineweb_quality::FineWebQualityFilter, false;
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
}
