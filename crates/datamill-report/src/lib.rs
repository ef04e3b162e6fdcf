//! The run report: one self-contained HTML page (styles and charts inline, no script, no
//! network) that shows what every stage of a run did.
//!
//! [`build`] reads a run's output folder — `stats.json`, the stored plan, the decisions, the
//! stage reports under `reports/` and a bounded, deterministic sample of `excluded/` — never
//! more than a bounded slice of the output shards (the kept side of the distributions), so it
//! takes about the same time for a run of any size. Each section is a pure
//! function of what was read ([`sections`]). A folder from an older datamill, an unfinished run
//! or a missing / truncated file gives a page that lists what is missing and shows the rest.
//!
//! ```no_run
//! let html = datamill_report::build(std::path::Path::new("out/quickstart"),
//!                                   &datamill_report::Options::default()).unwrap();
//! assert!(html.starts_with("<!DOCTYPE html>"));
//! ```

pub mod charts;
pub mod html;
pub mod load;
pub mod phases;
pub mod replay;
pub mod rewrites;
pub mod samples;
pub mod sections;

use std::path::{Path, PathBuf};

use datamill_core::FieldNames;

pub use load::{Problem, RunData};

/// Why no report could be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The output folder does not exist.
    #[error("{0}: not a folder (expected a datamill run's output folder)")]
    NotARun(PathBuf),
    /// The page could not be written.
    #[error("writing {path}: {source}")]
    Write {
        /// The page's path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// A figure made elsewhere (a scaling law's plot), shown in the page's Scaling section.
#[derive(Clone, Debug)]
pub struct Figure {
    /// Its heading (escaped).
    pub title: String,
    /// How it was made (escaped).
    pub caption: String,
    /// One SVG document, made by datamill's own plotting (`datamill-plot`: its text is
    /// escaped), placed in the page as is.
    pub svg: String,
}

/// What to put in the report.
#[derive(Clone, Debug)]
pub struct Options {
    /// Examples shown per drop reason.
    pub examples: usize,
    /// Bytes of `excluded/` files read at most for the examples (file sizes on disk).
    pub max_excluded_bytes: u64,
    /// Bytes of output shards read at most for the kept side of the distributions.
    pub max_output_bytes: u64,
    /// Input documents sampled for the overlap of the drop rules (0: no overlap section).
    pub overlap_docs: usize,
    /// Figures for the Scaling section (`datamill report --law`).
    pub figures: Vec<Figure>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            examples: 20,
            max_excluded_bytes: 2 << 30,
            max_output_bytes: 256 << 20,
            overlap_docs: 2000,
            figures: Vec::new(),
        }
    }
}

/// The report of run folder `out`, as one HTML page.
pub fn build(out: &Path, opts: &Options) -> Result<String, ReportError> {
    let mut d = RunData::load(out)?;
    let names = FieldNames {
        text: d.text_field.clone(),
        id: d.id_field.clone(),
    };
    let s = samples::sample(out, &names, opts.examples, opts.max_excluded_bytes);
    d.problems.extend(s.problems.iter().cloned());
    let mut problems = Vec::new();
    let ov = replay::replay(&d, opts.overlap_docs, &mut problems);
    let changes = rewrites::load(&d, &mut problems);
    d.problems.extend(problems);
    let mut secs: Vec<(String, String, String)> = Vec::new();
    if !d.problems.is_empty() {
        secs.push((
            "problems".into(),
            "What is missing".into(),
            sections::problems(&d.problems),
        ));
    }
    secs.push(("funnel".into(), "Funnel".into(), sections::funnel(&d)));
    secs.push((
        "examples".into(),
        "Examples of dropped documents".into(),
        sections::examples(&d, &s, opts.examples),
    ));
    secs.push((
        "rewrites".into(),
        "Before/after".into(),
        rewrites::section(&d, &changes),
    ));
    secs.push((
        "overlap".into(),
        "Overlap of the drop rules".into(),
        sections::overlap(ov.as_ref()),
    ));
    let kept = samples::kept_values(out, &names, opts.max_output_bytes);
    secs.push((
        "distributions".into(),
        "Distributions".into(),
        sections::distributions(&d, &s.values, &kept),
    ));
    secs.push(("dedup".into(), "Dedup".into(), sections::dedup(&d, &s)));
    secs.push((
        "scaling".into(),
        "Scaling".into(),
        sections::scaling(&opts.figures),
    ));
    secs.push(("facts".into(), "Run facts".into(), sections::facts(&d)));
    let title = format!(
        "datamill report — {}",
        d.plan
            .as_ref()
            .and_then(|p| p.pointer("/pipeline/path"))
            .and_then(|v| v.as_str())
            .unwrap_or("run")
    );
    Ok(html::page(&title, &out.to_string_lossy(), &secs))
}

/// Builds the report of `out` and writes it to `dest` (a temporary name, then renamed).
pub fn write(out: &Path, dest: &Path, opts: &Options) -> Result<(), ReportError> {
    let page = build(out, opts)?;
    let err = |source| ReportError::Write {
        path: dest.to_path_buf(),
        source,
    };
    let name = dest.file_name().unwrap_or_default().to_string_lossy();
    // `<name>.<pid>.tmp`: the name a run's stale-file cleanup recognizes.
    let tmp = dest.with_file_name(format!("{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, page).map_err(err)?;
    std::fs::rename(&tmp, dest).map_err(err)
}

#[cfg(test)]
mod tests;
