"""IAF posterior, diagonal posterior, KL and free bits against independent oracles."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from generative.iaf.posterior import (
    DiagonalPosterior,
    IAFPosterior,
    diagonal_kl,
    free_bits_kl,
    gaussian_log_prob,
)


def _random_flow(depth: int, d: int = 5, c: int = 3, seed: int = 0) -> IAFPosterior:
    torch.manual_seed(seed)
    flow = IAFPosterior(d, c, depth=depth, width=8, num_hidden=1).double()
    with torch.no_grad():
        for p in flow.parameters():
            p.normal_(0, 0.5)  # far from the near-identity initialisation
    return flow


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_logdet_matches_bruteforce_jacobian(depth):
    flow = _random_flow(depth)
    z0, h = torch.randn(4, 5, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64)
    _, logdet = flow.flow(z0, h)
    for b in range(4):
        def transform(v, b=b):
            return flow.flow(v.unsqueeze(0), h[b : b + 1])[0][0]

        jac = torch.autograd.functional.jacobian(transform, z0[b])
        assert torch.allclose(logdet[b].sum(), torch.linalg.slogdet(jac).logabsdet, atol=1e-10)


def test_log_q_is_change_of_variables_from_eps():
    flow = _random_flow(3, seed=1)
    mu, log_sigma = torch.randn(2, 5, dtype=torch.float64), 0.3 * torch.randn(2, 5, dtype=torch.float64)
    h, eps = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 5, dtype=torch.float64)
    _, log_q = flow(mu, log_sigma, h, eps)
    for b in range(2):
        def sample(e, b=b):
            return flow(mu[b : b + 1], log_sigma[b : b + 1], h[b : b + 1], e.unsqueeze(0))[0][0]

        jac = torch.autograd.functional.jacobian(sample, eps[b])
        expected = Normal(0.0, 1.0).log_prob(eps[b]).sum() - torch.linalg.slogdet(jac).logabsdet
        assert torch.allclose(log_q[b].sum(), expected, atol=1e-10)


def test_order_is_reversed_between_steps_and_init_is_near_identity():
    flow = IAFPosterior(6, 4, depth=3, width=16)
    orders = [step.made.order.tolist() for step in flow.steps]
    assert orders == [[0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0], [0, 1, 2, 3, 4, 5]]
    _, logdet = flow.flow(torch.randn(10, 6), torch.randn(10, 4))
    gate = (logdet / 3).exp()  # geometric mean of the three gates sigma, per example and dim
    assert gate.mean().item() == pytest.approx(1 / (1 + math.exp(-2.0)), abs=0.02)  # sigmoid(+2 bias)
    assert gate.min().item() > 0.7


def test_diagonal_kl_matches_torch_distributions():
    torch.manual_seed(0)
    mu, log_sigma = torch.randn(8, 32), torch.randn(8, 32)
    expected = kl_divergence(Normal(mu, log_sigma.exp()), Normal(0.0, 1.0))
    assert torch.allclose(diagonal_kl(mu, log_sigma), expected, atol=1e-5)


def test_diagonal_posterior_log_q_matches_normal():
    torch.manual_seed(0)
    mu, log_sigma = torch.randn(8, 4), torch.randn(8, 4)
    z, log_q = DiagonalPosterior()(mu, log_sigma, torch.zeros(8, 0))
    assert torch.allclose(log_q, Normal(mu, log_sigma.exp()).log_prob(z), atol=1e-5)
    assert torch.allclose(gaussian_log_prob(z), Normal(0.0, 1.0).log_prob(z), atol=1e-6)


def test_free_bits_floors_each_group_batch_mean():
    # 2 examples, 4 dims in 2 groups: group KLs per example (1, 5) and (3, 0.2) -> batch means (2, 2.6)
    kl = torch.tensor([[0.5, 0.5, 2.0, 3.0], [1.0, 2.0, 0.1, 0.1]], requires_grad=True)
    assert free_bits_kl(kl, 0.0, 2).item() == pytest.approx(kl.sum(1).mean().item())
    value = free_bits_kl(kl, 2.5, 2)  # group 0 (mean 2.0) is floored, group 1 (mean 2.6) is not
    assert value.item() == pytest.approx(2.5 + 2.6)
    value.backward()
    assert torch.equal(kl.grad, torch.tensor([[0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.5, 0.5]]))
    assert free_bits_kl(kl, 10.0, 4).item() == pytest.approx(40.0)  # every group below the floor


@pytest.mark.parametrize(
    ("free_bits", "groups", "match"),
    [(-0.1, 1, "free_bits must be >= 0"), (0.5, 3, "free_bits_groups must divide")],
)
def test_free_bits_bad_values_raise(free_bits, groups, match):
    with pytest.raises(ValueError, match=match):
        free_bits_kl(torch.zeros(2, 4), free_bits, groups)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"depth": 0}, "iaf_depth must be >= 1"), ({"width": 3}, "iaf_width must be >= latent_dim")],
)
def test_bad_flow_hyperparameters_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        IAFPosterior(8, 4, **kwargs)
