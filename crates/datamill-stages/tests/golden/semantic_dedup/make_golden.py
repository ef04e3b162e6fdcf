"""Makes semdedup_samples.json: NeMo Curator's SemDeDup decisions, as the oracle
shared/tools/peers/semdedup_reference.py (NeMo Curator commit 1e2e4275) computes them, on the
shipped samples' MiniLM embeddings (crates/datamill-embed/tests/golden/minilm_samples.npy,
float16 read as float32; ids "d0000".."d3908"), k = 24 clusters from the initial centroids =
rows 0, 97, 194, ... (normalized), cuVS k-means loop, max_iter 300, tol 1e-4; for keep hard and
easy, distance cosine and l2, strict off and on: every document's rank, max_sim (float32),
max_id, and the removed rows at eps 0.01, 0.05 and 0.15. datamill's semantic_dedup must
remove the same documents. Versions: numpy 2.4.6, scikit-learn 1.9.1, python 3.11.

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
X = np.load(EMB).astype(np.float32)
ids = [f"d{i:04}" for i in range(X.shape[0])]
K, STEP = 24, 97
init = ref.l2_normalize(X[[i * STEP for i in range(K)]])
out = {"k": K, "init_rows": [i * STEP for i in range(K)], "eps": [0.01, 0.05, 0.15], "runs": []}
for keep in ("hard", "easy"):
    for metric in ("cosine", "l2"):
        res = ref.semdedup(ids, X, init, keep=keep, sim_metric=metric)
        run = {"keep": keep, "distance": metric, "n_iter": res["kmeans"]["n_iter"],
               "labels": res["labels"].tolist(), "rank": res["rank"].tolist(),
               "max_sim": [float(v) for v in res["max_sim32"]], "max_row": res["max_row"].tolist(),
               "removed": {}}
        for strict in (False, True):
            for e in out["eps"]:
                rm = np.flatnonzero(ref.flag(res["max_sim32"], e, strict)).tolist()
                run["removed"][f"{'gt' if strict else 'ge'}_{e}"] = rm
        out["runs"].append(run)
        print(keep, metric, {k: len(v) for k, v in run["removed"].items()})
np.save(HERE / "init_centroids.npy", init)
(HERE / "semdedup_samples.json").write_text(json.dumps(out) + "\n")
