"""A convolutional VAE (or plain autoencoder) for RL frames, as a state encoder."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from curiosity.seeding import seeded
from curiosity.validation import check_int
from generative.encoders.base import StateEncoder


class FrameVAE(StateEncoder):
    """Convolutional VAE (or plain autoencoder) for RL frames; features are the posterior mean.

    Encoder: three 4x4 stride-2 convolutions (``channels``, ``2 channels``, ``2 channels``, ReLU) to
    ``S/8 x S/8`` maps, then a linear layer to ``(mu, log_sigma)``. Decoder: the mirror image with
    transposed convolutions, to per-pixel logits. Likelihood: continuous Bernoulli-style cross-entropy
    of the pixel intensities in ``[0, 1]`` (sharper than a Gaussian on mostly flat frames), summed over
    pixels. Loss per frame: ``reconstruction + kl_weight * KL(q(z|x) || N(0, I))``; with
    ``variational=False`` the code is ``mu`` itself and the loss the reconstruction only.

    Args:
        frame_shape: one observation's shape (see :class:`StateEncoder`).
        latent_dim: per-frame feature width.
        image_size: side of the square model images (a multiple of 8; frames are resized to it).
        grayscale: model grey frames instead of RGB.
        channels: width of the first convolution.
        variational: VAE (``True``) or deterministic autoencoder.
        kl_weight: weight of the KL term (1: the ELBO; ``beta`` of a beta-VAE).
        learning_rate: Adam learning rate of :meth:`train_step`.
        frame_stack: frames stacked along the channel axis.
        channels_last: channel axis of ``frame_shape`` (``None``: infer).
        input_range: inputs are divided by this.
        seed: seeds the initial weights and the posterior noise.

    Raises:
        ValueError: a bad size or hyperparameter.
    """

    def __init__(
        self,
        frame_shape: Sequence[int],
        latent_dim: int = 16,
        image_size: int = 64,
        grayscale: bool = False,
        channels: int = 32,
        variational: bool = True,
        kl_weight: float = 1.0,
        learning_rate: float = 1e-3,
        frame_stack: int = 1,
        channels_last: bool | None = None,
        input_range: float = 255.0,
        seed: int = 0,
    ) -> None:
        super().__init__(frame_shape, image_size, grayscale, frame_stack, channels_last, input_range)
        if image_size % 8:
            raise ValueError(f"image_size must be a multiple of 8 (three stride-2 stages), got {image_size}")
        if not kl_weight >= 0:
            raise ValueError(f"kl_weight must be >= 0, got {kl_weight!r}")
        self.per_frame_dim = check_int("latent_dim", latent_dim)
        self.variational, self.kl_weight = bool(variational), float(kl_weight)
        c, c2, s, ci = check_int("channels", channels), 2 * channels, image_size // 8, self.image_channels
        self.generator = torch.Generator().manual_seed(seed)
        with seeded(seed):
            self.encoder = nn.Sequential(
                nn.Conv2d(ci, c, 4, 2, 1), nn.ReLU(), nn.Conv2d(c, c2, 4, 2, 1), nn.ReLU(),
                nn.Conv2d(c2, c2, 4, 2, 1), nn.ReLU(), nn.Flatten(), nn.Linear(c2 * s * s, 2 * latent_dim),
            )  # fmt: skip
            self.decoder = nn.Sequential(
                nn.Linear(latent_dim, c2 * s * s), nn.ReLU(), nn.Unflatten(1, (c2, s, s)),
                nn.ConvTranspose2d(c2, c2, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(c2, c, 4, 2, 1), nn.ReLU(),
                nn.ConvTranspose2d(c, ci, 4, 2, 1),
            )  # fmt: skip
        self.optimizers["adam"] = torch.optim.Adam(self.parameters(), lr=learning_rate)

    def posterior(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu, log_sigma)``, each ``(N, latent_dim)``, of model images ``(N, c, S, S)``."""
        mu, log_sigma = self.encoder(2 * images - 1).chunk(2, dim=1)
        return mu, log_sigma.clamp(-8.0, 4.0)

    def encode_images(self, images: torch.Tensor) -> torch.Tensor:
        return self.posterior(images)[0]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel intensities ``(N, c, S, S)`` in ``[0, 1]`` decoded from latents ``(N, latent_dim)``."""
        return torch.sigmoid(self.decoder(z))

    def loss(self, frames: torch.Tensor | np.ndarray) -> dict[str, torch.Tensor]:
        """Batch means of ``loss`` (to minimise), ``rec`` (reconstruction error) and ``kl`` (nats/frame)."""
        images = self.frames_to_images(frames)
        mu, log_sigma = self.posterior(images)
        z = mu
        kl = torch.zeros((), device=mu.device)
        if self.variational:
            eps = torch.randn(mu.shape, generator=self.generator).to(mu.device)  # same draws on any device
            z = mu + log_sigma.exp() * eps
            kl = (0.5 * (mu.pow(2) + (2 * log_sigma).exp() - 1) - log_sigma).sum(1).mean()
        logits = self.decoder(z)
        rec = F.binary_cross_entropy_with_logits(logits, images, reduction="none").flatten(1).sum(1).mean()
        return {"loss": rec + self.kl_weight * kl, "rec": rec, "kl": kl}

    @torch.no_grad()
    def reconstruct(self, frames: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Decoded posterior means ``(B * frame_stack, c, S, S)``, and the model images they reproduce."""
        return self.decode(self.encode_images(self.frames_to_images(frames)))

    @torch.no_grad()
    def reconstruction_error(self, frames: torch.Tensor | np.ndarray) -> float:
        """Mean squared error per pixel between model images and their reconstructions."""
        return float((self.reconstruct(frames) - self.frames_to_images(frames)).pow(2).mean())

    def train_step(self, frames: torch.Tensor | np.ndarray) -> dict[str, float]:
        """One Adam step on :meth:`loss`."""
        self.train()
        parts = self.loss(frames)
        self._step("adam", parts["loss"])
        self.eval()
        return {key: float(value.detach()) for key, value in parts.items()}
