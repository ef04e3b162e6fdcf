//! What a run says and does when it is not alone or not left alone: a rank whose peers never
//! come names them and gives up after `--wait-timeout`; SIGINT and SIGTERM stop it cleanly with
//! exit code 130 and a word on how to resume; a resumed run says so; without a terminal the
//! run still prints progress lines and its summary.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_datamill"));
    c.env_remove("DATAMILL_FAULT");
    c
}

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A 2-pass pipeline over ~3.8 MB of plain JSONL cut into 15 units.
fn setup(dir: &Path) -> PathBuf {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data");
    let prose =
        zstd::decode_all(std::fs::File::open(data.join("en_prose_sample.jsonl.zst")).unwrap())
            .unwrap();
    std::fs::write(dir.join("in.jsonl"), prose).unwrap();
    let p = dir.join("p.toml");
    std::fs::write(
        &p,
        "version = 1\n[input]\npaths = [\"in.jsonl\"]\nunit_size = \"256KB\"\n\
         [[stage]]\ntype = \"length\"\nmin_words = 5\n[[stage]]\ntype = \"exact_dedup\"\n",
    )
    .unwrap();
    p
}

fn args<'a>(p: &'a Path, out: &'a Path) -> Vec<&'a str> {
    vec![
        "run",
        p.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-w",
        "2",
    ]
}

/// Every file under `dir` but `.datamill/` and `stats.json`.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            // report.html shows timings (a view of the run, not its output).
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

fn markers(out: &Path, pass: usize) -> usize {
    std::fs::read_dir(out.join(format!(".datamill/pass{pass}")))
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".done"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn a_rank_whose_peer_never_comes_names_it_and_gives_up_after_the_timeout() {
    let d = tempfile::tempdir().unwrap();
    let p = setup(d.path());
    let out = d.path().join("o");
    let mut a = args(&p, &out);
    a.extend(["--rank", "0", "--world-size", "2", "--wait-timeout", "5s"]);
    let started = Instant::now();
    let o = bin().args(&a).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(started.elapsed() < Duration::from_secs(120));
    // While waiting: which rank and which tasks are missing.
    assert!(
        err.contains("waiting for rank 1 (7 tasks: pass:0:1, pass:0:3"),
        "{err}"
    );
    // Then a clear error, naming them again.
    assert!(
        err.contains("gave up after waiting 5s for rank 1 (7 tasks: pass:0:1")
            && err.contains("--wait-timeout"),
        "{err}"
    );
    let o = bin()
        .args(["run", p.to_str().unwrap(), "--wait-timeout", "soon"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("soon"),
        "{}",
        show(&o)
    );
}

/// Sends `signal` (`TERM`, `INT`) to a waiting rank 0 (all its own tasks of pass 0 done, its
/// peer never started): it must stop with 130 and say how to resume; a local rerun of the
/// folder then says it resumes and gives the same files as an uninterrupted run.
fn stop_with(signal: &str) {
    let d = tempfile::tempdir().unwrap();
    let p = setup(d.path());
    let reference = d.path().join("reference");
    let o = bin().args(args(&p, &reference)).output().unwrap();
    assert!(o.status.success(), "{}", show(&o));
    let out = d.path().join("o");
    let mut a = args(&p, &out);
    a.extend(["--rank", "0", "--world-size", "2"]);
    let mut child = bin()
        .args(&a)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while markers(&out, 0) < 8 {
        assert!(Instant::now() < deadline, "rank 0 never finished its tasks");
        assert!(child.try_wait().unwrap().is_none(), "rank 0 ended early");
        std::thread::sleep(Duration::from_millis(50));
    }
    let k = Command::new("kill")
        .args(["-s", signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(k.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "SIG{signal} did not stop the run"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(130), "SIG{signal}: {err}");
    assert!(
        err.contains("interrupted") && err.contains("rerun the same command to resume"),
        "{err}"
    );
    // The rerun (all units, no rank) resumes and says so.
    let o = bin().args(args(&p, &out)).output().unwrap();
    assert!(o.status.success(), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("resuming: 8 of 30 tasks already done"),
        "{err}"
    );
    assert!(
        files(&out) == files(&reference),
        "SIG{signal}: output differs"
    );
}

#[test]
fn sigterm_stops_cleanly_says_how_to_resume_and_exits_130() {
    stop_with("TERM");
}

#[test]
fn ctrl_c_stops_cleanly_says_how_to_resume_and_exits_130() {
    stop_with("INT");
}

#[test]
fn without_a_terminal_the_run_prints_its_phases_and_summary() {
    let d = tempfile::tempdir().unwrap();
    let p = setup(d.path());
    let out = d.path().join("o");
    // stderr is a pipe here, not a terminal.
    let o = bin().args(args(&p, &out)).output().unwrap();
    assert!(o.status.success(), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    for want in [
        "datamill: pass 1/2",
        "datamill: decide exact_dedup",
        "datamill: pass 2/2",
        "documents in",
        "exact_dedup",
        "stats.json",
    ] {
        assert!(err.contains(want), "{want:?} missing from:\n{err}");
    }
    assert!(!err.contains("resuming"), "{err}");
    // --quiet still prints nothing.
    let o = bin()
        .args(args(&p, &d.path().join("q")))
        .arg("--quiet")
        .output()
        .unwrap();
    assert!(o.status.success() && o.stderr.is_empty(), "{}", show(&o));
}
