//! One output, one dataset (issue 14.1): shards written from sources with different fields
//! follow one run-wide schema, so the whole output loads with pyarrow's dataset API and with
//! Hugging Face `datasets`; Parquet → Parquet keeps `list<string>` even in a shard where the
//! column is null throughout; `[output]` keeps, drops and renames fields.
//!
//! The Python checks need a venv with `pyarrow`, `datasets` and `zstandard` (`.ci/run` makes one in
//! `target/test-venv`; `DATAMILL_TEST_PYTHON` names another interpreter). Without it they
//! print a notice and skip, and fail when `DATAMILL_REQUIRE_MODELS=1` (as CI sets).

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_datamill"))
}

fn run_ok(p: &Path) {
    let o = bin().arg("run").arg(p).arg("--quiet").output().unwrap();
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The Python with pyarrow and datasets, or `None` (after a notice; a panic when required).
fn python() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("DATAMILL_TEST_PYTHON").map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-venv/bin/python")),
    ];
    for c in candidates.into_iter().flatten() {
        let ok = Command::new(&c)
            .args(["-c", "import pyarrow.dataset, datasets, zstandard"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Some(c);
        }
    }
    let msg = "no Python with pyarrow and datasets (run .ci/run, or set DATAMILL_TEST_PYTHON)";
    if std::env::var("DATAMILL_REQUIRE_MODELS").is_ok_and(|v| v == "1") {
        panic!("DATAMILL_REQUIRE_MODELS=1 but {msg}");
    }
    eprintln!("SKIPPED: {msg}");
    None
}

/// Two sources whose documents have different fields and types: `a.jsonl` has `lang`
/// (string), `tags` (list of strings) and an integer `score`; `b.jsonl` has no `lang` nor
/// `tags`, a float `score`, a `meta` object and a `flag` that is a bool in some documents and
/// a string in others. Each file is its own work unit, so its shards lack the other's fields.
fn sources(dir: &Path) {
    let mut a = String::new();
    for i in 0..40 {
        a.push_str(&format!(
            "{{\"id\":\"a{i}\",\"text\":\"document a{i} has enough words to pass\",\"lang\":\"en\",\"tags\":[\"t{i}\",\"x\"],\"score\":{i}}}\n"
        ));
    }
    let mut b = String::new();
    for i in 0..40 {
        let flag = if i % 2 == 0 {
            "true".to_string()
        } else {
            format!("\"f{i}\"")
        };
        b.push_str(&format!(
            "{{\"id\":\"b{i}\",\"text\":\"document b{i} also has enough words here\",\"score\":{i}.5,\"meta\":{{\"src\":\"b\",\"n\":{i}}},\"flag\":{flag}}}\n"
        ));
    }
    std::fs::write(dir.join("a.jsonl"), a).unwrap();
    std::fs::write(dir.join("b.jsonl"), b).unwrap();
}

fn pipeline(dir: &Path, name: &str, input: &str, output: &str) -> PathBuf {
    let p = dir.join(format!("{name}.toml"));
    std::fs::write(
        &p,
        format!(
            "version = 1\n[input]\npaths = [{input}]\n[[stage]]\ntype = \"length\"\nmin_words = 3\n\
             [output]\ndir = \"{name}\"\n{output}\n"
        ),
    )
    .unwrap();
    p
}

fn shards(out: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(ext))
        .collect();
    v.sort();
    v
}

fn read_jsonl_zst(p: &Path) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let raw = zstd::decode_all(std::fs::File::open(p).unwrap()).unwrap();
    String::from_utf8(raw)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn jsonl_shards_of_mixed_sources_carry_every_field_with_one_type() {
    let d = tempfile::tempdir().unwrap();
    sources(d.path());
    let p = pipeline(d.path(), "j", "\"a.jsonl\", \"b.jsonl\"", "");
    run_ok(&p);
    let out = d.path().join("j");
    let files = shards(&out, ".jsonl.zst");
    assert_eq!(files.len(), 2, "{files:?}");
    let want = ["id", "text", "lang", "tags", "score", "meta", "flag"];
    for f in &files {
        for rec in read_jsonl_zst(f) {
            let mut keys: Vec<&str> = rec.keys().map(String::as_str).collect();
            keys.sort();
            let mut w = want.to_vec();
            w.sort();
            assert_eq!(keys, w, "{}: {rec:?}", f.display());
            // One type per field: scores are floats everywhere, flags strings.
            assert!(rec["score"].is_f64(), "{rec:?}");
            assert!(rec["flag"].is_string() || rec["flag"].is_null(), "{rec:?}");
        }
    }
    let schema: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("schema.json")).unwrap()).unwrap();
    let names: Vec<&str> = schema["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, want);
    assert_eq!(schema["fields"][4]["type"], "float");
    assert_eq!(
        schema["fields"][3]["type"],
        serde_json::json!({"list": "str"})
    );
    let stats: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("stats.json")).unwrap()).unwrap();
    let on_disk: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    assert_eq!(stats["output_file_bytes"], on_disk, "{stats}");
    assert!(
        std::fs::read_to_string(out.join("README.md"))
            .unwrap()
            .contains("dataset_info:")
    );
    // A rerun is a no-op with the same files.
    let before: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    run_ok(&p);
    let after: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert_eq!(before, after);

    let Some(py) = python() else { return };
    let code = r#"
import sys, glob, datasets, pyarrow.dataset as ds
out = sys.argv[1]
# Each shard has a field that is null throughout (b's `lang`, a's `meta`): JSON cannot say
# its type, so the dataset card's features (README.md) are what lets datasets read them.
d = datasets.load_dataset(out, split="train", cache_dir=out + "/../hf-cache")
assert d.num_rows == 80, d.num_rows
assert d.column_names == ["id","text","lang","tags","score","meta","flag"], d.column_names
assert str(d.features["score"].dtype) == "float64", d.features
assert d.filter(lambda r: r["id"] == "b3")[0]["meta"] == {"src": "b", "n": 3}
assert d.filter(lambda r: r["id"] == "a3")[0]["tags"] == ["t3", "x"]
print("ok")
"#;
    let o = Command::new(&py)
        .args(["-c", code])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        o.status.success() && String::from_utf8_lossy(&o.stdout).contains("ok"),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn parquet_output_of_mixed_sources_is_one_dataset_and_parquet_input_keeps_its_types() {
    let Some(py) = python() else {
        // The Rust-side checks below need pyarrow to make the Parquet input; the JSONL test
        // above covers the schema merge without Python.
        return;
    };
    let d = tempfile::tempdir().unwrap();
    sources(d.path());
    // A Parquet input with a list<string> column that is null in a whole row group (= a unit).
    let make = r#"
import sys, pyarrow as pa, pyarrow.parquet as pq
t1 = pa.table({"id": ["p0","p1"], "text": ["a parquet document with words", "another parquet document here"],
               "tags": pa.array([["x"], ["y","z"]], pa.list_(pa.string())), "n": pa.array([1, 2], pa.int32())})
t2 = pa.table({"id": ["p2","p3"], "text": ["third parquet document with words", "fourth parquet document here"],
               "tags": pa.array([None, None], pa.list_(pa.string())), "n": pa.array([3, None], pa.int32())})
w = pq.ParquetWriter(sys.argv[1], t1.schema)
w.write_table(t1); w.write_table(t2); w.close()
"#;
    let pq_in = d.path().join("in.parquet");
    let o = Command::new(&py)
        .args(["-c", make])
        .arg(&pq_in)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // Mixed JSONL sources to Parquet, with a field renamed and one dropped.
    let p = pipeline(
        d.path(),
        "pj",
        "\"a.jsonl\", \"b.jsonl\"",
        "format = \"parquet\"\ndrop = [\"meta\"]\nrename = { lang = \"language\" }",
    );
    run_ok(&p);
    // Parquet to Parquet, one unit per row group.
    let p2 = pipeline(d.path(), "pp", "\"in.parquet\"", "format = \"parquet\"");
    std::fs::write(
        &p2,
        std::fs::read_to_string(&p2)
            .unwrap()
            .replace("[input]\n", "[input]\nunit_size = \"1\"\n"),
    )
    .unwrap();
    run_ok(&p2);
    let code = r#"
import sys, glob, datasets, pyarrow as pa, pyarrow.dataset as ds, pyarrow.parquet as pq
out = sys.argv[1]
files = sorted(glob.glob(out + "/pj/*.parquet"))
assert len(files) == 2, files
schemas = {str(pq.read_schema(f).remove_metadata()) for f in files}
assert len(schemas) == 1, schemas
t = ds.dataset(files, format="parquet").to_table()
assert t.num_rows == 80, t.num_rows
assert t.column_names == ["id","text","language","tags","score","flag"], t.column_names
assert t.schema.field("score").type == pa.float64()
assert t.schema.field("tags").type == pa.list_(pa.string())
d = datasets.load_dataset("parquet", data_files=list(reversed(files)), split="train", cache_dir=out + "/hf1")
assert d.num_rows == 80
files = sorted(glob.glob(out + "/pp/*.parquet"))
assert len(files) == 2, files
for f in files:
    s = pq.read_schema(f)
    assert s.field("tags").type == pa.list_(pa.string()), (f, s)
    assert s.field("n").type == pa.int32(), (f, s)
t = ds.dataset(files, format="parquet").to_table()
assert t.num_rows == 4 and t.column("tags").to_pylist() == [["x"], ["y","z"], None, None]
d = datasets.load_dataset("parquet", data_files=list(reversed(files)), split="train", cache_dir=out + "/hf2")
assert d.num_rows == 4
print("ok")
"#;
    let o = Command::new(&py)
        .args(["-c", code])
        .arg(d.path())
        .output()
        .unwrap();
    assert!(
        o.status.success() && String::from_utf8_lossy(&o.stdout).contains("ok"),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn output_field_options_are_checked() {
    let d = tempfile::tempdir().unwrap();
    sources(d.path());
    for (opts, needle) in [
        ("keep = [\"id\"]\ndrop = [\"lang\"]", "not both"),
        ("drop = [\"text\"]", "text"),
        ("rename = { a = \"b\", b = \"c\" }", "one step"),
    ] {
        let p = pipeline(d.path(), "bad", "\"a.jsonl\"", opts);
        let o = bin().arg("validate").arg(&p).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{opts}: {err}");
        assert!(
            err.contains(needle) && err.contains("bad.toml:"),
            "{opts}: {err}"
        );
    }
    // keep: only these fields (and the text), in their order.
    let p = pipeline(d.path(), "k", "\"a.jsonl\"", "keep = [\"id\", \"lang\"]");
    run_ok(&p);
    for f in shards(&d.path().join("k"), ".jsonl.zst") {
        for rec in read_jsonl_zst(&f) {
            let keys: Vec<&str> = rec.keys().map(String::as_str).collect();
            assert_eq!(keys, ["id", "text", "lang"]);
        }
    }
}
