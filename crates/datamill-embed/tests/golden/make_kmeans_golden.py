"""Makes kmeans_samples.json: k-means on the shipped samples' MiniLM embeddings
(minilm_samples.npy, float16 -> float64) from fixed initial centroids (rows 0, 97, 194, ...
of the matrix, k = 24), by
  * scikit-learn 1.9.1 KMeans(init=those rows, n_init=1, algorithm="lloyd", max_iter=300,
    tol=1e-4) on float64 data;
  * shared/tools/peers/semdedup_reference.py kmeans_cuvs (NeMo Curator's cuVS loop) on the
    float32 data,
recording labels, inertia and iterations; datamill's k-means must give the same labels and
inertia to 1e-6 relative. Versions: requirements.txt.

usage: python make_kmeans_golden.py PATH/TO/shared/tools/peers
"""
import json
import sys
from pathlib import Path

import numpy as np
import sklearn
from sklearn.cluster import KMeans

HERE = Path(__file__).resolve().parent
sys.path.insert(0, sys.argv[1])
import semdedup_reference as ref  # noqa: E402

K, STEP = 24, 97
X32 = np.load(HERE / "minilm_samples.npy").astype(np.float32)
init_rows = [i * STEP for i in range(K)]
init = X32[init_rows].copy()
X64 = X32.astype(np.float64)
km = KMeans(n_clusters=K, init=init.astype(np.float64), n_init=1, max_iter=300, tol=1e-4,
            algorithm="lloyd").fit(X64)
C, labels, info = ref.kmeans_cuvs(X32, init, max_iter=300, tol=1e-4)
out = {
    "k": K,
    "init_rows": init_rows,
    "sklearn": {"version": sklearn.__version__, "labels": [int(v) for v in km.labels_],
                "inertia": float(km.inertia_), "n_iter": int(km.n_iter_)},
    "cuvs_reference": {"labels": [int(v) for v in labels], "inertia": info["inertia"],
                       "n_iter": info["n_iter"], "stop": info["stop"]},
}
(HERE / "kmeans_samples.json").write_text(json.dumps(out) + "\n")
print(K, km.n_iter_, km.inertia_, info["n_iter"], info["stop"], info["inertia"])
