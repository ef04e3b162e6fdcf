#!/usr/bin/env python3
"""Oracle for datamill-npsort's `np_argsort` and `np_argpartition`: numpy's np.argsort (default
kind) and np.argpartition(a, kth) of float64 arrays, on an x86-64 CPU where numpy dispatches to
x86-simd-sort's AVX-512 argsort / argselect.

Pinned: python 3.11, numpy 2.4.6 (the cleanlab venv of make_golden_cleanlab.py):
    /tmp/learnvenv/bin/python crates/datamill-npsort/tests/golden/make_golden_npsort.py

Every case's keys come from a xorshift64 generator that tests/npsort_golden.rs reimplements
(same seed, same arithmetic, exact in float64), so only the expected permutations are stored:
in full for n <= 64, else as FNV-1a-64 of the indices written as little-endian u32. For
argpartition cases (`"kth"` given) the stored value is the sorted set of the first kth indices
(numpy's `argpartition(a, kth)[:kth]`), which is what a caller taking the k smallest sees.
Writes npsort.numpy.json next to this script.
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MASK = (1 << 64) - 1


def check_dispatch():
    if os.environ.get("NPY_DISABLE_CPU_FEATURES"):
        raise SystemExit("unset NPY_DISABLE_CPU_FEATURES: the oracle is numpy's AVX-512 path")
    from numpy._core._multiarray_umath import __cpu_features__ as feats
    if not feats.get("AVX512_SKX"):
        raise SystemExit("this CPU lacks AVX512_SKX: numpy would not use the AVX-512 argsort")
    return [k for k, v in feats.items() if v]


def keys(n, distinct, kind, seed):
    x = seed
    out = []
    for i in range(n):
        x ^= (x << 13) & MASK
        x ^= x >> 7
        x ^= (x << 17) & MASK
        r = x % distinct
        if kind == "quarter":
            v = r * 0.25 - 3.0
        elif kind == "prob":
            v = r / distinct
        elif kind == "zeros":  # -0.0, 0.0 and 1.0
            v = [-0.0, 0.0, 1.0][r % 3]
        elif kind == "nan":
            v = float("nan") if r % 5 == 0 else r * 0.5
        elif kind == "sorted":
            v = float(i // distinct)
        elif kind == "reversed":
            v = float((n - i) // distinct)
        else:
            raise ValueError(kind)
        out.append(v)
    return out


def fnv(perm):
    h = 0xCBF29CE484222325
    for i in perm:
        for b in int(i).to_bytes(4, "little"):
            h ^= b
            h = (h * 0x100000001B3) & MASK
    return h


def main():
    feats = check_dispatch()
    sizes = list(range(2, 65)) + list(range(65, 600, 13)) + [
        255, 256, 257, 263, 288, 289, 300, 511, 512, 513, 777, 1000, 1024, 2048, 3001,
        5000, 10007, 30000]
    cases = []
    seed = 0x9E3779B97F4A7C15
    for n in sizes:
        for kind, distincts in [("quarter", [1, 2, 3, 7, 50, 1 << 40]), ("prob", [10, 1000]),
                                ("zeros", [3]), ("nan", [7])]:
            for d in distincts:
                seed = (seed * 6364136223846793005 + 1442695040888963407) & MASK
                s = seed | 1
                a = np.asarray(keys(n, d, kind, s), dtype=np.float64)
                perm = np.argsort(a)
                case = {"n": n, "kind": kind, "distinct": d, "seed": s}
                if n <= 64:
                    case["perm"] = perm.tolist()
                else:
                    case["fnv"] = f"{fnv(perm.tolist()):016x}"
                cases.append(case)
    # argpartition: the set argpartition(a, kth)[:kth], on tie-heavy arrays
    for n in [2, 7, 64, 200, 256, 257, 300, 777, 1000, 3001, 10007]:
        for kind, distincts in [("quarter", [1, 2, 7, 50, 1 << 40]), ("prob", [10])]:
            for d in distincts:
                for frac in [0.0, 0.1, 0.5, 0.9]:
                    seed = (seed * 6364136223846793005 + 1442695040888963407) & MASK
                    s = seed | 1
                    kth = min(int(n * frac), n - 1)
                    a = np.asarray(keys(n, d, kind, s), dtype=np.float64)
                    first = sorted(np.argpartition(a, kth)[:kth].tolist())
                    case = {"n": n, "kind": kind, "distinct": d, "seed": s, "kth": kth}
                    if kth <= 64:
                        case["perm"] = first
                    else:
                        case["fnv"] = f"{fnv(first):016x}"
                    cases.append(case)
    for n in [1000, 5000]:
        for kind in ["sorted", "reversed"]:
            s = 12345
            a = np.asarray(keys(n, 3, kind, s), dtype=np.float64)
            cases.append({"n": n, "kind": kind, "distinct": 3, "seed": s,
                          "fnv": f"{fnv(np.argsort(a).tolist()):016x}"})
    out = {"numpy": np.__version__, "cpu_features": feats, "cases": cases}
    with open(os.path.join(HERE, "npsort.numpy.json"), "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(len(cases), "cases")


if __name__ == "__main__":
    main()
