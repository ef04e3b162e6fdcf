#!/usr/bin/env bash
# The documents handed between passes: `[output] intermediate = "zstd"` (default) vs "none".
# Pipeline: `length` (min_words = 20) then `exact_dedup`, uncompressed output, 1 worker, run
# twice per setting; prints a RESULT line per run and the hand-over size while it exists.
#
# Usage: bench/intermediate.sh CORPUS.jsonl
# Env: DATAMILL=binary (default: release build), OUT=work dir (default /tmp/intermediate_bench).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
OUT=${OUT:-/tmp/intermediate_bench}
mkdir -p "$OUT"
# shellcheck source=lib.sh
. "$HERE/lib.sh"
IN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
DOCS_N=$(wc -l < "$IN")
echo "input: $IN, docs: $DOCS_N, bytes: $(stat -c %s "$IN")"
if [ -z "${DATAMILL:-}" ]; then
  (cd "$ROOT" && cargo build --release -q -p datamill-cli)
  DATAMILL=${CARGO_TARGET_DIR:-$ROOT/target}/release/datamill
fi
for codec in zstd none zstd none; do
  d=$OUT/$codec
  rm -rf "$d"; mkdir -p "$d"
  cat > "$d/p.toml" <<TOML
version = 1
[input]
paths = ["$IN"]
[[stage]]
type = "length"
min_words = 20
[[stage]]
type = "exact_dedup"
[output]
compression = "none"
intermediate = "$codec"
TOML
  measure "intermediate_$codec" "$DATAMILL" run "$d/p.toml" -o "$d/o" -w 1 --quiet
  report "intermediate_$codec" "$DOCS_N" "kept=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['output_docs'])" "$d/o/stats.json")"
done
# The hand-over is deleted when pass 1 ends; it holds pass 0's survivors (length filter only),
# so its size is estimated from those: the kept documents plus exact duplicates are close.
echo "hand-over size (estimate from the output), zstd level 1 of the surviving documents: $(cat "$OUT"/none/o/*.jsonl | zstd -1 -q -c | wc -c) bytes; none: $(cat "$OUT"/none/o/*.jsonl | wc -c) bytes"
