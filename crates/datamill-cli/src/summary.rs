//! What a run shows on stderr: a progress bar on a terminal, plain progress lines otherwise
//! (logs of Slurm jobs, CI), the messages of the executor (resuming, waiting for other ranks),
//! and the end-of-run summary. Nothing with `--quiet`.

use datamill_exec::run::{Progress, RunReport};
use indicatif::{ProgressBar, ProgressStyle};
use std::fmt::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Speed and ETA of the current phase, measured on the work done now (bytes of tasks an
/// earlier run had finished are left out).
struct Rate {
    phase: String,
    start: Instant,
}

impl Rate {
    fn new() -> Rate {
        Rate {
            phase: String::new(),
            start: Instant::now(),
        }
    }

    /// Notes the current phase; true if it changed.
    fn update(&mut self, progress: &Progress) -> bool {
        let p = progress.phase.lock().expect("progress lock").clone();
        if p == self.phase {
            return false;
        }
        self.phase = p;
        self.start = Instant::now();
        true
    }

    /// (bytes per second done now, seconds left if known).
    fn speed(&self, progress: &Progress) -> (f64, Option<f64>) {
        let bytes = progress.bytes.load(Ordering::Relaxed);
        let reused = progress.reused_bytes.load(Ordering::Relaxed);
        let total = progress.total_bytes.load(Ordering::Relaxed);
        let secs = self.start.elapsed().as_secs_f64().max(1e-3);
        let rate = bytes.saturating_sub(reused) as f64 / secs;
        let eta = (rate > 0.0 && total >= bytes).then(|| (total - bytes) as f64 / rate);
        (rate, eta)
    }
}

fn mib_s(rate: f64) -> String {
    format!("{:.1} MiB/s", rate / (1 << 20) as f64)
}

fn eta(secs: Option<f64>) -> String {
    match secs {
        None => "ETA ?".into(),
        Some(s) if s < 60.0 => format!("ETA {s:.0}s"),
        Some(s) => format!("ETA {}m{:02}s", s as u64 / 60, s as u64 % 60),
    }
}

/// Polls `progress` and draws a bar on stderr until `finished`.
pub fn progress_bar(progress: &Progress, finished: &AtomicBool) {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>10} [{bar:30}] {bytes}/{total_bytes} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let mut rate = Rate::new();
    while !finished.load(Ordering::Relaxed) {
        for m in progress.take_messages() {
            bar.println(m);
        }
        // The bar shows the current phase; the queue of started ones is for line output.
        progress.take_started();
        if rate.update(progress) {
            bar.reset();
            bar.set_prefix(rate.phase.clone());
        }
        bar.set_length(progress.total_bytes.load(Ordering::Relaxed));
        bar.set_position(progress.bytes.load(Ordering::Relaxed));
        let docs = progress.docs.load(Ordering::Relaxed);
        let (r, left) = rate.speed(progress);
        bar.set_message(format!(
            "{} {} {} docs ({:.0} docs/s), units {}/{}",
            mib_s(r),
            eta(left),
            docs,
            docs as f64 / rate.start.elapsed().as_secs_f64().max(1e-3),
            progress.units_done.load(Ordering::Relaxed),
            progress.units_total.load(Ordering::Relaxed)
        ));
        std::thread::sleep(Duration::from_millis(100));
    }
    bar.finish_and_clear();
    for m in progress.take_messages() {
        eprintln!("{m}");
    }
}

/// Without a terminal: a line when a phase starts and every `every`, and the executor's
/// messages as they come, until `finished`.
pub fn progress_lines(progress: &Progress, finished: &AtomicBool, every: Duration) {
    let mut rate = Rate::new();
    let mut last = Instant::now();
    let line = |rate: &Rate| {
        let (r, left) = rate.speed(progress);
        eprintln!(
            "datamill: {}: units {}/{}, {:.1}/{:.1} MB, {} docs, {} {}",
            rate.phase,
            progress.units_done.load(Ordering::Relaxed),
            progress.units_total.load(Ordering::Relaxed),
            progress.bytes.load(Ordering::Relaxed) as f64 / 1e6,
            progress.total_bytes.load(Ordering::Relaxed) as f64 / 1e6,
            progress.docs.load(Ordering::Relaxed),
            mib_s(r),
            eta(left)
        );
    };
    loop {
        let done = finished.load(Ordering::Relaxed);
        for m in progress.take_messages() {
            eprintln!("datamill: {m}");
        }
        // Phases from the queue, not from polling `phase`: a short one would be missed.
        let started = progress.take_started();
        for phase in &started {
            eprintln!("datamill: {phase}");
        }
        if done {
            return;
        }
        if rate.update(progress) || !started.is_empty() {
            last = Instant::now();
        } else if last.elapsed() >= every {
            line(&rate);
            last = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn pct(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        100.0 * a as f64 / b as f64
    }
}

fn mb(b: u64) -> String {
    format!("{:.1} MB", b as f64 / 1e6)
}

/// A stage's counters (`StageStats::counters`) for the summary, tokens first (`tokens 1200 in → 800 out`), or `None`
/// if it has none.
fn counters_line(c: &std::collections::BTreeMap<String, u64>) -> Option<String> {
    let mut parts = Vec::new();
    match (c.get("tokens_in"), c.get("tokens_out")) {
        (Some(i), Some(o)) => parts.push(format!("tokens {i} in → {o} out")),
        (Some(i), None) => parts.push(format!("tokens {i} in → 0 out")),
        (None, Some(o)) => parts.push(format!("tokens {o} out")),
        (None, None) => {}
    }
    for (k, v) in c {
        // token_count's own total is its `tokens_out`.
        let repeated = k == "tokens" && c.get("tokens_out") == Some(v);
        if k != "tokens_in" && k != "tokens_out" && !repeated {
            parts.push(format!("{k} {v}"));
        }
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The human summary printed after a run.
pub fn render(r: &RunReport) -> String {
    let s = &r.stats;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "datamill: {} documents in ({}), {} kept ({:.1} %), {} dropped, {} quarantined",
        s.input_docs,
        mb(s.input_bytes),
        s.output_docs,
        pct(s.output_docs, s.input_docs),
        s.dropped_total(),
        s.quarantined
    );
    let w = s.stages.iter().map(|x| x.kind.len()).max().unwrap_or(0);
    for (i, st) in s.stages.iter().enumerate() {
        let reasons: Vec<String> = st.dropped.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(
            o,
            "  {:>2}. {:w$}  in {:>9}  kept {:>9}  dropped {:>9}{}  {:.2} s",
            i + 1,
            st.kind,
            st.input,
            st.kept,
            st.dropped_total(),
            if reasons.is_empty() {
                String::new()
            } else {
                format!(" ({})", reasons.join(", "))
            },
            st.seconds
        );
        if let Some(line) = counters_line(&st.counters) {
            let _ = writeln!(o, "      {line}");
        }
    }
    if s.quarantined > 0 {
        let q: Vec<String> = s
            .quarantine
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(
            o,
            "  quarantined: {} → {}/quarantine/",
            q.join(", "),
            r.out_dir.display()
        );
    }
    let _ = writeln!(
        o,
        "  wrote {} shard(s), {} ({} uncompressed) to {} in {:.2} s{}",
        s.output_files,
        mb(s.output_file_bytes),
        mb(s.output_bytes),
        r.out_dir.display(),
        r.seconds,
        if r.resumed_tasks > 0 {
            format!(" (resumed: {} task(s) were already done)", r.resumed_tasks)
        } else {
            String::new()
        }
    );
    let _ = writeln!(o, "  stats: {}", r.out_dir.join("stats.json").display());
    for n in &r.notes {
        let _ = writeln!(o, "  note: {n}");
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_shows_tokens_and_stage_counters() {
        let report = RunReport {
            stats: serde_json::from_value(serde_json::json!({
                "input_docs": 10, "input_bytes": 1000, "output_docs": 8, "output_bytes": 800,
                "output_file_bytes": 400, "output_files": 1, "quarantined": 0,
                "quarantine": {},
                "stages": [
                    {"type": "token_count", "in": 10, "kept": 10, "dropped": {}, "seconds": 0.1,
                     "counters": {"tokens": 5000, "tokens_out": 5000}},
                    {"type": "pii", "in": 10, "kept": 10, "dropped": {}, "seconds": 0.1,
                     "counters": {"emails_replaced": 3, "tokens_in": 5000, "tokens_out": 5000}},
                    {"type": "length", "in": 10, "kept": 8, "dropped": {"min_words": 2},
                     "seconds": 0.1, "counters": {"tokens_in": 5000, "tokens_out": 4100}}
                ]
            }))
            .unwrap(),
            out_dir: "out".into(),
            resumed_tasks: 0,
            ran_tasks: 1,
            seconds: 0.5,
            notes: Vec::new(),
        };
        let s = render(&report);
        let lines: Vec<&str> = s.lines().collect();
        assert!(lines[1].contains("token_count"), "{s}");
        assert_eq!(lines[2].trim(), "tokens 5000 out", "{s}");
        assert_eq!(
            lines[4].trim(),
            "tokens 5000 in → 5000 out, emails_replaced 3",
            "{s}"
        );
        assert_eq!(lines[6].trim(), "tokens 5000 in → 4100 out", "{s}");
    }

    /// A resumed phase: 90 of its 100 MB were done by an earlier run. The speed counts the
    /// 10 MB read now, and the ETA follows from it.
    #[test]
    fn speed_counts_only_the_work_done_now() {
        let p = Progress::default();
        p.start_phase("pass 1/2".into(), 200_000_000, 20);
        p.bytes.store(100_000_000, Ordering::Relaxed);
        p.reused_bytes.store(90_000_000, Ordering::Relaxed);
        let mut r = Rate::new();
        assert!(r.update(&p));
        assert!(!r.update(&p));
        r.start = Instant::now() - Duration::from_secs(10);
        let (rate, left) = r.speed(&p);
        // At most 10 MB in 10 s (the clock moved on a little since).
        assert!(rate <= 1_000_000.0 && rate > 900_000.0, "{rate}");
        let left = left.unwrap();
        assert!((100.0..112.0).contains(&left), "{left}");
        assert_eq!(eta(Some(75.0)), "ETA 1m15s");
        assert_eq!(eta(None), "ETA ?");
    }
}
