#!/usr/bin/env bash
# MinHash near-dedup, end to end, on one input: datamill minhash_dedup vs datatrove 0.10.1 (4 stages,
# 1 worker), rensa 0.5.0 and datasketch 2.0.0 (signatures + LSH), the peer drivers in
# ../shared/tools/peers/. Prints one line per run: docs, wall s, CPU s, docs per CPU-second (per
# core), peak RSS MB, removed.
#
# Usage: bench/minhash.sh [CORPUS.jsonl]
#   Without CORPUS, a 300,000-document input is generated deterministically from the shipped
#   en_prose sample (bench/make_minhash_corpus.py) -- the output says so.
# Env: PY=python of a venv with the peers (default /tmp/mhvenv/bin/python; pinned versions in
#      ../shared/tools/peers/requirements-peers.txt), DATAMILL=binary (default: release build
#      in target/), OUT=work dir (default /tmp/minhash_bench), PEERS="rensa datasketch datatrove",
#      DT_LIMIT=N (datatrove on the first N docs only: it signs ~300 docs per CPU-second),
#      DOCS=300000 (generated input only), DM_RUNS="default w1;default w2;verify w2;compat w2".
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
PY=${PY:-/tmp/mhvenv/bin/python}
OUT=${OUT:-/tmp/minhash_bench}
PEERS=${PEERS:-rensa datasketch datatrove}
DM_RUNS=${DM_RUNS:-default w1;default w2;verify w2;compat w2}
mkdir -p "$OUT"
# shellcheck source=lib.sh
. "$HERE/lib.sh"
if [ $# -ge 1 ]; then
  IN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
  echo "input: $IN"
else
  IN=$OUT/en_prose_${DOCS:-300000}.jsonl
  [ -s "$IN" ] || python3 "$HERE/make_minhash_corpus.py" "$IN" --docs "${DOCS:-300000}"
  echo "input: $IN -- SYNTHETIC: the shipped en_prose sample (2,178 docs) repeated and perturbed"
  echo "       (bench/make_minhash_corpus.py), not the real en_prose corpus"
fi
DOCS_N=$(wc -l < "$IN")
echo "docs: $DOCS_N, bytes: $(stat -c %s "$IN")"
if [ -z "${DATAMILL:-}" ]; then
  (cd "$ROOT" && cargo build --release -q -p datamill-cli)
  DATAMILL=${CARGO_TARGET_DIR:-$ROOT/target}/release/datamill
fi

IFS=';' read -ra RUNS <<< "$DM_RUNS"
for run in "${RUNS[@]}"; do
  read -r cfg w <<< "$run"
  case $cfg in
    default) body="" ;;
    verify) body="verify = true" ;;
    compat) body='compat = "datatrove"' ;;
    *) echo "unknown run $cfg"; exit 2 ;;
  esac
  d=$OUT/datamill_${cfg}_$w
  rm -rf "$d"; mkdir -p "$d"
  cat > "$d/pipeline.toml" <<TOML
version = 1
[input]
paths = ["$IN"]
[[stage]]
type = "minhash_dedup"
$body
[output]
compression = "none"
TOML
  measure "datamill_${cfg}_$w" "$DATAMILL" run "$d/pipeline.toml" --output "$d/out" --workers "${w#w}" --quiet --force
  report "datamill_${cfg}_$w" "$DOCS_N" "removed=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['counts']['removed'])" "$d/out/reports/minhash_dedup/summary.json")"
done

for p in $PEERS; do
  case $p in
    datatrove) script=datatrove_minhash.py ;;  # DT_LIMIT handled below
    rensa) script=rensa_minhash.py ;;
    datasketch) script=datasketch_minhash.py ;;
    *) echo "unknown peer $p"; exit 2 ;;
  esac
  extra=()
  if [ "$p" = datatrove ] && [ -n "${DT_LIMIT:-}" ]; then extra=(--limit "$DT_LIMIT"); echo "datatrove: first $DT_LIMIT docs only"; fi
  measure "$p" "$PY" "$SHARED/tools/peers/$script" "$IN" "$OUT/$p" "${extra[@]}"
  n=$DOCS_N; [ "$p" = datatrove ] && [ -n "${DT_LIMIT:-}" ] && n=$DT_LIMIT
  report "$p" "$n" "removed=$(wc -l < "$OUT/$p/removed_ids.txt")"
  echo "       peer's own line: $(tail -1 "$OUT/$p.log")"
done

# compat = "datatrove" must remove exactly datatrove's ids (when datatrove saw the whole input).
if [ -s "$OUT/datatrove/removed_ids.txt" ] && [ -z "${DT_LIMIT:-}" ] \
   && [ -s "$OUT/datamill_compat_w2/out/reports/minhash_dedup/clusters.jsonl" ]; then
  python3 - "$OUT/datamill_compat_w2/out/reports/minhash_dedup/clusters.jsonl" "$OUT/datatrove/removed_ids.txt" <<'PY'
import json, sys
ours = set()
for line in open(sys.argv[1], encoding="utf-8"):
    c = json.loads(line)
    ours |= {m for m in c["members"] if m != c["kept"]}
theirs = set(open(sys.argv[2], encoding="utf-8").read().splitlines())
print(f"COMPAT datamill={len(ours)} datatrove={len(theirs)} common={len(ours & theirs)} identical={ours == theirs}")
PY
fi
