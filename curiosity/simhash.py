"""Count-based exploration with SimHash: counts of a locality-sensitive hash of the state.

Observations are mapped to ``k``-bit codes by signed random projections (SimHash, Charikar 2002):

    phi(s) = sgn(A g(s)),      A in R^{k x D},  A_ij ~ N(0, 1)

with ``g`` a preprocessor: the identity for vectors; for images a grey, downsampled, centred frame
(:class:`GreyDownsample`); or any frozen ``encoder``. Nearby states share codes, so counting codes
``n(phi(s))`` in a hash table generalises counting to continuous and high-dimensional states. The bonus on
the next state is

    bonus(s') = 1 / sqrt(n(phi(s')))

and the reward ``r + eta * bonus``: the paper's ``beta`` is this toolkit's ``eta`` (default 0.01, theirs for
continuous control).

Counts move only in :meth:`SimHash.add` (every ``next_obs`` added counts once), never in ``compute``. In
the paper the table is updated with a batch before its bonuses are computed, so a state being rewarded
has ``n >= 1``; here a code never counted is treated as ``n = 1`` (bonus 1, the largest), so the
order of ``add`` and ``compute`` changes a bonus by at most one count.

References:
    Tang, Houthooft, Foote, Stooke, Chen, Duan, Schulman, De Turck, Abbeel. #Exploration: A Study of
    Count-Based Exploration for Deep Reinforcement Learning. NIPS 2017 (arXiv:1611.04717).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from gymnasium import spaces
from torch import nn

from curiosity.base import IntrinsicBonus
from curiosity.images import ImagePreprocessor, default_scale, is_image_space
from curiosity.networks import flat_output_dim
from curiosity.seeding import resolve_seed
from curiosity.validation import check_encoder, check_int, check_state_keys


class GreyDownsample(nn.Module):
    """Frames to flat grey thumbnails: ``(batch, *obs_shape)`` to ``(batch, h * w)`` in ``[-0.5, 0.5]``.

    Channels are averaged; the frame is average-pooled to at most ``size x size`` (smaller frames are kept)
    and centred (minus 0.5, pixels being in ``[0, 1]``), so that the sign projections are not all
    dominated by the frame's mean brightness.

    Args:
        observation_space: an image space (see :mod:`curiosity.images` for the layouts).
        size: side of the thumbnail (paper, Atari: 52).
        channels_last: channel axis, ``None`` to infer it.
    """

    def __init__(self, observation_space: spaces.Box, size: int, channels_last: bool | None = None) -> None:
        super().__init__()
        self.pre = ImagePreprocessor(observation_space.shape, channels_last, default_scale(observation_space))
        _, h, w = self.pre.out_shape
        self.out_hw = (min(size, h), min(size, w))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        grey = self.pre(x).mean(dim=1, keepdim=True)
        return F.adaptive_avg_pool2d(grey, self.out_hw).flatten(1) - 0.5


class SimHash(IntrinsicBonus):
    """SimHash count bonus ``1 / sqrt(n(phi(s')))`` on ``next_obs``, in the reward as ``eta`` times it.

    The hash table is a dict from packed codes to counts; :meth:`state_dict` stores it as two tensors
    (``codes``: ``(n, ceil(k / 8))`` packed bits, ``counts``: ``(n,)``), with the projection ``A``.
    Projections are computed in float64.

    Args:
        observation_space: ``Box`` of shape ``(D,)``, or images ``(H, W[, C])`` / ``(C, H, W)``.
        action_space: ``Box`` or ``Discrete`` (unused by the bonus, validated by the contract).
        k: code length in bits (paper: 32 for continuous control, up to 256 on Atari pixels).
        encoder: optional frozen preprocessor ``g``, any module ``(batch, *obs_shape) -> (batch, ...)``.
        image_size: thumbnail side of the default image preprocessor (paper: 52).
        channels_last: channel axis of image observations, ``None`` to infer it.
        eta: scale of the bonus in the reward, ``r + eta * bonus`` (the paper's ``beta``: 0.01 for
            continuous control).
        seed: seeds the projection ``A``; ``None`` draws one from torch.
        device: where the preprocessor and the projection run (``"auto"``: CUDA when available); the hash
            table stays in host memory.

    Raises:
        ValueError: a hyperparameter out of range.
        TypeError: unsupported spaces, or an ``encoder`` that is not a module.

    References:
        Tang et al. #Exploration: A Study of Count-Based Exploration for Deep RL. NIPS 2017.
    """

    accepts_images = True

    def __init__(
        self,
        observation_space: spaces.Box,
        action_space: spaces.Space,
        *,
        k: int = 32,
        encoder: nn.Module | None = None,
        image_size: int = 52,
        channels_last: bool | None = None,
        eta: float = 0.01,
        seed: int | None = None,
        device: str | torch.device = "auto",
    ) -> None:
        super().__init__(observation_space, action_space, eta=eta, device=device)
        self.k = check_int("k", k)
        self.encoder = check_encoder(encoder)
        self.image_size = check_int("image_size", image_size)
        self.seed = resolve_seed(seed)
        obs_shape = tuple(observation_space.shape)
        if self.encoder is not None:
            self.preprocess: nn.Module = self.encoder
        elif is_image_space(observation_space):
            self.preprocess = GreyDownsample(observation_space, self.image_size, channels_last)
        else:
            self.preprocess = nn.Flatten()
        self.preprocess.to(self.device)
        self.input_dim = flat_output_dim(self.preprocess, obs_shape)
        generator = torch.Generator().manual_seed(self.seed)
        projection = torch.randn(self.k, self.input_dim, generator=generator, dtype=torch.float64)
        self.projection = projection.to(self.device)
        self.table: dict[bytes, int] = {}

    # -- maths ----------------------------------------------------------------------------------------
    def _codes(self, obs: torch.Tensor) -> np.ndarray:
        """Packed codes ``(batch, ceil(k / 8))`` uint8 of ``sgn(A g(obs))`` (bit 1 where positive)."""
        with torch.no_grad():
            g = self.preprocess(obs.float()).flatten(1).double()
        bits = (g @ self.projection.T > 0).cpu().numpy()
        return np.packbits(bits, axis=1)

    def hash_codes(self, obs: np.ndarray) -> np.ndarray:
        """The ``k`` bits of ``sgn(A g(obs))`` per observation, ``(batch, k)`` bool (True where positive)."""
        obs_t, _, _ = self.check_batch(obs, self._dummy_actions(len(obs)), obs)
        return np.unpackbits(self._codes(obs_t), axis=1, count=self.k).astype(bool)

    def counts(self, obs: np.ndarray) -> np.ndarray:
        """Current count ``n(phi(obs))`` per observation, ``(batch,)`` int64 (0 for unseen codes)."""
        obs_t, _, _ = self.check_batch(obs, self._dummy_actions(len(obs)), obs)
        return self._lookup(self._codes(obs_t))

    def _lookup(self, codes: np.ndarray) -> np.ndarray:
        return np.array([self.table.get(c.tobytes(), 0) for c in codes], dtype=np.int64)

    def _dummy_actions(self, n: int) -> np.ndarray:
        if isinstance(self.action_space, spaces.Discrete):
            return np.full(n, self.action_space.start)
        return np.zeros((n, self.action_dim))

    # -- the contract ---------------------------------------------------------------------------------
    def compute(self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray) -> np.ndarray:
        """Raw bonus ``1 / sqrt(max(n(phi(s')), 1))`` per transition, shape ``(batch,)``; changes nothing.

        Args:
            obs: ``(batch, *obs_shape)`` (validated, unused).
            actions: ``(batch, *action_shape)`` or ``(batch,)`` (validated, unused).
            next_obs: ``(batch, *obs_shape)``.

        Raises:
            ValueError: bad shapes, actions out of range, or non-finite values.
        """
        _, _, next_t = self.check_batch(obs, actions, next_obs)
        n = np.maximum(self._lookup(self._codes(next_t)), 1)
        return (1.0 / np.sqrt(n)).astype(np.float32)

    def add(self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray) -> None:
        """Count the code of every ``next_obs`` once."""
        _, _, next_t = self.check_batch(obs, actions, next_obs)
        for code in self._codes(next_t):
            key = code.tobytes()
            self.table[key] = self.table.get(key, 0) + 1

    def train(self) -> dict[str, float]:
        """Nothing to learn (counting happens in :meth:`add`); returns the table's size for logging."""
        return {"distinct_codes": float(len(self.table)), "total_count": float(sum(self.table.values()))}

    def state_dict(self) -> dict[str, Any]:
        n_bytes = (self.k + 7) // 8
        codes = np.frombuffer(b"".join(self.table), dtype=np.uint8).reshape(len(self.table), n_bytes)
        state = {
            "projection": self.projection.clone(),
            "codes": torch.from_numpy(codes.copy()),
            "counts": torch.tensor(list(self.table.values()), dtype=torch.int64),
        }
        if self.encoder is not None:
            state["encoder"] = self.encoder.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        keys = ["projection", "codes", "counts"] + (["encoder"] if self.encoder is not None else [])
        check_state_keys("SimHash", state, keys)
        if tuple(state["projection"].shape) != tuple(self.projection.shape):
            raise ValueError(
                f"projection of shape {tuple(state['projection'].shape)} does not fit k={self.k}, "
                f"input width {self.input_dim}"
            )
        codes, counts = state["codes"].numpy(), state["counts"].tolist()
        self.projection = state["projection"].to(self.device, torch.float64, copy=True)
        self.table = {code.tobytes(): int(n) for code, n in zip(codes, counts, strict=True)}
        if self.encoder is not None:
            self.encoder.load_state_dict(state["encoder"])
