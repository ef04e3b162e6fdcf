"""datamill.run: pipelines as TOML files, dicts and builders; the same output and counts as
the command line; errors; progress."""

import json
import subprocess
from pathlib import Path

import pytest

import datamill
from conftest import check_report, files, stats_core


def pipeline_dict(src: Path, out: Path) -> dict:
    return {
        "input": {"paths": [str(src)], "unit_size": "256KB"},
        "stage": [
            {"type": "length", "min_words": 20},
            {"type": "gopher_quality"},
            {"type": "exact_dedup"},
        ],
        "output": {"dir": str(out), "excluded": True},
    }


TOML = """version = 1
[input]
paths = ["{src}"]
unit_size = "256KB"
[[stage]]
type = "length"
min_words = 20
[[stage]]
type = "gopher_quality"
[[stage]]
type = "exact_dedup"
[output]
dir = "{out}"
excluded = true
"""


def test_dict_builder_and_file_give_the_cli_output(tmp_path, prose, datamill_bin):
    toml = tmp_path / "p.toml"
    toml.write_text(TOML.format(src=prose, out=tmp_path / "cli"))
    subprocess.run([str(datamill_bin), "run", str(toml), "--quiet"], check=True)
    cli = json.loads((tmp_path / "cli" / "stats.json").read_text())

    a = datamill.run(pipeline_dict(prose, tmp_path / "dict"), workers=2)
    b = datamill.run(
        datamill.Pipeline()
        .read(prose, unit_size="256KB")
        .stage("length", min_words=20)
        .stage("gopher_quality")
        .stage("exact_dedup")
        .write(tmp_path / "builder", excluded=True),
        workers=1,
        report=False,
    )
    toml2 = tmp_path / "p2.toml"
    toml2.write_text(TOML.format(src=prose, out=tmp_path / "file"))
    c = datamill.run(toml2)
    for s in (a, b, c):
        assert stats_core(s) == stats_core(cli)
        assert s["input_docs"] == s["output_docs"] + sum(sum(st["dropped"].values()) for st in s["stages"]) + s["quarantined"]
    assert a["input_docs"] == 2178 and 0 < a["output_docs"] < 2178
    assert a["ran_tasks"] > 1 and a["resumed_tasks"] == 0
    ref = files(tmp_path / "cli")
    assert any(k.endswith(".jsonl.zst") for k in ref) and "excluded" in "".join(ref)
    for d in ("dict", "builder", "file"):
        assert files(tmp_path / d) == ref, d
        assert json.loads((tmp_path / d / "stats.json").read_text())["output_docs"] == cli["output_docs"]
    # The report, as `datamill run` writes it (unless report=False).
    check_report(tmp_path / "cli", cli)
    for s, d in ((a, "dict"), (c, "file")):
        assert s["report"] == str(tmp_path / d / "report.html")
        check_report(tmp_path / d, s)
    assert b["report"] is None and not (tmp_path / "builder" / "report.html").exists()
    # A rerun resumes: every task is done.
    again = datamill.run(pipeline_dict(prose, tmp_path / "dict"))
    assert again["ran_tasks"] == 0 and again["resumed_tasks"] == a["ran_tasks"]
    assert stats_core(again) == stats_core(cli)


@pytest.mark.parametrize(
    "change, named",
    [
        (lambda d: d.update(stages=[]), "stages"),
        (lambda d: d["input"].update(text_fild="x"), "text_fild"),
        (lambda d: d["stage"][0].update(min_wrds=3), "min_wrds"),
        (lambda d: d["output"].update(compresion="zstd"), "compresion"),
        (lambda d: d["stage"].append({"type": "lenght"}), "lenght"),
    ],
)
def test_unknown_keys_raise_value_error_naming_them(tmp_path, prose, change, named):
    d = pipeline_dict(prose, tmp_path / "o")
    change(d)
    with pytest.raises(ValueError, match=named):
        datamill.run(d)
    assert not (tmp_path / "o").exists()


def test_bad_values_and_types(tmp_path, prose):
    d = pipeline_dict(prose, tmp_path / "o")
    d["stage"][0]["min_words"] = None
    with pytest.raises(ValueError, match="min_words"):
        datamill.run(d)
    with pytest.raises(ValueError, match="unit_size|parsecs"):
        datamill.run(datamill.Pipeline().read(prose, unit_size="3 parsecs").write(tmp_path / "o"))
    with pytest.raises(TypeError):
        datamill.run(42)
    with pytest.raises(ValueError, match="no input"):
        datamill.Pipeline().stage("length").to_dict()
    with pytest.raises(datamill.DatamillError, match="does-not-exist"):
        datamill.run(datamill.Pipeline().read(tmp_path / "does-not-exist.jsonl").write(tmp_path / "o"))


def test_progress_callback_and_tqdm_compatible_class(tmp_path, prose):
    seen = []
    datamill.run(pipeline_dict(prose, tmp_path / "a"), progress=seen.append)
    assert seen, "the callback was never called"
    assert {"phase", "bytes", "total_bytes", "docs", "units_done", "units_total"} <= set(seen[-1])
    # The last call comes after the run: the run-wide schema step, the last phase.
    assert seen[-1]["phase"] == "schema"
    assert any(p["phase"].startswith("pass") and p["units_total"] > 0 for p in seen)

    bars = []

    class FakeTqdm:  # the part of tqdm's interface run() uses
        def __init__(self, total=None, desc=None, **kw):
            self.total, self.desc, self.n, self.closed = total, desc, 0, False
            bars.append(self)

        def update(self, n):
            self.n += n

        def close(self):
            self.closed = True

    datamill.run(pipeline_dict(prose, tmp_path / "b"), progress=FakeTqdm)
    assert bars and all(b.closed for b in bars)
    # Every phase but the last ended before the next began: its bar is full.
    assert all(b.n == b.total for b in bars[:-1]) and any(b.total > 0 for b in bars)

    def boom(p):
        raise RuntimeError("callback failed")

    with pytest.raises(RuntimeError, match="callback failed"):
        datamill.run(pipeline_dict(prose, tmp_path / "c"), progress=boom)


def test_a_different_pipeline_in_the_same_folder_is_refused(tmp_path, prose):
    d = pipeline_dict(prose, tmp_path / "o")
    datamill.run(d)
    d["stage"][0]["min_words"] = 30
    with pytest.raises(datamill.DatamillError, match="--force|different pipeline"):
        datamill.run(d)
    s = datamill.run(d, force=True)
    assert s["ran_tasks"] > 0


def test_stage_listing_and_docs():
    names = {n: g for n, g, _ in datamill.stages()}
    assert names["gopher_quality"] is False and names["minhash_dedup"] is True
    assert "min_doc_words" in datamill.stage_doc("gopher_quality")
    with pytest.raises(ValueError, match="unknown stage"):
        datamill.stage_doc("nope")
