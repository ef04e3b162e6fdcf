#!/usr/bin/env python3
"""Goldens for `bloom_dedup` with `compat = "dolma"`, made by dolma itself.

dolma is the PyPI package dolma 1.2.1 (its Rust deduper and mixer are compiled into the
wheel; source: github.com/allenai/dolma tag v1.2.1, commit
fd22a34972a36bf1a60d2f161533d55b2be4c047). Its declared dependencies do not resolve next to
numpy 2, so it was installed with --no-deps plus what its CLI imports:

    python3 -m venv /tmp/dolma-venv
    /tmp/dolma-venv/bin/pip install --no-deps dolma==1.2.1
    /tmp/dolma-venv/bin/pip install omegaconf rich smart-open necessary msgspec platformdirs \\
        pyyaml tqdm jsonpath-ng zstandard python-dotenv anyascii charset-normalizer fsspec \\
        fasttext nltk uniseg tokenizers numpy requests
    /tmp/dolma-venv/bin/python make_golden_dolma.py /tmp/dolma-venv/bin/dolma

The whole dolma pipeline runs: `dolma dedupe` writes the duplicate spans as attributes,
`dolma mix` (no shuffle, span_replacement with "" on those spans) writes the text that is
left. Filter: 64 MiB sized for 25,000,000 items (dolma's optimal hasher count, 15); the
slices have under 400,000 keys, so false positives (probability < 1e-25) do not occur and
dolma's random hash seeds do not matter.

Modes:
- `ngram`: `dedupe.paragraphs.by_ngram` with ngram_length 13, stride 1, overlap_threshold
  0.8 (skip_empty false, dolma's default);
- `paragraph`: `dedupe.paragraphs` without by_ngram (exact paragraphs);
- `document`: `dedupe.documents` with key `$.text` (no mix: the attribute is the verdict).

Files dolma_<mode>.<slice>.jsonl.gz, one row per input document in order:
{"id", "spans": the attribute's [start, end, score] (character offsets, as dolma writes
them), "text_sha1": first 16 hex digits of the SHA-1 of the mixed text (paragraph modes)}.
"""

import gzip
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SLICES = ["debian", "changelogs"]
BLOOM = {"size_in_bytes": 64 << 20, "read_only": False, "estimated_doc_count": 25_000_000,
         "desired_false_positive_rate": 1e-9}
MODES = {
    "ngram": {"paragraphs": {"attribute_name": "dup", "by_ngram": {
        "ngram_length": 13, "stride": 1, "overlap_threshold": 0.8}}},
    "paragraph": {"paragraphs": {"attribute_name": "dup"}},
    "document": {"documents": {"attribute_name": "dup", "key": "$.text"}},
}


def dolma(exe, cmd, cfg, tmp):
    path = Path(tmp) / f"{cmd}.json"
    path.write_text(json.dumps(cfg))
    subprocess.run([exe, "-c", str(path), cmd], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def read_jsonl_gz(path):
    return [json.loads(l) for l in gzip.decompress(path.read_bytes()).decode().splitlines()]


def main():
    exe = sys.argv[1]
    for name in SLICES:
        src = HERE / f"{name}.jsonl.gz"
        docs = read_jsonl_gz(src)
        for mode, dedupe in MODES.items():
            with tempfile.TemporaryDirectory() as tmp:
                root = Path(tmp)
                (root / "documents").mkdir()
                doc_path = root / "documents" / f"{name}.jsonl.gz"
                doc_path.write_bytes(src.read_bytes())
                work = {"input": str(root / "wi"), "output": str(root / "wo")}
                dolma(exe, "dedupe", {
                    "documents": [str(doc_path)], "work_dir": work,
                    "dedupe": {"name": "dup", **dedupe},
                    "bloom_filter": {"file": str(root / "filter.bin"), **BLOOM},
                    "processes": 1}, tmp)
                attrs = read_jsonl_gz(root / "attributes" / "dup" / f"{name}.jsonl.gz")
                mixed = {}
                if mode != "document":
                    dolma(exe, "mix", {
                        "streams": [{
                            "name": "out", "documents": [str(doc_path)], "attributes": ["dup"],
                            "output": {"path": str(root / "mixed"),
                                       "max_size_in_bytes": 10 ** 10},
                            "span_replacement": [{"span": "$.attributes.dup",
                                                  "min_score": 0.0, "replacement": ""}]}],
                        "work_dir": {"input": str(root / "mi"), "output": str(root / "mo")},
                        "processes": 1, "shuffle": False}, tmp)
                    for f in sorted(p for p in (root / "mixed").rglob("*") if p.is_file()):
                        for d in read_jsonl_gz(f):
                            mixed[d["id"]] = d["text"]
                    assert len(mixed) == len(docs), (len(mixed), len(docs))
            rows = []
            n_spans = 0
            for d, a in zip(docs, attrs, strict=True):
                assert d["id"] == a["id"]
                spans = a["attributes"].get("dup", [])
                n_spans += len(spans)
                row = {"id": d["id"], "spans": spans}
                if mode != "document":
                    row["text_sha1"] = hashlib.sha1(mixed[d["id"]].encode()).hexdigest()[:16]
                rows.append(row)
            dst = HERE / f"dolma_{mode}.{name}.jsonl.gz"
            body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
            dst.write_bytes(gzip.compress(body.encode(), 9, mtime=0))
            print(f"{name} {mode}: {len(rows)} docs, {n_spans} spans", file=sys.stderr)


if __name__ == "__main__":
    main()
