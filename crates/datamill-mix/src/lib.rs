//! # datamill-mix
//!
//! The last step before training: token-budgeted mixtures of curated sources, written in a
//! form a trainer reads directly, with every token accounted for.
//!
//! * [`config`]: the mixture file (`datamill mix MIX.toml`);
//! * [`weights`]: proportional, temperature and UniMax weights with epoch caps;
//! * [`plan`]: phases with exact token boundaries, epochs and effective tokens under the
//!   data-constrained law of `datamill-scaling`;
//! * [`sample`]: the seeded training sequence (RS2-style epochs, interleaving by weight).

pub mod config;
pub mod error;
pub mod plan;
pub mod sample;
pub mod weights;

pub use error::MixError;
