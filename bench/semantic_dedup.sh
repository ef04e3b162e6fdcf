#!/usr/bin/env bash
# semantic_dedup at scale (issue 11): N stored 384-d embeddings (default 1,000,000: 1.5 GB of
# float32), run twice through the binary, without a memory budget and with --memory a quarter
# of the embeddings' size; prints each run's time and peak RSS and checks that both runs drop
# the same documents and write identical decisions.jsonl.
#
# The embeddings are synthetic (numpy, seed 0): 2,000 random directions, each document one of
# them plus Gaussian noise, and 10 % of the documents near-copies (noise 1e-3) of an earlier
# one, so the dedup has something to find. Stage: n_clusters 1000, init "random",
# kmeans_sample 100,000, max_iter 20, eps 0.01.
#
# Usage: [DATAMILL=path/to/datamill] [PYTHON=python-with-numpy] bench/semantic_dedup.sh [N]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
N="${1:-1000000}"
OUT="$REPO/bench/work/semdedup_$N"
mkdir -p "$OUT"
BIN="${DATAMILL:-$REPO/target/release/datamill}"
[ -n "${DATAMILL:-}" ] || (cd "$REPO" && cargo build --release -q -p datamill-cli)
PY="${PYTHON:-python3}"   # needs numpy
if [ ! -f "$OUT/store/meta.json" ]; then
  "$PY" - "$N" "$OUT" <<'PY'
import json, sys
import numpy as np
n, out = int(sys.argv[1]), sys.argv[2]
import os
os.makedirs(f"{out}/store", exist_ok=True)
rng = np.random.default_rng(0)
centers = rng.standard_normal((2000, 384)).astype(np.float32)
centers /= np.linalg.norm(centers, axis=1, keepdims=True)
x = np.lib.format.open_memmap(f"{out}/store/embeddings.npy", mode="w+", dtype="<f4", shape=(n, 384))
step = 100_000
for s in range(0, n, step):
    e = min(s + step, n)
    c = centers[rng.integers(0, 2000, e - s)]
    x[s:e] = c + 0.08 * rng.standard_normal((e - s, 384)).astype(np.float32)
# 10 % near-copies of an earlier document
dup = rng.choice(np.arange(1, n), n // 10, replace=False)
dup.sort()
for s in range(0, len(dup), step):
    d = dup[s:s + step]
    src = (rng.random(len(d)) * d).astype(np.int64)
    x[d] = x[src] + 1e-3 * rng.standard_normal((len(d), 384)).astype(np.float32)
x.flush()
with open(f"{out}/store/ids.jsonl", "w") as f, open(f"{out}/docs.jsonl", "w") as g:
    for i in range(n):
        f.write(f'"doc{i}"\n')
        g.write(f'{{"id":"doc{i}","text":"document {i}"}}\n')
json.dump({"format": "datamill-embeddings", "version": 1, "count": n, "dim": 384,
           "model": "synthetic", "normalized": False}, open(f"{out}/store/meta.json", "w"))
PY
fi
BYTES=$(stat -c %s "$OUT/store/embeddings.npy")
BUDGET=$((BYTES / 4))
cat > "$OUT/pipeline.toml" <<TOML
version = 1
[input]
paths = ["$OUT/docs.jsonl"]
[[stage]]
type = "semantic_dedup"
embeddings = "$OUT/store"
n_clusters = 1000
init = "random"
kmeans_sample = 100000
max_iter = 20
eps = 0.01
[output]
dir = "$OUT/run"
TOML
source "$HERE/lib.sh"
echo "machine: $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg); embeddings $BYTES bytes, budget $BUDGET"
measure unbounded "$BIN" run "$OUT/pipeline.toml" -o "$OUT/run_unbounded" --workers 2 --force --quiet
report unbounded "$N"
measure budget "$BIN" run "$OUT/pipeline.toml" -o "$OUT/run_budget" --workers 2 --force --quiet --memory "$BUDGET"
report budget "$N" "memory=$BUDGET"
cmp "$OUT/run_unbounded/reports/semantic_dedup/decisions.jsonl" "$OUT/run_budget/reports/semantic_dedup/decisions.jsonl" \
  && echo "SAME decisions.jsonl ($(grep -c '"removed":true' "$OUT/run_budget/reports/semantic_dedup/decisions.jsonl") removed of $N)"
python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print('kmeans', s['kmeans']['n_iter'], s['kmeans']['stop'], 'eps_table', [(t['eps'], t['removed_ge']) for t in s['eps_table']])" \
  "$OUT/run_budget/reports/semantic_dedup/summary.json"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
