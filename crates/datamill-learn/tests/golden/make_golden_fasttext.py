#!/usr/bin/env python3
"""Oracle data for the datamill-learn `train` tests (C++ fastText 0.9.2).

Pinned: python 3.11, fasttext-numpy2-wheel 0.9.2, numpy 2.4.6 (same venv as make_golden_cleanlab.py):
    /tmp/learnvenv/bin/pip install fasttext-numpy2-wheel==0.9.2 numpy==2.4.6
    /tmp/learnvenv/bin/python crates/datamill-learn/tests/golden/make_golden_fasttext.py
(needs cargo: it builds and runs `datamill train-classifier` to produce datamill's model).

Data: the `debian_sections` rows of labeled_sample.jsonl; row i (in file order) is held out when
i % 5 == 0, the rest is the training set. fastText lines: `__label__<label> <text, \\n -> space>`.

Writes:
* fasttext_train.json -- for each configuration in CONFIGS: the hyperparameters, fastText's
  held-out accuracy (top-1 == label), its number of words/labels, the size and FNV-1a-64 of the
  .bin fastText's train_supervised saved (thread=1, seed=0, each in a fresh process);
* ../data/debian_small.bin -- the "small" configuration trained by **datamill**;
* debian_small.fasttext.jsonl -- fastText's `load_model(debian_small.bin).predict(text, k=2)` on
  every held-out text (newlines -> spaces): {"id", "labels", "probs"}.
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CRATE = os.path.dirname(os.path.dirname(HERE))
REPO = os.path.dirname(os.path.dirname(CRATE))
SHARED = os.environ.get("DATAMILL_SHARED", os.path.join(os.path.dirname(REPO), "shared"))
SAMPLE = os.path.join(SHARED, "data", "samples", "labeled_sample.jsonl")
DATA = os.path.join(CRATE, "tests", "data")

CONFIGS = {
    # the accuracy-parity configuration
    "proof": dict(epoch=10, lr=1.0, dim=10, wordNgrams=2, bucket=20000, minCount=1, minn=0, maxn=0),
    # the committed model: small (char n-grams + word trigrams exercise every row kind)
    "small": dict(epoch=2, lr=0.4, dim=4, wordNgrams=3, bucket=2000, minCount=2, minn=3, maxn=4),
}


def fnv64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def rows():
    out = []
    with open(SAMPLE, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            if d.get("dataset") == "debian_sections":
                out.append(d)
    return out


def prep(t):
    return t.replace("\n", " ")


def train_one(cfg_name, train_txt, out_bin):
    import fasttext
    kw = dict(CONFIGS[cfg_name], thread=1, seed=0, verbose=0)
    m = fasttext.train_supervised(input=train_txt, **kw)
    m.save_model(out_bin)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "train-one":
        train_one(sys.argv[2], sys.argv[3], sys.argv[4])
        return
    import fasttext
    import numpy as np
    rs = rows()
    train = [r for i, r in enumerate(rs) if i % 5 != 0]
    held = [r for i, r in enumerate(rs) if i % 5 == 0]
    res = {"versions": {"fasttext": "fasttext-numpy2-wheel 0.9.2", "numpy": np.__version__},
           "train_rows": len(train), "held_out_rows": len(held), "configs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        txt = os.path.join(tmp, "train.txt")
        with open(txt, "w", encoding="utf-8") as f:
            for r in train:
                f.write("__label__%s %s\n" % (r["label"], prep(r["text"])))
        jsonl = os.path.join(tmp, "train.jsonl")
        with open(jsonl, "w", encoding="utf-8") as f:
            for r in train:
                f.write(json.dumps({"text": r["text"], "label": r["label"]}, ensure_ascii=False) + "\n")
        for name, cfg in CONFIGS.items():
            ft_bin = os.path.join(tmp, name + ".ft.bin")
            # fresh process per model: fastText 0.9.2 leaves 90% of the input matrix
            # uninitialized (thread=1), which is zero only in fresh memory
            subprocess.run([sys.executable, __file__, "train-one", name, txt, ft_bin], check=True)
            m = fasttext.load_model(ft_bin)
            ok = sum(1 for r in held if m.predict(prep(r["text"]), k=1)[0][0] == "__label__" + r["label"])
            data = open(ft_bin, "rb").read()
            dm_bin = os.path.join(tmp, name + ".dm.bin")
            subprocess.run(["cargo", "run", "-q", "--release", "-p", "datamill-cli", "--",
                            "train-classifier", "--input", jsonl, "--output", dm_bin,
                            "--epoch", str(cfg["epoch"]), "--lr", str(cfg["lr"]), "--dim", str(cfg["dim"]),
                            "--word-ngrams", str(cfg["wordNgrams"]), "--bucket", str(cfg["bucket"]),
                            "--min-count", str(cfg["minCount"]), "--minn", str(cfg["minn"]),
                            "--maxn", str(cfg["maxn"]), "--seed", "0"],
                           check=True, cwd=REPO)
            dm = open(dm_bin, "rb").read()
            dmm = fasttext.load_model(dm_bin)
            dm_ok = sum(1 for r in held if dmm.predict(prep(r["text"]), k=1)[0][0] == "__label__" + r["label"])
            res["configs"][name] = {"params": cfg, "fasttext_accuracy": ok / len(held),
                                    "fasttext_correct": ok, "datamill_accuracy_by_fasttext": dm_ok / len(held),
                                    "words": len(m.words), "labels": len(m.labels),
                                    "bin_bytes": len(data), "bin_fnv1a64": fnv64(data),
                                    "datamill_bin_identical": dm == data}
            print(name, res["configs"][name])
            if name == "small":
                with open(os.path.join(DATA, "debian_small.bin"), "wb") as f:
                    f.write(dm)
                with open(os.path.join(HERE, "debian_small.fasttext.jsonl"), "w", encoding="utf-8") as f:
                    for r in held:
                        labels, probs = dmm.predict(prep(r["text"]), k=2)
                        f.write(json.dumps({"id": r["id"], "labels": list(labels),
                                            "probs": [float(p) for p in probs]}, ensure_ascii=False) + "\n")
    with open(os.path.join(HERE, "fasttext_train.json"), "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
