"""The hand-derived ELBO gradient and flat Adam against autograd and ``torch.optim.Adam`` (the oracle)."""

import copy
import io
import math

import numpy as np
import pytest
import torch
from gymnasium import spaces

from curiosity.bnn import BNN
from curiosity.bnn_training import ELBOTrainer, FlatAdam, FlatBNN, supports
from curiosity.vime import VIME

# (inputs, outputs, hidden layers, rows, Monte Carlo samples)
CONFIGS = [
    (23, 17, (32,), 10, 10),  # HalfCheetah, the paper's BNN
    (23, 17, (32, 32), 10, 10),
    (3, 2, (5, 7, 3), 4, 3),
    (4, 1, (2,), 1, 1),
]


def _problem(n_in, n_out, hidden, rows, n_samples, seed=0):
    torch.manual_seed(seed)
    bnn = BNN(n_in, n_out, hidden, prior_std=0.7, likelihood_std=2.0)
    with torch.no_grad():  # spread the posterior std so that sigma is not the same everywhere
        for _, rho in bnn.variational_parameters():
            rho.add_(0.5 * torch.randn_like(rho))
    x, target = torch.randn(rows, n_in), torch.randn(rows, n_out)
    return bnn, x, target, bnn.sample_noise(n_samples, rows)


def _assert_close(actual, expected, rtol=1e-5):
    """Equal to ``rtol`` relative to the largest entry of ``expected``."""
    scale = expected.abs().max().item()
    torch.testing.assert_close(actual, expected, rtol=0.0, atol=rtol * max(scale, 1e-12))


@pytest.mark.parametrize(("n_in", "n_out", "hidden", "rows", "n_samples"), CONFIGS)
@pytest.mark.parametrize("n_batches", [5.0, 1.0])
def test_hand_gradient_equals_autograd(n_in, n_out, hidden, rows, n_samples, n_batches):
    bnn, x, target, noise = _problem(n_in, n_out, hidden, rows, n_samples)
    loss, parts = bnn.loss(x, target, n_samples, n_batches, noise=noise)
    names, params = zip(*bnn.named_parameters(), strict=True)
    grads = torch.autograd.grad(loss, params)
    flat = FlatBNN(bnn)
    flat.load_from(bnn)
    fast_parts = flat.elbo_gradient(x, target, noise, n_batches)
    views = flat.named_views(flat.grad)
    for name, grad in zip(names, grads, strict=True):
        _assert_close(views[name], grad)
    for key, value in parts.items():
        assert fast_parts[key] == pytest.approx(value, rel=1e-5)


def _minibatches(n_in, n_out, rows, n_samples, widths, steps, seed):
    g = torch.Generator().manual_seed(seed)
    return [
        (
            torch.randn(rows, n_in, generator=g),
            torch.randn(rows, n_out, generator=g),
            [torch.randn(n_samples, rows, w, generator=g) for w in widths],
        )
        for _ in range(steps)
    ]


@pytest.mark.parametrize(("n_in", "n_out", "hidden", "rows", "n_samples"), CONFIGS[:3])
def test_fast_steps_follow_autograd_and_torch_adam(n_in, n_out, hidden, rows, n_samples):
    reference, *_ = _problem(n_in, n_out, hidden, rows, n_samples)
    fast = copy.deepcopy(reference)
    ref_opt = torch.optim.Adam(reference.parameters(), lr=1e-3)
    fast_opt = torch.optim.Adam(fast.parameters(), lr=1e-3)
    batches = _minibatches(n_in, n_out, rows, n_samples, (*hidden, n_out), steps=30, seed=1)
    for chunk in (batches[:10], batches[10:]):  # two training calls: the state goes out and back in
        with ELBOTrainer(fast, fast_opt, n_batches=5.0) as trainer:
            for x, target, noise in chunk:
                trainer.step(x, target, noise)
        for x, target, noise in chunk:
            loss, _ = reference.loss(x, target, n_samples, 5.0, noise=noise)
            ref_opt.zero_grad()
            loss.backward()
            ref_opt.step()
    for (name, p_ref), p_fast in zip(reference.named_parameters(), fast.parameters(), strict=True):
        torch.testing.assert_close(p_fast, p_ref, rtol=1e-5, atol=1e-5, msg=name)
        s_ref, s_fast = ref_opt.state[p_ref], fast_opt.state[p_fast]
        assert s_fast.keys() == s_ref.keys()
        assert s_fast["step"].dtype == s_ref["step"].dtype and s_fast["step"].item() == 30
        for key in ("exp_avg", "exp_avg_sq"):
            _assert_close(s_fast[key], s_ref[key], rtol=1e-4)


@pytest.mark.parametrize("grad_scale", [1.0, 1e-9])  # at 1e-9 the placement of eps matters
def test_flat_adam_is_torch_adam_given_the_same_gradients(grad_scale):
    bnn, *_ = _problem(5, 3, (4,), 6, 2)
    reference = copy.deepcopy(bnn)
    ref_opt = torch.optim.Adam(reference.parameters(), lr=1e-2, betas=(0.8, 0.99), eps=1e-8)
    flat = FlatBNN(bnn)
    adam = FlatAdam(torch.optim.Adam(bnn.parameters(), lr=1e-2, betas=(0.8, 0.99), eps=1e-8), flat)
    flat.load_from(bnn)
    adam.load_from(bnn)
    g = torch.Generator().manual_seed(4)
    for _ in range(5):
        flat.grad.copy_(grad_scale * torch.randn(flat.grad.shape, generator=g))
        views = flat.named_views(flat.grad)
        for name, p in reference.named_parameters():
            p.grad = views[name].clone()
        adam.step()
        ref_opt.step()
    views = flat.named_views(flat.theta)
    for name, p in reference.named_parameters():
        torch.testing.assert_close(views[name], p.detach(), rtol=1e-7, atol=1e-7, msg=name)


def test_torch_adam_resumes_from_the_fast_paths_state():
    """A state written by the fast path continues under torch.optim.Adam as it would under FlatAdam."""
    bnn, *_ = _problem(5, 3, (4,), 6, 2)
    other = copy.deepcopy(bnn)
    opt, other_opt = (
        torch.optim.Adam(bnn.parameters(), lr=1e-2),
        torch.optim.Adam(other.parameters(), lr=1e-2),
    )
    first, second = _minibatches(5, 3, 6, 2, (4, 3), steps=2, seed=3)
    for model, optimizer in ((bnn, opt), (other, other_opt)):
        with ELBOTrainer(model, optimizer, 5.0) as trainer:
            trainer.step(*first)
    other_opt.load_state_dict(copy.deepcopy(opt.state_dict()))  # the checkpoint format is torch's
    with ELBOTrainer(bnn, opt, 5.0) as trainer:
        trainer.step(*second)
    loss, _ = other.loss(second[0], second[1], 2, 5.0, noise=second[2])
    other_opt.zero_grad()
    loss.backward()
    other_opt.step()
    for p, q in zip(bnn.parameters(), other.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-6)


def test_a_non_finite_loss_skips_the_step():
    bnn, x, target, noise = _problem(3, 2, (4,), 5, 2)
    before = {k: v.clone() for k, v in bnn.state_dict().items()}
    optimizer = torch.optim.Adam(bnn.parameters())
    target[0, 0] = math.inf
    with ELBOTrainer(bnn, optimizer, 5.0) as trainer:
        parts = trainer.step(x, target, noise)
    assert not math.isfinite(parts["loss"])
    assert all(torch.equal(before[k], v) for k, v in bnn.state_dict().items())
    assert all(s["step"].item() == 0 for s in optimizer.state.values())


@pytest.mark.parametrize(
    "optimizer",
    [
        lambda p: torch.optim.Adam(p, weight_decay=0.1),
        lambda p: torch.optim.Adam(p, amsgrad=True),
        lambda p: torch.optim.SGD(p, lr=0.1),
    ],
)
def test_flat_adam_refuses_optimizers_it_does_not_reproduce(optimizer):
    bnn = BNN(3, 2, (4,))
    opt = optimizer(bnn.parameters())
    assert not supports(opt)
    with pytest.raises(ValueError, match=r"reproduces a plain torch\.optim\.Adam"):
        FlatAdam(opt, FlatBNN(bnn))


OBS = spaces.Box(-1.0, 1.0, (4,), dtype=np.float32)
ACT = spaces.Box(-1.0, 1.0, (2,), dtype=np.float32)


def _vime(fast, **kwargs):
    rng = np.random.default_rng(0)
    s, a = rng.uniform(-1, 1, (64, 4)).astype(np.float32), rng.uniform(-1, 1, (64, 2)).astype(np.float32)
    vime = VIME(
        OBS, ACT, seed=3, min_pool_size=10, n_updates=25, learning_rate=1e-3, fast_training=fast, **kwargs
    )
    vime.add(s, a, (0.9 * s + 0.1 * a.sum(1, keepdims=True)).astype(np.float32))
    return vime


@pytest.mark.parametrize("hidden_sizes", [(32,), (8, 8)])
def test_vime_training_is_the_same_on_both_paths(hidden_sizes):
    fast, reference = _vime(True, hidden_sizes=hidden_sizes), _vime(False, hidden_sizes=hidden_sizes)
    for _ in range(2):
        fast_parts, ref_parts = fast.train(), reference.train()
        assert fast_parts.keys() == ref_parts.keys() == {"loss", "kl", "log_likelihood"}
        for key, value in ref_parts.items():
            assert fast_parts[key] == pytest.approx(value, rel=1e-5)
    for (name, p_ref), p_fast in zip(reference.bnn.named_parameters(), fast.bnn.parameters(), strict=True):
        torch.testing.assert_close(p_fast, p_ref, rtol=1e-5, atol=1e-5, msg=name)
    assert torch.equal(fast.generator.get_state(), reference.generator.get_state())


def test_a_fast_path_checkpoint_resumes_exactly_and_on_the_reference_path():
    original = _vime(True)
    original.train()
    buffer = io.BytesIO()
    torch.save(original.state_dict(), buffer)
    restored, reference = _vime(True), _vime(False)
    for other in (restored, reference):
        buffer.seek(0)
        other.load_state_dict(torch.load(buffer, weights_only=True))
    assert original.train() == restored.train()
    reference.train()
    for p, q, r in zip(
        original.bnn.parameters(), restored.bnn.parameters(), reference.bnn.parameters(), strict=True
    ):
        assert torch.equal(p, q)
        torch.testing.assert_close(r, p, rtol=1e-5, atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_fast_steps_on_cuda_follow_the_cpu(monkeypatch):
    monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", False)
    cpu, *_ = _problem(23, 17, (32,), 10, 10)
    gpu = copy.deepcopy(cpu).to("cuda")
    batches = _minibatches(23, 17, 10, 10, (32, 17), steps=30, seed=1)
    for model in (cpu, gpu):
        device = model.layers[0].mu_w.device
        with ELBOTrainer(model, torch.optim.Adam(model.parameters(), lr=1e-3), n_batches=5.0) as trainer:
            for x, target, noise in batches:
                trainer.step(x.to(device), target.to(device), [eps.to(device) for eps in noise])
    for (name, p_cpu), p_gpu in zip(cpu.named_parameters(), gpu.parameters(), strict=True):
        assert p_gpu.device.type == "cuda"
        torch.testing.assert_close(p_gpu.cpu(), p_cpu, rtol=1e-5, atol=1e-5, msg=name)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("estimator", ["second_order", "exact"])
def test_vime_on_cuda_computes_the_cpu_information_gain(estimator, monkeypatch):
    monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", False)
    obs_space = spaces.Box(-1.0, 1.0, (17,), np.float32)
    act_space = spaces.Box(-1.0, 1.0, (6,), np.float32)
    rng = np.random.default_rng(0)
    obs, act, nxt = rng.normal(size=(64, 17)), rng.uniform(-1, 1, (64, 6)), rng.normal(size=(64, 17))
    bonuses = []
    for device in ("cpu", "cuda"):
        vime = VIME(obs_space, act_space, estimator=estimator, n_updates=50, min_pool_size=1, seed=0,
                    device=device)  # fmt: skip
        vime.add(obs, act, nxt)
        vime.train()
        bonuses.append(vime.compute(obs, act, nxt))
    np.testing.assert_allclose(bonuses[1], bonuses[0], rtol=1e-4)
