//! The local thread pool: a scoped pool pulling tasks from an atomic counter, largest
//! first; results are placed by task position, so the order of completion never shows.

use crate::error::RunError;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Runs `f(unit)` over `tasks` (unit, size) on `workers` threads, largest first; returns
/// results in the order of `tasks`.
pub fn parallel<T: Send>(
    tasks: &[(usize, u64)],
    workers: usize,
    stop: &AtomicBool,
    f: impl Fn(usize) -> Result<T, RunError> + Sync,
) -> Result<Vec<T>, RunError> {
    // (position, size, unit), largest first, ties in input order.
    let mut order: Vec<(usize, u64, usize)> = tasks
        .iter()
        .enumerate()
        .map(|(i, &(u, size))| (i, size, u))
        .collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..tasks.len()).map(|_| None).collect());
    let first_err: Mutex<Option<(usize, RunError)>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..workers.max(1).min(tasks.len().max(1)) {
            s.spawn(|| {
                loop {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(task, _, unit)) = order.get(k) else {
                        return;
                    };
                    match f(unit) {
                        Ok(v) => results.lock().expect("results lock")[task] = Some(v),
                        Err(e) => {
                            stop.store(true, Ordering::Relaxed);
                            let mut fe = first_err.lock().expect("error lock");
                            if fe.as_ref().is_none_or(|(t, _)| task < *t) {
                                *fe = Some((task, e));
                            }
                            return;
                        }
                    }
                }
            });
        }
    });
    if let Some((_, e)) = first_err.into_inner().expect("error lock") {
        return Err(e);
    }
    results
        .into_inner()
        .expect("results lock")
        .into_iter()
        .map(|r| r.ok_or(RunError::Interrupted))
        .collect()
}
