"""The toolkit's MNIST generative models as state encoders: IAF-VAE, InfoGAN's Q network and the
improved-GAN discriminator."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from curiosity.seeding import seeded
from generative.encoders.base import StateEncoder
from generative.gan.layers import data_dependent_init
from generative.gan.losses import feature_matching_loss, unsupervised_loss
from generative.gan.models import MnistDiscriminator, MnistGenerator
from generative.iaf.vae import IAFVAE
from generative.infogan import InfoGAN, LatentSpec


class IAFVAEEncoder(StateEncoder):
    """The IAF-VAE's encoder as a state encoder: features are ``IAFVAE.encode`` (the base mean ``mu0``).

    Frames become grey ``image_size x image_size`` images (``vae.image_size``). The Bernoulli likelihood
    of the VAE is applied to grey intensities in ``[0, 1]`` (the cross-entropy of soft targets).

    Args:
        frame_shape: one observation's shape.
        vae: a (pretrained) :class:`~generative.iaf.vae.IAFVAE`; ``None`` builds one with ``vae_kwargs``
            (default here: 32x32 images, 16 latents, IAF posterior, dense width 256).
        vae_kwargs: keyword arguments of :class:`~generative.iaf.vae.IAFVAE` when ``vae`` is ``None``.
        learning_rate: Adam learning rate of :meth:`train_step`.
        frame_stack, channels_last, input_range: see :class:`StateEncoder`.
        seed: seeds a newly built VAE's weights.
    """

    def __init__(
        self,
        frame_shape: Sequence[int],
        vae: IAFVAE | None = None,
        vae_kwargs: dict[str, Any] | None = None,
        learning_rate: float = 1e-3,
        frame_stack: int = 1,
        channels_last: bool | None = None,
        input_range: float = 255.0,
        seed: int = 0,
    ) -> None:
        if vae is None:
            with seeded(seed):
                vae = IAFVAE(**{"latent_dim": 16, "image_size": 32, "hidden": 256, **(vae_kwargs or {})})
        super().__init__(frame_shape, vae.image_size, True, frame_stack, channels_last, input_range)
        self.vae = vae
        self.per_frame_dim = vae.latent_dim
        self.generator.manual_seed(seed)
        self.optimizers["adam"] = torch.optim.Adam(self.vae.parameters(), lr=learning_rate)

    def encode_images(self, images: torch.Tensor) -> torch.Tensor:
        return self.vae.encode(images)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Bernoulli means ``(N, 1, S, S)`` decoded from latents ``(N, latent_dim)``."""
        return torch.sigmoid(self.vae.decoder(z))

    @torch.no_grad()
    def reconstruction_error(self, frames: torch.Tensor | np.ndarray) -> float:
        """Mean squared error per pixel of one-sample reconstructions."""
        images = self.frames_to_images(frames)
        return float((self.vae.reconstruct(images) - images).pow(2).mean())

    def train_step(self, frames: torch.Tensor | np.ndarray) -> dict[str, float]:
        """One Adam step on the negative ELBO (``IAFVAE.loss``)."""
        self.train()
        with self.own_randomness():
            parts = self.vae.loss(self.frames_to_images(frames))
            self._step("adam", parts["loss"])
        self.eval()
        return {key: float(value.detach()) for key, value in parts.items()}


class InfoGANEncoder(StateEncoder):
    """InfoGAN's Q network as a state encoder: features are the inferred codes (``Codes.features()``).

    Frames become grey 28x28 images. ``feature_dim`` per frame is ``sum(categorical) + continuous`` (the
    code probabilities, then the means of the continuous codes). Features are computed in evaluation
    mode and without gradients (``InfoGAN.encode``).

    Args:
        frame_shape: one observation's shape.
        model: a (pretrained) :class:`~generative.infogan.InfoGAN`; ``None`` builds a small one for frames
            (``model_kwargs``; default: noise 16, one 10-way code, 2 continuous codes, widths 32/256/64).
        model_kwargs: keyword arguments of :class:`~generative.infogan.InfoGAN` when ``model`` is ``None``.
        lr_discriminator, lr_generator: Adam learning rates of :meth:`train_step` (beta1 0.5).
        frame_stack, channels_last, input_range: see :class:`StateEncoder`.
        seed: seeds the weights of a new model and the latent samples.
    """

    def __init__(
        self,
        frame_shape: Sequence[int],
        model: InfoGAN | None = None,
        model_kwargs: dict[str, Any] | None = None,
        lr_discriminator: float = 2e-4,
        lr_generator: float = 1e-3,
        frame_stack: int = 1,
        channels_last: bool | None = None,
        input_range: float = 255.0,
        seed: int = 0,
    ) -> None:
        super().__init__(frame_shape, 28, True, frame_stack, channels_last, input_range)
        if model is None:
            defaults = {"spec": LatentSpec(16, (10,), 2), "channels": 32, "hidden": 256, "q_hidden": 64}
            with seeded(seed):
                model = InfoGAN(**{**defaults, **(model_kwargs or {})})
        self.model = model
        self.per_frame_dim = sum(model.spec.categorical) + model.spec.continuous
        self.generator = torch.Generator().manual_seed(seed)
        betas = (0.5, 0.999)
        d_params, g_params = model.discriminator.parameters(), model.generator.parameters()
        self.optimizers["d"] = torch.optim.Adam(d_params, lr_discriminator, betas=betas)
        self.optimizers["g"] = torch.optim.Adam(g_params, lr_generator, betas=betas)

    def encode_images(self, images: torch.Tensor) -> torch.Tensor:
        return self.model.encode(images).features()

    def train_step(self, frames: torch.Tensor | np.ndarray) -> dict[str, float]:
        """One InfoGAN iteration (D/Q step, then G step) on real frames (a batch of at least 2)."""
        from generative.infogan.train import InfoGANConfig, train_step  # the training command's step

        images = self.frames_to_images(frames)
        if len(images) < 2:
            raise ValueError(
                f"InfoGAN training needs batches of at least 2 frames (batch norm), got {len(images)}"
            )
        self.model.train()
        latent = self.model.spec.sample(len(images), self.generator)
        optimizers = (self.optimizers["d"], self.optimizers["g"])
        out = train_step(self.model, *optimizers, images, latent, InfoGANConfig())
        self.model.eval()
        return out


class GANDiscriminatorEncoder(StateEncoder):
    """The improved-GAN discriminator's last hidden layer (its feature-matching features) as features.

    Frames become grey ``image_size x image_size`` images, flattened into the dense discriminator.
    Features are computed in evaluation mode (no Gaussian noise), ``(N, hidden[-1])`` (250 by default).
    :meth:`train_step` trains it without labels: the discriminator on the real-vs-fake loss of the
    K+1 classifier and the generator by feature matching (Salimans et al. 2016, section 3.1 and 5).

    Args:
        frame_shape: one observation's shape.
        discriminator: a (pretrained) :class:`~generative.gan.models.MnistDiscriminator` taking
            ``image_size ** 2`` inputs; ``None`` builds one (``discriminator_kwargs``).
        image_size: side of the grey images (28 for an MNIST-trained discriminator).
        discriminator_kwargs: keyword arguments of the new discriminator (default: hidden 500-250-250).
        generator_hidden: hidden widths of the generator used by :meth:`train_step`.
        learning_rate: Adam learning rate of both players (beta1 0.5).
        frame_stack, channels_last, input_range: see :class:`StateEncoder`.
        seed: seeds new weights and the generator's noise.
    """

    def __init__(
        self,
        frame_shape: Sequence[int],
        discriminator: MnistDiscriminator | None = None,
        image_size: int = 28,
        discriminator_kwargs: dict[str, Any] | None = None,
        generator_hidden: tuple[int, ...] = (256, 256),
        learning_rate: float = 1e-3,
        frame_stack: int = 1,
        channels_last: bool | None = None,
        input_range: float = 255.0,
        seed: int = 0,
    ) -> None:
        super().__init__(frame_shape, image_size, True, frame_stack, channels_last, input_range)
        n_in = image_size * image_size
        with seeded(seed):
            if discriminator is None:
                kwargs = {"hidden": (500, 250, 250), **(discriminator_kwargs or {})}
                discriminator = MnistDiscriminator(in_features=n_in, **kwargs)
            self.gan_generator = MnistGenerator(64, hidden=generator_hidden, out_features=n_in)
        if discriminator.in_features != n_in:
            raise ValueError(f"the discriminator takes {discriminator.in_features} inputs, not {n_in}: "
                             "set image_size to match it")  # fmt: skip
        self.discriminator = discriminator
        self.per_frame_dim = discriminator.feature_dim
        self.generator = torch.Generator().manual_seed(seed)
        self.initialized = False
        betas = (0.5, 0.999)
        self.optimizers["d"] = torch.optim.Adam(discriminator.parameters(), learning_rate, betas=betas)
        self.optimizers["g"] = torch.optim.Adam(self.gan_generator.parameters(), learning_rate, betas=betas)

    def encode_images(self, images: torch.Tensor) -> torch.Tensor:
        was_training = self.discriminator.training
        self.discriminator.eval()
        try:
            return self.discriminator.features(images.flatten(1))
        finally:
            self.discriminator.train(was_training)

    @torch.no_grad()
    def real_probability(self, images: torch.Tensor) -> torch.Tensor:
        """``D(x)`` = probability of "real" for model images ``(N, 1, S, S)`` (evaluation mode), ``(N,)``."""
        self.discriminator.eval()
        return torch.sigmoid(torch.logsumexp(self.discriminator(images.flatten(1)), dim=1))

    def sample_fakes(self, n: int) -> torch.Tensor:
        """``n`` generated images ``(n, 1, S, S)`` (differentiable)."""
        noise = self.gan_generator.sample_noise(n, self.generator)
        return self.gan_generator(noise).view(n, 1, self.image_size, self.image_size)

    def train_step(self, frames: torch.Tensor | np.ndarray) -> dict[str, float]:
        """One unsupervised improved-GAN iteration: a discriminator step then a feature-matching G step."""
        with self.own_randomness():
            real = self.frames_to_images(frames).flatten(1)
            self.discriminator.train()
            self.gan_generator.train()
            if not self.initialized:  # data-dependent init of the weight-normalised layers, once
                data_dependent_init(self.discriminator, real)
                noise = self.gan_generator.sample_noise(len(real), self.generator)
                data_dependent_init(self.gan_generator, noise)
                self.initialized = True
            with torch.no_grad():
                fake = self.sample_fakes(len(real)).flatten(1)
            d_loss = unsupervised_loss(self.discriminator(real), self.discriminator(fake))
            self._step("d", d_loss)
            d_params = list(self.discriminator.parameters())
            trainable = [p.requires_grad for p in d_params]  # weight-norm scales may be frozen
            self.discriminator.requires_grad_(False)
            try:
                with torch.no_grad():
                    target = self.discriminator.features(real)
                fake = self.sample_fakes(len(real)).flatten(1)
                g_loss = feature_matching_loss(target, self.discriminator.features(fake))
                self._step("g", g_loss)
            finally:
                for param, flag in zip(d_params, trainable, strict=True):
                    param.requires_grad_(flag)
            self.discriminator.eval()
        return {"d_loss": float(d_loss.detach()), "g_loss": float(g_loss.detach())}

    def get_extra_state(self) -> dict[str, Any]:
        return {**super().get_extra_state(), "initialized": self.initialized}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        state = dict(state)
        self.initialized = bool(state.pop("initialized", self.initialized))
        super().set_extra_state(state)
