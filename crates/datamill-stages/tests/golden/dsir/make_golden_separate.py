#!/usr/bin/env python3
"""Golden outputs of data-selection 1.0.3 with several targets (`separate_targets=True`), for
the `dsir` stage's `separate_targets` / `target_proportions`.

Same venv and pins as make_golden.py (README.md). Run from this folder:

    /tmp/dsirvenv/bin/python make_golden_separate.py [path/to/en_prose_sample.jsonl]

Raw = scenario C of make_golden.py (the first 600 sample docs cut into 16-word chunks,
min_example_length=8). Targets, in this order: the sample's `shard == "manpages"` lines and its
`shard == "fortunes"` lines, each written verbatim to its own file. num_proc=1.

Writes separate.json: per case the target token totals the reference fitted, its proportions,
the per-target quotas and the selected ids (raw order).
"""
import json
import os
import shutil
import sys
import tempfile

import numpy as np
from data_selection import HashedNgramDSIR

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_RAW = os.path.join(HERE, "../../../../../../shared/data/samples/en_prose_sample.jsonl")
K = 600


def main():
    raw_path = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_RAW)
    tmp = tempfile.mkdtemp(prefix="dsir_sep_")
    lines = [l for l in open(raw_path, encoding="utf-8").read().split("\n") if l]
    targets = []
    for shard in ["manpages", "fortunes"]:
        p = os.path.join(tmp, f"target_{shard}.jsonl")
        with open(p, "w", encoding="utf-8") as f:
            for l in lines:
                if json.loads(l).get("shard") == shard:
                    f.write(l + "\n")
        targets.append(p)
    chunk_lines = []
    for l in lines[:600]:
        r = json.loads(l)
        words = r["text"].split()
        for j in range(0, len(words), 16):
            chunk_lines.append(json.dumps({"id": f"{r['id']}#{j // 16}",
                                           "text": " ".join(words[j:j + 16])}, ensure_ascii=False))
    raw = os.path.join(tmp, "raw.jsonl")
    with open(raw, "w", encoding="utf-8") as f:
        for l in chunk_lines:
            f.write(l + "\n")
    ids = [json.loads(l)["id"] for l in chunk_lines]

    out = {"k": K, "min_example_length": 8, "targets": ["manpages", "fortunes"], "cases": {}}
    cases = [
        ("default_seed0", None, 0, False),
        ("default_seed7", None, 7, False),
        ("quarter_seed0", [1.0, 3.0], 0, False),
        ("half_top_k", [0.5, 0.5], None, True),
    ]
    for name, props, seed, top_k in cases:
        cache = os.path.join(tmp, "cache_" + name)
        dsir = HashedNgramDSIR([raw], targets, cache_dir=cache, num_proc=1, min_example_length=8,
                               separate_targets=True, target_proportions=props)
        dsir.fit_importance_estimator(num_tokens_to_fit="auto")
        dsir.compute_importance_weights()
        if seed is not None:
            np.random.seed(seed)
        o = os.path.join(tmp, "sel_" + name)
        dsir.resample(out_dir=o, num_to_sample=K, cache_dir=o + "_tmp", top_k=top_k)
        chosen = {json.loads(l)["id"] for l in open(os.path.join(o, "0.jsonl"), encoding="utf-8")}
        quotas = [int(K * p) for p in dsir.target_proportions]
        quotas[-1] += K - sum(quotas)
        out["cases"][name] = {
            "target_proportions": props,
            "seed": seed,
            "top_k": top_k,
            "proportions": [repr(float(p)) for p in dsir.target_proportions],
            "quotas": quotas,
            "selected": [i for i in ids if i in chosen],
        }
        print(name, quotas, len(chosen))
    # Ties under top_k: every chunk three times (ids suffixed ~0, ~1, ~2), one target
    # (manpages), k = 1001, 1030 and 1033: the cut falls inside a group of equal weights (at
    # 1030 and 1033 numpy keeps a later copy, not the first); the set is np.argpartition's
    # choice among equal keys.
    tied = []
    for l in chunk_lines:
        r = json.loads(l)
        for c in range(3):
            tied.append(json.dumps({"id": f"{r['id']}~{c}", "text": r["text"]}, ensure_ascii=False))
    tied_path = os.path.join(tmp, "tied.jsonl")
    with open(tied_path, "w", encoding="utf-8") as f:
        for l in tied:
            f.write(l + "\n")
    cache = os.path.join(tmp, "cache_ties")
    dsir = HashedNgramDSIR([tied_path], targets[:1], cache_dir=cache, num_proc=1,
                           min_example_length=8)
    dsir.fit_importance_estimator(num_tokens_to_fit="auto")
    dsir.compute_importance_weights()
    out["ties_top_k"] = {}
    for k in [1001, 1030, 1033]:
        o = os.path.join(tmp, f"sel_ties_{k}")
        dsir.resample(out_dir=o, num_to_sample=k, cache_dir=o + "_tmp", top_k=True)
        chosen = {json.loads(l)["id"] for l in open(os.path.join(o, "0.jsonl"), encoding="utf-8")}
        out["ties_top_k"][str(k)] = [json.loads(l)["id"] for l in tied
                                     if json.loads(l)["id"] in chosen]
    with open(os.path.join(HERE, "separate.json"), "w") as f:
        json.dump(out, f, indent=0)
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
