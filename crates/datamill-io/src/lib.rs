//! Reading and writing datamill's record files.
//!
//! * [`discover`](discover::discover) expands the pipeline's input paths;
//! * [`plan`] cuts files into deterministic [`WorkUnit`](plan::WorkUnit)s — byte ranges of plain
//!   JSONL, groups of Parquet row groups, whole compressed streams;
//! * [`read::open_unit`] streams a unit's [`Record`](read::Record)s, quarantining bad records
//!   with their location and reason;
//! * [`write::ShardWriter`] writes shards atomically (temporary name, then rename).
//!
//! ```no_run
//! use datamill_io::{plan, read, discover};
//! use std::sync::Arc;
//! let files = discover::discover(".".as_ref(), &["data/*.jsonl.zst".into()])?;
//! let f = plan::describe(files[0].clone(), "a".into(), None)?;
//! for unit in plan::plan_file(&f, 0, 64 << 20, "text")? {
//!     let mut r = read::open_unit(&f, &unit, &Default::default(), Arc::default())?;
//!     while let Some(rec) = r.next_record()? { /* ... */ }
//! }
//! # Ok::<(), datamill_io::IoError>(())
//! ```

pub mod discover;
pub mod error;
pub mod format;
pub mod parquet;
pub mod plan;
pub mod read;
pub mod schema;
pub mod write;
pub mod zstd_frames;

/// Arrow's schema types (Parquet output schemas), for crates that pass them on.
#[cfg(feature = "parquet")]
pub use arrow_schema;
pub use error::IoError;
pub use format::{Compression, Format};
