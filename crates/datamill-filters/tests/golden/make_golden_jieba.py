#!/usr/bin/env python3
"""Chinese (jieba) golden outputs of datatrove 0.10.1 + spaCy 3.8.18 + jieba 0.42.1.

Pinned oracle: make_golden.py's (Python 3.11, datatrove==0.10.1, spacy==3.8.18,
regex==2026.11.19, numpy==2.4.6) plus jieba==0.42.1:

    /work/lang-venv/bin/pip install jieba==0.42.1
    /work/lang-venv/bin/python crates/datamill-filters/tests/golden/make_golden_jieba.py   # ~1 min

datatrove tokenizes cmn_Hani, yue_Hani, wuu_Hani, ... with SpaCyTokenizer("zh") = spaCy's
Chinese tokenizer with the jieba segmenter. Texts: (a) every document of
../shared/data/samples/multilingual_sample.jsonl with a character in U+4E00..U+9FD5 (Chinese,
Japanese, Korean, ... documents: jieba's rules run on any text), (b) 3,000 seeded synthetic
strings mixing jieba dictionary words, characters outside the dictionary (the HMM), ASCII
words/numbers/percentages, jieba's `+#&._%-` characters, CJK and ASCII punctuation, other
scripts and odd whitespace (\\r\\n, \\u3000, \\xa0, \\x1c, ...).

Writes jieba.jsonl.zst next to this script, one row per text:
  {"id": sample id | "text": synthetic string, "cut": list(jieba.cut(text)),
   "tokens", "space", "sents": spaCy tokens / trailing-space flags / sentencizer count through
   datatrove's SpaCyTokenizer("zh"), "sent_lens": [len(s) for s in split_into_sentences(text,
   "cmn_Hani")], and for sample documents gopher_quality / gopher_repetition / fineweb_quality /
   c4_quality (language="cmn_Hani", datatrove defaults): "kept" or the reason,
   "c4_quality_text" where C4 rewrote the text}
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

from make_golden import check_versions, run, tokens_row  # noqa: E402

LANG = "cmn_Hani"


def synth(rng, dict_words, n):
    han_rare = [chr(c) for c in range(0x4E00, 0x9FD6)]
    pieces_other = (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+#&._%-")
                    + list("，。！？、；：「」『』（）《》…—·“”‘’,.!?;:()[]\"'/")
                    + ["3.14", "50%", "2.5%", "v1.2", "C++", "AT&T", "iPhone", "Python3", "a.b", "1.", ".5", "x-y",
                       "U.S.", "e.g.", "http://", "www.example.com", "Mr.", "１２３", "Ａｂ", "ア", "の", "한국", "☺",
                       "😀", "é", "Ж", "α", "\u9fd6", "\u9fff", "\u3400", "\U00020000"]
                    + [" ", " ", " ", "  ", "\n", "\n\n", "\r\n", "\r", "\t", "\u3000", "\xa0", "\x1c", "\u2028",
                       "\x85", "\u200b"])
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 30)):
            r = rng.random()
            if r < 0.45:
                parts.append(rng.choice(dict_words))
            elif r < 0.7:
                parts.append("".join(rng.choice(han_rare) for _ in range(rng.randint(1, 4))))
            else:
                parts.append(rng.choice(pieces_other))
        out.append("".join(parts))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", default=os.path.join(REPO, "..", "shared", "data", "samples", "multilingual_sample.jsonl"))
    ap.add_argument("--out", default=HERE)
    args = ap.parse_args()
    check_versions()
    from importlib.metadata import version

    assert version("jieba") == "0.42.1", version("jieba")
    import jieba
    import zstandard
    from datatrove.data import Document
    from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                            GopherRepetitionFilter)
    from datatrove.utils.text import split_into_sentences
    from datatrove.utils.word_tokenizers import load_tokenizer_assignments, SpaCyTokenizer

    table = load_tokenizer_assignments()
    assert table[LANG].args == ("SpaCyTokenizer", "zh"), table[LANG].args
    tok = SpaCyTokenizer("zh")
    tok.word_tokenize("warm up.")
    filters = {
        "gopher_quality": GopherQualityFilter(language=LANG),
        "gopher_repetition": GopherRepetitionFilter(language=LANG),
        "fineweb_quality": FineWebQualityFilter(language=LANG),
        "c4_quality": C4QualityFilter(language=LANG),
    }

    def row_for(text):
        row = {"cut": list(jieba.cut(text))}
        row.update(tokens_row(tok, text))
        row["sent_lens"] = [len(s) for s in split_into_sentences(text, LANG)]
        return row

    rows = []
    with open(args.input, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            text = r["text"]
            if not any("\u4e00" <= c <= "\u9fd5" for c in text):
                continue
            row = {"id": r["id"]}
            row.update(row_for(text))
            for name, filt in filters.items():
                doc = Document(text=text, id=str(r["id"]))
                row[name] = run(filt, doc)
                if name == "c4_quality" and row[name] == "kept" and doc.text != text:
                    row["c4_quality_text"] = doc.text
            rows.append(row)
    n_docs = len(rows)
    jieba.initialize()
    dict_words = sorted(w for w, f in jieba.dt.FREQ.items() if f)
    rng = random.Random(20)
    for s in synth(rng, dict_words, 3000):
        row = {"text": s}
        row.update(row_for(s))
        rows.append(row)
    data = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in rows).encode("utf-8")
    with open(os.path.join(args.out, "jieba.jsonl.zst"), "wb") as f:
        f.write(zstandard.ZstdCompressor(level=19).compress(data))
    print(f"jieba.jsonl.zst: {n_docs} sample docs + {len(rows) - n_docs} synthetic", file=sys.stderr)


if __name__ == "__main__":
    main()
