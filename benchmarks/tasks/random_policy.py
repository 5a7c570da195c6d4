"""How often does undirected exploration find the sparse reward of each VIME task?

A sanity check of the tasks' difficulty: a random policy should (almost) never succeed on the paper's sparse
tasks. Two suites, each writing a JSON file and printing a markdown table::

    python -m benchmarks.tasks.random_policy --episodes 100 --seed 0      # -v0, the easier variants
    python -m benchmarks.tasks.random_policy --suite v1 --seed 0          # -v1, the ports of the paper's code

``v0``: a uniform-random policy on the ``-v0`` tasks (``benchmarks/results/random_policy.json``); an episode
counts as a success when it receives any positive reward (for SwimmerGather: an apple).

``v1`` (``benchmarks/results/random_policy_v1.json``), the measurements REFERENCE.md section 1 reports for an
independent replica of the original code: SparseMountainCar-v1 under a uniformly random action SIGN held for
10, 25 and 50 steps (``hold_episodes`` episodes each; the share reaching ``x >= 0.6``); uniform random actions
on the three Box2D tasks (``cartpole_episodes`` episodes for the cart-pole, ``episodes`` for the others); and
on SparseHalfCheetah-v1 the median and maximum over ``episodes`` episodes of each episode's largest centre of
mass x (``info["com_x"]``), and the share of episodes rewarded (COM x > 5). Steps per second (through
``gym.make``, random actions, one process) come with every row.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
import numpy as np
import tyro
from tqdm import tqdm

import envs

V0_IDS = tuple(env_id for env_id in envs.ENV_IDS if env_id.endswith("-v0"))
MOUNTAIN_CAR = "SparseMountainCar-v1"
CARTPOLE = "SparseCartPoleSwingup-v1"
DOUBLE_PENDULUM = "SparseDoublePendulum-v1"
HALF_CHEETAH = "SparseHalfCheetah-v1"
#: REFERENCE.md section 1, "Measured on an independent replica", for the table's last column
REFERENCE = {
    "hold_10": "12-21 %",
    "hold_25": "0 %",
    "hold_50": "0 %",
    MOUNTAIN_CAR: "0 of 100",
    CARTPOLE: "0 of 1,000",
    DOUBLE_PENDULUM: "99 of 100",
    HALF_CHEETAH: "0 of 100; median 0.07 m, best 0.63 m",
}


@dataclasses.dataclass
class Args:
    """Measure random policies on the sparse-reward tasks."""

    suite: Literal["v0", "v1"] = "v0"
    """v0: uniform random actions on the easier -v0 tasks; v1: REFERENCE.md's measurements on the -v1 ports"""
    episodes: int = 100
    """episodes per task (v1: uniform-random episodes on MountainCar, DoublePendulum and HalfCheetah)"""
    seed: int = 0
    """episode i of a measurement is reset with seed + i; actions come from a generator seeded with seed"""
    out: Path | None = None
    """where to write the JSON results (default: benchmarks/results/random_policy.json, or _v1.json)"""
    env_ids: tuple[str, ...] = V0_IDS
    """v0 only: tasks to measure (registered ids)"""
    hold_steps: tuple[int, ...] = (10, 25, 50)
    """v1 only: how long MountainCar's random action sign is held"""
    hold_episodes: int = 200
    """v1 only: episodes per hold length"""
    cartpole_episodes: int = 1000
    """v1 only: uniform-random episodes on SparseCartPoleSwingup-v1"""


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def run_task(env_id: str, episodes: int, seed: int) -> dict[str, float]:
    """Success rate, mean and std of the return, mean length, steps/s of uniform-random episodes."""
    _check_positive(episodes=episodes)
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
    seconds = time.perf_counter() - start
    return {
        "episodes": episodes,
        "success_rate": float(np.mean(successes)),
        "successes": int(np.sum(successes)),
        "mean_return": float(np.mean(returns)),
        "std_return": float(np.std(returns)),
        "mean_length": float(np.mean(lengths)),
        "seconds": round(seconds, 2),
        "steps_per_second": round(float(np.sum(lengths)) / seconds),
    }


def mountain_car_hold_stats(hold_steps: int, episodes: int, seed: int) -> dict[str, float]:
    """SparseMountainCar-v1 under a uniformly random action sign (-1 or +1) redrawn every ``hold_steps``.

    Returns:
        ``goal_rate`` (share of episodes reaching ``x >= 0.6``), ``left_end_rate`` (share ending at
        ``x <= -2``, which the original also rewards), ``success_rate`` (any reward), ``mean_length``,
        ``episodes``, ``hold_steps``, ``seconds``, ``steps_per_second``.

    Raises:
        ValueError: a non-positive ``hold_steps`` or ``episodes``.
    """
    _check_positive(hold_steps=hold_steps, episodes=episodes)
    env = gym.make(MOUNTAIN_CAR)
    rng = np.random.default_rng(seed)
    goals = lefts = steps = 0
    start = time.perf_counter()
    for episode in range(episodes):
        env.reset(seed=seed + episode)
        done, t = False, 0
        while not done:
            if t % hold_steps == 0:
                action = np.array([rng.choice((-1.0, 1.0))], dtype=np.float32)
            _, _, terminated, truncated, info = env.step(action)
            done, t = terminated or truncated, t + 1
        goals += info["goal_reached"]
        lefts += terminated and not info["goal_reached"]
        steps += t
    env.close()
    seconds = time.perf_counter() - start
    return {
        "hold_steps": hold_steps,
        "episodes": episodes,
        "goal_rate": goals / episodes,
        "left_end_rate": lefts / episodes,
        "success_rate": (goals + lefts) / episodes,
        "mean_length": steps / episodes,
        "seconds": round(seconds, 2),
        "steps_per_second": round(steps / seconds),
    }


def half_cheetah_com_stats(episodes: int, seed: int, env_id: str = HALF_CHEETAH) -> dict[str, float]:
    """Uniform-random episodes of SparseHalfCheetah-v1: how far its centre of mass gets.

    Returns:
        ``median_max_com_x`` and ``max_com_x`` (median and maximum over episodes of each episode's largest
        ``info["com_x"]``), ``success_rate`` and ``successes`` (episodes with any reward), ``episodes``,
        ``seconds``, ``steps_per_second``.

    Raises:
        ValueError: a non-positive ``episodes``.
    """
    _check_positive(episodes=episodes)
    env = gym.make(env_id)
    env.action_space.seed(seed)
    best, successes, steps = [], 0, 0
    start = time.perf_counter()
    for episode in tqdm(range(episodes), desc=env_id, leave=False):
        env.reset(seed=seed + episode)
        furthest, rewarded, done = -np.inf, False, False
        while not done:
            _, reward, terminated, truncated, info = env.step(env.action_space.sample())
            furthest, rewarded = max(furthest, info["com_x"]), rewarded or reward > 0
            done, steps = terminated or truncated, steps + 1
        best.append(furthest)
        successes += rewarded
    env.close()
    seconds = time.perf_counter() - start
    return {
        "episodes": episodes,
        "median_max_com_x": float(np.median(best)),
        "max_com_x": float(np.max(best)),
        "success_rate": successes / episodes,
        "successes": successes,
        "seconds": round(seconds, 2),
        "steps_per_second": round(steps / seconds),
    }


def run_v1(args: Args) -> dict[str, Any]:
    """Every ``-v1`` measurement (HalfCheetah only when ``SparseHalfCheetah-v1`` is registered)."""
    _check_positive(
        episodes=args.episodes, hold_episodes=args.hold_episodes, cartpole_episodes=args.cartpole_episodes
    )
    results: dict[str, Any] = {
        "mountain_car_holds": {
            str(hold): mountain_car_hold_stats(hold, args.hold_episodes, args.seed)
            for hold in args.hold_steps
        },
        "uniform_random": {
            MOUNTAIN_CAR: run_task(MOUNTAIN_CAR, args.episodes, args.seed),
            CARTPOLE: run_task(CARTPOLE, args.cartpole_episodes, args.seed),
            DOUBLE_PENDULUM: run_task(DOUBLE_PENDULUM, args.episodes, args.seed),
        },
    }
    if HALF_CHEETAH in gym.registry:
        results["half_cheetah"] = half_cheetah_com_stats(args.episodes, args.seed)
    return results


def markdown_table(results: dict[str, dict[str, float]]) -> str:
    """One row per task (the v0 suite)."""
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


def markdown_table_v1(results: dict[str, Any]) -> str:
    """One row per measurement of the v1 suite, with REFERENCE.md's replica numbers beside."""
    lines = [
        "| task and policy | episodes | measured | reference replica | steps/s |",
        "| --- | ---: | --- | --- | ---: |",
    ]
    for hold, r in results["mountain_car_holds"].items():
        lines.append(
            f"| {MOUNTAIN_CAR}, random sign held {hold} steps | {r['episodes']} "
            f"| {100 * r['goal_rate']:.1f} % reach x >= 0.6 ({100 * r['left_end_rate']:.1f} % the left end) "
            f"| {REFERENCE.get(f'hold_{hold}', '')} | {r['steps_per_second']:,} |"
        )
    for env_id, r in results["uniform_random"].items():
        lines.append(
            f"| {env_id}, uniform random | {r['episodes']} | {r['successes']} of {r['episodes']} rewarded "
            f"(mean return {r['mean_return']:.2f}, length {r['mean_length']:.0f}) | {REFERENCE[env_id]} "
            f"| {r['steps_per_second']:,} |"
        )
    if "half_cheetah" in results:
        r = results["half_cheetah"]
        lines.append(
            f"| {HALF_CHEETAH}, uniform random | {r['episodes']} | {r['successes']} "
            f"of {r['episodes']} rewarded; max COM x: median {r['median_max_com_x']:.2f} m, "
            f"best {r['max_com_x']:.2f} m | {REFERENCE[HALF_CHEETAH]} | {r['steps_per_second']:,} |"
        )
    return "\n".join(lines)


def main(args: Args) -> dict[str, Any]:
    """Run the chosen suite, write ``args.out``, print the table; returns the results."""
    _check_positive(episodes=args.episodes)
    if args.suite == "v1":
        results = run_v1(args)
        config = {
            "suite": "v1",
            "seed": args.seed,
            "episodes": args.episodes,
            "hold_steps": list(args.hold_steps),
            "hold_episodes": args.hold_episodes,
            "cartpole_episodes": args.cartpole_episodes,
            "policies": "uniformly random action sign held hold_steps steps (MountainCar); uniform random",
        }
        table = markdown_table_v1(results)
        default_out = Path("benchmarks/results/random_policy_v1.json")
    else:
        unknown = [env_id for env_id in args.env_ids if env_id not in gym.registry]
        if unknown:
            raise ValueError(f"unknown env_ids {unknown}; registered tasks: {list(envs.ENV_IDS)}")
        results = {env_id: run_task(env_id, args.episodes, args.seed) for env_id in args.env_ids}
        config = {"episodes": args.episodes, "seed": args.seed, "policy": "uniform random"}
        table = markdown_table(results)
        default_out = Path("benchmarks/results/random_policy.json")
    out = args.out or default_out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"config": config, "results": results}, indent=2) + "\n")
    print(table)
    return results


if __name__ == "__main__":
    main(tyro.cli(Args))
