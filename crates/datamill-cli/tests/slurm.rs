//! `datamill slurm`: the generated sbatch scripts (one array per pass, steps between passes,
//! a final job, afterok chaining) and, through a stand-in `sbatch` that runs each array's
//! tasks in parallel with `SLURM_ARRAY_TASK_ID` set, the whole submitted run: byte-identical
//! to a local run, resumable after a failed array task.
//!
//! The stand-in checks what a real Slurm needs (`--parsable`, `--dependency=afterok:<the
//! previous job>`, the `#SBATCH --array` range) but is not Slurm; the last test runs the jobs
//! on a real one-node Slurm cluster when `.ci/run` started one (`tests/slurm_cluster.sh`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_datamill"))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// A three-pass pipeline (two global stages) over the examples' English prose (written plain,
/// so that it splits into several work units) and near-duplicate shards.
fn pipeline(dir: &Path) -> PathBuf {
    let data = repo().join("examples/data");
    let raw =
        zstd::decode_all(std::fs::File::open(data.join("en_prose_sample.jsonl.zst")).unwrap())
            .unwrap();
    std::fs::write(dir.join("prose.jsonl"), raw).unwrap();
    let p = dir.join("p.toml");
    std::fs::write(
        &p,
        format!(
            "version = 1\n[input]\npaths = [\"prose.jsonl\", \"{}\"]\nunit_size = \"300KB\"\n\
             [[stage]]\ntype = \"length\"\nmin_words = 10\n\
             [[stage]]\ntype = \"exact_dedup\"\n\
             [[stage]]\ntype = \"gopher_repetition\"\n\
             [[stage]]\ntype = \"line_dedup\"\n\
             [output]\nexcluded = true\n",
            data.join("neardup_sample.jsonl.gz").display()
        ),
    )
    .unwrap();
    p
}

/// Every file of an output folder but its bookkeeping and timings.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            // report.html: written by `datamill run` (with timings), not by array tasks.
            if rel.starts_with(".datamill") || rel == "stats.json" || rel == "report.html" {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn counts(dir: &Path) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("stats.json")).unwrap()).unwrap();
    let o = v.as_object_mut().unwrap();
    for k in ["wall_seconds", "workers"] {
        o.remove(k);
    }
    for s in o["stages"].as_array_mut().unwrap() {
        s.as_object_mut().unwrap().remove("seconds");
    }
    v
}

/// The final job wrote the run's report as a local run does: a finished run's page (no
/// "problems" section) with the run's counts.
fn check_report(out: &Path) {
    let page = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert!(page.contains("<section id=\"funnel\""));
    assert!(!page.contains("<section id=\"problems\""));
    let stats = counts(out);
    for k in ["input_docs", "output_docs"] {
        let cell = format!("data-stat=\"{k}\" data-v=\"{}\"", stats[k]);
        assert!(page.contains(&cell), "{cell}");
    }
}

/// A stand-in for `sbatch`: checks the options a Slurm submission needs, runs the script
/// (each array task in parallel, with SLURM_ARRAY_TASK_ID) and prints a job id.
const FAKE_SBATCH: &str = r#"#!/bin/bash
set -u
log="$(dirname "$0")/submitted"
parsable=0; dep=""
while [ $# -gt 1 ]; do
  case "$1" in
    --parsable) parsable=1 ;;
    --dependency=*) dep="${1#--dependency=}" ;;
    *) echo "fake sbatch: unexpected option $1" >&2; exit 1 ;;
  esac
  shift
done
script="$1"
[ "$parsable" = 1 ] || { echo "fake sbatch: no --parsable" >&2; exit 1; }
n=$(wc -l < "$log" 2>/dev/null || echo 0)
id=$((1000 + n))
if [ "$n" -gt 0 ]; then
  want="afterok:$((1000 + n - 1))"
  [ "$dep" = "$want" ] || { echo "fake sbatch: dependency '$dep', expected $want" >&2; exit 1; }
fi
echo "$id $script $dep" >> "$log"
range=$(sed -n 's/^#SBATCH --array=//p' "$script")
export SLURM_CPUS_PER_TASK=$(sed -n 's/^#SBATCH --cpus-per-task=//p' "$script")
status=0
if [ -n "$range" ]; then
  pids=()
  for i in $(seq "${range%-*}" "${range#*-}"); do
    SLURM_ARRAY_TASK_ID=$i SLURM_JOB_ID=$id bash "$script" > "$(dirname "$0")/job-$id-$i.log" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || status=1; done
else
  SLURM_JOB_ID=$id bash "$script" > "$(dirname "$0")/job-$id.log" 2>&1 || status=1
fi
# A failed job: a real Slurm would accept the submission and never start the dependants;
# the stand-in stops the chain at once.
[ "$status" = 0 ] || { echo "fake sbatch: job $id ($script) failed" >&2; exit 1; }
echo "$id;cluster"
"#;

fn fake_sbatch(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin_dir = dir.join("fakebin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let p = bin_dir.join("sbatch");
    std::fs::write(&p, FAKE_SBATCH).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin_dir
}

#[test]
fn scripts_one_array_per_pass_chained_afterok() {
    let d = tempfile::tempdir().unwrap();
    let p = pipeline(d.path());
    let out = d.path().join("out");
    let o = ok(bin()
        .args(["slurm"])
        .arg(&p)
        .args(["--tasks", "3", "--cpus-per-task", "2", "--time", "1:00:00"])
        .args(["--sbatch=--account=nlp team", "--memory", "1GB", "--output"])
        .arg(&out)
        .output()
        .unwrap());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("3 pass(es) as 3 job array(s) of 3 task(s)"),
        "{err}"
    );
    let sd = out.join(".datamill/slurm");
    let mut names: Vec<String> = std::fs::read_dir(&sd)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sbatch"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "00-pass0.sbatch",
            "01-decide0.sbatch",
            "02-pass1.sbatch",
            "03-report0-decide1.sbatch",
            "04-pass2.sbatch",
            "05-report1-schema.sbatch",
            "06-finish.sbatch"
        ]
    );
    let read = |n: &str| std::fs::read_to_string(sd.join(n)).unwrap();
    let pass1 = read("02-pass1.sbatch");
    assert!(pass1.contains("#SBATCH --array=0-2\n"), "{pass1}");
    assert!(pass1.contains("#SBATCH --cpus-per-task=2\n"));
    assert!(pass1.contains("#SBATCH --time=1:00:00\n"));
    assert!(pass1.contains("#SBATCH '--account=nlp team'\n"), "{pass1}");
    assert!(pass1.contains(
        "pass:1 --rank \"$SLURM_ARRAY_TASK_ID\" --world-size 3 --workers \"${SLURM_CPUS_PER_TASK:-2}\""
    ));
    let steps = read("03-report0-decide1.sbatch");
    assert!(!steps.contains("--array"));
    let report = steps.find(" report:0").expect("report:0");
    let decide = steps.find(" decide:1 --memory 1GB").expect("decide:1");
    assert!(report < decide, "{steps}");
    assert!(read("06-finish.sbatch").contains(" run "));
    let submit = std::fs::read_to_string(sd.join("submit.sh")).unwrap();
    assert_eq!(submit.matches("--parsable").count(), 7);
    assert!(submit.contains("--dependency=afterok:$prev"));
    // The plan is stored: `datamill plan` agrees on the waves.
    let plan = ok(bin()
        .args(["plan"])
        .arg(&p)
        .arg("--output")
        .arg(&out)
        .output()
        .unwrap());
    assert_eq!(String::from_utf8_lossy(&plan.stdout).lines().count(), 8);
    // More tasks than units: the arrays shrink to the units.
    let o = ok(bin()
        .args(["slurm"])
        .arg(&p)
        .args(["--tasks", "500", "--output"])
        .arg(&out)
        .output()
        .unwrap());
    let units: usize = String::from_utf8_lossy(&o.stderr)
        .split(" work unit")
        .next()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(read("00-pass0.sbatch").contains(&format!("--array=0-{}\n", units - 1)));
}

#[test]
fn submitted_jobs_give_the_local_output_and_resume_after_a_failure() {
    let d = tempfile::tempdir().unwrap();
    let p = pipeline(d.path());
    let local = d.path().join("local");
    ok(bin()
        .arg("run")
        .arg(&p)
        .arg("--output")
        .arg(&local)
        .arg("--quiet")
        .output()
        .unwrap());

    let fake = fake_sbatch(d.path());
    let path = format!(
        "{}:{}",
        fake.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = d.path().join("slurm");
    // First submission: a task of pass 1's array dies after its outputs, before its marker
    // (in one process only), so the chain stops there.
    let o = bin()
        .args(["slurm"])
        .arg(&p)
        .args(["--tasks", "3", "--submit", "--output"])
        .arg(&out)
        .env("PATH", &path)
        .env("DATAMILL_FAULT", "outputs:1:1")
        .env("DATAMILL_FAULT_ONCE", d.path().join("fired"))
        .output()
        .unwrap();
    assert!(
        !o.status.success(),
        "the failed array task must stop the chain"
    );
    assert!(d.path().join("fired").exists());
    assert!(!out.join("stats.json").exists());
    assert!(!out.join("report.html").exists());
    // Submitting again resumes: finished tasks are skipped, the rest run.
    std::fs::remove_file(fake.join("submitted")).unwrap();
    let o = ok(bin()
        .args(["slurm"])
        .arg(&p)
        .args(["--tasks", "3", "--submit", "--output"])
        .arg(&out)
        .env("PATH", &path)
        .output()
        .unwrap());
    let printed = String::from_utf8_lossy(&o.stdout);
    assert_eq!(printed.lines().count(), 7, "{printed}");
    assert!(printed.lines().all(|l| {
        l.split(' ')
            .nth(1)
            .is_some_and(|id| id.parse::<u32>().is_ok())
    }));
    assert_eq!(files(&out), files(&local));
    assert_eq!(counts(&out), counts(&local));
    check_report(&out);
}

/// On a real one-node Slurm cluster (`.ci/run` starts one with `tests/slurm_cluster.sh`:
/// Debian's slurmctld + slurmd + munge, and sets `DATAMILL_SLURM=1` and `SLURM_CONF`): the
/// scripts submitted with `--submit` from another folder, the pipeline given by a relative
/// path, run as real job arrays chained afterok and give the local run's files.
#[test]
fn a_real_slurm_cluster_runs_the_jobs_with_the_local_output() {
    if std::env::var_os("DATAMILL_SLURM").is_none() {
        eprintln!(
            "SKIPPED: no Slurm cluster (.ci/run starts one; set DATAMILL_SLURM=1 and SLURM_CONF)"
        );
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let p = pipeline(d.path());
    let local = d.path().join("local");
    ok(bin()
        .arg("run")
        .arg(&p)
        .arg("--output")
        .arg(&local)
        .arg("--quiet")
        .output()
        .unwrap());
    let o = ok(bin()
        .current_dir(d.path())
        .args([
            "slurm", "p.toml", "--tasks", "3", "--submit", "--output", "slurm",
        ])
        .output()
        .unwrap());
    let printed = String::from_utf8_lossy(&o.stdout).into_owned();
    let ids: Vec<String> = printed
        .lines()
        .filter_map(|l| l.split(' ').nth(1).map(str::to_string))
        .collect();
    assert_eq!(ids.len(), 7, "{printed}");
    let out = d.path().join("slurm");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(900);
    loop {
        let q = Command::new("squeue")
            .args(["-h", "-o", "%i %T %r", "-j", &ids.join(",")])
            .output()
            .unwrap();
        let q = String::from_utf8_lossy(&q.stdout).into_owned();
        if q.trim().is_empty() {
            break;
        }
        assert!(!q.contains("DependencyNeverSatisfied"), "a job failed: {q}");
        assert!(
            std::time::Instant::now() < deadline,
            "the jobs did not finish: {q}"
        );
        std::thread::sleep(std::time::Duration::from_secs(2));
    }
    assert!(out.join("stats.json").exists(), "the final job did not run");
    assert_eq!(files(&out), files(&local));
    assert_eq!(counts(&out), counts(&local));
    check_report(&out);
}
