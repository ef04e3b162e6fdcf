//! Disk full (ENOSPC) while writing shards: the run stops with a clear error naming the file,
//! no partial file is left under a finished name, and the rerun (with space again) completes
//! with the output of an uninterrupted run.
//!
//! The output goes to a small tmpfs mounted in a private mount namespace (`unshare -m`, as
//! root). Without that ability the test is skipped with a notice, and fails when
//! DATAMILL_REQUIRE_MODELS=1 (as CI sets).

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn walk(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
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

fn du(dir: &Path) -> u64 {
    let mut n = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let m = e.metadata().unwrap();
            if m.is_dir() {
                stack.push(e.path());
            } else {
                n += m.len();
            }
        }
    }
    n
}

#[test]
fn a_full_disk_stops_the_task_clearly_and_the_rerun_completes() {
    let can = Command::new("unshare")
        .args(["-m", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"])
        .status()
        .is_ok_and(|s| s.success());
    if !can {
        assert!(
            std::env::var("DATAMILL_REQUIRE_MODELS").as_deref() != Ok("1"),
            "unshare -m / mount tmpfs is unavailable and DATAMILL_REQUIRE_MODELS=1"
        );
        eprintln!("SKIPPED: needs root to mount a small tmpfs in a private mount namespace");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("p.toml");
    std::fs::write(
        &p,
        format!(
            "version = 1\n[input]\npaths = [\"{}\"]\nunit_size = \"300KB\"\n\
             [[stage]]\ntype = \"length\"\nmin_words = 10\n\
             [[stage]]\ntype = \"exact_dedup\"\n\
             [output]\ncompression = \"none\"\nexcluded = true\n",
            repo()
                .join("examples/data/en_prose_sample.jsonl.zst")
                .display()
        ),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_datamill");
    let reference = d.path().join("reference");
    let st = Command::new(bin)
        .arg("run")
        .arg(&p)
        .arg("--output")
        .arg(&reference)
        .arg("--quiet")
        .status()
        .unwrap();
    assert!(st.success());
    let size_kb = du(&reference) / 1024 / 2;
    let mnt = d.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let dest = d.path().join("copy");
    let script = format!(
        r#"set -u
mount -t tmpfs -o size={size_kb}k tmpfs {mnt} || exit 99
{bin} run {p} --output {mnt}/out --quiet --workers 2 2> {dir}/err1; echo $? > {dir}/rc1
mkdir -p {dir}/after1 && cp -a {mnt}/out/. {dir}/after1/
mount -o remount,size=64m {mnt}
{bin} run {p} --output {mnt}/out --quiet --workers 2 2> {dir}/err2; echo $? > {dir}/rc2
cp -a {mnt}/out {dest}
"#,
        mnt = mnt.display(),
        p = p.display(),
        dir = d.path().display(),
        dest = dest.display(),
    );
    let st = Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .status()
        .unwrap();
    assert!(st.success(), "the harness failed");
    let read = |n: &str| std::fs::read_to_string(d.path().join(n)).unwrap();
    let err1 = read("err1");
    assert_eq!(
        read("rc1").trim(),
        "2",
        "the full disk must stop the run: {err1}"
    );
    let line = err1.trim();
    assert_eq!(line.lines().count(), 1, "one line: {err1}");
    assert!(
        line.starts_with("error: ") && line.contains("No space left on device"),
        "{err1}"
    );
    assert!(
        line.contains(&mnt.display().to_string()),
        "names the file: {err1}"
    );
    // Nothing under a finished name is partial: every output file the failed run left
    // (temporary names aside) equals the uninterrupted run's file of that name.
    let want = walk(&reference);
    let left = walk(&d.path().join("after1"));
    assert!(!d.path().join("after1/stats.json").exists());
    for (name, bytes) in &left {
        if name.contains(".tmp") {
            continue;
        }
        let w = want.iter().find(|(n, _)| n == name);
        assert_eq!(
            w.map(|x| &x.1),
            Some(bytes),
            "{name} is partial or unexpected"
        );
    }
    assert_eq!(read("rc2").trim(), "0", "the rerun: {}", read("err2"));
    assert_eq!(walk(&dest), want);
    let stats = |dir: &Path| {
        let mut v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("stats.json")).unwrap()).unwrap();
        let o = v.as_object_mut().unwrap();
        o.remove("wall_seconds");
        o.remove("workers");
        for s in o["stages"].as_array_mut().unwrap() {
            s.as_object_mut().unwrap().remove("seconds");
        }
        v
    };
    assert_eq!(stats(&dest), stats(&reference));
}
