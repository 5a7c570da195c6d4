"""SparseDoublePendulum: tip geometry, reward region, energy conservation."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the tasks)
from envs.double_pendulum import SparseDoublePendulumEnv, tip_position

ZERO = np.zeros(1, dtype=np.float32)
#: documented bound on the energy drift of the unforced, undamped pendulum over 500 steps (joules)
ENERGY_TOLERANCE = 1e-3


def make_env(**kwargs) -> gym.Env:
    env = gym.make("SparseDoublePendulum-v0", **kwargs)
    env.reset(seed=0)
    return env


def test_tip_positions():
    assert tip_position(0.0, 0.0) == pytest.approx((0.0, -2.0))
    assert tip_position(math.pi, 0.0) == pytest.approx((0.0, 2.0))
    assert tip_position(math.pi / 2, -math.pi / 2) == pytest.approx((1.0, -1.0))


def test_upright_is_rewarded():
    env = make_env()
    env.unwrapped.set_state(math.pi, 0.0)
    _, reward, terminated, _, info = env.step(ZERO)
    assert (reward, terminated, info["is_success"]) == (1.0, False, True)
    assert info["tip_distance"] < 0.1


@pytest.mark.parametrize(("theta1", "theta2"), [(0.0, 0.0), (math.pi / 2, 0.0), (math.pi, math.pi / 2)])
def test_hanging_or_sideways_gets_nothing(theta1, theta2):
    env = make_env()
    env.unwrapped.set_state(theta1, theta2)
    _, reward, terminated, _, info = env.step(ZERO)
    assert (reward, terminated, info["is_success"]) == (0.0, False, False)
    assert info["tip_distance"] > 1.0


def test_energy_is_conserved_without_torque_or_damping():
    env = make_env().unwrapped
    env.set_state(2.0, 1.0, 3.0, -2.0)  # whirling near the top: the hardest case for the integrator
    start = env.energy()
    drift = 0.0
    for _ in range(500):
        env.step(ZERO)
        drift = max(drift, abs(env.energy() - start))
    assert drift < ENERGY_TOLERANCE


def test_torque_pumps_energy_and_damping_removes_it():
    pumped = make_env().unwrapped
    start = pumped.energy()
    for _ in range(100):
        pumped.step(np.array([math.copysign(1.0, pumped.state[2])], dtype=np.float32))
    assert pumped.energy() > start + 1.0
    damped = make_env(damping=0.5).unwrapped
    damped.set_state(1.0, 0.5)
    start = damped.energy()
    for _ in range(100):
        damped.step(ZERO)
    assert damped.energy() < start - 0.1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_torque": 0.0}, "max_torque"),
        ({"damping": -1.0}, "damping"),
        ({"init_noise": -1.0}, "init_noise"),
    ],
)
def test_bad_parameters_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SparseDoublePendulumEnv(**kwargs)
