//! Resume is tested at *states*, not times: a run of a pipeline with every kind of global
//! stage (9 passes) is killed at chosen points — in every pass when 0, 1, n − 1 and n of the
//! pass's completion markers exist, right after each decision is stored and after each report
//! step, several times in a row, and under `--rank/--world-size` — then rerun to completion;
//! every file of the output folder (shards, excluded, quarantine, every report, stats.json
//! apart from timings) must equal an uninterrupted run's.
//!
//! The kill is the test-only `DATAMILL_FAULT=<event>:<k>:<n>` hook of the executor (see
//! `datamill_exec::fault`): the process exits as a SIGKILL would leave it, right after the
//! chosen event, with marker writes serialized so the state is exact whatever the worker count.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_datamill"))
}

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/data")
        .join(rel)
}

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Runs `datamill run p -o out -w 2 [extra]` with `DATAMILL_FAULT=fault` if given.
fn run(p: &Path, out: &Path, fault: Option<&str>, extra: &[&str]) -> Output {
    let mut c = bin();
    c.args([
        "run",
        p.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-w",
        "2",
    ])
    .args(extra);
    match fault {
        Some(f) => c.env("DATAMILL_FAULT", f),
        None => c.env_remove("DATAMILL_FAULT"),
    };
    c.output().expect("datamill runs")
}

fn ok(o: &Output) {
    assert!(o.status.success(), "{}", show(o));
}

/// A run stopped by the fault hook (exit 137), not by an error.
fn killed(o: &Output, fault: &str) {
    assert_eq!(o.status.code(), Some(137), "{fault}: {}", show(o));
}

/// Every file a run writes, with its bytes; `.datamill/` (bookkeeping) left out, and
/// `stats.json` without its timings and worker count (`report.html` left out: it shows them).
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, d: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
            // report.html shows timings (a view of the run, not its output).
            if rel.starts_with(".datamill") || rel == "report.html" {
                continue;
            }
            if p.is_dir() {
                walk(base, &p, out);
            } else if rel == "stats.json" {
                let mut v: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
                v.as_object_mut().unwrap().remove("wall_seconds");
                v.as_object_mut().unwrap().remove("workers");
                for s in v["stages"].as_array_mut().unwrap() {
                    s.as_object_mut().unwrap().remove("seconds");
                }
                out.insert(rel, serde_json::to_vec_pretty(&v).unwrap());
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn same(got: &BTreeMap<String, Vec<u8>>, want: &BTreeMap<String, Vec<u8>>, what: &str) {
    let differ: Vec<&String> = want
        .keys()
        .chain(got.keys())
        .filter(|k| got.get(*k) != want.get(*k))
        .collect();
    assert!(differ.is_empty(), "{what}: these files differ: {differ:?}");
}

/// A plain JSONL input of ~1 MB: prose, near-duplicates, exact copies, repeated lines and
/// paragraphs, a few bad records.
fn write_input(dir: &Path) {
    let prose =
        zstd::decode_all(std::fs::File::open(data("en_prose_sample.jsonl.zst")).unwrap()).unwrap();
    let mut near = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(
            std::fs::File::open(data("neardup_sample.jsonl.gz")).unwrap(),
        ),
        &mut near,
    )
    .unwrap();
    let prose = String::from_utf8(prose).unwrap();
    let mut f = std::fs::File::create(dir.join("in.jsonl")).unwrap();
    let lines: Vec<&str> = prose.lines().take(450).collect();
    for (i, l) in lines.iter().enumerate() {
        if i % 9 == 4 {
            // A paragraph shared by several documents.
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            let text = format!(
                "{}\nThis paragraph is shared by several documents of the corpus so that the \
                 Bloom filter sees its n-grams again and again.",
                v["text"].as_str().unwrap()
            );
            v["text"] = text.into();
            writeln!(f, "{v}").unwrap();
        } else {
            writeln!(f, "{l}").unwrap();
        }
        if i % 40 == 7 {
            writeln!(f, "{{\"text\": 5}}").unwrap();
        }
        if i % 25 == 3 {
            // An exact copy under another id.
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["id"] = format!("copy-{i}").into();
            writeln!(f, "{v}").unwrap();
        }
    }
    for l in near.lines().take(250) {
        writeln!(f, "{l}").unwrap();
    }
}

/// Every kind of global stage, each ending a pass: 9 passes.
fn pipeline(dir: &Path) -> PathBuf {
    let target = data("target/manpages.jsonl.zst");
    let t = target.display();
    let p = dir.join("p.toml");
    std::fs::write(
        &p,
        format!(
            r#"version = 1
seed = 3
[input]
paths = ["in.jsonl"]
unit_size = "160KB"
[[stage]]
type = "length"
min_words = 5
[[stage]]
type = "exact_dedup"
[[stage]]
type = "minhash_dedup"
[[stage]]
type = "bloom_dedup"
remove = "paragraph"
expected_items = 100000
[[stage]]
type = "line_dedup"
[[stage]]
type = "perplexity"
train_from = ["{t}"]
order = 3
[[stage]]
type = "score_select"
field = "perplexity"
higher_is_better = false
mode = "buckets"
buckets = [20, 80]
keep_buckets = ["head", "middle"]
[[stage]]
type = "perplexity_buckets"
train_from = ["{t}"]
order = 2
field = "pp2"
buckets = [90]
keep_buckets = ["0"]
[[stage]]
type = "substring_dedup"
min_length = 60
[[stage]]
type = "dsir"
target = ["{t}"]
fraction = 0.6
min_example_length = 5
[output]
excluded = true
max_shard_bytes = "200KB"
"#
        ),
    )
    .unwrap();
    p
}

struct Setup {
    _dir: tempfile::TempDir,
    root: PathBuf,
    p: PathBuf,
    reference: BTreeMap<String, Vec<u8>>,
    units: usize,
    passes: usize,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    write_input(&root);
    let p = pipeline(&root);
    let out = root.join("reference");
    ok(&run(&p, &out, None, &[]));
    let plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join(".datamill/plan.json")).unwrap()).unwrap();
    let units = plan["units"].as_array().unwrap().len();
    let passes = plan["passes"].as_array().unwrap().len();
    let reference = snapshot(&out);
    // The run exercised what it should.
    assert_eq!(passes, 9);
    assert!(units >= 4, "{units} units");
    for r in [
        "reports/exact_dedup/clusters.jsonl",
        "reports/minhash_dedup/clusters.jsonl",
        "reports/line_dedup/clusters.jsonl",
        "reports/bloom_dedup/clusters.jsonl",
        "reports/substring_dedup/clusters.jsonl",
        "reports/dsir/dsir.json",
    ] {
        assert!(reference.get(r).is_some_and(|b| !b.is_empty()), "{r}");
    }
    let lines = String::from_utf8(reference["reports/line_dedup/clusters.jsonl"].clone()).unwrap();
    assert!(
        lines.lines().all(|l| !l.contains("\"example\":null")),
        "{lines}"
    );
    assert!(reference.keys().any(|k| k.starts_with("quarantine/")));
    assert!(reference.keys().any(|k| k.starts_with("excluded/")));
    let stats: serde_json::Value = serde_json::from_slice(&reference["stats.json"]).unwrap();
    for s in stats["stages"].as_array().unwrap() {
        if s["type"] != "length" && s["type"] != "perplexity" {
            let touched = s["dropped"].as_object().unwrap().values().any(|v| v != 0)
                || !s["counters"].is_null();
            assert!(touched, "stage {} changed nothing: {stats}", s["type"]);
        }
    }
    Setup {
        _dir: dir,
        root,
        p,
        reference,
        units,
        passes,
    }
}

/// Kills a fresh run with each fault in turn (each run resumes the previous one's folder),
/// then runs it to completion and compares.
fn kill_then_resume(s: &Setup, name: &str, faults: &[String]) {
    let out = s.root.join(name);
    for f in faults {
        killed(&run(&s.p, &out, Some(f), &[]), f);
    }
    ok(&run(&s.p, &out, None, &[]));
    same(
        &snapshot(&out),
        &s.reference,
        &format!("killed at {faults:?}"),
    );
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn killed_at_every_state_of_every_pass_the_rerun_gives_every_file_back() {
    let s = setup();
    let n = s.units;
    for k in 0..s.passes {
        let mut states = vec![
            format!("outputs:{k}:1"),
            format!("marker:{k}:1"),
            format!("marker:{k}:{}", n - 1),
            format!("marker:{k}:{n}"),
        ];
        if k + 1 < s.passes {
            states.push(format!("decision:{k}:1"));
        }
        if k > 0 {
            // The report step after pass k (of decision k - 1); a no-op for stages whose
            // report is complete when they decide, then the fault never fires.
            states.push(format!("report:{}:1", k - 1));
        }
        for f in states {
            let out = s.root.join("k");
            let o = run(&s.p, &out, Some(&f), &[]);
            if f.starts_with("report") && o.status.success() {
                same(&snapshot(&out), &s.reference, &f);
                std::fs::remove_dir_all(&out).unwrap();
                continue;
            }
            killed(&o, &f);
            ok(&run(&s.p, &out, None, &[]));
            same(&snapshot(&out), &s.reference, &format!("killed at {f}"));
            std::fs::remove_dir_all(&out).unwrap();
        }
    }
}

#[test]
fn several_kills_in_a_row_then_a_rerun_gives_every_file_back() {
    let s = setup();
    let n = s.units;
    kill_then_resume(
        &s,
        "row",
        &[
            "marker:0:1".into(),
            format!("marker:0:{}", n - 1),
            "decision:0:1".into(),
            "outputs:3:1".into(),
            "report:3:1".into(),
            format!("marker:5:{}", n / 2),
            "decision:7:1".into(),
            "outputs:8:2".into(),
            format!("marker:8:{}", n - 1),
        ],
    );
    // Killed at the same state twice: the second run redoes what the first left unfinished.
    kill_then_resume(&s, "twice", &["marker:4:1".into(), "marker:4:1".into()]);
}

/// Runs ranks 0..world concurrently on `out`; `faults[r]` kills rank r at a state. Once a
/// killed rank is gone the others would wait for it forever: they are killed too.
fn run_ranks(p: &Path, out: &Path, world: u32, faults: &[Option<String>]) -> bool {
    let mut children: Vec<_> = (0..world)
        .map(|r| {
            let mut c = bin();
            c.args([
                "run",
                p.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
                "-w",
                "1",
                "--rank",
                &r.to_string(),
                "--world-size",
                &world.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
            match faults.get(r as usize).cloned().flatten() {
                Some(f) => c.env("DATAMILL_FAULT", f),
                None => c.env_remove("DATAMILL_FAULT"),
            };
            c.spawn().unwrap()
        })
        .collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
    loop {
        let mut any_killed = false;
        let mut all_done = true;
        for c in &mut children {
            match c.try_wait().unwrap() {
                Some(st) if st.code() == Some(137) => any_killed = true,
                Some(st) => assert!(st.success(), "a rank failed: {st:?}"),
                None => all_done = false,
            }
        }
        if any_killed || all_done {
            for c in &mut children {
                let _ = c.kill();
                let _ = c.wait();
            }
            return !any_killed;
        }
        assert!(std::time::Instant::now() < deadline, "ranks hang");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn ranks_killed_at_states_then_rerun_give_every_file_back() {
    let s = setup();
    let out = s.root.join("ranks");
    // An uninterrupted array first.
    assert!(run_ranks(&s.p, &out, 3, &[]));
    same(&snapshot(&out), &s.reference, "3 ranks");
    std::fs::remove_dir_all(&out).unwrap();
    let cases: Vec<Vec<Option<String>>> = vec![
        // Rank 1 dies after its first marker of pass 2; rank 0 dies having decided after
        // pass 4 (its peers wait for that decision); rank 2 dies with all but... its last
        // output of pass 7 written.
        vec![None, Some("marker:2:1".into()), None],
        vec![Some("decision:4:1".into()), None, None],
        vec![None, None, Some("outputs:7:1".into())],
        vec![Some("report:3:1".into()), Some("marker:6:1".into()), None],
    ];
    for faults in cases {
        assert!(!run_ranks(&s.p, &out, 3, &faults), "{faults:?} never fired");
        // A second, different kill of the resumed array.
        assert!(!run_ranks(
            &s.p,
            &out,
            3,
            &[None, None, Some("marker:8:1".into())]
        ));
        assert!(run_ranks(&s.p, &out, 3, &[]));
        same(
            &snapshot(&out),
            &s.reference,
            &format!("ranks killed at {faults:?}"),
        );
        std::fs::remove_dir_all(&out).unwrap();
    }
}

/// The plan is a value other processes can execute: `datamill plan` stores it and lists the
/// tasks wave by wave; running every task as its own `datamill task` process (units of a
/// pass in reverse order, one of them twice) and finishing with `datamill run` gives every
/// file of a local run. The plan is made from a relative pipeline path and output folder
/// (with relative input paths) and its tasks run from another folder: the plan holds
/// absolute paths.
#[test]
fn every_task_run_by_its_own_process_gives_the_same_files() {
    let s = setup();
    let out = s.root.join("tasks");
    let o = bin()
        .current_dir(&s.root)
        .args(["plan", "p.toml", "-o", "tasks"])
        .output()
        .unwrap();
    ok(&o);
    let waves: Vec<Vec<String>> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split(' ').map(String::from).collect())
        .collect();
    assert_eq!(waves[0].len(), s.units);
    assert_eq!(waves[1], ["decide:0"]);
    assert_eq!(
        waves.len(),
        9 + 8 + 8 + 1,
        "passes, decisions, reports, schema"
    );
    assert_eq!(waves[waves.len() - 1], ["schema"]);
    let task = |t: &str| {
        ok(&bin()
            .current_dir("/")
            .args(["task", out.to_str().unwrap(), t])
            .output()
            .unwrap())
    };
    for wave in &waves {
        for t in wave.iter().rev() {
            task(t);
        }
    }
    task(&waves[2][0]); // done already: a no-op
    // A task whose predecessors are missing is refused, naming what is missing.
    let o = bin()
        .args(["task", s.root.join("nowhere").to_str().unwrap(), "decide:0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let o = bin()
        .args(["task", out.to_str().unwrap(), "pass:99:0"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not part of this plan"),
        "{}",
        show(&o)
    );
    ok(&run(&s.p, &out, None, &[]));
    same(&snapshot(&out), &s.reference, "task by task");
}
