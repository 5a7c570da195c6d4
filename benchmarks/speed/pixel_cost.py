"""What does exploring from pixels cost per environment step? Rendering, encoding and the bonus, timed.

For the sparse MountainCar (and a MiniGrid task when minigrid is installed) it times, in milliseconds per
step or per transition, on CPU with ``--threads`` torch threads:

* ``env_step``: the state task's ``step``; ``pixel_env_step``: the pixel task's (``envs.pixels``, rendering
  and the frame copy included), and their difference ``render``;
* ``encoder_single`` / ``encoder_batched``: a :class:`~generative.encoders.FrameVAE` forward pass on one
  frame, and per frame in batches of ``--batch``;
* ``bonus_compute``: per transition, ``compute`` on a batch of ``--batch`` transitions (VIME's rollout-end
  batch) for ``vime`` on states, ``vime-latent`` on frames (encoding included) and ``rnd`` on frames;
  ``bonus_add`` likewise for ``add``. ``vime-latent`` encodes each distinct frame of a batch once, so its
  cost scales with ``distinct_frames``, the fraction of distinct frames among the batch's ``obs`` and
  ``next_obs`` (a random policy often leaves the frame unchanged for a step).

Writes ``benchmarks/results/pixel_cost.json`` and prints the same JSON last::

    python -m benchmarks.speed.pixel_cost --steps 500 --batch 256
"""

from __future__ import annotations

import dataclasses
import json
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
import tyro

import envs  # noqa: F401  (registers the tasks)
from benchmarks.sweep.results import atomic_write
from curiosity import make_bonus
from curiosity.runtime import configure_torch
from generative.encoders import FrameVAE


@dataclasses.dataclass
class Args:
    """Time rendering, encoding and bonuses against plain environment steps."""

    steps: int = 1000
    """environment steps timed per task"""
    batch: int = 256
    """transitions per bonus call and frames per batched encoder call"""
    repeats: int = 3
    """timed repetitions of each bonus / encoder measurement (the median is reported)"""
    threads: int = 1
    """torch intra-op threads"""
    seed: int = 0
    """seed of the environments, the action draws and the models"""
    out: Path = Path("benchmarks/results/pixel_cost.json")
    """where to write the JSON results"""


def time_env(env_id: str, steps: int, seed: int) -> tuple[float, list[tuple[Any, Any, Any]]]:
    """Milliseconds per random-action ``step`` (resets excluded) and the transitions seen."""
    env = gym.make(env_id)
    env.action_space.seed(seed)
    obs, _ = env.reset(seed=seed)
    transitions, elapsed = [], 0.0
    for _ in range(steps):
        action = env.action_space.sample()
        start = time.perf_counter()
        next_obs, _, terminated, truncated, _ = env.step(action)
        elapsed += time.perf_counter() - start
        transitions.append((obs, action, next_obs))
        obs = env.reset()[0] if terminated or truncated else next_obs
    env.close()
    return 1e3 * elapsed / steps, transitions


def median_ms(fn: Callable[[], Any], repeats: int, per: int) -> float:
    """Median over ``repeats`` calls of ``fn``, in milliseconds per ``per`` items (one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times)) / per


def stack(transitions: list[tuple[Any, Any, Any]], n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first ``n`` transitions as batched arrays ``(n, ...)``."""
    obs, actions, next_obs = (np.stack(part) for part in zip(*transitions[:n], strict=True))
    return obs, actions, next_obs


def bonus_cost(name: str, batch: tuple[np.ndarray, ...], spaces_of: gym.Env, repeats: int, **kwargs) -> dict:
    """Milliseconds per transition of ``compute`` and ``add`` for a freshly built bonus."""
    bonus = make_bonus(name, spaces_of.observation_space, spaces_of.action_space, device="cpu", **kwargs)
    bonus.add(*batch)
    bonus.train()
    n = len(batch[0])
    return {
        "bonus_compute": median_ms(lambda: bonus.compute(*batch), repeats, n),
        "bonus_add": median_ms(lambda: bonus.add(*batch), repeats, n),
    }


def measure_task(state_id: str | None, pixel_id: str, args: Args) -> dict[str, Any]:
    """Every timing of one task (see the module docstring)."""
    row: dict[str, Any] = {"pixel_env": pixel_id}
    pixel_ms, transitions = time_env(pixel_id, args.steps, args.seed)
    row["pixel_env_step"] = pixel_ms
    if state_id is not None:
        row["state_env"] = state_id
        row["env_step"], state_transitions = time_env(state_id, args.steps, args.seed)
        row["render"] = pixel_ms - row["env_step"]
    n = min(args.batch, len(transitions))
    batch = stack(transitions, n)
    frames = np.concatenate([batch[0], batch[2]])
    row["distinct_frames"] = len({f.tobytes() for f in frames}) / len(frames)  # vime-latent encodes these
    env = gym.make(pixel_id)
    encoder = FrameVAE(env.observation_space.shape, latent_dim=16, seed=args.seed).eval()
    with torch.no_grad():
        row["encoder_single"] = median_ms(lambda: encoder(batch[0][:1]), args.repeats, 1)
        row["encoder_batched"] = median_ms(lambda: encoder(batch[0]), args.repeats, n)
    vime = {"n_updates": 10, "min_pool_size": 1, "seed": args.seed}
    row["bonus"] = {
        "vime-latent": bonus_cost("vime-latent", batch, env, args.repeats, encoder=encoder, **vime),
        "rnd-pixels": bonus_cost("rnd", batch, env, args.repeats, seed=args.seed, gradient_steps=1),
    }
    if state_id is not None:
        state_env = gym.make(state_id)
        state_batch = stack(state_transitions, n)
        row["bonus"]["vime-state"] = bonus_cost("vime", state_batch, state_env, args.repeats, **vime)
    return row


def main(args: Args | None = None) -> dict[str, Any]:
    """Run the measurements, write the JSON file and print it."""
    args = args or tyro.cli(Args)
    configure_torch(args.threads)
    tasks = [("SparseMountainCar-v0", "PixelSparseMountainCar-v0")]
    try:
        import minigrid  # noqa: F401

        tasks.append((None, "PixelDoorKey-v0"))
    except ImportError:
        pass
    result = {
        "unit": "milliseconds per step / frame / transition",
        "steps": args.steps, "batch": args.batch, "threads": args.threads, "seed": args.seed,
        "machine": platform.processor() or platform.machine(), "torch": torch.__version__,
        "tasks": [measure_task(state_id, pixel_id, args) for state_id, pixel_id in tasks],
    }  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2)
    atomic_write(args.out, (text + "\n").encode())
    print(text)
    return result


if __name__ == "__main__":
    main()
