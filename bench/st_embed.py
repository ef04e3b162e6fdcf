"""sentence-transformers side of bench/embed.sh and of the embedding golden.

Embeds the `text` field of a JSONL file with sentence-transformers on CPU, fp32, one thread
(torch.set_num_threads(1)), batch size BATCH, and prints a RESULT line; optionally writes the
embeddings as raw little-endian float32 rows in input order.

usage: st_embed.py MODEL_DIR FILE.jsonl LIMIT BATCH [OUT.f32]
"""
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np
import torch
from sentence_transformers import SentenceTransformer

torch.set_num_threads(1)
torch.set_num_interop_threads(1)
model_dir, path, limit, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
texts = []
with open(path, encoding="utf-8") as f:
    for line in f:
        if len(texts) >= limit:
            break
        texts.append(json.loads(line)["text"])
t0 = time.perf_counter()
model = SentenceTransformer(model_dir, device="cpu")
model.eval()
load = time.perf_counter() - t0
tok = model.tokenizer(texts, truncation=True, max_length=model.max_seq_length)["input_ids"]
tokens = sum(len(t) for t in tok)
truncated = sum(1 for t in texts if len(model.tokenizer(t.strip())["input_ids"]) > model.max_seq_length)
c0, t0 = time.process_time(), time.perf_counter()
with torch.inference_mode():
    emb = model.encode(texts, batch_size=batch, convert_to_numpy=True, normalize_embeddings=False)
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
print(
    f"RESULT sentence-transformers docs={len(texts)} tokens={tokens} truncated={truncated} "
    f"load_s={load:.2f} wall_s={wall:.2f} cpu_s={cpu:.2f} docs_per_cpu_s={len(texts)/cpu:.1f} "
    f"tokens_per_cpu_s={tokens/cpu:.0f}"
)
if len(sys.argv) > 5:
    np.ascontiguousarray(emb, dtype="<f4").tofile(sys.argv[5])
