#!/usr/bin/env python3
"""Multilingual golden outputs of datatrove 0.10.1 (+ spaCy 3.8.18) for the datamill-filters tests.

Pinned oracle: the same as make_golden.py (Python 3.11, datatrove==0.10.1, spacy==3.8.18,
regex==2026.11.19, numpy==2.4.6):

    python3.11 -m venv /work/lang-venv
    /work/lang-venv/bin/pip install datatrove==0.10.1 spacy==3.8.18 regex==2026.11.19 numpy==2.4.6 zstandard
    /work/lang-venv/bin/python crates/datamill-filters/tests/golden/make_golden_langs.py

Reads ../shared/data/samples/multilingual_sample.jsonl (4,455 documents in ~500 language tags;
override with --input). Each document's datatrove language code is the first of
`lang` (with "-" -> "_"), `iso639_3`, `lang_base` that datatrove's tokenizer table knows; the
code is written into the goldens, so the Rust tests use it as is.

Writes, next to this script:

  tokens_langs.jsonl.zst  spaCy tokens (every token, whitespace tokens included, trailing-space
                   flags, sentencizer sentence count), for every spaCy rule-based language class:
                   {"lang": spaCy code, "id": sample id | "text": synthetic string, "tokens",
                   "space", "sents"}. Texts: (a) each sample document whose language datatrove
                   tokenizes with that class; (b) 36 sample documents of other scripts (Latin,
                   Cyrillic, Greek, Arabic, Hebrew, Devanagari, CJK, Thai, ...), tokenized with
                   every class (text in a script the rules do not expect); (c) 150 synthetic
                   strings per class mixing the language's own exception strings, affix
                   characters and the English synthetic pieces.
  words_langs.jsonl.zst   for every sample document whose language datatrove tokenizes with
                   spaCy rules or the whitespace tokenizer: {"id", "language", "class", "words",
                   "sentences": split_into_sentences(text, language)} (whitespace tokenizer:
                   spaCy `xx` words, datatrove's sentence regex).
  filters_langs.jsonl.zst  per such document: {"id", "language", <run>: "kept" | reason,
                   "c4_quality_text": rewritten text where C4 changed it}; runs gopher_quality,
                   gopher_repetition, fineweb_quality, c4_quality with datatrove defaults and
                   `language=<code>`.
  timing_langs.json  datatrove's CPU seconds per script group for the bench.
"""
import argparse
import json
import os
import random
import sys
import time
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
CRATE = os.path.dirname(os.path.dirname(HERE))
REPO = os.path.dirname(os.path.dirname(CRATE))
sys.path.insert(0, HERE)

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from make_golden import check_versions, run, synth_strings, tokens_row  # noqa: E402

RULE_EXCLUDED = {"ja", "zh", "vi"}  # spaCy classes with segmenters, not rules


def dt_language(row, table):
    for cand in (row.get("lang", "").replace("-", "_"), row.get("iso639_3"), row.get("lang_base")):
        if cand and cand in table:
            return cand
    return None


def script_group(text):
    """Latin / Cyrillic / CJK / Indic / Thai / other: the script of most letters."""
    counts = {}
    for ch in text:
        if not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        for key, group in (("LATIN", "Latin"), ("CYRILLIC", "Cyrillic"), ("CJK", "CJK"), ("HIRAGANA", "CJK"),
                           ("KATAKANA", "CJK"), ("HANGUL", "CJK"), ("DEVANAGARI", "Indic"), ("BENGALI", "Indic"),
                           ("TAMIL", "Indic"), ("TELUGU", "Indic"), ("KANNADA", "Indic"), ("MALAYALAM", "Indic"),
                           ("GUJARATI", "Indic"), ("GURMUKHI", "Indic"), ("ORIYA", "Indic"), ("SINHALA", "Indic"),
                           ("THAI", "Thai")):
            if name.startswith(key):
                counts[group] = counts.get(group, 0) + 1
                break
        else:
            counts["other"] = counts.get("other", 0) + 1
    return max(counts, key=counts.get) if counts else "other"


def lang_synth(nlp, rng, n):
    base = synth_strings(400, seed=99)
    keys = sorted(nlp.tokenizer.rules)
    affix_chars = sorted({c for k in keys for c in k if not c.isalnum()})
    pieces = base + keys * 2 + affix_chars + [" "] * 20
    out = []
    for _ in range(n):
        k = rng.randint(1, 12)
        out.append("".join(rng.choice(pieces) if rng.random() < 0.5 else " " + rng.choice(pieces) for _ in range(k)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", default=os.path.join(REPO, "..", "shared", "data", "samples", "multilingual_sample.jsonl"))
    ap.add_argument("--out", default=HERE)
    args = ap.parse_args()
    versions = check_versions()
    import spacy
    import zstandard
    from datatrove.data import Document
    from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                            GopherRepetitionFilter)
    from datatrove.utils.text import split_into_sentences, split_into_words
    from datatrove.utils.word_tokenizers import SpaCyTokenizer, load_tokenizer_assignments

    table = load_tokenizer_assignments()
    klass = {k: f.args for k, f in table.items()}  # key -> (class, arg)

    docs = []
    with open(args.input, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            docs.append(r)
    print(f"{len(docs)} docs", file=sys.stderr)

    # ---------------------------------------------------------------- tokens per spaCy class
    spacy_langs = sorted({arg for cls, arg in klass.values() if cls == "SpaCyTokenizer"} - RULE_EXCLUDED)
    by_class = {c: [] for c in spacy_langs}
    for r in docs:
        key = dt_language(r, table)
        if key and klass[key][0] == "SpaCyTokenizer" and klass[key][1] in by_class:
            by_class[klass[key][1]].append(r)
    # cross-script probes: the first document of each of 36 language tags, spread over scripts
    probes, seen_tags, per_group = [], set(), {}
    for r in docs:
        if r["lang"] in seen_tags:
            continue
        g = script_group(r["text"][:2000])
        if per_group.get(g, 0) < 6:
            per_group[g] = per_group.get(g, 0) + 1
            seen_tags.add(r["lang"])
            probes.append(r)
        if len(probes) >= 36:
            break
    tok_rows = []
    rng = random.Random(2024)
    for code in spacy_langs:
        tok = SpaCyTokenizer(code)
        tok.word_tokenize("warm up.")
        ids = set()
        for r in by_class[code] + probes:
            if r["id"] in ids:
                continue
            ids.add(r["id"])
            row = {"lang": code, "id": r["id"]}
            row.update(tokens_row(tok, r["text"]))
            tok_rows.append(row)
        for s in lang_synth(tok.tokenizer, rng, 150):
            row = {"lang": code, "text": s}
            row.update(tokens_row(tok, s))
            tok_rows.append(row)
        print(code, len(by_class[code]), file=sys.stderr, flush=True)

    # ---------------------------------------------------------------- words, sentences, filters
    word_rows, filt_rows = [], []
    timing = {"versions": versions, "groups": {}}
    filters_cache = {}
    for r in docs:
        key = dt_language(r, table)
        if not key:
            continue
        cls, arg = klass[key]
        if not (cls == "WhitespaceTokenizer" or (cls == "SpaCyTokenizer" and arg not in RULE_EXCLUDED)):
            continue
        text = r["text"]
        word_rows.append({"id": r["id"], "language": key, "class": cls,
                          "words": split_into_words(text, key), "sentences": split_into_sentences(text, key)})
        if key not in filters_cache:
            filters_cache[key] = {
                "gopher_quality": GopherQualityFilter(language=key),
                "gopher_repetition": GopherRepetitionFilter(language=key),
                "fineweb_quality": FineWebQualityFilter(language=key),
                "c4_quality": C4QualityFilter(language=key),
            }
            # warm up (tokenizer construction is not per-document cost)
            split_into_words("warm up.", key)
        row = {"id": r["id"], "language": key}
        group = script_group(text)
        t0 = time.process_time()
        for name, filt in filters_cache[key].items():
            doc = Document(text=text, id=str(r["id"]))
            row[name] = run(filt, doc)
            if name == "c4_quality" and row[name] == "kept" and doc.text != text:
                row["c4_quality_text"] = doc.text
        dt = time.process_time() - t0
        g = timing["groups"].setdefault(group, {"docs": 0, "cpu_s": 0.0, "bytes": 0})
        g["docs"] += 1
        g["cpu_s"] += dt
        g["bytes"] += len(text.encode("utf-8"))
        filt_rows.append(row)

    def dump(name, rows):
        data = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in rows).encode("utf-8")
        with open(os.path.join(args.out, name), "wb") as f:
            f.write(zstandard.ZstdCompressor(level=19).compress(data))
        print(name, len(rows), file=sys.stderr)

    dump("tokens_langs.jsonl.zst", tok_rows)
    dump("words_langs.jsonl.zst", word_rows)
    dump("filters_langs.jsonl.zst", filt_rows)
    for g in timing["groups"].values():
        g["docs_per_cpu_s"] = g["docs"] / g["cpu_s"] if g["cpu_s"] else None
    with open(os.path.join(args.out, "timing_langs.json"), "w") as f:
        json.dump(timing, f, indent=1)


if __name__ == "__main__":
    main()
