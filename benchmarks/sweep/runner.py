"""Run a suite's jobs in local processes or on a Ray cluster; crash-safe and resumable.

Layout of an output directory ``OUT``::

    OUT/command.txt                      the exact command line of the latest sweep
    OUT/commands.log                     time, directory and command of every sweep that had runs to do
    OUT/suite.json                       the expanded jobs of every sweep (a rerun job: its latest spec)
    OUT/runs/{env_id}/{method}/seed{n}/  the job's files (curve.csv, visitation.npz, ...) and result.json
    OUT/.scratch/                        per-attempt scratch directories of the local backend
    OUT/.checkpoints/{run id}/           mid-run checkpoints of unfinished runs (local backend), with job.json
                                         and started.json (the code and time of the attempt it continues)

Crash safety. The job function writes into a scratch directory of its own (unique per attempt, never a run
directory); the worker sends the files back with the metrics, and the *driver* (the process running
:func:`run_suite`) writes them into the run directory, then writes ``result.json`` LAST, atomically (temporary
file, fsync, ``os.replace``). A run counts as finished if and only if its ``result.json`` exists and parses.
Restarting a sweep skips finished runs and deletes and redoes every other run directory, so a partial file
is never read. With the local backend a job function that takes ``checkpoint_dir`` (``run_experiment``
does) keeps a mid-run checkpoint under ``OUT/.checkpoints``: a run killed part-way resumes from it on the
next sweep, unless its job changed since (``job.json`` beside it); it is deleted once the run is finished.
A resumed run's ``result.json`` names the code that finished it (``git``) and, under ``started``, the code
and time of the attempt it resumed (a sweep may span commits).
A worker killed mid-run (signal, out of memory) is retried ``retries`` times, then recorded as a failure
(with the local backend, the runs whose workers the broken pool stopped alongside it are restarted without
counting against theirs); a failing job writes ``error.txt`` instead of ``result.json`` and the sweep goes
on. Local workers die with the driver (Linux ``PR_SET_PDEATHSIG``) and ignore Ctrl-C, which the driver
handles by killing them. One sweep at a time may write to ``OUT`` (an ``flock`` on ``OUT/.lock``).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import json
import logging
import os
import shlex
import shutil
import socket
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.provenance import git_state
from benchmarks.sweep.backends import Backend, LocalBackend, RayBackend
from benchmarks.sweep.jobs import Job, expand, last_line, now_utc
from benchmarks.sweep.results import (
    CHECKPOINTS,
    ERROR_FILE,
    RESULT_FILE,
    RESULT_FORMAT,
    atomic_write,
    checkpoint_dir,
    load_result,
    run_dir,
)
from benchmarks.sweep.suites import Suite
from benchmarks.sweep.worker import check_job_module

logger = logging.getLogger(__name__)



# --- the sweep ------------------------------------------------------------------------------------------


@dataclasses.dataclass
class SweepResult:
    """What a sweep did. ``exit_code``: 0 all done, 1 some run failed, 130 interrupted."""

    out: Path
    finished: list[str] = dataclasses.field(default_factory=list)
    skipped: list[str] = dataclasses.field(default_factory=list)
    failed: dict[str, str] = dataclasses.field(default_factory=dict)
    unfinished: list[str] = dataclasses.field(default_factory=list)
    interrupted: bool = False

    @property
    def exit_code(self) -> int:
        return 130 if self.interrupted else (1 if self.failed else 0)


def run_suite(
    suite: Suite | str,
    out: str | Path,
    seeds: int | Sequence[int] | None = None,
    backend: Backend = "local",
    jobs: int | None = None,
    address: str | None = None,
    retries: int = 1,
    redo_changed: bool = False,
    progress: bool = True,
    command: str | None = None,
) -> SweepResult:
    """Run every unfinished job of ``suite`` x ``seeds`` into ``out``; see the module docstring.

    Args:
        suite: a :class:`Suite` or a registered name.
        out: output directory (created).
        seeds: seed count, explicit seeds, or ``None`` for the suite's default.
        backend: ``"local"`` (a spawn-context process pool) or ``"ray"``.
        jobs: runs at a time. Local: worker processes (default 1). Ray: tasks in flight (default 0 = all,
            Ray schedules them one CPU each).
        address: Ray cluster address (``"auto"``, ``"ray://host:10001"``); ``None`` starts a local instance
            (or uses the one already initialised in this process).
        retries: how often a run whose worker died abruptly is started again before it counts as failed.
        redo_changed: redo finished runs whose stored job differs from the suite's (else that is an error).
        progress: show a progress bar (runs done, running, failed).
        command: the command line to store in ``OUT/command.txt`` (default: this process's,
            ``shlex.join(sys.orig_argv)``).

    Returns:
        The :class:`SweepResult`; failures are in ``failed`` (and ``error.txt``), never raised.

    Raises:
        ValueError: bad ``backend`` / ``jobs`` / ``retries``; finished runs made with other settings.
        RuntimeError: another sweep holds ``OUT``.
        ImportError: ``backend="ray"`` without ray installed.
    """
    if backend not in ("local", "ray"):
        raise ValueError(f"backend must be 'local' or 'ray', got {backend!r}")
    if jobs is not None and (jobs < 0 or (backend == "local" and jobs == 0)):
        raise ValueError(f"jobs must be >= 1 for the local backend (>= 0 for ray, 0 = no limit), got {jobs}")
    if retries < 0:
        raise ValueError(f"retries must be >= 0, got {retries}")
    job_list = expand(suite, seeds)
    for job_fn in sorted({job.job_fn for job in job_list}):
        check_job_module(job_fn)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with _sweep_lock(out):
        provenance = {"git": git_state(), "driver_host": socket.gethostname()}
        todo, skipped = _plan(out, job_list, redo_changed, {**provenance, "time": now_utc()})
        result = SweepResult(out, skipped=[j.run_id for j in skipped])
        if todo:  # a rerun that finds everything finished changes no result: not one of the sweep's commands
            _write_sweep_files(out, job_list, command)
            capacity = (jobs or 1) if backend == "local" else (jobs or 0)
            try:
                _sweep(todo, out, backend, capacity, address, retries, progress, len(job_list), result,
                       provenance)
            except KeyboardInterrupt:
                logger.warning("interrupted: %d run(s) unfinished; run the same command again to resume",
                               len(result.unfinished))
    _log_summary(result)
    return result


def _plan(out: Path, job_list: list[Job], redo_changed: bool, started: dict[str, Any]
          ) -> tuple[list[Job], list[Job]]:
    """Split into jobs to run and finished jobs to skip; delete the run directories of the former and
    prepare their checkpoint directories (``started``: this attempt's provenance)."""
    todo, skipped, changed = [], [], []
    for job in job_list:
        record = load_result(run_dir(out, job))
        if record is not None and record["job"] != job.spec():
            changed.append((job, record["job"]))
            if not redo_changed:
                continue
            record = None
        (skipped if record is not None else todo).append(job)
    if changed and not redo_changed:
        job, stored = changed[0]
        diff = {k: (stored.get(k), v) for k, v in job.spec().items() if stored.get(k) != v}
        raise ValueError(
            f"{len(changed)} finished run(s) in {out} were made with other settings, e.g. {job.run_id}: "
            f"{{key: (stored, now)}} = {diff}. Use another output directory, delete those runs, or pass "
            "redo_changed=True (--redo-changed) to redo them.")
    for job in todo:
        shutil.rmtree(run_dir(out, job), ignore_errors=True)
        _keep_checkpoint_if_same_job(out, job, started)
    return todo, skipped


def _remove_checkpoint(out: Path, job: Job) -> None:
    """Delete a finished run's checkpoint and the folders it leaves empty."""
    directory = checkpoint_dir(out, job)
    shutil.rmtree(directory, ignore_errors=True)
    for parent in directory.parents:
        if parent == out or not parent.is_dir() or any(parent.iterdir()):
            break
        parent.rmdir()


#: files of a checkpoint directory that are not the checkpoint itself
_CHECKPOINT_META = ("job.json", "started.json")


def _keep_checkpoint_if_same_job(out: Path, job: Job, started: dict[str, Any]) -> None:
    """Delete a run's checkpoint left by a different job spec; record the spec the next one is for and, unless
    a checkpoint is there to resume, that the run starts now (``started``)."""
    directory = checkpoint_dir(out, job)
    try:
        same = json.loads((directory / "job.json").read_text()) == job.spec()
    except (OSError, ValueError):
        same = False
    if not same:
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True, exist_ok=True)
        atomic_write(directory / "job.json", json.dumps(job.spec(), sort_keys=True).encode())
    # hidden files are the temporary files of writes cut short (atomic writes), not a checkpoint to resume
    if not any(path.name not in _CHECKPOINT_META and not path.name.startswith(".")
               for path in directory.iterdir()):
        atomic_write(directory / "started.json", json.dumps(started, sort_keys=True).encode())


def _started(out: Path, job: Job) -> dict[str, Any] | None:
    """The provenance of the attempt a run's checkpoint goes back to (``None``: not recorded)."""
    try:
        started = json.loads((checkpoint_dir(out, job) / "started.json").read_text())
    except (OSError, ValueError):
        return None
    return started if isinstance(started, dict) else None


def _sweep(todo: list[Job], out: Path, backend: Backend, capacity: int, address: str | None,
           retries: int, progress: bool, total: int, result: SweepResult, provenance: dict[str, Any]) -> None:
    from tqdm.auto import tqdm

    pending = collections.deque(todo)
    crashes: collections.Counter[str] = collections.Counter()
    executor = (LocalBackend(out / ".scratch", capacity, out / CHECKPOINTS) if backend == "local"
                else RayBackend(address))
    bar = tqdm(total=total, initial=len(result.skipped), unit="run", desc=out.name or str(out),
               disable=not progress, dynamic_ncols=True, file=sys.stderr)
    try:
        while pending or executor.running:
            while pending and (capacity <= 0 or executor.running < capacity):
                executor.submit(pending.popleft())
            bar.set_postfix(running=executor.running, failed=len(result.failed), refresh=False)
            for job, outcome in executor.wait(timeout=1.0):
                if outcome is None:
                    crashes[job.run_id] += 1
                    if crashes[job.run_id] <= retries:
                        logger.warning("worker running %s died abruptly; starting it again", job.run_id)
                        pending.appendleft(job)
                        continue
                    outcome = _crash_outcome(job, crashes[job.run_id])
                _finalize(out, job, outcome, provenance, attempt=crashes[job.run_id] + 1)
                if outcome["ok"]:
                    result.finished.append(job.run_id)
                else:
                    result.failed[job.run_id] = last_line(outcome["error"])
                    if progress:
                        bar.write(f"FAILED {job.run_id}: {result.failed[job.run_id]}", file=sys.stderr)
                    else:
                        logger.warning("FAILED %s: %s", job.run_id, result.failed[job.run_id])
                bar.update(1)
                bar.set_postfix(running=executor.running, failed=len(result.failed), refresh=False)
        executor.close(kill=False)
    except BaseException:
        executor.close(kill=True)
        result.interrupted = True
        done = {*result.finished, *result.failed}
        result.unfinished = [j.run_id for j in todo if j.run_id not in done]
        raise
    finally:
        bar.close()


def _finalize(out: Path, job: Job, outcome: dict[str, Any], provenance: dict[str, Any], attempt: int) -> None:
    """Write the job's files, then ``result.json`` (or ``error.txt``) last; each file atomically."""
    directory = run_dir(out, job)
    directory.mkdir(parents=True, exist_ok=True)
    for relative, data in outcome["files"].items():
        target = (directory / relative).resolve()
        if directory.resolve() not in target.parents or target.name in (RESULT_FILE, ERROR_FILE):
            logger.warning("%s: ignoring job file %r (outside the run directory or reserved)",
                           job.run_id, relative)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, data)
    if not outcome["ok"]:
        atomic_write(directory / ERROR_FILE, outcome["error"].encode())
        return
    record = {
        "format": RESULT_FORMAT,
        "run_id": job.run_id,
        "job": job.spec(),
        "metrics": outcome["metrics"],
        "files": {name: len(data) for name, data in outcome["files"].items()},
        "timing": {**outcome["timing"], "attempt": attempt},
        "worker": outcome["worker"],
        "versions": outcome["versions"],
        **provenance,
    }
    started = _started(out, job)
    if started is not None:
        record["started"] = started
    atomic_write(directory / RESULT_FILE, json.dumps(record, indent=2, sort_keys=True).encode())
    _remove_checkpoint(out, job)


def _crash_outcome(job: Job, crashes: int) -> dict[str, Any]:
    error = (f"the worker process running {job.run_id} died abruptly {crashes} time(s) (killed by a signal, "
             "out of memory, or a crash in native code); rerun the sweep to try it again")
    return {"ok": False, "error": error, "files": {}}


def _write_sweep_files(out: Path, job_list: list[Job], command: str | None) -> None:
    if command is None:
        command = shlex.join(getattr(sys, "orig_argv", sys.argv))
    atomic_write(out / "command.txt", (command + "\n").encode())
    with open(out / "commands.log", "a") as log:
        log.write(f"{now_utc()}\t{os.getcwd()}\t{command}\n")
    # sweeps are often run a task or a method at a time: keep the jobs of the earlier ones
    specs = {spec["run_id"]: spec for spec in _read_specs(out / "suite.json")}
    specs.update((job.run_id, job.spec()) for job in job_list)
    atomic_write(out / "suite.json", json.dumps(list(specs.values()), indent=1).encode())


def _read_specs(path: Path) -> list[dict[str, Any]]:
    """The job specs of an earlier ``suite.json`` (none if it is missing or unreadable)."""
    try:
        specs = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    if not isinstance(specs, list):
        return []
    return [spec for spec in specs if isinstance(spec, dict) and "run_id" in spec]


@contextlib.contextmanager
def _sweep_lock(out: Path):
    """Hold an exclusive ``flock`` on ``OUT/.lock`` (released by the kernel even if the driver is killed)."""
    import fcntl

    handle = open(out / ".lock", "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise RuntimeError(f"another sweep (pid {handle.read().strip() or '?'}) is writing to {out}; "
                               "wait for it to end or use another output directory") from None
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()


def _log_summary(result: SweepResult) -> None:
    logger.info("%s: %d run(s) finished, %d skipped (already finished), %d failed", result.out,
                len(result.finished), len(result.skipped), len(result.failed))
    for run_id, message in result.failed.items():
        logger.info("failed: %s: %s (see %s)", run_id, message, result.out / "runs" / run_id / ERROR_FILE)


def describe_jobs(job_list: Iterable[Job]) -> str:
    """One line per job: run id, budget, bonus and settings (for ``--dry-run``)."""
    return "\n".join(f"{j.run_id}\t{j.algo}\t{j.total_timesteps}\t{j.bonus}\t"
                     f"{json.dumps(j.settings, sort_keys=True)}" for j in job_list)
