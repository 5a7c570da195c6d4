"""SparseHalfCheetah: reward beyond x = 5, x in the observation, no early termination."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the tasks)
from envs.half_cheetah import SparseHalfCheetahEnv


def step_from_x(x: float):
    env = gym.make("SparseHalfCheetah-v0")
    env.reset(seed=0)
    unwrapped = env.unwrapped
    qpos = unwrapped.init_qpos.copy()
    qpos[0] = x
    unwrapped.set_state(qpos, unwrapped.init_qvel.copy())
    return env.step(np.zeros(6, dtype=np.float32))


def test_beyond_goal_is_rewarded():
    obs, reward, terminated, _, info = step_from_x(6.0)
    assert (reward, terminated, info["is_success"]) == (1.0, False, True)
    assert obs[0] == pytest.approx(info["x_position"])  # the x position is the first observation
    assert "dense_reward" in info


def test_before_goal_gets_nothing():
    _, reward, terminated, _, info = step_from_x(4.0)
    assert (reward, terminated, info["is_success"]) == (0.0, False, False)


def test_never_terminates_early():
    env = gym.make("SparseHalfCheetah-v0")
    env.reset(seed=0)
    assert env.observation_space.shape == (18,)
    for _ in range(100):
        assert not env.step(env.action_space.sample())[2]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"goal_x": float("inf")}, "goal_x"), ({"exclude_current_positions_from_observation": True}, "exclude")],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SparseHalfCheetahEnv(**kwargs)
