#!/usr/bin/env python3
"""Golden outputs of datatrove 0.10.1 for the datatrove steps datamill added in issue 15.2.

Run from this folder with a Python holding datatrove==0.10.1, spacy==3.8.18, numpy==2.4.6,
orjson and zstandard (made as /work/peers-venv: python3.11 -m venv v && v/bin/pip install
datatrove==0.10.1 spacy==3.8.18 numpy==2.4.6 xxhash==3.8.2 tokenizers==0.23.3 orjson zstandard):

    /work/peers-venv/bin/python make_golden.py

Inputs (in the repo): examples/data/en_prose_sample.jsonl.zst (2,178 docs) and
examples/data/neardup_sample.jsonl.gz, plus the crafted texts below (symbol lines are rare in
prose). UnigramLogProbFilter reads `unigram_freq_sample.csv` (committed: the 3,000 most
frequent `[a-z']+` words of every other en_prose document, counts x 1,000,003, in the shape of
Google's unigram_freq.csv, which datatrove downloads and the machine cannot reach). Writes steps.json.gz: per step and input document (by index), datatrove's verdict or
the SHA-256 of its output text (only where it differs from the input).
"""
import gzip
import hashlib
import io
import json
import os

import shutil
import tempfile

import zstandard

# datatrove's UnigramLogProbFilter reads unigram_freq.csv from the Hugging Face assets cache
# (downloading it when absent): point the cache at a folder holding our local file.
_ASSETS = tempfile.mkdtemp(prefix="hf_assets_")
os.environ["HF_ASSETS_CACHE"] = _ASSETS
_HERE = os.path.dirname(os.path.abspath(__file__))
os.makedirs(os.path.join(_ASSETS, "datatrove", "filters", "unigram_logprob_filter"))
shutil.copy(os.path.join(_HERE, "unigram_freq_sample.csv"),
            os.path.join(_ASSETS, "datatrove", "filters", "unigram_logprob_filter", "unigram_freq.csv"))

import datatrove
from datatrove.pipeline.filters.unigram_log_probs import UnigramLogProbFilter
from datatrove.pipeline.filters.lambda_filter import LambdaFilter
import operator

# metadata comparisons: (field value, operator, operand) -> LambdaFilter's verdict or "TypeError"
META = [(v, op, b) for v in [0, 1, 2, 2.5, -1, 9007199254740993, "a", "b", "é", "10", True, None,
                             [1, "x"], {"x": 1}, "xyz"]
        for op, b in [("gt", 1), ("ge", 2), ("lt", 2.5), ("le", "b"), ("gt", "a"),
                      ("gt", 9007199254740992), ("contains", "x"), ("contains", 1)]]
OPS = {"gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le,
       "contains": lambda v, b: b in v}
from datatrove.pipeline.filters.c4_filters import C4ParagraphFilter
from datatrove.pipeline.formatters.symbol_lines_remover import SymbolLinesFormatter
from datatrove.data import Document

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "../../../../../examples/data")

CRAFTED = [
    "Title\n-----\n\nBody text.\n",
    "a\n* * *\n---\nb",
    "a\r\n-\t-\r\n   \r\nb",
    "a\n-\n\n-\nb",
    "a\u2028---\u2029b\x85c\x0b...\x0cd\x1c!!\x1d\x1e,,\re",
    "。。。\n「」\nfoo\n►►\n»\n",
    "   \n\t\n",
    "",
    "-",
    "-\n",
    "x\n\n\n",
    ("p" * 200 + "\n") * 3,
    ("é" * 200 + "\n") * 2 + "é" * 199,
    ("q" * 250 + "\r\n") * 3,
]


def inputs():
    texts = []
    with open(os.path.join(DATA, "en_prose_sample.jsonl.zst"), "rb") as f:
        r = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(f), encoding="utf-8")
        texts += [json.loads(l)["text"] for l in r if l.strip()]
    with gzip.open(os.path.join(DATA, "neardup_sample.jsonl.gz"), "rt", encoding="utf-8") as f:
        texts += [json.loads(l)["text"] for l in f if l.strip()]
    return texts + CRAFTED


def main():
    texts = inputs()
    out = {"datatrove": datatrove.__version__ if hasattr(datatrove, "__version__") else "0.10.1",
           "docs": len(texts), "crafted": CRAFTED}
    c4p = C4ParagraphFilter()
    out["c4_paragraph_dropped"] = [i for i, t in enumerate(texts)
                                   if c4p.filter(Document(text=t, id=str(i))) is not True]
    for name, fmt in [("symbol_lines", SymbolLinesFormatter()),
                      ("symbol_lines_nl", SymbolLinesFormatter(replace_char="\n"))]:
        # SHA-256 of the output text where it differs from the input.
        out[name] = {str(i): hashlib.sha256(o.encode()).hexdigest()
                     for i, t in enumerate(texts) if (o := fmt.format(t)) != t}
    uni = UnigramLogProbFilter()
    assert len(uni.unigram_frequencies) == 3000, "the local frequency file was not used"
    out["unigram_logprob"] = [repr(float(uni.get_logprob(Document(text=t, id=str(i)))))
                              for i, t in enumerate(texts)]
    out["unigram_kept_minus10"] = [i for i, t in enumerate(texts)
                                   if uni.filter(Document(text=t, id=str(i)))]
    meta = []
    for v, op, b in META:
        f = LambdaFilter(lambda d, op=op, b=b: OPS[op](d.metadata["v"], b))
        try:
            r = bool(f.filter(Document(text="", id="0", metadata={"v": v})))
        except TypeError:
            r = "TypeError"
        meta.append([v, op, b, r])
    out["metadata"] = meta
    with open(os.path.join(HERE, "steps.json.gz"), "wb") as f:
        f.write(gzip.compress(json.dumps(out, ensure_ascii=False).encode(), mtime=0))
    print({k: (len(v) if isinstance(v, (list, dict)) else v) for k, v in out.items()})


if __name__ == "__main__":
    main()
