"""Per-document stages on Arrow batches."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Optional, Tuple, Union

from . import _datamill


class Stage:
    """One per-document stage (a filter, an annotator, a normalizer) applied to
    ``pyarrow.RecordBatch`` or ``pyarrow.Table`` data, with the accounting a pipeline run keeps::

        st = datamill.Stage("gopher_quality", min_doc_words=50)
        kept = st(table)                    # the rows it keeps, with any fields it added
        st.stats   # {"type": "gopher_quality", "in": 1000, "kept": 812,
                   #  "dropped": {"gopher_short_doc": 150, ...}, "quarantined": {}, ...}

    The stage is built once (a model is loaded here) and may be called from several threads.
    Parameters are the stage's (``datamill.stage_doc(name)`` lists them); an unknown one raises
    ``ValueError`` naming it. Global stages (dedup, selection) decide over a whole corpus and
    are refused: run them in a pipeline.

    Args:
        name: the stage type.
        text_field: the column holding the text (default ``text``).
        id_field: the column holding the id (default ``id``; absent: the row number is used
            in messages and no id column is added).
        base_dir: folder relative paths (models) resolve against (default: current folder).
        **params: the stage's parameters.
    """

    def __init__(
        self,
        name: str,
        *,
        text_field: str = "text",
        id_field: str = "id",
        base_dir: Optional[Union[str, "os.PathLike[str]"]] = None,
        **params: Any,
    ) -> None:
        self._args = (name, text_field, id_field, None if base_dir is None else os.fspath(base_dir), params)
        self._inner = _datamill.Stage(
            name,
            json.dumps(params),
            text_field=text_field,
            id_field=id_field,
            base_dir=self._args[3],
        )

    def __reduce__(self):  # rebuilt (model loaded again) where it is unpickled
        name, text_field, id_field, base_dir, params = self._args
        return (_rebuild, (name, text_field, id_field, base_dir, params))

    @property
    def name(self) -> str:
        """The stage type."""
        return self._inner.name

    def process(self, data: Any, keep_dropped: bool = True) -> Tuple[Any, Any]:
        """Applies the stage; returns ``(kept, dropped)`` of the input's type (RecordBatch or
        Table). ``dropped`` holds the dropped rows and rows without a string text
        (quarantined), each with an ``excluded_by`` column ``{"stage", "reason"}``; ``None``
        unless ``keep_dropped``."""
        import pyarrow as pa

        if isinstance(data, pa.RecordBatch):
            return self._inner.process_batch(data, keep_dropped)
        if isinstance(data, pa.Table):
            kept, dropped = [], []
            for b in data.to_batches():
                k, d = self._inner.process_batch(b, keep_dropped)
                kept.append(pa.Table.from_batches([k]))
                if d is not None:
                    dropped.append(pa.Table.from_batches([d]))
            if not kept:  # a table without batches
                k, d = self._inner.process_batch(
                    pa.RecordBatch.from_pylist([], schema=data.schema), keep_dropped
                )
                kept, dropped = [pa.Table.from_batches([k])], ([pa.Table.from_batches([d])] if d is not None else [])
            kt = pa.concat_tables(kept, promote_options="default")
            dt = pa.concat_tables(dropped, promote_options="default") if keep_dropped else None
            return kt, dt
        raise TypeError(f"expected a pyarrow.RecordBatch or pyarrow.Table, not {type(data).__name__}")

    def __call__(self, data: Any) -> Any:
        """The kept rows (see :meth:`process`)."""
        return self.process(data, keep_dropped=False)[0]

    @property
    def stats(self) -> Dict[str, Any]:
        """Accounting over every call so far: ``type``, ``in``, ``kept``, ``dropped`` (by
        reason), ``seconds``, ``counters`` and ``quarantined`` (rows without a string text,
        by reason; not counted in ``in``)."""
        return json.loads(self._inner.stats_json())

    def reset_stats(self) -> None:
        """Forgets the accounting."""
        self._inner.reset_stats()

    def doc(self) -> str:
        """The stage's documentation."""
        return self._inner.doc()

    def __repr__(self) -> str:
        return f"datamill.Stage({self._args[0]!r}, **{self._args[4]!r})"


def _rebuild(name: str, text_field: str, id_field: str, base_dir: Optional[str], params: Dict[str, Any]) -> Stage:
    return Stage(name, text_field=text_field, id_field=id_field, base_dir=base_dir, **params)
