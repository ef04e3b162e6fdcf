//! Counters a progress display polls while a run works, and the messages it should show.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Shared counters a progress display can poll.
#[derive(Debug, Default)]
pub struct Progress {
    /// Input file bytes of the current phase consumed so far, including those of tasks an
    /// earlier run had finished (see `reused_bytes`).
    pub bytes: Arc<AtomicU64>,
    /// Of `bytes`, those of tasks found done (not work done now: leave them out of speeds).
    pub reused_bytes: AtomicU64,
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
    /// Messages for the user not shown yet (resuming, waiting for other ranks, ...).
    messages: Mutex<Vec<String>>,
    /// Phases started and not yet announced: a display that polls `phase` can miss a phase
    /// shorter than its polling interval (a decide step on a loaded machine); this queue
    /// cannot.
    started: Mutex<Vec<String>>,
}

impl Progress {
    /// Starts a phase: resets the counters.
    pub fn start_phase(&self, name: String, total_bytes: u64, units: u64) {
        self.started
            .lock()
            .expect("progress lock")
            .push(name.clone());
        *self.phase.lock().expect("progress lock") = name;
        self.bytes.store(0, Ordering::Relaxed);
        self.reused_bytes.store(0, Ordering::Relaxed);
        self.docs.store(0, Ordering::Relaxed);
        self.units_done.store(0, Ordering::Relaxed);
        self.total_bytes.store(total_bytes, Ordering::Relaxed);
        self.units_total.store(units, Ordering::Relaxed);
    }

    /// Queues a message for the user.
    pub fn say(&self, message: String) {
        self.messages.lock().expect("progress lock").push(message);
    }

    /// Takes the names of the phases started since the last call, in order.
    pub fn take_started(&self) -> Vec<String> {
        std::mem::take(&mut *self.started.lock().expect("progress lock"))
    }

    /// Takes the messages queued so far.
    pub fn take_messages(&self) -> Vec<String> {
        std::mem::take(&mut *self.messages.lock().expect("progress lock"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_started_phase_is_announced_once_even_when_nobody_polled_in_between() {
        let p = Progress::default();
        p.start_phase("pass 1/2".into(), 10, 1);
        p.start_phase("decide exact_dedup".into(), 0, 0);
        p.start_phase("pass 2/2".into(), 10, 1);
        assert_eq!(
            p.take_started(),
            ["pass 1/2", "decide exact_dedup", "pass 2/2"]
        );
        assert!(p.take_started().is_empty());
        assert_eq!(*p.phase.lock().unwrap(), "pass 2/2");
    }
}
