"""SimHash counts against a brute-force count, the bonus formula, images, large codes."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch
from gymnasium import spaces
from hypothesis import given, settings
from hypothesis import strategies as st

from curiosity.simhash import SimHash

torch.set_num_threads(1)

GRID = spaces.Box(0.0, 3.0, (3,), np.float32)
ACT = spaces.Discrete(2)


def brute_force_codes(projection: np.ndarray, x: np.ndarray) -> list[tuple[bool, ...]]:
    """``sgn(A x)`` one observation at a time, in plain numpy float64."""
    return [tuple(bool(v > 0) for v in projection @ row.astype(np.float64)) for row in x]


@settings(max_examples=20, deadline=None)
@given(
    st.lists(st.tuples(*[st.integers(-2, 2)] * 3), min_size=2, max_size=60),
    st.integers(1, 40),
    st.integers(0, 10_000),
)
def test_counts_match_a_brute_force_count(states: list, k: int, seed: int) -> None:
    x = np.array(states, dtype=np.float32)
    bonus = SimHash(GRID, ACT, k=k, seed=seed)
    half = len(x) // 2  # counted in two calls, to check that adds accumulate
    bonus.add(x[:half], np.zeros(half, int), x[:half])
    bonus.add(x[half:], np.zeros(len(x) - half, int), x[half:])
    codes = brute_force_codes(bonus.projection.numpy(), x)
    expected = Counter(codes)
    np.testing.assert_array_equal(bonus.hash_codes(x), np.array(codes, dtype=bool).reshape(len(x), k))
    np.testing.assert_array_equal(bonus.counts(x), [expected[c] for c in codes])
    assert len(bonus.table) == len(expected)
    assert bonus.train() == {"distinct_codes": len(expected), "total_count": len(x)}


def test_bonus_is_one_over_the_square_root_of_the_count_and_only_add_counts() -> None:
    bonus = SimHash(GRID, ACT, k=32, eta=0.5, seed=0)
    x = np.array([[1, 2, 3], [3, 0, 1], [0, 0, 2]], dtype=np.float32)
    a = np.zeros(3, int)
    np.testing.assert_allclose(bonus.compute(x, a, x), [1.0] * 3)  # never seen: counted as n = 1
    np.testing.assert_allclose(bonus(x, a, x), [0.5] * 3)  # the paper's beta is eta: r + eta / sqrt(n)
    for _ in range(3):
        bonus(x, a, x)
        bonus.compute(x, a, x)
    assert bonus.counts(x).tolist() == [0, 0, 0]
    for n in range(1, 5):
        bonus.add(x[:2], a[:2], x[:2])
        np.testing.assert_allclose(bonus.compute(x, a, x), [1 / np.sqrt(n)] * 2 + [1.0], rtol=1e-6)
    other = np.array([[9, 9, 9]], dtype=np.float32)
    bonus.add(other, [0], x[2:])  # the count goes to next_obs, not obs
    assert bonus.counts(x).tolist() == [4, 4, 1]


def test_images_are_greyed_downsampled_and_read_alike_in_either_layout() -> None:
    hwc = SimHash(spaces.Box(0, 255, (20, 20, 3), np.uint8), ACT, image_size=5, seed=3)
    chw = SimHash(spaces.Box(0, 255, (3, 20, 20), np.uint8), ACT, image_size=5, seed=3)
    assert hwc.input_dim == chw.input_dim == 25
    frames = np.random.default_rng(0).integers(0, 256, (6, 20, 20, 3), dtype=np.uint8)
    np.testing.assert_array_equal(hwc.hash_codes(frames), chw.hash_codes(frames.transpose(0, 3, 1, 2)))
    thumbs = frames.mean(-1).reshape(6, 5, 4, 5, 4).mean((2, 4)).reshape(6, 25) / 255 - 0.5
    codes = brute_force_codes(hwc.projection.numpy(), thumbs)
    np.testing.assert_array_equal(hwc.hash_codes(frames), np.array(codes))
    small = SimHash(spaces.Box(0.0, 1.0, (4, 4), np.float32), ACT, image_size=52, seed=0)
    assert small.input_dim == 16  # frames smaller than image_size are kept


def test_long_codes_round_trip_through_a_file(tmp_path) -> None:
    bonus = SimHash(GRID, ACT, k=100, seed=0)  # 100 bits: not a multiple of 8
    x = np.random.default_rng(0).integers(0, 4, (50, 3)).astype(np.float32)
    bonus.add(x, np.zeros(50, int), x)
    torch.save(bonus.state_dict(), tmp_path / "simhash.pt")
    restored = SimHash(GRID, ACT, k=100, seed=1)
    restored.load_state_dict(torch.load(tmp_path / "simhash.pt", weights_only=True))
    assert restored.table == bonus.table
    np.testing.assert_array_equal(restored.counts(x), bonus.counts(x))
    assert bonus.state_dict()["codes"].shape == (len(bonus.table), 13)
    with pytest.raises(ValueError, match="does not fit k=32"):
        SimHash(GRID, ACT, k=32).load_state_dict(bonus.state_dict())


def test_a_given_encoder_is_the_preprocessor() -> None:
    encoder = torch.nn.Linear(3, 2)
    bonus = SimHash(GRID, ACT, k=8, encoder=encoder, seed=0)
    assert bonus.projection.shape == (8, 2)
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    with torch.no_grad():
        g = encoder(torch.as_tensor(x)).double().numpy()
    np.testing.assert_array_equal(
        bonus.hash_codes(x), np.array(brute_force_codes(bonus.projection.numpy(), g))
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 0}, "k must be an integer >= 1, got 0"),
        ({"k": 8.0}, "k must be an integer >= 1, got 8.0"),
        ({"eta": "0.01"}, "eta must be a finite number"),
        ({"image_size": 0}, "image_size must be an integer >= 1"),
        ({"eta": float("inf")}, "eta must be a finite number"),
    ],
)
def test_bad_hyperparameters_raise(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SimHash(GRID, ACT, **kwargs)
