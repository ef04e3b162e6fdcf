#!/usr/bin/env python3
"""Generate the multilingual tokenizer data of datamill-filters from the oracle itself.

Pinned: Python 3.11 (Unicode 14.0.0), spacy==3.8.18, datatrove==0.10.1, regex==2026.11.19.
Run with the oracle venv (see tests/golden/README.md):

    /work/lang-venv/bin/python crates/datamill-filters/tools/gen_langs.py

Writes (overwrites) src/tokenizer/langs/spacy_langs.zst: a zstd-compressed bundle of the files
below (each as `name\n<byte length>\n<bytes>`), ~200 KB instead of 2 MB of JSON. With
`--plain DIR` the files are also written uncompressed to DIR, for reading.

  assignment.tsv   datatrove's language -> word tokenizer table exactly as
                   `load_tokenizer_assignments()` builds it from assets/tokenizer_assignment.csv
                   (including its quirks: "FALSE" is a truthy string there, so every row's
                   `default_script`/`default_code_1` counts as set and a later row of the same code
                   overrides the bare code): `key<TAB>class<TAB>argument`, in dict order.
  classes.json     every character class the patterns use, as inclusive code-point ranges,
                   evaluated with Python's own `re` (so `\\w`, `\\d`, `\\s` and IGNORECASE are
                   CPython 3.11's, not Rust's), plus `Lu` (`regex` module `\\p{Lu}`, used by
                   datatrove's WhitespaceTokenizer sentence regex).
  <lang>.json      for every spaCy language class datatrove assigns and whose tokenizer is spaCy's
                   rule-based `Tokenizer`: the prefix / suffix / infix / token_match patterns as
                   parse trees from Python's own regex parser (`re._parser`), and the tokenizer
                   exceptions (`nlp.tokenizer.rules`: string -> ORTH pieces).

Parse-tree nodes (JSON arrays): ["c", cp] literal, ["n", cp] not-literal, ["."] any but newline,
["k", class_id], ["|", [[node...], ...]] alternation, ["g", [node...]] group, ["r", min, max,
[node...]] greedy repeat (max -1 = unbounded), ["a", dir, neg, [node...]] look-ahead (dir 1) /
look-behind (dir -1), ["^"] beginning of string, ["$"] end (or before a final newline).
Literals under IGNORECASE become classes of the characters Python's `re` matches with them.

The script asserts what the Rust engine relies on (tokenizer class, URL pattern shared with
English, sentencizer defaults, `is_punct` getter, no pattern that can match empty or whitespace),
so a spaCy upgrade that breaks an assumption fails here instead of silently diverging.
"""
import csv
import json
import os
import re
import re._constants as C
import re._parser as sp
import sys
from functools import partial

import regex
import spacy
from spacy.lang import lex_attrs
from spacy.pipeline.sentencizer import Sentencizer
from spacy.symbols import ORTH
from spacy.tokenizer import Tokenizer as SpacyTokenizer
from spacy.attrs import IS_PUNCT

from datatrove.utils._import_utils import ASSETS_PATH
from datatrove.utils.word_tokenizers import load_tokenizer_assignments

assert sys.version_info[:2] == (3, 11), "generate with Python 3.11 (Unicode 14), like the oracle"
assert spacy.__version__ == "3.8.18", spacy.__version__

HERE = os.path.dirname(os.path.abspath(__file__))
CRATE = os.path.dirname(HERE)
OUT = os.path.join(CRATE, "src", "tokenizer", "langs")
MAXCP = 0x110000
# spaCy classes whose tokenizer is not the rule-based one (segmenters: Sudachi, jieba, pyvi)
NON_RULE = {"ja", "zh", "vi"}


def ranges_of(pred):
    out, start = [], None
    for cp in range(MAXCP):
        ok = pred(cp)
        if ok and start is None:
            start = cp
        elif not ok and start is not None:
            out.append((start, cp - 1))
            start = None
    if start is not None:
        out.append((start, MAXCP - 1))
    return out


def to_set(rs):
    s = set()
    for a, b in rs:
        s.update(range(a, b + 1))
    return s


def set_ranges(s):
    out = []
    for cp in sorted(s):
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out


CATS = {}


def category_set(cat):
    if cat not in CATS:
        pat = {C.CATEGORY_DIGIT: r"\d", C.CATEGORY_NOT_DIGIT: r"\D", C.CATEGORY_SPACE: r"\s",
               C.CATEGORY_NOT_SPACE: r"\S", C.CATEGORY_WORD: r"\w", C.CATEGORY_NOT_WORD: r"\W"}[cat]
        rx = re.compile(pat)
        CATS[cat] = to_set(ranges_of(lambda c: rx.fullmatch(chr(c)) is not None))
    return CATS[cat]


def py_class_source(items):
    """Rebuild a Python class `[...]` from parsed items (to evaluate it with flags)."""
    out, neg = [], False
    for op, av in items:
        if op == C.NEGATE:
            neg = True
        elif op == C.LITERAL:
            out.append("\\U%08x" % av)
        elif op == C.RANGE:
            out.append("\\U%08x-\\U%08x" % av)
        elif op == C.CATEGORY:
            out.append({C.CATEGORY_DIGIT: r"\d", C.CATEGORY_NOT_DIGIT: r"\D", C.CATEGORY_SPACE: r"\s",
                        C.CATEGORY_NOT_SPACE: r"\S", C.CATEGORY_WORD: r"\w", C.CATEGORY_NOT_WORD: r"\W"}[av])
        else:
            raise AssertionError(("class item", op))
    return "[" + ("^" if neg else "") + "".join(out) + "]"


CLASSES = []      # list of range lists
CLASS_IDS = {}    # frozenset key -> id
EVAL_CACHE = {}


def intern(s):
    key = tuple(map(tuple, set_ranges(s)))
    if key not in CLASS_IDS:
        CLASS_IDS[key] = len(CLASSES)
        CLASSES.append([list(r) for r in key])
    return CLASS_IDS[key]


def class_id(items, ignorecase):
    key = (repr(items), ignorecase)
    if key in EVAL_CACHE:
        return EVAL_CACHE[key]
    if ignorecase:
        rx = re.compile(py_class_source(items), re.IGNORECASE)
        s = to_set(ranges_of(lambda c: rx.fullmatch(chr(c)) is not None))
    else:
        s, neg = set(), False
        for op, av in items:
            if op == C.NEGATE:
                neg = True
            elif op == C.LITERAL:
                s.add(av)
            elif op == C.RANGE:
                s.update(range(av[0], av[1] + 1))
            elif op == C.CATEGORY:
                s |= category_set(av)
        if neg:
            s = set(range(MAXCP)) - s
        s -= set(range(0xD800, 0xE000))
    # sanity: compare with Python on a sample of code points
    rx = re.compile(py_class_source(items), re.IGNORECASE if ignorecase else 0)
    for cp in list(range(0, 0x3000)) + list(range(0xFF00, 0xFFFF)):
        if 0xD800 <= cp < 0xE000:
            continue
        assert (rx.fullmatch(chr(cp)) is not None) == (cp in s), (items, cp)
    s -= set(range(0xD800, 0xE000))
    cid = intern(s)
    EVAL_CACHE[key] = cid
    return cid


LOWER_GROUPS = None


def ignorecase_literal(cp):
    """The set of characters Python's re (IGNORECASE | UNICODE) matches with literal `cp`."""
    global LOWER_GROUPS
    if LOWER_GROUPS is None:
        LOWER_GROUPS = {}
        for x in range(MAXCP):
            if 0xD800 <= x < 0xE000:
                continue
            LOWER_GROUPS.setdefault(chr(x).lower(), []).append(x)
    cands = set(LOWER_GROUPS.get(chr(cp).lower(), [])) | {cp}
    for x in list(cands):
        for y in (chr(x).upper(), chr(x).lower(), chr(x).casefold()):
            if len(y) == 1:
                cands |= set(LOWER_GROUPS.get(y.lower(), [])) | {ord(y)}
    rx = re.compile(re.escape(chr(cp)), re.IGNORECASE)
    s = {x for x in cands if not 0xD800 <= x < 0xE000 and rx.fullmatch(chr(x))}
    assert cp in s
    return s


def conv(seq, flags):
    ic = bool(flags & re.IGNORECASE)
    out = []
    for op, av in seq:
        if op == C.LITERAL:
            if ic and len(ignorecase_literal(av)) > 1:
                out.append(["k", intern(ignorecase_literal(av))])
            else:
                out.append(["c", av])
        elif op == C.NOT_LITERAL:
            assert not ic
            out.append(["n", av])
        elif op == C.ANY:
            assert not flags & re.DOTALL
            out.append(["."])
        elif op == C.IN:
            out.append(["k", class_id(av, ic)])
        elif op == C.BRANCH:
            out.append(["|", [conv(b, flags) for b in av[1]]])
        elif op == C.SUBPATTERN:
            group, add_flags, del_flags, p = av
            assert not add_flags and not del_flags, av
            out.append(["g", conv(p, flags)])
        elif op == C.MAX_REPEAT:
            lo, hi, p = av
            out.append(["r", lo, -1 if hi == C.MAXREPEAT else hi, conv(p, flags)])
        elif op in (C.ASSERT, C.ASSERT_NOT):
            d, p = av
            if d == -1:
                lo, hi = sp.SubPattern(sp.State(), p).getwidth()
                assert lo == hi, ("variable look-behind", p)
            out.append(["a", d, 1 if op == C.ASSERT_NOT else 0, conv(p, flags)])
        elif op == C.AT:
            if av == C.AT_BEGINNING:
                out.append(["^"])
            elif av == C.AT_END:
                out.append(["$"])
            else:
                raise AssertionError(("unsupported anchor", av))
        else:
            raise AssertionError(("unsupported regex op", op))
    return out


def tree(compiled):
    parsed = sp.parse(compiled.pattern, compiled.flags)
    flags = parsed.state.flags
    assert not flags & (re.MULTILINE | re.DOTALL | re.VERBOSE | re.ASCII | re.LOCALE), (compiled.pattern[:80], flags)
    lo, _hi = parsed.getwidth()
    return conv(list(parsed), flags), lo


def gen_lang(code, url_pattern):
    nlp = spacy.blank(code)
    tok = nlp.tokenizer
    assert type(tok) is SpacyTokenizer, (code, type(tok))
    assert tok.faster_heuristics
    assert tok.url_match.__self__.pattern == url_pattern, code
    assert nlp.vocab.lex_attr_getters[IS_PUNCT] is lex_attrs.is_punct, code
    out = {"lang": code}
    for name, fn in [("prefix", tok.prefix_search), ("suffix", tok.suffix_search),
                     ("infix", tok.infix_finditer), ("token_match", tok.token_match)]:
        if fn is None:
            assert name == "token_match", (code, name)
            continue
        t, _minw = tree(fn.__self__)
        if name in ("prefix", "suffix", "infix"):
            # whitespace chunks are never split by affix rules (the `$` before a final newline
            # subtlety is then moot)
            for ws in (" ", "\n", "\t", "\u00a0", "\u3000", "\r\n", "\n\n"):
                assert not tok.find_prefix(ws) and not tok.find_suffix(ws) and not tok.find_infix(ws), (code, repr(ws))
        out[name] = t
    rules = []
    for k in sorted(tok.rules):
        orths = [d[ORTH] for d in tok.rules[k]]
        assert "".join(orths) == k, (code, k)
        rules.append([k] + orths)
    out["specials"] = rules
    return out


def gen_assignment():
    facts = load_tokenizer_assignments()
    lines = []
    for key, f in facts.items():
        assert isinstance(f, partial)
        cls, arg = f.args
        lines.append(f"{key}\t{cls}\t{arg}\n")
    put("assignment.tsv", "".join(lines))
    with open(os.path.join(ASSETS_PATH, "tokenizer_assignment.csv"), encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return sorted({r["tok_code"] for r in rows if r["type"] == "SpaCyTokenizer"})


FILES = {}


def put(name, text):
    FILES[name] = text.encode("utf-8")


def main():
    import zstandard
    plain = sys.argv[sys.argv.index("--plain") + 1] if "--plain" in sys.argv else None
    os.makedirs(OUT, exist_ok=True)
    spacy_langs = gen_assignment()
    url_pattern = spacy.blank("en").tokenizer.url_match.__self__.pattern
    rule_langs = [c for c in spacy_langs if c not in NON_RULE]
    for code in rule_langs:
        data = gen_lang(code, url_pattern)
        put(f"{code}.json", json.dumps(data, ensure_ascii=False, separators=(",", ":")))
        print(code, len(FILES[f"{code}.json"]), flush=True)
    lu = regex.compile(r"\p{Lu}")
    classes = {"classes": CLASSES,
               "Lu": set_ranges({c for c in range(MAXCP) if not 0xD800 <= c < 0xE000 and lu.fullmatch(chr(c))})}
    put("classes.json", json.dumps(classes, separators=(",", ":")))
    put("languages.txt", "".join(c + "\n" for c in rule_langs))
    blob = b"".join(name.encode() + b"\n" + str(len(data)).encode() + b"\n" + data for name, data in FILES.items())
    with open(os.path.join(OUT, "spacy_langs.zst"), "wb") as fh:
        fh.write(zstandard.ZstdCompressor(level=19).compress(blob))
    if plain:
        os.makedirs(plain, exist_ok=True)
        for name, data in FILES.items():
            with open(os.path.join(plain, name), "wb") as fh:
                fh.write(data)
    print("ok", len(rule_langs), "languages,", len(CLASSES), "classes")


if __name__ == "__main__":
    main()
