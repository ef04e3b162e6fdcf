#!/usr/bin/env bash
# Quality-filter benchmark (issue 3): the 4-filter chain (FineWeb order: gopher_repetition ->
# gopher_quality -> c4_quality -> fineweb_quality, C4 with filter_no_terminal_punct = false as in
# the FineWeb recipe) on the same N documents, datatrove 0.10.1 (one process, its
# LocalPipelineExecutor) vs datamill with 1 and 2 workers, in one run. Also checks that both
# keep the same documents.
#
# Usage: bench/filters.sh [CORPUS_DIR] [N] [WORK_DIR]
#   CORPUS_DIR: *.jsonl shards (default ~/corpora/en_prose); N documents are drawn with seed 0
#   N:          default 20000
# Needs python3.11 (a venv with datatrove 0.10.1 + spacy 3.8.18 is made in WORK_DIR if absent).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
CORPUS="${1:-$HOME/corpora/en_prose}"
N="${2:-20000}"
WORK="${3:-$REPO/bench/work}"
PEERS="$REPO/../shared/tools/peers"
BIN="$REPO/target/release/datamill"
mkdir -p "$WORK"
VENV="${DT_VENV:-$WORK/dtvenv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q datatrove==0.10.1 spacy==3.8.18 orjson==3.13.0
fi
(cd "$REPO" && cargo build --release -q -p datamill-cli)

INPUT="$WORK/filters_input_$N.jsonl"
if [ ! -f "$INPUT" ]; then
  python3 - "$CORPUS" "$N" "$INPUT" <<'PY'
import glob, random, sys
corpus, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lines = []
for f in sorted(glob.glob(f"{corpus}/*.jsonl")):
    with open(f, encoding="utf-8") as fh:
        lines.extend(fh)
random.Random(0).shuffle(lines)
with open(out, "w", encoding="utf-8") as fh:
    fh.writelines(lines[:n])
PY
fi
bytes=$(wc -c < "$INPUT")
echo "input: $N docs drawn (seed 0) from $CORPUS, $(( bytes / 1000000 )) MB"

echo "== datatrove 0.10.1 (1 process)"
rm -rf "$WORK/dt_out"
"$VENV/bin/python" "$PEERS/datatrove_filters.py" "$INPUT" "$WORK/dt_out" --runs chain --fineweb-recipe --no-write-kept | tail -1
dt_secs=$(python3 - "$WORK/dt_out/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
runs = s if isinstance(s, list) else s.get("runs", s)
if isinstance(runs, dict):
    runs = list(runs.values())
r = [x for x in runs if isinstance(x, dict) and x.get("run") == "chain"][0]
print(r["cpu_seconds"])
PY
)

cat > "$WORK/filters.toml" <<TOML
version = 1
[input]
paths = ["$INPUT"]
unit_size = "4MB"
[[stage]]
type = "gopher_repetition"
[[stage]]
type = "gopher_quality"
[[stage]]
type = "c4_quality"
filter_no_terminal_punct = false
[[stage]]
type = "fineweb_quality"
[output]
dir = "$WORK/dm_out"
TOML
declare -A WALL CPU
for w in 1 2; do
  rm -rf "$WORK/dm_out"
  /usr/bin/time -f "%U %S %e %M" -o "$WORK/time.txt" "$BIN" run "$WORK/filters.toml" -w $w -q
  read -r u s e m < "$WORK/time.txt"
  CPU[$w]=$(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}')
  WALL[$w]=$e
  echo "datamill --workers $w: cpu ${CPU[$w]}s wall ${e}s peak RSS $(( m / 1024 )) MB  $(awk -v n="$N" -v c="${CPU[$w]}" 'BEGIN{printf "%.0f docs per CPU-second", n/c}')"
done
kept_dm=$(python3 -c "import json;print(json.load(open('$WORK/dm_out/stats.json'))['output_docs'])")
kept_dt=$(python3 - "$WORK/dt_out/decisions.jsonl" <<'PY'
import json, sys
print(sum(1 for l in open(sys.argv[1]) if (d := json.loads(l))["filter"] == "chain" and d["kept"]))
PY
)
echo
echo "kept: datamill $kept_dm, datatrove $kept_dt"
if [ -n "$dt_secs" ]; then
  echo "datatrove: $(awk -v n="$N" -v c="$dt_secs" 'BEGIN{printf "%.0f docs per CPU-second", n/c}')"
  echo "datamill per core vs datatrove per core: $(awk -v a="$dt_secs" -v b="${CPU[1]}" 'BEGIN{printf "%.1fx", a/b}')   (target >= 30x)"
fi
echo "speed-up 1 -> 2 workers (wall): $(awk -v a="${WALL[1]}" -v b="${WALL[2]}" 'BEGIN{printf "%.2fx", a/b}')   (target >= 1.8x)"
