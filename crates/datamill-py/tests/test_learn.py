"""datamill.label_issues and datamill.scaling over numpy arrays: cleanlab's results (the
committed goldens of datamill-learn, ties included) and the command line's numbers."""

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

import datamill
from datamill import label_issues as li
from datamill import scaling
from conftest import REPO

GOLDEN = REPO / "crates" / "datamill-learn" / "tests"


@pytest.mark.parametrize("name", ["digits_noisy", "debian_sections"])
def test_label_issues_equal_cleanlab_goldens_including_tie_order(name):
    check_goldens(name)


def check_goldens(name: str) -> int:
    """Every golden case of a data set; returns how many ranked positions a stable sort
    would have got wrong (ties numpy's AVX-512 argsort orders its own way)."""
    g = json.loads((GOLDEN / "golden" / f"{name}.cleanlab.json").read_text())
    probs = np.load(GOLDEN / "data" / f"{name}.pred_probs.npy")
    labels = np.array(g["labels"], dtype=np.int64)
    assert li.num_label_issues(labels, probs) == g["num_label_issues"]
    for m, want in g["scores"].items():
        got = li.get_label_quality_scores(labels, probs, method=m)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    for m, want in g["scores_adjusted"].items():
        got = li.get_label_quality_scores(labels, probs, method=m, adjust_pred_probs=True)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    ties = 0
    for c in g["cases"]:
        kw = {k: c[k] for k in ("frac_noise", "num_to_remove_per_class", "min_examples_per_class") if k in c}
        got = li.find_label_issues(labels, probs, filter_by=c["filter_by"], return_indices_ranked_by=c["rank_by"], **kw)
        if c["rank_by"] is None:
            assert got.dtype == bool and got.shape == (len(labels),)
            got = np.flatnonzero(got)
        else:
            sc = li.get_label_quality_scores(labels, probs, method=c["rank_by"])
            stable = sorted(c["indices"], key=lambda i: (sc[i], i))
            ties += sum(a != b for a, b in zip(stable, c["indices"]))
        assert got.tolist() == c["indices"], (name, c["filter_by"], c["rank_by"], kw)
    print(f"{name}: {len(g['cases'])} cleanlab cases identical; a stable sort would misplace {ties} ranked positions")
    return ties


def test_ties_rank_as_numpy_avx512_on_any_cpu():
    """Exactly tied scores rank in the order numpy's AVX-512 argsort gives them (the goldens
    were made on an AVX-512 machine; a stable sort would differ), whatever CPU runs the wheel:
    the order is computed, not taken from the CPU's sort. (The wheel is built for baseline
    x86-64; its only AVX-512 code is matrixmultiply's runtime-dispatched kernels, used by the
    embed stage.)"""
    assert check_goldens("debian_sections") + check_goldens("digits_noisy") > 0


def test_label_issue_errors():
    p = np.array([[0.9, 0.1], [0.2, 0.8]])
    with pytest.raises(ValueError, match="labels\\[1\\] = 2"):
        li.find_label_issues(np.array([0, 2]), p)
    with pytest.raises(ValueError, match="2-D"):
        li.find_label_issues(np.array([0, 1]), p.ravel())
    with pytest.raises(ValueError, match="filter_by `nope`"):
        li.find_label_issues(np.array([0, 1]), p, filter_by="nope")


def chinchilla_runs():
    rng = np.random.default_rng(7)
    N = np.repeat([4e7, 1e8, 3e8, 1e9, 3e9], 6)
    D = np.tile([1e9, 3e9, 1e10, 3e10, 1e11, 3e11], 5)
    E, A, B, a, b = 1.8, 400.0, 410.0, 0.34, 0.28
    loss = E + A / N**a + B / D**b
    loss *= np.exp(rng.normal(0, 0.004, loss.size))
    return N, D, loss


def test_scaling_fit_equals_the_cli(tmp_path, datamill_bin):
    N, D, loss = chinchilla_runs()
    csv = tmp_path / "runs.csv"
    csv.write_text("N,D,loss\n" + "".join(f"{float(n)!r},{float(d)!r},{float(l)!r}\n" for n, d, l in zip(N, D, loss)))
    law_file = tmp_path / "law.json"
    subprocess.run([str(datamill_bin), "scaling", "fit", str(csv), "--law", "chinchilla", "--bootstrap", "0", "--out", str(law_file)], check=True, capture_output=True)
    cli = json.loads(law_file.read_text())
    py = scaling.fit(loss, N=N, D=D, law="chinchilla")
    assert py["law"] == cli["law"]
    assert py["fit"]["objective"] == cli["fit"]["objective"]
    assert py["fit"]["coordinates"] == cli["fit"]["coordinates"]
    assert abs(py["law"]["alpha"] - 0.34) < 0.05, py["law"]
    # Predictions equal `datamill scaling predict --json`.
    out = subprocess.run(
        [str(datamill_bin), "scaling", "predict", str(law_file), "--n", "1e9", "--d", "2e10", "--compute", "1e21", "--json"],
        check=True, capture_output=True, text=True,
    ).stdout
    assert scaling.predict(py, N=[1e9], D=[2e10], compute=[1e21]) == json.loads(out)


def test_scaling_errors():
    with pytest.raises(ValueError, match="law `nope`"):
        scaling.fit([3.0, 2.9], N=[1e8, 2e8], D=[1e9, 2e9], law="nope")
    with pytest.raises(ValueError, match="N has 1 values"):
        scaling.fit([3.0, 2.9], N=[1e8], D=[1e9, 2e9])
    with pytest.raises(ValueError, match="needs U"):
        scaling.fit([3.0, 2.9], N=[1e8, 2e8], D=[1e9, 2e9], law="data-constrained")
