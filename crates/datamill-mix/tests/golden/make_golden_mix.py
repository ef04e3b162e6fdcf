#!/usr/bin/env python3
"""Golden outputs for datamill-mix's token file formats and Dataset Decomposition, made by the
reference tools themselves:

* datatrove 0.10.1 `DocumentTokenizer` (shuffle_documents=False) on 315 documents (the first
  300 of examples/data/en_prose_sample.jsonl.zst, then tests/data/tricky.jsonl), GPT-2's
  tokenizer.json (examples/models/gpt2-tokenizer.json.zst, decompressed), with and without
  eos_token="<|endoftext|>": SHA-256 of the .ds, .ds.index and .ds.metadata files; plus
  `TokenizedFile(token_size=4)` on synthetic ids above 65,535 (the uint32 width);
* megatron-core 0.16.1 `IndexedDatasetBuilder` (one sequence per document, as
  tools/preprocess_data.py writes without sentence splitting) on the same token ids, with
  `DType.optimal_dtype(vocab)` (uint16 for GPT-2), and with int32 for the synthetic ids;
  megatron-core's own `IndexedDataset` reads the files back. megatron-core imports torch at
  module level for type annotations and the Dataset base class only; torch is not installed
  here, so a stub module supplies those names and the unmodified `indexed_dataset.py` of the
  pinned wheel is executed;
* apple/ml-dataset-decomposition `get_binary(seq, 8, 13, randomize=False)` (the function's own
  source, taken from scripts/make_dd_buckets.py at commit 9a23939205bd, sha256 5941b027...):
  bucket chunks of the documents' token ids (eos appended; also with min/max 4/7) and of
  synthetic sequences;
* humanize 4.17.0 `metric(n, "T")` (datatrove's metadata) and numpy 2.4.6 `np.save` headers.

Run from the repository root with the pinned venv:
    python3.11 -m venv /work/mix-venv
    /work/mix-venv/bin/pip install datatrove==0.10.1 tokenizers==0.23.3 numpy==2.4.6 humanize==4.17.0
    /work/mix-venv/bin/pip download --no-deps megatron-core==0.16.1 -d /tmp/mcore
    git -C <mirror of apple/ml-dataset-decomposition> show 9a23939205bd:scripts/make_dd_buckets.py > /tmp/make_dd_buckets.py
    /work/mix-venv/bin/python crates/datamill-mix/tests/golden/make_golden_mix.py \
        --megatron-wheel /tmp/mcore/megatron_core-0.16.1-*.whl --dd-reference /tmp/make_dd_buckets.py

Writes crates/datamill-mix/tests/golden/mix.golden.json. With --check-megatron PREFIX it also
reads a datamill-written .bin/.idx pair with megatron-core's IndexedDataset and prints its
documents' lengths (used by the README's cross-check).
"""
import argparse
import ast
import glob
import hashlib
import importlib.util
import io
import json
import math
import os
import shutil
import sys
import tempfile
import types
import zipfile
from collections import defaultdict

import numpy as np
import zstandard

HERE = os.path.dirname(os.path.abspath(__file__))
CRATE = os.path.dirname(os.path.dirname(HERE))
REPO = os.path.dirname(os.path.dirname(CRATE))
N_PROSE = 300
DD_SHA256 = "5941b0273bc0ed3289756875bf1b1abd094d0b03e95c7e7180cfa2acd16ebb10"


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def documents():
    with open(os.path.join(REPO, "examples/data/en_prose_sample.jsonl.zst"), "rb") as f:
        text = zstandard.ZstdDecompressor().stream_reader(f).read().decode("utf-8")
    docs = [json.loads(l) for l in text.splitlines()[:N_PROSE]]
    with open(os.path.join(CRATE, "tests/data/tricky.jsonl"), encoding="utf-8") as f:
        docs += [json.loads(l) for l in f]
    return docs


def tokenizer_file(workdir):
    with open(os.path.join(REPO, "examples/models/gpt2-tokenizer.json.zst"), "rb") as f:
        raw = zstandard.ZstdDecompressor().stream_reader(f).read()
    path = os.path.join(workdir, "gpt2-tokenizer.json")
    with open(path, "wb") as f:
        f.write(raw)
    return "gpt2-tokenizer.json"


def run_datatrove(docs, workdir, tok_name, eos):
    from datatrove.data import Document
    from datatrove.pipeline.tokens import DocumentTokenizer

    out = os.path.join(workdir, "dt-" + ("eos" if eos else "noeos"))
    step = DocumentTokenizer(
        output_folder=out,
        tokenizer_name_or_path=tok_name,
        eos_token=eos,
        shuffle_documents=False,
    )
    data = (Document(text=d["text"], id=d["id"]) for d in docs)
    step.run(data, rank=0, world_size=1)
    files = sorted(os.listdir(out))
    ids = [step.tokenizer.encode(d["text"]).ids for d in docs]
    return {f: sha(os.path.join(out, f)) for f in files}, ids, step.tokenizer.get_vocab_size()


def synthetic_ids():
    rng = np.random.default_rng(7)
    return [[int(x) for x in rng.integers(0, 100_000, size=n)] for n in [0, 1, 5, 300, 70, 2]]


def run_datatrove_u32(workdir, seqs):
    from datatrove.pipeline.tokens.tokenizer import TokenizedFile

    out = os.path.join(workdir, "dt-u32")
    f = TokenizedFile(out, "u32.ds", token_size=4, tokenizer_name_or_path="synthetic",
                      save_final_metadata=True)
    for s in seqs:
        f.write(s, None)
    f.close()
    return {n: sha(os.path.join(out, n)) for n in sorted(os.listdir(out))}


def load_megatron(wheel):
    """Executes megatron-core's unmodified indexed_dataset.py with a stub `torch`."""
    root = tempfile.mkdtemp(prefix="mcore-")
    with zipfile.ZipFile(wheel) as z:
        z.extractall(root)
    torch = types.ModuleType("torch")
    torch.Tensor = object
    torch.utils = types.ModuleType("torch.utils")
    torch.utils.data = types.ModuleType("torch.utils.data")

    class Dataset:  # torch.utils.data.Dataset is an empty base class
        pass

    torch.utils.data.Dataset = Dataset
    torch.distributed = types.SimpleNamespace(is_initialized=lambda: False, get_rank=lambda: 0)
    sys.modules.update({"torch": torch, "torch.utils": torch.utils,
                        "torch.utils.data": torch.utils.data})
    for name, sub in [("megatron", "megatron"), ("megatron.core", "megatron/core"),
                      ("megatron.core.datasets", "megatron/core/datasets")]:
        m = types.ModuleType(name)
        m.__path__ = [os.path.join(root, sub)]
        sys.modules[name] = m
    utils = types.ModuleType("megatron.core.utils")

    def log_single_rank(logger, *args, rank=0, **kwargs):
        logger.log(*args, **kwargs)

    utils.log_single_rank = log_single_rank
    sys.modules["megatron.core.utils"] = utils
    spec = importlib.util.spec_from_file_location(
        "megatron.core.datasets.indexed_dataset",
        os.path.join(root, "megatron/core/datasets/indexed_dataset.py"))
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def run_megatron(mod, workdir, name, seqs, dtype):
    prefix = os.path.join(workdir, name)
    b = mod.IndexedDatasetBuilder(prefix + ".bin", dtype=dtype)
    for s in seqs:
        b.add_document(s, [len(s)])
    b.finalize(prefix + ".idx")
    ds = mod.IndexedDataset(prefix)
    assert len(ds) == len(seqs)
    for i, s in enumerate(seqs):
        assert ds[i].tolist() == s, i
    assert ds.document_indices.tolist() == list(range(len(seqs) + 1))
    return {"bin": sha(prefix + ".bin"), "idx": sha(prefix + ".idx"),
            "dtype": np.dtype(dtype).name}


def load_get_binary(path):
    src = open(path, encoding="utf-8").read()
    assert hashlib.sha256(src.encode()).hexdigest() == DD_SHA256, "not the pinned reference"
    tree = ast.parse(src)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "get_binary")
    module = ast.Module(body=[fn], type_ignores=[])
    ns = {"math": math, "np": np, "defaultdict": defaultdict, "Dict": dict, "List": list,
          "Union": __import__("typing").Union}
    exec(compile(module, path, "exec"), ns)
    return ns["get_binary"]


def fnv(seq):
    h = 0xCBF29CE484222325
    for x in seq:
        for b in int(x).to_bytes(4, "little"):
            h ^= b
            h = (h * 0x100000001B3) & ((1 << 64) - 1)
    return f"{h:016x}"


def dd_golden(get_binary, seqs, lo=8, hi=13):
    out = []
    for s in seqs:
        m = get_binary(list(s), min_log2=lo, max_log2=hi, randomize=False)
        out.append({str(k): [[len(c), fnv(c)] for c in v] for k, v in sorted(m.items())})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--megatron-wheel", required=True)
    ap.add_argument("--dd-reference", required=True)
    ap.add_argument("--check-megatron")
    a = ap.parse_args()
    import datatrove
    import humanize
    import tokenizers
    assert datatrove.__version__ == "0.10.1" if hasattr(datatrove, "__version__") else True
    assert tokenizers.__version__ == "0.23.3", tokenizers.__version__
    assert np.__version__ == "2.4.6", np.__version__
    wheels = glob.glob(a.megatron_wheel)
    assert len(wheels) == 1 and "megatron_core-0.16.1" in wheels[0], wheels
    mod = load_megatron(wheels[0])
    if a.check_megatron:
        ds = mod.IndexedDataset(a.check_megatron)
        print(json.dumps({"sequences": len(ds),
                          "lengths": [int(x) for x in ds.sequence_lengths[:20]],
                          "first": ds[0][:10].tolist()}))
        return
    docs = documents()
    work = tempfile.mkdtemp(prefix="mixgolden-")
    cwd = os.getcwd()
    os.chdir(work)
    try:
        tok = tokenizer_file(work)
        golden = {"documents": len(docs), "n_prose": N_PROSE, "tokenizer_name": tok}
        dt = {}
        ids = {}
        for eos in ["<|endoftext|>", None]:
            key = "eos" if eos else "noeos"
            files, ids[key], vocab = run_datatrove(docs, work, tok, eos)
            dt[key] = files
        golden["vocab_size"] = vocab
        golden["datatrove"] = dt
        syn = synthetic_ids()
        golden["synthetic_ids"] = syn
        golden["datatrove_u32"] = run_datatrove_u32(work, syn)
        golden["token_counts"] = {k: [len(x) for x in v] for k, v in ids.items()}
        golden["token_fnv"] = {k: [fnv(x) for x in v] for k, v in ids.items()}
        opt = mod.DType.optimal_dtype(vocab)
        golden["megatron"] = {
            "eos": run_megatron(mod, work, "meg-eos", ids["eos"], opt),
            "noeos": run_megatron(mod, work, "meg-noeos", ids["noeos"], opt),
            "synthetic_int32": run_megatron(mod, work, "meg-syn", syn,
                                            mod.DType.optimal_dtype(100_000)),
        }
        get_binary = load_get_binary(a.dd_reference)
        lengths = list(range(0, 1100, 7)) + [256, 257, 258, 513, 770, 8193, 8194, 8195,
                                               16386, 20000, 3 * 8193 + 10, 100_000]
        golden["dd_lengths"] = lengths
        golden["dd_synthetic"] = dd_golden(get_binary, [list(range(n)) for n in lengths])
        golden["dd_documents"] = dd_golden(get_binary, ids["eos"])
        golden["dd_documents_4_7"] = dd_golden(get_binary, ids["eos"], 4, 7)
        counts = [0, 1, 9, 12, 99, 100, 999, 1000, 1234, 9994, 9995, 9999, 99_949, 99_950,
                  99_999, 123_456, 999_499, 999_500, 999_999, 1_000_000, 1_500_000, 12_345_678,
                  2_000_000_000, 987_654_321_098]
        golden["humanize"] = [[c, humanize.metric(c, unit="T")] for c in counts]
        npy = {}
        for n in [0, 1, 5, 316, 12345]:
            buf = io.BytesIO()
            np.save(buf, np.arange(n, dtype=np.uint64))
            npy[str(n)] = hashlib.sha256(buf.getvalue()).hexdigest()
        golden["npy"] = npy
    finally:
        os.chdir(cwd)
        shutil.rmtree(work)
    with open(os.path.join(HERE, "mix.golden.json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
