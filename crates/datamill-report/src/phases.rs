//! Time and memory per phase (each pass, each decide step), from what the executor records
//! in the completion markers and `decision.json` (`datamill_exec::resources`).

use std::fmt::Write;

use datamill_exec::layout::Layout;
use serde_json::Value;

use crate::html::{bytes, esc, int};
use crate::load::RunData;

/// One phase of the run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Phase {
    /// `pass 1`, `decide exact_dedup`, ...
    pub name: String,
    /// The stages it ran (types).
    pub stages: Vec<String>,
    /// Tasks done.
    pub tasks: usize,
    /// Tasks whose use was recorded (an older datamill records none).
    pub measured: usize,
    /// Wall seconds from the first task's start to the last one's end.
    pub wall: f64,
    /// CPU seconds, summed over the tasks.
    pub cpu: f64,
    /// Largest peak resident memory a task's process reached, bytes.
    pub peak: u64,
}

fn add(ph: &mut Phase, r: &Value, span: &mut (f64, f64)) {
    let (Some(s), Some(f)) = (r["started"].as_f64(), r["finished"].as_f64()) else {
        return;
    };
    ph.measured += 1;
    span.0 = span.0.min(s);
    span.1 = span.1.max(f);
    ph.cpu += r["cpu_seconds"].as_f64().unwrap_or(0.0);
    ph.peak = ph.peak.max(r["peak_rss_bytes"].as_u64().unwrap_or(0));
}

/// The phases of the run in `d`, in the order they ran.
pub fn phases(d: &RunData) -> Vec<Phase> {
    let l = Layout::new(&d.out);
    let Some(plan) = &d.plan else {
        return Vec::new();
    };
    let kind = |i: &Value| {
        i.as_u64()
            .and_then(|i| d.stages.get(i as usize))
            .map_or("?".to_string(), |s| s.kind.clone())
    };
    let empty = Vec::new();
    let passes = plan["passes"].as_array().unwrap_or(&empty);
    let mut out = Vec::new();
    for (k, pass) in passes.iter().enumerate() {
        let mut stages: Vec<String> = Vec::new();
        if !pass["applies"].is_null() {
            stages.push(format!("{} (applied)", kind(&pass["applies"])));
        }
        for s in pass["stages"].as_array().unwrap_or(&empty) {
            stages.push(kind(s));
        }
        let mut ph = Phase {
            name: format!("pass {}", k + 1),
            stages,
            ..Default::default()
        };
        let mut span = (f64::INFINITY, f64::NEG_INFINITY);
        if let Ok(rd) = std::fs::read_dir(l.pass_dir(k)) {
            for e in rd.flatten() {
                if !e.file_name().to_string_lossy().ends_with(".done") {
                    continue;
                }
                ph.tasks += 1;
                if let Ok(v) = std::fs::read(e.path())
                    .map_err(|_| ())
                    .and_then(|b| serde_json::from_slice::<Value>(&b).map_err(|_| ()))
                {
                    add(&mut ph, &v["resources"], &mut span);
                }
            }
        }
        if ph.measured > 0 {
            ph.wall = span.1 - span.0;
        }
        out.push(ph);
        if let Some(dec) = plan["decisions"].get(k) {
            let mut ph = Phase {
                name: format!("decide {}", dec["kind"].as_str().unwrap_or("?")),
                stages: vec![kind(&dec["stage"])],
                ..Default::default()
            };
            let mut span = (f64::INFINITY, f64::NEG_INFINITY);
            if let Some(Some(v)) = d.decisions.get(k) {
                ph.tasks = 1;
                add(&mut ph, &v["resources"], &mut span);
                if ph.measured > 0 {
                    ph.wall = span.1 - span.0;
                }
            }
            out.push(ph);
        }
    }
    out
}

/// The table of [`phases`].
pub fn table(list: &[Phase]) -> String {
    if list.is_empty() {
        return String::new();
    }
    let mut h = String::from(
        "<h3>Time and memory per phase</h3><p class=\"muted\">A phase is a pass over the \
         documents (its tasks run in parallel) or a global stage's decide step (one task). \
         Wall: from its first task's start to its last one's end. CPU: user + system seconds, \
         summed over its tasks (a pass task counts its thread, a decide step its whole \
         process). Peak memory: the largest resident high-water mark a task's process reached \
         (Linux VmHWM, reset when a decide step starts and ends: a pass's figure covers the \
         pass, a decide step's its own); with several processes (ranks, Ray) it is one \
         process's, not their sum.</p><table class=\"phases\"><tr><th>phase</th><th>stages</th>\
         <th class=\"n\">tasks</th><th class=\"n\">wall s</th><th class=\"n\">CPU s</th>\
         <th class=\"n\">CPU / wall</th><th class=\"n\">peak memory</th></tr>",
    );
    for p in list {
        let known = p.measured > 0;
        let _ = write!(
            h,
            "<tr data-phase=\"{}\" data-cpu=\"{:.3}\" data-peak=\"{}\"><td>{}</td><td>{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&p.name),
            p.cpu,
            p.peak,
            esc(&p.name),
            esc(&p.stages.join(", ")),
            int(p.tasks as u64),
            if known {
                format!("{:.2}", p.wall)
            } else {
                "–".into()
            },
            if known {
                format!("{:.2}", p.cpu)
            } else {
                "–".into()
            },
            if known && p.wall > 0.0 {
                format!("{:.1}", p.cpu / p.wall)
            } else {
                "–".into()
            },
            if known && p.peak > 0 {
                bytes(p.peak)
            } else {
                "–".into()
            },
        );
    }
    h.push_str("</table>");
    if list.iter().any(|p| p.tasks > 0 && p.measured < p.tasks) {
        h.push_str(
            "<p class=\"muted\">–: not recorded (tasks run by a datamill from before this \
             was recorded, or not finished).</p>",
        );
    }
    h
}
