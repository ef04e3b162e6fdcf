//! `datamill mix`: the example of the README, bad input (exit 2, nothing written), a dry run,
//! and resume after SIGKILL at any moment with byte-identical output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_datamill"))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
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

fn mix(args: &[&str]) -> Output {
    bin().arg("mix").args(args).output().expect("datamill runs")
}

/// Every file under `dir`, hidden state excluded.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(d) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if rel.starts_with(".datamill-mix") {
                continue;
            }
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut m = BTreeMap::new();
    walk(dir, dir, &mut m);
    m
}

#[test]
fn the_example_mixture_runs() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("mix");
    let ex = repo().join("examples/mix.toml");
    let o = mix(&[ex.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    ok(&o);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("phase anneal"), "{stdout}");
    assert!(stdout.contains("effective tokens"), "{stdout}");
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["budget"], 2_000_000);
    let tokens = m["tokens"].as_u64().unwrap();
    assert!((2_000_000..2_020_000).contains(&tokens), "{tokens}");
    assert_eq!(m["sources"].as_array().unwrap().len(), 3);
    // licenses are capped at one epoch; manpages repeat (UniMax with N = 4).
    let s = &m["sources"];
    assert!(s[1]["planned"]["epochs"].as_f64().unwrap() <= 1.0 + 1e-9);
    assert!(s[2]["realized"]["full_epochs"].as_u64().unwrap() >= 2);
    for f in [
        "megatron/part-00000.bin",
        "megatron/part-00000.idx",
        "datatrove/00000_unshuffled.ds",
        "datatrove/00000_unshuffled.ds.index",
        "datatrove/00000_unshuffled.ds.metadata",
        "numpy/part-00000.bin",
        "numpy/part-00000.doc_offsets.npy",
        "documents/part-00000-000.jsonl.zst",
        "dd/D_8/part-00000.bin",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    assert_eq!(
        std::fs::metadata(out.join("megatron/part-00000.bin"))
            .unwrap()
            .len(),
        2 * tokens
    );
}

fn write_mixture(dir: &Path, body: &str) -> PathBuf {
    let p = dir.join("m.toml");
    std::fs::write(&p, body).unwrap();
    p
}

#[test]
fn bad_input_exits_2_and_writes_nothing() {
    let d = tempfile::tempdir().unwrap();
    let ex = repo().join("examples");
    let data = ex.join("data/en_prose_sample.jsonl.zst");
    let tok = ex.join("models/gpt2-tokenizer.json.zst");
    let head = format!(
        "version = 1\nbudget = 1000\ntokenizer = \"{}\"\n",
        tok.display()
    );
    let src = |name: &str, path: &str, extra: &str| {
        format!("[[source]]\nname = \"{name}\"\npaths = [\"{path}\"]\n{extra}")
    };
    let good = data.to_str().unwrap();
    let cases: Vec<(String, &str)> = vec![
        // Weights that do not sum to one.
        (
            format!(
                "{head}{}{}",
                src("a", good, "weight = 0.5\n"),
                src("b", good, "weight = 0.2\n")
            ),
            "sum to 0.7",
        ),
        // A phase list that does not cover the budget.
        (
            format!(
                "{head}{}[[phase]]\nname = \"x\"\nfraction = 0.6\n",
                src("a", good, "")
            ),
            "cover 0.6",
        ),
        // A missing input.
        (
            format!("{head}{}", src("web", "nope/*.jsonl", "")),
            "source `web`",
        ),
        // An unknown tokenizer file.
        (
            format!(
                "version = 1\nbudget = 10\ntokenizer = \"missing.json\"\n{}",
                src("a", good, "")
            ),
            "missing.json",
        ),
        // A budget larger than max_epochs allows (needs the counts).
        (
            format!(
                "version = 1\nbudget = \"1B\"\ntokenizer = \"{}\"\n{}[weights]\nmethod = \"unimax\"\nmax_epochs = 2\n",
                tok.display(),
                src("a", good, "")
            ),
            "larger than `max_epochs` allows",
        ),
    ];
    for (i, (body, want)) in cases.iter().enumerate() {
        let p = write_mixture(d.path(), body);
        let out = d.path().join(format!("o{i}"));
        let o = mix(&[p.to_str().unwrap(), "-o", out.to_str().unwrap(), "-q"]);
        assert_eq!(o.status.code(), Some(2), "case {i}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "case {i}: {err}");
        assert!(
            tree(&out).is_empty(),
            "case {i} wrote {:?}",
            tree(&out).keys()
        );
    }
}

#[test]
fn dry_run_prints_the_plan_and_writes_no_output() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("o");
    let ex = repo().join("examples/mix.toml");
    let o = mix(&[
        ex.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--dry-run",
    ]);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains("dry run"));
    assert!(tree(&out).is_empty());
}

/// A mixture of slices of the samples, with several counting and writing tasks.
fn kill_mixture(dir: &Path) -> PathBuf {
    let raw = std::fs::read(repo().join("examples/data/en_prose_sample.jsonl.zst")).unwrap();
    let text = String::from_utf8(zstd::stream::decode_all(&raw[..]).unwrap()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(dir.join("a.jsonl"), lines[..1200].join("\n") + "\n").unwrap();
    std::fs::write(dir.join("b.jsonl"), lines[1200..].join("\n") + "\n").unwrap();
    write_mixture(
        dir,
        &format!(
            "version = 1\nseed = 3\nbudget = 250000\ntokenizer = \"{}\"\neos = \"<|endoftext|>\"\n\
             [[source]]\nname = \"a\"\npaths = [\"a.jsonl\"]\nunit_size = \"150KB\"\n\
             [[source]]\nname = \"b\"\npaths = [\"b.jsonl\"]\nunit_size = \"150KB\"\nweight = 0.7\n\
             [[source]]\nname = \"c\"\npaths = [\"{}\"]\nweight = 0.1\n\
             [output]\ntokenized = [\"megatron\", \"datatrove\", \"numpy\"]\npart_tokens = 20000\n\
             dd = {{ min_log2 = 5, max_log2 = 9 }}\n",
            repo()
                .join("examples/models/gpt2-tokenizer.json.zst")
                .display(),
            repo()
                .join("examples/data/target/manpages.jsonl.zst")
                .display(),
        )
        .replace(
            "name = \"a\"\npaths = [\"a.jsonl\"]\n",
            "name = \"a\"\npaths = [\"a.jsonl\"]\nweight = 0.2\n",
        ),
    )
}

#[test]
fn sigkill_at_any_moment_then_rerun_gives_identical_output() {
    let d = tempfile::tempdir().unwrap();
    let p = kill_mixture(d.path());
    let reference_out = d.path().join("reference");
    ok(&mix(&[
        p.to_str().unwrap(),
        "-o",
        reference_out.to_str().unwrap(),
        "-q",
    ]));
    let reference = tree(&reference_out);
    assert!(reference.len() > 40, "{}", reference.len());
    for delay in [5, 20, 60, 150, 300, 600, 1000, 1500] {
        let out = d.path().join(format!("killed{delay}"));
        let mut child = bin()
            .args([
                "mix",
                p.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
                "-w",
                "2",
                "-q",
            ])
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        ok(&mix(&[
            p.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "-w",
            "2",
            "-q",
        ]));
        let got = tree(&out);
        assert!(
            got == reference,
            "after a kill at {delay} ms the resumed output differs"
        );
    }
}
