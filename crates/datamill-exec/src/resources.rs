//! What a task used — wall-clock span, CPU time, peak memory — recorded in its completion
//! marker (and a decision's in `decision.json`) for the run report's time and memory per
//! phase. Cheap: a few small `/proc` reads per task. Linux only; elsewhere the CPU time and
//! peak memory are 0 (unknown).
//!
//! Peak memory is the process's resident high-water mark (`VmHWM`). The executor resets it
//! (`/proc/self/clear_refs`, Linux 4.0+) when a decide step starts and when it ends, so a
//! decision's peak is its own and a pass task's peak covers the pass it belongs to (and, for
//! the first pass, the process's start). Several tasks of a pass share a process: the pass's
//! peak is the largest its tasks saw.

use serde::{Deserialize, Serialize};
use std::time::{SystemTime, UNIX_EPOCH};

/// What one task used.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Resources {
    /// When it started, seconds since the Unix epoch.
    pub started: f64,
    /// When it finished, seconds since the Unix epoch.
    pub finished: f64,
    /// CPU seconds (user + system): its thread's for a pass task, the process's for a
    /// decide step (whose decider may use several threads). 0 when unknown.
    pub cpu_seconds: f64,
    /// The process's peak resident memory when it finished, bytes (see the module doc); 0
    /// when unknown.
    pub peak_rss_bytes: u64,
}

/// Seconds since the Unix epoch.
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// CPU seconds of the calling thread (`/proc/thread-self/schedstat`, nanoseconds; else
/// `stat`'s utime + stime in 1/100 s ticks).
pub fn thread_cpu() -> f64 {
    if let Ok(s) = std::fs::read_to_string("/proc/thread-self/schedstat")
        && let Some(ns) = s
            .split_whitespace()
            .next()
            .and_then(|x| x.parse::<u64>().ok())
        && ns > 0
    {
        return ns as f64 / 1e9;
    }
    stat_ticks("/proc/thread-self/stat")
}

/// CPU seconds of the whole process (`/proc/self/stat`: utime + stime, 1/100 s ticks).
pub fn process_cpu() -> f64 {
    stat_ticks("/proc/self/stat")
}

/// utime + stime of a `stat` file in seconds (Linux's USER_HZ is 100).
fn stat_ticks(path: &str) -> f64 {
    let Ok(s) = std::fs::read_to_string(path) else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) in parentheses.
    let Some(rest) = s.rsplit_once(") ").map(|x| x.1) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of the line: 11 and 12 after the name.
    (t(11) + t(12)) as f64 / 100.0
}

/// The process's resident high-water mark, bytes (`VmHWM`; 0 when unknown).
pub fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Resets the process's resident high-water mark to its current size (ignored where it
/// cannot be).
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Measures a task: `start` when it begins, [`Meter::finish`] when it ends.
#[derive(Clone, Copy, Debug)]
pub struct Meter {
    started: f64,
    cpu: f64,
    process: bool,
}

impl Meter {
    /// Starts measuring a task on this thread (`process`: count the whole process's CPU).
    pub fn start(process: bool) -> Meter {
        Meter {
            started: now(),
            cpu: if process { process_cpu() } else { thread_cpu() },
            process,
        }
    }

    /// What the task used since [`Meter::start`].
    pub fn finish(self) -> Resources {
        let cpu = if self.process {
            process_cpu()
        } else {
            thread_cpu()
        };
        Resources {
            started: self.started,
            finished: now(),
            cpu_seconds: (cpu - self.cpu).max(0.0),
            peak_rss_bytes: peak_rss(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn measures_cpu_and_memory() {
        let m = Meter::start(false);
        // Busy for a while, and hold 64 MB resident.
        let mut v = vec![1u8; 64 << 20];
        let mut x = 0u64;
        let t = std::time::Instant::now();
        while t.elapsed().as_millis() < 300 {
            for b in v.iter_mut().step_by(4096) {
                *b = b.wrapping_add(1);
                x = x.wrapping_add(*b as u64);
            }
        }
        std::hint::black_box(x);
        let r = m.finish();
        assert!(r.finished >= r.started + 0.29, "{r:?}");
        assert!(r.cpu_seconds > 0.0, "{r:?}");
        assert!(r.cpu_seconds <= r.finished - r.started + 0.05, "{r:?}");
        assert!(r.peak_rss_bytes >= 64 << 20, "{r:?}");
        drop(v);
    }
}
