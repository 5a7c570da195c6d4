"""Fast training of the BNN: the ELBO's gradient derived by hand, and Adam on one flat buffer.

VIME trains its dynamics model with hundreds of Adam steps on minibatches of ~10 transitions. At that
size autograd and ``torch.optim.Adam`` cost far more than the arithmetic (dozens of tiny kernels, graph
bookkeeping, one Adam loop per parameter tensor). This module computes the same loss and gradient as
:meth:`curiosity.bnn.BNN.loss` + ``backward()`` with a fixed, short sequence of kernels, and applies
``torch.optim.Adam``'s update to all parameters at once. :meth:`BNN.loss` stays the reference (the tests
compare the two).

**Loss.** With ``S`` Monte Carlo samples, ``n`` rows, prior ``N(0, p^2)``, likelihood std ``l`` and
``B`` the ``n_batches`` divisor,

    L = KL(q || prior) / B  -  (1 / S) sum_s sum_rows log N(t; a_s, l^2),

where a dense layer with input ``h`` samples its pre-activation with the local reparameterisation trick

    m = h mu_W + mu_b,   v = h^2 sigma_W^2 + sigma_b^2,   s = sqrt(v),   a = m + s * eps,

and ``sigma = softplus(rho)``; hidden layers apply ReLU, the last is linear.

**Backward pass** (``delta = dL/da`` for one layer, ``gamma = delta * eps / s``; rows and samples are
independent, so per-row terms are summed by the matrix products):

    output layer:     delta = (a - t) / (S l^2)
    dL/d mu_W = h^T delta,                dL/d mu_b = sum_rows delta
    dL/d v    = gamma / 2,     so   dL/d sigma_W^2 = (h^2)^T gamma / 2,   dL/d sigma_b^2 = sum gamma / 2
    dL/dh     = delta mu_W^T + h * (gamma sigma_W^2^T),   then ReLU:  delta_prev = dL/dh * [h > 0]
    rho:      d sigma^2 / d rho = 2 sigma sigmoid(rho),   so  dL/d rho = sigma sigmoid(rho) (h^2)^T gamma

The first layer's input ``x`` is the same in every sample, so its products use errors summed over
samples. The KL term (Blundell et al., eq. 2, closed form for Gaussians) adds, per weight,

    KL = (1/2) (sigma^2 / p^2 + mu^2 / p^2 - 1 - log(sigma^2 / p^2)),
    dKL/d mu = mu / p^2,    dKL/d rho = sigmoid(rho) (sigma / p^2 - 1 / sigma).

**Adam** is ``torch.optim.Adam``'s single-tensor CPU update step by step (bias corrections in Python
floats, ``eps`` added after the bias-corrected square root), so results match it to float rounding;
its state is read from and written back to the ``torch.optim.Adam`` object, whose ``state_dict()``
therefore stays the checkpoint format.

References:
    Blundell et al., "Weight Uncertainty in Neural Networks", ICML 2015.
    Kingma, Salimans and Welling, "Variational Dropout and the Local Reparameterization Trick", 2015.
    Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015 (Algorithm 1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from types import TracebackType

import torch
import torch.nn.functional as F

from curiosity.bnn import BNN


class FlatBNN:
    """A BNN's variational parameters in one flat buffer ``theta = [all mu, all rho]``, with its gradient.

    Per layer, ``mu_w, mu_b`` (and ``rho_w, rho_b``, in the same order) are contiguous views into the
    buffer, so the KL term, the ``rho`` chain rule and Adam each act on the whole model in one kernel.
    The buffers are plain tensors: gradients are computed by hand and autograd records nothing.

    Args:
        bnn: the model whose shapes, prior and likelihood are used; its values are copied by
            :meth:`load_from`.
    """

    def __init__(self, bnn: BNN) -> None:
        self.prior_var = bnn.prior_std**2
        self.likelihood_var = bnn.likelihood_std**2
        self.log_norm = math.log(bnn.likelihood_std) + 0.5 * math.log(2 * math.pi)
        self.shapes = [(tuple(layer.mu_w.shape), tuple(layer.mu_b.shape)) for layer in bnn.layers]
        self.size = sum(math.prod(w) + math.prod(b) for w, b in self.shapes)  # weights + biases
        self.device = bnn.layers[0].mu_w.device  # the buffers live where the model does
        self.theta = torch.zeros(2 * self.size, device=self.device)
        self.grad = torch.zeros(2 * self.size, device=self.device)
        self.mu, self.rho = self.theta[: self.size], self.theta[self.size :]
        self.grad_mu, self.grad_rho = self.grad[: self.size], self.grad[self.size :]
        self.var = torch.zeros(self.size, device=self.device)  # sigma^2, refreshed by every gradient call
        # A layer's weight matrix and bias are adjacent in the buffers, so [W; b] is one (in + 1, out)
        # matrix: with a column of ones appended to the input, the mean is [h, 1] [mu_W; mu_b], the
        # variance [h^2, 1] [sigma_W^2; sigma_b^2], and the bias gradient comes out of the same product
        # as the weight gradient. Views made once: the buffers are only ever updated in place.
        self._mus, self._vars = self.split_augmented(self.mu), self.split_augmented(self.var)
        self._grad_mus, self._grad_rhos = (
            self.split_augmented(self.grad_mu),
            self.split_augmented(self.grad_rho),
        )
        self._transposed = [(mu[:-1].T, var[:-1].T) for mu, var in zip(self._mus, self._vars, strict=True)]
        self._ones: dict[int, torch.Tensor] = {}  # the appended column, by number of rows

    def split(self, flat: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per-layer ``(weight, bias)`` views of a ``(size,)`` half-buffer (e.g. :attr:`mu`)."""
        views, start = [], 0
        for w_shape, b_shape in self.shapes:
            w_end = start + math.prod(w_shape)
            end = w_end + math.prod(b_shape)
            views.append((flat[start:w_end].view(w_shape), flat[w_end:end].view(b_shape)))
            start = end
        return views

    def split_augmented(self, flat: torch.Tensor) -> list[torch.Tensor]:
        """Per-layer ``[weight; bias]`` views, ``(in + 1, out)``, of a ``(size,)`` half-buffer."""
        views, start = [], 0
        for (n_in, n_out), _ in self.shapes:
            end = start + (n_in + 1) * n_out
            views.append(flat[start:end].view(n_in + 1, n_out))
            start = end
        return views

    def named_views(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        """Views of a ``(2 * size,)`` buffer named as ``bnn.named_parameters()`` names them."""
        named = {}
        for half, prefix in ((flat[: self.size], "mu"), (flat[self.size :], "rho")):
            for i, (w, b) in enumerate(self.split(half)):
                named[f"layers.{i}.{prefix}_w"], named[f"layers.{i}.{prefix}_b"] = w, b
        return named

    def load_from(self, bnn: BNN) -> None:
        """Copy ``bnn``'s parameters into :attr:`theta`."""
        views = self.named_views(self.theta)
        with torch.no_grad():
            for name, param in bnn.named_parameters():
                views[name].copy_(param)

    def store_to(self, bnn: BNN) -> None:
        """Copy :attr:`theta` into ``bnn``'s parameters (in place)."""
        views = self.named_views(self.theta)
        with torch.no_grad():
            for name, param in bnn.named_parameters():
                param.copy_(views[name])

    def _append_ones(self, h: torch.Tensor) -> torch.Tensor:
        """``[h, 1]`` for a ``(rows, width)`` matrix ``h``."""
        ones = self._ones.get(len(h))
        if ones is None:
            ones = self._ones[len(h)] = torch.ones(len(h), 1, device=self.device)
        return torch.cat([h, ones], dim=1)

    def elbo_gradient(
        self, x: torch.Tensor, target: torch.Tensor, noise: Sequence[torch.Tensor], n_batches: float
    ) -> dict[str, float]:
        """Fill :attr:`grad` with the gradient of the negative ELBO; return its value and parts.

        Same loss as :meth:`BNN.loss` with the same ``noise``: the equations are in the module docstring.

        Args:
            x: standardised inputs, ``(n, in)``.
            target: standardised targets, ``(n, out)``.
            noise: standard-normal draws per layer, ``[(S, n, width), ...]``.
            n_batches: the KL term is divided by this.

        Returns:
            ``{"loss", "kl", "log_likelihood"}`` as Python floats (possibly not finite).
        """
        n_samples, n_layers = noise[0].shape[0], len(self.shapes)
        sigma = F.softplus(self.rho)
        torch.mul(sigma, sigma, out=self.var)
        # forward: keep each layer's [input, 1], its square, the std and the noise for the backward pass
        h_aug, saved = self._append_ones(x), []  # (n, in + 1) for the first layer
        for i, (mu, var, eps) in enumerate(zip(self._mus, self._vars, noise, strict=True)):
            h_sq = h_aug.square()  # [h^2, 1]
            std = torch.mm(h_sq, var).sqrt_()
            mean = torch.mm(h_aug, mu)
            shape = eps.shape if i > 0 else (1, *mean.shape)  # the first layer broadcasts over samples
            a = torch.addcmul(mean.view(shape), std.view(shape), eps)
            saved.append((h_aug, h_sq, std.view(shape), eps))
            if i < n_layers - 1:
                h_aug = self._append_ones(torch.relu(a).view(-1, eps.shape[-1]))  # (S * n, out + 1)
        residual = (a - target).view(-1)
        delta = residual * (1.0 / (n_samples * self.likelihood_var))  # dL/da of the output layer
        # backward, last layer first; mu gradients go to grad_mu, [h^2, 1]^T gamma to grad_rho for now
        for i in range(n_layers - 1, -1, -1):
            h_aug, h_sq, std, eps = saved[i]
            delta = delta.view(eps.shape)
            gamma = delta * eps / std
            if i == 0:  # the input is shared by the samples: sum their errors first
                delta, gamma = delta.sum(0), gamma.sum(0)
            delta, gamma = delta.reshape(-1, eps.shape[-1]), gamma.reshape(-1, eps.shape[-1])
            torch.mm(h_aug.T, delta, out=self._grad_mus[i])  # [dL/d mu_W; dL/d mu_b]
            torch.mm(h_sq.T, gamma, out=self._grad_rhos[i])
            if i > 0:
                h = h_aug[:, :-1]
                mu_w_t, var_w_t = self._transposed[i]
                grad_h = torch.addmm(torch.mm(gamma, var_w_t).mul_(h), delta, mu_w_t)
                delta = torch.ops.aten.threshold_backward(grad_h, h, 0.0)  # ReLU's own backward
        # chain rule to rho plus the KL term, on the whole flat buffer at once:
        # dL/d rho = sigmoid(rho) (sigma (h^2)^T gamma + (sigma / p^2 - 1 / sigma) / B)
        inv_sigma = sigma.reciprocal()
        scale = 1.0 / (self.prior_var * n_batches)
        self.grad_rho.add_(scale).mul_(sigma).sub_(inv_sigma, alpha=1.0 / n_batches)
        self.grad_rho.mul_(torch.sigmoid(self.rho))
        self.grad_mu.add_(self.mu, alpha=scale)
        # the loss's value, from four sums (the KL of every weight in closed form)
        sums = torch.stack(
            [self.var.sum(), self.mu.dot(self.mu), inv_sigma.log().sum(), residual.dot(residual)]
        )
        var_sum, mu_sq, log_inv_sigma_sum, res_sq = sums.tolist()
        log_prior_var = math.log(self.prior_var)
        kl = 0.5 * (
            (var_sum + mu_sq) / self.prior_var - self.size * (1 - log_prior_var) + 2 * log_inv_sigma_sum
        )
        log_lik = -0.5 * res_sq / self.likelihood_var / n_samples - target.numel() * self.log_norm
        return {"loss": kl / n_batches - log_lik, "kl": kl, "log_likelihood": log_lik}


class FlatAdam:
    """``torch.optim.Adam``'s update on one flat parameter buffer, its state kept in a ``torch.optim.Adam``.

    :meth:`load_from` gathers the moments and step count of the optimiser's parameters (zeros before its
    first step), :meth:`step` updates them, :meth:`store_to` writes them back in the optimiser's own
    format (``step`` a scalar tensor, ``exp_avg`` and ``exp_avg_sq`` shaped like the parameter).

    Args:
        optimizer: a plain ``torch.optim.Adam`` (no weight decay, AMSGrad, maximize; one group).
        flat: the :class:`FlatBNN` whose buffer it updates.

    Raises:
        ValueError: an optimiser this update does not reproduce.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, flat: FlatBNN) -> None:
        if not supports(optimizer):
            raise ValueError(
                f"FlatAdam reproduces a plain torch.optim.Adam (one group, no weight decay, amsgrad, "
                f"maximize), got {type(optimizer).__name__} with {optimizer.defaults}"
            )
        group = optimizer.param_groups[0]
        self.lr, (self.beta1, self.beta2), self.eps = float(group["lr"]), group["betas"], group["eps"]
        self.optimizer, self.flat = optimizer, flat
        self.exp_avg = torch.zeros_like(flat.theta)
        self.exp_avg_sq = torch.zeros_like(flat.theta)
        self.steps = 0

    def load_from(self, bnn: BNN) -> None:
        """Gather the optimiser's state for ``bnn``'s parameters (zeros if it has not stepped yet)."""
        avg, avg_sq = self.flat.named_views(self.exp_avg), self.flat.named_views(self.exp_avg_sq)
        steps = set()
        for name, param in bnn.named_parameters():
            state = self.optimizer.state.get(param, {})
            if "step" not in state:
                avg[name].zero_()
                avg_sq[name].zero_()
                steps.add(0)
                continue
            avg[name].copy_(state["exp_avg"])
            avg_sq[name].copy_(state["exp_avg_sq"])
            steps.add(int(state["step"]))
        if len(steps) != 1:
            raise ValueError(f"the optimiser's parameters have different step counts {sorted(steps)}")
        self.steps = steps.pop()

    def store_to(self, bnn: BNN) -> None:
        """Write moments and step count back into the optimiser, as ``torch.optim.Adam`` keeps them."""
        avg, avg_sq = self.flat.named_views(self.exp_avg), self.flat.named_views(self.exp_avg_sq)
        for name, param in bnn.named_parameters():
            state = self.optimizer.state[param]  # a defaultdict: created on first use
            state["step"] = torch.tensor(float(self.steps), dtype=torch.get_default_dtype())
            state["exp_avg"] = avg[name].clone()
            state["exp_avg_sq"] = avg_sq[name].clone()

    def step(self) -> None:
        """One Adam step of ``flat.theta`` along ``flat.grad`` (``torch.optim.adam._single_tensor_adam``)."""
        self.steps += 1
        grad, param = self.flat.grad, self.flat.theta
        self.exp_avg.lerp_(grad, 1 - self.beta1)
        self.exp_avg_sq.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
        step_size = self.lr / (1 - self.beta1**self.steps)
        bias_correction2_sqrt = (1 - self.beta2**self.steps) ** 0.5
        denom = (self.exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(self.eps)
        param.addcdiv_(self.exp_avg, denom, value=-step_size)


def supports(optimizer: torch.optim.Optimizer) -> bool:
    """Whether :class:`FlatAdam` reproduces ``optimizer`` exactly (a plain one-group Adam)."""
    if type(optimizer) is not torch.optim.Adam or len(optimizer.param_groups) != 1:
        return False
    group = optimizer.param_groups[0]
    plain = not (group["amsgrad"] or group["maximize"] or group["differentiable"] or group["capturable"])
    return plain and group["weight_decay"] == 0 and not isinstance(group["lr"], torch.Tensor)


class ELBOTrainer:
    """Adam steps on a BNN's negative ELBO without autograd; a context manager around a training call.

    On entry it copies the model's parameters and the optimiser's state into flat buffers; on exit it
    writes both back, so ``bnn.state_dict()`` and ``optimizer.state_dict()`` are what they would be
    after the same steps of ``loss.backward(); optimizer.step()``.

    Args:
        bnn: the model to train.
        optimizer: its ``torch.optim.Adam`` (see :func:`supports`).
        n_batches: the KL term of the ELBO is divided by this.

    Example:
        >>> with ELBOTrainer(bnn, optimizer, n_batches=5.0) as trainer:  # doctest: +SKIP
        ...     parts = trainer.step(x, target, noise)
    """

    def __init__(self, bnn: BNN, optimizer: torch.optim.Optimizer, n_batches: float) -> None:
        self.bnn, self.n_batches = bnn, float(n_batches)
        self.flat = FlatBNN(bnn)
        self.adam = FlatAdam(optimizer, self.flat)

    def __enter__(self) -> ELBOTrainer:
        self.flat.load_from(self.bnn)
        self.adam.load_from(self.bnn)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.flat.store_to(self.bnn)
        self.adam.store_to(self.bnn)

    def step(self, x: torch.Tensor, target: torch.Tensor, noise: Sequence[torch.Tensor]) -> dict[str, float]:
        """One Adam step on a minibatch's negative ELBO; none if the loss is not finite.

        Args:
            x: standardised inputs, ``(n, in)``.
            target: standardised targets, ``(n, out)``.
            noise: standard-normal draws per layer, ``[(S, n, width), ...]``.

        Returns:
            ``{"loss", "kl", "log_likelihood"}`` before the step.
        """
        parts = self.flat.elbo_gradient(x, target, noise, self.n_batches)
        if math.isfinite(parts["loss"]):
            self.adam.step()
        return parts
