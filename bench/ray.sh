#!/usr/bin/env bash
# The Ray executor vs the local one (same machine, same pipeline, 2 workers each): see
# bench/ray_executor.py. Uses the Python given in $PY (default: the CI venv, target/test-venv, with the
# datamill wheel and ray installed by .ci/run); PROFILE=release builds a release wheel first.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-target/test-venv/bin/python}
if [ "${PROFILE:-}" = release ]; then
  rm -rf target/wheels-bench
  "$(dirname "$PY")/maturin" build -q --release -m crates/datamill-py/Cargo.toml -o target/wheels-bench -i "$PY"
  "$(dirname "$PY")/pip" install -q --force-reinstall --no-deps target/wheels-bench/datamill-*.whl
fi
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$PY" bench/ray_executor.py "$@"
