"""RIDE against a brute-force computation: impacts over explicit per-episode visit counts."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium import spaces

from curiosity.ride import RIDE

torch.set_num_threads(1)

OBS = spaces.Box(-5.0, 5.0, (3,), np.float32)
ACT = spaces.Discrete(3)
SMALL = {"feature_dim": 6, "encoder_hidden_sizes": (16,), "hidden_dim": 16, "seed": 0}


def rollout(n_steps: int = 8, n_envs: int = 3, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Time-major ``(obs, actions, next_obs, dones)`` over 4 distinct states, so states repeat in episodes;
    ``obs[t] = next_obs[t-1]`` except at episode starts."""
    rng = np.random.default_rng(seed)
    states = rng.normal(size=(4, 3)).astype(np.float32)
    dones = np.zeros((n_steps, n_envs), dtype=bool)
    dones[2, 0] = dones[5, 0] = dones[4, 1] = True
    next_obs = states[rng.integers(0, 4, (n_steps, n_envs))]
    obs = np.empty_like(next_obs)
    obs[0] = states[rng.integers(0, 4, n_envs)]
    starts = states[rng.integers(0, 4, (n_steps - 1, n_envs))]
    obs[1:] = np.where(dones[:-1, :, None], starts, next_obs[:-1])
    return obs, rng.integers(0, 3, (n_steps, n_envs)), next_obs, dones


def brute_force(bonus: RIDE, obs: np.ndarray, next_obs: np.ndarray, dones: np.ndarray) -> np.ndarray:
    """``||phi(s') - phi(s)||_2 / sqrt(N_ep(s'))`` with ``N_ep`` counted in a dict per episode."""

    def phi(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return bonus.features(torch.as_tensor(x[None])).numpy()[0]

    out = np.zeros(dones.shape)
    for e in range(dones.shape[1]):
        counts = None
        for t in range(dones.shape[0]):
            if counts is None:
                counts = {tuple(obs[t, e]): 1}
            key = tuple(next_obs[t, e])
            counts[key] = counts.get(key, 0) + 1
            out[t, e] = np.linalg.norm(phi(next_obs[t, e]) - phi(obs[t, e])) / np.sqrt(counts[key])
            if dones[t, e]:
                counts = None
    return out


def test_bonus_matches_impact_over_episodic_counts_in_every_layout() -> None:
    obs, actions, next_obs, dones = rollout()
    expected = brute_force(RIDE(OBS, ACT, **SMALL), obs, next_obs, dones)
    assert (expected < expected.max()).any()  # some states were revisited: counts matter here
    flat = [x.reshape(24, *x.shape[2:]) for x in (obs, actions, next_obs)]
    np.testing.assert_allclose(
        RIDE(OBS, ACT, **SMALL).compute(*flat, dones=dones), expected.ravel(), rtol=1e-5
    )
    stepped = RIDE(OBS, ACT, **SMALL)
    for t in range(8):
        step = (obs[t], actions[t], next_obs[t])
        np.testing.assert_allclose(stepped.compute(*step, dones=dones[t]), expected[t], rtol=1e-5)
        stepped.add(*step, dones=dones[t])
    for e in range(3):
        alone = RIDE(OBS, ACT, **SMALL).compute(obs[:, e], actions[:, e], next_obs[:, e], dones[:, e, None])
        np.testing.assert_allclose(alone, expected[:, e], rtol=1e-5)


def test_grid_counts_merge_nearby_states() -> None:
    bonus = RIDE(OBS, ACT, count_resolution=1.0, **SMALL)
    obs = np.array([[0.1, 0.1, 0.1], [0.2, 0.3, 0.4]], np.float32)
    next_obs = np.array([[0.2, 0.3, 0.4], [0.9, 0.8, 0.7]], np.float32)  # all in the cell [0, 1)^3
    with torch.no_grad():
        impact = (bonus.features(torch.as_tensor(next_obs)) - bonus.features(torch.as_tensor(obs))).norm(
            dim=1
        )
    # s_0 and both next states share one cell: counts 2 then 3
    np.testing.assert_allclose(
        bonus.compute(obs, np.zeros(2), next_obs), impact.numpy() / np.sqrt([2, 3]), rtol=1e-6
    )
    exact = RIDE(OBS, ACT, **SMALL)  # exact counts: distinct states, except a return to s_0
    back = np.array([[0.2, 0.3, 0.4], [0.1, 0.1, 0.1]], np.float32)
    with torch.no_grad():
        impact = (exact.features(torch.as_tensor(back)) - exact.features(torch.as_tensor(obs))).norm(dim=1)
    np.testing.assert_allclose(
        exact.compute(obs, np.zeros(2), back), impact.numpy() / np.sqrt([1, 2]), rtol=1e-6
    )


def test_uint8_frames_are_counted_by_their_pixels() -> None:
    frames = spaces.Box(0, 255, (8, 8, 3), np.uint8)
    bonus = RIDE(frames, ACT, **SMALL)
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    obs, next_obs = np.stack([a, b, a]), np.stack([b, a, b])  # a -> b -> a -> b within one episode
    got = bonus.compute(obs, np.zeros(3, np.int64), next_obs)
    with torch.no_grad():
        impact = (bonus.features(torch.as_tensor(next_obs)) - bonus.features(torch.as_tensor(obs))).norm(
            dim=1
        )
    np.testing.assert_allclose(got, impact.numpy() / np.sqrt([1, 2, 2]), rtol=1e-5)


def test_forward_loss_is_the_euclidean_norm_and_reaches_the_features() -> None:
    bonus = RIDE(OBS, ACT, **SMALL)
    obs, actions, next_obs, _ = rollout()
    o, a, n = (torch.as_tensor(x.reshape(24, *x.shape[2:])) for x in (obs, actions, next_obs))
    a = torch.nn.functional.one_hot(a, 3).float()
    _, forward, _ = bonus.losses(o, a, n)
    phi, phi_next = bonus.features(o), bonus.features(n)
    expected = (bonus.forward_model(torch.cat([phi, a], dim=1)) - phi_next).norm(dim=1)
    torch.testing.assert_close(forward, expected)
    forward.sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in bonus.phi.parameters())
    assert bonus.beta == pytest.approx(10 / 10.1) and bonus.learning_rate == 1e-4 and bonus.eta == 0.5


def test_bad_count_resolution_is_refused() -> None:
    with pytest.raises(ValueError, match=r"count_resolution must be a number in \(0.0, inf\), got -1"):
        RIDE(OBS, ACT, count_resolution=-1)
