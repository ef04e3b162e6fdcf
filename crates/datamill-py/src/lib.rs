//! `datamill._datamill`: the Rust half of the `datamill` Python package (the Python half is
//! `python/datamill/`). Every function here releases the GIL while Rust works.
//!
//! * `run`: a whole pipeline on this machine, with progress polled by a Python callback
//!   and Ctrl-C turned into a clean stop;
//! * the cluster executors' entry points (`prepare`, `pending`, `run_task`,
//!   `drop_hand_over`, `finish`): the plan stored in the output folder, the tasks of a
//!   wave that are not done, one task, the end of a run (`stats.json` summed from the
//!   markers). `datamill.ray` schedules them as Ray tasks;
//! * `stage::Stage`: a per-document stage applied to Arrow record batches;
//! * `learn`: label issues and scaling-law fits over numpy buffers.
//!
//! Errors: a bad pipeline or parameter raises `ValueError`, an interrupted run
//! `KeyboardInterrupt`, anything else `datamill.DatamillError`.

use datamill_exec::error::RunError;
use datamill_exec::pipeline::{ConfigError, Pipeline};
use datamill_exec::plan::{Plan, Task, Wave};
use datamill_exec::run::{
    Progress, RunOptions, RunReport, prepare as prepare_run, run as run_pipeline,
};
use datamill_exec::task::Runner;
use pyo3::create_exception;
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

mod learn;
mod source;
mod stage;

create_exception!(
    datamill,
    DatamillError,
    PyRuntimeError,
    "A run or task failed (an unreadable input, a full disk, a stage error...)."
);

/// A run error as a Python exception.
pub(crate) fn run_err(e: RunError) -> PyErr {
    match e {
        RunError::Config(c) => PyValueError::new_err(c.to_string()),
        RunError::Interrupted => PyKeyboardInterrupt::new_err("interrupted"),
        e => DatamillError::new_err(e.to_string()),
    }
}

fn config_err(e: ConfigError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// `p` made absolute against this process's current folder (lexically: no symlink is
/// followed). The driver resolves every path it hands to a plan or a worker: a Ray worker or
/// a later `datamill task` runs in another folder.
fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Builds the pipeline from `(kind, value)`: `"path"` (a TOML file), `"toml"` (TOML text) or
/// `"json"` (a dict, serialized by the Python side); relative paths resolve against
/// `base_dir` (default: the file's folder, or the current folder), made absolute here so
/// the plan holds absolute input and output paths.
fn pipeline(kind: &str, value: &str, base_dir: Option<PathBuf>) -> PyResult<Pipeline> {
    let cwd = || std::env::current_dir().unwrap_or_default();
    let base_dir = base_dir.map(|b| absolute(&b));
    match kind {
        "path" => {
            let path = &absolute(Path::new(value));
            match base_dir {
                None => Pipeline::load(path).map_err(config_err),
                Some(b) => {
                    let text = std::fs::read_to_string(path)
                        .map_err(|e| PyValueError::new_err(format!("{}: {e}", path.display())))?;
                    Pipeline::from_source(path, &text, &b).map_err(config_err)
                }
            }
        }
        "toml" => Pipeline::from_source(
            Path::new("<pipeline>"),
            value,
            &base_dir.unwrap_or_else(cwd),
        )
        .map_err(config_err),
        "json" => {
            let text = source::dict_to_toml(value).map_err(PyValueError::new_err)?;
            Pipeline::from_source(
                Path::new("<pipeline dict>"),
                &text,
                &base_dir.unwrap_or_else(cwd),
            )
            .map_err(config_err)
        }
        k => Err(PyValueError::new_err(format!(
            "pipeline kind `{k}`: expected path, toml or json"
        ))),
    }
}

/// The progress counters as a dict for the Python callback.
fn snapshot<'py>(py: Python<'py>, p: &Progress) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let phase = p.phase.lock().map(|s| s.clone()).unwrap_or_default();
    d.set_item("phase", phase)?;
    d.set_item("bytes", p.bytes.load(Ordering::Relaxed))?;
    d.set_item("total_bytes", p.total_bytes.load(Ordering::Relaxed))?;
    d.set_item("docs", p.docs.load(Ordering::Relaxed))?;
    d.set_item("units_done", p.units_done.load(Ordering::Relaxed))?;
    d.set_item("units_total", p.units_total.load(Ordering::Relaxed))?;
    Ok(d)
}

/// Runs `work` on another thread with the GIL released; every `every`, with the GIL held,
/// checks for Ctrl-C and calls `tick` (a progress callback). A Python error in either sets
/// `stop` (the work then ends at its next task) and is raised once the work has returned.
fn detached<T: Send>(
    py: Python<'_>,
    stop: &AtomicBool,
    every: Duration,
    mut tick: impl FnMut(Python<'_>) -> PyResult<()> + Send,
    work: impl FnOnce() -> T + Send,
) -> PyResult<T> {
    let mut pending: Option<PyErr> = None;
    let out = py.detach(|| {
        std::thread::scope(|s| {
            let h = s.spawn(work);
            let mut last = Instant::now();
            while !h.is_finished() {
                std::thread::sleep(Duration::from_millis(10));
                if last.elapsed() < every {
                    continue;
                }
                last = Instant::now();
                Python::attach(|py| {
                    let r = py.check_signals().and_then(|_| tick(py));
                    if let Err(e) = r
                        && pending.is_none()
                    {
                        stop.store(true, Ordering::Relaxed);
                        pending = Some(e);
                    }
                });
            }
            h.join()
        })
    });
    let out = out.map_err(|_| DatamillError::new_err("internal error: the run panicked"))?;
    match pending {
        Some(e) => Err(e),
        None => {
            // A last tick so a callback sees the final counters.
            tick(py)?;
            Ok(out)
        }
    }
}

/// Runs a pipeline on this machine; returns the run's report as JSON text.
#[pyfunction]
#[pyo3(signature = (kind, value, base_dir=None, output=None, workers=None, force=false, memory=None, progress=None, report=true))]
#[allow(clippy::too_many_arguments)]
fn run(
    py: Python<'_>,
    kind: &str,
    value: &str,
    base_dir: Option<PathBuf>,
    output: Option<PathBuf>,
    workers: Option<usize>,
    force: bool,
    memory: Option<u64>,
    progress: Option<Py<PyAny>>,
    report: bool,
) -> PyResult<String> {
    let p = py.detach(|| pipeline(kind, value, base_dir))?;
    let mut opts = RunOptions {
        output,
        force,
        memory,
        ..Default::default()
    };
    if let Some(w) = workers {
        opts.workers = w.max(1);
    }
    let counters = Progress::default();
    let stop = AtomicBool::new(false);
    let tick = |py: Python<'_>| -> PyResult<()> {
        if let Some(cb) = &progress {
            cb.call1(py, (snapshot(py, &counters)?,))?;
        }
        Ok(())
    };
    let done = detached(py, &stop, Duration::from_millis(200), tick, || {
        run_pipeline(&p, &opts, &counters, &stop)
    })?
    .map_err(run_err)?;
    Ok(py.detach(|| result(&done, report)))
}

/// The run's result as JSON text for the Python side, after writing its HTML report
/// (`OUT/report.html`, as `datamill run` does) when `report` is set: `"report"` is the
/// page's path, or `"report_error"` says why it was not written (the run itself is done).
fn result(r: &RunReport, report: bool) -> String {
    let mut page = serde_json::Value::Null;
    let mut error = serde_json::Value::Null;
    if report {
        let dest = r.out_dir.join("report.html");
        match datamill_report::write(&r.out_dir, &dest, &datamill_report::Options::default()) {
            Ok(()) => page = dest.to_string_lossy().into(),
            Err(e) => error = e.to_string().into(),
        }
    }
    serde_json::json!({
        "stats": r.stats,
        "output_dir": r.out_dir,
        "ran_tasks": r.ran_tasks,
        "resumed_tasks": r.resumed_tasks,
        "seconds": r.seconds,
        "notes": r.notes,
        "report": page,
        "report_error": error,
    })
    .to_string()
}

/// Plans a run (or reuses the plan stored in the output folder) for a cluster executor:
/// returns the output folder and the plan's waves, each a list of task names
/// (`pass:K:UNIT`, `decide:K`, `report:K`).
#[pyfunction]
#[pyo3(signature = (kind, value, base_dir=None, output=None, force=false))]
fn prepare(
    py: Python<'_>,
    kind: &str,
    value: &str,
    base_dir: Option<PathBuf>,
    output: Option<PathBuf>,
    force: bool,
) -> PyResult<(PathBuf, Waves)> {
    py.detach(|| {
        let p = pipeline(kind, value, base_dir)?;
        let opts = RunOptions {
            output: output.map(|o| absolute(&o)),
            force,
            ..Default::default()
        };
        let (plan, out) = prepare_run(&p, &opts).map_err(run_err)?;
        let waves = plan
            .waves()
            .into_iter()
            .map(|w| {
                let name = match w {
                    Wave::Pass(k) => format!("pass:{k}"),
                    Wave::Decide(k) => format!("decide:{k}"),
                    Wave::Report(k) => format!("report:{k}"),
                    Wave::Schema => "schema".to_string(),
                };
                let tasks = plan.tasks(w).iter().map(|t| t.to_string()).collect();
                (name, tasks)
            })
            .collect();
        Ok((out, waves))
    })
}

/// A plan's waves for Python: `(wave name, [task name])` in order.
type Waves = Vec<(String, Vec<String>)>;

fn parse_task(t: &str) -> PyResult<Task> {
    t.parse().map_err(PyValueError::new_err)
}

/// Loads the plan stored in `out` and its pipeline.
fn load(out: &Path) -> PyResult<(Plan, Pipeline)> {
    let plan = Plan::load(out).map_err(run_err)?;
    let p = plan.pipeline().map_err(run_err)?;
    Ok((plan, p))
}

/// The tasks among `tasks` whose completion marker does not exist yet in `out`.
#[pyfunction]
fn pending(py: Python<'_>, out: PathBuf, tasks: Vec<String>) -> PyResult<Vec<String>> {
    py.detach(|| {
        let (plan, p) = load(&out)?;
        let progress = Progress::default();
        let r = Runner::new(&plan, &p, &out, &progress, None, 1).map_err(run_err)?;
        let mut left = Vec::new();
        for t in tasks {
            let task = parse_task(&t)?;
            plan.check(task)
                .map_err(|m| DatamillError::new_err(format!("{}: {m}", out.display())))?;
            if !r.is_done(task) {
                left.push(t);
            }
        }
        Ok(left)
    })
}

/// Runs one task of the plan stored in `out` (skipped if its marker exists); returns whether
/// it ran now. The entry point of a cluster worker.
#[pyfunction]
#[pyo3(signature = (out, task, memory=None))]
fn run_task(py: Python<'_>, out: PathBuf, task: &str, memory: Option<u64>) -> PyResult<bool> {
    let task = parse_task(task)?;
    let stop = AtomicBool::new(false);
    detached(
        py,
        &stop,
        Duration::from_millis(200),
        |_| Ok(()),
        || datamill_exec::task::run_task(&out, task, memory),
    )?
    .map_err(run_err)
}

/// Removes the documents pass `k` handed over (once pass `k + 1` is complete).
#[pyfunction]
fn drop_hand_over(py: Python<'_>, out: PathBuf, k: usize) -> PyResult<()> {
    py.detach(|| {
        let (plan, p) = load(&out)?;
        let progress = Progress::default();
        let r = Runner::new(&plan, &p, &out, &progress, None, 1).map_err(run_err)?;
        r.drop_hand_over(k);
        Ok(())
    })
}

/// Ends a run whose tasks are all done: sums the statistics from the markers, writes
/// `stats.json`, the HTML report unless `report` is false, and returns the run's report as
/// JSON text (as `run` does). Fails, naming the first one, if a task is not done.
#[pyfunction]
#[pyo3(signature = (out, report=true))]
fn finish(py: Python<'_>, out: PathBuf, report: bool) -> PyResult<String> {
    py.detach(|| {
        let (plan, p) = load(&out)?;
        {
            let progress = Progress::default();
            let r = Runner::new(&plan, &p, &out, &progress, None, 1).map_err(run_err)?;
            for w in plan.waves() {
                if let Some(t) = plan.tasks(w).into_iter().find(|&t| !r.is_done(t)) {
                    return Err(DatamillError::new_err(format!(
                        "{}: task {t} is not done",
                        out.display()
                    )));
                }
            }
        }
        // Every task is done: the local executor only skips them, drops what passes
        // handed over, sums the markers and writes stats.json.
        let opts = RunOptions {
            output: Some(out.clone()),
            workers: 1,
            ..Default::default()
        };
        let done = run_pipeline(&p, &opts, &Progress::default(), &AtomicBool::new(false))
            .map_err(run_err)?;
        Ok(result(&done, report))
    })
}

/// Parses a size as pipeline files write them (`2GB`, `512MiB`, `1000`).
#[pyfunction]
fn byte_size(s: &str) -> PyResult<u64> {
    datamill_core::ByteSize::parse(s)
        .map(|b| b.0)
        .map_err(PyValueError::new_err)
}

/// The registered stage types: `(name, is_global, summary)`.
#[pyfunction]
fn stages() -> Vec<(&'static str, bool, String)> {
    datamill_stages::registry()
        .into_iter()
        .map(|i| (i.name, i.global, i.summary()))
        .collect()
}

/// A stage's documentation (what `datamill stages NAME` prints).
#[pyfunction]
fn stage_doc(name: &str) -> PyResult<&'static str> {
    datamill_stages::info(name)
        .map(|i| i.doc)
        .ok_or_else(|| PyValueError::new_err(format!("unknown stage `{name}`")))
}

/// The Python module.
#[pymodule]
fn _datamill(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("DatamillError", m.py().get_type::<DatamillError>())?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(prepare, m)?)?;
    m.add_function(wrap_pyfunction!(pending, m)?)?;
    m.add_function(wrap_pyfunction!(run_task, m)?)?;
    m.add_function(wrap_pyfunction!(drop_hand_over, m)?)?;
    m.add_function(wrap_pyfunction!(finish, m)?)?;
    m.add_function(wrap_pyfunction!(stages, m)?)?;
    m.add_function(wrap_pyfunction!(byte_size, m)?)?;
    m.add_function(wrap_pyfunction!(stage_doc, m)?)?;
    m.add_class::<stage::Stage>()?;
    learn::register(m)?;
    Ok(())
}
