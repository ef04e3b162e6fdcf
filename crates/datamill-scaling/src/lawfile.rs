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
    /// What [`LawFile::warnings`] found when the file was written (for readers of the JSON;
    /// `predict` and the tables recompute them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// A parameter's bootstrap interval spanning more than this many orders of magnitude, or a
/// standard error above `SE_OVER_ESTIMATE` times the estimate, makes a fit ill-conditioned.
pub const MAX_ORDERS_OF_MAGNITUDE: f64 = 2.0;

/// See [`MAX_ORDERS_OF_MAGNITUDE`].
pub const SE_OVER_ESTIMATE: f64 = 1.0;

impl LawFile {
    /// A law file holding just a law.
    pub fn from_law(law: Law) -> LawFile {
        LawFile {
            format: FORMAT.to_string(),
            law,
            fit: None,
            source: None,
            bootstrap: None,
            warnings: Vec::new(),
        }
    }

    /// What a reader of this law's numbers must know: a fitted law without a bootstrap (no
    /// intervals), as many runs as parameters (the fit interpolates), many failed bootstrap
    /// refits, and an ill-conditioned fit — a parameter whose bootstrap interval spans more
    /// than [`MAX_ORDERS_OF_MAGNITUDE`] orders of magnitude or whose standard error exceeds
    /// [`SE_OVER_ESTIMATE`] times its estimate. Built-in (published) laws have none.
    pub fn warnings(&self) -> Vec<String> {
        use crate::report::fmt_num;
        let mut w = Vec::new();
        let params = self.law.params();
        if let Some(src) = &self.source
            && src.rows_used <= params.len() + 1
        {
            w.push(format!(
                "{} runs for {} parameters: the fit can pass through (almost) every run, so \
                 neither its goodness nor its intervals say how far it is from the truth",
                src.rows_used,
                params.len()
            ));
        }
        let Some(b) = &self.bootstrap else {
            if self.fit.is_some() {
                w.push(
                    "no bootstrap (fitted with --bootstrap 0): the numbers have no intervals"
                        .into(),
                );
            }
            return w;
        };
        if b.failed * 10 > b.resamples {
            w.push(format!(
                "{} of {} bootstrap refits failed: the fit is unstable on resampled runs",
                b.failed, b.resamples
            ));
        }
        let pct = format!("{}%", (b.level * 1000.0).round() / 10.0);
        let mut bad = Vec::new();
        for (k, (name, v)) in params.iter().enumerate() {
            let (Some(&lo), Some(&hi), Some(&se)) =
                (b.ci_low.get(k), b.ci_high.get(k), b.se.get(k))
            else {
                continue;
            };
            let orders = if lo > 0.0 && hi > 0.0 {
                (hi / lo).log10()
            } else if lo < 0.0 && hi < 0.0 {
                (lo / hi).log10()
            } else {
                0.0
            };
            let rel = se / v.abs();
            let mut why = Vec::new();
            if orders > MAX_ORDERS_OF_MAGNITUDE {
                why.push(format!(
                    "{pct} interval [{}, {}] spans {:.0} orders of magnitude",
                    fmt_num(lo, 3),
                    fmt_num(hi, 3),
                    orders
                ));
            }
            if rel > SE_OVER_ESTIMATE {
                why.push(format!(
                    "SE {} is {}x the estimate {}",
                    fmt_num(se, 4),
                    fmt_num(rel, 3),
                    fmt_num(*v, 4)
                ));
            }
            if !why.is_empty() {
                bad.push(format!("{name}: {}", why.join(", ")));
            }
        }
        if !bad.is_empty() {
            w.push(format!(
                "ill-conditioned fit: the runs do not determine {} ({}); predictions away from \
                 the runs are unreliable — add runs at other sizes, or fit a law with fewer \
                 parameters",
                bad.iter()
                    .map(|b| b.split(':').next().unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(", "),
                bad.join("; ")
            ));
        }
        w
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

/// Any law file this crate writes, told apart by its `format` tag, or a built-in law:
/// `builtin:vocab` (Tao et al. 2024's published constants) and `builtin:quant` (Ouyang et
/// al. 2024's unified fit) besides [`LawFile::BUILTINS`].
#[derive(Debug, Clone)]
pub enum AnyLaw {
    /// A `datamill scaling fit` law file (Chinchilla and the other (N, D) laws).
    Scaling(LawFile),
    /// A D-CPT law file.
    Dcpt(crate::dcpt::fit::DcptFile),
    /// A vocabulary law file.
    Vocab(crate::vocab::fit::VocabFile),
    /// A quantization law file.
    Quant(crate::quant::QuantFile),
}

impl AnyLaw {
    /// Loads `builtin:NAME` or a law file of any of the four formats.
    pub fn load(spec: &str) -> Result<AnyLaw, ScalingError> {
        match spec {
            "builtin:vocab" | "builtin:tao2024" => {
                return Ok(AnyLaw::Vocab(crate::vocab::fit::VocabFile::published()));
            }
            "builtin:quant" | "builtin:ouyang2024" => {
                return Ok(AnyLaw::Quant(crate::quant::QuantFile::published()));
            }
            _ => {}
        }
        if spec.starts_with("builtin:") {
            return LawFile::load(spec).map(AnyLaw::Scaling);
        }
        let path = Path::new(spec);
        let text = std::fs::read_to_string(path).map_err(|e| ScalingError::Io {
            path: spec.to_string(),
            source: e,
        })?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| ScalingError::Law(format!("{spec}: not valid JSON: {e}")))?;
        match v.get("format").and_then(|f| f.as_str()) {
            Some(crate::dcpt::fit::FORMAT) => {
                crate::dcpt::fit::DcptFile::load(path).map(AnyLaw::Dcpt)
            }
            Some(crate::vocab::fit::FORMAT) => {
                crate::vocab::fit::VocabFile::load(path).map(AnyLaw::Vocab)
            }
            Some(crate::quant::FORMAT) => crate::quant::QuantFile::load(path).map(AnyLaw::Quant),
            _ => LawFile::load(spec).map(AnyLaw::Scaling),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootstrap::BootstrapResult;

    fn boot(se: [f64; 5], lo: [f64; 5], hi: [f64; 5], failed: usize) -> BootstrapResult {
        BootstrapResult {
            resamples: 100,
            seed: 42,
            level: 0.95,
            failed,
            names: ["E", "A", "B", "alpha", "beta"].map(String::from).to_vec(),
            se: se.to_vec(),
            ci_low: lo.to_vec(),
            ci_high: hi.to_vec(),
            draws: Vec::new(),
            seconds: 0.0,
        }
    }

    #[test]
    fn warnings_name_what_is_ill_conditioned() {
        // Hoffmann's constants: E 1.69, A 406.4, B 410.7, alpha 0.34, beta 0.28.
        let mut f = LawFile::builtin("hoffmann").unwrap();
        assert!(f.warnings().is_empty(), "published constants");
        let tight = boot(
            [0.02, 50.0, 60.0, 0.01, 0.01],
            [1.6, 300.0, 300.0, 0.3, 0.25],
            [1.8, 500.0, 500.0, 0.4, 0.3],
            0,
        );
        f.bootstrap = Some(tight.clone());
        assert!(f.warnings().is_empty(), "{:?}", f.warnings());
        // E's interval over 12 orders of magnitude, B's SE 500x its estimate.
        let mut wide = tight.clone();
        wide.ci_low[0] = 1.9e-12;
        wide.se[2] = 205_000.0;
        f.bootstrap = Some(wide);
        let w = f.warnings();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with("ill-conditioned fit: the runs do not determine E, B (")
                && w[0].contains("spans 12 orders of magnitude")
                && w[0].contains("SE 205000 is 499x"),
            "{}",
            w[0]
        );
        // Failed refits, and as many runs as parameters.
        f.bootstrap = Some(boot(
            tight.se.clone().try_into().unwrap(),
            [1.6, 300.0, 300.0, 0.3, 0.25],
            [1.8, 500.0, 500.0, 0.4, 0.3],
            30,
        ));
        f.source = Some(SourceInfo {
            file: "runs.csv".into(),
            rows_in_file: 6,
            rows_used: 6,
            columns: None,
            filters: Vec::new(),
            dropped_highest_loss: 0,
        });
        let w = f.warnings();
        assert!(w[0].starts_with("6 runs for 5 parameters"), "{w:?}");
        assert!(
            w[1].starts_with("30 of 100 bootstrap refits failed"),
            "{w:?}"
        );
        // A fitted law without a bootstrap.
        f.bootstrap = None;
        f.fit = None;
        f.source = None;
        assert!(f.warnings().is_empty());
    }
}
