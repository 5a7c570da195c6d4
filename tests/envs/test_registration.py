"""Registration: ids, horizon, plugin-style re-registration, the ``module:id`` form."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest

import envs

ALL_IDS = list(envs.ENV_IDS)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_registered_with_horizon_500(env_id):
    assert gym.spec(env_id).max_episode_steps == 500


def test_register_envs_is_idempotent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        envs.register_envs()
        envs.register_envs()
    assert all(env_id in gym.registry for env_id in ALL_IDS)


def test_make_after_import_and_with_module_prefix():
    env = gym.make("SparseMountainCar-v0")
    assert env.spec.id == "SparseMountainCar-v0"
    env = gym.make("envs:SparseMountainCar-v0")
    assert env.spec.max_episode_steps == 500


def test_time_limit_truncates_at_500():
    env = gym.make("SparseMountainCar-v0")
    env.reset(seed=0)
    for t in range(500):
        _, reward, terminated, truncated, _ = env.step(np.zeros(1, dtype=np.float32))
        assert reward == 0.0 and not terminated
        assert truncated == (t == 499)
