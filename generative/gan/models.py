"""The improved-GAN discriminators (K-logit classifiers) and generators for MNIST and CIFAR-10.

Discriminators map images to ``K`` logits (the fake class's logit is implicitly 0) and expose the
intermediate features used by feature matching; generators map uniform noise to images.

References:
    Salimans et al. "Improved Techniques for Training GANs", NeurIPS 2016; openai/improved-gan
    ``mnist_svhn_cifar10/train_mnist_feature_matching.py`` and ``train_cifar_*.py``.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from curiosity.networks import module_device
from generative.gan.batchnorm import ShiftOnlyBatchNorm, VirtualBatchNorm, vbn_reference
from generative.gan.layers import (
    GaussianNoise,
    MinibatchDiscrimination,
    WeightNormConv2d,
    WeightNormConvTranspose2d,
    WeightNormLinear,
)

__all__ = [
    "CifarDiscriminator",
    "CifarGenerator",
    "Discriminator",
    "Generator",
    "MnistDiscriminator",
    "MnistGenerator",
]

Norm = Literal["batch", "virtual"]


class Discriminator(nn.Module):
    """Base class: a K-class classifier whose logits double as a real/fake discriminator.

    Subclasses implement :meth:`forward_with_features`. Attributes: ``num_classes``, ``feature_dim``,
    ``batch_dependent`` (True when an output depends on the other batch members, e.g. minibatch
    discrimination: real and fake batches must then be passed separately).
    """

    num_classes: int
    feature_dim: int
    batch_dependent: bool = False

    def forward_with_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns ``(logits (batch, K), features (batch, feature_dim))``."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits, shape ``(batch, K)``."""
        return self.forward_with_features(x)[0]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The feature-matching features, ``(batch, feature_dim)`` (differentiable; current mode)."""
        return self.forward_with_features(x)[1]

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """Class probabilities ``p(y | x, real)``, ``(batch, K)``, in evaluation mode (no noise/dropout)."""
        was_training = self.training
        self.eval()
        try:
            return torch.cat(
                [F.softmax(self(x[i : i + batch_size]), dim=1) for i in range(0, len(x), batch_size)]
            )
        finally:
            self.train(was_training)

    def predict(self, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """Predicted classes, ``(batch,)`` int64, in evaluation mode."""
        return self.predict_proba(x, batch_size).argmax(dim=1)


class Generator(nn.Module):
    """Base class: maps noise ``(batch, noise_dim)`` to images ``(batch, *image_shape)``."""

    noise_dim: int
    image_shape: tuple[int, ...]

    def sample_noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``U[0, 1)`` noise of shape ``(n, noise_dim)`` (as their Theano code), on the model's device.

        Drawn on ``generator``'s device (the global CPU generator when ``None``), then moved: a seed gives the
        same noise on every device.
        """
        source = generator.device if generator is not None else torch.device("cpu")
        noise = torch.rand(n, self.noise_dim, generator=generator, device=source)
        return noise.to(module_device(self))

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` generated images (differentiable)."""
        return self(self.sample_noise(n, generator))

    def _norm(self, kind: Norm, width: int) -> nn.Module:
        if kind == "batch":
            return ShiftOnlyBatchNorm(width)
        if kind == "virtual":
            return VirtualBatchNorm(width)
        raise ValueError(f"norm must be 'batch' or 'virtual', got {kind!r}")

    def _setup_reference(self, norm: Norm, n_ref: int) -> None:
        self.norm = norm
        if norm == "virtual":
            if n_ref < 1:
                raise ValueError(f"n_ref must be >= 1 for virtual batch norm, got {n_ref!r}")
            self.register_buffer("z_ref", torch.rand(n_ref, self.noise_dim))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Images from noise ``(batch, noise_dim)``; with virtual batch norm the fixed reference noise is
        passed through first to set each layer's reference statistics."""
        if self.norm == "virtual":
            with vbn_reference(self):
                self.net(self.z_ref)
        return self.net(z).view(-1, *self.image_shape)


class MnistDiscriminator(Discriminator):
    """The improved-GAN MNIST classifier: Gaussian noise 0.3 on the input, weight-normalised dense ReLU
    layers 1000-500-250-250-250 each followed by Gaussian noise 0.5, then ``num_classes`` logits.

    Args:
        num_classes: K.
        hidden: widths of the hidden layers; the last one's ReLU output is the feature-matching layer.
        input_noise: std of the input noise.
        hidden_noise: std of the noise after each hidden layer.
        minibatch_kernels: B of a minibatch-discrimination layer on the features (0: none).
        minibatch_kernel_dim: C of that layer.
        init_std: initial std of the weight directions.

    Shapes: images ``(batch, 784)``, ``(batch, 28, 28)`` or ``(batch, 1, 28, 28)`` in [0, 1] -> logits.
    """

    def __init__(
        self,
        num_classes: int = 10,
        *,
        hidden: tuple[int, ...] = (1000, 500, 250, 250, 250),
        input_noise: float = 0.3,
        hidden_noise: float = 0.5,
        minibatch_kernels: int = 0,
        minibatch_kernel_dim: int = 5,
        init_std: float = 0.1,
        in_features: int = 784,
    ) -> None:
        super().__init__()
        if num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {num_classes!r}")
        if not hidden or any(h < 1 for h in hidden):
            raise ValueError(f"hidden must be a non-empty tuple of positive widths, got {hidden!r}")
        if minibatch_kernels < 0:
            raise ValueError(f"minibatch_kernels must be >= 0 (0 disables), got {minibatch_kernels!r}")
        self.num_classes, self.feature_dim, self.in_features = num_classes, hidden[-1], in_features
        layers: list[nn.Module] = [GaussianNoise(input_noise)]
        width = in_features
        for h in hidden[:-1]:
            layers += [
                WeightNormLinear(width, h, init_std=init_std, train_scale=False),
                nn.ReLU(),
                GaussianNoise(hidden_noise),
            ]
            width = h
        layers += [WeightNormLinear(width, hidden[-1], init_std=init_std, train_scale=False), nn.ReLU()]
        self.trunk = nn.Sequential(*layers)
        self.feature_noise = GaussianNoise(hidden_noise)
        self.minibatch = (
            MinibatchDiscrimination(hidden[-1], minibatch_kernels, minibatch_kernel_dim)
            if minibatch_kernels
            else None
        )
        self.batch_dependent = self.minibatch is not None
        head_in = hidden[-1] + minibatch_kernels
        self.head = WeightNormLinear(head_in, num_classes, init_std=init_std, train_scale=True)

    def forward_with_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns ``(logits (batch, K), features (batch, hidden[-1]))``.

        Raises:
            TypeError: integer images (e.g. uint8 in [0, 255]; the model takes floats in [0, 1]).
            ValueError: images that do not have ``in_features`` values each.
        """
        if not x.is_floating_point():
            raise TypeError(f"images must be floats in [0, 1], got dtype {x.dtype} (divide uint8 by 255)")
        if x.dim() < 2 or x.shape[1:].numel() != self.in_features:
            raise ValueError(f"images must have {self.in_features} values each, got shape {tuple(x.shape)}")
        feats = self.trunk(x.reshape(x.shape[0], self.in_features).float())
        h = self.feature_noise(feats)
        if self.minibatch is not None:
            h = self.minibatch(h)
        return self.head(h), feats


class MnistGenerator(Generator):
    """The improved-GAN MNIST generator: 100 uniform noise -> 500 softplus+BN -> 500 softplus+BN ->
    784 sigmoid with a weight-normalised output layer.

    Args:
        noise_dim: size of the noise.
        hidden: hidden widths.
        norm: ``"batch"`` (batch norm without scale, their code) or ``"virtual"`` (virtual batch norm).
        n_ref: size of the fixed reference batch for virtual batch norm.

    Shapes: noise ``(batch, noise_dim)`` -> images ``(batch, 784)`` in (0, 1).
    """

    def __init__(
        self,
        noise_dim: int = 100,
        *,
        hidden: tuple[int, ...] = (500, 500),
        norm: Norm = "batch",
        n_ref: int = 100,
        out_features: int = 784,
    ) -> None:
        super().__init__()
        if noise_dim < 1:
            raise ValueError(f"noise_dim must be >= 1, got {noise_dim!r}")
        self.noise_dim, self.image_shape = noise_dim, (out_features,)
        layers: list[nn.Module] = []
        width = noise_dim
        for h in hidden:
            layers += [nn.Linear(width, h, bias=False), self._norm(norm, h), nn.Softplus()]
            width = h
        # no data-dependent init on the output layer, as their l2normalize output layer
        out = WeightNormLinear(width, out_features, init_std=0.05, train_scale=True, data_init=False)
        layers += [out, nn.Sigmoid()]
        self.net = nn.Sequential(*layers)
        for m in self.net:
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
        self._setup_reference(norm, n_ref)


class CifarDiscriminator(Discriminator):
    """The improved-GAN CIFAR-10 classifier: dropout 0.2 -> 3x[conv3x3 96, lrelu] (last stride 2) ->
    dropout 0.5 -> 3x[conv3x3 192] (last stride 2) -> dropout 0.5 -> conv3x3 192 valid -> 2x NiN 192 ->
    global mean pool (the feature-matching layer) -> [minibatch discrimination] -> dense K.

    Args:
        num_classes: K.
        minibatch_kernels: B of the minibatch-discrimination layer (their minibatch model: 100; 0: none).
        minibatch_kernel_dim: C (their code: 5).
        width: channel widths ``(w1, w2)`` (their code: 96, 192).
        input_dropout, hidden_dropout: dropout rates.

    Shapes: images ``(batch, 3, 32, 32)`` in [-1, 1] -> logits ``(batch, K)``; features ``(batch, w2)``.
    """

    def __init__(
        self,
        num_classes: int = 10,
        *,
        minibatch_kernels: int = 0,
        minibatch_kernel_dim: int = 5,
        width: tuple[int, int] = (96, 192),
        input_dropout: float = 0.2,
        hidden_dropout: float = 0.5,
    ) -> None:
        super().__init__()
        if minibatch_kernels < 0:
            raise ValueError(f"minibatch_kernels must be >= 0 (0 disables), got {minibatch_kernels!r}")
        for name, p in (("input_dropout", input_dropout), ("hidden_dropout", hidden_dropout)):
            if not 0.0 <= p < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {p!r}")
        w1, w2 = width
        self.num_classes, self.feature_dim = num_classes, w2

        def conv(cin: int, cout: int, k: int = 3, stride: int = 1, pad: int = 1) -> list[nn.Module]:
            return [
                WeightNormConv2d(cin, cout, k, stride=stride, padding=pad, train_scale=False),
                nn.LeakyReLU(0.2),
            ]

        self.trunk = nn.Sequential(
            nn.Dropout(input_dropout),
            *conv(3, w1),
            *conv(w1, w1),
            *conv(w1, w1, stride=2),
            nn.Dropout(hidden_dropout),
            *conv(w1, w2),
            *conv(w2, w2),
            *conv(w2, w2, stride=2),
            nn.Dropout(hidden_dropout),
            *conv(w2, w2, pad=0),
            *conv(w2, w2, k=1, pad=0),
            *conv(w2, w2, k=1, pad=0),
        )
        self.minibatch = (
            MinibatchDiscrimination(w2, minibatch_kernels, minibatch_kernel_dim)
            if minibatch_kernels
            else None
        )
        self.batch_dependent = self.minibatch is not None
        self.head = WeightNormLinear(w2 + minibatch_kernels, num_classes, init_std=0.05, train_scale=True)
        self.head.init_target_std = 0.1

    def forward_with_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns ``(logits (batch, K), pooled features (batch, w2))``."""
        feats = self.trunk(x.float()).mean(dim=(2, 3))
        h = self.minibatch(feats) if self.minibatch is not None else feats
        return self.head(h), feats


class CifarGenerator(Generator):
    """The improved-GAN CIFAR-10 generator: 100 uniform noise -> dense 4x4x512 BN ReLU -> deconv5x5 256
    (8x8) BN ReLU -> deconv5x5 128 (16x16) BN ReLU -> weight-normalised deconv5x5 3 (32x32) tanh.

    Args:
        noise_dim: size of the noise.
        norm: ``"batch"`` or ``"virtual"``.
        n_ref: reference batch size for virtual batch norm.
        width: base width (their code: 512, halved per upsampling).

    Shapes: noise ``(batch, noise_dim)`` -> images ``(batch, 3, 32, 32)`` in (-1, 1).
    """

    def __init__(
        self, noise_dim: int = 100, *, norm: Norm = "batch", n_ref: int = 100, width: int = 512
    ) -> None:
        super().__init__()
        if noise_dim < 1 or width < 4:
            raise ValueError(f"noise_dim must be >= 1 and width >= 4, got {noise_dim!r}, {width!r}")
        self.noise_dim, self.image_shape = noise_dim, (3, 32, 32)

        def up(cin: int, cout: int) -> nn.Module:
            return nn.ConvTranspose2d(cin, cout, 5, stride=2, padding=2, output_padding=1, bias=False)

        last = WeightNormConvTranspose2d(width // 4, 3, 5, stride=2, padding=2, output_padding=1)
        last.init_target_std = 0.1
        self.net = nn.Sequential(
            nn.Linear(noise_dim, 4 * 4 * width, bias=False),
            self._norm(norm, 4 * 4 * width),
            nn.ReLU(),
            nn.Unflatten(1, (width, 4, 4)),
            up(width, width // 2),
            self._norm(norm, width // 2),
            nn.ReLU(),
            up(width // 2, width // 4),
            self._norm(norm, width // 4),
            nn.ReLU(),
            last,
            nn.Tanh(),
        )
        for m in self.net:
            if isinstance(m, (nn.Linear, nn.ConvTranspose2d)):
                nn.init.normal_(m.weight, std=0.05)
        self._setup_reference(norm, n_ref)
