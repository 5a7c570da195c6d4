"""The BNN against independent references: torch.distributions, Monte Carlo moments, a known system."""

import math

import pytest
import torch
from torch.distributions import Normal, kl_divergence
from torch.nn.functional import softplus

from curiosity.bnn import BNN, BayesianLinear, gaussian_kl, softplus_inverse


def test_gaussian_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu_q, mu_p = torch.randn(7, 3, generator=g), torch.randn(7, 3, generator=g)
    s_q, s_p = torch.rand(7, 3, generator=g) + 0.1, torch.rand(7, 3, generator=g) + 0.1
    expected = kl_divergence(Normal(mu_q, s_q), Normal(mu_p, s_p)).sum()
    assert torch.allclose(gaussian_kl(mu_q, s_q, mu_p, s_p), expected, rtol=1e-5)


def test_kl_to_prior_sums_every_weight_and_bias():
    torch.manual_seed(1)
    bnn = BNN(4, 2, (5, 3), prior_std=0.7)
    prior = Normal(0.0, 0.7)
    expected = sum(
        kl_divergence(Normal(mu, torch.nn.functional.softplus(rho)), prior).sum()
        for mu, rho in bnn.variational_parameters()
    )
    assert torch.allclose(bnn.kl_to_prior(), expected, rtol=1e-5)


def test_log_likelihood_is_a_fixed_std_gaussian_summed_over_dimensions():
    bnn = BNN(3, 4, likelihood_std=5.0)
    pred, target = torch.randn(2, 6, 4), torch.randn(6, 4)
    expected = Normal(pred, 5.0).log_prob(target).sum(-1)
    assert torch.allclose(bnn.log_likelihood(pred, target), expected, atol=1e-5)


def test_loss_is_the_negative_elbo_of_the_original_vime():
    """openai/vime's ``kl / n_batches - log_p_D_given_w / n_samples`` with ``log_p_D_given_w`` summed over
    samples, rows and dimensions; rebuilt one sample and one row at a time in float64 with the local
    reparameterisation written out (the same fixed noise), torch.distributions for the densities."""
    torch.manual_seed(3)
    bnn = BNN(3, 2, (4,), prior_std=0.6, likelihood_std=0.8)
    x, y = torch.randn(5, 3), torch.randn(5, 2)
    noise = bnn.sample_noise(n_samples=3, batch=5, generator=torch.Generator().manual_seed(0))
    loss, parts = bnn.loss(x, y, n_samples=3, n_batches=7.0, noise=noise)
    params = [[p.detach().double() for p in (layer.mu_w, layer.rho_w, layer.mu_b, layer.rho_b)]
              for layer in bnn.layers]  # fmt: skip
    log_p = 0.0
    for s in range(3):
        for row in range(5):
            h = x[row].double()
            for i, (mu_w, rho_w, mu_b, rho_b) in enumerate(params):
                std = (h.square() @ softplus(rho_w).square() + softplus(rho_b).square()).sqrt()
                a = h @ mu_w + mu_b + std * noise[i][s, row]
                h = a.relu() if i < len(params) - 1 else a
            log_p += Normal(h, 0.8).log_prob(y[row].double()).sum().item()
    kl = sum(kl_divergence(Normal(mu, softplus(rho)), Normal(0.0, 0.6)).sum().item()
             for layer in params for mu, rho in (layer[:2], layer[2:]))  # fmt: skip
    assert loss.item() == pytest.approx(kl / 7.0 - log_p / 3, rel=1e-5)
    assert parts["kl"] == pytest.approx(kl, rel=1e-5)
    assert parts["log_likelihood"] == pytest.approx(log_p / 3, rel=1e-5)


def test_initial_posterior_matches_the_paper():
    bnn = BNN(3, 2, init_sigma=0.5)
    for _, rho in bnn.variational_parameters():
        assert torch.allclose(torch.nn.functional.softplus(rho), torch.tensor(0.5))
    assert softplus_inverse(0.5) == pytest.approx(math.log(math.expm1(0.5)))


def test_local_reparameterisation_has_the_moments_of_weight_sampling():
    """Sampled pre-activations must have mean x mu + b and variance x^2 sigma^2 + sigma_b^2."""
    torch.manual_seed(2)
    layer = BayesianLinear(3, 2, init_mu_std=1.0, init_sigma=0.5)
    x = torch.tensor([[0.5, -1.0, 2.0]])
    n = 200_000
    a, _ = layer(x.expand(n, 3), torch.randn(n, 2))
    # reference: sample whole weight matrices and biases
    w = layer.mu_w + layer.sigma_w * torch.randn(n, 3, 2)
    b = layer.mu_b + layer.sigma_b * torch.randn(n, 2)
    ref = torch.einsum("i,nij->nj", x[0], w) + b
    with torch.no_grad():
        assert torch.allclose(a.mean(0), ref.mean(0), atol=0.03)
        assert torch.allclose(a.var(0), ref.var(0), rtol=0.03)


def test_noise_is_drawn_per_row_not_shared():
    bnn = BNN(2, 1)
    x = torch.ones(4, 2)  # four identical rows
    out = bnn(x, n_samples=1)
    assert out.unique().numel() == 4


def test_training_lowers_the_negative_elbo_on_a_deterministic_system():
    torch.manual_seed(3)
    x = torch.randn(256, 3)
    y = torch.stack([x[:, 0] - 0.5 * x[:, 1], 0.3 * x[:, 2]], dim=1)
    bnn = BNN(3, 2, (16,))
    opt = torch.optim.Adam(bnn.parameters(), lr=1e-2)
    with torch.no_grad():
        before = bnn.loss(x, y, n_samples=20)[0].item()
    for _ in range(300):
        idx = torch.randint(0, 256, (32,))
        loss, _ = bnn.loss(x[idx], y[idx], n_samples=5, n_batches=8)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        after = bnn.loss(x, y, n_samples=20)[0].item()
    assert after < before - 0.1 * abs(before)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"hidden_sizes": ()}, "at least one hidden layer"),
        ({"hidden_sizes": (0,)}, "positive integers"),
        ({"prior_std": -1.0}, "prior_std"),
        ({"likelihood_std": 0.0}, "likelihood_std"),
        ({"init_sigma": float("nan")}, "init_sigma"),
    ],
)
def test_bad_hyperparameters_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BNN(3, 2, **kwargs)
