"""The synthetic rollouts that :mod:`benchmarks.speed.peer_compare` hands to ours and to rllte-core: the two
kinds of observation (17-dim vectors with ``Box`` actions, 64x64 RGB ``uint8`` frames with ``Discrete(6)``
actions) and time-major ``(n_steps, n_envs, ...)`` transitions."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces


def spaces_for(kind: str) -> tuple[spaces.Box, spaces.Space]:
    if kind == "vector":
        return spaces.Box(-np.inf, np.inf, (17,), np.float32), spaces.Box(-1.0, 1.0, (6,), np.float32)
    if kind == "image":
        return spaces.Box(0, 255, (3, 64, 64), np.uint8), spaces.Discrete(6)
    raise ValueError(f"kind must be 'vector' or 'image', got {kind!r}")


def make_rollout(kind: str, n_steps: int, n_envs: int, seed: int = 0) -> dict[str, np.ndarray]:
    """A time-major rollout ``(n_steps, n_envs, ...)``; ``obs[t + 1] = next_obs[t]`` except after an episode
    end (staggered, every 100 steps), where a fresh start state follows."""
    _, act_space = spaces_for(kind)
    rng = np.random.default_rng(seed)

    def states(*shape: int) -> np.ndarray:
        if kind == "vector":
            return rng.normal(size=(*shape, 17)).astype(np.float32)
        return rng.integers(0, 256, size=(*shape, 3, 64, 64), dtype=np.uint8)

    dones = (np.arange(n_steps)[:, None] + 37 * np.arange(n_envs)[None, :]) % 100 == 99
    next_obs = states(n_steps, n_envs)
    obs = np.empty_like(next_obs)
    obs[0] = states(n_envs)
    restart = dones[:-1].reshape(n_steps - 1, n_envs, *([1] * (next_obs.ndim - 2)))
    obs[1:] = np.where(restart, states(n_steps - 1, n_envs), next_obs[:-1])
    if kind == "vector":
        actions = rng.uniform(-1, 1, (n_steps, n_envs, 6)).astype(np.float32)
    else:
        actions = rng.integers(0, act_space.n, (n_steps, n_envs))
    return {"obs": obs, "actions": actions, "next_obs": next_obs, "dones": dones}


def flat(x: np.ndarray) -> np.ndarray:
    return x.reshape(-1, *x.shape[2:])
