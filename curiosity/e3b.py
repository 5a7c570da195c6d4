"""E3B: exploration via elliptical episodic bonuses over an inverse-dynamics embedding.

A feature map ``phi`` is learned by inverse dynamics (:mod:`curiosity.inverse_dynamics`). Within an episode
with states ``s_0, s_1, ...``, the bonus of reaching ``s_{t+1}`` is its elliptical norm under the inverse of
the regularised covariance of the episode's earlier embeddings:

    C_t = lambda I + sum_{i=0..t} phi(s_i) phi(s_i)^T,      b(s_{t+1}) = phi(s_{t+1})^T C_t^{-1} phi(s_{t+1})

which generalises ``1 / N`` episodic counts to continuous embeddings: it is large in directions the episode
has not covered yet. ``C`` is reset at every episode start (episode boundaries: :mod:`curiosity.episodic`).

Batched over an episode. With ``M = C_0^{-1}`` and the next ``n`` embeddings stacked in ``U`` (``n x d``),
the leading ``j x j`` block of ``G = I + U M U^T`` has determinant ``det(C_0 + U_j^T U_j) / det(C_0)``
(Sylvester), so by the matrix determinant lemma ``1 + b_j`` is the ratio of consecutive leading minors:
``1 + b_j = L_jj^2`` for the Cholesky factor ``G = L L^T``. One Cholesky factorisation gives the ``n``
bonuses, and Woodbury gives ``(C_0 + U^T U)^{-1} = M - W^T W`` with ``W = L^{-1} U M``: the same numbers
as ``n`` Sherman-Morrison steps, in a few matrix products (chunks of ``chunk_size`` rows, float64).

Defaults (Henaff et al.'s code, facebookresearch/e3b, ``e3b_minihack/README.md`` and ``src/arguments.py``):
ridge ``lambda = 0.1``; Adam at 1e-4 for the embedding and the inverse head; intrinsic rewards divided by a
running std (``--reward_norm int``: ``normalize_bonus=True``) and scaled by 1.0 (``eta``). Networks follow
their pixel (VizDoom) models: the four 3x3 stride-2 ELU convolutions of ICM (288 features on 42x42 frames)
and an inverse head with one 256-unit ReLU layer; here a linear layer maps the convolutions to
``feature_dim`` = 288 whatever the frame size, and vectors get an ELU MLP ``(256,) -> 288``.

Deviations from the authors' code: (1) their actor encodes the state the action is taken in and credits
``b(s_t)`` to ``a_t``, with the first step of each episode given 0; here transition ``t`` receives
``b(s_{t+1})``, the novelty of the state it reached, against ``s_0..s_t`` (the paper's definition, shifted to
the transition that earns it; the first state enters ``C`` and is never rewarded). (2) The embedding is
trained on minibatches from a FIFO of transitions (``buffer_size``, ``batch_size``, ``gradient_steps``)
rather than on each learner batch; no gradient clipping. (3) Embeddings stored in ``C`` are those of the
embedding at the time they were added, as in their actors.

References:
    Henaff, Raileanu, Jiang, Rocktaschel. Exploration via Elliptical Episodic Bonuses. NeurIPS 2022
    (arXiv:2210.05805).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from curiosity.episodic import EpisodicBonus
from curiosity.images import storage_dtype
from curiosity.inverse_dynamics import build_inverse_dynamics, train_inverse_dynamics
from curiosity.networks import check_encoder_arch, encoder_keywords
from curiosity.pool import RingPool
from curiosity.seeding import resolve_seed
from curiosity.validation import check_encoder, check_float, check_int, check_sizes, check_state_keys


def elliptical_bonuses(
    inv_cov: torch.Tensor, embeddings: torch.Tensor, chunk_size: int = 128
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sequential elliptical bonuses ``b_j = u_j^T (C + sum_{i<j} u_i u_i^T)^{-1} u_j`` and the final inverse.

    Args:
        inv_cov: ``C^{-1}``, ``(d, d)``, symmetric positive definite (not modified).
        embeddings: ``u_1..u_n`` in order, ``(n, d)``.
        chunk_size: rows per Cholesky factorisation.

    Returns:
        ``(b (n,), (C + U^T U)^{-1} (d, d))`` in ``inv_cov``'s dtype.
    """
    out = []
    m = inv_cov
    for start in range(0, len(embeddings), chunk_size):
        u = embeddings[start : start + chunk_size].to(m.dtype)
        um = u @ m
        gram = um @ u.T
        gram.diagonal().add_(1.0)
        chol = torch.linalg.cholesky(gram)
        out.append(chol.diagonal().square() - 1.0)
        w = torch.linalg.solve_triangular(chol, um, upper=False)
        m = m - w.T @ w
        m = 0.5 * (m + m.T)  # keep it exactly symmetric as rounding accumulates
    return torch.cat(out) if out else embeddings.new_zeros(0, dtype=m.dtype), m


class E3B(EpisodicBonus):
    """Elliptical episodic bonus ``phi(s')^T C^{-1} phi(s')`` over an inverse-dynamics embedding.

    Args:
        observation_space: ``Box`` of shape ``(D,)``, or images ``(H, W[, C])`` / ``(C, H, W)``.
        action_space: ``Discrete`` (inverse loss: cross-entropy) or ``Box`` (inverse loss: MSE).
        feature_dim: width of ``phi`` (their VizDoom model: 288).
        hidden_sizes: hidden widths of the default vector ``phi`` (ELU).
        hidden_dim: hidden width of the inverse head (theirs: 256).
        encoder: optional ``phi``, any module ``(batch, *obs_shape) -> (batch, ...)`` (trained, flattened).
        encoder_arch: the networks that read observations: ``"paper"`` (ICM's, their VizDoom model: ELU
            throughout, four stride-2 convolutions for frames), ``"nature"`` (ReLU throughout, the Nature DQN
            convolutions for frames: rllte's default encoder) or ``"universe"`` (ELU throughout, ICM's four
            stride-2 convolutions for frames); then a linear layer to ``feature_dim``. Ignored with
            ``encoder``.
        ridge: ``lambda`` of ``C_0 = lambda I`` (theirs: 0.1).
        learning_rate: Adam learning rate (theirs: 1e-4).
        buffer_size: FIFO capacity of stored transitions.
        batch_size: minibatch size of one gradient step.
        gradient_steps: gradient steps per :meth:`train` call.
        normalize_bonus: divide bonuses by their running std (theirs: on, ``--reward_norm int``).
        chunk_size: rows per Cholesky factorisation of the batched bonus (any value gives the same bonuses).
        eta: scale of the bonus in the reward (theirs: ``--intrinsic_reward_coef 1.0``).
        seed: seeds initialisation and minibatch sampling; ``None`` draws one from torch.
        device: where the embedding, the pool and the episodes' inverse covariances live (``"auto"``: CUDA
            when available).

    Raises:
        ValueError: a hyperparameter out of range.
        TypeError: unsupported spaces, or an ``encoder`` that is not a module.

    References:
        Henaff et al. Exploration via Elliptical Episodic Bonuses. NeurIPS 2022.
    """

    accepts_images = True
    state_components = ("model", "optimizer", "pool")

    def __init__(
        self,
        observation_space: spaces.Box,
        action_space: spaces.Space,
        *,
        feature_dim: int = 288,
        hidden_sizes: Sequence[int] = (256,),
        hidden_dim: int = 256,
        encoder: nn.Module | None = None,
        encoder_arch: str = "paper",
        ridge: float = 0.1,
        learning_rate: float = 1e-4,
        buffer_size: int = 10_000,
        batch_size: int = 256,
        gradient_steps: int = 16,
        normalize_bonus: bool = True,
        chunk_size: int = 128,
        eta: float = 1.0,
        seed: int | None = None,
        device: str | torch.device = "auto",
    ) -> None:
        super().__init__(observation_space, action_space, eta=eta, device=device)
        self.feature_dim = check_int("feature_dim", feature_dim)
        self.hidden_sizes = check_sizes("hidden_sizes", hidden_sizes)
        self.hidden_dim = check_int("hidden_dim", hidden_dim)
        check_encoder(encoder)
        self.encoder_arch = check_encoder_arch(encoder_arch)
        self.ridge = check_float("ridge", ridge, high_inclusive=False)
        self.learning_rate = check_float("learning_rate", learning_rate, high_inclusive=False)
        self.batch_size = check_int("batch_size", batch_size)
        self.gradient_steps = check_int("gradient_steps", gradient_steps)
        self.chunk_size = check_int("chunk_size", chunk_size)
        self.seed = resolve_seed(seed)
        self.init_normalization(normalize_bonus)
        self.model, self.feature_dim, self.optimizer = build_inverse_dynamics(
            observation_space, action_space, self.feature_dim, self.hidden_sizes, self.hidden_dim, encoder,
            seed=self.seed, device=self.device, learning_rate=self.learning_rate,
            **encoder_keywords(self.encoder_arch, ("universe", nn.ELU)),
        )  # fmt: skip
        self.pool = RingPool.for_transitions(
            buffer_size, observation_space.shape, self.action_dim, storage_dtype(observation_space),
            self.device,
        )
        self.generator = torch.Generator().manual_seed(self.seed)
        self.n_updates = 0

    # -- the episodic walk ---------------------------------------------------------------------------------
    def row_features(
        self, obs: torch.Tensor, actions: torch.Tensor, next_obs: torch.Tensor
    ) -> dict[str, Any]:
        return {"obs": obs, "next": self.model.embed(next_obs).double()}

    def fresh_memory(self, previous: Any | None) -> None:
        return None  # C_0^{-1} = I / lambda, built when the episode's first state arrives

    def walk_piece(self, memory: Any, rows: np.ndarray, features: dict[str, Any]) -> tuple[np.ndarray, Any]:
        u = features["next"][torch.as_tensor(rows, device=self.device)]
        skip = 0
        if memory is None:  # a new episode: its first state s_0 enters C before any bonus
            memory = self._initial_inverse()
            first = self.model.embed(features["obs"][torch.as_tensor(rows[:1], device=self.device)]).double()
            u, skip = torch.cat([first, u]), 1
        bonus, inv_cov = elliptical_bonuses(memory, u, self.chunk_size)
        return bonus[skip:].clamp_min(0.0).cpu().numpy().astype(np.float32), inv_cov

    def _initial_inverse(self) -> torch.Tensor:
        """``C_0^{-1} = I / lambda``, float64, on the bonus's device."""
        return torch.eye(self.feature_dim, dtype=torch.float64, device=self.device) / self.ridge

    def store(
        self, obs: torch.Tensor, actions: torch.Tensor, next_obs: torch.Tensor, features: dict[str, Any]
    ) -> None:
        self.pool.add(obs=obs, actions=actions, next_obs=next_obs)

    def memories_state(self) -> dict[str, Any]:
        assert self.memories is not None
        fresh = torch.tensor([m is None for m in self.memories])
        eye = self._initial_inverse()
        return {"fresh": fresh, "inv_cov": torch.stack([eye if m is None else m for m in self.memories])}

    def load_memories_state(self, state: dict[str, Any]) -> list[Any]:
        check_state_keys("E3B episodes", state, ["fresh", "inv_cov"])
        if tuple(state["inv_cov"].shape[1:]) != (self.feature_dim, self.feature_dim):
            raise ValueError(f"episodic state of shape {tuple(state['inv_cov'].shape)} does not fit E3B")
        return [
            None if f else m.to(self.device, copy=True)
            for f, m in zip(state["fresh"].tolist(), state["inv_cov"], strict=True)
        ]

    # -- training -------------------------------------------------------------------------------------------
    def train(self) -> dict[str, float]:
        """``gradient_steps`` Adam steps on the inverse-dynamics loss over uniform minibatches.

        Returns:
            ``{"inverse_loss": mean over the steps}``, or ``{}`` when nothing is stored.
        """
        if len(self.pool) == 0:
            return {}
        inverse_loss = train_inverse_dynamics(
            self.model, self.optimizer, self.pool, self.generator, self.gradient_steps, self.batch_size
        )
        self.n_updates += self.gradient_steps
        return {"inverse_loss": inverse_loss}
