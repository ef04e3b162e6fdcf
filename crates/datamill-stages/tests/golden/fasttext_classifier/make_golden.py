"""Golden output of datatrove 0.10.1's FastTextClassifierFilter for datamill's
`fasttext_classifier` stage.

Run from the repository root with a venv holding datatrove==0.10.1, fasttext-numpy2-wheel==0.9.2,
numpy, regex and fasteners (see README.md):
    python crates/datamill-stages/tests/golden/fasttext_classifier/make_golden.py

One `FastTextClassifierFilter` instance per configuration is created and its `.filter(doc)` is
called on a fresh `datatrove.data.Document` for every input document (the filter keeps no
per-document state: only the model and its stats). The model is the Debian-section classifier
`crates/datamill-learn/tests/data/debian_small.bin` (55 labels, softmax loss).

Output `golden.jsonl.gz`: a header line (labels, configurations) and one line per document (see
README.md for the fields).
"""
import gzip
import hashlib
import json
import os
import struct
import sys

import numpy as np
from datatrove.data import Document
from datatrove.pipeline.filters.fasttext_filter import FastTextClassifierFilter
from datatrove.utils.text import split_into_parts

HERE = os.path.dirname(os.path.abspath(__file__))
STAGES = os.path.normpath(os.path.join(HERE, "../../.."))
MODEL = os.path.normpath(os.path.join(STAGES, "../datamill-learn/tests/data/debian_small.bin"))
SAMPLES = os.path.normpath(os.path.join(STAGES, "../../../shared/data/samples"))
N_PROSE = 300
# Every EXPLICIT_EVERY-th document (and every hand-made case) also stores every label's score
# explicitly; all documents store the SHA-256 of all scores.
EXPLICIT_EVERY = 50

# name -> (datamill parameters (as in a pipeline file, minus `model`), score group).
# Configurations of one score group score the same units the same way; the script checks that
# datatrove wrote identical metadata for them and stores it once.
CONFIGS = {
    "doc_keep": ({"keep_labels": [["libs", 0.11]]}, "doc"),
    "doc_remove": ({"remove_labels": [["doc", 0.07], ["x11", 0.0135]]}, "doc"),
    "doc_annotate": ({}, "doc"),
    # The single-pair form of `keep_labels`; newlines become spaces (this changes the scores).
    "doc_keep_newline_space": (
        {"keep_labels": ["libdevel", 0.075], "newline_replacement": " "},
        "doc_newline_space",
    ),
    "para_keep": (
        {"keep_labels": [["libs", 0.107], ["x11", 0.014]], "filter_mode": "PARAGRAPH"},
        "para",
    ),
    # In PARAGRAPH mode a unit never holds a "\n" once stripped, so `newline_replacement` changes
    # nothing: the script checks that this configuration's scores equal para_keep's.
    "para_remove_newline_space": (
        {
            "remove_labels": [["python", 0.065]],
            "filter_mode": "PARAGRAPH",
            "newline_replacement": " ",
        },
        "para",
    ),
    "para_annotate": ({"filter_mode": "PARAGRAPH"}, "para"),
}


def make_filter(params):
    kw = {}
    for k in ("keep_labels", "remove_labels"):
        if k in params:
            v = params[k]
            kw[k] = tuple(v) if isinstance(v[0], str) else [tuple(p) for p in v]
    if "keep_labels" not in kw and "remove_labels" not in kw:
        # datatrove 0.10.1 bug: with neither list, `FastTextClassifierFilter.model` evaluates
        # `self.keep_labels or [] + self.remove_labels or []` = `[] + None` and raises TypeError.
        # An empty `remove_labels` gives the documented "annotate only" behaviour.
        kw["remove_labels"] = []
    for k in ("save_labels_in_metadata", "newline_replacement", "filter_mode"):
        if k in params:
            kw[k] = params[k]
    return FastTextClassifierFilter(MODEL, **kw)


def read_jsonl(path, limit=None):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            out.append(json.loads(line))
            if limit is not None and len(out) == limit:
                break
    return out


def digest(values):
    """SHA-256 (first 16 hex digits) of the little-endian float64 bits of the scores."""
    return hashlib.sha256(b"".join(struct.pack("<d", v) for v in values)).hexdigest()[:16]


def text_digest(text):
    """SHA-256 (first 16 hex digits) of the UTF-8 text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def check_annotate_only_bug():
    try:
        FastTextClassifierFilter(MODEL).model
    except TypeError:
        return
    raise AssertionError("datatrove now accepts neither keep_labels nor remove_labels: update")


def rules_of(params):
    rules = params.get("keep_labels") or params.get("remove_labels") or []
    return [rules] if rules and isinstance(rules[0], str) else rules


def decisive_units(f, params, text):
    """Units where exactly one of several listed labels reaches its threshold."""
    rules = rules_of(params)
    if len(rules) < 2:
        return 0
    n = 0
    for unit in split_into_parts(text, mode=f.filter_mode):
        labels, scores = f.model.predict(unit.strip().replace("\n", f.newline_replacement), k=-1)
        sc = dict(zip(labels, scores))
        n += sum(sc[f"__label__{l}"] >= t for l, t in rules) == 1
    return n


def main():
    check_annotate_only_bug()
    filters = {name: make_filter(p) for name, (p, _) in CONFIGS.items()}
    labels = list(filters["doc_keep"].model.labels)
    inputs = [
        (
            "labeled_sample.jsonl",
            [
                d
                for d in read_jsonl(os.path.join(SAMPLES, "labeled_sample.jsonl"))
                if d["dataset"] == "debian_sections"
            ],
        ),
        ("en_prose_sample.jsonl", read_jsonl(os.path.join(SAMPLES, "en_prose_sample.jsonl"), N_PROSE)),
        ("cases.jsonl", read_jsonl(os.path.join(HERE, "cases.jsonl"))),
    ]
    header = {
        "model": "../datamill-learn/tests/data/debian_small.bin",
        "labels": labels,
        "configs": {name: {"params": p, "scores": g} for name, (p, g) in CONFIGS.items()},
    }
    lines = [json.dumps(header, ensure_ascii=False)]
    kept_count = {name: 0 for name in CONFIGS}
    changed_count = {name: 0 for name in CONFIGS}
    decisive = {name: 0 for name in CONFIGS}
    n = 0
    for file, docs in inputs:
        for d in docs:
            rec = {"file": file, "id": d["id"], "result": {}, "text": {}, "scores": {}}
            groups = {}
            texts = {}
            for name, (params, group) in CONFIGS.items():
                f = filters[name]
                before = {k: f.stats[k].total for k in ("kept_span", "removed_span")}
                doc = Document(text=d["text"], id=d["id"])
                kept = f.filter(doc)
                decisive[name] += decisive_units(f, params, d["text"])
                assert isinstance(kept, bool)
                spans = [int(f.stats[k].total - before[k]) for k in ("kept_span", "removed_span")]
                rec["result"][name] = [kept] + spans
                kept_count[name] += kept
                if kept and doc.text != d["text"]:
                    rec["text"][name] = {"sha256": text_digest(doc.text)}
                    texts[name] = doc.text
                    changed_count[name] += 1
                meta = dict(doc.metadata)
                if meta:
                    # k=-1 with a softmax model: every label is scored.
                    assert sorted(meta) == sorted(labels), sorted(meta)
                    for v in meta.values():
                        assert type(v) is float
                        if params.get("filter_mode", "DOCUMENT") == "DOCUMENT":
                            # One unit: the score is a float32 widened to float64.
                            assert float(np.float32(v)) == v
                    values = [meta[l] for l in labels]
                else:
                    values = None  # no units (PARAGRAPH mode, empty text)
                if group in groups:
                    assert groups[group] == values, (d["id"], name)
                else:
                    groups[group] = values
            explicit = file == "cases.jsonl" or n % EXPLICIT_EVERY == 0
            if explicit:
                for name, t in rec["text"].items():
                    t["text"] = texts[name]
            for group, values in groups.items():
                if values is None:
                    rec["scores"][group] = None
                else:
                    s = {"sha256": digest(values)}
                    if explicit:
                        s["values"] = values
                    rec["scores"][group] = s
            if not rec["text"]:
                del rec["text"]
            lines.append(json.dumps(rec, ensure_ascii=False))
            n += 1
    data = ("\n".join(lines) + "\n").encode("utf-8")
    with gzip.GzipFile(os.path.join(HERE, "golden.jsonl.gz"), "wb", mtime=0) as g:
        g.write(data)
    print(f"{n} documents", file=sys.stderr)
    for name in CONFIGS:
        print(
            f"{name}: kept {kept_count[name]}, dropped {n - kept_count[name]},"
            f" text changed {changed_count[name]}; units decided by one of several labels:"
            f" {decisive[name]}",
            file=sys.stderr,
        )
        if len(rules_of(CONFIGS[name][0])) > 1:
            assert decisive[name] > 0, name


if __name__ == "__main__":
    main()
