//! The data model every datamill crate shares.
//!
//! A pipeline moves [`Doc`]s one way: a reader produces them, [`Stage`]s look at each one and
//! return a [`Verdict`] (keep, or drop with a reason), [`GlobalStage`]s (dedup, selection)
//! summarize every document, decide once over all summaries and then drop what they decided
//! to drop, and a writer stores what is left. Stages never count, time or route documents:
//! the executor does that once, into [`stats::RunStats`], so the invariant
//! `input_docs == output_docs + dropped + quarantined` holds by construction.
//!
//! ```
//! use datamill_core::{Doc, Stage, StageCx, Verdict, StageError};
//!
//! /// Drops documents that mention spam.
//! struct NoSpam;
//! impl Stage for NoSpam {
//!     fn process(&self, doc: &mut Doc, _cx: &mut StageCx) -> Result<Verdict, StageError> {
//!         Ok(if doc.text().contains("spam") { Verdict::drop("spam") } else { Verdict::Keep })
//!     }
//! }
//!
//! let mut doc = Doc::new("d1", "eggs and spam");
//! let v = NoSpam.process(&mut doc, &mut StageCx::default()).unwrap();
//! assert_eq!(v, Verdict::drop("spam"));
//! ```

pub mod bytesize;
pub mod codec;
pub mod doc;
pub mod error;
pub mod report;
pub mod stage;
pub mod stats;

pub use bytesize::ByteSize;
pub use doc::{Doc, FieldNames, ParseProblem};
pub use error::StageError;
pub use report::{ReportFile, ReportSink};
pub use stage::{DecideCx, Decider, DocRef, GlobalStage, Stage, StageCx, Verdict, Verdicts};
