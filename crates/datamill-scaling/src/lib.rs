//! # datamill-scaling
//!
//! Scaling-law fitting and data planning for ML training data: "how much data
//! do I need, and can I repeat it?". Numerics; of the datamill crates it uses only
//! `datamill-npsort` (numpy's MT19937 and percentile).
//!
//! ## Laws ([`laws`])
//! * Chinchilla (Hoffmann et al. 2022): `L(N, D) = E + A/N^α + B/D^β`, with
//!   closed-form compute-optimal allocation (C = 6ND), the compute needed for
//!   a target loss and the data needed at fixed N.
//! * The learning curve `L(D) = E + B/D^β` (one model size; Hestness et al. 2017).
//! * Kaplan et al. 2020: `L(N)`, `L(D)` and `L(N, D)`.
//! * Muennighoff et al. 2023's data-constrained law with repeated epochs
//!   (R_D*, R_N*, computed with `expm1`) and the datablations grid allocation
//!   under a unique-token cap.
//! * Gadre et al. 2024's over-training form with a shared exponent.
//!
//! ## Fitting ([`fit`], [`bootstrap`])
//! Hoffmann's approach 3 as Epoch AI replicated it: log-sum-exp
//! parametrization `log L̂ = LSE(a − α log N, b − β log D, e)`, the *sum* of
//! Huber(δ = 1e-3) over log residuals, multi-start L-BFGS (own implementation
//! in [`optim`], analytic gradients, tight relative tolerances) over the
//! 4500-point grid, in parallel with rayon. The bootstrap resamples with a
//! NumPy-compatible MT19937 so `seed = 42` reproduces Epoch's resamples.
//! Gadre's law is fitted by Levenberg–Marquardt least squares from the
//! authors' p0 grid.
//!
//! ## Predictions and reports ([`predict`], [`report`], [`plot`])
//! [`predict::predict`] answers a [`predict::PredictQuery`] from a law file (losses,
//! allocations, data and compute for a target, the cost of repetition, with bootstrap
//! intervals); [`report`] renders fits and predictions as text tables, [`plot`] as PNG/SVG.
//! The command line (`datamill scaling fit|predict|plot`) lives in the `datamill` binary
//! (`crates/datamill-cli/src/cmd/scaling.rs`); with the `clap` feature, [`fit::LawKind`]
//! derives `clap::ValueEnum` for it.
//!
//! ```
//! use datamill_scaling::laws::Chinchilla;
//! let c = Chinchilla::HOFFMANN_ROUNDED;
//! let opt = c.compute_optimal(5.76e23);
//! assert!((opt.n / 3.219e10 - 1.0).abs() < 1e-3);
//! assert!(c.data_for_loss(1.8, 1e9).is_none()); // below the floor at 1B params
//! ```

// `!(x > 0.0)` is used on purpose: it is also true for NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord)]
// Index loops over parallel per-point arrays read best in numeric kernels.
#![allow(clippy::needless_range_loop)]

pub mod bootstrap;
pub mod data;
pub mod dcpt;
pub mod error;
pub mod figure;
pub mod fit;
pub mod lawfile;
pub mod laws;
pub mod optim;
pub mod plot;
pub mod predict;
pub mod quant;
pub mod report;
pub mod vocab;

pub use error::ScalingError;
