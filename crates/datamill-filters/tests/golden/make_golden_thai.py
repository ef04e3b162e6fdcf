#!/usr/bin/env python3
"""Thai golden outputs of datatrove 0.10.1's ThaiTokenizer (PyThaiNLP 5.4.0 newmm-safe + crfcut).

Pinned oracle: make_golden.py's (Python 3.11, datatrove==0.10.1, spacy==3.8.18,
regex==2026.11.19, numpy==2.4.6) plus pythainlp==5.4.0 and python-crfsuite==0.9.12 (crfcut's
CRF runtime):

    /work/lang-venv/bin/pip install pythainlp==5.4.0 python-crfsuite==0.9.12
    /work/lang-venv/bin/python crates/datamill-filters/tests/golden/make_golden_thai.py   # ~1 min

datatrove tokenizes tha, tha_Thai, th, ... (and, its table's quirk, ms/msa) with ThaiTokenizer:
words = pythainlp word_tokenize(text, keep_whitespace=False, engine="newmm-safe"), sentences =
pythainlp sent_tokenize(text) (crfcut), both stripped. Texts:
  (a) every document of ../shared/data/samples/multilingual_sample.jsonl with 20+ Thai characters
      (UDHR in two Thai translations), referenced by id;
  (b) `docs_th.txt` beside this script: Thai messages of Debian's translations (the .mo catalogs
      of apt, dpkg, glib, gtk, ... under /usr/share/locale/th on the machine that made it), 60
      documents of 1-40 consecutive messages joined by a space or a newline — real running Thai
      with Latin words, numbers, placeholders and punctuation (made by --make-docs once; kept);
  (c) 3,000 seeded synthetic strings: PyThaiNLP dictionary words run together (runs of 140+
      characters without a space exercise newmm-safe's chunk cut), crfcut's ender/starter words,
      random Thai letter sequences (consonants, vowels, tone marks, U+0E00..U+0E7F at random: the
      TCC rules' edge cases), Latin words, Thai and ASCII digits with . , : separators (rejoined
      numbers), punctuation and odd whitespace (\\r\\n, \\r, \\t, \\xa0, \\u200b, ...).

Writes thai.jsonl.zst next to this script, one row per text:
  {"id": sample id | "doc": index into docs_th.txt | "text": synthetic string,
   "words": ThaiTokenizer().word_tokenize(text), "sents": ThaiTokenizer().sent_tokenize(text),
   "sent_lens": [len(s) for s in split_into_sentences(text, "tha_Thai")], and for sample documents
   and (b) documents gopher_quality / gopher_repetition / fineweb_quality / c4_quality
   (language="tha_Thai", datatrove defaults; c4 also with split_paragraph=False): "kept" or the
   reason, "c4_quality_text" where C4 rewrote the text}
"""
import argparse
import gettext
import glob
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

LANG = "tha_Thai"


def make_docs(path, rng, locale="th", lo="\u0e00", hi="\u0e7f"):
    """Documents of a locale's Debian messages (with 5+ characters in lo..hi) from this machine."""
    msgs = []
    for mo in sorted(glob.glob(f"/usr/share/locale/{locale}/LC_MESSAGES/*.mo")):
        with open(mo, "rb") as f:
            cat = gettext.GNUTranslations(f)
        for k, v in sorted(cat._catalog.items(), key=lambda kv: str(kv[0])):
            if isinstance(v, str) and sum(lo <= c <= hi for c in v) >= 5:
                msgs.append(v.replace("\r", ""))
    docs = []
    i = 0
    while len(docs) < 60 and i < len(msgs):
        k = rng.randint(1, 40)
        sep = rng.choice([" ", "\n"])
        docs.append(sep.join(msgs[i:i + k]))
        i += k
    with open(path, "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")


def synth(rng, words, enders, starters, n):
    thai_chars = [chr(c) for c in range(0x0E00, 0x0E80)]
    consonants = [chr(c) for c in range(0x0E01, 0x0E2F)]
    marks = [chr(c) for c in list(range(0x0E30, 0x0E3B)) + list(range(0x0E40, 0x0E4F))]
    other = (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-") + list("0123456789๐๑๒๓๔๕๖๗๘๙")
             + list(".,:;!?\"'()[]/%-") + ["12:30", "1,234.5", "127.0.0.1", "3.", ".5", "๑๒:๓๐", "1.2.3.", "1:", "ok",
                                          "Linux", "%s", "%d", "e.g.", "U.S.", "é", "中", "😀", "ฯ", "ๆ", "฿"]
             + [" ", " ", " ", "  ", "\n", "\n\n", "\r\n", "\r", "\t", "\xa0", "\u200b", "\u3000", "\x1c"])
    out = []
    for _ in range(n):
        parts = []
        long_run = rng.random() < 0.15
        for _ in range(rng.randint(1, 60 if long_run else 25)):
            r = rng.random()
            if long_run or r < 0.45:
                parts.append(rng.choice(words))
            elif r < 0.55:
                parts.append(rng.choice(enders + starters))
            elif r < 0.7:
                parts.append("".join(rng.choice(consonants + marks + thai_chars) for _ in range(rng.randint(1, 5))))
            else:
                parts.append(rng.choice(other))
        out.append("".join(parts))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", default=os.path.join(REPO, "..", "shared", "data", "samples", "multilingual_sample.jsonl"))
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--make-docs", action="store_true", help="(re)write docs_th.txt from this machine's .mo files")
    args = ap.parse_args()
    check_versions()
    from importlib.metadata import version

    assert version("pythainlp") == "5.4.0", version("pythainlp")
    assert version("python-crfsuite") == "0.9.12", version("python-crfsuite")
    import zstandard
    from datatrove.data import Document
    from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                            GopherRepetitionFilter)
    from datatrove.utils.text import split_into_sentences
    from datatrove.utils.word_tokenizers import ThaiTokenizer, load_tokenizer_assignments
    from pythainlp.corpus.common import thai_words
    from pythainlp.tokenize.crfcut import _ENDERS, _STARTERS

    table = load_tokenizer_assignments()
    assert table[LANG].args == ("ThaiTokenizer", ""), table[LANG].args
    docs_path = os.path.join(HERE, "docs_th.txt")
    if args.make_docs:
        make_docs(docs_path, random.Random(2020))
    tok = ThaiTokenizer()
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
            if sum("\u0e00" <= c <= "\u0e7f" for c in text) < 20:
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
    rng = random.Random(66)
    for s in synth(rng, sorted(thai_words()), sorted(_ENDERS), sorted(_STARTERS), 3000):
        row = {"text": s}
        row.update(row_for(s))
        rows.append(row)
    data = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in rows).encode("utf-8")
    with open(os.path.join(args.out, "thai.jsonl.zst"), "wb") as f:
        f.write(zstandard.ZstdCompressor(level=19).compress(data))
    print(f"thai.jsonl.zst: {n_sample} sample docs + {n_docs} Debian-message docs + {len(rows) - n_sample - n_docs} synthetic",
          file=sys.stderr)


if __name__ == "__main__":
    main()
