#!/usr/bin/env python3
"""Golden outputs of datatrove 0.10.1's n-gram decontamination (NGramsDecontIndexer on input
documents -> NGramsDecontFilter) for datamill's `ngrams_decont` stage.

Run from this folder with the Python of ../sentence_dedup/make_golden.py (/work/peers-venv):

    /work/peers-venv/bin/python make_golden.py

datatrove's indexer also loads lighteval tasks (network); it is given none, and a stand-in
`lighteval` module (an empty task registry; the class's dependency check is switched off) lets
its run() go through. The benchmark items are
datatrove input documents (text = label, metadata query / task), written to bench.jsonl
(the file datamill reads): items modelled on datatrove's tests/pipeline/test_ngrams_decont.py
(hellaswag-like query/label pairs around its test texts) and items cut from real text
(every 25th document of examples/data/en_prose_sample.jsonl.zst: query = its first 40 words,
label = the next 60, in 4 tasks, one with a space in its name). Training documents: datatrove's
test documents, the en_prose and neardup samples (real text), crafted ones. Writes
golden.json.gz: per case the configuration and, per training document, null (kept) or
[contaminated_ngram, contaminated_task].
"""
import gzip
import io
import json
import os
import sys
import tempfile
import importlib.machinery
import types

import zstandard

# stand-in lighteval: an empty task registry (no task names are passed)
lt = types.ModuleType("lighteval")
tasks = types.ModuleType("lighteval.tasks")
lt_task = types.ModuleType("lighteval.tasks.lighteval_task")
registry = types.ModuleType("lighteval.tasks.registry")


class _Registry:
    def __init__(self, *a, **k):
        pass

    def get_task_dict(self, names):
        assert not names
        return {}


class _LightevalTask:
    @staticmethod
    def load_datasets(tasks):
        assert not list(tasks)


for m in (lt, tasks, lt_task, registry):
    m.__spec__ = importlib.machinery.ModuleSpec(m.__name__, None)
registry.Registry = _Registry
lt_task.LightevalTask = _LightevalTask
sys.modules.update({"lighteval": lt, "lighteval.tasks": tasks, "lighteval.tasks.lighteval_task": lt_task,
                    "lighteval.tasks.registry": registry})

from datatrove.data import Document  # noqa: E402
from datatrove.pipeline.decont import NGramsDecontConfig, NGramsDecontFilter, NGramsDecontIndexer  # noqa: E402
from datatrove.utils.hashing import HashConfig  # noqa: E402

# its dependency check looks for an installed lighteval distribution: the stand-in has none
NGramsDecontIndexer._requires_dependencies = []

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "../../../../../examples/data")

# datatrove tests/pipeline/test_ngrams_decont.py's training texts
TEXTS = [
    "A lady walks to a barbell. She bends down and grabs the pole.",
    "get into formation, then begin dancing and flipping as male cheerleaders join them.",
    "He is using commercial lawn mowing equipment. he walks back and forth as he mows the grass.",
    "He is using commercial lawn mowing equipment. he is animated as he does the task.",
    "walks outside plugs his lawn mower in and gets ready to mow",
    "",
    "walks outside plugs his lawn mower in and gets ready to",
]
TEST_DOCS = ["Nothing is so painful to the human mind as a great and sudden change. " + t
             + " Beware; for I am fearless, and therefore powerful." for t in TEXTS]
# hellaswag-like items around them (query = context, text = gold ending)
TEST_ITEMS = [
    {"id": "hs-0", "task": "leaderboard|hellaswag|10",
     "query": "A lady walks to a barbell. She bends down and grabs the pole. The lady",
     "text": "swings and lands in her arms."},
    {"id": "hs-1", "task": "leaderboard|hellaswag|10",
     "query": "Two women in a child are shown in a canoe while a man pulls the canoe while standing in the water. The women",
     "text": "get into formation, then begin dancing and flipping as male cheerleaders join them."},
    {"id": "hs-2", "task": "leaderboard|hellaswag|10",
     "query": "A man is standing in a yard. He is using commercial lawn mowing equipment. he",
     "text": "walks back and forth as he mows the grass."},
    {"id": "hs-3", "task": "leaderboard|hellaswag|10",
     "query": "A man walks outside plugs his lawn mower in and gets ready to mow. He",
     "text": "starts mowing the lawn and moves back and forth."},
]
CRAFTED = [
    "",
    "swings and lands in her arms",
    "Swings, and LANDS in her arms!!! 1,000 times.",
    "x " * 30,
]


def read(path):
    op = (lambda p: io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(open(p, "rb")), encoding="utf-8")) \
        if path.endswith(".zst") else (lambda p: gzip.open(p, "rt", encoding="utf-8"))
    with op(path) as f:
        return [json.loads(l)["text"] for l in f if l.strip()]


def items_from(real):
    out = []
    names = ["mmlu", "arc challenge", "gsm8k", "mmlu"]
    for k, t in enumerate(real[::25]):
        w = t.split()
        if len(w) < 60:
            continue
        out.append({"id": f"real-{k}", "task": names[k % 4] if k % 7 else "zz_shared",
                    "query": " ".join(w[:40]), "text": " ".join(w[40:100])})
    return out


def run(items, texts, config):
    with tempfile.TemporaryDirectory() as d:
        docs = [Document(text=it["text"], id=it["id"],
                         metadata={k: it[k] for k in ("query", "task") if k in it}) for it in items]
        NGramsDecontIndexer(d, config=config).run(docs)
        f = NGramsDecontFilter(d, config=config)
        out = []
        for i, t in enumerate(texts):
            doc = Document(text=t, id=str(i))
            r = f.filter(doc)
            if r is True:
                out.append(None)
            else:
                out.append([doc.metadata["contaminated_ngram"], doc.metadata["contaminated_task"]])
        return out


def main():
    en = read(os.path.join(DATA, "en_prose_sample.jsonl.zst"))
    real = en + read(os.path.join(DATA, "neardup_sample.jsonl.gz"))
    items = TEST_ITEMS + items_from(en)
    with open(os.path.join(HERE, "bench.jsonl"), "w", encoding="utf-8") as f:
        for it in items:
            f.write(json.dumps(it, ensure_ascii=False) + "\n")
    texts = TEST_DOCS + CRAFTED + real
    g = {"datatrove": "0.10.1", "test_docs": TEST_DOCS, "crafted": CRAFTED, "items": len(items), "cases": []}
    cases = [
        ("defaults", {}),
        ("label_only", dict(find_query_ngrams=False, find_overlap_ngrams=False)),
        ("query", dict(find_query_ngrams=True, find_overlap_ngrams=False)),
        ("query_overlap_n8", dict(find_query_ngrams=True, n_grams=8)),
        ("n5_xx32", dict(n_grams=5, hash_config=HashConfig(precision=32))),
        ("n6_sha1", dict(n_grams=6, hash_config=HashConfig(hash_fc="sha1"))),
    ]
    for name, cfg in cases:
        out = run(items, texts, NGramsDecontConfig(**cfg))
        jcfg = {k: v for k, v in cfg.items() if k != "hash_config"}
        if "hash_config" in cfg:
            jcfg["hash_precision"] = cfg["hash_config"].precision
            jcfg["hash_fc"] = cfg["hash_config"].hash_fc
        g["cases"].append({"name": name, "config": jcfg, "out": out})
        print(name, "contaminated", sum(o is not None for o in out), "of", len(out),
              "test docs kept", [i for i in range(len(TEST_DOCS)) if out[i] is None])
    with open(os.path.join(HERE, "golden.json.gz"), "wb") as f:
        f.write(gzip.compress(json.dumps(g, ensure_ascii=False).encode(), mtime=0))


if __name__ == "__main__":
    main()
