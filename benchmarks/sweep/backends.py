"""Where a sweep's jobs run: local worker processes or Ray tasks.

Both backends take :class:`~benchmarks.sweep.jobs.Job` objects and hand back ``(job, outcome)`` pairs, where
the outcome is :func:`benchmarks.sweep.worker.execute_job`'s dict, or ``None`` when the worker died (the
driver in :mod:`benchmarks.sweep.runner` retries those).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import multiprocessing
import os
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from benchmarks.sweep.jobs import last_line
from benchmarks.sweep.worker import execute_job

if TYPE_CHECKING:
    from benchmarks.sweep.jobs import Job

logger = logging.getLogger(__name__)

Backend = Literal["local", "ray"]
#: seconds a broken local pool is given to fail all its runs and for all its workers to exit
BROKEN_POOL_TIMEOUT = 10.0


class LocalBackend:
    """A spawn-context ``ProcessPoolExecutor``, rebuilt when a worker dies.

    One dead worker breaks the whole pool: every run in flight ends with ``BrokenProcessPool``. Only the runs
    of workers that died by themselves come back as crashes (``None``); the pool's own ``SIGTERM`` of the
    others marks them as bystanders, which are started again at once without being charged a crash. Where the
    dead worker cannot be told apart (it died of ``SIGTERM`` too, or between runs), every run counts.
    """

    def __init__(self, scratch_root: Path, workers: int, checkpoint_root: Path | None = None) -> None:
        shutil.rmtree(scratch_root, ignore_errors=True)  # leftovers of killed attempts (we hold the lock)
        self.scratch_root = scratch_root
        self.checkpoint_root = None if checkpoint_root is None else str(checkpoint_root)
        self.workers = workers
        self.executor: concurrent.futures.ProcessPoolExecutor | None = None
        self.futures: dict[concurrent.futures.Future, Job] = {}

    @property
    def running(self) -> int:
        return len(self.futures)

    def submit(self, job: Job) -> None:
        if self.executor is None:
            self.executor = concurrent.futures.ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_local_worker, initargs=(os.getpid(),))
        self.futures[self.executor.submit(_execute_local, job, str(self.scratch_root),
                                          self.checkpoint_root)] = job

    def wait(self, timeout: float) -> list[tuple[Job, dict[str, Any] | None]]:
        done, _ = concurrent.futures.wait(self.futures, timeout, concurrent.futures.FIRST_COMPLETED)
        results = [self._collect(future) for future in done]
        if any(outcome is None for _, outcome in results):
            # the broken pool ends every run in flight, but wait() may hand them back over several calls: take
            # them all now (one left for later would be blamed on the pool that replaces this one)
            concurrent.futures.wait(self.futures, BROKEN_POOL_TIMEOUT)
            results += [self._collect(future) for future in list(self.futures)]
            culprits = self._crashed_runs()
            self._discard_pool()
            if culprits:
                bystanders = [job for job, outcome in results
                              if outcome is None and job.run_id not in culprits]
                for job in bystanders:
                    logger.warning("restarting %s: its worker was stopped as another one died", job.run_id)
                    self.submit(job)
                results = [(job, outcome) for job, outcome in results if job not in bystanders]
        return results

    def _collect(self, future: concurrent.futures.Future) -> tuple[Job, dict[str, Any] | None]:
        """Take a future off the books: its job and outcome (``None``: its worker or pool died)."""
        job = self.futures.pop(future)
        if not future.done():  # still pending in a pool that broke
            return job, None
        try:
            return job, future.result()
        except concurrent.futures.process.BrokenProcessPool:
            return job, None
        except Exception:  # e.g. the job could not be pickled
            return job, {"ok": False, "error": traceback.format_exc(), "files": {}}

    def _crashed_runs(self) -> set[str]:
        """Run ids of the workers of a broken pool that died by themselves: exited, and not by the ``SIGTERM``
        the pool sends the rest (empty: cannot tell). Waits for every worker to have an exit code: the
        failed futures can come back before a worker's death is visible to ``waitpid``."""
        processes = getattr(self.executor, "_processes", None) or {}
        deadline = time.monotonic() + BROKEN_POOL_TIMEOUT
        for process in list(processes.values()):
            while process.exitcode is None and time.monotonic() < deadline:
                time.sleep(0.01)
        culprits = set()
        for pid, process in list(processes.items()):
            code = process.exitcode
            if code is not None and code != -signal.SIGTERM:
                try:
                    culprits.add((_pid_dir(self.scratch_root) / str(pid)).read_text())
                except OSError:  # died between runs (or before naming its run): no run to charge
                    return set()
        return culprits

    def _discard_pool(self) -> None:
        if self.executor is not None:
            pids = list(getattr(self.executor, "_processes", None) or {})
            _kill_workers(self.executor)
            self.executor = None
            for pid in pids:  # a killed worker leaves its pid file: a later worker may get the same pid
                with contextlib.suppress(OSError):
                    (_pid_dir(self.scratch_root) / str(pid)).unlink()

    def close(self, kill: bool) -> None:
        if self.executor is None:
            return
        if kill:
            self._discard_pool()
        else:
            self.executor.shutdown(wait=True)
            self.executor = None


def _kill_workers(executor: concurrent.futures.ProcessPoolExecutor) -> None:
    kill = getattr(executor, "kill_workers", None)  # Python >= 3.14
    if kill is not None:
        kill()
    else:
        for process in list((getattr(executor, "_processes", None) or {}).values()):
            with contextlib.suppress(Exception):
                process.kill()
    executor.shutdown(wait=False, cancel_futures=True)


def _pid_dir(scratch_root: str | Path) -> Path:
    """Where each local worker names the run it is running: ``{pid}`` holds the run id."""
    return Path(scratch_root) / ".pids"


def _execute_local(job: Job, scratch_root: str, checkpoint_root: str | None) -> dict[str, Any]:
    """:func:`execute_job`, with this worker's pid file naming the run while it runs."""
    marker = _pid_dir(scratch_root) / str(os.getpid())
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(job.run_id)
    try:
        return execute_job(job, scratch_root, checkpoint_root)
    finally:
        with contextlib.suppress(OSError):
            marker.unlink()


def _init_local_worker(parent_pid: int) -> None:
    """Worker start-up: leave Ctrl-C to the driver, and die with the driver (Linux)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent_pid:  # the driver died before prctl took effect
        os._exit(1)


class RayBackend:
    """``ray.remote(num_cpus=1)`` tasks; Ray's own retries are off (the driver retries dead workers)."""

    def __init__(self, address: str | None) -> None:
        self.ray = import_ray()
        self.owns = not self.ray.is_initialized()
        if self.owns:
            try:
                self.ray.init(address=address, include_dashboard=False if address is None else None,
                              log_to_driver=True)
            except Exception as error:  # Ray raises ConnectionError, RuntimeError, ValueError, ...
                raise ConnectionError(ray_connection_help(address, error)) from error
        self.remote = self.ray.remote(num_cpus=1, max_retries=0)(execute_job)
        self.refs: dict[Any, Job] = {}

    @property
    def running(self) -> int:
        return len(self.refs)

    def submit(self, job: Job) -> None:
        self.refs[self.remote.remote(job, None)] = job

    def wait(self, timeout: float) -> list[tuple[Job, dict[str, Any] | None]]:
        if not self.refs:
            return []
        ready, _ = self.ray.wait(list(self.refs), num_returns=1, timeout=timeout)
        results = []
        for ref in ready:
            job = self.refs.pop(ref)
            try:
                results.append((job, self.ray.get(ref)))
            except self.ray.exceptions.RayTaskError:  # execute_job itself raised: a bug, not a crash
                results.append((job, {"ok": False, "error": traceback.format_exc(), "files": {}}))
            except self.ray.exceptions.RayError as error:  # worker or node died, out of memory, ...
                logger.warning("ray task %s failed: %s", job.run_id, last_line(str(error)))
                results.append((job, None))
        return results

    def close(self, kill: bool) -> None:
        if kill:
            for ref in list(self.refs):
                with contextlib.suppress(Exception):
                    self.ray.cancel(ref, force=True)
        self.refs.clear()
        if self.owns:
            self.ray.shutdown()


def ray_connection_help(address: str | None, error: BaseException) -> str:
    """What to check when ``ray.init(address)`` fails (one paragraph, the error's last line included)."""
    where = "start a local Ray instance" if address is None else f"connect to the Ray cluster at {address!r}"
    return (
        f"could not {where}: {type(error).__name__}: {last_line(str(error))}. Check that the cluster is "
        "running (`ray status` on its head node); that --address is right ('auto' finds a cluster started "
        "on this machine with `ray start --head`, 'ray://HOST:10001' a remote one); that this Ray is the "
        "cluster's version (`ray --version`); and, where the cluster uses token authentication (Ray >= 2.52 "
        "with RAY_AUTH_MODE=token), that this shell sets RAY_AUTH_MODE=token and holds the cluster's token "
        "(RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH, or the file `ray get-auth-token` reads)"
    )


def import_ray():
    """``import ray``, with an error saying how to install it."""
    try:
        import ray
    except ImportError as error:
        raise ImportError("backend='ray' needs Ray: pip install 'ray[default]>=2.9' (or the project's "
                          "'ray' extra: pip install -e '.[ray]'), or use backend='local'") from error
    return ray
