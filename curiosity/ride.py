"""RIDE: rewarding the impact of an action on a learned state representation, discounted by episodic counts.

The representation ``phi`` is ICM's (:class:`curiosity.ICM`): trained by a forward model and an inverse model
together. The bonus of a transition is how much it changed the representation, divided by the square root of
the number of times its next state has been visited in the current episode:

    bonus(s_t, a_t, s_{t+1}) = ||phi(s_{t+1}) - phi(s_t)||_2 / sqrt(N_ep(s_{t+1}))

``N_ep`` counts ``s_0, ..., s_{t+1}`` (this visit included), so a first visit divides by 1. Counts are exact,
keyed by the observation's bytes (as the authors' code keys them by the frame), and reset at every episode
start (episode boundaries: :mod:`curiosity.episodic`). On continuous observations a state rarely repeats
exactly, so ``N_ep`` stays 1 and the bonus is the impact alone; ``count_resolution`` counts observations
on a grid of that step instead (``floor(obs / count_resolution)``).

Defaults from the authors' code (facebookresearch/impact-driven-exploration, ``src/arguments.py``,
``src/algos/ride.py``, ``src/losses.py``): forward loss ``||f(phi(s), a) - phi(s')||_2`` weighted 10, inverse
cross-entropy weighted 0.1, both reaching ``phi`` (here ICM's ``beta = 10 / 10.1`` and
``detach_forward_features=False``; the common factor 10.1 leaves Adam's steps unchanged up to its epsilon);
learning rate 1e-4; intrinsic coefficient 0.5 (``eta``). Networks are ICM's defaults, which are RIDE's pixel
(VizDoom) models: four 3x3 stride-2 ELU convolutions (288 features), forward and inverse heads with one
256-unit ReLU layer.

Deviations: Adam instead of their RMSprop; minibatches from a FIFO of transitions (ICM's training loop)
instead of each learner batch; no gradient clipping (theirs: norm 40); for ``Box`` actions the inverse loss is
ICM's mean squared error (their tasks have discrete actions); the terminal observation is counted in its
episode (their actors count the reset frame instead, as torchbeast returns it at episode ends).

References:
    Raileanu, Rocktaschel. RIDE: Rewarding Impact-Driven Exploration for Procedurally-Generated
    Environments. ICLR 2020 (arXiv:2002.12292).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from curiosity.digests import row_digests
from curiosity.episodic import EpisodicBonus
from curiosity.icm import ICM
from curiosity.validation import check_float, check_state_keys


class RIDE(EpisodicBonus, ICM):
    """Impact-driven bonus ``||phi(s') - phi(s)|| / sqrt(N_ep(s'))`` over ICM's learned representation.

    Args:
        observation_space: ``Box`` of shape ``(D,)``, or images ``(H, W[, C])`` / ``(C, H, W)``.
        action_space: ``Discrete`` or ``Box``.
        feature_dim: width of ``phi`` (their VizDoom model: 288).
        encoder_hidden_sizes: hidden widths of the default vector ``phi`` (ELU).
        hidden_dim: hidden width of the forward and inverse models (theirs: 256).
        encoder: optional ``phi``, any module ``(batch, *obs_shape) -> (batch, ...)`` (trained, flattened).
        encoder_arch: the networks that read observations: ``"paper"`` (ICM's, RIDE's pixel model: ELU
            throughout, four stride-2 convolutions for frames), ``"nature"`` (ReLU throughout, the Nature DQN
            convolutions for frames: rllte's default encoder) or ``"universe"`` (ELU throughout, ICM's four
            stride-2 convolutions for frames); then a linear layer to ``feature_dim``. Ignored with
            ``encoder``.
        beta: weight of the forward loss against the inverse loss (theirs: 10 against 0.1).
        learning_rate: Adam learning rate (theirs: 1e-4, RMSprop).
        count_resolution: ``None`` counts exact observations (theirs); a step ``> 0`` counts grid cells.
        buffer_size: FIFO capacity of stored transitions.
        batch_size: minibatch size of one gradient step.
        gradient_steps: gradient steps per :meth:`train` call.
        normalize_bonus: divide bonuses by their running std (theirs: off).
        eta: scale of the bonus in the reward (theirs: 0.5).
        seed: seeds initialisation and minibatch sampling; ``None`` draws one from torch.
        device: where the networks and the pool live (``"auto"``: CUDA when available); episodic counts
            stay in host memory.

    Raises:
        ValueError: a hyperparameter out of range.
        TypeError: unsupported spaces, or an ``encoder`` that is not a module.

    References:
        Raileanu, Rocktaschel. RIDE. ICLR 2020.
    """

    def __init__(
        self,
        observation_space: spaces.Box,
        action_space: spaces.Space,
        *,
        feature_dim: int = 288,
        encoder_hidden_sizes: Sequence[int] = (256,),
        hidden_dim: int = 256,
        encoder: nn.Module | None = None,
        encoder_arch: str = "paper",
        beta: float = 10.0 / 10.1,
        learning_rate: float = 1e-4,
        count_resolution: float | None = None,
        buffer_size: int = 10_000,
        batch_size: int = 256,
        gradient_steps: int = 16,
        normalize_bonus: bool = False,
        eta: float = 0.5,
        seed: int | None = None,
        device: str | torch.device = "auto",
    ) -> None:
        super().__init__(
            observation_space, action_space, feature_dim=feature_dim,
            encoder_hidden_sizes=encoder_hidden_sizes, hidden_dim=hidden_dim, encoder=encoder,
            encoder_arch=encoder_arch, beta=beta, learning_rate=learning_rate,
            detach_forward_features=False, buffer_size=buffer_size, batch_size=batch_size,
            gradient_steps=gradient_steps, normalize_bonus=normalize_bonus, eta=eta, seed=seed, device=device,
        )  # fmt: skip
        self.count_resolution = None if count_resolution is None else check_float(
            "count_resolution", count_resolution
        )  # fmt: skip
        self._uint8 = np.dtype(observation_space.dtype) == np.uint8

    def losses(
        self, obs: torch.Tensor, actions: torch.Tensor, next_obs: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """ICM's losses with RIDE's forward loss, the Euclidean norm ``||f(phi(s), a) - phi(s')||_2``."""
        inverse, half_squared, a_hat = super().losses(obs, actions, next_obs)
        return inverse, (2.0 * half_squared).clamp_min(1e-12).sqrt(), a_hat

    # -- the episodic walk ---------------------------------------------------------------------------------
    def count_keys(self, obs: torch.Tensor) -> list[bytes]:
        """The episodic-count key of each observation: a digest of its bytes (or of its grid cell)."""
        if self.count_resolution is not None:
            return row_digests(torch.floor(obs / self.count_resolution).to(torch.int64).cpu().numpy())
        return row_digests((obs.to(torch.uint8) if self._uint8 else obs).cpu().numpy())

    def row_features(
        self, obs: torch.Tensor, actions: torch.Tensor, next_obs: torch.Tensor
    ) -> dict[str, Any]:
        impact = (self.features(next_obs) - self.features(obs)).norm(dim=1)
        return {"obs": obs, "impact": impact.cpu().numpy(), "keys": self.count_keys(next_obs)}

    def fresh_memory(self, previous: Any | None) -> None:
        return None  # no counts until the episode's first state arrives

    def walk_piece(self, memory: Any, rows: np.ndarray, features: dict[str, Any]) -> tuple[np.ndarray, Any]:
        if memory is None:  # a new episode: count its first state s_0
            first = int(rows[0])
            memory = dict.fromkeys(self.count_keys(features["obs"][first : first + 1]), 1)
        counts = dict(memory)  # a copy: compute must leave the stored counts alone
        visits = np.empty(len(rows))
        for i, row in enumerate(rows):
            key = features["keys"][row]
            counts[key] = visits[i] = counts.get(key, 0) + 1
        impact = features["impact"][rows]
        return (impact / np.sqrt(visits)).astype(np.float32), counts

    def store(
        self, obs: torch.Tensor, actions: torch.Tensor, next_obs: torch.Tensor, features: dict[str, Any]
    ) -> None:
        self.pool.add(obs=obs, actions=actions, next_obs=next_obs)

    def memories_state(self) -> dict[str, Any]:
        assert self.memories is not None
        return {
            "fresh": torch.tensor([m is None for m in self.memories]),
            "keys": [
                torch.zeros(0, 16, dtype=torch.uint8) if m is None else _key_tensor(m) for m in self.memories
            ],
            "counts": [
                torch.zeros(0, dtype=torch.int64) if m is None else torch.tensor(list(m.values()))
                for m in self.memories
            ],
        }

    def load_memories_state(self, state: dict[str, Any]) -> list[Any]:
        check_state_keys("RIDE episodes", state, ["fresh", "keys", "counts"])
        return [
            None if fresh else {bytes(k.tolist()): int(n) for k, n in zip(keys, counts, strict=True)}
            for fresh, keys, counts in zip(
                state["fresh"].tolist(), state["keys"], state["counts"], strict=True
            )
        ]


def _key_tensor(counts: dict[bytes, int]) -> torch.Tensor:
    return torch.frombuffer(bytearray(b"".join(counts)), dtype=torch.uint8).reshape(len(counts), 16)
