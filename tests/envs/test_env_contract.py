"""Generic checks run over every registered task: API checkers, seeding, spaces, rendering."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import envs

ALL_IDS = list(envs.ENV_IDS)
CLASSIC_IDS = ["SparseMountainCar-v0", "SparseCartPoleSwingup-v0", "SparseDoublePendulum-v0"]


def rollout(env: gym.Env, seed: int, n_steps: int) -> list:
    """Observations, rewards and flags of ``n_steps`` seeded random steps (resetting when an episode ends)."""
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    out = [obs]
    for _ in range(n_steps):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        out += [obs, reward, terminated, truncated]
        if terminated or truncated:
            out.append(env.reset()[0])
    return out


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_gymnasium_and_sb3_checkers(env_id):
    env = gym.make(env_id, render_mode="rgb_array").unwrapped
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if env_id not in CLASSIC_IDS:  # MuJoCo states are legitimately unbounded
            warnings.filterwarnings("ignore", message=".*infinity")
        gym_check_env(env)
        sb3_check_env(env, warn=True)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_same_seed_same_episode(env_id):
    first = rollout(gym.make(env_id), seed=3, n_steps=30)
    second = rollout(gym.make(env_id), seed=3, n_steps=30)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    other = rollout(gym.make(env_id), seed=4, n_steps=0)
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_observations_float32_inside_space_and_info(env_id):
    env = gym.make(env_id)
    assert env.observation_space.dtype == np.float32
    obs, info = env.reset(seed=0)
    assert info["is_success"] is False
    for _ in range(50):
        obs, reward, _, _, info = env.step(env.action_space.sample())
        assert obs.dtype == np.float32 and env.observation_space.contains(obs)
        assert isinstance(reward, float) and isinstance(info["is_success"], bool)


@pytest.mark.parametrize("env_id", ALL_IDS)
@pytest.mark.parametrize(("width", "height"), [(64, 64), (48, 32)])
def test_render_rgb_array_shape(env_id, width, height):
    env = gym.make(env_id, render_mode="rgb_array", width=width, height=height)
    env.reset(seed=0)
    env.step(env.action_space.sample())
    frame = env.render()
    assert frame.shape == (height, width, 3) and frame.dtype == np.uint8
    assert frame.std() > 0  # something was drawn
    env.close()


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_no_render_mode_renders_nothing(env_id):
    env = gym.make(env_id)
    env.reset(seed=0)
    assert env.unwrapped.render() is None


@pytest.mark.parametrize("env_id", ALL_IDS)
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"render_mode": "ansi"}, "render_mode"), ({"width": 0}, "width"), ({"height": 2.5}, "height")],
)
@pytest.mark.filterwarnings("ignore:.*render")
def test_bad_render_arguments_raise(env_id, kwargs, match):
    with pytest.raises(ValueError, match=match):
        gym.make(env_id, **kwargs)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_render_fps_matches_the_step_duration(env_id):
    # video recorders (gymnasium's RecordVideo) play frames at metadata["render_fps"]: one frame per step
    env = gym.make(env_id).unwrapped
    dt = getattr(env, "dt", None)
    if dt is None:
        pytest.skip("the env does not state its step duration")
    assert env.metadata["render_fps"] == round(1.0 / dt)
