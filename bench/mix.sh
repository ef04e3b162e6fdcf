#!/usr/bin/env bash
# Mixer benchmarks (issue 10), each against its reference in the same run:
#
#  1. Tokenize + write Megatron shards: `datamill mix` with budget = "all" (every document
#     once), GPT-2's tokenizer.json, eos "<|endoftext|>", `tokenized = ["megatron"]`, no
#     document shards, one worker -- against datatrove 0.10.1's DocumentTokenizer (JsonlReader
#     -> DocumentTokenizer, shuffle_documents=False, the same tokenizer.json and eos) in one
#     task with TOKENIZERS_PARALLELISM=false. Per core = CPU seconds (user + sys). The token
#     totals must agree (same tokenizer, same documents).
#  2. Mixing without tokenization vs pass-through: the corpus gets a `token_count` field once
#     (a `datamill run` with the token_count stage, written as .jsonl.zst); then `datamill mix`
#     with `token_field`, budget = "all", documents as .jsonl.zst, against `datamill run` with no
#     stage on the same files (both one worker, zstd level 3). Target: mix >= 70 % of
#     pass-through speed per core.
#
# Usage: bench/mix.sh [CORPUS_DIR] [VENV]
#   CORPUS_DIR: *.jsonl shards (default ~/corpora/en_prose, built by
#               ../shared/tools/corpora/build_en_prose.py)
#   VENV:       a Python 3.11 venv with datatrove==0.10.1 tokenizers==0.23.3 (default
#               /work/mix-venv; see crates/datamill-mix/tests/golden/make_golden_mix.py)
# Prints RESULT lines (bench/lib.sh) and the ratios. Scratch space: bench/work/mix.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
CORPUS="${1:-$HOME/corpora/en_prose}"
VENV="${2:-/work/mix-venv}"
OUT="$REPO/bench/work/mix"
BIN="$REPO/target/release/datamill"
. "$HERE/lib.sh"

[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)"; exit 1; }
ls "$CORPUS"/*.jsonl >/dev/null 2>&1 || { echo "no *.jsonl in $CORPUS"; exit 1; }
"$VENV/bin/python" -c "import datatrove, tokenizers" || { echo "no datatrove in $VENV"; exit 1; }
(cd "$REPO" && cargo build --release -q -p datamill-cli)
rm -rf "$OUT"; mkdir -p "$OUT/in"
for f in "$CORPUS"/*.jsonl; do ln -s "$f" "$OUT/in/$(basename "$f")"; done
zstd -dc "$REPO/examples/models/gpt2-tokenizer.json.zst" > "$OUT/tokenizer.json"
docs=$(cat "$OUT"/in/*.jsonl | wc -l)
echo "input: $CORPUS -- $docs docs, $(( $(cat "$OUT"/in/*.jsonl | wc -c) / 1000000 )) MB; load: $(uptime | sed 's/.*load average: //')"

# 1. Tokenize + Megatron.
cat > "$OUT/tok.toml" <<TOML
version = 1
budget = "all"
tokenizer = "$OUT/tokenizer.json"
eos = "<|endoftext|>"
[[source]]
name = "en_prose"
paths = ["$OUT/in/*.jsonl"]
[output]
documents = "none"
tokenized = ["megatron"]
TOML
measure mix_tokenize "$BIN" mix "$OUT/tok.toml" -o "$OUT/mix-tok" --workers 1 --quiet
mix_tokens=$(python3 -c "import json;print(json.load(open('$OUT/mix-tok/manifest.json'))['tokens'])")
report mix_tokenize "$docs" tokens="$mix_tokens"

cat > "$OUT/datatrove_tok.py" <<PY
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.tokens import DocumentTokenizer
LocalPipelineExecutor(
    pipeline=[
        JsonlReader("$OUT/in", glob_pattern="*.jsonl"),
        DocumentTokenizer(output_folder="$OUT/dt-tok", tokenizer_name_or_path="$OUT/tokenizer.json",
                          eos_token="<|endoftext|>", shuffle_documents=False),
    ],
    tasks=1, workers=1, logging_dir="$OUT/dt-logs",
).run()
PY
TOKENIZERS_PARALLELISM=false measure datatrove_tokenize "$VENV/bin/python" "$OUT/datatrove_tok.py"
dt_tokens=$(sed -n 2p "$OUT"/dt-tok/*.ds.metadata)
report datatrove_tokenize "$docs" tokens="$dt_tokens"
[ "$mix_tokens" = "$dt_tokens" ] || { echo "token totals differ: datamill $mix_tokens, datatrove $dt_tokens"; exit 1; }

# 2. Mixing without tokenization vs pass-through.
cat > "$OUT/count.toml" <<TOML
version = 1
[input]
paths = ["$OUT/in/*.jsonl"]
[[stage]]
type = "token_count"
tokenizer = "$OUT/tokenizer.json"
[output]
dir = "$OUT/counted"
TOML
"$BIN" run "$OUT/count.toml" --quiet
cat > "$OUT/pass.toml" <<TOML
version = 1
[input]
paths = ["$OUT/counted/*.jsonl.zst"]
[output]
dir = "$OUT/pass"
TOML
measure passthrough "$BIN" run "$OUT/pass.toml" --workers 1 --quiet
report passthrough "$docs"
cat > "$OUT/mix.toml" <<TOML
version = 1
budget = "all"
token_field = "token_count"
[[source]]
name = "en_prose"
paths = ["$OUT/counted/*.jsonl.zst"]
[output]
documents = "jsonl"
TOML
measure mix_documents "$BIN" mix "$OUT/mix.toml" -o "$OUT/mix-docs" --workers 1 --quiet
mixed=$(python3 -c "import json;print(json.load(open('$OUT/mix-docs/manifest.json'))['documents'])")
report mix_documents "$mixed"
[ "$mixed" = "$docs" ] || { echo "the mixture has $mixed documents, not $docs"; exit 1; }

cpu() { awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u+s}' "$OUT/$1.time"; }
echo
echo "tokenize + Megatron, datamill vs datatrove per core: $(awk -v a="$(cpu datatrove_tokenize)" -v b="$(cpu mix_tokenize)" 'BEGIN{printf "%.2fx", a/b}')   (goal >= 1.5x)"
echo "mixing without tokenization vs pass-through per core: $(awk -v a="$(cpu passthrough)" -v b="$(cpu mix_documents)" 'BEGIN{printf "%.0f %%", 100*a/b}')   (goal >= 70 %)"
