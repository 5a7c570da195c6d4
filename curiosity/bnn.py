"""A Bayesian neural network trained by Bayes by backprop -- VIME's dynamics model.

Every weight and bias ``w`` has a factorised Gaussian posterior ``q(w) = N(mu, sigma^2)`` with
``sigma = softplus(rho)`` and a Gaussian prior ``N(0, prior_std^2)``. Forward passes use the local
reparameterisation trick: a dense layer's pre-activation is sampled directly,

    a = x @ mu_W + mu_b + sqrt(x^2 @ sigma_W^2 + sigma_b^2) * eps,   eps ~ N(0, 1),

with ``eps`` drawn per row (the original VIME code shared one ``eps`` across the minibatch). The
likelihood is Gaussian with a fixed standard deviation, summed over rows and output dimensions, and
the loss is the negative ELBO

    KL(q || prior) / n_batches  -  mean over Monte Carlo samples of  log p(targets | inputs, w).

References:
    Blundell et al., "Weight Uncertainty in Neural Networks", ICML 2015.
    Kingma, Salimans and Welling, "Variational Dropout and the Local Reparameterization Trick", 2015.
    Houthooft et al., "VIME: Variational Information Maximizing Exploration", NIPS 2016.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn


def softplus_inverse(y: float) -> float:
    """The ``rho`` with ``softplus(rho) == y``."""
    return math.log(math.expm1(y))


def gaussian_kl(
    mu_q: torch.Tensor, sigma_q: torch.Tensor, mu_p: torch.Tensor, sigma_p: torch.Tensor
) -> torch.Tensor:
    """Closed-form ``KL(N(mu_q, sigma_q^2) || N(mu_p, sigma_p^2))``, summed over all elements."""
    ratio = (sigma_q / sigma_p) ** 2
    return 0.5 * (ratio + ((mu_q - mu_p) / sigma_p) ** 2 - 1.0 - torch.log(ratio)).sum()


class LayerTrace(NamedTuple):
    """What a noisy forward pass of one layer saw; enough to rebuild per-example gradients.

    Shapes are ``(n_samples, batch, ·)``.
    """

    inputs: torch.Tensor  # x, (S, n, in), or (1, n, in) for the first layer (same in every sample)
    noise: torch.Tensor  # eps, (S, n, out)
    std: torch.Tensor  # sqrt(x^2 @ sigma_W^2 + sigma_b^2), (S, n, out)
    pre_activation: torch.Tensor  # a, (S, n, out); requires grad when traced


class BayesianLinear(nn.Module):
    """Dense layer with a factorised Gaussian posterior over weights and biases.

    Args:
        in_features: input width.
        out_features: output width.
        init_mu_std: standard deviation of the initial posterior means (the paper: 1.0).
        init_sigma: initial posterior standard deviation (the paper: 0.5).
    """

    def __init__(self, in_features: int, out_features: int, init_mu_std: float, init_sigma: float) -> None:
        super().__init__()
        rho = softplus_inverse(init_sigma)
        self.mu_w = nn.Parameter(torch.randn(in_features, out_features) * init_mu_std)
        self.rho_w = nn.Parameter(torch.full((in_features, out_features), rho))
        self.mu_b = nn.Parameter(torch.randn(out_features) * init_mu_std)
        self.rho_b = nn.Parameter(torch.full((out_features,), rho))

    @property
    def sigma_w(self) -> torch.Tensor:
        return F.softplus(self.rho_w)

    @property
    def sigma_b(self) -> torch.Tensor:
        return F.softplus(self.rho_b)

    def forward(
        self, x: torch.Tensor, noise: torch.Tensor | None, detach: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Sample pre-activations ``(..., out)`` for inputs ``(..., in)`` given ``noise`` ``(..., out)``.

        ``noise=None`` returns the mean pre-activation; ``detach=True`` keeps the parameters out of the
        autograd graph. Returns ``(pre_activation, std)``.
        """
        mu_w, mu_b, rho_w, rho_b = self.mu_w, self.mu_b, self.rho_w, self.rho_b
        if detach:
            mu_w, mu_b, rho_w, rho_b = mu_w.detach(), mu_b.detach(), rho_w.detach(), rho_b.detach()
        mean = x @ mu_w + mu_b
        if noise is None:
            return mean, torch.zeros_like(mean)
        std = torch.sqrt((x * x) @ F.softplus(rho_w).square() + F.softplus(rho_b).square())
        return mean + std * noise, std

    def kl_to(self, prior_std: float) -> torch.Tensor:
        """``KL(q || N(0, prior_std^2))`` over this layer's weights and biases."""
        device = self.mu_w.device
        zero, prior = torch.zeros((), device=device), torch.tensor(prior_std, device=device)
        weights = gaussian_kl(self.mu_w, self.sigma_w, zero, prior)
        return weights + gaussian_kl(self.mu_b, self.sigma_b, zero, prior)


class BNN(nn.Module):
    """Bayesian MLP: Bayesian dense layers with ReLU between them and a linear output.

    Args:
        in_features: input width (observation + encoded action for VIME).
        out_features: output width (next observation for VIME).
        hidden_sizes: widths of the hidden layers (the paper: one layer of 32).
        prior_std: standard deviation of the Gaussian prior (the paper: 0.5).
        init_sigma: initial posterior standard deviation (the paper: 0.5).
        init_mu_std: standard deviation of the initial posterior means (the paper: 1.0).
        likelihood_std: fixed standard deviation of the Gaussian likelihood (the paper: 5.0).

    Raises:
        ValueError: empty ``hidden_sizes``, non-positive widths or standard deviations.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden_sizes: Sequence[int] = (32,),
        prior_std: float = 0.5,
        init_sigma: float = 0.5,
        init_mu_std: float = 1.0,
        likelihood_std: float = 5.0,
    ) -> None:
        super().__init__()
        hidden_sizes = tuple(hidden_sizes)
        if len(hidden_sizes) == 0:
            raise ValueError("hidden_sizes must name at least one hidden layer, got ()")
        widths = (in_features, *hidden_sizes, out_features)
        if any(int(w) != w or w < 1 for w in widths):
            raise ValueError(f"layer widths must be positive integers, got {widths}")
        for name, value in (
            ("prior_std", prior_std),
            ("init_sigma", init_sigma),
            ("likelihood_std", likelihood_std),
        ):
            if not (value > 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be a positive finite number, got {value!r}")
        if not (init_mu_std >= 0 and math.isfinite(init_mu_std)):
            raise ValueError(f"init_mu_std must be >= 0, got {init_mu_std!r}")
        self.prior_std = float(prior_std)
        self.likelihood_std = float(likelihood_std)
        self.layers = nn.ModuleList(
            BayesianLinear(w_in, w_out, init_mu_std, init_sigma) for w_in, w_out in itertools.pairwise(widths)
        )

    def forward(
        self,
        x: torch.Tensor,
        n_samples: int = 1,
        generator: torch.Generator | None = None,
        noise: Sequence[torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Predictions ``(n_samples, batch, out)`` for inputs ``(batch, in)``, fresh noise per row.

        ``noise`` optionally fixes the standard-normal draws, one ``(n_samples, batch, width)`` per layer.
        """
        return self.sample_traced(x, n_samples, generator, trace=False, noise=noise)[0]

    def predict_mean(self, x: torch.Tensor) -> torch.Tensor:
        """Prediction of the posterior-mean network, ``(batch, out)``."""
        h = x
        for i, layer in enumerate(self.layers):
            h = layer(h, None)[0]
            if i < len(self.layers) - 1:
                h = torch.relu(h)
        return h

    def sample_noise(
        self, n_samples: int, batch: int, generator: torch.Generator | None = None
    ) -> list[torch.Tensor]:
        """Standard-normal draws for every layer, ``[(n_samples, batch, width), ...]``, on the model's device.

        Drawn on ``generator``'s device (the global CPU generator when ``None``) and moved to the model's:
        the same seed gives the same noise on every device.
        """
        source = generator.device if generator is not None else torch.device("cpu")
        device = self.layers[0].mu_w.device
        return [
            torch.randn(n_samples, batch, len(layer.mu_b), generator=generator, device=source).to(device)
            for layer in self.layers
        ]

    def sample_traced(
        self,
        x: torch.Tensor,
        n_samples: int,
        generator: torch.Generator | None = None,
        trace: bool = True,
        noise: Sequence[torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, list[LayerTrace]]:
        """Noisy forward pass that also records, per layer, its inputs, noise, std and pre-activation.

        With ``trace=True`` the parameters are kept out of the graph and the first pre-activation is
        made its root, so ``torch.autograd.grad(f(out), [t.pre_activation ...])`` gives back-propagated
        errors for every row at once (rows are independent, so summing over rows loses nothing).
        """
        if noise is None:
            noise = self.sample_noise(n_samples, x.shape[0], generator)
        h = x.unsqueeze(0)  # (1, n, in): the first layer's mean and std are shared by all samples
        traces = []
        for i, (layer, eps) in enumerate(zip(self.layers, noise, strict=True)):
            a, std = layer(h, eps, detach=trace)
            if trace:
                if i == 0:
                    a.requires_grad_(True)
                traces.append(LayerTrace(h.detach(), eps, std.detach(), a))
            h = torch.relu(a) if i < len(self.layers) - 1 else a
        return h, traces

    def log_likelihood(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Gaussian log-likelihood of ``target`` per row, summed over output dimensions.

        ``prediction`` is ``(..., batch, out)``, ``target`` ``(batch, out)``; returns ``(..., batch)``.
        """
        z = (target - prediction) / self.likelihood_std
        return (-0.5 * z.square() - math.log(self.likelihood_std) - 0.5 * math.log(2 * math.pi)).sum(-1)

    def kl_to_prior(self) -> torch.Tensor:
        """``KL(q || prior)`` summed over every weight and bias."""
        return sum(layer.kl_to(self.prior_std) for layer in self.layers)

    def loss(
        self,
        x: torch.Tensor,
        target: torch.Tensor,
        n_samples: int = 10,
        n_batches: float = 5.0,
        generator: torch.Generator | None = None,
        noise: Sequence[torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Negative ELBO of a minibatch, ``KL / n_batches - mean_samples(sum_rows log p)``.

        ``noise`` optionally fixes the standard-normal draws (see :meth:`forward`). This autograd
        version is the reference of the hand-derived gradient in :mod:`curiosity.bnn_training`.
        Returns the loss and its parts for logging.
        """
        prediction = self.forward(x, n_samples, generator, noise=noise)
        log_lik = self.log_likelihood(prediction, target).sum(-1).mean()
        kl = self.kl_to_prior()
        loss = kl / n_batches - log_lik
        parts = {"loss": loss.item(), "kl": kl.item(), "log_likelihood": log_lik.item()}
        return loss, parts

    def variational_parameters(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """``[(mu, rho), ...]`` for every weight matrix and bias vector, in layer order."""
        pairs = []
        for layer in self.layers:
            pairs += [(layer.mu_w, layer.rho_w), (layer.mu_b, layer.rho_b)]
        return pairs
