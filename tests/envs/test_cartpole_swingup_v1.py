"""SparseCartPoleSwingup-v1: rllab's model, VIME's reward/done rules and reset, cart-pole closed forms."""

from __future__ import annotations

import math
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs  # noqa: F401  (registers the tasks)
from envs.cartpole_swingup_v1 import CART_HEIGHT, SparseCartPoleSwingupV1Env

ZERO = np.zeros(1, dtype=np.float32)
UPRIGHT_LIMIT = math.acos(0.8)  # 0.6435 rad
# the model's masses and the pole's inertia about its centre (a 0.1 x 1 m plate), for the closed forms
CART_MASS, POLE_MASS, HALF = 1.0, 0.1, 0.5
POLE_INERTIA = POLE_MASS * (1.0**2 + 0.1**2) / 12


def frozen_env(x: float, theta: float) -> SparseCartPoleSwingupV1Env:
    """A consistent state at rest without gravity: a zero action leaves it there."""
    env = SparseCartPoleSwingupV1Env()
    env.reset(seed=0)
    env.world.gravity = (0.0, 0.0)
    env.set_state(x, 0.0, theta, 0.0)
    return env


def test_model_is_rllab_xml():
    env = SparseCartPoleSwingupV1Env()
    env.reset(seed=0)
    assert CART_HEIGHT == pytest.approx(3 / math.sqrt(12))
    assert env.cart.mass == pytest.approx(CART_MASS, rel=1e-6)  # (4/sqrt 12)(3/sqrt 12) m^2 at density 1
    assert env.pole.mass == pytest.approx(POLE_MASS, rel=1e-6)
    assert tuple(env.pole.localCenter) == pytest.approx((0.0, 0.5))  # the pole rises from its hinge
    assert env.pole.inertia == pytest.approx(POLE_INERTIA + POLE_MASS * HALF**2, rel=1e-5)  # about the hinge
    assert (env.timestep, env.frame_skip, env.velocity_iterations, env.position_iterations) == (0.05, 1, 8, 3)
    for _ in range(30):
        env.step(np.ones(1, dtype=np.float32))
    assert len(env.world.joints) == 2 and not env.world.contacts  # nothing ever touches


@pytest.mark.parametrize(
    ("x", "theta", "reward", "terminated"),
    [
        (0.0, 0.0, 1.0, False),
        (0.0, UPRIGHT_LIMIT - 0.01, 1.0, False),  # cos just above 0.8
        (0.0, UPRIGHT_LIMIT + 0.01, 0.0, False),  # cos just below 0.8
        (0.0, -(UPRIGHT_LIMIT - 0.01), 1.0, False),
        (0.0, 2 * math.pi + 0.1, 1.0, False),  # one full turn: the raw angle still counts as upright
        (0.0, math.pi, 0.0, False),
        (2.99, 0.0, 1.0, False),
        (3.0, 0.0, 1.0, False),  # done only beyond 3
        (3.01, 0.0, 0.0, True),  # off the track: done, and no reward even when upright
        (-3.01, 0.0, 0.0, True),
    ],
)
def test_reward_and_termination_rules(x, theta, reward, terminated):
    env = frozen_env(x, theta)
    obs, r, term, trunc, info = env.step(ZERO)
    np.testing.assert_allclose(obs, [x, 0.0, theta, 0.0], atol=1e-5)  # nothing moved; theta is raw
    assert (r, term, trunc, info["is_success"]) == (reward, terminated, False, reward > 0)


@pytest.mark.parametrize(
    ("action", "force"), [(1.0, 10.0), (-1.0, -10.0), (0.25, 2.5), (2.0, 10.0), (-5.0, -10.0)]
)
def test_one_step_response_to_a_push_matches_the_cart_pole_equations(action, force):
    # upright, at rest, no gravity: (M + m) x'' - m l theta'' = F and -m l x'' + (I + m l^2) theta'' = 0
    # (Box2D's theta is counter-clockwise: the pole leans back, to +theta, when the cart is pushed to +x)
    env = frozen_env(0.0, 0.0)
    obs, *_ = env.step(np.array([action], dtype=np.float32))
    hinge_inertia = POLE_INERTIA + POLE_MASS * HALF**2
    x_acc = force / (CART_MASS + POLE_MASS - (POLE_MASS * HALF) ** 2 / hinge_inertia)
    theta_acc = POLE_MASS * HALF * x_acc / hinge_inertia
    assert obs[1] == pytest.approx(x_acc * 0.05, rel=1e-4)
    assert obs[3] == pytest.approx(theta_acc * 0.05, rel=1e-4)


def test_small_oscillation_period_of_the_hanging_pole():
    # linearised about hanging, free cart: omega^2 = m g l (M + m) / ((M + m)(I + m l^2) - (m l)^2)
    total = CART_MASS + POLE_MASS
    hinge_inertia = POLE_INERTIA + POLE_MASS * HALF**2
    omega = math.sqrt(POLE_MASS * 10 * HALF * total / (total * hinge_inertia - (POLE_MASS * HALF) ** 2))
    env = SparseCartPoleSwingupV1Env()
    env.reset(seed=0)
    env.set_state(0.0, 0.0, math.pi + 0.05, 0.0)
    swing = np.array([env.step(ZERO)[0][2] - math.pi for _ in range(320)])  # about 10 periods
    crossings = np.flatnonzero(np.sign(swing[1:]) != np.sign(swing[:-1]))
    times = (crossings + swing[crossings] / (swing[crossings] - swing[crossings + 1])) * 0.05
    assert 2 * np.mean(np.diff(times)) == pytest.approx(2 * math.pi / omega, rel=0.01)


def test_reset_distribution_and_the_broken_joint_quirk():
    env = SparseCartPoleSwingupV1Env()
    starts = []
    for seed in range(1000):
        obs, _ = env.reset(seed=seed)
        starts.append(obs)
    # the original moves the cart only: the pole's body stays at (0, h), at rest
    assert tuple(env.pole.position) == pytest.approx((0.0, CART_HEIGHT))
    assert tuple(env.pole.linearVelocity) == (0.0, 0.0)
    starts = np.array(starts)
    low, high = np.array([-1, -2, math.pi - 1, -3]), np.array([1, 2, math.pi + 1, 3])
    assert np.all(starts >= low - 1e-6) and np.all(starts <= high + 1e-6)
    half_width = (high - low) / 2
    assert np.all(starts.min(axis=0) < low + 0.02 * half_width) and np.all(
        starts.max(axis=0) > high - 0.02 * half_width
    )
    # U(low, high): mean the midpoint (standard error 0.018 half-widths here), std half-width / sqrt(3)
    assert np.all(np.abs(starts.mean(axis=0) - (low + high) / 2) < 0.1 * half_width)
    np.testing.assert_allclose(starts.std(axis=0), half_width / math.sqrt(3), rtol=0.06)


def test_the_first_step_closes_the_broken_joint():
    env = SparseCartPoleSwingupV1Env()
    env.reset(seed=3)
    assert abs(env.cart.position[0]) > 0.3  # this seed starts the cart well away from the pole's body
    env.step(ZERO)
    hinge = env.cart.GetWorldPoint((0.0, CART_HEIGHT / 2))
    assert math.dist(env.pole.position, hinge) < 0.01  # Box2D's position solver closed the gap


def test_same_seed_same_episode_whatever_ran_before():
    actions = np.random.default_rng(0).uniform(-1, 1, size=(40, 1)).astype(np.float32)
    used = SparseCartPoleSwingupV1Env()
    used.reset(seed=5)
    for action in actions:
        used.step(action)
    trajectories = []
    for env in (SparseCartPoleSwingupV1Env(), used):
        obs, _ = env.reset(seed=11)
        trajectories.append([obs] + [env.step(a)[0] for a in actions])
    np.testing.assert_array_equal(np.array(trajectories[0]), np.array(trajectories[1]))


def test_passes_gymnasium_check_env():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(gym.make("SparseCartPoleSwingup-v1").unwrapped)


def test_set_state_rejects_non_finite_values():
    with pytest.raises(ValueError, match=r"the state \(x, x_dot, theta, theta_dot\) must be finite"):
        SparseCartPoleSwingupV1Env().set_state(0.0, math.nan, 0.0, 0.0)


def test_random_policy_almost_never_gets_a_reward():
    # reference: 0 of 1,000 episodes on an independent replica (the -v0 port: 24 of 1,000)
    env = gym.make("SparseCartPoleSwingup-v1")
    env.action_space.seed(0)
    rewarded = 0
    for episode in range(1000):
        env.reset(seed=episode)
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            total, done = total + reward, terminated or truncated
        rewarded += total > 0
    assert rewarded <= 3
