"""Makes diversity_select_samples.json: greedy facility-location selection as submodlib does it
(submodlib-py 0.0.3, FacilityLocationFunction(mode="dense", metric="cosine"),
maximize(optimizer="NaiveGreedy", stopIfZeroGain=False): f(S) = sum_i max(0, max_{j in S} s_ij),
every "nearest similarity" starting at 0), on the shipped samples' MiniLM embeddings
(crates/datamill-embed/tests/golden/minilm_samples.npy, float16 read as float32, L2-normalized as
semdedup_reference.l2_normalize does; ids "d0000".."d3908"). submodlib's kernel is float32, so
gains agree with a float64 kernel to ~1e-5.

Runs:
- "whole": documents 0..599 as one partition, budget 60 documents;
- "kmeans": all 3,909 documents partitioned by the cuVS k-means loop of
  shared/tools/peers/semdedup_reference.py from ../semantic_dedup/init_centroids.npy (k = 24),
  budget 391 documents shared by the partitions in proportion to their sizes (largest remainder:
  floor(K |P| / N) each, the rest one by one to the largest remainders K |P| mod N, lower
  partition first on ties), each partition's quota taken by greedy on that partition alone.

Written: per run, the selected rows in greedy order (per partition for "kmeans") with their gains.
Versions: submodlib-py 0.0.3, numpy 2.4.6, python 3.11.

usage: python make_golden.py PATH/TO/shared/tools/peers
"""
import json
import sys
from pathlib import Path

import numpy as np
from submodlib import FacilityLocationFunction

HERE = Path(__file__).resolve().parent
sys.path.insert(0, sys.argv[1])
import semdedup_reference as ref  # noqa: E402

EMB = HERE.parents[3] / "datamill-embed/tests/golden/minilm_samples.npy"
X32 = ref.l2_normalize(np.load(EMB).astype(np.float32))
X = X32.astype(np.float64)


def greedy(rows, budget):
    if budget == 0:
        return []
    if len(rows) == 1:
        return [(rows[0], float(max(0.0, X[rows[0]] @ X[rows[0]])))]
    f = FacilityLocationFunction(n=len(rows), mode="dense", data=X[rows], metric="cosine")
    got = f.maximize(budget=budget, optimizer="NaiveGreedy", stopIfZeroGain=False,
                     show_progress=False)
    return [(int(rows[i]), float(g)) for i, g in got]


def quotas(sizes, k):
    n = sum(sizes)
    base = [k * s // n for s in sizes]
    rem = sorted(range(len(sizes)), key=lambda p: (-(k * sizes[p] % n), p))
    for p in rem[:k - sum(base)]:
        base[p] += 1
    return base


out = {"runs": []}
sel = greedy(list(range(600)), 60)
out["runs"].append({"name": "whole", "rows": 600, "budget": 60,
                    "partitions": [{"rows": list(range(600)), "selected": sel}]})
init = np.load(HERE.parent / "semantic_dedup/init_centroids.npy")
C, labels, info = ref.kmeans_cuvs(X32, init, max_iter=300, tol=1e-4)
members = [np.flatnonzero(labels == c).tolist() for c in range(C.shape[0])]
q = quotas([len(m) for m in members], 391)
parts = []
for m, b in zip(members, q):
    parts.append({"size": len(m), "quota": b, "selected": greedy(m, b)})
out["runs"].append({"name": "kmeans", "rows": X.shape[0], "budget": 391,
                    "labels": labels.tolist(), "partitions": parts})
print("whole", len(sel), "kmeans", sum(len(p["selected"]) for p in parts), q)
(HERE / "diversity_select_samples.json").write_text(json.dumps(out) + "\n")
