"""Intrinsic Curiosity Module: inverse model on a known system, detached forward loss, the bonus's formula."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium import spaces

from curiosity.icm import ICM

torch.set_num_threads(1)

DIM = 6
VEC = spaces.Box(-10.0, 10.0, (DIM,), np.float32)
SMALL = {"feature_dim": 16, "encoder_hidden_sizes": (32,), "hidden_dim": 32, "seed": 0}


def linear_system(n: int, action_space: spaces.Space, seed: int) -> tuple[np.ndarray, ...]:
    """``s' = s + B a`` with a fixed full-rank ``B``; ``a`` one-hot for ``Discrete``."""
    rng = np.random.default_rng(seed)
    b = np.random.default_rng(1234).normal(size=(DIM, 4)).astype(np.float32)
    obs = rng.normal(size=(n, DIM)).astype(np.float32)
    if isinstance(action_space, spaces.Discrete):
        actions = rng.integers(0, 4, n)
        encoded = np.eye(4, dtype=np.float32)[actions]
    else:
        actions = rng.uniform(-1, 1, (n, 4)).astype(np.float32)
        encoded = actions
    return obs, actions, obs + encoded @ b.T


def test_inverse_model_recovers_discrete_actions_of_a_deterministic_system() -> None:
    icm = ICM(VEC, spaces.Discrete(4), batch_size=64, gradient_steps=50, **SMALL)
    icm.add(*linear_system(2000, icm.action_space, seed=0))
    for _ in range(4):
        metrics = icm.train()
    obs, actions, next_obs = linear_system(500, icm.action_space, seed=1)
    accuracy = (icm.predict_actions(obs, next_obs) == actions).mean()
    assert accuracy > 0.97, (accuracy, metrics)
    assert metrics["inverse_accuracy"] > 0.9


def test_inverse_model_regresses_box_actions_of_a_deterministic_system() -> None:
    icm = ICM(VEC, spaces.Box(-1.0, 1.0, (4,), np.float32), batch_size=64, gradient_steps=50, **SMALL)
    icm.add(*linear_system(2000, icm.action_space, seed=0))
    for _ in range(4):
        metrics = icm.train()
    obs, actions, next_obs = linear_system(500, icm.action_space, seed=1)
    mse = ((icm.predict_actions(obs, next_obs) - actions) ** 2).mean()
    assert mse < 0.05 * actions.var(), (mse, metrics)  # explains over 95% of the actions' variance


def test_discrete_action_spaces_with_an_offset_start() -> None:
    icm = ICM(VEC, spaces.Discrete(4, start=1), **SMALL)
    obs, actions, next_obs = linear_system(5, spaces.Discrete(4), seed=0)
    assert icm.compute(obs, actions + 1, next_obs).shape == (5,)
    assert set(icm.predict_actions(obs, next_obs)) <= {1, 2, 3, 4}


def test_bonus_is_half_the_squared_forward_error_in_feature_space() -> None:
    icm = ICM(VEC, spaces.Discrete(4), **SMALL)
    obs, actions, next_obs = linear_system(8, icm.action_space, seed=0)
    with torch.no_grad():
        phi = icm.phi(torch.as_tensor(obs))
        phi_next = icm.phi(torch.as_tensor(next_obs))
        onehot = torch.eye(4)[torch.as_tensor(actions)]
        pred = icm.forward_model(torch.cat([phi, onehot], 1))
    expected = 0.5 * ((pred - phi_next) ** 2).sum(1).numpy()
    np.testing.assert_allclose(icm.compute(obs, actions, next_obs), expected, rtol=1e-5)


@pytest.mark.parametrize("detach", [True, False])
def test_forward_loss_reaches_the_features_only_when_not_detached(detach: bool) -> None:
    icm = ICM(VEC, spaces.Discrete(4), detach_forward_features=detach, **SMALL)
    obs, _, next_obs = linear_system(8, icm.action_space, seed=0)
    actions = torch.eye(4)[torch.arange(8) % 4]
    _, forward, _ = icm.losses(torch.as_tensor(obs), actions, torch.as_tensor(next_obs))
    forward.mean().backward()
    grads = [p.grad for p in icm.phi.parameters()]
    reached = any(g is not None and g.abs().sum() > 0 for g in grads)
    assert reached is (not detach)
    assert all(p.grad is not None for p in icm.forward_model.parameters())


def test_training_minimises_the_weighted_sum_of_inverse_and_forward_losses() -> None:
    icm = ICM(VEC, spaces.Discrete(4), beta=0.2, gradient_steps=1, batch_size=32, **SMALL)
    icm.add(*linear_system(32, icm.action_space, seed=0))
    metrics = icm.train()
    assert metrics["loss"] == pytest.approx(0.8 * metrics["inverse_loss"] + 0.2 * metrics["forward_loss"])


def test_images_with_the_default_cnn_lose_the_bonus_of_a_repeated_transition() -> None:
    space = spaces.Box(0, 255, (16, 16, 3), np.uint8)
    icm = ICM(
        space, spaces.Discrete(3), feature_dim=16, hidden_dim=32, batch_size=16, gradient_steps=2, seed=0
    )
    assert isinstance(icm.phi[1][0], torch.nn.Conv2d) and isinstance(icm.phi[1][1], torch.nn.ELU)
    space.seed(0)
    frames = np.stack([space.sample() for _ in range(10)])
    seen = (frames[:1].repeat(16, 0), np.zeros(16, int), frames[1:2].repeat(16, 0))
    novel = (frames[2:6], np.array([0, 1, 2, 1]), frames[6:10])
    icm.add(frames[:5], np.arange(5) % 3, frames[5:])
    start = icm.compute(*(x[:1] for x in seen))[0]
    # the features first grow as the inverse model learns (the bonus rises), then the forward model catches up
    for _ in range(60):
        icm.add(*seen)
        icm.train()
    end = icm.compute(*(x[:1] for x in seen))[0]
    assert end < 0.5 * start
    assert np.median(icm.compute(*novel)) > 2 * end


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"beta": 1.5}, r"beta must be a number in \[0.0, 1.0\], got 1.5"),
        ({"beta": -0.1}, "beta must be a number"),
        ({"feature_dim": 0}, "feature_dim must be an integer >= 1, got 0"),
        ({"hidden_dim": -3}, "hidden_dim must be an integer >= 1"),
        ({"encoder_hidden_sizes": "64"}, "encoder_hidden_sizes must be a sequence of positive integers"),
        ({"learning_rate": 0}, "learning_rate must be a number"),
        ({"batch_size": 0}, "batch_size must be an integer >= 1"),
    ],
)
def test_bad_hyperparameters_raise(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ICM(VEC, spaces.Discrete(4), **kwargs)


def test_bad_actions_raise() -> None:
    icm = ICM(VEC, spaces.Discrete(4), **SMALL)
    obs, _, next_obs = linear_system(3, icm.action_space, seed=0)
    with pytest.raises(ValueError, match=r"Discrete actions must lie in \[0, 4\)"):
        icm.compute(obs, np.array([0, 1, 4]), next_obs)
    box = ICM(VEC, spaces.Box(-1.0, 1.0, (4,), np.float32), **SMALL)
    with pytest.raises(ValueError, match=r"actions must have shape \(3, 4\)"):
        box.add(obs, np.zeros((3, 2)), next_obs)
