//! Fault injection for tests: kill the process at a chosen *state* of a run, not at a time.
//!
//! `DATAMILL_FAULT=<event>:<k>:<n>` makes the process exit with code 137 (as a SIGKILL
//! would: no destructor runs and no buffered output is flushed, so the files are left as a
//! kill leaves them; unlike `abort`, no core file) right after the `n`-th `<event>` of pass or decision `k` that this
//! process completes:
//!
//! * `outputs:<k>:<n>`: a task of pass `k` has renamed all its outputs into place, its
//!   marker is not written yet;
//! * `marker:<k>:<n>`: a task of pass `k` has written its completion marker;
//! * `decision:<k>:1`: the decision after pass `k` is stored;
//! * `report:<k>:1`: the report step of decision `k` is done.
//!
//! With `DATAMILL_FAULT_ONCE=<file>` as well, only the first process to reach the state stops:
//! it creates `<file>` (exclusively) before exiting, and a process that finds the file already
//! there goes on. So a task retried by a cluster scheduler (Ray, Slurm) in a new process with
//! the same environment completes instead of failing again.
//!
//! While the variable is set, marker writes are serialized with these checks, so "exactly
//! n markers of pass k exist" holds at the moment of the abort whatever the worker count.
//! Unset (always, outside tests), each check is one load of a cached `None`.

use std::sync::{Mutex, MutexGuard, OnceLock};

/// The environment variable.
pub const VAR: &str = "DATAMILL_FAULT";

/// The environment variable naming the file that makes a fault fire in one process only.
pub const ONCE_VAR: &str = "DATAMILL_FAULT_ONCE";

struct Spec {
    event: String,
    k: usize,
    n: u64,
}

fn spec() -> Option<&'static Spec> {
    static SPEC: OnceLock<Option<Spec>> = OnceLock::new();
    SPEC.get_or_init(|| {
        let v = std::env::var(VAR).ok()?;
        let mut it = v.split(':');
        let (event, k, n) = (it.next()?, it.next()?, it.next()?);
        Some(Spec {
            event: event.to_string(),
            k: k.parse().ok()?,
            n: n.parse().ok()?,
        })
    })
    .as_ref()
}

static COUNT: Mutex<u64> = Mutex::new(0);

/// Held around a marker write and its [`check`] when faults are configured.
pub(crate) fn serialize() -> Option<MutexGuard<'static, u64>> {
    spec().map(|_| COUNT.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Notes that `event` of pass or decision `k` happened; aborts if it is the configured one.
/// `held` is the guard from [`serialize`], if the caller holds it.
pub(crate) fn check(event: &str, k: usize, held: Option<&mut MutexGuard<'static, u64>>) {
    let Some(s) = spec() else { return };
    if s.event != event || s.k != k {
        return;
    }
    let mut local = None;
    let count: &mut MutexGuard<'static, u64> = match held {
        Some(g) => g,
        None => local.insert(COUNT.lock().unwrap_or_else(|e| e.into_inner())),
    };
    **count += 1;
    if **count == s.n {
        if let Some(once) = std::env::var_os(ONCE_VAR) {
            let first = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&once)
                .is_ok();
            if !first {
                return;
            }
        }
        eprintln!("{VAR}: stopping after {event} {} of {k}", s.n);
        std::process::exit(137);
    }
}
