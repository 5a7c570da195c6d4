"""Intrinsic Curiosity Module: forward-model error in a feature space learned by an inverse model.

A feature map ``phi`` is trained, through an inverse model ``g``, to keep what predicts the action:

    a_hat = g(phi(s), phi(s'))                       L_I = cross-entropy (Discrete) or MSE (Box)

A forward model ``f`` predicts the next features from the current ones and the action:

    phi_hat(s') = f(phi(s), a)                       L_F = 1/2 ||phi_hat(s') - phi(s')||^2

trained together by minimising ``(1 - beta) L_I + beta L_F`` (paper: beta = 0.2). The bonus is the
forward error itself, ``1/2 ||f(phi(s), a) - phi(s')||^2``; the paper's ``eta / 2 ||.||^2`` takes the
scale ``eta`` (0.01 in the authors' code) in :meth:`IntrinsicBonus.__call__`. By default
``phi`` is learned by the inverse loss only (the forward loss sees detached features,
``detach_forward_features=True``), so the forward loss cannot shrink the bonus by collapsing the
features; the authors' code lets the forward loss's gradients reach ``phi`` too
(``detach_forward_features=False``).

References:
    Pathak, Agrawal, Efros, Darrell. Curiosity-driven Exploration by Self-supervised Prediction.
    ICML 2017 (arXiv:1705.05363).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from gymnasium import spaces
from torch import nn

from curiosity.base import LearnedBonus
from curiosity.images import storage_dtype
from curiosity.inverse_dynamics import feature_map
from curiosity.networks import (
    check_encoder_arch,
    encoder_keywords,
    flat_output_dim,
    in_chunks,
    mlp,
    rows_per_chunk,
)
from curiosity.pool import RingPool
from curiosity.seeding import resolve_seed, seeded
from curiosity.validation import check_encoder, check_float, check_int, check_sizes


class ICM(LearnedBonus):
    """Intrinsic Curiosity Module bonus on ``(obs, actions, next_obs)``.

    Networks: ``phi`` is ``encoder`` when given (trained with the inverse loss; its output is flattened),
    else an ELU MLP ``encoder_hidden_sizes -> feature_dim`` for vectors, or for images the paper's four
    3x3 stride-2 ELU convolutions (:func:`curiosity.networks.universe_cnn`) and a linear layer to
    ``feature_dim`` (``encoder_arch`` picks ReLU and the Nature DQN convolutions instead). Inverse and
    forward models: one ReLU hidden layer of ``hidden_dim`` (paper: 256).

    Args:
        observation_space: ``Box`` of shape ``(D,)``, or images ``(H, W[, C])`` / ``(C, H, W)``.
        action_space: ``Discrete`` (inverse loss: cross-entropy) or ``Box`` (inverse loss: MSE).
        feature_dim: width of ``phi`` (paper: 288, the flattened 3x3x32 features of 42x42 frames).
        encoder_hidden_sizes: hidden widths of the default vector ``phi``.
        hidden_dim: hidden width of the inverse and forward models (paper: 256).
        encoder: optional ``phi``, any module mapping ``(batch, *obs_shape)`` to ``(batch, ...)``.
        encoder_arch: the networks that read observations: ``"paper"`` (ICM's: ELU throughout, its four
            stride-2 convolutions for frames), ``"nature"`` (ReLU throughout, the Nature DQN convolutions for
            frames: rllte's default encoder) or ``"universe"`` (ELU throughout, ICM's four stride-2
            convolutions for frames); then a linear layer to ``feature_dim``. Ignored with ``encoder``.
        beta: weight of the forward loss against the inverse loss (paper: 0.2).
        learning_rate: Adam learning rate (paper: 1e-3).
        detach_forward_features: ``phi`` learns from the inverse loss only (default) or also from the
            forward loss (``False``, as in the authors' code).
        buffer_size: FIFO capacity of stored transitions.
        batch_size: minibatch size of one gradient step.
        gradient_steps: gradient steps per :meth:`train` call.
        normalize_bonus: divide bonuses by their running std in :meth:`normalize` (off by default: the
            paper's bonus is the raw forward error; on, one ``eta`` means the same scale for every bonus).
        eta: scale of the bonus in the reward, ``r + eta * bonus`` (the authors' code: 0.01).
        seed: seeds initialisation and minibatch sampling; ``None`` draws one from torch.
        device: where the networks and the pool live (``"auto"``: CUDA when available, else CPU).

    Raises:
        ValueError: a hyperparameter out of range.
        TypeError: unsupported spaces, or an ``encoder`` that is not a module.

    References:
        Pathak et al. Curiosity-driven Exploration by Self-supervised Prediction. ICML 2017.
    """

    accepts_images = True
    state_components = ("phi", "inverse_model", "forward_model", "optimizer", "pool")

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
        beta: float = 0.2,
        learning_rate: float = 1e-3,
        detach_forward_features: bool = True,
        buffer_size: int = 10_000,
        batch_size: int = 256,
        gradient_steps: int = 16,
        normalize_bonus: bool = False,
        eta: float = 0.01,
        seed: int | None = None,
        device: str | torch.device = "auto",
    ) -> None:
        super().__init__(observation_space, action_space, eta=eta, device=device)
        self.feature_dim = check_int("feature_dim", feature_dim)
        self.encoder_hidden_sizes = check_sizes("encoder_hidden_sizes", encoder_hidden_sizes)
        self.hidden_dim = check_int("hidden_dim", hidden_dim)
        check_encoder(encoder)
        self.encoder_arch = check_encoder_arch(encoder_arch)
        self.beta = check_float("beta", beta, 0.0, 1.0, low_inclusive=True)
        self.learning_rate = check_float("learning_rate", learning_rate, high_inclusive=False)
        self.detach_forward_features = bool(detach_forward_features)
        self.batch_size = check_int("batch_size", batch_size)
        self.gradient_steps = check_int("gradient_steps", gradient_steps)
        self.seed = resolve_seed(seed)
        self.init_normalization(normalize_bonus)
        self.discrete = isinstance(action_space, spaces.Discrete)

        obs_shape = tuple(observation_space.shape)
        with seeded(self.seed):
            if encoder is not None:
                self.phi = encoder
                self.feature_dim = flat_output_dim(encoder, obs_shape)
            else:
                self.phi, _ = feature_map(
                    observation_space, self.feature_dim, self.encoder_hidden_sizes,
                    **encoder_keywords(self.encoder_arch, ("universe", nn.ELU)),
                )  # fmt: skip
            self.inverse_model = mlp(2 * self.feature_dim, (self.hidden_dim,), self.action_dim)
            self.forward_model = mlp(self.feature_dim + self.action_dim, (self.hidden_dim,), self.feature_dim)
            self.encode_rows = rows_per_chunk(self.phi, obs_shape)
        for module in (self.phi, self.inverse_model, self.forward_model):
            module.to(self.device)
        params = [*self.phi.parameters(), *self.inverse_model.parameters(), *self.forward_model.parameters()]
        self.optimizer = torch.optim.Adam(params, lr=self.learning_rate)
        self.pool = RingPool.for_transitions(
            buffer_size, obs_shape, self.action_dim, storage_dtype(observation_space), self.device
        )
        self.generator = torch.Generator().manual_seed(self.seed)
        self.n_updates = 0

    # -- maths ----------------------------------------------------------------------------------------
    def features(self, obs: torch.Tensor) -> torch.Tensor:
        """``phi(obs)``, differentiable, shape ``(batch, feature_dim)``."""
        return in_chunks(lambda x: self.phi(x.float()).flatten(1), self.encode_rows, obs)

    def losses(
        self, obs: torch.Tensor, actions: torch.Tensor, next_obs: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-transition inverse loss, forward loss ``1/2 ||f - phi(s')||^2``, and inverse logits/outputs.

        Args:
            obs: ``(batch, *obs_shape)``; actions: encoded ``(batch, action_dim)``; next_obs like ``obs``.

        Returns:
            ``(L_I (batch,), L_F (batch,), inverse output (batch, action_dim))``, all differentiable.
        """
        phi, phi_next = self.features(obs), self.features(next_obs)
        a_hat = self.inverse_model(torch.cat([phi, phi_next], dim=1))
        if self.discrete:
            inverse = F.cross_entropy(a_hat, actions.argmax(dim=1), reduction="none")
        else:
            inverse = (a_hat - actions).pow(2).mean(dim=1)
        if self.detach_forward_features:
            phi, phi_next = phi.detach(), phi_next.detach()
        phi_next_hat = self.forward_model(torch.cat([phi, actions], dim=1))
        forward = 0.5 * (phi_next_hat - phi_next).pow(2).sum(dim=1)
        return inverse, forward, a_hat

    # -- the contract ---------------------------------------------------------------------------------
    def compute(self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray) -> np.ndarray:
        """Raw ICM bonus ``1/2 ||f(phi(s), a) - phi(s')||^2`` per transition, shape ``(batch,)``.

        Args:
            obs: ``(batch, *obs_shape)``.
            actions: ``(batch, *action_shape)`` for ``Box``, ``(batch,)`` integers for ``Discrete``.
            next_obs: ``(batch, *obs_shape)``.

        Raises:
            ValueError: bad shapes, actions out of range, or non-finite values.
        """
        obs_t, act, next_t = self.check_batch(obs, actions, next_obs)
        with torch.no_grad():
            bonus = in_chunks(self._forward_error, self.encode_rows, obs_t, act, next_t)
        return bonus.cpu().numpy().astype(np.float32)

    def _forward_error(self, obs: torch.Tensor, act: torch.Tensor, next_obs: torch.Tensor) -> torch.Tensor:
        error = self.forward_model(torch.cat([self.features(obs), act], dim=1)) - self.features(next_obs)
        return 0.5 * error.pow(2).sum(dim=1)

    def predict_actions(self, obs: np.ndarray, next_obs: np.ndarray) -> np.ndarray:
        """The inverse model's action for each ``(s, s')``: indices ``(batch,)`` for ``Discrete`` (offset by
        the space's ``start``), values ``(batch, action_dim)`` for ``Box``. Changes nothing."""
        n = len(obs)
        dummy = np.full(n, self.action_space.start) if self.discrete else np.zeros((n, self.action_dim))
        obs_t, _, next_t = self.check_batch(obs, dummy, next_obs)
        with torch.no_grad():
            a_hat = self.inverse_model(torch.cat([self.features(obs_t), self.features(next_t)], dim=1))
        if self.discrete:
            return (a_hat.argmax(dim=1) + int(self.action_space.start)).cpu().numpy()
        return a_hat.cpu().numpy()

    def add(self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray) -> None:
        """Store transitions (each row a complete ``(s, a, s')``) for :meth:`train`."""
        obs_t, act, next_t = self.check_batch(obs, actions, next_obs)
        self.pool.add(obs=obs_t, actions=act, next_obs=next_t)

    def train(self) -> dict[str, float]:
        """``gradient_steps`` Adam steps on ``(1 - beta) L_I + beta L_F`` over uniform minibatches.

        Returns:
            ``loss``, ``inverse_loss``, ``forward_loss`` (means over the steps) and, for ``Discrete``
            actions, ``inverse_accuracy`` of the last minibatch; ``{}`` when nothing is stored.
        """
        if len(self.pool) == 0:
            return {}
        totals = np.zeros(3)
        for _ in range(self.gradient_steps):
            idx = self.pool.sample_indices((self.batch_size,), self.generator)
            obs, act, next_obs = (self.pool.get(k, idx) for k in ("obs", "actions", "next_obs"))
            inverse, forward, a_hat = self.losses(obs, act, next_obs)
            loss = (1.0 - self.beta) * inverse.mean() + self.beta * forward.mean()
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            totals += (loss.item(), inverse.mean().item(), forward.mean().item())
        self.n_updates += self.gradient_steps
        metrics = dict(
            zip(
                ("loss", "inverse_loss", "forward_loss"), (totals / self.gradient_steps).tolist(), strict=True
            )
        )
        if self.discrete:
            metrics["inverse_accuracy"] = (a_hat.argmax(1) == act.argmax(1)).float().mean().item()
        return metrics
