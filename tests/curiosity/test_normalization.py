"""Running statistics against numpy over the whole stream."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from curiosity.normalization import RunningMeanStd


def test_batches_of_frames_give_numpys_mean_and_variance_of_the_whole_stream() -> None:
    rng = np.random.default_rng(0)
    # uint8 frames of 3 x 64 x 64: the large batch is folded in float64 chunks of 85 rows
    batches = [rng.integers(0, 256, (n, 3, 64, 64), dtype=np.uint8) for n in (300, 1, 40)]
    rms = RunningMeanStd((3, 64, 64), epsilon=1e-12)
    for b in batches:
        rms.update(torch.as_tensor(b))
    stream = np.concatenate(batches).astype(np.float64)
    np.testing.assert_allclose(rms.mean.numpy(), stream.mean(0), rtol=1e-9)
    np.testing.assert_allclose(rms.var.numpy(), stream.var(0), rtol=1e-9)
    assert float(rms.count) == pytest.approx(len(stream))
    rms.update(torch.zeros(0, 3, 64, 64))  # an empty batch changes nothing
    assert float(rms.count) == pytest.approx(len(stream))


def test_normalize_is_pure_and_matches_the_formula() -> None:
    rng = np.random.default_rng(1)
    rms = RunningMeanStd((5,))
    rms.update(torch.as_tensor(rng.normal(3.0, 2.0, (50, 5))))
    x = torch.as_tensor(rng.normal(size=(7, 5)), dtype=torch.float32)
    before = x.clone()
    expected = (x.numpy() - rms.mean.numpy()) / (np.sqrt(rms.var.numpy()) + 1e-8)
    out = rms.normalize(x)
    assert out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(x, before)
