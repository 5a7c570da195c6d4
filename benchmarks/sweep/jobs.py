"""A sweep's unit of work, the :class:`Job`, and the plain-data helpers that the driver and the workers share.

:func:`expand` turns a suite into jobs; :mod:`benchmarks.sweep.worker` runs one;
:mod:`benchmarks.sweep.runner` schedules them on a backend (:mod:`benchmarks.sweep.backends`).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import numbers
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.sweep.suites import Suite, get_suite


@dataclasses.dataclass(frozen=True)
class Job:
    """One run: a (task, method, seed) of a suite, with everything the job function is called with."""

    env_id: str
    method: str
    seed: int
    algo: str
    bonus: str
    total_timesteps: int
    settings: dict[str, Any]
    job_fn: str

    @property
    def run_id(self) -> str:
        """Stable id ``{env_id}/{method}/seed{n}``; also the run directory below ``OUT/runs``."""
        return f"{self.env_id}/{self.method}/seed{self.seed}"

    def spec(self) -> dict[str, Any]:
        """JSON form (stored in result.json, compared on restart)."""
        return jsonable({"run_id": self.run_id, **dataclasses.asdict(self)})


def expand(suite: Suite | str, seeds: int | Sequence[int] | None = None) -> list[Job]:
    """Suite x seeds as jobs, ordered by task, then seed, then method: a sweep stopped part-way has compared
    every method on the same seeds so far.

    Args:
        suite: a :class:`Suite` or a registered name.
        seeds: a count (the first ``seeds`` of the suite's seeds, :meth:`Suite.seed_list`), explicit seeds,
            or ``None`` for the suite's own.

    Raises:
        ValueError: a negative count, a negative, repeated or non-integer seed, or an unknown suite.
    """
    suite = get_suite(suite)
    if seeds is None or _is_int(seeds):
        if seeds is not None and seeds < 0:
            raise ValueError(f"seeds must be a count >= 0 or a list of seeds, got {seeds}")
        seed_list = suite.seed_list(None if seeds is None else int(seeds))
    elif isinstance(seeds, Iterable) and not isinstance(seeds, (str, bytes)):
        seed_list = _seed_list(list(seeds))
    else:
        raise ValueError(f"seeds must be a count >= 0 or a list of seeds, got {seeds!r}")
    return [
        Job(task.env_id, method.name, seed, task.algo, method.bonus, task.total_timesteps,
            suite.settings_for(task, method), suite.job)
        for task in suite.tasks for seed in seed_list for method in suite.methods
    ]


def _seed_list(seeds: Sequence[int]) -> list[int]:
    if not all(_is_int(s) for s in seeds):
        raise ValueError(f"seeds must be distinct non-negative integers, got {list(seeds)!r}")
    seed_list = [int(s) for s in seeds]
    if any(s < 0 for s in seed_list) or len(set(seed_list)) != len(seed_list):
        raise ValueError(f"seeds must be distinct non-negative integers, got {seed_list}")
    return seed_list


def _is_int(value: Any) -> bool:
    """An integer (numpy's included), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def jsonable(value: Any) -> Any:
    """Round-trip through JSON: tuples become lists, numpy scalars and arrays plain numbers and lists."""

    def default(obj: Any) -> Any:
        if hasattr(obj, "tolist"):
            return obj.tolist()
        if isinstance(obj, Path):
            return str(obj)
        raise TypeError(f"{type(obj).__name__} is not JSON serialisable: {obj!r}")

    return json.loads(json.dumps(value, default=default, allow_nan=True))


def now_utc() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def last_line(text: str | None) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "unknown error"
