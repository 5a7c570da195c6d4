"""Losses of the improved-GAN techniques: the semi-supervised K+1 discriminator loss (with one-sided
label smoothing), feature matching, the standard and minimax generator losses, and historical averaging.

The K+1 classifier keeps the logit of the "fake" class fixed at 0. With ``lse = logsumexp(logits)``
(``Z = exp(lse)``), ``D(x) = p(real | x) = Z / (Z + 1) = sigmoid(lse)``, so

* real, unlabelled: ``-log D(x) = -lse + softplus(lse)``;
* fake: ``-log(1 - D(x)) = softplus(lse)``;
* labelled: ``-log p(y | x, real)``, the K-class cross-entropy.

References:
    Salimans et al. "Improved Techniques for Training GANs", NeurIPS 2016, sections 3.1, 3.3, 3.5, 5.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "HistoricalAverage",
    "binary_discriminator_loss",
    "feature_matching_loss",
    "generator_minimax_loss",
    "generator_nonsaturating_loss",
    "supervised_loss",
    "unsupervised_loss",
]


def _check_smoothing(real_target: float) -> None:
    if not 0.0 < real_target <= 1.0:
        raise ValueError(
            f"real_target (one-sided label smoothing) must be in (0, 1], got {real_target!r}; "
            "1.0 disables smoothing, the improved-GAN ImageNet code used 0.75"
        )


def supervised_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the labelled batch over the K real classes.

    Args:
        logits: ``(batch, K)`` real-class logits.
        labels: ``(batch,)`` int64 classes in ``[0, K)``.

    Returns:
        Scalar mean loss.
    """
    return F.cross_entropy(logits, labels)


def unsupervised_loss(
    logits_real: torch.Tensor, logits_fake: torch.Tensor, *, real_target: float = 1.0
) -> torch.Tensor:
    """Real-vs-fake loss of the K+1 discriminator (fake logit fixed at 0), each half weighted 1/2.

    ``0.5 * E_real[-a log D(x) - (1 - a) log(1 - D(x))] + 0.5 * E_fake[-log(1 - D(G(z)))]`` with
    ``a = real_target``; for ``a = 1`` this is their
    ``-0.5 E_real[lse] + 0.5 E_real[softplus(lse)] + 0.5 E_fake[softplus(lse)]``.

    Args:
        logits_real: ``(batch, K)`` logits of unlabelled real data.
        logits_fake: ``(batch', K)`` logits of generated data.
        real_target: one-sided label smoothing: the target probability of "real" for real data
            (fake targets stay 0).

    Returns:
        Scalar loss.
    """
    _check_smoothing(real_target)
    lse_real = torch.logsumexp(logits_real, dim=1)
    lse_fake = torch.logsumexp(logits_fake, dim=1)
    real = real_target * F.softplus(-lse_real) + (1.0 - real_target) * F.softplus(lse_real)
    return 0.5 * real.mean() + 0.5 * F.softplus(lse_fake).mean()


def generator_nonsaturating_loss(logits_fake: torch.Tensor) -> torch.Tensor:
    """Standard (non-saturating) generator loss ``-E log D(G(z)) = E softplus(-lse)`` for a K+1 classifier.

    Args:
        logits_fake: ``(batch, K)`` logits of generated data (or ``(batch, 1)`` for a binary discriminator).
    """
    return F.softplus(-torch.logsumexp(logits_fake, dim=1)).mean()


def generator_minimax_loss(logits_fake: torch.Tensor) -> torch.Tensor:
    """The minimax generator loss ``E log(1 - D(G(z))) = -E softplus(lse)`` for a K+1 classifier: their
    minibatch-discrimination trainers' ``loss_gen = -T.mean(T.nnet.softplus(l_gen))``. It saturates (its
    gradient vanishes) where the discriminator rejects the samples confidently.

    Args:
        logits_fake: ``(batch, K)`` logits of generated data.
    """
    return -F.softplus(torch.logsumexp(logits_fake, dim=1)).mean()


def binary_discriminator_loss(
    logit_real: torch.Tensor, logit_fake: torch.Tensor, *, real_target: float = 1.0
) -> torch.Tensor:
    """Ordinary GAN discriminator loss with one-sided label smoothing (real targets ``real_target``, fake 0).

    Args:
        logit_real: ``(batch,)`` or ``(batch, 1)`` logits of real data.
        logit_fake: same for generated data.
        real_target: target for real data, in (0, 1].
    """
    _check_smoothing(real_target)
    real = F.binary_cross_entropy_with_logits(logit_real, torch.full_like(logit_real, real_target))
    fake = F.binary_cross_entropy_with_logits(logit_fake, torch.zeros_like(logit_fake))
    return real + fake


def feature_matching_loss(features_real: torch.Tensor, features_fake: torch.Tensor) -> torch.Tensor:
    """``mean_k (E_real f_k(x) - E_fake f_k(G(z)))^2`` over the feature units (their code: the mean, not
    the sum, of the squared differences of the batch means).

    Args:
        features_real: ``(batch, F)`` intermediate discriminator features of real data (may be detached).
        features_fake: ``(batch', F)`` the same features of generated data.
    """
    return (features_real.mean(dim=0) - features_fake.mean(dim=0)).pow(2).mean()


class HistoricalAverage:
    """Historical averaging: the cost ``weight * ||theta - mean of past thetas||^2``.

    The running mean is the plain average of every parameter vector passed to :meth:`update`
    (``decay=None``) or an exponential moving average (``decay`` in (0, 1)).

    Args:
        parameters: the parameters to regularise (e.g. ``module.parameters()``).
        weight: the cost's coefficient (> 0).
        decay: ``None`` for the exact historical mean, or an EMA decay.

    References:
        Salimans et al. 2016, section 3.3 (not in their published code).
    """

    def __init__(
        self, parameters: Iterable[nn.Parameter], weight: float = 1.0, decay: float | None = None
    ) -> None:
        if not weight > 0:
            raise ValueError(
                f"historical averaging weight must be > 0, got {weight!r} (omit the term to disable)"
            )
        if decay is not None and not 0.0 < decay < 1.0:
            raise ValueError(f"decay must be in (0, 1) or None, got {decay!r}")
        self.params = [p for p in parameters if p.requires_grad]
        self.weight, self.decay = float(weight), decay
        self.means = [p.detach().clone() for p in self.params]
        self.count = 1

    def penalty(self) -> torch.Tensor:
        """``weight * sum ||theta - mean||^2`` (differentiable w.r.t. the parameters)."""
        total = sum((p - m).pow(2).sum() for p, m in zip(self.params, self.means, strict=True))
        return self.weight * total

    @torch.no_grad()
    def update(self) -> None:
        """Fold the current parameters into the running mean (call after each optimiser step)."""
        self.count += 1
        rate = 1.0 / self.count if self.decay is None else 1.0 - self.decay
        for p, m in zip(self.params, self.means, strict=True):
            m.add_(p.detach() - m, alpha=rate)

    def state_dict(self) -> dict:
        """Plain tensors and numbers (loads with ``weights_only=True``)."""
        return {"means": [m.clone() for m in self.means], "count": self.count}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`'s output."""
        for m, saved in zip(self.means, state["means"], strict=True):
            m.copy_(saved)
        self.count = int(state["count"])
