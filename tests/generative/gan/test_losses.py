"""Oracle tests for the improved-GAN losses: K+1 classifier, smoothing, feature matching, history."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from generative.gan.losses import (
    HistoricalAverage,
    binary_discriminator_loss,
    feature_matching_loss,
    generator_minimax_loss,
    generator_nonsaturating_loss,
    supervised_loss,
    unsupervised_loss,
)


def _with_fake_logit(logits: torch.Tensor) -> torch.Tensor:
    return torch.cat([logits, torch.zeros(len(logits), 1)], dim=1)


def test_k_plus_one_loss_equals_explicit_cross_entropy() -> None:
    torch.manual_seed(0)
    k = 10
    real, fake = torch.randn(16, k) * 3, torch.randn(12, k) * 3
    y = torch.randint(0, k, (16,))
    fake_class = torch.full((12,), k)
    # -log p(fake | x) over K+1 classes
    fake_term = F.cross_entropy(_with_fake_logit(fake), fake_class)
    # -log p(real | x) = CE_{K+1}(x, y) - CE_K(x, y) for any label y (p(y|x) = p(y|x,real) p(real|x))
    real_term = F.cross_entropy(_with_fake_logit(real), y) - F.cross_entropy(real, y)
    torch.testing.assert_close(unsupervised_loss(real, fake), 0.5 * real_term + 0.5 * fake_term)
    # and the same through an explicit log-softmax over K+1 classes
    logp = F.log_softmax(_with_fake_logit(real), dim=1)
    torch.testing.assert_close(real_term, -torch.logsumexp(logp[:, :k], dim=1).mean())
    # their code's formula, written out
    lse_r, lse_f = torch.logsumexp(real, 1), torch.logsumexp(fake, 1)
    theirs = -0.5 * lse_r.mean() + 0.5 * F.softplus(lse_r).mean() + 0.5 * F.softplus(lse_f).mean()
    torch.testing.assert_close(unsupervised_loss(real, fake), theirs)
    # supervised part: K-class cross-entropy (p(y | x, real))
    torch.testing.assert_close(supervised_loss(real, y), -F.log_softmax(real, 1)[torch.arange(16), y].mean())


def test_one_sided_label_smoothing() -> None:
    torch.manual_seed(1)
    real, fake = torch.randn(8, 4), torch.randn(8, 4)
    a = 0.75
    d_real = torch.sigmoid(torch.logsumexp(real, 1))  # D(x) = Z / (Z + 1)
    d_fake = torch.sigmoid(torch.logsumexp(fake, 1))
    expected = 0.5 * F.binary_cross_entropy(d_real, torch.full((8,), a)) + 0.5 * F.binary_cross_entropy(
        d_fake, torch.zeros(8)
    )
    torch.testing.assert_close(unsupervised_loss(real, fake, real_target=a), expected)
    lr, lf = torch.randn(5), torch.randn(5)
    torch.testing.assert_close(
        binary_discriminator_loss(lr, lf, real_target=a),
        F.binary_cross_entropy(torch.sigmoid(lr), torch.full((5,), a))
        + F.binary_cross_entropy(torch.sigmoid(lf), torch.zeros(5)),
    )
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match="one-sided label smoothing"):
            unsupervised_loss(real, fake, real_target=bad)


def test_generator_losses() -> None:
    torch.manual_seed(2)
    fake = torch.randn(8, 10)
    expected = -torch.log(torch.sigmoid(torch.logsumexp(fake, 1))).mean()
    torch.testing.assert_close(generator_nonsaturating_loss(fake), expected)
    # minimax: E log(1 - D(G(z))) with D = Z / (Z + 1), Z the sum of the K real-class exponentials (float64)
    z = fake.double().exp().sum(1)
    torch.testing.assert_close(generator_minimax_loss(fake).double(), torch.log(1.0 - z / (z + 1.0)).mean())
    f = torch.randn(20, 6)
    assert feature_matching_loss(f, f[torch.randperm(20)]).item() < 1e-12
    g = f + 1.0
    torch.testing.assert_close(feature_matching_loss(f, g), torch.tensor(1.0))


def test_historical_averaging_zero_at_mean_positive_elsewhere() -> None:
    torch.manual_seed(3)
    net = torch.nn.Linear(3, 2)
    hist = HistoricalAverage(net.parameters(), weight=0.5)
    assert hist.penalty().item() == 0.0
    snapshots = [[p.detach().clone() for p in net.parameters()]]
    for _ in range(3):
        with torch.no_grad():
            for p in net.parameters():
                p.add_(torch.randn_like(p))
        snapshots.append([p.detach().clone() for p in net.parameters()])
        hist.update()
    means = [torch.stack(s).mean(0) for s in zip(*snapshots, strict=True)]
    for m, mine in zip(means, hist.means, strict=True):
        torch.testing.assert_close(mine, m)
    expected = 0.5 * sum(((p - m) ** 2).sum() for p, m in zip(net.parameters(), means, strict=True))
    torch.testing.assert_close(hist.penalty(), expected)
    assert hist.penalty().item() > 0
    hist.penalty().backward()
    assert all(p.grad is not None for p in net.parameters())
    with torch.no_grad():
        for p, m in zip(net.parameters(), means, strict=True):
            p.copy_(m)
    assert hist.penalty().item() == pytest.approx(0.0, abs=1e-12)
    state = hist.state_dict()
    other = HistoricalAverage(net.parameters(), weight=0.5)
    other.load_state_dict(state)
    assert other.count == 4 and other.penalty().item() == pytest.approx(0.0, abs=1e-12)


def test_historical_averaging_bad_hyperparameters() -> None:
    net = torch.nn.Linear(2, 2)
    with pytest.raises(ValueError, match="weight must be > 0"):
        HistoricalAverage(net.parameters(), weight=0.0)
    with pytest.raises(ValueError, match=r"decay must be in \(0, 1\)"):
        HistoricalAverage(net.parameters(), decay=1.0)
