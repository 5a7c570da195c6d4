"""E3B against a brute-force computation: explicit covariance matrices, one per episode, solved directly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium import spaces

from curiosity.e3b import E3B, elliptical_bonuses

torch.set_num_threads(1)

OBS = spaces.Box(-5.0, 5.0, (4,), np.float32)
ACT = spaces.Box(-1.0, 1.0, (2,), np.float32)
SMALL = {"feature_dim": 5, "hidden_sizes": (16,), "hidden_dim": 16, "ridge": 0.3, "chunk_size": 2, "seed": 0}


def rollout(n_steps: int = 7, n_envs: int = 3, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Time-major ``(obs, actions, next_obs, dones)``; ``obs[t] = next_obs[t-1]`` except at episode starts."""
    rng = np.random.default_rng(seed)
    dones = np.zeros((n_steps, n_envs), dtype=bool)
    dones[2, 0] = dones[5, 0] = dones[3, 1] = True
    next_obs = rng.normal(size=(n_steps, n_envs, 4)).astype(np.float32)
    obs = np.empty_like(next_obs)
    obs[0] = rng.normal(size=(n_envs, 4))
    obs[1:] = np.where(dones[:-1, :, None], rng.normal(size=(n_steps - 1, n_envs, 4)), next_obs[:-1])
    return obs, rng.uniform(-1, 1, (n_steps, n_envs, 2)).astype(np.float32), next_obs, dones


def brute_force(bonus: E3B, obs: np.ndarray, next_obs: np.ndarray, dones: np.ndarray) -> np.ndarray:
    """``phi(s')^T C^{-1} phi(s')``, ``C = ridge I + sum of phi phi^T`` over the episode's earlier states."""
    def phi(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return bonus.model.embed(torch.as_tensor(x[None])).double().numpy()[0]

    out = np.zeros(dones.shape)
    for e in range(dones.shape[1]):
        cov = None
        for t in range(dones.shape[0]):
            if cov is None:  # episode start: s_0 enters C
                cov = bonus.ridge * np.eye(bonus.feature_dim) + np.outer(phi(obs[t, e]), phi(obs[t, e]))
            u = phi(next_obs[t, e])
            out[t, e] = u @ np.linalg.solve(cov, u)
            cov = None if dones[t, e] else cov + np.outer(u, u)
    return out


def test_batched_bonus_matches_explicit_covariances_in_every_layout() -> None:
    obs, actions, next_obs, dones = rollout()
    expected = brute_force(E3B(OBS, ACT, **SMALL), obs, next_obs, dones)
    flat = [x.reshape(21, *x.shape[2:]) for x in (obs, actions, next_obs)]
    whole = E3B(OBS, ACT, **SMALL).compute(*flat, dones=dones)  # rollout mode: (n_steps, n_envs) dones
    np.testing.assert_allclose(whole, expected.ravel(), rtol=1e-5)

    stepped = E3B(OBS, ACT, **SMALL)  # step mode: one row per env, memories carried by add
    for t in range(7):
        step = (obs[t], actions[t], next_obs[t])
        np.testing.assert_allclose(stepped.compute(*step, dones=dones[t]), expected[t], rtol=1e-5)
        stepped.add(*step, dones=dones[t])
    for e in range(3):  # one env's trajectory alone
        alone = E3B(OBS, ACT, **SMALL).compute(obs[:, e], actions[:, e], next_obs[:, e], dones[:, e, None])
        np.testing.assert_allclose(alone, expected[:, e], rtol=1e-5)


def test_rollout_continues_from_the_memories_of_the_previous_one() -> None:
    obs, actions, next_obs, dones = rollout(n_steps=8, n_envs=2, seed=3)
    expected = brute_force(E3B(OBS, ACT, **SMALL), obs, next_obs, dones)
    bonus = E3B(OBS, ACT, **SMALL)
    halves = [slice(0, 3), slice(3, 8)]
    for h in halves:
        flat = [x[h].reshape(-1, *x.shape[2:]) for x in (obs, actions, next_obs)]
        np.testing.assert_allclose(bonus.compute(*flat, dones=dones[h]), expected[h].ravel(), rtol=1e-5)
        bonus.add(*flat, dones=dones[h])


def test_repeated_embedding_follows_the_closed_form() -> None:
    # C = lambda I + n u u^T  =>  u^T C^{-1} u = r / (lambda + n r), r = |u|^2
    u = torch.tensor([[0.6, -0.8, 2.0]], dtype=torch.float64)
    b, inv = elliptical_bonuses(torch.eye(3, dtype=torch.float64) / 0.1, u.repeat(9, 1), chunk_size=4)
    r = float(u.square().sum())
    np.testing.assert_allclose(b.numpy(), [r / (0.1 + n * r) for n in range(9)], rtol=1e-10)
    cov = 0.1 * np.eye(3) + 9 * u.T.numpy() @ u.numpy()
    np.testing.assert_allclose(inv.numpy(), np.linalg.inv(cov), atol=1e-10)


def test_training_the_inverse_model_makes_the_embedding_see_the_action() -> None:
    # s' = s + [a, 0, 0]: only the first two coordinates move with the action
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(2000, 4)).astype(np.float32)
    actions = rng.uniform(-1, 1, (2000, 2)).astype(np.float32)
    next_obs = obs + np.pad(actions, ((0, 0), (0, 2)))
    settings = {**SMALL, "feature_dim": 8, "learning_rate": 3e-3, "batch_size": 64, "gradient_steps": 100}
    bonus = E3B(OBS, ACT, **settings)
    bonus.add(obs, actions, next_obs)
    first = bonus.train()["inverse_loss"]
    for _ in range(3):
        last = bonus.train()["inverse_loss"]
    assert last < 0.2 * first and last < 0.05, (first, last)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match=r"ridge must be a number in \(0.0, inf\), got 0"):
        E3B(OBS, ACT, ridge=0)
    with pytest.raises(ValueError, match="chunk_size must be an integer >= 1, got 0"):
        E3B(OBS, ACT, chunk_size=0)
    bonus = E3B(OBS, ACT, **SMALL)
    obs, actions, next_obs, _ = rollout()
    with pytest.raises(ValueError, match=r"dones must be None, of shape \(3,\)"):
        bonus.compute(obs[0], actions[0], next_obs[0], dones=np.zeros(4, bool))
