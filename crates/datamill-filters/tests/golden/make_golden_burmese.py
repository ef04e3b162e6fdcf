#!/usr/bin/env python3
"""Burmese golden outputs of datatrove 0.10.1's BurmeseTokenizer (pyidaungsu 0.1.4, word form).

Pinned oracle: make_golden.py's (Python 3.11, datatrove==0.10.1, spacy==3.8.18,
regex==2026.11.19, numpy==2.4.6) plus pyidaungsu-numpy2==0.1.4 (datatrove's multilingual extra)
with what its import needs: python-crfsuite==0.9.12, emoji==2.15.0, fasttext-numpy2-wheel==0.9.2:

    /work/lang-venv/bin/pip install --no-deps pyidaungsu-numpy2==0.1.4
    /work/lang-venv/bin/pip install python-crfsuite==0.9.12 emoji==2.15.0 fasttext-numpy2-wheel==0.9.2
    /work/lang-venv/bin/python crates/datamill-filters/tests/golden/make_golden_burmese.py

datatrove tokenizes mya, mya_Mymr, my, shn, ksw, mnw, ... with BurmeseTokenizer: words =
pyidaungsu.tokenize(text, form="word") stripped; sentences = WhitespaceTokenizer's regex (already
covered by golden_langs). Texts:
  (a) every document of ../shared/data/samples/multilingual_sample.jsonl with 20+ Myanmar-block
      characters (UDHR in Burmese, Mon, Shan), referenced by id;
  (b) `docs_my.txt` beside this script: Burmese messages of Debian's translations on the machine
      that made it (make_golden_thai.make_docs, locale "my"; --make-docs once; kept);
  (c) 2,000 seeded synthetic strings: Myanmar-block letters, vowels, medials, asat/virama and
      digits at random and in syllable shapes, Latin words, numbers, punctuation, spaces and odd
      whitespace.

Writes burmese.jsonl.zst next to this script, one row per text:
  {"id" | "doc" | "text", "words": BurmeseTokenizer().word_tokenize(text), and for (a) and (b)
   gopher_quality / gopher_repetition / fineweb_quality / c4_quality (language="mya_Mymr",
   datatrove defaults): "kept" or the reason, "c4_quality_text" where C4 rewrote the text}
"""
import argparse
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CRATE = os.path.dirname(os.path.dirname(HERE))
REPO = os.path.dirname(os.path.dirname(CRATE))
sys.path.insert(0, HERE)

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from make_golden import check_versions, run  # noqa: E402
from make_golden_thai import make_docs  # noqa: E402

LANG = "mya_Mymr"


def synth(rng, n):
    block = [chr(c) for c in range(0x1000, 0x10A0)]
    cons = [chr(c) for c in range(0x1000, 0x1022)]
    signs = [chr(c) for c in range(0x102B, 0x103F)]
    other = (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789၀၁၂၃၄၅၆၇၈၉")
             + list(".,:;!?\"'()[]/%-+၊။") + ["12:30", "1,234.5", "ok", "Linux", "%s", "é", "中", "😀", "ก"]
             + [" ", " ", " ", "  ", "\n", "\n\n", "\r\n", "\t", "\xa0", "\u200b", "\u3000"])
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 30)):
            r = rng.random()
            if r < 0.5:
                parts.append(rng.choice(cons) + "".join(rng.choice(signs) for _ in range(rng.randint(0, 3))))
            elif r < 0.7:
                parts.append("".join(rng.choice(block) for _ in range(rng.randint(1, 4))))
            else:
                parts.append(rng.choice(other))
        out.append("".join(parts))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", default=os.path.join(REPO, "..", "shared", "data", "samples", "multilingual_sample.jsonl"))
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--make-docs", action="store_true", help="(re)write docs_my.txt from this machine's .mo files")
    args = ap.parse_args()
    check_versions()
    from importlib.metadata import version

    assert version("pyidaungsu-numpy2") == "0.1.4", version("pyidaungsu-numpy2")
    assert version("python-crfsuite") == "0.9.12", version("python-crfsuite")
    import zstandard
    from datatrove.data import Document
    from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                            GopherRepetitionFilter)
    from datatrove.utils.word_tokenizers import BurmeseTokenizer, load_tokenizer_assignments

    table = load_tokenizer_assignments()
    assert table[LANG].args == ("BurmeseTokenizer", ""), table[LANG].args
    docs_path = os.path.join(HERE, "docs_my.txt")
    if args.make_docs:
        make_docs(docs_path, random.Random(2021), locale="my", lo="\u1000", hi="\u109f")
    tok = BurmeseTokenizer()
    filters = {
        "gopher_quality": GopherQualityFilter(language=LANG),
        "gopher_repetition": GopherRepetitionFilter(language=LANG),
        "fineweb_quality": FineWebQualityFilter(language=LANG),
        "c4_quality": C4QualityFilter(language=LANG),
    }

    def filtered(row, text, id_):
        for name, filt in filters.items():
            doc = Document(text=text, id=str(id_))
            row[name] = run(filt, doc)
            if name == "c4_quality" and row[name] == "kept" and doc.text != text:
                row[name + "_text"] = doc.text
        return row

    rows = []
    with open(args.input, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            text = r["text"]
            if sum("\u1000" <= c <= "\u109f" for c in text) < 20:
                continue
            rows.append(filtered({"id": r["id"], "words": tok.word_tokenize(text)}, text, r["id"]))
    n_sample = len(rows)
    with open(docs_path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            text = json.loads(line)
            rows.append(filtered({"doc": i, "words": tok.word_tokenize(text)}, text, i))
    n_docs = len(rows) - n_sample
    for s in synth(random.Random(95), 2000):
        rows.append({"text": s, "words": tok.word_tokenize(s)})
    data = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in rows).encode("utf-8")
    with open(os.path.join(args.out, "burmese.jsonl.zst"), "wb") as f:
        f.write(zstandard.ZstdCompressor(level=19).compress(data))
    print(f"burmese.jsonl.zst: {n_sample} sample docs + {n_docs} Debian-message docs + {len(rows) - n_sample - n_docs} synthetic",
          file=sys.stderr)


if __name__ == "__main__":
    main()
