#!/usr/bin/env python3
"""Indic NLP Library golden outputs of datatrove 0.10.1 (IndicNLPTokenizer) for datamill-filters.

Pinned oracle: make_golden.py's (Python 3.11, datatrove==0.10.1, spacy==3.8.18,
regex==2026.11.19, numpy==2.4.6) plus indic-nlp-library==0.92 (and pandas, which its
transliterator imports):

    /work/lang-venv/bin/pip install --no-deps indic-nlp-library==0.92 && /work/lang-venv/bin/pip install pandas
    /work/lang-venv/bin/python crates/datamill-filters/tests/golden/make_golden_indic.py   # ~1 min

Texts: every document of ../shared/data/samples/multilingual_sample.jsonl in a Brahmi or
Arabic-script language datatrove gives to IndicNLPTokenizer, run through every one of its 16
language arguments (hi, ur, ne, te, mr, or, bn, kn, ml, si, ta, gu, pa, sa, as, kK), and 1,500
seeded synthetic strings per argument (numbers with separators, dandas, `.`, abbreviations and
initials, punctuation, tabs and newlines).

Writes indic.jsonl.zst next to this script:
  {"lang": argument, "id" | "text", "words": word_tokenize, "sents": [len(piece) for piece in
   split_into_sentences] or "ValueError" (datatrove raises) — absent for "ur" (urduhack)}
and for each sample document under its own datatrove code:
  {"id", "language": code, gopher_quality / gopher_repetition / fineweb_quality / c4_quality:
   "kept" | reason | "error:ValueError", "c4_quality_text"} (no c4_quality for Urdu codes).
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
from make_golden_langs import dt_language  # noqa: E402

ARGS = ["hi", "ur", "ne", "te", "mr", "or", "bn", "kn", "ml", "si", "ta", "gu", "pa", "sa", "as", "kK"]


def synth(rng, letters, n):
    from indicnlp.tokenize.sentence_tokenize import is_acronym_abbvr  # noqa: F401
    pieces = (letters * 3 + ["।", "॥", ".", ". ", "?", "!", ",", " , ", ":", "/", "-", "(", ")", "'", '"', "%",
                              "1", "12", "3.5", "1 , 000", "2,50,000", "10:30", "1/2", "12 . 5", "१२", "३.४",
                              "डॉ.", "श्री.", "ए.", "बी.", "के.", "कु.", "Dr.", "U.S.", "abc", "x1",
                              " ", " ", " ", "  ", "\t", "\n", "\u00a0", "\u200c", "\u200d", "꫰", "꯫", "᱾",
                              "،", "۔", "؟", "٪"])
    out = []
    for _ in range(n):
        out.append("".join(rng.choice(pieces) for _ in range(rng.randint(1, 30))))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", default=os.path.join(REPO, "..", "shared", "data", "samples", "multilingual_sample.jsonl"))
    ap.add_argument("--out", default=HERE)
    args = ap.parse_args()
    check_versions()
    from importlib.metadata import version

    assert version("indic-nlp-library") == "0.92", version("indic-nlp-library")
    import zstandard
    from datatrove.data import Document
    from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                            GopherRepetitionFilter)
    from datatrove.utils.word_tokenizers import IndicNLPTokenizer, load_tokenizer_assignments
    from indicnlp import langinfo

    table = load_tokenizer_assignments()
    assert sorted({f.args[1] for f in table.values() if f.args[0] == "IndicNLPTokenizer"}) == sorted(ARGS)
    docs = []
    with open(args.input, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            key = dt_language(r, table)
            if key and table[key].args[0] == "IndicNLPTokenizer":
                docs.append((key, r))
    print(len(docs), "docs", file=sys.stderr)

    def split_sents(tok, text):
        # datatrove's split_into_parts(SENTENCE) with this tokenizer
        try:
            spans = [b for _, b in tok.span_tokenize(text)]
        except ValueError:
            return "ValueError"
        return [len(text[a:b]) for a, b in zip([0] + spans[:-1], spans[:-1] + [len(text)])]

    rows = []
    rng = random.Random(61)
    for lang in ARGS:
        tok = IndicNLPTokenizer(lang)
        texts = [("id", r["id"], r["text"]) for _, r in docs]
        if lang in langinfo.SCRIPT_RANGES:
            base = langinfo.SCRIPT_RANGES[lang][0]
            letters = [chr(base + o) for o in range(0x05, 0x6f) if chr(base + o).isprintable()]
        else:
            letters = [chr(c) for c in range(0x0621, 0x064b)]
        texts += [("text", s, s) for s in synth(rng, letters, 1500)]
        for kind, key, text in texts:
            row = {"lang": lang, kind: key, "words": tok.word_tokenize(text)}
            if lang != "ur":
                row["sents"] = split_sents(tok, text)
            rows.append(row)
        print(lang, file=sys.stderr, flush=True)

    for key, r in docs:
        text = r["text"]
        row = {"id": r["id"], "language": key}
        runs = {"gopher_quality": GopherQualityFilter(language=key),
                "gopher_repetition": GopherRepetitionFilter(language=key),
                "fineweb_quality": FineWebQualityFilter(language=key)}
        if table[key].args[1] != "ur":
            runs["c4_quality"] = C4QualityFilter(language=key)
        for name, filt in runs.items():
            doc = Document(text=text, id=str(r["id"]))
            try:
                row[name] = run(filt, doc)
            except ValueError:
                row[name] = "error:ValueError"
            if name == "c4_quality" and row[name] == "kept" and doc.text != text:
                row["c4_quality_text"] = doc.text
        rows.append(row)

    data = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in rows).encode("utf-8")
    with open(os.path.join(args.out, "indic.jsonl.zst"), "wb") as f:
        f.write(zstandard.ZstdCompressor(level=19).compress(data))
    print("indic.jsonl.zst", len(rows), file=sys.stderr)


if __name__ == "__main__":
    main()
