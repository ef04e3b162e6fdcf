#!/usr/bin/env python3
"""datatrove 0.10.1's multilingual filter chain on bench/langs.sh's input, one process, per
script group: GopherRepetitionFilter -> GopherQualityFilter -> C4QualityFilter(
filter_no_terminal_punct=False) -> FineWebQualityFilter, each with the document's language.
Tokenizers and filters are built (and warmed up) before timing; CPU time of the filter() calls
only. Prints `RESULT group=<g> docs=<n> seconds=<cpu s> docs_per_s=<x> kept=<k>`.

    python bench/langs_datatrove.py INPUT.jsonl
"""
import json
import sys
import time

from datatrove.data import Document
from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                        GopherRepetitionFilter)
from datatrove.pipeline.filters.base_filter import get_filter_result


def main():
    groups = {}
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            groups.setdefault(r["group"], []).append((r["language"], r["text"]))
    chains = {}
    for docs in groups.values():
        for lang, _ in docs:
            if lang not in chains:
                chains[lang] = [GopherRepetitionFilter(language=lang), GopherQualityFilter(language=lang),
                                C4QualityFilter(language=lang, filter_no_terminal_punct=False),
                                FineWebQualityFilter(language=lang)]
                for flt in chains[lang]:
                    flt.filter(Document(text="warm up. " * 3, id="w"))
    for g, docs in sorted(groups.items()):
        kept = 0
        t0 = time.process_time()
        for i, (lang, text) in enumerate(docs):
            doc = Document(text=text, id=str(i))
            ok = True
            for flt in chains[lang]:
                ok, _ = get_filter_result(flt.filter(doc))
                if not ok:
                    break
            kept += ok
        dt = time.process_time() - t0
        print(f"RESULT group={g} docs={len(docs)} seconds={dt:.4f} docs_per_s={len(docs) / dt:.0f} kept={kept}",
              flush=True)


if __name__ == "__main__":
    main()
