//! Counters a progress display polls while a run works.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Shared counters a progress display can poll.
#[derive(Debug, Default)]
pub struct Progress {
    /// Input file bytes consumed in the current phase.
    pub bytes: Arc<AtomicU64>,
    /// Total input file bytes of the current phase.
    pub total_bytes: AtomicU64,
    /// Documents read in the current phase.
    pub docs: AtomicU64,
    /// Work units finished in the current phase.
    pub units_done: AtomicU64,
    /// Work units in the current phase.
    pub units_total: AtomicU64,
    /// The phase, for display (`"read"`, `"dedup 2/3"`, ...).
    pub phase: Mutex<String>,
}

impl Progress {
    /// Starts a phase: resets the counters.
    pub fn start_phase(&self, name: String, total_bytes: u64, units: u64) {
        *self.phase.lock().expect("progress lock") = name;
        self.bytes.store(0, Ordering::Relaxed);
        self.docs.store(0, Ordering::Relaxed);
        self.units_done.store(0, Ordering::Relaxed);
        self.total_bytes.store(total_bytes, Ordering::Relaxed);
        self.units_total.store(units, Ordering::Relaxed);
    }
}
