#!/usr/bin/env bash
# Embedding throughput (issue 11): all-MiniLM-L6-v2 on the same N en_prose documents,
# sentence-transformers 6.2.0 (PyTorch 2.15.0 CPU, fp32, torch.set_num_threads(1)) vs
# datamill-embed (one thread), both with batches of BATCH documents sorted by length, in one
# run; then the parity of the two outputs (lowest cosine) and datamill's `embed` stage through
# the binary (one worker: documents one at a time, no batching).
#
# Usage: bench/embed.sh [CORPUS_DIR] [N] [BATCH]
#   CORPUS_DIR: *.jsonl shards (default ~/corpora/en_prose, see docs/benchmarks.md); N
#   documents drawn with seed 0 (default 10000); BATCH default 32.
# Env: ST_VENV = a venv with bench/st_embed.py's packages (default bench/work/stvenv, created
#   with the pinned versions of crates/datamill-embed/tests/golden/requirements.txt: torch from
#   PyPI is ~6 GB with its CUDA libraries); MODEL = the model folder (default
#   target/models/all-MiniLM-L6-v2, fetched by crates/datamill-embed/fetch-minilm.sh).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
CORPUS="${1:-$HOME/corpora/en_prose}"
N="${2:-10000}"
BATCH="${3:-32}"
WORK="$REPO/bench/work"
OUT="$WORK/embed"
mkdir -p "$OUT"
MODEL="${MODEL:-$REPO/target/models/all-MiniLM-L6-v2}"
[ -f "$MODEL/model.safetensors" ] || bash "$REPO/crates/datamill-embed/fetch-minilm.sh" "$MODEL"
VENV="${ST_VENV:-$WORK/stvenv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$REPO/crates/datamill-embed/tests/golden/requirements.txt"
fi
(cd "$REPO" && cargo build --release -q -p datamill-embed --example embed_jsonl && cargo build --release -q -p datamill-cli)

INPUT="$WORK/embed_input_$N.jsonl"
if [ ! -f "$INPUT" ]; then
  python3 - "$CORPUS" "$N" "$INPUT" <<'PY'
import glob, json, random, sys
corpus, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lines = []
for f in sorted(glob.glob(f"{corpus}/*.jsonl")):
    with open(f, encoding="utf-8") as fh:
        lines.extend(l for l in fh if json.loads(l)["text"].strip())
random.Random(0).shuffle(lines)
with open(out, "w", encoding="utf-8") as fh:
    fh.writelines(lines[:n])
PY
fi

echo "machine: $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
OMP_NUM_THREADS=1 "$VENV/bin/python" "$HERE/st_embed.py" "$MODEL" "$INPUT" "$N" "$BATCH" "$OUT/st.f32" 2>/dev/null | grep RESULT
"$REPO/target/release/examples/embed_jsonl" "$MODEL" "$INPUT" "$N" "$BATCH" "$OUT/datamill.f32" | grep RESULT
"$VENV/bin/python" - "$OUT/st.f32" "$OUT/datamill.f32" <<'PY'
import sys
import numpy as np
a = np.fromfile(sys.argv[1], "<f4").reshape(-1, 384).astype(np.float64)
b = np.fromfile(sys.argv[2], "<f4").reshape(-1, 384).astype(np.float64)
cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
print(f"PARITY docs={len(cos)} min_cosine={cos.min():.9f} mean_cosine={cos.mean():.9f}")
PY
# The embed stage through the binary, one worker.
cat > "$OUT/pipeline.toml" <<TOML
version = 1
[input]
paths = ["$INPUT"]
[[stage]]
type = "embed"
model = "$MODEL"
[output]
dir = "$OUT/run"
TOML
source "$HERE/lib.sh"
measure stage "$REPO/target/release/datamill" run "$OUT/pipeline.toml" --workers 1 --force --quiet
report stage "$N"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
