#!/usr/bin/env python3
"""Pairwise precision / recall of minhash_dedup clusters against the ground-truth `cluster` field
of the neardup sample, per shard kind (stdlib only).

Usage: bench/minhash_quality.py [--datamill BIN] [--input NEARDUP.jsonl] [--peer NAME=CLUSTERS.jsonl ...]
                                [--config NAME='toml lines' ...] [--workdir DIR]
Runs `datamill run` once per configuration (default: the configurations of the docs table) on the
input and reads OUT/reports/minhash_dedup/clusters.jsonl. Peers' cluster files ({"members": [...]}
or {"kept": id, "removed": [...]}) can be added, e.g. datatrove's golden clusters.

A predicted pair is two documents in one output cluster (the kept one and each removed one, and
removed ones between them); a true pair is two documents of one shard kind with the same `cluster`
label. Precision = true predicted pairs / predicted pairs, recall = true predicted pairs / true pairs,
per shard kind (a predicted pair across kinds counts as false in the `all` row only).
Prints a Markdown table.
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.environ.get("SHARED", os.path.join(os.path.dirname(ROOT), "shared"))

CONFIGS = [
    ("default (words, 5-grams, 14x8)", ""),
    ("default + verify 0.8", "verify = true"),
    ("default, 20x10", "bands = 20\nrows = 10"),
    ("default, 9x13 + verify 0.8", "bands = 9\nrows = 13\nverify = true"),
    ("words, 3-grams, 14x8", "ngram = 3"),
    ("simplify, 14x8", "normalize = \"simplify\""),
    ("compat = datatrove", "compat = \"datatrove\""),
    ("compat = datatrove + verify 0.8", "compat = \"datatrove\"\nverify = true"),
]


def kind(rec):
    src, cs = rec.get("source", ""), rec.get("cluster_source", "")
    if src == "npm-package-readme":
        return "npm_readmes"
    if src == "pypi-wheel-metadata":
        return "pypi_readmes"
    if src == "boost-html-docs":
        return "boost_docs"
    if src == "cargo-crate" and cs.startswith("same crate"):
        return "crate_versions"
    return "licenses"


def pairs(n):
    return n * (n - 1) // 2


def load_clusters(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            m = r.get("members") or ([r["kept"]] if r.get("kept") is not None else []) + r.get("removed", [])
            out.append(m)
    return out


def score(clusters, info):
    """info: id -> (kind, label). Returns {kind: (predicted pairs, true predicted pairs, true pairs)}."""
    gt = collections.Counter()
    by_label = collections.Counter(info.values())
    for (k, _), n in by_label.items():
        gt[k] += pairs(n)
    pred, tp = collections.Counter(), collections.Counter()
    total_pred = 0
    for m in clusters:
        total_pred += pairs(len(m))
        kinds = collections.Counter(info[x][0] for x in m)
        labels = collections.Counter(info[x] for x in m)
        for k, n in kinds.items():
            pred[k] += pairs(n)
        for (k, _), n in labels.items():
            tp[k] += pairs(n)
    rows = {k: (pred[k], tp[k], gt[k]) for k in sorted(gt)}
    rows["all"] = (total_pred, sum(tp.values()), sum(gt.values()))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datamill", default=os.path.join(ROOT, "target", "release", "datamill"))
    ap.add_argument("--input", default=os.path.join(SHARED, "data", "samples", "neardup_sample.jsonl"))
    ap.add_argument("--peer", action="append", default=[], help="NAME=clusters.jsonl")
    ap.add_argument("--config", action="append", default=[], help="NAME=toml lines (replaces the default list)")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--no-runs", action="store_true", help="only score the --peer files")
    args = ap.parse_args()
    info = {}
    with open(args.input, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            info[r["id"]] = (kind(r), r["cluster"])
    configs = [tuple(c.split("=", 1)) for c in args.config] or CONFIGS
    if args.no_runs:
        configs = []
    work = args.workdir or tempfile.mkdtemp(prefix="minhash_quality_")
    results = []
    for i, (name, body) in enumerate(configs):
        d = os.path.join(work, f"run{i}")
        os.makedirs(d, exist_ok=True)
        toml = os.path.join(d, "pipeline.toml")
        with open(toml, "w") as f:
            f.write(f'version = 1\n[input]\npaths = ["{os.path.abspath(args.input)}"]\n'
                    f'[[stage]]\ntype = "minhash_dedup"\n{body}\n[output]\nexcluded = false\n')
        t = time.time()
        subprocess.run([args.datamill, "run", toml, "--output", os.path.join(d, "out"), "--quiet", "--force"],
                       check=True)
        secs = time.time() - t
        results.append((name, load_clusters(os.path.join(d, "out", "dedup", "minhash_dedup", "clusters.jsonl")), secs))
    for p in args.peer:
        name, path = p.rsplit("=", 1)
        results.append((name, load_clusters(path), None))
    kinds = None
    print("| configuration | removed | " + " | ".join(["all P / R"] + [f"{k} P / R" for k in sorted(set(v[0] for v in info.values()))]) + " |")
    for name, clusters, _ in results:
        rows = score(clusters, info)
        kinds = kinds or [k for k in rows if k != "all"]
        removed = sum(len(m) - 1 for m in clusters)
        cells = []
        for k in ["all"] + kinds:
            pred, tp, gt = rows[k]
            p = f"{tp / pred:.3f}" if pred else "–"
            r = f"{tp / gt:.3f}" if gt else "–"
            cells.append(f"{p} / {r}")
        print(f"| {name} | {removed} | " + " | ".join(cells) + " |")
    gt_rows = score([], info)
    print("\ntrue pairs per kind: " + ", ".join(f"{k} {v[2]}" for k, v in gt_rows.items()), file=sys.stderr)


if __name__ == "__main__":
    main()
