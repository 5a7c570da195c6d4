"""Oracle tests for the improved-GAN batch norms: virtual batch norm against a hand computation."""

from __future__ import annotations

import pytest
import torch

from generative.gan.batchnorm import VirtualBatchNorm, vbn_reference


def _hand_vbn(x: torch.Tensor, ref: torch.Tensor, eps: float) -> torch.Tensor:
    n = len(ref)
    mu = (x + n * ref.mean(0)) / (n + 1)
    sq = (x**2 + n * (ref**2).mean(0)) / (n + 1)
    return (x - mu) / torch.sqrt(sq - mu**2 + eps)


def test_vbn_mixes_reference_stats_with_own_at_one_over_n_plus_one() -> None:
    torch.manual_seed(0)
    vbn = VirtualBatchNorm(5, eps=1e-5)
    torch.nn.init.normal_(vbn.gamma)
    torch.nn.init.normal_(vbn.beta)
    ref, x = torch.randn(8, 5) * 2 + 1, torch.randn(6, 5)
    with vbn_reference(vbn):
        ref_out = vbn(ref)
    out = vbn(x)
    expected = _hand_vbn(x, ref, 1e-5) * vbn.gamma + vbn.beta
    torch.testing.assert_close(out, expected.detach(), rtol=1e-5, atol=1e-5)
    # the reference batch itself is normalised with its own statistics
    own = (ref - ref.mean(0)) / torch.sqrt(ref.var(0, unbiased=False) + 1e-5) * vbn.gamma + vbn.beta
    torch.testing.assert_close(ref_out, own.detach(), rtol=1e-5, atol=1e-5)


def test_vbn_output_independent_of_other_batch_members() -> None:
    torch.manual_seed(1)
    vbn = VirtualBatchNorm(4)
    with vbn_reference(vbn):
        vbn(torch.randn(10, 4))
    x = torch.randn(5, 4)
    out = vbn(x)
    perm = torch.tensor([3, 0, 4, 1, 2])
    torch.testing.assert_close(vbn(x[perm]), out[perm])
    other = torch.randn(5, 4) * 10
    other[0] = x[0]
    torch.testing.assert_close(vbn(other)[0], out[0])
    torch.testing.assert_close(vbn(x[:1])[0], out[0])


def test_vbn_images_use_own_spatial_statistics() -> None:
    torch.manual_seed(2)
    vbn = VirtualBatchNorm(3, affine=False)
    ref, x = torch.randn(4, 3, 5, 5), torch.randn(2, 3, 5, 5)
    with vbn_reference(vbn):
        vbn(ref)
    w = 1 / 5
    mu = w * x.mean((2, 3), keepdim=True) + (1 - w) * ref.mean((0, 2, 3)).view(1, 3, 1, 1)
    sq = w * (x**2).mean((2, 3), keepdim=True) + (1 - w) * (ref**2).mean((0, 2, 3)).view(1, 3, 1, 1)
    torch.testing.assert_close(vbn(x), (x - mu) / torch.sqrt(sq - mu**2 + vbn.eps))
    torch.testing.assert_close(vbn(x[1:]), vbn(x)[1:])


def test_vbn_without_reference_raises() -> None:
    with pytest.raises(RuntimeError, match="no reference statistics"):
        VirtualBatchNorm(3)(torch.randn(2, 3))
