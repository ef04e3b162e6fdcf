#!/usr/bin/env python3
"""Golden outputs of datatrove 0.10.1's MinHash with 32-bit hashes (`HashConfig(precision=32)`).

Run from this folder with a Python holding datatrove==0.10.1 (spacy 3.8.18, xxhash 3.8.2,
numpy 2.4.6; e.g. /work/lang-venv):

    /work/lang-venv/bin/python make_golden_32.py

Input: the repository's examples/data/neardup_sample.jsonl.gz (1,731 docs). The 4 stages run
as the peer driver runs them (`../shared/tools/peers/datatrove_minhash.py`, one task per stage
except 14 bucket tasks) with `MinhashConfig(hash_config=HashConfig(precision=32))` (xxhash32
shingles, hashes masked to 32 bits, uint32 signatures), save_cluster_id / save_cluster_size on.
Writes neardup_sample.p32.removed.txt (removed ids, input order) and
neardup_sample.p32.clusters.jsonl ({"cluster","size","kept","members"}).
"""
import gzip
import json
import os
import shutil
import struct
import tempfile

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster,
                                              MinhashDedupFilter, MinhashDedupSignature)
from datatrove.pipeline.readers import JsonlReader
from datatrove.utils.hashing import HashConfig

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, "../../../../../examples/data/neardup_sample.jsonl.gz")


def main():
    tmp = tempfile.mkdtemp(prefix="mh32_")
    inp = os.path.join(tmp, "in")
    os.makedirs(inp)
    lines = [l for l in gzip.open(SAMPLE, "rt", encoding="utf-8") if l.strip()]
    with open(os.path.join(inp, "sample.jsonl"), "w", encoding="utf-8") as f:
        f.writelines(lines)
    ids = [json.loads(l)["id"] for l in lines]
    work, logs = os.path.join(tmp, "work"), os.path.join(tmp, "logs")
    cfg = MinhashConfig(hash_config=HashConfig(precision=32))
    reader = lambda: JsonlReader(inp, glob_pattern="*.jsonl")
    stages = [
        ([reader(), MinhashDedupSignature(output_folder=f"{work}/sigs", config=cfg, language="en")], 1),
        ([MinhashDedupBuckets(input_folder=f"{work}/sigs", output_folder=f"{work}/buckets", config=cfg)],
         cfg.num_buckets),
        ([MinhashDedupCluster(input_folder=f"{work}/buckets", output_folder=f"{work}/remove", config=cfg,
                              save_cluster_id=True, save_cluster_size=True)], 1),
    ]
    for i, (pipeline, tasks) in enumerate(stages):
        LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=1, logging_dir=f"{logs}/{i}",
                              skip_completed=False).run()
    removed = set()
    p = f"{work}/remove/000000.remove"
    if os.path.exists(p):
        removed = {x[0] for x in struct.iter_unpack("<I", open(p, "rb").read())}
    clusters = {}
    p = f"{work}/remove/000000.clusters"
    if os.path.exists(p):
        for doc, cid in struct.iter_unpack("<II", open(p, "rb").read()):
            clusters.setdefault(cid, []).append(doc)
    with open(os.path.join(HERE, "neardup_sample.p32.removed.txt"), "w") as f:
        f.writelines(ids[i] + "\n" for i in sorted(removed))
    with open(os.path.join(HERE, "neardup_sample.p32.clusters.jsonl"), "w") as f:
        for cid in sorted(clusters):
            members = sorted(clusters[cid])
            kept = [m for m in members if m not in removed]
            f.write(json.dumps({"cluster": cid, "size": len(members), "kept": ids[kept[0]],
                                "members": [ids[m] for m in members]}) + "\n")
    print("removed", len(removed), "clusters", len(clusters))
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
