#!/usr/bin/env bash
# Report generation on a large run: `datamill run` (no report) of a curation pipeline over a
# corpus, then `datamill report` of its output folder, timed (wall, CPU, peak RSS) with GNU
# time. No peer ships a report, so there is no comparison: the claim is "seconds, bounded
# memory" on the whole corpus's output.
#
# Usage: bench/report.sh [CORPUS_DIR]   (default ~/corpora/en_prose; *.jsonl files)
# Env: DATAMILL=path/to/datamill (default target/release/datamill, built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${1:-$HOME/corpora/en_prose}
BIN=${DATAMILL:-target/release/datamill}
if [ ! -x "$BIN" ]; then cargo build --release -q -p datamill-cli; fi
OUT=$(mktemp -d "${TMPDIR:-/tmp}/bench-report.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
source bench/lib.sh
cat > "$OUT/p.toml" <<TOML
version = 1
[input]
paths = ["$CORPUS/*.jsonl"]
[[stage]]
type = "normalize"
strip_lines = true
[[stage]]
type = "length"
min_words = 20
max_chars = 100000
[[stage]]
type = "regex"
pattern = "(?i)(copyright|all rights reserved)"
reason = "copyright"
[[stage]]
type = "exact_dedup"
[[stage]]
type = "line_dedup"
keep_first = true
[output]
dir = "$OUT/out"
excluded = true
TOML
echo "uptime: $(uptime)"
measure run "$BIN" run "$OUT/p.toml" --no-report --quiet
docs=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['input_docs'])" "$OUT/out/stats.json")
excl=$(du -sb "$OUT/out/excluded" | cut -f1)
outb=$(du -sb --exclude=excluded --exclude=.datamill "$OUT/out" | cut -f1)
report run "$docs"
measure report "$BIN" report "$OUT/out" -o "$OUT/report.html"
report report "$docs" "excluded_mb=$((excl / 1000000))" "output_mb=$((outb / 1000000))" \
  "page_kb=$(( $(stat -c %s "$OUT/report.html") / 1000 ))"
echo "uptime: $(uptime)"
