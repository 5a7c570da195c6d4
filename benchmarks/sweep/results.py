"""The files of a sweep's output directory: where a run's result and checkpoint live, how they are read, and
the atomic write that makes a run count as finished only once its ``result.json`` is whole (the layout is
in :mod:`benchmarks.sweep.runner`)."""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchmarks.sweep.jobs import Job

#: the file whose presence (and parsability) marks a finished run
RESULT_FILE = "result.json"
#: mid-run checkpoints of unfinished runs, below OUT
CHECKPOINTS = ".checkpoints"
ERROR_FILE = "error.txt"
RESULT_FORMAT = 1


def run_dir(out: str | Path, job: Job) -> Path:
    """``OUT/runs/{env_id}/{method}/seed{n}``."""
    return Path(out) / "runs" / job.run_id


def load_result(directory: str | Path) -> dict[str, Any] | None:
    """The parsed ``result.json`` of a run directory, or ``None`` if the run is unfinished (missing,
    partial or unparsable file)."""
    try:
        record = json.loads((Path(directory) / RESULT_FILE).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and "metrics" in record and "job" in record else None


def finished_runs(out: str | Path) -> dict[str, dict[str, Any]]:
    """run id -> result record of every finished run below ``OUT/runs`` (at any depth: a namespaced env id
    such as ``ns/Task-v0`` adds a level)."""
    records = {}
    for path in sorted((Path(out) / "runs").rglob(RESULT_FILE)):
        record = load_result(path.parent)
        if record is not None:
            records[path.parent.relative_to(Path(out) / "runs").as_posix()] = record
    return records


def failed_runs(out: str | Path) -> dict[str, str]:
    """run id -> error text of every run below ``OUT/runs`` that holds ``error.txt`` and no valid result."""
    failures = {}
    for path in sorted((Path(out) / "runs").rglob(ERROR_FILE)):
        if load_result(path.parent) is None:
            run_id = path.parent.relative_to(Path(out) / "runs").as_posix()
            failures[run_id] = path.read_text(errors="replace")
    return failures


def write_analysis(directory: str | Path, json_name: str, result: Any, markdown_name: str, text: str) -> None:
    """Write an analysis of a sweep (``python -m benchmarks.sweep.<analysis>``) into ``directory``: its
    result as JSON and its table as markdown, each atomically; print the table."""
    atomic_write(Path(directory) / json_name, json.dumps(result, indent=2).encode())
    atomic_write(Path(directory) / markdown_name, text.encode())
    print(text)


def checkpoint_dir(out: str | Path, job: Job) -> Path:
    """``OUT/.checkpoints/{env_id}/{method}/seed{n}``: where the run's mid-run checkpoint lives."""
    return Path(out) / CHECKPOINTS / job.run_id


def atomic_write(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one, never a part:
    a temporary file in the same directory, fsync, ``os.replace``, fsync of the directory."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    with contextlib.suppress(OSError):
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
