"""The variational mutual-information lower bound L_I(G, Q) <= I(c; G(z, c)).

For codes ``c`` drawn from the prior and the Q head's distribution ``Q(c | x)`` on generated images,

    L_I = E[log Q(c | G(z, c))] + H(c)

computed per code (the codes are independent and Q factorises over them):

* categorical code with K values: ``log K - cross_entropy(Q logits, c)`` (at most log K);
* continuous code ~ U(-1, 1): ``E[log N(c; mu(x), sigma(x)^2)] + log 2``, a Gaussian log-likelihood plus
  the prior's differential entropy. With the original MNIST setting the standard deviation is FIXED at 1
  (``fix_std=True`` in openai/InfoGAN), so only the mean is learned and the bound is
  ``log 2 - log(2 pi) / 2 - E[(c - mu)^2] / 2``: negative, but a valid (loose) lower bound whose gradient
  is a squared error on the mean. ``continuous_std="learned"`` makes Q also output a log-variance
  (as the original ``Gaussian`` without ``fix_std``), which tightens the bound.

The original code adds ``-E[log N(c; 0, 1)]`` as the continuous codes' "entropy" instead of log 2 (the
U(-1, 1) entropy); the two differ by a constant, so the gradients, and training, are the same.

References:
    Chen et al., "InfoGAN", NeurIPS 2016, section 5 (lemma 5.1, equation 5); openai/InfoGAN
    ``infogan/algos/infogan_trainer.py`` and ``infogan/misc/distributions.py``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F

from generative.infogan.latent import LatentSample, LatentSpec

CONTINUOUS_STD_MODES = ("fixed", "learned")
LOG_2PI = math.log(2 * math.pi)


class QOutput(NamedTuple):
    """The Q head's parameters of Q(c | x), split per code.

    Attributes:
        logits: one ``(batch, K_i)`` tensor per categorical code.
        mean: ``(batch, continuous)`` means of the continuous codes.
        std: ``(batch, continuous)`` standard deviations (all ``fixed_std`` in the fixed mode).
    """

    logits: tuple[torch.Tensor, ...]
    mean: torch.Tensor
    std: torch.Tensor


class MIBound(NamedTuple):
    """Terms of the mutual-information lower bound, batch-averaged, in nats.

    Attributes:
        categorical: ``(n_categorical,)`` bound per categorical code, ``log K_i - cross-entropy``.
        continuous: ``(continuous,)`` bound per continuous code, ``log 2 + E log N(c; mu, sigma)``.
        total: scalar sum of all terms, L_I.
    """

    categorical: torch.Tensor
    continuous: torch.Tensor
    total: torch.Tensor


def check_std_mode(continuous_std: str, fixed_std: float) -> None:
    """Validate the continuous codes' std settings.

    Raises:
        ValueError: ``continuous_std`` not in ``("fixed", "learned")`` or ``fixed_std <= 0``.
    """
    if continuous_std not in CONTINUOUS_STD_MODES:
        raise ValueError(f"continuous_std must be one of {CONTINUOUS_STD_MODES}, got {continuous_std!r}")
    if not fixed_std > 0:
        raise ValueError(f"fixed_std must be > 0, got {fixed_std}")


def split_q_params(
    params: torch.Tensor, spec: LatentSpec, continuous_std: str = "fixed", fixed_std: float = 1.0
) -> QOutput:
    """Split the Q head's flat output into per-code distribution parameters.

    Args:
        params: ``(batch, spec.q_output_dim(continuous_std == "learned"))`` laid out
            ``[logits of code 1 | ... | means | log-variances (learned mode only)]``.
        spec: the latent spec.
        continuous_std: ``"fixed"`` (std = ``fixed_std``, the original) or ``"learned"``
            (std = exp(log-variance / 2), the original's ``Gaussian`` parametrisation).
        fixed_std: the standard deviation in the fixed mode.

    Returns:
        A :class:`QOutput`.

    Raises:
        ValueError: bad std settings or a ``params`` width that does not match the spec.
    """
    check_std_mode(continuous_std, fixed_std)
    learned = continuous_std == "learned"
    width = spec.q_output_dim(learned)
    if params.ndim != 2 or params.shape[1] != width:
        raise ValueError(
            f"Q parameters must have shape (batch, {width}) for {spec}, got {tuple(params.shape)}"
        )
    pieces = torch.split(params, [*spec.categorical, spec.continuous, spec.continuous if learned else 0], 1)
    logits = tuple(pieces[: spec.n_categorical])
    mean = pieces[spec.n_categorical]
    std = torch.exp(0.5 * pieces[-1]) if learned else torch.full_like(mean, fixed_std)
    return QOutput(logits, mean, std)


def gaussian_log_likelihood(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """Element-wise ``log N(x; mean, std^2)``; all tensors of the same shape."""
    return -0.5 * LOG_2PI - torch.log(std) - 0.5 * ((x - mean) / std) ** 2


def mutual_information_bound(q: QOutput, codes: LatentSample, spec: LatentSpec) -> MIBound:
    """The lower bound L_I on I(c; G(z, c)) for the codes that generated a batch.

    Args:
        q: Q's distribution on the generated images (:func:`split_q_params`).
        codes: the latent sample the images were generated from; only its codes are used.
        spec: the latent spec.

    Returns:
        An :class:`MIBound`; maximise ``total`` (for G and Q), e.g. minimise ``-lambda * total``.

    References:
        Chen et al. 2016, lemma 5.1: L_I(G, Q) = E_{c ~ P(c), x ~ G(z, c)}[log Q(c | x)] + H(c).
    """
    categorical = [
        math.log(k) - F.cross_entropy(q.logits[i], codes.categorical[:, i])
        for i, k in enumerate(spec.categorical)
    ]
    continuous = math.log(2.0) + gaussian_log_likelihood(codes.continuous, q.mean, q.std).mean(0)
    cat = torch.stack(categorical) if categorical else q.mean.new_zeros(0)
    return MIBound(cat, continuous, cat.sum() + continuous.sum())
