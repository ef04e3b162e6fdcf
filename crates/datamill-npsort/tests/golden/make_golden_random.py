#!/usr/bin/env python3
"""Oracle for datamill-npsort's `random` module: numpy's SeedSequence.generate_state,
PCG64 raw draws, Generator.random() and Generator.permutation(n).

Pinned: python 3.11, numpy 2.4.6 (any venv with that numpy, e.g. the mixer's):
    /work/mix-venv/bin/python crates/datamill-npsort/tests/golden/make_golden_random.py

Permutations of n <= 64 are stored in full, longer ones as FNV-1a-64 of the indices written as
little-endian u64. Writes random.numpy.json next to this script.
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def fnv(perm):
    h = 0xCBF29CE484222325
    for i in perm:
        for b in int(i).to_bytes(8, "little"):
            h ^= b
            h = (h * 0x100000001B3) & ((1 << 64) - 1)
    return f"{h:016x}"


def main():
    assert np.__version__ == "2.4.6", np.__version__
    entropies = [[0], [1], [42], [2**32 - 1], [2**32], [2**40 + 5], [2**64 - 1], [0, 0],
                 [1, 2, 3], [7, 0, 5], [1234, 3, 17], [1, 2, 3, 4, 5, 6, 7], [9] * 11]
    cases = []
    for ent in entropies:
        seed = ent[0] if len(ent) == 1 else ent
        ss = np.random.SeedSequence(seed)
        g = np.random.default_rng(seed)
        case = {
            "entropy": ent,
            "state_u32": [int(x) for x in ss.generate_state(8, np.uint32)],
            "raw": [int(x) for x in g.bit_generator.random_raw(5)],
            "random": [float(x) for x in np.random.default_rng(seed).random(5)],
            "perms": {},
        }
        for n in [0, 1, 2, 3, 10, 64, 1000, 65537, 300001]:
            p = np.random.default_rng(seed).permutation(n)
            case["perms"][str(n)] = [int(x) for x in p] if n <= 64 else fnv(p)
        cases.append(case)
    with open(os.path.join(HERE, "random.numpy.json"), "w") as f:
        json.dump({"numpy": np.__version__, "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
