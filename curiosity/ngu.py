"""NGU: episodic novelty by k-nearest neighbours in a controllable-state embedding, modulated by RND.

Episodic part (Badia et al., 2020, section 2 and their Algorithm 1). An embedding ``f`` is learned by inverse
dynamics (:mod:`curiosity.inverse_dynamics`); each episode keeps a memory ``M`` of the embeddings of its
states. For a new state ``x``, with ``d_1..d_k`` the squared Euclidean distances from ``f(x)`` to its ``k``
nearest neighbours in ``M``:

    d_m^2 <- running mean of every such squared distance, this state's included
    d_i' = max(d_i / d_m^2 - xi, 0)                   (normalise, then cluster small distances to 0)
    K_i = eps / (d_i' + eps)                          (inverse kernel)
    s = sqrt(sum_i K_i) + c
    r_episodic = 1 / s  if s <= s_max  else 0

then ``f(x)`` joins ``M`` (capacity ``memory_capacity``, oldest first out). Lifelong part: an RND predictor's
error ``err(x)`` (:class:`curiosity.RND`) with the running mean ``mu_e`` and std ``sigma_e`` of errors gives
``alpha = 1 + (err(x) - mu_e) / sigma_e``, and the bonus is

    r = r_episodic * min(max(alpha, 1), L).

Transition ``t`` of an episode is rewarded for reaching ``x = s_{t+1}`` with ``M = {f(s_0), ..., f(s_t)}``
(episode boundaries: :mod:`curiosity.episodic`). Batched per piece of an episode: all distances to the memory
and between the piece's own states at once, masked so that state ``j`` sees only ``M`` and the states before
it; the running mean's value at each step is a cumulative sum.

Defaults: ``k = 10``, ``xi = 0.008``, ``c = 0.001``, ``s_max = 8``, ``L = 5``, embedding width 32, memory
capacity 30,000, intrinsic scale ``beta = 0.3`` (``eta``) as in the paper (section 2, appendix); ``eps =
0.001`` as in the paper's section 2 (rllte uses 1e-4). The embedding is the Nature DQN torso (their Atari
network) with a linear layer to 32 for frames, a ReLU MLP ``(256,) -> 32`` for vectors; the inverse head
has one 128-unit ReLU layer and a softmax, as in the paper. RND: :class:`curiosity.RND` with a 128-wide
output. Adam at 5e-4 for both (our reading of the paper's appendix).

Deviations: (1) ``d_m^2`` is a cumulative mean per environment (the paper: "a running average", one per
actor), never reset at episode ends. (2) ``mu_e`` and ``sigma_e`` move when transitions are added (with the
errors of the added ``next_obs``, before training), so ``compute`` has no side effects. (3) Networks are
trained on minibatches from a FIFO of transitions, not on the R2D2 learner's sequences (the paper trains the
embedding on the last 5 frames of each sequence). (4) NGU's family of policies (UVFA over ``beta`` and
discounts) is not part of a bonus: this is the single intrinsic reward, to be added with ``eta``.

References:
    Badia, Sprechmann, Vitvitskyi, Guo, Piot, Kapturowski, Tieleman, Arjovsky, Pritzel, Bolt, Blundell.
    Never Give Up: Learning Directed Exploration Strategies. ICLR 2020 (arXiv:2002.06038).
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
from curiosity.normalization import RunningMeanStd
from curiosity.pool import RingPool
from curiosity.rnd import RND
from curiosity.seeding import resolve_seed
from curiosity.validation import check_encoder, check_float, check_int, check_sizes, check_state_keys


class NGU(EpisodicBonus):
    """NGU's intrinsic reward ``r_episodic * clip(alpha, 1, L)`` (see the module docstring).

    Args:
        observation_space: ``Box`` of shape ``(D,)``, or images ``(H, W[, C])`` / ``(C, H, W)``.
        action_space: ``Discrete`` (inverse loss: cross-entropy) or ``Box`` (inverse loss: MSE).
        feature_dim: width of the embedding ``f`` (paper: 32).
        hidden_sizes: hidden widths of the default vector embedding (ReLU).
        hidden_dim: hidden width of the inverse head (paper: 128).
        encoder: optional embedding torso, any module ``(batch, *obs_shape) -> (batch, ...)`` (trained).
        k: number of neighbours (paper: 10).
        kernel_epsilon: ``eps`` of the kernel (paper, section 2: 1e-3).
        cluster_distance: ``xi`` (paper: 0.008).
        pseudo_count_constant: ``c`` (paper: 1e-3).
        max_similarity: ``s_max`` (paper: 8).
        max_modulation: ``L``, the cap on ``alpha`` (paper: 5).
        memory_capacity: embeddings kept per episode (paper: 30,000).
        rnd_feature_dim: output width of RND's networks (paper: 128).
        learning_rate: Adam learning rate of the embedding and of RND's predictor (paper: 5e-4).
        buffer_size: FIFO capacity of stored transitions (each network's).
        batch_size: minibatch size of one gradient step.
        gradient_steps: gradient steps per :meth:`train` call (each network's).
        normalize_bonus: divide bonuses by their running std (off: the paper's reward is used as is).
        chunk_size: states per batched nearest-neighbour search (any value gives the same bonuses).
        eta: scale of the bonus in the reward (paper: ``beta = 0.3``).
        seed: seeds initialisation and minibatch sampling; ``None`` draws one from torch.
        device: where the embedding, RND, the pool and the episodic memories live (``"auto"``: CUDA when
            available).

    Raises:
        ValueError: a hyperparameter out of range.
        TypeError: unsupported spaces, or an ``encoder`` that is not a module.

    References:
        Badia et al. Never Give Up: Learning Directed Exploration Strategies. ICLR 2020.
    """

    accepts_images = True
    state_components = ("model", "optimizer", "pool", "rnd", "err_rms")

    def __init__(
        self,
        observation_space: spaces.Box,
        action_space: spaces.Space,
        *,
        feature_dim: int = 32,
        hidden_sizes: Sequence[int] = (256,),
        hidden_dim: int = 128,
        encoder: nn.Module | None = None,
        k: int = 10,
        kernel_epsilon: float = 1e-3,
        cluster_distance: float = 0.008,
        pseudo_count_constant: float = 1e-3,
        max_similarity: float = 8.0,
        max_modulation: float = 5.0,
        memory_capacity: int = 30_000,
        rnd_feature_dim: int = 128,
        learning_rate: float = 5e-4,
        buffer_size: int = 10_000,
        batch_size: int = 256,
        gradient_steps: int = 16,
        normalize_bonus: bool = False,
        chunk_size: int = 256,
        eta: float = 0.3,
        seed: int | None = None,
        device: str | torch.device = "auto",
    ) -> None:
        super().__init__(observation_space, action_space, eta=eta, device=device)
        self.feature_dim = check_int("feature_dim", feature_dim)
        self.hidden_sizes = check_sizes("hidden_sizes", hidden_sizes)
        self.hidden_dim = check_int("hidden_dim", hidden_dim)
        check_encoder(encoder)
        self.k = check_int("k", k)
        self.kernel_epsilon = check_float("kernel_epsilon", kernel_epsilon, high_inclusive=False)
        self.cluster_distance = check_float("cluster_distance", cluster_distance, low_inclusive=True)
        self.pseudo_count_constant = check_float(
            "pseudo_count_constant", pseudo_count_constant, high_inclusive=False
        )
        self.max_similarity = check_float("max_similarity", max_similarity)
        self.max_modulation = check_float("max_modulation", max_modulation, 1.0, low_inclusive=True)
        self.memory_capacity = check_int("memory_capacity", memory_capacity)
        self.learning_rate = check_float("learning_rate", learning_rate, high_inclusive=False)
        self.batch_size = check_int("batch_size", batch_size)
        self.gradient_steps = check_int("gradient_steps", gradient_steps)
        self.chunk_size = check_int("chunk_size", chunk_size)
        self.seed = resolve_seed(seed)
        self.init_normalization(normalize_bonus)
        self.model, self.feature_dim, self.optimizer = build_inverse_dynamics(
            observation_space, action_space, self.feature_dim, self.hidden_sizes, self.hidden_dim, encoder,
            seed=self.seed, device=self.device, learning_rate=self.learning_rate, activation=nn.ReLU,
            arch="auto",
        )  # fmt: skip
        self.pool = RingPool.for_transitions(
            buffer_size, observation_space.shape, self.action_dim, storage_dtype(observation_space),
            device=self.device,
        )
        self.rnd = RND(
            observation_space, action_space, feature_dim=check_int("rnd_feature_dim", rnd_feature_dim),
            learning_rate=self.learning_rate, normalize_bonus=False, buffer_size=buffer_size,
            batch_size=self.batch_size, gradient_steps=self.gradient_steps, seed=self.seed + 1,
            device=self.device,
        )  # fmt: skip
        self.err_rms = RunningMeanStd((), device=self.device)
        self.generator = torch.Generator().manual_seed(self.seed)
        self.n_updates = 0

    # -- the episodic walk ---------------------------------------------------------------------------------
    def row_features(
        self, obs: torch.Tensor, actions: torch.Tensor, next_obs: torch.Tensor
    ) -> dict[str, Any]:
        err = self.rnd.prediction_error(next_obs).double()
        alpha = 1.0 + (err - self.err_rms.mean) / (self.err_rms.std + 1e-8)
        return {
            "obs": obs,
            "next": self.model.embed(next_obs),
            "err": err,
            "modulation": alpha.clamp(1.0, self.max_modulation),
        }

    def fresh_memory(self, previous: Any | None) -> tuple[torch.Tensor | None, float, float]:
        """No embeddings; the running mean of neighbour distances carries over from the ended episode."""
        return (None, 0.0, 0.0) if previous is None else (None, previous[1], previous[2])

    def walk_piece(self, memory: Any, rows: np.ndarray, features: dict[str, Any]) -> tuple[np.ndarray, Any]:
        mem, dist_sum, dist_count = memory
        idx = torch.as_tensor(rows, device=self.device)
        if mem is None:  # a new episode: its first state s_0 is the memory's first entry
            mem = self.model.embed(features["obs"][idx[:1]])
        out = []
        queries = features["next"][idx]
        for start in range(0, len(queries), self.chunk_size):
            q = queries[start : start + self.chunk_size]
            episodic, dist_sum, dist_count = self._episodic(q, mem, dist_sum, dist_count)
            out.append(episodic)
            mem = torch.cat([mem, q])[-self.memory_capacity :]
        bonus = torch.cat(out).double() * features["modulation"][idx]
        return bonus.cpu().numpy().astype(np.float32), (mem, dist_sum, dist_count)

    def _episodic(
        self, q: torch.Tensor, mem: torch.Tensor, dist_sum: float, dist_count: float
    ) -> tuple[torch.Tensor, float, float]:
        """Algorithm 1 for consecutive states ``q`` (each then joins the memory); returns the running sums."""
        n, m = len(q), len(mem)
        steps, entries = torch.arange(n, device=q.device), torch.arange(m, device=q.device)
        to_memory = torch.cdist(q, mem).square()
        # state j sees the last `memory_capacity` entries of [mem, q_0..q_{j-1}]
        to_memory[entries[None, :] < (m + steps - self.memory_capacity)[:, None]] = torch.inf
        # and the states q_i before it in this chunk, those among the same last entries (i >= j - capacity)
        i, j = steps[None, :], steps[:, None]
        earlier = (i < j) & (i >= j - self.memory_capacity)
        to_earlier = torch.cdist(q, q).square().masked_fill(~earlier, torch.inf)
        dists = torch.cat([to_memory, to_earlier], dim=1)
        nearest = dists.topk(min(self.k, dists.shape[1]), dim=1, largest=False).values.double()
        valid = torch.isfinite(nearest)
        nearest = nearest.masked_fill(~valid, 0.0)
        sums = dist_sum + nearest.sum(1).cumsum(0)  # the running mean after each state's distances
        counts = dist_count + valid.sum(1).double().cumsum(0)
        mean = sums / counts
        normalized = (nearest / (mean[:, None] + 1e-12) - self.cluster_distance).clamp_min(0.0)
        kernel = (self.kernel_epsilon / (normalized + self.kernel_epsilon)) * valid
        similarity = kernel.sum(1).sqrt() + self.pseudo_count_constant
        episodic = torch.where(similarity > self.max_similarity, 0.0, 1.0 / similarity)
        return episodic, float(sums[-1]), float(counts[-1])

    def store(
        self, obs: torch.Tensor, actions: torch.Tensor, next_obs: torch.Tensor, features: dict[str, Any]
    ) -> None:
        self.pool.add(obs=obs, actions=actions, next_obs=next_obs)
        self.err_rms.update(features["err"])
        self.rnd.add(obs.cpu().numpy(), self._raw_actions(actions), next_obs.cpu().numpy())

    def _raw_actions(self, encoded: torch.Tensor) -> np.ndarray:
        if isinstance(self.action_space, spaces.Discrete):
            return encoded.argmax(dim=1).cpu().numpy() + int(self.action_space.start)
        return encoded.cpu().numpy()

    def memories_state(self) -> dict[str, Any]:
        assert self.memories is not None
        empty = torch.zeros(0, self.feature_dim)
        return {
            "fresh": torch.tensor([m[0] is None for m in self.memories]),
            "embeddings": [empty if m[0] is None else m[0].clone() for m in self.memories],
            "dist_sum": torch.tensor([m[1] for m in self.memories], dtype=torch.float64),
            "dist_count": torch.tensor([m[2] for m in self.memories], dtype=torch.float64),
        }

    def load_memories_state(self, state: dict[str, Any]) -> list[Any]:
        check_state_keys("NGU episodes", state, ["fresh", "embeddings", "dist_sum", "dist_count"])
        return [
            (None if fresh else emb.to(self.device, copy=True), float(s), float(c))
            for fresh, emb, s, c in zip(
                state["fresh"].tolist(),
                state["embeddings"],
                state["dist_sum"],
                state["dist_count"],
                strict=True,
            )
        ]

    # -- training -------------------------------------------------------------------------------------------
    def train(self) -> dict[str, float]:
        """``gradient_steps`` Adam steps on the inverse-dynamics loss, then RND's own training.

        Returns:
            ``inverse_loss`` (mean over the steps) and ``rnd_loss``; ``{}`` when nothing is stored.
        """
        if len(self.pool) == 0:
            return {}
        inverse_loss = train_inverse_dynamics(
            self.model, self.optimizer, self.pool, self.generator, self.gradient_steps, self.batch_size
        )
        self.n_updates += self.gradient_steps
        return {"inverse_loss": inverse_loss, "rnd_loss": self.rnd.train()["loss"]}
