"""Self-supervised exploration via disagreement: the variance of an ensemble of forward models.

``K`` forward models ``f_1..f_K`` each predict the next features from the current ones and the action,
each trained on its own minibatch of stored transitions (so the members see different data, as a
bootstrap) and from its own initialisation:

    L = sum_k mean_batch ||f_k(phi(s), a) - phi(s')||^2

Where the models have been trained they agree; elsewhere they disagree. The bonus is that
disagreement, the variance across the ensemble averaged over feature dimensions:

    bonus(s, a) = mean_j Var_k [ f_k(phi(s), a)_j ]

which, unlike a prediction error, does not stay high on transitions that are inherently unpredictable.

Features ``phi``: the identity for vector observations; for images, a frozen random CNN (random features,
which Burda et al.'s large-scale study of curiosity found competitive with learned ones), or any frozen
``encoder`` handed in (e.g. one trained elsewhere).

References:
    Pathak, Gandhi, Gupta. Self-Supervised Exploration via Disagreement. ICML 2019 (arXiv:1906.04161).
    Burda, Edwards, Pathak, Storkey, Darrell, Efros. Large-Scale Study of Curiosity-Driven Learning.
    ICLR 2019 (arXiv:1808.04355).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from curiosity.base import LearnedBonus
from curiosity.images import is_image_space, storage_dtype
from curiosity.networks import MAX_CHUNK_ROWS, flat_output_dim, image_encoder, in_chunks, rows_per_chunk
from curiosity.pool import RingPool
from curiosity.seeding import resolve_seed, seeded
from curiosity.validation import check_encoder, check_float, check_int, check_sizes


class EnsembleLinear(nn.Module):
    """``K`` independent linear layers applied in one batched matrix product.

    Input ``(K, batch, in_features)``, output ``(K, batch, out_features)``; each member is initialised
    like ``nn.Linear``.
    """

    def __init__(self, n_models: int, in_features: int, out_features: int) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(in_features)
        self.weight = nn.Parameter(torch.empty(n_models, in_features, out_features).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(n_models, 1, out_features).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, x, self.weight)


def ensemble_mlp(n_models: int, in_dim: int, hidden_sizes: Sequence[int], out_dim: int) -> nn.Sequential:
    """``K`` ReLU MLPs ``in_dim -> hidden_sizes... -> out_dim`` as one module on ``(K, batch, in_dim)``."""
    layers: list[nn.Module] = []
    width = in_dim
    for h in hidden_sizes:
        layers += [EnsembleLinear(n_models, width, h), nn.ReLU()]
        width = h
    layers.append(EnsembleLinear(n_models, width, out_dim))
    return nn.Sequential(*layers)


class Disagreement(LearnedBonus):
    """Ensemble-disagreement bonus on ``(obs, actions, next_obs)``.

    Args:
        observation_space: ``Box`` of shape ``(D,)``, or images ``(H, W[, C])`` / ``(C, H, W)``.
        action_space: ``Box`` or ``Discrete`` (one-hot).
        n_models: ensemble size ``K`` (paper: 5).
        hidden_sizes: hidden widths of each forward model.
        encoder: optional frozen feature map, any module ``(batch, *obs_shape) -> (batch, ...)``.
        feature_dim: width of the default random CNN features for images (512, as Burda et al.'s).
        learning_rate: Adam learning rate (1e-4, as Burda et al.'s dynamics models).
        independent_batches: each member draws its own minibatch (``True``) or all share one (``False``:
            members differ only by their initialisation).
        buffer_size: FIFO capacity of stored transitions.
        batch_size: minibatch size per member and gradient step.
        gradient_steps: gradient steps per :meth:`train` call.
        normalize_bonus: divide bonuses by their running std in :meth:`normalize` (off by default: the
            paper's bonus is the raw ensemble variance; on, one ``eta`` means the same scale for every bonus).
        eta: scale of the bonus in the reward, ``r + eta * bonus``.
        seed: seeds initialisation and minibatch sampling; ``None`` draws one from torch.
        device: where the models, the encoder and the pool live (``"auto"``: CUDA when available).

    Raises:
        ValueError: a hyperparameter out of range.
        TypeError: unsupported spaces, or an ``encoder`` that is not a module.

    References:
        Pathak et al. Self-Supervised Exploration via Disagreement. ICML 2019.
    """

    accepts_images = True
    state_components = ("models", "optimizer", "pool")

    def __init__(
        self,
        observation_space: spaces.Box,
        action_space: spaces.Space,
        *,
        n_models: int = 5,
        hidden_sizes: Sequence[int] = (256, 256),
        encoder: nn.Module | None = None,
        feature_dim: int = 512,
        learning_rate: float = 1e-4,
        independent_batches: bool = True,
        buffer_size: int = 10_000,
        batch_size: int = 256,
        gradient_steps: int = 16,
        normalize_bonus: bool = False,
        eta: float = 1.0,
        seed: int | None = None,
        device: str | torch.device = "auto",
    ) -> None:
        super().__init__(observation_space, action_space, eta=eta, device=device)
        self.n_models = check_int("n_models", n_models, minimum=2)
        self.hidden_sizes = check_sizes("hidden_sizes", hidden_sizes)
        self.encoder = check_encoder(encoder)
        feature_dim = check_int("feature_dim", feature_dim)
        self.learning_rate = check_float("learning_rate", learning_rate, high_inclusive=False)
        self.independent_batches = bool(independent_batches)
        self.batch_size = check_int("batch_size", batch_size)
        self.gradient_steps = check_int("gradient_steps", gradient_steps)
        self.seed = resolve_seed(seed)
        self.init_normalization(normalize_bonus)

        obs_shape = tuple(observation_space.shape)
        with seeded(self.seed):
            if self.encoder is None and is_image_space(observation_space):
                self.encoder = image_encoder(observation_space, feature_dim, activation=nn.LeakyReLU)
            self.feature_dim = (
                flat_output_dim(self.encoder, obs_shape) if self.encoder is not None else self.obs_dim
            )
            self.encode_rows = (
                rows_per_chunk(self.encoder, obs_shape) if self.encoder is not None else MAX_CHUNK_ROWS
            )
            self.models = ensemble_mlp(
                self.n_models, self.feature_dim + self.action_dim, self.hidden_sizes, self.feature_dim
            ).to(self.device)
        if self.encoder is not None:
            self.encoder.to(self.device)
        self.optimizer = torch.optim.Adam(self.models.parameters(), lr=self.learning_rate)
        self.pool = RingPool.for_transitions(
            buffer_size, obs_shape, self.action_dim, storage_dtype(observation_space), self.device
        )
        self.generator = torch.Generator().manual_seed(self.seed)
        self.n_updates = 0

    # -- maths ----------------------------------------------------------------------------------------
    def features(self, obs: torch.Tensor) -> torch.Tensor:
        """``phi(obs)`` without gradient, shape ``(batch, feature_dim)``."""
        if self.encoder is None:
            return obs.float().flatten(1)
        with torch.no_grad():
            return in_chunks(lambda x: self.encoder(x.float()).flatten(1), self.encode_rows, obs)

    def predict(self, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """Every member's next-feature prediction, ``(K, batch, feature_dim)``.

        Args:
            obs: ``(batch, *obs_shape)``, or ``(K, batch, *obs_shape)`` for one minibatch per member.
            actions: encoded ``(batch, action_dim)``, or ``(K, batch, action_dim)``.
        """
        lead = obs.shape[: actions.dim() - 1]
        phi = self.features(obs.reshape(-1, *self.observation_space.shape)).reshape(*lead, -1)
        x = torch.cat([phi, actions], dim=-1)
        return self.models(x.expand(self.n_models, *x.shape[-2:]) if x.dim() == 2 else x)

    # -- the contract ---------------------------------------------------------------------------------
    def compute(self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray) -> np.ndarray:
        """Raw bonus ``mean_j Var_k f_k(phi(s), a)_j`` per transition, shape ``(batch,)``; changes nothing.

        The variance is the population variance over the ``K`` members (divides by ``K``).

        Args:
            obs: ``(batch, *obs_shape)``.
            actions: ``(batch, *action_shape)`` for ``Box``, ``(batch,)`` integers for ``Discrete``.
            next_obs: ``(batch, *obs_shape)`` (validated, unused: the bonus needs no target).

        Raises:
            ValueError: bad shapes, actions out of range, or non-finite values.
        """
        obs_t, act, _ = self.check_batch(obs, actions, next_obs)
        with torch.no_grad():
            bonus = in_chunks(self._disagreement, self.encode_rows, obs_t, act)
        return bonus.cpu().numpy().astype(np.float32)

    def _disagreement(self, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return self.predict(obs, actions).var(dim=0, unbiased=False).mean(dim=1)

    def add(self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray) -> None:
        """Store transitions (each row a complete ``(s, a, s')``) for :meth:`train`."""
        obs_t, act, next_t = self.check_batch(obs, actions, next_obs)
        self.pool.add(obs=obs_t, actions=act, next_obs=next_t)

    def train(self) -> dict[str, float]:
        """``gradient_steps`` Adam steps on ``sum_k mean ||f_k(phi(s), a) - phi(s')||^2``.

        Each step draws ``(K, batch_size)`` indices uniformly with replacement (one row of indices per
        member), or a single row shared by all members when ``independent_batches=False``.

        Returns:
            ``{"loss": mean over steps of the per-member mean squared error}``; ``{}`` when nothing is stored.
        """
        if len(self.pool) == 0:
            return {}
        losses = []
        for _ in range(self.gradient_steps):
            rows = self.n_models if self.independent_batches else 1
            idx = self.pool.sample_indices((rows, self.batch_size), self.generator).expand(self.n_models, -1)
            obs, act, next_obs = (self.pool.get(k, idx) for k in ("obs", "actions", "next_obs"))
            target = self.features(next_obs.reshape(-1, *self.observation_space.shape))
            error = self.predict(obs, act) - target.reshape(self.n_models, self.batch_size, -1)
            loss = error.pow(2).mean(dim=(1, 2)).sum()
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            losses.append(loss.item() / self.n_models)
        self.n_updates += self.gradient_steps
        return {"loss": float(np.mean(losses))}
