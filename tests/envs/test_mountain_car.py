"""SparseMountainCar: gymnasium's physics, the sparse goal reward, state setting."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the tasks)
from envs.mountain_car import SparseMountainCarEnv


def test_physics_match_gymnasium_mountain_car_continuous():
    ours, theirs = SparseMountainCarEnv(), gym.make("MountainCarContinuous-v0").unwrapped
    obs, _ = ours.reset(seed=0)
    theirs.reset(seed=0)
    theirs.state = np.array([ours.position, ours.velocity])
    actions = np.random.default_rng(0).uniform(-1.5, 1.5, size=(300, 1)).astype(np.float32)  # clipping too
    for action in actions:
        obs, _, terminated, _, _ = ours.step(action)
        expected, _, expected_terminated, _, _ = theirs.step(action)
        np.testing.assert_allclose(obs, expected, atol=1e-5)
        assert terminated == expected_terminated


def test_car_at_goal_gets_reward_and_terminates():
    env = gym.make("SparseMountainCar-v0")
    env.reset(seed=0)
    env.unwrapped.set_state(0.5, 0.01)
    _, reward, terminated, truncated, info = env.step(np.zeros(1, dtype=np.float32))
    assert (reward, terminated, truncated) == (1.0, True, False)
    assert info["is_success"] and info["position"] >= 0.45


def test_car_in_valley_gets_nothing():
    env = gym.make("SparseMountainCar-v0")
    env.reset(seed=0)
    env.unwrapped.set_state(-0.5, 0.0)
    _, reward, terminated, _, info = env.step(np.ones(1, dtype=np.float32))
    assert (reward, terminated, info["is_success"]) == (0.0, False, False)
    assert info["position"] == pytest.approx(env.unwrapped.position)


def test_full_throttle_alone_never_reaches_the_goal():
    env = gym.make("SparseMountainCar-v0")
    env.reset(seed=0)
    for _ in range(500):
        _, reward, terminated, truncated, _ = env.step(np.ones(1, dtype=np.float32))
        assert reward == 0.0
    assert truncated and not terminated


def test_rocking_policy_reaches_the_goal():
    env = gym.make("SparseMountainCar-v0")
    obs, _ = env.reset(seed=0)
    for _ in range(500):
        obs, reward, terminated, _, _ = env.step(np.sign([obs[1] or 1.0]).astype(np.float32))
        if terminated:
            break
    assert reward == 1.0


@pytest.mark.parametrize(("position", "velocity", "match"), [(0.7, 0.0, "position"), (0.0, 0.1, "velocity")])
def test_set_state_rejects_out_of_range(position, velocity, match):
    with pytest.raises(ValueError, match=match):
        SparseMountainCarEnv().set_state(position, velocity)
