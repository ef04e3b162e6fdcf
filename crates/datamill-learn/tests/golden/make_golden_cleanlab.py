#!/usr/bin/env python3
"""Oracle data for the datamill-learn `label_issues` parity tests (cleanlab 2.9.0).

Pinned versions (a throw-away venv, e.g. /tmp/learnvenv; same pins as
shared/tools/peers/requirements-peers.txt):
    python 3.11, cleanlab 2.9.0, scikit-learn 1.9.1, numpy 2.4.6, scipy 1.17.1

    python3 -m venv /tmp/learnvenv
    /tmp/learnvenv/bin/pip install cleanlab==2.9.0 scikit-learn==1.9.1 numpy==2.4.6 scipy==1.17.1
    /tmp/learnvenv/bin/python crates/datamill-learn/tests/golden/make_golden_cleanlab.py

Steps, per data set (`digits_noisy` and `debian_sections` rows of labeled_sample.jsonl):
1. write the rows to a temporary JSONL and run shared/tools/peers/cleanlab_issues.py on it
   (out-of-fold pred_probs: StratifiedKFold(5, shuffle, random_state=0); logistic regression on
   the digit features, TF-IDF + SGD log-loss on the Debian texts), `--n-jobs 1`;
2. copy its pred_probs to ../data/<name>.pred_probs.npy (digits: float64 as produced; Debian:
   rounded to float32 to keep the fixture small -- cleanlab below runs on exactly the committed
   values, widened back to float64) and its classes.json to ../data/<name>.classes.json;
3. run cleanlab on the committed matrix for every filter_by x return_indices_ranked_by and a few
   non-default frac_noise / num_to_remove_per_class / min_examples_per_class settings, and write
   <name>.cleanlab.json here.
Inputs: DATAMILL_SHARED (default: the `shared` directory next to the repository).
"""
import json
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import cleanlab
import sklearn
from cleanlab.count import compute_confident_joint, get_confident_thresholds, num_label_issues
from cleanlab.filter import _keep_at_least_n_per_class, find_label_issues
from cleanlab.rank import get_label_quality_scores

HERE = os.path.dirname(os.path.abspath(__file__))
CRATE = os.path.dirname(os.path.dirname(HERE))
REPO = os.path.dirname(os.path.dirname(CRATE))
SHARED = os.environ.get("DATAMILL_SHARED", os.path.join(os.path.dirname(REPO), "shared"))
SAMPLE = os.path.join(SHARED, "data", "samples", "labeled_sample.jsonl")
PEER = os.path.join(SHARED, "tools", "peers", "cleanlab_issues.py")
DATA = os.path.join(CRATE, "tests", "data")

FILTERS = ["prune_by_noise_rate", "prune_by_class", "both", "confident_learning",
           "predicted_neq_given", "low_self_confidence", "low_normalized_margin"]
RANKS = [None, "self_confidence", "normalized_margin", "confidence_weighted_entropy"]


def run_set(name, f32):
    rows = [json.loads(l) for l in open(SAMPLE, encoding="utf-8")]
    rows = [r for r in rows if r.get("dataset") == name]
    with tempfile.TemporaryDirectory() as tmp:
        inp = os.path.join(tmp, name + ".jsonl")
        with open(inp, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        out = os.path.join(tmp, "out")
        subprocess.run([sys.executable, PEER, inp, out, "--n-jobs", "1"], check=True)
        pred_probs = np.load(os.path.join(out, "pred_probs.npy"))
        labels = np.load(os.path.join(out, "labels.npy"))
        classes = json.load(open(os.path.join(out, "classes.json")))
        peer_summary = json.load(open(os.path.join(out, "summary.json")))
        peer_flagged = [int(x) for x in open(os.path.join(out, "flagged_ranked_indices.txt")).read().split()]
    if f32:
        pred_probs = pred_probs.astype("<f4")
    else:
        pred_probs = pred_probs.astype("<f8")
    np.save(os.path.join(DATA, name + ".pred_probs.npy"), pred_probs)
    with open(os.path.join(DATA, name + ".classes.json"), "w") as f:
        json.dump(classes, f)
    P = pred_probs.astype(np.float64)

    res = {"name": name, "n": int(len(labels)), "k": int(P.shape[1]), "classes": classes,
           "labels": labels.tolist(),
           "versions": {"cleanlab": cleanlab.__version__, "sklearn": sklearn.__version__,
                        "numpy": np.__version__},
           "pred_probs_dtype": str(pred_probs.dtype),
           "peer_cv_accuracy": peer_summary["cv_accuracy"]}
    if not f32:
        res["peer_ranked_self_confidence"] = peer_flagged
    res["thresholds"] = get_confident_thresholds(labels, P).tolist()
    cj_u, off = compute_confident_joint(labels, P, calibrate=False, return_indices_of_off_diagonals=True)
    cj_c = compute_confident_joint(labels, P, calibrate=True)
    res["confident_joint_uncalibrated"] = cj_u.tolist()
    res["confident_joint"] = cj_c.tolist()
    res["off_diagonal_indices"] = off.tolist()
    res["prune_count_matrix"] = _keep_at_least_n_per_class(cj_c.T, n=1, frac_noise=1.0).tolist()
    res["num_label_issues"] = int(num_label_issues(labels, P))
    cases = []
    settings = [dict()]
    settings += [dict(frac_noise=0.5), dict(min_examples_per_class=10),
                 dict(num_to_remove_per_class=[3] * P.shape[1]),
                 dict(frac_noise=0.7, min_examples_per_class=25)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for fb in FILTERS:
            for extra in settings:
                if extra and fb not in ("prune_by_noise_rate", "prune_by_class", "both"):
                    continue
                for rb in RANKS:
                    if extra and rb not in (None, "self_confidence"):
                        continue
                    out = find_label_issues(labels, P, filter_by=fb, return_indices_ranked_by=rb,
                                            n_jobs=1, **extra)
                    if rb is None:
                        out = np.flatnonzero(out)
                    cases.append({"filter_by": fb, "rank_by": rb, **extra,
                                  "indices": [int(i) for i in out]})
    res["cases"] = cases
    # label quality scores (for a tolerance check of the score formulas)
    res["scores"] = {m: [float(x) for x in get_label_quality_scores(labels, P, method=m)]
                     for m in ["self_confidence", "normalized_margin", "confidence_weighted_entropy"]}
    res["scores_adjusted"] = {m: [float(x) for x in get_label_quality_scores(labels, P, method=m, adjust_pred_probs=True)]
                              for m in ["self_confidence", "normalized_margin"]}
    path = os.path.join(HERE, name + ".cleanlab.json")
    with open(path, "w") as f:
        json.dump(res, f, separators=(",", ":"))
    print("wrote", path, "flagged (default):", len(cases[0]["indices"]))


if __name__ == "__main__":
    # cleanlab's rankings (and some flagged sets) depend on the order np.argsort gives equal
    # scores, which depends on the CPU path numpy takes: the goldens are its AVX-512 path.
    from numpy._core._multiarray_umath import __cpu_features__ as feats
    if not feats.get("AVX512_SKX") or os.environ.get("NPY_DISABLE_CPU_FEATURES"):
        raise SystemExit("run on an AVX-512 CPU without NPY_DISABLE_CPU_FEATURES (see README.md)")
    os.makedirs(DATA, exist_ok=True)
    run_set("digits_noisy", f32=False)
    run_set("debian_sections", f32=True)
