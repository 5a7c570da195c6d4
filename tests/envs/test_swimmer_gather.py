"""SwimmerGather: object layout, catching apples and bombs, range sensors."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the tasks)
from envs.swimmer_gather import APPLE, BOMB, SwimmerGatherEnv

ZERO = np.zeros(2, dtype=np.float32)


def make_env(**kwargs) -> SwimmerGatherEnv:
    env = gym.make("SwimmerGather-v0", **kwargs)
    env.reset(seed=0)
    return env


def place(env, objects, heading: float = 0.0) -> np.ndarray:
    """Swimmer at rest with heading ``heading``, centre of mass near the origin; returns the observation."""
    qpos = np.zeros(5)
    qpos[2] = heading
    return env.unwrapped.set_state(qpos, np.zeros(5), objects)


def test_reset_lays_out_eight_apples_and_eight_bombs_on_the_grid():
    env = make_env().unwrapped
    assert [t for *_, t in env.objects].count(APPLE) == 8 and len(env.objects) == 16
    positions = {(x, y) for x, y, _ in env.objects}
    assert len(positions) == 16
    assert all(x in range(-6, 5, 2) and y in range(-6, 5, 2) and x * x + y * y >= 4 for x, y in positions)
    assert env.observation_space.shape == (33,)


def test_apple_and_bomb_are_caught():
    env = make_env()
    com = env.unwrapped.robot_position()
    place(env, [(com[0] + 0.3, com[1], APPLE), (5.0, 5.0, BOMB)])
    _, reward, terminated, _, info = env.step(ZERO)
    assert (reward, terminated, info["is_success"], info["apples"]) == (1.0, False, True, 1)
    com = env.unwrapped.robot_position()
    place(env, [(com[0], com[1] + 0.3, BOMB)])
    _, reward, terminated, _, info = env.step(ZERO)
    assert (reward, terminated, info["is_success"], info["bombs"]) == (-1.0, True, False, 1)


def test_far_objects_are_not_caught():
    env = make_env()
    place(env, [(4.0, 4.0, APPLE), (-4.0, 4.0, BOMB)])
    _, reward, terminated, _, _ = env.step(ZERO)
    assert (reward, terminated) == (0.0, False)


def test_sensor_readings_bins_and_occlusion():
    env = make_env().unwrapped
    place(env, [])
    x, y = env.robot_position()
    ahead = (x + 3.0, y, APPLE)  # straight ahead at half the range: the bin just left of centre
    left = (x, y + 1.5, BOMB)  # 90 degrees to the left: the last bin
    farther_bomb = (x + 4.5, y, BOMB)  # behind the apple, but bombs have their own bins
    behind = (x - 2.0, y, APPLE)  # outside the 180-degree span
    place(env, [ahead, left, farther_bomb, behind])
    apple, bomb = env.readings()
    assert apple[5] == pytest.approx(0.5, abs=1e-6) and apple.sum() == pytest.approx(apple[5])
    assert bomb[9] == pytest.approx(0.75, abs=1e-6)
    assert bomb[5] == pytest.approx(0.25, abs=1e-6)
    place(env, [(x + 4.5, y, APPLE), (x + 1.5, y, APPLE)])
    apple, _ = env.readings()
    assert apple[5] == pytest.approx(0.75, abs=1e-6)  # the nearer apple hides the farther one


def test_sensors_turn_with_the_swimmer():
    env = make_env().unwrapped
    obs = place(env, [(0.0, 3.0, APPLE)], heading=math.pi / 2)
    x, y = env.robot_position()
    assert abs(x) < 0.5 and abs(y) < 0.5
    assert np.argmax(obs[13:23]) in (4, 5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_apples": -1}, "n_apples"),
        ({"n_bins": 0}, "n_bins"),
        ({"sensor_span": 7.0}, "sensor_span"),
        ({"n_apples": 30}, "grid points"),
    ],
)
def test_bad_parameters_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SwimmerGatherEnv(**kwargs)
