#!/usr/bin/env python3
"""Goldens for `line_dedup` with `compat = "ccnet"`, made by cc_net's own dedup.py.

cc_net is the PyPI package cc-net 1.0.0 (the same dedup.py, flat_hash_set.py, jsonql.py and
text_normalizer.py as facebookresearch/cc_net at commit bda555bd1cf1ee2e0b925363e62a61cd46c8b60d),
imported unchanged; getpy is not installed, so FlatHashSet is cc_net's NaiveHashSet (same
semantics, a Python dict).

    python3 -m venv /tmp/ccnet-venv
    /tmp/ccnet-venv/bin/pip install --no-deps cc-net==1.0.0
    /tmp/ccnet-venv/bin/pip install numpy psutil requests typing_extensions
    /tmp/ccnet-venv/bin/python make_golden_ccnet.py

For each input slice (debian.jsonl.gz, changelogs.jsonl.gz) it writes
ccnet_<mode>.<slice>.jsonl.gz, one row per input document in input order:
{"id": ..., "line_ids": [indexes of the kept lines of text.split("\\n")] or null (dropped),
 the text cc_net wrote is checked to be "\n".join of those lines, so it is not stored}.

Modes: `one_pass` is `cc_net.dedup.deduplicate(file, field="text")`; `two_pass` is
`deduplicate_two_pass`'s two steps (HashesCollector over the file, then DuplicatesRemover
with the hashes): the function itself returns a lazy generator and deletes the hash file in
its `finally` before the generator runs, so it cannot be consumed as written; the script
runs the same two calls and consumes the generator before removing the file.
"""

import gzip
import json
import sys
import tempfile
from pathlib import Path

import numpy

import cc_net
from cc_net import dedup, jsonql

HERE = Path(__file__).resolve().parent
SLICES = ["debian", "changelogs"]


def one_pass(path):
    return list(dedup.deduplicate(path, field="text"))


def two_pass(path):
    with tempfile.TemporaryDirectory() as tmp:
        hash_file = Path(tmp) / "hashes.bin"
        jsonql.run_pipes(
            jsonql.JsonReader(),
            dedup.HashesCollector("text", output=hash_file),
            file=path,
        )
        remover = dedup.DuplicatesRemover("text", [hash_file])
        return list(remover.map(jsonql.read_jsons(path)))


def main():
    print(f"cc_net {cc_net.__file__}, numpy {numpy.__version__}, FlatHashSet = "
          f"{dedup.FlatHashSet.__name__}", file=sys.stderr)
    for name in SLICES:
        src = HERE / f"{name}.jsonl.gz"
        with tempfile.TemporaryDirectory() as tmp:
            # jsonql reads .gz too, but a plain copy keeps the reading path trivial.
            plain = Path(tmp) / f"{name}.jsonl"
            plain.write_bytes(gzip.decompress(src.read_bytes()))
            docs = [json.loads(l) for l in plain.read_text().splitlines()]
            ids = [d["id"] for d in docs]
            for mode, run in [("one_pass", one_pass), ("two_pass", two_pass)]:
                out = run(plain)
                assert len(out) == len(ids)
                rows = []
                for src_doc, d in zip(docs, out):
                    i = src_doc["id"]
                    if d is None:
                        rows.append({"id": i, "line_ids": None})
                    else:
                        assert d["id"] == i
                        kept = list(map(int, d["line_ids"]))
                        lines = src_doc["text"].split("\n")
                        assert d["text"] == "\n".join(lines[k] for k in kept)
                        rows.append({"id": i, "line_ids": kept})
                dst = HERE / f"ccnet_{mode}.{name}.jsonl.gz"
                body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
                dst.write_bytes(gzip.compress(body.encode(), 9, mtime=0))
                dropped = sum(r["line_ids"] is None for r in rows)
                print(f"{name} {mode}: {len(rows)} docs, {dropped} dropped", file=sys.stderr)


if __name__ == "__main__":
    main()
