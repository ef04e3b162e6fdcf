#!/usr/bin/env bash
# Multilingual quality-filter chain, datamill vs datatrove 0.10.1, per script group, one core.
#
#   bench/langs.sh [PYTHON]     PYTHON: a Python 3.11 with datatrove==0.10.1 spacy==3.8.18
#                               (default /work/lang-venv/bin/python; see
#                               crates/datamill-filters/tests/golden/README.md)
#
# Input: ../shared/data/samples/multilingual_sample.jsonl, the documents datatrove tokenizes with
# spaCy rules or its whitespace tokenizer (bench/langs_prep.py; small groups cycled to 400 docs).
# Chain: GopherRepetition -> GopherQuality -> C4Quality(no terminal punct) -> FineWebQuality,
# each document with its own language. datamill: best of 3 runs in one thread
# (examples/bench_langs.rs); datatrove: one run, CPU time of filter() calls. Both exclude I/O and
# tokenizer construction.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-/work/lang-venv/bin/python}
OUT=bench/work
mkdir -p "$OUT"
IN=$OUT/langs_input.jsonl
uptime
"$PY" bench/langs_prep.py ../shared/data/samples/multilingual_sample.jsonl "$IN" 400
cargo build --release -q -p datamill-filters --example bench_langs
target/release/examples/bench_langs "$IN" 3 | tee "$OUT/langs_datamill.txt"
"$PY" bench/langs_datatrove.py "$IN" | tee "$OUT/langs_datatrove.txt"
python3 - "$OUT/langs_datamill.txt" "$OUT/langs_datatrove.txt" <<'PY'
import sys
def read(p):
    out = {}
    for line in open(p):
        if line.startswith("RESULT"):
            kv = dict(x.split("=", 1) for x in line.split()[1:])
            out[kv["group"]] = kv
    return out
dm, dt = read(sys.argv[1]), read(sys.argv[2])
print(f"{'group':<10} {'docs':>6} {'datamill docs/s':>16} {'datatrove docs/s':>17} {'ratio':>7} kept(dm/dt)")
for g in sorted(dm):
    a, b = dm[g], dt.get(g)
    if b is None:
        continue
    r = float(a["docs_per_s"]) / float(b["docs_per_s"])
    print(f"{g:<10} {a['docs']:>6} {a['docs_per_s']:>16} {b['docs_per_s']:>17} {r:>6.1f}x {a['kept']}/{b['kept']}")
    assert a["kept"] == b["kept"], f"{g}: kept counts differ"
PY
uptime
