#!/usr/bin/env python3
"""Goldens of FineWeb-2's per-language filter settings, through datatrove 0.10.1.

Pinned oracle: as make_golden.py (Python 3.11, datatrove==0.10.1, spacy==3.8.18). FineWeb-2's
settings: src/presets/fineweb2.zst (tools/gen_fineweb2.py, huggingface/fineweb-2 @ d0defb24),
read back here so the golden and the preset come from the same file; combined as
fineweb-2-pipeline.py does (GopherRepetitionFilter(dup_para_frac=0, dup_line_char_frac=0,
dup_para_char_frac=0, dup_line_frac, top_n_grams, dup_n_grams) -> FineWebQualityFilter(
short_line_thr=999, char_duplicates_ratio=0.1, line_punct_thr, new_line_ratio) ->
GopherQualityFilter(max_avg_word_length, min_avg_word_length, stop_words,
max_non_alpha_words_ratio, min_stop_words=2)), each with language=<lang>_<Script>.

    /work/lang-venv/bin/python crates/datamill-filters/tests/golden/make_golden_fineweb2.py

Documents: every multilingual-sample document (../shared/data/samples/multilingual_sample.jsonl)
whose language has a FineWeb-2 config (resolved through datatrove's tokenizer_assignment.csv:
ISO 639-1/639-3 code -> <code_3>_<script>) that datatrove tokenizes with spaCy rules or its
whitespace tokenizer. Writes filters_fineweb2.jsonl.zst: {"id", "language": <lang>_<Script>,
"gopher_repetition", "fineweb_quality", "gopher_quality", "chain"} (decision or reason; chain
reasons are "<filter>:<reason>").
"""
import csv
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CRATE = os.path.dirname(os.path.dirname(HERE))
REPO = os.path.dirname(os.path.dirname(CRATE))
sys.path.insert(0, HERE)
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from make_golden import check_versions, run  # noqa: E402
from make_golden_langs import RULE_EXCLUDED  # noqa: E402


def load_presets():
    import zstandard
    raw = zstandard.ZstdDecompressor().decompressobj().decompress(
        open(os.path.join(CRATE, "src", "presets", "fineweb2.zst"), "rb").read()).decode("utf-8")
    return {n: json.loads(j) for n, j in (l.split("\t", 1) for l in raw.splitlines() if not l.startswith("#"))}


def main():
    check_versions()
    import zstandard
    from datatrove.data import Document
    from datatrove.pipeline.filters import FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter
    from datatrove.utils._import_utils import ASSETS_PATH
    from datatrove.utils.word_tokenizers import load_tokenizer_assignments

    presets = load_presets()
    table = load_tokenizer_assignments()
    rows = list(csv.DictReader(open(os.path.join(ASSETS_PATH, "tokenizer_assignment.csv"), encoding="utf-8")))

    def fw2_name(r):
        cands = []
        for code in (r.get("lang", "").replace("-", "_"), r.get("iso639_3"), r.get("lang_base")):
            if not code:
                continue
            for row in rows:
                name = f"{row['code_3']}_{row['script']}"
                if code in (row["code_1"], row["code_3"], name) and name in presets:
                    cands.append(name)
            if cands:
                break
        for name in cands:
            cls, arg = table[name].args if name in table else ("", "")
            if cls == "WhitespaceTokenizer" or (cls == "SpaCyTokenizer" and arg not in RULE_EXCLUDED):
                return name
        return None

    chains = {}
    out = []
    src = os.path.join(REPO, "..", "shared", "data", "samples", "multilingual_sample.jsonl")
    for line in open(src, encoding="utf-8"):
        r = json.loads(line)
        name = fw2_name(r)
        if not name:
            continue
        if name not in chains:
            c = presets[name]
            chains[name] = [
                ("gopher_repetition", GopherRepetitionFilter(
                    language=name, dup_para_frac=0, dup_line_char_frac=0, dup_para_char_frac=0,
                    dup_line_frac=c["dup_line_frac"], top_n_grams=c["top_n_grams"], dup_n_grams=c["dup_n_grams"])),
                ("fineweb_quality", FineWebQualityFilter(
                    language=name, short_line_thr=999, char_duplicates_ratio=0.1,
                    line_punct_thr=c["line_punct_thr"], new_line_ratio=c["new_line_ratio"])),
                ("gopher_quality", GopherQualityFilter(
                    language=name, max_avg_word_length=c["max_avg_word_length"],
                    min_avg_word_length=c["min_avg_word_length"], stop_words=c["stopwords"],
                    max_non_alpha_words_ratio=c["max_non_alpha_words_ratio"], min_stop_words=2)),
            ]
        row = {"id": r["id"], "language": name}
        chain = "kept"
        for fname, flt in chains[name]:
            row[fname] = run(flt, Document(text=r["text"], id=str(r["id"])))
            if chain == "kept" and row[fname] != "kept":
                chain = f"{fname}:{row[fname]}"
        row["chain"] = chain
        out.append(row)
    data = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in out).encode("utf-8")
    with open(os.path.join(HERE, "filters_fineweb2.jsonl.zst"), "wb") as f:
        f.write(zstandard.ZstdCompressor(level=19).compress(data))
    print(len(out), "documents,", len(chains), "languages", file=sys.stderr)


if __name__ == "__main__":
    main()
