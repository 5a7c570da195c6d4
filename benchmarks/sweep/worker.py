"""The worker side of a sweep: run one job in this process and return its outcome as plain data.

Nothing here writes a run directory: the job writes into a scratch directory, its files travel back as bytes,
and the driver (:mod:`benchmarks.sweep.runner`) writes them, ``result.json`` last.
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import inspect
import os
import shutil
import socket
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.provenance import versions
from benchmarks.sweep.jobs import jsonable, now_utc

if TYPE_CHECKING:
    from benchmarks.sweep.jobs import Job

#: metrics every job function must return (the report reads them)
#: the metrics the report reads (``success_rate_last``: the success rate over the last 10% of episodes, which
#: decides whether a run holds the reward; without it every run would silently count as not holding)
REQUIRED_METRICS = ("final_return", "success", "steps_to_first_success", "success_rate_last")


def execute_job(
    job: Job, scratch_root: str | None = None, checkpoint_root: str | None = None
) -> dict[str, Any]:
    """Run one job in this (worker) process and return its outcome; never raises for a failing job.

    The job function writes into a fresh scratch directory below ``scratch_root`` (default: the system's
    temporary directory); its files come back as bytes in ``outcome["files"]`` and the directory is deleted.
    With ``checkpoint_root``, a job function that takes a ``checkpoint_dir`` argument gets
    ``checkpoint_root/{run_id}``, which outlives the attempt: a killed run resumes from its checkpoint.

    Returns:
        ``{"ok", "metrics", "error", "files", "timing", "worker", "versions"}``.
    """
    limit_threads()
    started, clock = now_utc(), time.perf_counter()
    root = Path(scratch_root) if scratch_root else Path(tempfile.gettempdir())
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=job.run_id.replace("/", "__") + "-", dir=root))
    outcome: dict[str, Any] = {"ok": False, "metrics": None, "error": None, "files": {}}
    try:
        fn = resolve_function(job.job_fn)
        settings = copy.deepcopy(job.settings)
        if checkpoint_root and "checkpoint_dir" in inspect.signature(fn).parameters:
            settings.setdefault("checkpoint_dir", str(Path(checkpoint_root) / job.run_id))
        metrics = fn(job.env_id, job.algo, job.bonus, job.total_timesteps, job.seed, str(scratch), **settings)
        outcome["metrics"] = check_metrics(metrics, job.job_fn)
        outcome["ok"] = True
    except (Exception, SystemExit):
        outcome["error"] = traceback.format_exc()
    finally:
        try:
            outcome["files"] = _collect_files(scratch)
        except OSError:
            outcome["ok"], outcome["error"] = False, (outcome["error"] or "") + traceback.format_exc()
        shutil.rmtree(scratch, ignore_errors=True)
    outcome["timing"] = {"started": started, "finished": now_utc(), "seconds": time.perf_counter() - clock}
    outcome["worker"] = {"host": socket.gethostname(), "pid": os.getpid()}
    outcome["versions"] = versions()
    return outcome


def limit_threads() -> None:
    """One thread per worker: ``OMP_NUM_THREADS=1`` (and MKL's, OpenBLAS'), which torch reads when the job
    imports it, and ``torch.set_num_threads(1)`` if torch is imported already (importing it here would cost
    seconds per worker for jobs that never use it)."""
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = "1"
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def resolve_function(path: str) -> Callable[..., Any]:
    """The function named by ``package.module.function`` or ``package.module:function``.

    Raises:
        ValueError: a path without a module part.
        ImportError / AttributeError: the module or function does not exist.
    """
    module, _, name = path.partition(":") if ":" in path else path.rpartition(".")
    if not module or not name:
        raise ValueError(f"job function must be a dotted path 'package.module.function', got {path!r}")
    fn = getattr(importlib.import_module(module), name)
    if not callable(fn):
        raise TypeError(f"job function {path!r} is a {type(fn).__name__}, not callable")
    return fn


def check_job_module(path: str) -> None:
    """Fail before a sweep starts if the job function's module cannot be found (it is not imported here:
    only its parent packages are).

    Raises:
        ValueError: a malformed path or a module that does not exist.
    """
    module = path.partition(":")[0] if ":" in path else path.rpartition(".")[0]
    if not module:
        raise ValueError(f"job function must be a dotted path 'package.module.function', got {path!r}")
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        found = False
    if not found:
        raise ValueError(f"the job function {path!r} cannot be found: no module {module!r} on the path of "
                         f"{sys.executable}; install the toolkit there or fix the suite's job")


def check_metrics(metrics: Any, job_fn: str) -> dict[str, Any]:
    """The job's metrics as plain JSON data.

    Raises:
        TypeError: not a dict, or values JSON cannot hold.
        ValueError: a key of :data:`REQUIRED_METRICS` is missing.
    """
    if not isinstance(metrics, dict):
        raise TypeError(f"job function {job_fn} must return a dict of metrics, got {type(metrics).__name__}")
    missing = [key for key in REQUIRED_METRICS if key not in metrics]
    if missing:
        raise ValueError(f"job function {job_fn} returned metrics without {missing}; required: "
                         f"{list(REQUIRED_METRICS)}, got keys {sorted(metrics)}")
    return jsonable(metrics)


def _collect_files(scratch: Path) -> dict[str, bytes]:
    return {path.relative_to(scratch).as_posix(): path.read_bytes()
            for path in sorted(scratch.rglob("*")) if path.is_file() and not path.is_symlink()}
