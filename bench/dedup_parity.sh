#!/usr/bin/env bash
# Line and paragraph dedup against their references, on one input, each run in its reference's
# mode: datamill line_dedup compat = "ccnet" vs cc_net's dedup.py (two-pass, cc-net 1.0.0), and
# datamill bloom_dedup compat = "bff" vs allenai/bff built from source (one thread, same filter
# size). Prints one RESULT line per run (lib.sh: wall, CPU, docs per CPU-second, peak RSS) and,
# per pair, whether every output document is identical.
#
# Usage: bench/dedup_parity.sh CORPUS.jsonl [LIMIT]
#   e.g. the en_prose corpus built by ../shared/tools/corpora/build_en_prose.py:
#   bench/dedup_parity.sh ~/corpora/en_prose/debian_descriptions.jsonl 20000
# Env: PY=python with cc-net 1.0.0 + numpy (see
#      crates/datamill-stages/tests/golden/dedup_parity/make_golden_ccnet.py),
#      BFF=bff binary (commit c89bb5e, cargo build --release --locked), DATAMILL=binary (default:
#      release build in target/), OUT=work dir (default /tmp/dedup_parity_bench),
#      FILTER_MB=bff and datamill filter size (default 256), WORKERS=datamill workers (default 1).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PY=${PY:-python3}
OUT=${OUT:-/tmp/dedup_parity_bench}
FILTER_MB=${FILTER_MB:-256}
WORKERS=${WORKERS:-1}
mkdir -p "$OUT"
# shellcheck source=lib.sh
. "$HERE/lib.sh"
SRC=$1
IN=$OUT/input.jsonl
if [ -n "${2:-}" ]; then head -n "$2" "$SRC" > "$IN"; else cp "$SRC" "$IN"; fi
DOCS_N=$(wc -l < "$IN")
echo "input: $SRC (first $DOCS_N docs), bytes: $(stat -c %s "$IN"); load: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -z "${DATAMILL:-}" ]; then
  (cd "$ROOT" && cargo build --release -q -p datamill-cli)
  DATAMILL=${CARGO_TARGET_DIR:-$ROOT/target}/release/datamill
fi

datamill() {  # NAME STAGE-BODY
  local d=$OUT/$1
  rm -rf "$d"; mkdir -p "$d"
  printf 'version = 1\n[input]\npaths = ["%s"]\n[[stage]]\n%s\n[output]\ncompression = "none"\n' \
    "$IN" "$2" > "$d/pipeline.toml"
  measure "$1" "$DATAMILL" run "$d/pipeline.toml" --output "$d/out" --workers "$WORKERS" --quiet --force
  report "$1" "$DOCS_N"
}

# --- line_dedup vs cc_net (two-pass: what mine.py and the paper use)
datamill datamill_ccnet 'type = "line_dedup"
compat = "ccnet"'
cat > "$OUT/ccnet.py" <<'PY'
import json, sys, tempfile
from pathlib import Path
from cc_net import dedup, jsonql
src, dst = Path(sys.argv[1]), Path(sys.argv[2])
with tempfile.TemporaryDirectory() as tmp:
    h = Path(tmp) / "hashes.bin"
    jsonql.run_pipes(jsonql.JsonReader(), dedup.HashesCollector("text", output=h), file=src)
    with open(dst, "w") as o:
        for d in dedup.DuplicatesRemover("text", [h]).map(jsonql.read_jsons(src)):
            if d is not None:
                o.write(json.dumps({"id": d["id"], "text": d["text"]}) + "\n")
PY
measure ccnet "$PY" "$OUT/ccnet.py" "$IN" "$OUT/ccnet.jsonl"
report ccnet "$DOCS_N"

# --- bloom_dedup vs bff (paragraph mode)
datamill datamill_bff "type = \"bloom_dedup\"
compat = \"bff\"
size_in_bytes = \"${FILTER_MB}MiB\"
expected_items = 25000000"
if [ -n "${BFF:-}" ]; then
  gzip -1 -c "$IN" > "$OUT/input.jsonl.gz"
  rm -rf "$OUT/bff" "$OUT/bff.filter"; mkdir -p "$OUT/bff"
  measure bff "$BFF" --bloom-filter-file "$OUT/bff.filter" --bloom-filter-size $((FILTER_MB << 20)) \
    --expected-ngram-count 25000000 -t 1 -o "$OUT/bff" "$OUT/input.jsonl.gz"
  report bff "$DOCS_N"
  rm -f "$OUT/bff.filter"
fi

# Same output?
python3 - "$OUT" <<'PY'
import glob, gzip, json, os, sys
out = sys.argv[1]
def dm(name):
    docs = {}
    for f in sorted(glob.glob(f"{out}/{name}/out/*.jsonl")):
        for l in open(f, encoding="utf-8"):
            d = json.loads(l); docs[d["id"]] = d["text"]
    return docs
ours = dm("datamill_ccnet")
theirs = {json.loads(l)["id"]: json.loads(l)["text"] for l in open(f"{out}/ccnet.jsonl", encoding="utf-8")}
print(f"SAME ccnet: kept {len(ours)} vs {len(theirs)}, identical={ours == theirs}")
if os.path.exists(f"{out}/bff/input.jsonl.gz"):
    ours = dm("datamill_bff")
    theirs = {}
    for l in gzip.open(f"{out}/bff/input.jsonl.gz", "rt", encoding="utf-8"):
        d = json.loads(l); theirs[d["id"]] = d["text"]
    diff = sum(ours.get(k) != v for k, v in theirs.items())
    print(f"SAME bff: {len(theirs)} docs, {diff} differ, identical={diff == 0 and len(ours) == len(theirs)}")
PY
