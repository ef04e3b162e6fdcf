#!/usr/bin/env bash
# Fetch jieba 0.42.1's dictionary and HMM tables (MIT, ~6 MB, not committed) for datatrove's
# Chinese word tokenizer (spaCy `zh` with the jieba segmenter: cmn_Hani, yue_Hani, wuu_Hani, ...).
#
# jieba 0.42.1 is published on PyPI as a source archive only; we download it with pip (no
# dependencies, nothing built or installed), check its sha256 and extract
#   jieba/dict.txt                      -> DEST/dict.txt   (the prefix dictionary, as is)
#   jieba/finalseg/prob_{start,trans,emit}.py -> DEST/hmm.tsv (the HMM's log-probabilities, one
#                                          `table<TAB>state<TAB>key<TAB>value` line each, values
#                                          written with Python's repr so they parse to the same
#                                          doubles)
#
# Usage: crates/datamill-filters/fetch-jieba.sh [DEST]
#   DEST defaults to <repo>/target/models/jieba (found by the tests and by a binary built in
#   <repo>/target; elsewhere set DATAMILL_TOKENIZER_DATA to the folder holding `jieba/`).
# Needs: python3 with pip.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
DEST="${1:-$REPO/target/models/jieba}"
SDIST_SHA256="055ca12f62674fafed09427f176506079bc135638a14e23e25be909131928db2"
PYTHON="${PYTHON:-python3}"

if [ -f "$DEST/dict.txt" ] && [ -f "$DEST/hmm.tsv" ] && [ -f "$DEST/VERSION" ] \
  && [ "$(cat "$DEST/VERSION")" = "jieba 0.42.1 $SDIST_SHA256" ]; then
  echo "jieba 0.42.1 data already present: $DEST"
  exit 0
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$PYTHON" -m pip download --quiet --no-deps --no-binary=:all: jieba==0.42.1 -d "$TMP"
echo "$SDIST_SHA256  $TMP/jieba-0.42.1.tar.gz" | sha256sum -c --quiet
mkdir -p "$TMP/out"
"$PYTHON" - "$TMP/jieba-0.42.1.tar.gz" "$TMP/out" <<'PY'
import ast, sys, tarfile
src, out = sys.argv[1], sys.argv[2]
with tarfile.open(src) as t:
    def read(name):
        return t.extractfile("jieba-0.42.1/jieba/" + name).read()
    open(out + "/dict.txt", "wb").write(read("dict.txt"))
    with open(out + "/hmm.tsv", "w", encoding="utf-8", newline="\n") as f:
        for table in ("start", "trans", "emit"):
            code = read("finalseg/prob_%s.py" % table).decode("utf-8")
            # the files are `P = {...}` literals: evaluate the literal only
            p = ast.literal_eval(code[code.index("P=") + 2:] if "P=" in code else code[code.index("P =") + 3:])
            for state in sorted(p):
                v = p[state]
                if isinstance(v, dict):
                    for key in sorted(v):
                        assert "\t" not in key and "\n" not in key
                        f.write("%s\t%s\t%s\t%r\n" % (table, state, key, v[key]))
                else:
                    f.write("%s\t%s\t\t%r\n" % (table, state, v))
PY
echo "jieba 0.42.1 $SDIST_SHA256" > "$TMP/out/VERSION"
mkdir -p "$DEST"
mv "$TMP/out/dict.txt" "$TMP/out/hmm.tsv" "$DEST/"
mv "$TMP/out/VERSION" "$DEST/VERSION"
echo "wrote $DEST (dict.txt, hmm.tsv)"
