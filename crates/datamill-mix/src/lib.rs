//! # datamill-mix
//!
//! The last step before training: token-budgeted mixtures of curated sources, written in a
//! form a trainer reads directly, with every token accounted for.
//!
//! * [`config`]: the mixture file (`datamill mix MIX.toml`);
//! * [`weights`]: proportional, temperature and UniMax weights with epoch caps;
//! * [`plan`]: phases with exact token boundaries, epochs and effective tokens under the
//!   data-constrained law of `datamill-scaling`;
//! * [`sample`]: the seeded training sequence (RS2-style epochs, interleaving by weight);
//! * [`index`] (counting pass) and [`mod@write`] (write pass): the two passes of tasks, resumable;
//! * [`formats`]: Megatron `.bin`/`.idx`, datatrove `.ds`, flat numpy token files;
//! * [`dd`]: Dataset Decomposition buckets;
//! * [`run`]: the whole command, ending with `manifest.json`;
//! * [`learn`]: learned mixtures (RegMix regressors, the data mixing law) → a weights file.

pub mod config;
pub mod dd;
pub mod error;
pub mod formats;
pub mod index;
pub mod learn;
pub mod plan;
pub mod run;
pub mod sample;
pub mod tasks;
pub mod tokenize;
pub mod weights;
pub mod write;

pub use error::MixError;
