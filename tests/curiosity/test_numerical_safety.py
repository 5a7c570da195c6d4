"""A batch that would give a non-finite bonus or loss is skipped with a warning; the run goes on."""

import numpy as np
import pytest
import torch
from gymnasium import spaces

from curiosity import VIME

OBS = spaces.Box(-1.0, 1.0, (3,), dtype=np.float32)
ACT = spaces.Box(-1.0, 1.0, (1,), dtype=np.float32)


def data(n=16):
    rng = np.random.default_rng(0)
    s = rng.normal(size=(n, 3)).astype(np.float32)
    a = rng.uniform(-1, 1, (n, 1)).astype(np.float32)
    return s, a, s + a


@pytest.mark.parametrize("fast_training", [True, False])
def test_non_finite_model_gives_zero_bonus_and_skipped_updates(fast_training):
    vime = VIME(OBS, ACT, seed=0, min_pool_size=1, n_updates=3, batch_size=4, fast_training=fast_training)
    vime.add(*data())
    with torch.no_grad():
        vime.bnn.layers[0].mu_w[0, 0] = float("inf")
    with pytest.warns(UserWarning, match="non-finite information gain"):
        bonus = vime.compute(*data())
    np.testing.assert_array_equal(bonus, np.zeros(16, dtype=np.float32))
    with pytest.warns(UserWarning, match="non-finite ELBO"):
        assert vime.train() == {}
    assert vime.trainings == 0


def test_bonuses_stay_finite_over_many_trainings_on_extreme_inputs():
    vime = VIME(OBS, ACT, seed=1, min_pool_size=1, n_updates=20, batch_size=8)
    rng = np.random.default_rng(1)
    for scale in (1e-6, 1.0, 1e3, 1e6):
        s = (scale * rng.normal(size=(64, 3))).astype(np.float32)
        a = rng.uniform(-1, 1, (64, 1)).astype(np.float32)
        vime.add(s, a, s * 0.5)
        vime.train()
        assert np.all(np.isfinite(vime(s, a, s * 0.5)))
