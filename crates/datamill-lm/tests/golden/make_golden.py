"""Scores every document of shared/data/samples/en_prose_sample.jsonl with the `kenlm`
Python package and the committed model, for tests/kenlm_golden.rs.

Pinned: Python 3.11.7, kenlm==0.3.0 (PyPI sdist, built here with g++), cc-net==1.0.0
(installed with --no-deps; only its text_normalizer is used).

    python3 -m venv /tmp/kenlmvenv
    /tmp/kenlmvenv/bin/pip install kenlm==0.3.0
    /tmp/kenlmvenv/bin/pip install --no-deps cc-net==1.0.0
    /tmp/kenlmvenv/bin/python make_golden.py ../../../../../shared/data/samples/en_prose_sample.jsonl \
        en_prose_o5.arpa > kenlm_golden.jsonl

Per document (in input order):
  raw:       model.score(text) on the raw text (one sentence, <s> and </s>)
  ccnet:     CCNet DocLM with normalize=True: per "\n" line, text_normalizer.normalize, then
             model.score(line) summed; length = sum(len(line.split()) + 1);
             pp = 10 ** (-log / length); pp1 = round(pp, 1)
  doc:       the whole text normalized (newlines are removed by the normalizer) and scored as
             one sentence, as CCNet's mine pipeline does before SentencePiece
  full:      for the first 40 documents, full_scores of the normalized first non-empty line
"""
import json
import sys

import kenlm
from cc_net import text_normalizer


def pp(log_score, length):
    return 10.0 ** (-log_score / length)


def main(data, arpa):
    model = kenlm.Model(arpa)
    with open(data, encoding="utf-8") as f:
        for i, line in enumerate(f):
            doc = json.loads(line)
            text = doc["text"]
            out = {"id": doc["id"], "raw": model.score(text)}
            log, length = 0.0, 0
            for l in text.split("\n"):
                l = text_normalizer.normalize(l)
                log += model.score(l)
                length += len(l.split()) + 1
            out["ccnet"] = {"log": log, "length": length, "pp": pp(log, length),
                            "pp1": round(pp(log, length), 1)}
            whole = text_normalizer.normalize(text)
            s = model.score(whole)
            n = len(whole.split()) + 1
            out["doc"] = {"log": s, "length": n, "pp": pp(s, n)}
            if i < 40:
                first = next((text_normalizer.normalize(l) for l in text.split("\n")
                              if text_normalizer.normalize(l)), "")
                out["full"] = {"line": first,
                               "scores": [[p, n, o] for p, n, o in model.full_scores(first)]}
            print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
