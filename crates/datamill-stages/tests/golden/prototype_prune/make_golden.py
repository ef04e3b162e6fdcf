"""Makes prototype_prune_samples.json: SSL-prototype pruning (Sorscher et al. 2022) as DeepCore's
SelfSupervisedPrototypes does it (PatrikOkanovic/RS2 src/DeepCore/deepcore/methods/selfproto.py:
per cluster, members in input order, Python's stable sort by distance to the centroid, reversed
for hard examples, keep the first round(len * fraction); Python's round, half to even) and the
paper's global variant (the same over all documents at once), on the shipped samples' MiniLM
embeddings (crates/datamill-embed/tests/golden/minilm_samples.npy, float16 read as float32, ids
"d0000".."d3908", L2-normalized as semdedup_reference.l2_normalize does).

Clusters: the cuVS k-means loop of shared/tools/peers/semdedup_reference.py from the same initial
centroids as the semantic_dedup golden (../semantic_dedup/init_centroids.npy, k = 24), max_iter
300, tol 1e-4 (DeepCore's own scikit-learn k-means++ with n_init=4 is random: the centroids are
injected, as selection-methods.md section 2 says a port must be checked).

Distances (float64 from the float32 vectors and centroid): cosine = 1 - x.c / (|x| |c|) (scipy's
distance.cosine, raw centroid), l2 = |x - c|.

Written: for every (scope, keep, distance, fraction) the kept rows (sorted), and per document the
cluster and both distances. Versions: numpy 2.4.6, python 3.11.

usage: python make_golden.py PATH/TO/shared/tools/peers
"""
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, sys.argv[1])
import semdedup_reference as ref  # noqa: E402

EMB = HERE.parents[3] / "datamill-embed/tests/golden/minilm_samples.npy"
X32 = ref.l2_normalize(np.load(EMB).astype(np.float32))
init = np.load(HERE.parent / "semantic_dedup/init_centroids.npy")
C32, labels, info = ref.kmeans_cuvs(X32, init, max_iter=300, tol=1e-4)
X, C = X32.astype(np.float64), C32.astype(np.float64)
cent = C[labels]
cos = 1.0 - np.einsum("ij,ij->i", X, cent) / (np.linalg.norm(X, axis=1) * np.linalg.norm(cent, axis=1))
l2 = np.sqrt(((X - cent) ** 2).sum(axis=1))
dists = {"cosine": cos, "l2": l2}


def select(rows, dist, keep, fraction):
    """DeepCore: array.sort(key=distance, reverse=hard); array[:round(len(array) * fraction)]."""
    arr = sorted(rows, key=lambda r: dist[r], reverse=(keep == "hard"))
    return arr[:round(len(arr) * fraction)]


out = {"k": int(C.shape[0]), "n_iter": info["n_iter"], "labels": labels.tolist(),
       "cosine": cos.tolist(), "l2": l2.tolist(), "runs": []}
n = X.shape[0]
for scope in ("global", "per_cluster"):
    for keep in ("hard", "easy"):
        for metric in ("cosine", "l2"):
            for fraction in (0.1, 0.5, 0.75):
                if scope == "global":
                    kept = select(range(n), dists[metric], keep, fraction)
                else:
                    kept = []
                    for c in range(C.shape[0]):
                        kept += select(np.flatnonzero(labels == c).tolist(), dists[metric], keep, fraction)
                kept = sorted(int(r) for r in kept)
                out["runs"].append({"scope": scope, "keep": keep, "distance": metric,
                                    "fraction": fraction, "kept": kept})
                print(scope, keep, metric, fraction, len(kept))
(HERE / "prototype_prune_samples.json").write_text(json.dumps(out) + "\n")
