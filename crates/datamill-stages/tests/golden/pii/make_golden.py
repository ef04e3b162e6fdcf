"""Golden output of datatrove 0.10.1's PIIFormatter for datamill's `pii` stage.

Run from the repository root with a venv holding datatrove==0.10.1 (Python 3.11.7):
    python crates/datamill-stages/tests/golden/pii/make_golden.py
A fresh PIIFormatter is used for every document (datamill restarts the replacement circle in
each document). For every document the golden line holds the input file, the id, the number of
e-mails and IPs replaced and, when the text changed, the output text.
"""
import json
import os
import sys

from datatrove.pipeline.formatters.pii import PIIFormatter

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.join(HERE, "../../../../../../shared/data/samples")
INPUTS = [
    ("en_prose_sample.jsonl", os.path.join(SAMPLES, "en_prose_sample.jsonl")),
    ("code_sample.jsonl", os.path.join(SAMPLES, "code_sample.jsonl")),
    ("pii_cases.jsonl", os.path.join(HERE, "pii_cases.jsonl")),
]


class Counting(tuple):
    """A replacement tuple that counts how many replacements were taken from it."""

    n = 0

    def __getitem__(self, i):
        self.n += 1
        return tuple.__getitem__(self, i)


def main():
    out = open(os.path.join(HERE, "pii_golden.jsonl"), "w", encoding="utf-8")
    total = 0
    for name, path in INPUTS:
        for line in open(path, encoding="utf-8"):
            doc = json.loads(line)
            f = PIIFormatter()
            f.emails_replacer.replacements = Counting(f.emails_replacer.replacements)
            f.ip_replacer.replacements = Counting(f.ip_replacer.replacements)
            text = f.format(doc["text"])
            rec = {
                "file": name,
                "id": doc["id"],
                "emails": f.emails_replacer.replacements.n,
                "ips": f.ip_replacer.replacements.n,
            }
            if text != doc["text"]:
                rec["text"] = text
                total += 1
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"{total} documents changed", file=sys.stderr)


if __name__ == "__main__":
    main()
