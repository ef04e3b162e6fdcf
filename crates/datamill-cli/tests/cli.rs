//! End-to-end tests of the `datamill` binary: accounting, determinism, resume after SIGKILL,
//! refusal of changed pipelines, bad input, Parquet round trips.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_datamill"))
}

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel)
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("datamill runs")
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn stats(out: &Path) -> serde_json::Value {
    let s = std::fs::read_to_string(out.join("stats.json")).expect("stats.json");
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    check_invariant(&v);
    v
}

/// input_docs == output_docs + dropped + quarantined, and per-stage in == kept + dropped.
fn check_invariant(v: &serde_json::Value) {
    let n = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k} missing"));
    let mut dropped = 0;
    let mut flowing = n("input_docs") - n("quarantined");
    for s in v["stages"].as_array().unwrap() {
        let d: u64 = s["dropped"]
            .as_object()
            .unwrap()
            .values()
            .map(|x| x.as_u64().unwrap())
            .sum();
        assert_eq!(s["in"].as_u64().unwrap(), flowing, "{s}");
        assert_eq!(
            s["in"].as_u64().unwrap(),
            s["kept"].as_u64().unwrap() + d,
            "{s}"
        );
        flowing = s["kept"].as_u64().unwrap();
        dropped += d;
    }
    let q: u64 = v["quarantine"]
        .as_object()
        .unwrap()
        .values()
        .map(|x| x.as_u64().unwrap())
        .sum();
    assert_eq!(q, n("quarantined"));
    assert_eq!(
        n("input_docs"),
        n("output_docs") + dropped + n("quarantined"),
        "{v}"
    );
    assert_eq!(flowing, n("output_docs"));
}

/// Every file under `dir` except run bookkeeping, with its bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, d: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
            // report.html shows timings (a view of the run, not its output).
            if rel.starts_with(".datamill") || rel == "stats.json" || rel == "report.html" {
                continue;
            }
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn read_jsonl_zst(p: &Path) -> Vec<serde_json::Value> {
    let raw = zstd::decode_all(std::fs::File::open(p).unwrap()).unwrap();
    String::from_utf8(raw)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A pipeline over the shipped en_prose and neardup samples with every issue-2 stage.
fn pipeline(dir: &Path, unit_size: &str, extra: &str) -> PathBuf {
    let p = dir.join("p.toml");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data");
    std::fs::write(
        &p,
        format!(
            r#"version = 1
seed = 7
[input]
paths = ["{}/en_prose_sample.jsonl.zst", "{}/neardup_sample.jsonl.gz", "plain.jsonl"]
unit_size = "{unit_size}"
[[stage]]
type = "length"
min_words = 10
[[stage]]
type = "exact_dedup"
[[stage]]
type = "regex"
pattern = "(?i)copyright"
[[stage]]
type = "sample"
fraction = 0.9
[[stage]]
type = "exact_dedup"
lowercase = false
[output]
excluded = true
max_shard_bytes = "1MB"
{extra}
"#,
            data.display(),
            data.display()
        ),
    )
    .unwrap();
    // A plain JSONL file (split into several units by byte range) with some bad records.
    let mut plain = std::fs::read_to_string(shared("data/samples/en_prose_sample.jsonl")).unwrap();
    plain.push_str("not json\n\n{\"text\": 5}\n{\"id\": \"only-id\"}\n");
    plain.push_str(&std::fs::read_to_string(shared("data/samples/code_sample.jsonl")).unwrap());
    std::fs::write(dir.join("plain.jsonl"), plain).unwrap();
    p
}

#[test]
fn quickstart_example_runs_and_accounts_for_every_document() {
    let d = tempfile::tempdir().unwrap();
    let qs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/quickstart.toml");
    let o = run(&[
        "run",
        qs.to_str().unwrap(),
        "--output",
        d.path().to_str().unwrap(),
        "--quiet",
    ]);
    ok(&o);
    assert!(o.stderr.is_empty(), "--quiet prints nothing");
    let s = stats(d.path());
    assert_eq!(s["input_docs"], 2178 + 1731);
    assert!(s["output_docs"].as_u64().unwrap() > 1000);
}

#[test]
fn same_bytes_whatever_the_worker_count_and_unit_size_and_accounting_holds() {
    let d = tempfile::tempdir().unwrap();
    let p = pipeline(d.path(), "1MB", "");
    let mut reference = None;
    for workers in ["1", "2", "5"] {
        let out = d.path().join(format!("out{workers}"));
        ok(&run(&[
            "run",
            p.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "-w",
            workers,
        ]));
        let s = stats(&out);
        assert_eq!(s["quarantined"], 3, "{s}");
        assert_eq!(s["quarantine"]["invalid_json"], 1);
        assert_eq!(s["quarantine"]["text_not_string"], 1);
        assert_eq!(s["quarantine"]["missing_text"], 1);
        assert_eq!(s["blank_lines"], 1);
        assert!(s["work_units"].as_u64().unwrap() >= 5, "{s}");
        let t = tree(&out);
        assert!(t.keys().any(|k| k.starts_with("excluded/")));
        assert!(t.keys().any(|k| k.starts_with("quarantine/")));
        match &reference {
            None => reference = Some(t),
            Some(r) => assert!(r == &t, "output differs with {workers} workers"),
        }
    }
    // Excluded documents say who dropped them and why.
    let out = d.path().join("out1");
    let mut reasons = BTreeMap::new();
    for e in std::fs::read_dir(out.join("excluded")).unwrap() {
        for doc in read_jsonl_zst(&e.unwrap().path()) {
            let by = &doc["excluded_by"];
            *reasons
                .entry(format!(
                    "{}/{}",
                    by["stage"].as_str().unwrap(),
                    by["reason"].as_str().unwrap()
                ))
                .or_insert(0u64) += 1;
        }
    }
    let s = stats(&out);
    let total_dropped: u64 = reasons.values().sum();
    assert_eq!(
        total_dropped,
        s["input_docs"].as_u64().unwrap() - s["output_docs"].as_u64().unwrap() - 3
    );
    assert!(reasons.contains_key("exact_dedup/duplicate"), "{reasons:?}");
    assert!(reasons.contains_key("sample/sampled_out"), "{reasons:?}");
    // Quarantine records name file, line and reason.
    let q = std::fs::read_to_string(
        std::fs::read_dir(out.join("quarantine"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path(),
    )
    .unwrap();
    assert!(
        q.contains("\"location\":\"plain.jsonl:2179\"") && q.contains("invalid_json"),
        "{q}"
    );
    // ...and the whole record, to mend and read again.
    assert!(q.contains(r#""raw":"not json""#), "{q}");
    assert!(q.contains(r#""raw":"{\"text\": 5}""#), "{q}");
    assert!(q.contains(r#""raw":"{\"id\": \"only-id\"}""#), "{q}");
}

/// Runs the identity pipeline (no stage, uncompressed, 1 MB units) over `src`; returns the
/// output lines in input order (shards by name) and checks that only shards, the run-wide
/// schema and the dataset card were written.
fn identity_run(dir: &Path, src: &Path) -> Vec<Vec<u8>> {
    let p = dir.join("p.toml");
    std::fs::write(
        &p,
        format!(
            "version = 1\n[input]\npaths = [\"{}\"]\nunit_size = \"1MB\"\n[output]\ncompression = \"none\"\n",
            src.display()
        ),
    )
    .unwrap();
    let out = dir.join("o");
    ok(&run(&[
        "run",
        p.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]));
    let mut all = Vec::new();
    for (name, bytes) in tree(&out) {
        // The run-wide schema and the dataset card describe the shards.
        if name == "schema.json" || name == "README.md" {
            continue;
        }
        assert!(name.ends_with(".jsonl"), "{name}");
        all.extend(bytes);
    }
    all.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

#[test]
fn unchanged_documents_are_written_byte_for_byte() {
    // Documents that all have the same fields of the same types: the output is the input,
    // byte for byte (over several units and shards).
    let d = tempfile::tempdir().unwrap();
    let full = std::fs::read(shared("data/samples/labeled_sample.jsonl")).unwrap();
    let same: Vec<&[u8]> = full
        .split(|&b| b == b'\n')
        .filter(|l| {
            let v: serde_json::Value = match serde_json::from_slice(l) {
                Ok(v) => v,
                Err(_) => return false,
            };
            v.get("package").is_some() && v.get("tags").is_none()
        })
        .collect();
    assert!(same.len() > 1000, "{}", same.len());
    let src = d.path().join("same.jsonl");
    let mut body = same.join(&b'\n');
    body.push(b'\n');
    std::fs::write(&src, &body).unwrap();
    let out = identity_run(d.path(), &src);
    assert_eq!(out, same);

    // Documents with different fields: one schema for the output. A document keeps its
    // fields, in its order and with the same value bytes where the type is the run-wide one;
    // the fields it lacks follow as null; a value whose type the schema promotes is
    // rewritten (int -> float, int -> string on a conflict).
    let d = tempfile::tempdir().unwrap();
    let out = identity_run(d.path(), &shared("data/samples/labeled_sample.jsonl"));
    let inp: Vec<&[u8]> = full
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(out.len(), inp.len());
    let all_fields: Vec<String> = {
        let mut f: Vec<String> = Vec::new();
        for l in &inp {
            let v: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(l).unwrap();
            for k in v.keys() {
                if !f.contains(k) {
                    f.push(k.clone());
                }
            }
        }
        f
    };
    for (i, (o, l)) in out.iter().zip(&inp).enumerate() {
        let o: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(o).unwrap();
        let l: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(l).unwrap();
        assert_eq!(o.len(), all_fields.len(), "line {i}: every field");
        let ok_keys: Vec<&String> = o.keys().take(l.len()).collect();
        assert_eq!(
            ok_keys,
            l.keys().collect::<Vec<_>>(),
            "line {i}: its own fields first"
        );
        for (k, v) in &o {
            match l.get(k) {
                None => assert!(v.is_null(), "line {i}: {k} = {v}"),
                Some(w) if w.is_string() || w.is_object() => assert_eq!(v, w, "line {i}: {k}"),
                // Numbers may be promoted (to float, or to a string on a conflict).
                Some(w) => assert!(
                    v == w
                        || v.as_f64() == w.as_f64()
                        || v.as_str() == Some(&w.to_string())
                        || v.as_array().map(|a| a.len()) == w.as_array().map(|a| a.len()),
                    "line {i}: {k}: {v} vs {w}"
                ),
            }
        }
    }
}

fn kill_and_resume(delay_ms: u64, dir: &Path, p: &Path, reference: &BTreeMap<String, Vec<u8>>) {
    let out = dir.join(format!("killed{delay_ms}"));
    let mut child = bin()
        .args([
            "run",
            p.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "-w",
            "2",
        ])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(delay_ms));
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    let o = run(&[
        "run",
        p.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-w",
        "2",
    ]);
    ok(&o);
    stats(&out);
    let got = tree(&out);
    assert!(
        &got == reference,
        "after a kill at {delay_ms} ms the resumed output differs: {:?} vs {:?}",
        got.keys().collect::<Vec<_>>(),
        reference.keys().collect::<Vec<_>>()
    );
}

#[test]
fn sigkill_at_any_moment_then_rerun_gives_identical_output() {
    let d = tempfile::tempdir().unwrap();
    let p = pipeline(d.path(), "256KB", "");
    let reference_out = d.path().join("reference");
    ok(&run(&[
        "run",
        p.to_str().unwrap(),
        "-o",
        reference_out.to_str().unwrap(),
    ]));
    let reference = tree(&reference_out);
    for delay in [1, 5, 15, 30, 60, 100, 200, 400] {
        kill_and_resume(delay, d.path(), &p, &reference);
    }
    // A finished run reruns as a no-op with the same result.
    let o = run(&[
        "run",
        p.to_str().unwrap(),
        "-o",
        reference_out.to_str().unwrap(),
    ]);
    ok(&o);
    assert!(tree(&reference_out) == reference);
}

#[test]
fn a_changed_pipeline_is_refused_unless_forced() {
    let d = tempfile::tempdir().unwrap();
    let p = pipeline(d.path(), "1MB", "");
    let out = d.path().join("o");
    ok(&run(&[
        "run",
        p.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]));
    let p2 = pipeline(d.path(), "1MB", "level = 5");
    let o = run(&["run", p2.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let msg = String::from_utf8_lossy(&o.stderr);
    assert!(msg.contains("--force") && msg.contains("pipeline"), "{msg}");
    ok(&run(&[
        "run",
        p2.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--force",
    ]));
    stats(&out);
}

fn expect_exit2(args: &[&str], needles: &[&str]) {
    let o = run(args);
    let msg = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "{args:?}: {msg}");
    // Progress lines (`datamill: <phase>`, printed when stderr is not a terminal) aside.
    let errors = msg.lines().filter(|l| !l.starts_with("datamill: ")).count();
    assert_eq!(errors, 1, "one-line message: {msg}");
    for n in needles {
        assert!(msg.contains(n), "{args:?}: `{n}` not in: {msg}");
    }
}

#[test]
fn file_level_problems_stop_with_exit_2_and_name_the_culprit() {
    let d = tempfile::tempdir().unwrap();
    let w = |name: &str, body: &[u8]| std::fs::write(d.path().join(name), body).unwrap();
    let pipe = |name: &str, paths: &str, stages: &str| {
        let p = d.path().join(name);
        std::fs::write(
            &p,
            format!(
                "version = 1\n[input]\npaths = [{paths}]\n{stages}[output]\ndir = \"out-{name}\"\n"
            ),
        )
        .unwrap();
        p.to_string_lossy().into_owned()
    };
    // Truncated gzip and zstd.
    let body: String = (0..5000)
        .map(|i| format!("{{\"text\":\"doc {i} words here\"}}\n"))
        .collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, body.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    w("t.jsonl.gz", &gz[..gz.len() / 2]);
    let zs = zstd::encode_all(body.as_bytes(), 3).unwrap();
    w("t.jsonl.zst", &zs[..zs.len() / 2]);
    w("bad.parquet", b"PAR1 definitely not parquet");
    w("ok.jsonl", b"{\"text\":\"fine\"}\n");
    let p = pipe("gz.toml", "\"t.jsonl.gz\"", "");
    expect_exit2(&["run", &p], &["t.jsonl.gz", "gzip", "after line"]);
    let p = pipe("zst.toml", "\"t.jsonl.zst\"", "");
    expect_exit2(&["run", &p], &["t.jsonl.zst", "zstd"]);
    let p = pipe("pq.toml", "\"bad.parquet\"", "");
    expect_exit2(&["run", &p], &["bad.parquet"]);
    assert!(!d.path().join("out-pq.toml").join("stats.json").exists());
    let p = pipe("glob.toml", "\"*.csv\"", "");
    expect_exit2(&["run", &p], &["*.csv", "matches no file"]);
    expect_exit2(&["validate", &p], &["*.csv"]);
    let p = pipe("missing.toml", "\"nope.jsonl\"", "");
    expect_exit2(&["run", &p], &["nope.jsonl", "not found"]);
    assert!(
        !d.path().join("out-missing.toml").exists(),
        "nothing written"
    );
    let p = pipe(
        "stage.toml",
        "\"ok.jsonl\"",
        "[[stage]]\ntype = \"lenght\"\n",
    );
    expect_exit2(&["validate", &p], &["stage.toml:5", "lenght", "length"]);
    expect_exit2(&["run", &p], &["lenght"]);
    let p = pipe(
        "param.toml",
        "\"ok.jsonl\"",
        "[[stage]]\ntype = \"length\"\nmin_words = \"ten\"\n",
    );
    expect_exit2(&["validate", &p], &["param.toml:6", "min_words", "ten"]);
    let p = pipe(
        "frac.toml",
        "\"ok.jsonl\"",
        "[[stage]]\ntype = \"sample\"\nfraction = 2.0\n",
    );
    expect_exit2(&["validate", &p], &["frac.toml:6", "fraction"]);
    let p = pipe("good.toml", "\"ok.jsonl\"", "");
    let o = run(&["validate", &p]);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains("ok"));
}

#[test]
fn garbage_input_never_panics() {
    let d = tempfile::tempdir().unwrap();
    let mut seed = 0x9e3779b97f4a7c15u64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let sample = std::fs::read(shared("data/samples/en_prose_sample.jsonl")).unwrap();
    let sample = &sample[..200_000];
    let zs = zstd::encode_all(sample, 3).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, sample).unwrap();
    let gz = gz.finish().unwrap();
    for i in 0..24 {
        let (name, mut bytes) = match i % 3 {
            0 => ("f.jsonl", sample.to_vec()),
            1 => ("f.jsonl.zst", zs.clone()),
            _ => ("f.jsonl.gz", gz.clone()),
        };
        for _ in 0..(1 + rnd() % 20) {
            let at = (rnd() as usize) % bytes.len();
            bytes[at] = rnd() as u8;
        }
        if rnd() % 3 == 0 {
            bytes.truncate((rnd() as usize) % bytes.len());
        }
        let sub = d.path().join(format!("case{i}"));
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(sub.join(name), &bytes).unwrap();
        let p = sub.join("p.toml");
        std::fs::write(
            &p,
            format!("version = 1\n[input]\npaths = [\"{name}\"]\nunit_size = 50000\n[[stage]]\ntype = \"exact_dedup\"\n[output]\ndir = \"out\"\n"),
        )
        .unwrap();
        let o = run(&["run", p.to_str().unwrap(), "-q"]);
        let code = o.status.code();
        assert!(
            code == Some(0) || code == Some(2),
            "case {i} ({name}): exit {code:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        if code == Some(0) {
            stats(&sub.join("out"));
        }
    }
}

#[test]
fn parquet_round_trip_keeps_metadata() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("in.jsonl");
    std::fs::write(
        &src,
        "{\"id\":\"a\",\"text\":\"one\",\"n\":1,\"f\":2.5,\"o\":{\"k\":[1,2]},\"z\":null,\"s\":\"x\"}\n\
         {\"id\":\"b\",\"text\":\"two\",\"n\":2,\"f\":0.5,\"o\":{\"k\":[]},\"z\":null,\"s\":\"y\"}\n",
    )
    .unwrap();
    let write = |name: &str, input: &str, fmt: &str, comp: &str| {
        let p = d.path().join(name);
        std::fs::write(
            &p,
            format!("version = 1\n[input]\npaths = [\"{input}\"]\n[output]\ndir = \"{name}.out\"\nformat = \"{fmt}\"\ncompression = \"{comp}\"\n"),
        )
        .unwrap();
        ok(&run(&["run", p.to_str().unwrap()]));
        d.path().join(format!("{name}.out"))
    };
    write("a", "in.jsonl", "parquet", "zstd");
    write("b", "a.out/*.parquet", "parquet", "none");
    let c = write("c", "b.out/*.parquet", "jsonl", "none");
    let back = std::fs::read_to_string(c.join("00000-000.jsonl")).unwrap();
    assert_eq!(back, std::fs::read_to_string(&src).unwrap());
}

#[test]
fn stages_list_and_docs() {
    let o = run(&["stages"]);
    ok(&o);
    let s = String::from_utf8_lossy(&o.stdout);
    for name in ["length", "regex", "metadata", "sample", "exact_dedup"] {
        assert!(
            s.lines().any(|l| l.starts_with(name)),
            "{name} missing from:\n{s}"
        );
    }
    let o = run(&["stages", "exact_dedup"]);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains("```toml"));
    expect_exit2(&["stages", "nope"], &["unknown stage", "length"]);
}

/// Runs pipeline `p` as `world` concurrent tasks (`--rank r --world-size world`, one worker
/// each) sharing the output folder `out`, as a Slurm array would; each must succeed.
fn run_array(p: &Path, out: &Path, world: u32) {
    let children: Vec<_> = (0..world)
        .map(|r| {
            bin()
                .args([
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
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        ok(&c.wait_with_output().unwrap());
    }
}

#[test]
fn tasks_of_a_slurm_style_array_produce_the_same_output_as_one_run() {
    let d = tempfile::tempdir().unwrap();
    let p = pipeline(d.path(), "256KB", "");
    let reference = d.path().join("reference");
    ok(&run(&[
        "run",
        p.to_str().unwrap(),
        "-o",
        reference.to_str().unwrap(),
    ]));
    let out = d.path().join("sharded");
    let world = 3;
    run_array(&p, &out, world);
    assert!(tree(&out) == tree(&reference), "sharded output differs");
    let (a, b) = (stats(&out), stats(&reference));
    for k in ["input_docs", "output_docs", "quarantined", "output_bytes"] {
        assert_eq!(a[k], b[k], "{k}");
    }
    expect_exit2(
        &[
            "run",
            p.to_str().unwrap(),
            "--rank",
            "3",
            "--world-size",
            "3",
        ],
        &["--rank 3"],
    );
}

/// A pipeline that starts with a global stage has nothing to write between its first two
/// passes: the second pass reads the input again. Same output as when a no-op per-document
/// stage forces the copy, every input record counted once, and it resumes after a kill.
#[test]
fn a_leading_global_stage_rereads_the_input_with_the_same_result() {
    let d = tempfile::tempdir().unwrap();
    let p = pipeline(d.path(), "256KB", "");
    let src = std::fs::read_to_string(&p).unwrap();
    let length = "[[stage]]\ntype = \"length\"\nmin_words = 10\n";
    assert!(src.contains(length));
    let first = d.path().join("first.toml");
    std::fs::write(&first, src.replace(length, "")).unwrap();
    let noop = d.path().join("noop.toml");
    std::fs::write(
        &noop,
        src.replace(length, "[[stage]]\ntype = \"length\"\nmin_words = 0\n"),
    )
    .unwrap();
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    for (p, o) in [(&first, &a), (&noop, &b)] {
        ok(&run(&[
            "run",
            p.to_str().unwrap(),
            "-o",
            o.to_str().unwrap(),
            "-w",
            "2",
        ]));
    }
    let reference = tree(&a);
    assert!(
        reference == tree(&b),
        "re-reading the input changed the output"
    );
    // No copy of the input was written between the passes.
    let pass0: Vec<_> = std::fs::read_dir(a.join(".datamill/pass0"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(pass0.iter().all(|n| !n.contains(".jsonl")), "{pass0:?}");
    let (sa, sb) = (stats(&a), stats(&b));
    for k in [
        "input_docs",
        "output_docs",
        "quarantined",
        "blank_lines",
        "output_bytes",
    ] {
        assert_eq!(sa[k], sb[k], "{k}");
    }
    assert_eq!(sa["quarantined"], 3);
    assert_eq!(sa["blank_lines"], 1);
    assert_eq!(
        sa["stages"][0]["in"],
        sa["input_docs"].as_u64().unwrap() - 3
    );
    for delay in [5, 40, 150] {
        kill_and_resume(delay, d.path(), &first, &reference);
    }
    // Two tasks of an array re-read their own units.
    let sharded = d.path().join("sharded");
    run_array(&first, &sharded, 2);
    assert!(tree(&sharded) == reference, "sharded output differs");
    assert_eq!(stats(&sharded)["input_docs"], sa["input_docs"]);
}

/// Reports printed to a reader that has gone away (`datamill scaling ... | head -1`) end the
/// command quietly instead of panicking on the broken pipe.
#[test]
fn a_closed_stdout_is_not_a_crash() {
    let d = tempfile::tempdir().unwrap();
    let law = d.path().join("gadre.law.json");
    let csv = shared("data/scaling/gadre-overtraining/gadre2024_models_loss.csv");
    ok(&run(&[
        "scaling",
        "fit",
        csv.to_str().unwrap(),
        "--law",
        "overtrain",
        "--columns",
        "N=params_N,D=tokens_D,loss=loss_c4_val",
        "--where",
        "train_dataset=rpj",
        "-o",
        law.to_str().unwrap(),
    ]));
    for _ in 0..3 {
        let mut child = bin()
            .args([
                "scaling",
                "predict",
                law.to_str().unwrap(),
                "--n",
                "1439795200",
                "--d",
                "921468928000",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader leaves before the report is written
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{:?} {err}", o.status);
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// The selection example chains curation, dedup, perplexity buckets and DSIR in one run.
#[test]
fn selection_example_chains_curation_dedup_and_selection() {
    let d = tempfile::tempdir().unwrap();
    let ex = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/select.toml");
    ok(&run(&[
        "run",
        ex.to_str().unwrap(),
        "--output",
        d.path().to_str().unwrap(),
        "--quiet",
    ]));
    let s = stats(d.path());
    assert_eq!(s["input_docs"], 2178 + 1731);
    assert_eq!(s["output_docs"], 200);
    let kinds: Vec<&str> = s["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "gopher_quality",
            "minhash_dedup",
            "length",
            "perplexity",
            "score_select",
            "dsir"
        ]
    );
    let mut n = 0;
    for e in std::fs::read_dir(d.path()).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "zst") {
            for doc in read_jsonl_zst(&p) {
                assert!(doc["dsir_log_weight"].is_f64(), "{doc}");
                assert!(doc["perplexity"].is_f64(), "{doc}");
                let b = doc["perplexity_bucket"].as_str().unwrap();
                assert!(b == "head" || b == "middle", "{b}");
                n += 1;
            }
        }
    }
    assert_eq!(n, 200);
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path().join("reports/dsir/dsir.json")).unwrap())
            .unwrap();
    assert!(
        r["kl_to_target"]["gain_over_random"].as_f64().unwrap() > 0.0,
        "{r}"
    );
}

/// Documents passed between passes may be stored uncompressed: same output. Either way a
/// finished run leaves no copy of the documents under `.datamill/`, and no summaries once
/// their decision is stored: only markers.
#[test]
fn uncompressed_intermediate_passes_give_the_same_output() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    let zstd = pipeline(d.path(), "256KB", "");
    ok(&run(&[
        "run",
        zstd.to_str().unwrap(),
        "-o",
        a.to_str().unwrap(),
        "-w",
        "2",
    ]));
    let none = pipeline(d.path(), "256KB", "intermediate = \"none\"");
    ok(&run(&[
        "run",
        none.to_str().unwrap(),
        "-o",
        b.to_str().unwrap(),
        "-w",
        "2",
    ]));
    assert!(
        tree(&a) == tree(&b),
        "the intermediate codec changed the output"
    );
    for out in [&a, &b] {
        for k in 0..2 {
            let names: Vec<String> = std::fs::read_dir(out.join(format!(".datamill/pass{k}")))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            assert!(!names.is_empty());
            assert!(names.iter().all(|n| n.ends_with(".done")), "{names:?}");
        }
    }
    let (sa, sb) = (stats(&a), stats(&b));
    assert_eq!(sa["output_docs"], sb["output_docs"]);
}

/// A compressed file that cannot be split while larger than `unit_size` is pointed out.
#[test]
fn validate_points_out_files_that_run_on_one_core() {
    let d = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data");
    let p = d.path().join("p.toml");
    let toml = |unit: &str| {
        format!(
            "version = 1\n[input]\npaths = [\"{}/neardup_sample.jsonl.gz\"]\nunit_size = \"{unit}\"\n\
             [[stage]]\ntype = \"length\"\n",
            data.display()
        )
    };
    std::fs::write(&p, toml("100KB")).unwrap();
    let o = run(&["validate", p.to_str().unwrap()]);
    ok(&o);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("note:") && out.contains("neardup_sample.jsonl.gz") && out.contains("gzip"),
        "{out}"
    );
    std::fs::write(&p, toml("64MB")).unwrap();
    let o = run(&["validate", p.to_str().unwrap()]);
    ok(&o);
    assert!(!String::from_utf8_lossy(&o.stdout).contains("note:"));
}

/// Rerunning a finished run whose global stage has a transform (here `line_dedup`) is a
/// no-op with the same output: the decision and the transform's state are stored, nothing
/// is decided again.
#[test]
fn rerun_of_a_finished_run_with_a_transform_is_a_no_op() {
    let d = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data");
    let p = d.path().join("p.toml");
    std::fs::write(
        &p,
        format!(
            "version = 1\n[input]\npaths = [\"{}/en_prose_sample.jsonl.zst\"]\n\
             [[stage]]\ntype = \"length\"\nmin_words = 5\n\
             [[stage]]\ntype = \"line_dedup\"\n\
             [[stage]]\ntype = \"exact_dedup\"\n",
            data.display()
        ),
    )
    .unwrap();
    let out = d.path().join("o");
    ok(&run(&[
        "run",
        p.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]));
    let reference = tree(&out);
    let stats_before = stats(&out);
    ok(&run(&[
        "run",
        p.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]));
    assert!(tree(&out) == reference, "the rerun changed the output");
    assert_eq!(stats(&out)["output_docs"], stats_before["output_docs"]);
    // The report has the examples the transform found.
    let report = std::fs::read_to_string(out.join("reports/line_dedup/clusters.jsonl")).unwrap();
    assert!(report.lines().count() > 10, "{report}");
    for l in report.lines() {
        let row: serde_json::Value = serde_json::from_str(l).unwrap();
        assert!(
            row["example"].is_string() && row["example_id"].is_string(),
            "{row}"
        );
    }
}

#[test]
fn embed_then_semantic_dedup_through_the_executor() {
    // A tiny synthetic BERT (no download): the executor runs `embed` (store under
    // OUT/embeddings/embed/) and `semantic_dedup` reading it by stage name; an exact duplicate
    // text is dropped, an empty text is dropped by embed, every document is accounted for and
    // the output does not depend on the worker count.
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    std::fs::create_dir_all(&model).unwrap();
    datamill_embed::testing::write_tiny_model(&model);
    let texts = [
        "the cat sat on the mat",
        "a dog",
        "the cat sat on the mat",
        "   ",
        "cats on a mat . the dog sat",
        "the dog sat on the cat",
    ];
    let input: String = texts
        .iter()
        .enumerate()
        .map(|(i, t)| format!("{{\"id\":\"d{i}\",\"text\":{t:?}}}\n"))
        .collect();
    std::fs::write(dir.path().join("in.jsonl"), input).unwrap();
    let p = dir.path().join("p.toml");
    std::fs::write(
        &p,
        "version = 1\n[input]\npaths = [\"in.jsonl\"]\n\
         [[stage]]\ntype = \"embed\"\nmodel = \"model\"\n\
         [[stage]]\ntype = \"semantic_dedup\"\nembeddings = \"embed\"\nn_clusters = 2\neps = 0.0\n\
         [output]\ndir = \"out\"\ncompression = \"none\"\n",
    )
    .unwrap();
    let mut outs = Vec::new();
    for workers in ["1", "2"] {
        let out = dir.path().join(format!("out{workers}"));
        ok(&run(&[
            "run",
            p.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--workers",
            workers,
            "--quiet",
        ]));
        let s = stats(&out);
        assert_eq!(s["input_docs"], 6);
        assert_eq!(s["output_docs"], 4, "{s}");
        let meta = std::fs::read_to_string(out.join("embeddings/embed/meta.json")).unwrap();
        assert!(meta.contains("\"count\": 5"), "{meta}");
        // Equal distances rank by id descending under `hard` (NeMo's order): d2 is kept, d0 goes.
        let dec =
            std::fs::read_to_string(out.join("reports/semantic_dedup/decisions.jsonl")).unwrap();
        let removed: Vec<serde_json::Value> = dec
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|v| v["removed"] == true)
            .collect();
        assert_eq!(removed.len(), 1, "{dec}");
        assert_eq!(
            (&removed[0]["id"], &removed[0]["duplicate_of"]),
            (&"d0".into(), &"d2".into())
        );
        // Reports name the store's absolute path (out1/out2): compare them without it.
        let t: BTreeMap<String, String> = tree(&out)
            .into_iter()
            .map(|(k, v)| {
                let s = String::from_utf8_lossy(&v).replace(&format!("out{workers}"), "OUT");
                (k, s)
            })
            .collect();
        outs.push(t);
    }
    assert_eq!(outs[0], outs[1], "same files whatever the worker count");
}

/// D4 (examples/d4.toml) as documented: embed -> semantic_dedup -> prototype_prune re-clustering
/// the survivors and keeping the farthest of every cluster. The example's own stage list runs
/// through the executor with the tiny synthetic BERT in place of MiniLM (no download) on 240
/// generated documents, a fifth of them exact repeats.
#[test]
fn d4_example_pipeline_dedups_then_prunes_prototypes_per_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    std::fs::create_dir_all(&model).unwrap();
    datamill_embed::testing::write_tiny_model(&model);
    let words = ["the", "cat", "sat", "on", "mat", "a", "dog", "."];
    let mut input = String::new();
    let mut h = 0x2545_f491_4f6c_dd1du64;
    let mut texts = Vec::new();
    for i in 0..240 {
        let t = if i % 5 == 4 {
            texts[i * 7 % texts.len()]
        } else {
            (0..3 + i % 9)
                .map(|_| {
                    h ^= h << 13;
                    h ^= h >> 7;
                    h ^= h << 17;
                    words[(h % words.len() as u64) as usize]
                })
                .collect::<Vec<_>>()
                .join(" ")
                .leak() as &str
        };
        texts.push(t);
        input.push_str(&format!("{{\"id\":\"d{i:03}\",\"text\":{t:?}}}\n"));
    }
    std::fs::write(dir.path().join("in.jsonl"), input).unwrap();
    let ex = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/d4.toml");
    let src = std::fs::read_to_string(&ex).unwrap();
    let paths_line = src.lines().find(|l| l.starts_with("paths")).unwrap();
    let src = src
        .replace(paths_line, "paths = [\"in.jsonl\"]")
        .replace(
            "model = \"../target/models/all-MiniLM-L6-v2\"",
            "model = \"model\"",
        )
        .replace("dir = \"../out/d4\"", "dir = \"out\"");
    assert!(src.contains("model = \"model\"") && src.contains("dir = \"out\""));
    let p = dir.path().join("d4.toml");
    std::fs::write(&p, &src).unwrap();
    let out = dir.path().join("out");
    ok(&run(&[
        "run",
        p.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--quiet",
    ]));
    let s = stats(&out);
    let kinds: Vec<&str> = s["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["embed", "semantic_dedup", "prototype_prune"]);
    let dedup = &s["stages"][1];
    let proto = &s["stages"][2];
    assert!(
        dedup["dropped"]["semantic_duplicate"].as_u64().unwrap() >= 48,
        "{s}"
    );
    let survivors = proto["in"].as_u64().unwrap();
    let kept = proto["kept"].as_u64().unwrap();
    assert_eq!(kept, s["output_docs"].as_u64().unwrap());
    // The example's fraction (0.69) of every cluster, rounded per cluster.
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("reports/prototype_prune/summary.json")).unwrap(),
    )
    .unwrap();
    let clusters = summary["clusters"].as_array().unwrap();
    assert_eq!(clusters.len(), 20);
    let mut sum = 0;
    for c in clusters {
        let (size, k) = (c["size"].as_u64().unwrap(), c["kept"].as_u64().unwrap());
        assert_eq!(k, (size as f64 * 0.69).round_ties_even() as u64, "{c}");
        sum += size;
    }
    assert_eq!(
        sum, survivors,
        "prototype_prune re-clusters only the survivors"
    );
    // Hard examples kept: in every cluster, each kept document is at least as far from the
    // centroid as every pruned one.
    let dec = std::fs::read_to_string(out.join("reports/prototype_prune/decisions.jsonl")).unwrap();
    let mut near_kept = [f64::INFINITY; 20];
    let mut far_pruned = [f64::NEG_INFINITY; 20];
    for l in dec.lines() {
        let r: serde_json::Value = serde_json::from_str(l).unwrap();
        let (c, d) = (
            r["cluster"].as_u64().unwrap() as usize,
            r["distance"].as_f64().unwrap(),
        );
        if r["kept"] == true {
            near_kept[c] = near_kept[c].min(d);
        } else {
            far_pruned[c] = far_pruned[c].max(d);
        }
    }
    for c in 0..20 {
        assert!(near_kept[c] >= far_pruned[c], "cluster {c}");
    }
}

/// DSIR over two raw files through the executor (each file cut into several work units): the
/// fit is split per input file as data-selection splits it, and the selection is the one
/// data-selection makes (`crates/datamill-stages/tests/golden/dsir/multi/`: two copies of the
/// toy pile, `num_tokens_to_fit = 100000`, `num_proc = 1`, top-k 50).
#[test]
fn dsir_splits_its_fit_over_the_input_files() {
    use std::io::Read;
    let golden =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../datamill-stages/tests/golden/dsir/multi");
    let d = tempfile::tempdir().unwrap();
    let mut pile = String::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(golden.join("toy_pile_400.jsonl.gz")).unwrap(),
    )
    .read_to_string(&mut pile)
    .unwrap();
    // Ids by file and line (the pile's own ids repeat across the copies).
    for f in ["a", "b"] {
        let lines: String = pile
            .lines()
            .enumerate()
            .map(|(j, l)| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["id"] = format!("{}:{j}", usize::from(f == "b")).into();
                format!("{v}\n")
            })
            .collect();
        std::fs::write(d.path().join(format!("{f}.jsonl")), lines).unwrap();
    }
    let p = d.path().join("p.toml");
    std::fs::write(
        &p,
        format!(
            r#"version = 1
[input]
paths = ["a.jsonl", "b.jsonl"]
text_field = "contents"
unit_size = "64KB"
[[stage]]
type = "dsir"
target = ["{}/toy_target_data.jsonl"]
target_text_field = "contents"
num_tokens_to_fit = 100000
top_k = true
k = 50
"#,
            golden.display()
        ),
    )
    .unwrap();
    let out = d.path().join("out");
    ok(&run(&[
        "run",
        p.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--quiet",
    ]));
    let plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join(".datamill/plan.json")).unwrap()).unwrap();
    assert!(
        plan["units"].as_array().unwrap().len() > 4,
        "files cut into units"
    );
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("reports/dsir/dsir.json")).unwrap())
            .unwrap();
    assert_eq!(r["raw_ngrams_fitted"], 100466, "{r}");
    assert_eq!(r["raw_files"], 2);
    let mut s = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(golden.join("multi.json.gz")).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    let g: serde_json::Value = serde_json::from_str(&s).unwrap();
    let mut want: Vec<String> = g["two_copies"][0]["selected"]["top_k"]
        .as_array()
        .unwrap()
        .iter()
        .map(|at| format!("{}:{}", at[0], at[1]))
        .collect();
    want.sort();
    let mut got = Vec::new();
    for e in std::fs::read_dir(&out).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "zst") {
            for doc in read_jsonl_zst(&p) {
                got.push(doc["id"].as_str().unwrap().to_string());
            }
        }
    }
    got.sort();
    assert_eq!(got, want);
}
