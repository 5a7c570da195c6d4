"""The batch norms of the improved-GAN models: virtual batch normalisation (normalised with a fixed reference
batch, :func:`vbn_reference` records it) and a scale-free batch norm.

References:
    Salimans, Goodfellow, Zaremba, Cheung, Radford, Chen. "Improved Techniques for Training GANs",
    NeurIPS 2016 (code: openai/improved-gan).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from generative.gan.layers import check_positive

__all__ = ["ShiftOnlyBatchNorm", "VirtualBatchNorm", "vbn_reference"]


class ShiftOnlyBatchNorm(nn.Module):
    """Batch normalisation with a learned shift and no scale (their ``nn.batch_norm(..., g=None)``).

    Args:
        num_features: channels (dim 1 of the input).
        momentum: running-statistics momentum (torch convention).
    """

    def __init__(self, num_features: int, momentum: float = 0.1) -> None:
        super().__init__()
        self.bn = nn.BatchNorm1d(num_features, affine=False, momentum=momentum)
        self.beta = nn.Parameter(torch.zeros(num_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Shapes: ``(N, C)`` or ``(N, C, H, W)``, unchanged."""
        shape = [1, -1] + [1] * (x.dim() - 2)
        flat = x if x.dim() == 2 else x.transpose(0, 1).reshape(x.shape[1], -1).t()
        out = self.bn(flat)
        if x.dim() != 2:
            out = out.t().reshape(x.shape[1], x.shape[0], *x.shape[2:]).transpose(0, 1)
        return out + self.beta.view(shape)


class VirtualBatchNorm(nn.Module):
    """Virtual batch normalisation: each example is normalised with the statistics of a fixed reference
    batch mixed with its own at weight ``1 / (n_ref + 1)``.

    For an example ``x`` (per feature; for images per channel over its own pixels) with reference
    mean ``mu_r`` and mean square ``s_r`` over ``n_ref`` reference examples::

        mu = (x_mean + n_ref mu_r) / (n_ref + 1);  s = (x_sq_mean + n_ref s_r) / (n_ref + 1)
        y = gamma * (x - mu) / sqrt(s - mu^2 + eps) + beta

    so an output depends only on its own input and the reference batch, never on the rest of its batch.
    The reference statistics are collected by running the reference batch through the network inside
    :func:`vbn_reference` (the reference batch itself is normalised with its own statistics), which keeps
    them differentiable functions of the current parameters as in the paper.

    Args:
        num_features: features (dense) or channels (images).
        eps: variance floor.
        affine: learn ``gamma`` and ``beta``.

    References:
        Salimans et al. 2016, section 3.4.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, affine: bool = True) -> None:
        super().__init__()
        check_positive("eps", eps)
        self.num_features, self.eps = num_features, eps
        self.gamma = nn.Parameter(torch.ones(num_features)) if affine else None
        self.beta = nn.Parameter(torch.zeros(num_features)) if affine else None
        self._collect = False
        self.ref_mean: torch.Tensor | None = None
        self.ref_mean_sq: torch.Tensor | None = None
        self.n_ref = 0

    def set_reference(self, ref: torch.Tensor) -> None:
        """Store the statistics of a reference batch ``ref`` (shape ``(n_ref, C, ...)``)."""
        reduce = [0, *range(2, ref.dim())]
        self.ref_mean = ref.mean(dim=reduce)
        self.ref_mean_sq = ref.pow(2).mean(dim=reduce)
        self.n_ref = ref.shape[0]

    def _affine(self, y: torch.Tensor) -> torch.Tensor:
        if self.gamma is None:
            return y
        shape = [1, -1] + [1] * (y.dim() - 2)
        return y * self.gamma.view(shape) + self.beta.view(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Shapes: ``(N, C)`` or ``(N, C, H, W)``, unchanged.

        Raises:
            RuntimeError: no reference statistics yet (run the reference batch in :func:`vbn_reference`).
        """
        shape = [1, -1] + [1] * (x.dim() - 2)
        if self._collect:
            self.set_reference(x)
            var = self.ref_mean_sq - self.ref_mean.pow(2)
            return self._affine((x - self.ref_mean.view(shape)) / (var.view(shape) + self.eps).sqrt())
        if self.ref_mean is None:
            raise RuntimeError("VirtualBatchNorm has no reference statistics: run the reference batch first")
        own = list(range(2, x.dim()))
        own_mean = x.mean(dim=own, keepdim=True) if own else x
        own_sq = x.pow(2).mean(dim=own, keepdim=True) if own else x.pow(2)
        w = 1.0 / (self.n_ref + 1)
        mean = w * own_mean + (1 - w) * self.ref_mean.view(shape)
        mean_sq = w * own_sq + (1 - w) * self.ref_mean_sq.view(shape)
        return self._affine((x - mean) / (mean_sq - mean.pow(2) + self.eps).sqrt())


@contextmanager
def vbn_reference(model: nn.Module) -> Iterator[None]:
    """Within this block every :class:`VirtualBatchNorm` in ``model`` records the statistics of its input
    (run the reference batch through ``model`` here); afterwards they normalise with them."""
    layers = [m for m in model.modules() if isinstance(m, VirtualBatchNorm)]
    for layer in layers:
        layer._collect = True
    try:
        yield
    finally:
        for layer in layers:
            layer._collect = False
