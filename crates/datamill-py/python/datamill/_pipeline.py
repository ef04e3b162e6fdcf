"""Pipelines from Python: a TOML file, a dict, or the :class:`Pipeline` builder; and
:func:`run`, which runs one on this machine."""

from __future__ import annotations

import json
import os
import warnings
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

from . import _datamill
from ._progress import make_progress

PipelineLike = Union[str, "os.PathLike[str]", Mapping[str, Any], "Pipeline"]


class Pipeline:
    """A pipeline built in Python, equivalent to a pipeline file::

        Pipeline(seed=1).read("in/*.jsonl", text_field="content")
                        .stage("gopher_quality")
                        .stage("exact_dedup")
                        .write("out", compression="zstd")

    Keyword options are the keys of the pipeline file's ``[input]``, ``[[stage]]`` and
    ``[output]`` tables (``datamill stages NAME`` documents a stage's); they are checked
    when the pipeline runs, and an unknown one raises ``ValueError`` naming it.
    """

    def __init__(self, *, seed: Optional[int] = None) -> None:
        self._input: Dict[str, Any] = {}
        self._stages: List[Dict[str, Any]] = []
        self._output: Dict[str, Any] = {}
        self._seed = seed

    def read(self, *paths: Union[str, "os.PathLike[str]"], **options: Any) -> "Pipeline":
        """Sets the input: files, folders or glob patterns, and ``[input]`` options
        (``format``, ``text_field``, ``id_field``, ``unit_size``, ``max_line_bytes``)."""
        if not paths:
            raise ValueError("read() needs at least one path")
        self._input = {"paths": [os.fspath(p) for p in paths], **options}
        return self

    def stage(self, name: str, **params: Any) -> "Pipeline":
        """Appends stage ``name`` with its parameters."""
        if "type" in params:
            raise ValueError("`type` is the stage's name: give it as the first argument")
        self._stages.append({"type": name, **params})
        return self

    def write(self, dir: Optional[Union[str, "os.PathLike[str]"]] = None, **options: Any) -> "Pipeline":
        """Sets the output folder and ``[output]`` options (``format``, ``compression``,
        ``level``, ``max_shard_bytes``, ``excluded``, ``intermediate``)."""
        self._output = dict(options)
        if dir is not None:
            self._output["dir"] = os.fspath(dir)
        return self

    def seed(self, seed: int) -> "Pipeline":
        """Sets the pipeline's seed."""
        self._seed = seed
        return self

    def to_dict(self) -> Dict[str, Any]:
        """The pipeline as a dict shaped like the pipeline file."""
        if not self._input:
            raise ValueError("the pipeline has no input: call read(...)")
        d: Dict[str, Any] = {"version": 1}
        if self._seed is not None:
            d["seed"] = self._seed
        d["input"] = dict(self._input)
        if self._stages:
            d["stage"] = [dict(s) for s in self._stages]
        if self._output:
            d["output"] = dict(self._output)
        return d

    def __repr__(self) -> str:
        return f"Pipeline({self.to_dict() if self._input else {}!r})"


def _source(pipeline: PipelineLike) -> Tuple[str, str]:
    """``(kind, value)`` for the Rust side: ``path``, or ``json`` for a dict."""
    if isinstance(pipeline, Pipeline):
        return "json", json.dumps(pipeline.to_dict())
    if isinstance(pipeline, Mapping):
        return "json", json.dumps(dict(pipeline))
    if isinstance(pipeline, (str, os.PathLike)):
        return "path", os.fspath(pipeline)
    raise TypeError(
        f"a pipeline is a TOML file path, a dict or a datamill.Pipeline, not {type(pipeline).__name__}"
    )


def byte_size(value: Union[int, str, None]) -> Optional[int]:
    """``2GB``, ``512MiB`` or a number of bytes (the pipeline file's sizes)."""
    if value is None or isinstance(value, int):
        return value
    return _datamill.byte_size(value)


def _fs(path: Optional[Union[str, "os.PathLike[str]"]]) -> Optional[str]:
    return None if path is None else os.fspath(path)


def _result(text: str) -> Dict[str, Any]:
    r = json.loads(text)
    out = dict(r["stats"])
    for k in ("output_dir", "ran_tasks", "resumed_tasks", "seconds", "notes", "report"):
        out[k] = r.get(k)
    if r.get("report_error"):
        warnings.warn(f"the run finished but its report was not written: {r['report_error']}", RuntimeWarning, stacklevel=3)
    return out


def run(
    pipeline: PipelineLike,
    *,
    output: Optional[Union[str, "os.PathLike[str]"]] = None,
    workers: Optional[int] = None,
    force: bool = False,
    memory: Union[int, str, None] = None,
    progress: Union[bool, Callable[[Dict[str, Any]], Any], None] = None,
    base_dir: Optional[Union[str, "os.PathLike[str]"]] = None,
    report: bool = True,
) -> Dict[str, Any]:
    """Runs a pipeline on this machine, as ``datamill run`` does, and returns its statistics.

    Args:
        pipeline: a pipeline file (path), a dict shaped like one, or a :class:`Pipeline`.
        output: output folder (overrides ``output.dir``).
        workers: worker threads (default: the number of cores).
        force: delete a previous run of a different pipeline in the output folder.
        memory: memory budget of dedup/selection decisions (bytes, or ``"2GB"``).
        progress: ``True`` for a tqdm bar per phase (plain lines without tqdm), a tqdm-like
            class, or a callable receiving ``{"phase", "bytes", "total_bytes", "docs",
            "units_done", "units_total"}`` about five times a second.
        base_dir: folder relative paths of a dict pipeline resolve against (default: the
            current folder; a file's own folder for a path).
        report: write the run's HTML report, ``OUTPUT/report.html`` (see ``datamill
            report``), at the end, as ``datamill run`` does; a report that cannot be
            written is a ``RuntimeWarning``, not an error.

    Returns:
        ``stats.json`` as a dict (``input_docs``, ``output_docs``, ``quarantined``,
        ``stages`` with ``in``/``kept``/``dropped`` by reason, ...) plus ``output_dir``,
        ``ran_tasks``, ``resumed_tasks`` (skipped: done by an earlier, interrupted run),
        ``seconds``, ``notes`` and ``report`` (the report's path, or ``None``).

    Raises:
        ValueError: a bad pipeline (the message names the key); KeyboardInterrupt on
        Ctrl-C (the run stops at its next task; rerunning resumes); DatamillError otherwise.
    """
    kind, value = _source(pipeline)
    cb, close = make_progress(progress)
    try:
        text = _datamill.run(
            kind,
            value,
            base_dir=_fs(base_dir),
            output=_fs(output),
            workers=workers,
            force=force,
            memory=byte_size(memory),
            progress=cb,
            report=report,
        )
    finally:
        close()
    return _result(text)


def stages() -> List[Tuple[str, bool, str]]:
    """Every stage type: ``(name, is_global, summary)``. Global stages (dedup, selection)
    decide over the whole corpus and run only in pipelines."""
    return list(_datamill.stages())


def stage_doc(name: str) -> str:
    """A stage's documentation (parameters, defaults, drop reasons, an example)."""
    return _datamill.stage_doc(name)
