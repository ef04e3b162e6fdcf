#!/usr/bin/env python3
"""Oracle data for the datamill-learn `quantize` tests: fastText 0.9.2's `quantize` of the
committed `../data/debian_small.bin` (trained by datamill, byte-identical to fastText's
`train_supervised` on the same data: see make_golden_fasttext.py).

Pinned: python 3.11, fasttext-numpy2-wheel 0.9.2 (same venv as make_golden_fasttext.py):
    /tmp/learnvenv/bin/pip install fasttext-numpy2-wheel==0.9.2
    /tmp/learnvenv/bin/python crates/datamill-learn/tests/golden/make_golden_quantize.py

For each configuration in CONFIGS, fastText loads debian_small.bin in a fresh process, runs
`model.quantize(**params)` and saves the .ftz; a configuration with "retrain" also gets
`input` = the model's training lines (the debian_sections rows of labeled_sample.jsonl with
i % 5 != 0, `__label__<label> <text, \\n -> space>`, as make_golden_fasttext.py) and
thread = 1. Writes:
* fasttext_quantize.json -- per configuration: params, the .ftz size and FNV-1a-64, or the
  error fastText raised;
* ../data/debian_small.<name>.ftz -- the .ftz of the configurations with a cutoff (their
  pruned-n-gram map is written by fastText in std::unordered_map order, which the test compares
  as a set; everything else byte for byte).
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(os.path.dirname(HERE), "data")
BIN = os.path.join(DATA, "debian_small.bin")

CONFIGS = {
    "plain": {"dsub": 2},
    "dsub3_qnorm": {"dsub": 3, "qnorm": True},
    "cutoff": {"cutoff": 1000, "dsub": 2, "qnorm": True},
    "cutoff300_dsub1": {"cutoff": 300, "dsub": 1},
    "qout": {"dsub": 2, "qout": True},
    "cutoff_retrain": {"cutoff": 1000, "dsub": 2, "qnorm": True, "retrain": True, "epoch": 1,
                       "lr": 0.1},
}
SHARED = os.environ.get("DATAMILL_SHARED", os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(DATA))))),
    "shared"))
SAMPLE = os.path.join(SHARED, "data", "samples", "labeled_sample.jsonl")


def train_txt(path):
    rows = [json.loads(l) for l in open(SAMPLE, encoding="utf-8")]
    rows = [r for r in rows if r.get("dataset") == "debian_sections"]
    with open(path, "w", encoding="utf-8") as f:
        for i, r in enumerate(rows):
            if i % 5 != 0:
                f.write("__label__%s %s\n" % (r["label"], r["text"].replace("\n", " ")))


def fnv64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


CHILD = r"""
import sys, json, fasttext
m = fasttext.load_model(sys.argv[1])
m.quantize(**json.loads(sys.argv[2]))
m.save_model(sys.argv[3])
"""


def main():
    out = {"versions": {"fasttext": "fasttext-numpy2-wheel 0.9.2"}, "model": "debian_small.bin",
           "configs": {}}
    txt = os.path.join(DATA, "train.txt.tmp")
    train_txt(txt)
    for name, params in CONFIGS.items():
        ftz = os.path.join(DATA, "debian_small.%s.ftz" % name)
        tmp = ftz + ".tmp"
        args = dict(params)
        if args.get("retrain"):
            args.update(input=txt, thread=1)
        r = subprocess.run([sys.executable, "-c", CHILD, BIN, json.dumps(args), tmp],
                           capture_output=True, text=True)
        entry = {"params": params}
        if r.returncode != 0:
            entry["error"] = r.stderr.strip().splitlines()[-1]
        else:
            data = open(tmp, "rb").read()
            entry["ftz_bytes"] = len(data)
            entry["ftz_fnv1a64"] = fnv64(data)
            if "cutoff" in params:
                os.replace(tmp, ftz)
                entry["file"] = os.path.basename(ftz)
            else:
                os.remove(tmp)
        out["configs"][name] = entry
        print(name, entry, file=sys.stderr)
    os.remove(txt)
    with open(os.path.join(HERE, "fasttext_quantize.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
