#!/usr/bin/env python3
"""Input of bench/langs.sh: the multilingual sample's documents that datatrove 0.10.1 tokenizes
with spaCy rules or its whitespace tokenizer, each with its datatrove language code and script
group (Latin, Cyrillic, CJK, Indic, Thai, other), as make_golden_langs.py assigns them; groups
with fewer than MIN documents are cycled up to MIN so that every timing covers enough work.

    python bench/langs_prep.py SAMPLE.jsonl OUT.jsonl [MIN]
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "datamill-filters",
                                "tests", "golden"))
from make_golden_langs import RULE_EXCLUDED, dt_language, script_group  # noqa: E402
from datatrove.utils.word_tokenizers import load_tokenizer_assignments  # noqa: E402


def main():
    src, out = sys.argv[1], sys.argv[2]
    minimum = int(sys.argv[3]) if len(sys.argv) > 3 else 400
    table = load_tokenizer_assignments()
    groups = {}
    with open(src, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            key = dt_language(r, table)
            if not key:
                continue
            cls, arg = table[key].args
            if not (cls == "WhitespaceTokenizer" or (cls == "SpaCyTokenizer" and arg not in RULE_EXCLUDED)):
                continue
            g = script_group(r["text"][:2000])
            groups.setdefault(g, []).append({"text": r["text"], "language": key, "group": g})
    with open(out, "w", encoding="utf-8") as f:
        for g, docs in sorted(groups.items()):
            n = max(len(docs), minimum)
            for i in range(n):
                f.write(json.dumps(docs[i % len(docs)], ensure_ascii=False) + "\n")
            print(f"{g}: {len(docs)} documents, written {n}", file=sys.stderr)


if __name__ == "__main__":
    main()
