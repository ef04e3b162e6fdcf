"""Progress reporting for :func:`datamill.run`: a callback, or tqdm bars (one per phase)."""

from __future__ import annotations

import sys
from typing import Any, Callable, Dict, Optional, Tuple


class _Bars:
    """Feeds the engine's counters to a tqdm-compatible class (``total``/``desc``/``unit``
    keywords, ``update``, ``close``): one bar per phase, in bytes, or in work units when
    the phase has no byte total (decisions)."""

    def __init__(self, factory: Callable[..., Any]) -> None:
        self.factory = factory
        self.bar: Any = None
        self.phase: Optional[str] = None
        self.by_units = False
        self.shown = 0

    def __call__(self, p: Dict[str, Any]) -> None:
        if p["phase"] != self.phase:
            # A phase starts when the one before is complete: its bar ends full.
            self.close(complete=True)
            self.phase = p["phase"]
            self.by_units = p["total_bytes"] == 0
            total = p["units_total"] if self.by_units else p["total_bytes"]
            kw: Dict[str, Any] = {"total": total, "desc": p["phase"] or "run"}
            if not self.by_units:
                kw.update(unit="B", unit_scale=True, unit_divisor=1024)
            else:
                kw.update(unit="unit")
            self.bar = self.factory(**kw)
            self.shown = 0
        now = p["units_done"] if self.by_units else p["bytes"]
        if now > self.shown and self.bar is not None:
            self.bar.update(now - self.shown)
            self.shown = now

    def close(self, complete: bool = False) -> None:
        if self.bar is not None:
            total = getattr(self.bar, "total", None)
            if complete and total and total > self.shown:
                self.bar.update(total - self.shown)
            self.bar.close()
            self.bar = None


class _Lines:
    """Without tqdm: one line per phase change and every ~10 %."""

    def __init__(self) -> None:
        self.phase: Optional[str] = None
        self.step = -1

    def __call__(self, p: Dict[str, Any]) -> None:
        total, done = (p["total_bytes"], p["bytes"]) if p["total_bytes"] else (p["units_total"], p["units_done"])
        pct = int(100 * done / total) if total else 0
        if p["phase"] != self.phase or pct // 10 > self.step:
            self.phase, self.step = p["phase"], pct // 10
            print(f"datamill: {p['phase'] or 'run'} {pct}% ({p['units_done']}/{p['units_total']} units, {p['docs']} docs)", file=sys.stderr)

    def close(self) -> None:
        pass


def make_progress(progress: Any) -> Tuple[Optional[Callable[[Dict[str, Any]], Any]], Callable[[], None]]:
    """``(callback for the engine, close)`` for ``run(progress=...)``."""
    if progress is None or progress is False:
        return None, lambda: None
    if progress is True:
        try:
            from tqdm.auto import tqdm  # type: ignore[import-not-found]
        except ImportError:
            lines = _Lines()
            return lines, lines.close
        bars = _Bars(tqdm)
        return bars, bars.close
    if isinstance(progress, type):
        bars = _Bars(progress)
        return bars, bars.close
    if callable(progress):
        return progress, lambda: None
    raise TypeError("progress is True, a tqdm-like class or a callable")
