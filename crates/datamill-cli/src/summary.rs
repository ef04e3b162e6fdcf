//! The progress bar and the end-of-run summary (only on a terminal, never with `--quiet`).

use datamill_exec::run::{Progress, RunReport};
use indicatif::{ProgressBar, ProgressStyle};
use std::fmt::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Polls `progress` and draws a bar on stderr until `finished`.
pub fn progress_bar(progress: &Progress, finished: &AtomicBool) {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>10} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let start = Instant::now();
    let mut phase = String::new();
    let mut phase_start = start;
    while !finished.load(Ordering::Relaxed) {
        let p = progress.phase.lock().expect("progress lock").clone();
        if p != phase {
            phase = p;
            phase_start = Instant::now();
            bar.reset();
            bar.set_prefix(phase.clone());
        }
        bar.set_length(progress.total_bytes.load(Ordering::Relaxed));
        bar.set_position(progress.bytes.load(Ordering::Relaxed));
        let docs = progress.docs.load(Ordering::Relaxed);
        let secs = phase_start.elapsed().as_secs_f64().max(1e-3);
        bar.set_message(format!(
            "{} docs ({:.0} docs/s), units {}/{}",
            docs,
            docs as f64 / secs,
            progress.units_done.load(Ordering::Relaxed),
            progress.units_total.load(Ordering::Relaxed)
        ));
        std::thread::sleep(Duration::from_millis(100));
    }
    bar.finish_and_clear();
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
}
