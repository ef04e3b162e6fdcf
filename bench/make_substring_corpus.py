#!/usr/bin/env python3
"""Builds the >= 1 GB text input of bench/substring.sh from the en_prose corpus.

The en_prose subset (~/corpora/en_prose: changelogs, debian_descriptions, dictionaries,
fortunes, pod_docs; 248.5 MB of text) is written COPIES times (default 5: 1.24 GB of text),
ids suffixed with `#<copy>`. Mode `rot` (default): copy c has its ASCII letters rotated by c
positions (copy 0 is the original), so copies do not repeat each other and the corpus keeps
en_prose's own repeat rate at 5x the size. Mode `copies`: exact copies -- the worst case, where
almost every byte repeats and is removed.

Usage: make_substring_corpus.py OUT.jsonl [--src DIR] [--copies 5] [--mode rot|copies]
"""
import argparse
import glob
import json
import os
import string

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--src", default=os.path.expanduser("~/corpora/en_prose"))
ap.add_argument("--copies", type=int, default=5)
ap.add_argument("--mode", choices=["rot", "copies"], default="rot")
a = ap.parse_args()

lo, up = string.ascii_lowercase, string.ascii_uppercase
files = sorted(glob.glob(os.path.join(a.src, "*.jsonl")))
assert files, f"no *.jsonl in {a.src}"
text_bytes = 0
docs = 0
with open(a.out + ".tmp", "w", encoding="utf-8") as out:
    for c in range(a.copies):
        k = c if a.mode == "rot" else 0
        table = str.maketrans(lo + up, lo[k:] + lo[:k] + up[k:] + up[:k])
        for f in files:
            with open(f, encoding="utf-8") as fin:
                for line in fin:
                    d = json.loads(line)
                    t = d["text"].translate(table) if k else d["text"]
                    out.write(json.dumps({"id": f"{d['id']}#{c}", "text": t}, ensure_ascii=False))
                    out.write("\n")
                    text_bytes += len(t.encode("utf-8"))
                    docs += 1
os.replace(a.out + ".tmp", a.out)
print(f"wrote {a.out}: {docs} docs, {text_bytes} text bytes ({a.mode}, {a.copies} copies of {a.src})")
