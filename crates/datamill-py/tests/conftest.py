"""Shared fixtures: the repository, the `datamill` binary (to compare with the CLI), small
inputs copied from examples/data."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
REQUIRE = os.environ.get("DATAMILL_REQUIRE_MODELS") == "1"


def need(what: str):
    """Skips with a notice, or fails when DATAMILL_REQUIRE_MODELS=1 (as CI sets)."""
    if REQUIRE:
        pytest.fail(f"{what} is missing and DATAMILL_REQUIRE_MODELS=1")
    print(f"SKIPPED: {what} is missing")
    pytest.skip(f"{what} is missing")


@pytest.fixture(scope="session")
def datamill_bin() -> Path:
    """The command-line binary built from this repository (DATAMILL_BIN overrides)."""
    env = os.environ.get("DATAMILL_BIN")
    cands = [Path(env)] if env else [REPO / "target" / "debug" / "datamill", REPO / "target" / "release" / "datamill"]
    for c in cands:
        if c.is_file():
            return c
    need("the datamill binary (cargo build; or set DATAMILL_BIN)")


@pytest.fixture(scope="session")
def prose() -> Path:
    """English prose sample: 2,178 documents, zstd JSONL (examples/data)."""
    return REPO / "examples" / "data" / "en_prose_sample.jsonl.zst"


def files(d: Path) -> dict:
    """Every file under d (relative path -> bytes), the run's bookkeeping folder excepted
    apart from nothing: stats.json differs in its timings and is compared separately."""
    out = {}
    for p in sorted(d.rglob("*")):
        rel = p.relative_to(d).as_posix()
        # report.html (written by the command line, with timings) aside, as stats.json.
        if p.is_file() and rel not in ("stats.json", "report.html") and not rel.startswith(".datamill/"):
            out[rel] = p.read_bytes()
    return out


def check_report(out: Path, stats: dict) -> None:
    """`out/report.html` is the finished run's report (as `datamill run` writes it): its
    funnel and facts sections, no "problems" section (a run unfinished when the page was
    written shows one), and the run's counts in its cells."""
    import re

    page = (out / "report.html").read_text()
    for section in ("funnel", "facts"):
        assert f'<section id="{section}"' in page, section
    assert '<section id="problems"' not in page
    cells = dict(re.findall(r'data-stat="([^"]+)" data-v="([^"]*)"', page))
    for k in ("input_docs", "output_docs"):
        assert cells[k] == str(stats[k]), (k, cells.get(k), stats[k])


def stats_core(s: dict) -> dict:
    """The counts of a stats dict, without timings."""
    keep = {k: s[k] for k in ("input_docs", "input_bytes", "output_docs", "output_bytes", "output_files", "quarantined", "quarantine", "blank_lines")}
    keep["stages"] = [{k: v for k, v in st.items() if k != "seconds"} for st in s["stages"]]
    return keep
