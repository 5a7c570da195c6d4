"""The VAE's approximate posteriors and KL terms: a diagonal Gaussian and inverse autoregressive flow (IAF).

* :class:`DiagonalPosterior` and :class:`IAFPosterior` (a stack of :class:`IAFStep`, each a gated
  :class:`~generative.iaf.made.MADE` update): ``(mu0, log_sigma0, h) -> (z, log q per dim)``;
* :func:`gaussian_log_prob`, :func:`diagonal_kl`, :func:`free_bits_kl`.

All in nats.

References:
    Kingma, Salimans, Jozefowicz, Chen, Sutskever, Welling. Improved Variational Inference with Inverse
    Autoregressive Flow. NeurIPS 2016.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from generative.iaf.made import MADE

LOG_2PI = math.log(2 * math.pi)


def gaussian_log_prob(z: torch.Tensor) -> torch.Tensor:
    """Standard-normal log-density per dimension: ``(..., D) -> (..., D)``."""
    return -0.5 * (z.pow(2) + LOG_2PI)


def diagonal_kl(mu: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
    """``KL(N(mu, sigma^2) || N(0, 1))`` per dimension, in closed form: ``(B, D) -> (B, D)``."""
    return 0.5 * (mu.pow(2) + torch.exp(2 * log_sigma) - 1) - log_sigma


def free_bits_kl(kl_per_dim: torch.Tensor, free_bits: float, groups: int) -> torch.Tensor:
    """The free-bits KL term ``sum_j max(lambda, E_batch KL_j)``.

    The ``D`` latent dimensions are split into ``groups`` contiguous groups of equal size; ``KL_j`` is the
    KL summed within group ``j``, averaged over the batch, and floored at ``lambda = free_bits`` nats. A
    group below the floor gets no gradient, so the optimiser stops squeezing information out of it.
    ``free_bits = 0`` gives the batch mean of the total KL.

    Args:
        kl_per_dim: ``(B, D)`` KL (closed form, or the single-sample ``log q - log p``) per dimension.
        free_bits: ``lambda``, nats per group (>= 0).
        groups: number of groups (divides ``D``).

    Returns:
        Scalar: the KL term of one example (already averaged over the batch).

    Raises:
        ValueError: negative ``free_bits`` or ``groups`` not dividing ``D``.

    References:
        Kingma et al. 2016, Appendix C.8 ("free bits").
    """
    if free_bits < 0:
        raise ValueError(f"free_bits must be >= 0 nats, got {free_bits}")
    dims = kl_per_dim.shape[-1]
    if groups < 1 or dims % groups:
        raise ValueError(f"free_bits_groups must divide the latent size {dims}, got {groups}")
    per_group = kl_per_dim.reshape(-1, groups, dims // groups).sum(-1).mean(0)
    return per_group.clamp(min=free_bits).sum()


class DiagonalPosterior(nn.Module):
    """``z = mu0 + sigma0 * eps``; the baseline posterior (ignores the context ``h``)."""

    def forward(
        self, mu: torch.Tensor, log_sigma: torch.Tensor, h: torch.Tensor, eps: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Sample and score.

        Args:
            mu, log_sigma: ``(B, D)``; h: ``(B, C)`` (unused); eps: ``(B, D)`` noise (default: fresh N(0, 1)).

        Returns:
            ``z`` ``(B, D)`` and ``log q(z | x)`` per dimension ``(B, D)`` (sum over ``D`` for the density).
        """
        eps = torch.randn_like(mu) if eps is None else eps
        return mu + torch.exp(log_sigma) * eps, gaussian_log_prob(eps) - log_sigma


class IAFStep(nn.Module):
    """One numerically stable gated IAF step.

    ``[m, s] = MADE(z, h)``; ``sigma = sigmoid(s)``; ``z' = sigma * z + (1 - sigma) * m``;
    ``log|det dz'/dz| = sum log sigma`` (the Jacobian is triangular in the MADE's ordering).
    The bias of ``s`` starts at ``sigmoid_bias`` (+2: ``sigma ~ 0.88``, close to the identity).

    Args:
        latent_dim, context_dim: sizes of ``z`` and ``h``.
        width: MADE hidden width; num_hidden: MADE hidden layers; order: the MADE's variable ordering.
        sigmoid_bias: initial bias of ``s``.

    References:
        Kingma et al. 2016, Section 4, Algorithm 2 (equations 11-14).
    """

    def __init__(
        self, latent_dim: int, context_dim: int, width: int, num_hidden: int = 1,
        order: torch.Tensor | None = None, sigmoid_bias: float = 2.0,
    ) -> None:
        super().__init__()
        self.made = MADE(latent_dim, width, num_hidden, context_dim, n_params=2, order=order)
        with torch.no_grad():  # start near the identity: small outputs, s biased towards +sigmoid_bias
            self.made.output.weight.mul_(0.1)
            if self.made.context_out is not None:
                self.made.context_out.weight.mul_(0.1)
            self.made.output.bias.zero_()
            self.made.output.bias[latent_dim:] = sigmoid_bias

    def forward(self, z: torch.Tensor, h: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns ``z'`` ``(B, D)`` and ``log sigma`` ``(B, D)`` (the log-determinant per dimension)."""
        m, s = self.made(z, h).unbind(-2)
        sigma = torch.sigmoid(s)
        return sigma * z + (1 - sigma) * m, F.logsigmoid(s)


class IAFPosterior(nn.Module):
    """``z0 = mu0 + sigma0 * eps`` followed by ``depth`` IAF steps; the variable order is reversed
    between consecutive steps.

    Args:
        latent_dim: ``D``; context_dim: width of ``h``.
        depth: number of IAF steps (>= 1); width: MADE hidden width (>= D - 1);
        num_hidden: MADE hidden layers per step; sigmoid_bias: initial bias of ``s``.

    Raises:
        ValueError: bad depth/width (named in the message).

    References:
        Kingma et al. 2016, Algorithm 2.
    """

    def __init__(
        self, latent_dim: int, context_dim: int, depth: int = 2, width: int = 320, num_hidden: int = 1,
        sigmoid_bias: float = 2.0,
    ) -> None:
        super().__init__()
        if depth < 1:
            raise ValueError(f"iaf_depth must be >= 1 (use posterior='diagonal' for none), got {depth}")
        if width < max(latent_dim - 1, 1):
            raise ValueError(f"iaf_width must be >= latent_dim - 1 = {latent_dim - 1}, got {width}")
        forward = torch.arange(latent_dim)
        self.steps = nn.ModuleList(
            IAFStep(latent_dim, context_dim, width, num_hidden, forward if t % 2 == 0 else forward.flip(0),
                    sigmoid_bias)
            for t in range(depth)
        )

    def flow(self, z: torch.Tensor, h: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Apply the steps: ``z0 (B, D) -> z_T (B, D)`` and ``log|det dz_T/dz0|`` per dimension ``(B, D)``."""
        logdet = torch.zeros_like(z)
        for step in self.steps:
            z, log_sigma = step(z, h)
            logdet = logdet + log_sigma
        return z, logdet

    def forward(
        self, mu: torch.Tensor, log_sigma: torch.Tensor, h: torch.Tensor, eps: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """As :meth:`DiagonalPosterior.forward`: ``z`` and ``log q(z | x)`` per dimension, ``(B, D)`` each."""
        eps = torch.randn_like(mu) if eps is None else eps
        z, logdet = self.flow(mu + torch.exp(log_sigma) * eps, h if h.shape[-1] else None)
        return z, gaussian_log_prob(eps) - log_sigma - logdet
