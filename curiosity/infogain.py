"""Information gain of a Bayesian neural network from one transition -- the maths of VIME's bonus.

The information gained from a transition ``(s, a, s')`` is the KL divergence between the posterior
after an update on that transition and the posterior before it. Two estimators:

**Second-order** (what every published VIME run used). With ``phi = (mu, rho)`` the variational
parameters, ``g`` the gradient of the transition's expected log-likelihood w.r.t. ``phi`` and ``H`` the
diagonal Hessian of ``KL(q_phi' || q_phi)`` at ``phi' = phi``,

    KL  ~=  (lambda^2 / 2) * g^T H^-1 g,
    H_mu = 1 / sigma^2,     H_rho = 2 e^(2 rho) / ((1 + e^rho)^2 sigma^2) = 2 sigmoid(rho)^2 / sigma^2.

It is computed for a whole batch with no loop over transitions. For a dense layer with local
reparameterisation, ``a = x mu_W + mu_b + s * eps`` with ``s = sqrt(x^2 sigma_W^2 + sigma_b^2)``, so with
``delta = d log p / d a`` (one backward pass gives it for every row, rows being independent):

    d log p / d mu_ij  = x_i delta_j
    d log p / d rho_ij = sigmoid(rho_ij) sigma_ij * x_i^2 u_j,      u = delta * eps / s

and the layer's share of ``g^T H^-1 g`` is

    sum_ij sigma_ij^2 (x_i delta_j)^2  +  sum_ij (sigma_ij^4 / 2) (x_i^2 u_j)^2
      = (x^2)^T sigma^2 (delta^2)       +  (x^4)^T (sigma^4 / 2) (u^2)

-- two matrix products (Goodfellow's per-example gradient-norm identity, 2015). With ``S > 1`` Monte
Carlo samples the gradient is a mean over samples, squared after averaging; per-example gradients are
then formed with one batched matrix product (``bmm``) in memory-bounded chunks -- except in the first
layer, whose input is the same in every sample, so the identity applies to the summed errors.

**Exact** (a reference, and for ablations): take ``steps`` preconditioned steps
``phi' <- phi' + lambda H(phi)^-1 grad[log p(s'|s,a; phi') - KL(q_phi' || q_phi)]`` on the single
transition (the original's "second-order update", Hessian at the starting point), then the closed-form
KL between the two factorised Gaussians. One transition at a time (a loop): for small models.

References:
    Houthooft et al., "VIME: Variational Information Maximizing Exploration", NIPS 2016, eq. (7)-(11).
    Goodfellow, "Efficient per-example gradient computations", arXiv:1510.01799, 2015.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.func import functional_call

from curiosity.bnn import BNN, gaussian_kl

# Per-example gradients are materialised in chunks of at most this many floats (S > 1 path).
_CHUNK_FLOATS = 1 << 23


def second_order_kl(
    bnn: BNN,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    lam: float = 0.01,
    n_samples: int = 10,
    generator: torch.Generator | None = None,
    noise: list[torch.Tensor] | None = None,
) -> torch.Tensor:
    """Second-order information gain ``(lambda^2 / 2) g^T H^-1 g`` for every row, batched.

    Args:
        bnn: the dynamics model.
        inputs: standardised model inputs, ``(batch, in)``.
        targets: standardised targets, ``(batch, out)``.
        lam: step size ``lambda`` of the hypothetical update.
        n_samples: Monte Carlo weight samples averaged in the gradient.
        generator: source of the noise (ignored when ``noise`` is given).
        noise: fixed standard-normal draws per layer, ``[(n_samples, batch, width), ...]``.

    Returns:
        ``(batch,)`` non-negative KL estimates.
    """
    with torch.enable_grad():
        out, traces = bnn.sample_traced(inputs, n_samples, generator, trace=True, noise=noise)
        log_lik = bnn.log_likelihood(out, targets)  # (S, n)
        # gradient of the mean over samples: one backward pass gives every row's errors
        deltas = torch.autograd.grad(log_lik.sum() / n_samples, [t.pre_activation for t in traces])
    total = torch.zeros(inputs.shape[0], dtype=inputs.dtype, device=inputs.device)
    for layer, trace, delta in zip(bnn.layers, traces, deltas, strict=True):
        var_w, var_b = layer.sigma_w.detach().square(), layer.sigma_b.detach().square()
        u = delta * trace.noise / trace.std
        x = trace.inputs  # (1, n, in) in the first layer: the same input in every sample
        total += _weighted_squared_gradient(x, delta, var_w)
        total += _weighted_squared_gradient(x.square(), u, var_w.square() / 2)
        # biases: the "input" is 1, so the gradient is the error summed over samples
        total += delta.sum(0).square() @ var_b + u.sum(0).square() @ (var_b.square() / 2)
    return 0.5 * lam**2 * total


def _weighted_squared_gradient(x: torch.Tensor, err: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``sum_ij weight_ij (sum_s x_sni err_snj)^2`` for every row ``n``.

    ``x`` is ``(S, n, in)`` or ``(1, n, in)`` when the input is the same in every sample, ``err``
    ``(S, n, out)``, ``weight`` ``(in, out)``; returns ``(n,)``.
    """
    if x.shape[0] == 1:  # the identity: (x^2)^T W (err_summed^2), no per-example gradient formed
        return ((x[0].square() @ weight) * err.sum(0).square()).sum(-1)
    n, width = x.shape[1], weight.numel()
    x_t = x.permute(1, 2, 0).contiguous()  # (n, in, S)
    err_t = err.permute(1, 0, 2).contiguous()  # (n, S, out)
    chunk = max(1, _CHUNK_FLOATS // width)
    parts = []
    for start in range(0, n, chunk):  # a loop over memory-sized chunks, not over transitions
        grads = torch.bmm(x_t[start : start + chunk], err_t[start : start + chunk])  # per-example gradients
        parts.append(grads.square().reshape(len(grads), -1) @ weight.reshape(-1))
    return torch.cat(parts)


def second_order_kl_loop(
    bnn: BNN,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    lam: float = 0.01,
    n_samples: int = 10,
    generator: torch.Generator | None = None,
    noise: list[torch.Tensor] | None = None,
) -> torch.Tensor:
    """The same quantity as :func:`second_order_kl`, one autograd call per transition (the original's way).

    Kept as a reference and as the baseline of ``python -m benchmarks.speed.infogain_speed``.
    """
    if noise is None:
        noise = bnn.sample_noise(n_samples, inputs.shape[0], generator)
    pairs = bnn.variational_parameters()
    params = [p for pair in pairs for p in pair]
    inv_h = [h for mu, rho in pairs for h in hessian_inverse(mu.detach(), rho.detach())]
    values = []
    for n in range(inputs.shape[0]):
        with torch.enable_grad():
            pred = bnn(inputs[n : n + 1], n_samples, noise=[eps[:, n : n + 1] for eps in noise])
            log_lik = bnn.log_likelihood(pred, targets[n : n + 1]).mean()
            grads = torch.autograd.grad(log_lik, params)
        values.append(sum((g.square() * h).sum() for g, h in zip(grads, inv_h, strict=True)))
    return 0.5 * lam**2 * torch.stack(values)


def hessian_inverse(mu: torch.Tensor, rho: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Diagonal ``H^-1`` of ``KL(q' || q)`` at ``q' = q`` for the ``mu`` and ``rho`` parameters."""
    sigma = F.softplus(rho)
    return sigma.square(), sigma.square() / (2 * torch.sigmoid(rho).square())


def exact_kl(
    bnn: BNN,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    lam: float = 0.01,
    n_samples: int = 10,
    steps: int = 1,
    generator: torch.Generator | None = None,
    noise: list[torch.Tensor] | None = None,
) -> torch.Tensor:
    """KL between the posterior after ``steps`` updates on each single transition and before it.

    Arguments as :func:`second_order_kl`, plus ``steps`` (number of preconditioned update steps).
    Loops over transitions: a reference for small batches and models. Computed in float64, since the
    closed-form KL of two nearly equal Gaussians cancels badly in float32.

    Returns:
        ``(batch,)`` KL values.
    """
    if noise is None:
        noise = bnn.sample_noise(n_samples, inputs.shape[0], generator)
    noise = [eps.double() for eps in noise]
    inputs, targets = inputs.double(), targets.double()
    old = {name: p.detach().double() for name, p in bnn.named_parameters()}
    inv_h = {}
    for layer_name, _ in bnn.layers.named_children():
        for suffix in ("w", "b"):
            mu_name, rho_name = f"layers.{layer_name}.mu_{suffix}", f"layers.{layer_name}.rho_{suffix}"
            inv_h[mu_name], inv_h[rho_name] = hessian_inverse(old[mu_name], old[rho_name])
    kls = []
    for n in range(inputs.shape[0]):
        row_noise = [eps[:, n : n + 1] for eps in noise]
        params = {name: p.clone().requires_grad_(True) for name, p in old.items()}
        for _ in range(steps):
            with torch.enable_grad():
                pred = functional_call(bnn, params, (inputs[n : n + 1], n_samples), {"noise": row_noise})
                objective = bnn.log_likelihood(pred, targets[n : n + 1]).mean() - _posterior_kl(params, old)
                grads = torch.autograd.grad(objective, list(params.values()))
            params = {
                name: (p + lam * inv_h[name] * g).detach().requires_grad_(True)
                for (name, p), g in zip(params.items(), grads, strict=True)
            }
        kls.append(_posterior_kl(params, old).detach())
    return torch.stack(kls).float()


def _posterior_kl(new: dict[str, torch.Tensor], old: dict[str, torch.Tensor]) -> torch.Tensor:
    """Closed-form ``KL(q_new || q_old)`` between two factorised Gaussian posteriors."""
    first = next(iter(new.values()))
    total = torch.zeros((), dtype=first.dtype, device=first.device)
    for name in new:
        if ".mu_" in name:
            rho_name = name.replace(".mu_", ".rho_")
            sigma_new, sigma_old = F.softplus(new[rho_name]), F.softplus(old[rho_name])
            total = total + gaussian_kl(new[name], sigma_new, old[name], sigma_old)
    return total
