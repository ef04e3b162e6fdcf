# Type stubs of the native module (crates/datamill-py/src). The documented API is the
# Python layer (datamill.run, datamill.Stage, datamill.ray, datamill.scaling,
# datamill.label_issues); these functions are its building blocks.
from os import PathLike
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

_Path = Union[str, PathLike[str]]

__version__: str

class DatamillError(RuntimeError):
    """A run or task failed (an unreadable input, a full disk, a stage error...)."""

def run(
    kind: str,
    value: str,
    base_dir: Optional[_Path] = None,
    output: Optional[_Path] = None,
    workers: Optional[int] = None,
    force: bool = False,
    memory: Optional[int] = None,
    progress: Optional[Callable[[Dict[str, Any]], Any]] = None,
    report: bool = True,
) -> str:
    """Runs a pipeline (kind: path | toml | json), writes report.html unless report is False; returns the result as JSON text."""

def prepare(
    kind: str,
    value: str,
    base_dir: Optional[_Path] = None,
    output: Optional[_Path] = None,
    force: bool = False,
) -> Tuple[str, List[Tuple[str, List[str]]]]:
    """Stores the plan; returns the output folder and the waves (name, task names)."""

def pending(out: _Path, tasks: List[str]) -> List[str]:
    """The tasks whose completion marker does not exist yet."""

def run_task(out: _Path, task: str, memory: Optional[int] = None) -> bool:
    """Runs one task of the stored plan; False if it was done already."""

def drop_hand_over(out: _Path, k: int) -> None:
    """Removes the documents pass k handed over."""

def finish(out: _Path, report: bool = True) -> str:
    """Sums the markers of a run whose tasks are all done, writes stats.json (and report.html unless report is False); the result as JSON text."""

def stages() -> List[Tuple[str, bool, str]]:
    """(name, is_global, summary) of every stage type."""

def stage_doc(name: str) -> str:
    """A stage's documentation."""

def byte_size(s: str) -> int:
    """Parses 2GB, 512MiB, 1000."""

class Stage:
    """A per-document stage over Arrow record batches."""

    def __init__(
        self,
        name: str,
        params_json: str,
        text_field: str = "text",
        id_field: str = "id",
        base_dir: Optional[_Path] = None,
        seed: int = 0,
    ) -> None: ...
    @property
    def name(self) -> str: ...
    def process_batch(self, batch: Any, keep_dropped: bool = False) -> Tuple[Any, Optional[Any]]: ...
    def stats_json(self) -> str: ...
    def reset_stats(self) -> None: ...
    def doc(self) -> str: ...

def find_issues(
    label_bytes: bytes,
    prob_bytes: bytes,
    n: int,
    k: int,
    filter: str = "prune_by_noise_rate",
    frac_noise: float = 1.0,
    num_to_remove_per_class: Optional[List[int]] = None,
    min_examples_per_class: int = 1,
    ranked_by: Optional[str] = None,
) -> bytes: ...
def quality_scores(
    label_bytes: bytes, prob_bytes: bytes, n: int, k: int, method: str = "self_confidence", adjust_pred_probs: bool = False
) -> bytes: ...
def count_issues(label_bytes: bytes, prob_bytes: bytes, n: int, k: int) -> int: ...
def scaling_fit(
    law: str,
    n: bytes,
    d: bytes,
    loss: bytes,
    u: Optional[bytes] = None,
    huber_delta: float = 1e-3,
    drop_highest_loss: int = 0,
) -> str: ...
def scaling_predict(
    law: str,
    n: List[float] = ...,
    d: List[float] = ...,
    compute: List[float] = ...,
    target_loss: Optional[float] = None,
    u: Optional[float] = None,
    epochs: List[float] = ...,
) -> str: ...
