"""How often does a uniform-random policy find the sparse reward of each VIME task?

A sanity check of the tasks' difficulty: undirected exploration should (almost) never succeed. Writes a
JSON file and prints a markdown table::

    python -m benchmarks.random_policy --episodes 100 --seed 0

An episode counts as a success when it receives any positive reward (for SwimmerGather: an apple).
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import tyro
from tqdm import tqdm

import envs


@dataclasses.dataclass
class Args:
    """Measure a uniform-random policy on the sparse-reward tasks."""

    episodes: int = 100
    """episodes per task"""
    seed: int = 0
    """episode i of a task is reset with seed + i; actions are drawn from a generator seeded with seed"""
    out: Path = Path("benchmarks/results/random_policy.json")
    """where to write the JSON results"""
    env_ids: tuple[str, ...] = tuple(envs.ENV_IDS)
    """tasks to measure (registered ids)"""


def run_task(env_id: str, episodes: int, seed: int) -> dict[str, float]:
    """Success rate, mean and std of the return, mean length of ``episodes`` random-policy episodes."""
    env = gym.make(env_id)
    env.action_space.seed(seed)
    returns, lengths, successes = [], [], []
    start = time.perf_counter()
    for episode in tqdm(range(episodes), desc=env_id, leave=False):
        env.reset(seed=seed + episode)
        total, length, success, done = 0.0, 0, False, False
        while not done:
            _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            total, length, success = total + reward, length + 1, success or reward > 0
            done = terminated or truncated
        returns.append(total)
        lengths.append(length)
        successes.append(success)
    env.close()
    return {
        "episodes": episodes,
        "success_rate": float(np.mean(successes)),
        "mean_return": float(np.mean(returns)),
        "std_return": float(np.std(returns)),
        "mean_length": float(np.mean(lengths)),
        "seconds": round(time.perf_counter() - start, 2),
    }


def markdown_table(results: dict[str, dict[str, float]]) -> str:
    """One row per task."""
    lines = [
        "| task | episodes | success rate | mean return (std) | mean length |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for env_id, r in results.items():
        lines.append(
            f"| {env_id} | {r['episodes']} | {r['success_rate']:.2f} "
            f"| {r['mean_return']:.3f} ({r['std_return']:.3f}) | {r['mean_length']:.1f} |"
        )
    return "\n".join(lines)


def main(args: Args) -> dict[str, dict[str, float]]:
    """Run every task, write ``args.out``, print the table; returns the results."""
    if args.episodes < 1:
        raise ValueError(f"episodes must be a positive integer, got {args.episodes!r}")
    unknown = [env_id for env_id in args.env_ids if env_id not in gym.registry]
    if unknown:
        raise ValueError(f"unknown env_ids {unknown}; registered tasks: {list(envs.ENV_IDS)}")
    results = {env_id: run_task(env_id, args.episodes, args.seed) for env_id in args.env_ids}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    config = {"episodes": args.episodes, "seed": args.seed, "policy": "uniform random"}
    args.out.write_text(json.dumps({"config": config, "results": results}, indent=2) + "\n")
    print(markdown_table(results))
    return results


if __name__ == "__main__":
    main(tyro.cli(Args))
