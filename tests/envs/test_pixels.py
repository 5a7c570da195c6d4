"""Pixel tasks: shapes, dtypes, stacking and greyscale against the state task's renderer, seeds, check_env."""

from __future__ import annotations

import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.env_checker import check_env

import envs  # noqa: F401  (registers the ids)
from envs.pixels import MINIGRID_IDS, PIXEL_ENV_IDS, PixelObservation, make_minigrid_pixel_env, to_grayscale

CLASSIC_IDS = [i for i in PIXEL_ENV_IDS if i not in MINIGRID_IDS]


@pytest.mark.parametrize("env_id", list(PIXEL_ENV_IDS))
def test_default_frames_are_64x64_rgb_uint8(env_id):
    env = gym.make(env_id)
    obs, info = env.reset(seed=0)
    assert env.observation_space == gym.spaces.Box(0, 255, (64, 64, 3), np.uint8)
    assert obs.shape == (64, 64, 3) and obs.dtype == np.uint8 and env.observation_space.contains(obs)
    obs, _, _, _, info = env.step(env.action_space.sample())
    assert env.observation_space.contains(obs) and "is_success" in info
    assert obs.std() > 0  # something is drawn


def test_info_keys_of_the_state_task_pass_through():
    env = gym.make("PixelSparseMountainCar-v0")
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.array([1.0], np.float32))
    assert {"position", "velocity", "is_success"} <= set(info)
    assert gym.make("PixelSparseMountainCar-v0").spec.id == "PixelSparseMountainCar-v0"


def test_stacked_frames_are_the_renderer_frames_oldest_first():
    kwargs = {"width": 48, "height": 32}
    pixel = gym.make("PixelSparseCartPoleSwingup-v0", frame_stack=3, **kwargs)
    state = gym.make("SparseCartPoleSwingup-v0", render_mode="rgb_array", **kwargs)
    obs, _ = pixel.reset(seed=5)
    state.reset(seed=5)
    first = state.render()
    assert obs.shape == (32, 48, 9)
    np.testing.assert_array_equal(obs, np.concatenate([first] * 3, axis=-1))  # reset repeats the frame
    renders = [first]
    for _ in range(8):
        action = np.array([1.0], np.float32)
        obs, *_ = pixel.step(action)
        state.step(action)
        renders.append(state.render())
    np.testing.assert_array_equal(obs, np.concatenate(renders[-3:], axis=-1))
    assert not np.array_equal(renders[0], renders[-1])


def test_grayscale_uses_bt601_luma():
    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]]], np.uint8)
    np.testing.assert_array_equal(to_grayscale(rgb)[0, :, 0], [76, 150, 29, 255])
    env = gym.make("PixelSparseMountainCar-v0", grayscale=True, frame_stack=2)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (64, 64, 2) and env.observation_space.shape == (64, 64, 2)
    render = env.unwrapped.render()
    np.testing.assert_array_equal(obs[..., :1], to_grayscale(render))


@pytest.mark.parametrize("env_id", [CLASSIC_IDS[0], MINIGRID_IDS[0]])
def test_same_seed_same_frames(env_id):
    def rollout(seed):
        env = gym.make(env_id)
        env.action_space.seed(seed)
        frames = [env.reset(seed=seed)[0]]
        frames += [env.step(env.action_space.sample())[0] for _ in range(10)]
        return np.stack(frames)

    np.testing.assert_array_equal(rollout(3), rollout(3))


def test_different_seeds_give_different_doorkey_layouts():
    env = gym.make("PixelDoorKey-v0")
    firsts = {env.reset(seed=s)[0].tobytes() for s in range(5)}
    assert len(firsts) > 1


@pytest.mark.parametrize("env_id", ["PixelSparseMountainCar-v0", "PixelDoorKey-v0"])
def test_sb3_check_env(env_id):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(gym.make(env_id), warn=True)


def test_minigrid_resize_and_success_flag():
    env = gym.make("PixelMultiRoom-v0", width=40, height=24, grayscale=True)
    obs, info = env.reset(seed=0)
    assert obs.shape == (24, 40, 1) and info["is_success"] is False
    assert isinstance(env.action_space, gym.spaces.Discrete)


def test_bad_arguments_raise_clear_errors(monkeypatch):
    with pytest.raises(ValueError, match="frame_stack must be an integer >= 1, got 0"):
        gym.make("PixelSparseMountainCar-v0", frame_stack=0)
    with pytest.raises(ValueError, match="width must be a positive integer"):
        gym.make("PixelSparseMountainCar-v0", width=0)
    with pytest.raises(ValueError, match="render_mode='rgb_array'"):
        PixelObservation(gym.make("SparseMountainCar-v0"))
    with pytest.raises(ValueError, match="observations must be RGB frames"):
        PixelObservation(gym.make("SparseMountainCar-v0"), from_render=False)
    monkeypatch.setitem(sys.modules, "minigrid", None)
    with pytest.raises(ImportError, match=r"vime-curiosity\[minigrid\]"):
        make_minigrid_pixel_env("MiniGrid-DoorKey-5x5-v0")


def _cheetah_pixels(frame: np.ndarray) -> int:
    """Pixels of the cheetah's orange/pink body (red well above blue; the floor and sky are grey/green)."""
    frame = frame.astype(int)
    return int((frame[..., 0] - frame[..., 2] > 60).sum())


@pytest.mark.parametrize(("camera", "visible_at_goal"), [("track", True), (None, False)])
def test_half_cheetah_stays_in_view_of_the_tracking_camera_only(camera, visible_at_goal):
    env = gym.make("PixelSparseHalfCheetah-v0", camera_name=camera)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (64, 64, 3) and _cheetah_pixels(obs) > 20
    sim = env.unwrapped
    qpos = sim.data.qpos.copy()
    qpos[0] = 8.0  # carry the cheetah past the goal (x > 5)
    sim.set_state(qpos, sim.data.qvel.copy())
    obs, _, _, _, info = env.step(np.zeros(6, np.float32))
    assert info["is_success"]
    assert (_cheetah_pixels(obs) > 20) == visible_at_goal
