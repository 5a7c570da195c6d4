"""The InfoGAN model: generator, discriminator/Q, latent spec, and Q as a state encoder.

References:
    Chen et al., "InfoGAN: Interpretable Representation Learning by Information Maximizing Generative
    Adversarial Nets", NeurIPS 2016 (https://arxiv.org/abs/1606.03657).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from curiosity.networks import module_device
from generative.infogan.latent import LatentSample, LatentSpec
from generative.infogan.mutual_info import QOutput, check_std_mode, split_q_params
from generative.infogan.networks import IMAGE_SHAPE, DiscriminatorQ, Generator


class Codes(NamedTuple):
    """Q's inference of the latent codes of a batch of images.

    Attributes:
        probs: one ``(batch, K_i)`` tensor of probabilities per categorical code.
        labels: ``(batch, n_categorical)`` int64, the most probable value of each categorical code.
        means: ``(batch, continuous)`` means of the continuous codes.
    """

    probs: tuple[torch.Tensor, ...]
    labels: torch.Tensor
    means: torch.Tensor

    def features(self) -> torch.Tensor:
        """``(batch, sum(K_i) + continuous)``: all probabilities then the means, as one feature vector."""
        return torch.cat([*self.probs, self.means], dim=1)


def to_images(images: torch.Tensor) -> torch.Tensor:
    """Bring images to the networks' input format.

    Args:
        images: ``(batch, 28, 28)`` or ``(batch, 1, 28, 28)``; uint8 in [0, 255] or floats in [0, 1].

    Returns:
        ``(batch, 1, 28, 28)`` float32 in [0, 1].

    Raises:
        ValueError: any other shape, or float values outside [0, 1] (e.g. unscaled pixel values).
    """
    if images.ndim == 3:
        images = images.unsqueeze(1)
    if tuple(images.shape[1:]) != IMAGE_SHAPE:
        raise ValueError(
            f"images must have shape (batch, 28, 28) or (batch, 1, 28, 28), got {tuple(images.shape)}"
        )
    if images.dtype == torch.uint8:
        return images.float() / 255.0
    images = images.float()
    if images.numel():
        low, high = torch.aminmax(images)
        if low < 0 or high > 1:
            raise ValueError(
                f"float images must lie in [0, 1], got values in [{low.item():g}, {high.item():g}] "
                "(divide pixel values by 255, or pass uint8)"
            )
    return images


class InfoGAN(nn.Module):
    """Generator, discriminator with a Q head, and the latent spec tying them together.

    Args:
        spec: latent sizes (default: the paper's MNIST spec, noise 62, categorical (10,), continuous 2).
        channels: base convolution width (64 in the paper).
        hidden: dense width of G and of the D/Q trunk (1024 in the paper).
        q_hidden: Q head hidden width (128 in the paper).
        leak: leaky ReLU slope of D/Q (0.01 in the original code).
        continuous_std: ``"fixed"`` (Q's Gaussian on each continuous code has std ``fixed_std``; the
            original MNIST setting) or ``"learned"`` (Q also outputs a log-variance).
        fixed_std: the fixed standard deviation (1.0 in the original).

    Raises:
        ValueError: bad widths or std settings.
    """

    def __init__(
        self,
        spec: LatentSpec | None = None,
        channels: int = 64,
        hidden: int = 1024,
        q_hidden: int = 128,
        leak: float = 0.01,
        continuous_std: str = "fixed",
        fixed_std: float = 1.0,
    ) -> None:
        super().__init__()
        check_std_mode(continuous_std, fixed_std)
        self.spec = spec if spec is not None else LatentSpec()
        self.continuous_std = continuous_std
        self.fixed_std = fixed_std
        self.generator = Generator(self.spec.dim, channels, hidden)
        q_dim = self.spec.q_output_dim(continuous_std == "learned")
        self.discriminator = DiscriminatorQ(q_dim, channels, hidden, q_hidden, leak)

    def generate(self, latent: LatentSample) -> torch.Tensor:
        """``LatentSample`` of ``batch`` -> ``(batch, 1, 28, 28)`` images in [0, 1] (differentiable), on the
        generator's device (the latent is moved there)."""
        return self.generator(self.spec.join(latent).to(module_device(self.generator)))

    def discriminate(self, images: torch.Tensor) -> tuple[torch.Tensor, QOutput]:
        """``(batch, 1, 28, 28)`` images -> ``(batch,)`` D logits and Q's :class:`QOutput`."""
        logits, params = self.discriminator(images)
        return logits, split_q_params(params, self.spec, self.continuous_std, self.fixed_std)

    @torch.no_grad()
    def encode(self, images: torch.Tensor, batch_size: int = 1000) -> Codes:
        """Q as a state encoder: infer the codes of real images.

        Runs in evaluation mode (batch norm uses its running statistics, so each image's codes do not
        depend on the rest of the batch), without gradients, in chunks of ``batch_size``; the module's
        training flag is restored afterwards.

        Args:
            images: ``(batch, 28, 28)`` or ``(batch, 1, 28, 28)``, uint8 or floats in [0, 1].
            batch_size: chunk size, >= 1.

        Returns:
            :class:`Codes` with ``probs`` ``(batch, K_i)`` per categorical code, ``labels``
            ``(batch, n_categorical)`` and ``means`` ``(batch, continuous)``, on the model's device.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        images, device = to_images(images), module_device(self.discriminator)
        was_training = self.discriminator.training
        self.discriminator.eval()
        try:
            outputs = [self.discriminate(chunk.to(device))[1] for chunk in images.split(batch_size)]
        finally:
            self.discriminator.train(was_training)
        probs = tuple(
            torch.cat([o.logits[i] for o in outputs]).softmax(1) for i in range(self.spec.n_categorical)
        )
        labels = (
            torch.stack([p.argmax(1) for p in probs], 1)
            if probs
            else torch.zeros(len(images), 0, dtype=torch.long, device=device)
        )
        return Codes(probs, labels, torch.cat([o.mean for o in outputs]))
