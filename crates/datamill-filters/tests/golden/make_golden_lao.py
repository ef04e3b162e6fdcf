#!/usr/bin/env python3
"""Lao golden outputs of datatrove 0.10.1's LaoTokenizer (LaoNLP 1.3.0).

Pinned oracle: make_golden.py's (Python 3.11, datatrove==0.10.1, spacy==3.8.18,
regex==2026.11.19, numpy==2.4.6) plus laonlp==1.3.0 (datatrove's multilingual extra) on
pythainlp==5.4.0 (its Trie):

    /work/lang-venv/bin/pip install --no-deps laonlp==1.3.0
    /work/lang-venv/bin/python crates/datamill-filters/tests/golden/make_golden_lao.py

datatrove tokenizes lao, lao_Laoo, lo, lo_Laoo, ncq with LaoTokenizer: words =
laonlp.tokenize.word_tokenize(text), sentences = laonlp.tokenize.sent_tokenize(text), both
stripped. Texts:
  (a) every document of ../shared/data/samples/multilingual_sample.jsonl with 20+ Lao characters,
      referenced by id;
  (b) `docs_lo.txt` beside this script: Lao messages of Debian's translations on the machine that
      made it (make_golden_thai.make_docs, locale "lo"; --make-docs once; kept);
  (c) 2,000 seeded synthetic strings: LaoNLP dictionary words run together (past the 140-character
      safe-mode window), random Lao-block characters, Lao and ASCII digits with separators, Latin
      words, `/` (LaoNLP splits its tokens there), dots and ellipses (its sentence rule),
      punctuation, odd whitespace.

Writes lao.jsonl.zst next to this script, one row per text:
  {"id" | "doc" | "text", "words", "sents", "sent_lens" (split_into_sentences with "lao_Laoo"),
   and for (a) and (b) the four filters (+ c4 with split_paragraph=False), language="lao_Laoo"}
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

LANG = "lao_Laoo"


def synth(rng, n, words):
    block = [chr(c) for c in range(0x0E80, 0x0F00)]
    other = (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789໐໑໒໓໔໕໖໗໘໙")
             + list(".,:;!?\"'()[]/%-+") + ["...", "..", ". ", ".\n", "12.5", "1,234.5", "a/b", "/", "ok", "é", "中", "ก"]
             + [" ", " ", " ", "  ", "\n", "\n\n", "\r\n", "\r", "\t", "\xa0", "\u200b", "\u3000"])
    out = []
    for _ in range(n):
        parts = []
        long_run = rng.random() < 0.15
        for _ in range(rng.randint(1, 60 if long_run else 25)):
            r = rng.random()
            if long_run or r < 0.5:
                parts.append(rng.choice(words))
            elif r < 0.65:
                parts.append("".join(rng.choice(block) for _ in range(rng.randint(1, 4))))
            else:
                parts.append(rng.choice(other))
        out.append("".join(parts))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", default=os.path.join(REPO, "..", "shared", "data", "samples", "multilingual_sample.jsonl"))
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--make-docs", action="store_true", help="(re)write docs_lo.txt from this machine's .mo files")
    args = ap.parse_args()
    check_versions()
    from importlib.metadata import version

    assert version("laonlp") == "1.3.0", version("laonlp")
    assert version("pythainlp") == "5.4.0", version("pythainlp")
    import zstandard
    from datatrove.data import Document
    from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                            GopherRepetitionFilter)
    from datatrove.utils.text import split_into_sentences
    from datatrove.utils.word_tokenizers import LaoTokenizer, load_tokenizer_assignments
    from laonlp.corpus import lao_words

    table = load_tokenizer_assignments()
    assert table[LANG].args == ("LaoTokenizer", ""), table[LANG].args
    docs_path = os.path.join(HERE, "docs_lo.txt")
    if args.make_docs:
        make_docs(docs_path, random.Random(2023), locale="lo", lo="\u0e80", hi="\u0eff")
    tok = LaoTokenizer()
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
            if sum("\u0e80" <= c <= "\u0eff" for c in text) < 20:
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
    for s in synth(random.Random(856), 2000, sorted(set(lao_words()))):
        row = {"text": s}
        row.update(row_for(s))
        rows.append(row)
    data = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in rows).encode("utf-8")
    with open(os.path.join(args.out, "lao.jsonl.zst"), "wb") as f:
        f.write(zstandard.ZstdCompressor(level=19).compress(data))
    print(f"lao.jsonl.zst: {n_sample} sample docs + {n_docs} Debian-message docs + {len(rows) - n_sample - n_docs} synthetic",
          file=sys.stderr)


if __name__ == "__main__":
    main()
