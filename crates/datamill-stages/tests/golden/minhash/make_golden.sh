#!/usr/bin/env bash
# Regenerates the minhash_dedup golden outputs: datatrove 0.10.1's 4-stage MinHash dedup
# (MinhashConfig() defaults: simplify_text + spaCy blank "en" words, 5-grams, xxhash64,
# 14 buckets x 8 hashes, seed 1; 1 task per stage) on the shared samples, through the peer
# driver ../shared/tools/peers/datatrove_minhash.py.
#
# Usage: make_golden.sh [PYTHON]
#   PYTHON: an interpreter with datatrove==0.10.1 spacy==3.8.18 xxhash==3.8.2 numpy==2.4.6
#   (e.g. a venv made with `pip install -c ../shared/tools/peers/requirements-peers.txt
#    datatrove==0.10.1 spacy==3.8.18 xxhash==3.8.2 numpy==2.4.6`).
# Writes, next to this script, for each sample S: S.removed.txt (removed ids, input order),
# S.clusters.jsonl (datatrove's clusters: {"cluster","size","kept","members"}) and versions.txt.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../../../.." && pwd)          # the repository
SHARED=${SHARED:-$ROOT/../shared}
PY=${1:-python3}
for s in neardup_sample en_prose_sample; do
  tmp=$(mktemp -d)
  "$PY" "$SHARED/tools/peers/datatrove_minhash.py" "$SHARED/data/samples/$s.jsonl" "$tmp" | tail -1
  cp "$tmp/removed_ids.txt" "$HERE/$s.removed.txt"
  cp "$tmp/clusters.jsonl" "$HERE/$s.clusters.jsonl"
  rm -rf "$tmp"
done
"$PY" - > "$HERE/versions.txt" <<'PY'
import sys, importlib.metadata as m
print("python", sys.version.split()[0])
for p in ("datatrove", "spacy", "numpy", "xxhash"):
    print(p, m.version(p))
PY
