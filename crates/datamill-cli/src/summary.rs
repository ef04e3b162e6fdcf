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
