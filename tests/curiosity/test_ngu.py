"""NGU against a brute-force run of the paper's Algorithm 1: one memory list per episode, step by step."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium import spaces

from curiosity.ngu import NGU

torch.set_num_threads(1)

OBS = spaces.Box(-5.0, 5.0, (3,), np.float32)
ACT = spaces.Discrete(3)
SMALL = {"feature_dim": 4, "hidden_sizes": (16,), "hidden_dim": 16, "rnd_feature_dim": 8, "k": 3, "seed": 0}


def rollout(n_steps: int = 9, n_envs: int = 3, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Time-major ``(obs, actions, next_obs, dones)``; ``obs[t] = next_obs[t-1]`` except at episode starts."""
    rng = np.random.default_rng(seed)
    dones = np.zeros((n_steps, n_envs), dtype=bool)
    dones[2, 0] = dones[6, 0] = dones[4, 1] = True
    next_obs = rng.normal(size=(n_steps, n_envs, 3)).astype(np.float32)
    next_obs[5, 2] = next_obs[3, 2]  # a revisited state: distance 0 to a neighbour
    obs = np.empty_like(next_obs)
    obs[0] = rng.normal(size=(n_envs, 3))
    obs[1:] = np.where(dones[:-1, :, None], rng.normal(size=(n_steps - 1, n_envs, 3)), next_obs[:-1])
    return obs, rng.integers(0, 3, (n_steps, n_envs)), next_obs, dones


def brute_force(bonus: NGU, obs: np.ndarray, next_obs: np.ndarray, dones: np.ndarray) -> np.ndarray:
    """Algorithm 1 per step with Python lists, times ``clip(1 + (err - mu) / sigma, 1, L)``."""

    def f(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return bonus.model.embed(torch.as_tensor(x[None])).double().numpy()[0]

    def err(x: np.ndarray) -> float:
        with torch.no_grad():
            return float(bonus.rnd.prediction_error(torch.as_tensor(x[None]))[0])

    mu, sigma = float(bonus.err_rms.mean), float(bonus.err_rms.std)
    out = np.zeros(dones.shape)
    for e in range(dones.shape[1]):
        memory, total, count = None, 0.0, 0
        for t in range(dones.shape[0]):
            if memory is None:
                memory = [f(obs[t, e])]
            x = f(next_obs[t, e])
            nearest = sorted(float(((x - m) ** 2).sum()) for m in memory[-bonus.memory_capacity :])[: bonus.k]
            total, count = total + sum(nearest), count + len(nearest)  # update d_m^2, then use it
            kernel = [
                bonus.kernel_epsilon
                / (max(d / (total / count) - bonus.cluster_distance, 0) + bonus.kernel_epsilon)
                for d in nearest
            ]
            s = np.sqrt(sum(kernel)) + bonus.pseudo_count_constant
            episodic = 0.0 if s > bonus.max_similarity else 1 / s
            alpha = 1 + (err(next_obs[t, e]) - mu) / sigma
            out[t, e] = episodic * min(max(alpha, 1), bonus.max_modulation)
            memory.append(x)
            if dones[t, e]:
                memory = None
    return out


@pytest.mark.parametrize(("capacity", "chunk_size"), [(30_000, 2), (3, 2), (2, 8), (3, 16)])
def test_episodic_reward_matches_algorithm_1_in_every_layout(capacity: int, chunk_size: int) -> None:
    """Chunks longer than the capacity too: a chunk's early states must drop out of the later ones' memory."""
    # max_modulation=1 fixes the lifelong factor at 1: add() moves its statistics between steps
    settings = {**SMALL, "memory_capacity": capacity, "max_modulation": 1.0, "chunk_size": chunk_size}
    obs, actions, next_obs, dones = rollout()
    expected = brute_force(NGU(OBS, ACT, **settings), obs, next_obs, dones)
    flat = [x.reshape(27, *x.shape[2:]) for x in (obs, actions, next_obs)]
    np.testing.assert_allclose(
        NGU(OBS, ACT, **settings).compute(*flat, dones=dones), expected.ravel(), rtol=1e-4
    )
    stepped = NGU(OBS, ACT, **settings)
    for t in range(9):
        step = (obs[t], actions[t], next_obs[t])
        np.testing.assert_allclose(stepped.compute(*step, dones=dones[t]), expected[t], rtol=1e-4)
        stepped.add(*step, dones=dones[t])
    for e in range(3):
        alone = NGU(OBS, ACT, **settings).compute(obs[:, e], actions[:, e], next_obs[:, e], dones[:, e, None])
        np.testing.assert_allclose(alone, expected[:, e], rtol=1e-4)


def test_lifelong_modulation_uses_the_error_statistics_of_added_transitions() -> None:
    obs, actions, next_obs, dones = rollout(seed=1)
    flat = [x.reshape(27, *x.shape[2:]) for x in (obs, actions, next_obs)]
    bonus = NGU(OBS, ACT, **SMALL)
    np.testing.assert_allclose(
        bonus.compute(*flat, dones=dones), brute_force(bonus, obs, next_obs, dones).ravel(), rtol=1e-4
    )
    with torch.no_grad():  # errors of the added next_obs before add (which also moves RND's input statistics)
        errors = bonus.rnd.prediction_error(torch.as_tensor(flat[2])).double().numpy()
    bonus.add(*flat, dones=dones)  # moves mu_e, sigma_e (and the memories: start over for the oracle)
    np.testing.assert_allclose(float(bonus.err_rms.mean), errors.mean(), rtol=1e-3)
    np.testing.assert_allclose(float(bonus.err_rms.std), errors.std(), rtol=1e-3)  # population std
    bonus.reset_episodes()
    expected = brute_force(bonus, obs, next_obs, dones)
    np.testing.assert_allclose(bonus.compute(*flat, dones=dones), expected.ravel(), rtol=1e-4)
    assert (expected > 0).all()


def test_a_state_among_many_copies_of_itself_gets_the_smallest_reward() -> None:
    x = np.ones((1, 3), np.float32)
    for s_max, expected in [(8.0, 1 / (np.sqrt(10) + 1e-3)), (3.0, 0.0)]:
        bonus = NGU(OBS, ACT, **{**SMALL, "k": 10, "max_modulation": 1.0, "max_similarity": s_max})
        bonus.add(np.repeat(x, 20, 0), np.zeros(20, np.int64), np.repeat(x, 20, 0))
        # ten neighbours at distance 0: K = 1 each, s = sqrt(10) + c; above s_max the reward is 0
        assert bonus.compute(x, np.zeros(1, np.int64), x)[0] == pytest.approx(expected, rel=1e-6, abs=1e-12)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match=r"max_modulation must be a number in \[1.0, inf\), got 0.5"):
        NGU(OBS, ACT, max_modulation=0.5)
    with pytest.raises(ValueError, match="k must be an integer >= 1, got 0"):
        NGU(OBS, ACT, k=0)
    with pytest.raises(ValueError, match="memory_capacity must be an integer >= 1"):
        NGU(OBS, ACT, memory_capacity=0)
