"""MADE: masked autoregressive networks with an optional context input.

A MADE maps ``z`` of shape ``(B, D)`` (and a context ``h`` of shape ``(B, C)`` that may depend on
anything but ``z``) to ``n_params`` outputs per variable, such that output ``i`` depends only on the
variables that come *before* ``i`` in a given ordering. This is the autoregressive network (ARNN) of
an inverse autoregressive flow step.

Masks follow Germain et al. (2015): each unit gets a degree; input ``d`` has degree ``rank(d) + 1``
(``1..D``); hidden degrees cycle through ``1..D-1``; a hidden unit sees inputs of degree ``<=`` its own,
an output of degree ``k`` sees hidden units of degree ``< k``. The context enters the first hidden layer
and (optionally) the outputs directly, both unmasked, which keeps the autoregressive property with
respect to ``z``.

References:
    Germain, Gregor, Murray, Larochelle. MADE: Masked Autoencoder for Distribution Estimation. ICML 2015.
    Kingma, Salimans, Jozefowicz, Chen, Sutskever, Welling. Improved Variational Inference with Inverse
    Autoregressive Flow. NeurIPS 2016 (the ARNN with context ``h``).
"""

from __future__ import annotations

import itertools

import torch
from torch import nn
from torch.nn import functional as F


class MaskedLinear(nn.Linear):
    """A linear layer whose weight is multiplied by a fixed binary mask.

    Args:
        in_features: input width.
        out_features: output width.
        mask: ``(out_features, in_features)`` tensor of 0/1.
    """

    def __init__(self, in_features: int, out_features: int, mask: torch.Tensor) -> None:
        super().__init__(in_features, out_features)
        if mask.shape != (out_features, in_features):
            raise ValueError(f"mask must have shape {(out_features, in_features)}, got {tuple(mask.shape)}")
        self.register_buffer("mask", mask.to(torch.get_default_dtype()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., in_features) -> (..., out_features)``."""
        return F.linear(x, self.weight * self.mask, self.bias)


def check_order(order: torch.Tensor | list[int] | None, features: int) -> torch.Tensor:
    """Validate an ordering: a permutation of ``range(features)``; ``None`` means the identity.

    ``order[k]`` is the index of the variable that comes ``k``-th.

    Raises:
        ValueError: ``order`` is not a permutation of ``range(features)``.
    """
    if order is None:
        return torch.arange(features)
    order = torch.as_tensor(order, dtype=torch.long)
    if order.shape != (features,) or not torch.equal(order.sort().values, torch.arange(features)):
        raise ValueError(f"order must be a permutation of range({features}), got {order.tolist()}")
    return order


class MADE(nn.Module):
    """Masked autoregressive network with context: ``(z, h) -> params`` of shape ``(B, n_params, D)``.

    ``params[:, p, i]`` depends on ``z[:, j]`` only for variables ``j`` that precede ``i`` in ``order``
    (never on ``z[:, i]`` itself), and freely on ``h``.

    Args:
        features: number of variables ``D`` (>= 1).
        hidden_features: width of each hidden layer (>= ``D - 1`` so every degree is represented).
        num_hidden: number of hidden layers (>= 1).
        context_features: width ``C`` of the context ``h``; 0 for none.
        n_params: outputs per variable (2 for an IAF step: ``m`` and ``s``).
        order: permutation; ``order[k]`` is the variable that comes ``k``-th. Default: identity.
        context_to_output: also add an unmasked linear map of ``h`` to the outputs, so that the first
            variable in the ordering (which sees no ``z``) still depends on ``h``.
        activation: hidden non-linearity (default ELU, as in the IAF paper).

    Raises:
        ValueError: a bad size or ordering (the message names the argument).

    References:
        Germain et al. 2015 (MADE); Kingma et al. 2016 (IAF), Section 4 / Appendix.
    """

    def __init__(
        self,
        features: int,
        hidden_features: int,
        num_hidden: int = 1,
        context_features: int = 0,
        n_params: int = 2,
        order: torch.Tensor | list[int] | None = None,
        context_to_output: bool = True,
        activation: type[nn.Module] = nn.ELU,
    ) -> None:
        super().__init__()
        if features < 1:
            raise ValueError(f"features must be >= 1, got {features}")
        if num_hidden < 1:
            raise ValueError(f"num_hidden must be >= 1, got {num_hidden}")
        if hidden_features < max(features - 1, 1):
            raise ValueError(
                f"hidden_features must be >= features - 1 = {features - 1} so every degree has a unit, "
                f"got {hidden_features}"
            )
        if context_features < 0:
            raise ValueError(f"context_features must be >= 0, got {context_features}")
        if n_params < 1:
            raise ValueError(f"n_params must be >= 1, got {n_params}")
        self.features, self.n_params = features, n_params
        order = check_order(order, features)
        self.register_buffer("order", order)
        in_degree = torch.empty(features, dtype=torch.long)
        in_degree[order] = torch.arange(1, features + 1)
        hid_degree = torch.arange(hidden_features) % max(features - 1, 1) + 1
        degrees = [in_degree] + [hid_degree] * num_hidden
        self.hidden = nn.ModuleList(
            MaskedLinear(len(d_in), len(d_out), (d_out[:, None] >= d_in[None, :]).long())
            for d_in, d_out in itertools.pairwise(degrees)
        )
        out_degree = in_degree.repeat(n_params)  # output p * D + i has the degree of variable i
        out_mask = (out_degree[:, None] > hid_degree[None, :]).long()
        self.output = MaskedLinear(hidden_features, n_params * features, out_mask)
        self.context = nn.Linear(context_features, hidden_features, bias=False) if context_features else None
        self.context_out = (
            nn.Linear(context_features, n_params * features, bias=False)
            if context_features and context_to_output
            else None
        )
        self.activation = activation()

    def forward(self, z: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        """Autoregressive parameters.

        Args:
            z: ``(B, D)`` variables.
            h: ``(B, C)`` context (required iff ``context_features > 0``).

        Returns:
            ``(B, n_params, D)``.
        """
        if (h is None) != (self.context is None):
            raise ValueError("pass a context h exactly when the MADE was built with context_features > 0")
        x = self.hidden[0](z)
        if self.context is not None:
            x = x + self.context(h)
        x = self.activation(x)
        for layer in self.hidden[1:]:
            x = self.activation(layer(x))
        out = self.output(x)
        if self.context_out is not None:
            out = out + self.context_out(h)
        return out.view(*z.shape[:-1], self.n_params, self.features)
