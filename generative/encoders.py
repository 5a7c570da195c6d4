"""State encoders: frames in, feature vectors out, for exploration bonuses and world models.

Every encoder is a :class:`StateEncoder`: a ``torch.nn.Module`` with ``feature_dim`` whose ``forward``
maps a batch of frames ``(B, *frame_shape)`` to ``(B, feature_dim)``. The generative models of this
package were built for MNIST (28x28, one channel); RL frames are e.g. 64x64x3 ``uint8``. The adapter
between them is shared by every encoder (:meth:`StateEncoder.frames_to_images`):

1. any dtype, divided by ``input_range`` (255: ``uint8`` frames, or float copies of them as the bonuses
   of :mod:`curiosity` pass them; use 1 for float frames already in ``[0, 1]``);
2. the layout of :func:`curiosity.networks.image_layout` (``(H, W)``, ``(H, W, C)`` or ``(C, H, W)``);
3. ``frame_stack`` frames stacked along the channel axis are split and encoded *one by one*, and their
   features concatenated (``feature_dim = frame_stack * per-frame dimension``), so an encoder trained on
   single frames also encodes stacks;
4. each frame converted to grey (BT.601 luma) or kept RGB, as the model needs, and resized (bilinear,
   anti-aliased) to the model's square ``image_size``.

Encoders:

| name | class | features | trainable (``train_step``) |
| --- | --- | --- | --- |
| ``vae`` / ``ae`` | :class:`FrameVAE` | latent mean of a conv VAE (or plain autoencoder) for frames | yes |
| ``iaf-vae`` | :class:`IAFVAEEncoder` | ``IAFVAE.encode``: the posterior's base mean ``mu0`` | yes |
| ``infogan`` | :class:`InfoGANEncoder` | InfoGAN's Q: code probabilities and means | yes (GAN) |
| ``gan`` | :class:`GANDiscriminatorEncoder` | improved-GAN discriminator's last hidden layer | yes (GAN) |

Training. :meth:`StateEncoder.train_step` takes one optimiser step on a minibatch of raw frames; the
optimisers live in the encoder and are saved in its ``state_dict`` (``get_extra_state``), so a bonus that
saves its encoder resumes exactly. :func:`collect_frames` gathers frames with a random policy and
:func:`pretrain_encoder` fits an encoder on them. *Online* training is the bonus's business
(:class:`curiosity.encoded.EncodedBonus` with ``encoder_updates="online"`` calls ``train_step`` on its pool
of recent frames at each training); a pretrained, frozen encoder is the default and keeps the latent
space still under the bonus's dynamics model.

References:
    Kingma and Welling, "Auto-Encoding Variational Bayes", ICLR 2014 (the VAE).
    Kingma et al., "Improved Variational Inference with Inverse Autoregressive Flow", NeurIPS 2016.
    Chen et al., "InfoGAN", NeurIPS 2016. Salimans et al., "Improved Techniques for Training GANs", 2016.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from curiosity.networks import check_int, image_layout
from generative.gan.layers import data_dependent_init
from generative.gan.losses import feature_matching_loss, unsupervised_loss
from generative.gan.models import MnistDiscriminator, MnistGenerator
from generative.iaf_vae import IAFVAE
from generative.infogan import InfoGAN, LatentSpec

#: BT.601 luma weights, for grey frames
LUMA = (0.299, 0.587, 0.114)


class StateEncoder(nn.Module):
    """Base class: frames ``(B, *frame_shape)`` to features ``(B, feature_dim)``.

    Subclasses set ``per_frame_dim`` and implement :meth:`encode_images` (and :meth:`train_step` when
    trainable); see the module docstring for the frame adapter.

    Args:
        frame_shape: one observation's shape, ``(H, W)``, ``(H, W, C)`` or ``(C, H, W)``.
        image_size: side of the square images the model takes.
        grayscale: the model takes one grey channel (``True``) or RGB (``False``).
        frame_stack: frames stacked along the channel axis of one observation.
        channels_last: channel axis of ``frame_shape``; ``None`` infers it.
        input_range: inputs are divided by this (255 for ``uint8`` pixel values).

    Raises:
        ValueError: a bad shape, or channels that do not split into ``frame_stack`` grey or RGB frames.
    """

    per_frame_dim: int

    def __init__(
        self,
        frame_shape: Sequence[int],
        image_size: int,
        grayscale: bool,
        frame_stack: int = 1,
        channels_last: bool | None = None,
        input_range: float = 255.0,
    ) -> None:
        super().__init__()
        self.frame_shape = tuple(int(s) for s in frame_shape)
        layout = image_layout(self.frame_shape, channels_last)
        self.channels_last, (channels, self.height, self.width) = layout
        self.frame_stack = check_int("frame_stack", frame_stack)
        self.image_size = check_int("image_size", image_size, minimum=4)
        if channels % self.frame_stack or channels // self.frame_stack not in (1, 3):
            raise ValueError(
                f"frame_shape {self.frame_shape} has {channels} channels: they must split into "
                f"frame_stack={self.frame_stack} grey (1) or RGB (3) frames"
            )
        if not input_range > 0:
            raise ValueError(f"input_range must be > 0, got {input_range!r}")
        self.frame_channels = channels // self.frame_stack
        self.grayscale, self.input_range = bool(grayscale), float(input_range)
        self.image_channels = 1 if self.grayscale else 3
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.generator = torch.Generator().manual_seed(0)  # subclasses reseed it

    @property
    def feature_dim(self) -> int:
        """Width of the output: ``frame_stack * per_frame_dim``."""
        return self.frame_stack * self.per_frame_dim

    # -- the adapter ------------------------------------------------------------------------------------
    def frames_to_images(self, frames: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Raw frames ``(B, *frame_shape)`` to model images ``(B * frame_stack, c, S, S)`` in ``[0, 1]``.

        Raises:
            ValueError: frames of another shape.
        """
        x = torch.as_tensor(np.asarray(frames)) if not isinstance(frames, torch.Tensor) else frames
        if tuple(x.shape[1:]) != self.frame_shape or x.dim() != len(self.frame_shape) + 1:
            raise ValueError(
                f"frames must have shape (batch, {', '.join(map(str, self.frame_shape))}), "
                f"got {tuple(x.shape)}"
            )
        x = x.float() / self.input_range
        if x.dim() == 3:
            x = x.unsqueeze(1)
        elif self.channels_last:
            x = x.permute(0, 3, 1, 2)
        b = x.shape[0]
        x = x.reshape(b * self.frame_stack, self.frame_channels, self.height, self.width)
        return self.adapt_images(x)

    def adapt_images(self, x: torch.Tensor) -> torch.Tensor:
        """Single frames ``(N, 1 or 3, H, W)`` in ``[0, 1]`` to the model's ``(N, c, S, S)``."""
        if self.grayscale and x.shape[1] == 3:
            x = (x * x.new_tensor(LUMA).view(1, 3, 1, 1)).sum(1, keepdim=True)
        elif not self.grayscale and x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        if x.shape[-2:] != (self.image_size, self.image_size):
            size = (self.image_size, self.image_size)
            x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
        return x.clamp(0.0, 1.0)

    def forward(self, frames: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Features ``(B, feature_dim)`` of raw frames ``(B, *frame_shape)`` (stacked frames concatenated)."""
        images = self.frames_to_images(frames)
        features = self.encode_images(images)
        return features.reshape(-1, self.feature_dim)

    def encode_images(self, images: torch.Tensor) -> torch.Tensor:
        """Per-frame features ``(N, per_frame_dim)`` of model images ``(N, c, S, S)``."""
        raise NotImplementedError

    # -- training ---------------------------------------------------------------------------------------
    def train_step(self, frames: torch.Tensor | np.ndarray) -> dict[str, float]:
        """One optimiser step on a minibatch of raw frames ``(B, *frame_shape)``; returns scalar metrics.

        Raises:
            NotImplementedError: a frozen encoder.
        """
        raise NotImplementedError(f"{type(self).__name__} is not trainable")

    @contextlib.contextmanager
    def own_randomness(self) -> Iterator[None]:
        """Run the wrapped models' global-RNG noise (dropout-like layers, posterior samples) from a seed drawn
        from this encoder's generator, so that training is reproducible from the encoder's state alone."""
        seed = int(torch.randint(0, 2**62, (), generator=self.generator))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield

    def _step(self, name: str, loss: torch.Tensor) -> None:
        optimizer = self.optimizers[name]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def get_extra_state(self) -> dict[str, Any]:
        """The optimisers' states (and the noise generator's), saved with the weights by ``state_dict()``."""
        state: dict[str, Any] = {name: opt.state_dict() for name, opt in self.optimizers.items()}
        if isinstance(getattr(self, "generator", None), torch.Generator):
            state["rng"] = self.generator.get_state()
        return state

    def set_extra_state(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            if name == "rng" and isinstance(getattr(self, "generator", None), torch.Generator):
                self.generator.set_state(value.clone())
            elif name in self.optimizers:  # a copy: Adam would otherwise update the caller's tensors in place
                self.optimizers[name].load_state_dict(copy.deepcopy(value))


# -- a conv VAE for frames -----------------------------------------------------------------------------


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
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
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
            z = mu + log_sigma.exp() * torch.randn(mu.shape, generator=self.generator)
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


# -- adapters of the MNIST models ----------------------------------------------------------------------


class IAFVAEEncoder(StateEncoder):
    """The IAF-VAE's encoder as a state encoder: features are ``IAFVAE.encode`` (the base mean ``mu0``).

    Frames become grey ``image_size x image_size`` images (``vae.image_size``). The Bernoulli likelihood
    of the VAE is applied to grey intensities in ``[0, 1]`` (the cross-entropy of soft targets).

    Args:
        frame_shape: one observation's shape.
        vae: a (pretrained) :class:`~generative.iaf_vae.IAFVAE`; ``None`` builds one with ``vae_kwargs``
            (default here: 32x32 images, 16 latents, IAF posterior, dense width 256).
        vae_kwargs: keyword arguments of :class:`~generative.iaf_vae.IAFVAE` when ``vae`` is ``None``.
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
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
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
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
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
        from generative.train_infogan import InfoGANConfig, train_step  # the training command's step

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
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
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


# -- registry, data and pretraining -------------------------------------------------------------------

#: name -> (class, fixed keyword arguments)
ENCODERS: dict[str, tuple[type[StateEncoder], dict[str, Any]]] = {
    "vae": (FrameVAE, {}),
    "ae": (FrameVAE, {"variational": False}),
    "iaf-vae": (IAFVAEEncoder, {}),
    "infogan": (InfoGANEncoder, {}),
    "gan": (GANDiscriminatorEncoder, {}),
}


def make_encoder(name: str, frame_shape: Sequence[int], **kwargs: Any) -> StateEncoder:
    """Build the encoder called ``name`` (:data:`ENCODERS`) for frames of ``frame_shape``.

    Raises:
        ValueError: an unknown name (the message lists the known ones).
    """
    if name not in ENCODERS:
        raise ValueError(f"unknown encoder {name!r}; choose one of {', '.join(ENCODERS)}")
    cls, fixed = ENCODERS[name]
    return cls(frame_shape, **{**fixed, **kwargs})


def collect_frames(env: gym.Env | str, n_frames: int, seed: int = 0, **make_kwargs: Any) -> np.ndarray:
    """Observations of a uniformly random policy, ``(n_frames, *observation_shape)`` in their dtype.

    Args:
        env: an environment with image observations, or its id (``gym.make(env, **make_kwargs)``; the
            toolkit's pixel ids need ``import envs`` first).
        n_frames: number of observations (resets included, each episode's first frame too).
        seed: seeds the first reset and the action sampling.

    Raises:
        ValueError: ``n_frames`` < 1 or observations that are not images.
    """
    n_frames = check_int("n_frames", n_frames)
    own = isinstance(env, str)
    env = gym.make(env, **make_kwargs) if own else env
    shape = env.observation_space.shape
    if shape is None or len(shape) < 2:
        raise ValueError(f"collect_frames needs image observations, got space {env.observation_space}")
    env.action_space.seed(seed)
    obs, _ = env.reset(seed=seed)
    frames = np.empty((n_frames, *shape), dtype=env.observation_space.dtype)
    for i in range(n_frames):
        frames[i] = obs
        obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            obs, _ = env.reset()
    if own:
        env.close()
    return frames


def pretrain_encoder(
    encoder: StateEncoder,
    frames: np.ndarray | torch.Tensor,
    steps: int = 500,
    batch_size: int = 64,
    seed: int = 0,
) -> list[dict[str, float]]:
    """Fit ``encoder`` on frames: ``steps`` calls of ``train_step`` on minibatches drawn uniformly.

    Args:
        encoder: a trainable :class:`StateEncoder`.
        frames: ``(N, *frame_shape)`` frames (e.g. from :func:`collect_frames`).
        steps: number of minibatch steps.
        batch_size: frames per step.
        seed: seeds the minibatch draws.

    Returns:
        The metrics of every step.
    """
    steps, batch_size = check_int("steps", steps), check_int("batch_size", batch_size)
    frames = torch.as_tensor(np.asarray(frames)) if not isinstance(frames, torch.Tensor) else frames
    generator = torch.Generator().manual_seed(seed)
    history = []
    for _ in range(steps):
        idx = torch.randint(0, len(frames), (min(batch_size, len(frames)),), generator=generator)
        history.append(encoder.train_step(frames[idx]))
    encoder.eval()
    return history
