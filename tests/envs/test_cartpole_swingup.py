"""SparseCartPoleSwingup: reward region, track limit, energy conservation, friction."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the tasks)
from envs.cartpole_swingup import SparseCartPoleSwingupEnv, cartpole_derivatives

ZERO = np.zeros(1, dtype=np.float32)
#: documented bound on the energy drift of the unforced, frictionless cart-pole over 500 steps (joules)
ENERGY_TOLERANCE = 1e-6


def make_env(**kwargs) -> gym.Env:
    env = gym.make("SparseCartPoleSwingup-v0", **kwargs)
    env.reset(seed=0)
    return env


def test_starts_hanging_down():
    obs, _ = gym.make("SparseCartPoleSwingup-v0").reset(seed=0)
    assert obs[2] < -0.99  # cos(theta) close to -1


def test_upright_inside_track_is_rewarded():
    env = make_env()
    env.unwrapped.set_state(2.5, 0.0, 0.1, 0.0)
    _, reward, terminated, _, info = env.step(ZERO)
    assert (reward, terminated, info["is_success"]) == (1.0, False, True)


def test_upright_outside_track_gets_nothing_and_terminates():
    env = make_env()
    env.unwrapped.set_state(3.2, 0.0, 0.0, 0.0)
    _, reward, terminated, _, info = env.step(ZERO)
    assert (reward, terminated, info["is_success"]) == (0.0, True, False)


@pytest.mark.parametrize("theta", [math.pi, math.pi / 2, 0.7])  # cos(0.7) = 0.76 < 0.8
def test_not_upright_enough_gets_nothing(theta):
    env = make_env()
    env.unwrapped.set_state(0.0, 0.0, theta, 0.0)
    _, reward, terminated, _, _ = env.step(ZERO)
    assert math.cos(env.unwrapped.state[2]) <= 0.8
    assert (reward, terminated) == (0.0, False)


def test_energy_is_conserved_without_force_or_friction():
    env = make_env().unwrapped
    env.set_state(0.0, 1.0, 2.0, 3.0)
    start = env.energy()
    drift = 0.0
    for _ in range(500):
        env.step(ZERO)
        drift = max(drift, abs(env.energy() - start))
    assert drift < ENERGY_TOLERANCE


def test_friction_dissipates_energy():
    env = make_env(cart_friction=0.5, pole_friction=0.01).unwrapped
    env.set_state(0.0, 1.0, 2.0, 3.0)
    start = env.energy()
    for _ in range(100):
        env.step(ZERO)
    assert env.energy() < start - 0.1


def test_equations_match_gymnasium_cartpole_without_friction():
    # gymnasium's CartPole uses the same constants and Barto's closed form for the accelerations
    state, force = (0.3, -0.5, 0.4, 1.2), 7.0
    _, x_acc, _, theta_acc = cartpole_derivatives(state, force, 0.0, 0.0)
    total, ml, sin, cos = 1.1, 0.05, math.sin(0.4), math.cos(0.4)
    temp = (force + ml * 1.2**2 * sin) / total
    expected_theta_acc = (9.8 * sin - cos * temp) / (0.5 * (4 / 3 - 0.1 * cos**2 / total))
    assert theta_acc == pytest.approx(expected_theta_acc)
    assert x_acc == pytest.approx(temp - ml * expected_theta_acc * cos / total)


@pytest.mark.parametrize("name", ["cart_friction", "pole_friction", "init_noise"])
def test_negative_parameters_raise(name):
    with pytest.raises(ValueError, match=name):
        SparseCartPoleSwingupEnv(**{name: -0.1})


def test_set_state_rejects_non_finite():
    with pytest.raises(ValueError, match="finite"):
        SparseCartPoleSwingupEnv().set_state(0.0, float("nan"), 0.0, 0.0)
