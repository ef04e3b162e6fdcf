#!/usr/bin/env bash
# substring_dedup (exact-substring dedup with suffix arrays) on >= 1 GB of text.
#
# 1. Oracle check: datamill on ~/corpora/en_prose/fortunes.jsonl (2.6 MB of text) against
#    bench/substring_oracle.py, a Python reimplementation of the semantics of
#    google-research/deduplicate-text-datasets (`self-similar` + `collect`, windows kept inside
#    documents, ranges shrunk to character boundaries). The Google tool itself is not run: it
#    cannot be fetched on this machine.
# 2. The benchmark: bench/make_substring_corpus.py writes en_prose 5 times (1.24 GB of text;
#    MODE=rot: letters rotated per copy, so copies do not repeat each other; MODE=copies: exact
#    copies, the worst case), then datamill runs one substring_dedup stage (min_length 100) on it
#    under GNU time. Prints wall s, user s, sys s, peak RSS and the stage's summary.json.
#
# Usage: bench/substring.sh
# Env: DATAMILL=binary (default: release build), OUT=work dir (default /tmp/substring_bench),
#      SRC=en_prose folder (default ~/corpora/en_prose), MODE=rot|copies, COPIES=5,
#      MEMORY= (e.g. 2GB: also run with --memory, partitioned), WORKERS=2, SKIP_ORACLE=1.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
OUT=${OUT:-/tmp/substring_bench}
SRC=${SRC:-$HOME/corpora/en_prose}
MODE=${MODE:-rot}
COPIES=${COPIES:-5}
WORKERS=${WORKERS:-2}
mkdir -p "$OUT"
if [ -z "${DATAMILL:-}" ]; then
  (cd "$ROOT" && cargo build --release -q -p datamill-cli)
  DATAMILL=${CARGO_TARGET_DIR:-$ROOT/target}/release/datamill
fi
echo "machine: $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"

pipeline() { # pipeline FILE INPUT
  cat > "$1" <<TOML
version = 1
[input]
paths = ["$2"]
[[stage]]
type = "substring_dedup"
min_length = 100
[output]
compression = "none"
excluded = true
TOML
}

if [ -z "${SKIP_ORACLE:-}" ]; then
  pipeline "$OUT/oracle.toml" "$SRC/fortunes.jsonl"
  rm -rf "$OUT/oracle_out"
  "$DATAMILL" run "$OUT/oracle.toml" --output "$OUT/oracle_out" --workers "$WORKERS" > "$OUT/oracle.log" 2>&1
  python3 "$HERE/substring_oracle.py" "$SRC/fortunes.jsonl" "$OUT/oracle_out" 100
fi

IN=$OUT/en_prose_x${COPIES}_$MODE.jsonl
[ -s "$IN" ] || python3 "$HERE/make_substring_corpus.py" "$IN" --src "$SRC" --copies "$COPIES" --mode "$MODE"
echo "input: $IN ($(stat -c %s "$IN") bytes of JSONL; $MODE: en_prose written $COPIES times)"
pipeline "$OUT/bench.toml" "$IN"

run() { # run NAME EXTRA-ARGS...
  local name=$1; shift
  rm -rf "$OUT/$name"
  /usr/bin/time -f "%e %U %S %M" -o "$OUT/$name.time" \
    "$DATAMILL" run "$OUT/bench.toml" --output "$OUT/$name" --workers "$WORKERS" "$@" > "$OUT/$name.log" 2>&1
  read -r wall user sys rss < "$OUT/$name.time"
  echo "RESULT $name wall_s=$wall user_s=$user sys_s=$sys peak_rss_mb=$((rss / 1024))"
  echo "  summary: $(cat "$OUT/$name/reports/substring_dedup/summary.json")"
  python3 - "$OUT/$name/stats.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
st = [x for x in s.get("stages", []) if "substring" in json.dumps(x)]
print("  stats:", json.dumps(st[0] if st else s)[:600])
PY
}
run inmem
if [ -n "${MEMORY:-}" ]; then
  run "mem_$MEMORY" --memory "$MEMORY"
  if cmp -s <(cat "$OUT/inmem"/*.jsonl | sort) <(cat "$OUT/mem_$MEMORY"/*.jsonl | sort); then
    echo "  --memory $MEMORY output == in-memory output"
  else
    echo "  --memory $MEMORY output DIFFERS from the in-memory output"; exit 1
  fi
fi
