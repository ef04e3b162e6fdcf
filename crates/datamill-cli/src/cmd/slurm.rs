//! `datamill slurm PIPELINE --tasks N`: plans a run (the plan is stored in the output folder)
//! and writes `sbatch` scripts that run it on a Slurm cluster, one job per wave of the plan:
//!
//! * each pass is one **job array** of `N` tasks (`--array=0-(N-1)`; fewer when the input has
//!   fewer work units); array task `$SLURM_ARRAY_TASK_ID` runs
//!   `datamill task OUT pass:K --rank $SLURM_ARRAY_TASK_ID --world-size N`, the units whose
//!   index modulo `N` is its rank, on `--cpus-per-task` threads;
//! * the steps between two passes (the decision of a global stage, the report step of the
//!   previous one) are one single-task job each (`datamill task OUT decide:K`, `report:K`),
//!   and so are the steps after the last pass (its report, the run-wide `schema` step);
//! * a last job runs `datamill run` on the folder: every task is done, so it only sums the
//!   markers into `stats.json` and removes what passes handed over.
//!
//! Each job depends on the one before with `--dependency=afterok:<id>`: an array's successor
//! starts when every task of the array succeeded. `submit.sh` submits them in order (the
//! `--submit` flag runs it). A failed or cancelled job stops the chain; running `submit.sh`
//! again resumes: every task whose completion marker exists is skipped. The output is
//! byte-identical to a local run's.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use datamill_exec::layout::Layout;
use datamill_exec::pipeline::Pipeline;
use datamill_exec::plan::{Plan, Wave};
use datamill_exec::run::{RunOptions, prepare};

use super::absolute;
use crate::fail;

/// Arguments of `datamill slurm`.
#[derive(Args)]
pub struct SlurmArgs {
    /// The pipeline file (TOML).
    pipeline: PathBuf,
    /// Tasks per job array (one array per pass).
    #[arg(long)]
    tasks: u32,
    /// Output folder (default: `output.dir` of the pipeline, relative to its file); it must
    /// be on a file system every node sees.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Where to write the scripts (default: OUT/.datamill/slurm).
    #[arg(long)]
    script_dir: Option<PathBuf>,
    /// Submit the jobs (runs the written submit.sh) and print their ids.
    #[arg(long)]
    submit: bool,
    /// `#SBATCH --partition`.
    #[arg(long)]
    partition: Option<String>,
    /// `#SBATCH --time` of every job, e.g. `4:00:00`.
    #[arg(long)]
    time: Option<String>,
    /// `#SBATCH --cpus-per-task` (also the worker threads of each task).
    #[arg(long, default_value_t = 1)]
    cpus_per_task: u32,
    /// `#SBATCH --mem` of every job, e.g. `8G`.
    #[arg(long)]
    mem: Option<String>,
    /// Memory budget of the decide jobs' deciders, e.g. `6GB` (`datamill task --memory`).
    #[arg(long)]
    memory: Option<String>,
    /// Another `#SBATCH` line for every job (repeatable), e.g. `--sbatch=--account=nlp`.
    #[arg(long = "sbatch", value_name = "OPTION", allow_hyphen_values = true)]
    sbatch: Vec<String>,
    /// The datamill binary the jobs run (default: this one).
    #[arg(long)]
    datamill: Option<PathBuf>,
    /// Delete a previous run of a different pipeline in the output folder.
    #[arg(long)]
    force: bool,
}

/// Options of the generated scripts.
#[derive(Clone, Debug)]
pub struct ScriptOptions {
    /// Tasks per array.
    pub tasks: u32,
    /// The datamill binary (absolute).
    pub datamill: PathBuf,
    /// The pipeline file (absolute).
    pub pipeline: PathBuf,
    /// The output folder (absolute).
    pub out: PathBuf,
    /// The script folder (absolute), for the log paths.
    pub script_dir: PathBuf,
    /// CPUs per task.
    pub cpus: u32,
    /// Extra `#SBATCH` options, in order.
    pub sbatch: Vec<String>,
    /// `--memory` for decide tasks.
    pub memory: Option<String>,
}

/// One job: its script's file name and text, and whether it is an array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    /// The script's file name (`00-pass0.sbatch`, ...).
    pub file: String,
    /// The script.
    pub script: String,
    /// Array size (`None`: a single task).
    pub array: Option<u32>,
}

/// A word for a POSIX shell, single-quoted unless plain.
fn sh(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn shp(p: &Path) -> String {
    sh(&p.to_string_lossy())
}

fn header(o: &ScriptOptions, name: &str, array: Option<u32>) -> String {
    let mut s = String::from("#!/bin/bash\n");
    let _ = writeln!(s, "#SBATCH --job-name={}", sh(&format!("datamill-{name}")));
    let log = match array {
        Some(n) => {
            let _ = writeln!(s, "#SBATCH --array=0-{}", n - 1);
            o.script_dir.join(format!("logs/{name}-%a.log"))
        }
        None => o.script_dir.join(format!("logs/{name}.log")),
    };
    let _ = writeln!(s, "#SBATCH --output={}", shp(&log));
    let _ = writeln!(s, "#SBATCH --cpus-per-task={}", o.cpus);
    for extra in &o.sbatch {
        let _ = writeln!(s, "#SBATCH {}", sh(extra));
    }
    s.push_str("set -euo pipefail\n");
    s
}

/// The jobs running `plan` (one array per pass, one job per run of decide/report steps, a
/// final job), in submission order.
pub fn jobs(plan: &Plan, o: &ScriptOptions) -> Vec<Job> {
    let n = o.tasks.min(plan.units.len().max(1) as u32).max(1);
    let bin = shp(&o.datamill);
    let out = shp(&o.out);
    let memory = o
        .memory
        .as_deref()
        .map(|m| format!(" --memory {}", sh(m)))
        .unwrap_or_default();
    let mut jobs: Vec<Job> = Vec::new();
    // Steps between passes, gathered into one job.
    let mut steps: Vec<String> = Vec::new();
    let flush = |steps: &mut Vec<String>, jobs: &mut Vec<Job>| {
        if steps.is_empty() {
            return;
        }
        let name = steps
            .iter()
            .map(|t| t.replace(':', ""))
            .collect::<Vec<_>>()
            .join("-");
        let mut s = header(o, &name, None);
        for t in steps.drain(..) {
            let mem = if t.starts_with("decide") { &memory } else { "" };
            let _ = writeln!(s, "{bin} task {out} {t}{mem}");
        }
        jobs.push(Job {
            file: format!("{:02}-{name}.sbatch", jobs.len()),
            script: s,
            array: None,
        });
    };
    for wave in plan.waves() {
        match wave {
            Wave::Pass(k) => {
                flush(&mut steps, &mut jobs);
                let name = format!("pass{k}");
                let mut s = header(o, &name, Some(n));
                let _ = writeln!(
                    s,
                    "exec {bin} task {out} pass:{k} --rank \"$SLURM_ARRAY_TASK_ID\" --world-size {n} --workers \"${{SLURM_CPUS_PER_TASK:-{}}}\"",
                    o.cpus
                );
                jobs.push(Job {
                    file: format!("{:02}-{name}.sbatch", jobs.len()),
                    script: s,
                    array: Some(n),
                });
            }
            Wave::Decide(k) => steps.push(format!("decide:{k}")),
            Wave::Report(k) => steps.push(format!("report:{k}")),
            Wave::Schema => steps.push("schema".to_string()),
        }
    }
    flush(&mut steps, &mut jobs);
    let mut s = header(o, "finish", None);
    let _ = writeln!(
        s,
        "exec {bin} run {} --output {out} --workers \"${{SLURM_CPUS_PER_TASK:-{}}}\" --quiet",
        shp(&o.pipeline),
        o.cpus
    );
    jobs.push(Job {
        file: format!("{:02}-finish.sbatch", jobs.len()),
        script: s,
        array: None,
    });
    jobs
}

/// `submit.sh`: submits the jobs in order, each after the previous one succeeded, and prints
/// `<file> <job id>` per job.
pub fn submit_script(jobs: &[Job]) -> String {
    let mut s = String::from(
        "#!/bin/sh\n# Submits datamill's jobs in order, each after the previous one succeeded\n\
         # (rerun it after a failure: finished tasks are skipped).\nset -eu\ncd \"$(dirname \"$0\")\"\nmkdir -p logs\n\
         SBATCH=\"${SBATCH:-sbatch}\"\nprev=\n",
    );
    for j in jobs {
        let _ = writeln!(
            s,
            "id=$($SBATCH --parsable ${{prev:+--dependency=afterok:$prev}} {}); id=${{id%%;*}}\necho \"{} $id\"\nprev=$id",
            sh(&j.file),
            j.file
        );
    }
    s
}

fn write_exec(path: &Path, text: &str) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Runs `datamill slurm`.
pub fn run(args: SlurmArgs) -> ExitCode {
    if args.tasks == 0 {
        return fail("--tasks must be at least 1");
    }
    if args.cpus_per_task == 0 {
        return fail("--cpus-per-task must be at least 1");
    }
    // From its absolute path: the plan then holds absolute input paths, and the jobs (started
    // in another folder) find the inputs of a pipeline given by a relative path.
    let p = match Pipeline::load(&absolute(&args.pipeline)) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let opts = RunOptions {
        output: args.output.clone(),
        force: args.force,
        ..Default::default()
    };
    let (plan, out) = match prepare(&p, &opts) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    let out = absolute(&out);
    let script_dir = absolute(
        &args
            .script_dir
            .clone()
            .unwrap_or_else(|| Layout::new(&out).state_dir().join("slurm")),
    );
    let datamill = match &args.datamill {
        Some(d) => absolute(d),
        None => match std::env::current_exe() {
            Ok(e) => e,
            Err(e) => return fail(format!("cannot find this binary ({e}): pass --datamill")),
        },
    };
    let mut sbatch = Vec::new();
    if let Some(v) = &args.partition {
        sbatch.push(format!("--partition={v}"));
    }
    if let Some(v) = &args.time {
        sbatch.push(format!("--time={v}"));
    }
    if let Some(v) = &args.mem {
        sbatch.push(format!("--mem={v}"));
    }
    sbatch.extend(args.sbatch.iter().cloned());
    let o = ScriptOptions {
        tasks: args.tasks,
        datamill,
        pipeline: absolute(&args.pipeline),
        out: out.clone(),
        script_dir: script_dir.clone(),
        cpus: args.cpus_per_task,
        sbatch,
        memory: args.memory.clone(),
    };
    let jobs = jobs(&plan, &o);
    if let Err(e) = std::fs::create_dir_all(script_dir.join("logs")) {
        return fail(format!("{}: {e}", script_dir.display()));
    }
    for j in &jobs {
        if let Err(e) = write_exec(&script_dir.join(&j.file), &j.script) {
            return fail(e);
        }
    }
    let submit = script_dir.join("submit.sh");
    if let Err(e) = write_exec(&submit, &submit_script(&jobs)) {
        return fail(e);
    }
    let arrays = jobs.iter().filter(|j| j.array.is_some()).count();
    eprintln!(
        "{}: {} work unit(s), {} pass(es) as {arrays} job array(s) of {} task(s), {} job(s) in all; scripts in {}",
        args.pipeline.display(),
        plan.units.len(),
        plan.passes.len(),
        jobs.iter().find_map(|j| j.array).unwrap_or(1),
        jobs.len(),
        script_dir.display()
    );
    if !args.submit {
        eprintln!("submit with: sh {}", shp(&submit));
        return ExitCode::SUCCESS;
    }
    match std::process::Command::new("sh").arg(&submit).status() {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(_) => fail(format!(
            "{} failed (see its output above)",
            submit.display()
        )),
        Err(e) => fail(format!("cannot run {}: {e}", submit.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_for_the_shell() {
        assert_eq!(sh("/data/out-1"), "/data/out-1");
        assert_eq!(sh("a b"), "'a b'");
        assert_eq!(sh("it's"), "'it'\\''s'");
        assert_eq!(sh("$(rm -rf /)"), "'$(rm -rf /)'");
        assert_eq!(sh(""), "''");
    }
}
