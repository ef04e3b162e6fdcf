#!/usr/bin/env python3
"""Khmer golden outputs of datatrove 0.10.1's KhmerTokenizer (khmer-nltk 1.6).

Pinned oracle: make_golden.py's (Python 3.11, datatrove==0.10.1, spacy==3.8.18,
regex==2026.11.19, numpy==2.4.6) plus khmer-nltk==1.6 (datatrove's multilingual extra) with
sklearn-crfsuite==0.5.0, python-crfsuite==0.9.12, scikit-learn==1.9.1, tqdm:

    /work/lang-venv/bin/pip install khmer-nltk==1.6 sklearn-crfsuite==0.5.0 python-crfsuite==0.9.12
    /work/lang-venv/bin/python crates/datamill-filters/tests/golden/make_golden_khmer.py

datatrove tokenizes khm, khm_Khmr, km, km_Khmr, cmo_Khmr with KhmerTokenizer: words =
khmernltk.word_tokenize(text, return_tokens=True), sentences = khmernltk.sentence_tokenize(text),
both stripped. Texts:
  (a) every document of ../shared/data/samples/multilingual_sample.jsonl with 20+ Khmer
      characters, referenced by id;
  (b) `docs_km.txt` beside this script: Khmer messages of Debian's translations on the machine
      that made it (make_golden_thai.make_docs, locale "km"; --make-docs once; kept);
  (c) 2,000 seeded synthetic strings: Khmer consonants with vowels, subscripts and diacritics,
      random Khmer-block characters, Khmer and ASCII digits, Latin words, punctuation, sentence
      separators (។ ៕ ? ! ...), U+200B, odd whitespace, and the correction table's keys.

Writes khmer.jsonl.zst next to this script, one row per text:
  {"id" | "doc" | "text", "words": KhmerTokenizer().word_tokenize(text), "sents":
   KhmerTokenizer().sent_tokenize(text), "sent_lens": [len(s) for s in split_into_sentences(text,
   "khm_Khmr")], and for (a) and (b) gopher_quality / gopher_repetition / fineweb_quality /
   c4_quality / c4_quality_sentences (split_paragraph=False), language="khm_Khmr": "kept" or the
   reason, "<filter>_text" where C4 rewrote the text}
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

LANG = "khm_Khmr"


def synth(rng, n, corrections):
    block = [chr(c) for c in range(0x1780, 0x1800)] + [chr(c) for c in range(0x19E0, 0x1A00)]
    cons = [chr(c) for c in range(0x1780, 0x17A3)]
    signs = [chr(c) for c in range(0x17B6, 0x17D4)]
    other = (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789០១២៣៤៥៦៧៨៩")
             + list(".,:;!?\"'()[]/%-+។៕៖ៗ៘៙៚៛◌") + ["12:30", "ok", "Linux", "%s", "é", "İ", "中", "😀", "ก"]
             + [" ", " ", " ", "  ", "   ", "\n", "\n\n", "\r\n", "\t", "\xa0", "\u200b", "\u200b\u200b", "\u2028",
                "\u200a", "\u3000"])
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 30)):
            r = rng.random()
            if r < 0.45:
                parts.append(rng.choice(cons) + "".join(rng.choice(signs + ["្" + rng.choice(cons)]) for _ in range(rng.randint(0, 3))))
            elif r < 0.55:
                parts.append("".join(rng.choice(block) for _ in range(rng.randint(1, 4))))
            elif r < 0.62:
                parts.append(rng.choice(corrections))
            else:
                parts.append(rng.choice(other))
        out.append("".join(parts))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", default=os.path.join(REPO, "..", "shared", "data", "samples", "multilingual_sample.jsonl"))
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--make-docs", action="store_true", help="(re)write docs_km.txt from this machine's .mo files")
    args = ap.parse_args()
    check_versions()
    from importlib.metadata import version

    assert version("khmer-nltk") == "1.6", version("khmer-nltk")
    assert version("python-crfsuite") == "0.9.12", version("python-crfsuite")
    assert version("sklearn-crfsuite") == "0.5.0", version("sklearn-crfsuite")
    import zstandard
    from datatrove.data import Document
    from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                            GopherRepetitionFilter)
    from datatrove.utils.text import split_into_sentences
    from datatrove.utils.word_tokenizers import KhmerTokenizer, load_tokenizer_assignments
    from khmernltk.utils.constants import mistokenized_dict

    table = load_tokenizer_assignments()
    assert table[LANG].args == ("KhmerTokenizer", ""), table[LANG].args
    docs_path = os.path.join(HERE, "docs_km.txt")
    if args.make_docs:
        make_docs(docs_path, random.Random(2022), locale="km", lo="\u1780", hi="\u17ff")
    tok = KhmerTokenizer()
    filters = {
        "gopher_quality": GopherQualityFilter(language=LANG),
        "gopher_repetition": GopherRepetitionFilter(language=LANG),
        "fineweb_quality": FineWebQualityFilter(language=LANG),
        "c4_quality": C4QualityFilter(language=LANG),
        "c4_quality_sentences": C4QualityFilter(language=LANG, split_paragraph=False),
    }

    def row_for(text):
        return {"words": tok.word_tokenize(text), "sents": tok.sent_tokenize(text),
                "sent_lens": [len(s) for s in split_into_sentences(text, LANG)]}

    def filtered(row, text, id_):
        for name, filt in filters.items():
            doc = Document(text=text, id=str(id_))
            row[name] = run(filt, doc)
            if name.startswith("c4_quality") and row[name] == "kept" and doc.text != text:
                row[name + "_text"] = doc.text
        return row

    rows = []
    with open(args.input, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            text = r["text"]
            if sum("\u1780" <= c <= "\u17ff" for c in text) < 20:
                continue
            row = {"id": r["id"]}
            row.update(row_for(text))
            rows.append(filtered(row, text, r["id"]))
    n_sample = len(rows)
    with open(docs_path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            text = json.loads(line)
            row = {"doc": i}
            row.update(row_for(text))
            rows.append(filtered(row, text, i))
    n_docs = len(rows) - n_sample
    for s in synth(random.Random(17), 2000, sorted(mistokenized_dict)):
        row = {"text": s}
        row.update(row_for(s))
        rows.append(row)
    data = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in rows).encode("utf-8")
    with open(os.path.join(args.out, "khmer.jsonl.zst"), "wb") as f:
        f.write(zstandard.ZstdCompressor(level=19).compress(data))
    print(f"khmer.jsonl.zst: {n_sample} sample docs + {n_docs} Debian-message docs + {len(rows) - n_sample - n_docs} synthetic",
          file=sys.stderr)


if __name__ == "__main__":
    main()
