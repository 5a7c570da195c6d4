"""``python -m benchmarks.tasks.random_policy``: both suites on tiny budgets; v1 statistics against loops."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest

from benchmarks.tasks.random_policy import (
    V0_IDS,
    Args,
    half_cheetah_com_stats,
    main,
    mountain_car_hold_stats,
)


def test_writes_json_and_table(tmp_path, capsys):
    out = tmp_path / "random.json"
    results = main(Args(episodes=2, seed=0, out=out, env_ids=("SparseMountainCar-v0",)))
    saved = json.loads(out.read_text())
    assert saved["results"] == results
    assert results["SparseMountainCar-v0"]["success_rate"] == 0.0
    assert "| SparseMountainCar-v0 | 2 |" in capsys.readouterr().out


def test_v0_suite_measures_only_the_easier_variants():
    assert "SparseMountainCar-v0" in V0_IDS and all(env_id.endswith("-v0") for env_id in V0_IDS)


def test_v1_suite_writes_every_measurement(tmp_path, capsys):
    out = tmp_path / "v1.json"
    args = Args(
        suite="v1", episodes=1, seed=0, out=out, hold_steps=(10,), hold_episodes=2, cartpole_episodes=3
    )
    results = main(args)
    saved = json.loads(out.read_text())
    assert saved["results"] == results and saved["config"]["suite"] == "v1"
    assert set(results["uniform_random"]) == {
        "SparseMountainCar-v1",
        "SparseCartPoleSwingup-v1",
        "SparseDoublePendulum-v1",
    }
    assert results["uniform_random"]["SparseCartPoleSwingup-v1"]["episodes"] == 3
    assert results["mountain_car_holds"]["10"]["episodes"] == 2
    assert ("half_cheetah" in results) == ("SparseHalfCheetah-v1" in gym.registry)
    table = capsys.readouterr().out
    assert "| SparseMountainCar-v1, random sign held 10 steps | 2 |" in table and "12-21 %" in table


def brute_force_hold(hold_steps: int, episodes: int, seed: int) -> tuple[list[bool], list[int]]:
    """The same policy written out step by step: goal reached, episode length."""
    env = gym.make("SparseMountainCar-v1")
    rng = np.random.default_rng(seed)
    goals, lengths = [], []
    for episode in range(episodes):
        env.reset(seed=seed + episode)
        for t in range(500):
            if t % hold_steps == 0:
                sign = rng.choice((-1.0, 1.0))
            _, _, terminated, truncated, _ = env.step(np.array([sign], dtype=np.float32))
            if terminated or truncated:
                break
        goals.append(bool(env.unwrapped.cart.position[0] >= 0.6))
        lengths.append(t + 1)
    return goals, lengths


def test_mountain_car_hold_stats_match_a_step_by_step_loop():
    stats = mountain_car_hold_stats(10, episodes=6, seed=3)
    goals, lengths = brute_force_hold(10, episodes=6, seed=3)
    assert stats["goal_rate"] == pytest.approx(np.mean(goals))
    assert stats["mean_length"] == pytest.approx(np.mean(lengths))
    assert stats["success_rate"] == stats["goal_rate"] + stats["left_end_rate"]


@pytest.mark.skipif("SparseHalfCheetah-v1" not in gym.registry, reason="SparseHalfCheetah-v1 not registered")
def test_half_cheetah_com_stats_match_a_step_by_step_loop():
    stats = half_cheetah_com_stats(episodes=2, seed=0)
    env = gym.make("SparseHalfCheetah-v1")
    env.action_space.seed(0)
    furthest = []
    for episode in range(2):
        env.reset(seed=episode)
        furthest.append(max(env.step(env.action_space.sample())[4]["com_x"] for _ in range(500)))
    assert stats["max_com_x"] == pytest.approx(max(furthest))
    assert stats["median_max_com_x"] == pytest.approx(np.median(furthest))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"episodes": 0}, "episodes must be a positive integer, got 0"),
        ({"env_ids": ("Nope-v0",)}, "Nope"),
        ({"suite": "v1", "hold_episodes": -1}, "hold_episodes must be a positive integer, got -1"),
        ({"suite": "v1", "hold_steps": (0,)}, "hold_steps must be a positive integer, got 0"),
    ],
)
def test_bad_arguments_raise(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        main(Args(out=tmp_path / "x.json", **kwargs))
