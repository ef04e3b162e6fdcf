#!/usr/bin/env bash
# CCNet perplexity scoring, end to end, on one input: datamill's `perplexity` stage (per-line
# CCNet normalization, whitespace tokens) vs the `kenlm` Python package 0.3.0 with
# cc_net 1.0.0's text_normalizer, doing CCNet's DocLM loop in one process. Same model: the
# order-5 ARPA committed in crates/datamill-lm/tests/golden/. Prints one line per run (docs,
# wall s, CPU s, docs per CPU-second = per core, peak RSS MB), a datamill passthrough run (the
# I/O floor) and how many documents got the same rounded perplexity from both.
#
# Usage: bench/perplexity.sh [IN.jsonl]
#   Without an argument, IN is SYNTHETIC: the shipped en_prose sample (2,178 docs) repeated
#   REPEAT times (default 10 -> 21,780 docs; copy r gets ids "<id>#r<r>"). The output says so.
# Env: PY=python of a venv with kenlm==0.3.0 and cc-net==1.0.0 (default /tmp/kenlmvenv/bin/python;
#      see crates/datamill-lm/tests/golden/README.md), DATAMILL=binary (default: release
#      build), OUT=work dir (default /tmp/perplexity_bench), WORKERS="1 2".
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
PY=${PY:-/tmp/kenlmvenv/bin/python}
OUT=${OUT:-/tmp/perplexity_bench}
WORKERS=${WORKERS:-1 2}
ARPA=$ROOT/crates/datamill-lm/tests/golden/en_prose_o5.arpa
mkdir -p "$OUT"
# shellcheck source=lib.sh
. "$HERE/lib.sh"
if [ $# -ge 1 ]; then
  IN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
  echo "input: $IN"
else
  IN=$OUT/en_prose_x${REPEAT:-10}.jsonl
  python3 - "$SHARED/data/samples/en_prose_sample.jsonl" "$IN" "${REPEAT:-10}" <<'PY'
import json, sys
src, out, rep = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = [l for l in open(src, encoding="utf-8").read().split("\n") if l]
with open(out, "w", encoding="utf-8") as f:
    for r in range(rep):
        for l in lines:
            d = json.loads(l)
            d["id"] = f"{d['id']}#r{r}"
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
PY
  echo "input: $IN -- SYNTHETIC: the shipped en_prose sample repeated ${REPEAT:-10} times"
fi
DOCS_N=$(wc -l < "$IN")
echo "docs: $DOCS_N, bytes: $(stat -c %s "$IN"), model: order-5 ARPA, $(stat -c %s "$ARPA") bytes"
if [ -z "${DATAMILL:-}" ]; then
  (cd "$ROOT" && cargo build --release -q -p datamill-cli)
  DATAMILL=${CARGO_TARGET_DIR:-$ROOT/target}/release/datamill
fi

run_datamill() {
  local name=$1 w=$2 stage=$3
  local d=$OUT/$name
  rm -rf "$d"; mkdir -p "$d"
  printf 'version = 1\n[input]\npaths = ["%s"]\n%s\n[output]\ncompression = "none"\n' "$IN" "$stage" > "$d/pipeline.toml"
  measure "$name" "$DATAMILL" run "$d/pipeline.toml" --output "$d/out" --workers "$w" --quiet --force
  report "$name" "$DOCS_N"
}

run_datamill passthrough_w1 1 $'[[stage]]\ntype = "length"'
for w in $WORKERS; do
  run_datamill "perplexity_w$w" "$w" "$(printf '[[stage]]\ntype = "perplexity"\nmodel = "%s"' "$ARPA")"
done

cat > "$OUT/peer.py" <<'PY'
import json, sys
import kenlm
from cc_net import text_normalizer
model = kenlm.Model(sys.argv[2])
with open(sys.argv[1], encoding="utf-8") as f, open(sys.argv[3], "w") as out:
    for line in f:
        doc = json.loads(line)
        log, length = 0.0, 0
        for l in doc["text"].split("\n"):
            l = text_normalizer.normalize(l)
            log += model.score(l)
            length += len(l.split()) + 1
        out.write(json.dumps({"id": doc["id"], "perplexity": round(10.0 ** (-log / length), 1)}) + "\n")
PY
measure kenlm_python_ccnet "$PY" "$OUT/peer.py" "$IN" "$ARPA" "$OUT/peer.jsonl"
report kenlm_python_ccnet "$DOCS_N"

python3 - "$OUT/perplexity_w${WORKERS%% *}/out" "$OUT/peer.jsonl" <<'PY'
import glob, json, sys
ours = {}
for p in glob.glob(sys.argv[1] + "/*.jsonl"):
    for l in open(p, encoding="utf-8"):
        d = json.loads(l)
        ours[d["id"]] = d.get("perplexity")
theirs = {json.loads(l)["id"]: json.loads(l)["perplexity"] for l in open(sys.argv[2])}
same = sum(1 for k, v in theirs.items() if ours.get(k) == v)
print(f"SAME_PERPLEXITY {same}/{len(theirs)}")
PY
