"""MADE: the masks make every output depend only on earlier inputs in the ordering (autograd oracle)."""

from __future__ import annotations

import pytest
import torch

from generative.iaf.made import MADE


def _jacobian(made: MADE, z: torch.Tensor, h: torch.Tensor | None) -> torch.Tensor:
    """``(n_params, D, D)``: d out[p, i] / d z[j] for one example."""
    return torch.autograd.functional.jacobian(lambda v: made(v.unsqueeze(0), h)[0], z)


@pytest.mark.parametrize(
    ("order", "num_hidden", "context"),
    [(None, 1, 0), ([5, 4, 3, 2, 1, 0], 1, 3), ([2, 0, 5, 1, 4, 3], 2, 4), (None, 3, 2)],
)
def test_outputs_depend_only_on_earlier_inputs(order, num_hidden, context):
    torch.manual_seed(0)
    d = 6
    made = MADE(d, 16, num_hidden=num_hidden, context_features=context, n_params=2, order=order)
    with torch.no_grad():
        for p in made.parameters():
            p.normal_(0, 0.5)  # dense random weights: every allowed connection is non-zero
    h = torch.randn(1, context) if context else None
    jac = _jacobian(made, torch.randn(d), h)
    rank = torch.empty(d, dtype=torch.long)
    rank[made.order] = torch.arange(d)
    allowed = rank[None, :] < rank[:, None]  # allowed[i, j]: j precedes i
    assert jac.shape == (2, d, d)
    assert torch.all(jac[:, ~allowed] == 0)
    assert torch.all(jac[:, allowed].abs() > 0)  # and the masks are not over-restrictive


def test_context_reaches_every_output():
    torch.manual_seed(1)
    made = MADE(4, hidden_features=8, context_features=3)
    z, h = torch.randn(1, 4), torch.randn(3)
    jac = torch.autograd.functional.jacobian(lambda c: made(z, c.unsqueeze(0))[0], h)
    assert torch.all(jac.abs().sum(-1) > 0)


def test_output_shape_and_batch_dims():
    made = MADE(5, hidden_features=10, context_features=2, n_params=3)
    assert made(torch.randn(7, 5), torch.randn(7, 2)).shape == (7, 3, 5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"features": 0, "hidden_features": 4}, "features must be >= 1"),
        ({"features": 8, "hidden_features": 4}, "hidden_features must be >= features - 1"),
        ({"features": 3, "hidden_features": 4, "num_hidden": 0}, "num_hidden must be >= 1"),
        ({"features": 3, "hidden_features": 4, "order": [0, 0, 1]}, "order must be a permutation"),
        ({"features": 3, "hidden_features": 4, "context_features": -1}, "context_features must be >= 0"),
        ({"features": 3, "hidden_features": 4, "n_params": 0}, "n_params must be >= 1"),
    ],
)
def test_bad_hyperparameters_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MADE(**kwargs)


def test_missing_context_raises():
    with pytest.raises(ValueError, match="context"):
        MADE(3, 4, context_features=2)(torch.randn(1, 3))
