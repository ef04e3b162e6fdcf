"""Running datamill on a Ray cluster.

:func:`run` is the Ray executor: the pipeline's plan (stored in the output folder, which every
node must see: a shared file system) is run wave by wave, every task a Ray task::

    import datamill.ray
    stats = datamill.ray.run("pipeline.toml", address="head:6379", num_cpus=1)

* every (pass, work unit) is one task with ``num_cpus`` CPUs and ``max_retries`` retries (a
  worker that dies mid-task is retried; the task removes what the dead attempt left and
  writes the same files);
* a task whose completion marker exists is not submitted (a rerun resumes);
* the decision of each global stage (dedup, selection) is one task between passes;
* statistics are read from the markers, never from task results, so a driver killed at any
  point loses nothing: run the same call again.

The command line does the same: ``datamill run PIPELINE --executor ray --address HOST:PORT``
(or ``python -m datamill.ray PIPELINE --address HOST:PORT``).

For Ray Data, :class:`BatchStage` adapts a per-document stage to ``map_batches`` (the stage,
and any model it loads, is built once per actor)::

    ds = ray.data.read_parquet("s3://bucket/docs/")
    ds = ds.map_batches(datamill.ray.BatchStage, fn_constructor_args=("gopher_quality",),
                        batch_format="pyarrow", concurrency=4)
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Union

from . import _datamill
from ._datamill import DatamillError
from ._pipeline import PipelineLike, _fs, _result, _source, byte_size
from ._stage import Stage

__all__ = ["run", "BatchStage", "check_address", "main"]


def _run_task(out: str, task: str, memory: Optional[int]) -> bool:
    """The body of every Ray task: one task of the stored plan (GIL released)."""
    from datamill import _datamill as native

    return native.run_task(out, task, memory)


def check_address(address: Optional[str], timeout: float = 5.0) -> None:
    """Fails fast, in one line, when a Ray address does not answer (``ray.init`` would retry
    for a minute or more). ``None``/``"auto"``/``"local"`` are not checked."""
    if address in (None, "", "auto", "local"):
        return
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"Ray address {address!r}: expected HOST:PORT, ray://HOST:PORT or auto")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as e:
        raise ConnectionError(f"cannot reach the Ray cluster at {address}: {e.strerror or e}") from None


def _cause(e: BaseException) -> str:
    """The one-line reason of a failed Ray task."""
    cause = getattr(e, "cause", None)
    if cause is not None and cause is not e:
        return f"{type(cause).__name__}: {cause}".splitlines()[0]
    return str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__


def run(
    pipeline: PipelineLike,
    *,
    address: Optional[str] = None,
    output: Optional[Union[str, "os.PathLike[str]"]] = None,
    force: bool = False,
    memory: Union[int, str, None] = None,
    num_cpus: float = 1,
    decide_cpus: Optional[float] = None,
    max_retries: int = 3,
    progress: Optional[Callable[[Dict[str, Any]], Any]] = None,
    base_dir: Optional[Union[str, "os.PathLike[str]"]] = None,
    runtime_env: Optional[Dict[str, Any]] = None,
    report: bool = True,
) -> Dict[str, Any]:
    """Runs a pipeline with every task of its plan as a Ray task; returns the run's
    statistics as :func:`datamill.run` does (the same ``stats.json``; the output is
    byte-identical to a local run's).

    Args:
        pipeline: a pipeline file, a dict or a :class:`datamill.Pipeline`.
        address: the cluster (``HOST:PORT``, ``ray://HOST:PORT``, ``auto``); ``None``
            connects to the running Ray of this process, or starts a local one. An
            unreachable address raises ``ConnectionError`` at once.
        output: output folder, on a file system every node sees.
        force, memory, base_dir: as :func:`datamill.run`.
        num_cpus: CPUs reserved by each pass task (one work unit).
        decide_cpus: CPUs of a decision task (default: ``num_cpus``); the decider uses as
            many threads.
        max_retries: retries of a task whose worker died.
        progress: a callable receiving ``{"phase", "units_done", "units_total", ...}``.
        runtime_env: Ray runtime environment for the tasks (e.g. ``env_vars``).
        report: write the run's HTML report (``OUTPUT/report.html``) at the end, as a
            local run does (from the driver, once every task is done).
    """
    try:
        import ray
    except ImportError as e:
        raise ImportError(f"datamill.ray needs Ray (pip install 'datamill[ray]'): {e}") from None

    kind, value = _source(pipeline)
    check_address(address)
    out, waves = _datamill.prepare(kind, value, base_dir=_fs(base_dir), output=_fs(output), force=force)
    out = os.fspath(out)
    mem = byte_size(memory)
    started_here = False
    if not ray.is_initialized():
        ray.init(address=address, runtime_env=runtime_env, logging_level="ERROR", configure_logging=False)
        started_here = True
    try:
        opts: Dict[str, Any] = {"max_retries": max_retries}
        if runtime_env is not None and not started_here:
            opts["runtime_env"] = runtime_env
        pass_task = ray.remote(num_cpus=num_cpus, **opts)(_run_task)
        decide_task = ray.remote(num_cpus=decide_cpus or num_cpus, **opts)(_run_task)
        ran = resumed = 0
        for wave, tasks in waves:
            todo = _datamill.pending(out, tasks)
            if wave.startswith("pass:"):
                ran, resumed = ran + len(todo), resumed + len(tasks) - len(todo)
            fn = pass_task if wave.startswith("pass:") else decide_task
            refs = {fn.options(name=f"datamill {t}").remote(out, t, mem): t for t in todo}
            _wait(refs, wave, len(tasks), progress)
            if wave.startswith("pass:") and int(wave.split(":")[1]) > 0:
                _datamill.drop_hand_over(out, int(wave.split(":")[1]) - 1)
        stats = _result(_datamill.finish(out, report=report))
        stats["ran_tasks"], stats["resumed_tasks"] = ran, resumed
        return stats
    finally:
        if started_here:
            ray.shutdown()


def _wait(refs: Dict[Any, str], wave: str, total: int, progress: Optional[Callable[[Dict[str, Any]], Any]]) -> None:
    import ray

    done = total - len(refs)
    left: List[Any] = list(refs)

    def tick() -> None:
        if progress is not None:
            progress({"phase": wave, "units_done": done, "units_total": total, "bytes": 0, "total_bytes": 0, "docs": 0})

    tick()
    try:
        while left:
            ready, left = ray.wait(left, num_returns=1, timeout=1.0)
            for r in ready:
                try:
                    ray.get(r)
                except Exception as e:  # a task error, or a worker that died max_retries + 1 times
                    raise DatamillError(f"task {refs[r]} failed: {_cause(e)}") from None
                done += 1
            tick()
    except BaseException:
        for r in left:
            ray.cancel(r, force=False)
        raise


class BatchStage:
    """A per-document stage for Ray Data's ``map_batches`` (``batch_format="pyarrow"``): a
    callable class, so Ray builds it once per actor and any model it loads is loaded once::

        ds.map_batches(datamill.ray.BatchStage, fn_constructor_args=("language",),
                       fn_constructor_kwargs={"model": "/models/lid.176.ftz"},
                       batch_format="pyarrow", concurrency=4)

    Each call returns the rows the stage keeps (with the fields it adds). The accounting of
    each actor is in its :attr:`stats`."""

    def __init__(self, name: str, **params: Any) -> None:
        self.stage = Stage(name, **params)

    def __call__(self, batch: Any) -> Any:
        return self.stage(batch)

    @property
    def stats(self) -> Dict[str, Any]:
        """This actor's accounting (see :attr:`datamill.Stage.stats`)."""
        return self.stage.stats


def main(argv: Optional[List[str]] = None) -> int:
    """``python -m datamill.ray PIPELINE --address HOST:PORT ...`` (what ``datamill run
    --executor ray`` runs). Exit codes: 0 done, 2 refused or failed, 130 interrupted."""
    ap = argparse.ArgumentParser(prog="python -m datamill.ray", description="Run a datamill pipeline on a Ray cluster.")
    ap.add_argument("pipeline", help="the pipeline file (TOML)")
    ap.add_argument("--address", help="the Ray cluster: HOST:PORT, ray://HOST:PORT or auto (default: a local Ray)")
    ap.add_argument("-o", "--output", help="output folder (a file system every node sees)")
    ap.add_argument("--force", action="store_true", help="delete a previous run of a different pipeline")
    ap.add_argument("--memory", help="memory budget of decisions, e.g. 2GB")
    ap.add_argument("--num-cpus", type=float, default=1, help="CPUs per pass task (default 1)")
    ap.add_argument("--decide-cpus", type=float, help="CPUs per decision task (default: --num-cpus)")
    ap.add_argument("--max-retries", type=int, default=3, help="retries of a task whose worker died (default 3)")
    ap.add_argument("--no-report", action="store_true", help="do not write OUTPUT/report.html at the end")
    ap.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    a = ap.parse_args(argv)

    def show(p: Dict[str, Any]) -> None:
        print(f"datamill: {p['phase']}: {p['units_done']}/{p['units_total']} tasks", file=sys.stderr, flush=True)

    last: Dict[str, Any] = {}

    def progress(p: Dict[str, Any]) -> None:
        key = (p["phase"], p["units_done"])
        if not a.quiet and last.get("key") != key and (p["units_done"] in (0, p["units_total"]) or time.monotonic() - last.get("t", 0) > 5):
            last.update(key=key, t=time.monotonic())
            show(p)

    try:
        stats = run(
            a.pipeline,
            address=a.address,
            output=a.output,
            force=a.force,
            memory=a.memory,
            num_cpus=a.num_cpus,
            decide_cpus=a.decide_cpus,
            max_retries=a.max_retries,
            progress=progress,
            report=not a.no_report,
        )
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except (ValueError, ConnectionError, DatamillError, OSError, ImportError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not a.quiet:
        print(
            f"datamill: kept {stats['output_docs']} of {stats['input_docs']} documents "
            f"({stats['quarantined']} quarantined) in {stats['output_dir']}; "
            f"{stats['resumed_tasks']} task(s) were already done",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    from datamill.ray import main as _main  # the module Ray workers import, not __main__

    sys.exit(_main())
