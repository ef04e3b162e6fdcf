#!/usr/bin/env python3
"""Goldens for `bloom_dedup` with `compat = "bff"`, made by allenai/bff built from source.

bff: github.com/allenai/bff at commit c89bb5e66faa56bde190c54c97c407ef07ecc03c (2023-09-26),
built with its own Cargo.lock (`cargo build --release --locked`; its flate2/zlib-ng needs
cmake). Run:

    python3 make_golden_bff.py /path/to/bff/target/release/bff

Settings: a 64 MiB filter sized for 25,000,000 n-grams, so 15 hash functions; the slices
have under 400,000 n-grams, so a false positive has a probability below 1e-25 and the
decisions do not depend on bff's random hash seeds. n-grams of 13 tokens, paragraphs of
5-12 tokens as one n-gram, threshold 0.8, one thread (one input file per run anyway).

For each slice and mode (`paragraph`: bff's default; `document`: `--whole-document`;
`whole_paragraphs`: `--whole-paragraphs`) it runs
bff twice on a fresh filter: normally (the deduplicated text) and with `--annotate-only`
(`bff_duplicate_spans`, the removed byte ranges), checks that the text of the first run is
the input minus those spans, and writes bff_<mode>.<slice>.jsonl.gz, one row per document
in input order: {"id", "spans": [[start, end], ...] (bytes), "contained": bff's
bff_contained_ngram_count}.
"""

import gzip
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SLICES = ["debian", "changelogs"]
MODES = {"paragraph": [], "document": ["--whole-document"],
         "whole_paragraphs": ["--whole-paragraphs"]}


def run_bff(bff, src, extra):
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        out.mkdir()
        subprocess.run(
            [bff, "--bloom-filter-file", str(Path(tmp) / "filter.bin"),
             "--bloom-filter-size", str(64 << 20), "--expected-ngram-count", "25000000",
             "--min-ngram-size", "5", "--max-ngram-size", "13",
             "--filtering-threshold", "0.8", "-t", "1", "-o", str(out), *extra, str(src)],
            check=True, stdout=subprocess.DEVNULL)
        body = gzip.decompress((out / src.name).read_bytes()).decode()
        return [json.loads(l) for l in body.splitlines()]


def main():
    bff = sys.argv[1]
    for name in SLICES:
        src = HERE / f"{name}.jsonl.gz"
        docs = [json.loads(l) for l in gzip.decompress(src.read_bytes()).decode().splitlines()]
        for mode, extra in MODES.items():
            plain = run_bff(bff, src, extra)
            spans = run_bff(bff, src, extra + ["--annotate-only"])
            rows = []
            removed_paras = emptied = 0
            for d, p, s in zip(docs, plain, spans, strict=True):
                assert d["id"] == p["id"] == s["id"]
                b = d["text"].encode()
                cut, last = b"", 0
                for a, e in s["bff_duplicate_spans"]:
                    cut += b[last:a]
                    last = e
                cut += b[last:]
                assert cut.decode() == p["text"], d["id"]
                removed_paras += len(s["bff_duplicate_spans"])
                emptied += p["text"] == "" and d["text"] != ""
                rows.append({"id": d["id"], "spans": s["bff_duplicate_spans"],
                             "contained": s["bff_contained_ngram_count"]})
            dst = HERE / f"bff_{mode}.{name}.jsonl.gz"
            body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
            dst.write_bytes(gzip.compress(body.encode(), 9, mtime=0))
            print(f"{name} {mode}: {len(rows)} docs, {removed_paras} spans removed, "
                  f"{emptied} documents emptied", file=sys.stderr)


if __name__ == "__main__":
    main()
