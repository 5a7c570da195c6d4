"""Variational auto-encoder with a diagonal-Gaussian or inverse-autoregressive-flow (IAF) posterior.

Pieces, each usable alone:

* :class:`ConvEncoder` ``x -> (mu0, log_sigma0, h)`` and :class:`ConvDecoder` ``z -> Bernoulli logits``,
  small convolutional nets (optional residual blocks) for square single-channel images;
* the posteriors and the KL terms in :mod:`generative.iaf.posterior`;
* :class:`IAFVAE`: the model, with :meth:`IAFVAE.elbo`, :meth:`IAFVAE.loss` (free bits, KL warm-up),
  :meth:`IAFVAE.log_px` (importance-weighted ``log p(x)``) and :meth:`IAFVAE.encode` (state encoder).

All log-probabilities are in nats. Images are ``(B, 1, S, S)`` (or ``(B, S, S)``) floats in ``[0, 1]``;
the likelihood is Bernoulli, so training data should be binary (dynamically binarised MNIST).

References:
    Kingma, Salimans, Jozefowicz, Chen, Sutskever, Welling. Improved Variational Inference with Inverse
    Autoregressive Flow. NeurIPS 2016.
    Burda, Grosse, Salakhutdinov. Importance Weighted Autoencoders. ICLR 2016 (the ``log p(x)`` bound).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from curiosity.networks import module_device
from generative.iaf.posterior import (
    DiagonalPosterior,
    IAFPosterior,
    diagonal_kl,
    free_bits_kl,
    gaussian_log_prob,
)

POSTERIORS = ("diagonal", "iaf")


class ResBlock(nn.Module):
    """``x + conv(elu(conv(elu(x))))``, 3x3 convolutions, channels and size kept: ``(B, C, H, W)``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Residual update of ``x``."""
        return x + self.conv2(F.elu(self.conv1(F.elu(x))))


def _check_sizes(image_size: int, channels: int, res_blocks: int, hidden: int) -> None:
    if image_size < 4 or image_size % 4:
        raise ValueError(f"image_size must be a multiple of 4 (two stride-2 stages), got {image_size}")
    if channels < 1 or hidden < 1:
        raise ValueError(f"channels and hidden must be >= 1, got channels={channels}, hidden={hidden}")
    if res_blocks < 0:
        raise ValueError(f"res_blocks must be >= 0, got {res_blocks}")


class ConvEncoder(nn.Module):
    """Convolutional encoder ``x -> (mu0, log_sigma0, h)``.

    Two stride-2 3x3 convolutions (``channels``, then ``2 * channels``), each followed by ``res_blocks``
    residual blocks, then a hidden dense layer.

    Args:
        latent_dim: ``D``.
        context_dim: width of the context ``h`` fed to the IAF steps (0 for none).
        image_size: side ``S`` of the square single-channel input (multiple of 4).
        channels: channels of the first stage.
        res_blocks: residual blocks per stage.
        hidden: width of the dense layer.
    """

    def __init__(
        self, latent_dim: int, context_dim: int = 0, image_size: int = 28, channels: int = 32,
        res_blocks: int = 0, hidden: int = 450,
    ) -> None:
        super().__init__()
        _check_sizes(image_size, channels, res_blocks, hidden)
        self.latent_dim, self.context_dim = latent_dim, context_dim
        c = channels
        self.conv = nn.Sequential(
            nn.Conv2d(1, c, 3, stride=2, padding=1), *[ResBlock(c) for _ in range(res_blocks)], nn.ELU(),
            nn.Conv2d(c, 2 * c, 3, stride=2, padding=1), *[ResBlock(2 * c) for _ in range(res_blocks)],
            nn.ELU(), nn.Flatten(),
        )
        self.dense = nn.Sequential(nn.Linear(2 * c * (image_size // 4) ** 2, hidden), nn.ELU())
        self.head = nn.Linear(hidden, 2 * latent_dim + context_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``x`` ``(B, 1, S, S)`` in ``[0, 1]`` -> ``mu0, log_sigma0`` ``(B, D)`` and ``h`` ``(B, C)``."""
        out = self.head(self.dense(self.conv(2 * x - 1)))
        d = self.latent_dim
        return out[:, :d], out[:, d : 2 * d], out[:, 2 * d :]


class ConvDecoder(nn.Module):
    """Convolutional decoder ``z (B, D) -> Bernoulli logits (B, 1, S, S)``; mirrors :class:`ConvEncoder`.

    Dense layers to ``2 * channels`` maps of side ``S / 4``, then two stride-2 4x4 transposed convolutions
    (the last one straight to the logits: a full-resolution convolution with one output channel is slow
    on CPUs), with ``res_blocks`` residual blocks before each.
    """

    def __init__(
        self, latent_dim: int, image_size: int = 28, channels: int = 32, res_blocks: int = 0,
        hidden: int = 450,
    ) -> None:
        super().__init__()
        _check_sizes(image_size, channels, res_blocks, hidden)
        c, s = channels, image_size // 4
        self.dense = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.ELU(), nn.Linear(hidden, 2 * c * s * s), nn.ELU(),
            nn.Unflatten(1, (2 * c, s, s)),
        )
        self.deconv = nn.Sequential(
            *[ResBlock(2 * c) for _ in range(res_blocks)],
            nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1),
            *[ResBlock(c) for _ in range(res_blocks)],
            nn.ELU(),
            nn.ConvTranspose2d(c, 1, 4, stride=2, padding=1),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Logits of ``p(x | z)``: ``(B, D) -> (B, 1, S, S)``."""
        return self.deconv(self.dense(z))


class IAFVAE(nn.Module):
    """VAE for binary square images with a diagonal or IAF posterior and a N(0, I) prior.

    Args:
        latent_dim: ``D`` (paper: 32).
        posterior: ``"diagonal"`` or ``"iaf"``.
        image_size: side of the square single-channel images (multiple of 4; MNIST 28).
        channels: channels of the first conv stage (the second has twice as many).
        res_blocks: residual blocks per conv stage (encoder and decoder).
        hidden: width of the dense layers of encoder and decoder.
        context_dim: width of the context ``h`` passed from the encoder to the IAF steps.
        iaf_depth: IAF steps; iaf_width: MADE hidden width; iaf_hidden_layers: MADE hidden layers.
        sigmoid_bias: initial bias of the gate pre-activation ``s`` (+2 in the paper's stable variant).

    Raises:
        ValueError: a bad hyperparameter (the message names it).

    References:
        Kingma et al. 2016, Section 5.1 (MNIST: 32 latent dims, 128 importance samples).
    """

    def __init__(
        self, latent_dim: int = 32, posterior: str = "iaf", image_size: int = 28, channels: int = 32,
        res_blocks: int = 0, hidden: int = 450, context_dim: int = 64, iaf_depth: int = 2,
        iaf_width: int = 320, iaf_hidden_layers: int = 1, sigmoid_bias: float = 2.0,
    ) -> None:
        super().__init__()
        if posterior not in POSTERIORS:
            raise ValueError(f"posterior must be one of {POSTERIORS}, got {posterior!r}")
        if latent_dim < 1:
            raise ValueError(f"latent_dim must be >= 1, got {latent_dim}")
        if context_dim < 0:
            raise ValueError(f"context_dim must be >= 0, got {context_dim}")
        self.latent_dim, self.image_size, self.posterior_kind = latent_dim, image_size, posterior
        use_context = context_dim if posterior == "iaf" else 0
        self.encoder = ConvEncoder(latent_dim, use_context, image_size, channels, res_blocks, hidden)
        self.decoder = ConvDecoder(latent_dim, image_size, channels, res_blocks, hidden)
        self.posterior = (
            DiagonalPosterior() if posterior == "diagonal"
            else IAFPosterior(latent_dim, use_context, iaf_depth, iaf_width, iaf_hidden_layers, sigmoid_bias)
        )

    def _images(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 3:
            x = x.unsqueeze(1)
        s = self.image_size
        if x.dim() != 4 or x.shape[1:] != (1, s, s):
            raise ValueError(
                f"images must have shape (B, 1, {s}, {s}) or (B, {s}, {s}), got {tuple(x.shape)}"
            )
        if not x.is_floating_point():
            raise TypeError(f"images must be floats in [0, 1], got dtype {x.dtype}")
        if x.numel():
            low, high = torch.aminmax(x)
            if low < 0 or high > 1:  # e.g. uint8 values cast to float: a meaningless Bernoulli likelihood
                raise ValueError(
                    f"images must be floats in [0, 1], got values in [{low.item():g}, {high.item():g}] "
                    "(divide pixel values by 255)"
                )
        return x

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """State encoder: the posterior's base mean ``mu0``.

        For the diagonal posterior this is the posterior mean; for IAF it is the mean of the initial
        Gaussian before the flow (a deterministic, smooth feature of ``x``). Differentiable; wrap in
        ``torch.no_grad()`` for features only.

        Args:
            images: ``(B, 1, S, S)`` or ``(B, S, S)`` floats in ``[0, 1]``.

        Returns:
            ``(B, latent_dim)``.
        """
        return self.encoder(self._images(images))[0]

    def log_weights(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """One posterior sample per image and its terms.

        Returns:
            ``rec`` = ``log p(x|z)`` ``(B,)``; ``kl_per_dim`` ``(B, D)`` (closed form for the diagonal
            posterior, the single-sample ``log q(z|x) - log p(z)`` for IAF); ``z`` ``(B, D)``.
        """
        x = self._images(x)
        mu, log_sigma, h = self.encoder(x)
        z, log_q = self.posterior(mu, log_sigma, h)
        logits = self.decoder(z)
        rec = -F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
        kl = diagonal_kl(mu, log_sigma) if self.posterior_kind == "diagonal" else log_q - gaussian_log_prob(z)
        return {"rec": rec, "kl_per_dim": kl, "z": z}

    def elbo(self, x: torch.Tensor) -> torch.Tensor:
        """Single-sample evidence lower bound per image ``(B,)`` (nats)."""
        terms = self.log_weights(x)
        return terms["rec"] - terms["kl_per_dim"].sum(1)

    def loss(
        self, x: torch.Tensor, kl_weight: float = 1.0, free_bits: float = 0.0, free_bits_groups: int = 1
    ) -> dict[str, torch.Tensor]:
        """Training objective ``-(E log p(x|z) - kl_weight * KL_free_bits)`` averaged over the batch.

        Args:
            x: ``(B, 1, S, S)`` binary images.
            kl_weight: KL warm-up factor in ``[0, 1]``.
            free_bits: ``lambda`` per group in nats (0 = plain ELBO); see :func:`free_bits_kl`.
            free_bits_groups: number of groups the latent dims are split into.

        Returns:
            ``loss`` (scalar to minimise), and the batch means ``elbo``, ``rec``, ``kl`` (true KL).
        """
        if not 0.0 <= kl_weight <= 1.0:
            raise ValueError(f"kl_weight must be in [0, 1], got {kl_weight}")
        terms = self.log_weights(x)
        kl_term = free_bits_kl(terms["kl_per_dim"], free_bits, free_bits_groups)
        rec, kl = terms["rec"].mean(), terms["kl_per_dim"].sum(1).mean()
        return {"loss": kl_weight * kl_term - rec, "elbo": rec - kl, "rec": rec, "kl": kl}

    @torch.no_grad()
    def log_px(self, x: torch.Tensor, samples: int = 128, max_batch: int = 2048) -> torch.Tensor:
        """Importance-weighted estimate of ``log p(x)`` with ``samples`` posterior samples per image.

        ``log p(x) ~= logsumexp_k [log p(x|z_k) + log p(z_k) - log q(z_k|x)] - log K``, a lower bound that
        tightens as ``samples`` grows (equal in expectation to the ELBO for one sample). The encoder runs
        once; the samples are decoded in chunks of at most ``max_batch`` images.

        Args:
            x: ``(B, 1, S, S)`` binary images.
            samples: ``K`` (paper: 128).
            max_batch: most images decoded at once (bounds memory).

        Returns:
            ``(B,)`` estimates in nats.

        References:
            Burda et al. 2016; Kingma et al. 2016, Section 5.1.
        """
        if samples < 1:
            raise ValueError(f"samples must be >= 1, got {samples}")
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        x = self._images(x)
        mu, log_sigma, h = self.encoder(x)
        b = x.shape[0]
        per_chunk = max(1, max_batch // b)
        log_w = []
        for start in range(0, samples, per_chunk):
            k = min(per_chunk, samples - start)

            def rep(t: torch.Tensor, k: int = k) -> torch.Tensor:
                return t.unsqueeze(0).expand(k, *t.shape).reshape(k * b, *t.shape[1:])

            z, log_q = self.posterior(rep(mu), rep(log_sigma), rep(h))
            logits = self.decoder(z)
            rec = -F.binary_cross_entropy_with_logits(logits, rep(x), reduction="none").flatten(1).sum(1)
            log_w.append((rec + (gaussian_log_prob(z) - log_q).sum(1)).view(k, b))
        return torch.logsumexp(torch.cat(log_w), 0) - math.log(samples)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` images from the model: Bernoulli means ``(n, 1, S, S)`` for ``z ~ N(0, I)``."""
        source = generator.device if generator is not None else torch.device("cpu")  # same z on every device
        z = torch.randn(n, self.latent_dim, generator=generator, device=source)
        return torch.sigmoid(self.decoder(z.to(module_device(self))))

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Bernoulli means ``(B, 1, S, S)`` decoded from one posterior sample of each image."""
        x = self._images(x)
        mu, log_sigma, h = self.encoder(x)
        return torch.sigmoid(self.decoder(self.posterior(mu, log_sigma, h)[0]))
