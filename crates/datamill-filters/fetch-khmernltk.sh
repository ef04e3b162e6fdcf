#!/usr/bin/env bash
# Fetch khmer-nltk 1.6's word-segmentation CRF and text-correction table (Apache-2.0, ~18 MB,
# not committed) for datatrove's KhmerTokenizer (khm, khm_Khmr, km, cmo_Khmr:
# `khmernltk.word_tokenize(text, return_tokens=True)`).
#
# khmer-nltk 1.6 is a pure-Python wheel on PyPI; we download it with pip (no dependencies,
# nothing installed), check its sha256 and write
#   DEST/word_crf.crfsuite  the CRFsuite model inside khmernltk/word_tokenize/sklearn_crf_ner_10000.sav
#                           (a pickled sklearn_crfsuite.CRF: its FileResource's bytes, read with an
#                           unpickler that builds plain stand-in objects and runs no code of the
#                           package)
#   DEST/corrections.json   khmernltk/utils/constants.py's mistokenized_dict, in order
#                           (ast.literal_eval of the literal)
#
# Usage: crates/datamill-filters/fetch-khmernltk.sh [DEST]
#   DEST defaults to <repo>/target/models/khmernltk (found by the tests and by a binary built in
#   <repo>/target; elsewhere set DATAMILL_TOKENIZER_DATA to the folder holding `khmernltk/`).
# Needs: python3 with pip.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
DEST="${1:-$REPO/target/models/khmernltk}"
WHEEL=khmer_nltk-1.6-py3-none-any.whl
WHEEL_SHA256="d3474a06faf07b7b5bb40922377dd2433aa0db79eff9155b0087783355e7921d"
PYTHON="${PYTHON:-python3}"

if [ -f "$DEST/word_crf.crfsuite" ] && [ -f "$DEST/corrections.json" ] && [ -f "$DEST/VERSION" ] \
  && [ "$(cat "$DEST/VERSION")" = "khmer-nltk 1.6 $WHEEL_SHA256" ]; then
  echo "khmer-nltk 1.6 data already present: $DEST"
  exit 0
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: khmer-nltk==1.6 -d "$TMP"
echo "$WHEEL_SHA256  $TMP/$WHEEL" | sha256sum -c --quiet
mkdir -p "$TMP/out"
"$PYTHON" - "$TMP/$WHEEL" "$TMP/out" <<'PY'
import ast, io, json, pickle, sys, zipfile
src, out = sys.argv[1], sys.argv[2]


class Stand:
    def __init__(self, *a, **k):
        pass

    def __setstate__(self, state):
        self.__dict__.update(state if isinstance(state, dict) else {"state": state})


class Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module.split(".")[0] in ("sklearn_crfsuite", "pycrfsuite"):
            return type(name, (Stand,), {})
        if module in ("builtins", "collections", "copyreg", "_codecs"):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"unexpected {module}.{name}")


with zipfile.ZipFile(src) as z:
    crf = Unpickler(io.BytesIO(z.read("khmernltk/word_tokenize/sklearn_crf_ner_10000.sav"))).load()
    model = crf.__dict__["modelfile"].__dict__["__FILE_RESOURCE_DATA__"]
    assert model[:4] == b"lCRF", model[:4]
    with open(out + "/word_crf.crfsuite", "wb") as f:
        f.write(model)
    code = z.read("khmernltk/utils/constants.py").decode("utf-8")
    tree = ast.parse(code)
    table = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["mistokenized_dict"]:
            table = ast.literal_eval(node.value)
    assert table, "mistokenized_dict not found"
    with open(out + "/corrections.json", "w", encoding="utf-8") as f:
        json.dump(list(table.items()), f, ensure_ascii=False, indent=0)
PY
echo "khmer-nltk 1.6 $WHEEL_SHA256" > "$TMP/out/VERSION"
mkdir -p "$DEST"
mv "$TMP/out/word_crf.crfsuite" "$TMP/out/corrections.json" "$DEST/"
mv "$TMP/out/VERSION" "$DEST/VERSION"
echo "wrote $DEST (word_crf.crfsuite, corrections.json)"
