#!/usr/bin/env python3
"""Oracle for datamill-npsort's `percentile` and `Mt19937`: numpy's np.percentile (default
method "linear") and the legacy RandomState draws datamill replays.

Pinned: numpy 2.4.6 (any CPU; no SIMD dispatch is involved). Written with Python 3.11 and
numpy 2.4.6:
    python -m venv /tmp/npvenv && /tmp/npvenv/bin/pip install numpy==2.4.6
    /tmp/npvenv/bin/python crates/datamill-npsort/tests/golden/make_golden_numerics.py
Writes numerics.numpy.json next to this script (floats as Python's repr, exact).
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
QS = [0, 1, 2.5, 10, 25, 30, 33.3, 50, 60, 66.7, 75, 90, 97.5, 99, 100]


def percentile_cases():
    cases = []
    for i, n in enumerate([1, 2, 3, 4, 5, 7, 10, 16, 99, 240, 1001]):
        g = np.random.RandomState(1000 + i)
        for kind in ["normal", "ties", "wide"]:
            if kind == "normal":
                a = g.standard_normal(n)
            elif kind == "ties":
                a = g.randint(0, 5, n).astype(np.float64) * 0.1
            else:
                a = np.exp(g.uniform(-30, 30, n))
            a = np.sort(a)
            cases.append({
                "data": [float(x) for x in a],
                "q": QS,
                "want": [float(np.percentile(a, q)) for q in QS],
            })
    # Pairs where numpy's _lerp (b - (b - a)(1 - t) for t >= 0.5) and the naive a + (b - a)t
    # round differently: the cases that tell an exact port from an approximation.
    g = np.random.RandomState(7)
    lerp = {"data": [], "q": [], "want": []}
    while len(lerp["want"]) < 200:
        a, b = np.sort(g.uniform(0, 10, 2))
        q = float(g.choice([55, 60, 62.5, 70, 75, 80, 87.5, 90, 95]))
        t = q / 100
        if b - (b - a) * (1 - t) != a + (b - a) * t:
            lerp["data"].append([float(a), float(b)])
            lerp["q"].append(q)
            lerp["want"].append(float(np.percentile([a, b], q)))
    for d, q, w in zip(lerp["data"], lerp["q"], lerp["want"]):
        cases.append({"data": d, "q": [q], "want": [w]})
    return cases


def mt_cases():
    cases = []
    for seed in [0, 1, 42, 5489, 123456789, 2**32 - 1]:
        c = {"seed": seed}
        # randint over the full 32-bit range: the raw genrand_int32 outputs.
        c["u32"] = [int(x) for x in np.random.RandomState(seed).randint(0, 2**32, 8, dtype=np.uint64)]
        c["choice"] = {str(n): [int(x) for x in np.random.RandomState(seed).choice(n, 20)]
                       for n in [1, 2, 7, 240, 65537, 100000]}
        c["random_sample"] = [float(x) for x in np.random.RandomState(seed).random_sample(8)]
        c["gumbel"] = [float(x) for x in np.random.RandomState(seed).gumbel(size=8)]
        # datatrove's MinHash parameters: a 61-bit range, drawn from 64-bit words.
        c["randint_61"] = [int(x) for x in
                           np.random.RandomState(seed).randint(1, (1 << 61) - 1, 8, dtype=np.uint64)]
        cases.append(c)
    return cases


def main():
    out = {
        "numpy": np.__version__,
        "percentile": percentile_cases(),
        "mt19937": mt_cases(),
    }
    with open(os.path.join(HERE, "numerics.numpy.json"), "w") as f:
        json.dump(out, f, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
