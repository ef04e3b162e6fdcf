#!/usr/bin/env bash
# Pass-through benchmark (issue 2): datamill reading .jsonl.zst and writing .jsonl.zst with no
# stages, against the physical limit `zstd -dc | zstd -q` on the same files, in one run.
#
# Usage: bench/passthrough.sh [CORPUS_DIR] [WORK_DIR]
#   CORPUS_DIR: folder of *.jsonl shards (default ~/corpora/en_prose, built by
#               ../shared/tools/corpora/build_en_prose.py; any shard subset works)
#   WORK_DIR:   scratch space (default bench/work)
# Prints: docs/s and MB/s per CPU-second for datamill and for the zstd pipeline, the ratio,
# wall time with 1 and 2 workers, and peak RSS on the full input and on a quarter of it.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
CORPUS="${1:-$HOME/corpora/en_prose}"
WORK="${2:-$REPO/bench/work}"
BIN="$REPO/target/release/datamill"
LEVEL=3
BLOCK=16MB   # zstd --block-size: independent frames, so one big file is several work units

command -v zstd >/dev/null || { echo "needs the zstd CLI (apt-get install zstd)"; exit 1; }
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)"; exit 1; }
ls "$CORPUS"/*.jsonl >/dev/null 2>&1 || { echo "no *.jsonl in $CORPUS"; exit 1; }
(cd "$REPO" && cargo build --release -q -p datamill-cli)

mkdir -p "$WORK/in-full" "$WORK/in-quarter"
for f in "$CORPUS"/*.jsonl; do
  b="$(basename "$f")"
  [ -f "$WORK/in-full/$b.zst" ] || zstd -q -$LEVEL --block-size=$BLOCK "$f" -o "$WORK/in-full/$b.zst"
  if [ ! -f "$WORK/in-quarter/$b.zst" ]; then
    n=$(( $(wc -l < "$f") / 4 ))
    head -n "$n" "$f" | zstd -q -$LEVEL --block-size=$BLOCK -o "$WORK/in-quarter/$b.zst"
  fi
done
docs=$(cat "$CORPUS"/*.jsonl | wc -l)
bytes=$(cat "$CORPUS"/*.jsonl | wc -c)
echo "input: $CORPUS — $docs docs, $(( bytes / 1000000 )) MB uncompressed, $(du -sm "$WORK/in-full" | cut -f1) MB as .jsonl.zst (level $LEVEL, frames of $BLOCK)"

# cpu_seconds CMD... -> prints "user+sys wall maxrss_kb"
measure() {
  /usr/bin/time -f "%U %S %e %M" -o "$WORK/time.txt" "$@" >/dev/null 2>&1
  awk '{printf "%.2f %.2f %d\n", $1+$2, $3, $4}' "$WORK/time.txt"
}

pipeline() { # $1 input dir, $2 output dir
  cat > "$WORK/p.toml" <<TOML
version = 1
[input]
paths = ["$1/*.jsonl.zst"]
[output]
dir = "$2"
compression = "zstd"
level = $LEVEL
TOML
}

echo
echo "== physical limit: zstd -dc | zstd -q -$LEVEL (two processes; CPU of both counted)"
read -r lcpu lwall _ < <(measure bash -c "for f in '$WORK'/in-full/*.zst; do zstd -dc \"\$f\" | zstd -q -$LEVEL -c > /dev/null; done")
echo "limit:    cpu ${lcpu}s  wall ${lwall}s  $(awk -v b="$bytes" -v c="$lcpu" 'BEGIN{printf "%.0f MB/s per core", b/1e6/c}')  $(awk -v d="$docs" -v c="$lcpu" 'BEGIN{printf "%.0f docs/s per core", d/c}')"

declare -A WALL
for w in 1 2; do
  rm -rf "$WORK/out"; pipeline "$WORK/in-full" "$WORK/out"
  read -r cpu wall rss < <(measure "$BIN" run "$WORK/p.toml" --workers $w --quiet)
  WALL[$w]=$wall
  echo "datamill --workers $w: cpu ${cpu}s  wall ${wall}s  peak RSS $(( rss / 1024 )) MB  $(awk -v b="$bytes" -v c="$cpu" 'BEGIN{printf "%.0f MB/s per core", b/1e6/c}')  $(awk -v d="$docs" -v c="$cpu" 'BEGIN{printf "%.0f docs/s per core", d/c}')"
  [ "$w" = 1 ] && dcpu=$cpu
done
out_docs=$(python3 -c "import json;print(json.load(open('$WORK/out/stats.json'))['output_docs'])")
[ "$out_docs" = "$docs" ] || { echo "pass-through lost documents: $out_docs of $docs"; exit 1; }
echo
echo "datamill per core vs limit per core: $(awk -v a="$lcpu" -v b="$dcpu" 'BEGIN{printf "%.0f %%", 100*a/b}')   (target >= 70 %)"
echo "speed-up 1 -> 2 workers (wall):      $(awk -v a="${WALL[1]}" -v b="${WALL[2]}" 'BEGIN{printf "%.2fx", a/b}')   (target >= 1.8x)"

rm -rf "$WORK/out"; pipeline "$WORK/in-quarter" "$WORK/out"
read -r _ _ rssq < <(measure "$BIN" run "$WORK/p.toml" --workers 2 --quiet)
rm -rf "$WORK/out"; pipeline "$WORK/in-full" "$WORK/out"
read -r _ _ rssf < <(measure "$BIN" run "$WORK/p.toml" --workers 2 --quiet)
echo "peak RSS, 2 workers: quarter input $(( rssq / 1024 )) MB, full input $(( rssf / 1024 )) MB   (target: no growth with input size)"
rm -rf "$WORK/out"
