"""datamill.Stage on Arrow batches: the same decisions and accounting as a pipeline run."""

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.json as pj
import pytest

import datamill
from conftest import REPO, need


def read_jsonl(path: Path) -> pa.Table:
    comp = "zstd" if path.suffix == ".zst" else None
    with pa.input_stream(str(path), compression=comp) as f:
        # One block: types inferred from the whole file, not block by block (see output_ids).
        return pj.read_json(f, read_options=pj.ReadOptions(block_size=1 << 30))


def output_ids(out: Path) -> list:
    # Only the ids, with an explicit schema: pyarrow infers each block's types on its own, and a
    # metadata list of date-like strings became list<timestamp[s]> in one block and failed in the
    # next ("JSON conversion to list<item: timestamp[s]> is not supported").
    only_id = pj.ParseOptions(explicit_schema=pa.schema([("id", pa.string())]), unexpected_field_behavior="ignore")
    ids = []
    for p in sorted(out.glob("*.jsonl.zst")):
        with pa.input_stream(str(p), compression="zstd") as f:
            ids += pj.read_json(f, parse_options=only_id).column("id").to_pylist()
    return ids


@pytest.mark.parametrize("name, params", [("gopher_quality", {}), ("length", {"min_words": 50, "max_chars": 5000}), ("c4_quality", {})])
def test_a_stage_on_batches_decides_and_counts_as_a_run(tmp_path, prose, name, params):
    stats = datamill.run({"input": {"paths": [str(prose)]}, "stage": [{"type": name, **params}], "output": {"dir": str(tmp_path / "o")}})
    table = read_jsonl(prose)
    st = datamill.Stage(name, **params)
    kept = [st(b) for b in table.to_batches(max_chunksize=300)]
    assert all(isinstance(k, pa.RecordBatch) for k in kept)
    got = st.stats
    run_st = stats["stages"][0]
    assert (got["in"], got["kept"], got["dropped"]) == (run_st["in"], run_st["kept"], run_st["dropped"])
    assert got["in"] == got["kept"] + sum(got["dropped"].values()) == table.num_rows
    assert got["kept"] < got["in"], "the stage should drop something on this sample"
    ids = [i for k in kept for i in k.column("id").to_pylist()]
    assert ids == output_ids(tmp_path / "o")
    # Texts untouched, columns kept.
    assert kept[0].schema.names[: len(table.schema.names)] == table.schema.names


def test_tables_dropped_rows_and_quarantine(tmp_path):
    t = pa.table({"id": ["a", "b", "c", "d"], "text": ["word " * 30, "too short", None, "word " * 40], "n": [1, 2, 3, 4]})
    st = datamill.Stage("length", min_words=10)
    kept, dropped = st.process(t)
    assert isinstance(kept, pa.Table)
    assert kept.column("id").to_pylist() == ["a", "d"]
    assert kept.column("n").to_pylist() == [1, 4]
    assert dropped.column("id").to_pylist() == ["b", "c"]
    reasons = [json.loads(x) if isinstance(x, str) else x for x in dropped.column("excluded_by").to_pylist()]
    assert reasons[0]["stage"] == "length"
    assert reasons[1]["stage"] == "<input>" and reasons[1]["reason"] == "missing_text"
    s = st.stats
    assert (s["in"], s["kept"], sum(s["dropped"].values())) == (3, 2, 1)
    assert s["quarantined"] == {"missing_text": 1}
    st.reset_stats()
    assert st.stats["in"] == 0
    # Another text column, no id column (no id column is added).
    t2 = pa.table({"content": ["word " * 30, "x"]})
    st2 = datamill.Stage("length", min_words=10, text_field="content")
    out = st2(t2)
    assert out.schema.names == ["content"] and out.num_rows == 1
    # An empty batch keeps its schema.
    empty = st2(pa.RecordBatch.from_pylist([], schema=t2.schema))
    assert empty.num_rows == 0 and empty.schema.names == ["content"]


def test_stage_errors():
    with pytest.raises(ValueError, match="min_wrds"):
        datamill.Stage("length", min_wrds=3)
    with pytest.raises(ValueError, match="global stage"):
        datamill.Stage("minhash_dedup")
    with pytest.raises(ValueError, match="unknown stage `nope`"):
        datamill.Stage("nope")
    with pytest.raises(TypeError):
        datamill.Stage("length")([1, 2])


def test_a_model_stage_adds_fields_and_pickles(tmp_path):
    model = Path(os.environ.get("DATAMILL_LID176", REPO / "target" / "models" / "lid.176.ftz"))
    if not model.is_file():
        need(f"lid.176.ftz ({model}; crates/datamill-fasttext/fetch-lid176.sh)")
    import pickle

    st = datamill.Stage("language", model=str(model), languages=["en"])
    t = pa.table({"id": ["1", "2"], "text": ["This is an English sentence about data.", "Ceci est une phrase en français sur les données."]})
    kept = st(t)
    assert kept.column("id").to_pylist() == ["1"]
    assert kept.column("language").to_pylist() == ["en"]
    assert 0.5 < kept.column("language_score").to_pylist()[0] <= 1.0
    st2 = pickle.loads(pickle.dumps(st))  # rebuilt from its parameters (Ray Data ships it so)
    assert st2(t).column("id").to_pylist() == ["1"]
