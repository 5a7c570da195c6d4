"""A bounded FIFO pool of complete transitions ``(s, a, s')``.

Each row is one whole transition, added as such by the caller (the SB3 wrapper passes the true
``terminal_observation`` at episode ends), so the pool can never pair the last step of one episode
with the first of the next -- the bug of the original VIME pool, which stored states in sequence.
"""

from __future__ import annotations

from typing import Any

import torch

from curiosity.normalization import RunningMeanStd


class TransitionPool:
    """Ring buffer of transitions with running statistics of inputs and targets.

    Args:
        capacity: maximum number of transitions kept (oldest dropped first).
        obs_dim: flat observation width.
        action_dim: encoded action width.

    Raises:
        ValueError: non-positive capacity or dimensions.
    """

    def __init__(self, capacity: int, obs_dim: int, action_dim: int) -> None:
        for name, value in (("capacity", capacity), ("obs_dim", obs_dim), ("action_dim", action_dim)):
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.capacity = int(capacity)
        self.obs = torch.zeros(capacity, obs_dim)
        self.actions = torch.zeros(capacity, action_dim)
        self.next_obs = torch.zeros(capacity, obs_dim)
        self.position = 0
        self.size = 0
        # statistics over everything ever added (as the original's running pool statistics)
        self.obs_stats = RunningMeanStd((obs_dim,))
        self.action_stats = RunningMeanStd((action_dim,))

    def __len__(self) -> int:
        return self.size

    def add(self, obs: torch.Tensor, actions: torch.Tensor, next_obs: torch.Tensor) -> None:
        """Append a batch ``(n, obs_dim), (n, action_dim), (n, obs_dim)``, overwriting the oldest rows."""
        n = obs.shape[0]
        if n > self.capacity:  # only the newest `capacity` rows can survive
            keep = slice(n - self.capacity, n)
            obs, actions, next_obs, n = obs[keep], actions[keep], next_obs[keep], self.capacity
        idx = (self.position + torch.arange(n)) % self.capacity
        self.obs[idx], self.actions[idx], self.next_obs[idx] = obs, actions, next_obs
        self.position = int((self.position + n) % self.capacity)
        self.size = min(self.size + n, self.capacity)
        self.obs_stats.update(torch.cat([obs, next_obs]))
        self.action_stats.update(actions)

    def sample(self, batch_size: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, ...]:
        """Uniformly sampled ``(obs, actions, next_obs)`` rows, with replacement."""
        if self.size == 0:
            raise RuntimeError("cannot sample from an empty transition pool")
        idx = torch.randint(0, self.size, (batch_size,), generator=generator)
        return self.obs[idx], self.actions[idx], self.next_obs[idx]

    def state_dict(self) -> dict[str, Any]:
        return {
            "obs": self.obs[: self.size].clone(),
            "actions": self.actions[: self.size].clone(),
            "next_obs": self.next_obs[: self.size].clone(),
            "position": self.position,
            "obs_stats": self.obs_stats.state_dict(),
            "action_stats": self.action_stats.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        size = state["obs"].shape[0]
        if size > self.capacity or state["obs"].shape[1] != self.obs.shape[1]:
            raise ValueError(f"pool state of shape {tuple(state['obs'].shape)} does not fit this pool")
        for name in ("obs", "actions", "next_obs"):
            buffer = getattr(self, name)
            buffer.zero_()
            buffer[:size] = state[name]
        self.size, self.position = size, int(state["position"])
        self.obs_stats.load_state_dict(state["obs_stats"])
        self.action_stats.load_state_dict(state["action_stats"])
