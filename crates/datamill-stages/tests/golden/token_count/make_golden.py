#!/usr/bin/env python3
"""Token counts from the Hugging Face `tokenizers` library (0.23.3, pinned in
../shared/tools/peers/requirements-peers.txt) for the `token_count` stage's tests.

    /tmp/dsirvenv/bin/python make_golden.py

Texts: every row of `shared/data/models/reference_tokens.jsonl`, the first 300 docs of the
en_prose sample and the first 200 of the multilingual sample. Tokenizers: GPT-2 (byte-level BPE)
and all-MiniLM-L6-v2 (WordPiece; its tokenizer.json enables padding and truncation at 128,
both disabled here as the stage does). Writes counts.jsonl: one row per text with
`src`, `key` (row number or doc id) and the counts with and without special tokens.
"""
import json
import os

import tokenizers
from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "../../../../../../shared/data")


def main():
    toks = {}
    for name, f in [("gpt2", "gpt2__tokenizer.json"), ("minilm", "all-MiniLM-L6-v2__tokenizer.json")]:
        t = Tokenizer.from_file(os.path.join(SHARED, "models", f))
        t.no_padding()
        t.no_truncation()
        toks[name] = t
    rows = []
    for i, l in enumerate(open(os.path.join(SHARED, "models/reference_tokens.jsonl"), encoding="utf-8")):
        rows.append(("reference", i, json.loads(l)["text"]))
    for src, n in [("en_prose", 300), ("multilingual", 200)]:
        with open(os.path.join(SHARED, f"samples/{src}_sample.jsonl"), encoding="utf-8") as f:
            for _, l in zip(range(n), f):
                r = json.loads(l)
                rows.append((src, r["id"], r["text"]))
    with open(os.path.join(HERE, "counts.jsonl"), "w", encoding="utf-8") as out:
        for src, key, text in rows:
            row = {"src": src, "key": key}
            for name, t in toks.items():
                row[name] = len(t.encode(text, add_special_tokens=False).ids)
                row[name + "_special"] = len(t.encode(text, add_special_tokens=True).ids)
            out.write(json.dumps(row) + "\n")
    print("tokenizers", tokenizers.__version__, "rows", len(rows))


if __name__ == "__main__":
    main()
