"""What VIME costs in wall-clock time: PPO on a sparse task with and without the bonus, in one run.

Builds both models with :func:`agents.experiment.build` (same task, seed and PPO settings) and trains
them for the same number of steps, one rollout each in turn (the order alternating), so that both see
the same machine load. The time spent inside the bonus's ``train()`` and ``compute()`` is measured by
wrapping them, so the breakdown is visible. ``--reference`` adds a third model whose VIME trains with
autograd and ``torch.optim.Adam`` (``fast_training=False``), the before/after of the fast BNN training.
Unless ``--no-update-timing``, it first times BNN updates alone (``VIME.train()`` on a filled pool,
batch 10, 10 samples), fast and reference paths interleaved, as milliseconds per update.
Writes ``benchmarks/results/overhead.json`` and prints it as the last line::

    python -m benchmarks.speed.overhead [--timesteps 20000] [--n-steps 5000] [--threads 1] [--reference]

The target of issue 4: ``ratio = steps_per_s_vime / steps_per_s_plain >= 0.85``.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
import tyro
from stable_baselines3.common.base_class import BaseAlgorithm

from agents.callback import CuriosityCallback
from agents.experiment import build
from benchmarks.sweep.results import atomic_write
from benchmarks.sweep.suites import PPO_CHEETAH_PER_ENV
from curiosity.runtime import configure_torch
from curiosity.vime import VIME


@dataclasses.dataclass
class Args:
    """Time PPO with and without VIME on the same task, in the same process."""

    timesteps: int = 20_000
    """environment steps per model (rounded up to whole rollouts)"""
    n_steps: int = 5000
    """PPO rollout length: one VIME training per rollout (the paper's batch: 5,000)"""
    threads: int = 1
    """torch threads"""
    env_id: str = "SparseHalfCheetah-v0"
    """the task"""
    seed: int = 0
    """seeds the envs, the agents and the bonus"""
    hidden_sizes: tuple[int, ...] = (32,)
    """VIME's BNN hidden layers (the paper: 32)"""
    reference: bool = False
    """also time VIME trained with autograd + torch.optim.Adam (the reference path)"""
    update_timing: bool = True
    """also time BNN updates alone, fast vs reference, at hidden (32,) and (32, 32)"""
    out: Path = Path("benchmarks/results/overhead.json")
    """where to write the JSON results"""


class CallTimer:
    """Accumulates the wall-clock time and number of calls of wrapped methods, by name."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def wrap(self, obj: Any, name: str) -> None:
        """Replace ``obj.name`` (a bound method) on this instance by a timed version of it."""
        method: Callable[..., Any] = getattr(obj, name)

        @functools.wraps(method)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
                self.calls[name] = self.calls.get(name, 0) + 1

        setattr(obj, name, timed)


def _build(args: Args, bonus: str, fast_training: bool = True) -> tuple[BaseAlgorithm, Any, CallTimer, Any]:
    """A model, its callback and bonus (``None`` without one), and the timer of the bonus's methods."""
    algo_kwargs = {**PPO_CHEETAH_PER_ENV, "n_steps": args.n_steps, "batch_size": min(500, args.n_steps)}
    bonus_kwargs = {"hidden_sizes": args.hidden_sizes, "fast_training": fast_training}
    model, wrapper = build(
        args.env_id, "ppo", bonus, seed=args.seed, algo_kwargs=algo_kwargs,
        bonus_kwargs=bonus_kwargs if bonus != "none" else None,
    )  # fmt: skip
    timer = CallTimer()
    if wrapper is None:
        return model, None, timer, None
    timer.wrap(wrapper.bonus, "train")
    timer.wrap(wrapper.bonus, "compute")
    return model, CuriosityCallback(), timer, wrapper.bonus


def time_updates(
    env_id: str, hidden_sizes: tuple[int, ...], n_updates: int = 100, repeats: int = 7, seed: int = 0
) -> dict[str, Any]:
    """Milliseconds per BNN update of ``VIME.train()``, fast and reference paths, best of ``repeats``.

    Both bonuses get the same 5,000 random transitions of the task's shapes; their calls alternate.
    """
    env = gym.make(env_id)
    rng = np.random.default_rng(seed)
    obs = rng.normal(size=(5000, *env.observation_space.shape)).astype(np.float32)
    actions = rng.uniform(-1, 1, (5000, *env.action_space.shape)).astype(np.float32)
    next_obs = (obs + 0.1 * rng.normal(size=obs.shape)).astype(np.float32)
    bonuses = {}
    for name, fast in (("reference", False), ("fast", True)):
        bonus = VIME(env.observation_space, env.action_space, hidden_sizes=hidden_sizes, n_updates=n_updates,
                     seed=seed, fast_training=fast, device="cpu")  # fmt: skip
        bonus.add(obs, actions, next_obs)
        bonus.train()  # warm-up
        bonuses[name] = bonus
    env.close()
    best = dict.fromkeys(bonuses, math.inf)
    for _ in range(repeats):
        for name, bonus in bonuses.items():
            start = time.perf_counter()
            bonus.train()
            best[name] = min(best[name], time.perf_counter() - start)
    ms = {name: 1000 * seconds / n_updates for name, seconds in best.items()}
    return {
        "hidden_sizes": list(hidden_sizes), "batch": bonuses["fast"].batch_size,
        "samples": bonuses["fast"].n_train_samples, "ms_reference": round(ms["reference"], 3),
        "ms_fast": round(ms["fast"], 3), "speedup": round(ms["reference"] / ms["fast"], 2),
    }  # fmt: skip


def measure(args: Args) -> dict[str, Any]:
    """Train every model rollout by rollout, in alternating order; return the timings."""
    configure_torch(args.threads)
    updates = (
        [time_updates(args.env_id, hidden) for hidden in ((32,), (32, 32))] if args.update_timing else []
    )
    runs = {"plain": _build(args, "none"), "vime": _build(args, "vime")}
    if args.reference:
        runs["vime_reference"] = _build(args, "vime", fast_training=False)
    seconds = dict.fromkeys(runs, 0.0)
    load_before = os.getloadavg()[0]
    for chunk in range(math.ceil(args.timesteps / args.n_steps)):
        names = list(runs) if chunk % 2 == 0 else list(reversed(runs))
        for name in names:
            model, callback, *_ = runs[name]
            start = time.perf_counter()
            model.learn(args.n_steps, callback=callback, reset_num_timesteps=chunk == 0)
            seconds[name] += time.perf_counter() - start
    result: dict[str, Any] = {}
    for name, (model, *_) in runs.items():
        result[f"steps_per_s_{name}"] = round(model.num_timesteps / seconds[name], 1)
    result["ratio"] = round(result["steps_per_s_vime"] / result["steps_per_s_plain"], 3)
    if args.reference:
        result["ratio_reference"] = round(
            result["steps_per_s_vime_reference"] / result["steps_per_s_plain"], 3
        )
    for name, (model, _, timer, bonus) in runs.items():
        result[f"seconds_{name}"] = round(seconds[name], 2)
        result[f"timesteps_{name}"] = int(model.num_timesteps)
        if bonus is not None:
            result[f"breakdown_{name}"] = _breakdown(timer, bonus.n_updates, seconds[name] - seconds["plain"])
    if updates:
        result["bnn_updates"] = updates
    result["config"] = {
        **dataclasses.asdict(args), "out": str(args.out), "torch": torch.__version__,
        "cpus": os.cpu_count(), "load_average_before": load_before, "load_average_after": os.getloadavg()[0],
    }  # fmt: skip
    return result


def _breakdown(timer: CallTimer, n_updates: int, extra_seconds: float) -> dict[str, Any]:
    """Seconds in the bonus's ``train()`` and ``compute()``, and milliseconds per BNN update."""
    train_s, calls = timer.seconds.get("train", 0.0), timer.calls.get("train", 0)
    return {
        "seconds_over_plain": round(extra_seconds, 2),
        "seconds_train": round(train_s, 3),
        "seconds_compute": round(timer.seconds.get("compute", 0.0), 3),
        "train_calls": calls,
        "compute_calls": timer.calls.get("compute", 0),
        "ms_per_update": round(1000 * train_s / (calls * n_updates), 3) if calls else None,
    }


def main() -> None:
    args = tyro.cli(Args)
    result = measure(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(args.out, (json.dumps(result, indent=2) + "\n").encode())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
