"""The InfoGAN latent vector: incompressible noise plus categorical and continuous codes.

A latent vector is laid out as ``[noise | one-hot categorical code 1 | ... | continuous codes]``, the
order of the original code. The noise and the continuous codes are drawn from U(-1, 1), each categorical
code uniformly from its K values (the original MNIST set-up: 62 noise dims, one code with 10 values,
two continuous codes).

References:
    Chen et al., "InfoGAN: Interpretable Representation Learning by Information Maximizing Generative
    Adversarial Nets", NeurIPS 2016 (https://arxiv.org/abs/1606.03657).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F


class LatentSample(NamedTuple):
    """One batch of latent variables, before they are joined into a vector.

    Attributes:
        noise: ``(batch, noise)`` floats in [-1, 1].
        categorical: ``(batch, n_categorical)`` int64, column ``i`` in ``[0, K_i)``.
        continuous: ``(batch, continuous)`` floats (drawn in [-1, 1]; traversals go beyond).
    """

    noise: torch.Tensor
    categorical: torch.Tensor
    continuous: torch.Tensor

    def to(self, device: torch.device | str) -> LatentSample:
        """The same sample on ``device``."""
        return LatentSample(*(t.to(device) for t in self))


@dataclass(frozen=True)
class LatentSpec:
    """Sizes of the generator's latent inputs.

    Args:
        noise: number of incompressible noise dimensions (not regularised), >= 0.
        categorical: the number of values ``K_i`` of each categorical code, each >= 2 (may be empty).
        continuous: number of continuous codes (each one dimension), >= 0.

    Raises:
        ValueError: a size that is not a whole number, a negative size, a categorical code with fewer than 2
            values, or no code at all.

    References:
        Chen et al. 2016, section 5 and appendix C.1 (MNIST: noise 62, categorical (10,), continuous 2).
    """

    noise: int = 62
    categorical: tuple[int, ...] = (10,)
    continuous: int = 2

    def __post_init__(self) -> None:
        for name, value in (("noise", self.noise), ("continuous", self.continuous), *(
            ("categorical", k) for k in self.categorical
        )):
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise ValueError(f"LatentSpec sizes must be whole numbers: {name} got {value!r}")
        object.__setattr__(self, "categorical", tuple(int(k) for k in self.categorical))
        if self.noise < 0:
            raise ValueError(f"LatentSpec noise must be >= 0, got {self.noise}")
        if self.continuous < 0:
            raise ValueError(f"LatentSpec continuous must be >= 0 (a number of codes), got {self.continuous}")
        if any(k < 2 for k in self.categorical):
            raise ValueError(
                f"LatentSpec categorical sizes must each be >= 2 (values of a code), got {self.categorical}"
            )
        if not self.categorical and self.continuous == 0:
            raise ValueError("LatentSpec needs at least one code: give categorical sizes or continuous > 0")

    @property
    def n_categorical(self) -> int:
        """Number of categorical codes."""
        return len(self.categorical)

    @property
    def dim(self) -> int:
        """Length of the joined latent vector fed to the generator."""
        return self.noise + sum(self.categorical) + self.continuous

    @property
    def entropy(self) -> float:
        """H(c) of the codes' prior in nats: sum of log K_i plus log 2 per continuous U(-1, 1) code."""
        return sum(math.log(k) for k in self.categorical) + self.continuous * math.log(2.0)

    def q_output_dim(self, learned_std: bool) -> int:
        """Q head width: a logit per categorical value, a mean (and log-variance) per continuous code."""
        return sum(self.categorical) + self.continuous * (2 if learned_std else 1)

    def sample(self, batch: int, generator: torch.Generator | None = None) -> LatentSample:
        """Draw ``batch`` latent variables from the prior.

        Args:
            batch: number of samples, >= 1.
            generator: random source (the global one when ``None``).

        Returns:
            A :class:`LatentSample` with tensors of shapes ``(batch, noise)``, ``(batch, n_categorical)``
            and ``(batch, continuous)``.
        """
        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        noise = torch.rand(batch, self.noise, generator=generator) * 2 - 1
        cats = [torch.randint(k, (batch,), generator=generator) for k in self.categorical]
        categorical = torch.stack(cats, 1) if cats else torch.zeros(batch, 0, dtype=torch.long)
        continuous = torch.rand(batch, self.continuous, generator=generator) * 2 - 1
        return LatentSample(noise, categorical, continuous)

    def join(self, sample: LatentSample) -> torch.Tensor:
        """Concatenate a sample into the generator's input, categorical codes one-hot.

        Args:
            sample: a :class:`LatentSample` matching this spec.

        Returns:
            ``(batch, dim)`` float tensor laid out ``[noise | one-hot codes | continuous]``.
        """
        onehots = [F.one_hot(sample.categorical[:, i], k).float() for i, k in enumerate(self.categorical)]
        return torch.cat([sample.noise, *onehots, sample.continuous], dim=1)

    def traversal(
        self, code: int, values: torch.Tensor, noise: torch.Tensor, categorical_code: int = 0
    ) -> LatentSample:
        """A grid of latents: rows take each value of one categorical code, columns sweep a continuous code.

        Every other code is fixed (categorical codes at value 0, continuous codes at 0) and every cell
        shares the same noise, so the grid shows only what the two codes control.

        Args:
            code: index of the continuous code to sweep, in ``[0, continuous)``.
            values: ``(n_cols,)`` values given to that code.
            noise: ``(noise,)`` noise vector shared by all cells.
            categorical_code: index of the categorical code that labels the rows (if any).

        Returns:
            A :class:`LatentSample` of ``rows * n_cols`` latents in row-major order, ``rows`` being
            ``categorical[categorical_code]`` (1 when there is no categorical code).
        """
        if not 0 <= code < self.continuous:
            raise ValueError(f"code must index a continuous code in [0, {self.continuous}), got {code}")
        if self.categorical and not 0 <= categorical_code < self.n_categorical:
            raise ValueError(
                f"categorical_code must index a categorical code in [0, {self.n_categorical}), "
                f"got {categorical_code}"
            )
        if noise.shape != (self.noise,):
            raise ValueError(f"noise must have shape ({self.noise},), got {tuple(noise.shape)}")
        rows = self.categorical[categorical_code] if self.categorical else 1
        cols = values.numel()
        categorical = torch.zeros(rows * cols, self.n_categorical, dtype=torch.long)
        if self.categorical:
            categorical[:, categorical_code] = torch.arange(rows).repeat_interleave(cols)
        continuous = torch.zeros(rows * cols, self.continuous)
        continuous[:, code] = values.float().repeat(rows)
        return LatentSample(noise.float().expand(rows * cols, self.noise).clone(), categorical, continuous)
