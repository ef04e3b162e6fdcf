#!/usr/bin/env bash
# DSIR selection, end to end, on one input: datamill's `dsir` stage vs data-selection 1.0.3
# (PyPI, p-lambda/dsir HashedNgramDSIR) through the peer driver
# ../shared/tools/peers/dsir_select.py (num_proc=1). Same raw input, same target, same k and
# Gumbel seed; prints one line per run (docs, wall s, CPU s, docs per CPU-second = per core, peak
# RSS MB, selected) and the overlap of the two selected sets (equal when both see the same
# example order: one raw file, num_proc=1).
#
# Usage: bench/dsir.sh [RAW.jsonl TARGET.jsonl]
#   Without arguments, RAW is SYNTHETIC: the shipped en_prose sample (2,178 docs) repeated
#   REPEAT times (default 10 -> 21,780 docs; copy r gets ids "<id>#r<r>"), and TARGET its
#   `shard == "manpages"` docs (183). The output says so.
# Env: PY=python of a venv with data-selection 1.0.3 (default /tmp/dsirvenv/bin/python; pins in
#      crates/datamill-stages/tests/golden/dsir/README.md), DATAMILL=binary (default: release
#      build), OUT=work dir (default /tmp/dsir_bench), K=2000, SEED=0, WORKERS="1 2".
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
PY=${PY:-/tmp/dsirvenv/bin/python}
OUT=${OUT:-/tmp/dsir_bench}
K=${K:-2000}
SEED=${SEED:-0}
WORKERS=${WORKERS:-1 2}
mkdir -p "$OUT"
# shellcheck source=lib.sh
. "$HERE/lib.sh"
if [ $# -ge 2 ]; then
  IN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
  TARGET=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
  echo "raw: $IN"
  echo "target: $TARGET"
else
  IN=$OUT/en_prose_x${REPEAT:-10}.jsonl
  TARGET=$OUT/target_manpages.jsonl
  python3 - "$SHARED/data/samples/en_prose_sample.jsonl" "$IN" "$TARGET" "${REPEAT:-10}" <<'PY'
import json, sys
src, out, tgt, rep = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
lines = [l for l in open(src, encoding="utf-8").read().split("\n") if l]
with open(out, "w", encoding="utf-8") as f:
    for r in range(rep):
        for l in lines:
            d = json.loads(l)
            d["id"] = f"{d['id']}#r{r}"
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
with open(tgt, "w", encoding="utf-8") as f:
    for l in lines:
        if json.loads(l).get("shard") == "manpages":
            f.write(l + "\n")
PY
  echo "raw: $IN -- SYNTHETIC: the shipped en_prose sample repeated ${REPEAT:-10} times (ids"
  echo "     suffixed #r<copy>), not the real en_prose corpus"
  echo "target: $TARGET (the sample's manpages)"
fi
DOCS_N=$(wc -l < "$IN")
echo "docs: $DOCS_N, bytes: $(stat -c %s "$IN"), k=$K, seed=$SEED"
if [ -z "${DATAMILL:-}" ]; then
  (cd "$ROOT" && cargo build --release -q -p datamill-cli)
  DATAMILL=${CARGO_TARGET_DIR:-$ROOT/target}/release/datamill
fi

for w in $WORKERS; do
  d=$OUT/datamill_w$w
  rm -rf "$d"; mkdir -p "$d"
  cat > "$d/pipeline.toml" <<TOML
version = 1
[input]
paths = ["$IN"]
[[stage]]
type = "dsir"
target = ["$TARGET"]
k = $K
seed = $SEED
[output]
compression = "none"
TOML
  measure "datamill_w$w" "$DATAMILL" run "$d/pipeline.toml" --output "$d/out" --workers "$w" --quiet --force
  cat "$d"/out/*.jsonl | python3 -c "import json,sys; [print(json.loads(l)['id']) for l in sys.stdin]" > "$d/selected_ids.txt"
  report "datamill_w$w" "$DOCS_N" "selected=$(wc -l < "$d/selected_ids.txt")"
  python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print('       report: eligible', r['eligible'], 'kl gain_over_random', round(r['kl_to_target']['gain_over_random'], 6), 'gain_over_raw', round(r['kl_to_target']['gain_over_raw'], 6))" "$d/out/reports/dsir/dsir.json"
done

measure data_selection "$PY" "$SHARED/tools/peers/dsir_select.py" "$IN" "$TARGET" "$OUT/data_selection" --k "$K" --seed "$SEED" --num-proc 1
report data_selection "$DOCS_N" "selected=$(wc -l < "$OUT/data_selection/selected_ids.txt")"
echo "       peer's own line: $(tail -1 "$OUT/data_selection.log")"

python3 - "$OUT/datamill_w${WORKERS%% *}/selected_ids.txt" "$OUT/data_selection/selected_ids.txt" <<'PY'
import sys
a = set(open(sys.argv[1]).read().splitlines()); b = set(open(sys.argv[2]).read().splitlines())
print(f"SELECTED datamill={len(a)} data_selection={len(b)} common={len(a & b)} identical={a == b}")
PY
