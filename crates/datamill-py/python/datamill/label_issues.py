"""Confident learning over numpy arrays: cleanlab 2.9.0's ``find_label_issues``,
``get_label_quality_scores`` and ``num_label_issues``, computed by the same Rust code as
``datamill label-issues`` (identical results, including how exactly tied scores are ordered:
numpy's AVX-512 argsort is reproduced in portable code, so a wheel built for any x86-64 or
ARM CPU ranks ties as cleanlab does on an AVX-512 machine; on a CPU without AVX-512, cleanlab
itself orders ties differently)."""

from __future__ import annotations

from typing import Optional, Sequence, Union

import numpy as np

from . import _datamill

__all__ = ["find_label_issues", "get_label_quality_scores", "num_label_issues"]


def _inputs(labels, pred_probs):
    p = np.ascontiguousarray(pred_probs, dtype="<f8")
    if p.ndim != 2:
        raise ValueError(f"pred_probs must be 2-D (N x K), got shape {p.shape}")
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError("labels must be a 1-D array of integer class indices")
    if len(labels) != p.shape[0]:
        raise ValueError(f"{len(labels)} labels but pred_probs has {p.shape[0]} rows")
    l = np.ascontiguousarray(labels, dtype="<i8")
    return l.tobytes(), p.tobytes(), p.shape[0], p.shape[1]


def find_label_issues(
    labels,
    pred_probs,
    *,
    filter_by: str = "prune_by_noise_rate",
    frac_noise: float = 1.0,
    num_to_remove_per_class: Optional[Union[int, Sequence[int]]] = None,
    min_examples_per_class: int = 1,
    return_indices_ranked_by: Optional[str] = None,
) -> np.ndarray:
    """cleanlab's ``filter.find_label_issues``: a boolean mask of likely label errors, or
    with ``return_indices_ranked_by`` (``self_confidence``, ``normalized_margin``,
    ``confidence_weighted_entropy``) their indices, most likely first."""
    lb, pb, n, k = _inputs(labels, pred_probs)
    nrem = None
    if num_to_remove_per_class is not None:
        nrem = [int(num_to_remove_per_class)] * k if np.isscalar(num_to_remove_per_class) else [int(x) for x in num_to_remove_per_class]
    out = _datamill.find_issues(
        lb, pb, n, k, filter_by, float(frac_noise), nrem, int(min_examples_per_class), return_indices_ranked_by
    )
    if return_indices_ranked_by is None:
        return np.frombuffer(out, dtype=np.uint8).astype(bool)
    return np.frombuffer(out, dtype="<i8").astype(np.int64)


def get_label_quality_scores(labels, pred_probs, *, method: str = "self_confidence", adjust_pred_probs: bool = False) -> np.ndarray:
    """cleanlab's ``rank.get_label_quality_scores``: one score per example, lower = more
    likely mislabeled."""
    lb, pb, n, k = _inputs(labels, pred_probs)
    return np.frombuffer(_datamill.quality_scores(lb, pb, n, k, method, adjust_pred_probs), dtype="<f8").copy()


def num_label_issues(labels, pred_probs) -> int:
    """cleanlab's ``count.num_label_issues`` (the calibrated confident joint's off-diagonal
    count)."""
    lb, pb, n, k = _inputs(labels, pred_probs)
    return int(_datamill.count_issues(lb, pb, n, k))
