"""Random Network Distillation: the error of predicting a fixed random network's output.

A target network ``f`` is drawn at random and never trained; a predictor ``f_hat`` is trained to match
it on the observations seen so far. On a next observation ``s'``, with ``x = clip((s' - mu) / sigma, -5, 5)``
(running per-element observation statistics),

    bonus(s') = mean_j (f_hat(x)_j - f(x)_j)^2

which shrinks where the predictor has been trained, i.e. on familiar observations. The paper writes the
squared norm; its code (and this module) takes the mean over the output's dimensions, a constant factor
that the bonus normalisation cancels.

Normalisation. Observations: per-element running mean and std of every ``next_obs`` passed to
:meth:`RND.add`, clipped to ``[-5, 5]``. Bonuses: :meth:`RND.normalize` divides by the running std of the
raw bonuses it sees (no mean subtraction, so bonuses stay non-negative). The paper divides by the running
std of *discounted intrinsic returns*, which needs the rollout's time axis per environment: that filter
belongs in the wrapper that sees the rollout, which can pass ``normalize_bonus=False`` here.

References:
    Burda, Edwards, Storkey, Klimov. Exploration by Random Network Distillation. ICLR 2019
    (arXiv:1810.12894).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from curiosity.base import LearnedBonus
from curiosity.images import ImagePreprocessor, storage_dtype
from curiosity.networks import (
    flat_output_dim,
    in_chunks,
    nature_cnn,
    orthogonal_init,
    rows_per_chunk,
    universe_cnn,
)
from curiosity.normalization import RunningMeanStd
from curiosity.pool import RingPool
from curiosity.seeding import resolve_seed, seeded
from curiosity.validation import check_encoder, check_float, check_int, check_sizes


class RND(LearnedBonus):
    """Random Network Distillation bonus on ``next_obs``.

    Networks: for vectors, target = MLP ``hidden_sizes -> feature_dim``; for images (no ``encoder``), the
    Nature DQN convolutions (the universe head for frames under 36 pixels) with leaky ReLUs, then a linear
    layer to ``feature_dim``. The predictor has the same trunk and, as in the paper, two extra
    ``feature_dim``-wide ReLU layers. Orthogonal initialisation (gain sqrt(2)), as in the paper's code.
    Images are normalised per pixel (so ``uint8`` frames are not divided by 255 first).

    With an ``encoder`` (any module mapping ``(batch, *obs_shape)`` to ``(batch, ...)`` features), RND runs
    on the encoder's flattened features; the encoder is frozen (never trained), moved to ``device`` and saved
    with the bonus.

    Args:
        observation_space: ``Box`` of shape ``(D,)``, or images ``(H, W[, C])`` / ``(C, H, W)``.
        action_space: ``Box`` or ``Discrete`` (unused by the bonus, validated by the contract).
        feature_dim: output width of target and predictor (paper: 512).
        hidden_sizes: hidden widths of the vector trunk.
        encoder: optional frozen feature extractor applied before normalisation.
        predictor_extra_layers: ReLU + linear layers the predictor has beyond the target's architecture
            (paper: 2; 0 gives both networks one architecture, as rllte's RND).
        learning_rate: Adam learning rate of the predictor (paper: 1e-4).
        obs_clip: normalised observations are clipped to ``[-obs_clip, obs_clip]`` (paper: 5).
        normalize_bonus: divide bonuses by their running std in :meth:`normalize`.
        buffer_size: FIFO capacity of stored next observations.
        batch_size: minibatch size of one gradient step.
        gradient_steps: gradient steps per :meth:`train` call (paper: 4 epochs x 4 minibatches = 16).
        eta: scale of the bonus in the reward, ``r + eta * normalize(bonus)`` (paper: intrinsic
            coefficient 1 against an extrinsic one of 2).
        seed: seeds the networks' initialisation and the minibatch sampling; ``None`` draws one from torch.
        device: where the networks, the pool and the statistics live (``"auto"``: CUDA when available).

    Raises:
        ValueError: a hyperparameter out of range.
        TypeError: unsupported spaces, or an ``encoder`` that is not a module.

    References:
        Burda et al. Exploration by Random Network Distillation. ICLR 2019.
    """

    accepts_images = True
    state_components = ("target", "predictor", "optimizer", "obs_rms", "pool")

    def __init__(
        self,
        observation_space: spaces.Box,
        action_space: spaces.Space,
        *,
        feature_dim: int = 512,
        hidden_sizes: Sequence[int] = (256, 256),
        encoder: nn.Module | None = None,
        predictor_extra_layers: int = 2,
        learning_rate: float = 1e-4,
        obs_clip: float = 5.0,
        normalize_bonus: bool = True,
        buffer_size: int = 10_000,
        batch_size: int = 256,
        gradient_steps: int = 16,
        eta: float = 1.0,
        seed: int | None = None,
        device: str | torch.device = "auto",
    ) -> None:
        super().__init__(observation_space, action_space, eta=eta, device=device)
        self.feature_dim = check_int("feature_dim", feature_dim)
        self.hidden_sizes = check_sizes("hidden_sizes", hidden_sizes)
        self.encoder = check_encoder(encoder)
        self.predictor_extra_layers = check_int("predictor_extra_layers", predictor_extra_layers, minimum=0)
        if self.encoder is not None:
            self.encoder.to(self.device)
        self.learning_rate = check_float("learning_rate", learning_rate, high_inclusive=False)
        self.obs_clip = check_float("obs_clip", obs_clip)
        self.init_normalization(normalize_bonus)
        self.batch_size = check_int("batch_size", batch_size)
        self.gradient_steps = check_int("gradient_steps", gradient_steps)
        self.seed = resolve_seed(seed)

        obs_shape = tuple(observation_space.shape)
        with seeded(self.seed):
            if self.encoder is not None:
                self.input_shape: tuple[int, ...] = (flat_output_dim(self.encoder, obs_shape),)
            else:
                self.input_shape = obs_shape
            self.target = orthogonal_init(self._network(extra_layers=0)).to(self.device)
            self.predictor = orthogonal_init(self._network(self.predictor_extra_layers)).to(self.device)
            self.encode_rows = rows_per_chunk(self.predictor, self.input_shape)
        self.target.requires_grad_(False)
        self.optimizer = torch.optim.Adam(self.predictor.parameters(), lr=self.learning_rate)
        self.obs_rms = RunningMeanStd(self.input_shape, device=self.device)
        self.pool = RingPool(
            buffer_size, {"next_obs": (obs_shape, storage_dtype(observation_space))}, device=self.device
        )
        self.generator = torch.Generator().manual_seed(self.seed)
        self.n_updates = 0

    def _network(self, extra_layers: int) -> nn.Sequential:
        """Trunk, a linear layer to ``feature_dim``, then ``extra_layers`` ReLU + linear layers."""
        if len(self.input_shape) > 1:  # images, normalised per pixel: transpose only
            pre = ImagePreprocessor(self.input_shape)
            c, h, w = pre.out_shape
            convs = nature_cnn(c, nn.LeakyReLU) if min(h, w) >= 36 else universe_cnn(c, nn.LeakyReLU)
            trunk = nn.Sequential(pre, convs)
            width = flat_output_dim(trunk, self.input_shape)
        else:
            hidden: list[nn.Module] = []
            width = self.input_shape[0]
            for h in self.hidden_sizes:
                hidden += [nn.Linear(width, h), nn.LeakyReLU()]
                width = h
            trunk = nn.Sequential(*hidden)
        layers: list[nn.Module] = [trunk, nn.Linear(width, self.feature_dim)]
        for _ in range(extra_layers):
            layers += [nn.ReLU(), nn.Linear(self.feature_dim, self.feature_dim)]
        return nn.Sequential(*layers)

    # -- maths ----------------------------------------------------------------------------------------
    def _inputs(self, next_obs: torch.Tensor) -> torch.Tensor:
        """Network inputs before normalisation: the encoder's flat features, or the observation itself."""
        if self.encoder is None:
            return next_obs.float()
        with torch.no_grad():
            return self.encoder(next_obs.float()).flatten(1)

    def _normalized(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.obs_rms.normalize(inputs).clamp_(-self.obs_clip, self.obs_clip)

    def prediction_error(self, next_obs: torch.Tensor) -> torch.Tensor:
        """Differentiable ``mean_j (f_hat(x) - f(x))_j^2``, shape ``(batch,)``, from raw ``next_obs``."""
        return in_chunks(self._prediction_error, self.encode_rows, next_obs)

    def _prediction_error(self, next_obs: torch.Tensor) -> torch.Tensor:
        x = self._normalized(self._inputs(next_obs))
        return (self.predictor(x) - self.target(x)).pow(2).mean(dim=1)

    # -- the contract ---------------------------------------------------------------------------------
    def compute(self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray) -> np.ndarray:
        """Raw RND bonus of each ``next_obs``, shape ``(batch,)``; changes nothing.

        Args:
            obs: ``(batch, *obs_shape)`` (validated, unused).
            actions: ``(batch, *action_shape)`` or ``(batch,)`` (validated, unused).
            next_obs: ``(batch, *obs_shape)``.

        Raises:
            ValueError: bad shapes or non-finite values.
        """
        _, _, next_t = self.check_batch(obs, actions, next_obs)
        with torch.no_grad():
            return self.prediction_error(next_t).cpu().numpy().astype(np.float32)

    def add(self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray) -> None:
        """Store ``next_obs`` for training and fold it into the observation statistics."""
        _, _, next_t = self.check_batch(obs, actions, next_obs)
        self.pool.add(next_obs=next_t)
        self.obs_rms.update(next_t if self.encoder is None else self._inputs(next_t))

    def train(self) -> dict[str, float]:
        """``gradient_steps`` Adam steps on minibatches drawn uniformly from the pool.

        Returns:
            ``{"loss": mean prediction error over the steps}``, or ``{}`` when nothing is stored.
        """
        if len(self.pool) == 0:
            return {}
        losses = []
        for _ in range(self.gradient_steps):
            idx = self.pool.sample_indices((self.batch_size,), self.generator)
            loss = self.prediction_error(self.pool.get("next_obs", idx)).mean()
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            losses.append(loss.item())
        self.n_updates += self.gradient_steps
        return {"loss": float(np.mean(losses))}
