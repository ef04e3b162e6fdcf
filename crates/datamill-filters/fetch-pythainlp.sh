#!/usr/bin/env bash
# Fetch PyThaiNLP 5.4.0's Thai word list and sentence CRF (Apache-2.0 / CC0 corpora, ~1.6 MB, not
# committed) for datatrove's ThaiTokenizer (tha, tha_Thai, th, ...: PyThaiNLP's `newmm-safe` word
# tokenizer and `crfcut` sentence splitter).
#
# PyThaiNLP 5.4.0 is a pure-Python wheel on PyPI; we download it with pip (no dependencies,
# nothing installed), check its sha256 and copy two files out of it, unchanged:
#   pythainlp/corpus/words_th.txt              -> DEST/words_th.txt   (newmm's dictionary)
#   pythainlp/corpus/sentenceseg_crfcut.model  -> DEST/sentenceseg_crfcut.model (CRFsuite model)
#
# Usage: crates/datamill-filters/fetch-pythainlp.sh [DEST]
#   DEST defaults to <repo>/target/models/pythainlp (found by the tests and by a binary built in
#   <repo>/target; elsewhere set DATAMILL_TOKENIZER_DATA to the folder holding `pythainlp/`).
# Needs: python3 with pip.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
DEST="${1:-$REPO/target/models/pythainlp}"
WHEEL=pythainlp-5.4.0-py3-none-any.whl
WHEEL_SHA256="9239753df877202da1a50dd2842d9569eff764034f31f20222b3df4def5df193"
PYTHON="${PYTHON:-python3}"

if [ -f "$DEST/words_th.txt" ] && [ -f "$DEST/sentenceseg_crfcut.model" ] && [ -f "$DEST/VERSION" ] \
  && [ "$(cat "$DEST/VERSION")" = "pythainlp 5.4.0 $WHEEL_SHA256" ]; then
  echo "PyThaiNLP 5.4.0 data already present: $DEST"
  exit 0
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: pythainlp==5.4.0 -d "$TMP"
echo "$WHEEL_SHA256  $TMP/$WHEEL" | sha256sum -c --quiet
mkdir -p "$TMP/out"
"$PYTHON" - "$TMP/$WHEEL" "$TMP/out" <<'PY'
import sys, zipfile
src, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(src) as z:
    for name in ("words_th.txt", "sentenceseg_crfcut.model"):
        with open(out + "/" + name, "wb") as f:
            f.write(z.read("pythainlp/corpus/" + name))
PY
echo "pythainlp 5.4.0 $WHEEL_SHA256" > "$TMP/out/VERSION"
mkdir -p "$DEST"
mv "$TMP/out/words_th.txt" "$TMP/out/sentenceseg_crfcut.model" "$DEST/"
mv "$TMP/out/VERSION" "$DEST/VERSION"
echo "wrote $DEST (words_th.txt, sentenceseg_crfcut.model)"
