"""InfoGAN's MNIST generator and the discriminator whose trunk is shared by the Q head.

Architecture of the original MNIST model (Chen et al. 2016, appendix C.1; openai/InfoGAN
``regularized_gan.py``), widths scalable for tests:

* D/Q trunk: conv 4x4 stride 2, ``channels``, leaky ReLU -> conv 4x4 stride 2, ``2 * channels``, BN,
  leaky ReLU -> dense ``hidden``, BN, leaky ReLU.
* D head: dense 1 (a logit). Q head: dense ``q_hidden``, BN, leaky ReLU -> dense code parameters.
* G: dense ``hidden``, BN, ReLU -> dense 7x7x(2 * channels), BN, ReLU -> deconv 4x4 stride 2
  ``channels``, BN, ReLU -> deconv 4x4 stride 2 to one channel -> sigmoid (pixel intensities in [0, 1],
  the mean of the original's Bernoulli output).

Initialisation follows the original: weights N(0, 0.02), biases 0, BN scales N(1, 0.02); its leaky
ReLU slope is 0.01.
"""

from __future__ import annotations

import torch
from torch import nn

IMAGE_SHAPE = (1, 28, 28)


def check_widths(channels: int, hidden: int, q_hidden: int, leak: float) -> None:
    """Validate network widths.

    Raises:
        ValueError: a width < 1 or a leaky-ReLU slope outside [0, 1).
    """
    for name, value in (("channels", channels), ("hidden", hidden), ("q_hidden", q_hidden)):
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    if not 0 <= leak < 1:
        raise ValueError(f"leak (leaky ReLU slope) must be in [0, 1), got {leak}")


def init_weights(module: nn.Module) -> None:
    """The original initialisation: N(0, 0.02) weights and zero biases; BN scales N(1, 0.02)."""
    if isinstance(module, nn.Linear | nn.Conv2d | nn.ConvTranspose2d):
        nn.init.normal_(module.weight, 0.0, 0.02)
        nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm1d | nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class Generator(nn.Module):
    """Maps a latent vector to a 28x28 image.

    Args:
        latent_dim: input width (``LatentSpec.dim``).
        channels: channels of the last hidden feature map (64 in the paper; the first has twice as many).
        hidden: width of the first dense layer (1024 in the paper).
    """

    def __init__(self, latent_dim: int, channels: int = 64, hidden: int = 1024) -> None:
        super().__init__()
        check_widths(channels, hidden, 1, 0.0)
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2 * channels * 7 * 7),
            nn.BatchNorm1d(2 * channels * 7 * 7),
            nn.ReLU(),
            nn.Unflatten(1, (2 * channels, 7, 7)),
            nn.ConvTranspose2d(2 * channels, channels, 4, stride=2, padding=1),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
            nn.ConvTranspose2d(channels, 1, 4, stride=2, padding=1),
            nn.Sigmoid(),
        )
        self.apply(init_weights)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """``(batch, latent_dim)`` latents -> ``(batch, 1, 28, 28)`` images in [0, 1]."""
        return self.net(z)


class DiscriminatorQ(nn.Module):
    """The discriminator and the Q network, sharing one convolutional trunk.

    Args:
        q_output_dim: width of the Q head's output (``LatentSpec.q_output_dim``).
        channels: channels of the first convolution (64 in the paper; the second has twice as many).
        hidden: width of the trunk's dense layer (1024 in the paper).
        q_hidden: width of the Q head's hidden layer (128 in the paper).
        leak: leaky ReLU slope (0.01 in the original code).
    """

    def __init__(
        self,
        q_output_dim: int,
        channels: int = 64,
        hidden: int = 1024,
        q_hidden: int = 128,
        leak: float = 0.01,
    ) -> None:
        super().__init__()
        check_widths(channels, hidden, q_hidden, leak)
        self.trunk = nn.Sequential(
            nn.Conv2d(1, channels, 4, stride=2, padding=1),
            nn.LeakyReLU(leak),
            nn.Conv2d(channels, 2 * channels, 4, stride=2, padding=1),
            nn.BatchNorm2d(2 * channels),
            nn.LeakyReLU(leak),
            nn.Flatten(),
            nn.Linear(2 * channels * 7 * 7, hidden),
            nn.BatchNorm1d(hidden),
            nn.LeakyReLU(leak),
        )
        self.d_head = nn.Linear(hidden, 1)
        self.q_head = nn.Sequential(
            nn.Linear(hidden, q_hidden),
            nn.BatchNorm1d(q_hidden),
            nn.LeakyReLU(leak),
            nn.Linear(q_hidden, q_output_dim),
        )
        self.apply(init_weights)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Discriminate and encode a batch.

        Args:
            images: ``(batch, 1, 28, 28)`` in [0, 1].

        Returns:
            ``(d_logits, q_params)``: ``(batch,)`` real-vs-fake logits and ``(batch, q_output_dim)`` raw
            Q parameters (see :func:`generative.infogan.mutual_info.split_q_params`).
        """
        h = self.trunk(images)
        return self.d_head(h).squeeze(1), self.q_head(h)
