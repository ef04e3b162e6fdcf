#!/usr/bin/env bash
# Fetch LaoNLP 1.3.0's word list (Apache-2.0 and the dictionaries' own licences, ~0.5 MB, not
# committed) for datatrove's LaoTokenizer (lao, lao_Laoo, lo, lo_Laoo, ncq:
# `laonlp.tokenize.word_tokenize`, dictionary maximal matching).
#
# LaoNLP 1.3.0 is a pure-Python wheel on PyPI; we download it with pip (no dependencies, nothing
# installed), check its sha256 and write DEST/lao_words.json: `lao_words()` of
# laonlp/corpus/lao_words.py computed from the four word files in the wheel exactly as it does
# (utf-8-sig, lines not starting with '#', stripped, union), sorted, as a JSON list.
#
# Usage: crates/datamill-filters/fetch-laonlp.sh [DEST]
#   DEST defaults to <repo>/target/models/laonlp (found by the tests and by a binary built in
#   <repo>/target; elsewhere set DATAMILL_TOKENIZER_DATA to the folder holding `laonlp/`).
# Needs: python3 with pip.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
DEST="${1:-$REPO/target/models/laonlp}"
WHEEL=laonlp-1.3.0-py3-none-any.whl
WHEEL_SHA256="cc88a5a39bb543fd7fdb2cf8f44f0bde550678160f9bd3a36922ebf7ccf65cf9"
PYTHON="${PYTHON:-python3}"

if [ -f "$DEST/lao_words.json" ] && [ -f "$DEST/VERSION" ] \
  && [ "$(cat "$DEST/VERSION")" = "laonlp 1.3.0 $WHEEL_SHA256" ]; then
  echo "LaoNLP 1.3.0 data already present: $DEST"
  exit 0
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: laonlp==1.3.0 -d "$TMP"
echo "$WHEEL_SHA256  $TMP/$WHEEL" | sha256sum -c --quiet
mkdir -p "$TMP/out"
"$PYTHON" - "$TMP/$WHEEL" "$TMP/out" <<'PY'
import io, json, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
words = set()
with zipfile.ZipFile(src) as z:
    for name in ("Lao-Dictionary.txt", "lo_spellcheck_dict.txt", "lao-wannaphong.txt", "wiktionary-20210720.txt"):
        text = z.read("laonlp/corpus/" + name).decode("utf-8-sig")
        # f.readlines() in text mode: universal newlines
        lines = io.StringIO(text, newline=None).readlines()
        words.update(i.strip() for i in lines if i[0] != "#")
with open(out + "/lao_words.json", "w", encoding="utf-8") as f:
    json.dump(sorted(words), f, ensure_ascii=False, indent=0)
PY
echo "laonlp 1.3.0 $WHEEL_SHA256" > "$TMP/out/VERSION"
mkdir -p "$DEST"
mv "$TMP/out/lao_words.json" "$DEST/"
mv "$TMP/out/VERSION" "$DEST/VERSION"
echo "wrote $DEST (lao_words.json)"
