#!/usr/bin/env python3
"""Golden outputs of data-selection 1.0.3 (p-lambda/dsir, HashedNgramDSIR) with SEVERAL raw files.

data-selection cuts its raw files into virtual shards (`_get_virtually_sharded_datasets`: with
`num_proc` P and F files, max(1, P // F) shards per file, one more for the first P % F files when
P >= F; a file's j-th example goes to shard j % count), fits each shard up to
`num_tokens_to_fit // len(shards)` n-grams and orders the examples shard by shard. This script
records what the real library does, for the Rust test `dsir::tests::golden_several_raw_files`.

Venv (pins as ../README.md; made as /work/peers-venv):
    python3.11 -m venv venv
    venv/bin/pip install numpy==2.4.6 nltk==3.10.4 regex==2026.11.19 joblib==1.6.0 tqdm==4.70.1 click==8.5.1
    venv/bin/pip install --no-deps data-selection==1.0.3
    cd crates/datamill-stages/tests/golden/dsir/multi && venv/bin/python make_golden_multi.py

Inputs (committed here): `toy_pile_400.jsonl.gz` = the first 400 lines of data-selection's own
`tests/toy_pile_data.jsonl` (p-lambda/dsir @ 4802a1c7), text in field `contents`;
`toy_target_data.jsonl`, `toy_target_data_2.jsonl` = its test targets, verbatim.

Scenarios (raw files are written to a temporary folder under distinct names):
  two_copies  raw = [pile, pile] (the issue's case: two copies of the toy pile), n=2, 10,000
              buckets, num_tokens_to_fit=100000, min_example_length=100; num_proc 1, 2, 3, 5;
              k=50 with np.random.seed(0) and top_k.
  three_files raw = pile[0:50], pile[50:200], pile[200:400]; n=3, 1,009 buckets (not a multiple
              of 16: the ddot tail), num_tokens_to_fit=60000, min_example_length=20; num_proc 1,
              2, 4, 7; k=40 with np.random.seed(3).
  separate    three_files' raw, targets = both toy targets, separate_targets=True (default
              proportions), n=2, 10,000 buckets, num_tokens_to_fit=20000, num_proc 2 and 3, k=40,
              np.random.seed(1).

Writes multi.json.gz: per scenario and num_proc: the examples in data-selection's order as
[file, line], their log importance weights (repr, from the library's .npy), lengths, the fitted
raw n-gram count (`_fit_bow` run again, same arguments) and the selected examples as
[file, line] (sorted), per selection.
"""
import gzip
import json
import os
import shutil
import tempfile

import joblib
import numpy as np
import data_selection
from data_selection import HashedNgramDSIR

HERE = os.path.dirname(os.path.abspath(__file__))


def load_fn(path):
    """The default loader, plus where each example came from (file index from the name)."""
    f = int(os.path.basename(path).split("_")[1].split(".")[0])
    with open(path, "r") as fh:
        for j, line in enumerate(fh):
            if len(line) > 0:
                ex = json.loads(line)
                ex["_at"] = [f, j]
                yield ex


def parse(ex):
    return ex["contents"]


def run(tmp, name, files, targets, num_proc, fit, sels, **kw):
    paths = []
    for f, lines in enumerate(files):
        p = os.path.join(tmp, f"raw_{f}.jsonl")
        with open(p, "w") as fh:
            fh.writelines(l + "\n" for l in lines)
        paths.append(p)
    cache = os.path.join(tmp, f"cache_{name}_{num_proc}")
    d = HashedNgramDSIR(paths, [os.path.join(HERE, t) for t in targets], cache_dir=cache,
                        raw_load_dataset_fn=load_fn, raw_parse_example_fn=parse,
                        target_parse_example_fn=parse, num_proc=num_proc, **kw)
    d.fit_importance_estimator(num_tokens_to_fit=fit)
    fitted = int(d._fit_bow(paths, num_tokens_to_fit=fit, load_dataset_fn=load_fn,
                            parse_example_fn=parse).sum())
    d.compute_importance_weights()
    shards = d._get_virtually_sharded_datasets(paths)
    order = []
    for sh in shards:
        f = paths.index(sh["path"])
        order += [[f, j] for j in range(len(files[f])) if j % sh["num_shards"] == sh["shard_idx"]]
    w = np.concatenate([np.load(os.path.join(cache, "log_importance_weights", f"{s['overall_idx']}.npy"))
                        for s in shards])
    ln = np.concatenate([np.load(os.path.join(cache, "perexample_metadata", f"{s['overall_idx']}.npy"))
                         for s in shards])
    assert len(order) == len(w) == len(ln)
    out = {"num_proc": num_proc, "shards": len(shards), "fitted": fitted, "order": order,
           "weights": [repr(float(x)) for x in (w if w.ndim == 1 else w.reshape(-1))],
           "lengths": [int(x) for x in ln], "selected": {}}
    for sel_name, seed, k, top_k in sels:
        o = os.path.join(tmp, f"sel_{name}_{num_proc}_{sel_name}")
        if seed is not None:
            np.random.seed(seed)
        d.resample(out_dir=o, num_to_sample=k, cache_dir=o + "_tmp", top_k=top_k)
        chosen = []
        for i in range(len(shards)):
            for l in open(os.path.join(o, f"{i}.jsonl")):
                chosen.append(json.loads(l)["_at"])
        assert len(chosen) == k
        out["selected"][sel_name] = sorted(chosen)
    if d.separate_targets:
        out["target_proportions"] = [repr(float(x)) for x in d.target_proportions]
    return out


def main():
    # data-selection runs its shards with joblib; under the default process backend (loky) the
    # pickled NLTK 3.10 tokenizer loses its timeout sentinel (`ValueError: timeout not float or
    # None`), so the shards run in threads: same jobs, same per-shard results.
    with joblib.parallel_config(backend="threading"):
        write()


def write():
    pile = [l.rstrip("\n") for l in gzip.open(os.path.join(HERE, "toy_pile_400.jsonl.gz"), "rt")]
    assert len(pile) == 400
    tmp = tempfile.mkdtemp(prefix="dsir_multi_")
    res = {"data_selection": data_selection.__version__, "numpy": np.__version__}
    res["two_copies"] = [
        run(tmp, "two_copies", [pile, pile], ["toy_target_data.jsonl"], p, 100000,
            [("seed0", 0, 50, False), ("top_k", None, 50, True)])
        for p in [1, 2, 3, 5]]
    three = [pile[:50], pile[50:200], pile[200:]]
    res["three_files"] = [
        run(tmp, "three_files", three, ["toy_target_data.jsonl"], p, 60000,
            [("seed3", 3, 40, False)], ngrams=3, num_buckets=1009, min_example_length=20)
        for p in [1, 2, 4, 7]]
    res["separate"] = [
        run(tmp, "separate", three, ["toy_target_data.jsonl", "toy_target_data_2.jsonl"], p, 20000,
            [("seed1", 1, 40, False)], separate_targets=True)
        for p in [2, 3]]
    with open(os.path.join(HERE, "multi.json.gz"), "wb") as f:
        f.write(gzip.compress(json.dumps(res, separators=(",", ":")).encode(), mtime=0))
    shutil.rmtree(tmp)
    print("data-selection", data_selection.__version__, "numpy", np.__version__, "joblib",
          joblib.__version__)


if __name__ == "__main__":
    main()
