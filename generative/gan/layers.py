"""Layers of the improved-GAN models: weight-normalised dense/conv, Gaussian noise and minibatch
discrimination (the batch norms are in :mod:`generative.gan.batchnorm`).

References:
    Salimans, Goodfellow, Zaremba, Cheung, Radford, Chen. "Improved Techniques for Training GANs",
    NeurIPS 2016 (code: openai/improved-gan). Salimans & Kingma. "Weight Normalization", NeurIPS 2016.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "GaussianNoise",
    "MinibatchDiscrimination",
    "WeightNormConv2d",
    "WeightNormConvTranspose2d",
    "WeightNormLinear",
    "data_dependent_init",
]


def check_positive(name: str, value: float) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value > 0``."""
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")


class GaussianNoise(nn.Module):
    """Adds ``N(0, sigma^2)`` noise in training mode; the identity in evaluation mode.

    Args:
        sigma: noise standard deviation (>= 0; 0 disables the layer).
    """

    def __init__(self, sigma: float) -> None:
        super().__init__()
        if sigma < 0:
            raise ValueError(f"sigma must be >= 0, got {sigma!r}")
        self.sigma = float(sigma)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x: any shape. Returns: same shape."""
        if not self.training or self.sigma == 0:
            return x
        return x + self.sigma * torch.randn_like(x)

    def extra_repr(self) -> str:
        return f"sigma={self.sigma}"


class _WeightNorm(nn.Module):
    """Shared parts of the weight-normalised layers: ``w = g * v / ||v||`` per output unit.

    With data-dependent initialisation (see :func:`data_dependent_init`) the first pass sets
    ``g <- g / std`` and ``b <- -mean / std`` of the pre-activations, so each unit starts with zero mean,
    unit variance outputs on that batch (Salimans & Kingma 2016; ``nn.py`` of openai/improved-gan).
    """

    out_dim: int  # axis of ``v`` holding the output units

    def _setup(
        self,
        weight_shape: tuple[int, ...],
        init_std: float,
        train_scale: bool,
        bias: bool,
        data_init: bool = True,
    ) -> None:
        check_positive("init_std", init_std)
        self.v = nn.Parameter(torch.randn(weight_shape) * init_std)
        n_out = weight_shape[self.out_dim]
        self.g = nn.Parameter(torch.ones(n_out), requires_grad=train_scale)
        self.b = nn.Parameter(torch.zeros(n_out)) if bias else None
        self.init_target_std = 1.0  # std of the pre-activations after data-dependent initialisation
        self.data_init = data_init  # False: data_dependent_init leaves this layer as it is
        self._init_mode = False

    def weight(self) -> torch.Tensor:
        """The effective weight ``g * v / ||v||`` (norm over every axis but the output one)."""
        dims = [d for d in range(self.v.dim()) if d != self.out_dim]
        norm = self.v.pow(2).sum(dim=dims, keepdim=True).add(1e-12).sqrt()
        shape = [1] * self.v.dim()
        shape[self.out_dim] = -1
        return self.v * (self.g.view(shape) / norm)

    def _apply_op(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pre-activation of the layer (no non-linearity)."""
        out = self._apply_op(x, self.weight())
        reduce = [0, *range(2, out.dim())]  # every axis but the unit (channel) axis
        shape = [1, -1] + [1] * (out.dim() - 2)
        if self._init_mode and self.data_init:
            with torch.no_grad():
                mean = out.mean(dim=reduce)
                std = (out - mean.view(shape)).pow(2).mean(dim=reduce).add(1e-8).sqrt() / self.init_target_std
                self.g.div_(std)
                if self.b is not None:
                    self.b.copy_(-mean / std)
            out = (out - mean.view(shape)) / std.view(shape)
            return out
        if self.b is not None:
            out = out + self.b.view(shape)
        return out


class WeightNormLinear(_WeightNorm):
    """Dense layer with weight normalisation.

    Args:
        in_features: input size ``A``.
        out_features: output size.
        init_std: std of the initial direction ``v`` (its scale only sets the effective step size).
        train_scale: learn the per-unit scale ``g`` (the improved-GAN MNIST model learns it only in the
            output layer; hidden layers keep the data-dependent initial value).
        bias: add a learned bias.
        data_init: let :func:`data_dependent_init` rescale this layer. Their MNIST generator's sigmoid
            output layer has no such initialisation (``g = 1``, ``b = 0``): normalising its
            pre-activations to unit variance starts the generator at grey, high-variance images.

    Shapes: ``(batch, in_features) -> (batch, out_features)``.
    """

    out_dim = 0

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        init_std: float = 0.1,
        train_scale: bool = True,
        bias: bool = True,
        data_init: bool = True,
    ) -> None:
        super().__init__()
        self._setup((out_features, in_features), init_std, train_scale, bias, data_init)

    def _apply_op(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return F.linear(x, weight)


class WeightNormConv2d(_WeightNorm):
    """2-D convolution with weight normalisation (per output channel).

    Shapes: ``(N, C, H, W) -> (N, C', H', W')``.

    Args:
        in_channels, out_channels, kernel_size, stride, padding: as :class:`torch.nn.Conv2d`.
        init_std, train_scale, bias: as :class:`WeightNormLinear`.
    """

    out_dim = 0

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        stride: int = 1,
        padding: int = 0,
        init_std: float = 0.05,
        train_scale: bool = True,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.stride, self.padding = stride, padding
        self._setup((out_channels, in_channels, kernel_size, kernel_size), init_std, train_scale, bias)

    def _apply_op(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, weight, stride=self.stride, padding=self.padding)


class WeightNormConvTranspose2d(_WeightNorm):
    """Transposed 2-D convolution with weight normalisation (per output channel).

    Args:
        in_channels, out_channels, kernel_size, stride, padding, output_padding: as
            :class:`torch.nn.ConvTranspose2d`.
        init_std, train_scale, bias: as :class:`WeightNormLinear`.
    """

    out_dim = 1

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        stride: int = 1,
        padding: int = 0,
        output_padding: int = 0,
        init_std: float = 0.05,
        train_scale: bool = True,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.stride, self.padding, self.output_padding = stride, padding, output_padding
        self._setup((in_channels, out_channels, kernel_size, kernel_size), init_std, train_scale, bias)

    def _apply_op(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return F.conv_transpose2d(
            x, weight, stride=self.stride, padding=self.padding, output_padding=self.output_padding
        )


@torch.no_grad()
def data_dependent_init(model: nn.Module, *inputs: torch.Tensor) -> None:
    """Run ``model(*inputs)`` once with every weight-normalised layer in initialisation mode.

    Each such layer rescales its ``g`` and sets its bias so that its pre-activations on this batch have
    zero mean and unit variance (layers are initialised in order, each seeing already-normalised inputs); a
    :class:`MinibatchDiscrimination` layer rescales its kernels and sets its bias (see the class).

    Args:
        model: a module containing :class:`WeightNormLinear` / conv / minibatch-discrimination layers.
        inputs: a representative batch (the improved-GAN code uses 500 training images).
    """
    layers = [m for m in model.modules() if isinstance(m, (_WeightNorm, MinibatchDiscrimination))]
    for layer in layers:
        layer._init_mode = True
    try:
        model(*inputs)
    finally:
        for layer in layers:
            layer._init_mode = False


class MinibatchDiscrimination(nn.Module):
    """Minibatch discrimination: appends to each feature vector how close it is to the rest of the batch.

    ``M_i = f(x_i) T`` with ``T`` of shape ``(A, B, C)``; ``c_b(i, j) = exp(-||M_i,b - M_j,b||_1)``;
    ``o_b(i) = sum_{j != i} c_b(i, j)`` (+ a learned bias ``b_b``, as in their code); the output is
    ``[f(x_i), o(x_i)]``.

    Data-dependent initialisation (:func:`data_dependent_init`, their ``MinibatchLayer`` with ``init=True``):
    with ``m_b`` half the batch mean of each sample's L1 distance to its nearest other sample in kernel
    ``b``, ``T``'s scale of kernel ``b`` is divided by ``m_b`` (``log_scale -= log m_b``; ``theta`` itself
    without weight norm), so that nearest neighbours start at a mean distance of 2, and ``b_b`` is set to
    minus the batch mean of ``o_b``, so that ``o_b`` starts at mean 0. (Without it, on the improved-GAN MNIST
    discriminator's features, ``o_b`` starts near 33 +- 15: sums over 500 images of closeness to
    neighbours at a mean nearest distance of 0.85.)

    Args:
        in_features: ``A``, the size of ``f(x)``.
        num_kernels: ``B`` (their CIFAR-10 model: 100).
        kernel_dim: ``C`` (their CIFAR-10 model: 5).
        weight_norm: parametrise ``T`` as ``exp(log_scale) * theta / ||theta||`` (norm over ``A``), as their
            ``MinibatchLayer`` does; otherwise ``T`` is a plain parameter.
        bias: add a learned per-kernel bias ``b_b`` to ``o_b`` (initialised to -1 as in their code).
        init_std: std of the initial ``T`` (or ``theta``).

    Shapes: ``(batch, A) -> (batch, A + B)``.

    References:
        Salimans et al. 2016, section 3.2.
    """

    def __init__(
        self,
        in_features: int,
        num_kernels: int = 100,
        kernel_dim: int = 5,
        *,
        weight_norm: bool = True,
        bias: bool = True,
        init_std: float = 0.05,
    ) -> None:
        super().__init__()
        for name, value in (
            ("in_features", in_features),
            ("num_kernels", num_kernels),
            ("kernel_dim", kernel_dim),
        ):
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        check_positive("init_std", init_std)
        self.in_features, self.num_kernels, self.kernel_dim = in_features, num_kernels, kernel_dim
        self.weight_norm = weight_norm
        self.theta = nn.Parameter(torch.randn(in_features, num_kernels, kernel_dim) * init_std)
        self.log_scale = nn.Parameter(torch.zeros(num_kernels, kernel_dim)) if weight_norm else None
        self.bias = nn.Parameter(torch.full((num_kernels,), -1.0)) if bias else None
        self._init_mode = False

    def tensor(self) -> torch.Tensor:
        """The effective ``T``, shape ``(A, B, C)``."""
        if self.log_scale is None:
            return self.theta
        norm = self.theta.pow(2).sum(dim=0, keepdim=True).add(1e-12).sqrt()
        return self.theta * (self.log_scale.exp() / norm)

    def closeness(self, features: torch.Tensor) -> torch.Tensor:
        """``o(x_i)``: shape ``(batch, B)`` from features of shape ``(batch, A)``."""
        if features.dim() != 2 or features.shape[1] != self.in_features:
            raise ValueError(
                f"expected features of shape (batch, {self.in_features}), got {tuple(features.shape)}"
            )
        m = torch.einsum("na,abc->bnc", features, self.tensor())  # (B, batch, C)
        dist = torch.cdist(m, m, p=1)  # (B, batch, batch) L1 distances
        if self._init_mode:
            dist = self._initialise_scale(dist)
        c = torch.exp(-dist)
        o = c.sum(dim=2) - torch.diagonal(c, dim1=1, dim2=2)  # drop j == i (c(i, i) = 1)
        o = o.t()
        if self._init_mode and self.bias is not None:
            with torch.no_grad():
                self.bias.copy_(-o.mean(dim=0))
        return o + self.bias if self.bias is not None else o

    @torch.no_grad()
    def _initialise_scale(self, dist: torch.Tensor) -> torch.Tensor:
        """Divide ``T``'s scale per kernel by ``m_b`` (see the class docstring); the distances, rescaled."""
        if dist.shape[1] < 2:
            raise ValueError("minibatch discrimination's data-dependent init needs a batch of at least 2")
        others = dist + torch.diag(torch.full((dist.shape[1],), torch.inf, device=dist.device))
        half_mean_nearest = 0.5 * others.min(dim=2).values.mean(dim=1)  # (B,)
        if self.log_scale is not None:
            self.log_scale.sub_(half_mean_nearest.log()[:, None])
        else:
            self.theta.div_(half_mean_nearest[None, :, None])
        return dist / half_mean_nearest[:, None, None]

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Concatenate the features with their closeness statistics: ``(batch, A) -> (batch, A + B)``."""
        return torch.cat([features, self.closeness(features)], dim=1)
