//! The JSON law file written by `scaling fit` and read by `predict`/`plot`.
//!
//! Numbers are written by `serde_json` in shortest round-trip form, i.e. at
//! full `f64` precision.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::bootstrap::BootstrapResult;
use crate::error::ScalingError;
use crate::fit::FitResult;
use crate::laws::{Chinchilla, DataConstrained, Law};

/// The format tag written into every law file.
pub const FORMAT: &str = "datamill-scaling-law/1";

/// Where the fitted rows came from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SourceInfo {
    /// The CSV file.
    pub file: String,
    /// Data rows in the file.
    pub rows_in_file: usize,
    /// Rows used by the fit (after filters and the outlier rule).
    pub rows_used: usize,
    /// The `--columns` mapping, if any.
    pub columns: Option<String>,
    /// The `--where` filters.
    pub filters: Vec<String>,
    /// How many of the highest losses were dropped (Epoch's rule).
    pub dropped_highest_loss: usize,
}

/// Writes `value` as pretty JSON (numbers at full `f64` precision) to `path`: first to a
/// temporary name beside it, then renamed, so a reader never sees half a file.
pub fn write_json_atomic(path: &Path, value: &serde_json::Value) -> Result<(), ScalingError> {
    write_text_atomic(path, &(serde_json::to_string_pretty(value)? + "\n"))
}

/// Writes `text` to `path` through a temporary name beside it and a rename.
pub fn write_text_atomic(path: &Path, text: &str) -> Result<(), ScalingError> {
    let io = |e: std::io::Error| ScalingError::Io {
        path: path.display().to_string(),
        source: e,
    };
    let name = path
        .file_name()
        .map_or("out".into(), |n| n.to_string_lossy().to_string());
    let tmp = path.with_file_name(format!(".{name}.tmp{}", std::process::id()));
    std::fs::write(&tmp, text).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// A law file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LawFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// The law and its parameters.
    pub law: Law,
    /// Fit diagnostics, when the law was fitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit: Option<FitResult>,
    /// Input provenance, when the law was fitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceInfo>,
    /// Bootstrap summary and draws, when run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<BootstrapResult>,
}

impl LawFile {
    /// A law file holding just a law.
    pub fn from_law(law: Law) -> LawFile {
        LawFile {
            format: FORMAT.to_string(),
            law,
            fit: None,
            source: None,
            bootstrap: None,
        }
    }

    /// Built-in published laws, usable as `builtin:NAME` wherever a law file
    /// is expected.
    pub fn builtin(name: &str) -> Option<LawFile> {
        let law = match name {
            "hoffmann" | "hoffmann-rounded" => Law::Chinchilla(Chinchilla::HOFFMANN_ROUNDED),
            "hoffmann-unrounded" => Law::Chinchilla(Chinchilla::hoffmann_unrounded()),
            "epoch" => Law::Chinchilla(Chinchilla::EPOCH_HEADLINE),
            "muennighoff-c4" => Law::Chinchilla(Chinchilla::muennighoff_c4()),
            "datablations" | "muennighoff" => Law::DataConstrained(DataConstrained::muennighoff()),
            _ => return None,
        };
        Some(LawFile::from_law(law))
    }

    /// Names accepted by [`LawFile::builtin`].
    pub const BUILTINS: &'static [&'static str] = &[
        "hoffmann",
        "hoffmann-unrounded",
        "epoch",
        "muennighoff-c4",
        "datablations",
    ];

    /// Load `builtin:NAME`, a law file, or a bare law object (`{"law": "chinchilla", "E": ...}`).
    pub fn load(spec: &str) -> Result<LawFile, ScalingError> {
        if let Some(name) = spec.strip_prefix("builtin:") {
            return LawFile::builtin(name).ok_or_else(|| {
                ScalingError::InvalidArgument(format!(
                    "unknown built-in law `{name}`; known: {}",
                    LawFile::BUILTINS.join(", ")
                ))
            });
        }
        let path = Path::new(spec);
        let text = std::fs::read_to_string(path).map_err(|e| ScalingError::Io {
            path: spec.to_string(),
            source: e,
        })?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| ScalingError::Law(format!("{spec}: not valid JSON: {e}")))?;
        if v.get("format").is_some() {
            serde_json::from_value(v)
                .map_err(|e| ScalingError::Law(format!("{spec}: not a law file: {e}")))
        } else {
            let law: Law = serde_json::from_value(v).map_err(|e| {
                ScalingError::Law(format!("{spec}: not a law file or law object: {e}"))
            })?;
            Ok(LawFile::from_law(law))
        }
    }

    /// Write as pretty JSON (to a temporary name, then renamed).
    pub fn write(&self, path: &Path) -> Result<(), ScalingError> {
        write_json_atomic(path, &serde_json::to_value(self)?)
    }

    /// Bootstrap draws, if any.
    pub fn draws(&self) -> &[Law] {
        self.bootstrap.as_ref().map_or(&[], |b| &b.draws)
    }
}
