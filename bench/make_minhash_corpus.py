#!/usr/bin/env python3
"""Deterministic stand-in for a large en_prose corpus, for the MinHash benchmark (stdlib only).

Usage: make_minhash_corpus.py OUT.jsonl [--docs 300000] [--source SAMPLE.jsonl] [--near-dup-rate 0.05]

Cycles through the shipped en_prose sample (2,178 docs). Copy 0 of each document is the original.
In later copies, each distinct word is rewritten with probability 1/2 (a per-copy suffix, decided by
a hash of the word and the copy number), so copies of one document share about 3 % of their word
5-grams and are not near-duplicates; with probability `near-dup-rate` a copy is instead the
original with about 3 % of its words replaced (a true near-duplicate). Records keep their fields;
ids get a `#<copy>` suffix.
"""
import argparse
import hashlib
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("SHARED", os.path.join(os.path.dirname(HERE), "..", "shared"))


def letters(n):
    s = ""
    while True:
        s += chr(ord("a") + n % 26)
        n //= 26
        if n == 0:
            return s


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--docs", type=int, default=300_000)
    ap.add_argument("--source", default=os.path.join(SHARED, "data", "samples", "en_prose_sample.jsonl"))
    ap.add_argument("--near-dup-rate", type=float, default=0.05)
    args = ap.parse_args()
    with open(args.source, encoding="utf-8") as f:
        docs = [json.loads(l) for l in f if l.strip()]
    rng = random.Random(0)
    n_near = 0
    with open(args.out, "w", encoding="utf-8") as out:
        cache = {}
        for i in range(args.docs):
            copy, j = divmod(i, len(docs))
            rec = dict(docs[j])
            text = rec["text"]
            if copy > 0:
                toks = text.split(" ")
                if rng.random() < args.near_dup_rate:
                    n_near += 1
                    for k in range(len(toks)):
                        if rng.random() < 0.03:
                            toks[k] = "edit" + letters(rng.randrange(1 << 20))
                else:
                    if j == 0:
                        cache = {}
                    suf = "q" + letters(copy)
                    for k, t in enumerate(toks):
                        m = cache.get(t)
                        if m is None:
                            h = hashlib.blake2b(t.encode(), digest_size=8, key=copy.to_bytes(4, "little")).digest()
                            m = t + suf if h[0] & 1 else t
                            cache[t] = m
                        toks[k] = m
                text = " ".join(toks)
                rec["id"] = f"{rec['id']}#{copy}"
            rec["text"] = text
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"wrote {args.docs} docs to {args.out} ({n_near} injected near-duplicates)")


if __name__ == "__main__":
    main()
