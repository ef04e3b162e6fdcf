"""Makes rds_select_samples.json: RDS+ multi-task selection (Ivison et al. 2025) as
hamishivi/automated-instruction-selection's minimal_multitask/get_top_aggregated_influences.py does
it with the README's RDS+ settings (--selection_method max, round-robin over tasks: the script's
"minmax" aggregation; NOT the script's default --selection_method min):

- score(q, x) = cos(q, x) of L2-normalized embeddings (compute_influence_cosinesim.py);
- per task, a_t(x) = max over the task's queries; the pool sorted by a_t descending with Python's
  stable sort (ties: pool order);
- tasks cycled in input order, each popping its best remaining item; an item already selected
  does not count again (its score becomes the min); stop at output_size.

Pool: the shipped samples' MiniLM embeddings (crates/datamill-embed/tests/golden/minilm_samples.npy,
float16 read as float32, L2-normalized as semdedup_reference.l2_normalize does), ids
"d0000".."d3908". Tasks (queries = sample rows, so a query's own document scores 1): "a" = rows
100..119, "b" = rows 2500..2509, "c" = rows 3500..3529.

Runs: tasks [a, b, c] with output_size 300; tasks [c, a] with output_size 150.
Written per run: the selected rows in selection order and their scores.
Versions: numpy 2.4.6, python 3.11.

usage: python make_golden.py PATH/TO/shared/tools/peers
"""
import json
import math
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, sys.argv[1])
import semdedup_reference as ref  # noqa: E402

EMB = HERE.parents[3] / "datamill-embed/tests/golden/minilm_samples.npy"
X = ref.l2_normalize(np.load(EMB).astype(np.float32)).astype(np.float64)
TASKS = {"a": list(range(100, 120)), "b": list(range(2500, 2510)), "c": list(range(3500, 3530))}


def per_task(rows):
    S = X[rows] @ X.T                     # queries x pool
    best = S.max(axis=0)
    return {i: float(best[i]) for i in range(X.shape[0])}


def select(task_names, output_size):
    per = {t: sorted(per_task(TASKS[t]).items(), key=lambda x: x[1], reverse=True) for t in task_names}
    chosen = {}
    while len(chosen) < output_size:
        for t in task_names:
            if len(chosen) >= output_size:
                break
            idx, score = per[t].pop(0)
            chosen[idx] = min(score, chosen.get(idx, math.inf))
    return [[int(i), s] for i, s in chosen.items()]


out = {"tasks": TASKS, "runs": []}
for names, k in ((["a", "b", "c"], 300), (["c", "a"], 150)):
    sel = select(names, k)
    out["runs"].append({"tasks": names, "output_size": k, "selected": sel})
    print(names, k, len(sel))
(HERE / "rds_select_samples.json").write_text(json.dumps(out) + "\n")
