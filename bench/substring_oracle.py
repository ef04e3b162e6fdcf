#!/usr/bin/env python3
"""Independent oracle for substring_dedup: a Python reimplementation of the semantics of
google-research/deduplicate-text-datasets (`self-similar` marks every position whose next L
bytes occur at least twice; `collect` merges the windows [p, p+L) into ranges, a window
starting at or before the previous range's end extending it), restricted to windows inside
one document, each range then shrunk inward to UTF-8 character boundaries (datamill's rule;
the Google tool cuts bytes). Uses a dict of windows, not a suffix array.

Compares the bytes removed per document with datamill's output (`substring_dedup_bytes_removed`
in kept documents, dropped documents taken as fully removed when their text is blank after
removal). Exits 1 on any difference.

Usage: substring_oracle.py INPUT.jsonl DATAMILL_OUT_DIR L
"""
import collections
import glob
import io
import json
import sys

inp, outdir, L = sys.argv[1], sys.argv[2], int(sys.argv[3])
docs = [json.loads(l) for l in open(inp, encoding="utf-8")]
texts = [d["text"].encode("utf-8") for d in docs]
count = collections.Counter()
for t in texts:
    for i in range(len(t) - L + 1):
        count[hash(t[i:i + L])] += 1


def spans(t):
    out, cur = [], None
    for i in range(len(t) - L + 1):
        if count[hash(t[i:i + L])] >= 2:
            if cur and i <= cur[1]:
                cur[1] = i + L
            else:
                if cur:
                    out.append(cur)
                cur = [i, i + L]
    if cur:
        out.append(cur)
    res = []
    for a, b in out:
        while a < b and t[a] & 0xC0 == 0x80:
            a += 1
        while b > a and b < len(t) and t[b] & 0xC0 == 0x80:
            b -= 1
        if a < b:
            res.append((a, b))
    return res


want = {}
for d, t in zip(docs, texts):
    want[d["id"]] = sum(b - a for a, b in spans(t))


def read_jsonl(path):
    if path.endswith(".zst"):
        import subprocess
        data = subprocess.run(["zstd", "-dc", path], capture_output=True, check=True).stdout
        return [json.loads(l) for l in io.BytesIO(data).read().decode("utf-8").splitlines() if l]
    return [json.loads(l) for l in open(path, encoding="utf-8")]


got = {}
for f in sorted(glob.glob(f"{outdir}/*.jsonl*")):
    for d in read_jsonl(f):
        got[d["id"]] = d.get("substring_dedup_bytes_removed", 0)
byid = {d["id"]: t for d, t in zip(docs, texts)}
for f in sorted(glob.glob(f"{outdir}/excluded/*.jsonl*")):
    for d in read_jsonl(f):
        got[d["id"]] = None  # dropped: check it would be blank
bad = 0
for i, w in want.items():
    g = got.get(i, "missing")
    if g is None:
        t = byid[i]
        kept = bytearray()
        last = 0
        for a, b in spans(t):
            kept += t[last:a]
            last = b
        kept += t[last:]
        ok = kept.decode("utf-8").strip() == ""
    else:
        ok = g == w
    if not ok:
        bad += 1
        if bad <= 5:
            print(f"DIFF {i}: oracle {w} bytes, datamill {g}")
print(f"oracle: {len(want)} docs, {sum(want.values())} bytes removed by the oracle, "
      f"{bad} documents differ")
sys.exit(1 if bad else 0)
