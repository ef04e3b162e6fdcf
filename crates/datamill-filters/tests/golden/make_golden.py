#!/usr/bin/env python3
"""Golden outputs of datatrove 0.10.1 (+ spaCy 3.8.18) for the datamill-filters tests.

Pinned oracle (see README.md next to this file):
    Python 3.11 (Unicode 14.0.0 character database)
    datatrove==0.10.1   spacy==3.8.18   regex==2026.11.19   numpy==2.4.6

    python3.11 -m venv /tmp/dtvenv
    /tmp/dtvenv/bin/pip install datatrove==0.10.1 spacy==3.8.18 regex==2026.11.19 numpy==2.4.6 zstandard
    /tmp/dtvenv/bin/python crates/datamill-filters/tests/golden/make_golden.py

Reads ../shared/data/samples/en_prose_sample.jsonl (relative to the repository root; override
with --input) and writes, next to this script:

  filters.jsonl.zst  one row per document: {"id", <run>: "kept" | reason, ...,
                     "c4_quality_text": rewritten text (only where C4 changed it),
                     "c4_quality_nopunct_text", "chain_text", "chain_fineweb_text" (same rule)}
                     runs: gopher_quality, gopher_repetition, c4_quality,
                     c4_quality_nopunct (filter_no_terminal_punct=False, as FineWeb uses it),
                     c4_badwords, fineweb_quality,
                     chain = GopherQuality -> GopherRepetition -> C4Quality -> FineWebQuality,
                     chain_fineweb = FineWeb's order and settings: GopherRepetition ->
                     GopherQuality -> C4Quality(filter_no_terminal_punct=False) -> FineWebQuality.
                     Chain reasons are "<filter>:<reason>" of the first filter that dropped.
  tokens.jsonl.zst   one row per document: {"id", "tokens": [spaCy token texts, whitespace tokens
                     included], "space": "0101..." (token.whitespace_ == " "), "sents": number of
                     sentences of the sentencizer}
  tokens_synth.jsonl.zst  the same for 4,000 synthetic punctuation-heavy strings (seeded), which
                     exercise prefix/suffix/infix/URL/special-case rules the sample may not reach.
  filters_crafted.jsonl.zst  the same runs on ~30 hand-made documents (text included) that reach
                     the rules and reasons the sample does not.
  timing.json        datatrove's own speed on this sample (filter() calls, one process, one core).

All filters use datatrove defaults (English). C4BadWordsFilter normally downloads the LDNOOBW list
at run time; here it is pointed at the copy shipped in the crate (assets/ldnoobw/en, the exact
revision datatrove pins), so the test exercises the same list offline.
"""
import argparse
import copy
import json
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CRATE = os.path.dirname(os.path.dirname(HERE))
REPO = os.path.dirname(os.path.dirname(CRATE))

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def check_versions():
    import datatrove
    import numpy
    import regex
    import spacy
    from importlib.metadata import version

    assert sys.version_info[:2] == (3, 11), sys.version
    assert version("datatrove") == "0.10.1", version("datatrove")
    assert spacy.__version__ == "3.8.18", spacy.__version__
    return {"python": sys.version.split()[0], "datatrove": version("datatrove"), "spacy": spacy.__version__,
            "numpy": numpy.__version__, "regex": version("regex")}


def make_filters():
    import datatrove.pipeline.filters.c4_filters as c4mod
    from datatrove.pipeline.filters import (C4BadWordsFilter, C4QualityFilter, FineWebQualityFilter,
                                            GopherQualityFilter, GopherRepetitionFilter)

    def local_asset(remote_path, **kw):
        assert remote_path.endswith("/en"), remote_path
        return os.path.join(CRATE, "assets", "ldnoobw", "en")

    c4mod.cached_asset_path_or_download = local_asset
    return {
        "gopher_quality": GopherQualityFilter,
        "gopher_repetition": GopherRepetitionFilter,
        "c4_quality": C4QualityFilter,
        "c4_quality_nopunct": lambda: C4QualityFilter(filter_no_terminal_punct=False),
        "c4_badwords": C4BadWordsFilter,
        "fineweb_quality": FineWebQualityFilter,
    }


CHAINS = {
    "chain": ["gopher_quality", "gopher_repetition", "c4_quality", "fineweb_quality"],
    "chain_fineweb": ["gopher_repetition", "gopher_quality", "c4_quality_nopunct", "fineweb_quality"],
}
CHAIN_NAME = {"c4_quality_nopunct": "c4_quality"}


def run(filt, doc):
    from datatrove.pipeline.filters.base_filter import get_filter_result

    ok, reason = get_filter_result(filt.filter(doc))
    return "kept" if ok else (reason or "unspecified")


def synth_strings(n=4000, seed=1234):
    rng = random.Random(seed)
    pieces = (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") * 3
              + list(".,:;!?'\"()[]{}<>-+*^/=~_#&%$@§°…–—’‘“”«»¿¡·") * 2
              + ["km", "US$", "€", "n't", "'s", "'ll", "can't", "don't", "U.S.", "e.g.", "i.e.", "a.m.", "p.m.",
                 "Mr.", "Dr.", "St.", "http://", "https://", "www.", ".com", ".org", "example", "user@", ":)",
                 ":-)", "<3", "C++", "°C.", "°F", "10", "127.0.0.1", "192.168.1.1", "8.8.8.8", ":8080", "/path",
                 "?q=1", "#frag", "mailto:", "...", "--", "---", "——", "é", "Ü", "ß", "Ω", "Σ", "я", "Ж", "ا",
                 "中", "ア", "한", "☺", "♥", "©", "®", "™", "½", "²", "\u00a0", "\t", "\n", "  ", " ", " ", " ",
                 " ", "'em", "y'all", "gonna", "Can't", "O'Neil", "rock'n'roll", "1st", "2nd", "5,000", "3.14",
                 "$5", "5$", "(5)", "[1]", "foo.Bar", "foo,bar", "A.B.", "Jan.", "etc.", "vs.", "No.", "1/2",
                 "a/b", "x=y", "x<y", "'90s", "’s", "\u2028", "\x1c", "\u3000", "\u200b", "\r\n"])
    out = []
    for _ in range(n):
        k = rng.randint(1, 25)
        out.append("".join(rng.choice(pieces) for _ in range(k)))
    return out


def crafted_docs():
    """Hand-made documents reaching the rules the sample does not (every reason string)."""
    base = ("The quick brown fox jumps over the lazy dog and that is what we have to say with it. "
            "It was the best of times, it was the worst of times, and that is the truth of it. ")
    para = base * 2
    docs = {
        "long_doc": "word " * 100001,
        "hashes": para + " #tag" * 30,
        "ellipsis": para + " wait..." * 20 + " so… " * 10,
        "bullets": "\n".join(["- " + base] * 10 + ["• " + base]),
        "end_ellipsis": "\n".join([base + "and so on..."] * 4 + [base] * 3),
        "dup_para": (para + "\n\n") * 4 + "Different closing paragraph here, with the words of it.",
        "dup_para_chars": para + "\n\n" + "A long repeated paragraph with the words of it and that. " * 6 + "\n\n"
                          + "A long repeated paragraph with the words of it and that. " * 6,
        "dup_lines": "\n".join([f"Line {i} of the text is here to be read and that is it." for i in range(8)]
                               + ["Same line here."] * 3),
        "dup_line_chars": "\n".join(["Unique opening line of the text that is long enough to matter here."]
                                    + ["A long repeated line with the words of it and that is it."] * 2
                                    + [f"Other line {i} with the text." for i in range(6)]),
        "lorem": para + "\nLorem ipsum dolor sit amet, consectetur adipiscing elit.\n" + para,
        "javascript": "\n".join([base] * 3 + ["Please enable JavaScript to view this page properly."] + [base] * 3),
        "policy": "\n".join([base] * 3 + ["This site uses cookies to improve the experience."] + [base] * 3),
        "citations": "\n".join([base + "[1]", base + "[citation needed]", base + "[edit]", base + "[٣]", base]),
        "long_word": "\n".join([base] * 5 + ["A line with " + "x" * 1001 + " in it."]),
        "curly": "\n".join([base] * 5 + ["A line with { in it."]),
        "no_terminal": "\n".join([base.strip()[:-1]] * 6),
        "empty": "",
        "blank_lines": " \n \n\t\n",
        "crlf": base.replace(". ", ".\r\n") * 3,
        "unicode_ws": base.replace(" ", "\u00a0") + "\u2028" + base + "\x1c" + base,
        "ellipsis_lines": "\n".join(["Wait for it…"] * 5 + [base]),
        "greek_sigma": "ΟΔΟΣ ΚΑΙ ΛΟΓΟΣ. " * 30 + "\n" + para,
        "kelvin_cookies": "\n".join([base] * 3 + ["This site uses coo\u212aies for tracking."] + [base] * 3),
        "short_lines": "\n".join(["Short line."] * 10 + [base]),
        "list_ratio": "\n".join(["Item number one is here."] * 3 + [f"Entry {i}." for i in range(20)]),
        "no_stop": "Cats sit on mats looking at birds singing joyfully in gardens. " * 8,
        "non_alpha": "1 2 3 4 5 6 7 8 9 10 " * 10 + base,
        "badwords": para + " What a load of bullshit.",
        "badwords_boundary": para + " A classic bullshitter and an assassin.",
        "url_heavy": " ".join(["Visit https://example.com/a?b=1 or mail user@example.org today."] * 10),
        "numbers": "The price is $5.00, 10km away, 3.14 and 1-2-3 or 5+5=10, at 10:30 p.m. on Jan. 1st. " * 6,
    }
    return list(docs.items())


def tokens_row(tok, text):
    """Tokens exactly as datatrove's SpaCyTokenizer sees them (its _do_tokenize, in a memory zone)."""
    with tok.tokenizer.memory_zone():
        tok.tokenizer.max_length = len(text) + 10
        docs = tok._do_tokenize(text)
        toks = [t for d in docs for t in d]
        row = {"tokens": [t.text for t in toks], "space": "".join("1" if t.whitespace_ else "0" for t in toks),
               "sents": sum(len(list(d.sents)) for d in docs if len(d))}
    words = [w.strip() for w in row["tokens"] if w.strip()]
    assert words == tok.word_tokenize(text)
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", default=os.path.join(REPO, "..", "shared", "data", "samples", "en_prose_sample.jsonl"))
    ap.add_argument("--out", default=HERE)
    args = ap.parse_args()
    versions = check_versions()
    import zstandard
    from datatrove.data import Document
    from datatrove.utils.word_tokenizers import load_word_tokenizer

    docs = []
    with open(args.input, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            docs.append((str(r["id"]), r["text"]))
    print(f"{len(docs)} docs", file=sys.stderr)

    factories = make_filters()
    rows = [{"id": i} for i, _ in docs]
    timing = {"docs": len(docs), "versions": versions}

    # warm up the tokenizer (spaCy model construction is not part of per-doc cost)
    load_word_tokenizer("en").word_tokenize("warm up.")

    for name, fac in factories.items():
        filt = fac()
        t0 = time.process_time()
        for row, (i, text) in zip(rows, docs):
            doc = Document(text=text, id=i, metadata={})
            row[name] = run(filt, doc)
            if name.startswith("c4_quality") and row[name] == "kept" and doc.text != text:
                row[name + "_text"] = doc.text
        dt = time.process_time() - t0
        timing[name] = {"cpu_s": round(dt, 3), "docs_per_cpu_s": round(len(docs) / dt, 1)}
        print(name, timing[name], file=sys.stderr)

    for cname, keys in CHAINS.items():
        filts = [(k, factories[k]()) for k in keys]
        t0 = time.process_time()
        for row, (i, text) in zip(rows, docs):
            doc = Document(text=text, id=i, metadata={})
            res = "kept"
            for k, f in filts:
                r = run(f, doc)
                if r != "kept":
                    res = f"{CHAIN_NAME.get(k, k)}:{r}"
                    break
            row[cname] = res
            if res == "kept" and doc.text != text:
                row[cname + "_text"] = doc.text
        dt = time.process_time() - t0
        timing[cname] = {"cpu_s": round(dt, 3), "docs_per_cpu_s": round(len(docs) / dt, 1)}
        print(cname, timing[cname], file=sys.stderr)

    cctx = zstandard.ZstdCompressor(level=19)

    def write(name, rows_):
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows_).encode("utf-8")
        with open(os.path.join(args.out, name), "wb") as f:
            f.write(cctx.compress(data))

    write("filters.jsonl.zst", rows)

    # crafted documents: every run, with the text stored
    crows = []
    for cid, text in crafted_docs():
        row = {"id": f"crafted-{cid}", "text": text}
        for name, fac in factories.items():
            doc = Document(text=text, id=cid, metadata={})
            row[name] = run(fac(), doc)
            if name.startswith("c4_quality") and row[name] == "kept" and doc.text != text:
                row[name + "_text"] = doc.text
        for cname, keys in CHAINS.items():
            doc = Document(text=text, id=cid, metadata={})
            res = "kept"
            for k in keys:
                r = run(factories[k](), doc)
                if r != "kept":
                    res = f"{CHAIN_NAME.get(k, k)}:{r}"
                    break
            row[cname] = res
            if res == "kept" and doc.text != text:
                row[cname + "_text"] = doc.text
        crows.append(row)
    write("filters_crafted.jsonl.zst", crows)

    tok = load_word_tokenizer("en")
    t0 = time.process_time()
    for _, text in docs:
        tok.word_tokenize(text)
    dt = time.process_time() - t0
    timing["word_tokenize"] = {"cpu_s": round(dt, 3), "docs_per_cpu_s": round(len(docs) / dt, 1)}
    trows = []
    for i, text in docs:
        r = {"id": i}
        r.update(tokens_row(tok, text))
        trows.append(r)
    write("tokens.jsonl.zst", trows)
    srows = []
    for k, text in enumerate(synth_strings()):
        r = {"id": f"synth-{k}", "text": text}
        r.update(tokens_row(tok, text))
        srows.append(r)
    write("tokens_synth.jsonl.zst", srows)

    with open(os.path.join(args.out, "timing.json"), "w") as f:
        json.dump(timing, f, indent=1)
    print(json.dumps(timing, indent=1), file=sys.stderr)


if __name__ == "__main__":
    main()
