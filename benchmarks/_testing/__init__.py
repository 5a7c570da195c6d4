"""Fake job functions and suites for testing the runner without training anything.

They live in the package (not in ``tests/``) so that spawned worker processes and Ray workers can import
them by dotted path; the wheel leaves them out (``pyproject.toml``). Nothing here is used outside the tests.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from benchmarks.sweep.suites import MethodSpec, Suite, TaskSpec

CURVE_HEADER = "timesteps,episode_return,episode_length,success,intrinsic_return"
#: return written into the partial curve a fake job leaves while it sleeps; never in a finished run
PARTIAL_RETURN = -999.0
EPISODE_LENGTH = 100


def fake_job(env_id: str, algo: str, bonus: str, total_timesteps: int, seed: int, out_dir: str,
             **settings: Any) -> dict[str, Any]:
    """A job that follows the contract: ``total_timesteps // 100`` episodes of 100 steps, each with
    return ``seed + eta``, never successful; a ``visitation.npz`` for MountainCar ids.

    Test hooks: ``settings["fail_seeds"]`` (raise for these seeds), ``settings["kill_seeds"]`` (the worker
    kills itself with ``SIGKILL``, after the sleep), ``settings["kill_once_seeds"]`` (the same on the first
    attempt only; needs ``BENCH_FAKE_LOG``); environment variables
    ``BENCH_FAKE_SLEEP`` (comma-separated seconds to sleep, indexed by seed, after writing a partial curve)
    and ``BENCH_FAKE_LOG`` (a directory: each call appends ``pid`` to ``{env}__{method}__seed{n}.log``,
    method read from ``settings["method_tag"]`` or the bonus name).
    """
    out = Path(out_dir)
    log_dir = os.environ.get("BENCH_FAKE_LOG")
    if log_dir:
        tag = f"{env_id}__{settings.get('method_tag', bonus)}__seed{seed}.log"
        with open(Path(log_dir) / tag, "a") as log:
            log.write(f"{os.getpid()}\n")
    (out / "curve.csv").write_text(f"{CURVE_HEADER}\n100,{PARTIAL_RETURN},100,0,0.0\n")
    sleeps = [float(s) for s in os.environ.get("BENCH_FAKE_SLEEP", "").split(",") if s.strip()]
    if seed < len(sleeps):
        time.sleep(sleeps[seed])
    if seed in settings.get("fail_seeds", ()):
        raise RuntimeError(f"fake failure for seed {seed}")
    if seed in settings.get("kill_seeds", ()):  # a crash in native code, out of memory, ...
        os.kill(os.getpid(), signal.SIGKILL)
    first_attempt = bool(log_dir) and len((Path(log_dir) / tag).read_text().split()) == 1
    if seed in settings.get("kill_once_seeds", ()) and first_attempt:
        os.kill(os.getpid(), signal.SIGKILL)
    episode_return = float(seed) + float(settings.get("eta", 0.0))
    episodes = total_timesteps // EPISODE_LENGTH
    rows = [f"{(i + 1) * EPISODE_LENGTH},{episode_return},{EPISODE_LENGTH},0,0.0" for i in range(episodes)]
    (out / "curve.csv").write_text("\n".join([CURVE_HEADER, *rows]) + "\n")
    if "MountainCar" in env_id:
        import numpy as np

        hist = np.zeros((4, 3))
        hist[seed % 4, 0] = 1.0
        np.savez(out / "visitation.npz", hist=hist, xedges=np.linspace(-1.2, 0.6, 5),
                 yedges=np.linspace(-0.07, 0.07, 4))
    return {"final_return": episode_return, "success": False, "steps_to_first_success": None,
            "success_rate_last": 0.0, "episodes": episodes, "seconds": 0.0}


def torch_threads_job(env_id: str, algo: str, bonus: str, total_timesteps: int, seed: int, out_dir: str,
                      **settings: Any) -> dict[str, Any]:
    """Imports torch (as a real job does) and reports its thread count and the worker's pid."""
    import torch

    (Path(out_dir) / "curve.csv").write_text(f"{CURVE_HEADER}\n")
    return {"final_return": 0.0, "success": False, "steps_to_first_success": None, "success_rate_last": 0.0,
            "episodes": 0,
            "seconds": 0.0, "torch_threads": torch.get_num_threads(), "pid": os.getpid()}


def not_a_dict_job(env_id: str, algo: str, bonus: str, total_timesteps: int, seed: int, out_dir: str,
                   **settings: Any) -> list:
    """Breaks the contract: returns a list."""
    return [1, 2, 3]


def fake_suite(seeds: int = 3, methods: tuple[str, ...] = ("none", "vime"),
               job: str = "benchmarks._testing.fake_job", timesteps: int = 1000,
               **method_settings: Any) -> Suite:
    """One MountainCar task, the named methods (bonus = name, eta 0.5 except for none), ``fake_job``."""
    specs = tuple(MethodSpec(m, m, eta=0.0 if m == "none" else 0.5,
                             settings={"method_tag": m, **method_settings}) for m in methods)
    return Suite("fake", (TaskSpec("SparseMountainCar-v0", "ppo", timesteps),), specs, seeds=seeds, job=job)


#: the suites the command-line tests run (``bench run benchmarks._testing:FAKE_SUITE``)
FAKE_SUITE = fake_suite(seeds=3, methods=("none",))
FAILING_SUITE = fake_suite(seeds=2, methods=("none",), fail_seeds=[1])


def checkpointing_job(env_id: str, algo: str, bonus: str, total_timesteps: int, seed: int, out_dir: str,
                      checkpoint_dir: str | None = None, **settings: Any) -> dict[str, Any]:
    """Resumes from ``checkpoint_dir/progress.txt`` if present; a first attempt writes it and then kills its
    own process when ``settings["die_once"]`` (as a session's end kills a long run)."""
    progress = Path(checkpoint_dir) / "progress.txt" if checkpoint_dir else None
    resumed_from = int(progress.read_text()) if progress is not None and progress.is_file() else 0
    if progress is not None and resumed_from == 0:
        progress.parent.mkdir(parents=True, exist_ok=True)
        progress.write_text(str(total_timesteps // 2))
        if settings.get("die_once"):
            os._exit(1)
    (Path(out_dir) / "curve.csv").write_text(f"{CURVE_HEADER}\n")
    return {"final_return": 0.0, "success": False, "steps_to_first_success": None, "success_rate_last": 0.0,
            "episodes": 0,
            "resumed_from": resumed_from, "checkpoint_dir": checkpoint_dir}
