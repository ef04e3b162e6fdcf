#!/usr/bin/env python3
"""Generate src/presets/fineweb2.zst: FineWeb-2's per-language filter settings.

Source: the FineWeb-2 repository (github.com/huggingface/fineweb-2), `configs/<lang>_<Script>.yml`
(1,929 languages: stopwords, dup_line_frac, top_n_grams, dup_n_grams, line_punct_thr,
max_avg_word_length, min_avg_word_length, max_non_alpha_words_ratio, new_line_ratio,
language_score), as read by its `fineweb-2-pipeline.py`. Pinned commit below; the generator
refuses another.

    python crates/datamill-filters/tools/gen_fineweb2.py /path/to/fineweb-2-git-dir

(any git directory of the repository at that commit, e.g. a bare mirror). Needs PyYAML and
zstandard. Output: zstd of lines `<lang_script>\\t<JSON of the config>`, sorted by name, with a
first line `#commit <sha>`.
"""
import json
import os
import subprocess
import sys

import yaml
import zstandard

COMMIT = "d0defb24f193bb9a5a11b8b14524a03c4858e1b6"
KEYS = ["dup_line_frac", "dup_n_grams", "language_score", "line_punct_thr", "max_avg_word_length",
        "max_non_alpha_words_ratio", "min_avg_word_length", "new_line_ratio", "stopwords", "top_n_grams"]
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "src", "presets", "fineweb2.zst")


def main():
    git_dir = sys.argv[1]
    git = ["git", "--git-dir", git_dir] if os.path.isdir(os.path.join(git_dir, "objects")) else ["git", "-C", git_dir]
    names = subprocess.run(git + ["ls-tree", "--name-only", COMMIT, "configs/"], capture_output=True, text=True,
                           check=True).stdout.split()
    blob = subprocess.run(git + ["cat-file", "--batch"], input="".join(f"{COMMIT}:{n}\n" for n in names).encode(),
                          capture_output=True, check=True).stdout
    lines, i = [f"#commit {COMMIT}\n"], 0
    for n in names:
        end = blob.index(b"\n", i)
        size = int(blob[i:end].split()[2])
        conf = yaml.safe_load(blob[end + 1:end + 1 + size])
        i = end + 1 + size + 1
        assert sorted(conf) == KEYS, (n, sorted(conf))
        assert all(isinstance(w, str) for w in conf["stopwords"]), n
        name = os.path.basename(n)[: -len(".yml")]
        lines.append(name + "\t" + json.dumps({k: conf[k] for k in KEYS}, ensure_ascii=False,
                                              separators=(",", ":")) + "\n")
    data = "".join(lines).encode("utf-8")
    with open(OUT, "wb") as f:
        f.write(zstandard.ZstdCompressor(level=19).compress(data))
    print(len(names), "configs,", len(data), "bytes ->", os.path.getsize(OUT))


if __name__ == "__main__":
    main()
