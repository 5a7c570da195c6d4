"""An embedding learned by inverse dynamics alone, for E3B and NGU's episodic memory.

A feature map ``phi`` and a head ``g`` are trained together to predict the action from two consecutive
states, ``a_hat = g(phi(s), phi(s'))``: cross-entropy for ``Discrete`` actions, mean squared error for
``Box``. What ``phi`` keeps is what the agent controls, which both E3B and NGU use as the space in which
episodic novelty is measured. ICM (:mod:`curiosity.icm`) trains the same pair plus a forward model; its
feature map is built by the same rules (:func:`feature_map`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from gymnasium import spaces
from torch import nn

from curiosity.base import action_dim
from curiosity.images import is_image_space
from curiosity.networks import flat_output_dim, image_encoder, in_chunks, mlp, rows_per_chunk
from curiosity.pool import RingPool
from curiosity.seeding import seeded


def feature_map(
    observation_space: spaces.Box,
    feature_dim: int,
    hidden_sizes: Sequence[int],
    encoder: nn.Module | None = None,
    *,
    activation: type[nn.Module] = nn.ELU,
    arch: str = "universe",
) -> tuple[nn.Module, int]:
    """``phi`` and its output width: ``encoder`` if given (flattened), else an MLP for vectors or the default
    CNN (:func:`curiosity.networks.image_encoder`, ``arch``) with a linear layer to ``feature_dim``."""
    if encoder is not None:
        return nn.Sequential(encoder, nn.Flatten()), flat_output_dim(encoder, tuple(observation_space.shape))
    if is_image_space(observation_space):
        return image_encoder(observation_space, feature_dim, arch=arch, activation=activation), feature_dim
    obs_dim = int(torch.Size(observation_space.shape).numel())
    return mlp(obs_dim, hidden_sizes, feature_dim, activation), feature_dim


class InverseDynamics(nn.Module):
    """``phi`` and the inverse head ``g`` (one ReLU hidden layer of ``hidden_dim``).

    Args:
        phi: the feature map, ``(batch, *obs_shape) -> (batch, feature_dim)``.
        feature_dim: its output width.
        action_space: ``Discrete`` (logits, cross-entropy) or ``Box`` (values, squared error).
        hidden_dim: width of the head's hidden layer.
    """

    def __init__(
        self,
        phi: nn.Module,
        feature_dim: int,
        action_space: spaces.Space,
        hidden_dim: int,
        input_shape: Sequence[int],
    ) -> None:
        super().__init__()
        self.phi = phi
        self.encode_rows = rows_per_chunk(phi, input_shape)
        self.head = mlp(2 * feature_dim, (hidden_dim,), action_dim(action_space))
        self.discrete = isinstance(action_space, spaces.Discrete)

    def embed(self, obs: torch.Tensor) -> torch.Tensor:
        """``phi(obs)``, ``(batch, feature_dim)``, differentiable."""
        return in_chunks(lambda x: self.phi(x.float()).flatten(1), self.encode_rows, obs)

    def loss(self, obs: torch.Tensor, actions: torch.Tensor, next_obs: torch.Tensor) -> torch.Tensor:
        """Per-transition inverse loss, ``(batch,)``; ``actions`` encoded ``(batch, action_dim)``."""
        a_hat = self.head(torch.cat([self.embed(obs), self.embed(next_obs)], dim=1))
        if self.discrete:
            return F.cross_entropy(a_hat, actions.argmax(dim=1), reduction="none")
        return (a_hat - actions).pow(2).mean(dim=1)


def build_inverse_dynamics(
    observation_space: spaces.Box,
    action_space: spaces.Space,
    feature_dim: int,
    hidden_sizes: Sequence[int],
    hidden_dim: int,
    encoder: nn.Module | None,
    *,
    seed: int,
    device: torch.device,
    learning_rate: float,
    activation: type[nn.Module],
    arch: str,
) -> tuple[InverseDynamics, int, torch.optim.Adam]:
    """The model (initialised under ``seed``, on ``device``), its feature width and its Adam optimiser, as
    E3B and NGU build them (``activation`` and ``arch`` as in :func:`feature_map`)."""
    with seeded(seed):
        phi, feature_dim = feature_map(
            observation_space, feature_dim, hidden_sizes, encoder, activation=activation, arch=arch
        )
        model = InverseDynamics(phi, feature_dim, action_space, hidden_dim, observation_space.shape)
    model = model.to(device)
    return model, feature_dim, torch.optim.Adam(model.parameters(), lr=learning_rate)


def train_inverse_dynamics(
    model: InverseDynamics,
    optimizer: torch.optim.Optimizer,
    pool: RingPool,
    generator: torch.Generator,
    gradient_steps: int,
    batch_size: int,
) -> float:
    """``gradient_steps`` optimiser steps on the inverse-dynamics loss over uniform minibatches of
    ``batch_size`` transitions of ``pool`` (fields ``obs``, ``actions``, ``next_obs``; not empty).

    Returns:
        The mean loss over the steps.
    """
    losses = []
    for _ in range(gradient_steps):
        idx = pool.sample_indices((batch_size,), generator)
        loss = model.loss(*(pool.get(k, idx) for k in ("obs", "actions", "next_obs"))).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return float(np.mean(losses))
