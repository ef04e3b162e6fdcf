"""datamill: turn raw text corpora into training datasets, from Python.

The engine is Rust (the ``datamill`` command line's library); this package calls it with the
GIL released:

* :func:`run` runs a pipeline (a TOML file, a dict, or a :class:`Pipeline` builder) on this
  machine and returns the run's statistics (``stats.json``);
* :class:`Stage` applies a per-document stage to ``pyarrow`` record batches or tables, with
  the accounting a run keeps (documents in, kept, dropped by reason);
* :mod:`datamill.label_issues` and :mod:`datamill.scaling` are confident learning and
  scaling-law fits over numpy arrays (the same numbers as ``datamill label-issues`` and
  ``datamill scaling``);
* :mod:`datamill.ray` runs every task of a pipeline's plan as a Ray task, and adapts
  per-document stages to Ray Data's ``map_batches``.

Example::

    import datamill
    p = datamill.Pipeline().read("docs/*.jsonl.zst").stage("gopher_quality").write("out")
    stats = datamill.run(p, progress=True)
    print(stats["output_docs"], "of", stats["input_docs"], "kept")
"""

from __future__ import annotations

from . import _datamill
from ._datamill import DatamillError
from ._pipeline import Pipeline, run, stages, stage_doc
from ._stage import Stage

__version__: str = _datamill.__version__

__all__ = [
    "DatamillError",
    "Pipeline",
    "Stage",
    "run",
    "stages",
    "stage_doc",
    "__version__",
]


def __getattr__(name: str):
    # Submodules needing numpy or ray load on first use: ``import datamill`` needs neither.
    if name in ("scaling", "label_issues", "ray"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'datamill' has no attribute {name!r}")
