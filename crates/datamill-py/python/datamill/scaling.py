"""Scaling laws over numpy arrays: the fits and predictions of ``datamill scaling fit`` and
``datamill scaling predict``, from the same Rust code (same starts grid, Huber objective and
L-BFGS: the same numbers)."""

from __future__ import annotations

import json
from typing import Any, Dict, Optional, Sequence, Union

import numpy as np

from . import _datamill

__all__ = ["fit", "predict"]


def _col(x) -> bytes:
    if x is None:
        return b""
    return np.ascontiguousarray(x, dtype="<f8").ravel().tobytes()


def fit(
    loss,
    *,
    N=None,
    D=None,
    U=None,
    law: str = "chinchilla",
    huber_delta: float = 1e-3,
    drop_highest_loss: int = 0,
) -> Dict[str, Any]:
    """Fits a law (``chinchilla``, ``learning-curve``, ``kaplan``, ``kaplan-n``,
    ``kaplan-d``, ``data-constrained``, ``overtrain``) to runs: parameters ``N``, tokens
    ``D``, unique tokens ``U`` (data-constrained), final ``loss``, one value per run.
    ``drop_highest_loss=k`` drops the k highest losses first (Epoch's outlier rule).

    Returns the law file ``datamill scaling fit`` writes, as a dict: ``law`` (its form and
    parameters) and ``fit`` (objective, R², starts, ...). Pass it to :func:`predict`."""
    text = _datamill.scaling_fit(law, _col(N), _col(D), _col(loss), None if U is None else _col(U), float(huber_delta), int(drop_highest_loss))
    return json.loads(text)


def predict(
    law: Union[Dict[str, Any], str],
    *,
    N: Sequence[float] = (),
    D: Sequence[float] = (),
    compute: Sequence[float] = (),
    target_loss: Optional[float] = None,
    U: Optional[float] = None,
    epochs: Sequence[float] = (),
) -> Dict[str, Any]:
    """Predictions from a law (a :func:`fit` result, a law file's dict, or
    ``"builtin:NAME"``): loss at (N, D), compute-optimal N and D for each compute budget,
    data needed for a target loss, repetition cost of epochs; ``datamill scaling predict
    --json``'s report."""
    spec = law if isinstance(law, str) else json.dumps(law)
    text = _datamill.scaling_predict(
        spec,
        n=[float(x) for x in N],
        d=[float(x) for x in D],
        compute=[float(x) for x in compute],
        target_loss=target_loss,
        u=U,
        epochs=[float(x) for x in epochs],
    )
    return json.loads(text)
