"""RE3 against a brute-force k-nearest-neighbour search, the decayed weight, and its random encoder."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium import spaces

from curiosity.re3 import RE3

torch.set_num_threads(1)

OBS = spaces.Box(-5.0, 5.0, (4,), np.float32)
ACT = spaces.Box(-1.0, 1.0, (2,), np.float32)


def brute_force(y: np.ndarray, stored: np.ndarray, k: int) -> np.ndarray:
    """``log(1 + d_k)``: distance to the k-th nearest other point among the batch and the stored ones."""
    out = []
    for i in range(len(y)):
        others = [np.linalg.norm(y[i] - z) for j, z in enumerate(y) if j != i]
        others += [np.linalg.norm(y[i] - z) for z in stored]
        others.sort()
        out.append(np.log1p(others[min(k, len(others)) - 1]))
    return np.array(out)


def embed(bonus: RE3, x: np.ndarray) -> np.ndarray:
    return bonus.embed(torch.as_tensor(x)).numpy()


@pytest.mark.parametrize("memory_size", [0, 5, 100])
def test_bonus_is_the_log_kth_neighbour_distance_over_batch_and_memory(memory_size: int) -> None:
    rng = np.random.default_rng(0)
    bonus = RE3(OBS, ACT, k=3, memory_size=memory_size, chunk_size=4, seed=0)
    first = rng.normal(size=(9, 4)).astype(np.float32)
    bonus.add(first, np.zeros((9, 2)), first)
    batch = rng.normal(size=(7, 4)).astype(np.float32)
    batch[3] = batch[1]  # a duplicate is a neighbour at distance 0
    stored = embed(bonus, first)[max(0, 9 - memory_size) :] if memory_size else np.zeros((0, 50))
    expected = brute_force(embed(bonus, batch), stored, k=3)
    np.testing.assert_allclose(bonus.compute(batch, np.zeros((7, 2)), batch), expected, rtol=1e-5, atol=1e-6)


def test_weight_decays_per_added_transition_and_normalisation_divides_by_the_running_std() -> None:
    bonus = RE3(OBS, ACT, decay=0.01, normalize_bonus=True, seed=0)
    x = np.random.default_rng(1).normal(size=(10, 4)).astype(np.float32)
    raw = bonus.compute(x, np.zeros((10, 2)), x)
    bonus.add(x, np.zeros((10, 2)), x)
    scaled = bonus.normalize(raw, update=True)
    np.testing.assert_allclose(scaled, raw / raw.std() * 0.99**10, rtol=5e-3)  # std prior: count 1e-4
    after = bonus.compute(x, np.zeros((10, 2)), x)  # x is now in the memory: its neighbours moved
    np.testing.assert_allclose(
        bonus(x, np.zeros((10, 2)), x, update_stats=False),
        bonus.eta * after / raw.std() * 0.99**10,
        rtol=5e-3,
    )
    assert bonus.train()["weight_factor"] == pytest.approx(0.99**10)


def test_paper_defaults_and_encoders() -> None:
    bonus = RE3(OBS, ACT, seed=0)
    assert (bonus.k, bonus.feature_dim, bonus.eta, bonus.decay) == (3, 50, 0.05, 1e-5)
    frames = RE3(spaces.Box(0, 255, (64, 64, 3), np.uint8), spaces.Discrete(3), seed=0)
    convs = [m for m in frames.encoder.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.kernel_size, c.stride) for c in convs] == [((3, 3), (2, 2))] + [((3, 3), (1, 1))] * 3
    y = frames.embed(torch.randint(0, 256, (2, 64, 64, 3)).float())
    assert y.shape == (2, 50) and y.abs().max() <= 1  # layer norm then tanh
    assert not any(p.requires_grad for p in frames.encoder.parameters())  # never trained


def test_a_lone_transition_has_no_neighbour_and_bad_arguments_are_refused() -> None:
    bonus = RE3(OBS, ACT, memory_size=0, seed=0)
    x = np.ones((1, 4), np.float32)
    assert bonus.compute(x, np.zeros((1, 2)), x)[0] == 0.0
    with pytest.raises(ValueError, match=r"decay must be a number in \[0.0, 1.0\), got 1"):
        RE3(OBS, ACT, decay=1)
    with pytest.raises(ValueError, match="memory_size must be an integer >= 0, got -1"):
        RE3(OBS, ACT, memory_size=-1)
