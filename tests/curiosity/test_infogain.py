"""The batched second-order information gain against brute force and against the exact update."""

import pytest
import torch

from curiosity.bnn import BNN
from curiosity.infogain import exact_kl, second_order_kl


def _bruteforce_second_order(bnn, x, y, lam, noise):
    """0.5 lam^2 g^T H^-1 g with one autograd call per transition and H from the paper's formulas.

    Written independently of the batched code: its own forward pass (local reparameterisation with the
    given noise), per-row gradients w.r.t. every mu and rho, and H_mu = 1/sigma^2,
    H_rho = 2 e^(2 rho) / ((1 + e^rho)^2 sigma^2).
    """
    params = [p for pair in bnn.variational_parameters() for p in pair]
    values = []
    for n in range(x.shape[0]):
        h = x[n : n + 1].expand(noise[0].shape[0], 1, x.shape[1])
        for i, layer in enumerate(bnn.layers):
            sw, sb = torch.log1p(torch.exp(layer.rho_w)), torch.log1p(torch.exp(layer.rho_b))
            mean = h @ layer.mu_w + layer.mu_b
            std = torch.sqrt(h.pow(2) @ sw.pow(2) + sb.pow(2))
            h = mean + std * noise[i][:, n : n + 1]
            if i < len(bnn.layers) - 1:
                h = torch.relu(h)
        log_lik = (-0.5 * ((y[n] - h) / bnn.likelihood_std) ** 2).sum(-1).mean()
        grads = torch.autograd.grad(log_lik, params)
        total = torch.zeros((), dtype=torch.float64)
        rhos = [rho for _, rho in bnn.variational_parameters()]
        for rho, g_mu, g_rho in zip(rhos, grads[::2], grads[1::2], strict=True):
            rho = rho.detach().double()
            sigma = torch.log1p(torch.exp(rho))
            h_mu = 1 / sigma**2
            h_rho = 2 * torch.exp(2 * rho) / ((1 + torch.exp(rho)) ** 2 * sigma**2)
            total += (g_mu.double() ** 2 / h_mu).sum() + (g_rho.double() ** 2 / h_rho).sum()
        values.append(0.5 * lam**2 * total)
    return torch.stack(values)


@pytest.mark.parametrize("hidden", [(8,), (6, 5)])
@pytest.mark.parametrize("n_samples", [1, 4])
def test_batched_second_order_equals_per_sample_autograd(hidden, n_samples):
    torch.manual_seed(0)
    bnn = BNN(5, 3, hidden)
    x, y = torch.randn(12, 5), 2 * torch.randn(12, 3)
    noise = bnn.sample_noise(n_samples, 12)
    fast = second_order_kl(bnn, x, y, lam=0.01, n_samples=n_samples, noise=noise)
    slow = _bruteforce_second_order(bnn, x, y, 0.01, noise)
    assert fast.shape == (12,)
    torch.testing.assert_close(fast.double(), slow, rtol=1e-4, atol=0.0)


def test_second_order_agrees_with_the_exact_update_for_small_lambda():
    torch.manual_seed(1)
    bnn = BNN(4, 2, (8,))
    x, y = torch.randn(6, 4), 3 * torch.randn(6, 2)
    noise = bnn.sample_noise(3, 6)
    approx = second_order_kl(bnn, x, y, lam=1e-3, n_samples=3, noise=noise)
    exact = exact_kl(bnn, x, y, lam=1e-3, n_samples=3, noise=noise)
    torch.testing.assert_close(exact, approx, rtol=1e-3, atol=0.0)


def test_two_exact_steps_of_lambda_move_as_far_as_one_of_two_lambda():
    """For small lambda the gradient barely changes between steps: two steps of lambda are one of 2 lambda,
    and the KL, quadratic in the step, is 4x that of one step of lambda."""
    torch.manual_seed(4)
    bnn = BNN(4, 2, (8,))
    x, y = torch.randn(4, 4), 3 * torch.randn(4, 2)
    noise = bnn.sample_noise(3, 4)
    one = exact_kl(bnn, x, y, lam=1e-4, n_samples=3, steps=1, noise=noise)
    two = exact_kl(bnn, x, y, lam=1e-4, n_samples=3, steps=2, noise=noise)
    double = exact_kl(bnn, x, y, lam=2e-4, n_samples=3, steps=1, noise=noise)
    torch.testing.assert_close(two, double, rtol=1e-3, atol=0.0)
    torch.testing.assert_close(two, 4 * one, rtol=1e-3, atol=0.0)


def test_second_order_is_quadratic_in_lambda():
    torch.manual_seed(2)
    bnn = BNN(4, 2)
    x, y = torch.randn(5, 4), torch.randn(5, 2)
    noise = bnn.sample_noise(2, 5)
    small = second_order_kl(bnn, x, y, lam=0.01, n_samples=2, noise=noise)
    large = second_order_kl(bnn, x, y, lam=0.1, n_samples=2, noise=noise)
    torch.testing.assert_close(large, 100 * small, rtol=1e-5, atol=0.0)


def test_surprising_targets_carry_more_information():
    torch.manual_seed(3)
    bnn = BNN(3, 2)
    x = torch.randn(64, 3)
    with torch.no_grad():
        expected = bnn.predict_mean(x)
    noise = bnn.sample_noise(5, 64)
    near = second_order_kl(bnn, x, expected, n_samples=5, noise=noise)
    far = second_order_kl(bnn, x, expected + 20.0, n_samples=5, noise=noise)
    assert far.mean() > 5 * near.mean()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("n_samples", [1, 10])
def test_information_gain_on_cuda_agrees_with_the_cpu(n_samples, monkeypatch):
    """5,000 HalfCheetah-sized transitions through a 32-32 BNN, same weights and noise: to 1e-5 relative."""
    monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", False)
    torch.manual_seed(0)
    bnn = BNN(23, 17, (32, 32))
    x, y = torch.randn(5000, 23), 2 * torch.randn(5000, 17)
    noise = bnn.sample_noise(n_samples, 5000)
    cpu = second_order_kl(bnn, x, y, n_samples=n_samples, noise=noise)
    gpu = second_order_kl(
        bnn.to("cuda"), x.cuda(), y.cuda(), n_samples=n_samples, noise=[eps.cuda() for eps in noise]
    )
    assert gpu.device.type == "cuda"
    torch.testing.assert_close(gpu.cpu().double(), cpu.double(), rtol=1e-5, atol=0.0)
    # the noise drawn from a CPU generator is the same on both devices
    on_gpu = bnn.sample_noise(n_samples, 7, torch.Generator().manual_seed(3))
    on_cpu = bnn.to("cpu").sample_noise(n_samples, 7, torch.Generator().manual_seed(3))
    for a, b in zip(on_gpu, on_cpu, strict=True):
        assert a.device.type == "cuda" and torch.equal(a.cpu(), b)
