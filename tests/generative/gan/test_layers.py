"""Oracle tests for the improved-GAN layers: minibatch discrimination, weight norm, Gaussian noise."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from generative.gan.layers import (
    GaussianNoise,
    MinibatchDiscrimination,
    WeightNormConv2d,
    WeightNormLinear,
    data_dependent_init,
)


@pytest.mark.parametrize("weight_norm", [True, False])
@pytest.mark.parametrize("bias", [True, False])
def test_minibatch_discrimination_matches_pairwise_loop(weight_norm: bool, bias: bool) -> None:
    torch.manual_seed(0)
    a, b, c, n = 7, 4, 3, 6
    layer = MinibatchDiscrimination(a, b, c, weight_norm=weight_norm, bias=bias, init_std=0.3)
    if bias:
        torch.nn.init.normal_(layer.bias)
    f = torch.randn(n, a)
    out = layer(f)
    T = layer.tensor().detach()
    expected = torch.zeros(n, b)
    for i in range(n):
        m_i = torch.stack([f[i] @ T[:, k, :] for k in range(b)])  # (B, C)
        for j in range(n):
            if j == i:
                continue
            m_j = torch.stack([f[j] @ T[:, k, :] for k in range(b)])
            for k in range(b):
                expected[i, k] += torch.exp(-(m_i[k] - m_j[k]).abs().sum())
    if bias:
        expected += layer.bias.detach()
    assert out.shape == (n, a + b)
    torch.testing.assert_close(out[:, :a], f)
    torch.testing.assert_close(out[:, a:], expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("weight_norm", [True, False])
def test_minibatch_discrimination_data_init_follows_their_minibatch_layer(weight_norm: bool) -> None:
    # their MinibatchLayer.get_output_for(init=True), transcribed in numpy: abs_dif (n, B, n) with 1e6 on the
    # diagonal; m = 0.5 * mean_i min_j abs_dif; log_weight_scale -= log m; f = sum_j exp(-abs_dif / m);
    # b = -mean_i f and the output f - mean_i f
    torch.manual_seed(0)
    a, b, c, n = 6, 4, 3, 9
    layer = MinibatchDiscrimination(a, b, c, weight_norm=weight_norm, init_std=0.5)
    f = torch.randn(n, a) * 2
    T = layer.tensor().detach().double().numpy()
    act = np.einsum("na,abc->nbc", f.double().numpy(), T)
    abs_dif = np.abs(act[:, :, :, None] - act.transpose(1, 2, 0)[None]).sum(axis=2)
    abs_dif += 1e6 * np.eye(n)[:, None, :]
    m = 0.5 * abs_dif.min(axis=2).mean(axis=0)
    feats = np.exp(-abs_dif / m[None, :, None]).sum(axis=2)
    expected_out = feats - feats.mean(axis=0)
    scale_before = layer.log_scale.detach().clone() if weight_norm else None

    data_dependent_init(layer, f)
    np.testing.assert_allclose(layer.bias.detach().numpy(), -feats.mean(axis=0), rtol=1e-4)
    if weight_norm:
        np.testing.assert_allclose(layer.log_scale.detach().numpy(),
                                   (scale_before - torch.from_numpy(np.log(m))[:, None]).numpy(), atol=1e-6)
    out = layer(f).detach()  # after the init, the same batch: as the init pass returned it
    np.testing.assert_allclose(out[:, a:].numpy(), expected_out, atol=1e-5)
    np.testing.assert_allclose(out[:, a:].mean(dim=0).numpy(), 0.0, atol=1e-5)


def test_minibatch_discrimination_gradients_and_errors() -> None:
    layer = MinibatchDiscrimination(5, 3, 2)
    f = torch.randn(4, 5, requires_grad=True)
    layer(f).sum().backward()
    assert f.grad is not None and all(p.grad is not None for p in layer.parameters())
    with pytest.raises(ValueError, match="num_kernels must be a positive integer"):
        MinibatchDiscrimination(5, 0, 2)
    with pytest.raises(ValueError, match=r"expected features of shape \(batch, 5\)"):
        layer(torch.randn(4, 6))


def test_weight_norm_data_dependent_init_standardises() -> None:
    torch.manual_seed(0)
    x = torch.randn(200, 10) * 3 + 2
    layer = WeightNormLinear(10, 6, train_scale=False)
    data_dependent_init(layer, x)
    y = layer(x).detach()
    torch.testing.assert_close(y.mean(0), torch.zeros(6), atol=1e-4, rtol=0)
    torch.testing.assert_close(y.std(0, unbiased=False), torch.ones(6), atol=1e-3, rtol=0)
    assert not layer.g.requires_grad
    w = layer.weight().detach()
    torch.testing.assert_close(w.norm(dim=1), layer.g.detach())
    conv = WeightNormConv2d(3, 4, 3, padding=1)
    img = torch.randn(8, 3, 6, 6)
    data_dependent_init(conv, img)
    y = conv(img).detach()
    torch.testing.assert_close(y.mean((0, 2, 3)), torch.zeros(4), atol=1e-4, rtol=0)


def test_data_init_off_leaves_the_layer_as_built() -> None:
    """Their MNIST generator's sigmoid output layer keeps g = 1, b = 0 through the initialisation."""
    torch.manual_seed(0)
    layer = WeightNormLinear(10, 6, data_init=False)
    g, b = layer.g.detach().clone(), layer.b.detach().clone()
    x = torch.randn(50, 10) * 3 + 2
    data_dependent_init(layer, x)
    assert torch.equal(layer.g, g) and torch.equal(layer.b, b)
    torch.testing.assert_close(layer.weight().norm(dim=1), torch.ones(6))  # unit-norm rows, as l2normalize


def test_gaussian_noise_train_only_and_errors() -> None:
    layer = GaussianNoise(0.5)
    x = torch.zeros(1000)
    assert 0.4 < layer(x).std() < 0.6
    layer.eval()
    assert torch.equal(layer(x), x)
    with pytest.raises(ValueError, match="sigma must be >= 0"):
        GaussianNoise(-1.0)
    with pytest.raises(ValueError, match="init_std must be > 0"):
        WeightNormLinear(3, 3, init_std=0.0)
