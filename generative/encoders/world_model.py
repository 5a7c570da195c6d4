"""A latent world model: a frame encoder, VIME's Bayesian dynamics in latent space, and a decoder.

``z = encoder(frame)`` (the posterior mean of a :class:`~generative.encoders.FrameVAE` or of an
:class:`~generative.encoders.IAFVAEEncoder`), a :class:`curiosity.bnn.BNN` models the latent step
``z' - z ~ p(. | z, a)`` (standardised inputs and targets, as VIME does for states), and the encoder's
decoder turns latents back into frames. :meth:`WorldModel.imagine` rolls the dynamics forward from real
frames under a sequence of actions, sampling one set of BNN weights per trajectory step (``sample=True``)
or using the posterior mean; imagined latents are clipped to ``[-latent_clip, latent_clip]`` (in units of
the latent standard deviation seen in training) so that long rollouts stay finite. :func:`save_strip` and
:func:`save_gif` write imagined frames as a PNG strip or an animated GIF (Pillow, a matplotlib dependency).

References:
    Houthooft et al., "VIME: Variational Information Maximizing Exploration", NIPS 2016 (the BNN).
    Ha and Schmidhuber, "World Models", 2018 (a VAE encoder with latent dynamics, imagined rollouts).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from curiosity.base import action_dim, encode_actions
from curiosity.bnn import BNN
from curiosity.normalization import RunningMeanStd
from curiosity.seeding import seeded
from curiosity.validation import check_float, check_int
from generative.encoders.base import StateEncoder


class Imagined(NamedTuple):
    """An imagined rollout.

    Attributes:
        latents: ``(batch, horizon + 1, latent_dim)``, the encoded start then each predicted latent.
        frames: ``(batch, horizon + 1, S, S, c)`` decoded frames, float in ``[0, 1]`` (channel-last).
    """

    latents: torch.Tensor
    frames: torch.Tensor


class WorldModel(nn.Module):
    """Encoder + BNN latent dynamics + decoder.

    Args:
        encoder: a :class:`~generative.encoders.StateEncoder` with a ``decode(z) -> (N, c, S, S)`` method and
            ``frame_stack == 1`` (e.g. :class:`~generative.encoders.FrameVAE`); ideally pretrained.
        action_space: ``Box`` (1-D) or ``Discrete`` actions (one-hot).
        hidden_sizes: BNN hidden layers.
        likelihood_std: BNN likelihood std on standardised latent steps.
        prior_std: BNN prior std.
        init_sigma: initial BNN posterior std.
        learning_rate: Adam learning rate of the dynamics (and of nothing else: the encoder trains with its
            own ``train_step``).
        n_train_samples: Monte Carlo weight samples per ELBO.
        latent_clip: imagined latents are kept within ``mean +- latent_clip * std`` of the training latents.
        seed: seeds the BNN's weights and its noise.

    Raises:
        TypeError: an encoder without ``decode``, or an unsupported action space.
        ValueError: a stacked-frame encoder or a bad hyperparameter.
    """

    def __init__(
        self,
        encoder: StateEncoder,
        action_space: spaces.Space,
        hidden_sizes: Sequence[int] = (64, 64),
        likelihood_std: float = 0.1,
        prior_std: float = 0.5,
        init_sigma: float = 0.01,
        learning_rate: float = 1e-3,
        n_train_samples: int = 1,
        latent_clip: float = 5.0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if not callable(getattr(encoder, "decode", None)):
            raise TypeError(
                f"the world model needs an encoder with decode(z); {type(encoder).__name__} has none"
            )
        if getattr(encoder, "frame_stack", 1) != 1:
            raise ValueError(
                f"the world model decodes single frames: use frame_stack=1, got {encoder.frame_stack}"
            )
        if not isinstance(action_space, (spaces.Box, spaces.Discrete)):
            raise TypeError(f"action_space must be Box or Discrete, got {action_space}")
        self.encoder, self.action_space = encoder, action_space
        self.latent_dim, self.action_dim = encoder.feature_dim, action_dim(action_space)
        self.n_train_samples = check_int("n_train_samples", n_train_samples)
        self.latent_clip = check_float("latent_clip", latent_clip)
        self.generator = torch.Generator().manual_seed(seed)
        with seeded(seed):
            self.dynamics = BNN(
                self.latent_dim + self.action_dim, self.latent_dim, hidden_sizes, prior_std=prior_std,
                init_sigma=init_sigma, init_mu_std=0.1, likelihood_std=likelihood_std,
            )  # fmt: skip
        self.optimizer = torch.optim.Adam(
            self.dynamics.parameters(), lr=check_float("learning_rate", learning_rate)
        )
        self.z_stats = RunningMeanStd((self.latent_dim,))
        self.dz_stats = RunningMeanStd((self.latent_dim,))

    # -- dynamics -------------------------------------------------------------------------------------
    @torch.no_grad()
    def encode(self, frames: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Latents ``(B, latent_dim)`` of raw frames ``(B, *frame_shape)`` (evaluation mode)."""
        self.encoder.eval()
        return self.encoder(frames)

    def _inputs(self, z: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.z_stats.normalize(z).clamp(-10, 10), actions.to(z.device)], dim=1)

    def step(self, z: torch.Tensor, actions: np.ndarray | torch.Tensor, sample: bool = True) -> torch.Tensor:
        """Next latents ``(B, latent_dim)`` from latents ``(B, latent_dim)`` and actions ``(B, ...)``.

        ``sample=True`` draws one BNN weight sample (local reparameterisation) per row; ``False`` uses the
        posterior mean. The result is clipped to ``mean +- latent_clip * std`` of the training latents.
        """
        a = encode_actions(np.asarray(actions), self.action_space)
        x = self._inputs(z, a)
        with torch.no_grad():
            out = self.dynamics(x, 1, self.generator)[0] if sample else self.dynamics.predict_mean(x)
        dz = out * (self.dz_stats.std.to(z) + 1e-8) + self.dz_stats.mean.to(z)  # statistics live on the CPU
        mean, std = self.z_stats.mean.to(z), self.z_stats.std.to(z)
        return torch.maximum(
            torch.minimum(z + dz, mean + self.latent_clip * std), mean - self.latent_clip * std
        )

    def train_dynamics(
        self,
        obs: np.ndarray,
        actions: np.ndarray,
        next_obs: np.ndarray,
        steps: int = 100,
        batch_size: int = 64,
    ) -> dict[str, float]:
        """Fit the BNN on transitions (frames encoded once with the current encoder).

        Args:
            obs: ``(N, *frame_shape)`` frames.
            actions: ``(N, ...)`` actions.
            next_obs: ``(N, *frame_shape)`` frames.
            steps: Adam steps on the negative ELBO.
            batch_size: transitions per step.

        Returns:
            ``loss`` of the first and the last step (``loss_first``, ``loss_last``) and the mean ``kl`` and
            ``log_likelihood`` over the steps.

        Raises:
            ValueError: mismatched batch sizes.
        """
        if not len(obs) == len(actions) == len(next_obs):
            raise ValueError(
                f"batch sizes differ: obs {len(obs)}, actions {len(actions)}, next_obs {len(next_obs)}"
            )
        z, z_next = self.encode(obs), self.encode(next_obs)
        a = encode_actions(np.asarray(actions), self.action_space)
        self.z_stats.update(z)
        self.dz_stats.update(z_next - z)
        x, y = self._inputs(z, a), self.dz_stats.normalize(z_next - z)
        losses, parts_sum = [], {"kl": 0.0, "log_likelihood": 0.0}
        n_batches = max(1.0, len(x) / batch_size)
        for _ in range(check_int("steps", steps)):
            idx = torch.randint(0, len(x), (min(batch_size, len(x)),), generator=self.generator)
            loss, parts = self.dynamics.loss(x[idx], y[idx], self.n_train_samples, n_batches, self.generator)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            losses.append(parts["loss"])
            parts_sum = {k: v + parts[k] for k, v in parts_sum.items()}
        return {
            "loss_first": losses[0],
            "loss_last": losses[-1],
            **{k: v / steps for k, v in parts_sum.items()},
        }

    # -- imagination ----------------------------------------------------------------------------------
    @torch.no_grad()
    def imagine(
        self, frames: torch.Tensor | np.ndarray, actions: np.ndarray | torch.Tensor, sample: bool = True
    ) -> Imagined:
        """Roll the latent dynamics forward from real frames and decode every step.

        Args:
            frames: ``(B, *frame_shape)`` start frames (or one frame ``frame_shape``, then ``B = 1``).
            actions: ``(horizon, B, ...)`` actions (``(horizon, B)`` integers for ``Discrete``), or
                ``(horizon, ...)`` applied to every start frame.
            sample: sample BNN weights per step (``True``) or use the posterior mean.

        Returns:
            An :class:`Imagined` with ``latents`` ``(B, horizon + 1, latent_dim)`` and ``frames``
            ``(B, horizon + 1, S, S, c)`` in ``[0, 1]``.

        Raises:
            ValueError: frames or actions of the wrong shape.
        """
        frames = torch.as_tensor(np.asarray(frames)) if not isinstance(frames, torch.Tensor) else frames
        if tuple(frames.shape) == tuple(self.encoder.frame_shape):
            frames = frames.unsqueeze(0)
        z = self.encode(frames)
        actions = np.asarray(actions)
        per_step = 0 if isinstance(self.action_space, spaces.Discrete) else 1
        if actions.ndim == 1 + per_step:  # the same actions for every start frame
            actions = np.repeat(actions[:, None], len(z), axis=1)
        if actions.ndim != 2 + per_step or actions.shape[1] != len(z):
            raise ValueError(
                f"actions must have shape (horizon, {len(z)}, ...) or (horizon, ...), got {actions.shape}"
            )
        latents = [z]
        for a in actions:
            latents.append(self.step(latents[-1], a, sample=sample))
        stacked = torch.stack(latents, dim=1)
        decoded = self.encoder.decode(stacked.reshape(-1, self.latent_dim))
        decoded = decoded.reshape(len(z), len(latents), *decoded.shape[1:]).permute(0, 1, 3, 4, 2)
        return Imagined(stacked, decoded)

    def get_extra_state(self) -> dict[str, Any]:
        """Optimiser, latent statistics and noise generator, saved by ``state_dict()`` with the weights."""
        return {
            "optimizer": self.optimizer.state_dict(),
            "z_stats": self.z_stats.state_dict(),
            "dz_stats": self.dz_stats.state_dict(),
            "rng": self.generator.get_state(),
        }

    def set_extra_state(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(copy.deepcopy(state["optimizer"]))  # Adam would alias its tensors
        self.z_stats.load_state_dict(state["z_stats"])
        self.dz_stats.load_state_dict(state["dz_stats"])
        self.generator.set_state(state["rng"].clone())


# -- pictures ------------------------------------------------------------------------------------------


def to_uint8_frames(frames: torch.Tensor | np.ndarray) -> np.ndarray:
    """``(T, H, W, c)`` floats in ``[0, 1]`` (or uint8) to ``(T, H, W, 3)`` uint8 RGB.

    Raises:
        ValueError: not a ``(T, H, W, 1 or 3)`` array.
    """
    arr = frames.detach().cpu().numpy() if isinstance(frames, torch.Tensor) else np.asarray(frames)
    if arr.ndim != 4 or arr.shape[-1] not in (1, 3):
        raise ValueError(f"frames must have shape (T, H, W, 1 or 3), got {arr.shape}")
    if arr.dtype != np.uint8:
        arr = np.rint(np.clip(arr, 0.0, 1.0) * 255).astype(np.uint8)
    return np.repeat(arr, 3, axis=-1) if arr.shape[-1] == 1 else arr


def save_strip(frames: torch.Tensor | np.ndarray, path: str | os.PathLike, scale: int = 2) -> Path:
    """Write frames ``(T, H, W, c)`` side by side as one PNG, each magnified ``scale`` times (nearest).

    Args:
        frames: floats in ``[0, 1]`` or uint8, grey or RGB (e.g. ``Imagined.frames[0]``).
        path: the PNG file.
        scale: integer magnification.

    Returns:
        The path written (parents created).
    """
    from PIL import Image

    arr = to_uint8_frames(frames)
    strip = np.concatenate(list(arr), axis=1)
    image = Image.fromarray(strip)
    image = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def save_gif(
    frames: torch.Tensor | np.ndarray, path: str | os.PathLike, scale: int = 2, frame_ms: int = 100
) -> Path:
    """Write frames ``(T, H, W, c)`` as an animated GIF (looping, ``frame_ms`` per frame).

    Pillow stores identical consecutive frames once, with their durations added.

    Returns:
        The path written (parents created).
    """
    from PIL import Image

    arr = to_uint8_frames(frames)
    images = [
        Image.fromarray(f).resize((f.shape[1] * scale, f.shape[0] * scale), Image.Resampling.NEAREST)
        for f in arr
    ]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(path, save_all=True, append_images=images[1:], duration=frame_ms, loop=0)
    return path
