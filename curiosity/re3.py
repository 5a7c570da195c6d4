"""RE3: state entropy by k-nearest-neighbour distances in the space of a fixed random encoder.

A randomly initialised encoder ``f`` is never trained; ``y = f(s')`` for each next observation. A particle
estimate of the state entropy is the log distance to each sample's k-th nearest neighbour among the
collected states, and each sample is rewarded with its own term:

    bonus(s') = log(||y - y^{kNN}||_2 + 1)

The reference set is the batch itself plus the embeddings of the last ``memory_size`` next observations
passed to :meth:`RE3.add` (a sample is never its own neighbour; an exact duplicate is one at distance 0). The
weight of the bonus decays as in the paper, ``beta_t = eta (1 - decay)^t`` with ``t`` the number of
transitions added; :meth:`RE3.normalize` applies the factor ``(1 - decay)^t`` (after the optional division by
the running std), so ``__call__`` stays ``eta * normalize(compute(...))``.

Defaults (Seo et al., 2021, section 4 and younggyoseo/RE3 ``rad_re3/config.yaml``): ``k = 3``, 50 features,
``beta_0 = 0.05`` (``eta``), ``decay = 1e-5``. Encoder for frames: their random encoder, a 3x3 stride-2
convolution then three 3x3 stride-1 convolutions (32 filters, ReLU) and a linear layer to 50 with layer
normalisation and tanh, on frames scaled to ``[0, 1]`` (frames under 15 pixels on a side use the universe
convolutions instead, :func:`curiosity.networks.universe_cnn`); for vectors, a ReLU MLP ``(256,)`` with the
same head. Deviations: their SAC code searches all 100,000 replay states and their A2C code the rollout
batch, here the batch plus ``memory_size`` recent states (``memory_size=0``: the batch alone); their code
rewards the raw (SAC) or std-normalised (A2C, inside the log) distance while the paper and this module use
``log(d + 1)``, with ``normalize_bonus=True`` dividing the result by its running std.

References:
    Seo, Chen, Shin, Lee, Abbeel, Lee. State Entropy Maximization with Random Encoders for Efficient
    Exploration. ICML 2021 (arXiv:2102.09430).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from curiosity.base import StdNormalizedBonus
from curiosity.images import ImagePreprocessor, default_scale, is_image_space
from curiosity.inverse_dynamics import feature_map
from curiosity.networks import (
    ENCODER_ARCHS,
    check_encoder_arch,
    flat_output_dim,
    in_chunks,
    mlp,
    rows_per_chunk,
    universe_cnn,
)
from curiosity.pool import RingPool
from curiosity.seeding import resolve_seed, seeded
from curiosity.validation import check_encoder, check_float, check_int, check_sizes, check_state_keys


def random_encoder(
    observation_space: spaces.Box, feature_dim: int, hidden_sizes: Sequence[int], arch: str = "paper"
) -> nn.Module:
    """RE3's random encoder (see the module docstring), ``(batch, *obs_shape) -> (batch, feature_dim)``."""
    if arch != "paper":  # a common family of networks instead of theirs, then their head
        trunk, activation = ENCODER_ARCHS[arch]
        body: nn.Module = feature_map(
            observation_space, feature_dim, hidden_sizes, arch=trunk, activation=activation
        )[0]
    elif is_image_space(observation_space):
        pre = ImagePreprocessor(observation_space.shape, scale=default_scale(observation_space))
        c, h, w = pre.out_shape
        if min(h, w) >= 15:
            convs: nn.Module = nn.Sequential(
                nn.Conv2d(c, 32, 3, stride=2), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(),
                nn.Conv2d(32, 32, 3), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.Flatten(),
            )  # fmt: skip
        else:
            convs = universe_cnn(c, nn.ReLU)
        trunk = nn.Sequential(pre, convs)
        width = flat_output_dim(trunk, tuple(observation_space.shape))
        body = nn.Sequential(trunk, nn.Linear(width, feature_dim))
    else:
        body = nn.Sequential(
            nn.Flatten(), mlp(int(np.prod(observation_space.shape)), hidden_sizes, feature_dim)
        )
    return nn.Sequential(body, nn.LayerNorm(feature_dim), nn.Tanh())


class RE3(StdNormalizedBonus):
    """Random-encoder k-NN state-entropy bonus ``log(1 + ||y - y^kNN||)`` on ``next_obs``.

    Args:
        observation_space: ``Box`` of shape ``(D,)``, or images ``(H, W[, C])`` / ``(C, H, W)``.
        action_space: ``Box`` or ``Discrete`` (unused by the bonus, validated by the contract).
        k: which neighbour (paper: 3).
        feature_dim: width of the random features (paper: 50).
        hidden_sizes: hidden widths of the random MLP for vector observations.
        encoder: optional random (or any frozen) encoder ``(batch, *obs_shape) -> (batch, ...)``, not trained.
        encoder_arch: the networks that read observations: ``"paper"`` (theirs), ``"nature"`` (ReLU
            throughout, the Nature DQN convolutions for frames: rllte's default encoder) or ``"universe"``
            (ELU throughout, ICM's four stride-2 convolutions for frames); then their head. Ignored with
            ``encoder``.
        memory_size: recent next-observation embeddings kept as extra neighbours (0: the batch alone).
        decay: per-transition decay of the bonus weight (paper: 1e-5).
        normalize_bonus: divide bonuses by their running std.
        chunk_size: rows per distance computation (any value gives the same bonuses).
        eta: initial weight ``beta_0`` of the bonus (paper: 0.05).
        seed: seeds the random encoder; ``None`` draws one from torch.
        device: where the encoder and the memory of embeddings live (``"auto"``: CUDA when available).

    Raises:
        ValueError: a hyperparameter out of range.
        TypeError: unsupported spaces, or an ``encoder`` that is not a module.

    References:
        Seo et al. State Entropy Maximization with Random Encoders for Efficient Exploration. ICML 2021.
    """

    accepts_images = True

    def __init__(
        self,
        observation_space: spaces.Box,
        action_space: spaces.Space,
        *,
        k: int = 3,
        feature_dim: int = 50,
        hidden_sizes: Sequence[int] = (256,),
        encoder: nn.Module | None = None,
        encoder_arch: str = "paper",
        memory_size: int = 10_000,
        decay: float = 1e-5,
        normalize_bonus: bool = False,
        chunk_size: int = 1024,
        eta: float = 0.05,
        seed: int | None = None,
        device: str | torch.device = "auto",
    ) -> None:
        super().__init__(observation_space, action_space, eta=eta, device=device)
        self.k = check_int("k", k)
        self.feature_dim = check_int("feature_dim", feature_dim)
        self.hidden_sizes = check_sizes("hidden_sizes", hidden_sizes)
        check_encoder(encoder)
        self.encoder_arch = check_encoder_arch(encoder_arch)
        self.memory_size = check_int("memory_size", memory_size, minimum=0)
        self.decay = check_float("decay", decay, 0.0, 1.0, low_inclusive=True, high_inclusive=False)
        self.chunk_size = check_int("chunk_size", chunk_size)
        self.seed = resolve_seed(seed)
        self.init_normalization(normalize_bonus)
        with seeded(self.seed):
            self.encoder = encoder if encoder is not None else random_encoder(
                observation_space, self.feature_dim, self.hidden_sizes, self.encoder_arch
            )  # fmt: skip
        self.encoder.requires_grad_(False)
        self.encoder.eval()
        self.encoder.to(self.device)
        self.embed_dim = flat_output_dim(self.encoder, tuple(observation_space.shape))
        self.encode_rows = rows_per_chunk(self.encoder, tuple(observation_space.shape))
        self.memory = RingPool(
            max(self.memory_size, 1), {"y": ((self.embed_dim,), torch.float32)}, device=self.device
        )
        self.n_added = 0

    def embed(self, obs: torch.Tensor) -> torch.Tensor:
        """Random features ``f(obs)``, ``(batch, embed_dim)``."""
        with torch.no_grad():
            return in_chunks(lambda x: self.encoder(x.float()).flatten(1), self.encode_rows, obs)

    def knn_distances(self, y: torch.Tensor) -> torch.Tensor:
        """Distance from each row of ``y`` to its k-th nearest neighbour among the batch and the memory."""
        stored = self.memory.data["y"][: len(self.memory)] if self.memory_size else y[:0]
        reference = torch.cat([y, stored])
        k = min(self.k + 1, len(reference))  # +1: each row is its own nearest neighbour, at distance 0
        out = []
        for start in range(0, len(y), self.chunk_size):
            dists = torch.cdist(y[start : start + self.chunk_size], reference)
            out.append(dists.topk(k, dim=1, largest=False).values[:, -1])
        return torch.cat(out)

    # -- the contract ---------------------------------------------------------------------------------
    def compute(self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray) -> np.ndarray:
        """Raw RE3 bonus ``log(1 + d_k)`` per transition, shape ``(batch,)``; changes nothing.

        Args:
            obs: ``(batch, *obs_shape)`` (validated, unused).
            actions: ``(batch, *action_shape)`` or ``(batch,)`` (validated, unused).
            next_obs: ``(batch, *obs_shape)``.

        Raises:
            ValueError: bad shapes or non-finite values.
        """
        _, _, next_t = self.check_batch(obs, actions, next_obs)
        return torch.log1p(self.knn_distances(self.embed(next_t))).cpu().numpy().astype(np.float32)

    def normalize(self, bonus: np.ndarray, update: bool = True) -> np.ndarray:
        """The std normalisation (if on), times the decayed weight factor ``(1 - decay)^t``."""
        scaled = super().normalize(bonus, update)
        return (scaled * (1.0 - self.decay) ** self.n_added).astype(np.float32)

    def add(self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray) -> None:
        """Keep the embeddings of ``next_obs`` as neighbours of later batches; count the transitions."""
        _, _, next_t = self.check_batch(obs, actions, next_obs)
        if self.memory_size:
            self.memory.add(y=self.embed(next_t))
        self.n_added += len(next_t)

    def train(self) -> dict[str, float]:
        """Nothing to learn (the encoder is fixed); returns the memory's size and the weight factor."""
        return {
            "memory_size": float(len(self.memory)),
            "weight_factor": float((1.0 - self.decay) ** self.n_added),
        }

    def state_dict(self) -> dict[str, Any]:
        return {
            "encoder": self.encoder.state_dict(),
            "memory": self.memory.state_dict(),
            "bonus_rms": self.bonus_rms.state_dict(),
            "n_added": self.n_added,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        check_state_keys("RE3", state, ["encoder", "memory", "bonus_rms", "n_added"])
        self.encoder.load_state_dict(state["encoder"])
        self.memory.load_state_dict(state["memory"])
        self.bonus_rms.load_state_dict(state["bonus_rms"])
        self.n_added = int(state["n_added"])
