#!/usr/bin/env python3
"""Golden outputs of datatrove 0.10.1's sentence dedup (SentenceDedupSignature ->
SentenceFindDedups -> SentenceDedupFilter, one task) for datamill's `sentence_dedup` stage.

Run from this folder with a Python holding datatrove==0.10.1, spacy==3.8.18, numpy==2.4.6,
xxhash==3.8.2, orjson and zstandard (/work/peers-venv, see ../datatrove_steps/make_golden.py):

    /work/peers-venv/bin/python make_golden.py

Inputs: the corpus of datatrove's own tests/pipeline/test_sentence_deduplication.py (its
texts below; its random strings drawn here with a fixed seed; its expected outputs are
asserted, and all hold for datatrove 0.10.1 but document 3's, see main()), examples/data/en_prose_sample.jsonl.zst + examples/data/neardup_sample.jsonl.gz
(real text), and crafted texts. Writes golden.json.gz: per case, the configuration and per
input document null (dropped) or the SHA-256 of the text datatrove leaves.
"""
import copy
import gzip
import hashlib
import io
import json
import os
import random
import string
import tempfile

import zstandard
from datatrove.data import Document
from datatrove.pipeline.dedup.sentence_dedup import (
    SentDedupConfig,
    SentenceDedupBuildIndex,
    SentenceDedupFilter,
    SentenceDedupSignature,
    SentenceFindDedups,
)
from datatrove.utils.hashing import HashConfig

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "../../../../../examples/data")

# datatrove tests/pipeline/test_sentence_deduplication.py (same texts)
SENTENCE_ = "A SQUAT grey building of only thirty-four stories."
TEXT_0 = (
    SENTENCE_ + " Over the main entrance the words, CENTRAL LONDON HATCHERY "
    "AND CONDITIONING CENTRE, and, in a shield, the World State's motto, COMMUNITY, IDENTITY, STABILITY. The enormous"
    " room on the ground floor faced towards the north. Cold for all the summer beyond the panes, for all the "
    "tropical heat of the room itself, a harsh thin light glared through the windows, hungrily seeking some draped "
    "lay figure, some pallid shape of academic goose-flesh, but finding only the glass and nickel and bleakly shining"
    " porcelain of a laboratory. Wintriness responded to wintriness. The overalls of the workers were white, their "
    "hands gloved with a pale corpse-coloured rubber. The light was frozen, dead, a ghost. Only from the yellow "
    "barrels of the microscopes did it borrow a certain rich and living substance, lying along the polished tubes "
    "like butter, streak after luscious streak in long recession down the work tables. And this, said the Director "
    "opening the door, 'is the Fertilizing Room.'"
)
TEXT_1 = (
    "Wintriness responded to wintriness. The overalls of the workers were white, their "
    "hands gloved with a pale corpse-coloured rubber. The light was frozen, dead, a ghost. Only from the yellow "
    "barrels of the microscopes did it borrow a certain rich and living substance, lying along the polished tubes "
    "like butter, streak after luscious streak in long recession down the work tables. What wintriness even mean ?"
    "If you google it you will find that pretty bus it is used as a word in this book and pretty much it."
)
EXPECTED_TEXT_1 = (
    "What wintriness even mean ?"
    "If you google it you will find that pretty bus it is used as a word in this book and pretty much it."
)
LOTR = (
    "Arise, arise, Riders of Théoden! Fell deeds awake: fire and slaughter! Spear shall be shaken, shield be "
    "splintered, a sword-day, a red day, ere the sun rises!"
)
HPPS = (
    "I hope you're pleased with yourselves. We could all have been killed — or worse, expelled. Now if you don't "
    "mind, I'm going to bed."
)
TEXT_0_1 = (
    "Meycauayan Tree is one of the three acacia trees (Samanea saman) located in the patio of the Parish Church "
    "of St. Francis of Assisi in Meycauayan City, Bulacan, Philippines. Planted by an unknown person, it has "
    "stood on the grounds of the parish church for almost a century and a half."
)
TEXT_1_1 = (
    "Geologically the Castelltallat range is made up of limestone and marl mountains oriented WSW-ENE. "
    "The highest point of the range is the 936 m high 'Tossal'. The northern slopes are steep and forested, "
    "while the southern slopes are used for agriculture owing to their lesser inclination. Most of the mountain "
    "belongs to the municipality of Sant Mateu de Bages while the western part lies within the municipalities "
    "of Pinós and La Molsosa. The village of Castelltallat was a municipality until 1840 when it became part "
    "of San Mateu de Bages municipal term. The parish church of Sant Miquel has been documented since 1031 "
    "and is located at an altitude of 887 m."
)
TEXT_2_1 = (
    "Chukanovite was first discovered in weathered cavities of a meteorite which fell near the small village "
    "of Dronino, 350 km southeast of Moscow, Russia, but the mineral has since been found elsewhere in cavities"
    " of other iron-rich meteorites. It occurs primarily in association with goethite, akaganeite, hematite, "
    "hibbingite, reevesite, honessite, and kamacite, though the meteorites that contain chukanovite also tend "
    "to contain taenite and chromite. Individual crystals form from a reaction between kamacite and cold "
    "water that is rich in dissolved carbon dioxide, during which they adopt a fibrous to acicular habit and "
    "grow to an average size of roughly 0.5 mm in length and 2-3 μm in thickness. Individual crystals tend to "
    "coalesce within the meteorite cavities into porous collections or crusts of spherulites, each with a "
    "diameter of about 1 mm."
)
TEXT_3_1 = "1 + 1 = 2, 2 + 2 = 4, 4 + 4 = 8, ..."

random.seed(15)


def rand_str(n=20):
    return "".join(random.choices(string.ascii_uppercase + string.digits, k=n)) + "."


rs_1, rs_2 = rand_str(), rand_str()
DOCS = [TEXT_0, TEXT_1, " ".join([TEXT_0, rs_1]), " ".join([rs_1, TEXT_0, rs_2]), LOTR, " ".join([LOTR, HPPS])]
TARGETS = [TEXT_0, EXPECTED_TEXT_1, rs_1, " ".join([rs_1, rs_2]), LOTR, HPPS]
DOCS_2 = [TEXT_0_1, TEXT_1_1, TEXT_2_1 + 10 * (" " + TEXT_2_1), LOTR, TEXT_3_1, TEXT_2_1, TEXT_1_1]

CRAFTED = [
    "",
    "   ",
    "One. Two. Three.",
    "One. Two. Three.  ",
    "Zero. One. Two. Three. Four.\n\nOne. Two. Three. Four. Five.",
    "a\nb\nc\nd\na\nb\nc\ne\n",
    "x\r\ny\r\nz\r\nx\ny\nz\u2028w",
    "\n\n\nOne. Two. Three. Four.\n",
    "Héllo wörld 12. Ünïcode 3,5 here! Punct: (yes).",
    "HÉLLO WÖRLD 99. Unicode 7.1 here? Punct, yes!!!",
]


def read(path):
    op = (lambda p: io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(open(p, "rb")), encoding="utf-8")) \
        if path.endswith(".zst") else (lambda p: gzip.open(p, "rt", encoding="utf-8"))
    with op(path) as f:
        return [json.loads(l)["text"] for l in f if l.strip()]


def run(texts, config, index_texts=None):
    """One-task datatrove run: per text, None (dropped) or the output text."""
    with tempfile.TemporaryDirectory() as d:
        docs = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]
        SentenceDedupSignature(output_folder=d + "/sigs", config=config)(data=copy.deepcopy(docs))
        index_folder = None
        if index_texts is not None:
            idocs = [Document(text=t, id=f"i{i}") for i, t in enumerate(index_texts)]
            SentenceDedupSignature(output_folder=d + "/isigs", config=config)(data=idocs)
            SentenceDedupBuildIndex(data_folder=d + "/isigs", output_folder=d + "/index", index_name="idx",
                                    config=config)()
            index_folder = d + "/index"
        SentenceFindDedups(data_folder=d + "/sigs", output_folder=d + "/dups", index_folder=index_folder,
                           config=config)()
        out = [None] * len(texts)
        for doc in SentenceDedupFilter(data_folder=d + "/dups", config=config)(data=copy.deepcopy(docs)):
            out[int(doc.id)] = doc.text
        return out


def sha(t):
    return None if t is None else hashlib.sha256(t.encode()).hexdigest()


def main():
    real = read(os.path.join(DATA, "en_prose_sample.jsonl.zst")) + read(os.path.join(DATA, "neardup_sample.jsonl.gz"))
    g = {"datatrove": "0.10.1", "test_docs": DOCS + DOCS_2, "crafted": CRAFTED, "cases": []}
    # datatrove's test_sd, asserted as its test does
    cfg0 = dict(min_doc_words=0, min_num_sentences=0)
    got = run(DOCS, SentDedupConfig(**cfg0))
    # datatrove 0.10.1 (spaCy's sentencizer for "en") meets the test's expectations except for
    # document 3, whose random first "sentence" is not split from TEXT_0's first sentence.
    assert [i for i in range(len(got)) if got[i] != TARGETS[i]] == [3], got
    g["test_sd_targets"] = TARGETS
    cases = [
        ("test_sd", "test", cfg0, None),
        ("test_ws1", "test2", cfg0, None),
        ("test2_defaults", "test2", {}, None),
        ("crafted_n1", "crafted", dict(n_sentences=1, min_doc_words=0, min_num_sentences=0), None),
        ("crafted_lines", "crafted", dict(split_sentences=False, n_sentences=2, min_doc_words=0,
                                          min_num_sentences=0), None),
        ("real_defaults", "real", {}, None),
        ("real_n2_span", "real", dict(n_sentences=2, min_words_to_remove_span=12, min_doc_words=20), None),
        ("real_lines", "real", dict(split_sentences=False, n_sentences=2, min_num_sentences=0), None),
        ("real_xx32", "real", dict(hash_config=HashConfig(precision=32)), None),
        ("real_sha1", "real", dict(hash_config=HashConfig(hash_fc="sha1"), n_sentences=2), None),
        ("real_index_only", "real_b", dict(n_sentences=2), "real_a"),
        ("real_index_also", "real_b", dict(n_sentences=2, only_dedup_in_index=False), "real_a"),
    ]
    corpora = {"test": DOCS, "test2": DOCS + DOCS_2, "crafted": CRAFTED, "real": real,
               "real_a": real[::2], "real_b": real[1::2]}
    for name, corpus, cfg, index in cases:
        conf = SentDedupConfig(**cfg)
        out = run(corpora[corpus], conf, corpora[index] if index else None)
        jcfg = {k: v for k, v in cfg.items() if k != "hash_config"}
        if "hash_config" in cfg:
            jcfg["hash_precision"] = cfg["hash_config"].precision
            jcfg["hash_fc"] = cfg["hash_config"].hash_fc
        texts = corpora[corpus]
        g["cases"].append({"name": name, "corpus": corpus, "index": index, "config": jcfg,
                           "out": [sha(o) if o != t else "=" for o, t in zip(out, texts)]})
        print(name, "dropped", sum(o is None for o in out), "changed",
              sum(o is not None and o != t for o, t in zip(out, texts)), "of", len(texts))
    with open(os.path.join(HERE, "golden.json.gz"), "wb") as f:
        f.write(gzip.compress(json.dumps(g, ensure_ascii=False).encode(), mtime=0))


if __name__ == "__main__":
    main()
