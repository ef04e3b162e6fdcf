#!/usr/bin/env python3
"""Golden outputs of data-selection 1.0.3 (p-lambda/dsir, HashedNgramDSIR) for the `dsir` stage.

Run from this folder with a venv holding data-selection==1.0.3 and its pinned dependencies
(numpy 2.4.6, nltk 3.10.4, joblib 1.6.0, tqdm 4.70.1; see README.md):

    /tmp/dsirvenv/bin/python make_golden.py [../../../../../../shared/data/samples/en_prose_sample.jsonl]

Raw = the en_prose sample (2,178 docs). Target = the sample's `shard == "manpages"` lines, written
verbatim (same bytes) to a temporary file; the Rust test cuts the same target the same way.
DSIR runs with its defaults (wordpunct, n=2, 10,000 buckets, min_example_length=100,
num_tokens_to_fit="auto") and num_proc=1, so the global example order is the input order.

Writes (all small, plain text):
  features.json   bucket ids and sparse count vectors for crafted strings (incl. Unicode edge cases)
  gumbel.json     numpy legacy np.random.seed(s); np.random.gumbel(size=n) values
  weights_{A,C}.tsv.gz  id, log importance weight (repr), DSIR length, for every raw doc, raw order
  model.json      per scenario: n-gram totals, log_diff checksums, eligible count, the selected ids
                  (Gumbel top-k with np.random.seed 0 and 7, deterministic top-k) and the KL
                  reduction of each selected set (our definition, see README.md)
"""
import gzip
import json
import os
import shutil
import sys
import tempfile

import numpy as np
from data_selection import HashedNgramDSIR
from data_selection.hashed_ngram_dsir import get_ngram_counts, hash_buckets
import data_selection

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_RAW = os.path.join(HERE, "../../../../../../shared/data/samples/en_prose_sample.jsonl")
K = 150
SEEDS = [0, 7]
EPS = 1e-8


def sparse(v):
    nz = np.nonzero(v)[0]
    return [[int(i), int(v[i])] for i in nz]


def kl(p, q):
    """KL(p || q) over hashed buckets, both smoothed with +1e-8 as DSIR's log_diff is."""
    return float(np.sum(p * (np.log(p + EPS) - np.log(q + EPS))))


def scenario(name, tmp, raw_lines, target, tgt_counts, min_len, k):
    raw = os.path.join(tmp, f"raw_{name}.jsonl")
    with open(raw, "w", encoding="utf-8") as f:
        for l in raw_lines:
            f.write(l + "\n")
    cache = os.path.join(tmp, "cache_" + name)
    dsir = HashedNgramDSIR([raw], [target], cache_dir=cache, num_proc=1, min_example_length=min_len)
    dsir.fit_importance_estimator(num_tokens_to_fit="auto")
    dsir.compute_importance_weights()
    w = np.load(os.path.join(cache, "log_importance_weights", "0.npy"))
    ln = np.load(os.path.join(cache, "perexample_metadata", "0.npy"))
    recs = [json.loads(l) for l in raw_lines]
    ids = [r["id"] for r in recs]
    assert len(ids) == len(w) == len(ln)
    rows = "id\tlog_weight\tlength\n" + "".join(
        f"{i}\t{float(x)!r}\t{int(n)}\n" for i, x, n in zip(ids, w, ln))
    with open(os.path.join(HERE, f"weights_{name}.tsv.gz"), "wb") as f:
        f.write(gzip.compress(rows.encode("utf-8"), mtime=0))
    feats = [get_ngram_counts(r["text"]) for r in recs]
    raw_counts = np.sum(feats, axis=0)
    assert np.array_equal(raw_counts / raw_counts.sum(), dsir.raw_probs)
    q = raw_counts / raw_counts.sum()
    p_t = tgt_counts / tgt_counts.sum()
    out = {
        "docs": len(ids), "k": k, "min_example_length": min_len,
        "raw_total": int(raw_counts.sum()), "target_total": int(tgt_counts.sum()),
        "log_diff_sum": repr(float(dsir.log_diff.sum())),
        "log_diff_first": [repr(float(x)) for x in dsir.log_diff[:10]],
        "eligible": int((ln >= min_len).sum()),
        "selected": {}, "klr": {},
    }
    def run(sel_name, seed, top_k):
        o = os.path.join(tmp, f"sel_{name}_{sel_name}")
        if seed is not None:
            np.random.seed(seed)
        dsir.resample(out_dir=o, num_to_sample=k, cache_dir=o + "_tmp", top_k=top_k)
        chosen = {json.loads(l)["id"] for l in open(os.path.join(o, "0.jsonl"), encoding="utf-8")}
        out["selected"][sel_name] = [i for i in ids if i in chosen]
        sel = np.sum([f for i, f in zip(ids, feats) if i in chosen], axis=0)
        p_sel = sel / sel.sum()
        out["klr"][sel_name] = {"kl_target_raw": repr(kl(p_t, q)),
                                "kl_target_selected": repr(kl(p_t, p_sel)),
                                "kl_reduction": repr(kl(p_t, q) - kl(p_t, p_sel))}
    for s in SEEDS:
        run(f"gumbel_seed{s}", s, False)
    run("top_k", None, True)
    return out


def main():
    raw = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_RAW)
    tmp = tempfile.mkdtemp(prefix="dsir_golden_")
    target = os.path.join(tmp, "target_manpages.jsonl")
    raw_lines = open(raw, encoding="utf-8").read().split("\n")
    raw_lines = [l for l in raw_lines if l]
    with open(target, "w", encoding="utf-8") as f:
        for l in raw_lines:
            if json.loads(l).get("shard") == "manpages":
                f.write(l + "\n")

    # ---- features on crafted strings ----
    strings = [
        "alice", "alice went", "Alice went to the store",
        "Hello, world!!! It's 3.14 -- e.g. foo_bar baz...",
        "Ünïcödé ÀÉÎ straße İstanbul ΣΊΣΥΦΟΣ ὈΔΥΣΣΕΎΣ",
        "combining: cafe\u0301 n\u0303o (marks split words in Python re)",
        "numbers: x² ½ Ⅷ ٣ ① 10³ — “quotes” «guillemets» ¿qué?",
        "spaces:\u00a0nbsp\u2003em\u3000ideo\x1cfs\x1fus\u0085nel\u200bzwsp\u2028ls",
        "日本語のテキスト、句読点。中文，标点！한국어 텍스트",
        "emoji 😀👍🏽 and ZWJ 👨\u200d👩\u200d👧 family; tab\tnew\nline",
        "under_score __init__ a_b_c snake_case_123",
        "   ", "", "!!!", "x",
        "ǅungla ǈ ǋ ﬁ ﬀ ẞ Ꭰ ꭰ",
    ]
    feats = []
    for s in strings:
        v = get_ngram_counts(s, n=2, num_buckets=10000)
        v3 = get_ngram_counts(s, n=3, num_buckets=1000)
        feats.append({"text": s, "n2_b10000": sparse(v), "n3_b1000": sparse(v3)})
    hashes = {w: hash_buckets(w) for w in ["alice", "alice went", "", " ", "ß", "日本"]}
    hashes_m = {w: hash_buckets(w, 7) for w in ["alice", "alice went", "x"]}
    with open(os.path.join(HERE, "features.json"), "w", encoding="utf-8") as f:
        json.dump({"hash_buckets_10000": hashes, "hash_buckets_7": hashes_m, "features": feats},
                  f, ensure_ascii=False, indent=0)

    # ---- numpy legacy gumbel ----
    gum = {}
    for s in [0, 1, 42, 4294967295]:
        np.random.seed(s)
        gum[str(s)] = [repr(float(x)) for x in np.random.gumbel(size=12)]
    with open(os.path.join(HERE, "gumbel.json"), "w") as f:
        json.dump(gum, f, indent=0)

    # ---- DSIR fit / weights / resample, per scenario ----
    report = {}
    tgt_counts = np.zeros(10000, dtype=np.int64)
    for l in open(target, encoding="utf-8"):
        tgt_counts += get_ngram_counts(json.loads(l)["text"])
    # A: the sample as raw, DSIR defaults. Weights are large (they grow with length), so
    #    Gumbel noise hardly changes the top 150.
    report["A"] = scenario("A", tmp, raw_lines, target, tgt_counts, min_len=100, k=150)
    # C: the first 600 sample docs cut into 16-word chunks (str.split(), joined by " "), as the
    #    paper chunks the Pile: weights are small, and the noise decides much of the selection.
    chunk_lines = []
    for l in raw_lines[:600]:
        r = json.loads(l)
        words = r["text"].split()
        for j in range(0, len(words), 16):
            chunk_lines.append(json.dumps({"id": f"{r['id']}#{j // 16}",
                                           "text": " ".join(words[j:j + 16])}, ensure_ascii=False))
    report["C"] = scenario("C", tmp, chunk_lines, target, tgt_counts, min_len=8, k=1000)
    with open(os.path.join(HERE, "model.json"), "w") as f:
        json.dump(report, f, indent=1)
    print("data-selection", getattr(data_selection, "__version__", "?"), "numpy", np.__version__,
          json.dumps({k: (v["docs"], v["eligible"]) for k, v in report.items()}))
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
